package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/scanner"
)

func TestKeysFromFindings(t *testing.T) {
	id, secret := fakeAWSPair(70)
	_, other := fakeAWSPair(72)
	tok := ghToken(71)
	d1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	scanT := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	flagT := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	mk := func(rule, provider, file string, line int, secret string, meta map[string]string) scanner.Finding {
		return scanner.Finding{RuleID: rule, Provider: provider, File: file, Line: line, Secret: secret,
			Fingerprint: scanner.Fingerprint(rule, file, secret), SecretSHA256: scanner.SecretSHA256(secret), Meta: meta}
	}
	keyID := func(file string, line int) scanner.Finding {
		return mk(ruleAWSKeyID, "AWS", file, line, id, map[string]string{"access_key_id": id})
	}
	pairUp := func(a, b *scanner.Finding) {
		a.Meta["paired_with"], b.Meta["paired_with"] = b.Fingerprint, a.Fingerprint
	}
	type want struct {
		rule, keyID, provider string
		locations             int
		pairSecret, secret    bool
		leakedAt              time.Time
		source                string
		errors                int
	}
	cases := []struct {
		name string
		fs   func() []scanner.Finding
		flag time.Time
		want []want
	}{
		{"same token in two files is one key", func() []scanner.Finding {
			return []scanner.Finding{mk("github-pat", "GitHub", "a", 1, tok, nil), mk("github-pat", "GitHub", "b", 9, tok, nil)}
		}, time.Time{}, []want{{rule: "github-pat", provider: "github", locations: 2, secret: true, leakedAt: scanT, source: audit.LeakedAtAssumed}}},
		{"a secret key joins its paired key id", func() []scanner.Finding {
			a, b := keyID("c.env", 1), mk(ruleAWSSecret, "AWS", "c.env", 2, secret, map[string]string{})
			pairUp(&a, &b)
			return []scanner.Finding{b, a}
		}, flagT, []want{{rule: ruleAWSKeyID, keyID: id, provider: "aws", locations: 2, pairSecret: true, secret: true, leakedAt: flagT, source: audit.LeakedAtFlag}}},
		{"the same secret key alone elsewhere joins that key too", func() []scanner.Finding {
			a, b := keyID("c.env", 1), mk(ruleAWSSecret, "AWS", "c.env", 2, secret, map[string]string{})
			pairUp(&a, &b)
			return []scanner.Finding{mk(ruleAWSSecret, "AWS", "notes.txt", 5, secret, nil), b, a}
		}, time.Time{}, []want{{rule: ruleAWSKeyID, keyID: id, provider: "aws", locations: 3, pairSecret: true, secret: true, leakedAt: scanT, source: audit.LeakedAtAssumed}}},
		{"a lone secret key is its own key and says why it cannot be looked up", func() []scanner.Finding {
			return []scanner.Finding{mk(ruleAWSSecret, "AWS", "x", 1, other, nil)}
		}, time.Time{}, []want{{rule: ruleAWSSecret, provider: "aws", locations: 1, secret: true, leakedAt: scanT, source: audit.LeakedAtAssumed, errors: 1}}},
		{"redacted findings: key id from meta, no secret", func() []scanner.Finding {
			a := keyID("c.env", 1).Redacted()
			return []scanner.Finding{a}
		}, time.Time{}, []want{{rule: ruleAWSKeyID, keyID: id, provider: "aws", locations: 1, leakedAt: scanT, source: audit.LeakedAtAssumed}}},
		{"the earliest commit date is the leak time, over the flag", func() []scanner.Finding {
			a, b := keyID("c.env", 1), keyID("d.env", 1)
			a.Date, a.Commit, b.Date, b.Commit = d1, "c1", d2, "c2"
			b.Locations = []scanner.Location{{File: "e.env", Line: 3, Commit: "c3"}}
			return []scanner.Finding{a, b}
		}, flagT, []want{{rule: ruleAWSKeyID, keyID: id, provider: "aws", locations: 3, secret: true, leakedAt: d2, source: audit.LeakedAtCommit}}},
		{"a provider rule names the key over a generic one", func() []scanner.Finding {
			return []scanner.Finding{mk("generic-secret", "", "a", 1, tok, nil), mk("github-pat", "GitHub", "b", 2, tok, nil)}
		}, time.Time{}, []want{{rule: "github-pat", provider: "github", locations: 2, secret: true, leakedAt: scanT, source: audit.LeakedAtAssumed}}},
		{"distinct secrets are distinct keys", func() []scanner.Finding {
			return []scanner.Finding{mk("github-pat", "GitHub", "a", 1, tok, nil), keyID("b", 1)}
		}, time.Time{}, []want{
			{rule: "github-pat", provider: "github", locations: 1, secret: true, leakedAt: scanT, source: audit.LeakedAtAssumed},
			{rule: ruleAWSKeyID, keyID: id, provider: "aws", locations: 1, secret: true, leakedAt: scanT, source: audit.LeakedAtAssumed}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := c.fs()
			keys, keyOf := keysFromFindings(fs, leakTime{flag: c.flag, scanTime: scanT})
			if len(keys) != len(c.want) {
				t.Fatalf("%d keys, want %d: %+v", len(keys), len(c.want), keys)
			}
			for _, f := range fs {
				if keyOf[f.Fingerprint] == "" {
					t.Errorf("finding %s:%d maps to no key", f.File, f.Line)
				}
			}
			for i, w := range c.want {
				k := keys[i]
				got := want{rule: k.RuleID, keyID: k.KeyID, provider: k.Provider, locations: len(k.LeakLocations),
					pairSecret: k.PairSecret != "", secret: k.Secret != "", leakedAt: k.LeakedAt, source: k.LeakedAtSource, errors: len(k.Errors)}
				if got != w {
					t.Errorf("key %d:\n got %+v\nwant %+v", i, got, w)
				}
				if k.Hint == "" || strings.Contains(k.Hint, secret) || strings.Contains(k.Hint, tok[5:]) {
					t.Errorf("key %d hint %q", i, k.Hint)
				}
				if k.PairSecret != "" && k.PairSecret != secret {
					t.Errorf("pair secret is not the secret key")
				}
			}
		})
	}
}
