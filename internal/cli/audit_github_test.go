package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/fakes/awsfake"
	"github.com/keytrail/keytrail/scanner"
)

// fakeGitHubAPI is GitHub Enterprise Server's REST API (under /api/v3) as
// far as the audit uses it: the org audit log searched by hashed_token
// (auditor's token) and GET /user (the leaked token, for --verify).
type fakeGitHubAPI struct {
	auditor, leaked string
	entries         []map[string]any

	mu        sync.Mutex
	userCalls int
	auditAuth []string
}

func (f *fakeGitHubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	auth := r.Header.Get("Authorization")
	switch r.URL.Path {
	case "/api/v3/user":
		f.mu.Lock()
		f.userCalls++
		f.mu.Unlock()
		if auth != "Bearer "+f.leaked {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"message":"Bad credentials"}`)
			return
		}
		w.Header().Set("X-OAuth-Scopes", "repo, workflow")
		fmt.Fprint(w, `{"login":"alice","id":7}`)
	case "/api/v3/orgs/acme/audit-log":
		f.mu.Lock()
		f.auditAuth = append(f.auditAuth, auth)
		f.mu.Unlock()
		if auth != "Bearer "+f.auditor {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"message":"Bad credentials"}`)
			return
		}
		var out []map[string]any
		for _, e := range f.entries {
			if strings.Contains(r.URL.Query().Get("phrase"), fmt.Sprintf("hashed_token:%q", e["hashed_token"])) {
				out = append(out, e)
			}
		}
		if out == nil {
			out = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(out)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}
}

type githubAuditJSON struct {
	Keys []struct {
		RuleID          string   `json:"rule_id"`
		Provider        string   `json:"provider"`
		SecretSHA256    string   `json:"secret_sha256"`
		Owner           string   `json:"owner"`
		Status          string   `json:"status"`
		EventsAfterLeak int      `json:"events_after_leak"`
		NewSourceIPs    []string `json:"new_source_ips"`
		NewRegions      []string `json:"new_regions"`
		UsedAfterLeak   bool     `json:"used_after_leak"`
		Verified        string   `json:"verified"`
		VerifyNote      string   `json:"verify_note"`
		Risk            string   `json:"risk"`
		Recommendation  string   `json:"recommendation"`
		Errors          []string `json:"errors"`
	} `json:"keys"`
}

// keytrail audit finds a GitHub token in a directory, follows it through
// the org's audit log on GitHub Enterprise Server (GITHUB_API_URL) and,
// with --verify, checks it live; neither token reaches output or logs.
func TestAuditGitHubEndToEnd(t *testing.T) {
	leaked, auditor := ghToken(801), ghToken(802)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "deploy.sh"), "export GITHUB_TOKEN="+leaked+"\n")

	hash := scanner.SecretSHA256(leaked)
	leakAt := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	ev := func(at time.Time, action, ip, cc string) map[string]any {
		ms := at.UnixMilli()
		return map[string]any{"@timestamp": ms, "created_at": ms, "_document_id": fmt.Sprint(ms), "action": action,
			"actor": "alice", "hashed_token": hash, "repo": "acme/api", "actor_ip": ip,
			"actor_location": map[string]any{"country_code": cc}}
	}
	fake := &fakeGitHubAPI{auditor: auditor, leaked: leaked, entries: []map[string]any{
		ev(leakAt.AddDate(0, 0, -20), "git.clone", "203.0.113.5", "US"),
		ev(leakAt.Add(5*time.Hour), "git.clone", "203.0.113.5", "US"),
		ev(leakAt.Add(30*time.Hour), "repo.download_zip", "192.0.2.66", "RO"),
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("GITHUB_TOKEN", auditor)
	t.Setenv("GH_TOKEN", "")
	t.Setenv("GITHUB_API_URL", srv.URL) // a GHES host: /api/v3 is added

	tests := []struct {
		name       string
		args       []string
		wantVerify string
		userCalls  int
		wantExit   int
		wantErrors int
		findings   bool // audit a saved, redacted scan instead of scanning
	}{
		{"audit log only", nil, "", 0, ExitFindings, 0, false},
		{"audit log and --verify", []string{"--verify"}, "valid", 1, ExitFindings, 0, false},
		{"an unreadable org is named, exit 2", []string{"--github-audit-org", "ghost"}, "", 0, ExitError, 1, false},
		{"a redacted findings file is enough", nil, "", 0, ExitFindings, 0, true},
		{"--verify without the secret says so", []string{"--verify"}, "unknown", 0, ExitFindings, 0, true},
	}
	findings := filepath.Join(t.TempDir(), "findings.json")
	if res := run(t, "", "scan", "dir", dir, "--format", "json", "--output", findings); res.code != ExitFindings {
		t.Fatalf("scan: exit %d\n%s", res.code, res.stderr)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake.userCalls = 0
			src := []string{"audit", "dir", dir}
			if tc.findings {
				src = []string{"audit", "--findings", findings}
			}
			args := append(src, "--github-audit-org", "acme", "--leaked-at", "2026-10-01",
				"--format", "json", "--log-level", "debug", "--log-format", "json")
			args = append(args, tc.args...)
			res := run(t, "", args...)
			if res.code != tc.wantExit {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.wantExit, res.stdout, res.stderr)
			}
			if tc.wantErrors > 0 && !strings.Contains(res.stderr, "organization ghost: HTTP 404") {
				t.Errorf("stderr does not name the unreadable org:\n%s", res.stderr)
			}
			var rep githubAuditJSON
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
				t.Fatalf("audit JSON: %v\n%s", err, res.stdout)
			}
			if len(rep.Keys) != 1 {
				t.Fatalf("%d keys, want 1: %s", len(rep.Keys), res.stdout)
			}
			k := rep.Keys[0]
			if k.Provider != "github" || k.SecretSHA256 != hash || k.Owner != "alice" || k.EventsAfterLeak != 2 ||
				!slices.Equal(k.NewSourceIPs, []string{"192.0.2.66"}) || !slices.Equal(k.NewRegions, []string{"RO"}) ||
				!k.UsedAfterLeak || k.Risk != "critical" || k.Recommendation != "revoke-now" || len(k.Errors) != tc.wantErrors {
				t.Errorf("key: %+v", k)
			}
			wantNote := map[string]string{"valid": "login alice; scopes: repo, workflow", "unknown": "secret not at hand"}[tc.wantVerify]
			if k.Verified != tc.wantVerify || !strings.Contains(k.VerifyNote, wantNote) {
				t.Errorf("verified %q %q, want %q", k.Verified, k.VerifyNote, tc.wantVerify)
			}
			if fake.userCalls != tc.userCalls {
				t.Errorf("%d GET /user calls, want %d (never without --verify)", fake.userCalls, tc.userCalls)
			}
			for _, s := range []string{leaked, auditor} {
				if strings.Contains(res.stdout, s) || strings.Contains(res.stderr, s) {
					t.Errorf("a planted token reached the output or the log")
				}
			}
			if !strings.Contains(res.stderr, "rate_remaining") {
				t.Errorf("the log does not report the API budget:\n%s", res.stderr)
			}
		})
	}
}

func TestAuditGitHubFlagErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), "token "+ghToken(803)+"\n")
	t.Setenv("GITHUB_API_URL", "")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no auditor token", map[string]string{"GITHUB_TOKEN": "", "GH_TOKEN": ""}, []string{"--github-audit-org", "acme"}, "set GITHUB_TOKEN or GH_TOKEN"},
		{"bad org name", map[string]string{"GITHUB_TOKEN": "x"}, []string{"--github-audit-org", "acme/api"}, `"acme/api" is not an organization`},
		{"bad github url", map[string]string{"GITHUB_TOKEN": "x"}, []string{"--github-audit-org", "acme", "--github-url", "ghe.example.com"}, `github url "ghe.example.com"`},
		{"verify url without verify", nil, []string{"--verify-url", "gitlab=https://gitlab.example.com"}, "--verify-url needs --verify"},
		{"verify url unknown provider", nil, []string{"--verify", "--verify-url", "myspace=https://x"}, `--verify-url "myspace=https://x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			res := run(t, "", append([]string{"audit", "dir", dir, "--format", "json"}, tc.args...)...)
			if res.code != ExitError || !strings.Contains(res.stderr+res.stdout, tc.want) {
				t.Errorf("exit %d, want 2 naming %q\nstdout: %s\nstderr: %s", res.code, tc.want, res.stdout, res.stderr)
			}
		})
	}
}

// --verify signs GetCallerIdentity with the pair found in the code (the
// key id and the secret next to it) against the AWS emulator named by
// AWS_ENDPOINT_URL; the secret never reaches the output or the log.
func TestAuditVerifyAWSPair(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t)
	if err := fake.CreateUser(ctx, "verify-bob", "/", nil); err != nil {
		t.Fatal(err)
	}
	id := "AKIA" + seeded(804, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
	secret := seeded(805, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40)
	fake.AddAccessKey("verify-bob", id, time.Now().AddDate(0, 0, -10), "Active")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "config", "aws.ini"), "[default]\naws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n")
	t.Setenv("AWS_ENDPOINT_URL_STS", "")
	t.Setenv("AWS_ENDPOINT_URL", fake.URL)

	res := run(t, "", "audit", "dir", dir, "--verify", "--format", "json", "--log-level", "debug")
	var rep githubAuditJSON
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", res.code, err, res.stdout, res.stderr)
	}
	var found bool
	for _, k := range rep.Keys {
		if k.RuleID != "aws-access-key-id" {
			continue
		}
		found = true
		want := "arn:aws:iam::" + awsfake.AccountID + ":user/verify-bob"
		if k.Verified != "valid" || k.Owner != want || k.Status != "active" || !strings.Contains(k.VerifyNote, want) {
			t.Errorf("key %+v, want valid, owned by %s", k, want)
		}
	}
	if !found {
		t.Fatalf("no AWS key in %s", res.stdout)
	}
	if n := len(fake.Calls("GetCallerIdentity")); n != 1 {
		t.Errorf("%d GetCallerIdentity calls, want 1", n)
	}
	if strings.Contains(res.stdout, secret) || strings.Contains(res.stderr, secret) {
		t.Error("the secret access key reached the output or the log")
	}
	if !strings.Contains(res.stderr, "CloudTrail") {
		t.Errorf("--verify does not warn that its calls are logged:\n%s", res.stderr)
	}
}
