package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/scanner"
)

// TestGitHubFormat checks the workflow commands --format github prints:
// one ::error per finding, properties escaped per the Actions toolkit
// (so a file name with ',' or ':' cannot break or inject a property), and
// the secret redacted.
func TestGitHubFormat(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		wantFile string
	}{
		{"plain", "src/app.go", "file=src/app.go,"},
		{"comma and colon", "a,b:c.env", "file=a%2Cb%3Ac.env,"},
		{"percent", "100%.txt", "file=100%25.txt,"},
		{"newline injection", "x\n::warning file=evil::y", "file=x%0A%3A%3Awarning file=evil%3A%3Ay,"},
		{"carriage return", "a\rb", "file=a%0Db,"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := finding("github-pat", "critical", tc.file, 12, fakePAT)
			f.Column, f.EndColumn = 8, 48
			var buf bytes.Buffer
			if err := Write(&buf, "github", []scanner.Finding{f}, Options{}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("want one command line, got %d:\n%s", len(lines), out)
			}
			line := lines[0]
			if !strings.HasPrefix(line, "::error "+tc.wantFile) {
				t.Errorf("got %q, want prefix %q", line, "::error "+tc.wantFile)
			}
			for _, want := range []string{"line=12,", "col=8,", "endLine=12,", "endColumn=48,", "title=Leaked secret%3A github-pat::", f.Fingerprint} {
				if !strings.Contains(line, want) {
					t.Errorf("%q lacks %q", line, want)
				}
			}
			// The message part follows the second "::"; properties never
			// contain a raw "::" once escaped.
			props, msg, ok := strings.Cut(strings.TrimPrefix(line, "::error "), "::")
			if !ok || strings.Contains(msg, "\n") || !strings.Contains(msg, "github-pat: Desc of github-pat") {
				t.Errorf("bad message split: props %q msg %q", props, msg)
			}
			if strings.Contains(out, fakePAT) || strings.Contains(out, fakePAT[4:]) {
				t.Errorf("secret leaked: %s", out)
			}
			if !strings.Contains(msg, "ghp_…") {
				t.Errorf("redacted hint missing: %q", msg)
			}
		})
	}
}

func TestGitHubFormatMessageEscaping(t *testing.T) {
	f := finding("r", "high", "f.txt", 1, "s3cr3tvalue!")
	f.Description = "50% bad\nsecond line"
	var buf bytes.Buffer
	if err := Write(&buf, "github", []scanner.Finding{f}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "50%25 bad%0Asecond line") {
		t.Errorf("message not escaped: %q", out)
	}
	if strings.Contains(out, "s3cr3tvalue!") {
		t.Errorf("secret leaked: %q", out)
	}
}

func TestGitHubFormatEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "github", nil, Options{}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("clean scan printed %q", buf.String())
	}
}
