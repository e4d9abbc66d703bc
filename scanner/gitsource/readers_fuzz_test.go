package gitsource

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// FuzzParseRaw feeds arbitrary `git diff-tree --raw -c` entries: no panic,
// and an accepted entry keeps its path and, when wanted, one pre-image per
// parent.
func FuzzParseRaw(f *testing.F) {
	for _, s := range []string{
		":100644 100644 " + strings.Repeat("a", 40) + " " + strings.Repeat("b", 40) + " M",
		"::100644 100644 100644 " + strings.Repeat("1", 40) + " " + strings.Repeat("2", 40) + " " + strings.Repeat("3", 40) + " MM",
		":000000 100644 " + strings.Repeat("0", 40) + " " + strings.Repeat("c", 40) + " A",
		":100644 000000 " + strings.Repeat("d", 40) + " " + strings.Repeat("0", 40) + " D",
		":100644 120000 x y T", ":::", ":", "",
	} {
		f.Add([]byte(s), "a/evil\x1b[2J\nname.env", true)
	}
	f.Fuzz(func(t *testing.T, meta []byte, path string, wantPre bool) {
		c, ok := parseRaw(meta, path, wantPre)
		if !ok {
			return
		}
		if c.path != path {
			t.Fatalf("path %q became %q", path, c.path)
		}
		if c.gone != c.blob.IsZero() {
			t.Fatalf("gone=%v with blob %s", c.gone, c.blob)
		}
		n := 0
		for n < len(meta) && meta[n] == ':' {
			n++
		}
		if wantPre && !c.gone && len(c.pre) != n {
			t.Fatalf("%d parents, %d pre-images", n, len(c.pre))
		}
	})
}

// FuzzCommitDecode parses arbitrary commit objects (the blob reader hands
// commit messages and authors to the scanner and reports): no panic, and
// the message read without go-git is go-git's wherever both read one.
func FuzzCommitDecode(f *testing.F) {
	f.Add([]byte("tree " + strings.Repeat("4", 40) + "\nauthor A <a@b> 1700000000 +0000\ncommitter C <c@d> 1700000000 +0000\n\nsubject\n\nbody\n"))
	f.Add([]byte("tree x\nparent y\nauthor \x1b[31m <\n> -1 +99999\ngpgsig -----BEGIN\n \n\n\xff"))
	f.Add([]byte("author\ncommitter\nencoding\nmergetag object\n \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCommit(plumbing.ZeroHash, data)
		if err == nil && c == nil {
			t.Fatal("nil commit without error")
		}
		if msg, ok := commitMessage(data); ok && err == nil && msg != c.Message {
			t.Fatalf("message %q, go-git reads %q", msg, c.Message)
		}
	})
}

// FuzzCatFileStream reads arbitrary `git cat-file --batch` output as the
// blob reader does: no panic, an object yields at most its announced size,
// and a header that is not "<id> <type> <size>" with size >= 0 is an error.
func FuzzCatFileStream(f *testing.F) {
	id := strings.Repeat("a", 40)
	f.Add([]byte(id + " blob 5\nhello\n" + id + " blob 0\n\n"))
	f.Add([]byte(id + " missing\n"))
	f.Add([]byte(id + " blob -5\nx\n"))
	f.Add([]byte(id + " blob 99999999999999\nshort"))
	f.Add([]byte(id + " commit 3\nab"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &catFile{in: bufio.NewWriter(io.Discard), out: bufio.NewReaderSize(bytes.NewReader(data), 16)}
		for range 4 {
			typ, size, err := c.request(plumbing.ZeroHash)
			if err != nil {
				return
			}
			if typ == "" || size < 0 {
				t.Fatalf("header accepted with type %q size %d", typ, size)
			}
			r := &catReader{c: c, left: size}
			n, _ := io.Copy(io.Discard, r)
			if n > size {
				t.Fatalf("read %d bytes of a %d-byte object", n, size)
			}
			if c.bad {
				return
			}
			if b, err := c.out.ReadByte(); err != nil || b != '\n' {
				return
			}
		}
	})
}
