package rules

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestPrefixLits(t *testing.T) {
	tests := []struct {
		re   string
		want []string // nil: no filter
	}{
		{`(?i)(?:secret|token)[\w.-]*=`, []string{"secret", "token"}},
		{`\bapi[_-]?key\b`, []string{"api-key", "api_key", "apikey"}},
		{`(?i)contentstack[\w.-]{0,24}?token`, []string{"contents"}},
		{`(?i)credentials?|creds`, []string{"credenti", "creds"}},
		{`(?:ab|cd)ef`, []string{"abef", "cdef"}},
		{`x?abc`, nil},                  // "abc" or "xabc": fine, but x? with "" gives "abc"
		{`[a-z]{3}key`, nil},            // class too wide
		{`^secret`, []string{"secret"}}, // tried anchored at the first byte
		{`(?:^|[^A-Za-z0-9])(?:hibp|apollo)_key`, []string{"apollo_k", "hibp_key"}},
		{`(?i)(?:\bAuthorization\s*:\s*|["'])Basic\s*`, []string{"\"basic", "'basic", "authoriz"}},
		{`.*secret`, nil},            // any start
		{`ghp_[A-Za-z0-9]{36}`, nil}, // Go's own literal prefix
		{`(?i)ab|secret`, nil},       // a two-byte literal
		{`\bset\w*(?:secret)`, []string{"set"}},
	}
	for _, tc := range tests {
		parsed, err := syntax.Parse(tc.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		f := newStartFilter(tc.re, parsed)
		var got []string
		if f != nil {
			got = f.lits
		}
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if tc.re == `x?abc` {
			want = []string{"abc", "xabc"}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: literals %q, want %q", tc.re, got, want)
		}
	}
}

// Starts next to multi-byte characters, for a regex whose leading part
// may match nothing (\b) or one ASCII character.
func TestStartFilterMultiByte(t *testing.T) {
	const expr = `(?:\b|[!-/:-@])mach[a-z]+`
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	f := newStartFilter(expr, parsed)
	if f == nil || f.skip != 1 || f.skipASCII {
		t.Fatalf("%s: want a filter skipping one ASCII character, got %+v", expr, f)
	}
	re := regexp.MustCompile(expr)
	for _, s := range []string{"\u00e9machine", "x\u00e9:machine", "\u00e9 machine ;machine", "\xa9machine", "\xc3machine"} {
		text := []byte(s)
		if !f.usable(text) {
			t.Fatalf("%q: filter declined", s)
		}
		if got, want := f.findAll(expr, text), re.FindAllSubmatchIndex(text, -1); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, want %v", s, got, want)
		}
	}
}

func TestLoosen(t *testing.T) {
	tests := []struct{ re, want string }{
		{`(?i)key["']?=("[^"\n]{1,300}")`, `(?i)key["']?=("[^"\n]{1,}")`},
		{`tok_[a-z0-9]{20,1000}x{0,24}?`, `tok_[a-z0-9]{8,}x{0,}?`},
		{`ghp_[A-Za-z0-9]{36}`, `ghp_[A-Za-z0-9]{8,}`},
		{`a{40,}b`, `a{8,}b`},
		{`ab{2,16}`, ``},
		{`[{]{1,300}\{40\}\p{Greek}{2}`, `[{]{1,}\{40\}\p{Greek}{2}`},
		{`[]{40}]x{1,20}`, `[]{40}]x{1,}`},
		{`\Q{1,300}\Ey{5}`, ``},
		{`x{,300}`, ``},
	}
	for _, tc := range tests {
		if got, _ := loosen(tc.re); got != tc.want {
			t.Errorf("loosen(%s) = %q, want %q", tc.re, got, tc.want)
		}
	}
}

// The start filter must find exactly what Go's unanchored FindAll finds,
// groups included, for every built-in rule it applies to.
func TestStartFilterSameMatches(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var pool []string
	for _, r := range set.Rules {
		pool = append(pool, r.Examples...)
		pool = append(pool, r.Negatives...)
	}
	fillers := []string{"", " ", "x", "_", "-", ".", "\n", "a=b; ", "if (", "\t// ", "set", "Set", "my", "reset", "é", "–", "ſ"}
	var mixed []string
	for i := 0; i < 150; i++ {
		var sb strings.Builder
		for j := 0; j < 1+rng.IntN(3); j++ {
			sb.WriteString(fillers[rng.IntN(len(fillers))])
			ex := pool[rng.IntN(len(pool))]
			if rng.IntN(3) == 0 && len(ex) > 4 {
				// cut or shift it
				a := rng.IntN(len(ex) / 2)
				ex = ex[a:]
			}
			sb.WriteString(ex)
		}
		mixed = append(mixed, sb.String())
	}
	filtered, loose, bounded := 0, 0, 0
	for _, r := range set.Rules {
		re := r.regexp()
		if r.starts == nil {
			continue
		}
		filtered++
		if r.starts.loose != "" {
			loose++
		}
		if r.starts.bounds != nil {
			bounded++
		}
		texts := append(append(slices.Clone(r.Examples), r.Negatives...), mixed...)
		for _, ex := range r.Examples {
			texts = append(texts, "x"+ex, "_"+ex+"_", ex+" "+ex, strings.ToUpper(ex))
			// Values longer or shorter than the rule's counts: a loose
			// match must then give way to the exact regex.
			h := len(ex) / 2
			texts = append(texts, ex[:h]+strings.Repeat("A", 301)+ex[h:], ex+strings.Repeat("7", 70),
				ex[:h]+strings.Repeat("b", 40)+ex[h:]+" "+ex, ex[:len(ex)-len(ex)/4])
		}
		for _, s := range texts {
			text := []byte(s)
			if !r.starts.usable(text) {
				continue
			}
			want := re.FindAllSubmatchIndex(text, -1)
			got := r.starts.findAll(r.Regex, text)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("rule %s on %q:\n got %v\nwant %v", r.ID, s, got, want)
			}
		}
	}
	// A value past the rule's bound: the loose form matches it, the
	// exact regex does not, and the assignment after it is still found.
	g, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r := g.ByID("generic-secret-assignment")
	r.prepare()
	if r.starts == nil || r.starts.bounds == nil {
		t.Fatal("generic-secret-assignment: want a start filter checked by groups")
	}
	short := []byte(`secret = "Qn3vT7kLw2Xr9pZd"`)
	if got := r.starts.findAll(r.Regex, short); len(got) != 1 || r.starts.exactCtx.re != nil {
		t.Fatalf("within bounds: got %v, exact regex compiled %v; want one match and no exact regex", got, r.starts.exactCtx.re != nil)
	}
	long := []byte(`token = "` + strings.Repeat("x", 301) + `"; secret = "Qn3vT7kLw2Xr9pZd"`)
	if got, want := r.starts.findAll(r.Regex, long), r.regexp().FindAllSubmatchIndex(long, -1); !reflect.DeepEqual(got, want) || r.starts.exactCtx.re == nil {
		t.Errorf("past the bound: got %v, want %v (exact regex compiled: %v)", got, want, r.starts.exactCtx.re != nil)
	}

	// Text the filter cannot take goes the plain way.
	r = set.ByID("generic-secret-assignment")
	text := []byte("ſecret = \"Qn3vT7kLw2Xr9pZd\"")
	if r.starts == nil || r.starts.usable(text) {
		t.Fatal("generic-secret-assignment: want a start filter that declines text with U+017F")
	}
	if got, want := r.findAllIndex(text), r.regexp().FindAllSubmatchIndex(text, -1); len(want) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("generic-secret-assignment on %q: got %v, want %v (one match)", text, got, want)
	}
	if filtered == 0 {
		t.Fatal("no built-in rule uses the start filter")
	}
	if bounded == 0 {
		t.Fatal("no built-in rule checks loose matches by their groups")
	}
	t.Logf("%d of %d rules use the start filter, %d of them with a loose form, %d checked by groups", filtered, len(set.Rules), loose, bounded)
}

// A loose form that does not compile (loosen works on the text, and a
// rule file's regex could trip it) leaves the exact regex to do the work.
func TestStartFilterBadLooseForm(t *testing.T) {
	expr := `\btok_([a-z0-9]{20,40})\b`
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	for _, bounded := range []bool{false, true} {
		f := newStartFilter(expr, parsed)
		if f == nil || f.loose == "" || f.bounds == nil {
			t.Fatalf("%s: want a start filter with a bounded loose form", expr)
		}
		f.loose = `\btok_([a-z0-9]{8,}\b` // unbalanced
		if !bounded {
			f.bounds = nil
		}
		text := []byte("a tok_abcdefghij0123456789 b tok_short c")
		want := regexp.MustCompile(expr).FindAllSubmatchIndex(text, -1)
		if got := f.findAll(expr, text); !reflect.DeepEqual(got, want) || len(want) != 1 {
			t.Errorf("bounds %v: got %v, want %v", bounded, got, want)
		}
	}
	// A loose form that compiles but whose named group holds more than
	// the opened-up repetition (here the token's prefix too, so an
	// 18-character body counts 22, inside 20-40): its matches must not
	// stand for the exact regex's, which finds nothing here.
	f := newStartFilter(expr, parsed)
	f.loose = `\b(?P<` + looseGroup + `0>tok_[a-z0-9]{8,})\b`
	text := []byte("a tok_abcdefghij01234567 c")
	want := regexp.MustCompile(expr).FindAllSubmatchIndex(text, -1)
	if got := f.findAll(expr, text); !reflect.DeepEqual(got, want) || len(want) != 0 || f.groups.ok {
		t.Errorf("misread loose form: got %v, want %v (groups trusted: %v)", got, want, f.groups.ok)
	}
}

func TestLoosenWrapped(t *testing.T) {
	g := looseGroup
	tests := []struct {
		re, want string
		bounds   []groupBound
	}{
		{`tok_[a-z0-9]{20,1000}x{0,24}?`, `tok_(?P<` + g + `0>[a-z0-9]{8,})(?P<` + g + `1>x{0,}?)`, []groupBound{{20, 1000}, {0, 24}}},
		{`\b(pypi-[\w-]{50,})\b`, `\b(pypi-(?P<` + g + `0>[\w-]{8,}))\b`, []groupBound{{50, -1}}},
		{`a\w{1,300}|\p{Greek}{40}`, `a(?P<` + g + `0>\w{1,})|(?P<` + g + `1>\p{Greek}{8,})`, []groupBound{{1, 300}, {40, 40}}},
		{`k=(?:[a-z]){20,40}é{1,30}`, `k=(?P<` + g + `0>(?:[a-z]){8,})(?P<` + g + `1>é{1,})`, []groupBound{{20, 40}, {1, 30}}},
		{`x{,300}{1,20}`, `x{,300(?P<` + g + `0>}{1,})`, []groupBound{{1, 20}}}, // {,300} is literal text; {1,20} counts its brace
		{`\Qab\E{1,300}`, ``, nil}, // the operand is inside \Q...\E: not told
		{`ab{2,16}`, ``, nil},
	}
	for _, tc := range tests {
		got, b := loosenWrapped(tc.re)
		if got != tc.want || !reflect.DeepEqual(b, tc.bounds) {
			t.Errorf("loosenWrapped(%s) = %q %v, want %q %v", tc.re, got, b, tc.want, tc.bounds)
		}
		if got != "" {
			if _, err := regexp.Compile(got); err != nil {
				t.Errorf("loosenWrapped(%s) = %q does not compile: %v", tc.re, got, err)
			}
		}
	}
}

// A repetition inside a larger group (here a token's prefix and body in
// one group) is checked by the group loosenWrapped puts around it: a
// match within the rule's counts needs no exact regex; one past them
// gets the exact regex's answer.
func TestStartFilterWrappedBounds(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r := set.ByID("pypi-upload-token")
	r.prepare()
	if r.starts == nil || r.starts.bounds == nil {
		t.Fatal("pypi-upload-token: want a start filter checked by groups")
	}
	tok := r.Examples[0]
	in := []byte("PYPI_TOKEN=" + tok + "\n")
	want := r.regexp().FindAllSubmatchIndex(in, -1)
	if got := r.starts.findAll(r.Regex, in); len(want) != 1 || !reflect.DeepEqual(got, want) || r.starts.exactCtx.re != nil {
		t.Fatalf("within bounds: got %v, want %v; exact regex compiled %v, want not", got, want, r.starts.exactCtx.re != nil)
	}
	long := []byte("PYPI_TOKEN=" + tok + strings.Repeat("A", 1001) + "\n")
	want = r.regexp().FindAllSubmatchIndex(long, -1)
	if got := r.starts.findAll(r.Regex, long); !reflect.DeepEqual(got, want) || r.starts.exactCtx.re == nil {
		t.Errorf("past the bound: got %v, want %v (exact regex compiled: %v)", got, want, r.starts.exactCtx.re != nil)
	}
}
