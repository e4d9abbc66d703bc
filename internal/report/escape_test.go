package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/keytrail/keytrail/internal/testtools"
	"github.com/keytrail/keytrail/scanner"
)

func TestTerminalSafe(t *testing.T) {
	cases := []struct{ in, want string }{
		{"src/app.go", "src/app.go"},
		{"evil\x1b[2J\x1b[31mname.env", `evil\x1b[2J\x1b[31mname.env`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"bell\x07 nul\x00 del\x7f", `bell\x07 nul\x00 del\x7f`},
		{"c1 csi \u009b31m osc \u009d", `c1 csi \u009b31m osc \u009d`},
		{"bidi \u202eexe.txt \u2066x\u2069", `bidi \u202eexe.txt \u2066x\u2069`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"héllo wörld 😀 ключ", "héllo wörld 😀 ключ"},
		{"", ""},
	}
	for _, c := range cases {
		if got := TerminalSafe(c.in); got != c.want {
			t.Errorf("TerminalSafe(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTerminalSafeLines(t *testing.T) {
	if got, want := TerminalSafeLines("a: \x1b[2J\nb\r"), "a: \\x1b[2J\nb\\r"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCSVCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+1+1", "'+1+1"}, {"-2+3", "'-2+3"}, {"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"}, {"\r=1", "'\r=1"},
		{"src/=x.env", "src/=x.env"}, {"", ""}, {"plain", "plain"},
	}
	for _, c := range cases {
		if got := CSVCell(c.in); got != c.want {
			t.Errorf("CSVCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// hostileFindings carry attacker-chosen text in every field that comes
// from scanned content (path, matched text, commit subject, author, email)
// or from a user's config (rule id, description).
func hostileFindings() []scanner.Finding {
	names := []string{
		"evil\x1b[2J\x1b[31mname.env",
		"=cmd|' /C calc'!A0/a.env",
		"-2+3/@x.env",
		"new\nline\r\tname.env",
		"c1\u009b2Jand\u202ebidi.env",
		"bad\xff\xfeutf8.env",
		"+x/\x07\x00.env",
	}
	var fs []scanner.Finding
	for i, n := range names {
		f := finding("github-pat", "critical", n, i+1, fakePAT)
		f.Description = "=HYPERLINK(\"http://evil.test\") \x1b]0;title\x07 desc"
		f.Commit = strings.Repeat("ab", 20)
		f.Author = "@attacker \x1b[8m"
		f.Email = "-x@evil.test\x1b[0m"
		f.Message = "fix\x1b[1A\x1b[2K\r\nSigned-off-by: \u009b31m"
		f.Date = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		fs = append(fs, f)
	}
	return fs
}

// What a terminal gets from the text report: no control character but
// the newlines ending lines, no C1 or bidi control, valid UTF-8, and each
// hostile name visibly escaped.
func TestTextReportIsTerminalSafe(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Write(&buf, "text", hostileFindings(), Options{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !utf8.ValidString(out) {
			t.Fatalf("color=%v: output is not UTF-8", color)
		}
		ours := strings.NewReplacer(ansiReset, "", ansiBold, "", ansiRed, "", ansiYel, "", ansiDim, "")
		for _, r := range ours.Replace(out) {
			if r != '\n' && needsTerminalEscape(r, 1) {
				t.Fatalf("color=%v: raw %U reaches the terminal:\n%q", color, r, out)
			}
		}
		for _, want := range []string{`evil\x1b[2J\x1b[31mname.env:1:5`, `new\nline\r\tname.env:4:5`,
			`c1\u009b2Jand\u202ebidi.env`, `bad\xff\xfeutf8.env`, `author: @attacker \x1b[8m <-x@evil.test\x1b[0m>`,
			`message: fix\x1b[1A\x1b[2K\r\nSigned-off-by: \u009b31m`, `\x1b]0;title\x07 desc`} {
			if !strings.Contains(out, want) {
				t.Errorf("color=%v: output lacks %q:\n%s", color, want, out)
			}
		}
	}
}

// What a CSV reader (and so a spreadsheet) gets: the same number of
// records and fields, and no text cell that a spreadsheet would evaluate.
func TestCSVReportResistsFormulaInjection(t *testing.T) {
	fs := hostileFindings()
	var buf bytes.Buffer
	if err := Write(&buf, "csv", fs, Options{}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(fs)+1 {
		t.Fatalf("%d records for %d findings", len(recs), len(fs))
	}
	for i, rec := range recs[1:] {
		if len(rec) != len(recs[0]) {
			t.Fatalf("record %d has %d fields, header %d", i, len(rec), len(recs[0]))
		}
		for j, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("record %d column %s starts with %q: %q", i, recs[0][j], cell[0], cell)
			}
		}
		if want := CSVCell(fs[i].File); rec[4] != want {
			t.Errorf("file cell %q, want %q", rec[4], want)
		}
	}
	if got := recs[2][4]; got != "'=cmd|' /C calc'!A0/a.env" {
		t.Errorf("formula path cell = %q", got)
	}
	if got := recs[1][13]; got != "'@attacker \x1b[8m" {
		t.Errorf("author cell = %q", got)
	}
}

// JSON and JSON lines: valid JSON whose strings decode back to the
// hostile text (invalid UTF-8 becoming U+FFFD), with no raw control
// character in the bytes.
func TestJSONReportEscapes(t *testing.T) {
	fs := hostileFindings()
	for _, format := range []string{"json", "jsonl"} {
		var buf bytes.Buffer
		if err := Write(&buf, format, fs, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range buf.Bytes() {
			if c < 0x20 && c != '\n' {
				t.Fatalf("%s: raw control byte %#x in output", format, c)
			}
		}
		var got []scanner.Finding
		if format == "json" {
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		} else {
			for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				var f scanner.Finding
				if err := json.Unmarshal([]byte(line), &f); err != nil {
					t.Fatalf("%s: %v in %q", format, err, line)
				}
				got = append(got, f)
			}
		}
		if len(got) != len(fs) {
			t.Fatalf("%s: %d findings back, want %d", format, len(got), len(fs))
		}
		for i, f := range got {
			w := fs[i]
			if f.File != string([]rune(w.File)) || f.Author != w.Author || f.Email != w.Email || f.Message != w.Message || f.Description != w.Description {
				t.Errorf("%s: finding %d came back as %+v", format, i, f)
			}
		}
	}
}

// SARIF: the validator accepts the log, and each result's URI decodes
// back to the hostile path.
func TestSARIFReportEscapes(t *testing.T) {
	fs := hostileFindings()
	var buf bytes.Buffer
	infos := []RuleInfo{{ID: "github-pat", Description: "=1+1 \x1b[2J <b>*bold*</b>", Severity: "critical", Remediation: "Revoke \x1b]0;x\x07 it."}}
	if err := Write(&buf, "sarif", fs, Options{Rules: infos}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	res := log.Runs[0].Results
	if len(res) != len(fs) {
		t.Fatalf("%d results for %d findings", len(res), len(fs))
	}
	seen := map[string]bool{}
	for _, r := range res {
		u := r.Locations[0].PhysicalLocation.ArtifactLocation.URI
		p, err := url.PathUnescape(u)
		if err != nil {
			t.Fatalf("uri %q: %v", u, err)
		}
		if strings.ContainsAny(u, "\x00\x1b\n\r\t ") {
			t.Errorf("uri %q holds raw control characters", u)
		}
		seen[p] = true
	}
	for _, f := range fs {
		if !seen[f.File] {
			t.Errorf("no result URI decodes to %q (got %v)", f.File, seen)
		}
	}
	file := filepath.Join(t.TempDir(), "hostile.sarif")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, is := range testtools.ValidateSARIF(t, file) {
		t.Error(is)
	}
}
