package gitsource

import (
	"math/bits"
	"runtime"
	"sync"
)

// bufPool recycles the buffers blob contents are read into, by power-of-two
// size class up to inMemoryMax. A history scan reads every blob version
// (124 MB on gitleaks' own history) into memory one after another; fresh
// buffers for each made that a quarter of all allocation and set the
// garbage collector's pace.
//
// The buffers live outside the Go heap (offHeapBytes): in a sync.Pool they
// were 3 MB of a history scan's live heap, which the collector's goal
// doubles, and were dropped at each collection to be allocated again (16
// MB a scan on gitleaks' history). A free list keeps up to bufPoolKeep
// bytes of them; the rest are unmapped when handed back. What is still in
// the free list is unmapped once the pool is no longer reachable.
type bufPool struct {
	mu   sync.Mutex
	free *bufFree
}

type bufFree struct {
	classes [bits.UintSize][][]byte
	bytes   int
	// what frees each buffer the pool made, by its first byte: a buffer
	// not in it (not the pool's) is not pooled
	made map[*byte]func()
}

const (
	minBufClass = 12      // 4 KiB: smaller buffers are cheap to allocate
	bufPoolKeep = 4 << 20 // bytes of free buffers kept
)

// get returns a buffer of length n.
func (p *bufPool) get(n int) []byte {
	c := bits.Len(uint(n - 1))
	if n <= 0 || c < minBufClass || n > inMemoryMax+1 {
		return make([]byte, n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free == nil {
		p.free = &bufFree{made: map[*byte]func(){}}
		runtime.AddCleanup(p, (*bufFree).release, p.free)
	}
	f := p.free
	if l := f.classes[c]; len(l) > 0 {
		b := l[len(l)-1]
		f.classes[c] = l[:len(l)-1]
		f.bytes -= cap(b)
		return b[:n]
	}
	b, free := offHeapBytes(1 << c)
	f.made[&b[0]] = free
	return b[:n]
}

// put hands b back; nothing may use it afterwards.
func (p *bufPool) put(b []byte) {
	if cap(b) < 1<<minBufClass || cap(b) > 2*(inMemoryMax+1) {
		return
	}
	c := bits.Len(uint(cap(b) - 1))
	if cap(b) != 1<<c {
		return
	}
	b = b[:cap(b)]
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.free
	if f == nil {
		return
	}
	free, ok := f.made[&b[0]]
	if !ok {
		return
	}
	if f.bytes+cap(b) > bufPoolKeep {
		delete(f.made, &b[0])
		free()
		return
	}
	f.classes[c] = append(f.classes[c], b)
	f.bytes += cap(b)
}

// release frees the buffers in the free list. Buffers never handed back
// stay mapped: something may still read them.
func (f *bufFree) release() {
	for c, l := range f.classes {
		for _, b := range l {
			f.made[&b[0]]()
		}
		f.classes[c] = nil
	}
	f.bytes = 0
}
