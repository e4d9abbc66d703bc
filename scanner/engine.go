package scanner

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner/kwmatch"
)

// Options tune the engine. The zero value is usable.
type Options struct {
	// MaxFileSize skips items larger than this many bytes (0: no limit).
	MaxFileSize int64
	// WindowSize is how much of an item is searched at once; items are
	// streamed through windows so memory stays bounded on any input.
	WindowSize int
	// Overlap is how many bytes consecutive windows share. Matches up to
	// Overlap/2 bytes long are found exactly once across a boundary.
	Overlap int
	// ReportInvalid keeps matches whose offline validator failed.
	ReportInvalid bool
	// MinConfidence drops findings below it ("low", "medium", "high").
	MinConfidence string
	// Allowlist applies to every rule (from the user's config).
	Allowlist *rules.Allowlist
	// DecodeDepth is how many layers of base64/hex/percent/\u encoding are
	// decoded to look for secrets inside (0: the default, 2; <0: off).
	DecodeDepth int
	// NoisyPaths are path globs where generic rules are not applied
	// (lock files, minified bundles, vendored code). Nil means
	// DefaultNoisyPaths(); an empty non-nil slice turns the filter off.
	NoisyPaths []string
	// MarkInlineAllowed keeps matches on lines carrying keytrail:allow or
	// gitleaks:allow, marked SuppressedByChange, instead of dropping
	// them: in a commit range those lines are the change's own, and a
	// change must not silence itself.
	MarkInlineAllowed bool
}

// maxRegion caps a merged regex region (see matchRules).
const maxRegion = 8 << 10

// DefaultDecodeDepth is how deep nested encodings are followed by default.
const DefaultDecodeDepth = 2

const (
	defaultWindow  = 1 << 20
	defaultOverlap = 64 << 10
	sniffLen       = 8000
)

// Engine finds secrets in content. It is safe for concurrent use; each
// goroutine scanning needs its own Worker.
type Engine struct {
	rules   []*rules.Rule
	kw      *kwmatch.Matcher
	kwRules [][]int // keyword pattern index -> indices into rules
	opts    Options
	noise   *noiseFilter
	byID    map[string]*rules.Rule
	// pathRules are the rules whose allowlist has paths (PathClass).
	pathRules []int
	// patterns are the prefilter's keywords; delta, built on the first
	// delta item, runs it near an edit only (see delta.go).
	patterns  []string
	deltaOnce sync.Once
	delta     *deltaPrefilter
	memo      *regionMemo // regex results by region text (memo.go)
}

// NewEngine builds the keyword automaton over all rules' keywords.
func NewEngine(set *rules.Set, opts Options) (*Engine, error) {
	if opts.WindowSize <= 0 {
		opts.WindowSize = defaultWindow
	}
	if opts.Overlap <= 0 {
		opts.Overlap = defaultOverlap
	}
	switch {
	case opts.DecodeDepth == 0:
		opts.DecodeDepth = DefaultDecodeDepth
	case opts.DecodeDepth < 0:
		opts.DecodeDepth = 0
	}
	if opts.Overlap >= opts.WindowSize {
		return nil, fmt.Errorf("engine: overlap %d must be smaller than window %d", opts.Overlap, opts.WindowSize)
	}
	if opts.NoisyPaths == nil {
		opts.NoisyPaths = DefaultNoisyPaths()
	}
	noise, err := newNoiseFilter(opts.NoisyPaths)
	if err != nil {
		return nil, fmt.Errorf("engine: noisy paths: %w", err)
	}
	e := &Engine{rules: set.Rules, opts: opts, noise: noise, byID: map[string]*rules.Rule{}, memo: newRegionMemo()}
	for ri, r := range set.Rules {
		e.byID[r.ID] = r
		if len(r.Allowlist.Paths) > 0 { // not HasPaths: that compiles every allowlist
			e.pathRules = append(e.pathRules, ri)
		}
	}
	index := map[string]int{}
	var patterns []string
	for ri, r := range set.Rules {
		for _, k := range r.Keywords {
			pi, ok := index[k]
			if !ok {
				pi = len(patterns)
				index[k] = pi
				patterns = append(patterns, k)
				e.kwRules = append(e.kwRules, nil)
			}
			e.kwRules[pi] = append(e.kwRules[pi], ri)
		}
	}
	e.kw = kwmatch.New(patterns)
	e.patterns = patterns
	return e, nil
}

// PathClass names what the engine decides from a path alone: whether the
// allowlist, a rule's allowlist or the noisy paths take it, and which
// kind of file it is (config, deployment, docs, test, translations).
// The same content at two paths of one class gives the same findings,
// but for the path itself; a source that scans content once for every
// path it appears at (git blobs) scans it again at a path of another
// class (see PathClassUser).
func (e *Engine) PathClass(p string) string {
	var b []byte
	flag := func(v bool) {
		if v {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	flag(e.opts.Allowlist != nil && e.opts.Allowlist.AllowsPath(p))
	flag(e.noise.noisy(p))
	k := kindOf(p)
	flag(k.config)
	flag(k.deploy)
	flag(k.docs)
	flag(k.testy)
	flag(k.i18n)
	for _, ri := range e.pathRules {
		flag(e.rules[ri].Allowlist.AllowsPath(p))
	}
	return string(b)
}

// Rules returns the engine's rules.
func (e *Engine) Rules() []*rules.Rule { return e.rules }

// Worker holds one goroutine's reusable buffers.
type Worker struct {
	e      *Engine
	delta  *deltaState // set while scanning a delta item's window
	buf    []byte
	hits   [][]int // per rule: keyword hit offsets in the current window
	active []int   // rules with hits in the current window
	// recTo: hand every keyword hit of the window to it (the item wants
	// its hits). carried: all is the window's complete list of hits
	// (built from the base's, or recorded), to read instead of
	// searching. Both hold for the item's own text only, not decoded
	// text within it.
	recTo   func([]Hit)
	carried bool
	all     []Hit
	spare   []Hit // the other of the buffers carry merges between
	// scratch reused from item to item
	cand    rules.Candidates
	ds      deltaState
	skipped []rerunSpan
}

// NewWorker returns a worker with its own window buffer.
func (e *Engine) NewWorker() *Worker {
	return &Worker{
		e: e,
		// The window buffer grows on demand: a pre-commit run scanning a
		// few small files never allocates (and zeroes) a full window.
		hits: make([][]int, len(e.rules)),
	}
}

// ErrBinary is returned by Scan for content that looks binary.
var ErrBinary = errors.New("binary content skipped")

// rawMatch is a rule match with offsets absolute in the item.
type rawMatch struct {
	rule  int
	m     rules.Match
	start int64 // absolute offset of the match
	sec   int64 // absolute offset of the secret
	line  int
	col   int
	eline int
	ecol  int
	// mline and meline are the lines the whole match spans (context
	// around the secret included).
	mline, meline int
	text          string // the line(s) the match is on, bounded
	// decoded names the encodings the secret was under; span is then the
	// length of the encoded text in the original.
	decoded string
	span    int
	// inline is the allow marker on the line when MarkInlineAllowed kept
	// the match instead of dropping it.
	inline string
}

// Scan streams r through windows and returns the findings in it. path is
// used for path allowlists and in the findings. A read error ends the scan
// of this item but the findings before it are returned with the error.
func (w *Worker) Scan(ctx context.Context, path string, r io.Reader, sniff bool) ([]Finding, int64, error) {
	return w.ScanDelta(ctx, path, r, sniff, nil)
}

// keepBuf is the largest window buffer TrimBuffer leaves a worker.
const keepBuf = 256 << 10

// TrimBuffer lets go of the worker's window buffer if it grew past
// keepBuf. A worker keeps its buffer from item to item: a directory's
// large files come often enough that allocating it again for each file
// over 256 KiB cost a scan of the Go tree 60% more time. But in a
// history, where only the few blobs over 1 MiB stream through it, the
// buffer grown for one held ~1.4 MB of the live heap to the end.
func (w *Worker) TrimBuffer() {
	if cap(w.buf) > keepBuf {
		w.buf = nil
	}
}

// ScanDelta is Scan for an item described as an edit of scanned content
// (see Delta); d may be nil.
func (w *Worker) ScanDelta(ctx context.Context, path string, r io.Reader, sniff bool, d *Delta) ([]Finding, int64, error) {
	e := w.e
	defer func() { w.delta, w.recTo, w.carried = nil, nil, false }()
	if e.opts.Allowlist != nil && e.opts.Allowlist.AllowsPath(path) {
		return nil, 0, nil
	}
	var (
		matches []rawMatch
		base    int64     // absolute offset of buf[0]
		filled  int       // bytes valid in buf
		line          = 1 // line number at buf[0]
		lastNL  int64 = -1
		total   int64
		first   = true
		readErr error
		eof     bool
		window  = e.opts.WindowSize + e.opts.Overlap
		half    = e.opts.Overlap / 2
	)
	// Content already in memory that fits one window is scanned where it
	// is: copying each git blob version into the window buffer was 7% of a
	// history scan's CPU time.
	var whole []byte
	if m, ok := r.(InMemory); ok {
		if b, ok := m.Content(); ok && len(b) <= window && (e.opts.MaxFileSize <= 0 || int64(len(b)) <= e.opts.MaxFileSize) {
			whole = b
		}
	}
	for !eof {
		if err := ctx.Err(); err != nil {
			return nil, total, err
		}
		if whole != nil {
			filled, total, eof = len(whole), int64(len(whole)), true
		}
		// Fill the buffer.
		for filled < window && whole == nil {
			limit := window
			if first && filled < sniffLen {
				// A small first read is enough to sniff for binary
				// content, so skipped files cost 64 KiB, not a window.
				limit = min(window, 64<<10)
			}
			if len(w.buf) < limit {
				w.buf = append(w.buf[:filled], make([]byte, min(max(2*len(w.buf), 64<<10), window)-filled)...)
				limit = min(limit, len(w.buf))
			}
			n, err := r.Read(w.buf[filled:limit])
			filled += n
			total += int64(n)
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				eof = true
				break
			}
			if e.opts.MaxFileSize > 0 && total > e.opts.MaxFileSize {
				return nil, total, &SizeLimitError{Limit: e.opts.MaxFileSize}
			}
			// Sniff as soon as there is enough to decide, so a skipped
			// binary costs one small read, not a whole window.
			if first && sniff && filled >= sniffLen && looksBinary(w.buf[:filled]) {
				return nil, total, ErrBinary
			}
		}
		data := whole
		if data == nil {
			data = w.buf[:filled]
		}
		if first {
			if sniff && looksBinary(data) {
				return nil, total, ErrBinary
			}
			first = false
		}
		ownedFrom := 0
		if base > 0 {
			ownedFrom = half
		}
		ownedTo := len(data)
		if !eof {
			ownedTo = len(data) - half
		}
		if d != nil {
			single := base == 0 && eof
			if single && w.delta == nil && len(d.Unchanged) > 0 {
				// The state's slices are the worker's, reused.
				w.ds = deltaState{d: d, n: len(data), spans: d.Unchanged, rerun: w.ds.rerun[:0], long: w.ds.long[:0], ps: w.ds.ps[:0]}
				w.delta = &w.ds
			} else {
				// More than one window: scan it whole.
				w.delta = nil
				d.Full = true
			}
			if d.OnHits != nil && single {
				w.recTo = d.OnHits
			}
		}
		found := w.scanWindow(data, ownedFrom, ownedTo)
		if w.delta != nil {
			w.delta.finish(data, func(i int) string {
				if i < 0 {
					return ""
				}
				return e.rules[i].ID
			})
		}
		for i := range found {
			found[i].start += base
			found[i].sec += base
		}
		// Resolve line and column of each secret, walking the window once
		// in offset order (linear even with many findings on a long line).
		sort.Slice(found, func(i, j int) bool { return found[i].sec < found[j].sec })
		pos := lineCursor{line: line, lineStart: lastNL + 1, base: base}
		for i := range found {
			m := &found[i]
			secRel := int(m.sec - base)
			pos.advance(data, secRel)
			m.line, m.col = pos.line, pos.column()
			secEnd := secRel + (m.m.SecretEnd - m.m.SecretStart)
			if m.decoded != "" {
				secEnd = secRel + m.span
			}
			m.eline = m.line + bytes.Count(data[secRel:secEnd], nl)
			if le := bytes.LastIndexByte(data[secRel:secEnd], '\n'); le >= 0 {
				m.ecol = utf8.RuneCount(data[secRel+le+1 : secEnd])
			} else {
				m.ecol = m.col + utf8.RuneCount(data[secRel:secEnd]) - 1
			}
			m.text = lineAround(data, secRel, secEnd)
			// The whole match: a history source carries a finding to a
			// later version only if all these lines are kept.
			mFrom, mTo := secRel, secEnd
			if m.decoded == "" {
				mFrom = max(0, min(mFrom, int(m.start-base)))
				mTo = min(len(data), max(mTo, int(m.start-base)+m.m.End-m.m.Start))
			}
			m.mline = m.line - bytes.Count(data[mFrom:secRel], nl)
			// A newline the match ends with belongs to its last line.
			m.meline = m.eline + bytes.Count(data[secEnd:max(secEnd, mTo-1)], nl)
		}
		matches = append(matches, found...)
		if eof {
			break
		}
		// Slide: keep the last Overlap bytes as the start of the next window.
		keep := e.opts.Overlap
		shift := len(data) - keep
		line += bytes.Count(data[:shift], nl)
		if i := bytes.LastIndexByte(data[:shift], '\n'); i >= 0 {
			lastNL = base + int64(i)
		}
		copy(w.buf, data[shift:])
		filled = keep
		base += int64(shift)
	}
	fs := w.toFindings(path, matches)
	if readErr != nil {
		return fs, total, readErr
	}
	return fs, total, nil
}

var nl = []byte{'\n'}

// lineCursor tracks the line and column of a position moving forward
// through a window. Columns count characters; on a line that began in an
// earlier window (a line over a megabyte long) they count bytes.
type lineCursor struct {
	pos       int   // relative offset in the window
	line      int   // line number at pos
	lineStart int64 // absolute offset where pos's line starts
	base      int64 // absolute offset of the window
	runes     int   // characters from the line start to pos (exact mode)
	exact     bool
	started   bool
}

func (c *lineCursor) advance(data []byte, to int) {
	if !c.started {
		c.started = true
		c.exact = c.lineStart >= c.base
	}
	seg := data[c.pos:to]
	if k := bytes.LastIndexByte(seg, '\n'); k >= 0 {
		c.line += bytes.Count(seg, nl)
		c.lineStart = c.base + int64(c.pos+k+1)
		c.runes = utf8.RuneCount(seg[k+1:])
		c.exact = true
	} else if c.exact {
		c.runes += utf8.RuneCount(seg)
	}
	c.pos = to
}

func (c *lineCursor) column() int {
	if c.exact {
		return c.runes + 1
	}
	return int(c.base+int64(c.pos)-c.lineStart) + 1
}

// SizeLimitError reports content over the configured size limit.
type SizeLimitError struct{ Limit int64 }

func (e *SizeLimitError) Error() string {
	return fmt.Sprintf("larger than the size limit of %d bytes; skipped", e.Limit)
}

// looksBinary sniffs like git does: a NUL byte early on means binary.
func looksBinary(data []byte) bool {
	n := len(data)
	if n > sniffLen {
		n = sniffLen
	}
	return bytes.IndexByte(data[:n], 0) >= 0
}

// lineAround returns the text of the line(s) holding [s,e), bounded so a
// huge single-line file does not copy megabytes per finding.
func lineAround(data []byte, s, e int) string {
	const maxSide = 512
	from := s - maxSide
	if from < 0 {
		from = 0
	}
	ls := from
	if i := bytes.LastIndexByte(data[from:s], '\n'); i >= 0 {
		ls = from + i + 1
	}
	le := bytes.IndexByte(data[e:], '\n')
	if le < 0 {
		le = len(data)
	} else {
		le += e
	}
	if le-e > maxSide {
		le = e + maxSide
	}
	return string(data[ls:le])
}

// scanWindow runs the keyword prefilter over data and the triggered rules'
// regexes near each hit. Only matches starting in [from, to) are kept.
func (w *Worker) scanWindow(data []byte, from, to int) []rawMatch {
	w.all, w.carried = w.all[:0], false
	out := w.matchRules(data, from, to, w.delta)
	if w.recTo != nil && w.carried {
		w.recTo(w.all)
	}
	// Decoded text below has hits of its own, not the item's.
	w.recTo, w.carried = nil, false
	if d := w.e.opts.DecodeDepth; d > 0 {
		out = append(out, w.scanDecoded(data, from, to, d, "", w.delta)...)
	}
	return out
}

// matchRules is one prefilter + regex pass over data. With a delta, hits
// whose region is as in the base are skipped.
func (w *Worker) matchRules(data []byte, from, to int, delta *deltaState) []rawMatch {
	if delta != nil {
		if out, ok := w.matchRulesIn(data, from, to, delta, true); ok {
			return out
		}
	}
	out, _ := w.matchRulesIn(data, from, to, delta, false)
	return out
}

// matchRulesIn is matchRules; with near, the prefilter runs only near
// the delta's edits, and ok is false when a new match lies where that
// may have missed a region it must meet (see deltaPrefilter).
func (w *Worker) matchRulesIn(data []byte, from, to int, delta *deltaState, near bool) (_ []rawMatch, ok bool) {
	e := w.e
	w.active = w.active[:0]
	add := func(ri, start int) {
		if len(w.hits[ri]) == 0 {
			w.active = append(w.active, ri)
		}
		w.hits[ri] = append(w.hits[ri], start)
	}
	var dp *deltaPrefilter
	var nears [][]Span // per tier
	if near {
		dp = e.deltaPrefilter()
		delta.longLines(data, dp.minCtx-delimSlack)
		nears = make([][]Span, len(dp.tiers))
		for t := range dp.tiers {
			nears[t] = delta.nearTier(dp, t)
		}
		if delta.d.BaseHits != nil || w.recTo != nil {
			if delta.d.BaseHits != nil {
				w.carry(data, delta)
			} else {
				// No base hits to carry, but the item's own are
				// wanted: one search of all of it costs about what
				// the tiers' searches of their near ranges do.
				w.searchAll(data)
			}
			// Each tier takes the hits in its own near ranges.
			cur := make([]int, len(dp.tiers))
			for _, h := range w.all {
				for _, ri := range e.kwRules[h.KW] {
					t := dp.tier[ri]
					rs, c := nears[t], cur[t]
					for c < len(rs) && rs[c].End <= int(h.Pos) {
						c++
					}
					cur[t] = c
					if c < len(rs) && rs[c].Start <= int(h.Pos) {
						add(ri, int(h.Pos))
					}
				}
			}
		} else {
			eachIn(e.kw, data, nears[0], dp.maxKw, func(kw, start int) {
				for _, ri := range e.kwRules[kw] {
					if dp.tier[ri] == 0 {
						add(ri, start)
					}
				}
			})
			for t := 1; t < len(dp.tiers); t++ {
				tr := &dp.tiers[t]
				if tr.kw == nil {
					continue
				}
				eachIn(tr.kw, data, nears[t], dp.maxKw, func(k, start int) {
					for _, ri := range e.kwRules[tr.pat[k]] {
						if int(dp.tier[ri]) == t {
							add(ri, start)
						}
					}
				})
			}
		}
	} else if w.carried || w.recTo != nil {
		// The whole list of hits: known already (a fall back from the
		// near search), or searched once here and kept for the item.
		if !w.carried {
			w.searchAll(data)
		}
		for _, h := range w.all {
			for _, ri := range e.kwRules[h.KW] {
				add(ri, int(h.Pos))
			}
		}
	} else {
		e.kw.Each(data, func(kw, start int) {
			for _, ri := range e.kwRules[kw] {
				add(ri, start)
			}
		})
	}
	var out []rawMatch
	emit := func(ri, regStart int, m rules.Match) {
		abs := regStart + m.Start
		if abs < from || abs >= to {
			return
		}
		m.Start += regStart
		m.End += regStart
		m.SecretStart += regStart
		m.SecretEnd += regStart
		out = append(out, rawMatch{rule: ri, m: m, start: int64(abs), sec: int64(m.SecretStart)})
	}
	find := func(ri, regStart, regEnd int) {
		text := data[regStart:regEnd]
		// Half the regions of a history scan have no start the rule's
		// filters let through; those need neither the memo nor FindAll.
		if !e.rules[ri].MayMatch(text, &w.cand) {
			return
		}
		k := e.memo.key(ri, text)
		ms, ok := e.memo.get(k)
		if !ok {
			ms = e.rules[ri].FindAllAfter(text, &w.cand, true)
			if worth(ms) {
				e.memo.put(k, ms)
			}
		}
		for _, m := range ms {
			emit(ri, regStart, m)
		}
	}
	// A Lead rule's block is matched once, anchored at its start, to
	// Context after its hit. leadEnd is where the last match ended: a
	// block starting inside it (a BEGIN line taken as a header of the
	// one before) is part of that match, as in a scan from further back.
	leadEnd := -1
	findAt := func(ri, s, h int) {
		m, ok := e.rules[ri].FindAt(data[s:min(h+e.rules[ri].Context, len(data))], true)
		if m.End > 0 {
			leadEnd = s + m.End
		}
		if ok {
			emit(ri, s, m)
		}
	}
	// leadWalk re-looks, in a delta item, for every block of a Lead rule
	// starting in [s, en) (a range noted as rescanned, so base findings
	// there must all be found again, not only the one at s), and for the
	// blocks up to Context before s that decide whether they are
	// swallowed. walkTo is how far the walk has gone (it goes on from
	// there for the next hit); -1 starts afresh.
	walkTo := -1
	leadWalk := func(ri, s, en int) {
		r := e.rules[ri]
		a := max(0, s-r.Context)
		if walkTo > a {
			a = walkTo
		} else {
			leadEnd = -1
		}
		var blocks []int
		if w.carried {
			i, _ := slices.BinarySearchFunc(w.all, int32(a), func(h Hit, p int32) int { return cmp.Compare(h.Pos, p) })
			for ; i < len(w.all) && int(w.all[i].Pos) < en; i++ {
				if slices.Contains(e.kwRules[w.all[i].KW], ri) {
					blocks = append(blocks, int(w.all[i].Pos))
				}
			}
		} else {
			e.kw.Each(data[a:min(len(data), en+e.deltaPrefilter().maxKw)], func(kw, st int) {
				if b := a + st; b < en && slices.Contains(e.kwRules[kw], ri) {
					blocks = append(blocks, b)
				}
			})
		}
		sort.Ints(blocks)
		for i, b := range blocks {
			if i > 0 && b == blocks[i-1] || b < r.Lead || b-r.Lead < leadEnd {
				continue
			}
			if b-r.Lead >= s {
				findAt(ri, b-r.Lead, b)
			} else if m, _ := r.FindAt(data[b-r.Lead:min(b+r.Context, len(data))], true); m.End > 0 {
				leadEnd = b - r.Lead + m.End // decides swallowing only
			}
		}
		walkTo = max(walkTo, en)
	}
	skipped := w.skipped[:0] // delta: regions as in the base
	defer func() { w.skipped = skipped[:0] }()
	for _, ri := range w.active {
		r := e.rules[ri]
		hits := w.hits[ri]
		// Hits arrive in order of their end; regions merge by start.
		if !sort.IntsAreSorted(hits) {
			sort.Ints(hits)
		}
		regStart, regEnd := -1, -1
		leadEnd, walkTo = -1, -1
		flush := func() {
			if regStart >= 0 {
				find(ri, regStart, regEnd)
			}
		}
		for _, h := range hits {
			if r.Lead > 0 {
				if h < r.Lead {
					continue // no room for the block's start
				}
				s, en := h-r.Lead, min(h+r.Context, len(data))
				if delta == nil {
					if s >= leadEnd {
						findAt(ri, s, h)
					}
					continue
				}
				if delta.unchanged(min(s-1, h-r.Context), max(en+1, h+r.Context)) {
					skipped = append(skipped, rerunSpan{ri, s, en})
					continue
				}
				delta.note(ri, s, en)
				leadWalk(ri, s, en)
				continue
			}
			// A hit whose whole window lies inside the current region
			// adds nothing; skipping it keeps runs of hits (a keyword
			// repeated along a long line) linear.
			if regStart >= 0 && h-r.Context >= regStart && h+r.Context <= regEnd {
				continue
			}
			s, en := region(data, h, r.Context, r.Multiline, r.SpansLines())
			if delta != nil {
				// The bytes that decided the region: its ends and the
				// delimiters just outside them, and for rules that
				// span lines everything region read within Context.
				lo, hi := s-1, en+1
				if r.SpansLines() {
					lo, hi = min(lo, h-r.Context), max(hi, h+r.Context)
				}
				if delta.unchanged(lo, hi) {
					skipped = append(skipped, rerunSpan{ri, s, en})
					continue
				}
				delta.note(ri, s, en)
			}
			// Merge overlapping regions, but not into one huge span: Go's
			// regexp is fastest on small inputs, and on a long line with
			// many hits a merged region could be the whole window.
			if regStart >= 0 && s <= regEnd && max(en, regEnd)-regStart <= maxRegion {
				if en > regEnd {
					regEnd = en
				}
				continue
			}
			flush()
			regStart, regEnd = s, en
		}
		flush()
		w.hits[ri] = hits[:0]
	}
	if near {
		// Every region that could meet a new match must have been seen
		// (the override below); else scan with the whole prefilter.
		last := len(dp.tiers) - 1
		for _, m := range out {
			far := dp.reach(last, true)
			long := delta.longNear(m.m.Start-far, m.m.End+far)
			for t := range dp.tiers {
				r := dp.reach(t, long)
				if !within(nears[t], m.m.Start-r, m.m.End+r, len(data)) {
					return nil, false
				}
			}
		}
	}
	if len(skipped) > 0 && len(out) > 0 {
		// A new match can be one that another rule's match, unchanged
		// from the base, overrides (a provider format over a generic
		// rule): regions a new match overlaps run again, so the two meet
		// in toFindings as in a whole scan.
		spans := make([][2]int64, 0, len(out))
		for _, m := range out {
			spans = append(spans, m.matchSpan())
		}
		for _, sk := range skipped {
			if overlapsAny([2]int64{int64(sk.from), int64(sk.to)}, spans) {
				delta.note(sk.rule, sk.from, sk.to)
				if e.rules[sk.rule].Lead > 0 {
					walkTo = -1
					leadWalk(sk.rule, sk.from, sk.to)
				} else {
					find(sk.rule, sk.from, sk.to)
				}
			}
		}
	}
	// Overlapping regions of one rule can yield the same match twice.
	sort.Slice(out, func(i, j int) bool {
		if out[i].rule != out[j].rule {
			return out[i].rule < out[j].rule
		}
		return out[i].start < out[j].start
	})
	dedup := out[:0]
	for i, m := range out {
		if i > 0 && m.rule == out[i-1].rule && m.sec == out[i-1].sec && m.m.Secret == out[i-1].m.Secret {
			continue
		}
		dedup = append(dedup, m)
	}
	return dedup, true
}

// region is the span a rule's regex sees around a keyword hit at h: the
// whole lines within ctx bytes either side of the hit, so rules whose
// secret sits a line or two from their keyword or context (nested YAML, a
// JSON object) still match. On lines longer than
// ctx the cut is widened to the nearest byte that cannot be in a token.
func region(data []byte, h, ctx int, multiline, spansLines bool) (int, int) {
	lo := h - ctx
	if lo < 0 {
		lo = 0
	}
	find := bytes.IndexByte
	if !spansLines {
		// A regex that cannot cross a newline needs only the hit's line.
		find = bytes.LastIndexByte
	}
	if ls := find(data[lo:h], '\n'); ls >= 0 {
		lo += ls + 1
	} else {
		lo = widenToBoundary(data, lo, -1)
	}
	hi := h + ctx
	if hi >= len(data) {
		hi = len(data)
		if spansLines {
			return lo, hi
		}
	}
	if multiline {
		return lo, hi
	}
	find = bytes.LastIndexByte
	if !spansLines {
		find = bytes.IndexByte
	}
	if le := find(data[h:hi], '\n'); le >= 0 {
		hi = h + le
	} else {
		hi = widenToBoundary(data, hi, 1)
	}
	return lo, hi
}

// widenToBoundary moves a cut point on a long line outward (by at most 1
// KiB) to a byte that cannot be inside a token, so a regex never sees half
// a token as a whole one.
func widenToBoundary(data []byte, i, dir int) int {
	for n := 0; n < 1024; n++ {
		if i <= 0 || i >= len(data) {
			return i
		}
		switch data[i] {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', ',', ';', '<', '>', '(', ')', '[', ']', '{', '}':
			return i
		}
		i += dir
	}
	return i
}
