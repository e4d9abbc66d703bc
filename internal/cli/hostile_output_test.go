package cli

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/internal/testtools"
)

const evilName = "evil\x1b[2J\x1b[31mname.env"

// hostileRepo is a real git repository (and working tree) with keys in a
// file whose name clears the screen, in a directory named like a
// spreadsheet formula, committed by an author whose name and subject
// carry escape sequences.
func hostileRepo(t *testing.T) string {
	t.Helper()
	testtools.Need(t, "git")
	dir := t.TempDir()
	write(t, filepath.Join(dir, evilName), "T="+ghToken(901)+"\n")
	write(t, filepath.Join(dir, "=cmd|calc", "a.env"), "T="+ghToken(902)+"\n")
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_AUTHOR_NAME=Mallory \x1b]0;pwned\x07\x1b[8m", "GIT_AUTHOR_EMAIL=@evil.test",
			"GIT_COMMITTER_NAME=M", "GIT_COMMITTER_EMAIL=m@evil.test")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "=HYPERLINK(\"http://evil.test\") \x1b[1A\x1b[2Kinnocent")
	return dir
}

// rawControls lists control characters (other than newline) in s.
func rawControls(s string) []rune {
	var bad []rune
	for _, r := range s {
		if r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f) {
			bad = append(bad, r)
		}
	}
	return bad
}

// What a terminal and a spreadsheet get from scanning the hostile repo as
// a directory and as history, in text and CSV.
func TestHostileNamesInReports(t *testing.T) {
	dir := hostileRepo(t)
	for _, src := range []string{"dir", "git"} {
		t.Run(src+"/text", func(t *testing.T) {
			r := run(t, "", "scan", src, dir) // not a terminal: no colour of ours
			if r.code != ExitFindings {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if bad := rawControls(r.stdout + r.stderr); len(bad) > 0 {
				t.Fatalf("raw control characters %q reach the terminal:\n%s", bad, r.stdout)
			}
			want := []string{`evil\x1b[2J\x1b[31mname.env:1:3`, `=cmd|calc/a.env:1:3`}
			if src == "git" {
				want = append(want, `author: Mallory \x1b]0;pwned\x07\x1b[8m <@evil.test>`, `message: =HYPERLINK("http://evil.test") \x1b[1A\x1b[2Kinnocent`)
			}
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
		t.Run(src+"/csv", func(t *testing.T) {
			r := run(t, "", "scan", src, "-f", "csv", dir)
			if r.code != ExitFindings {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 3 {
				t.Fatalf("%d records:\n%s", len(recs), r.stdout)
			}
			files := map[string]bool{}
			for _, rec := range recs[1:] {
				for j, cell := range rec {
					if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
						t.Errorf("column %s starts a formula: %q", recs[0][j], cell)
					}
				}
				files[strings.TrimPrefix(rec[4], filepath.ToSlash(dir)+"/")] = true
			}
			if src == "git" && (!files["'=cmd|calc/a.env"] || !files[evilName]) {
				t.Errorf("file cells %v", files)
			}
		})
	}
	t.Run("git/sarif", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "hostile.sarif")
		if r := run(t, "", "scan", "git", "-f", "sarif", "-o", out, dir); r.code != ExitFindings {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for _, is := range testtools.ValidateSARIF(t, out) {
			t.Error(is)
		}
	})
	if got := report.TerminalSafe(evilName); strings.ContainsRune(got, 0x1b) {
		t.Fatalf("TerminalSafe kept ESC: %q", got)
	}
}
