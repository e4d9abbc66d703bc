package gitsource

import (
	"runtime"
	"sync"
)

// bufPool holds the buffers blob contents are read into. A history scan
// reads every blob version (124 MB on gitleaks' own history) into memory
// one after another, and the engine is done with each a little later, in
// roughly the order they were read: so the buffers are cut in turn from
// one ring outside the Go heap (offHeapBytes), and a buffer's space comes
// back once it and every buffer cut before it have been handed back. A
// buffer that does not fit (the ring full, or one larger than half of
// it) comes from the heap.
//
// Fresh heap buffers for each blob were a quarter of a history scan's
// allocation and set the garbage collector's pace; pooled by size class
// in a sync.Pool, they were ~3 MB of its live heap (which the collector's
// goal doubles) and were dropped at each collection, 16 MB a scan to
// allocate again on gitleaks' history; by size class outside the heap,
// 7 MB were mapped. The blobs read but not yet scanned there peak at
// 1.3-1.7 MB (see bufRingSize for why the ring holds less).
type bufPool struct {
	mu   sync.Mutex
	ring *bufRing
}

type bufRing struct {
	mem  []byte
	head int64  // bytes cut since the start, gaps included
	cuts []span // buffers not yet handed back or not yet reclaimed, oldest first
}

// span is a buffer cut from the ring, starting at byte at since the
// start: only the oldest one's start bounds what get may cut.
type span struct {
	at   int64
	back bool // handed back
}

// bufRingSize is each ring's size. A ring's pages all become resident
// as it cycles; at 1 MiB rather than 2, peak RSS on gitleaks' history
// fell 3 MB (two sets of 11 interleaved runs) for no measurable time,
// though ~12 MB of blobs a scan then find it full and take heap buffers,
// which the collector's pacing (internal/gctune) absorbs.
const bufRingSize = 1 << 20

// get returns a buffer of length n.
func (p *bufPool) get(n int) []byte {
	if n <= 0 || n > bufRingSize/2 {
		return make([]byte, n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ring == nil {
		mem, free := offHeapBytes(bufRingSize)
		p.ring = &bufRing{mem: mem}
		runtime.AddCleanup(p, func(free func()) { free() }, free)
	}
	r := p.ring
	size := int64(len(r.mem))
	at := r.head
	if off := at % size; off+int64(n) > size {
		at += size - off // a buffer does not wrap round
	}
	oldest := at
	if len(r.cuts) > 0 {
		oldest = r.cuts[0].at
	}
	if at+int64(n)-oldest > size {
		return make([]byte, n) // would overwrite a buffer in use
	}
	r.head = at + int64(n)
	r.cuts = append(r.cuts, span{at: at})
	off := at % size
	return r.mem[off : off+int64(n) : off+int64(n)]
}

// put hands b back; nothing may use it afterwards.
func (p *bufPool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.ring
	if r == nil {
		return
	}
	off, ok := offsetIn(r.mem, b)
	if !ok {
		return // from the heap
	}
	size := int64(len(r.mem))
	for i := range r.cuts {
		if c := &r.cuts[i]; !c.back && c.at%size == off {
			c.back = true
			break
		}
	}
	i := 0
	for i < len(r.cuts) && r.cuts[i].back {
		i++
	}
	if i > 0 {
		r.cuts = append(r.cuts[:0], r.cuts[i:]...)
	}
}
