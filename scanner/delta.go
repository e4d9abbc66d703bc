package scanner

import (
	"bytes"
	"sort"
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
}

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
	if len(st.rerun) == 0 {
		return
	}
	type pos struct {
		off int
		idx int
		end bool
	}
	ps := make([]pos, 0, 2*len(st.rerun))
	for i, r := range st.rerun {
		ps = append(ps, pos{r.from, i, false}, pos{max(r.to-1, r.from), i, true})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].off < ps[j].off })
	out := make([]LineRange, len(st.rerun))
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
	st.d.Rescanned = append(st.d.Rescanned, out...)
}
