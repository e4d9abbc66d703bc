package scanner

import (
	"cmp"
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// allHits is every keyword hit of data, found by searching all of it.
func allHits(e *Engine, data []byte) []Hit {
	var hs []Hit
	e.kw.Each(data, func(kw, s int) { hs = append(hs, Hit{int32(s), int32(kw)}) })
	slices.SortFunc(hs, cmpHit)
	return hs
}

// carryLines are lines of the kinds that make keyword hits: assignments,
// tokens, PEM-ish headers, long minified lines, plain code.
func carryLines(r *rand.Rand) []string {
	var ls []string
	for i := 0; i < 300; i++ {
		switch r.Intn(8) {
		case 0:
			ls = append(ls, fmt.Sprintf("api_token = %q", fakeToken(r)))
		case 1:
			ls = append(ls, "-----BEGIN RSA PRIVATE KEY-----")
		case 2:
			ls = append(ls, strings.Repeat("x=1;", 100+r.Intn(200))+" secret: "+fakeToken(r))
		case 3:
			ls = append(ls, fmt.Sprintf("password=%s # token", fakeToken(r)[4:]))
		default:
			ls = append(ls, fmt.Sprintf("func f%d() int { return %d }", i, r.Intn(1000)))
		}
	}
	return ls
}

// A delta item given its base's hits finds every keyword hit a search of
// the whole content finds, and the same findings and rescanned ranges as
// the same delta item searched near its edits.
func TestCarriedHits(t *testing.T) {
	e := builtinEngine(t)
	r := rand.New(rand.NewSource(12))
	ctx := context.Background()
	for round := 0; round < 60; round++ {
		base := []byte(strings.Join(carryLines(r), "\n") + "\n")
		// The base is scanned whole and reports its hits.
		var baseHits []Hit
		bd := &Delta{OnHits: func(h []Hit) { baseHits = slices.Clone(h) }}
		if _, _, err := e.NewWorker().ScanDelta(ctx, "a.txt", strings.NewReader(string(base)), true, bd); err != nil {
			t.Fatal(err)
		}
		if want := allHits(e, base); !reflect.DeepEqual(baseHits, want) {
			t.Fatalf("round %d: base hits: got %d, want %d", round, len(baseHits), len(want))
		}
		// One splice: base[i:j] replaced, anywhere (not only at line
		// boundaries), by new text of the same kinds.
		i := r.Intn(len(base))
		j := min(len(base), i+r.Intn(400))
		ins := strings.Join(carryLines(r)[:r.Intn(4)], "\n") + []string{"", "\n", "tok"}[r.Intn(3)]
		data := slices.Concat(base[:i], []byte(ins), base[j:])
		shift := int32(i + len(ins) - j)
		spans := []Span{{0, i}, {i + len(ins), len(data)}}
		var carried []Hit
		for _, h := range baseHits {
			end := int(h.Pos) + len(e.patterns[h.KW])
			switch {
			case end <= i:
				carried = append(carried, h)
			case int(h.Pos) >= j:
				carried = append(carried, Hit{h.Pos + shift, h.KW})
			}
		}
		scan := func(d *Delta) []Finding {
			fs, _, err := e.NewWorker().ScanDelta(ctx, "a.txt", strings.NewReader(string(data)), true, d)
			if err != nil {
				t.Fatal(err)
			}
			return fs
		}
		var withHits []Hit
		with := &Delta{Unchanged: slices.Clone(spans), BaseHits: carried, OnHits: func(h []Hit) { withHits = slices.Clone(h) }}
		without := &Delta{Unchanged: slices.Clone(spans)}
		fw, fo := scan(with), scan(without)
		if want := allHits(e, data); !reflect.DeepEqual(withHits, want) {
			t.Fatalf("round %d: splice [%d,%d) -> %q: %d hits, want %d", round, i, j, ins, len(withHits), len(want))
		}
		// Base hits out of order are looked up one by one: the same list.
		var revHits []Hit
		rev := &Delta{Unchanged: slices.Clone(spans), BaseHits: slices.Clone(carried), OnHits: func(h []Hit) { revHits = slices.Clone(h) }}
		slices.Reverse(rev.BaseHits)
		scan(rev)
		if !reflect.DeepEqual(revHits, withHits) {
			t.Fatalf("round %d: %d hits from base hits out of order, %d in order", round, len(revHits), len(withHits))
		}
		if !reflect.DeepEqual(fw, fo) {
			t.Fatalf("round %d: findings differ with carried hits:\n%+v\n%+v", round, fw, fo)
		}
		// The order of the ranges is the order rules first got a hit,
		// which carrying changes; the source sorts them.
		byRule := func(a, b LineRange) int {
			return cmp.Or(strings.Compare(a.Rule, b.Rule), cmp.Compare(a.First, b.First), cmp.Compare(a.Last, b.Last))
		}
		slices.SortFunc(with.Rescanned, byRule)
		slices.SortFunc(without.Rescanned, byRule)
		if !reflect.DeepEqual(with.Rescanned, without.Rescanned) {
			t.Fatalf("round %d: rescanned ranges differ with carried hits:\n%v\n%v", round, with.Rescanned, without.Rescanned)
		}
	}
}
