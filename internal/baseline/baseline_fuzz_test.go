package baseline

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/scanner"
)

// FuzzBaselineParse reads arbitrary baseline files: no panic; a file that
// parses marshals to a canonical form that parses back to the same
// entries and marshals to the same bytes.
func FuzzBaselineParse(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"findings":[]}`,
		`{"version":1,"findings":[{"fingerprint":"ab12","rule_id":"aws-access-key","path":"a/b.env","hint":"AKIA…MPLE","reason":"rotated"}]}`,
		`{"version":2}`, `{"version":1,"findings":[{"fingerprint":""}]}`, `[]`, `null`, "",
		"{\"version\":1,\"findings\":[{\"fingerprint\":\"x\",\"path\":\"evil\\u001b[2J\\ud800\xff.env\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data, "fuzz.json")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out, err := b.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		b2, err := Parse(out, "marshalled")
		if err != nil {
			t.Fatalf("marshalled baseline does not parse: %v\n%s", err, out)
		}
		for _, e := range b.Findings {
			if !b2.Contains(e.Fingerprint) {
				t.Fatalf("entry %q lost in the round trip", e.Fingerprint)
			}
		}
		out2, err := b2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("marshal not canonical:\n%s\n%s", out, out2)
		}
	})
}

// FuzzIgnoreParse reads arbitrary ignore files: no panic, and a
// fingerprint or gitleaks-style entry appended on its own line always
// suppresses its finding, whatever came before.
func FuzzIgnoreParse(f *testing.F) {
	f.Add("# comment\n\nabc123 # why\n", "aws-access-key", "a/b.env", 3, "AKIAIOSFODNN7EXAMPLE")
	f.Add("0123abcd:a.env:rule:1\r\n\t#x", "r", "dir/=cmd|calc.env", 1, "s")
	f.Add("\x00\xff\n:\n::\n", "", "", 0, "")
	f.Fuzz(func(t *testing.T, text, rule, file string, line int, secret string) {
		fd := scanner.Finding{RuleID: rule, File: file, Line: line, Secret: secret}
		fd.Fingerprint = scanner.Fingerprint(rule, file, secret)
		_ = ParseIgnore(text).Matches(fd, ".")
		if ig := ParseIgnore(text + "\n" + Fingerprint(fd, ".") + "\n"); !ig.Matches(fd, ".") {
			t.Fatalf("fingerprint entry after %q does not match", text)
		}
		entry := fmt.Sprintf("%s:%s:%d", RelPath(file, "."), rule, line)
		if strings.ContainsAny(entry, "#\n\r \t\v\f\u0085\u00a0") || strings.TrimSpace(entry) != entry {
			return // not expressible on one ignore line
		}
		if ig := ParseIgnore(text + "\n" + entry + "\n"); !ig.Matches(fd, ".") {
			t.Fatalf("entry %q after %q does not match", entry, text)
		}
	})
}
