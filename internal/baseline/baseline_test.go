package baseline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/scanner"
)

const (
	secretA = "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"
	secretB = "AKIAZ7VRSQ5TNQLJ4MXK"
)

func mk(rule, file string, line int, secret string) scanner.Finding {
	return scanner.Finding{RuleID: rule, File: file, Line: line, Secret: secret,
		Fingerprint: scanner.Fingerprint(rule, file, secret)}
}

func TestRelPath(t *testing.T) {
	abs, err := filepath.Abs("root")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, root, want string }{
		{"a/b.txt", ".", "a/b.txt"},
		{"./a/b.txt", "", "a/b.txt"},
		{filepath.Join(abs, "a", "b.txt"), abs, "a/b.txt"},
		{filepath.Join(abs, "a", "b.txt"), "root", "a/b.txt"},
		{"root/a/b.txt", "root", "a/b.txt"},
		{"src/x.go", "/some/repo", "src/x.go"}, // git sources: repo-relative already
		{"/elsewhere/x", abs, "/elsewhere/x"},
	}
	for _, tc := range tests {
		if got := RelPath(tc.file, tc.root); got != tc.want {
			t.Errorf("RelPath(%q, %q) = %q, want %q", tc.file, tc.root, got, tc.want)
		}
	}
}

func TestFromFindingsSortedDedupedNoSecrets(t *testing.T) {
	fs := []scanner.Finding{
		mk("github-pat", "z/last.env", 9, secretA),
		mk("aws-access-key-id", "a/first.env", 3, secretB),
		mk("github-pat", "z/last.env", 20, secretA), // same secret again
		mk("github-pat", "a/first.env", 1, secretA),
	}
	b := FromFindings(fs, ".")
	if len(b.Findings) != 3 {
		t.Fatalf("want 3 entries, got %+v", b.Findings)
	}
	var order []string
	for _, e := range b.Findings {
		order = append(order, e.Path+" "+e.RuleID)
	}
	want := "a/first.env aws-access-key-id|a/first.env github-pat|z/last.env github-pat"
	if got := strings.Join(order, "|"); got != want {
		t.Errorf("order %q, want %q", got, want)
	}
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, bad := range []string{secretA, secretB, secretA[4:], secretB[4:], "line", "date", "commit"} {
		if strings.Contains(s, bad) {
			t.Errorf("baseline contains %q:\n%s", bad, s)
		}
	}
	if !strings.HasSuffix(s, "}\n") || !strings.Contains(s, `"hint": "ghp_…"`) {
		t.Errorf("unexpected rendering:\n%s", s)
	}
	// Same findings in another order and at other lines: identical bytes.
	moved := []scanner.Finding{mk("github-pat", "a/first.env", 40, secretA), mk("github-pat", "z/last.env", 1, secretA), mk("aws-access-key-id", "a/first.env", 77, secretB)}
	data2, _ := FromFindings(moved, ".").Marshal()
	if string(data2) != s {
		t.Errorf("baseline changed when lines moved:\n%s\n---\n%s", s, data2)
	}
}

func TestUpdateKeepsReasons(t *testing.T) {
	old := FromFindings([]scanner.Finding{mk("github-pat", "a.env", 1, secretA), mk("aws-access-key-id", "b.env", 1, secretB)}, ".")
	for i := range old.Findings {
		if old.Findings[i].Path == "a.env" {
			old.Findings[i].Reason = "test fixture"
		}
	}
	next, st := old.Update([]scanner.Finding{mk("github-pat", "a.env", 5, secretA), mk("github-pat", "c.env", 1, secretA)}, ".")
	if st != (UpdateStats{Added: 1, Pruned: 1, Kept: 1}) {
		t.Errorf("stats %+v", st)
	}
	if len(next.Findings) != 2 || next.Findings[0].Path != "a.env" || next.Findings[0].Reason != "test fixture" || next.Findings[1].Path != "c.env" {
		t.Errorf("next = %+v", next.Findings)
	}
	var nilFile *File
	if _, st := nilFile.Update(nil, "."); st != (UpdateStats{}) {
		t.Errorf("update of nothing: %+v", st)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.json")
	b := FromFindings([]scanner.Finding{mk("github-pat", "a.env", 1, secretA)}, ".")
	b.Findings[0].Reason = "rotated 2026-01-02"
	if err := b.Save(p); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 1 || got.Findings[0] != b.Findings[0] || !got.Contains(b.Findings[0].Fingerprint) {
		t.Errorf("round trip: %+v", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not json", "nope", "invalid character"},
		{"wrong version", `{"version": 9, "findings": []}`, "format version 9"},
		{"no fingerprint", `{"version": 1, "findings": [{"rule_id": "x"}]}`, "no fingerprint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data), "b.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "b.json") {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestIgnoreFiles(t *testing.T) {
	root := t.TempDir()
	fA := mk("github-pat", "cfg/a.env", 3, secretA)
	fB := mk("aws-access-key-id", "cfg/b.env", 7, secretB)
	fB.Commit = "abc123"
	fC := mk("github-pat", "cfg/c.env", 1, secretA)
	tests := []struct {
		name, file, text string
		want             []string // paths that remain
	}{
		{"none", "", "", []string{"cfg/a.env", "cfg/b.env", "cfg/c.env"}},
		{"keytrail fingerprints and comments", ".keytrailignore",
			"# reviewed\n\n" + fA.Fingerprint + "  # fixture\n" + strings.ToUpper(fC.Fingerprint) + "\r\n", []string{"cfg/b.env"}},
		{"gitleaks file:rule:line", ".gitleaksignore", "cfg/b.env:aws-access-key-id:7\n", []string{"cfg/a.env", "cfg/c.env"}},
		{"gitleaks commit:file:rule:line", ".gitleaksignore", "abc123:cfg/b.env:aws-access-key-id:7\n", []string{"cfg/a.env", "cfg/c.env"}},
		{"gitleaks wrong line", ".gitleaksignore", "cfg/b.env:aws-access-key-id:8\n", []string{"cfg/a.env", "cfg/b.env", "cfg/c.env"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range IgnoreFiles {
				os.Remove(filepath.Join(root, n))
			}
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(root, tc.file), []byte(tc.text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ig, err := LoadIgnore(root)
			if err != nil {
				t.Fatal(err)
			}
			kept, n := Filter([]scanner.Finding{fA, fB, fC}, root, nil, ig)
			var got []string
			for _, f := range kept {
				got = append(got, f.File)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || n != 3-len(tc.want) {
				t.Errorf("kept %v (%d dropped), want %v", got, n, tc.want)
			}
		})
	}
}

// A baseline made from a scan of "." matches findings reported with
// absolute paths, and the other way round.
func TestFilterAcrossRootSpellings(t *testing.T) {
	root := t.TempDir()
	rel := mk("github-pat", "a/b.env", 1, secretA)
	abs := mk("github-pat", filepath.Join(root, "a", "b.env"), 1, secretA)
	b := FromFindings([]scanner.Finding{abs}, root)
	if b.Findings[0].Path != "a/b.env" {
		t.Fatalf("path %q", b.Findings[0].Path)
	}
	if kept, _ := Filter([]scanner.Finding{rel}, ".", b, nil); len(kept) != 0 {
		t.Errorf("relative finding not matched by a baseline from an absolute scan")
	}
	b2 := FromFindings([]scanner.Finding{rel}, ".")
	if kept, _ := Filter([]scanner.Finding{abs}, root, b2, nil); len(kept) != 0 {
		t.Errorf("absolute finding not matched by a baseline from a relative scan")
	}
}
