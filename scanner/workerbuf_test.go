package scanner

import (
	"context"
	"math/rand"
	"strings"
	"testing"
)

// A worker keeps a small window buffer from item to item, but not one
// grown for a large streamed file: that would stay on the heap until the
// next large file. The large file's finding is still found.
func TestWorkerDropsLargeWindowBuffer(t *testing.T) {
	e := testEngine(t, Options{})
	w := e.NewWorker()
	ctx := context.Background()
	small := "x = 1\n"
	if _, _, err := w.Scan(ctx, "small.txt", strings.NewReader(small), true); err != nil {
		t.Fatal(err)
	}
	if cap(w.buf) == 0 || cap(w.buf) > keepBuf {
		t.Fatalf("after a small file the buffer holds %d bytes, want 1..%d", cap(w.buf), keepBuf)
	}
	kept := &w.buf[:1][0]
	if _, _, err := w.Scan(ctx, "small2.txt", strings.NewReader(small), true); err != nil {
		t.Fatal(err)
	}
	if &w.buf[:1][0] != kept {
		t.Error("the small buffer was not reused for the next file")
	}
	big := strings.Repeat("filler line without keys\n", 3*keepBuf/25) + "token " + fakeToken(rand.New(rand.NewSource(1))) + "\n"
	found, _, err := w.Scan(ctx, "big.txt", strings.NewReader(big), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Error("no finding in the large file")
	}
	if cap(w.buf) > keepBuf {
		t.Errorf("after a %d-byte file the worker keeps a %d-byte buffer, want at most %d", len(big), cap(w.buf), keepBuf)
	}
}
