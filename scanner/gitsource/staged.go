package gitsource

import "context"

// prefetch is the git work Prefetch started: a staged scan's listing
// of staged changes, or a history scan's `rev-list --all`.
type prefetch struct {
	done   chan struct{}
	opened bool // the backend opened; chs and err are the listing's
	chs    []change
	err    error
	all    chan revList // a history scan's commit graph, if started
}

// Prefetch starts a scan's first git work in the background, so that
// git runs while the caller loads the rules and builds the engine (on one
// core, for 10-25 ms): a --staged scan lists the staged changes (its one
// git process), a scan of every ref starts `git rev-list --all`. Items
// then takes the result. It does nothing when called twice. Items and
// Close wait for the backend to open.
func (s *Source) Prefetch(ctx context.Context) {
	if s.prefetched != nil {
		return
	}
	l := &prefetch{done: make(chan struct{})}
	s.prefetched = l
	// rev-list needs only the directory: it runs alongside the
	// rev-parse that opens the repository (10-30 ms of the start-up).
	var all chan revList
	if s.opts.Backend != BackendGoGit && s.scansAllRefs() {
		all = s.startGraphAll(ctx, &gitBin{dir: s.opts.Path})
	}
	go func() {
		defer close(l.done)
		b, err := s.open(ctx)
		if err != nil {
			return // Items opens again and reports the error
		}
		l.opened = true
		if s.opts.Staged {
			l.chs, l.err = b.staged(ctx)
			return
		}
		gb, ok := b.(*gitBin)
		if !ok {
			return // go-git: the walk lists the graph itself
		}
		l.all = all
		gb.prestart(ctx)
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
