package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// acmeToken returns a generated token in the custom format of the test
// config's rule: "acme_" + prefix + random [a-z0-9] to 32 characters.
func acmeToken(seed int64, prefix string) string {
	return "acme_" + prefix + seeded(seed, "abcdefghijklmnopqrstuvwxyz0123456789", 32-len(prefix))
}

func legacyKey(seed int64) string {
	return "LEGACYKEY-" + seeded(seed, "0123456789ABCDEF", 24)
}

// testGitleaksConfig is a realistic team config: the default rules, two
// disabled (one keytrail does not have), a custom rule with allowlists,
// a rule without keywords, a path-only rule, global path and line
// allowlists and a commit allowlist.
const testGitleaksConfig = `title = "acme secrets policy"

[extend]
useDefault = true
disabledRules = ["github-oauth", "generic-api-key"]

[[rules]]
id = "acme-internal-token"
description = "ACME internal API token"
regex = '''\b(acme_[a-z0-9]{32})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]
tags = ["internal"]

    [[rules.allowlists]]
    description = "well-known test tokens"
    regexes = ['''^acme_0{8}''']

    [[rules.allowlists]]
    stopwords = ["sandbox"]

[[rules]]
id = "acme-legacy-key"
description = "ACME legacy key"
regex = '''LEGACYKEY-[A-F0-9]{24}'''

[[rules]]
id = "keystores"
description = "Java keystores"
path = '''\.jks$'''

[allowlist]
description = "vendored fixtures"
paths = ['''(^|/)fixtures/''']

[[allowlists]]
description = "lines marked as documentation"
regexTarget = "line"
regexes = ['''#\s*fake-for-docs''']

[[allowlists]]
commits = ["4b825dc642cb6eb9a060e54bf8d69288fbee4904"]
`

type findingKey struct {
	rule, file string
	line       int
}

func findingKeys(t *testing.T, root, out string) []findingKey {
	t.Helper()
	var ks []findingKey
	for _, f := range parseJSON(t, out) {
		rel, err := filepath.Rel(root, f.File)
		if err != nil {
			rel = f.File
		}
		ks = append(ks, findingKey{f.RuleID, filepath.ToSlash(rel), f.Line})
	}
	slices.SortFunc(ks, func(a, b findingKey) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return ks
}

func TestImportGitleaksThenScan(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	gl := filepath.Join(dir, ".gitleaks.toml")
	write(t, gl, testGitleaksConfig)

	live := acmeToken(11, "")
	legacy := legacyKey(12)
	gh := ghToken(13)
	write(t, filepath.Join(repo, "app", "client.py"), "import acme\n\nclient = acme.Client(\n    "+live+")\n")
	write(t, filepath.Join(repo, "app", "tests.py"),
		"known = acme.Client("+acmeToken(14, "00000000")+")\n"+ // rule allowlist: secret regex
			"sandbox = acme.Client("+acmeToken(15, "sandbox")+")\n") // rule allowlist: stopword
	write(t, filepath.Join(repo, "docs", "setup.md"), "Call it with "+acmeToken(16, "")+" # fake-for-docs\n") // global line allowlist
	write(t, filepath.Join(repo, "fixtures", "keys.env"), "ACME="+acmeToken(17, "")+"\n"+gh+"\n")             // global path allowlist
	write(t, filepath.Join(repo, "deploy", "legacy.cfg"), "[auth]\nkey: "+legacy+"\n")
	write(t, filepath.Join(repo, "deploy", "ci.sh"), "#!/bin/sh\n"+gh+"\n") // built-in rules are extended

	out := filepath.Join(dir, "keytrail.toml")
	r := run(t, "", "config", "import-gitleaks", gl, "-o", out)
	if r.code != ExitClean {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	for _, w := range []string{`"generic-api-key"`, `rule "keystores"`, "commit allowlists", `derived ["legacykey-"]`} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("import stderr lacks warning %q:\n%s", w, r.stderr)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "[[rule]]") || !strings.Contains(string(data), "extends = 'builtin'") {
		t.Fatalf("converted config:\n%s", data)
	}

	want := []findingKey{
		{"acme-internal-token", "app/client.py", 4},
		{"acme-legacy-key", "deploy/legacy.cfg", 2},
		{"github-pat", "deploy/ci.sh", 2},
	}
	for _, cfg := range []string{out, gl} { // imported, and the gitleaks file directly
		r := run(t, "", "--config", cfg, "scan", "dir", "-f", "json", repo)
		if r.code != ExitFindings {
			t.Fatalf("--config %s: exit %d: %s", cfg, r.code, r.stderr)
		}
		if got := findingKeys(t, repo, r.stdout); !slices.Equal(got, want) {
			t.Errorf("--config %s: findings\n%v\nwant\n%v", filepath.Base(cfg), got, want)
		}
		if strings.Contains(r.stdout+r.stderr, live) || strings.Contains(r.stdout+r.stderr, gh) {
			t.Error("secret printed")
		}

		r = run(t, "", "--config", cfg, "rules", "list")
		if r.code != ExitClean {
			t.Fatalf("rules list: exit %d: %s", r.code, r.stderr)
		}
		ids := map[string]bool{}
		for _, l := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				ids[f[0]] = true
			}
		}
		if !ids["acme-internal-token"] || !ids["acme-legacy-key"] || !ids["github-pat"] || ids["github-oauth"] || ids["keystores"] {
			t.Errorf("--config %s: rules list:\n%s", filepath.Base(cfg), r.stdout)
		}
	}

	// Without the config the custom formats are not known.
	r = run(t, "", "scan", "dir", "-f", "json", filepath.Join(repo, "app"))
	for _, k := range findingKeys(t, repo, r.stdout) {
		if strings.HasPrefix(k.rule, "acme-") {
			t.Errorf("custom rule active without config: %v", k)
		}
	}
}

func TestImportGitleaksToStdout(t *testing.T) {
	gl := filepath.Join(t.TempDir(), "gitleaks.toml")
	write(t, gl, "title = 'minimal'\n[[rules]]\nid = 'x-token'\nregex = '''xtok_[0-9a-f]{40}'''\n")
	r := run(t, "", "config", "import-gitleaks", gl)
	if r.code != ExitClean || !strings.Contains(r.stdout, "extends = 'none'") || !strings.Contains(r.stdout, "keywords = ['xtok_']") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestBadGitleaksConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, toml string
		want       []string
	}{
		{"syntax", "title = 'x'\n[[rules]]\nid = 'a\n", []string{"line 3"}},
		{"type", "title = 'x'\n\n[[rules]]\nid = 'a'\nregex = 'abcd'\nkeywords = 'abcd'\n", []string{"line 6", "rules.keywords"}},
		{"regex", "title = 'x'\n\n[[rules]]\nid = 'broken'\nregex = '''(abc'''\nkeywords = ['abc']\n", []string{":3", `rule "broken"`, "field regex"}},
		{"regexTarget", "title = 'x'\n[[allowlists]]\nregexTarget = 'commit'\nregexes = ['x']\n", []string{":2", "allowlists[0]", "field regexTarget"}},
		{"no keywords", "title = 'x'\n[[rules]]\nid = 'opaque'\nregex = '''[A-Za-z0-9]{40}'''\n", []string{":2", `rule "opaque"`, "field keywords"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".toml")
			write(t, p, c.toml)
			for _, args := range [][]string{
				{"config", "import-gitleaks", p},
				{"--config", p, "scan", "dir", dir},
				{"rules", "test", p},
			} {
				r := run(t, "", args...)
				if r.code != ExitError {
					t.Fatalf("%v: exit %d, want %d", args, r.code, ExitError)
				}
				for _, w := range append([]string{p}, c.want...) {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("%v: stderr %q lacks %q", args, r.stderr, w)
					}
				}
			}
		})
	}
}

func TestRulesTest(t *testing.T) {
	dir := t.TempDir()
	t1, t2 := acmeToken(21, ""), acmeToken(22, "")
	rule := func(examples, negatives string) string {
		return fmt.Sprintf(`[[rule]]
id = "acme-token"
description = "ACME token"
keywords = ["acme_"]
regex = '''\bacme_[a-z0-9]{32}\b'''
min_entropy = 3.0
examples = [%s]
negative_examples = [%s]
`, examples, negatives)
	}
	good := filepath.Join(dir, "good.toml")
	write(t, good, rule(fmt.Sprintf("'token = %s', '%s'", t1, t2), "'acme_tooshort', 'acme_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"))
	r := run(t, "", "rules", "test", good)
	if r.code != ExitClean || strings.Count(r.stdout, "PASS") != 4 || strings.Contains(r.stdout, "FAIL") {
		t.Fatalf("good: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	bad := filepath.Join(dir, "bad.toml")
	// The second example does not match and the negative does; the
	// second rule's example has none of its keywords, so the prefilter
	// would never run the regex on it.
	write(t, bad, rule(fmt.Sprintf("'%s', 'ACME_%s'", t1, strings.ToUpper(t2[5:])), fmt.Sprintf("'%s'", t2))+
		fmt.Sprintf("[[rule]]\nid = 'kw-mismatch'\nkeywords = ['token']\nregex = 'acme_[a-z0-9]{32}'\nexamples = ['%s']\n", t1))
	r = run(t, "", "rules", "test", bad)
	if r.code != ExitFindings {
		t.Fatalf("bad: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{"PASS  acme-token examples[0]", "FAIL  acme-token examples[1]", "FAIL  acme-token negative_examples[0]", "FAIL  kw-mismatch examples[0]: matched, but contains none of the keywords", "1 passed, 3 failed"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("bad: output lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, t2) {
		t.Error("matched secret printed in full")
	}

	for name, content := range map[string]string{
		"regex":   "[[rule]]\nid = 'x'\nkeywords = ['abc']\nregex = '(abc'\n",
		"unknown": "[[rule]]\nid = 'x'\nkeywords = ['abc']\nregex = 'abc'\nexampels = ['abc']\n",
		"syntax":  "[[rule]]\nid = 'x\n",
		"empty":   "extends = 'builtin'\n",
	} {
		p := filepath.Join(dir, "invalid-"+name+".toml")
		write(t, p, content)
		r := run(t, "", "rules", "test", p)
		if r.code != ExitError || !strings.Contains(r.stderr, p) {
			t.Errorf("%s: exit %d stderr %q", name, r.code, r.stderr)
		}
	}
	r = run(t, "", "rules", "test", filepath.Join(dir, "missing.toml"))
	if r.code != ExitError {
		t.Errorf("missing file: exit %d", r.code)
	}

	// A gitleaks config is accepted; its rules have no examples.
	gl := filepath.Join(dir, "gitleaks.toml")
	write(t, gl, testGitleaksConfig)
	r = run(t, "", "rules", "test", gl)
	if r.code != ExitClean || !strings.Contains(r.stdout, "SKIP  acme-internal-token: no examples") || !strings.Contains(r.stderr, "warning:") {
		t.Fatalf("gitleaks: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
