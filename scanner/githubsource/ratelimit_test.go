package githubsource

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/testtools/ghfake"
)

func TestRateLimits(t *testing.T) {
	resetIn := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	cases := []struct {
		name     string
		script   []ghfake.Scripted
		minWaits []time.Duration // lower bounds of the waits, in order
		maxWaits []time.Duration
	}{
		{"429 with Retry-After", []ghfake.Scripted{{Status: 429, Header: map[string]string{"Retry-After": "7"}}},
			[]time.Duration{7 * time.Second}, []time.Duration{7 * time.Second}},
		{"403 with Retry-After", []ghfake.Scripted{{Status: 403, Header: map[string]string{"Retry-After": "30"},
			Body: `{"message":"You have exceeded a secondary rate limit."}`}},
			[]time.Duration{30 * time.Second}, []time.Duration{30 * time.Second}},
		{"primary limit: remaining 0 waits for the reset", []ghfake.Scripted{{Status: 403, Header: map[string]string{
			"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": resetIn(20 * time.Minute)}, Body: `{"message":"API rate limit exceeded"}`}},
			[]time.Duration{19 * time.Minute}, []time.Duration{21 * time.Minute}},
		{"secondary limit without Retry-After backs off", []ghfake.Scripted{
			{Status: 403, Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes."}`},
			{Status: 403, Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes."}`}},
			[]time.Duration{time.Minute, 2 * time.Minute}, []time.Duration{time.Minute, 2 * time.Minute}},
		{"429 without Retry-After backs off", []ghfake.Scripted{{Status: 429}},
			[]time.Duration{time.Minute}, []time.Duration{time.Minute}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.gh.PageSize = 2
			for i := 0; i < 3; i++ {
				h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: repoName(i), IsOrg: true}, map[string]string{"a": "x\n"})
			}
			h.gh.Script(c.script...)
			o := h.options(Filter{Orgs: []string{"acme"}}, nil)
			l, err := List(context.Background(), o.Client, o.Filter)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(l.Repos) != 3 {
				t.Errorf("listed %d repos, want 3", len(l.Repos))
			}
			if len(h.sleep) != len(c.minWaits) {
				t.Fatalf("waits %v, want %d", h.sleep, len(c.minWaits))
			}
			for i, d := range h.sleep {
				if d < c.minWaits[i] || d > c.maxWaits[i] {
					t.Errorf("wait %d = %v, want %v..%v", i, d, c.minWaits[i], c.maxWaits[i])
				}
			}
			if want := int64(2 + len(c.script)); o.Limiter.Calls() != want {
				t.Errorf("calls = %d, want %d", o.Limiter.Calls(), want)
			}
		})
	}
}

// A permission 403 is not a rate limit: no wait, the error goes back.
func TestForbiddenIsNotRetried(t *testing.T) {
	h := newHarness(t)
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "a", IsOrg: true}, map[string]string{"a": "x\n"})
	h.gh.Script(ghfake.Scripted{Status: 403, Header: map[string]string{"X-RateLimit-Remaining": "4000"}, Body: `{"message":"Resource not accessible by integration"}`})
	o := h.options(Filter{Orgs: []string{"acme"}}, nil)
	if _, err := List(context.Background(), o.Client, o.Filter); err == nil {
		t.Fatal("List succeeded through a 403")
	}
	if len(h.sleep) != 0 {
		t.Errorf("waited %v on a permission error", h.sleep)
	}
}

// A success that spends the last call waits, on the real clock, for the
// reset before it is handed back, so the next call goes through (go-github
// would otherwise refuse it locally).
func TestLastCallWaitsForReset(t *testing.T) {
	h := newHarness(t)
	h.gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "a", IsOrg: true}, map[string]string{"a": "x\n"})
	reset := time.Now().Add(time.Second)
	h.gh.Script(ghfake.Scripted{Status: 200, Header: map[string]string{
		"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)},
		Body: `{"full_name":"acme/a","name":"a","clone_url":"` + h.gh.Git.URL + `/acme/a.git"}`})
	o := h.options(Filter{Repos: []string{"acme/a", "acme/a"}}, nil)
	o.Limiter.Sleep = nil
	l, err := List(context.Background(), o.Client, o.Filter)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if time.Now().Before(reset) || len(l.Repos) != 1 || o.Limiter.Calls() != 2 {
		t.Errorf("returned before the reset or did not call twice: %v, calls %d", l.Repos, o.Limiter.Calls())
	}
}
