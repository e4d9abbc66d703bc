package gitsource

import (
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keytrail/keytrail/scanner"
)

// lineCacheGrowMax is the largest ring a cache grows to when versions
// often find their base gone (see maybeGrow): 2M words, 16 MB.
const lineCacheGrowMax = 1 << 21

// lineCacheMax bounds the words (line hashes and keyword hits, 8 bytes
// each) kept for parent versions at first: 512K words, 4 MB. A version
// whose base has left the cache is scanned whole (see deltaItem): on
// gitleaks' history (7,529 delta versions) about 600 with the hashes on
// the heap; on the 20,149-commit benchmark history 39,536 of 50,124.
// With the ring outside the heap, a fixed 2M words scanned the latter 7%
// faster but cost the former 29 MB of RSS (at 4M words) for no time:
// hence the growth.
const lineCacheMax = 1 << 19

// blobLines is one scanned text blob's entry in the line cache. Its words
// live in the cache's ring; only the cache's methods, under its lock, read
// or write them.
type blobLines struct {
	id   plumbing.Hash
	path string // the path it was scanned under
	n    int32  // lines
	at   int64  // ring position of the line hashes
	// The blob's keyword hits (see scanner.Hit), stored once its scan is
	// done: the versions made from it carry those on lines they keep
	// instead of searching them again. Written after the hashes, so they
	// are valid while the hashes are.
	hitsAt  int64
	nHits   int32
	hasHits bool
	// clean is set once the version's scan is over when neither it nor
	// any version it is a delta of gave a finding: the versions made
	// from it then inherit nothing (see deltaItem).
	clean atomic.Bool
	// settled is set, under the source's cleanMu, once clean is final;
	// onSettle is what waits for that (see Source.settle).
	settled  bool
	onSettle []func(clean bool)
	// scanned, when not nil, is closed once the version's scan is over
	// (its hits stored, if they can be); waiting is set while the
	// version's worker waits for its base's (see waitScanned).
	scanned chan struct{}
	waiting atomic.Bool
	// ring order: head newest
	prev, next *blobLines
}

// lineHit is a keyword hit by line (0-based) and byte column, so that
// it moves with its line.
type lineHit struct{ line, col, kw int32 }

// A lineHit packs into one ring word: blobs scanned as deltas are at most
// 1 MiB, so line and column fit 21 bits; a hit that does not fit leaves
// the blob's hits unknown (the engine searches them itself).
const (
	hitPosBits = 21
	hitKWBits  = 64 - 2*hitPosBits
)

func packHit(h lineHit) (uint64, bool) {
	if h.line < 0 || h.col < 0 || h.kw < 0 || h.line >= 1<<hitPosBits || h.col >= 1<<hitPosBits || h.kw >= 1<<hitKWBits {
		return 0, false
	}
	return uint64(h.line)<<(hitPosBits+hitKWBits) | uint64(h.col)<<hitKWBits | uint64(h.kw), true
}

func unpackHit(v uint64) lineHit {
	return lineHit{
		line: int32(v >> (hitPosBits + hitKWBits)),
		col:  int32(v >> hitKWBits & (1<<hitPosBits - 1)),
		kw:   int32(v & (1<<hitKWBits - 1)),
	}
}

// lineCache keeps the line hashes (and keyword hits) of the blob versions
// read or used most recently, by blob id. A version's parent version is
// usually one read or used as a base a short while before; on a history
// with many branches editing one file (gitleaks' config, changed on most
// branches) it is not always among the last two read at its path, which
// is what an earlier per-path cache kept: there, 1,960 of 5,600 versions
// with a known parent were scanned whole.
//
// The words are kept in one ring outside the Go heap (see offHeapWords),
// written in turn: writing past the oldest entry drops it, and an entry
// used while in the older half of the ring is written again at the head,
// which keeps the versions in use as a least-recently-used cache would.
// As slices on the heap, one per version, they were the largest part of
// a history scan's live heap, and the garbage collector's goal is twice
// that: on gitleaks' history they cost 9 MB more heap at the peak than
// the ring (4 MB more RSS), and a fifth of the bytes the scan allocated
// (hashes 34 MB, hits 12 MB, of 217).
type lineCache struct {
	seed       maphash.Seed
	mu         sync.Mutex
	m          map[plumbing.Hash]*blobLines
	head, tail *blobLines // newest, oldest
	ring       []uint64   // max words, allocated on first write
	unmap      runtime.Cleanup
	free       func() // unmaps ring
	pos        int64  // words written since the start, gaps included
	lines      int    // words held by cached entries
	max        int
	// The ring doubles, up to grow words (0: never), when more than a
	// quarter of the bases asked for in the last growAsk gets had left.
	grow          int
	asked, missed int
	scratch       []lineHit // carry's, under mu
	starts        slicePool[int32]
	hits          slicePool[scanner.Hit]
	words         slicePool[uint64]
}

func newLineCache() *lineCache {
	return &lineCache{seed: maphash.MakeSeed(), m: map[plumbing.Hash]*blobLines{}, max: lineCacheMax, grow: lineCacheGrowMax}
}

const growAsk = 1024

// maybeGrow counts one base asked for (missed: it had left the cache)
// and doubles the ring when, over the last growAsk, more than a quarter
// had left. On gitleaks' history few bases leave a 4 MB ring; on the
// 20,149-commit benchmark history most did, and a 16 MB ring scanned it
// 7% faster, where a fixed 16 MB ring would cost the small history its
// RSS (+29 MB at 32 MB) for nothing.
func (c *lineCache) maybeGrow(missed bool) {
	c.asked++
	if missed {
		c.missed++
	}
	if c.asked < growAsk {
		return
	}
	if 4*c.missed > c.asked && c.ring != nil && len(c.ring) < c.grow {
		c.growRing()
	}
	c.asked, c.missed = 0, 0
}

// growRing moves the cached entries, oldest first, into a ring twice the
// size and unmaps the old one.
func (c *lineCache) growRing() {
	old, oldFree, oldUnmap := c.ring, c.free, c.unmap
	size := int64(len(old))
	c.max = 2 * len(old)
	c.ring, c.free = offHeapWords(c.max)
	c.unmap = runtime.AddCleanup(c, func(free func()) { free() }, c.free)
	pos := int64(0)
	for bl := c.tail; bl != nil; bl = bl.prev {
		copy(c.ring[pos:], old[bl.at%size:][:bl.n])
		bl.at = pos
		pos += int64(bl.n)
		if bl.hasHits {
			copy(c.ring[pos:], old[bl.hitsAt%size:][:bl.nHits])
			bl.hitsAt = pos
			pos += int64(bl.nHits)
		}
	}
	c.pos = pos
	oldUnmap.Stop()
	oldFree()
}

// write copies w into the ring at its head, first dropping the entries
// it overwrites, and returns its position. An entry is contiguous: one
// that would run past the ring's end starts again at its start. keep, if
// not nil, is an entry the write must not drop: write then writes nothing
// and returns -1.
func (c *lineCache) write(w []uint64, keep *blobLines) int64 {
	if c.ring == nil {
		c.ring, c.free = offHeapWords(c.max)
		c.unmap = runtime.AddCleanup(c, func(free func()) { free() }, c.free)
	}
	size := int64(len(c.ring))
	at := c.pos
	if off := at % size; off+int64(len(w)) > size {
		at += size - off
	}
	limit := at + int64(len(w)) - size // entries starting before it are overwritten
	if keep != nil && keep.at < limit {
		return -1
	}
	for c.tail != nil && c.tail.at < limit {
		old := c.tail
		c.unlink(old)
		delete(c.m, old.id)
		c.lines -= int(old.n + old.nHits)
	}
	copy(c.ring[at%size:], w)
	c.pos = at + int64(len(w))
	return at
}

// release empties the cache and unmaps its ring at once, rather than
// when the cache is garbage: a process scanning many repositories in
// turn would otherwise hold the rings of those done until a collection
// runs. Nothing may be reading the cache: the scan is over.
func (c *lineCache) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.free != nil {
		c.unmap.Stop() // unmapping twice could unmap a later mapping
		c.free()
		c.free = nil
	}
	c.ring, c.m, c.head, c.tail, c.lines = nil, map[plumbing.Hash]*blobLines{}, nil, nil, 0
}

// fits says whether an entry of n words may be cached: at most half the
// ring, so one large version does not empty it.
func (c *lineCache) fits(n int) bool { return n <= c.max/2 }

// put caches bl with the line hashes given (copied).
func (c *lineCache) put(bl *blobLines, hashes []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[bl.id]; old != nil || !c.fits(len(hashes)) {
		return
	}
	bl.n = int32(len(hashes))
	bl.at = c.write(hashes, nil)
	c.m[bl.id] = bl
	c.pushFront(bl)
	c.lines += len(hashes)
}

// get returns blob id's entry if it is cached and was scanned under p;
// nil otherwise. Its words are read with hashes.
func (c *lineCache) get(p string, id plumbing.Hash) *blobLines {
	c.mu.Lock()
	defer c.mu.Unlock()
	bl := c.m[id]
	c.maybeGrow(bl == nil)
	if bl == nil || bl.path != p {
		return nil
	}
	size := int64(len(c.ring))
	if c.pos-bl.at <= size/2 {
		return bl
	}
	// In the older half: written again at the head, hits with it.
	w := c.words.get(int(bl.n + bl.nHits))
	defer c.words.put(w)
	w = append(w, c.ring[bl.at%size:][:bl.n]...)
	if bl.hasHits {
		w = append(w, c.ring[bl.hitsAt%size:][:bl.nHits]...)
	}
	c.unlink(bl)
	bl.at = c.write(w[:bl.n], nil)
	if bl.hasHits {
		if at := c.write(w[bl.n:], bl); at >= 0 {
			bl.hitsAt = at
		} else {
			bl.hasHits, c.lines, bl.nHits = false, c.lines-int(bl.nHits), 0
		}
	}
	c.pushFront(bl)
	return bl
}

// hashes copies bl's line hashes to dst[:0], if bl is still cached.
func (c *lineCache) hashes(bl *blobLines, dst []uint64) ([]uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[bl.id] != bl {
		return dst, false
	}
	return append(dst[:0], c.ring[bl.at%int64(len(c.ring)):][:bl.n]...), true
}

// setHits stores bl's hits (from its scan of the content whose lines
// start at starts, with its length last; see hashLinesStarts) while bl is
// cached; nil hits (not known) store nothing. Hits are put on their
// lines by walking starts: counting newlines up to each hit again was 3%
// of a history scan's CPU.
func (c *lineCache) setHits(bl *blobLines, starts []int32, hits []scanner.Hit) {
	if hits == nil || len(starts) == 0 || !c.fits(len(hits)) {
		return
	}
	packed := c.words.get(len(hits))
	defer c.words.put(packed)
	last := len(starts) - 2 // the last line
	end := starts[last+1]
	line := 0
	for _, h := range hits {
		p := min(max(h.Pos, 0), end)
		if p < starts[line] { // out of order: not from the engine
			line = 0
		}
		// Hits come in order, often more of them than lines: walking
		// the starts along with them beat a binary search per hit.
		for line < last && starts[line+1] <= p {
			line++
		}
		v, ok := packHit(lineHit{int32(line), p - starts[line], h.KW})
		if !ok {
			return
		}
		packed = append(packed, v)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[bl.id] != bl || bl.hasHits {
		return // left the cache already
	}
	at := c.write(packed, bl)
	if at < 0 {
		return // storing them would drop bl itself
	}
	bl.hitsAt, bl.nHits, bl.hasHits = at, int32(len(packed)), true
	c.lines += len(packed)
}

// carry is carryHits with bl's stored hits, into dst; nil if they are
// not known (not stored yet, or bl has left the cache).
func (c *lineCache) carry(bl *blobLines, dst []scanner.Hit, runs []lineRun, starts []int32) []scanner.Hit {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[bl.id] != bl || !bl.hasHits {
		return nil
	}
	size := int64(len(c.ring))
	base := c.scratch[:0]
	for _, v := range c.ring[bl.hitsAt%size:][:bl.nHits] {
		base = append(base, unpackHit(v))
	}
	c.scratch = base
	return carryHits(dst, base, runs, starts)
}

// carryHits moves base's hits on lines the runs keep to their offsets in
// the new version, whose lines start at starts, appending them to dst[:0]
// (never nil: nil says the hits are not known). runs are sorted, on both
// sides.
func carryHits(dst []scanner.Hit, base []lineHit, runs []lineRun, starts []int32) []scanner.Hit {
	out := dst[:0]
	if out == nil {
		out = make([]scanner.Hit, 0, len(base))
	}
	i := 0
	for _, r := range runs {
		for i < len(base) && base[i].line < r.a {
			i++
		}
		for ; i < len(base) && base[i].line < r.a+r.n; i++ {
			h := base[i]
			nb := r.b + h.line - r.a
			out = append(out, scanner.Hit{Pos: starts[nb] + h.col, KW: h.kw})
		}
	}
	return out
}

// hashLinesStarts hashes each line of data, its newline included, so a
// last line without one differs from the same text with one. It also
// returns where each line starts, and len(data) last, so that nothing
// walks the lines again (deltaSpans, carryHits, setHits and the engine's
// long-line check need them). Both are recycled (c.words, c.starts).
func (c *lineCache) hashLinesStarts(data []byte) ([]uint64, []int32) {
	st := scanner.AppendLineStarts(c.starts.get(len(data)/32+2), data)
	out := c.words.get(len(st) - 1)[:len(st)-1]
	for l := range out {
		out[l] = maphash.Bytes(c.seed, data[st[l]:st[l+1]])
	}
	return out, st
}

// slicePool recycles slices of T: the line starts of versions being
// scanned (fresh ones were a third of the bytes hashing lines allocated),
// line hashes and packed hits on their way into the ring, and a delta
// version's carried hits (4% of the bytes a history scan allocated).
type slicePool[T any] struct{ p sync.Pool }

// get returns an empty slice of capacity at least n.
func (p *slicePool[T]) get(n int) []T {
	if s, ok := p.p.Get().(*[]T); ok && cap(*s) >= n {
		return (*s)[:0]
	}
	return make([]T, 0, n)
}

// put hands back a slice from get that nothing uses any more.
func (p *slicePool[T]) put(s []T) {
	if cap(s) > 0 {
		p.p.Put(&s)
	}
}

func (c *lineCache) unlink(bl *blobLines) {
	if bl.prev != nil {
		bl.prev.next = bl.next
	} else {
		c.head = bl.next
	}
	if bl.next != nil {
		bl.next.prev = bl.prev
	} else {
		c.tail = bl.prev
	}
	bl.prev, bl.next = nil, nil
}

func (c *lineCache) pushFront(bl *blobLines) {
	bl.next = c.head
	if c.head != nil {
		c.head.prev = bl
	}
	c.head = bl
	if c.tail == nil {
		c.tail = bl
	}
}

// rehash hashes the lines of data, which start at starts, into dst[:0]:
// for a version too large to cache.
func rehash(c *lineCache, data []byte, starts []int32, dst []uint64) []uint64 {
	dst = dst[:0]
	for l := 0; l+1 < len(starts); l++ {
		dst = append(dst, maphash.Bytes(c.seed, data[starts[l]:starts[l+1]]))
	}
	return dst
}
