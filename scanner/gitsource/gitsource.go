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
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

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
	// Exclude lists commits already scanned (an earlier run's ref tips):
	// with the refs selection, commits reachable from them are skipped and,
	// as in a range, a finding is kept only where its secret is new. Ids
	// this clone does not have are ignored.
	Exclude []string
	// FullBlobs scans every blob version whole instead of what it adds
	// to its parent version (see delta.go): the fallback, and the
	// reference the delta scan is tested against.
	FullBlobs bool
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
	headTree chan headTree     // headRev's blobs, if listed early (startHeadTree)
	staged   bool
	rangeSet bool
	subs     []*subSource
	stats    Stats
	aligners sync.Pool // *aligner, one per scan worker at a time
	// events lists, per path, the commits that set it to a blob or
	// removed it (zero blob), in commit order: the lifetimes behind
	// commits_containing.
	events      map[string][]pathEvent
	firstParent []int32
	// Delta scanning (nil lines: off). deltas and deltaOrder are written
	// by the prefetch reader and read by Finalize.
	lines      *lineCache
	deltaMu    sync.Mutex
	deltas     map[plumbing.Hash]*blobDelta
	deltaOrder []plumbing.Hash
	// deltaBlobs counts blobs scanned as deltas; basesLost those whose
	// base left the line cache before a worker aligned them (scanned
	// whole instead).
	deltaBlobs, basesLost atomic.Int64
	// basesAwaited counts delta versions whose base was still being
	// scanned when a worker took them up (see waitScanned).
	basesAwaited atomic.Int64
	cleanMu      sync.Mutex    // blobLines.settled and onSettle
	lineMax      int           // line cache budget (0: lineCacheMax); tests shrink it
	baseWait     time.Duration // how long a delta version waits for its base's scan (0: baseWaitMax); tests set it
	streams      int           // cat-file streams of a history walk (0: historyStreams, at most one per CPU); tests set it
	// done and total commits, read by the progress display.
	doneCommits, totalCommits atomic.Int64

	// prefetched is the git work Prefetch started (staged.go).
	prefetched *prefetch

	// pathClass is the engine's PathClass (UsePathClass; nil: every path
	// alike). A blob is scanned under the path it first appears at, and
	// again at a later path of another class, for the introductions of
	// that class (rescanned; walk.go, provenance.go).
	pathClass func(string) string
	classes   map[string]string // by interned path
	rescanned map[plumbing.Hash][]string
}

// UsePathClass implements scanner.PathClassUser.
func (s *Source) UsePathClass(class func(path string) string) { s.pathClass = class }

// classOf is the engine's class of path p ("" without one).
func (s *Source) classOf(p string) string {
	if s.pathClass == nil {
		return ""
	}
	c, ok := s.classes[p]
	if !ok {
		if s.classes == nil {
			s.classes = map[string]string{}
		}
		c = s.pathClass(p)
		s.classes[p] = c
	}
	return c
}

// rescanAt reports whether blob id, scanned under path first, must be
// scanned again for path p (and notes that it will be): the engine
// treats p unlike first, and unlike every path it was scanned for since.
func (s *Source) rescanAt(id plumbing.Hash, first, p string) bool {
	if s.pathClass == nil || p == first {
		return false
	}
	c := s.classOf(p)
	if c == s.classOf(first) || slices.Contains(s.rescanned[id], c) {
		return false
	}
	if s.rescanned == nil {
		s.rescanned = map[plumbing.Hash][]string{}
	}
	s.rescanned[id] = append(s.rescanned[id], c)
	return true
}

// rescanKey is the item key of blob id scanned again for path p.
func rescanKey(id plumbing.Hash, p string) string { return id.String() + "@" + p }

// splitItemKey splits a blob item's key into the blob and, for a
// rescan, the path it was scanned for ("" for the first scan).
func splitItemKey(k string) (plumbing.Hash, string) {
	id, p, _ := strings.Cut(k, "@")
	return plumbing.NewHash(id), p
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
	// DeltaBlobs were scanned for what they add to their parent version.
	DeltaBlobs int
	basesLost  int
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
func (s *Source) Stats() Stats {
	st := s.stats
	st.DeltaBlobs = int(s.deltaBlobs.Load())
	st.basesLost = int(s.basesLost.Load())
	return st
}

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
		b, err = openGitBin(ctx, s.opts.Path, s.opts.Workers, s.opts.Staged)
	case BackendGoGit:
		b, err = openGoGit(s.opts.Path, s.opts.Workers)
	case BackendAuto:
		if _, lerr := exec.LookPath("git"); lerr == nil {
			b, err = openGitBin(ctx, s.opts.Path, s.opts.Workers, s.opts.Staged)
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
	s.waitPrefetch()
	for _, sub := range s.subs {
		sub.src.Close()
	}
	if s.b != nil {
		return s.b.close()
	}
	return nil
}
