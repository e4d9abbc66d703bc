package githubsource

import (
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/testtools/ghfake"
)

func TestActionsLogs(t *testing.T) {
	h := newHarness(t)
	key, old, later := ghToken("log-key"), ghToken("log-old"), ghToken("log-later")
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "ci", IsOrg: true}, map[string]string{"a": "x\n"})
	now := time.Now()
	stamp := "2026-01-02T03:04:05.0000000Z "
	h.gh.AddRun("acme", "ci", ghfake.Run{ID: 101, Workflow: "build", Created: now.Add(-2 * time.Hour), Logs: map[string]string{
		// The job's whole log repeats its steps' lines: scanned once.
		"0_test.txt":               stamp + "starting\n" + stamp + "echo token=" + key + "\n",
		"test/1_Set up job.txt":    stamp + "starting\n",
		"test/2_Run the suite.txt": stamp + "running\n" + stamp + "echo token=" + key + "\n",
	}})
	h.gh.AddRun("acme", "ci", ghfake.Run{ID: 90, Workflow: "build", Created: now.Add(-30 * 24 * time.Hour),
		Logs: map[string]string{"0_old.txt": old + "\n"}})
	h.gh.AddRun("acme", "ci", ghfake.Run{ID: 102, Workflow: "deploy", Created: now.Add(-time.Hour), Gone: 410})
	st := &State{Version: stateVersion, Repos: map[string]*RepoState{}}
	o := h.options(Filter{Orgs: []string{"acme"}}, st)
	o.ActionsLogs, o.Since = true, 7*24*time.Hour
	res := h.run(o)
	if len(res.Summary.Failed) != 0 {
		t.Fatalf("failed: %v", res.Summary.Failed)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("%d findings, want the key in run 101 once: %+v", len(res.Findings), res.Findings)
	}
	f := res.Findings[0]
	want := map[string]string{"run_id": "101", "workflow": "build", "job": "test", "step": "Run the suite", "source": "actions-log"}
	for k, v := range want {
		if f.Meta[k] != v {
			t.Errorf("meta %s = %q, want %q (meta %v)", k, f.Meta[k], v, f.Meta)
		}
	}
	if f.Secret != key || f.Line != 2 || f.Repository != "acme/ci" || f.URL != "https://github.example/acme/ci/actions/runs/101" ||
		f.File != "actions/runs/101/test/2_Run the suite.txt" {
		t.Errorf("finding %+v", f)
	}
	if !strings.Contains(strings.Join(res.Summary.Notes, "\n"), "run 102 have expired") {
		t.Errorf("expired logs not noted: %v", res.Summary.Notes)
	}
	if h.gh.DownloadsWithAuth() != 0 {
		t.Errorf("the token was sent to the log archive URL")
	}
	if st.Repos["acme/ci"].LastRunID != 102 || res.Summary.ActionsRuns != 2 {
		t.Errorf("last run id %d, runs %d; want 102, 2", st.Repos["acme/ci"].LastRunID, res.Summary.ActionsRuns)
	}

	// The next run scans only runs newer than those.
	h.gh.AddRun("acme", "ci", ghfake.Run{ID: 103, Workflow: "build", Created: now, Logs: map[string]string{"0_build.txt": "x " + later + "\n"}})
	next := h.run(o)
	if len(next.Findings) != 1 || next.Findings[0].Secret != later || next.Summary.ActionsRuns != 1 {
		t.Errorf("second run: %d findings, %d runs; want the new run's key only", len(next.Findings), next.Summary.ActionsRuns)
	}
}
