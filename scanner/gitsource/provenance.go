package gitsource

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/keytrail/keytrail/scanner"
)

// Finalize implements scanner.Finalizer: it maps blob findings to their
// introductions and keeps one finding per (rule, secret).
func (s *Source) Finalize(ctx context.Context, fs []scanner.Finding) ([]scanner.Finding, error) {
	if s.b == nil {
		return fs, nil
	}
	// The scan is over: the line cache's ring is unmapped, and the
	// rest is garbage before the allocations below.
	if s.lines != nil {
		s.lines.release()
		s.lines = nil
	}
	if gb, ok := s.b.(*gitBin); ok && len(fs) > 0 {
		// The commits of the findings are read below: the cat-file
		// process starts while the findings are grouped.
		gb.warm()
	}
	own := fs // without submodules, every finding is the repository's own
	var out []scanner.Finding
	subFs := make([][]scanner.Finding, len(s.subs))
	if len(s.subs) > 0 {
		own = make([]scanner.Finding, 0, len(fs))
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
	}
	res, err := s.finalizeOwn(ctx, s.inheritFindings(own))
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

// fref is a finding of one item: a scanned one, or one a delta blob
// inherits from its base, shift lines further down. Inherited findings
// are not copied: on gitleaks' own history 2,500 scanned findings became
// 20,000 inherited ones, 46 MB as full copies.
type fref struct {
	f     *scanner.Finding
	key   string // the item: blob id, or "msg:" and the commit id
	shift int32
}

func (r fref) line() int { return r.f.Line + int(r.shift) }

func (r fref) endLine() int {
	if r.f.EndLine > 0 {
		return r.f.EndLine + int(r.shift)
	}
	return 0
}

// matchLines are the first and last lines of the finding's whole match
// (at least its own lines).
func (r fref) matchLines() (first, last int) {
	first, last = r.line(), max(r.endLine(), r.line())
	if r.f.MatchLine > 0 {
		first = min(first, r.f.MatchLine+int(r.shift))
	}
	if r.f.MatchEndLine > 0 {
		last = max(last, r.f.MatchEndLine+int(r.shift))
	}
	return first, last
}

// inheritFindings returns the findings of every item: those scanned and,
// for each blob scanned as a delta, those of its base version it still
// holds (see delta.go), bases first: a base was read, so listed, before
// the versions made from it.
func (s *Source) inheritFindings(fs []scanner.Finding) []fref {
	out := make([]fref, 0, len(fs))
	for i := range fs {
		out = append(out, fref{f: &fs[i], key: fs[i].Meta["item_key"]})
	}
	if len(s.deltaOrder) == 0 {
		return out
	}
	byBlob := map[string][]fref{}
	for _, r := range out {
		if !strings.HasPrefix(r.key, "msg:") {
			byBlob[r.key] = append(byBlob[r.key], r)
		}
	}
	type fkey struct {
		rule, secret string
		line, col    int
	}
	for _, id := range s.deltaOrder {
		bd := s.deltas[id]
		if bd == nil {
			continue // clean, its base too (deltaItem)
		}
		base := byBlob[bd.base.String()]
		if len(base) == 0 {
			continue
		}
		k := id.String()
		inh := inherit(base, bd, k)
		if len(inh) == 0 {
			continue
		}
		own := byBlob[k]
		keyOf := func(r fref) fkey { return fkey{r.f.RuleID, r.f.Secret, r.line(), r.f.Column} }
		// Versions hold a few findings: a map for each cost more than
		// the comparisons (a fifth of a history scan's Finalize bytes).
		var seen map[fkey]bool
		if len(own)+len(inh) > 16 {
			seen = make(map[fkey]bool, len(own)+len(inh))
			for _, r := range own {
				seen[keyOf(r)] = true
			}
		}
		for _, r := range inh {
			fk := keyOf(r)
			if seen != nil {
				if seen[fk] {
					continue
				}
				seen[fk] = true
			} else if slices.ContainsFunc(own, func(o fref) bool { return keyOf(o) == fk }) {
				continue
			}
			own = append(own, r)
			out = append(out, r)
		}
		byBlob[k] = own
	}
	return out
}

// readCommits reads the commits at these indices; one that cannot be
// read is nil.
func (s *Source) readCommits(ctx context.Context, cis []int32) []*object.Commit {
	ids := make([]plumbing.Hash, len(cis))
	for i, ci := range cis {
		ids[i] = s.commits[ci].id
	}
	if gb, ok := s.b.(*gitBin); ok {
		return gb.readCommits(ctx, ids)
	}
	out := make([]*object.Commit, len(ids))
	for i, id := range ids {
		if c, err := s.b.readCommit(ctx, id); err == nil {
			out[i] = c
		}
	}
	return out
}

// candidate is one place a finding's secret was introduced.
type candidate struct {
	r     fref
	in    intro
	isMsg bool
	cidx  int32
	blob  plumbing.Hash
}

func (s *Source) finalizeOwn(ctx context.Context, fs []fref) ([]scanner.Finding, error) {
	type gkey struct {
		rule, secret string
		msg          bool
	}
	groups := map[gkey][]candidate{}
	var order []gkey
	pre := &preCache{b: s.b, m: map[plumbing.Hash][]byte{}}
	// add appends c to its group (made on first use: a finding whose
	// blob was never introduced makes none).
	add := func(g gkey, c candidate) {
		cs, ok := groups[g]
		if !ok {
			order = append(order, g)
		}
		groups[g] = append(cs, c)
	}
	for _, r := range fs {
		f, k := r.f, r.key
		g := gkey{f.RuleID, f.Secret, strings.HasPrefix(k, "msg:")}
		if g.msg {
			id := plumbing.NewHash(strings.TrimPrefix(k, "msg:"))
			ci, ok := s.index[id]
			if !ok {
				continue
			}
			add(g, candidate{r: r, isMsg: true, cidx: ci, in: intro{commit: ci, path: MessageFile}})
			continue
		}
		id, at := splitItemKey(k)
		// A blob scanned again for another class of path (rescanAt):
		// each scan's findings stand for the introductions at paths of
		// the class it was scanned for.
		class, byClass := "", len(s.rescanned[id]) > 0
		if byClass {
			if at == "" && len(s.blobs[id]) > 0 {
				at = s.blobs[id][0].path
			}
			class = s.classOf(at)
		}
		for _, in := range s.blobs[id] {
			if byClass && s.classOf(in.path) != class {
				continue
			}
			if (s.rangeSet || s.staged) && len(in.pre) > 0 {
				dup, err := pre.contains(ctx, in.pre, f.Secret)
				if err != nil {
					return nil, err
				}
				if dup {
					continue
				}
			}
			add(g, candidate{r: r, in: in, cidx: in.commit, blob: id})
		}
	}
	var head map[plumbing.Hash]bool
	if !s.staged && len(order) > 0 {
		var err error
		if s.headTree != nil {
			t := <-s.headTree
			head, err = t.blobs, t.err
		} else {
			head, err = s.b.treeBlobs(ctx, s.headRev)
		}
		if err != nil {
			head = nil // no HEAD (or unreadable): nothing is present there
		}
	}
	// Each group's earliest candidate names its commit: those commits
	// are read at once, in one batch.
	var need []int32
	seen := map[int32]bool{}
	for _, g := range order {
		ci := groups[g][0].cidx
		for _, c := range groups[g][1:] {
			ci = min(ci, c.cidx)
		}
		if ci >= 0 && !seen[ci] {
			seen[ci] = true
			need = append(need, ci)
		}
	}
	commits := make(map[int32]*object.Commit, len(need))
	for i, c := range s.readCommits(ctx, need) {
		commits[need[i]] = c
	}
	getCommit := func(ci int32) *object.Commit { return commits[ci] }
	// Groups are independent: they are settled on every core (on
	// gitleaks' history this step was a single-threaded tail of 100 ms).
	s.initFirstParent()
	out := make([]scanner.Finding, len(order))
	settle := func(gi int) {
		g := order[gi]
		cs := groups[g]
		sort.SliceStable(cs, func(i, j int) bool {
			a, b := cs[i], cs[j]
			if a.cidx != b.cidx {
				return a.cidx < b.cidx
			}
			if a.in.path != b.in.path {
				return a.in.path < b.in.path
			}
			if a.r.line() != b.r.line() {
				return a.r.line() < b.r.line()
			}
			return a.r.f.Column < b.r.f.Column
		})
		first := cs[0]
		f := *first.r.f
		f.Line, f.EndLine = first.r.line(), first.r.endLine()
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
				loc := scanner.Location{File: c.in.path, Line: c.r.line()}
				if c.cidx >= 0 {
					loc.Commit = s.commits[c.cidx].id.String()
				}
				f.Locations = append(f.Locations, loc)
			}
		}
		out[gi] = f
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), 1+len(order)/32); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for gi := int(next.Add(1) - 1); gi < len(order); gi = int(next.Add(1) - 1) {
				settle(gi)
			}
		}()
	}
	wg.Wait()
	// Subjects are shown in logs and reports even when secrets are
	// redacted: hide every secret found in them.
	secrets := make([]string, 0, len(order))
	for _, g := range order {
		secrets = append(secrets, g.secret)
	}
	rx := newSecretIndex(secrets)
	for i := range out {
		out[i].Message = rx.redact(out[i].Message)
	}
	return out, nil
}

// initFirstParent indexes each commit's first parent (-1: none scanned),
// once.
func (s *Source) initFirstParent() {
	if s.firstParent != nil {
		return
	}
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

// containing counts the commits whose tree holds one of the candidates'
// blobs at its path. Walking commits parents first, a path holds what the
// commit set it to, or else what its first parent held (a merge that
// leaves the path alone keeps its first parent's version).
func (s *Source) containing(cs []candidate) int {
	s.initFirstParent()
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

// redactAll replaces each secret in s with its redacted hint, in the
// order of secrets.
func redactAll(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, scanner.Redact(sec))
		}
	}
	return s
}

// secretIndex redacts every secret of a scan in each finding's commit
// subject. Trying every secret on every subject was quadratic: on a
// history with 4,900 findings (keytrail's own, its test data full of
// fake keys) 24 million searches, 0.9 s, 42% of the scan. The index
// finds the secrets a subject holds by their first four bytes.
type secretIndex struct {
	secrets []string
	by4     map[string][]int32
	short   []int32 // secrets of fewer than four bytes: tried on every subject
}

func newSecretIndex(secrets []string) *secretIndex {
	x := &secretIndex{secrets: secrets, by4: map[string][]int32{}}
	for i, sec := range secrets {
		switch {
		case sec == "":
		case len(sec) < 4:
			x.short = append(x.short, int32(i))
		default:
			x.by4[sec[:4]] = append(x.by4[sec[:4]], int32(i))
		}
	}
	return x
}

// redact is redactAll(s, secrets) for the secrets s holds: the same
// replacements in the same order. (A secret that would only appear in s
// once another's redacted hint is in place is not one s holds, and is
// left alone.)
func (x *secretIndex) redact(s string) string {
	var in []int32
	for i := 0; i+4 <= len(s); i++ {
		for _, j := range x.by4[s[i:i+4]] {
			if strings.HasPrefix(s[i:], x.secrets[j]) {
				in = append(in, j)
			}
		}
	}
	if len(in) == 0 && len(x.short) == 0 {
		return s
	}
	in = append(in, x.short...)
	slices.Sort(in)
	in = slices.Compact(in)
	held := make([]string, len(in))
	for k, j := range in {
		held[k] = x.secrets[j]
	}
	return redactAll(s, held)
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
