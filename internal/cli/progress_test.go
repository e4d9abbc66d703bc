package cli

import (
	"context"
	"strings"
	"testing"
	"time"
)

type fakeCounter struct{}

func (fakeCounter) Progress() (int64, int64, string) { return 40, 100, "commits" }

func TestProgress(t *testing.T) {
	cases := []struct {
		name    string
		cfg     progressConfig
		want    []string
		silence bool
	}{
		{"not a terminal", progressConfig{tty: false}, nil, true},
		{"short scan stays silent", progressConfig{tty: true, delay: time.Hour}, nil, true},
		{"files and bytes", progressConfig{tty: true, interval: 5 * time.Millisecond}, []string{"scanning: 3 files", "MB"}, false},
		{"git commits with total", progressConfig{tty: true, interval: 5 * time.Millisecond, counter: fakeCounter{}}, []string{"commits · 3 objects", "40/100"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out lockedBuffer
			c.cfg.w = &out
			if c.cfg.interval == 0 {
				c.cfg.interval = 5 * time.Millisecond
			}
			p := startProgress(context.Background(), c.cfg)
			p.Add(3, 3<<20)
			// Wait until the bar has drawn (or, for silent cases, for a
			// few intervals) rather than for a fixed time.
			deadline := time.Now().Add(5 * time.Second)
			for !c.silence && time.Now().Before(deadline) && !containsAll(out.String(), c.want) {
				time.Sleep(5 * time.Millisecond)
			}
			if c.silence {
				time.Sleep(50 * time.Millisecond)
			}
			p.Done()
			got := out.String()
			if c.silence && got != "" {
				t.Fatalf("drew %q", got)
			}
			if !c.silence && !containsAll(got, c.want) {
				t.Fatalf("output %q lacks %v", got, c.want)
			}
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
