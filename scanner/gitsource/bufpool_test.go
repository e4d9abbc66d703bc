package gitsource

import "testing"

func TestBufPool(t *testing.T) {
	var p bufPool
	for _, n := range []int{0, 1, 4095, 4096, 4097, 100 << 10, inMemoryMax + 1, inMemoryMax + 2} {
		b := p.get(n)
		if len(b) != n {
			t.Fatalf("get(%d) has length %d", n, len(b))
		}
		p.put(b)
		p.put(nil)
		p.put(make([]byte, 5000)) // not a class size: dropped
	}
	// A recycled buffer comes back with the asked length, whatever it
	// held before.
	b := p.get(5000)
	b[4999] = 'x'
	p.put(b)
	c := p.get(6000)
	if len(c) != 6000 || cap(c) != 8192 {
		t.Fatalf("get(6000): len %d cap %d", len(c), cap(c))
	}
	if &c[0] != &b[0] {
		t.Error("the free buffer of the class was not reused")
	}
	p.put(c)
	// A buffer of a class size the pool did not make is not pooled.
	before := p.free.bytes
	p.put(make([]byte, 8192))
	if p.free.bytes != before {
		t.Errorf("a foreign buffer was pooled: %d -> %d free bytes", before, p.free.bytes)
	}
	// The free list keeps at most bufPoolKeep bytes; the pool forgets
	// (and unmaps) what it does not keep.
	var held [][]byte
	for range 2 * bufPoolKeep / (1 << 20) {
		b := p.get(1 << 20)
		b[len(b)-1] = 1 // the memory is usable
		held = append(held, b)
	}
	for _, b := range held {
		p.put(b)
	}
	pooled := 0
	for _, l := range p.free.classes {
		pooled += len(l)
	}
	if p.free.bytes > bufPoolKeep || len(p.free.made) != pooled {
		t.Errorf("%d free bytes (keep %d), %d buffers known, %d pooled", p.free.bytes, bufPoolKeep, len(p.free.made), pooled)
	}
	if got := p.get(1 << 20); cap(got) != 1<<20 || got[len(got)-1] != 1 {
		t.Error("a kept 1 MiB buffer was not reused")
	}
	p.free.release()
	if p.free.bytes != 0 {
		t.Errorf("%d free bytes after release", p.free.bytes)
	}
}
