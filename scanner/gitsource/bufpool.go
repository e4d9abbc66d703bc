package gitsource

import (
	"math/bits"
	"sync"
)

// bufPool recycles the buffers blob contents are read into, by power-of-two
// size class up to inMemoryMax. A history scan reads every blob version
// (124 MB on gitleaks' own history) into memory one after another; fresh
// buffers for each made that a quarter of all allocation and set the
// garbage collector's pace.
type bufPool struct {
	classes [bits.UintSize]sync.Pool
}

const minBufClass = 12 // 4 KiB: smaller buffers are cheap to allocate

// get returns a buffer of length n.
func (p *bufPool) get(n int) []byte {
	c := bits.Len(uint(n - 1))
	if n <= 0 || c < minBufClass || n > inMemoryMax+1 {
		return make([]byte, n)
	}
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<c)
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
	b = b[:0]
	p.classes[c].Put(&b)
}
