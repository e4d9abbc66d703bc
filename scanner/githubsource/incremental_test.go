package githubsource

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/internal/testtools/ghfake"
)

func TestIncrementalRuns(t *testing.T) {
	h := newHarness(t)
	keyA, keyB, keyC := ghToken("inc-a"), ghToken("inc-b"), ghToken("inc-c")
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "api", IsOrg: true},
		map[string]string{"a.env": "TOKEN=" + keyA + "\n"},
		map[string]string{"README.md": "api\n"})
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "web", IsOrg: true}, map[string]string{"index.html": "<p>hi</p>\n"})
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "gone", IsOrg: true}, map[string]string{"x": "y\n"})
	statePath := filepath.Join(t.TempDir(), "state.json")
	st, err := LoadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	f := Filter{Orgs: []string{"acme"}}

	first := h.run(h.options(f, st))
	if len(first.Findings) != 1 || first.Findings[0].Secret != keyA || first.Summary.Commits != 4 {
		t.Fatalf("first run: %d findings, %d commits; want keyA, 4 commits", len(first.Findings), first.Summary.Commits)
	}
	if err := st.Save(statePath); err != nil {
		t.Fatal(err)
	}

	// Nothing changed: nothing is scanned, not one byte read.
	st, _ = LoadState(statePath)
	before := len(h.gh.Requests())
	again := h.run(h.options(f, st))
	for _, r := range h.gh.Requests()[before:] {
		if strings.HasPrefix(r, "POST ") || strings.Contains(r, "/info/refs") && !strings.Contains(r, "auth=Basic ") {
			t.Errorf("unchanged org: %s (want only ref advertisements, with the token header)", strings.SplitN(r, " auth=", 2)[0])
		}
	}
	if s := again.Summary; len(again.Findings) != 0 || s.Commits != 0 || s.Bytes != 0 || s.Unchanged != 3 || s.Scanned != 3 {
		t.Errorf("unchanged org: %d findings, summary %+v", len(again.Findings), s)
	}

	// One push with a new key: only its commit is scanned, and the old
	// key (still in the tree) is not reported again.
	tip := h.gh.Push("acme", "api", map[string]string{"b.env": "TOKEN=" + keyB + "\n"}, false)
	h.gh.RemoveRepo("acme", "gone")
	pushed := h.run(h.options(f, st))
	if s := pushed.Summary; s.Commits != 1 || len(pushed.Findings) != 1 || pushed.Findings[0].Secret != keyB || pushed.Findings[0].Commit != tip {
		t.Errorf("after a push: %d commits, findings %+v; want 1 commit and keyB at %s", s.Commits, pushed.Findings, tip)
	}
	if _, ok := st.Repos["acme/gone"]; ok {
		t.Errorf("deleted repository kept in the state")
	}
	if !strings.Contains(strings.Join(pushed.Summary.Notes, "\n"), "acme/gone") {
		t.Errorf("no note about the deleted repository: %v", pushed.Summary.Notes)
	}

	// A force-push rewriting that commit: rescanned from the merge base,
	// so only the replacement commit, and its key, are new.
	ftip := h.gh.Push("acme", "api", map[string]string{"c.env": "TOKEN=" + keyC + "\n"}, true)
	forced := h.run(h.options(f, st))
	if s := forced.Summary; s.Commits != 1 || len(forced.Findings) != 1 || forced.Findings[0].Secret != keyC || forced.Findings[0].Commit != ftip {
		t.Errorf("after a force-push: %d commits, findings %+v; want keyC at %s", s.Commits, forced.Findings, ftip)
	}
	if !strings.Contains(strings.Join(forced.Summary.Notes, "\n"), "force-pushed") {
		t.Errorf("force-push not noted: %v", forced.Summary.Notes)
	}
	if got := st.Repos["acme/api"].Refs["refs/heads/main"]; got != ftip {
		t.Errorf("state records %s for main, want %s", got, ftip)
	}

	// --full ignores the state.
	o := h.options(f, st)
	o.Full = true
	full := h.run(o)
	if len(full.Findings) != 2 {
		t.Errorf("--full: %d findings, want keyA and keyC", len(full.Findings))
	}

	if err := st.Save(statePath); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(statePath)
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil || strings.Contains(string(data), testToken) {
		t.Errorf("state file: %v", err)
	}
}

// A repository that fails keeps its previous state entry: the next run
// scans what it missed.
func TestFailedRepoStateUntouched(t *testing.T) {
	h := newHarness(t)
	key := ghToken("fail-later")
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "api", IsOrg: true}, map[string]string{"a": "x\n"})
	st := &State{Version: stateVersion, Repos: map[string]*RepoState{}}
	h.run(h.options(Filter{Orgs: []string{"acme"}}, st))
	before := st.Repos["acme/api"].Refs["refs/heads/main"]
	h.gh.Push("acme", "api", map[string]string{"k.env": key + "\n"}, false)
	os.RemoveAll(h.cache)
	h.gh.Corrupt("acme", "api")
	res := h.run(h.options(Filter{Orgs: []string{"acme"}}, st))
	if len(res.Summary.Failed) != 1 {
		t.Fatalf("failed = %v, want acme/api", res.Summary.Failed)
	}
	if got := st.Repos["acme/api"].Refs["refs/heads/main"]; got != before {
		t.Errorf("state moved to %s for a repository that failed", got)
	}
}

// Without --cache every run clones afresh, so a force-pushed ref's old tip
// is fetched by id to find the merge base.
func TestForcePushWithoutCache(t *testing.T) {
	h := newHarness(t)
	keyA, keyB, keyC := ghToken("nc-a"), ghToken("nc-b"), ghToken("nc-c")
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "api", IsOrg: true},
		map[string]string{"a.env": "TOKEN=" + keyA + "\n"},
		map[string]string{"b.env": "TOKEN=" + keyB + "\n"})
	st := &State{Version: stateVersion, Repos: map[string]*RepoState{}}
	o := h.options(Filter{Orgs: []string{"acme"}}, st)
	o.CacheDir = ""
	if first := h.run(o); len(first.Findings) != 2 {
		t.Fatalf("first run: %d findings, want 2", len(first.Findings))
	}
	tip := h.gh.Push("acme", "api", map[string]string{"c.env": "TOKEN=" + keyC + "\n"}, true)
	res := h.run(o)
	if len(res.Findings) != 1 || res.Findings[0].Secret != keyC || res.Findings[0].Commit != tip || res.Summary.Commits != 1 {
		t.Errorf("after a force-push: %d commits, findings %+v; want only keyC at %s", res.Summary.Commits, res.Findings, tip)
	}
	if !strings.Contains(strings.Join(res.Summary.Notes, "\n"), "force-pushed") {
		t.Errorf("force-push not noted: %v", res.Summary.Notes)
	}
}
