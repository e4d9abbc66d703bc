// Package gitsource scans git history: every commit of every ref, a commit
// range (pull requests), or the staged changes (pre-commit).
//
// # Design: each unique blob once
//
// Blobs repeat across commits: a file edited in one commit keeps every
// other file's blob. So the source enumerates the commits of the selected
// refs, orders them parents-first (a deterministic topological order,
// ties broken by committer time then id), diffs each commit against its
// parents at tree level only (no content diff; merges use git's combined
// "differs from every parent" rule), and records each (commit, path, blob)
// introduction. The first time a blob is seen it is emitted as one
// scanner.Item keyed by its id; the engine scans it once. Finalize then
// maps each finding back to every introduction of its blob, keeps per
// (rule, secret) the oldest one as the finding (commit, author, email,
// date, subject, path at that commit; the line is the line in that blob,
// which is the file at that commit), counts the rest in other_locations
// (listed with --all-locations), and marks present_at_head when a blob
// with the secret is in HEAD's tree. Commit messages are items too.
//
// Range and staged scans use the same machinery restricted to the range's
// commits (or the index against HEAD); a finding is kept only where its
// secret is new: it does not occur in the pre-image (the parent's blob at
// the same path, or HEAD's blob for staged changes).
//
// # Two backends, one result
//
// go-git is the always-available backend. When a git binary is on PATH it
// is used instead: `git rev-list --parents --timestamp` for the graph,
// `git diff-tree --stdin -r -c --raw -z` for the tree diffs and a pool of
// `git cat-file --batch` processes (one per scan worker) for reading
// blobs and commits. Why, measured on a 2-core machine with
// scripts/bench-git.sh: on its 2,000-commit history the go-git backend
// took 29.4 s and the git backend 6.8 s for byte-identical reports; reading
// objects is the bulk of a history scan and go-git's pack reader is several
// times slower than git's. git's memory stays outside the Go heap; each git
// process runs with core.deltaBaseCacheLimit=16m, which on the 20,000-commit
// history cut cat-file's peak RSS from 252 MB to 169 MB at the same speed.
// Both backends feed the same ordering and finalization code; a test
// checks they agree. If a git command fails mid-way on a damaged
// repository, enumeration carries on with go-git, which reports each
// missing object and skips it.
package gitsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/keytrail/keytrail/scanner"
)

// MessageFile is the file name findings in commit messages report.
const MessageFile = scanner.MessageFile

// Backend names for Options.Backend.
const (
	BackendAuto  = "auto"
	BackendGit   = "git"
	BackendGoGit = "go-git"
)

// Options select what history to scan.
type Options struct {
	// Path is the repository: a work tree (or any directory in it), a
	// linked worktree, or a bare repository.
	Path string
	// Branch limits the scan to the history of one branch or revision.
	Branch string
	// Refs limits the scan to refs matching these glob patterns (matched
	// against the full name, e.g. refs/heads/*, and the short name).
	Refs []string
	// Range is BASE..HEAD: scan only what the commits in it add.
	Range string
	// SinceCommit is shorthand for Range SinceCommit..HEAD.
	SinceCommit string
	// Staged scans only the index against HEAD.
	Staged bool
	// AllLocations lists every location of a secret on its finding.
	AllLocations bool
	// Submodules also scans the history of checked-out submodules.
	Submodules bool
	// MaxBlobSize skips blobs larger than this (0: no limit).
	MaxBlobSize int64
	// Backend is BackendAuto (git binary if present), BackendGit or
	// BackendGoGit.
	Backend string
	// Workers bounds the reader pool (default 4).
	Workers int
}

// Source is a git history source. Use New; a Source is used for one scan.
type Source struct {
	opts Options
	b    backend

	// Filled by Items, read by Finalize (never concurrently).
	commits  []*commitNode // in scan order
	index    map[plumbing.Hash]int32
	blobs    map[plumbing.Hash][]intro
	paths    map[string]string // interning
	headRev  string            // revision present_at_head refers to
	staged   bool
	rangeSet bool
	subs     []*subSource
	stats    Stats
	// events lists, per path, the commits that set it to a blob or
	// removed it (zero blob), in commit order: the lifetimes behind
	// commits_containing.
	events      map[string][]pathEvent
	firstParent []int32
	// done and total commits, read by the progress display.
	doneCommits, totalCommits atomic.Int64
}

// Progress implements scanner.Counter: commits walked of those to walk.
func (s *Source) Progress() (done, total int64, unit string) {
	return s.doneCommits.Load(), s.totalCommits.Load(), "commits"
}

// Stats count what the enumeration covered.
type Stats struct {
	Commits int
	Blobs   int
	Backend string
}

// intro is one introduction of a blob: a commit (index into commits, or
// -1 for the index) put it at a path.
type pathEvent struct {
	commit int32
	blob   plumbing.Hash // zero: the file was removed
}

type intro struct {
	commit int32
	path   string
	pre    []plumbing.Hash // pre-image blobs (range/staged only)
}

type commitNode struct {
	id      plumbing.Hash
	parents []plumbing.Hash
	time    int64
}

// change is one blob a commit (or the index) has at a path that differs
// from every parent.
type change struct {
	path string
	blob plumbing.Hash
	pre  []plumbing.Hash
	// gone marks a file that every parent had and the commit removed (or
	// replaced with a non-file); blob is zero. It ends the file's lifetime
	// for commits_containing and introduces nothing.
	gone bool
}

// New returns a source for opts.
func New(opts Options) *Source {
	if opts.Backend == "" {
		opts.Backend = BackendAuto
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	return &Source{opts: opts}
}

// Name implements scanner.Source.
func (s *Source) Name() string { return "git" }

// Stats returns what the last Items call enumerated.
func (s *Source) Stats() Stats { return s.stats }

// ErrShallow is returned when a range needs history a shallow clone lacks.
var ErrShallow = errors.New("history missing from this clone")

func (s *Source) open(ctx context.Context) (backend, error) {
	if s.b != nil {
		return s.b, nil
	}
	var b backend
	var err error
	switch s.opts.Backend {
	case BackendGit:
		b, err = openGitBin(ctx, s.opts.Path, s.opts.Workers)
	case BackendGoGit:
		b, err = openGoGit(s.opts.Path, s.opts.Workers)
	case BackendAuto:
		if _, lerr := exec.LookPath("git"); lerr == nil {
			b, err = openGitBin(ctx, s.opts.Path, s.opts.Workers)
			if err == nil {
				break
			}
		}
		b, err = openGoGit(s.opts.Path, s.opts.Workers)
	default:
		return nil, fmt.Errorf("git backend %q: want auto, git or go-git", s.opts.Backend)
	}
	if err != nil {
		return nil, err
	}
	s.b = b
	s.stats.Backend = b.name()
	return b, nil
}

// Close releases the backend's processes and files.
func (s *Source) Close() error {
	for _, sub := range s.subs {
		sub.src.Close()
	}
	if s.b != nil {
		return s.b.close()
	}
	return nil
}

// Items implements scanner.Source.
func (s *Source) Items(ctx context.Context, emit func(scanner.Item) error, report func(error)) error {
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
	tips, exclude, err := s.selectTips(ctx, b)
	if err != nil {
		return err
	}
	nodes, err := b.graph(ctx, tips, exclude, report)
	if err != nil {
		return err
	}
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
	wantPre := s.rangeSet
	ob := s.objectEmitter(ctx, b, emit)
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
			s.blobs[ch.blob] = append(prev, intro{commit: int32(i), path: p, pre: ch.pre})
			if !seen {
				s.stats.Blobs++
				if err := ob.blob(ch.blob, p, c.id); err != nil {
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
	return tips, nil, nil
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

// blobItem is one unique blob; provenance is attached in Finalize.
func (s *Source) blobItem(b backend, id plumbing.Hash, p string, commit plumbing.Hash) scanner.Item {
	max := s.opts.MaxBlobSize
	return scanner.Item{
		Path: p,
		Size: -1,
		Key:  id.String(),
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			rc, size, err := b.openBlob(ctx, id)
			if err != nil {
				if errors.Is(err, plumbing.ErrObjectNotFound) {
					where := "the index"
					if !commit.IsZero() {
						where = "commit " + commit.String()
					}
					return nil, fmt.Errorf("missing blob %s (needed by %s in %s)", id, p, where)
				}
				return nil, fmt.Errorf("reading blob %s: %w", id, err)
			}
			if max > 0 && size > max {
				rc.Close()
				return nil, &scanner.SizeLimitError{Limit: max}
			}
			return rc, nil
		},
	}
}

// objectEmitter emits blob and message items. With the git binary it
// pipelines their contents through a prefetcher; otherwise (go-git, or if
// the prefetch process cannot start) items read on demand.
type objectEmitter struct {
	ctx     context.Context
	s       *Source
	b       backend
	emit    func(scanner.Item) error
	pf      *prefetcher
	started bool
}

func (s *Source) objectEmitter(ctx context.Context, b backend, emit func(scanner.Item) error) *objectEmitter {
	return &objectEmitter{ctx: ctx, s: s, b: b, emit: emit}
}

// prefetch starts the pipelined reader on first use (nothing to read, no
// process); it stays nil for go-git or if git cannot start.
func (o *objectEmitter) prefetch() *prefetcher {
	if !o.started {
		o.started = true
		if gb, ok := o.b.(*gitBin); ok {
			if pf, err := gb.newPrefetcher(o.ctx); err == nil {
				o.pf = pf
			}
		}
	}
	return o.pf
}

func (o *objectEmitter) blob(id plumbing.Hash, p string, commit plumbing.Hash) error {
	if o.prefetch() == nil {
		return o.emit(o.s.blobItem(o.b, id, p, commit))
	}
	return o.pf.request(id, func(f fetched) error {
		if f.err != nil || f.big || f.typ != "blob" {
			// Missing, large or unexpected: the on-demand item reads it
			// (and reports a missing object as before).
			return o.emit(o.s.blobItem(o.b, id, p, commit))
		}
		return o.emit(o.s.memBlobItem(id, p, f.data))
	})
}

func (o *objectEmitter) message(id plumbing.Hash) error {
	if o.prefetch() == nil {
		return o.emit(o.s.messageItem(o.b, id))
	}
	return o.pf.request(id, func(f fetched) error {
		if f.err == nil && !f.big && f.typ == "commit" {
			if c, err := decodeCommit(id, f.data); err == nil {
				return o.emit(messageItemText(id, c.Message))
			}
		}
		return o.emit(o.s.messageItem(o.b, id))
	})
}

func (o *objectEmitter) flush() {
	if o.pf != nil {
		o.pf.flush()
	}
}

func (o *objectEmitter) finish() error {
	if o.pf == nil {
		return nil
	}
	return o.pf.finish()
}

// memBlobItem is a blob whose content has already been read.
func (s *Source) memBlobItem(id plumbing.Hash, p string, data []byte) scanner.Item {
	max := s.opts.MaxBlobSize
	return scanner.Item{
		Path: p,
		Size: int64(len(data)),
		Key:  id.String(),
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			if max > 0 && int64(len(data)) > max {
				return nil, &scanner.SizeLimitError{Limit: max}
			}
			return io.NopCloser(bytes.NewReader(data)), nil
		},
	}
}

func messageItemText(id plumbing.Hash, msg string) scanner.Item {
	return scanner.Item{
		Path: MessageFile,
		Size: int64(len(msg)),
		Key:  "msg:" + id.String(),
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(msg)), nil
		},
	}
}

// messageItem is one commit's message.
func (s *Source) messageItem(b backend, id plumbing.Hash) scanner.Item {
	return scanner.Item{
		Path: MessageFile,
		Size: -1,
		Key:  "msg:" + id.String(),
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			c, err := b.readCommit(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("reading commit %s: %w", id, err)
			}
			return io.NopCloser(strings.NewReader(c.Message)), nil
		},
	}
}

// stagedItems emits the blobs the index has that HEAD does not.
func (s *Source) stagedItems(ctx context.Context, b backend, emit func(scanner.Item) error, report func(error)) error {
	s.staged = true
	chs, err := b.staged(ctx)
	if err != nil {
		return err
	}
	// One pipelined reader for all staged blobs: starting a process per
	// worker costs more than reading a typical commit's files.
	ob := s.objectEmitter(ctx, b, emit)
	for _, ch := range chs {
		if ch.gone {
			continue
		}
		p := s.intern(ch.path)
		prev, seen := s.blobs[ch.blob]
		s.blobs[ch.blob] = append(prev, intro{commit: -1, path: p, pre: ch.pre})
		if !seen {
			s.stats.Blobs++
			if err := ob.blob(ch.blob, p, plumbing.ZeroHash); err != nil {
				ob.finish()
				return err
			}
		}
	}
	return ob.finish()
}

// Finalize implements scanner.Finalizer: it maps blob findings to their
// introductions and keeps one finding per (rule, secret).
func (s *Source) Finalize(ctx context.Context, fs []scanner.Finding) ([]scanner.Finding, error) {
	if s.b == nil {
		return fs, nil
	}
	var own []scanner.Finding
	var out []scanner.Finding
	subFs := make([][]scanner.Finding, len(s.subs))
	for _, f := range fs {
		k := f.Meta["item_key"]
		if i, rest, ok := splitSubKey(k); ok && i < len(s.subs) {
			f.Meta["item_key"] = rest
			f.File = strings.TrimPrefix(f.File, s.subs[i].prefix)
			subFs[i] = append(subFs[i], f)
			continue
		}
		own = append(own, f)
	}
	res, err := s.finalizeOwn(ctx, own)
	if err != nil {
		return nil, err
	}
	out = append(out, res...)
	for i, sub := range s.subs {
		if len(subFs[i]) == 0 {
			continue
		}
		r, err := sub.src.Finalize(ctx, subFs[i])
		if err != nil {
			return nil, err
		}
		for _, f := range r {
			f.File = sub.prefix + f.File
			f.Fingerprint = scanner.Fingerprint(f.RuleID, f.File, f.Secret)
			for j := range f.Locations {
				f.Locations[j].File = sub.prefix + f.Locations[j].File
			}
			if f.Meta == nil {
				f.Meta = map[string]string{}
			}
			f.Meta["submodule"] = strings.TrimSuffix(sub.prefix, "/")
			out = append(out, f)
		}
	}
	return out, nil
}

// candidate is one place a finding's secret was introduced.
type candidate struct {
	f     *scanner.Finding
	in    intro
	isMsg bool
	cidx  int32
	blob  plumbing.Hash
}

func (s *Source) finalizeOwn(ctx context.Context, fs []scanner.Finding) ([]scanner.Finding, error) {
	type gkey struct {
		rule, secret string
		msg          bool
	}
	groups := map[gkey][]candidate{}
	var order []gkey
	pre := &preCache{b: s.b, m: map[plumbing.Hash][]byte{}}
	for i := range fs {
		f := &fs[i]
		k := f.Meta["item_key"]
		g := gkey{f.RuleID, f.Secret, strings.HasPrefix(k, "msg:")}
		var cands []candidate
		if g.msg {
			id := plumbing.NewHash(strings.TrimPrefix(k, "msg:"))
			ci, ok := s.index[id]
			if !ok {
				continue
			}
			cands = append(cands, candidate{f: f, isMsg: true, cidx: ci, in: intro{commit: ci, path: MessageFile}})
		} else {
			id := plumbing.NewHash(k)
			for _, in := range s.blobs[id] {
				if (s.rangeSet || s.staged) && len(in.pre) > 0 {
					dup, err := pre.contains(ctx, in.pre, f.Secret)
					if err != nil {
						return nil, err
					}
					if dup {
						continue
					}
				}
				cands = append(cands, candidate{f: f, in: in, cidx: in.commit, blob: id})
			}
		}
		if len(cands) == 0 {
			continue
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], cands...)
	}
	var head map[plumbing.Hash]bool
	if !s.staged && len(order) > 0 {
		var err error
		head, err = s.b.treeBlobs(ctx, s.headRev)
		if err != nil {
			head = nil // no HEAD (or unreadable): nothing is present there
		}
	}
	commits := map[int32]*object.Commit{}
	getCommit := func(ci int32) *object.Commit {
		if c, ok := commits[ci]; ok {
			return c
		}
		c, err := s.b.readCommit(ctx, s.commits[ci].id)
		if err != nil {
			c = nil
		}
		commits[ci] = c
		return c
	}
	out := make([]scanner.Finding, 0, len(order))
	for _, g := range order {
		cs := groups[g]
		sort.SliceStable(cs, func(i, j int) bool {
			a, b := cs[i], cs[j]
			if a.cidx != b.cidx {
				return a.cidx < b.cidx
			}
			if a.in.path != b.in.path {
				return a.in.path < b.in.path
			}
			if a.f.Line != b.f.Line {
				return a.f.Line < b.f.Line
			}
			return a.f.Column < b.f.Column
		})
		first := cs[0]
		f := *first.f
		f.Meta = cloneMeta(f.Meta)
		delete(f.Meta, "item_key")
		if !first.isMsg {
			f.Meta["blob"] = first.blob.String()
		}
		if len(f.Meta) == 0 {
			f.Meta = nil
		}
		f.File = first.in.path
		f.Fingerprint = scanner.Fingerprint(f.RuleID, f.File, f.Secret)
		f.Commit, f.Author, f.Email, f.Message = "", "", "", ""
		f.Date = time.Time{}
		if first.cidx >= 0 {
			f.Commit = s.commits[first.cidx].id.String()
			if c := getCommit(first.cidx); c != nil {
				f.Author = c.Author.Name
				f.Email = c.Author.Email
				f.Date = c.Author.When.UTC()
				f.Message = subject(c.Message)
			}
		}
		if !g.msg && !s.staged {
			present := false
			for _, c := range cs {
				if head[c.blob] {
					present = true
					break
				}
			}
			f.PresentAtHead = &present
		}
		if !g.msg && !s.staged && !s.rangeSet {
			f.CommitsContaining = s.containing(cs)
		}
		f.OtherLocations = len(cs) - 1
		f.Locations = nil
		if s.opts.AllLocations && len(cs) > 1 {
			for _, c := range cs[1:] {
				loc := scanner.Location{File: c.in.path, Line: c.f.Line}
				if c.cidx >= 0 {
					loc.Commit = s.commits[c.cidx].id.String()
				}
				f.Locations = append(f.Locations, loc)
			}
		}
		out = append(out, f)
	}
	// Subjects are shown in logs and reports even when secrets are
	// redacted: hide every secret found in them.
	secrets := make([]string, 0, len(order))
	for _, g := range order {
		secrets = append(secrets, g.secret)
	}
	for i := range out {
		out[i].Message = redactAll(out[i].Message, secrets)
	}
	return out, nil
}

// containing counts the commits whose tree holds one of the candidates'
// blobs at its path. Walking commits parents first, a path holds what the
// commit set it to, or else what its first parent held (a merge that
// leaves the path alone keeps its first parent's version).
func (s *Source) containing(cs []candidate) int {
	if s.firstParent == nil {
		s.firstParent = make([]int32, len(s.commits))
		for i, c := range s.commits {
			s.firstParent[i] = -1
			if len(c.parents) > 0 {
				if pi, ok := s.index[c.parents[0]]; ok {
					s.firstParent[i] = pi
				}
			}
		}
	}
	want := map[string]map[plumbing.Hash]bool{}
	for _, c := range cs {
		if c.isMsg {
			continue
		}
		if want[c.in.path] == nil {
			want[c.in.path] = map[plumbing.Hash]bool{}
		}
		want[c.in.path][c.blob] = true
	}
	any := make([]bool, len(s.commits))
	holds := make([]bool, len(s.commits))
	for p, blobs := range want {
		evs := s.events[p]
		next := 0
		for i := range s.commits {
			h := false
			if fp := s.firstParent[i]; fp >= 0 {
				h = holds[fp]
			}
			for next < len(evs) && int(evs[next].commit) < i {
				next++
			}
			for next < len(evs) && int(evs[next].commit) == i {
				h = blobs[evs[next].blob]
				next++
			}
			holds[i] = h
			if h {
				any[i] = true
			}
		}
	}
	n := 0
	for _, h := range any {
		if h {
			n++
		}
	}
	return n
}

// redactAll replaces each secret in s with its redacted hint.
func redactAll(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, scanner.Redact(sec))
		}
	}
	return s
}

func cloneMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func subject(msg string) string {
	msg = strings.TrimLeft(msg, "\n")
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimRight(msg, "\r ")
}

// preCache reads pre-image blobs once to test whether a secret is new.
type preCache struct {
	b  backend
	mu sync.Mutex
	m  map[plumbing.Hash][]byte
}

func (p *preCache) contains(ctx context.Context, ids []plumbing.Hash, secret string) (bool, error) {
	for _, id := range ids {
		if id.IsZero() {
			continue
		}
		data, ok := p.m[id]
		if !ok {
			rc, _, err := p.b.openBlob(ctx, id)
			if err != nil {
				// An unreadable pre-image cannot prove the secret old.
				p.m[id] = nil
				continue
			}
			data, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return false, fmt.Errorf("reading blob %s: %w", id, err)
			}
			p.m[id] = data
		}
		if bytes.Contains(data, []byte(secret)) {
			return true, nil
		}
	}
	return false, nil
}
