package rules

import (
	"math/rand"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

func TestNeedLiteral(t *testing.T) {
	cases := []struct {
		re   string
		want string // "" for none
		fold bool
	}{
		// github is the keyword: its hit holds it already
		{`(?i:github)[\w.-]{0,20}(?i:client)?[_.-]?(?i:secret)["']?\s*=\s*([0-9a-f]{40})`, "secret", true},
		{`xoxb-[0-9]+-(abcdefgh)`, "abcdefgh", false}, // the longest
		{`(?:token|secret)=([a-z]+)`, "", false},      // alternation: none mandatory
		{`(?:pass)?word=(\w+)`, "word=", false},
		{`(abcd)+x`, "abcd", false},
		{`(abcd)*x`, "", false},
		{`(?i)client_secret\s*=\s*(\w+)`, "client_secret", true},
		{`é-token-(\w+)`, "-token-", false},
	}
	for _, c := range cases {
		parsed, err := syntax.Parse(c.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		n := newNeed(parsed, []string{"github"})
		got, fold := "", false
		if n != nil {
			got, fold = string(n.lit), n.fold
		}
		if got != c.want || (got != "" && fold != c.fold) {
			t.Errorf("%s: need %q fold %v, want %q fold %v", c.re, got, fold, c.want, c.fold)
		}
	}
	n := &needLit{lit: []byte("secret"), fold: true}
	for _, c := range []struct {
		text string
		in   bool
	}{
		{"GITHUB_CLIENT_SECRET=x", true}, {"github.com/foo/bar", false}, {"SeCrEt", true},
		{"secre", false}, {"github_ſecret=x", true}, // U+017F folds to s under (?i)
		{"", false},
	} {
		if got := n.in([]byte(c.text)); got != c.in {
			t.Errorf("in(%q) = %v, want %v", c.text, got, c.in)
		}
	}
}

// No text the regex matches is ruled out by its required literal: every
// built-in rule on its examples, their case flipped, and with text around.
func TestNeedKeepsMatches(t *testing.T) {
	rs, err := BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(5))
	flip := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if r.Intn(3) == 0 && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				b[i] = c ^ 0x20
			}
		}
		return string(b)
	}
	checked := 0
	for _, rule := range rs {
		parsed, err := syntax.Parse(rule.Regex, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		n := newNeed(parsed, rule.Keywords)
		if n == nil {
			continue
		}
		re := regexp.MustCompile(rule.Regex)
		for _, ex := range append(append([]string{}, rule.Examples...), rule.Negatives...) {
			for _, text := range []string{ex, flip(ex), "x = 1\n" + ex + " # note", strings.ReplaceAll(ex, "s", "ſ")} {
				if re.MatchString(text) && !n.in([]byte(text)) {
					t.Errorf("%s: %q matches but lacks %q", rule.ID, text, n.lit)
				}
				checked++
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d texts checked", checked)
	}
}
