// Package ghrevoke sends leaked GitHub tokens to GitHub's credential
// revocation API (POST /credentials/revoke): unauthenticated, at most
// 1000 tokens per request, 60 requests an hour. go-github v60 has no
// method for it, so the request is built with its client.
package ghrevoke

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/keytrail/keytrail/remediate"
)

// MaxBatch is the most tokens GitHub takes per request.
const MaxBatch = 1000

// Revocable reports whether GitHub's API revokes tokens of this kind:
// classic and fine-grained PATs, OAuth, user-to-server and refresh tokens
// (not ghs_ installation tokens, which expire within the hour anyway).
func Revocable(token string) bool {
	for _, p := range []string{"ghp_", "github_pat_", "gho_", "ghu_", "ghr_"} {
		if strings.HasPrefix(token, p) {
			return true
		}
	}
	return false
}

// Hint is how a token appears in logs and journals: its prefix and last
// four characters.
func Hint(token string) string {
	i := strings.IndexByte(token, '_')
	if i < 0 || len(token) < i+9 {
		return "…"
	}
	return token[:i+1] + "…" + token[len(token)-4:]
}

// Hash is the token's SHA-256 in base64, GitHub's hashed_token (what its
// audit log shows), so a journal can name a token without holding it.
func Hash(token string) string {
	s := sha256.Sum256([]byte(token))
	return base64.StdEncoding.EncodeToString(s[:])
}

// Revoker submits tokens. Client must be unauthenticated: GitHub answers
// 403 to an authenticated call.
type Revoker struct {
	Client *github.Client
	Clock  remediate.Clock
	// MaxWait bounds one wait for the rate limit (default 1h, the window).
	MaxWait time.Duration
	// Attempts per batch before giving up (default 5).
	Attempts int
	// OnBatch, when set, is called before (done=false) and after
	// (done=true) each request, so the caller can journal it.
	OnBatch func(n int, tokens []string, done bool, err error)
}

// Result is what was submitted.
type Result struct {
	Submitted int      // tokens GitHub accepted (202) for revocation
	Batches   int      // requests made that were accepted
	Skipped   []string // hints of tokens the API does not take
}

// Revoke submits every revocable token, deduplicated, in batches of at
// most MaxBatch, waiting out rate limits.
func (r *Revoker) Revoke(ctx context.Context, tokens []string) (Result, error) {
	var res Result
	seen := map[string]bool{}
	var todo []string
	for _, t := range tokens {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		if !Revocable(t) {
			res.Skipped = append(res.Skipped, Hint(t))
			continue
		}
		todo = append(todo, t)
	}
	for n := 0; len(todo) > 0; n++ {
		batch := todo[:min(MaxBatch, len(todo))]
		todo = todo[len(batch):]
		if r.OnBatch != nil {
			r.OnBatch(n, batch, false, nil)
		}
		err := r.submit(ctx, batch)
		if r.OnBatch != nil {
			r.OnBatch(n, batch, true, err)
		}
		if err != nil {
			return res, fmt.Errorf("batch %d (%d tokens): %w", n+1, len(batch), err)
		}
		res.Batches++
		res.Submitted += len(batch)
	}
	return res, nil
}

func (r *Revoker) submit(ctx context.Context, batch []string) error {
	attempts := r.Attempts
	if attempts == 0 {
		attempts = 5
	}
	maxWait := r.MaxWait
	if maxWait == 0 {
		maxWait = time.Hour
	}
	for a := 1; ; a++ {
		// A fresh client per attempt: GitHub's headers decide when to
		// retry, not go-github's memory of an earlier limit (which would
		// refuse without asking, against the clock of this process).
		c := github.NewClient(r.Client.Client())
		c.BaseURL, c.UserAgent = r.Client.BaseURL, r.Client.UserAgent
		req, err := c.NewRequest(http.MethodPost, "credentials/revoke", map[string][]string{"credentials": batch})
		if err != nil {
			return err
		}
		resp, err := c.Do(ctx, req, nil)
		var acc *github.AcceptedError
		if errors.As(err, &acc) || (err == nil && resp.StatusCode/100 == 2) {
			return nil
		}
		wait, retry := backoff(resp, err, r.Clock.Now())
		if !retry || a >= attempts {
			return describe(resp, err)
		}
		if wait > maxWait {
			return fmt.Errorf("rate limited for %s more (over the %s wait limit): %w", wait.Round(time.Second), maxWait, describe(resp, err))
		}
		if err := r.Clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// backoff says how long to wait before retrying: the rate limit's reset,
// Retry-After, or a short pause after a server error.
func backoff(resp *github.Response, err error, now time.Time) (time.Duration, bool) {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return max(rl.Rate.Reset.Time.Sub(now), time.Second), true
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) && ab.RetryAfter != nil {
		return *ab.RetryAfter, true
	}
	if resp == nil || resp.Response == nil {
		return 0, false
	}
	h := resp.Header
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-Ratelimit-Remaining") == "0")):
		if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil {
			return time.Duration(s) * time.Second, true
		}
		if s, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(s, 0).Sub(now), time.Second), true
		}
		return time.Minute, true
	case resp.StatusCode >= 500:
		return 2 * time.Second, true
	}
	return 0, false
}

// describe turns a failed answer into an error with no token in it (the
// API's messages name none; the body is not echoed).
func describe(resp *github.Response, err error) error {
	if resp != nil && resp.Response != nil {
		switch resp.StatusCode {
		case http.StatusForbidden:
			return fmt.Errorf("GitHub answered 403: the revocation API refuses authenticated calls (keytrail sends none; is a proxy adding credentials?) and rate-limited ones")
		case http.StatusUnprocessableEntity:
			return fmt.Errorf("GitHub answered 422: validation failed, or the endpoint has been spammed")
		}
		return fmt.Errorf("GitHub answered %s", resp.Status)
	}
	return err
}
