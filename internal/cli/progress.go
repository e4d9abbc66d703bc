package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/scanner"
)

// progress shows a bar on a terminal once a scan has run for a while, so
// short scans (pre-commit) stay silent.
type progress struct {
	items, bytes atomic.Int64
	stop         chan struct{}
	wg           sync.WaitGroup
}

const progressDelay = 2 * time.Second

// progressConfig says where and when to draw; tests set tty and delay.
type progressConfig struct {
	w        io.Writer
	tty      bool
	delay    time.Duration
	interval time.Duration
	counter  scanner.Counter // optional: a source that knows its total
}

func newProgress(ctx context.Context, w io.Writer, disabled bool, src scanner.Source) *progress {
	c := progressConfig{w: w, tty: !disabled && isTerminal(w), delay: progressDelay, interval: 200 * time.Millisecond}
	c.counter, _ = src.(scanner.Counter)
	return startProgress(ctx, c)
}

func startProgress(ctx context.Context, c progressConfig) *progress {
	p := &progress{stop: make(chan struct{})}
	if !c.tty {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-time.After(c.delay):
		case <-p.stop:
			return
		case <-ctx.Done():
			return
		}
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(c.w),
			progressbar.OptionThrottle(c.interval),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription("scanning"),
		}
		if c.counter == nil {
			opts = append(opts, progressbar.OptionShowBytes(true))
		} else {
			// Sources that know their size (git: commits) get a bar
			// with a count and an ETA; files and bytes go in the label.
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true))
		}
		bar := progressbar.NewOptions64(-1, opts...)
		t := time.NewTicker(c.interval)
		defer t.Stop()
		start := time.Now()
		var shown, max int64
		for {
			select {
			case <-t.C:
				items, b := p.items.Load(), p.bytes.Load()
				rate := float64(b) / time.Since(start).Seconds()
				if c.counter == nil {
					bar.Describe(fmt.Sprintf("scanning: %d files", items))
					bar.Add64(b - shown)
					shown = b
					continue
				}
				done, total, unit := c.counter.Progress()
				if total > 0 && total != max {
					bar.ChangeMax64(total)
					max = total
				}
				bar.Set64(done)
				bar.Describe(fmt.Sprintf("%s · %d objects, %s at %s/s", unit, items, report.HumanBytes(b), report.HumanBytes(int64(rate))))
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
