package rules

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"testing"
)

// showSet writes a byte set as its ASCII members, then "+" if it holds
// the bytes of non-ASCII characters.
func showSet(s byteSet) string {
	var b strings.Builder
	for c := 0; c < 128; c++ {
		if s.has(byte(c)) {
			q := strconv.Quote(string(rune(c)))
			b.WriteString(q[1 : len(q)-1])
		}
	}
	if s.has(0x80) {
		b.WriteByte('+')
	}
	return b.String()
}

func showGates(gs gates) string {
	var alts []string
	for _, g := range gs {
		var cs []string
		for _, c := range g {
			s := "[" + showSet(c.run) + "]*[" + showSet(c.next) + "]"
			for _, f := range c.then {
				s += "(" + showSet(byteSet{}.with(f.b)) + "[" + showSet(f.set) + "])"
			}
			cs = append(cs, s)
		}
		alts = append(alts, strings.Join(cs, "&"))
	}
	return strings.Join(alts, " | ")
}

func TestNewGates(t *testing.T) {
	for _, tc := range []struct {
		re, want string
	}{
		{`ab+c`, "[a]*[b]&[ab]*[c]"},
		{`a[bc]*=\s*"x"`, `[abc]*[=]&[\t\n\f\r =abc]*[\"]&[\t\n\f\r \"=abc]*[x]`},
		// A nullable element cannot stop; the one after it does.
		{`key[ \t]*(?:=|:)`, `[k]*[e]&[ek]*[y]&[\t eky]*[:=]`},
		// Zero-width assertions consume nothing.
		{`\bkey\b=`, "[k]*[e]&[ek]*[y]&[eky]*[=]"},
		// Case folding: k has a non-ASCII fold (U+212A, the Kelvin sign).
		{`(?i)ke=`, "[Kk+]*[Ee]&[EKek+]*[=]"},
		// A byte of the stop that must be followed by another says which.
		{`a+(?:=|!=|,[ \t]*with:)`, `[a]*[!,=](![=])(,[\t w])`},
		{`a+(?:=>?|x{2,3}|y+)`, `[a]*[=xy](x[x])`},
		// Every alternative needs a gate of its own.
		{`ab=|cd\(`, "[a]*[b]&[ab]*[=] | [c]*[d]&[cd]*[(]"},
		{`ab=|c`, ""},
		// Nothing before the first element: no condition from it.
		{`\b(ghp_[A-Za-z0-9]{36})\b`, ""},
		// What the run may hold meets what follows: no stop.
		{`[a-z]+[a-z0-9]`, ""},
		{`.*=`, ""},
		// The walk ends at what it cannot describe; stops before it count.
		{`ab=(?:x|.)*c`, "[a]*[b]&[ab]*[=]"},
	} {
		re, err := syntax.Parse(tc.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := showGates(newGates(re)); got != tc.want {
			t.Errorf("%s: gates %q, want %q", tc.re, got, tc.want)
		}
	}
}

func TestGatePass(t *testing.T) {
	re, _ := syntax.Parse(`(?i)(?:secret|token)[\w.-]*[ \t]*(?:=|:|,[ \t]*with:)[ \t]*"(\w+)"|\bset\w*\(`, syntax.Perl)
	gs := newGates(re)
	for _, tc := range []struct {
		text string
		pass bool
	}{
		{`secret = "abc"`, true},
		{`SECRET_KEY: "abc"`, true},
		{`secret_key: "`, true}, // the gate is necessary, not sufficient
		{`secret_key:`, false},
		{`setSecret(`, true},
		{`secret is rotated`, false},
		{`validateSecret(x)`, false}, // neither shape starts here
		{`secret, token`, false},
		{`secret, with: "x"`, true},
		{`secret,`, false},
		{`secretToken`, false}, // the run reaches the end
		{"secret\n= x", false},
		{``, false},
	} {
		if got := gs.pass([]byte(tc.text), 0); got != tc.pass {
			t.Errorf("%q: pass %v, want %v", tc.text, got, tc.pass)
		}
	}
}

// checkGatesNecessary fails if re matches at some start of text where
// its gates say no match can start.
func checkGatesNecessary(t *testing.T, expr string, text []byte) {
	t.Helper()
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return
	}
	gs := newGates(parsed)
	if gs == nil {
		return
	}
	anchored, err := regexp.Compile(`\A(?:` + expr + `)`)
	if err != nil {
		return
	}
	for p := 0; p <= len(text); p++ {
		if anchored.Match(text[p:]) && !gs.pass(text, p) {
			t.Fatalf("%s matches %q at %d, but its gates %s say it cannot", expr, text, p, showGates(gs))
		}
	}
}

// The gates of every built-in rule hold wherever the rule's regex
// matches: on its examples, its negative examples, and on those with
// bytes changed at random.
func TestGatesHoldOnRuleExamples(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte(" \t\n=:\"'`_-.,;()[]{}aZ09/\\\xc5\xbf\xe2\x84\xaa")
	gated := 0
	for _, r := range set.Rules {
		parsed, err := syntax.Parse(r.Regex, syntax.Perl)
		if err != nil || newGates(parsed) == nil {
			continue
		}
		gated++
		for _, ex := range append(append([]string{}, r.Examples...), r.Negatives...) {
			checkGatesNecessary(t, r.Regex, []byte(ex))
			for range 20 {
				b := []byte(ex)
				for range 1 + rnd.IntN(3) {
					if len(b) > 0 {
						b[rnd.IntN(len(b))] = alphabet[rnd.IntN(len(alphabet))]
					}
				}
				checkGatesNecessary(t, r.Regex, b)
			}
		}
	}
	if gated < 100 {
		t.Fatalf("only %d built-in rules have gates", gated)
	}
}

// FuzzGates checks the gates' one promise on arbitrary regexes and
// text: no start they turn away is one the regex matches at.
func FuzzGates(f *testing.F) {
	f.Add(`(?i)(?:secret|token)[\w.-]*[ \t]*(?:=|:)[ \t]*"(\w+)"`, `x secret_key = "abc"`)
	f.Add(`ab+c|\bset\w*\(`, "abbbc setX( ac")
	f.Add(`(?i)k[^=]*=`, "\u212a\u017f = 1")
	f.Add(`a{2,5}b?[c-e]+=`, "aaab cc= aaccd=")
	f.Fuzz(func(t *testing.T, expr, text string) {
		if len(expr) > 200 || len(text) > 300 {
			return
		}
		checkGatesNecessary(t, expr, []byte(text))
	})
}
