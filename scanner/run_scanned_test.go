package scanner

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"sync/atomic"
	"testing"
)

// finalizingSource records, when Finalize runs, how many findings it got
// and whether Scanned had been called.
type finalizingSource struct {
	itemsSource
	scanned   *atomic.Int32
	atFinal   int32
	finalized int
}

func (s *finalizingSource) Finalize(_ context.Context, fs []Finding) ([]Finding, error) {
	s.atFinal = s.scanned.Load()
	s.finalized = len(fs)
	return fs, nil
}

// Scanned runs once, after every item's findings are in and before
// Finalize (the CLI lowers the GC target there: the rest runs on one
// core).
func TestRunCallsScannedBeforeFinalize(t *testing.T) {
	tok := fakeToken(rand.New(rand.NewSource(11)))
	var items itemsSource
	var opened atomic.Int32
	for i := 0; i < 30; i++ {
		data := []byte("key = " + tok + "\n")
		items = append(items, Item{Path: "f" + string(rune('a'+i%26)) + ".txt", Size: int64(len(data)), Key: string(rune('A' + i)),
			Open: func(context.Context) (io.ReadCloser, error) {
				opened.Add(1)
				return io.NopCloser(bytes.NewReader(data)), nil
			}})
	}
	var calls atomic.Int32
	var openedAtCall int32
	src := &finalizingSource{itemsSource: items, scanned: &calls}
	s := &Scanner{Engine: testEngine(t, Options{}), Workers: 2}
	s.Scanned = func() {
		calls.Add(1)
		openedAtCall = opened.Load()
	}
	res, err := s.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if openedAtCall != 30 {
		t.Errorf("%d of 30 items opened when Scanned was called", openedAtCall)
	}
	if calls.Load() != 1 {
		t.Errorf("Scanned called %d times, want 1", calls.Load())
	}
	if src.atFinal != 1 {
		t.Errorf("Scanned had been called %d times when Finalize ran, want 1", src.atFinal)
	}
	if src.finalized != 30 || len(res.Findings) == 0 {
		t.Errorf("Finalize got %d findings (want one per item, 30); result %d", src.finalized, len(res.Findings))
	}
}
