package rules

import (
	"strings"
	"testing"
)

// TestBuiltinExamples runs every rule's own positive and negative examples:
// a positive must be matched by that rule, a negative must not.
func TestBuiltinExamples(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatalf("loading built-in rules: %v", err)
	}
	if len(set.Rules) == 0 {
		t.Fatal("no built-in rules")
	}
	for _, r := range set.Rules {
		r := r
		t.Run(r.ID, func(t *testing.T) {
			if r.Description == "" {
				t.Errorf("rule has no description")
			}
			if len(r.Examples) < 2 || len(r.Negatives) < 1 {
				t.Errorf("rule needs at least two positive and one negative example (has %d/%d)", len(r.Examples), len(r.Negatives))
			}
			for _, ex := range r.Examples {
				if len(r.FindAll([]byte(ex), false)) == 0 {
					t.Errorf("positive example not matched: %q", ex)
				}
				if !containsKeyword(ex, r.Keywords) {
					t.Errorf("positive example contains none of the keywords %v, so the prefilter would skip it: %q", r.Keywords, ex)
				}
			}
			for _, ex := range r.Negatives {
				if ms := r.FindAll([]byte(ex), false); len(ms) > 0 {
					t.Errorf("negative example matched (secret %q): %q", ms[0].Secret, ex)
				}
			}
		})
	}
}

// Built-in rules compile their regex and allowlist lazily, so check
// every one here.
// Built-in rules compile lazily; compiled eagerly, as user rules are,
// each must pass every check.
func TestBuiltinRulesCompile(t *testing.T) {
	rs, err := BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		r.lazy = false
		if err := r.Compile(DefaultValidators()); err != nil {
			t.Errorf("rule %s: %v", r.ID, err)
		}
		if err := r.Allowlist.Compile(); err != nil {
			t.Errorf("rule %s: allowlist: %v", r.ID, err)
		}
	}
}

func containsKeyword(s string, kws []string) bool {
	ls := strings.ToLower(s)
	for _, k := range kws {
		if strings.Contains(ls, k) {
			return true
		}
	}
	return false
}

func TestCompileErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name string
		toml string
		want string
	}{
		{"bad regex", "[[rule]]\nid='x'\nkeywords=['a']\nregex='('\n", "field regex"},
		{"no keywords", "[[rule]]\nid='x'\nregex='a'\n", "field keywords"},
		{"bad severity", "[[rule]]\nid='x'\nkeywords=['a']\nregex='a'\nseverity='huge'\n", "field severity"},
		{"unknown validator", "[[rule]]\nid='x'\nkeywords=['a']\nregex='a'\nvalidator='nope'\n", "field validator"},
		{"bad group", "[[rule]]\nid='x'\nkeywords=['a']\nregex='(a)'\nsecret_group=3\n", "field secret_group"},
		{"lead without multiline", "[[rule]]\nid='x'\nkeywords=['a']\nregex='a'\nlead=2\n", "field lead"},
		{"negative lead", "[[rule]]\nid='x'\nkeywords=['a']\nregex='a'\nmultiline=true\nlead=-1\n", "field lead"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := Parse("t.toml", []byte(c.toml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewSet(rs, DefaultValidators())
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "t.toml") {
				t.Fatalf("error %v, want one naming %q and the file", err, c.want)
			}
		})
	}
}

func TestParseRejectsUnknownField(t *testing.T) {
	_, err := Parse("t.toml", []byte("[[rule]]\nid='x'\nregexx='a'\n"))
	if err == nil || !strings.Contains(err.Error(), "regexx") {
		t.Fatalf("got %v, want unknown field regexx", err)
	}
}

func TestBase62CRC32(t *testing.T) {
	// A checksum must be 6 chars of the 0-9A-Za-z alphabet and change with input.
	a, b := Base62CRC32(strings.Repeat("a", 30)), Base62CRC32(strings.Repeat("b", 30))
	if len(a) != 6 || a == b {
		t.Fatalf("checksums %q %q", a, b)
	}
	tok := "ghp_" + strings.Repeat("a", 30) + a
	if ok, _ := checksumCRC32Base62(tok); !ok {
		t.Fatal("valid token rejected")
	}
	bad := "ghp_" + strings.Repeat("a", 30) + b
	if ok, _ := checksumCRC32Base62(bad); ok {
		t.Fatal("invalid checksum accepted")
	}
}

func TestAWSAccountDecode(t *testing.T) {
	// Published example of the key id layout: ASIAY34FZKBOKMUTVV7A -> 609629065308.
	ok, meta := awsKeyID("ASIAY34FZKBOKMUTVV7A")
	if !ok || meta["account_id"] != "609629065308" || meta["access_key_id"] != "ASIAY34FZKBOKMUTVV7A" {
		t.Fatalf("got %v %v", ok, meta)
	}
	if ok, _ := awsKeyID("AKIA0000000000000000"); ok {
		t.Fatal("non-base32 key id accepted")
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pat, p string
		want   bool
	}{
		{"*.lock", "a/b/yarn.lock", true},
		{"vendor/**", "vendor/x/y.go", true},
		{"**/testdata/*.go", "a/b/testdata/x.go", true},
		{"docs/*.md", "docs/a/b.md", false},
	}
	for _, c := range cases {
		if got := globMatch(c.pat, c.p); got != c.want {
			t.Errorf("globMatch(%q,%q)=%v", c.pat, c.p, got)
		}
	}
}
