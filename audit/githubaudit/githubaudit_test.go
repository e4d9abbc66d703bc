package githubaudit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/ctxsleep"
	"github.com/keytrail/keytrail/rules"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// fakeToken is a format-exact, checksum-valid, obviously fake classic PAT.
func fakeToken(rng *rand.Rand) string {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		b.WriteByte(base62[rng.IntN(len(base62))])
	}
	return "ghp_" + b.String() + rules.Base62CRC32(b.String())
}

func hashOf(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return base64.StdEncoding.EncodeToString(s[:])
}

// fakeGitHub serves GitHub's documented audit-log endpoints
// (GET /orgs/{org}/audit-log, GET /enterprises/{e}/audit-log) under the
// GHES prefix /api/v3, paginated by an after= cursor in the Link header,
// with scripted rate-limit answers.
type fakeGitHub struct {
	t       *testing.T
	auditor string
	perPage int
	// entries per log ("organization acme"), in time order.
	logs map[string][]map[string]any
	// script maps a request number (1-based, across all requests) to a
	// rate-limit answer: "429", "403-remaining", "403-secondary".
	script map[int]string

	mu       sync.Mutex
	requests int
	phrases  []string
	resetAt  time.Time
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	n := f.requests
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.auditor {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`)
		return
	}
	if !strings.HasPrefix(r.UserAgent(), "keytrail/") {
		f.t.Errorf("User-Agent %q, want keytrail/...", r.UserAgent())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	switch f.script[n] {
	case "429": // a secondary limit: budget left, but slow down
		w.Header().Set("X-RateLimit-Remaining", "4000")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"}`)
		return
	case "403-remaining":
		f.mu.Lock()
		f.resetAt = time.Now().Add(time.Second)
		reset := f.resetAt
		f.mu.Unlock()
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`)
		return
	case "403-secondary": // GitHub's documented secondary-limit answer
		w.Header().Set("X-RateLimit-Remaining", "4000")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
		return
	}
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(4990-n))

	var key string
	switch parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v3/"), "/"); {
	case len(parts) == 3 && parts[0] == "orgs" && parts[2] == "audit-log":
		key = "organization " + parts[1]
	case len(parts) == 3 && parts[0] == "enterprises" && parts[2] == "audit-log":
		key = "enterprise " + parts[1]
	default:
		http.NotFound(w, r)
		return
	}
	entries, ok := f.logs[key]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
		return
	}
	q := r.URL.Query()
	phrase := q.Get("phrase")
	f.mu.Lock()
	f.phrases = append(f.phrases, phrase)
	f.mu.Unlock()
	var match []map[string]any
	for _, e := range entries {
		if strings.Contains(phrase, fmt.Sprintf("hashed_token:%q", e["hashed_token"])) {
			match = append(match, e)
		}
	}
	start := 0
	if a := q.Get("after"); a != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(a, "cur"))
	}
	end := min(start+f.perPage, len(match))
	if end < len(match) {
		next := *r.URL
		nq := next.Query()
		nq.Set("after", "cur"+strconv.Itoa(end))
		nq.Set("before", "")
		next.RawQuery = nq.Encode()
		next.Scheme, next.Host = "http", r.Host
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next.String()))
	}
	page := match[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	_ = json.NewEncoder(w).Encode(page)
}

// entry is one API request made with a token, as GitHub's audit log
// reports it.
func entry(hash string, at time.Time, action, repo, ip, country, actor string) map[string]any {
	ms := at.UnixMilli()
	e := map[string]any{
		"@timestamp": ms, "created_at": ms, "_document_id": fmt.Sprintf("doc-%d-%s", ms, action),
		"action": action, "actor": actor, "actor_id": 42, "hashed_token": hash,
		"programmatic_access_type": "Personal access token (classic)", "token_scopes": "repo",
		"org": "acme", "repo": repo, "user_agent": "curl/8.5.0",
		"actor_location": map[string]any{"country_code": country},
	}
	if ip != "" {
		e["actor_ip"] = ip
	}
	return e
}

type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
	real  bool
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	if s.real {
		return ctxsleep.Sleep(ctx, d)
	}
	return nil
}

func TestInvestigate(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 3))
	leaked, other, auditor := fakeToken(rng), fakeToken(rng), fakeToken(rng)
	lh, oh := hashOf(leaked), hashOf(other)
	leakAt := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour

	orgLog := []map[string]any{
		entry(lh, leakAt.Add(-200*day), "repo.download_zip", "acme/old", "198.51.100.1", "DE", "alice"), // before the baseline window
		entry(lh, leakAt.Add(-10*day), "git.clone", "acme/api", "203.0.113.5", "US", "alice"),
		entry(lh, leakAt.Add(-2*day), "repo.create", "acme/api2", "203.0.113.5", "US", "alice"),
		entry(lh, leakAt.Add(2*time.Hour), "git.clone", "acme/api", "203.0.113.5", "US", "alice"),
		entry(lh, leakAt.Add(26*time.Hour), "repo.download_zip", "acme/payments", "192.0.2.77", "RO", "alice"),
		entry(lh, leakAt.Add(30*time.Hour), "protected_branch.destroy", "acme/payments", "192.0.2.77", "RO", "alice"),
		entry(lh, leakAt.Add(50*time.Hour), "git.push", "acme/payments", "", "RO", "alice"), // IP not disclosed
		entry(oh, leakAt.Add(3*time.Hour), "git.clone", "acme/web", "203.0.113.9", "US", "bob"),
	}
	entLog := []map[string]any{
		orgLog[4], // the enterprise log repeats its orgs' events
		entry(lh, leakAt.Add(60*time.Hour), "org.add_member", "", "192.0.2.78", "RO", "alice"),
	}

	tests := []struct {
		name        string
		orgs, ents  []string
		script      map[int]string
		realSleep   bool
		wantEvents  int
		wantIPs     []string
		wantRegions []string
		wantWaits   []time.Duration
		wantErrs    int
	}{
		{name: "org, paginated", orgs: []string{"acme"}, wantEvents: 4,
			wantIPs: []string{"192.0.2.77"}, wantRegions: []string{"RO"}},
		{name: "org and enterprise, deduplicated", orgs: []string{"acme"}, ents: []string{"acme-corp"}, wantEvents: 5,
			wantIPs: []string{"192.0.2.77", "192.0.2.78"}, wantRegions: []string{"RO"}},
		{name: "429 with Retry-After is waited out", orgs: []string{"acme"}, script: map[int]string{2: "429"}, wantEvents: 4,
			wantIPs: []string{"192.0.2.77"}, wantRegions: []string{"RO"}, wantWaits: []time.Duration{30 * time.Second}},
		{name: "403 with X-RateLimit-Remaining 0 waits for the reset", orgs: []string{"acme"}, script: map[int]string{3: "403-remaining"},
			realSleep: true, wantEvents: 4, wantIPs: []string{"192.0.2.77"}, wantRegions: []string{"RO"}},
		{name: "403 secondary limit waits Retry-After", orgs: []string{"acme"}, script: map[int]string{2: "403-secondary"},
			realSleep: true, wantEvents: 4, wantIPs: []string{"192.0.2.77"}, wantRegions: []string{"RO"}, wantWaits: []time.Duration{time.Second}},
		{name: "an unreadable org is named, the rest goes on", orgs: []string{"nope", "acme"}, wantEvents: 4,
			wantIPs: []string{"192.0.2.77"}, wantRegions: []string{"RO"}, wantErrs: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeGitHub{t: t, auditor: auditor, perPage: 2, script: tc.script,
				logs: map[string][]map[string]any{"organization acme": orgLog, "enterprise acme-corp": entLog}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			var logBuf bytes.Buffer
			client, err := NewClient(srv.Client(), srv.URL, auditor, "keytrail/test")
			if err != nil {
				t.Fatal(err)
			}
			sr := &sleepRecorder{real: tc.realSleep}
			inv, err := New(Config{Client: client, Orgs: tc.orgs, Enterprises: tc.ents, Baseline: 90 * day,
				Log: zerolog.New(&logBuf).Level(zerolog.DebugLevel), Sleep: sr.sleep, PerPage: 2})
			if err != nil {
				t.Fatal(err)
			}
			keys := []audit.Key{
				{Fingerprint: "f1", RuleID: "github-pat", Provider: "github", Secret: leaked, LeakedAt: leakAt},
				{Fingerprint: "f2", RuleID: "github-pat", Provider: "github", SecretSHA256: lh, LeakedAt: leakAt}, // same token, from a findings file
				{Fingerprint: "f3", RuleID: "aws-access-key-id", Provider: "aws", KeyID: "AKIAIOSFODNN7EXAMPLE"},
			}
			ev, errs := inv.Investigate(context.Background(), keys)
			if len(errs) != tc.wantErrs {
				t.Fatalf("errors %v, want %d", errs, tc.wantErrs)
			}
			for _, e := range errs {
				if !strings.Contains(e.Error(), "organization nope") {
					t.Errorf("error %q does not name the org", e)
				}
			}
			if _, ok := ev["f3"]; ok {
				t.Error("an AWS key got GitHub evidence")
			}
			for _, fp := range []string{"f1", "f2"} {
				e, ok := ev[fp]
				if !ok || e.Usage == nil {
					t.Fatalf("%s: no usage", fp)
				}
				s := e.Usage.Summary()
				if s.EventsAfterLeak != tc.wantEvents {
					t.Errorf("%s: events after leak %d, want %d", fp, s.EventsAfterLeak, tc.wantEvents)
				}
				if !slices.Equal(s.NewSourceIPs, tc.wantIPs) {
					t.Errorf("%s: new IPs %v, want %v", fp, s.NewSourceIPs, tc.wantIPs)
				}
				if !slices.Equal(s.NewRegions, tc.wantRegions) {
					t.Errorf("%s: new regions %v, want %v", fp, s.NewRegions, tc.wantRegions)
				}
				if want := leakAt.Add(2 * time.Hour); s.FirstUseAfterLeak == nil || !s.FirstUseAfterLeak.Equal(want) {
					t.Errorf("%s: first use after leak %v, want %v", fp, s.FirstUseAfterLeak, want)
				}
				if e.Owner != "alice" {
					t.Errorf("%s: owner %q, want alice", fp, e.Owner)
				}
				if e.LastUsedAt == nil || !e.LastUsedAt.Equal(*s.LastUse) {
					t.Errorf("%s: last used %v, want %v", fp, e.LastUsedAt, s.LastUse)
				}
				if len(e.Errors) != tc.wantErrs {
					t.Errorf("%s: errors %v, want %d", fp, e.Errors, tc.wantErrs)
				}
			}
			if tc.wantWaits != nil && !slices.Equal(sr.waits, tc.wantWaits) {
				t.Errorf("waits %v, want %v", sr.waits, tc.wantWaits)
			}
			if tc.realSleep && len(sr.waits) != 1 {
				t.Errorf("waits %v, want one wait for the reset", sr.waits)
			}
			// The token is searched once for the two keys, by hash, from
			// the baseline window on.
			for _, p := range fake.phrases {
				if want := fmt.Sprintf("hashed_token:%q created:>=2026-07-03", lh); p != want {
					t.Errorf("phrase %q, want %q", p, want)
				}
			}
			for _, planted := range []string{leaked, auditor} {
				if strings.Contains(logBuf.String(), planted) {
					t.Errorf("log holds a planted secret:\n%s", logBuf.String())
				}
				for _, e := range errs {
					if strings.Contains(e.Error(), planted) {
						t.Errorf("error holds a planted secret: %v", e)
					}
				}
			}
			if !strings.Contains(logBuf.String(), `"rate_remaining"`) {
				t.Errorf("log does not report the remaining budget:\n%s", logBuf.String())
			}
		})
	}
}

func TestRateLimitGivesUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	leaked, auditor := fakeToken(rng), fakeToken(rng)
	script := map[int]string{}
	for i := 1; i <= 10; i++ {
		script[i] = "429"
	}
	fake := &fakeGitHub{t: t, auditor: auditor, perPage: 2, script: script,
		logs: map[string][]map[string]any{"organization acme": nil}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client, err := NewClient(srv.Client(), srv.URL, auditor, "keytrail/test")
	if err != nil {
		t.Fatal(err)
	}
	sr := &sleepRecorder{}
	inv, _ := New(Config{Client: client, Orgs: []string{"acme"}, Sleep: sr.sleep, MaxRetries: 3})
	ev, errs := inv.Investigate(context.Background(), []audit.Key{{Fingerprint: "f", RuleID: "github-pat", Provider: "github", Secret: leaked}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "HTTP 429") {
		t.Fatalf("errors %v, want one naming HTTP 429", errs)
	}
	if len(sr.waits) != 3 {
		t.Errorf("waited %d times, want 3 retries", len(sr.waits))
	}
	if len(ev["f"].Errors) != 1 {
		t.Errorf("key errors %v", ev["f"].Errors)
	}

	// A wait longer than MaxWait is not taken.
	fake.requests = 0
	inv, _ = New(Config{Client: client, Orgs: []string{"acme"}, Sleep: sr.sleep, MaxWait: 10 * time.Second})
	sr.waits = nil
	_, errs = inv.Investigate(context.Background(), []audit.Key{{Fingerprint: "f", RuleID: "github-pat", Provider: "github", Secret: leaked}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "longer than") || len(sr.waits) != 0 {
		t.Errorf("errors %v waits %v, want a give-up without waiting", errs, sr.waits)
	}
}

func TestBadCredentialsNeverEcho(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	leaked, auditor, wrong := fakeToken(rng), fakeToken(rng), fakeToken(rng)
	fake := &fakeGitHub{t: t, auditor: auditor, perPage: 2, logs: map[string][]map[string]any{"organization acme": nil}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client, _ := NewClient(srv.Client(), srv.URL+"/api/v3", wrong, "keytrail/test")
	inv, _ := New(Config{Client: client, Orgs: []string{"acme"}})
	_, errs := inv.Investigate(context.Background(), []audit.Key{{Fingerprint: "f", RuleID: "github-pat", Provider: "github", Secret: leaked}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "HTTP 401: Bad credentials") {
		t.Fatalf("errors %v, want HTTP 401", errs)
	}
	for _, s := range []string{leaked, wrong} {
		if strings.Contains(errs[0].Error(), s) {
			t.Errorf("error holds a secret: %v", errs[0])
		}
	}
}

func TestNewClientURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "https://api.github.com/"},
		{"https://api.github.com", "https://api.github.com/"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/"},
		{"https://ghe.example.com", "https://ghe.example.com/api/v3/"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/"},
	}
	for _, tc := range tests {
		c, err := NewClient(nil, tc.in, "", "keytrail/test")
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if c.BaseURL.String() != tc.want {
			t.Errorf("%q: base %s, want %s", tc.in, c.BaseURL, tc.want)
		}
	}
	if _, err := NewClient(nil, "ghe.example.com", "", ""); err == nil || !strings.Contains(err.Error(), `"ghe.example.com"`) {
		t.Errorf("relative URL: error %v, want one naming it", err)
	}
}
