package kwmatch

import (
	"math/rand"
	"testing"
)

// A single keyword takes its own search; it must find what the DFA
// finds, in the same order, for Each and AppendStarts (checkBothPaths).
func TestOneLikeDFA(t *testing.T) {
	cases := []struct{ kw, text string }{
		{"aa", "aaaa"}, // overlapping
		{"coinbase", "COINBASE coinBase xcoinbas coinbase"},
		{"sk-or-v1-", "sk-or-v1-abc SK-OR-V1-x sk-or-v1"}, // non-letters searched
		{"eyj", "eyJhbGci.eyJzdWIi EYJ"},
		{"x", "xXx"},
		{"abc", "ab"},          // longer than the text
		{"_key", "_key"},       // whole text
		{"ghp_", "éghp_ñGHP_"}, // non-ASCII around
		{"zq", "zzqqZQzQ"},
	}
	for _, c := range cases {
		if New([]string{c.kw}).one == nil {
			t.Fatalf("%q: no single-keyword search", c.kw)
		}
		checkBothPaths(t, []string{c.kw}, c.text)
	}
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 500; i++ {
		kw := randStr(r, 1+r.Intn(5))
		checkBothPaths(t, []string{kw}, randStr(r, r.Intn(200)))
	}
}

func TestOneSearchesRarestByte(t *testing.T) {
	for _, c := range []struct {
		kw string
		at int
	}{
		{"coinbase", 4}, // b
		{"sk-or", 2},    // '-': one pass, not two
		{"eyj", 2},      // j
		{"token", 2},    // k
	} {
		if o := newOne(c.kw); o.at != c.at {
			t.Errorf("%q: searches byte %d (%q), want %d", c.kw, o.at, c.kw[o.at], c.at)
		}
	}
}
