package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a bar on a terminal once a scan has run for a while, so
// short scans (pre-commit) stay silent.
type progress struct {
	items, bytes atomic.Int64
	stop         chan struct{}
	wg           sync.WaitGroup
}

const progressDelay = 2 * time.Second

func newProgress(ctx context.Context, w io.Writer, disabled bool) *progress {
	p := &progress{stop: make(chan struct{})}
	if disabled || !isTerminal(w) {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-time.After(progressDelay):
		case <-p.stop:
			return
		case <-ctx.Done():
			return
		}
		bar := progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		var shown int64
		for {
			select {
			case <-t.C:
				b := p.bytes.Load()
				bar.Describe(fmt.Sprintf("scanning: %d files", p.items.Load()))
				bar.Add64(b - shown)
				shown = b
			case <-p.stop:
				bar.Finish()
				return
			case <-ctx.Done():
				bar.Finish()
				return
			}
		}
	}()
	return p
}

// Add implements scanner.Progress.
func (p *progress) Add(items, bytes int64) {
	p.items.Add(items)
	p.bytes.Add(bytes)
}

// Done stops and clears the bar.
func (p *progress) Done() {
	close(p.stop)
	p.wg.Wait()
}
