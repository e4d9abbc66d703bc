package gitsource

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keytrail/keytrail/scanner"
)

// historyRepo builds a repository exercising branches, a merge, a rename,
// a deletion, a tag-only commit, a commit message and the stash.
type historyRepo struct {
	*repo
	tokA, tokB, tokC, tokD, tokE, tokF string
	cA, cB, cC, cD, cE, cRename        string
}

func buildHistory(t *testing.T) *historyRepo {
	r := newRepo(t)
	h := &historyRepo{repo: r,
		tokA: token("A"), tokB: token("B"), tokC: token("C"), tokD: token("D"), tokE: token("E"), tokF: token("F")}
	r.commit("initial", map[string]string{"README.md": "# demo\n"})
	h.cA = r.commit("add config", map[string]string{"config.env": "REGION=eu\nGITHUB_TOKEN=" + h.tokA + "\n"})
	// A rename keeps the blob: one more location, not a new finding.
	r.git("mv", "config.env", "settings.env")
	h.cRename = r.commit("move config", nil)
	// Deleted again: still found, not present at HEAD.
	r.commit("remove config", map[string]string{"settings.env": ""})

	r.git("checkout", "-q", "-b", "feature")
	r.commit("feature work", map[string]string{"feat.py": "x = 1\n"})
	h.cB = r.commit("feature token", map[string]string{"feat.py": "x = 1\ntoken = '" + h.tokB + "'\n"})
	r.git("checkout", "-q", "main")
	r.commit("main work", map[string]string{"README.md": "# demo\nmore\n"})
	r.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")

	// A commit only a tag reaches.
	r.git("checkout", "-q", "--detach")
	h.cC = r.commit("tagged only", map[string]string{"release.txt": "key: " + h.tokC + "\n"})
	r.git("tag", "v-secret")
	r.git("checkout", "-q", "main")

	h.cD = r.commit("rotate: old was "+h.tokD, nil)
	// A file edited several times keeps one finding for its secret.
	r.commit("notes", map[string]string{"notes.txt": "a\n" + h.tokF + "\n"})
	r.commit("notes 2", map[string]string{"notes.txt": "a\nb\n" + h.tokF + "\n"})

	// The stash.
	r.write("stash.txt", "s = "+h.tokE+"\n")
	r.git("add", "stash.txt")
	r.git("stash", "-q")
	return h
}

func TestHistory(t *testing.T) {
	h := buildHistory(t)
	var results [][]scanner.Finding
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			res := mustScan(t, Options{Path: h.dir, Backend: b})
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %v", res.Errors)
			}
			got := bySecret(t, res.Findings)
			tests := []struct {
				key, file, commit, msg string
				line                   int
				present                *bool
				others                 int
			}{
				{h.tokA, "config.env", h.cA, "add config", 2, ptr(false), 1},
				{h.tokB, "feat.py", h.cB, "feature token", 2, ptr(true), 0},
				{h.tokC, "release.txt", h.cC, "tagged only", 1, ptr(false), 0},
				{"msg:" + h.tokD, MessageFile, h.cD, "rotate: old was " + scanner.Redact(h.tokD), 1, nil, 0},
				{h.tokF, "notes.txt", "", "notes", 2, ptr(true), 1},
			}
			for _, tc := range tests {
				f, ok := got[tc.key]
				if !ok {
					t.Errorf("%s (%s): not found", tc.file, tc.msg)
					continue
				}
				if f.File != tc.file || f.Line != tc.line || f.Message != tc.msg {
					t.Errorf("%s: got file %q line %d message %q", tc.file, f.File, f.Line, f.Message)
				}
				if tc.commit != "" && f.Commit != tc.commit {
					t.Errorf("%s: commit %s, want %s", tc.file, f.Commit, tc.commit)
				}
				if f.Author != "Alice Example" || f.Email != "alice@example.com" || f.Date.IsZero() {
					t.Errorf("%s: provenance %q %q %v", tc.file, f.Author, f.Email, f.Date)
				}
				if !reflect.DeepEqual(f.PresentAtHead, tc.present) {
					t.Errorf("%s: present_at_head %v, want %v", tc.file, deref(f.PresentAtHead), deref(tc.present))
				}
				if f.OtherLocations != tc.others {
					t.Errorf("%s: other_locations %d, want %d", tc.file, f.OtherLocations, tc.others)
				}
				if f.Fingerprint != scanner.Fingerprint(f.RuleID, f.File, f.Secret) {
					t.Errorf("%s: fingerprint not recomputed for the reported path", tc.file)
				}
				if len(f.Locations) != 0 {
					t.Errorf("%s: locations listed without --all-locations", tc.file)
				}
			}
			if f, ok := got[h.tokE]; !ok || f.File != "stash.txt" {
				t.Errorf("stash: not found (%+v)", f)
			}
			if len(got) != 6 {
				t.Errorf("got %d distinct findings, want 6", len(got))
			}
			results = append(results, res.Findings)
		})
	}
	if len(results) == 2 {
		a, _ := json.Marshal(results[0])
		b, _ := json.Marshal(results[1])
		if string(a) != string(b) {
			t.Errorf("git and go-git backends disagree:\n%s\n%s", a, b)
		}
	}
}

func ptr(b bool) *bool { return &b }

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestAllLocations(t *testing.T) {
	h := buildHistory(t)
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			res := mustScan(t, Options{Path: h.dir, Backend: b, AllLocations: true})
			f := bySecret(t, res.Findings)[h.tokA]
			want := []scanner.Location{{File: "settings.env", Line: 2, Commit: h.cRename}}
			if !reflect.DeepEqual(f.Locations, want) {
				t.Errorf("locations %+v, want %+v", f.Locations, want)
			}
		})
	}
}

func TestNarrowRefs(t *testing.T) {
	h := buildHistory(t)
	tests := []struct {
		name      string
		opts      Options
		want, not []string
	}{
		{"branch", Options{Branch: "main"}, []string{h.tokA, h.tokB}, []string{h.tokC, h.tokE}},
		{"feature", Options{Branch: "feature"}, []string{h.tokA, h.tokB}, []string{h.tokC, h.tokF}},
		{"tags", Options{Refs: []string{"refs/tags/*"}}, []string{h.tokC, h.tokB}, []string{h.tokE}},
		{"stash", Options{Refs: []string{"stash"}}, []string{h.tokE}, []string{h.tokC}},
	}
	for _, b := range backends {
		for _, tc := range tests {
			t.Run(b+"/"+tc.name, func(t *testing.T) {
				o := tc.opts
				o.Path, o.Backend = h.dir, b
				got := bySecret(t, mustScan(t, o).Findings)
				for _, k := range tc.want {
					if _, ok := got[k]; !ok {
						t.Errorf("expected secret not found")
					}
				}
				for _, k := range tc.not {
					if _, ok := got[k]; ok {
						t.Errorf("secret outside the selected refs found")
					}
				}
			})
		}
	}
}

func TestRange(t *testing.T) {
	r := newRepo(t)
	old, newTok, msgTok := token("old"), token("new"), token("msg")
	r.commit("initial", map[string]string{"app.cfg": "a=1\nkey=" + old + "\n"})
	base := r.git("rev-parse", "HEAD")
	r.git("checkout", "-q", "-b", "pr")
	// Edits a file that already holds a secret: the old one is not news.
	r.commit("edit", map[string]string{"app.cfg": "a=2\nkey=" + old + "\n"})
	r.commit("add key "+msgTok, map[string]string{"lib/new.go": "package lib\n\n// " + newTok + "\n"})
	head := r.git("rev-parse", "HEAD")
	for _, b := range backends {
		for _, o := range []Options{{Range: base + ".." + head}, {Range: "main..pr"}, {SinceCommit: base}} {
			o.Path, o.Backend = r.dir, b
			t.Run(b+"/"+o.Range+o.SinceCommit, func(t *testing.T) {
				res := mustScan(t, o)
				got := bySecret(t, res.Findings)
				if len(got) != 2 {
					t.Errorf("got %d findings, want 2 (new file key and message key)", len(got))
				}
				f, ok := got[newTok]
				if !ok || f.File != "lib/new.go" || f.Line != 3 || f.Commit != head {
					t.Errorf("new key: %+v", f)
				}
				if _, ok := got["msg:"+msgTok]; !ok {
					t.Errorf("key in a range commit's message not found")
				}
				if _, ok := got[old]; ok {
					t.Errorf("secret that predates the range reported")
				}
			})
		}
	}
}

func TestStaged(t *testing.T) {
	old, fresh, other := token("old"), token("fresh"), token("other")
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			r := newRepo(t)
			r.commit("initial", map[string]string{"app.cfg": "key=" + old + "\n", "b.txt": "b\n"})
			r.commit("second", map[string]string{"b.txt": "b2 " + other + "\n"})
			// Staged: an edit next to an old secret, and a new line with a key.
			r.write("app.cfg", "# header\nkey="+old+"\nnew="+fresh+"\n")
			r.git("add", "app.cfg")
			// Unstaged changes are not scanned.
			r.write("b.txt", "unstaged "+token("unstaged")+"\n")
			res := mustScan(t, Options{Path: r.dir, Backend: b, Staged: true})
			got := bySecret(t, res.Findings)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1: %+v", len(got), res.Findings)
			}
			f, ok := got[fresh]
			if !ok || f.File != "app.cfg" || f.Line != 3 || f.Commit != "" {
				t.Errorf("staged key: %+v", f)
			}
		})
		// Staged content is read from the work tree only when it is the
		// staged blob; otherwise from the index.
		t.Run(b+"/work-tree-differs", func(t *testing.T) {
			r := newRepo(t)
			r.commit("initial", map[string]string{"README.md": "x\n"})
			cases := []struct {
				file, staged, disk, want string
			}{
				{"same.cfg", "a=" + fresh + "\n", "a=" + fresh + "\n", fresh},
				{"key-unstaged.cfg", "b=1\n", "b=" + other + "\n", ""},
				{"key-staged.cfg", "c=" + old + "\n", "c=removed\n", old},
			}
			for _, c := range cases {
				r.write(c.file, c.staged)
				r.git("add", c.file)
				r.write(c.file, c.disk)
			}
			if err := os.MkdirAll(filepath.Join(r.dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			// Run from a subdirectory, as git hooks may.
			res := mustScan(t, Options{Path: filepath.Join(r.dir, "sub"), Backend: b, Staged: true})
			got := bySecret(t, res.Findings)
			for _, c := range cases {
				f, ok := got[c.want]
				if c.want == "" {
					continue
				}
				if !ok || f.File != c.file {
					t.Errorf("%s: staged key not reported: %+v", c.file, res.Findings)
				}
			}
			if len(got) != 2 {
				t.Errorf("got %d findings, want 2 (staged content only): %+v", len(got), res.Findings)
			}
		})
		t.Run(b+"/first-commit", func(t *testing.T) {
			r := newRepo(t)
			r.write("x/secret.env", "T="+fresh+"\n")
			r.git("add", ".")
			res := mustScan(t, Options{Path: r.dir, Backend: b, Staged: true})
			if f := bySecret(t, res.Findings)[fresh]; f.File != "x/secret.env" || f.Line != 1 {
				t.Errorf("staged key in a repository without commits: %+v", res.Findings)
			}
		})
	}
}

func TestEmptyRepository(t *testing.T) {
	r := newRepo(t)
	for _, b := range backends {
		for _, staged := range []bool{false, true} {
			res := mustScan(t, Options{Path: r.dir, Backend: b, Staged: staged})
			if len(res.Findings) != 0 || len(res.Errors) != 0 {
				t.Errorf("%s staged=%v: %+v %v", b, staged, res.Findings, res.Errors)
			}
		}
	}
}

func TestNotARepository(t *testing.T) {
	needGit(t)
	for _, b := range backends {
		if _, err := scan(t, Options{Path: t.TempDir(), Backend: b}); err == nil {
			t.Errorf("%s: no error for a directory that is not a repository", b)
		}
	}
}

// objectPath is where a loose object lives.
func objectPath(dir, id string) string {
	return filepath.Join(dir, ".git", "objects", id[:2], id[2:])
}

func TestDamagedRepository(t *testing.T) {
	r := newRepo(t)
	kept, lost := token("kept"), token("lost")
	r.commit("one", map[string]string{"a.txt": "a=" + kept + "\n"})
	c := r.commit("two", map[string]string{"b.txt": "b=" + lost + "\n"})
	r.commit("three", map[string]string{"b.txt": "changed\n"})
	blob := r.git("rev-parse", c+":b.txt")
	if err := os.Remove(objectPath(r.dir, blob)); err != nil {
		t.Fatal(err)
	}
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			res := mustScan(t, Options{Path: r.dir, Backend: b})
			if _, ok := bySecret(t, res.Findings)[kept]; !ok {
				t.Errorf("scan did not go on past the missing object")
			}
			if len(res.Errors) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(res.Errors), res.Errors)
			}
			msg := res.Errors[0].Error()
			if !strings.Contains(msg, blob) || !strings.Contains(msg, c) || !strings.Contains(msg, "b.txt") {
				t.Errorf("error does not name the object, commit and path: %s", msg)
			}
		})
	}
}

func TestMissingTree(t *testing.T) {
	r := newRepo(t)
	kept := token("kept")
	r.commit("one", map[string]string{"a.txt": "a=" + kept + "\n"})
	c := r.commit("two", map[string]string{"sub/b.txt": "b\n"})
	r.commit("three", map[string]string{"sub/b.txt": "c\n"})
	tree := r.git("rev-parse", c+":sub")
	if err := os.Remove(objectPath(r.dir, tree)); err != nil {
		t.Fatal(err)
	}
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			res := mustScan(t, Options{Path: r.dir, Backend: b})
			if _, ok := bySecret(t, res.Findings)[kept]; !ok {
				t.Errorf("scan did not go on past the missing tree")
			}
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), tree) {
				t.Errorf("want one error naming tree %s, got %v", tree, res.Errors)
			}
		})
	}
}

func TestShallowClone(t *testing.T) {
	r := newRepo(t)
	deep, top := token("deep"), token("top")
	base := r.commit("one", map[string]string{"a.txt": "a=" + deep + "\n"})
	r.commit("two", map[string]string{"a.txt": "a=1\n"})
	r.commit("three", map[string]string{"b.txt": "b=" + top + "\n"})
	clone := filepath.Join(t.TempDir(), "clone")
	tick := 0
	gitIn(t, r.dir, &tick, "clone", "-q", "--depth", "1", "file://"+r.dir, clone)
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			res := mustScan(t, Options{Path: clone, Backend: b})
			got := bySecret(t, res.Findings)
			if _, ok := got[top]; !ok || len(res.Errors) != 0 {
				t.Errorf("shallow clone: %+v %v", res.Findings, res.Errors)
			}
			_, err := scan(t, Options{Path: clone, Backend: b, Range: base + "..HEAD"})
			if !errors.Is(err, ErrShallow) || !strings.Contains(err.Error(), "fetch-depth: 0") {
				t.Errorf("range with a missing base: %v", err)
			}
		})
	}
}

func TestBareAndWorktree(t *testing.T) {
	h := buildHistory(t)
	bare := filepath.Join(t.TempDir(), "bare.git")
	wt := filepath.Join(t.TempDir(), "wt")
	tick := 0
	gitIn(t, h.dir, &tick, "clone", "-q", "--bare", h.dir, bare)
	h.git("worktree", "add", "-q", wt, "feature")
	for _, b := range backends {
		t.Run(b+"/bare", func(t *testing.T) {
			res := mustScan(t, Options{Path: bare, Backend: b})
			got := bySecret(t, res.Findings)
			if _, ok := got[h.tokB]; !ok {
				t.Errorf("bare repository: secret not found")
			}
		})
		t.Run(b+"/worktree", func(t *testing.T) {
			res := mustScan(t, Options{Path: wt, Backend: b})
			got := bySecret(t, res.Findings)
			if _, ok := got[h.tokE]; !ok || len(got) != 6 {
				t.Errorf("worktree: got %d findings", len(got))
			}
		})
	}
}

func TestSubmodules(t *testing.T) {
	sub := newRepo(t)
	inner := token("inner")
	sub.commit("sub", map[string]string{"s.txt": "s=" + inner + "\n"})
	parent := newRepo(t)
	parent.commit("one", map[string]string{"p.txt": "p\n"})
	parent.git("submodule", "add", "-q", sub.dir, "libs/sub")
	parent.commit("add submodule", nil)
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			res := mustScan(t, Options{Path: parent.dir, Backend: b})
			if _, ok := bySecret(t, res.Findings)[inner]; ok {
				t.Errorf("submodule followed without --submodules")
			}
			res = mustScan(t, Options{Path: parent.dir, Backend: b, Submodules: true})
			f, ok := bySecret(t, res.Findings)[inner]
			if !ok || f.File != "libs/sub/s.txt" || f.Fingerprint != scanner.Fingerprint(f.RuleID, f.File, f.Secret) {
				t.Errorf("submodule secret: %+v", f)
			}
		})
	}
}

func TestUnusualContent(t *testing.T) {
	r := newRepo(t)
	lfs, odd, bad, big := token("lfs"), token("odd"), token("bad"), token("big")
	r.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
	r.git("add", ".gitattributes")
	// An LFS pointer is scanned as the text it is; nothing is fetched.
	r.commit("lfs", map[string]string{"model.bin": "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n# " + lfs + "\n"})
	// Odd and invalid UTF-8 file names.
	oddName := "dir with space/we\"ird\tname.txt"
	badName := "bad-\xff\xfe-name.env"
	r.commit("odd names", map[string]string{oddName: "k=" + odd + "\n", badName: "k=" + bad + "\n"})
	// A binary blob with a key in it, and a text blob over the size limit.
	bin := make([]byte, 1<<20)
	copy(bin[100:], "tok="+token("binary"))
	r.write("blob.dat", string(bin))
	r.write("large.txt", strings.Repeat("x", 300<<10)+"\n"+big+"\n")
	r.git("add", "blob.dat", "large.txt")
	r.commit("binary and large", nil)
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			res := mustScan(t, Options{Path: r.dir, Backend: b, MaxBlobSize: 200 << 10})
			got := bySecret(t, res.Findings)
			if len(res.Errors) != 0 {
				t.Errorf("errors: %v", res.Errors)
			}
			if f := got[lfs]; f.File != "model.bin" || f.Line != 4 {
				t.Errorf("LFS pointer: %+v", f)
			}
			if f := got[odd]; f.File != oddName {
				t.Errorf("odd name: %q", f.File)
			}
			if f := got[bad]; f.File != badName {
				t.Errorf("invalid UTF-8 name: %q", f.File)
			}
			if len(got) != 3 {
				t.Errorf("got %d findings, want 3 (binary and oversize blobs skipped)", len(got))
			}
			if res.Stats.Skipped != 2 {
				t.Errorf("skipped %d items, want 2", res.Stats.Skipped)
			}
		})
	}
}

// Blobs over the prefetcher's in-memory limit are read on demand; the
// findings match go-git's either way.
func TestLargeBlobReadOnDemand(t *testing.T) {
	r := newRepo(t)
	huge := token("huge")
	r.write("dump.sql", strings.Repeat("-- filler line of a large text dump\n", (inMemoryMax/36)+1000)+"password_token = "+huge+"\n")
	r.git("add", "dump.sql")
	r.commit("large dump", map[string]string{"small.env": "T=" + token("small") + "\n"})
	var lines []int
	for _, b := range backends {
		res := mustScan(t, Options{Path: r.dir, Backend: b})
		got := bySecret(t, res.Findings)
		f, ok := got[huge]
		if !ok || f.File != "dump.sql" || len(got) != 2 || len(res.Errors) != 0 {
			t.Fatalf("%s: findings %v errors %v", b, got, res.Errors)
		}
		lines = append(lines, f.Line)
	}
	if lines[0] != lines[1] || lines[0] < inMemoryMax/36 {
		t.Fatalf("lines %v", lines)
	}
}

// commits_containing counts the commits whose tree holds the secret:
// through edits elsewhere and on a side branch, not after its deletion,
// nor after a merge that keeps the deletion; a deleted directory and a
// file replaced by a symlink end a lifetime too.
func TestCommitsContaining(t *testing.T) {
	r := newRepo(t)
	tok, dirTok, linkTok := token("lifetime"), token("indir"), token("link")
	r.commit("add key", map[string]string{"a.env": "K=" + tok + "\n", "b.txt": "1\n",
		"conf/x.env": "K=" + dirTok + "\n", "l.env": "K=" + linkTok + "\n"}) // 1
	r.commit("edit b", map[string]string{"b.txt": "2\n"}) // 2
	r.git("branch", "feature")
	r.commit("remove key", map[string]string{"a.env": ""}) // 3
	r.git("rm", "-q", "-r", "conf")
	r.git("rm", "-q", "l.env")
	if err := os.Symlink("b.txt", filepath.Join(r.dir, "l.env")); err != nil {
		t.Fatal(err)
	}
	r.git("add", "l.env")
	r.commit("drop conf dir, l.env becomes a symlink", nil) // 4
	r.git("checkout", "-q", "feature")
	r.commit("feature work", map[string]string{"b.txt": "3\n"}) // 5: still holds all three
	r.git("checkout", "-q", "main")
	r.git("merge", "-q", "--no-edit", "-X", "theirs", "feature") // 6: keeps the deletions
	// Commits: 1 add, 2 edit, 3 remove a.env, 4 drop dir and link,
	// 5 feature (from 2), 6 merge. a.env is in 1, 2 and 5; conf/x.env and
	// l.env in 1, 2, 3 and 5.
	want := map[string]int{tok: 3, dirTok: 4, linkTok: 4}
	var got [][]int
	for _, b := range backends {
		res := mustScan(t, Options{Path: r.dir, Backend: b})
		fs := bySecret(t, res.Findings)
		var row []int
		for _, k := range []string{tok, dirTok, linkTok} {
			f, ok := fs[k]
			if !ok {
				t.Fatalf("%s: %s not found", b, k)
			}
			if f.CommitsContaining != want[k] {
				t.Errorf("%s: %s in %d commits, want %d", b, f.File, f.CommitsContaining, want[k])
			}
			row = append(row, f.CommitsContaining)
		}
		got = append(got, row)
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Errorf("backends disagree: %v", got)
	}
}

func TestWorktreeBlob(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "same\n")
	r.write("b.txt", "staged\n")
	r.git("add", ".")
	r.write("b.txt", "edited\n")
	g, err := openGitBin(t.Context(), filepath.Join(r.dir), 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	ids := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.git("ls-files", "-s")), "\n") {
		f := strings.Fields(l)
		ids[f[3]] = f[1]
	}
	cases := []struct {
		path string
		ok   bool
	}{{"a.txt", true}, {"b.txt", false}, {"missing.txt", false}}
	for _, c := range cases {
		id := plumbing.NewHash(ids[c.path])
		data, ok := g.worktreeBlob(c.path, id)
		if ok != c.ok || (ok && string(data) != "same\n") {
			t.Errorf("worktreeBlob(%s) = %q, %v; want ok %v", c.path, data, ok, c.ok)
		}
	}
}

// Both backends list the same refs, each peeled to its commit: branches,
// lightweight and annotated tags, a tag of a tag, and HEAD; tags of a
// tree or a blob are left out.
func TestRefsPeeled(t *testing.T) {
	r := newRepo(t)
	c1 := r.commit("one", map[string]string{"a.txt": "a\n"})
	c2 := r.commit("two", map[string]string{"a.txt": "b\n"})
	r.git("tag", "light", c1)
	r.git("tag", "-a", "-m", "annotated", "ann", c1)
	r.git("tag", "-a", "-m", "tag of a tag", "deep", "ann")
	r.git("tag", "-a", "-m", "tag of a tree", "tree", c2+"^{tree}")
	r.git("tag", "blob", c2+":a.txt")
	r.git("branch", "side", c1)
	want := []ref{
		{"refs/heads/main", plumbing.NewHash(c2)},
		{"refs/heads/side", plumbing.NewHash(c1)},
		{"refs/tags/ann", plumbing.NewHash(c1)},
		{"refs/tags/deep", plumbing.NewHash(c1)},
		{"refs/tags/light", plumbing.NewHash(c1)},
		{"HEAD", plumbing.NewHash(c2)},
	}
	ctx := context.Background()
	gb, err := openGitBin(ctx, r.dir, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer gb.close()
	got, err := gb.refs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("git refs:\n got %v\nwant %v", got, want)
	}
	gg, err := openGoGit(r.dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	ggot, err := gg.refs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := func(rs []ref) map[string]plumbing.Hash {
		m := map[string]plumbing.Hash{}
		for _, r := range rs {
			m[r.name] = r.id
		}
		return m
	}
	if !reflect.DeepEqual(byName(ggot), byName(want)) {
		t.Errorf("go-git refs:\n got %v\nwant %v", ggot, want)
	}
}

// `rev-list --all`, which a scan of every ref starts early, walks the same
// commits as the tips the ref listing selects: on a history with tags
// (of commits, of a tag, of a tree, of a blob), a tag-only commit, the
// stash and several branches.
func TestGraphAllMatchesTips(t *testing.T) {
	dir := buildHistory(t).dir
	r := &repo{t: t, dir: dir, tick: 1000}
	r.git("tag", "-a", "-m", "tree", "treetag", "HEAD^{tree}")
	r.git("tag", "-a", "-m", "deep", "deeptag", "v-secret")
	ctx := context.Background()
	gb, err := openGitBin(ctx, dir, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer gb.close()
	s := New(Options{Path: dir})
	tips, exclude, err := s.selectTips(ctx, gb)
	if err != nil {
		t.Fatal(err)
	}
	want, err := gb.graph(ctx, tips, exclude, func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	got, err := gb.graphAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ns []*commitNode) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.id.String())
		}
		slices.Sort(out)
		return out
	}
	if len(want) < 5 || !reflect.DeepEqual(ids(got), ids(want)) {
		t.Errorf("rev-list --all walked %d commits, the tips %d", len(got), len(want))
	}
}

// Commit objects that are not well formed (no blank line after their
// headers, a parent git cannot parse, no tree) leave the rest of the
// history scanned: never a crash of the reader, nor a failed ref listing.
func TestMalformedCommits(t *testing.T) {
	r := newRepo(t)
	r.commit("one", map[string]string{"a.txt": "a\n"})
	tree := strings.TrimSpace(r.git("rev-parse", "HEAD^{tree}"))
	for i, body := range []string{
		"tree " + tree + "\nauthor A <a@b> 1700000000 +0000\ncommitter A <a@b> 1700000000 +0000",
		"tree " + tree + "\nparent nothex\nauthor A <a@b> 1700000000 +0000\ncommitter A <a@b> 1700000000 +0000",
		"nonsense header\n",
	} {
		f := filepath.Join(t.TempDir(), "c")
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSpace(r.git("hash-object", "-t", "commit", "--literally", "-w", f))
		// update-ref refuses some of them: write the ref file itself.
		ref := filepath.Join(r.dir, ".git", "refs", "odd", itoa(i))
		if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ref, []byte(id+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := scanWith(t, Options{Path: r.dir, Backend: BackendGit}, scanner.Options{})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if res.Stats.Items == 0 {
		t.Error("nothing scanned")
	}
}
