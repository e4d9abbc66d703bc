package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/rules"
)

// A realistic gitleaks v8 config, exercising every part of the schema the
// converter reads.
const gitleaksConfig = `title = "acme gitleaks config"

[extend]
useDefault = true
disabledRules = ["slack-webhook-url", "generic-api-key"]

[[rules]]
id = "acme-internal-token"
description = "ACME internal API token"
regex = '''\b(acme_[a-z0-9]{32})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]
tags = ["internal", "acme"]

    [[rules.allowlists]]
    description = "ACME test tokens"
    regexes = ['''^acme_0{8}''']

    [[rules.allowlists]]
    regexTarget = "line"
    regexes = ['''(?i)example''']

    [[rules.allowlists]]
    condition = "AND"
    paths = ['''^docs/''']
    stopwords = ["sample"]

[[rules]]
id = "legacy-key"
description = "Legacy key without keywords"
regex = '''(?i)LEGACYKEY-[A-F0-9]{24}'''

[[rules]]
id = "pkcs12-file"
description = "PKCS#12 file"
path = '''(?i)\.p(?:12|fx)$'''

[[rules]]
id = "github-pat"
[rules.allowlist]
stopwords = ["fixture"]

[allowlist]
description = "global allow lists"
paths = ['''(^|/)fixtures/''', '''\.lock$''']
stopwords = ["dummy"]

[[allowlists]]
description = "old release"
commits = ["0123456789abcdef0123456789abcdef01234567"]
`

func TestConvertGitleaks(t *testing.T) {
	imp, err := ConvertGitleaks("gitleaks.toml", []byte(gitleaksConfig))
	if err != nil {
		t.Fatal(err)
	}
	c := imp.Config
	if imp.Title != "acme gitleaks config" || c.Extends != "builtin" {
		t.Fatalf("title %q extends %q", imp.Title, c.Extends)
	}
	if !slices.Equal(c.Disable, []string{"slack-webhook-url"}) {
		t.Errorf("disable = %q, want only the id keytrail has", c.Disable)
	}
	ids := make([]string, len(c.Rules))
	for i, r := range c.Rules {
		ids[i] = r.ID
	}
	if !slices.Equal(ids, []string{"acme-internal-token", "legacy-key", "github-pat"}) {
		t.Fatalf("rules %q", ids)
	}
	acme := c.Rules[0]
	if acme.SecretGroup != 1 || acme.MinEntropy != 3.0 || !slices.Equal(acme.Keywords, []string{"acme_"}) ||
		!slices.Equal(acme.Tags, []string{"internal", "acme"}) || acme.Source != "gitleaks.toml:7" {
		t.Errorf("acme rule %+v", acme)
	}
	if !slices.Equal(acme.Allowlist.Regexes, []string{`^acme_0{8}`}) || !slices.Equal(acme.Allowlist.LineRegexes, []string{`(?i)example`}) {
		t.Errorf("acme allowlist %+v", acme.Allowlist)
	}
	if len(acme.Allowlist.Paths)+len(acme.Allowlist.Stopwords) != 0 {
		t.Errorf("AND allowlist over paths and stopwords must be skipped, not widened: %+v", acme.Allowlist)
	}
	if got := c.Rules[1].Keywords; !slices.Equal(got, []string{"legacykey-"}) {
		t.Errorf("derived keywords %q", got)
	}
	// An id-and-allowlist rule adds to the built-in rule of that id.
	gh := c.Rules[2]
	if gh.Regex == "" || len(gh.Examples) == 0 || !slices.Contains(gh.Allowlist.Stopwords, "fixture") {
		t.Errorf("github-pat override %+v", gh)
	}
	if !slices.Equal(c.Allowlist.Paths, []string{`re:(^|/)fixtures/`, `re:\.lock$`}) || !slices.Equal(c.Allowlist.Stopwords, []string{"dummy"}) {
		t.Errorf("global allowlist %+v", c.Allowlist)
	}
	for _, want := range []string{
		`"generic-api-key"`,
		`rule "pkcs12-file" (gitleaks.toml:34): rules that match only file paths`,
		`condition = "AND" over paths and stopwords`,
		`commit allowlists are not supported`,
		`derived ["legacykey-"]`,
	} {
		if !strings.Contains(strings.Join(imp.Warnings, "\n"), want) {
			t.Errorf("no warning containing %q in:\n%s", want, strings.Join(imp.Warnings, "\n"))
		}
	}
}

// The written TOML loads back as a keytrail config equal to the converted
// one, and Load accepts the gitleaks file directly with the same result.
func TestGitleaksRoundTripAndLoad(t *testing.T) {
	dir := t.TempDir()
	gl := filepath.Join(dir, ".gitleaks.toml")
	if err := os.WriteFile(gl, []byte(gitleaksConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	imp, err := ImportGitleaks(gl)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := imp.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "keytrail.toml")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if IsGitleaks(buf.Bytes()) {
		t.Fatal("converted output detected as a gitleaks config")
	}
	ours, err := Load(out)
	if err != nil {
		t.Fatalf("loading converted config: %v\n%s", err, buf.String())
	}
	direct, err := Load(gl)
	if err != nil {
		t.Fatal(err)
	}
	if len(direct.Warnings) == 0 || len(ours.Warnings) != 0 {
		t.Errorf("warnings: direct %d, converted %d", len(direct.Warnings), len(ours.Warnings))
	}
	for _, c := range []*Config{ours, direct} {
		if c.Extends != imp.Config.Extends || !slices.Equal(c.Disable, imp.Config.Disable) || len(c.Rules) != len(imp.Config.Rules) {
			t.Fatalf("loaded %+v, converted %+v", c, imp.Config)
		}
		for i, r := range c.Rules {
			w := imp.Config.Rules[i]
			if r.ID != w.ID || r.Regex != w.Regex || r.SecretGroup != w.SecretGroup || r.MinEntropy != w.MinEntropy ||
				!slices.Equal(r.Keywords, w.Keywords) || !slices.Equal(r.Examples, w.Examples) ||
				!slices.Equal(r.Allowlist.Regexes, w.Allowlist.Regexes) || !slices.Equal(r.Allowlist.LineRegexes, w.Allowlist.LineRegexes) ||
				!slices.Equal(r.Allowlist.Stopwords, w.Allowlist.Stopwords) {
				t.Errorf("rule %d: loaded %+v\nconverted %+v", i, r, w)
			}
		}
		if _, err := c.RuleSet(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGitleaksExtendPath(t *testing.T) {
	dir := t.TempDir()
	base := `title = "base"
[extend]
useDefault = true
[[rules]]
id = "base-rule"
regex = '''BASE-[0-9]{10}'''
keywords = ["base-"]
[[rules]]
id = "dropped-rule"
regex = '''DROP-[0-9]{10}'''
keywords = ["drop-"]
[allowlist]
paths = ['''vendor/''']
`
	top := `[extend]
path = "base.toml"
disabledRules = ["dropped-rule", "github-oauth"]
[[rules]]
id = "base-rule"
[[rules.allowlists]]
stopwords = ["test"]
[[allowlists]]
targetRules = ["github-pat"]
regexTarget = "match"
regexes = ['''ghp_0+''']
`
	for name, s := range map[string]string{"base.toml": base, "top.toml": top} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	imp, err := ImportGitleaks(filepath.Join(dir, "top.toml"))
	if err != nil {
		t.Fatal(err)
	}
	c := imp.Config
	if c.Extends != "builtin" || !slices.Equal(c.Disable, []string{"github-oauth"}) {
		t.Fatalf("extends %q disable %q", c.Extends, c.Disable)
	}
	if len(c.Rules) != 2 || c.Rules[0].ID != "base-rule" || c.Rules[1].ID != "github-pat" {
		t.Fatalf("rules %+v", c.Rules)
	}
	if !slices.Equal(c.Rules[0].Allowlist.Stopwords, []string{"test"}) || c.Rules[0].Regex == "" {
		t.Errorf("base-rule %+v", c.Rules[0])
	}
	if !slices.Equal(c.Rules[1].Allowlist.LineRegexes, []string{"ghp_0+"}) {
		t.Errorf("targetRules allowlist %+v", c.Rules[1].Allowlist)
	}
	if !slices.Equal(c.Allowlist.Paths, []string{"re:vendor/"}) {
		t.Errorf("base global allowlist %+v", c.Allowlist)
	}
}

func TestGitleaksErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct {
		name, toml string
		want       []string
	}{
		{"syntax", "title = \"x\"\n[[rules]]\nid = 'a\n", []string{"bad.toml", "line 3"}},
		{"type", "title = \"x\"\n\n[[rules]]\nid = 'a'\nregex = 'a+b'\nentropy = 'high'\n", []string{"bad.toml", "line 6", "rules.entropy"}},
		{"regex", "title = \"x\"\n\n[[rules]]\nid = 'a'\nregex = '(abc'\nkeywords = ['abc']\n", []string{"bad.toml:3", `rule "a"`, "field regex"}},
		{"secretGroup", "[[rules]]\nid = 'a'\nregex = 'abc(d)'\nsecretGroup = 2\n", []string{"bad.toml:1", "field secretGroup"}},
		{"entropy", "[[rules]]\nid = 'a'\nregex = 'abc'\nentropy = 9.0\n", []string{"bad.toml:1", "field entropy"}},
		{"missing id", "title='x'\n[[rules]]\nregex = 'abc'\n", []string{"bad.toml:2", "rules[0]", "field id"}},
		{"no regex", "title='x'\n[[rules]]\nid = 'a'\n", []string{"bad.toml:2", `rule "a"`, "field regex"}},
		{"keywords", "[[rules]]\nid = 'ok'\nregex = 'abcd'\n[[rules]]\nid = 'opaque'\nregex = '[a-z]{32}'\n", []string{"bad.toml:4", `rule "opaque"`, "field keywords"}},
		{"regexTarget", "[[rules]]\nid = 'a'\nregex = 'abcd'\n[rules.allowlist]\nregexTarget = 'file'\nregexes = ['x']\n", []string{"bad.toml", `rule "a"`, "field regexTarget"}},
		{"allowlist regex", "title='x'\n[allowlist]\nregexes = ['(x']\n", []string{"bad.toml", "allowlist", "field regexes[0]"}},
		{"global condition", "title='x'\n[[allowlists]]\ncondition = 'XOR'\npaths = ['x']\n", []string{"bad.toml:2", "allowlists[0]", "field condition"}},
		{"duplicate", "[[rules]]\nid = 'a'\nregex = 'abcd'\n[[rules]]\nid = 'a'\nregex = 'efgh'\n", []string{"bad.toml:4", "defined twice", "bad.toml:1"}},
		{"extend path", "[extend]\npath = 'nope.toml'\n", []string{"bad.toml", "field extend.path"}},
		{"keytrail config", "extends = 'builtin'\n[[rule]]\nid = 'a'\n", []string{"bad.toml", "field rule", "not a gitleaks one"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.toml")
			if err := os.WriteFile(p, []byte(tc.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			if gl := IsGitleaks([]byte(tc.toml)); gl != (tc.name != "syntax" && tc.name != "keytrail config") {
				t.Fatalf("IsGitleaks = %v", gl)
			}
			_, err := ImportGitleaks(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.name == "syntax" || tc.name == "keytrail config" {
				return
			}
			// Load reports the same through --config.
			if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "bad.toml") {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

func TestGitleaksAllowlistOnlyWarnsNoRules(t *testing.T) {
	imp, err := ConvertGitleaks("g.toml", []byte("[allowlist]\npaths = ['''vendor/''']\n"))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Config.Extends != "none" || len(imp.Warnings) != 1 || !strings.Contains(imp.Warnings[0], "detects nothing") {
		t.Fatalf("extends %q warnings %q", imp.Config.Extends, imp.Warnings)
	}
}

func TestIsGitleaks(t *testing.T) {
	for s, want := range map[string]bool{
		"title = 'x'\n":                                 true,
		"[extend]\nuseDefault = true\n":                 true,
		"[[rules]]\nid='a'\nregex='b'\n":                true,
		"[[allowlists]]\npaths=['x']\n":                 true,
		"[allowlist]\nregexTarget='line'\n":             true,
		"[allowlist]\npaths=['x']\n":                    false,
		"extends = 'builtin'\n[[rule]]\nid='a'\n":       false,
		"disable = ['github-pat']\n":                    false,
		"not toml [[[":                                  false,
		"[[rule]]\nid='a'\n[[rules]]\nid='b'\n":         false,
		"extends = 'none'\n[allowlist]\nstopwords=[]\n": false,
	} {
		if got := IsGitleaks([]byte(s)); got != want {
			t.Errorf("IsGitleaks(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestDeriveKeywords(t *testing.T) {
	for re, want := range map[string][]string{
		`(?i)LEGACYKEY-[A-F0-9]{24}`:                  {"legacykey-"},
		`\b(ghp_[A-Za-z0-9]{36})\b`:                   {"ghp_"},
		`(?:xoxb|xoxp)-[0-9]{10,13}-[a-zA-Z0-9-]*`:    {"xox"}, // the parser factors the common prefix
		`(?:sk_live|rk_test)_[0-9a-z]{24}`:            {"sk_live", "rk_test"},
		`(?i)(?:api|secret)_key\s*=\s*([a-z0-9]{32})`: {"_key"},
		`[a-z]{32}`:                   nil,
		`ab[0-9]+`:                    nil, // too short
		`(?:foo)?[0-9]{8}`:            nil, // optional
		`(?:sk-live|pk)_[0-9a-z]{24}`: nil, // one branch too short
		`(`:                           nil,
	} {
		if got := DeriveKeywords(re); !slices.Equal(got, want) {
			t.Errorf("DeriveKeywords(%q) = %q, want %q", re, got, want)
		}
	}
}

func TestTOMLStringQuoting(t *testing.T) {
	for _, s := range []string{`plain`, `it's`, "tab\there", "new\nline", `back\slash "q"`, "ctl\x01\x7f", `'''`, ""} {
		var c struct {
			V string `toml:"v"`
		}
		doc := "v = " + tomlString(s) + "\n"
		if err := decodeForTest(doc, &c); err != nil || c.V != s {
			t.Errorf("%q -> %s -> %q (%v)", s, doc, c.V, err)
		}
	}
}

func decodeForTest(doc string, v any) error {
	_, err := rules.DecodeTOML([]byte(doc), v)
	return err
}
