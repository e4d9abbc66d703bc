package scanner

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// memContent is a reader whose content the engine may take in place.
type memContent struct {
	*strings.Reader
	data []byte
}

func (m memContent) Content() ([]byte, bool) { return m.data, true }

// Content taken in place gives the findings a streamed read gives: within
// one window, across windows (then it is streamed), binary and over the
// size limit.
func TestInMemoryMatchesStream(t *testing.T) {
	rnd := rand.New(rand.NewSource(5))
	var b strings.Builder
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
		if i%37 == 0 {
			fmt.Fprintf(&b, "x = %s\n", fakeToken(rnd))
		}
	}
	text := b.String()
	cases := []struct {
		name string
		opts Options
		text string
	}{
		{"one window", Options{}, text},
		{"many windows", Options{WindowSize: 1024, Overlap: 256}, text},
		{"binary", Options{}, "\x00" + text},
		{"size limit", Options{MaxFileSize: 100}, text},
		{"empty", Options{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := testEngine(t, c.opts)
			want, _, werr := e.NewWorker().Scan(context.Background(), "f.txt", strings.NewReader(c.text), true)
			got, _, gerr := e.NewWorker().Scan(context.Background(), "f.txt", memContent{strings.NewReader(c.text), []byte(c.text)}, true)
			if !errors.Is(gerr, werr) && fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("error %v, streamed %v", gerr, werr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d findings in place, %d streamed", len(got), len(want))
			}
			if c.name == "one window" && len(want) < 10 {
				t.Fatalf("only %d findings: the comparison needs some", len(want))
			}
		})
	}
}
