package scanner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// panicReader panics on its first Read, as a bug in a reader or the
// engine would.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("boom") }
func (panicReader) Close() error             { return nil }

type itemsSource []Item

func (itemsSource) Name() string { return "items" }

func (s itemsSource) Items(ctx context.Context, emit func(Item) error, _ func(error)) error {
	for _, it := range s {
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

// A panic while scanning one item becomes that item's error; the other
// items are scanned and Run returns (it used to hang once the panicking
// workers were gone and the source blocked on a full channel).
func TestRunSurvivesPanickingItem(t *testing.T) {
	tok := fakeToken(rand.New(rand.NewSource(7)))
	good := func(path string) Item {
		data := []byte("key = " + tok + "\n")
		return Item{Path: path, Size: int64(len(data)), Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}
	}
	bad := Item{Path: "bad.txt", Size: -1, Open: func(context.Context) (io.ReadCloser, error) { return panicReader{}, nil }}
	var src itemsSource
	for i := 0; i < 40; i++ { // more bad items than the channel and workers hold
		src = append(src, bad)
	}
	src = append(src, good("a.txt"), good("b.txt"))
	s := &Scanner{Engine: testEngine(t, Options{}), Workers: 2}
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := s.Run(context.Background(), src)
		done <- out{res, err}
	}()
	var o out
	select {
	case o = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after items panicked")
	}
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	files := map[string]bool{}
	for _, f := range o.res.Findings {
		files[f.File] = true
	}
	if !files["a.txt"] || !files["b.txt"] {
		t.Errorf("findings in %v, want a.txt and b.txt", files)
	}
	if len(o.res.Errors) != 40 {
		t.Fatalf("%d errors, want 40", len(o.res.Errors))
	}
	for _, e := range o.res.Errors {
		if e.Path != "bad.txt" || !errors.Is(e, errPanicked) || !strings.Contains(e.Error(), "boom") {
			t.Errorf("error %v", e)
		}
	}
}
