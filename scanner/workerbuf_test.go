package scanner

import (
	"context"
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
