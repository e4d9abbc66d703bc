package ghrevoke

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/rules"
)

func token(r *rand.Rand, prefix string) string {
	const a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 30)
	for i := range b {
		b[i] = a[r.Intn(len(a))]
	}
	return prefix + string(b) + rules.Base62CRC32(string(b))
}

// fakeGitHub answers POST /credentials/revoke as GitHub documents it: 202
// for an unauthenticated list of at most 1000, 403 when authenticated, 422
// for more than 1000; a scripted 429 with Retry-After, and a 60-an-hour
// limit reported in the X-RateLimit headers.
type fakeGitHub struct {
	mu       sync.Mutex
	revoked  []string
	requests int
	limit    int // requests allowed before 403 rate limit
	throttle int // next n requests get 429 Retry-After: 30
	now      func() time.Time
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/credentials/revoke" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"Must not be authenticated"}`)
		return
	}
	if f.throttle > 0 {
		f.throttle--
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"API rate limit exceeded"}`)
		return
	}
	reset := f.now().Add(time.Hour).Unix()
	if f.requests >= f.limit {
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset))
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"API rate limit exceeded"}`)
		f.limit += 60 // the next window
		return
	}
	var body struct{ Credentials []string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Credentials) == 0 || len(body.Credentials) > MaxBatch {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"message":"Validation Failed"}`)
		return
	}
	f.requests++
	f.revoked = append(f.revoked, body.Credentials...)
	w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(f.limit-f.requests))
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprint(w, `{}`)
}

func client(t *testing.T, h http.Handler, auth bool) *github.Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	c := github.NewClient(hc)
	if auth {
		c = c.WithAuthToken("ghp_admin_token_for_tests")
	}
	u, _ := url.Parse(srv.URL + "/")
	c.BaseURL = u
	return c
}

func TestRevokeBatchesAndLimits(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var many []string
	for i := 0; i < 2500; i++ {
		many = append(many, token(r, "ghp_"))
	}
	ghs := token(r, "ghs_")
	tests := []struct {
		name      string
		tokens    []string
		limit     int
		throttle  int
		auth      bool
		batches   int
		slept     time.Duration
		wantErr   string
		submitted int
	}{
		{"three batches", append(append([]string{}, many...), many[0], ghs), 60, 0, false, 3, 0, "", 2500},
		{"429 Retry-After is waited out", many[:10], 60, 1, false, 1, 30 * time.Second, "", 10},
		{"hourly limit is waited out", many, 1, 0, false, 3, time.Hour, "", 2500},
		{"authenticated client refused", many[:1], 60, 0, true, 0, 0, "refuses authenticated calls", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := remediate.NewFakeClock(time.Now())
			f := &fakeGitHub{limit: tc.limit, throttle: tc.throttle, now: clk.Now}
			start := clk.Now()
			var sizes []int
			rv := &Revoker{Client: client(t, f, tc.auth), Clock: clk, MaxWait: 2 * time.Hour,
				OnBatch: func(n int, b []string, done bool, err error) {
					if !done {
						sizes = append(sizes, len(b))
					}
				}}
			res, err := rv.Revoke(context.Background(), tc.tokens)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Batches != tc.batches || res.Submitted != tc.submitted || len(f.revoked) != tc.submitted {
				t.Fatalf("res %+v, server got %d", res, len(f.revoked))
			}
			for _, s := range sizes {
				if s > MaxBatch {
					t.Errorf("batch of %d", s)
				}
			}
			if slept := clk.Now().Sub(start); slept < tc.slept-2*time.Second || slept > tc.slept+time.Minute {
				t.Errorf("waited %s, want about %s", slept, tc.slept)
			}
			if tc.name == "three batches" && (len(res.Skipped) != 1 || !strings.HasPrefix(res.Skipped[0], "ghs_…")) {
				t.Errorf("skipped %v", res.Skipped)
			}
		})
	}
}

func TestHintAndHashHoldNoToken(t *testing.T) {
	tok := token(rand.New(rand.NewSource(2)), "ghp_")
	h := Hint(tok)
	if strings.Contains(h, tok[4:20]) || !strings.HasPrefix(h, "ghp_…") || len(h) > 12 {
		t.Errorf("hint %q", h)
	}
	if Hash(tok) == Hash(tok+"x") || len(Hash(tok)) != 44 {
		t.Errorf("hash %q", Hash(tok))
	}
}
