package kwmatch

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// naive is the reference: every (keyword, start) pair by brute force.
func naive(kws []string, text string) []string {
	lt := strings.ToLower(text)
	var out []string
	for ki, k := range kws {
		lk := strings.ToLower(k)
		for i := 0; i+len(lk) <= len(lt); i++ {
			if lt[i:i+len(lk)] == lk {
				out = append(out, fmt.Sprint(ki, "@", i))
			}
		}
	}
	sort.Strings(out)
	return out
}

// collect returns the hits in the order Each gives them.
func collect(m *Matcher, text string) []string {
	var out []string
	m.Each([]byte(text), func(k, s int) { out = append(out, fmt.Sprint(k, "@", s)) })
	return out
}

// withDFA returns a matcher that uses its DFA from the first text on,
// a single keyword included (New gives those their own search).
func withDFA(kws []string) *Matcher {
	m := New(kws)
	if m.one != nil {
		m.one, m.small = nil, newSmallIndex(kws)
	}
	m.budget.Store(0)
	return m
}

// checkBothPaths checks the small index and the DFA against brute force,
// and that they give the same hits in the same order, for Each and
// AppendStarts alike.
func checkBothPaths(t *testing.T, kws []string, text string) {
	t.Helper()
	small, full := New(kws), withDFA(kws)
	got, viaDFA := collect(small, text), collect(full, text)
	if small.d.Load() != nil || (full.d.Load() == nil && text != "") {
		t.Fatalf("%v in %q: wrong path taken", kws, text)
	}
	if fmt.Sprint(got) != fmt.Sprint(viaDFA) {
		t.Fatalf("%v in %q: small index gives %v, DFA %v", kws, text, got, viaDFA)
	}
	sorted := append([]string(nil), got...)
	sort.Strings(sorted)
	if want := naive(kws, text); fmt.Sprint(sorted) != fmt.Sprint(want) {
		t.Fatalf("%v in %q: got %v want %v", kws, text, sorted, want)
	}
	a, b := small.AppendStarts(nil, []byte(text)), full.AppendStarts(nil, []byte(text))
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) != len(got) {
		t.Fatalf("%v in %q: AppendStarts: small index %v, DFA %v", kws, text, a, b)
	}
}

func TestMatchesLikeBruteForce(t *testing.T) {
	cases := []struct {
		kws  []string
		text string
	}{
		{[]string{"he", "she", "his", "hers"}, "ushers and HIS sHe"},
		{[]string{"token", "ken", "aws_secret", "secret"}, "AWS_SECRET_ACCESS_KEY token=x Secret"},
		{[]string{"a", "aa", "aaa"}, "aaaa"},
		{[]string{"ghp_", "://", "-----begin"}, "x ghp_abc https://u:p@h -----BEGIN RSA"},
		{[]string{"x"}, ""},
	}
	for _, c := range cases {
		checkBothPaths(t, c.kws, c.text)
	}
	// Random keywords over a small alphabet stress the failure links.
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		var kws []string
		for j := 0; j < 1+r.Intn(8); j++ {
			kws = append(kws, randStr(r, 1+r.Intn(4)))
		}
		text := randStr(r, r.Intn(60))
		checkBothPaths(t, kws, text)
	}
	// Duplicate keywords, non-ASCII bytes, keywords longer than the text.
	checkBothPaths(t, []string{"ab", "AB", "b", "b", "éa", "abab"}, "xAbABéAéab")
	checkBothPaths(t, []string{"longer-than-text"}, "long")
}

// TestDFABuiltOnNeed checks when the DFA is built: not for small texts
// until smallBudget bytes were scanned, at once for a text over
// smallText, and once under concurrent use (go test -race).
func TestDFABuiltOnNeed(t *testing.T) {
	kws := benchKeywords()
	m := New(kws)
	chunk := []byte(strings.Repeat("x token=ghp_abc github ", smallText/32))
	var n int
	for n+len(chunk) <= smallBudget {
		m.Each(chunk, func(int, int) {})
		n += len(chunk)
		if m.d.Load() != nil {
			t.Fatalf("DFA built after %d bytes, before the budget of %d", n, smallBudget)
		}
	}
	m.Each(chunk, func(int, int) {})
	if m.d.Load() == nil {
		t.Fatalf("no DFA after %d bytes", n+len(chunk))
	}
	big := New(kws)
	big.AppendStarts(nil, make([]byte, smallText+1))
	if big.d.Load() == nil {
		t.Error("no DFA for a text longer than smallText")
	}

	shared := New(kws)
	want := collect(withDFA(kws), string(chunk))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				if got := collect(shared, string(chunk)); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("concurrent use: %d hits, want %d", len(got), len(want))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// The DFA walks texts from fourStreamMin on as four quarters; keywords
// across the boundaries, at either end and overlapping must all still be
// found, in the small index's order (checkBothPaths), and beyond the
// small index's reach in the order of a single walk.
func TestFourStreamsLikeBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 60; i++ {
		var kws []string
		for j := 0; j < 1+r.Intn(12); j++ {
			kws = append(kws, randStr(r, 1+r.Intn(9)))
		}
		n := fourStreamMin + r.Intn(smallText-fourStreamMin)
		if i%3 == 0 {
			n = fourStreamMin + r.Intn(64) // quarters shorter than the keywords
		}
		checkBothPaths(t, kws, randStr(r, n))
	}
	// Keywords straddling each quarter boundary.
	kws := []string{"abcdef", "cde", "f"}
	text := []byte(strings.Repeat("x", 4000))
	for _, b := range []int{1000, 2000, 3000} {
		copy(text[b-3:], "abcdef")
	}
	checkBothPaths(t, kws, string(text))
	// Past the small index: against one walk of the DFA.
	m := withDFA([]string{"A_b", "ab", "b_", "_ba", "aab"})
	for i := 0; i < 5; i++ {
		text := randStr(r, smallText+r.Intn(3*smallText))
		var got, want []string
		m.Each([]byte(text), func(k, s int) { got = append(got, fmt.Sprint(k, "@", s)) })
		m.each(m.d.Load(), []byte(text), 0, func(k, s int) { want = append(want, fmt.Sprint(k, "@", s)) })
		if fmt.Sprint(got) != fmt.Sprint(want) || len(want) == 0 {
			t.Fatalf("%d bytes: four walks give %d hits, one walk %d (or order differs)", len(text), len(got), len(want))
		}
	}
	if got := collect(withDFA(nil), strings.Repeat("x", 2*fourStreamMin)); len(got) != 0 {
		t.Errorf("no keywords: got %v", got)
	}
}

func randStr(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abAB_"[r.Intn(5)]
	}
	return string(b)
}

// benchKeywords is a keyword set shaped like the rule set's.
func benchKeywords() []string {
	base := []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "sk_live_", "rk_live_",
		"akia", "asia", "abia", "acca", "aws_secret", "secret", "token", "password", "passwd", "api_key", "apikey", "credential",
		"private key-----", "://", "eyj", "npm_", "pypi-", "hf_", "sk-ant-", "sk-proj-", "authorization", "bearer", "github", "-us", "a3-", "cio", "sg.", "sl."}
	r := rand.New(rand.NewSource(2))
	for len(base) < 437 {
		base = append(base, strings.ToLower(randStr(r, 4))+fmt.Sprint(r.Intn(1000))+"_")
	}
	return base
}

func goSource(b *testing.B) []byte {
	root := filepath.Join(os.Getenv("GOROOT"), "src")
	if os.Getenv("GOROOT") == "" {
		root = "/usr/local/go/src"
	}
	var buf []byte
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasSuffix(p, ".go") || len(buf) > 20<<20 {
			return nil
		}
		d, _ := os.ReadFile(p)
		buf = append(buf, d...)
		return nil
	})
	if len(buf) == 0 {
		b.Skip("no Go source found")
	}
	return buf
}

func BenchmarkKwmatch(b *testing.B) {
	text := goSource(b)
	m := New(benchKeywords())
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		m.Each(text, func(int, int) { n++ })
	}
}

func BenchmarkPetarAhoCorasick(b *testing.B) {
	text := goSource(b)
	builder := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{AsciiCaseInsensitive: true, MatchKind: ahocorasick.StandardMatch, DFA: true})
	ac := builder.Build(benchKeywords())
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		it := ac.IterOverlappingByte(text)
		for m := it.Next(); m != nil; m = it.Next() {
			n++
		}
	}
}
