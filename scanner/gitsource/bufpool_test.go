package gitsource

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestBufPool(t *testing.T) {
	var p bufPool
	for _, n := range []int{0, 1, 4095, 4096, 4097, 100 << 10, inMemoryMax + 1, inMemoryMax + 2} {
		b := p.get(n)
		if len(b) != n {
			t.Fatalf("get(%d) has length %d", n, len(b))
		}
		p.put(b)
		p.put(nil)
		p.put(make([]byte, 5000)) // not the pool's: ignored
	}
	if len(p.ring.cuts) != 0 {
		t.Fatalf("%d buffers still cut after all were handed back", len(p.ring.cuts))
	}
	// A buffer cannot grow into the next one.
	a, b := p.get(100), p.get(100)
	if cap(a) != 100 {
		t.Errorf("cap %d, want 100", cap(a))
	}
	if _, ok := offsetIn(p.ring.mem, a); !ok {
		t.Error("a small buffer is not from the ring")
	}
	p.put(a)
	p.put(b)
}

// Buffers held and handed back in a shuffled order never share bytes
// with another buffer in use; every byte written reads back until the
// buffer is handed back.
func TestBufPoolRing(t *testing.T) {
	var p bufPool
	r := rand.New(rand.NewPCG(5, 6))
	type held struct {
		b    []byte
		fill byte
	}
	var out []held
	fromRing, fromHeap := 0, 0
	for round := 0; round < 20000; round++ {
		if len(out) > 0 && (r.IntN(2) == 0 || len(out) > 30) {
			// Hand back one of the oldest few (out of order, as
			// two workers finish items).
			i := r.IntN(min(len(out), 4))
			h := out[i]
			for j, c := range h.b {
				if c != h.fill {
					t.Fatalf("round %d: byte %d of a %d-byte buffer changed while in use", round, j, len(h.b))
				}
			}
			p.put(h.b)
			out = append(out[:i], out[i+1:]...)
			continue
		}
		n := 1 + r.IntN(64<<10)
		if r.IntN(50) == 0 {
			n = bufRingSize/4 + r.IntN(bufRingSize/2)
		}
		b := p.get(n)
		if len(b) != n {
			t.Fatalf("get(%d): length %d", n, len(b))
		}
		if _, ok := offsetIn(p.ring.mem, b); ok {
			fromRing++
		} else {
			fromHeap++
		}
		fill := byte(round)
		for j := range b {
			b[j] = fill
		}
		out = append(out, held{b, fill})
	}
	if fromRing == 0 || fromHeap == 0 {
		t.Errorf("%d buffers from the ring, %d from the heap: want both exercised", fromRing, fromHeap)
	}
	for _, h := range out {
		p.put(h.b)
	}
	if len(p.ring.cuts) != 0 {
		t.Errorf("%d buffers still cut after all were handed back", len(p.ring.cuts))
	}
}

// One reader cuts buffers while two workers hand them back, as in a
// history scan: no buffer changes while it is held.
func TestBufPoolConcurrent(t *testing.T) {
	var p bufPool
	type held struct {
		b    []byte
		fill byte
	}
	ch := make(chan held, 8)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			var err error
			for h := range ch {
				for _, c := range h.b {
					if c != h.fill && err == nil {
						err = fmt.Errorf("a %d-byte buffer changed while held", len(h.b))
					}
				}
				p.put(h.b)
			}
			done <- err
		}()
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 5000; i++ {
		n := 1 + r.IntN(128<<10)
		if r.IntN(40) == 0 {
			n = bufRingSize / 2
		}
		b := p.get(n)
		for j := range b {
			b[j] = byte(i)
		}
		ch <- held{b, byte(i)}
	}
	close(ch)
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if len(p.ring.cuts) != 0 {
		t.Errorf("%d buffers still cut after all were handed back", len(p.ring.cuts))
	}
}
