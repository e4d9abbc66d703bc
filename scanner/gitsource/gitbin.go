package gitsource

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// emptyTree is git's well-known empty tree id.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// gitBin is the backend that runs the git binary.
type gitBin struct {
	dir       string
	commonDir string
	shallowOK bool
	sh        map[plumbing.Hash]bool

	mu   sync.Mutex
	pool chan *catFile
	all  []*catFile
	max  int

	workers int
	gg      *goGit // fallback for damaged repositories, opened lazily
	ggErr   error
	// warmed closes when a cat-file process started by warm is in the
	// pool (nil: none started).
	warmed chan struct{}
	pre    *prestarted // the walk's processes, started early (prestart.go)
}

func openGitBin(ctx context.Context, dir string, workers int, staged bool) (*gitBin, error) {
	g := &gitBin{dir: dir, max: workers + 1, pool: make(chan *catFile, workers+1), workers: workers}
	g.sh = map[plumbing.Hash]bool{}
	if staged {
		// A pre-commit scan needs neither the common dir nor shallow
		// state, and every git process is milliseconds of its budget;
		// diff-index reports a directory that is not a repository.
		return g, nil
	}
	out, err := g.output(ctx, nil, "rev-parse", "--git-common-dir", "--is-shallow-repository")
	if err != nil {
		return nil, fmt.Errorf("opening git repository %s: %w", dir, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("opening git repository %s: unexpected rev-parse output", dir)
	}
	g.commonDir = lines[0]
	if !filepath.IsAbs(g.commonDir) {
		g.commonDir = filepath.Join(dir, g.commonDir)
	}
	g.shallowOK = lines[1] == "true"
	if g.shallowOK {
		if data, err := os.ReadFile(filepath.Join(g.commonDir, "shallow")); err == nil {
			for _, l := range strings.Fields(string(data)) {
				g.sh[plumbing.NewHash(l)] = true
			}
		}
	}
	return g, nil
}

func (g *gitBin) name() string                       { return BackendGit }
func (g *gitBin) isShallow() bool                    { return g.shallowOK }
func (g *gitBin) shallowSet() map[plumbing.Hash]bool { return g.sh }

func (g *gitBin) command(ctx context.Context, args ...string) *exec.Cmd {
	// A small delta-base cache: measured on the benchmark history it
	// costs no speed for our access order and keeps each git process's
	// peak RSS near the size of the mapped pack (default is 96 MiB).
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.dir, "-c", "core.quotePath=false", "-c", "core.deltaBaseCacheLimit=16m"}, args...)...)
	cmd.Env = gitEnv(os.Environ())
	return cmd
}

// gitEnv is the environment git runs in: environ with a fixed locale, no
// prompts, no optional locks, and glibc's malloc asked to back its heap
// with transparent huge pages where the system allows them on request.
// A history scan's cat-file touches ~50 MB of fresh heap for the blobs
// it inflates; in 4 KiB pages that was 13,000 page faults. With huge
// pages it was 1,500, and cat-file alone used 220 instead of 380 ms of
// CPU on gitleaks' history (on a VM where a fault costs 12 µs). Other
// C libraries and older glibc ignore the tunable; one the user set
// already is kept.
func gitEnv(environ []string) []string {
	const tunable = "glibc.malloc.hugetlb"
	tunables := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GLIBC_TUNABLES="); ok {
			tunables = v
		}
	}
	env := append(slices.Clip(environ), "LC_ALL=C", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
	switch {
	case tunables == "":
		env = append(env, "GLIBC_TUNABLES="+tunable+"=1")
	case !strings.Contains(tunables, tunable+"="):
		env = append(env, "GLIBC_TUNABLES="+tunables+":"+tunable+"=1")
	}
	return env
}

// output runs git and returns its standard output; stderr goes into the
// error, trimmed (it never holds file content).
func (g *gitBin) output(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := g.command(ctx, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg != "" {
			return out, fmt.Errorf("git %s: %s", args[0], msg)
		}
		return out, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}

func (g *gitBin) fallback() (*goGit, error) {
	if g.gg == nil && g.ggErr == nil {
		g.gg, g.ggErr = openGoGit(g.dir, g.workers)
	}
	return g.gg, g.ggErr
}

func (g *gitBin) workTree(ctx context.Context) string {
	out, err := g.output(ctx, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// refs lists the refs and HEAD, peeled to commits. for-each-ref and
// rev-parse HEAD run at once, and for-each-ref's own peeling (%(*...), one
// level) settles branches and annotated tags of commits; only what is left
// (a tag of a tag, HEAD) goes through cat-file. Run one after another,
// the four git processes were about half of the time before the history
// walk could start (80 ms of it on gitleaks' history).
func (g *gitBin) refs(ctx context.Context) ([]ref, error) {
	var head []byte
	var headErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		head, headErr = g.output(ctx, nil, "rev-parse", "-q", "--verify", "HEAD^{commit}")
	}()
	out, err := g.output(ctx, nil, "for-each-ref", "--format=%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(refname)")
	if err != nil {
		// git reads each object to print its type, and one it cannot
		// parse (a damaged repository) fails the whole listing: list the
		// names alone and peel every ref with cat-file, which leaves out
		// what it cannot read (the walk reports it).
		plain, perr := g.output(ctx, nil, "for-each-ref", "--format=%(objectname) %(refname)")
		if perr != nil {
			wg.Wait()
			return nil, fmt.Errorf("listing refs: %w", perr)
		}
		var b bytes.Buffer
		for _, l := range strings.Split(string(plain), "\n") {
			if id, name, ok := strings.Cut(l, " "); ok {
				b.WriteString(id + " ? - - " + name + "\n")
			}
		}
		out = b.Bytes()
	}
	wg.Wait()
	var refs []ref // in for-each-ref's order (by name), HEAD last
	var deep []int // refs still to peel (a tag of a tag)
	var in bytes.Buffer
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.SplitN(l, " ", 5)
		if len(f) != 5 {
			continue
		}
		switch {
		case f[1] == "commit":
			refs = append(refs, ref{name: f[4], id: plumbing.NewHash(f[0])})
		case f[1] == "tag" && f[3] == "commit":
			refs = append(refs, ref{name: f[4], id: plumbing.NewHash(f[2])})
		case f[1] == "tag" && f[3] == "tag", f[1] == "?":
			deep = append(deep, len(refs))
			refs = append(refs, ref{name: f[4]})
			in.WriteString(f[0] + "^{commit}\n")
		}
	}
	if len(deep) > 0 {
		// One batch; non-commits come back missing and stay unset.
		pe, err := g.output(ctx, in.Bytes(), "cat-file", "--batch-check=%(objectname) %(objecttype)")
		if err != nil {
			return nil, fmt.Errorf("peeling refs: %w", err)
		}
		for i, l := range strings.Split(strings.TrimRight(string(pe), "\n"), "\n") {
			if f := strings.Fields(l); i < len(deep) && len(f) == 2 && f[1] == "commit" {
				refs[deep[i]].id = plumbing.NewHash(f[0])
			}
		}
	}
	if headErr == nil {
		refs = append(refs, ref{name: "HEAD", id: plumbing.NewHash(strings.TrimSpace(string(head)))})
	}
	return slices.DeleteFunc(refs, func(r ref) bool { return r.id.IsZero() }), nil
}

func (g *gitBin) resolve(ctx context.Context, rev string) (plumbing.Hash, error) {
	out, err := g.output(ctx, nil, "rev-parse", "-q", "--verify", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return plumbing.ZeroHash, errors.New("unknown revision or not a commit")
	}
	return plumbing.NewHash(strings.TrimSpace(string(out))), nil
}

func (g *gitBin) graph(ctx context.Context, tips, exclude []plumbing.Hash, report func(error)) ([]*commitNode, error) {
	if len(tips) == 0 {
		return nil, nil
	}
	var in bytes.Buffer
	for _, t := range tips {
		in.WriteString(t.String() + "\n")
	}
	for _, t := range exclude {
		in.WriteString("^" + t.String() + "\n")
	}
	out, err := g.output(ctx, in.Bytes(), "rev-list", "--stdin", "--parents", "--timestamp")
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A damaged repository: go-git walks what is there and reports
		// what is missing.
		gg, gerr := g.fallback()
		if gerr != nil {
			return nil, err
		}
		return gg.graph(ctx, tips, exclude, report)
	}
	return parseRevList(out), nil
}

// graphAll is graph from every ref and HEAD (`rev-list --all`), with no
// fallback: an error leaves the caller to walk its tips with graph.
func (g *gitBin) graphAll(ctx context.Context) ([]*commitNode, error) {
	out, err := g.output(ctx, nil, "rev-list", "--all", "--parents", "--timestamp")
	if err != nil {
		return nil, err
	}
	return parseRevList(out), nil
}

// parseRevList reads `rev-list --parents --timestamp` output.
func parseRevList(out []byte) []*commitNode {
	var nodes []*commitNode
	for len(out) > 0 {
		var l []byte
		if i := bytes.IndexByte(out, '\n'); i >= 0 {
			l, out = out[:i], out[i+1:]
		} else {
			l, out = out, nil
		}
		f := strings.Fields(string(l))
		if len(f) < 2 {
			continue
		}
		ts, _ := strconv.ParseInt(f[0], 10, 64)
		n := &commitNode{id: plumbing.NewHash(f[1]), time: ts}
		for _, p := range f[2:] {
			n.parents = append(n.parents, plumbing.NewHash(p))
		}
		nodes = append(nodes, n)
	}
	return nodes
}

func (g *gitBin) diffs(ctx context.Context, commits []*commitNode, wantPre bool, report func(error), fn func(int, []change) error) error {
	if len(commits) == 0 {
		return nil
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := g.takePre(preDiff)
	if p == nil {
		var err error
		if p, err = g.startProc(dctx, diffTreeArgs...); err != nil {
			return err
		}
	}
	cmd, stdin, stdout, stderr := p.cmd, p.stdin, p.stdout, p.stderr
	go func() {
		w := bufio.NewWriterSize(stdin, 64<<10)
		for _, c := range commits {
			if _, err := w.WriteString(c.id.String() + "\n"); err != nil {
				break
			}
		}
		w.Flush()
		stdin.Close()
	}()
	r := bufio.NewReaderSize(stdout, prefetchBuf)
	next := 0 // index of the next commit to hand to fn
	cur := -1 // index of the commit whose entries are being read
	var chs []change
	var cbErr error
	flush := func() bool {
		if cur < 0 {
			return true
		}
		if err := fn(cur, chs); err != nil {
			cbErr = err
			return false
		}
		next = cur + 1
		chs = chs[:0]
		return true
	}
	var meta []byte
	expectPath := false
	for {
		tok, err := r.ReadSlice(0)
		if err == bufio.ErrBufferFull {
			// A very long path: collect it whole.
			buf := append([]byte(nil), tok...)
			for err == bufio.ErrBufferFull {
				tok, err = r.ReadSlice(0)
				buf = append(buf, tok...)
			}
			tok = buf
		}
		if err != nil {
			break
		}
		tok = tok[:len(tok)-1]
		if expectPath {
			expectPath = false
			if c, ok := parseRaw(meta, string(tok), wantPre); ok {
				chs = append(chs, c)
			}
			continue
		}
		if len(tok) > 0 && tok[0] == ':' {
			meta = append(meta[:0], tok...)
			expectPath = true
			continue
		}
		tok = bytes.TrimSpace(tok)
		if len(tok) == 0 {
			continue
		}
		// A commit header.
		if !flush() {
			break
		}
		if next >= len(commits) || commits[next].id.String() != string(tok) {
			cbErr = fmt.Errorf("git diff-tree: unexpected commit %q", tok)
			break
		}
		cur = next
	}
	if cbErr != nil {
		cancel()
		cmd.Process.Kill() // a prestarted process is not tied to dctx
		cmd.Wait()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return cbErr
	}
	werr := cmd.Wait()
	if werr == nil && cur >= 0 {
		if !flush() {
			return cbErr
		}
	}
	if next >= len(commits) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// diff-tree stopped early (a missing tree or commit): go on with
	// go-git from the commit it could not finish.
	gg, gerr := g.fallback()
	if gerr != nil {
		msg := strings.TrimSpace(stderr.String())
		return fmt.Errorf("git diff-tree failed at commit %s: %s", commits[next].id, msg)
	}
	return gg.diffFrom(ctx, commits, next, wantPre, report, fn)
}

func isRawFileMode(m string) bool { return m == "100644" || m == "100755" || m == "100664" }

// parseRaw parses one raw (or combined raw) diff entry.
func parseRaw(meta []byte, path string, wantPre bool) (change, bool) {
	n := 0
	for n < len(meta) && meta[n] == ':' {
		n++
	}
	f := strings.Fields(string(meta[n:]))
	if len(f) < 2*(n+1)+1 {
		return change{}, false
	}
	mode := f[n]
	if !isRawFileMode(mode) {
		// Removed, or replaced by a symlink/submodule: a deletion of the
		// file if every parent had one there (-c lists a path only when
		// it differs from all parents).
		for j := 0; j < n; j++ {
			if !isRawFileMode(f[j]) {
				return change{}, false
			}
		}
		return change{path: path, gone: true}, true
	}
	id := plumbing.NewHash(f[2*n+1])
	if id.IsZero() {
		return change{}, false
	}
	c := change{path: path, blob: id}
	if wantPre {
		c.pre = make([]plumbing.Hash, n)
		for j := 0; j < n; j++ {
			pm := f[j]
			if pm == "100644" || pm == "100755" || pm == "100664" {
				c.pre[j] = plumbing.NewHash(f[n+1+j])
			}
		}
	}
	return c, true
}

func (g *gitBin) lsTree(ctx context.Context, rev string, fn func(mode, typ, id, path string)) error {
	out, err := g.output(ctx, nil, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", rev)
	if err != nil {
		return err
	}
	for _, e := range bytes.Split(out, []byte{0}) {
		meta, p, ok := bytes.Cut(e, []byte{'\t'})
		if !ok {
			continue
		}
		f := strings.Fields(string(meta))
		if len(f) == 3 {
			fn(f[0], f[1], f[2], string(p))
		}
	}
	return nil
}

func (g *gitBin) treeBlobs(ctx context.Context, rev string) (map[plumbing.Hash]bool, error) {
	out := map[plumbing.Hash]bool{}
	err := g.lsTree(ctx, rev, func(mode, typ, id, _ string) {
		if typ == "blob" && (mode == "100644" || mode == "100755" || mode == "100664") {
			out[plumbing.NewHash(id)] = true
		}
	})
	return out, err
}

func (g *gitBin) gitlinks(ctx context.Context, rev string) ([]string, error) {
	var out []string
	err := g.lsTree(ctx, rev, func(mode, typ, id, p string) {
		if typ == "commit" {
			out = append(out, p)
		}
	})
	return out, err
}

func (g *gitBin) staged(ctx context.Context) ([]change, error) {
	out, err := g.output(ctx, nil, "diff-index", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "HEAD", "--")
	if err != nil {
		// No commits yet: everything in the index is new.
		if _, herr := g.output(ctx, nil, "rev-parse", "-q", "--verify", "HEAD"); herr == nil {
			return nil, fmt.Errorf("listing staged changes: %w", err)
		}
		out, err = g.output(ctx, nil, "diff-index", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", emptyTree, "--")
		if err != nil {
			return nil, fmt.Errorf("listing staged changes: %w", err)
		}
	}
	var chs []change
	toks := bytes.Split(out, []byte{0})
	for i := 0; i+1 < len(toks); i++ {
		if len(toks[i]) == 0 || toks[i][0] != ':' {
			continue
		}
		if c, ok := parseRaw(toks[i], string(toks[i+1]), true); ok {
			chs = append(chs, c)
		}
		i++
	}
	return chs, nil
}

// worktreeBlob returns the work tree's copy of repository path p if it is
// exactly blob id (its git hash is checked), so a pre-commit scan of files
// staged as they are on disk starts no cat-file process. ok is false when
// the work tree cannot be found, the file differs (partly staged, clean
// filters, line-ending conversion) or is not a small regular file.
func (g *gitBin) worktreeBlob(p string, id plumbing.Hash) ([]byte, bool) {
	top, err := filepath.Abs(g.dir)
	if err != nil {
		return nil, false
	}
	for {
		if _, err := os.Lstat(filepath.Join(top, ".git")); err == nil {
			break
		}
		up := filepath.Dir(top)
		if up == top {
			return nil, false
		}
		top = up
	}
	f := filepath.Join(top, filepath.FromSlash(p))
	fi, err := os.Lstat(f)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > inMemoryMax {
		return nil, false
	}
	data, err := os.ReadFile(f)
	if err != nil || plumbing.ComputeHash(plumbing.BlobObject, data) != id {
		return nil, false
	}
	return data, true
}

// catFile is one `git cat-file --batch` process.
type catFile struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	inc io.Closer
	out *bufio.Reader
	bad bool
}

// startBatch starts `git cat-file --batch` with pipes to both ends.
func (g *gitBin) startBatch(ctx context.Context) (*exec.Cmd, io.WriteCloser, io.ReadCloser, error) {
	cmd := g.command(ctx, "cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, fmt.Errorf("starting git cat-file: %w", err)
	}
	growPipe(out)
	return cmd, in, out, nil
}

func (g *gitBin) startCatFile() (*catFile, error) {
	// Not tied to one request's context: the process serves many.
	cmd, in, out, err := g.startBatch(context.Background())
	if err != nil {
		return nil, err
	}
	return &catFile{cmd: cmd, in: bufio.NewWriter(in), inc: in, out: bufio.NewReaderSize(out, 64<<10)}, nil
}

func (g *gitBin) catFile() (*catFile, error) {
	select {
	case c := <-g.pool:
		return c, nil
	default:
	}
	g.mu.Lock()
	if len(g.all) < g.max {
		c, err := g.startCatFile()
		if err == nil {
			g.all = append(g.all, c)
		}
		g.mu.Unlock()
		return c, err
	}
	g.mu.Unlock()
	return <-g.pool, nil
}

func (g *gitBin) release(c *catFile) {
	if c.bad {
		c.inc.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
		g.mu.Lock()
		for i, x := range g.all {
			if x == c {
				g.all = append(g.all[:i], g.all[i+1:]...)
				break
			}
		}
		g.mu.Unlock()
		return
	}
	g.pool <- c
}

// request asks for one object and reads its header.
func (c *catFile) request(id plumbing.Hash) (typ string, size int64, err error) {
	if _, err := c.in.WriteString(id.String() + "\n"); err != nil {
		c.bad = true
		return "", 0, err
	}
	if err := c.in.Flush(); err != nil {
		c.bad = true
		return "", 0, err
	}
	line, err := c.out.ReadSlice('\n')
	if err != nil {
		c.bad = true
		return "", 0, fmt.Errorf("git cat-file: %w", err)
	}
	h, ok := parseBatchHeader(line)
	if ok && h.missing {
		return "", 0, plumbing.ErrObjectNotFound
	}
	if !ok {
		c.bad = true
		return "", 0, fmt.Errorf("git cat-file: unexpected header %s", quoteHeader(line))
	}
	return h.typ, h.size, nil
}

// catReader streams one object's content and hands the process back on
// Close, after skipping what was not read.
type catReader struct {
	g    *gitBin
	c    *catFile
	left int64
	done bool
}

func (r *catReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.c.out.Read(p)
	r.left -= int64(n)
	if err != nil {
		r.c.bad = true
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	}
	return n, err
}

func (r *catReader) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	if !r.c.bad {
		if _, err := r.c.out.Discard(int(r.left)); err != nil {
			r.c.bad = true
		} else if b, err := r.c.out.ReadByte(); err != nil || b != '\n' {
			r.c.bad = true
		}
	}
	r.g.release(r.c)
	return nil
}

func (g *gitBin) open(id plumbing.Hash, want string) (*catReader, int64, error) {
	c, err := g.catFile()
	if err != nil {
		return nil, 0, err
	}
	typ, size, err := c.request(id)
	if err != nil {
		g.release(c)
		return nil, 0, err
	}
	r := &catReader{g: g, c: c, left: size}
	if typ != want {
		r.Close()
		return nil, 0, fmt.Errorf("object %s is a %s, not a %s", id, typ, want)
	}
	return r, size, nil
}

func (g *gitBin) openBlob(ctx context.Context, id plumbing.Hash) (io.ReadCloser, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return g.open(id, "blob")
}

func (g *gitBin) readCommit(ctx context.Context, id plumbing.Hash) (*object.Commit, error) {
	r, size, err := g.open(id, "commit")
	if err != nil {
		return nil, err
	}
	if size > maxCommitSize {
		r.Close()
		return nil, fmt.Errorf("commit %s: %d bytes, over the %d limit", id, size, maxCommitSize)
	}
	data := make([]byte, size)
	_, err = io.ReadFull(r, data)
	r.Close()
	if err != nil {
		return nil, err
	}
	return decodeCommit(id, data)
}

// warm starts a cat-file process for the pool in the background, so that
// a later read does not wait for git to start (10-15 ms on a VM where
// page faults are slow). Only the first call acts.
func (g *gitBin) warm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.warmed != nil {
		return
	}
	g.warmed = make(chan struct{})
	go func() {
		defer close(g.warmed)
		if c, err := g.catFile(); err == nil {
			g.release(c)
		}
	}()
}

// readCommits reads commits in one pipelined cat-file batch: all ids are
// written, then the answers read in order, one round trip in all instead
// of one per commit. A commit that cannot be read is nil, as readCommit's
// callers treat an error.
func (g *gitBin) readCommits(ctx context.Context, ids []plumbing.Hash) []*object.Commit {
	out := make([]*object.Commit, len(ids))
	if len(ids) == 0 {
		return out
	}
	g.mu.Lock()
	warmed := g.warmed
	g.mu.Unlock()
	if warmed != nil {
		<-warmed
	}
	c, err := g.catFile()
	if err != nil {
		return out
	}
	wrote := make(chan error, 1)
	go func() {
		var err error
		for _, id := range ids {
			if _, err = c.in.WriteString(id.String() + "\n"); err != nil {
				break
			}
		}
		if err == nil {
			err = c.in.Flush()
		}
		wrote <- err
	}()
	i := 0
	for ; i < len(ids) && ctx.Err() == nil; i++ {
		cm, ok := c.readCommitAnswer(ids[i])
		if !ok {
			break // the stream is out of step: c is bad
		}
		out[i] = cm
	}
	if i < len(ids) {
		// Out of step or cancelled: end the process first, or the
		// writer could block for ever on a pipe nobody drains.
		c.bad = true
		c.inc.Close()
		c.cmd.Process.Kill()
	}
	if err := <-wrote; err != nil {
		c.bad = true
	}
	g.release(c)
	return out
}

// readCommitAnswer reads one answer of a batch; ok is false when the
// stream broke. A missing object, or one that is not a commit or does
// not decode, is a nil commit.
func (c *catFile) readCommitAnswer(id plumbing.Hash) (*object.Commit, bool) {
	line, err := c.out.ReadSlice('\n')
	if err != nil {
		return nil, false
	}
	h, ok := parseBatchHeader(line)
	if ok && h.missing {
		return nil, true
	}
	if !ok || !h.is(id) {
		return nil, false
	}
	size := h.size
	if h.typ != "commit" || size > maxCommitSize {
		_, err := c.out.Discard(int(size))
		b, err2 := c.out.ReadByte()
		return nil, err == nil && err2 == nil && b == '\n'
	}
	data := make([]byte, size+1)
	if _, err := io.ReadFull(c.out, data); err != nil || data[size] != '\n' {
		return nil, false
	}
	cm, err := decodeCommit(id, data[:size])
	if err != nil {
		return nil, true
	}
	return cm, true
}

// maxCommitSize bounds a commit object read into memory: real ones are a
// few KB, a hostile one must not exhaust memory.
const maxCommitSize = 64 << 20

func decodeCommit(id plumbing.Hash, data []byte) (*object.Commit, error) {
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.CommitObject)
	o.Write(data)
	c := &object.Commit{}
	if err := c.Decode(o); err != nil {
		return nil, fmt.Errorf("decoding commit %s: %w", id, err)
	}
	c.Hash = id
	return c, nil
}

func (g *gitBin) close() error {
	g.dropPre()
	g.mu.Lock()
	all := g.all
	g.all = nil
	g.mu.Unlock()
	for _, c := range all {
		c.inc.Close()
		c.cmd.Wait()
	}
	return nil
}
