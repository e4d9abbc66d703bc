package gitsource

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keytrail/keytrail/scanner"
)

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
	pfs     []*prefetcher // streams; a path's blobs all go through one
	msgs    int           // commit messages requested (spread over streams)
	streams int           // at most this many
	started bool
}

// historyStreams is how many cat-file processes a history scan reads
// through at most (one per CPU up to it). With one, which inflates every
// object in turn, the scan's workers waited on it at times: on gitleaks'
// history two were 7% faster. Each stream takes whole directories, whose
// files often share delta chains in the pack; splitting by path instead
// cost twice the extra CPU on the synthetic benchmark history. A staged
// scan reads its few blobs through one.
const historyStreams = 2

// objectEmitter returns an emitter reading through at most streams
// cat-file processes.
func (s *Source) objectEmitter(ctx context.Context, b backend, emit func(scanner.Item) error, streams int) *objectEmitter {
	return &objectEmitter{ctx: ctx, s: s, b: b, emit: emit, streams: streams}
}

// prefetch starts the pipelined readers on first use (nothing to read,
// no process) and returns the one for path p; nil for go-git or if git
// cannot start. Every version of a path goes through one stream (its
// directory's), so a version's base (the same path in a parent commit)
// is read, and cached, before it.
func (o *objectEmitter) prefetch(p string) *prefetcher {
	if !o.started {
		o.started = true
		if gb, ok := o.b.(*gitBin); ok {
			for range max(1, o.streams) {
				pf, err := gb.newPrefetcher(o.ctx)
				if err != nil {
					break
				}
				o.pfs = append(o.pfs, pf)
			}
		}
	}
	switch len(o.pfs) {
	case 0:
		return nil
	case 1:
		return o.pfs[0]
	}
	return o.pfs[dirHash(p)%uint32(len(o.pfs))]
}

// dirHash is FNV-1a of p's directory, without allocating (it runs for
// every blob of a history).
func dirHash(p string) uint32 {
	h := uint32(2166136261)
	for i := range max(strings.LastIndexByte(p, '/'), 0) {
		h = (h ^ uint32(p[i])) * 16777619
	}
	return h
}

// blob emits blob id, first seen at path p in commit; base is its parent
// version there (zero if none), for a delta scan.
func (o *objectEmitter) blob(id plumbing.Hash, p string, commit, base plumbing.Hash) error {
	pf := o.prefetch(p)
	if pf == nil {
		return o.emit(o.s.blobItem(o.b, id, p, commit))
	}
	if !base.IsZero() {
		// A delta needs the base's findings under the same path rules:
		// the base must have been scanned, and under this path.
		if in := o.s.blobs[base]; len(in) == 0 || in[0].path != p || in[0].commit < 0 {
			base = plumbing.ZeroHash
		}
	}
	return pf.request(id, func(f fetched) error {
		if f.err != nil || f.big || f.typ != "blob" {
			pf.bufs.put(f.data)
			// Missing, large or unexpected: the on-demand item reads it
			// (and reports a missing object as before). Few are.
			it := o.s.blobItem(o.b, id, p, commit)
			it.Rare = true
			return o.emit(it)
		}
		it := o.s.memBlobItem(id, p, f.data)
		done := o.s.deltaItem(&it, id, p, base, f.data)
		// The buffer goes back to the pool once the engine has read it.
		open, data := it.Open, f.data
		it.Open = func(ctx context.Context) (io.ReadCloser, error) {
			rc, err := open(ctx)
			if err != nil {
				return nil, err
			}
			return &onClose{rc, func() {
				if done != nil {
					done()
				}
				pf.bufs.put(data)
			}}, nil
		}
		return o.emit(it)
	})
}

// rescan emits blob id again, for path p (see Source.rescanAt), under
// its own key: scanned whole, through the prefetch stream like any blob
// (read on demand, 56 copies on gitleaks' history cost 9% more time).
func (o *objectEmitter) rescan(id plumbing.Hash, p string, commit plumbing.Hash) error {
	onDemand := func() error {
		it := o.s.blobItem(o.b, id, p, commit)
		it.Key = rescanKey(id, p)
		return o.emit(it)
	}
	pf := o.prefetch(p)
	if pf == nil {
		return onDemand()
	}
	return pf.request(id, func(f fetched) error {
		if f.err != nil || f.big || f.typ != "blob" {
			pf.bufs.put(f.data)
			return onDemand()
		}
		it := o.s.memBlobItem(id, p, f.data)
		it.Key = rescanKey(id, p)
		open, data := it.Open, f.data
		it.Open = func(ctx context.Context) (io.ReadCloser, error) {
			rc, err := open(ctx)
			if err != nil {
				return nil, err
			}
			return &onClose{rc, func() { pf.bufs.put(data) }}, nil
		}
		return o.emit(it)
	})
}

func (o *objectEmitter) message(id plumbing.Hash) error {
	if o.prefetch("") == nil {
		return o.emit(o.s.messageItem(o.b, id))
	}
	pf := o.pfs[o.msgs%len(o.pfs)]
	o.msgs++
	return pf.request(id, func(f fetched) error {
		if f.err == nil && !f.big && f.typ == "commit" {
			msg, ok := commitMessage(f.data)
			if !ok {
				if c, err := decodeCommit(id, f.data); err == nil {
					msg, ok = c.Message, true
				}
			}
			pf.bufs.put(f.data) // msg is a copy
			if ok {
				return o.emit(messageItemText(id, msg))
			}
		}
		return o.emit(o.s.messageItem(o.b, id))
	})
}

func (o *objectEmitter) flush() {
	for _, pf := range o.pfs {
		pf.flush()
	}
}

func (o *objectEmitter) finish() error {
	var first error
	for _, pf := range o.pfs {
		if err := pf.finish(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// deltaItem keeps the line hashes of a text blob just read and, when its
// base version was scanned under the same path, makes it a delta item.
// It runs on the prefetch reader, in read order: a base is always read
// before the versions made from it. A version whose base has left the
// cache is scanned whole. Reading the base a second time instead (one
// git round trip and inflate per version) cost more than the whole scan
// it saved: on the 20,149-commit benchmark history, where 39,536 of
// 50,124 versions missed, 7.9-8.4 s against 5.9 s; on gitleaks' own
// history (606 misses) 1.40 s against 1.29 s.
// It returns what to call once the engine is done with the blob (nil if
// nothing).
func (s *Source) deltaItem(it *scanner.Item, id plumbing.Hash, p string, base plumbing.Hash, data []byte) (done func()) {
	if s.lines == nil || bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return nil
	}
	if s.opts.MaxBlobSize > 0 && int64(len(data)) > s.opts.MaxBlobSize {
		return nil
	}
	lc := s.lines // Finalize drops s.lines; the items keep theirs
	var bl *blobLines
	if !base.IsZero() {
		bl = lc.get(p, base)
	}
	hb, starts := lc.hashLinesStarts(data)
	own := &blobLines{id: id, path: p, scanned: make(chan struct{})}
	lc.put(own, hb)
	lc.words.put(hb) // the worker reads them back (or hashes again)
	if bl == nil {
		// Scanned whole; its keyword hits serve the versions made from it.
		it.Delta = &scanner.Delta{OnHits: func(h []scanner.Hit) { lc.setHits(own, starts, h) },
			OnDone: func(n int) { s.settle(own, n == 0); close(own.scanned) }}
		return func() { lc.starts.put(starts) }
	}
	bd := &blobDelta{base: base}
	bd.d.BaseClean = func() bool { return s.knownClean(bl) }
	bd.d.OnHits = func(h []scanner.Hit) { lc.setHits(own, starts, h) }
	bd.d.OnDone = func(n int) {
		bd.d.OnDone = nil
		defer close(own.scanned)
		if n != 0 {
			s.settle(own, false)
			return
		}
		// Nothing found: once the base is known to have nothing to
		// inherit either (its scan may still be running), Finalize has
		// no use for the version's record (its runs and rescanned
		// ranges were ~3 MB of the live heap on gitleaks' history).
		s.whenSettled(bl, func(baseClean bool) {
			if baseClean {
				s.deltaMu.Lock()
				delete(s.deltas, id)
				s.deltaMu.Unlock()
			}
			s.settle(own, baseClean)
		})
	}
	s.deltaMu.Lock()
	s.deltas[id] = bd
	s.deltaOrder = append(s.deltaOrder, id)
	s.deltaMu.Unlock()
	it.Delta = &bd.d
	open := it.Open
	it.Open = func(ctx context.Context) (io.ReadCloser, error) {
		// The alignment runs here, on a scan worker, not on the reader.
		// The hashes are read back from the cache here rather than
		// held from the walk: the versions read and not yet scanned
		// held ~1.5 MB of them.
		al, _ := s.aligners.Get().(*aligner)
		if al == nil {
			al = new(aligner)
		}
		defer s.aligners.Put(al)
		var ok bool
		if al.ha, ok = lc.hashes(bl, al.ha); !ok {
			// The base has left the cache since the walk looked: no
			// unchanged spans, so the engine scans the version whole
			// and Finalize carries nothing over.
			s.basesLost.Add(1)
			return open(ctx)
		}
		if al.hb, ok = lc.hashes(own, al.hb); !ok {
			al.hb = rehash(lc, data, starts, al.hb)
		}
		bd.runs, bd.d.Unchanged = spansOf(al.alignLines(al.ha, al.hb), starts, int32(len(al.ha)), int32(len(al.hb)))
		bd.d.LineStarts = starts
		// The base's hits, if its scan is done and they are still
		// cached (else the engine searches near the edits).
		waitScanned(ctx, bl, own, cmp.Or(s.baseWait, baseWaitMax), &s.basesAwaited)
		bd.d.BaseHits = lc.carry(bl, lc.hits.get(0), bd.runs, starts)
		s.deltaBlobs.Add(1)
		return open(ctx)
	}
	return func() {
		bd.scanned()
		lc.hits.put(bd.d.BaseHits)
		bd.d.BaseHits, bd.d.OnHits, bd.d.LineStarts, bd.d.BaseClean = nil, nil, nil, nil
		lc.starts.put(starts)
	}
}

// onClose calls fn once the reader is closed.
type onClose struct {
	io.ReadCloser
	fn func()
}

// Content passes the wrapped reader's in-memory content on.
func (c *onClose) Content() ([]byte, bool) {
	if m, ok := c.ReadCloser.(scanner.InMemory); ok {
		return m.Content()
	}
	return nil, false
}

func (c *onClose) Close() error {
	err := c.ReadCloser.Close()
	if c.fn != nil {
		c.fn()
		c.fn = nil
	}
	return err
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
			return &memReader{Reader: bytes.NewReader(data), data: data}, nil
		},
	}
}

// memReader is content already in memory, which the engine scans in place.
type memReader struct {
	*bytes.Reader
	data []byte
}

func (m *memReader) Content() ([]byte, bool) { return m.data, true }
func (m *memReader) Close() error            { return nil }

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

// commitMessage returns a well-formed commit object's message: what
// follows the blank line after its headers (a header's continuation lines
// start with a space, so the first empty line ends them). ok is false
// for anything else, which go-git then decodes. Decoding every commit
// with go-git to read its message parsed each signature line by line:
// on gitleaks' history (3,795 commits, most of them signed) that was a
// tenth of the bytes the scan allocated.
func commitMessage(data []byte) (string, bool) {
	if !bytes.HasPrefix(data, []byte("tree ")) {
		return "", false
	}
	i := bytes.Index(data, []byte("\n\n"))
	if i < 0 {
		return "", false
	}
	return string(data[i+2:]), true
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

// baseWaitMax bounds how long a worker waits for a version's base to be
// scanned. Versions of a file edited in commit after commit arrive close
// together, so with several workers a version often reached one while
// its base was still being scanned, and then had no hits to carry: it
// searched all of itself for keywords instead (on gitleaks' history 851
// of 7,529 delta versions, most of them its 50 KB config file's). The
// base is always with another worker already (items are handed out in
// read order and a base is read first), so the wait is short.
//
// A version does not wait for a base that is itself waiting: otherwise
// the versions of a file changed in every commit would run one at a
// time, however many cores there are. So every waiting worker waits for
// one that is scanning, and at least half of a chain's versions scan at
// once (the others carry their base's hits). On gitleaks' history ~150
// versions go without.
const baseWaitMax = 20 * time.Millisecond

// waitScanned waits, up to max, for base's scan to end, unless base is
// waiting for its own; self is the version that would wait. n counts
// the waits.
func waitScanned(ctx context.Context, base, self *blobLines, max time.Duration, n *atomic.Int64) {
	if base.scanned == nil {
		return
	}
	select {
	case <-base.scanned:
		return
	default:
	}
	if base.waiting.Load() {
		return
	}
	self.waiting.Store(true)
	defer self.waiting.Store(false)
	n.Add(1)
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-base.scanned:
	case <-t.C:
	case <-ctx.Done():
	}
}

// settle records whether bl is clean (see blobLines.clean), once its scan
// is over, and runs what waited for that.
func (s *Source) settle(bl *blobLines, clean bool) {
	s.cleanMu.Lock()
	bl.clean.Store(clean)
	bl.settled = true
	fns := bl.onSettle
	bl.onSettle = nil
	s.cleanMu.Unlock()
	for _, f := range fns {
		f(clean)
	}
}

// knownClean reports whether bl's scan is over and it is clean.
func (s *Source) knownClean(bl *blobLines) bool {
	s.cleanMu.Lock()
	defer s.cleanMu.Unlock()
	return bl.settled && bl.clean.Load()
}

// whenSettled calls f with whether bl is clean as soon as that is known:
// now, or when bl's scan ends. A version finished before its base did
// used to count that base as not clean and keep its record.
func (s *Source) whenSettled(bl *blobLines, f func(clean bool)) {
	s.cleanMu.Lock()
	if !bl.settled {
		bl.onSettle = append(bl.onSettle, f)
		s.cleanMu.Unlock()
		return
	}
	clean := bl.clean.Load()
	s.cleanMu.Unlock()
	f(clean)
}
