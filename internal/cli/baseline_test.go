package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/internal/baseline"
)

func readBaseline(t *testing.T, p string) (*baseline.File, string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := baseline.Parse(data, p)
	if err != nil {
		t.Fatal(err)
	}
	return b, string(data)
}

func TestBaselineCreateThenScanReportsOnlyNew(t *testing.T) {
	dir := t.TempDir()
	tokA, tokB, tokC := ghToken(101), ghToken(102), ghToken(103)
	write(t, filepath.Join(dir, "app", "config.py"), "X = 1\nTOKEN = \""+tokA+"\"\n")
	write(t, filepath.Join(dir, "deploy.sh"), "export GH="+tokB+"\n")
	bl := filepath.Join(t.TempDir(), "baseline.json")

	// Flags before or after the source name both work.
	r := run(t, "", "baseline", "create", "--output", bl, "dir", dir)
	if r.code != ExitClean {
		t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
	}
	b, raw := readBaseline(t, bl)
	if len(b.Findings) != 2 || b.Findings[0].Path != "app/config.py" || b.Findings[1].Path != "deploy.sh" {
		t.Fatalf("baseline entries %+v", b.Findings)
	}
	for _, s := range []string{tokA, tokB, tokA[4:], `"line"`, "generated"} {
		if strings.Contains(raw, s) {
			t.Errorf("baseline contains %q", s)
		}
	}
	if !strings.Contains(r.stderr, "2 finding(s)") {
		t.Errorf("stderr %q", r.stderr)
	}

	r = run(t, "", "scan", "dir", dir, "--baseline", bl, "-f", "json")
	if r.code != ExitClean || len(parseJSON(t, r.stdout)) != 0 {
		t.Fatalf("scan with baseline: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	write(t, filepath.Join(dir, "new.env"), "TOKEN="+tokC+"\n")
	r = run(t, "", "scan", "dir", dir, "--baseline", bl, "-f", "json")
	fs := parseJSON(t, r.stdout)
	if r.code != ExitFindings || len(fs) != 1 || !strings.HasSuffix(fs[0].File, "new.env") {
		t.Fatalf("new finding: exit %d %+v", r.code, fs)
	}
	// Without the baseline all three are reported.
	r = run(t, "", "scan", "dir", dir, "-f", "json")
	if len(parseJSON(t, r.stdout)) != 3 {
		t.Errorf("without baseline: %s", r.stdout)
	}
	// A missing baseline is an error, not a silent "report everything".
	r = run(t, "", "scan", "dir", dir, "--baseline", bl+".missing")
	if r.code != ExitError || !strings.Contains(r.stderr, "--baseline") {
		t.Errorf("missing baseline: exit %d %q", r.code, r.stderr)
	}
}

// Moving lines and reformatting the code around a secret changes neither
// the scan result against the baseline nor the baseline file itself.
func TestBaselineSurvivesLineMovesAndReformatting(t *testing.T) {
	dir := t.TempDir()
	tok := ghToken(201)
	cfg := filepath.Join(dir, "settings.py")
	write(t, cfg, "DEBUG = False\nGITHUB_TOKEN = \""+tok+"\"\n")
	bl := filepath.Join(dir, ".keytrail-baseline.json")
	if r := run(t, "", "baseline", "create", "dir", dir, "--output", bl); r.code != ExitClean {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	_, before := readBaseline(t, bl)

	edits := []struct{ name, content string }{
		{"lines inserted above", strings.Repeat("# comment\n", 25) + "DEBUG = False\nGITHUB_TOKEN = \"" + tok + "\"\n"},
		{"reformatted", "settings = {\n    'debug': False,\n    'github_token':   '" + tok + "',\n}\n"},
		{"moved to the end of a long file", strings.Repeat("x = 1\n", 500) + "token: " + tok + "\n"},
	}
	for _, ed := range edits {
		t.Run(ed.name, func(t *testing.T) {
			write(t, cfg, ed.content)
			r := run(t, "", "scan", "dir", dir, "--baseline", bl, "-f", "json")
			if r.code != ExitClean {
				t.Errorf("scan: exit %d %s %s", r.code, r.stdout, r.stderr)
			}
			r = run(t, "", "baseline", "update", "--baseline", bl, "dir", dir)
			if r.code != ExitClean || !strings.Contains(r.stderr, "0 added, 0 pruned, 1 kept") {
				t.Errorf("update: exit %d %s", r.code, r.stderr)
			}
			if _, after := readBaseline(t, bl); after != before {
				t.Errorf("baseline churned:\n%s\n---\n%s", before, after)
			}
		})
	}
}

func TestBaselineUpdateAddsPrunesKeepsReasons(t *testing.T) {
	dir := t.TempDir()
	tokA, tokB, tokC := ghToken(301), ghToken(302), ghToken(303)
	write(t, filepath.Join(dir, "a.env"), "A="+tokA+"\n")
	write(t, filepath.Join(dir, "b.env"), "B="+tokB+"\n")
	bl := filepath.Join(t.TempDir(), "bl.json")
	if r := run(t, "", "baseline", "create", "--output", bl, "dir", dir); r.code != ExitClean {
		t.Fatal(r.stderr)
	}
	// A reviewer annotates an entry by hand.
	b, _ := readBaseline(t, bl)
	b.Findings[0].Reason = "test fixture, not a real key"
	data, _ := json.MarshalIndent(b, "", "  ")
	if err := os.WriteFile(bl, data, 0o644); err != nil {
		t.Fatal(err)
	}

	os.Remove(filepath.Join(dir, "b.env"))
	write(t, filepath.Join(dir, "c.env"), "C="+tokC+"\n")
	r := run(t, "", "baseline", "update", "--baseline", bl, "dir", dir)
	if r.code != ExitClean || !strings.Contains(r.stderr, "1 added, 1 pruned, 1 kept") {
		t.Fatalf("update: exit %d %s", r.code, r.stderr)
	}
	b, _ = readBaseline(t, bl)
	if len(b.Findings) != 2 || b.Findings[0].Path != "a.env" || b.Findings[0].Reason != "test fixture, not a real key" || b.Findings[1].Path != "c.env" {
		t.Errorf("after update: %+v", b.Findings)
	}

	// update creates the file when it does not exist yet.
	fresh := filepath.Join(t.TempDir(), "fresh.json")
	r = run(t, "", "baseline", "update", "--baseline", fresh, "dir", dir)
	if r.code != ExitClean || !strings.Contains(r.stderr, "2 added") {
		t.Errorf("update of a new file: %d %s", r.code, r.stderr)
	}
}

func TestBaselineFromStdinAndIgnoreFile(t *testing.T) {
	tok := ghToken(401)
	bl := filepath.Join(t.TempDir(), "bl.json")
	if r := run(t, "log line token="+tok+"\n", "baseline", "create", "--output", bl, "stdin"); r.code != ExitClean {
		t.Fatal(r.stderr)
	}
	b, _ := readBaseline(t, bl)
	if len(b.Findings) != 1 || b.Findings[0].Path != "stdin" {
		t.Fatalf("%+v", b.Findings)
	}
	if r := run(t, "other line\n\nlog line token="+tok+"\n", "scan", "stdin", "--baseline", bl); r.code != ExitClean {
		t.Errorf("stdin scan with baseline: %d %s", r.code, r.stdout)
	}
}

func TestKeytrailIgnoreFile(t *testing.T) {
	dir := t.TempDir()
	tokA, tokB := ghToken(501), ghToken(502)
	write(t, filepath.Join(dir, "fixtures", "token.txt"), tokA+"\n")
	write(t, filepath.Join(dir, "real.env"), "T="+tokB+"\n")
	r := run(t, "", "scan", "dir", dir, "-f", "json")
	fs := parseJSON(t, r.stdout)
	if len(fs) != 2 {
		t.Fatalf("%+v", fs)
	}
	var fixtureFP string
	for _, f := range fs {
		if strings.Contains(f.File, "fixtures") {
			fixtureFP = f.Fingerprint
		}
	}
	write(t, filepath.Join(dir, ".keytrailignore"), "# reviewed fixtures\n"+fixtureFP+" # fixtures/token.txt\n")
	r = run(t, "", "scan", "dir", dir, "-f", "json")
	fs = parseJSON(t, r.stdout)
	if r.code != ExitFindings || len(fs) != 1 || !strings.HasSuffix(fs[0].File, "real.env") {
		t.Errorf("with .keytrailignore: exit %d %+v", r.code, fs)
	}
	// Ignored findings stay out of a new baseline too.
	bl := filepath.Join(t.TempDir(), "bl.json")
	run(t, "", "baseline", "create", "--output", bl, "dir", dir)
	if b, _ := readBaseline(t, bl); len(b.Findings) != 1 || b.Findings[0].Path != "real.env" {
		t.Errorf("baseline %+v", b.Findings)
	}
}

func TestBaselineHelpListsSources(t *testing.T) {
	r := run(t, "", "baseline", "create", "--help")
	for _, src := range []string{"dir", "stdin", "logs", "git"} {
		if !strings.Contains(r.stdout, "  "+src+" ") {
			t.Errorf("baseline create --help lacks source %q:\n%s", src, r.stdout)
		}
	}
	r = run(t, "", "baseline", "create", "dir", "--help")
	if strings.Contains(r.stdout, "--sarif-category") || !strings.Contains(r.stdout, "baseline file to write") {
		t.Errorf("dir --help under baseline create:\n%s", r.stdout)
	}
}
