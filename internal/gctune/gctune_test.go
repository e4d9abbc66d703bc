package gctune

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	p := Pacing{Headroom: 8 << 20, MinPercent: 30, MaxPercent: 400, LargeHeap: 64 << 20, LargeMinPercent: 50}
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{1, 400},
		{2 << 20, 400}, // 8 MiB over 2 MiB live: exactly 400%
		{4 << 20, 200}, // the headroom in bytes
		{8 << 20, 100}, // headroom equals live: the default pacing
		{24 << 20, 33}, // 8/24
		{32 << 20, 30}, // would be 25%: held at the minimum
		{63 << 20, 30}, // still a small heap
		{64 << 20, 50}, // a large one: the higher floor
		{1 << 40, 50},
	} {
		if got := p.Percent(tc.live); got != tc.want {
			t.Errorf("Percent(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
	// Without a large-heap floor, MinPercent holds throughout.
	p.LargeHeap = 0
	if got := p.Percent(1 << 40); got != 30 {
		t.Errorf("no LargeHeap: Percent(1 TiB) = %d, want 30", got)
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// The tuner sets GOGC from the live heap each collection leaves, and
// Stop puts back what was there before. GOGC is process-wide, so this
// test does not run in parallel with others.
func TestTunerFollowsLiveHeap(t *testing.T) {
	before := gogc()
	sets := make(chan int, 64)
	tu := Start(Pacing{Headroom: 8 << 20, MinPercent: 10, MaxPercent: 1000}, func(live uint64, pct int) {
		select {
		case sets <- pct:
		default:
		}
	})
	defer tu.Stop()
	<-sets // the setting at Start

	// Hold ~32 MiB live: the next settings must come down to ~25%.
	hold := make([][]byte, 32)
	for i := range hold {
		hold[i] = make([]byte, 1<<20)
	}
	want := func(ok func(int) bool) int {
		deadline := time.After(10 * time.Second)
		for {
			runtime.GC()
			select {
			case pct := <-sets:
				if ok(pct) {
					return pct
				}
			case <-deadline:
				t.Fatal("the tuner did not adjust GOGC after collections")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	got := want(func(p int) bool { return p <= 30 })
	if g := gogc(); g != got {
		t.Errorf("GOGC is %d, tuner reported setting %d", g, got)
	}
	runtime.KeepAlive(hold)
	hold = nil

	// Let go of it: GOGC goes back up.
	want(func(p int) bool { return p >= 200 })

	tu.Stop()
	for len(sets) > 0 {
		<-sets // queued before Stop
	}
	if g := gogc(); g != before {
		t.Errorf("after Stop GOGC is %d, want %d as before Start", g, before)
	}
	// No more adjustments after Stop.
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	time.Sleep(100 * time.Millisecond)
	select {
	case p := <-sets:
		t.Errorf("tuner set GOGC %d after Stop", p)
	default:
	}
}
