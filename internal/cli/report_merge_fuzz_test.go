package cli

import "testing"

func FuzzParseReport(f *testing.F) {
	f.Add([]byte(`[{"rule_id":"github-pat","file":"a","line":1,"secret":"ghp_…","fingerprint":"ab","repository":"acme/x"}]`))
	f.Add([]byte("{\"rule_id\":\"r\",\"fingerprint\":\"x\"}\n{\"rule_id\":\"r\",\"fingerprint\":\"x\"}\n"))
	f.Add([]byte(`[`))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := parseReport("fuzz.json", data)
		if err != nil {
			return
		}
		merged := mergeFindings(append(fs, fs...))
		seen := map[string]bool{}
		for _, m := range merged {
			if m.Fingerprint != "" && seen[m.Fingerprint] {
				t.Fatalf("fingerprint %q twice after merge", m.Fingerprint)
			}
			seen[m.Fingerprint] = true
		}
		redactUnredacted(merged)
	})
}
