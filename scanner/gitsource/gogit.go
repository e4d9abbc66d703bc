package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/keytrail/keytrail/scanner"
)

// backend is how the source reads a repository: the git binary or go-git.
// Enumeration methods are called from one goroutine; openBlob and
// readCommit from many.
type backend interface {
	name() string
	refs(ctx context.Context) ([]ref, error)
	resolve(ctx context.Context, rev string) (plumbing.Hash, error)
	isShallow() bool
	shallowSet() map[plumbing.Hash]bool
	// graph lists the commits reachable from tips but not from exclude.
	graph(ctx context.Context, tips, exclude []plumbing.Hash, report func(error)) ([]*commitNode, error)
	// diffs calls fn exactly once per commit, in order, with the blobs the
	// commit has that differ from every parent.
	diffs(ctx context.Context, commits []*commitNode, wantPre bool, report func(error), fn func(i int, chs []change) error) error
	// treeBlobs is the set of file blobs in rev's tree.
	treeBlobs(ctx context.Context, rev string) (map[plumbing.Hash]bool, error)
	// gitlinks lists submodule paths in rev's tree.
	gitlinks(ctx context.Context, rev string) ([]string, error)
	// workTree is the work tree root, "" for a bare repository.
	workTree(ctx context.Context) string
	openBlob(ctx context.Context, id plumbing.Hash) (io.ReadCloser, int64, error)
	readCommit(ctx context.Context, id plumbing.Hash) (*object.Commit, error)
	staged(ctx context.Context) ([]change, error)
	close() error
}

func isFileMode(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}

// goGit is the pure-Go backend.
type goGit struct {
	repo *git.Repository
	st   *filesystem.Storage // enumeration (one goroutine)
	root string

	mu      sync.Mutex
	pool    chan *filesystem.Storage
	made    int
	max     int
	readers []*filesystem.Storage

	shallow map[plumbing.Hash]bool
	missing map[plumbing.Hash]bool // reported once
}

func openGoGit(path string, workers int) (*goGit, error) {
	repo, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		// A bare repository.
		repo, err = git.PlainOpenWithOptions(path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	}
	if err != nil {
		return nil, fmt.Errorf("opening git repository %s: %w", path, err)
	}
	st, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return nil, fmt.Errorf("opening git repository %s: unsupported storage", path)
	}
	g := &goGit{repo: repo, st: st, max: workers + 1, pool: make(chan *filesystem.Storage, workers+1),
		shallow: map[plumbing.Hash]bool{}, missing: map[plumbing.Hash]bool{}}
	if wt, err := repo.Worktree(); err == nil {
		g.root = wt.Filesystem.Root()
	}
	if sh, err := st.Shallow(); err == nil {
		for _, h := range sh {
			g.shallow[h] = true
		}
	}
	return g, nil
}

func (g *goGit) name() string                       { return BackendGoGit }
func (g *goGit) isShallow() bool                    { return len(g.shallow) > 0 }
func (g *goGit) shallowSet() map[plumbing.Hash]bool { return g.shallow }
func (g *goGit) workTree(context.Context) string    { return g.root }

func (g *goGit) close() error { return nil }

// reader borrows a storage for concurrent reads: each has its own file
// handles and a small cache.
func (g *goGit) reader() *filesystem.Storage {
	select {
	case st := <-g.pool:
		return st
	default:
	}
	g.mu.Lock()
	if g.made < g.max {
		g.made++
		g.mu.Unlock()
		return filesystem.NewStorageWithOptions(g.st.Filesystem(), cache.NewObjectLRU(16*cache.MiByte), filesystem.Options{})
	}
	g.mu.Unlock()
	return <-g.pool
}

func (g *goGit) release(st *filesystem.Storage) { g.pool <- st }

func (g *goGit) refs(ctx context.Context) ([]ref, error) {
	it, err := g.repo.References()
	if err != nil {
		return nil, fmt.Errorf("listing refs: %w", err)
	}
	var out []ref
	err = it.ForEach(func(r *plumbing.Reference) error {
		name := r.Name().String()
		if r.Type() != plumbing.HashReference || !strings.HasPrefix(name, "refs/") {
			return nil
		}
		if id, ok := g.peel(r.Hash()); ok {
			out = append(out, ref{name: name, id: id})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing refs: %w", err)
	}
	if h, err := g.repo.Head(); err == nil {
		if id, ok := g.peel(h.Hash()); ok {
			out = append(out, ref{name: "HEAD", id: id})
		}
	}
	return out, nil
}

// peel follows tags to a commit.
func (g *goGit) peel(h plumbing.Hash) (plumbing.Hash, bool) {
	for i := 0; i < 10; i++ {
		o, err := g.st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return h, false
		}
		switch o.Type() {
		case plumbing.CommitObject:
			return h, true
		case plumbing.TagObject:
			t, err := object.DecodeTag(g.st, o)
			if err != nil {
				return h, false
			}
			h = t.Target
		default:
			return h, false
		}
	}
	return h, false
}

func (g *goGit) resolve(ctx context.Context, rev string) (plumbing.Hash, error) {
	h, err := g.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		if len(rev) == 40 {
			h := plumbing.NewHash(rev)
			if id, ok := g.peel(h); ok {
				return id, nil
			}
		}
		return plumbing.ZeroHash, fmt.Errorf("unknown revision: %w", err)
	}
	id, ok := g.peel(*h)
	if !ok {
		return plumbing.ZeroHash, fmt.Errorf("%s is not a commit", rev)
	}
	return id, nil
}

func (g *goGit) reportMissing(report func(error), kind string, id plumbing.Hash, by string) {
	if g.missing[id] {
		return
	}
	g.missing[id] = true
	report(&scanner.ScanError{Path: by, Err: fmt.Errorf("missing %s %s", kind, id)})
}

func (g *goGit) commit(id plumbing.Hash) (*object.Commit, error) {
	return object.GetCommit(g.st, id)
}

// walk visits commits reachable from tips, not entering stop.
func (g *goGit) walk(ctx context.Context, tips []plumbing.Hash, stop map[plumbing.Hash]bool, report func(error), visit func(n *commitNode)) error {
	type item struct {
		id plumbing.Hash
		by string
	}
	seen := map[plumbing.Hash]bool{}
	stack := make([]item, 0, len(tips))
	for _, t := range tips {
		stack = append(stack, item{t, "ref"})
	}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[it.id] || stop[it.id] {
			continue
		}
		seen[it.id] = true
		c, err := g.commit(it.id)
		if err != nil {
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				g.reportMissing(report, "commit", it.id, it.by)
				continue
			}
			return fmt.Errorf("reading commit %s: %w", it.id, err)
		}
		n := &commitNode{id: it.id, time: c.Committer.When.Unix()}
		if !g.shallow[it.id] {
			n.parents = append(n.parents, c.ParentHashes...)
		}
		visit(n)
		for _, p := range n.parents {
			if !seen[p] {
				stack = append(stack, item{p, "commit " + it.id.String()})
			}
		}
	}
	return nil
}

func (g *goGit) graph(ctx context.Context, tips, exclude []plumbing.Hash, report func(error)) ([]*commitNode, error) {
	stop := map[plumbing.Hash]bool{}
	if len(exclude) > 0 {
		if err := g.walk(ctx, exclude, nil, report, func(n *commitNode) { stop[n.id] = true }); err != nil {
			return nil, err
		}
	}
	var out []*commitNode
	err := g.walk(ctx, tips, stop, report, func(n *commitNode) { out = append(out, n) })
	return out, err
}

func (g *goGit) diffs(ctx context.Context, commits []*commitNode, wantPre bool, report func(error), fn func(int, []change) error) error {
	return g.diffFrom(ctx, commits, 0, wantPre, report, fn)
}

func (g *goGit) diffFrom(ctx context.Context, commits []*commitNode, from int, wantPre bool, report func(error), fn func(int, []change) error) error {
	d := &treeDiffer{g: g, report: report, wantPre: wantPre}
	for i := from; i < len(commits); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := commits[i]
		d.by = "commit " + n.id.String()
		d.out = d.out[:0]
		c, err := g.commit(n.id)
		if err != nil {
			g.reportMissing(report, "commit", n.id, "ref")
			if err := fn(i, nil); err != nil {
				return err
			}
			continue
		}
		var parents []plumbing.Hash
		for _, p := range uniq(n.parents) {
			pc, err := g.commit(p)
			if err != nil {
				g.reportMissing(report, "commit", p, d.by)
				continue
			}
			parents = append(parents, pc.TreeHash)
		}
		d.diff("", c.TreeHash, parents)
		if err := fn(i, d.out); err != nil {
			return err
		}
	}
	return nil
}

// treeDiffer lists blobs of a tree that differ from every parent tree,
// in git's tree order, like `git diff-tree -r -c --raw`.
type treeDiffer struct {
	g       *goGit
	report  func(error)
	wantPre bool
	by      string
	out     []change
}

func (d *treeDiffer) tree(id plumbing.Hash, path string) *object.Tree {
	t, err := object.GetTree(d.g.st, id)
	if err != nil {
		where := d.by
		if path != "" {
			where = strings.TrimSuffix(path, "/") + " in " + d.by
		}
		d.g.reportMissing(d.report, "tree", id, where)
		return nil
	}
	return t
}

func (d *treeDiffer) diff(prefix string, id plumbing.Hash, parents []plumbing.Hash) {
	t := d.tree(id, prefix)
	if t == nil {
		return
	}
	pms := make([]map[string]*object.TreeEntry, 0, len(parents))
	for _, p := range parents {
		if p.IsZero() {
			pms = append(pms, nil)
			continue
		}
		pt := d.tree(p, prefix)
		if pt == nil {
			pms = append(pms, nil)
			continue
		}
		m := make(map[string]*object.TreeEntry, len(pt.Entries))
		for i := range pt.Entries {
			m[pt.Entries[i].Name] = &pt.Entries[i]
		}
		pms = append(pms, m)
	}
	names := make(map[string]bool, len(t.Entries))
	for _, e := range t.Entries {
		names[e.Name] = true
		isDir := e.Mode == filemode.Dir
		// A file or directory replaced by something else is gone from
		// the path, as git's raw diff reports it.
		if kind := commonKind(pms, e.Name); kind == filemode.Regular && !isFileMode(e.Mode) {
			d.out = append(d.out, change{path: prefix + e.Name, gone: true})
		} else if kind == filemode.Dir && !isDir {
			d.gone(prefix+e.Name+"/", subtrees(pms, e.Name))
		}
		if !isDir && !isFileMode(e.Mode) {
			continue
		}
		same := false
		sub := make([]plumbing.Hash, len(pms))
		var pre []plumbing.Hash
		if d.wantPre && !isDir {
			pre = make([]plumbing.Hash, len(pms))
		}
		for j, m := range pms {
			pe := m[e.Name]
			if pe == nil {
				continue
			}
			if pe.Hash == e.Hash && pe.Mode == e.Mode {
				same = true
				break
			}
			if isDir && pe.Mode == filemode.Dir {
				sub[j] = pe.Hash
			}
			if pre != nil && isFileMode(pe.Mode) {
				pre[j] = pe.Hash
			}
		}
		if same {
			continue
		}
		if isDir {
			d.diff(prefix+e.Name+"/", e.Hash, sub)
			continue
		}
		d.out = append(d.out, change{path: prefix + e.Name, blob: e.Hash, pre: pre})
	}
	d.removed(prefix, pms, names)
}

// commonKind is filemode.Regular if every parent has a file named name,
// filemode.Dir if every parent has a directory, else filemode.Empty: a
// path is reported only when it differs from all parents, like -c.
func commonKind(pms []map[string]*object.TreeEntry, name string) filemode.FileMode {
	if len(pms) == 0 {
		return filemode.Empty
	}
	kind := filemode.Empty
	for _, m := range pms {
		pe := m[name]
		if pe == nil {
			return filemode.Empty
		}
		k := filemode.Empty
		switch {
		case isFileMode(pe.Mode):
			k = filemode.Regular
		case pe.Mode == filemode.Dir:
			k = filemode.Dir
		}
		if k == filemode.Empty || kind != filemode.Empty && k != kind {
			return filemode.Empty
		}
		kind = k
	}
	return kind
}

func subtrees(pms []map[string]*object.TreeEntry, name string) []plumbing.Hash {
	out := make([]plumbing.Hash, len(pms))
	for j, m := range pms {
		out[j] = m[name].Hash
	}
	return out
}

// removed reports files every parent had under prefix that the commit's
// tree no longer has (names lists what it does have).
func (d *treeDiffer) removed(prefix string, pms []map[string]*object.TreeEntry, names map[string]bool) {
	if len(pms) == 0 || pms[0] == nil {
		return
	}
	gone := make([]string, 0)
	for name := range pms[0] {
		if !names[name] {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		switch commonKind(pms, name) {
		case filemode.Regular:
			d.out = append(d.out, change{path: prefix + name, gone: true})
		case filemode.Dir:
			d.gone(prefix+name+"/", subtrees(pms, name))
		}
	}
}

// gone reports every file under parent trees ids (one per parent) as
// removed, where all of them have it.
func (d *treeDiffer) gone(prefix string, ids []plumbing.Hash) {
	pms := make([]map[string]*object.TreeEntry, 0, len(ids))
	for _, id := range ids {
		t := d.tree(id, prefix)
		if t == nil {
			return
		}
		m := make(map[string]*object.TreeEntry, len(t.Entries))
		for i := range t.Entries {
			m[t.Entries[i].Name] = &t.Entries[i]
		}
		pms = append(pms, m)
	}
	d.removed(prefix, pms, nil)
}

func (g *goGit) treeOf(ctx context.Context, rev string) (*object.Tree, error) {
	id, err := g.resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	c, err := g.commit(id)
	if err != nil {
		return nil, err
	}
	return object.GetTree(g.st, c.TreeHash)
}

// walkTree calls fn for every entry under t, recursively.
func walkTree(s storer.EncodedObjectStorer, t *object.Tree, prefix string, fn func(path string, e object.TreeEntry)) {
	for _, e := range t.Entries {
		if e.Mode == filemode.Dir {
			st, err := object.GetTree(s, e.Hash)
			if err == nil {
				walkTree(s, st, prefix+e.Name+"/", fn)
			}
			continue
		}
		fn(prefix+e.Name, e)
	}
}

func (g *goGit) treeBlobs(ctx context.Context, rev string) (map[plumbing.Hash]bool, error) {
	t, err := g.treeOf(ctx, rev)
	if err != nil {
		return nil, err
	}
	out := map[plumbing.Hash]bool{}
	walkTree(g.st, t, "", func(_ string, e object.TreeEntry) {
		if isFileMode(e.Mode) {
			out[e.Hash] = true
		}
	})
	return out, nil
}

func (g *goGit) gitlinks(ctx context.Context, rev string) ([]string, error) {
	t, err := g.treeOf(ctx, rev)
	if err != nil {
		return nil, err
	}
	var out []string
	walkTree(g.st, t, "", func(p string, e object.TreeEntry) {
		if e.Mode == filemode.Submodule {
			out = append(out, p)
		}
	})
	return out, nil
}

type blobReader struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (r *blobReader) Close() error {
	err := r.ReadCloser.Close()
	r.once.Do(r.done)
	return err
}

func (g *goGit) openBlob(ctx context.Context, id plumbing.Hash) (io.ReadCloser, int64, error) {
	st := g.reader()
	o, err := st.EncodedObject(plumbing.BlobObject, id)
	if err != nil {
		g.release(st)
		return nil, 0, err
	}
	r, err := o.Reader()
	if err != nil {
		g.release(st)
		return nil, 0, err
	}
	return &blobReader{ReadCloser: r, done: func() { g.release(st) }}, o.Size(), nil
}

func (g *goGit) readCommit(ctx context.Context, id plumbing.Hash) (*object.Commit, error) {
	st := g.reader()
	defer g.release(st)
	return object.GetCommit(st, id)
}

func (g *goGit) staged(ctx context.Context) ([]change, error) {
	idx, err := g.st.Index()
	if err != nil {
		return nil, fmt.Errorf("reading the index: %w", err)
	}
	head := map[string]object.TreeEntry{}
	if t, err := g.treeOf(ctx, "HEAD"); err == nil {
		walkTree(g.st, t, "", func(p string, e object.TreeEntry) { head[p] = e })
	}
	var out []change
	for _, e := range idx.Entries {
		if e.Stage != 0 || !isFileMode(e.Mode) || e.Hash.IsZero() {
			continue
		}
		var pre []plumbing.Hash
		if he, ok := head[e.Name]; ok && isFileMode(he.Mode) {
			if he.Hash == e.Hash && he.Mode == e.Mode {
				continue
			}
			pre = []plumbing.Hash{he.Hash}
		} else {
			pre = []plumbing.Hash{plumbing.ZeroHash}
		}
		out = append(out, change{path: e.Name, blob: e.Hash, pre: pre})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}
