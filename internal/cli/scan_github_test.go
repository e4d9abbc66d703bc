package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/testtools/ghfake"
)

const ghTestToken = "kt-cli-test-token-4b1e8d0a93"

// runLong runs keytrail in-process with a timeout fit for many clones.
func runLong(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code := Run(ctx, args, strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func fakeGitHub(t *testing.T) *ghfake.Server {
	t.Helper()
	gh := ghfake.New(t, ghTestToken)
	t.Setenv("GITHUB_TOKEN", ghTestToken)
	t.Setenv("GH_TOKEN", "")
	t.Setenv("GITHUB_API_URL", gh.APIURL())
	return gh
}

func noTokenIn(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, ghTestToken) {
		t.Errorf("the token appears in %s", what)
	}
}

func TestScanGitHubBrokenRepoExit2(t *testing.T) {
	gh := fakeGitHub(t)
	gh.PageSize = 10
	for i := 0; i < 30; i++ {
		gh.AddRepo(ghfake.Repo{Owner: "acme", Name: fmt.Sprintf("svc-%02d", i), IsOrg: true},
			map[string]string{"main.go": "package main\n"})
	}
	gh.Corrupt("acme", "svc-13")
	dir := t.TempDir()
	summary, state := filepath.Join(dir, "summary.json"), filepath.Join(dir, "state.json")
	r := runLong(t, "--log-level", "debug", "scan", "github", "--org", "acme", "--format", "json",
		"--summary", summary, "--state", state, "--cache", filepath.Join(dir, "cache"))
	if r.code != ExitError {
		t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "failed: acme/svc-13: ") {
		t.Errorf("the broken repository is not named on stderr:\n%s", r.stderr)
	}
	var s struct {
		Listed  int `json:"repos_listed"`
		Scanned int `json:"repos_scanned"`
		Failed  []struct{ Repo, Reason string }
		API     int `json:"api_calls"`
	}
	data, err := os.ReadFile(summary)
	if err != nil || json.Unmarshal(data, &s) != nil {
		t.Fatalf("summary: %v\n%s", err, data)
	}
	if s.Listed != 30 || s.Scanned != 29 || len(s.Failed) != 1 || s.Failed[0].Repo != "acme/svc-13" || s.API != 3 {
		t.Errorf("summary %+v; want 30 listed, 29 scanned, svc-13 failed, 3 API calls", s)
	}
	st, _ := os.ReadFile(state)
	if strings.Contains(string(st), "svc-13") || !strings.Contains(string(st), "acme/svc-12") {
		t.Errorf("state should hold the 29 finished repositories only")
	}
	for what, s := range map[string]string{"stdout": r.stdout, "stderr (debug logs)": r.stderr, "summary": string(data), "state": string(st)} {
		noTokenIn(t, what, s)
	}
	for _, req := range gh.Requests() {
		u, _, _ := strings.Cut(req, " auth=")
		noTokenIn(t, "a request URL", u)
	}
	if ok, denied := gh.GitStats(); ok == 0 || denied != 0 {
		t.Errorf("git requests: %d authorised, %d without the header", ok, denied)
	}
}

func TestScanGitHubShardsMergeToUnsharded(t *testing.T) {
	gh := fakeGitHub(t)
	var repos []string
	for i := 0; i < 9; i++ {
		name := fmt.Sprintf("lib-%d", i)
		repos = append(repos, "acme/"+name)
		gh.AddRepo(ghfake.Repo{Owner: "acme", Name: name, IsOrg: true},
			map[string]string{"config/prod.env": "GITHUB_TOKEN=" + ghToken(int64(100+i)) + "\n"})
	}
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	all := filepath.Join(dir, "all.json")
	r := runLong(t, "scan", "github", "--org", "acme", "--format", "json", "-o", all, "--cache", cache)
	if r.code != ExitFindings {
		t.Fatalf("unsharded: exit %d\n%s", r.code, r.stderr)
	}
	seen := map[string]int{}
	var parts []string
	for i := 0; i < 3; i++ {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		sum := filepath.Join(dir, fmt.Sprintf("shard-%d.summary.json", i))
		parts = append(parts, out)
		r := runLong(t, "scan", "github", "--org", "acme", "--shard", fmt.Sprintf("%d/3", i),
			"--format", "json", "-o", out, "--summary", sum, "--cache", cache, "--exit-code", "0")
		if r.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", i, r.code, r.stderr)
		}
		var s struct {
			ByRepo map[string]int `json:"findings_by_repo"`
		}
		data, _ := os.ReadFile(sum)
		json.Unmarshal(data, &s)
		for repo := range s.ByRepo {
			seen[repo]++
		}
	}
	for _, repo := range repos {
		if seen[repo] != 1 {
			t.Errorf("%s scanned by %d shards, want exactly 1", repo, seen[repo])
		}
	}
	merged := filepath.Join(dir, "merged.json")
	r = runLong(t, append([]string{"report", "merge", "--format", "json", "-o", merged}, append(parts, parts[0])...)...)
	if r.code != ExitFindings {
		t.Fatalf("merge: exit %d\n%s", r.code, r.stderr)
	}
	want, _ := os.ReadFile(all)
	got, _ := os.ReadFile(merged)
	if !bytes.Equal(want, got) {
		t.Errorf("merged shards differ from the unsharded run\nunsharded:\n%s\nmerged:\n%s", want, got)
	}
	if n := len(parseJSON(t, string(got))); n != 9 {
		t.Errorf("%d merged findings, want 9", n)
	}
	var fs []struct {
		Repository, RepositoryURL, URL string
	}
	json.Unmarshal(got, &fs)
	for _, f := range fs {
		if f.Repository == "" || !strings.Contains(f.URL, "/blob/") {
			t.Errorf("finding without repository or link: %+v", f)
		}
	}
	for _, format := range []string{"text", "sarif"} {
		r := runLong(t, append([]string{"report", "merge", "--format", format}, parts...)...)
		if r.code != ExitFindings || !strings.Contains(r.stdout, "acme/lib-") {
			t.Errorf("merge --format %s: exit %d\n%.500s", format, r.code, r.stdout)
		}
	}
	if r := runLong(t, "report", "merge", filepath.Join(dir, "missing.json")); r.code != ExitError || !strings.Contains(r.stderr, "missing.json") {
		t.Errorf("missing input: exit %d, stderr %q", r.code, r.stderr)
	}
}
