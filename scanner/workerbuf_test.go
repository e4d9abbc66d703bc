package scanner

import (
	"context"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// TrimBuffer lets go of a window buffer grown past keepBuf and keeps a
// smaller one; the worker scans on afterwards as before.
func TestWorkerTrimBuffer(t *testing.T) {
	e := testEngine(t, Options{})
	w := e.NewWorker()
	ctx := context.Background()
	if _, _, err := w.Scan(ctx, "small.txt", strings.NewReader("x = 1\n"), true); err != nil {
		t.Fatal(err)
	}
	small := cap(w.buf)
	w.TrimBuffer()
	if cap(w.buf) != small || small == 0 || small > keepBuf {
		t.Fatalf("a %d-byte buffer became %d bytes", small, cap(w.buf))
	}
	tok := fakeToken(rand.New(rand.NewSource(1)))
	big := strings.Repeat("filler line without keys\n", 3*keepBuf/25) + "token " + tok + "\n"
	for round := 0; round < 2; round++ {
		found, _, err := w.Scan(ctx, "big.txt", strings.NewReader(big), true)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].Secret != tok {
			t.Fatalf("round %d: findings %v, want the token", round, found)
		}
		if cap(w.buf) <= keepBuf {
			t.Fatalf("round %d: the buffer did not grow for a %d-byte file", round, len(big))
		}
		w.TrimBuffer()
		if w.buf != nil {
			t.Fatalf("round %d: a %d-byte buffer kept", round, cap(w.buf))
		}
	}
}

// Run lets a worker's window buffer go after an item its source marks
// Rare, and keeps it after any other: a directory's large files reuse it.
func TestRunTrimsBufferAfterRareItems(t *testing.T) {
	tok := fakeToken(rand.New(rand.NewSource(2)))
	big := strings.Repeat("filler line without keys\n", 3*keepBuf/25) + "token " + tok + "\n"
	item := func(path string, rare bool) Item {
		return Item{Path: path, Size: int64(len(big)), Rare: rare,
			// A plain reader (not InMemory), so the content streams
			// through the worker's window.
			Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(struct{ io.Reader }{strings.NewReader(big)}), nil
			}}
	}
	s := &Scanner{Engine: testEngine(t, Options{}), Workers: 1}
	kept := map[string]int{}
	s.afterItem = func(w *Worker, it Item) { kept[it.Path] = cap(w.buf) }
	res, err := s.Run(context.Background(), itemsSource{item("common.txt", false), item("rare.txt", true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 2 {
		t.Fatalf("%d findings, want the token in both items", len(res.Findings))
	}
	if kept["common.txt"] <= keepBuf {
		t.Errorf("after a large common item the worker kept a %d-byte buffer, want the grown one", kept["common.txt"])
	}
	if kept["rare.txt"] != 0 {
		t.Errorf("after a large rare item the worker kept a %d-byte buffer, want none", kept["rare.txt"])
	}
}
