package scanner

import (
	"context"
	"encoding/base64"
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

// The prefilter of a delta item skips only the deep inside of unchanged
// spans: margin bytes from a span's ends, unless the end is the content's.
func TestDeltaNear(t *testing.T) {
	cases := []struct {
		name   string
		n      int
		spans  []Span
		margin int
		want   []Span
	}{
		{"no spans", 100, nil, 10, []Span{{0, 100}}},
		{"all unchanged", 100, []Span{{0, 100}}, 10, nil},
		{"edit in the middle", 100, []Span{{0, 40}, {50, 100}}, 10, []Span{{30, 60}}},
		{"edit at the start", 100, []Span{{20, 100}}, 10, []Span{{0, 30}}},
		{"edit at the end", 100, []Span{{0, 80}}, 10, []Span{{70, 100}}},
		{"adjacent spans", 100, []Span{{0, 50}, {50, 100}}, 10, []Span{{40, 60}}},
		{"span too short", 100, []Span{{0, 40}, {45, 60}, {65, 100}}, 10, []Span{{30, 75}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &deltaState{n: c.n, spans: c.spans}
			if got := st.near(c.margin); !reflect.DeepEqual(got, c.want) {
				t.Errorf("near(%d) = %v, want %v", c.margin, got, c.want)
			}
		})
	}
	rs := []Span{{10, 20}, {30, 50}}
	for _, c := range []struct {
		lo, hi int
		in     bool
	}{{10, 20, true}, {12, 18, true}, {5, 15, false}, {15, 35, false}, {30, 60, false}, {30, 60, true}} {
		n := 100
		if c.in && c.hi > 50 {
			n = 50 // clipped to the content
		}
		if got := within(rs, c.lo, c.hi, n); got != c.in {
			t.Errorf("within(%v, %d, %d, %d) = %v", rs, c.lo, c.hi, n, got)
		}
	}
}

// Near an edit, the prefilter of a tier searches the short margin where
// every line is shorter than the narrowest Context, and the long one
// where a long line lies within reach.
func TestDeltaNearTier(t *testing.T) {
	p := &deltaPrefilter{tiers: []deltaTier{{ctx: 100}}, minCtx: 50}
	short, long := p.margin(0, false), p.margin(0, true)
	if short >= long {
		t.Fatalf("margins %d, %d: the long-line one must be wider", short, long)
	}
	line := strings.Repeat("x", 20) + "\n"
	shortLines := strings.Repeat(line, 20000/len(line))
	cases := []struct {
		name   string
		data   string
		margin int
	}{
		{"short lines", shortLines, short},
		{"long line near the edit", shortLines[:9000] + strings.Repeat("y", 300) + "\n" + shortLines[9000:], long},
		{"long line far away", strings.Repeat("y", 300) + "\n" + shortLines, short},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := len(c.data)
			mid := n / 2
			st := &deltaState{n: n, spans: []Span{{0, mid}, {mid + 10, n}}}
			st.longLines([]byte(c.data), p.minCtx)
			want := []Span{{mid - c.margin, mid + 10 + c.margin}}
			if got := st.nearTier(p, 0); !reflect.DeepEqual(got, want) {
				t.Errorf("nearTier = %v, want %v (margin %d)", got, want, c.margin)
			}
		})
	}
	st := &deltaState{}
	text := []byte("ab\n" + strings.Repeat("z", 60) + "\ncd\n" + strings.Repeat("w", 70))
	st.longLines(text, 50)
	if want := []Span{{3, 64}, {67, 137}}; !reflect.DeepEqual(st.long, want) {
		t.Errorf("longLines = %v, want %v", st.long, want)
	}
	// The same from the line starts a source hands over.
	given := &deltaState{d: &Delta{LineStarts: []int32{0, 3, 64, 67, 137}}}
	if given.longLines(text, 50); !reflect.DeepEqual(given.long, st.long) {
		t.Errorf("longLines from LineStarts = %v, want %v", given.long, st.long)
	}
	for _, c := range []struct {
		lo, hi int
		want   bool
	}{{0, 3, false}, {0, 4, true}, {64, 67, false}, {63, 64, true}, {136, 200, true}} {
		if got := st.longNear(c.lo, c.hi); got != c.want {
			t.Errorf("longNear(%d, %d) = %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}

// In a delta item an encoded word that starts deep inside unchanged text
// and runs into the edit is still decoded: the search widens to whole
// tokens.
func TestDeltaDecodesWordAcrossEdit(t *testing.T) {
	rnd := rand.New(rand.NewSource(9))
	tok := fakeToken(rnd)
	word := base64.StdEncoding.EncodeToString([]byte("x = " + tok + " " + strings.Repeat("pad ", 200)))
	head := strings.Repeat("nothing to see here\n", 400)
	text := head + "blob " + word + "\nmore\n"
	edit := len(head) + 5 + len(word) - 10 // inside the word's tail
	e := testEngine(t, Options{})
	d := &Delta{Unchanged: []Span{{0, edit}}}
	fs, _, err := e.NewWorker().ScanDelta(context.Background(), "f.txt", strings.NewReader(text), true, d)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fs {
		found = found || f.Secret == tok
	}
	if !found {
		t.Fatalf("token in an encoded word across the edit not found: %d findings", len(fs))
	}
}
