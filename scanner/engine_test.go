package scanner

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"runtime"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/rules"
)

const testRules = `
[[rule]]
id = "test-token"
description = "test token"
keywords = ["tkn_"]
regex = '''\b(tkn_[0-9A-Za-z]{32})\b'''
examples = ["tkn_0123456789abcdefABCDEF0123456789"]
negative_examples = ["x"]

[[rule]]
id = "test-generic"
description = "generic"
generic = true
keywords = ["secret"]
regex = '''secret\s*=\s*"([^"]{8,})"'''
examples = ['secret = "abcdefgh12"']
negative_examples = ["x"]
`

// fakeToken returns a deterministic token matching test-token.
func fakeToken(r *rand.Rand) string {
	const a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 32)
	for i := range b {
		b[i] = a[r.Intn(len(a))]
	}
	return "tkn_" + string(b)
}

func testEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	rs, err := rules.Parse("test.toml", []byte(testRules))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.NewSet(rs, rules.DefaultValidators())
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(set, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func scanString(t *testing.T, e *Engine, s string) []Finding {
	t.Helper()
	fs, err := e.ScanReader(context.Background(), "f.txt", strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// Tokens placed at every offset around window boundaries are each found
// exactly once, on the right line and column.
func TestWindowBoundaries(t *testing.T) {
	e := testEngine(t, Options{WindowSize: 4096, Overlap: 512})
	r := rand.New(rand.NewSource(1))
	for shift := 0; shift < 80; shift++ {
		var b strings.Builder
		b.WriteString(strings.Repeat("x", shift) + "\n")
		type want struct {
			tok       string
			line, col int
		}
		var wants []want
		line := 2
		for b.Len() < 40000 {
			pad := strings.Repeat("y", r.Intn(200))
			tok := fakeToken(r)
			wants = append(wants, want{tok, line, len(pad) + 2})
			b.WriteString(pad + " " + tok + " z\n")
			line++
		}
		fs := scanString(t, e, b.String())
		if len(fs) != len(wants) {
			t.Fatalf("shift %d: %d findings, want %d", shift, len(fs), len(wants))
		}
		for i, f := range fs {
			w := wants[i]
			if f.Secret != w.tok || f.Line != w.line || f.Column != w.col {
				t.Fatalf("shift %d finding %d: got %s %d:%d want %s %d:%d", shift, i, f.Secret, f.Line, f.Column, w.tok, w.line, w.col)
			}
		}
	}
}

func TestLineNumbers(t *testing.T) {
	e := testEngine(t, Options{})
	r := rand.New(rand.NewSource(2))
	tok := fakeToken(r)
	cases := []struct {
		name      string
		text      string
		line, col int
	}{
		{"lf", "a\nb\n  " + tok + "\n", 3, 3},
		{"crlf", "a\r\nb\r\n  " + tok + "\r\n", 3, 3},
		{"first line", tok, 1, 1},
		{"utf8 before", "héllo wörld " + tok, 1, 13},
		{"invalid utf8", "\xff\xfe\xfd " + tok + " \xc3", 1, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := scanString(t, e, c.text)
			if len(fs) != 1 {
				t.Fatalf("%d findings", len(fs))
			}
			f := fs[0]
			if f.Line != c.line || f.Column != c.col || f.EndLine != c.line || f.EndColumn != c.col+len(tok)-1 {
				t.Fatalf("got %d:%d-%d:%d want %d:%d", f.Line, f.Column, f.EndLine, f.EndColumn, c.line, c.col)
			}
		})
	}
}

func TestEmptyAndBinary(t *testing.T) {
	e := testEngine(t, Options{})
	if fs := scanString(t, e, ""); len(fs) != 0 {
		t.Fatalf("empty input: %v", fs)
	}
	tok := fakeToken(rand.New(rand.NewSource(3)))
	_, err := e.ScanReader(context.Background(), "b", strings.NewReader("\x00\x01"+tok))
	if err != ErrBinary {
		t.Fatalf("binary input: err %v, want ErrBinary", err)
	}
}

// A provider rule and a generic rule matching the same secret give one
// finding, the provider's.
func TestSpecificBeatsGeneric(t *testing.T) {
	e := testEngine(t, Options{})
	tok := fakeToken(rand.New(rand.NewSource(4)))
	fs := scanString(t, e, `secret = "`+tok+`"`)
	if len(fs) != 1 || fs[0].RuleID != "test-token" {
		t.Fatalf("got %+v", fs)
	}
	fs = scanString(t, e, `secret = "hunter2hunter2"`)
	if len(fs) != 1 || fs[0].RuleID != "test-generic" || fs[0].Confidence != rules.ConfidenceLow {
		t.Fatalf("got %+v", fs)
	}
}

func TestInlineAllow(t *testing.T) {
	e := testEngine(t, Options{})
	tok := fakeToken(rand.New(rand.NewSource(5)))
	for _, marker := range []string{"# keytrail:allow", "// gitleaks:allow"} {
		if fs := scanString(t, e, tok+" "+marker+"\n"); len(fs) != 0 {
			t.Fatalf("%s: not suppressed", marker)
		}
	}
	if fs := scanString(t, e, "# keytrail:allow\n"+tok+"\n"); len(fs) != 1 {
		t.Fatal("marker on another line must not suppress")
	}
}

func TestFingerprintStableUnderLineMoves(t *testing.T) {
	e := testEngine(t, Options{})
	tok := fakeToken(rand.New(rand.NewSource(6)))
	a := scanString(t, e, tok)
	b := scanString(t, e, "new line\n\n\n   "+tok)
	if a[0].Fingerprint != b[0].Fingerprint || a[0].Line == b[0].Line {
		t.Fatalf("fingerprints %s %s", a[0].Fingerprint, b[0].Fingerprint)
	}
	if Fingerprint("r", "p1", tok) == Fingerprint("r", "p2", tok) {
		t.Fatal("fingerprint ignores the path")
	}
}

func TestRedaction(t *testing.T) {
	cases := []struct{ in, want string }{
		{"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", "ghp_…"},
		{"AKIAZ7VRSQ5TNQLJ4MXK", "AKIA…"},
		{"hunter2hunter2", "hunt…"},
		{"abc", "…"},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// The hash is computed before redaction, so a redacted finding keeps
	// the hash of the real secret.
	if got := (Finding{Secret: "abc"}).Redacted().SecretSHA256; got != "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=" {
		t.Errorf("secret_sha256 of \"abc\" = %q, want the SHA-256 test vector in base64", got)
	}
	f := Finding{Secret: "hunter2hunter2", Match: `pw = "hunter2hunter2"`, Message: "add pw hunter2hunter2"}.Redacted()
	if strings.Contains(f.Match, "hunter2hunter2") || strings.Contains(f.Secret, "hunter2hunter2") || strings.Contains(f.Message, "hunter2hunter2") {
		t.Fatalf("secret left in %+v", f)
	}
}

// infiniteLine streams n bytes of one line with a token in the middle.
type infiniteLine struct {
	n, pos int
	tok    string
	at     int
}

func (r *infiniteLine) Read(p []byte) (int, error) {
	if r.pos >= r.n {
		return 0, io.EOF
	}
	i := 0
	for ; i < len(p) && r.pos < r.n; i++ {
		switch {
		case r.pos >= r.at && r.pos < r.at+len(r.tok):
			p[i] = r.tok[r.pos-r.at]
		case r.pos%97 == 0 || r.pos == r.at+len(r.tok):
			p[i] = ' '
		default:
			p[i] = 'a' + byte(r.pos%23)
		}
		r.pos++
	}
	return i, nil
}

// A 100 MB file that is a single line is scanned in bounded memory and
// the token in it is found with the right column.
func TestHugeSingleLineBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB stream")
	}
	e := testEngine(t, Options{})
	tok := fakeToken(rand.New(rand.NewSource(7)))
	at := 77_777_777 - 77_777_777%97 + 1
	src := &infiniteLine{n: 100 << 20, tok: tok, at: at}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fs, err := e.ScanReader(context.Background(), "big", src)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Line != 1 || fs[0].Column != at+1 {
		t.Fatalf("got %+v", fs)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Fatalf("allocated %d MB to stream 100 MB; memory is not bounded", alloc>>20)
	}
	if len(fs[0].Match) > 2048 {
		t.Fatalf("match context is %d bytes; should be bounded", len(fs[0].Match))
	}
}

func TestSizeLimit(t *testing.T) {
	e := testEngine(t, Options{MaxFileSize: 10})
	_, err := e.ScanReader(context.Background(), "x", bytes.NewReader(make([]byte, 2<<20)))
	if _, ok := err.(*SizeLimitError); !ok {
		t.Fatalf("err %v, want SizeLimitError", err)
	}
}

// Generic rules skip lock files and vendored code; provider rules do not.
func TestNoisyPaths(t *testing.T) {
	tok := fakeToken(rand.New(rand.NewSource(9)))
	text := `secret = "hunter2hunter2"` + "\n" + tok + "\n"
	cases := []struct {
		name, path string
		opts       Options
		want       []string
	}{
		{"ordinary file", "src/app.py", Options{}, []string{"test-generic", "test-token"}},
		{"lock file", "web/yarn.lock", Options{}, []string{"test-token"}},
		{"vendored", "/abs/repo/vendor/x/y.go", Options{}, []string{"test-token"}},
		{"minified", "static/app.min.js", Options{}, []string{"test-token"}},
		{"filter off", "web/yarn.lock", Options{NoisyPaths: []string{}}, []string{"test-generic", "test-token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := testEngine(t, c.opts)
			fs, err := e.ScanReader(context.Background(), c.path, strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.RuleID)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("got %v want %v", got, c.want)
			}
		})
	}
}

func TestRuleAllowlistPathsAndLines(t *testing.T) {
	rs, err := rules.Parse("t.toml", []byte(`
[[rule]]
id = "t"
description = "t"
keywords = ["tkn_"]
regex = '''\b(tkn_[0-9A-Za-z]{32})\b'''
[rule.allowlist]
paths = ["**/fixtures/**"]
line_regexes = ['''fake-for-tests''']
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.NewSet(rs, rules.DefaultValidators())
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := fakeToken(rand.New(rand.NewSource(10)))
	cases := []struct {
		path, text string
		want       int
	}{
		{"src/a.go", "x := \"" + tok + "\"", 1},
		{"src/fixtures/a.go", "x := \"" + tok + "\"", 0},
		{"src/a.go", "x := \"" + tok + "\" // fake-for-tests", 0},
	}
	for _, c := range cases {
		fs, err := e.ScanReader(context.Background(), c.path, strings.NewReader(c.text))
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != c.want {
			t.Errorf("%s %q: %d findings, want %d", c.path, c.text, len(fs), c.want)
		}
	}
}

// builtinEngine is an engine with the built-in rules.
func builtinEngine(t testing.TB) *Engine {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPairedFindings(t *testing.T) {
	e := builtinEngine(t)
	text := "aws_access_key_id = AKIAZ7VRSQ5TNQLJ4MXK\naws_secret_access_key = 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\n"
	fs, err := e.ScanReader(context.Background(), "creds", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("%d findings: %+v", len(fs), fs)
	}
	if fs[0].Meta["paired_with"] != fs[1].Fingerprint || fs[1].Meta["paired_with"] != fs[0].Fingerprint {
		t.Fatalf("not paired: %v / %v", fs[0].Meta, fs[1].Meta)
	}
	if fs[0].Meta["account_id"] == "" {
		t.Fatal("key id lost its decoded account id")
	}
	if fs[0].Meta["access_key_id"] != "AKIAZ7VRSQ5TNQLJ4MXK" || fs[0].Redacted().Meta["access_key_id"] != "AKIAZ7VRSQ5TNQLJ4MXK" {
		t.Fatalf("key id finding lacks meta.access_key_id in full: %v", fs[0].Meta)
	}
	for _, f := range fs {
		if want := SecretSHA256(f.Secret); f.SecretSHA256 != want || f.Redacted().SecretSHA256 != want {
			t.Fatalf("%s: secret_sha256 %q (redacted %q), want %q", f.RuleID, f.SecretSHA256, f.Redacted().SecretSHA256, want)
		}
	}
	far := "aws_access_key_id = AKIAZ7VRSQ5TNQLJ4MXK\n" + strings.Repeat("\n", 20) + "aws_secret_access_key = 9tqXw2Z4cL+u7Yb1Rk0FvJ8Hn3PsQm6GdE5aTiWo\n"
	fs, _ = e.ScanReader(context.Background(), "creds", strings.NewReader(far))
	if fs[0].Meta["paired_with"] != "" {
		t.Fatal("paired across 20 lines")
	}
}

func TestRedactAll(t *testing.T) {
	a, b := "AKIAZ7VRSQ5TNQLJ4MXK", "9tqXw2Z4cL+u7Yb1Rk0FvJ8Hn3PsQm6GdE5aTiWo"
	line := "id=" + a + " secret=" + b
	enc := "dG9rZW49dGtuXzAxMjM0NTY3ODlhYmNkZWZBQkNERUYwMTIzNDU2Nzg5"
	msgTok := "tkn_0123456789abcdefABCDEF0123456789"
	fs := RedactAll([]Finding{
		{File: "c.env", Line: 1, EndLine: 1, Secret: a, Match: line, Message: "add " + msgTok},
		{File: "c.env", Line: 1, EndLine: 1, Secret: b, Match: line},
		{File: "k.yaml", Line: 3, EndLine: 3, Secret: "tkn_0123456789abcdefABCDEF0123456789", Match: "  token: " + enc, Decoded: "base64"},
		{File: MessageFile, Line: 1, EndLine: 1, Secret: msgTok, Match: "add " + msgTok},
	})
	for _, f := range fs {
		for _, s := range []string{a, b, enc, msgTok} {
			if strings.Contains(f.Match, s) || strings.Contains(f.Message, s) || f.Secret == s {
				t.Errorf("%s: %q left in %+v", f.File, s, f)
			}
		}
	}
	if fs[0].Match != "id=AKIA… secret=9tqX…" {
		t.Errorf("match %q", fs[0].Match)
	}
}

// A finding records the lines its whole match spans, context included:
// a history source carries it to a later version only if they are kept.
func TestMatchLines(t *testing.T) {
	e := builtinEngine(t)
	r := rand.New(rand.NewSource(3))
	tok := fakeToken(r)
	cases := []struct {
		name             string
		text             string
		rule             string
		line, first, end int
	}{
		{"netrc over three lines", "# ci\nmachine git.example.com\n  login deploy\n  password Qm7xVt2LpZ9rKw4s\nnext\n", "netrc-password", 4, 2, 4},
		{"netrc on one line", "x\nmachine git.example.com login deploy password Qm7xVt2LpZ9rKw4s\n", "netrc-password", 2, 2, 2},
		{"token alone", "a\n" + tok + "\n", "", 2, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got *Finding
			for _, f := range scanString(t, e, c.text) {
				if c.rule == "" || f.RuleID == c.rule {
					got = &f
				}
			}
			if c.rule == "" {
				// the test rules' token
				fs := scanString(t, testEngine(t, Options{}), c.text)
				if len(fs) != 1 {
					t.Fatalf("%d findings", len(fs))
				}
				got = &fs[0]
			}
			if got == nil {
				t.Fatalf("no %s finding", c.rule)
			}
			if got.Line != c.line || got.MatchLine != c.first || got.MatchEndLine != c.end {
				t.Errorf("secret on line %d, match on lines %d-%d; want %d, %d-%d", got.Line, got.MatchLine, got.MatchEndLine, c.line, c.first, c.end)
			}
		})
	}
}
