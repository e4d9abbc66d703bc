package gitsource

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// A batch answers every id in order: commits decoded, a missing object
// and a non-commit as nil, and the process left in step for the next read.
func TestReadCommitsBatch(t *testing.T) {
	r := newRepo(t)
	c1 := r.commit("first commit", map[string]string{"a.txt": "a\n"})
	c2 := r.commit("second commit", map[string]string{"b.txt": "b\n"})
	blob := r.git("rev-parse", "HEAD:a.txt")
	ctx := context.Background()
	for _, warm := range []bool{false, true} {
		gb, err := openGitBin(ctx, r.dir, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		if warm {
			gb.warm()
			gb.warm() // a second call does nothing
		}
		missing := plumbing.NewHash(strings.Repeat("ab", 20))
		ids := []plumbing.Hash{plumbing.NewHash(c2), missing, plumbing.NewHash(blob), plumbing.NewHash(c1)}
		got := gb.readCommits(ctx, ids)
		if len(got) != 4 || got[0] == nil || got[3] == nil || got[1] != nil || got[2] != nil {
			t.Fatalf("warm=%v: readCommits = %v: want commits at 0 and 3 only", warm, got)
		}
		if got[0].Message != "second commit\n" || got[3].Message != "first commit\n" || got[0].Hash.String() != c2 {
			t.Errorf("warm=%v: messages %q, %q", warm, got[0].Message, got[3].Message)
		}
		if len(gb.all) != 1 {
			t.Errorf("warm=%v: %d cat-file processes, want the one reused", warm, len(gb.all))
		}
		c, err := gb.readCommit(ctx, plumbing.NewHash(c1))
		if err != nil || c.Message != "first commit\n" {
			t.Errorf("warm=%v: read after the batch: %v, %v", warm, c, err)
		}
		if len(gb.readCommits(ctx, nil)) != 0 {
			t.Error("no ids gave commits")
		}
		gb.close()
	}
}

// Processes started ahead are taken by the walk, and ended by close when
// nothing took them; a walk that stops early kills its diff-tree.
func TestPrestart(t *testing.T) {
	r := newRepo(t)
	r.commit("one", map[string]string{"a.txt": "a\n"})
	r.commit("two", map[string]string{"a.txt": "b\n"})
	ctx := context.Background()
	open := func() *gitBin {
		gb, err := openGitBin(ctx, r.dir, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		gb.prestart(ctx)
		gb.prestart(ctx) // a second call does nothing
		<-gb.pre.done
		if gb.pre.diff == nil || gb.pre.batch == nil {
			t.Fatal("prestart started no diff-tree or cat-file")
		}
		return gb
	}

	t.Run("closed-untaken", func(t *testing.T) {
		gb := open()
		d, b := gb.pre.diff, gb.pre.batch
		gb.close()
		if d.cmd.ProcessState == nil || b.cmd.ProcessState == nil {
			t.Error("close left prestarted processes running")
		}
	})

	t.Run("taken-by-walk", func(t *testing.T) {
		gb := open()
		defer gb.close()
		d := gb.pre.diff
		nodes, err := gb.graphAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		commits := topoOrder(nodes)
		var seen []int
		if err := gb.diffs(ctx, commits, true, func(error) {}, func(i int, _ []change) error {
			seen = append(seen, i)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || gb.pre.diff != nil || d.cmd.ProcessState == nil {
			t.Errorf("walk saw commits %v; prestarted diff-tree taken: %v, ended: %v", seen, gb.pre.diff == nil, d.cmd.ProcessState != nil)
		}
		pf, err := gb.newPrefetcher(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if gb.pre.batch != nil {
			t.Error("prefetcher did not take the prestarted cat-file")
		}
		got := make(chan fetched, 1)
		if err := pf.request(commits[0].id, func(f fetched) error { got <- f; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := pf.finish(); err != nil {
			t.Fatal(err)
		}
		if f := <-got; f.typ != "commit" || !strings.Contains(string(f.data), "\n\none") {
			t.Errorf("prestarted cat-file answered %q %q", f.typ, f.data)
		}
	})

	t.Run("walk-stopped", func(t *testing.T) {
		gb := open()
		defer gb.close()
		d := gb.pre.diff
		nodes, err := gb.graphAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stop := errors.New("stop")
		err = gb.diffs(ctx, topoOrder(nodes), true, func(error) {}, func(int, []change) error { return stop })
		if !errors.Is(err, stop) || d.cmd.ProcessState == nil {
			t.Errorf("diffs = %v (want stop); diff-tree ended: %v", err, d.cmd.ProcessState != nil)
		}
	})
}

// A cancelled batch ends its process instead of leaving the writer
// blocked on a pipe nobody drains (20,000 answers fill any pipe).
func TestReadCommitsCancelled(t *testing.T) {
	r := newRepo(t)
	c1 := plumbing.NewHash(r.commit("first commit", map[string]string{"a.txt": "a\n"}))
	gb, err := openGitBin(context.Background(), r.dir, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer gb.close()
	ids := make([]plumbing.Hash, 20000)
	for i := range ids {
		ids[i] = c1
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan []*object.Commit, 1)
	go func() { done <- gb.readCommits(ctx, ids) }()
	select {
	case got := <-done:
		if got[0] != nil || len(gb.all) != 0 {
			t.Errorf("cancelled batch read %v; %d processes left in the pool", got[0], len(gb.all))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("readCommits hung after cancellation")
	}
}
