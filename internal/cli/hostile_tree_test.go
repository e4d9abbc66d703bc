//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Hostile trees: each has a clear result (findings, or a named input that
// could not be scanned and exit 2) and no hang. Memory figures for the
// full sizes are in BENCHMARKS.md (scripts/bench-hostile.sh).

// deepTree makes a chain of depth directories named "d" under root with a
// key file at the bottom, using *at calls: the full path is far longer
// than PATH_MAX.
func deepTree(t *testing.T, root string, depth int, content string) {
	t.Helper()
	fd, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < depth; i++ {
		if err := syscall.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatalf("depth %d: %v", i, err)
		}
		next, err := syscall.Openat(fd, "d", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		syscall.Close(fd)
		if err != nil {
			t.Fatalf("depth %d: %v", i, err)
		}
		fd = next
	}
	f, err := syscall.Openat(fd, "deep.env", syscall.O_CREAT|syscall.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Write(f, []byte(content))
	syscall.Close(f)
	syscall.Close(fd)
}

func TestHostileDeepTree(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "top.env"), "T="+ghToken(9101)+"\n")
	deepTree(t, root, 5000, "T="+ghToken(9102)+"\n")
	t.Cleanup(func() { os.RemoveAll(root) })
	res := run(t, "", "scan", "dir", "-f", "json", root)
	fs := parseJSON(t, res.stdout)
	top := false
	for _, f := range fs {
		top = top || strings.HasSuffix(f.File, "top.env")
	}
	if !top {
		t.Errorf("the shallow key was not found: %+v", fs)
	}
	// Either the bottom is scanned (exit 1) or the walker names the path
	// it could not enter (exit 2); never a hang or a crash.
	switch {
	case len(fs) == 2 && res.code == ExitFindings:
	case len(fs) == 1 && res.code == ExitError && strings.Contains(res.stderr, "not scanned: ") && strings.Contains(res.stderr, "/d/d/d/"):
	default:
		t.Errorf("exit %d, %d findings, stderr %.300q", res.code, len(fs), res.stderr)
	}
}

func TestHostileManyEmptyFiles(t *testing.T) {
	n := 20000 // make bench-hostile runs 200,000
	root := t.TempDir()
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, strconv.Itoa(i%100))
		if i < 100 {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(t, filepath.Join(root, "k.env"), "T="+ghToken(9103)+"\n")
	res := run(t, "", "scan", "dir", "-f", "json", "--no-progress", root)
	if fs := parseJSON(t, res.stdout); res.code != ExitFindings || len(fs) != 1 {
		t.Errorf("exit %d findings %+v: %s", res.code, fs, res.stderr)
	}
}

// File names with newlines, control characters and invalid UTF-8, in a
// directory and committed to git, are found under their real names.
func TestHostileFileNames(t *testing.T) {
	names := []string{"new\nline.env", "tab\tand\x1b[2J.env", "bad\xff\xfe.env", "cr\r.env", "-rf =x.env"}
	dir := newRepo(t)
	for i, n := range names {
		write(t, filepath.Join(dir, n), "T="+ghToken(int64(9200+i))+"\n")
	}
	gitOK(t, dir, "add", "-A")
	gitOK(t, dir, "commit", "-q", "--no-verify", "-m", "hostile names")
	for _, src := range []string{"dir", "git"} {
		res := run(t, "", "scan", src, "-f", "json", dir)
		if res.code != ExitFindings {
			t.Fatalf("%s: exit %d: %s", src, res.code, res.stderr)
		}
		got := map[string]bool{}
		for _, f := range parseJSON(t, res.stdout) {
			got[strings.TrimPrefix(f.File, dir+"/")] = true
		}
		for _, n := range names {
			if !got[string([]rune(n))] { // JSON carries invalid UTF-8 as U+FFFD
				t.Errorf("%s: no finding in %q (got %v)", src, n, got)
			}
		}
	}
}

// A .gitmodules pointing at a local path: the submodule is not followed
// unless --submodules asks, and never when its directory resolves outside
// the repository (a symlink planted where it should be).
func TestHostileLocalSubmodule(t *testing.T) {
	other := newRepo(t)
	commitFile(t, other, "sub.env", "T="+ghToken(9301)+"\n", "key in the submodule")
	dir := newRepo(t)
	gitOK(t, dir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", other, "vendored")
	gitOK(t, dir, "commit", "-q", "--no-verify", "-m", "add a submodule by local path")
	if r := run(t, "", "scan", "git", "-f", "json", dir); r.code != ExitClean {
		t.Errorf("without --submodules: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	r := run(t, "", "scan", "git", "-f", "json", "--submodules", dir)
	if fs := parseJSON(t, r.stdout); r.code != ExitFindings || len(fs) != 1 || fs[0].File != "vendored/sub.env" {
		t.Errorf("with --submodules: exit %d %+v %s", r.code, fs, r.stderr)
	}
	// Replace the checkout with a symlink to the outside repository.
	if err := os.RemoveAll(filepath.Join(dir, "vendored")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, "vendored")); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "scan", "git", "-f", "json", "--submodules", dir)
	if fs := parseJSON(t, r.stdout); len(fs) != 0 || r.code != ExitError || !strings.Contains(r.stderr, "resolves outside the repository") {
		t.Errorf("symlinked submodule: exit %d %+v %s", r.code, fs, r.stderr)
	}
}

// A corrupt object in a pack: reported by id, the rest scanned, exit 2.
func TestHostileCorruptPack(t *testing.T) {
	dir := newRepo(t)
	commitFile(t, dir, "a.env", "T="+ghToken(9401)+"\n", "first key")
	commitFile(t, dir, "b.env", "T="+ghToken(9402)+"\n", "second key")
	gitOK(t, dir, "repack", "-a", "-d", "-q")
	blob := gitOK(t, dir, "rev-parse", "HEAD:b.env")
	packs, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs %v", packs)
	}
	// Find the object's offset from the index and garble its data.
	out := gitOK(t, dir, "verify-pack", "-v", strings.TrimSuffix(packs[0], ".pack")+".idx")
	off := -1
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && f[0] == blob {
			off, _ = strconv.Atoi(f[4])
		}
	}
	if off < 0 {
		t.Fatalf("blob %s not in the pack:\n%s", blob, out)
	}
	data, err := os.ReadFile(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(packs[0], 0o644)
	for i := off + 2; i < off+12 && i < len(data)-20; i++ {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(packs[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "scan", "git", "-f", "json", dir)
	fs := parseJSON(t, r.stdout)
	if r.code != ExitError || len(fs) != 1 || fs[0].File != "a.env" || !strings.Contains(r.stderr, "not scanned: b.env") {
		t.Errorf("exit %d findings %+v stderr %s", r.code, fs, r.stderr)
	}
}

// A blob of one keyword repeated (500 MB in scripts/bench-hostile.sh;
// smaller here): over --max-file-size it is skipped without being read,
// and under it it is scanned to a clean result.
func TestHostileKeywordBlob(t *testing.T) {
	dir := newRepo(t)
	write(t, filepath.Join(dir, "big.txt"), strings.Repeat("password", 512<<10/8))
	gitOK(t, dir, "add", "big.txt")
	gitOK(t, dir, "commit", "-q", "--no-verify", "-m", "big")
	r := run(t, "", "scan", "git", "--max-file-size", "100000", dir)
	if r.code != ExitClean || !strings.Contains(r.stdout, "1 skipped") {
		t.Errorf("over the limit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "scan", "git", "--max-file-size", "0", dir)
	if r.code != ExitClean || !strings.Contains(r.stdout, "0 finding(s)") || !strings.Contains(r.stdout, "512.0 KiB") {
		t.Errorf("scanned: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
