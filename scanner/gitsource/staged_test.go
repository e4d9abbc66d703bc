package gitsource

import (
	"context"
	"testing"

	"github.com/keytrail/keytrail/scanner"
)

// runPrefetched scans like scan, with Prefetch called first; wait makes
// the listing finish before the scan starts.
func runPrefetched(t *testing.T, opts Options, between func(src *Source)) (*scanner.Result, error) {
	t.Helper()
	src := New(opts)
	defer src.Close()
	src.Prefetch(context.Background())
	src.Prefetch(context.Background()) // a second call does nothing
	if between != nil {
		src.waitPrefetch()
		between(src)
	}
	s := &scanner.Scanner{Engine: engine(t, scanner.Options{}), Workers: 2}
	return s.Run(context.Background(), src)
}

func TestPrefetch(t *testing.T) {
	old, fresh, second := token("old"), token("fresh"), token("second")
	for _, b := range backends {
		t.Run(b+"/same-findings", func(t *testing.T) {
			r := newRepo(t)
			r.commit("initial", map[string]string{"app.cfg": "key=" + old + "\n"})
			r.write("app.cfg", "key="+old+"\nnew="+fresh+"\n")
			r.write("more/b.env", "B="+second+"\n")
			r.git("add", ".")
			want := mustScan(t, Options{Path: r.dir, Backend: b, Staged: true})
			got, err := runPrefetched(t, Options{Path: r.dir, Backend: b, Staged: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			w, g := bySecret(t, want.Findings), bySecret(t, got.Findings)
			if len(w) != 2 || len(g) != len(w) {
				t.Fatalf("prefetched: %d findings, without: %d (want 2)", len(g), len(w))
			}
			for k, f := range w {
				if h, ok := g[k]; !ok || h.File != f.File || h.Line != f.Line || h.RuleID != f.RuleID {
					t.Errorf("prefetched %+v, without %+v", h, f)
				}
			}
		})
		// The listing is the one Prefetch took: a file unstaged after it
		// finished is still scanned.
		t.Run(b+"/listing-taken-early", func(t *testing.T) {
			r := newRepo(t)
			r.commit("initial", map[string]string{"README.md": "x\n"})
			r.write("late.env", "T="+fresh+"\n")
			r.git("add", "late.env")
			res, err := runPrefetched(t, Options{Path: r.dir, Backend: b, Staged: true}, func(*Source) {
				r.git("rm", "-q", "--cached", "late.env")
			})
			if err != nil {
				t.Fatal(err)
			}
			if f := bySecret(t, res.Findings)[fresh]; f.File != "late.env" {
				t.Errorf("findings %+v: want the key in late.env, listed before it was unstaged", res.Findings)
			}
		})
		t.Run(b+"/not-a-repository", func(t *testing.T) {
			needGit(t)
			if _, err := runPrefetched(t, Options{Path: t.TempDir(), Backend: b, Staged: true}, nil); err == nil {
				t.Error("no error for a directory that is not a repository")
			}
		})
	}
	t.Run("close-without-scan", func(t *testing.T) {
		r := newRepo(t)
		r.write("a.env", "T="+fresh+"\n")
		r.git("add", ".")
		src := New(Options{Path: r.dir, Staged: true})
		src.Prefetch(context.Background())
		if err := src.Close(); err != nil {
			t.Errorf("Close after Prefetch: %v", err)
		}
	})
	t.Run("history-scan", func(t *testing.T) {
		needGit(t)
		r := newRepo(t)
		r.commit("initial", map[string]string{"a.env": "T=" + fresh + "\n"})
		r.commit("second", map[string]string{"a.env": "T=" + fresh + "\nU=" + second + "\n"})
		want := mustScan(t, Options{Path: r.dir})
		got, err := runPrefetched(t, Options{Path: r.dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, g := bySecret(t, want.Findings), bySecret(t, got.Findings)
		if len(w) != 2 || len(g) != len(w) {
			t.Fatalf("prefetched: %d findings, without: %d (want 2)", len(g), len(w))
		}
		for k, f := range w {
			if h := g[k]; h.File != f.File || h.Line != f.Line || h.Commit != f.Commit {
				t.Errorf("prefetched %+v, without %+v", h, f)
			}
		}
	})
	// The commit graph is the one Prefetch's rev-list walked: a commit
	// made after it finished is not in the scan.
	t.Run("history-graph-taken-early", func(t *testing.T) {
		needGit(t)
		r := newRepo(t)
		r.commit("initial", map[string]string{"a.env": "T=" + fresh + "\n"})
		res, err := runPrefetched(t, Options{Path: r.dir, Backend: BackendGit}, func(src *Source) {
			all := src.prefetched.all
			if all == nil {
				t.Fatal("Prefetch started no rev-list for a scan of every ref")
			}
			rl := <-all // wait for it, then hand it back
			all <- rl
			r.commit("late", map[string]string{"b.env": "T=" + old + "\n"})
		})
		if err != nil {
			t.Fatal(err)
		}
		got := bySecret(t, res.Findings)
		if _, ok := got[old]; ok || got[fresh].File != "a.env" {
			t.Errorf("findings %+v: want only the key committed before Prefetch", res.Findings)
		}
	})
}
