package scanner

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/keytrail/keytrail/scanner/kwmatch"
)

// Delta describes an item as an edit of content that has already been
// scanned (a git blob version and the version of the same file it was
// changed from). The engine still runs the keyword prefilter over the
// whole item, but a hit whose regex region, and every byte that decided
// where that region starts and ends, lies inside one Unchanged span is
// the same text around the same hit as in the base: its matches are the
// base's, so the regex is not run again. The source carries the base's
// findings over (see Rescanned). A Delta is used only for an item that
// fits in one engine window; otherwise the item is scanned whole and Full
// is set.
type Delta struct {
	// Unchanged are byte ranges of the content, sorted and disjoint, that
	// are identical in the base with identical surroundings up to their
	// ends. A span may start at 0 (end at the content's length) only if
	// the base's copy starts (ends) there too.
	Unchanged []Span

	// Filled in by the engine after the scan.

	// Full is set when the item was scanned whole, Unchanged unused.
	Full bool
	// Rescanned are the line ranges the engine ran regexes over that
	// touch an Unchanged span, per rule ID ("" for decoded words, which
	// are scanned with every rule). A base finding whose lines fall in one
	// of its rule's ranges was looked for again; it is carried over only
	// if it was not.
	Rescanned []LineRange

	// BaseClean, when set, reports whether the base is known to hold no
	// finding for this item to carry over. Rescanned is then of no use
	// and is left empty: most versions of a history are made from clean
	// ones, and their ranges were 2% of a scan's CPU time.
	BaseClean func() bool

	// Keyword hits (see "Carried hits" below).

	// BaseHits, set by the source, are the base's keyword hits that lie
	// inside Unchanged spans, at their offsets in this content, by Pos:
	// all of them, or nil when they are not known.
	BaseHits []Hit
	// LineStarts, when set, is where each line of the content starts,
	// and the content's length last (the source walked the lines
	// already).
	LineStarts []int32
	// OnHits, when set, is called with every keyword hit of the content,
	// by Pos then KW, once the engine has them (not at all when it does
	// not: content of several windows, binary content). The slice is the
	// engine's and valid only during the call.
	OnHits func(hits []Hit)
	// OnDone, when set, is called once Scanner.Run has scanned the item,
	// with the number of findings the scan gave (-1 if it failed), from
	// the goroutine that scanned it.
	OnDone func(findings int)
}

// Hit is an occurrence of prefilter keyword KW (an index into the
// engine's keywords, stable for one Engine) at byte Pos.
type Hit struct{ Pos, KW int32 }

// # Carried hits
//
// The keyword prefilter's hits in unchanged text are the base's, moved:
// the bytes are the same. So when the source hands over the base's hits
// (its Hits from its own scan, moved through the alignment), the engine
// runs the prefilter only over the changed bytes (and maxKw-1 either
// side, for keywords that cross into them) and has every hit of the
// item without searching the rest. The hits near the edits go on as
// before; a fall back to the whole prefilter uses the list instead of a
// search; Lead rules' block walks read it too. On gitleaks' history
// 6,678 of 7,529 delta versions carried their base's hits and the scan
// took 8% less CPU time. The rest came to a worker while their base was
// still being scanned; now they wait for it unless it is waiting itself
// (see gitsource's waitScanned), and ~7,000 of ~7,150 carry them.

// Span is a byte range [Start, End).
type Span struct{ Start, End int }

// LineRange is a rule's 1-based inclusive line range in an item.
type LineRange struct {
	Rule        string
	First, Last int
}

// Covers reports whether the range holds lines first..last of rule's
// findings (decoded findings match the "" ranges).
func (r LineRange) Covers(rule string, first, last int) bool {
	return r.Rule == rule && r.First <= first && last <= r.Last
}

// deltaState is the delta of the item being scanned, while its (single)
// window is.
type deltaState struct {
	d     *Delta
	n     int // content length
	spans []Span
	// rescanned byte ranges per rule index (-1: decoded words).
	rerun []rerunSpan
	// lines at least as long as the narrowest Context (longLines)
	long     []Span
	longDone bool
	ps       []rerunPos // finish's scratch
}

type rerunPos struct {
	off int
	idx int
	end bool
}

type rerunSpan struct {
	rule     int
	from, to int
}

// unchanged reports whether [lo, hi) lies in one Unchanged span. lo < 0
// or hi > n mean the decision also depended on where the content starts
// or ends, which the span must share.
func (st *deltaState) unchanged(lo, hi int) bool {
	if lo < 0 {
		lo = 0
	}
	if hi > st.n {
		hi = st.n
	}
	sp := st.spans
	i := sort.Search(len(sp), func(i int) bool { return sp[i].End >= hi })
	return i < len(sp) && sp[i].Start <= lo
}

// note records that rule's regex (or the decoder, rule -1) ran over
// [from, to) when that range touches unchanged text: a base finding
// there was looked for again.
func (st *deltaState) note(rule, from, to int) {
	st.rerun = append(st.rerun, rerunSpan{rule, from, to})
}

// finish converts the rescanned byte ranges to line ranges on d.
func (st *deltaState) finish(data []byte, rules func(int) string) {
	if len(st.rerun) == 0 || st.d.BaseClean != nil && st.d.BaseClean() {
		return
	}
	n := len(st.d.Rescanned)
	if ls := st.d.LineStarts; len(ls) > 0 && int(ls[len(ls)-1]) == len(data) {
		// The lines are known: a binary search per end, no sort and no
		// count of newlines (which, over every delta version of
		// gitleaks' history, was 2-3% of a scan's CPU time).
		st.d.Rescanned = slices.Grow(st.d.Rescanned, len(st.rerun))
		for _, r := range st.rerun {
			st.d.Rescanned = append(st.d.Rescanned, LineRange{Rule: rules(r.rule),
				First: lineAt(ls, data, r.from), Last: lineAt(ls, data, max(r.to-1, r.from))})
		}
		return
	}
	ps := st.ps[:0]
	defer func() { st.ps = ps[:0] }()
	for i, r := range st.rerun {
		ps = append(ps, rerunPos{r.from, i, false}, rerunPos{max(r.to-1, r.from), i, true})
	}
	slices.SortFunc(ps, func(a, b rerunPos) int { return cmp.Compare(a.off, b.off) })
	st.d.Rescanned = slices.Grow(st.d.Rescanned, len(st.rerun))[:n+len(st.rerun)]
	out := st.d.Rescanned[n:]
	line, at := 1, 0
	for _, p := range ps {
		off := min(p.off, len(data))
		line += bytes.Count(data[at:off], nl)
		at = off
		if p.end {
			out[p.idx].Last = line
		} else {
			out[p.idx].First = line
			out[p.idx].Rule = rules(st.rerun[p.idx].rule)
		}
	}
}

// AppendLineStarts appends to dst where each line of data starts (a line
// ends after its newline), then len(data): Delta.LineStarts.
func AppendLineStarts(dst []int32, data []byte) []int32 {
	for off := 0; off < len(data); {
		dst = append(dst, int32(off))
		i := bytes.IndexByte(data[off:], '\n') + 1
		if i == 0 {
			i = len(data) - off
		}
		off += i
	}
	return append(dst, int32(len(data)))
}

// lineAt is the 1-based line of data that byte off is on (1 plus the
// newlines before it), given ls, the start of each line and len(data)
// last.
func lineAt(ls []int32, data []byte, off int) int {
	if off >= len(data) {
		n := len(ls) - 1 // lines
		if n > 0 && data[len(data)-1] != '\n' {
			n-- // the last line has no newline
		}
		return n + 1
	}
	// The line holding off is the last starting at or before it; line i
	// (from 0) follows i newlines.
	i := sort.Search(len(ls)-1, func(i int) bool { return int(ls[i]) > off })
	return i
}

// # The prefilter of a delta item
//
// A keyword hit whose region, and the bytes that decided it, lie inside
// one Unchanged span is skipped (its matches are the base's). Such a
// region is within reach of its hit: the rule's Context, plus the 1 KiB a
// cut on a long line may widen by, plus the delimiter either side. So a
// hit deeper than that inside a span needs no keyword search at all, and
// the prefilter runs only over the rest ("near" the edits): on a real
// history most of a file version is its base's. Rules split into tiers
// by Context, so the few with a wide one (PEM blocks, 16 KiB) do
// not widen the search for all: the keywords of each wider tier have
// their own automaton, run over their own, wider, near ranges.
//
// One more reason to look at a hit: a region skipped as unchanged is run
// again when a new match overlaps it (overrides between rules must meet).
// A region overlapping a match has its hit within reach of the match; the
// margins leave room for that, and when a new match lies where a region's
// hit might not have been searched, the item is scanned again with the
// whole prefilter.

// tierContexts are the widest Context of each tier but the last. A
// third tier at 4 KiB (the 600-2,500 byte rules apart from PEM blocks)
// cost more in its own automaton pass than it saved on gitleaks' history.
var tierContexts = [...]int{512}

// A region's decision reads beyond its rule's Context by a delimiter
// each side, and by up to cutSlack more where a cut on a long line is
// widened (widenToBoundary). Only a line at least as long as the
// narrowest Context can be cut, and most code has none near an edit, so
// the wider reach is taken only near one: on gitleaks' history that
// cut the bytes the first tier searched from 46.7 MB to 33.9 MB.
const (
	delimSlack = 2
	cutSlack   = 1024
)

// deltaTier is the rules whose Context falls in one tier, and the
// automaton of their keywords (the first tier uses the engine's own).
type deltaTier struct {
	ctx int              // widest Context in the tier
	kw  *kwmatch.Matcher // nil: the engine's automaton, all keywords
	pat []int            // kw keyword -> e.kw keyword
}

type deltaPrefilter struct {
	tiers  []deltaTier
	tier   []int8 // per rule
	maxKw  int
	minCtx int // narrowest Context of any rule
}

// reach is the furthest byte a decision of tier t reads from its hit,
// with or without a long line in the way.
func (p *deltaPrefilter) reach(t int, long bool) int {
	r := p.tiers[t].ctx + delimSlack
	if long {
		r += cutSlack
	}
	return r
}

// margin is how far from an edit tier t's keywords are searched.
func (p *deltaPrefilter) margin(t int, long bool) int {
	if t == 0 {
		return 3*p.reach(0, long) + 512
	}
	return 2*p.reach(0, long) + p.reach(t, long) + 512
}

func (e *Engine) deltaPrefilter() *deltaPrefilter {
	e.deltaOnce.Do(func() {
		p := &deltaPrefilter{tier: make([]int8, len(e.rules)), minCtx: math.MaxInt}
		p.tiers = make([]deltaTier, len(tierContexts)+1)
		for ri, r := range e.rules {
			t := 0
			for t < len(tierContexts) && r.Context > tierContexts[t] {
				t++
			}
			p.tier[ri] = int8(t)
			p.tiers[t].ctx = max(p.tiers[t].ctx, r.Context)
			p.minCtx = min(p.minCtx, r.Context)
		}
		kws := make([][]string, len(p.tiers))
		for pi, k := range e.patterns {
			p.maxKw = max(p.maxKw, len(k))
			seen := make([]bool, len(p.tiers))
			for _, ri := range e.kwRules[pi] {
				if t := p.tier[ri]; t > 0 && !seen[t] {
					seen[t] = true
					kws[t] = append(kws[t], k)
					p.tiers[t].pat = append(p.tiers[t].pat, pi)
				}
			}
		}
		for t := range p.tiers {
			if t > 0 && len(kws[t]) > 0 {
				p.tiers[t].kw = kwmatch.New(kws[t])
			}
		}
		e.delta = p
	})
	return e.delta
}

// near returns, in order, the byte ranges of the content outside the
// deep inside of every Unchanged span: more than margin bytes from its
// ends, or from an end that is the content's own.
func (st *deltaState) near(margin int) []Span {
	return st.nearBy(func(int) int { return margin })
}

// nearBy is near with the margin at each span end (a byte offset) given
// by mg.
func (st *deltaState) nearBy(mg func(at int) int) []Span {
	var out []Span
	pos := 0
	for _, sp := range st.spans {
		ds, de := sp.Start+mg(sp.Start), sp.End-mg(sp.End)
		if sp.Start == 0 {
			ds = 0
		}
		if sp.End >= st.n {
			de = st.n
		}
		if ds >= de {
			continue
		}
		if ds > pos {
			out = append(out, Span{pos, ds})
		}
		pos = de
	}
	if pos < st.n {
		out = append(out, Span{pos, st.n})
	}
	return out
}

// longLines returns the lines of the content at least n bytes long,
// computed once per item.
func (st *deltaState) longLines(data []byte, n int) []Span {
	if st.longDone {
		return st.long
	}
	st.longDone = true
	if st.d == nil {
		// no item (tests)
	} else if ls := st.d.LineStarts; len(ls) > 0 && int(ls[len(ls)-1]) == len(data) {
		for i := 0; i+1 < len(ls); i++ {
			if int(ls[i+1]-ls[i]) >= n {
				st.long = append(st.long, Span{int(ls[i]), int(ls[i+1])})
			}
		}
		return st.long
	}
	for pos := 0; pos < len(data); {
		i := bytes.IndexByte(data[pos:], '\n')
		end := pos + i + 1
		if i < 0 {
			end = len(data)
		}
		if end-pos >= n {
			st.long = append(st.long, Span{pos, end})
		}
		pos = end
	}
	return st.long
}

// longNear reports whether a long line meets [lo, hi).
func (st *deltaState) longNear(lo, hi int) bool {
	l := st.long
	i := sort.Search(len(l), func(i int) bool { return l[i].End > lo })
	return i < len(l) && l[i].Start < hi
}

// nearTier is near for tier t of p: the margin at each span end is the
// long-line one only where a long line lies within it.
func (st *deltaState) nearTier(p *deltaPrefilter, t int) []Span {
	short, long := p.margin(t, false), p.margin(t, true)
	return st.nearBy(func(at int) int {
		if st.longNear(at-long, at+long) {
			return long
		}
		return short
	})
}

// within reports whether [lo, hi), clipped to [0, n), lies in one of the
// sorted, disjoint ranges.
func within(rs []Span, lo, hi, n int) bool {
	lo, hi = max(lo, 0), min(hi, n)
	i := sort.Search(len(rs), func(i int) bool { return rs[i].End > lo })
	return i < len(rs) && rs[i].Start <= lo && hi <= rs[i].End
}

// eachIn runs m over each range, reporting keywords that start in it.
func eachIn(m *kwmatch.Matcher, data []byte, rs []Span, maxKw int, fn func(kw, start int)) {
	for _, r := range rs {
		end := min(r.End+maxKw-1, len(data))
		m.Each(data[r.Start:end], func(kw, s int) {
			if r.Start+s < r.End {
				fn(kw, r.Start+s)
			}
		})
	}
}

// searchAll fills w.all with every keyword hit of data, by a search of
// all of it, and sets w.carried.
func (w *Worker) searchAll(data []byte) {
	all := w.all[:0]
	w.e.kw.Each(data, func(kw, s int) { all = append(all, Hit{int32(s), int32(kw)}) })
	if !slices.IsSortedFunc(all, cmpHit) {
		slices.SortFunc(all, cmpHit)
	}
	w.all, w.carried = all, true
}

func cmpHit(a, b Hit) int {
	if c := cmp.Compare(a.Pos, b.Pos); c != 0 {
		return c
	}
	return cmp.Compare(a.KW, b.KW)
}

// carry fills w.all with every keyword hit of data, a delta item's only
// window: the base's hits inside Unchanged spans, and a search of the
// rest. It sets w.carried.
func (w *Worker) carry(data []byte, st *deltaState) {
	e := w.e
	maxKw := e.deltaPrefilter().maxKw
	all := w.all[:0]
	kwLen := func(kw int) int { return len(e.patterns[kw]) }
	// Base hits come by position: one walk over the spans keeps each
	// that lies inside one (the hit's span is the first ending past its
	// start; spans are disjoint).
	sp, si, prev := st.spans, 0, 0
	for _, h := range st.d.BaseHits {
		if h.KW < 0 || int(h.KW) >= len(e.patterns) || h.Pos < 0 || int(h.Pos)+kwLen(int(h.KW)) > len(data) {
			continue
		}
		lo, hi := int(h.Pos), int(h.Pos)+kwLen(int(h.KW))
		if lo < prev { // not by position after all: look it up
			if st.unchanged(lo, hi) {
				all = append(all, h)
			}
			continue
		}
		prev = lo
		for si < len(sp) && sp[si].End <= lo {
			si++
		}
		if si < len(sp) && sp[si].Start <= lo && hi <= sp[si].End {
			all = append(all, h)
		}
	}
	carried := len(all)
	search := func(from, to int) {
		a, b := max(0, from-maxKw+1), min(len(data), to+maxKw-1)
		e.kw.Each(data[a:b], func(kw, s int) {
			p := a + s
			// One inside a span is the base's, carried above.
			if !st.unchanged(p, p+kwLen(kw)) {
				all = append(all, Hit{int32(p), int32(kw)})
			}
		})
	}
	pos := 0
	for _, sp := range st.spans {
		if sp.Start > pos {
			search(pos, sp.Start)
		}
		pos = max(pos, sp.End)
	}
	if pos < len(data) {
		search(pos, len(data))
	}
	// The carried hits come sorted (else they are sorted here); the few
	// found near the edits are sorted alone and merged in. Sorting the
	// whole list again cost 1.7% of a history scan's CPU time: a config
	// file's thousands of hits, once for each of its hundreds of versions.
	if !slices.IsSortedFunc(all[:carried], cmpHit) {
		slices.SortFunc(all[:carried], cmpHit)
	}
	if carried < len(all) {
		found := all[carried:]
		slices.SortFunc(found, cmpHit)
		merged := mergeHits(w.spare[:0], all[:carried], found)
		// searches of two gaps can overlap
		w.spare, all = all[:0], slices.Compact(merged)
	}
	w.all, w.carried = all, true
}

// mergeHits appends the merge of a and b, each sorted by cmpHit, to dst.
func mergeHits(dst, a, b []Hit) []Hit {
	dst = slices.Grow(dst, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if cmpHit(b[0], a[0]) < 0 {
			dst, b = append(dst, b[0]), b[1:]
		} else {
			dst, a = append(dst, a[0]), a[1:]
		}
	}
	return append(append(dst, a...), b...)
}
