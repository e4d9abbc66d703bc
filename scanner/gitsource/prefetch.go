package gitsource

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// prefetcher pipelines object reads through one `git cat-file --batch`
// process: the history walk writes object ids as it finds them and one
// goroutine reads the contents back in order. Asking a cat-file process
// for one object at a time cost a round trip (two context switches and
// several syscalls on each side) per blob; on the 20,000-commit benchmark
// history that overhead was about a third of the scan's CPU time.
//
// Objects larger than inMemoryMax are not held in memory: the stream
// skips them and their item reads them on demand through the pool.
type prefetcher struct {
	cmd  interface{ Wait() error }
	in   *bufio.Writer
	inc  io.Closer
	out  *bufio.Reader
	reqs chan prefetchReq
	done chan struct{}
	err  error // set by the reader before done closes
	once sync.Once
	bufs bufPool
}

// fetched is what the reader hands back for one request: the content,
// or big (read it yourself), or ErrObjectNotFound, or a stream failure.
type fetched struct {
	typ  string
	data []byte
	big  bool
	err  error
}

type prefetchReq struct {
	id      plumbing.Hash
	deliver func(fetched) error
}

const inMemoryMax = 1 << 20

// prefetchBuf is each stream's read buffer. Blobs as large as the buffer
// are read past it, straight into their own. 64 KiB read as fast as 256
// KiB (and 256 KiB as fast as 1 MiB) on both benchmark histories; the
// buffers stay on the heap, which the collector's goal doubles.
const prefetchBuf = 64 << 10

func (g *gitBin) newPrefetcher(ctx context.Context) (*prefetcher, error) {
	var cmd *exec.Cmd
	var in io.WriteCloser
	var out io.ReadCloser
	if p := g.takePre(preBatch); p != nil {
		cmd, in, out = p.cmd, p.stdin, p.stdout
	} else {
		var err error
		if cmd, in, out, err = g.startBatch(ctx); err != nil {
			return nil, err
		}
	}
	p := &prefetcher{
		cmd:  cmd,
		in:   bufio.NewWriterSize(in, 64<<10),
		inc:  in,
		out:  bufio.NewReaderSize(out, prefetchBuf),
		reqs: make(chan prefetchReq, 8192),
		done: make(chan struct{}),
	}
	go p.read()
	return p, nil
}

// request queues an object; deliver runs on the reader goroutine, in
// request order. Call flush when the walk may pause.
func (p *prefetcher) request(id plumbing.Hash, deliver func(fetched) error) error {
	select {
	case <-p.done:
		if p.err != nil {
			return p.err
		}
		return fmt.Errorf("git cat-file: stream closed")
	default:
	}
	var line [2*len(id) + 1]byte
	hex.Encode(line[:], id[:])
	line[len(line)-1] = '\n'
	if _, err := p.in.Write(line[:]); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	select {
	case p.reqs <- prefetchReq{id, deliver}:
		return nil
	case <-p.done:
		if p.err != nil {
			return p.err
		}
		return fmt.Errorf("git cat-file: stream closed")
	}
}

func (p *prefetcher) flush() error {
	if err := p.in.Flush(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	return nil
}

// finish flushes, closes the request stream and waits for every delivery.
func (p *prefetcher) finish() error {
	p.once.Do(func() {
		p.in.Flush()
		close(p.reqs)
		p.inc.Close()
	})
	<-p.done
	p.cmd.Wait()
	return p.err
}

func (p *prefetcher) read() {
	defer close(p.done)
	failed := error(nil)
	for r := range p.reqs {
		if failed != nil {
			// The stream broke: every later request falls back to
			// reading on demand.
			if err := r.deliver(fetched{big: true}); err != nil && p.err == nil {
				p.err = err
			}
			continue
		}
		f := p.next(r.id)
		if f.err != nil && f.err != plumbing.ErrObjectNotFound {
			failed = f.err
			f = fetched{big: true}
		}
		if err := r.deliver(f); err != nil {
			p.err = err
			failed = err
		}
	}
}

// next reads one response of the batch stream.
func (p *prefetcher) next(id plumbing.Hash) fetched {
	line, err := p.out.ReadSlice('\n')
	if err != nil {
		return fetched{err: fmt.Errorf("git cat-file: %w", err)}
	}
	h, ok := parseBatchHeader(line)
	if ok && h.missing {
		return fetched{err: plumbing.ErrObjectNotFound}
	}
	if !ok || !h.is(id) {
		return fetched{err: fmt.Errorf("git cat-file: unexpected header %s for %s", quoteHeader(line), id)}
	}
	size := h.size
	if size > inMemoryMax {
		if _, err := p.out.Discard(int(size)); err != nil {
			return fetched{err: fmt.Errorf("git cat-file: %w", err)}
		}
		if b, err := p.out.ReadByte(); err != nil || b != '\n' {
			return fetched{err: fmt.Errorf("git cat-file: stream out of step after %s", id)}
		}
		return fetched{typ: h.typ, big: true}
	}
	data := p.bufs.get(int(size) + 1)
	if _, err := io.ReadFull(p.out, data); err != nil {
		return fetched{err: fmt.Errorf("git cat-file: %w", err)}
	}
	if data[size] != '\n' {
		return fetched{err: fmt.Errorf("git cat-file: stream out of step after %s", id)}
	}
	return fetched{typ: h.typ, data: data[:size]}
}

// batchHeader is one `git cat-file --batch` header: "<oid> <type>
// <size>" or "<oid> missing".
type batchHeader struct {
	oid     []byte // hex, aliasing the line
	typ     string
	size    int64
	missing bool
}

// parseBatchHeader parses a header line (its newline included or not)
// without allocating for the usual object types: the prefetchers read one
// per blob version, and strings.Fields on a string copy of each was a
// few percent of a history scan's allocation.
func parseBatchHeader(line []byte) (batchHeader, bool) {
	line = bytes.TrimRight(line, "\r\n")
	oid, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(oid) == 0 {
		return batchHeader{}, false
	}
	if string(rest) == "missing" {
		return batchHeader{oid: oid, missing: true}, true
	}
	typ, num, ok := bytes.Cut(rest, []byte{' '})
	if !ok || len(typ) == 0 || len(num) == 0 || len(num) > 18 {
		return batchHeader{}, false
	}
	var size int64
	for _, c := range num {
		if c < '0' || c > '9' {
			return batchHeader{}, false
		}
		size = size*10 + int64(c-'0')
	}
	h := batchHeader{oid: oid, size: size}
	switch string(typ) { // no allocation: the compiler compares in place
	case "blob":
		h.typ = "blob"
	case "commit":
		h.typ = "commit"
	case "tree":
		h.typ = "tree"
	case "tag":
		h.typ = "tag"
	default:
		h.typ = string(typ)
	}
	return h, true
}

// quoteHeader quotes a line read where a header was due, for an error:
// a stream out of step may hand over a line of some blob instead, which
// can hold a secret, so only a line that starts like a header (an object
// id) is shown.
func quoteHeader(line []byte) string {
	line = bytes.TrimSpace(line)
	oid, _, _ := bytes.Cut(line, []byte{' '})
	if (len(oid) == 40 || len(oid) == 64) && isHex(oid) && len(line) <= 100 {
		return strconv.Quote(string(line))
	}
	return fmt.Sprintf("(%d bytes, not shown)", len(line))
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// is reports whether the header names id.
func (h batchHeader) is(id plumbing.Hash) bool {
	var want [2 * len(id)]byte
	hex.Encode(want[:], id[:])
	return bytes.Equal(h.oid, want[:])
}
