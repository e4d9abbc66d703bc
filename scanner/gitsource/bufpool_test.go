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
	if c := p.get(6000); len(c) != 6000 || cap(c) != 8192 {
		t.Fatalf("get(6000): len %d cap %d", len(c), cap(c))
	}
}
