package kwmatch

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

func collect(m *Matcher, text string) []string {
	var out []string
	m.Each([]byte(text), func(k, s int) { out = append(out, fmt.Sprint(k, "@", s)) })
	sort.Strings(out)
	return out
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
		if got, want := collect(New(c.kws), c.text), naive(c.kws, c.text); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v in %q: got %v want %v", c.kws, c.text, got, want)
		}
	}
	// Random keywords over a small alphabet stress the failure links.
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		var kws []string
		for j := 0; j < 1+r.Intn(8); j++ {
			kws = append(kws, randStr(r, 1+r.Intn(4)))
		}
		text := randStr(r, r.Intn(60))
		if got, want := collect(New(kws), text), naive(kws, text); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%v in %q: got %v want %v", kws, text, got, want)
		}
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
