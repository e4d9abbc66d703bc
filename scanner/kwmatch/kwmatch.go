// Package kwmatch finds every occurrence of a set of ASCII keywords in a
// text, ignoring ASCII case, in one pass. It is the engine's prefilter.
//
// It is a dense Aho-Corasick DFA: one table lookup per input byte, with
// case folding folded into the byte-class table. It replaces
// github.com/petar-dambovaliev/aho-corasick, whose overlapping iterator
// ran at about 225 MB/s on Go source with the full rule set's 437
// keywords; this runs several times faster on the same input (see
// BENCHMARKS.md, BenchmarkPrefilter).
//
// Building the DFA for the full rule set takes milliseconds, a large
// share of a pre-commit run that scans a few hundred bytes. So the DFA is
// built on first need: until a matcher has scanned smallBudget bytes, and
// for texts of at most smallText bytes, Each and AppendStarts look up
// each position's last two bytes in a small index instead, with the same
// results in the same order.
package kwmatch

import (
	"sync"
	"sync/atomic"
)

// Matcher is an immutable keyword matcher, safe for concurrent use.
type Matcher struct {
	patterns []string // as given
	lens     []int    // keyword lengths
	maxLen   int      // longest keyword
	small    smallIndex
	budget   atomic.Int64 // bytes the small index may still scan
	once     sync.Once
	d        atomic.Pointer[dfa]
	one      *one // set for a single keyword, found by its own search
}

// dfa is a dense Aho-Corasick automaton: one table lookup per input byte,
// with case folding folded into the byte-class table.
type dfa struct {
	classes [256]uint8 // byte -> class; case-folded
	nclass  int
	trans   []uint32 // state*nclass + class -> next state
	out     [][]int  // state -> keyword indices ending here (incl. via suffix links)
}

// Past these the DFA is built: scanning with the small index costs a
// lookup per byte and a compare per candidate keyword, several times
// the DFA's cost per byte, and the DFA for the built-in rules takes
// about as long to build as the small index takes for ~64 KB.
const (
	smallText   = 16 << 10 // longest text the small index scans
	smallBudget = 64 << 10 // bytes in all before the DFA is built
)

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// New returns a matcher for the keywords (matched case-insensitively).
func New(keywords []string) *Matcher {
	m := &Matcher{patterns: keywords, lens: make([]int, len(keywords))}
	for i, k := range keywords {
		m.lens[i] = len(k)
		m.maxLen = max(m.maxLen, len(k))
	}
	if len(keywords) == 1 && keywords[0] != "" {
		m.one = newOne(keywords[0])
		return m
	}
	m.small = newSmallIndex(keywords)
	m.budget.Store(smallBudget)
	return m
}

// automaton returns the DFA for texts of n bytes, or nil when the small
// index should scan them.
func (m *Matcher) automaton(n int) *dfa {
	if d := m.d.Load(); d != nil {
		return d
	}
	if n <= smallText && m.budget.Add(-int64(n)) >= 0 {
		return nil
	}
	m.once.Do(func() { m.d.Store(buildDFA(m.patterns)) })
	return m.d.Load()
}

func buildDFA(keywords []string) *dfa {
	m := &dfa{}
	// Byte classes: every byte that occurs in a keyword (case-folded) gets
	// its own class; all others share class 0.
	var used [256]bool
	for _, k := range keywords {
		for i := 0; i < len(k); i++ {
			used[lower(k[i])] = true
		}
	}
	n := 1
	for c := 0; c < 256; c++ {
		if used[c] {
			m.classes[c] = uint8(n)
			n++
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.classes[c] = m.classes[c+'a'-'A']
	}
	m.nclass = n

	// Trie.
	// The trie is built straight into the transition table (0: no
	// child; the root is never one), without a map per node.
	// A trie has at most one state per keyword byte plus the root;
	// sizing the table for that up front replaces a few hundred
	// growing copies.
	states := 1
	for _, k := range keywords {
		states += len(k)
	}
	trans := make([]uint32, n, states*n)
	outs := make([][]int, 1, states)
	for ki, k := range keywords {
		s := 0
		for i := 0; i < len(k); i++ {
			c := int(m.classes[lower(k[i])])
			nx := int(trans[s*n+c])
			if nx == 0 {
				nx = len(outs)
				outs = append(outs, nil)
				trans = append(trans, make([]uint32, n)...)
				trans[s*n+c] = uint32(nx)
			}
			s = nx
		}
		outs[s] = append(outs[s], ki)
	}
	fail := make([]uint32, len(outs))
	queue := make([]int, 0, len(outs))
	for c := 0; c < n; c++ {
		if nx := trans[c]; nx != 0 {
			queue = append(queue, int(nx))
		}
	}
	// Breadth first, so a state's failure state (shallower) already has
	// its full row when the state's own missing transitions copy it.
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := int(fail[s])
		if len(outs[f]) > 0 {
			outs[s] = append(outs[s][:len(outs[s]):len(outs[s])], outs[f]...)
		}
		row, frow := trans[s*n:(s+1)*n], trans[f*n:(f+1)*n]
		for c := 0; c < n; c++ {
			if nx := row[c]; nx != 0 {
				fail[nx] = frow[c]
				queue = append(queue, int(nx))
			} else {
				row[c] = frow[c]
			}
		}
	}
	// The table was sized for one state per keyword byte; shared
	// prefixes leave a third or more of that unused (13,000 keyword bytes,
	// 8,000 states for the built-in rules): keep only what is used, since
	// the matcher lives as long as the scan.
	m.trans = append([]uint32(nil), trans...)
	m.out = append([][]int(nil), outs...)
	for i, t := range m.trans {
		v := t * uint32(n)
		if len(outs[t]) > 0 {
			v |= outFlag
		}
		m.trans[i] = v
	}
	return m
}

const outFlag = 1 << 31

// Each calls fn(keyword index, start offset) for every occurrence of every
// keyword in text, overlapping ones included, in order of end offset
// (longer keywords first at the same end).
func (m *Matcher) Each(text []byte, fn func(kw, start int)) {
	if m.one != nil {
		m.one.each(text, func(s int) { fn(0, s) })
		return
	}
	d := m.automaton(len(text))
	if d == nil {
		m.small.each(text, func(k, end int) { fn(k, end-m.lens[k]) })
		return
	}
	if len(text) >= fourStreamMin {
		m.each4(d, text, fn)
		return
	}
	m.each(d, text, 0, fn)
}

// each walks the DFA over text from state s (0: the root).
func (m *Matcher) each(d *dfa, text []byte, s uint32, fn func(kw, start int)) {
	n := uint32(d.nclass)
	trans, classes := d.trans, &d.classes
	for i, c := range text {
		s = trans[s+uint32(classes[c])]
		if s&outFlag != 0 {
			s &^= outFlag
			for _, k := range d.out[s/n] {
				fn(k, i+1-m.lens[k])
			}
		}
	}
}

type hit struct{ kw, start int }

// fourStreamMin is the text length from which Each walks four quarters
// of it at once. The DFA scan is a chain of dependent table loads, one
// per byte, so it runs at the load latency; independent chains in one
// loop overlap their loads. On Go source with the built-in keywords
// (BenchmarkKwmatch), against one chain: 1.7x at 128 bytes, 2.4x from
// 512 bytes on; two chains, which this replaces from 4 KiB on, ran at
// 1.2 GB/s where four run at 1.7.
const fourStreamMin = 128

// each4 is each over four quarters in one loop. The walks of quarters
// 1-3 start maxLen-1 bytes early, from the root, so each sees every
// keyword that ends in its quarter whole; they hold their hits back.
// After the common loop each finishes its quarter alone, in order, and
// reports its hits then: all in order of end offset, as each gives them.
func (m *Matcher) each4(d *dfa, text []byte, fn func(kw, start int)) {
	q := len(text) / 4
	lead := min(max(m.maxLen-1, 0), q)
	n := uint32(d.nclass)
	trans, classes := d.trans, &d.classes
	t0 := text[:q]
	t1 := text[q-lead:][:q]
	t2 := text[2*q-lead:][:q]
	t3 := text[3*q-lead:][:q]
	var s0, s1, s2, s3 uint32
	var bufs [3][16]hit
	held := [3][]hit{bufs[0][:0], bufs[1][:0], bufs[2][:0]}
	for i := range t0 {
		s0 = trans[s0+uint32(classes[t0[i]])]
		s1 = trans[s1+uint32(classes[t1[i]])]
		s2 = trans[s2+uint32(classes[t2[i]])]
		s3 = trans[s3+uint32(classes[t3[i]])]
		if (s0|s1|s2|s3)&outFlag == 0 {
			continue
		}
		if s0&outFlag != 0 {
			s0 &^= outFlag
			for _, k := range d.out[s0/n] {
				fn(k, i+1-m.lens[k])
			}
		}
		for j, sp := range [3]*uint32{&s1, &s2, &s3} {
			if *sp&outFlag == 0 {
				continue
			}
			*sp &^= outFlag
			if i >= lead { // ends in its own quarter
				base := (j+1)*q - lead
				for _, k := range d.out[*sp/n] {
					held[j] = append(held[j], hit{k, base + i + 1 - m.lens[k]})
				}
			}
		}
	}
	// Quarter j+1 was walked up to (j+2)q-lead; it goes on alone to the
	// next quarter's start (the last one to the end of the text).
	for j, s := range [3]uint32{s1, s2, s3} {
		for _, h := range held[j] {
			fn(h.kw, h.start)
		}
		from, to := (j+2)*q-lead, (j+2)*q
		if j == 2 {
			to = len(text)
		}
		m.each(d, text[from:to], s, func(k, start int) { fn(k, from+start) })
	}
}

// AppendStarts appends the start offset of every keyword occurrence in
// text to dst, in order of end offset, without a callback per hit.
func (m *Matcher) AppendStarts(dst []int, text []byte) []int {
	if m.one != nil {
		m.one.each(text, func(s int) { dst = append(dst, s) })
		return dst
	}
	d := m.automaton(len(text))
	if d == nil {
		m.small.each(text, func(k, end int) { dst = append(dst, end-m.lens[k]) })
		return dst
	}
	if len(text) >= fourStreamMin {
		m.each4(d, text, func(_, start int) { dst = append(dst, start) })
		return dst
	}
	var s uint32
	n := uint32(d.nclass)
	trans, classes := d.trans, &d.classes
	for i, c := range text {
		s = trans[s+uint32(classes[c])]
		if s&outFlag != 0 {
			s &^= outFlag
			for _, k := range d.out[s/n] {
				dst = append(dst, i+1-m.lens[k])
			}
		}
	}
	return dst
}

// smallIndex finds keywords by their last two bytes (case-folded): at
// each end offset, the keywords ending in those two bytes are compared
// whole. Candidates are kept longest first, so hits come in the DFA's
// order: by end offset, then longer first, then by keyword index.
type smallIndex struct {
	lowered []string           // keywords, lower-cased
	last    [256]bool          // bytes some keyword ends with
	byPair  map[uint16][]int32 // last two bytes -> keywords of length >= 2
	// single holds one-byte keywords by their byte; nil when there are
	// none, as in every rule's start filter (rules/prefix.go): 6 KB per
	// matcher otherwise, ~5 MB over the rules.
	single *[256][]int32
}

func newSmallIndex(keywords []string) smallIndex {
	x := smallIndex{lowered: make([]string, len(keywords)), byPair: make(map[uint16][]int32, len(keywords))}
	var buf []byte
	for ki, k := range keywords {
		buf = buf[:0]
		for i := 0; i < len(k); i++ {
			buf = append(buf, lower(k[i]))
		}
		lk := string(buf)
		x.lowered[ki] = lk
		switch len(lk) {
		case 0:
			continue
		case 1:
			if x.single == nil {
				x.single = new([256][]int32)
			}
			x.single[lk[0]] = append(x.single[lk[0]], int32(ki))
		default:
			key := uint16(lk[len(lk)-2])<<8 | uint16(lk[len(lk)-1])
			x.byPair[key] = append(x.byPair[key], int32(ki))
		}
		x.last[lk[len(lk)-1]] = true
	}
	for _, ks := range x.byPair {
		sortLongestFirst(ks, keywords)
	}
	return x
}

// sortLongestFirst orders keyword indices by length, longest first, then
// by index (insertion sort: buckets hold a few keywords).
func sortLongestFirst(ks []int32, keywords []string) {
	less := func(a, b int32) bool {
		if la, lb := len(keywords[a]), len(keywords[b]); la != lb {
			return la > lb
		}
		return a < b
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && less(ks[j], ks[j-1]); j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

// each calls fn(keyword index, end offset) for every occurrence.
func (x *smallIndex) each(text []byte, fn func(kw, end int)) {
	var prev byte
	for i, c := range text {
		c = lower(c)
		if x.last[c] {
			if i > 0 {
				for _, k := range x.byPair[uint16(prev)<<8|uint16(c)] {
					if lk := x.lowered[k]; len(lk) <= i+1 && equalFold(text[i+1-len(lk):i-1], lk[:len(lk)-2]) {
						fn(int(k), i+1)
					}
				}
			}
			if x.single != nil {
				for _, k := range x.single[c] {
					fn(int(k), i+1)
				}
			}
		}
		prev = c
	}
}

// equalFold reports whether t lower-cased equals lk.
func equalFold(t []byte, lk string) bool {
	for i := range t {
		if lower(t[i]) != lk[i] {
			return false
		}
	}
	return true
}
