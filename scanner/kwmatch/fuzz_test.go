package kwmatch

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// FuzzEach checks the matcher against brute force on arbitrary keywords
// and text: every occurrence found (Each, AppendStarts), in the order a
// single walk of the DFA gives (the four-walk split, the single-keyword
// search and the small index must all keep it).
func FuzzEach(f *testing.F) {
	f.Add("token|secret|ghp_", "x token=1 SECRET ghp_abc tokentoken")
	f.Add("aa", strings.Repeat("a", 300))
	f.Add("a|aa|aaa|b_", strings.Repeat("ab_a", 90))
	f.Add("coinbase", "COINBASE coinBase xcoinbas")
	f.Fuzz(func(t *testing.T, kwList, text string) {
		var kws []string
		for _, k := range strings.Split(kwList, "|") {
			if k != "" && len(k) <= 12 && len(kws) < 8 {
				kws = append(kws, k)
			}
		}
		if len(kws) == 0 || len(text) > 1<<16 {
			return
		}
		want := naiveASCII(kws, text)
		for _, m := range []*Matcher{New(kws), withDFA(kws)} {
			got := collect(m, text)
			sorted := append([]string(nil), got...)
			sort.Strings(sorted)
			if fmt.Sprint(sorted) != fmt.Sprint(want) {
				t.Fatalf("%q in %q: got %v, want %v", kws, text, sorted, want)
			}
			var starts []string
			for _, s := range m.AppendStarts(nil, []byte(text)) {
				starts = append(starts, fmt.Sprint(s))
			}
			var fromEach []string
			m.Each([]byte(text), func(_, s int) { fromEach = append(fromEach, fmt.Sprint(s)) })
			if fmt.Sprint(starts) != fmt.Sprint(fromEach) {
				t.Fatalf("%q in %q: AppendStarts %v, Each %v", kws, text, starts, fromEach)
			}
		}
		// The order: one walk of the DFA is the reference.
		m := withDFA(kws)
		m.Each(nil, func(int, int) {})
		if d := m.d.Load(); d != nil {
			var one []string
			m.each(d, []byte(text), 0, func(k, s int) { one = append(one, fmt.Sprint(k, "@", s)) })
			if got := collect(m, text); fmt.Sprint(got) != fmt.Sprint(one) {
				t.Fatalf("%q in %q: order %v, one walk %v", kws, text, got, one)
			}
		}
	})
}

// naiveASCII is naive folding ASCII letters only, as the matcher does
// (strings.ToLower would turn invalid UTF-8 into U+FFFD, moving offsets).
func naiveASCII(kws []string, text string) []string {
	low := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			b[i] = lower(c)
		}
		return string(b)
	}
	lt := low(text)
	var out []string
	for ki, k := range kws {
		lk := low(k)
		for i := 0; i+len(lk) <= len(lt); i++ {
			if lt[i:i+len(lk)] == lk {
				out = append(out, fmt.Sprint(ki, "@", i))
			}
		}
	}
	sort.Strings(out)
	return out
}
