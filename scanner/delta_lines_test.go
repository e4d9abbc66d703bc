package scanner

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// FuzzDeltaFinishLines checks that the rescanned line ranges found with
// the source's line starts (a binary search per end) are those found by
// counting newlines, for ranges anywhere in arbitrary content.
func FuzzDeltaFinishLines(f *testing.F) {
	for _, s := range []string{"", "\n", "a", "a\n", "a\nb", "a\nb\n", "\n\n\nxyz\n\n", "one\ntwo\nthree"} {
		f.Add([]byte(s), uint16(0), uint16(1), uint16(3), uint16(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b, c, d uint16) {
		n := len(data) + 1
		spans := []rerunSpan{
			{0, int(a) % n, int(b) % n},
			{1, int(c) % n, int(d) % n},
			{0, int(d) % n, n - 1},
			{-1, int(b) % n, int(a) % n},
		}
		names := func(i int) string { return fmt.Sprint("rule", i) }
		counted := &deltaState{d: &Delta{}, rerun: slices.Clone(spans)}
		counted.finish(data, names)
		searched := &deltaState{d: &Delta{LineStarts: AppendLineStarts(nil, data)}, rerun: slices.Clone(spans)}
		searched.finish(data, names)
		if !slices.Equal(counted.d.Rescanned, searched.d.Rescanned) {
			t.Fatalf("%q %v: counted %v, searched %v", data, spans, counted.d.Rescanned, searched.d.Rescanned)
		}
		for off := 0; off <= len(data)+1; off++ {
			want := 1 + bytes.Count(data[:min(off, len(data))], []byte{'\n'})
			if got := lineAt(AppendLineStarts(nil, data), data, off); got != want {
				t.Fatalf("%q: lineAt(%d) = %d, want %d", data, off, got, want)
			}
		}
	})
}

// TestDeltaFinishBaseClean: a base known to hold no finding needs no
// rescanned ranges; one that may hold some gets them.
func TestDeltaFinishBaseClean(t *testing.T) {
	data := []byte("a\nb\nc\n")
	for _, clean := range []bool{true, false} {
		st := &deltaState{d: &Delta{BaseClean: func() bool { return clean }}, rerun: []rerunSpan{{0, 2, 5}}}
		st.finish(data, func(int) string { return "r" })
		want := []LineRange{{Rule: "r", First: 2, Last: 3}}
		if clean {
			want = nil
		}
		if !slices.Equal(st.d.Rescanned, want) {
			t.Errorf("base clean %v: Rescanned %v, want %v", clean, st.d.Rescanned, want)
		}
	}
}

// FuzzMergeHits: merging two sorted lists gives the sorted concatenation.
func FuzzMergeHits(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{2, 2, 0})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		hits := func(bs []byte) []Hit {
			var hs []Hit
			for i, c := range bs {
				hs = append(hs, Hit{int32(c >> 2), int32(c&3) + int32(i%2)})
			}
			slices.SortFunc(hs, cmpHit)
			return hs
		}
		ha, hb := hits(a), hits(b)
		want := slices.Concat(ha, hb)
		slices.SortFunc(want, cmpHit)
		if got := mergeHits([]Hit{{-1, -1}}, ha, hb)[1:]; !slices.Equal(got, want) {
			t.Fatalf("merge of %v and %v: %v, want %v", ha, hb, got, want)
		}
	})
}
