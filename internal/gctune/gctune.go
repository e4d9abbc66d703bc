// Package gctune paces Go's garbage collector by a fixed headroom over
// the live heap instead of by GOGC's fixed ratio.
//
// At GOGC=100 the heap may grow to twice what the last collection found
// live. A history scan's live heap grows steadily (compiled regexes,
// provenance, caches) and peaks at its end, so its peak heap is about
// twice that end figure, while early in the scan, when little is live,
// the collector runs often for little gain. Headroom pacing lets the
// heap grow by about the same number of bytes after every collection:
// fewer collections while the live heap is small, more once it is large.
// The collector's work per byte allocated goes as 1/GOGC, so what the
// early cycles save pays for part of the late ones; the rest is the
// price of the lower peak (on gitleaks' history −5 MB for +3% CPU,
// BENCHMARKS.md).
package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Pacing is a headroom policy: after each collection GOGC is set so the
// heap may grow by Headroom bytes over the live heap, kept within
// [MinPercent, MaxPercent]; from LargeHeap bytes live on, the floor is
// LargeMinPercent (when higher), since the collector's work per byte
// allocated grows as the percentage falls, whatever the heap's size.
type Pacing struct {
	Headroom        uint64
	MinPercent      int
	MaxPercent      int
	LargeHeap       uint64
	LargeMinPercent int
}

// Percent is the GOGC the policy sets for a live heap of live bytes.
func (p Pacing) Percent(live uint64) int {
	if live == 0 {
		return p.MaxPercent
	}
	// Compare in bytes first so a tiny live heap cannot overflow the
	// percentage.
	if p.Headroom >= live*uint64(p.MaxPercent)/100 {
		return p.MaxPercent
	}
	lo := p.MinPercent
	if p.LargeHeap > 0 && live >= p.LargeHeap {
		lo = max(lo, p.LargeMinPercent)
	}
	return max(lo, int(p.Headroom*100/live))
}

// Tuner applies a Pacing after every garbage collection until stopped.
type Tuner struct {
	p       Pacing
	mu      sync.Mutex
	stopped bool
	prev    int              // GOGC when started, restored by Stop
	last    int              // GOGC last set
	sample  []metrics.Sample // live heap, GOGC
	onSet   func(live uint64, percent int)
}

// sentinel is allocated for each cycle; when a collection finds it
// unreachable, its cleanup adjusts GOGC and allocates the next one. It
// holds a pointer so it is never batched into a tiny allocation, whose
// cleanups may not run.
type sentinel struct{ _ *byte }

// Start sets GOGC for the current live heap and keeps adjusting it after
// every collection. onSet, if not nil, is called with each setting (for
// tests and debug logging); it runs on the runtime's cleanup goroutine.
func Start(p Pacing, onSet func(live uint64, percent int)) *Tuner {
	t := &Tuner{p: p, onSet: onSet, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/gogc:percent"}}}
	t.mu.Lock()
	metrics.Read(t.sample)
	t.prev = int(t.sample[1].Value.Uint64())
	t.adjustLocked()
	t.mu.Unlock()
	t.arm()
	return t
}

func (t *Tuner) arm() {
	runtime.AddCleanup(&sentinel{}, func(t *Tuner) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.stopped {
			return
		}
		t.adjustLocked()
		t.arm()
	}, t)
}

func (t *Tuner) adjustLocked() {
	metrics.Read(t.sample)
	live := t.sample[0].Value.Uint64()
	pct := t.p.Percent(live)
	if pct != t.last {
		debug.SetGCPercent(pct)
		t.last = pct
	}
	if t.onSet != nil {
		t.onSet(live, pct)
	}
}

// Stop ends the adjustments and puts back the GOGC found at Start.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.stopped = true
	debug.SetGCPercent(t.prev)
}
