package githubsource

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"version":1,"repos":{"acme/api":{"refs":{"refs/heads/main":"0123456789abcdef0123456789abcdef01234567"},"actions_last_run_id":7,"scanned_at":"2026-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`{"version":1,"repos":{"a/b":null}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseState("fuzz.json", data)
		if err != nil {
			return
		}
		// Whatever loads can be used: every entry has ids git accepts.
		for _, r := range st.Repos {
			for _, id := range r.scannedTips() {
				if !isHexID(id) {
					t.Fatalf("tip %q accepted", id)
				}
			}
		}
	})
}

func zipOf(entries map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, c := range entries {
		w, _ := zw.Create(n)
		w.Write([]byte(c))
	}
	zw.Close()
	return buf.Bytes()
}

func FuzzArchiveItems(f *testing.F) {
	f.Add(zipOf(map[string]string{"0_build.txt": "a\n", "build/1_Set up job.txt": "a\n"}))
	f.Add(zipOf(map[string]string{"../../etc/passwd": "x", "dir/": ""}))
	f.Add([]byte("PK\x03\x04 not really"))
	f.Fuzz(func(t *testing.T, data []byte) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, it := range archiveItems(zr, 1) {
			rc, err := it.Open(context.Background())
			if err != nil {
				continue
			}
			io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			rc.Close()
		}
	})
}

func FuzzParseAdvert(f *testing.F) {
	f.Add([]byte("001e# service=git-upload-pack\n0000" +
		"00950123456789abcdef0123456789abcdef01234567 HEAD\x00multi_ack side-band-64k ofs-delta symref=HEAD:refs/heads/main agent=git/2.39\n" +
		"003f0123456789abcdef0123456789abcdef01234567 refs/heads/main\n0000"))
	f.Add([]byte("001e# service=git-upload-pack\n0000" + "00520000000000000000000000000000000000000000 capabilities^{}\x00ofs-delta\n0000"))
	f.Add([]byte("zzzz"))
	f.Fuzz(func(t *testing.T, data []byte) {
		refs, err := parseAdvert(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		for name, id := range refs {
			if !isHexID(id) || !(strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/")) {
				t.Fatalf("accepted %q -> %q", name, id)
			}
		}
	})
}
