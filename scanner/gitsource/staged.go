package gitsource

import "context"

// stagedList is a listing of the staged changes started by Prefetch.
type stagedList struct {
	done   chan struct{}
	opened bool // the backend opened; chs and err are the listing's
	chs    []change
	err    error
}

// Prefetch starts listing the staged changes (a --staged scan's one git
// process) in the background, so that git runs while the caller loads
// the rules and builds the engine; Items then takes its result. It does
// nothing for other scans or when called twice. Items and Close wait
// for it.
func (s *Source) Prefetch(ctx context.Context) {
	if !s.opts.Staged || s.prefetched != nil {
		return
	}
	l := &stagedList{done: make(chan struct{})}
	s.prefetched = l
	go func() {
		defer close(l.done)
		b, err := s.open(ctx)
		if err != nil {
			return // Items opens again and reports the error
		}
		l.opened = true
		l.chs, l.err = b.staged(ctx)
	}()
}

// waitPrefetch waits for a running Prefetch, which may set s.b.
func (s *Source) waitPrefetch() {
	if s.prefetched != nil {
		<-s.prefetched.done
	}
}

// stagedChanges returns the prefetched listing, or lists now.
func (s *Source) stagedChanges(ctx context.Context, b backend) ([]change, error) {
	if l := s.prefetched; l != nil && l.opened {
		return l.chs, l.err
	}
	return b.staged(ctx)
}
