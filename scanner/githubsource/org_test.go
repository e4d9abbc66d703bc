package githubsource

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/testtools/ghfake"
)

func TestOrgScanOneBrokenRepo(t *testing.T) {
	h := newHarness(t)
	h.gh.PageSize = 10
	for i := 0; i < 30; i++ {
		h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: repoName(i), IsOrg: true},
			map[string]string{"README.md": "service\n"},
			map[string]string{"deploy/app.env": "A=1\nGITHUB_TOKEN=" + ghToken(repoName(i)) + "\n"})
	}
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "a-fork", IsOrg: true, Fork: true}, map[string]string{"x": "y\n"})
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "old", IsOrg: true, Archived: true}, map[string]string{"x": "y\n"})
	h.gh.Corrupt("acme", repoName(7))

	t0 := time.Now()
	res := h.run(h.options(Filter{Orgs: []string{"acme"}}, nil))
	t.Logf("run %v", time.Since(t0))
	s := res.Summary
	if s.Listed != 32 || s.Scanned != 29 || len(s.Skipped) != 2 {
		t.Errorf("listed %d scanned %d skipped %v; want 32, 29, 2", s.Listed, s.Scanned, s.Skipped)
	}
	if len(s.Failed) != 1 || s.Failed[0].Repo != "acme/"+repoName(7) || s.Failed[0].Reason == "" {
		t.Fatalf("failed = %+v, want acme/%s with a reason", s.Failed, repoName(7))
	}
	got := byRepo(res.Findings)
	for i := 0; i < 30; i++ {
		name := "acme/" + repoName(i)
		fs := got[name]
		if i == 7 {
			if len(fs) != 0 {
				t.Errorf("%s: findings from a repository that failed to clone", name)
			}
			continue
		}
		if len(fs) != 1 {
			t.Errorf("%s: %d findings, want 1", name, len(fs))
			continue
		}
		f := fs[0]
		want := fmt.Sprintf("https://github.example/%s/blob/%s/deploy/app.env#L2", name, f.Commit)
		if f.Secret != ghToken(repoName(i)) || f.File != "deploy/app.env" || f.Line != 2 || f.URL != want ||
			f.RepositoryURL != "https://github.example/"+name || f.Commit == "" {
			t.Errorf("%s: finding %+v; want url %s", name, f, want)
		}
	}
	if s.FindingsByRepo["acme/svc-00"] != 1 || s.FindingsByRule[res.Findings[0].RuleID] != 29 {
		t.Errorf("findings by repo/rule: %v %v", s.FindingsByRepo, s.FindingsByRule)
	}
	// Three pages for the org, nothing else on the API.
	if s.APICalls != 4 && s.APICalls != 3 {
		t.Errorf("api calls = %d, want 3 (pages of 10)", s.APICalls)
	}
	ok, denied := h.gh.GitStats()
	if ok == 0 || denied != 0 {
		t.Errorf("git requests: %d with the token header, %d without", ok, denied)
	}
	// The token is not written into the clones' config either.
	filepath.Walk(h.cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && filepath.Base(p) == "config" {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), testToken) {
				t.Errorf("token in %s", p)
			}
		}
		return nil
	})
}
