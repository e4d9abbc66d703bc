package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keytrail/keytrail/rules"
)

// seeded returns n characters of alphabet drawn from a fixed seed, for
// reproducible fake keys.
func seeded(seed int64, alphabet string, n int) string {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

// ghToken returns a format-exact fake GitHub classic token (valid CRC32).
func ghToken(seed int64) string {
	body := seeded(seed, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 30)
	return "ghp_" + body + rules.Base62CRC32(body)
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type jsonFinding struct {
	RuleID      string `json:"rule_id"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Column      int    `json:"column"`
	Secret      string `json:"secret"`
	Fingerprint string `json:"fingerprint"`
	Severity    string `json:"severity"`
}

func parseJSON(t *testing.T, s string) []jsonFinding {
	t.Helper()
	var fs []jsonFinding
	if err := json.Unmarshal([]byte(s), &fs); err != nil {
		t.Fatalf("bad JSON report: %v\n%s", err, s)
	}
	return fs
}

func TestExitCodes(t *testing.T) {
	tok := ghToken(1)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "clean.txt"), "nothing here\n")
	write(t, filepath.Join(dir, "leak", "a.env"), "GITHUB_TOKEN="+tok+"\n")
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"clean", []string{"scan", "dir", filepath.Join(dir, "clean.txt")}, ExitClean},
		{"findings", []string{"scan", "dir", filepath.Join(dir, "leak")}, ExitFindings},
		{"custom exit code", []string{"scan", "dir", "--exit-code", "42", filepath.Join(dir, "leak")}, 42},
		{"nonexistent path", []string{"scan", "dir", filepath.Join(dir, "nope")}, ExitError},
		{"bad format", []string{"scan", "dir", "--format", "xml", dir}, ExitError},
		{"bad config", []string{"scan", "dir", "--config", filepath.Join(dir, "missing.toml"), dir}, ExitError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, "", c.args...)
			if r.code != c.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.want, r.stdout, r.stderr)
			}
		})
	}
}

// A missing path is reported by name and the other paths are still scanned.
func TestNonexistentPathReportedAndRestScanned(t *testing.T) {
	dir := t.TempDir()
	tok := ghToken(2)
	write(t, filepath.Join(dir, "a.txt"), tok+"\n")
	missing := filepath.Join(dir, "does-not-exist")
	r := run(t, "", "scan", "dir", "-f", "json", missing, filepath.Join(dir, "a.txt"))
	if r.code != ExitError || !strings.Contains(r.stderr, missing) {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if fs := parseJSON(t, r.stdout); len(fs) != 1 || fs[0].RuleID != "github-pat" {
		t.Fatalf("findings %+v", fs)
	}
}

func TestJSONReportFieldsAndRedaction(t *testing.T) {
	tok := ghToken(3)
	r := run(t, "line one\ntoken = "+tok+"\n", "scan", "stdin", "-f", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, tok) || strings.Contains(r.stderr, tok) {
		t.Fatal("secret printed without --show-secrets")
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rule_id", "file", "line", "column", "secret", "fingerprint", "severity", "end_line", "end_column", "entropy", "confidence"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("JSON finding lacks %q", k)
		}
	}
	fs := parseJSON(t, r.stdout)
	if fs[0].Line != 2 || fs[0].Column != 9 || fs[0].Secret != "ghp_…" {
		t.Fatalf("finding %+v", fs[0])
	}
	r = run(t, "token = "+tok+"\n", "scan", "stdin", "-f", "json", "--show-secrets")
	if fs := parseJSON(t, r.stdout); fs[0].Secret != tok {
		t.Fatalf("--show-secrets gave %q", fs[0].Secret)
	}
}

func TestFormats(t *testing.T) {
	tok := ghToken(4)
	for _, f := range []string{"text", "jsonl", "csv", "github"} {
		t.Run(f, func(t *testing.T) {
			r := run(t, "x\n"+tok+"\n", "scan", "stdin", "-f", f)
			if r.code != ExitFindings || strings.Contains(r.stdout, tok) {
				t.Fatalf("exit %d, output %q", r.code, r.stdout)
			}
			if !strings.Contains(r.stdout, "github-pat") {
				t.Fatalf("rule id missing: %q", r.stdout)
			}
		})
	}
	r := run(t, tok+"\n", "scan", "stdin", "-f", "text")
	if !strings.Contains(r.stdout, "stdin:1:1 github-pat") || !strings.Contains(r.stdout, "1 finding(s)") {
		t.Fatalf("text output: %q", r.stdout)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Fatal("colour codes written to a non-terminal")
	}
}

func TestOutputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.json")
	r := run(t, ghToken(5)+"\n", "scan", "stdin", "-f", "json", "-o", out)
	if r.code != ExitFindings || r.stdout != "" {
		t.Fatalf("exit %d stdout %q", r.code, r.stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if fs := parseJSON(t, string(data)); len(fs) != 1 {
		t.Fatalf("%d findings in file", len(fs))
	}
}

func TestGitignoreHonoured(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".gitignore"), "ignored/\n*.secret\n")
	write(t, filepath.Join(dir, "ignored", "a.txt"), ghToken(6)+"\n")
	write(t, filepath.Join(dir, "sub", "b.secret"), ghToken(7)+"\n")
	write(t, filepath.Join(dir, "sub", ".gitignore"), "local.txt\n")
	write(t, filepath.Join(dir, "sub", "local.txt"), ghToken(8)+"\n")
	write(t, filepath.Join(dir, "kept.txt"), ghToken(9)+"\n")
	write(t, filepath.Join(dir, ".git", "config"), ghToken(10)+"\n")
	r := run(t, "", "scan", "dir", "-f", "json", dir)
	fs := parseJSON(t, r.stdout)
	if len(fs) != 1 || !strings.HasSuffix(fs[0].File, "kept.txt") {
		t.Fatalf("with .gitignore: %+v", fs)
	}
	r = run(t, "", "scan", "dir", "-f", "json", "--no-ignore", dir)
	if fs := parseJSON(t, r.stdout); len(fs) != 4 {
		t.Fatalf("--no-ignore: %d findings, want 4 (.git is never scanned as a tree): %+v", len(fs), fs)
	}
}

func TestSymlinkLoopFIFOAndDevice(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "real", "a.txt"), ghToken(11)+"\n")
	must(t, os.Symlink(dir, filepath.Join(dir, "real", "loop")))
	must(t, os.Symlink(filepath.Join(dir, "b"), filepath.Join(dir, "c")))
	must(t, os.Symlink(filepath.Join(dir, "c"), filepath.Join(dir, "b")))
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	done := make(chan result, 1)
	go func() { done <- run(t, "", "scan", "dir", "-f", "json", dir) }()
	select {
	case r := <-done:
		if fs := parseJSON(t, r.stdout); len(fs) != 1 {
			t.Fatalf("findings %+v", fs)
		}
		if r.code != ExitFindings {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("scan blocked (FIFO opened or symlink loop followed)")
	}
	// A device named explicitly is skipped with a message, never read.
	r := run(t, "", "scan", "dir", "/dev/zero")
	if r.code != ExitError || !strings.Contains(r.stderr, "/dev/zero") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func TestLogs(t *testing.T) {
	dir := t.TempDir()
	t1, t2, t3 := ghToken(12), ghToken(13), ghToken(14)
	write(t, filepath.Join(dir, "app.log"), "INFO start\r\nDEBUG auth token="+t1+"\r\n")
	write(t, filepath.Join(dir, "app.jsonl"), `{"level":"info","msg":"ok"}`+"\n"+`{"level":"debug","headers":{"Authorization":"token `+t2+`"}}`+"\n")
	// A rotated, gzip-compressed log without a .gz suffix.
	must(t, os.WriteFile(filepath.Join(dir, "app.log.1"), gz(t, []byte("a\nb\nc "+t3+"\n")), 0o644))
	r := run(t, "", "scan", "logs", "-f", "json", dir)
	fs := parseJSON(t, r.stdout)
	got := map[string]int{}
	for _, f := range fs {
		got[filepath.Base(f.File)] = f.Line
	}
	want := map[string]int{"app.log": 2, "app.jsonl": 2, "app.log.1": 3}
	if len(got) != 3 || got["app.log"] != 2 || got["app.jsonl"] != 2 || got["app.log.1"] != 3 || r.code != ExitFindings {
		t.Fatalf("got %v want %v (exit %d, %s)", got, want, r.code, r.stderr)
	}
}

func TestBrokenGzip(t *testing.T) {
	dir := t.TempDir()
	tok := ghToken(15)
	// Truncated: the key before the cut is still reported, the file is named.
	body := gz(t, []byte(tok+"\n"+strings.Repeat("filler line of a log\n", 5000)))
	must(t, os.WriteFile(filepath.Join(dir, "truncated.log.gz"), body[:len(body)/2], 0o644))
	// Bomb: expands far past the limit given.
	must(t, os.WriteFile(filepath.Join(dir, "bomb.gz"), gz(t, bytes.Repeat([]byte("A"), 8<<20)), 0o644))
	write(t, filepath.Join(dir, "fine.log"), "x "+ghToken(16)+"\n")
	r := run(t, "", "scan", "logs", "-f", "json", "--max-decompressed-size", "1048576", dir)
	if r.code != ExitError {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"truncated.log.gz", "truncated", "bomb.gz", "gzip bomb"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	fs := parseJSON(t, r.stdout)
	files := map[string]bool{}
	for _, f := range fs {
		files[filepath.Base(f.File)] = true
	}
	if !files["fine.log"] || !files["truncated.log.gz"] {
		t.Fatalf("findings %+v", fs)
	}
}

// An unreadable directory and an unreadable file are each reported by path
// and the rest is scanned. Permission errors need a non-root user: as root
// the test re-runs the built binary as nobody through setpriv.
func TestUnreadableDirectory(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Chmod(dir, 0o755))
	write(t, filepath.Join(dir, "ok", "a.txt"), ghToken(17)+"\n")
	write(t, filepath.Join(dir, "locked", "b.txt"), ghToken(18)+"\n")
	must(t, os.Chmod(filepath.Join(dir, "locked"), 0o000))
	defer os.Chmod(filepath.Join(dir, "locked"), 0o755)
	write(t, filepath.Join(dir, "ok", "unreadable.env"), ghToken(24)+"\n")
	must(t, os.Chmod(filepath.Join(dir, "ok", "unreadable.env"), 0o000))
	var code int
	var stdout, stderr string
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("running as root without setpriv: cannot drop privileges")
		}
		bin := filepath.Join(dir, "keytrail")
		build := exec.Command("go", "build", "-o", bin, "github.com/keytrail/keytrail/cmd/keytrail")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		for p := dir; p != "/"; p = filepath.Dir(p) {
			st, err := os.Stat(p)
			if err == nil && st.Mode().Perm()&0o005 != 0o005 {
				must(t, os.Chmod(p, st.Mode().Perm()|0o005))
				defer os.Chmod(p, st.Mode().Perm())
			}
		}
		cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "scan", "dir", "-f", "json", dir)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		stdout, stderr = o.String(), e.String()
	} else {
		r := run(t, "", "scan", "dir", "-f", "json", dir)
		code, stdout, stderr = r.code, r.stdout, r.stderr
	}
	if code != ExitError || !strings.Contains(stderr, filepath.Join(dir, "locked")) || !strings.Contains(stderr, "permission denied") ||
		!strings.Contains(stderr, filepath.Join(dir, "ok", "unreadable.env")) {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	if fs := parseJSON(t, stdout); len(fs) != 1 || !strings.HasSuffix(fs[0].File, "ok/a.txt") {
		t.Fatalf("findings %+v", fs)
	}
}

func TestRulesListAndVersion(t *testing.T) {
	r := run(t, "", "rules", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "github-pat") || !strings.Contains(r.stdout, "github-crc32") {
		t.Fatalf("rules list: %d %q", r.code, r.stdout)
	}
	r = run(t, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "keytrail ") {
		t.Fatalf("version: %q", r.stdout)
	}
}

// No log line may carry a secret, even at debug level in JSON.
func TestLogsNeverContainSecrets(t *testing.T) {
	tok := ghToken(19)
	r := run(t, "t="+tok+"\n", "--log-level", "debug", "--log-format", "json", "scan", "stdin")
	if strings.Contains(r.stderr, tok) || strings.Contains(r.stderr, tok[4:]) {
		t.Fatalf("secret in logs: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, `"message":"scan finished"`) {
		t.Fatalf("expected JSON log lines, got %q", r.stderr)
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	tok := ghToken(20)
	write(t, filepath.Join(dir, "src", "a.txt"), tok+"\n")
	write(t, filepath.Join(dir, "fixtures", "b.txt"), tok+"\n")
	write(t, filepath.Join(dir, ".keytrail.toml"), `
[allowlist]
paths = ["fixtures/**", "**/fixtures/**"]

[[rule]]
id = "acme-internal-token"
description = "ACME internal token"
keywords = ["acme_"]
regex = '''\b(acme_[a-f0-9]{24})\b'''
examples = ["acme_0123456789abcdef01234567"]
negative_examples = ["acme_short"]
`)
	write(t, filepath.Join(dir, "src", "c.txt"), "k = acme_0123456789abcdef01234567\n")
	r := run(t, "", "scan", "dir", "-f", "json", dir)
	fs := parseJSON(t, r.stdout)
	ids := map[string]bool{}
	for _, f := range fs {
		ids[f.RuleID] = true
		if strings.Contains(f.File, "fixtures") {
			t.Errorf("allowlisted path reported: %s", f.File)
		}
	}
	if !ids["github-pat"] || !ids["acme-internal-token"] {
		t.Fatalf("findings %+v (stderr %s)", fs, r.stderr)
	}
	bad := filepath.Join(dir, "bad.toml")
	write(t, bad, "[[rule]]\nid = \"x\"\nkeywords = [\"x\"]\nregex = \"(\"\n")
	r = run(t, "", "scan", "dir", "--config", bad, dir)
	if r.code != ExitError || !strings.Contains(r.stderr, "bad.toml") || !strings.Contains(r.stderr, "regex") {
		t.Fatalf("bad config: exit %d %q", r.code, r.stderr)
	}
	write(t, bad, "extends = \"builtin\"\n[allowlist\n")
	r = run(t, "", "scan", "dir", "--config", bad, dir)
	if r.code != ExitError || !strings.Contains(r.stderr, "bad.toml: line ") {
		t.Fatalf("bad TOML: exit %d %q", r.code, r.stderr)
	}
}

func TestReportInvalidAndMinConfidence(t *testing.T) {
	tok := ghToken(21)
	bad := tok[:len(tok)-1] + "A"
	if bad == tok {
		bad = tok[:len(tok)-1] + "B"
	}
	input := "GITHUB_TOKEN=" + bad + "\ndb_password = \"foo\"\nTOKEN=" + tok + "\n"
	type jf struct {
		RuleID     string `json:"rule_id"`
		Line       int    `json:"line"`
		Valid      *bool  `json:"valid"`
		Confidence string `json:"confidence"`
	}
	scan := func(args ...string) []jf {
		t.Helper()
		r := run(t, input, append([]string{"scan", "stdin", "-f", "json"}, args...)...)
		var fs []jf
		if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		return fs
	}
	lines := func(fs []jf) map[int]jf {
		m := map[int]jf{}
		for _, f := range fs {
			m[f.Line] = f
		}
		return m
	}
	// Default (medium): the bad-checksum token is not reported (not even
	// by a generic rule); the valid one is, with high confidence; the weak
	// generic password is below the default.
	got := lines(scan())
	if _, ok := got[1]; ok {
		t.Errorf("invalid checksum reported by default: %+v", got[1])
	}
	if _, ok := got[2]; ok || got[3].RuleID != "github-pat" || got[3].Confidence != "high" {
		t.Errorf("default findings: %+v", got)
	}
	// --min-confidence low adds the weak password, marked low.
	got = lines(scan("--min-confidence", "low"))
	if got[2].RuleID != "generic-password-assignment" || got[2].Confidence != "low" {
		t.Errorf("--min-confidence low: %+v", got)
	}
	// --report-invalid shows it, marked invalid.
	got = lines(scan("--report-invalid"))
	if f, ok := got[1]; !ok || f.RuleID != "github-pat" || f.Valid == nil || *f.Valid {
		t.Errorf("--report-invalid: %+v", got)
	}
	// --min-confidence drops the generic finding.
	got = lines(scan("--min-confidence", "medium"))
	if _, ok := got[2]; ok || got[3].RuleID != "github-pat" {
		t.Errorf("--min-confidence medium: %+v", got)
	}
	got = lines(scan("--min-confidence", "high"))
	if len(got) != 1 || got[3].RuleID != "github-pat" {
		t.Errorf("--min-confidence high: %+v", got)
	}
}

func TestEmptyFileAndDecodedInDir(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "empty.txt"), "")
	tok := ghToken(22)
	enc := base64.StdEncoding.EncodeToString([]byte(tok))
	write(t, filepath.Join(dir, "secret.yaml"), "apiVersion: v1\nkind: Secret\ndata:\n  token: "+enc+"\n")
	r := run(t, "", "scan", "dir", "-f", "json", dir)
	var fs []struct {
		RuleID  string `json:"rule_id"`
		Line    int    `json:"line"`
		Decoded string `json:"decoded"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatal(err)
	}
	if r.code != ExitFindings || len(fs) != 1 || fs[0].Decoded != "base64" || fs[0].Line != 4 {
		t.Fatalf("exit %d findings %+v", r.code, fs)
	}
}

// Two secrets on one line: neither finding's matched text may show the
// other's secret, in any format.
func TestRedactionAcrossFindingsOnOneLine(t *testing.T) {
	tok := ghToken(23)
	aws := "AKIAZ7VRSQ5TNQLJ4MXK"
	in := "GITHUB_TOKEN=" + tok + " AWS_ACCESS_KEY_ID=" + aws + "\n"
	for _, f := range []string{"json", "jsonl", "csv", "text", "sarif", "github"} {
		r := run(t, in, "scan", "stdin", "-f", f)
		if r.code != ExitFindings {
			t.Fatalf("%s: exit %d %s", f, r.code, r.stderr)
		}
		for _, s := range []string{tok, tok[4:]} {
			if strings.Contains(r.stdout, s) {
				t.Errorf("%s output holds %q", f, s)
			}
		}
		// The AWS key id is an identifier: shown in full only as
		// meta.access_key_id, never in the matched text of the token.
		if n, ids := strings.Count(r.stdout, aws[4:]), strings.Count(r.stdout, "access_key_id"); n > ids {
			t.Errorf("%s output holds the key id %d times, only %d as access_key_id", f, n, ids)
		}
	}
}
