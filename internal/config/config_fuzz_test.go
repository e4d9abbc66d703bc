package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const keytrailConfigSeed = `extends = "builtin"
disable = ["generic-api-key"]

[[rule]]
id = "acme-token"
description = "ACME token"
keywords = ["acme_"]
regex = '''\b(acme_[a-z0-9]{32})\b'''
examples = ["acme_0123456789abcdef0123456789abcdef"]

[allowlist]
paths = ["testdata/**"]
stopwords = ["example"]
`

// FuzzConfigLoad feeds arbitrary bytes to the config loader (keytrail
// and gitleaks shapes): no panic, and an error names the file.
func FuzzConfigLoad(f *testing.F) {
	for _, s := range []string{"", keytrailConfigSeed, gitleaksConfig, "extends = 1", "[[rule]]\nid=\"x\"\nregex='''('''\n",
		"[extend]\npath = \"/dev/zero\"\n", "title = \"x\"\n[extend]\npath = \"other.toml\"\n", "[policy]\nmax_age_days = -1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "fuzz.toml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, err := c.RuleSet(); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// FuzzGitleaksImport converts arbitrary gitleaks configs: no panic, and a
// successful conversion writes TOML that loads back as a keytrail config
// with the same rules.
func FuzzGitleaksImport(f *testing.F) {
	for _, s := range []string{gitleaksConfig, "title = \"t\"\n[[rules]]\nid = \"a\"\nregex = '''a(b)c'''\nsecretGroup = 2\n",
		"[[rules]]\nid = \"q\"\ndescription = \"\\\"\\u0000'''\"\nregex = '''x'''\nkeywords = [\"x\"]\n",
		"[[allowlists]]\npaths = ['''(''']\n", "[extend]\nuseDefault = true\ndisabledRules = [\"nope\"]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "gitleaks.toml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		imp, err := ImportGitleaks(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := imp.WriteTOML(&buf); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "keytrail.toml")
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(out)
		if err != nil {
			t.Fatalf("converted config does not load: %v\ninput:\n%s\noutput:\n%s", err, data, buf.String())
		}
		if len(c.Rules) != len(imp.Config.Rules) {
			t.Fatalf("%d rules written, %d loaded back", len(imp.Config.Rules), len(c.Rules))
		}
		for i, r := range c.Rules {
			if w := imp.Config.Rules[i]; r.ID != w.ID || r.Regex != w.Regex || r.Description != w.Description {
				t.Fatalf("rule %d: loaded %q %q %q, converted %q %q %q", i, r.ID, r.Regex, r.Description, w.ID, w.Regex, w.Description)
			}
		}
	})
}
