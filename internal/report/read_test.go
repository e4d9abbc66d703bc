package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/scanner"
)

func TestReadFindingsRoundTrip(t *testing.T) {
	fs := []scanner.Finding{finding("github-pat", "critical", "a.env", 3, fakePAT), finding("aws-access-key-id", "high", "b.env", 1, fakeAKI)}
	for _, format := range []string{"json", "jsonl"} {
		var buf bytes.Buffer
		if err := Write(&buf, format, fs, Options{}); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFindings("r."+format, &buf)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if len(got) != 2 || got[0].RuleID != "github-pat" || got[1].File != "b.env" || got[0].SecretSHA256 != scanner.SecretSHA256(fakePAT) {
			t.Errorf("%s: read back %+v", format, got)
		}
	}
	// An empty scan is an empty array, not an error.
	if got, err := ReadFindings("empty.json", strings.NewReader("[]\n")); err != nil || len(got) != 0 {
		t.Errorf("empty array: %v %v", got, err)
	}
	if _, err := ReadFindings("two.json", strings.NewReader("[] []")); err == nil || !strings.Contains(err.Error(), "two.json:1:4") {
		t.Errorf("trailing data: %v", err)
	}
}

// FuzzFindings feeds arbitrary bytes to the --findings reader: it must
// return findings or an error naming the input, never panic.
func FuzzFindings(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, "json", []scanner.Finding{finding("github-pat", "critical", "a.env", 3, fakePAT)}, Options{})
	f.Add(buf.Bytes())
	buf.Reset()
	Write(&buf, "jsonl", []scanner.Finding{finding("aws-access-key-id", "high", "b.env", 1, fakeAKI)}, Options{})
	f.Add(buf.Bytes())
	f.Add([]byte(`[{"rule_id":"x","date":"2026-01-01T00:00:00Z","meta":{"paired_with":"y"},"locations":[{"file":"f","line":1}]}]`))
	f.Add([]byte("[\n{\"rule_id\": \"x\",\n"))
	f.Add([]byte("\ufeff  {\"rule_id\":\"a\"}\n{\"rule_id\":\"b\"}"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := ReadFindings("fuzz.json", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		for _, f := range fs {
			if f.RuleID == "" {
				t.Fatal("finding without rule_id accepted")
			}
		}
	})
}
