package gitsource

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keytrail/keytrail/scanner"
)

func TestWaitScanned(t *testing.T) {
	ctx := context.Background()
	var n atomic.Int64

	// Scanned already, or not tracked: no wait.
	done := &blobLines{scanned: make(chan struct{})}
	close(done.scanned)
	self := &blobLines{}
	waitScanned(ctx, done, self, time.Hour, &n)
	waitScanned(ctx, &blobLines{}, self, time.Hour, &n)
	if n.Load() != 0 {
		t.Fatalf("%d waits counted for scanned or untracked bases", n.Load())
	}

	// In progress: returns once the scan ends, not before.
	bl := &blobLines{scanned: make(chan struct{})}
	returned := make(chan struct{})
	go func() { waitScanned(ctx, bl, self, time.Hour, &n); close(returned) }()
	select {
	case <-returned:
		t.Fatal("returned while the base was still being scanned")
	case <-time.After(30 * time.Millisecond):
	}
	// While it waits, it says so: a version made from it does not wait
	// for it (the chain would run one version at a time).
	if !self.waiting.Load() {
		t.Error("a waiting version is not marked waiting")
	}
	next := &blobLines{}
	waitScanned(ctx, self, next, time.Hour, &n) // self.scanned is nil: no wait anyway
	self.scanned = make(chan struct{})
	waitScanned(ctx, self, next, 50*time.Millisecond, &n)
	if next.waiting.Load() {
		t.Error("waited for a base that is itself waiting")
	}
	close(bl.scanned)
	<-returned
	if self.waiting.Load() {
		t.Error("still marked waiting after the wait")
	}
	if n.Load() != 1 {
		t.Fatalf("%d waits counted, want 1", n.Load())
	}

	// Never ends: the bound, or the context, ends the wait.
	waitScanned(ctx, &blobLines{scanned: make(chan struct{})}, self, time.Millisecond, &n)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	waitScanned(cctx, &blobLines{scanned: make(chan struct{})}, self, time.Hour, &n)
	if n.Load() != 3 {
		t.Fatalf("%d waits counted, want 3", n.Load())
	}
}

// A delta version a worker takes up while its base is still being
// scanned waits for that scan, then carries the base's keyword hits
// instead of searching all of itself.
func TestDeltaWaitsForBaseHits(t *testing.T) {
	src, v1, base, version := twoVersions(t)
	src.baseWait = time.Hour

	// What the engine would see: the hits handed over with the content
	// (closing the reader recycles them).
	opened := make(chan error, 1)
	var carried []scanner.Hit
	go func() {
		rc, err := version.Open(context.Background())
		if err == nil {
			carried = slices.Clone(version.Delta.BaseHits)
			rc.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("the version was opened (err %v) while its base was still being scanned", err)
	case <-time.After(30 * time.Millisecond):
	}
	// The base's scan ends: a keyword hit on its line 3, which the
	// version keeps.
	pos := int32(strings.Index(v1, "line 3 "))
	base.Delta.OnHits([]scanner.Hit{{Pos: pos, KW: 7}})
	base.Delta.OnDone(0)
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if len(carried) != 1 || carried[0] != (scanner.Hit{Pos: pos, KW: 7}) {
		t.Errorf("carried hits %v, want the base's one at %d", carried, pos)
	}
	if got := src.basesAwaited.Load(); got != 1 {
		t.Errorf("%d bases awaited, want 1", got)
	}
}

// A version that found nothing drops its record once its base is known
// to have found nothing too, even when the base's scan ends after its
// own; a base that found something keeps it.
func TestCleanRecordDroppedWhenBaseSettlesLater(t *testing.T) {
	for _, baseFound := range []int{0, 1} {
		src, _, base, version := twoVersions(t)
		if len(src.deltas) != 1 {
			t.Fatalf("%d delta records, want 1", len(src.deltas))
		}
		version.Delta.OnDone(0)
		if len(src.deltas) != 1 {
			t.Fatalf("record dropped before the base's scan ended")
		}
		base.Delta.OnDone(baseFound)
		if got, want := len(src.deltas), baseFound; got != want {
			t.Errorf("base found %d: %d records kept, want %d", baseFound, got, want)
		}
	}
}

// twoVersions makes a history of two versions of f.txt (the first, v1,
// 40 lines; the second one line longer) and reads its items without
// scanning them: the source, v1 and the two versions' items (the second
// a delta of the first).
func twoVersions(t *testing.T) (src *Source, v1 string, base, version scanner.Item) {
	t.Helper()
	r := newRepo(t)
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "line %d of the file\n", i)
	}
	v1 = b.String()
	r.commit("one", map[string]string{"f.txt": v1})
	r.commit("two", map[string]string{"f.txt": v1 + "one more line\n"})
	src = New(Options{Path: r.dir, Backend: BackendGit})
	t.Cleanup(func() { src.Close() })
	var items []scanner.Item
	if err := src.Items(context.Background(), func(it scanner.Item) error {
		if it.Path == "f.txt" {
			items = append(items, it)
		}
		return nil
	}, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Delta == nil || items[1].Delta == nil {
		t.Fatalf("want two versions of f.txt, the second a delta; got %d", len(items))
	}
	return src, v1, items[0], items[1]
}
