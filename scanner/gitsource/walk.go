package gitsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keytrail/keytrail/scanner"
)

// Items implements scanner.Source.
func (s *Source) Items(ctx context.Context, emit func(scanner.Item) error, report func(error)) error {
	s.waitPrefetch()
	b, err := s.open(ctx)
	if err != nil {
		return err
	}
	s.index = map[plumbing.Hash]int32{}
	s.blobs = map[plumbing.Hash][]intro{}
	s.events = map[string][]pathEvent{}
	s.paths = map[string]string{}
	if s.opts.Staged {
		return s.stagedItems(ctx, b, emit, report)
	}
	if !s.opts.FullBlobs {
		s.lines = newLineCache()
		if s.lineMax > 0 {
			s.lines.max, s.lines.grow = s.lineMax, 0
		}
		s.deltas = map[plumbing.Hash]*blobDelta{}
	}
	var all chan revList
	if l := s.prefetched; l != nil && l.all != nil {
		all, l.all = l.all, nil
	} else {
		all = s.startGraphAll(ctx, b)
	}
	// A scan of every ref takes rev-list --all's graph: the refs, listed
	// and peeled, would only name its tips again (on gitleaks' history,
	// 1,500 refs and 80 ms before the walk could start). They are
	// listed only if rev-list failed.
	var nodes []*commitNode
	if all != nil {
		if r := <-all; r.err == nil {
			nodes = r.nodes
			s.headRev = "HEAD"
		} else {
			all = nil
		}
	}
	if all == nil {
		tips, exclude, err := s.selectTips(ctx, b)
		if err != nil {
			return err
		}
		if nodes, err = b.graph(ctx, tips, exclude, report); err != nil {
			return err
		}
	}
	s.startHeadTree(ctx, b)
	if s.rangeSet {
		if err := checkShallowRange(b, nodes); err != nil {
			return err
		}
	}
	s.commits = topoOrder(nodes)
	for i, c := range s.commits {
		s.index[c.id] = int32(i)
	}
	s.stats.Commits = len(s.commits)
	s.totalCommits.Store(int64(len(s.commits)))
	// Pre-images name each blob's parent version: the base a delta scan
	// needs, and what range scans compare findings against.
	wantPre := s.rangeSet || s.lines != nil
	streams := s.streams
	if streams <= 0 {
		streams = min(historyStreams, runtime.GOMAXPROCS(0))
	}
	ob := s.objectEmitter(ctx, b, emit, streams)
	err = b.diffs(ctx, s.commits, wantPre, report, func(i int, chs []change) error {
		c := s.commits[i]
		s.doneCommits.Store(int64(i + 1))
		defer ob.flush()
		if err := ob.message(c.id); err != nil {
			return err
		}
		for _, ch := range chs {
			p := s.intern(ch.path)
			if !s.rangeSet {
				s.events[p] = append(s.events[p], pathEvent{commit: int32(i), blob: ch.blob})
			}
			if ch.gone {
				continue
			}
			prev, seen := s.blobs[ch.blob]
			if seen && hasIntro(prev, int32(i), p) {
				continue
			}
			in := intro{commit: int32(i), path: p}
			if s.rangeSet {
				in.pre = ch.pre
			}
			s.blobs[ch.blob] = append(prev, in)
			if !seen {
				s.stats.Blobs++
				if err := ob.blob(ch.blob, p, c.id, firstPre(ch.pre)); err != nil {
					return err
				}
			} else if s.rescanAt(ch.blob, prev[0].path, p) {
				// Copied out of an allowlisted directory, say: what the
				// engine finds there is not what it found at first.
				if err := ob.rescan(ch.blob, p, c.id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if ferr := ob.finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if s.opts.Submodules && !s.rangeSet {
		return s.submoduleItems(ctx, b, emit, report)
	}
	return nil
}

// startGraphAll starts `git rev-list --all` for a scan of every ref,
// which walks what that walks (every ref under refs/ and HEAD,
// non-commits left out), and returns where its outcome will arrive; nil
// for other scans and backends. It runs alongside the ref listing (and,
// through Prefetch, the engine's start-up) instead of after it: 40 ms of
// the start-up on gitleaks' history. If it fails, the tips are walked as
// for any other selection.
func (s *Source) startGraphAll(ctx context.Context, b backend) chan revList {
	gb, ok := b.(*gitBin)
	if !ok || !s.scansAllRefs() {
		return nil
	}
	all := make(chan revList, 1)
	go func() {
		nodes, err := gb.graphAll(ctx)
		all <- revList{nodes, err}
	}()
	return all
}

// startHeadTree lists the blobs of headRev's tree in the background, for
// Finalize's present_at_head, when a whole history is scanned with the
// git binary: its git process then runs at the start of the scan instead
// of in the serial tail after it (12-17 ms of it on gitleaks' history). A
// range scan (a pull request, often with no findings) lists it only if a
// finding needs it, and go-git's enumeration runs on one goroutine.
func (s *Source) startHeadTree(ctx context.Context, b backend) {
	if _, ok := b.(*gitBin); !ok || s.rangeSet || s.staged {
		return
	}
	ch := make(chan headTree, 1)
	s.headTree = ch
	rev := s.headRev
	go func() {
		m, err := b.treeBlobs(ctx, rev)
		ch <- headTree{m, err}
	}()
}

// headTree is the outcome of a tree listing.
type headTree struct {
	blobs map[plumbing.Hash]bool
	err   error
}

// scansAllRefs reports whether the scan walks every ref, as rev-list
// --all does.
func (s *Source) scansAllRefs() bool {
	o := s.opts
	return !o.Staged && o.Range == "" && o.SinceCommit == "" && o.Branch == "" && len(o.Refs) == 0 && len(o.Exclude) == 0
}

// revList is the outcome of a `git rev-list` run.
type revList struct {
	nodes []*commitNode
	err   error
}

// firstPre is the blob the first parent that had the path held there.
func firstPre(pre []plumbing.Hash) plumbing.Hash {
	for _, h := range pre {
		if !h.IsZero() {
			return h
		}
	}
	return plumbing.ZeroHash
}

func hasIntro(in []intro, c int32, p string) bool {
	for _, x := range in {
		if x.commit == c && x.path == p {
			return true
		}
	}
	return false
}

func (s *Source) intern(p string) string {
	if q, ok := s.paths[p]; ok {
		return q
	}
	s.paths[p] = p
	return p
}

// selectTips resolves what to walk: refs, a branch, or a range.
func (s *Source) selectTips(ctx context.Context, b backend) (tips, exclude []plumbing.Hash, err error) {
	rng := s.opts.Range
	if s.opts.SinceCommit != "" {
		if rng != "" {
			return nil, nil, errors.New("--range and --since-commit are exclusive")
		}
		rng = s.opts.SinceCommit + "..HEAD"
	}
	if rng != "" {
		base, head, ok := strings.Cut(rng, "...")
		if !ok {
			base, head, ok = strings.Cut(rng, "..")
		}
		if !ok || base == "" {
			return nil, nil, fmt.Errorf("range %q: want BASE..HEAD", rng)
		}
		if head == "" {
			head = "HEAD"
		}
		h, err := b.resolve(ctx, head)
		if err != nil {
			return nil, nil, fmt.Errorf("range head %q: %w", head, err)
		}
		bs, err := b.resolve(ctx, base)
		if err != nil {
			if b.isShallow() || looksLikeID(base) {
				return nil, nil, fmt.Errorf("range base %q is not in this clone (%w): fetch more history, e.g. actions/checkout with fetch-depth: 0, or git fetch --unshallow", base, ErrShallow)
			}
			return nil, nil, fmt.Errorf("range base %q: %w", base, err)
		}
		s.rangeSet = true
		s.headRev = h.String()
		return []plumbing.Hash{h}, []plumbing.Hash{bs}, nil
	}
	if s.opts.Branch != "" {
		h, err := b.resolve(ctx, s.opts.Branch)
		if err != nil {
			return nil, nil, fmt.Errorf("--branch %q: %w", s.opts.Branch, err)
		}
		s.headRev = h.String()
		return []plumbing.Hash{h}, nil, nil
	}
	refs, err := b.refs(ctx)
	if err != nil {
		return nil, nil, err
	}
	seen := map[plumbing.Hash]bool{}
	for _, r := range refs {
		if len(s.opts.Refs) > 0 && !matchRef(s.opts.Refs, r.name) {
			continue
		}
		if !seen[r.id] {
			seen[r.id] = true
			tips = append(tips, r.id)
		}
	}
	sort.Slice(tips, func(i, j int) bool { return bytes.Compare(tips[i][:], tips[j][:]) < 0 })
	s.headRev = "HEAD"
	for _, x := range s.opts.Exclude {
		if h, err := b.resolve(ctx, x); err == nil {
			exclude = append(exclude, h)
		}
	}
	s.rangeSet = len(s.opts.Exclude) > 0
	return tips, exclude, nil
}

func looksLikeID(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

type ref struct {
	name string
	id   plumbing.Hash // peeled to a commit
}

func matchRef(pats []string, name string) bool {
	short := name
	for _, p := range []string{"refs/heads/", "refs/tags/", "refs/remotes/", "refs/"} {
		if strings.HasPrefix(name, p) {
			short = name[len(p):]
			break
		}
	}
	for _, p := range pats {
		if p == name || p == short {
			return true
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
		if ok, _ := path.Match(p, short); ok {
			return true
		}
	}
	return false
}

func checkShallowRange(b backend, nodes []*commitNode) error {
	sh := b.shallowSet()
	if len(sh) == 0 {
		return nil
	}
	for _, n := range nodes {
		if sh[n.id] {
			return fmt.Errorf("the range reaches the shallow boundary at commit %s (%w): fetch more history, e.g. actions/checkout with fetch-depth: 0, or git fetch --deepen / --unshallow", n.id, ErrShallow)
		}
	}
	return nil
}

// topoOrder orders commits parents first; among ready commits the oldest
// committer time, then the smallest id, goes first. Parents outside the
// set (range base, shallow boundary, missing) are ignored.
func topoOrder(nodes []*commitNode) []*commitNode {
	byID := make(map[plumbing.Hash]*commitNode, len(nodes))
	for _, n := range nodes {
		byID[n.id] = n
	}
	pending := make(map[plumbing.Hash]int, len(nodes))
	children := make(map[plumbing.Hash][]*commitNode, len(nodes))
	var ready nodeHeap
	for _, n := range nodes {
		k := 0
		for _, p := range uniq(n.parents) {
			if _, ok := byID[p]; ok {
				k++
				children[p] = append(children[p], n)
			}
		}
		pending[n.id] = k
		if k == 0 {
			ready = append(ready, n)
		}
	}
	ready.init()
	out := make([]*commitNode, 0, len(nodes))
	for len(ready) > 0 {
		n := ready.pop()
		out = append(out, n)
		for _, c := range children[n.id] {
			pending[c.id]--
			if pending[c.id] == 0 {
				ready.push(c)
			}
		}
	}
	return out
}

func uniq(hs []plumbing.Hash) []plumbing.Hash {
	if len(hs) < 2 {
		return hs
	}
	out := make([]plumbing.Hash, 0, len(hs))
	for _, h := range hs {
		dup := false
		for _, o := range out {
			if o == h {
				dup = true
			}
		}
		if !dup {
			out = append(out, h)
		}
	}
	return out
}

type nodeHeap []*commitNode

func (h nodeHeap) less(i, j int) bool {
	if h[i].time != h[j].time {
		return h[i].time < h[j].time
	}
	return bytes.Compare(h[i].id[:], h[j].id[:]) < 0
}

func (h *nodeHeap) init() {
	for i := len(*h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *nodeHeap) push(n *commitNode) {
	*h = append(*h, n)
	i := len(*h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		(*h)[i], (*h)[p] = (*h)[p], (*h)[i]
		i = p
	}
}

func (h *nodeHeap) pop() *commitNode {
	old := *h
	n := old[0]
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	h.down(0)
	return n
}

func (h nodeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// stagedItems emits the blobs the index has that HEAD does not.
func (s *Source) stagedItems(ctx context.Context, b backend, emit func(scanner.Item) error, report func(error)) error {
	s.staged = true
	chs, err := s.stagedChanges(ctx, b)
	if err != nil {
		return err
	}
	// One pipelined reader for all staged blobs: starting a process per
	// worker costs more than reading a typical commit's files.
	ob := s.objectEmitter(ctx, b, emit, 1)
	for _, ch := range chs {
		if ch.gone {
			continue
		}
		p := s.intern(ch.path)
		prev, seen := s.blobs[ch.blob]
		s.blobs[ch.blob] = append(prev, intro{commit: -1, path: p, pre: ch.pre})
		if !seen {
			s.stats.Blobs++
			if gb, ok := b.(*gitBin); ok {
				if data, ok := gb.worktreeBlob(p, ch.blob); ok {
					if err := emit(s.memBlobItem(ch.blob, p, data)); err != nil {
						ob.finish()
						return err
					}
					continue
				}
			}
			if err := ob.blob(ch.blob, p, plumbing.ZeroHash, plumbing.ZeroHash); err != nil {
				ob.finish()
				return err
			}
		} else if s.rescanAt(ch.blob, prev[0].path, p) {
			if err := ob.rescan(ch.blob, p, plumbing.ZeroHash); err != nil {
				ob.finish()
				return err
			}
		}
	}
	return ob.finish()
}
