package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
	"github.com/sourcegraph/conc/pool"
)

// Stats counts what a scan covered.
type Stats struct {
	Items   int64 // items scanned
	Bytes   int64 // bytes scanned
	Skipped int64 // items skipped (binary, too large)
}

// Result is everything a scan produced.
type Result struct {
	Findings []Finding
	Errors   []*ScanError
	Stats    Stats
}

// Progress receives running totals; it is called from many goroutines.
type Progress interface {
	Add(items, bytes int64)
}

// Scanner runs a source through the engine on a pool of workers.
type Scanner struct {
	Engine   *Engine
	Workers  int
	Log      zerolog.Logger
	Progress Progress
	// Scanned, if set, is called once every item has been scanned and
	// before the source's Finalize: the parallel part of the scan is
	// over (the CLI collects the scan's garbage there).
	Scanned func()

	// afterItem, when set (tests), sees each worker after each item.
	afterItem func(w *Worker, it Item)
}

// Run scans every item the source yields. Problems with single items are
// collected in Result.Errors and do not stop the scan; the error returned
// is only for a scan that could not run at all (or was cancelled).
func (s *Scanner) Run(ctx context.Context, src Source) (*Result, error) {
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := &Result{}
	var mu sync.Mutex
	report := func(err error) {
		var se *ScanError
		if !errors.As(err, &se) {
			se = &ScanError{Path: src.Name(), Err: err}
		}
		s.Log.Warn().Str("path", se.Path).Err(se.Err).Msg("not scanned completely")
		mu.Lock()
		res.Errors = append(res.Errors, se)
		mu.Unlock()
	}
	items := make(chan Item, workers*4)
	var nItems, nBytes, nSkipped atomic.Int64

	p := pool.New().WithContext(ctx).WithCancelOnError()
	for i := 0; i < workers; i++ {
		p.Go(func(ctx context.Context) error {
			w := s.Engine.NewWorker()
			for it := range items {
				fs, n, err := s.scanItemSafe(ctx, w, it)
				if errors.Is(err, errPanicked) {
					// The worker's buffers may be half-written: start afresh.
					w = s.Engine.NewWorker()
				} else if it.Rare {
					w.TrimBuffer()
				}
				if s.afterItem != nil {
					s.afterItem(w, it)
				}
				nBytes.Add(n)
				if d := it.Delta; d != nil && d.OnDone != nil {
					found := len(fs)
					if err != nil {
						found = -1
					}
					d.OnDone(found)
				}
				if s.Progress != nil {
					s.Progress.Add(1, n)
				}
				switch {
				case err == nil:
					nItems.Add(1)
				case errors.Is(err, ErrBinary):
					nSkipped.Add(1)
					s.Log.Debug().Str("path", it.Path).Msg("binary, skipped")
				case isSizeLimit(err):
					nSkipped.Add(1)
					s.Log.Info().Str("path", it.Path).Msg(err.Error())
				case ctx.Err() != nil:
					return ctx.Err()
				default:
					nItems.Add(1)
					report(&ScanError{Path: it.Path, Err: err})
				}
				if len(fs) > 0 {
					for i := range fs {
						if it.Provenance != nil {
							fs[i].Commit = it.Provenance.Commit
							fs[i].Author = it.Provenance.Author
							fs[i].Email = it.Provenance.Email
							fs[i].Date = it.Provenance.Date
							fs[i].Message = it.Provenance.Message
						}
						if it.Key != "" {
							if fs[i].Meta == nil {
								fs[i].Meta = map[string]string{}
							}
							fs[i].Meta["item_key"] = it.Key
						}
					}
					mu.Lock()
					res.Findings = append(res.Findings, fs...)
					mu.Unlock()
				}
			}
			return nil
		})
	}
	if pc, ok := src.(PathClassUser); ok {
		pc.UsePathClass(s.Engine.PathClass)
	}
	srcErr := src.Items(ctx, func(it Item) error {
		select {
		case items <- it:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, report)
	close(items)
	poolErr := p.Wait()
	res.Stats = Stats{Items: nItems.Load(), Bytes: nBytes.Load(), Skipped: nSkipped.Load()}
	if srcErr != nil {
		return res, srcErr
	}
	if poolErr != nil {
		return res, poolErr
	}
	if s.Scanned != nil {
		s.Scanned()
	}
	if f, ok := src.(Finalizer); ok {
		fs, err := f.Finalize(ctx, res.Findings)
		if err != nil {
			return res, err
		}
		res.Findings = fs
	}
	res.Findings = dedupFindings(res.Findings)
	SortFindings(res.Findings)
	return res, nil
}

func isSizeLimit(err error) bool {
	var sl *SizeLimitError
	return errors.As(err, &sl)
}

// errPanicked marks an item whose scan panicked.
var errPanicked = errors.New("internal error while scanning (please report it)")

// scanItemSafe is scanItem with a panic turned into that item's error: one
// bad item must not take the scan down, nor hang it (a dead worker leaves
// the source blocked on items nobody takes). The stack goes to the debug
// log; it holds code locations, not content.
func (s *Scanner) scanItemSafe(ctx context.Context, w *Worker, it Item) (fs []Finding, n int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.Log.Debug().Str("path", it.Path).Str("stack", string(debug.Stack())).Msg("scan panicked")
			fs, err = nil, fmt.Errorf("%w: %v", errPanicked, r)
		}
	}()
	return s.scanItem(ctx, w, it)
}

func (s *Scanner) scanItem(ctx context.Context, w *Worker, it Item) ([]Finding, int64, error) {
	if lim := s.Engine.opts.MaxFileSize; lim > 0 && it.Size > lim {
		return nil, 0, &SizeLimitError{Limit: lim}
	}
	rc, err := it.Open(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	return w.ScanDelta(ctx, it.Path, rc, !it.SkipSniff, it.Delta)
}

// ScanReader scans one reader outside any source, for tests and callers
// embedding the engine.
func (e *Engine) ScanReader(ctx context.Context, path string, r io.Reader) ([]Finding, error) {
	fs, _, err := e.NewWorker().Scan(ctx, path, r, true)
	return fs, err
}

// dedupFindings drops exact repeats: the same secret by the same rule at
// the same file, line and commit (a source may yield overlapping items).
func dedupFindings(fs []Finding) []Finding {
	type key struct {
		rule, file, secret, commit string
		line, col                  int
	}
	seen := make(map[key]bool, len(fs))
	out := fs[:0]
	for _, f := range fs {
		k := key{f.RuleID, f.File, f.Secret, f.Commit, f.Line, f.Column}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}
