package gitsource

import (
	"bytes"
	"slices"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keytrail/keytrail/scanner"
)

// # Scanning what each blob version adds
//
// Most blob versions differ from the version of the same file in the
// parent commit by a few lines, yet a full-blob scan reads every line of
// every version: on gitleaks' own history, 124 MB of blob versions for a
// `git log -p` of a few MB. So when a blob's parent version (the blob at
// the same path in the commit's first parent that has one) has been
// scanned, the blob is scanned as a delta of it:
//
//   - as each blob's content arrives from cat-file, the walk hashes its
//     lines and keeps the hashes (not the content) in a bounded cache,
//     by blob id, in a ring off the Go heap where the versions used
//     least recently are overwritten first (see lineCache); a version
//     whose base has left it is scanned whole;
//   - a worker aligns the new version's lines with the parent's (common
//     prefix and suffix, then lines unique to both sides as anchors,
//     extended to their neighbours) and turns the runs of lines that are
//     unchanged and still adjacent into scanner.Delta's Unchanged spans;
//   - the engine runs the keyword prefilter over the whole blob but skips
//     the regexes of hits whose region lies inside one unchanged span;
//   - Finalize carries the parent version's findings over to the new
//     version on their shifted lines, unless the engine looked at their
//     lines again (the edit may have removed a keyword the rule needed).
//
// So every blob still has the findings a full scan would give it, and the
// provenance model (oldest introduction, other locations,
// commits_containing, present_at_head) works on them unchanged. A blob
// is scanned whole when its parent version is unknown, binary, larger
// than 1 MiB, was scanned under another path (path allowlists and noisy
// paths would differ) or when --full-blobs asks for it.

// lineRun is n lines unchanged and adjacent: new lines b.. are base
// lines a.. (0-based).
type lineRun struct{ b, a, n int32 }

// blobDelta is how a blob was scanned relative to its base version.
type blobDelta struct {
	base plumbing.Hash
	runs []lineRun // set by the worker that scanned it
	d    scanner.Delta
}

// scanned drops what Finalize does not need once the engine is done with
// the blob: the unchanged spans, and rescanned ranges that repeat or lie
// inside another of the same rule (a line with several keyword hits is
// noted once per hit). Covers needs one range holding a finding's lines,
// so a range inside another decides nothing.
//
// A range that overlaps no run holds no carried-over finding (those lie
// inside one run), so it goes too: most regions the engine runs again
// are on the changed lines themselves.
func (bd *blobDelta) scanned() {
	bd.d.Unchanged = nil
	rs := bd.d.Rescanned[:0]
	for _, r := range bd.d.Rescanned {
		// runs are sorted by new line: the first ending at or after
		// r.First (1-based here, 0-based in runs) decides.
		i := sort.Search(len(bd.runs), func(i int) bool { return int(bd.runs[i].b+bd.runs[i].n) >= r.First })
		if i < len(bd.runs) && int(bd.runs[i].b)+1 <= r.Last {
			rs = append(rs, r)
		}
	}
	if len(rs) < 2 {
		bd.d.Rescanned = slices.Clone(rs)
		return
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Rule != rs[j].Rule {
			return rs[i].Rule < rs[j].Rule
		}
		if rs[i].First != rs[j].First {
			return rs[i].First < rs[j].First
		}
		return rs[i].Last > rs[j].Last
	})
	out := rs[:1]
	reach := rs[0].Last // furthest end among kept ranges of this rule
	for _, r := range rs[1:] {
		// Sorted by first line, longest first: r lies inside a kept
		// range of its rule if it ends no later than the furthest one.
		if p := out[len(out)-1]; p.Rule == r.Rule && r.Last <= reach {
			continue
		}
		reach = r.Last
		out = append(out, r)
	}
	bd.d.Rescanned = slices.Clone(out)
}

// aligner holds the scratch space of alignLines and deltaSpans, reused
// from blob to blob: allocating it afresh (a map entry per line, index
// slices per version) was over a third of the bytes a history scan
// allocated, and with them much of its GC time.
type aligner struct {
	// open-addressing table of alignMiddle, by line hash; a slot is in
	// use when its stamp is gen
	keys   []uint64
	occs   []occ
	stamps []uint32
	gen    uint32

	pairs   [][2]int32
	anchors [][2]int32
	matchA  []int32
	usedA   []bool
	tails   []int
	prev    []int
	runs    []lineRun
	starts  []int32

	ha, hb []uint64 // the base's and the new version's line hashes
}

type occ struct {
	na, nb int32
	ia, ib int32
}

// slot returns h's entry, adding it if absent.
func (al *aligner) slot(h uint64) *occ {
	mask := uint64(len(al.keys) - 1)
	for i := (h ^ h>>29) & mask; ; i = (i + 1) & mask {
		if al.stamps[i] != al.gen {
			al.stamps[i], al.keys[i], al.occs[i] = al.gen, h, occ{}
			return &al.occs[i]
		}
		if al.keys[i] == h {
			return &al.occs[i]
		}
	}
}

// find returns h's entry or nil.
func (al *aligner) find(h uint64) *occ {
	mask := uint64(len(al.keys) - 1)
	for i := (h ^ h>>29) & mask; ; i = (i + 1) & mask {
		if al.stamps[i] != al.gen {
			return nil
		}
		if al.keys[i] == h {
			return &al.occs[i]
		}
	}
}

// reset empties the table, sized for n keys. A table no larger than
// needed keeps probe runs short and the stamps it reads in cache.
func (al *aligner) reset(n int) {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if cap(al.keys) < size {
		al.keys, al.occs, al.stamps, al.gen = make([]uint64, size), make([]occ, size), make([]uint32, size), 0
	}
	al.keys, al.occs, al.stamps = al.keys[:size], al.occs[:size], al.stamps[:size]
	al.gen++
	if al.gen == 0 { // wrapped: old stamps could read as current
		clear(al.stamps[:cap(al.stamps)])
		al.gen = 1
	}
}

// alignLines returns the runs of b's lines that are a's lines, in order,
// still adjacent to each other. It need not be a minimal diff: a line it
// fails to match is only scanned again.
func alignLines(a, b []uint64) []lineRun {
	return slices.Clone(new(aligner).alignLines(a, b))
}

// alignLines is alignLines; the result is valid until al's next use.
func (al *aligner) alignLines(a, b []uint64) []lineRun {
	runs := al.runs[:0]
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	q := 0
	for q < len(a)-p && q < len(b)-p && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	if p > 0 {
		runs = append(runs, lineRun{0, 0, int32(p)})
	}
	am, bm := a[p:len(a)-q], b[p:len(b)-q]
	if len(am) > 0 && len(bm) > 0 {
		runs = al.alignMiddle(runs, am, bm, int32(p))
	}
	if q > 0 {
		runs = append(runs, lineRun{int32(len(b) - q), int32(len(a) - q), int32(q)})
	}
	al.runs = runs
	return mergeRuns(runs)
}

// alignMiddle matches lines that occur once on each side (patience
// diff's anchors), keeps the longest sequence of them in order on both
// sides, and grows each anchor over equal neighbours. It appends the
// runs to runs.
func (al *aligner) alignMiddle(runs []lineRun, a, b []uint64, off int32) []lineRun {
	al.reset(len(a))
	for i, h := range a {
		o := al.slot(h)
		o.na++
		o.ia = int32(i)
	}
	pairs := al.pairs[:0] // (ib, ia), by ib
	for i, h := range b {
		if o := al.find(h); o != nil {
			o.nb++
			o.ib = int32(i)
		}
	}
	for i, h := range b {
		if o := al.find(h); o != nil && o.na == 1 && o.nb == 1 {
			pairs = append(pairs, [2]int32{int32(i), o.ia})
		}
	}
	al.pairs = pairs
	anchors := al.lis(pairs)
	matchA := grow(al.matchA, len(b)) // base line of each new line, or -1
	al.matchA = matchA
	for i := range matchA {
		matchA[i] = -1
	}
	usedA := grow(al.usedA, len(a))
	al.usedA = usedA
	clear(usedA)
	for _, pr := range anchors {
		matchA[pr[0]], usedA[pr[1]] = pr[1], true
	}
	for _, pr := range anchors {
		for ib, ia := pr[0]+1, pr[1]+1; ib < int32(len(b)) && ia < int32(len(a)) && matchA[ib] < 0 && !usedA[ia] && a[ia] == b[ib]; ib, ia = ib+1, ia+1 {
			matchA[ib], usedA[ia] = ia, true
		}
		for ib, ia := pr[0]-1, pr[1]-1; ib >= 0 && ia >= 0 && matchA[ib] < 0 && !usedA[ia] && a[ia] == b[ib]; ib, ia = ib-1, ia-1 {
			matchA[ib], usedA[ia] = ia, true
		}
	}
	for i := 0; i < len(b); {
		if matchA[i] < 0 {
			i++
			continue
		}
		j := i + 1
		for j < len(b) && matchA[j] == matchA[j-1]+1 {
			j++
		}
		runs = append(runs, lineRun{off + int32(i), off + matchA[i], int32(j - i)})
		i = j
	}
	return runs
}

// grow returns s resliced to n, reallocated if it is too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// lis returns the longest subsequence of pairs (sorted by [0]) that is
// increasing in [1]. The result is in al's scratch (the start of pairs'
// backing array is not touched).
func (al *aligner) lis(pairs [][2]int32) [][2]int32 {
	if len(pairs) == 0 {
		return nil
	}
	tails := al.tails[:0] // index into pairs of the smallest tail of each length
	prev := grow(al.prev, len(pairs))
	for i, p := range pairs {
		k := sort.Search(len(tails), func(k int) bool { return pairs[tails[k]][1] >= p[1] })
		if k > 0 {
			prev[i] = tails[k-1]
		} else {
			prev[i] = -1
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	al.tails, al.prev = tails, prev
	out := grow(al.anchors, len(tails)) // valid until al's next use
	al.anchors = out
	for i, k := len(tails)-1, tails[len(tails)-1]; i >= 0; i, k = i-1, prev[k] {
		out[i] = pairs[k]
	}
	return out
}

// mergeRuns joins runs that continue each other.
func mergeRuns(runs []lineRun) []lineRun {
	out := runs[:0]
	for _, r := range runs {
		if n := len(out); n > 0 && out[n-1].b+out[n-1].n == r.b && out[n-1].a+out[n-1].n == r.a {
			out[n-1].n += r.n
			continue
		}
		out = append(out, r)
	}
	return out
}

// deltaSpans turns runs into the engine's unchanged byte spans over data
// (the new version, nb lines; the base has na lines). A run at the start
// (end) of the new version that is not at the start (end) of the base
// loses that line, so a span touches the content's ends only where the
// base's copy does.
func deltaSpans(data []byte, runs []lineRun, na, nb int32) ([]lineRun, []scanner.Span) {
	return new(aligner).deltaSpans(data, runs, na, nb)
}

// deltaSpans is deltaSpans; the runs it returns are its own copy. The
// start of each line of data (and len(data)) is left in al.starts.
func (al *aligner) deltaSpans(data []byte, runs []lineRun, na, nb int32) ([]lineRun, []scanner.Span) {
	starts := al.starts[:0]
	for off := 0; ; {
		starts = append(starts, int32(off))
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 || off+i+1 == len(data) {
			break
		}
		off += i + 1
	}
	starts = append(starts, int32(len(data)))
	al.starts = starts
	return spansOf(runs, starts, na, nb)
}

// spansOf is deltaSpans with the line starts known.
func spansOf(runs []lineRun, starts []int32, na, nb int32) ([]lineRun, []scanner.Span) {
	if int32(len(starts)) != nb+1 {
		return nil, nil // cannot happen: the hashes came from data
	}
	trimmed := runs[:0]
	var spans []scanner.Span
	for _, r := range runs {
		if r.b == 0 && r.a != 0 {
			r.b, r.a, r.n = r.b+1, r.a+1, r.n-1
		}
		if r.b+r.n == nb && r.a+r.n != na {
			r.n--
		}
		if r.n <= 0 {
			continue
		}
		trimmed = append(trimmed, r)
		spans = append(spans, scanner.Span{Start: int(starts[r.b]), End: int(starts[r.b+r.n])})
	}
	return slices.Clone(trimmed), spans
}

// inherit returns base's findings that the new version still has: those
// on lines of one run (moved to their new lines) that the engine did not
// look at again.
func inherit(base []fref, bd *blobDelta, key string) []fref {
	if bd.d.Full {
		return nil
	}
	var out []fref
	for _, r := range base {
		f := r.f
		line, endLine := r.line(), r.endLine()
		// Every line of the match must be kept, not only the secret's:
		// a netrc match whose machine line changed is gone even though
		// its password line stays (the engine saw no keyword there to
		// run the rule again).
		mFirst, mLast := r.matchLines()
		first, last := int32(mFirst-1), int32(mLast-1)
		i := sort.Search(len(bd.runs), func(i int) bool { return bd.runs[i].a+bd.runs[i].n > first })
		if i == len(bd.runs) {
			continue
		}
		run := bd.runs[i]
		if first < run.a || last >= run.a+run.n {
			continue
		}
		shift := int(run.b - run.a)
		rule := f.RuleID
		if f.Decoded != "" {
			rule = ""
		}
		again := false
		for _, lr := range bd.d.Rescanned {
			if lr.Covers(rule, line+shift, max(endLine, line)+shift) {
				again = true
				break
			}
		}
		if again {
			continue
		}
		out = append(out, fref{f: f, key: key, shift: r.shift + int32(shift)})
	}
	return out
}
