package corpus

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
	"github.com/keytrail/keytrail/scanner/source"
)

// Result is the accuracy of one scan of the corpus.
type Result struct {
	Planted, Found, FalsePositives int
	Missed                         []Planted
	Extra                          []scanner.Finding
}

// Evaluate scans the corpus directory with the built-in rules.
func Evaluate(ctx context.Context, dir string, m *Manifest) (*Result, error) {
	set, err := rules.Builtin()
	if err != nil {
		return nil, err
	}
	eng, err := scanner.NewEngine(set, scanner.Options{})
	if err != nil {
		return nil, err
	}
	s := &scanner.Scanner{Engine: eng, Log: zerolog.Nop()}
	res, err := s.Run(ctx, &source.Dir{Roots: []string{dir}})
	if err != nil {
		return nil, err
	}
	if len(res.Errors) > 0 {
		return nil, res.Errors[0]
	}
	type key struct {
		file string
		line int
	}
	byLine := map[key][]scanner.Finding{}
	for _, f := range res.Findings {
		rel, _ := filepath.Rel(dir, f.File)
		k := key{filepath.ToSlash(rel), f.Line}
		byLine[k] = append(byLine[k], f)
	}
	generic := map[string]bool{}
	for _, r := range set.Rules {
		generic[r.ID] = r.Generic
	}
	r := &Result{Planted: len(m.Positives)}
	used := map[string]bool{}
	for _, p := range m.Positives {
		found := false
		for _, f := range byLine[key{p.File, p.Line}] {
			// Several provider rules may describe one format (a Gemini
			// key is a Google API key); any provider rule reporting the
			// planted secret on its line counts, a generic one does not.
			sameRule := f.RuleID == p.RuleID || !generic[f.RuleID] && !generic[p.RuleID]
			if sameRule && f.Secret == p.Secret && f.Decoded == p.Decoded {
				found = true
				used[f.Fingerprint+fmt.Sprint(f.Line)] = true
			}
		}
		if found {
			r.Found++
		} else {
			r.Missed = append(r.Missed, p)
		}
	}
	for _, f := range res.Findings {
		if !used[f.Fingerprint+fmt.Sprint(f.Line)] {
			r.Extra = append(r.Extra, f)
		}
	}
	r.FalsePositives = len(r.Extra)
	return r, nil
}

func TestAccuracyCorpus(t *testing.T) {
	dir := t.TempDir()
	m, err := Generate(dir, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Positives) < 300 || len(m.Negatives) < 20 {
		t.Fatalf("corpus too small: %d positives, %d negatives", len(m.Positives), len(m.Negatives))
	}
	r, err := Evaluate(context.Background(), dir, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accuracy: %d/%d planted keys found on their line (recall %.1f%%), %d false positives over %d hard negatives and filler",
		r.Found, r.Planted, 100*float64(r.Found)/float64(r.Planted), r.FalsePositives, len(m.Negatives))
	for _, p := range r.Missed {
		t.Errorf("missed %s at %s:%d (decoded %q)", p.RuleID, p.File, p.Line, p.Decoded)
	}
	neg := map[string]string{}
	for _, n := range m.Negatives {
		neg[fmt.Sprintf("%s:%d", n.File, n.Line)] = n.Kind
	}
	sort.Slice(r.Extra, func(i, j int) bool { return r.Extra[i].File < r.Extra[j].File })
	for _, f := range r.Extra {
		rel, _ := filepath.Rel(dir, f.File)
		kind := neg[fmt.Sprintf("%s:%d", filepath.ToSlash(rel), f.Line)]
		if kind == "" {
			kind = "not planted"
		}
		t.Errorf("false positive (%s): %s at %s:%d: %s", kind, f.RuleID, rel, f.Line, strings.TrimSpace(f.Redacted().Match))
	}
}

// The generator is deterministic: the same seed gives the same corpus.
func TestGenerateDeterministic(t *testing.T) {
	a, err := Generate(t.TempDir(), 7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(t.TempDir(), 7)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a.Positives) != fmt.Sprint(b.Positives) || fmt.Sprint(a.Negatives) != fmt.Sprint(b.Negatives) {
		t.Fatal("same seed, different corpus")
	}
}
