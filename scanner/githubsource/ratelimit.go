package githubsource

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/keytrail/keytrail/internal/ctxsleep"
)

// RateLimiter is an http.RoundTripper for the GitHub REST API that honours
// its rate limits instead of failing, and counts the calls made.
//
//   - 403 or 429 with Retry-After: wait that long and retry.
//   - X-RateLimit-Remaining: 0: wait until X-RateLimit-Reset (before the
//     response is handed back, so the next call does not hit the wall; this
//     also keeps go-github's own "limit still exceeded" check from refusing
//     the next request).
//   - 403 naming a secondary rate limit, or 429, without Retry-After: back
//     off exponentially from one minute, as GitHub asks.
//
// go-github v60 does not map 429 at all, which is why this sits below it.
type RateLimiter struct {
	Base http.RoundTripper
	Log  zerolog.Logger
	// Now and Sleep are the clock; nil means the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxRetries bounds retries of one request (default 6).
	MaxRetries int
	// MaxWait caps one wait (default 1 hour, a primary limit's window).
	MaxWait time.Duration

	calls     atomic.Int64
	remaining atomic.Int64 // -1: unknown
	once      sync.Once
}

// Calls is how many HTTP requests reached the API.
func (r *RateLimiter) Calls() int64 { return r.calls.Load() }

// Remaining is the last primary budget GitHub reported, -1 if none.
func (r *RateLimiter) Remaining() int64 {
	r.once.Do(func() { r.remaining.Store(-1) })
	return r.remaining.Load()
}

func (r *RateLimiter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *RateLimiter) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	return ctxsleep.Sleep(ctx, d)
}

// RoundTrip implements http.RoundTripper.
func (r *RateLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	r.once.Do(func() { r.remaining.Store(-1) })
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	max := r.MaxRetries
	if max <= 0 {
		max = 6
	}
	backoff := time.Minute
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.Body != nil {
			if req.GetBody == nil {
				return nil, fmt.Errorf("%s %s: cannot retry a request whose body cannot be replayed", req.Method, req.URL.Path)
			}
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = b
		}
		resp, err := base.RoundTrip(req)
		r.calls.Add(1)
		if err != nil {
			return nil, err
		}
		wait, why := r.inspect(resp)
		if wait < 0 {
			return resp, nil
		}
		if wait == 0 {
			wait = backoff
			backoff *= 2
		}
		if mw := r.maxWait(); wait > mw {
			wait = mw
		}
		retry := attempt < max && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests)
		r.Log.Warn().Str("path", req.URL.Path).Int("status", resp.StatusCode).Dur("wait", wait).Str("why", why).
			Bool("retry", retry).Msg("GitHub API rate limit")
		if !retry {
			// A success that used the last of the budget is handed back
			// once the window has reset; a limit still hit after every
			// retry goes back as the error it is.
			if resp.StatusCode < 300 {
				if err := r.sleep(req.Context(), wait); err != nil {
					resp.Body.Close()
					return nil, err
				}
			}
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := r.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

func (r *RateLimiter) maxWait() time.Duration {
	if r.MaxWait > 0 {
		return r.MaxWait
	}
	return time.Hour
}

// inspect records the budget and decides whether to wait: -1 no, 0 back
// off, >0 that long.
func (r *RateLimiter) inspect(resp *http.Response) (time.Duration, string) {
	h := resp.Header
	rem := h.Get("X-RateLimit-Remaining")
	if n, err := strconv.ParseInt(rem, 10, 64); err == nil {
		old := r.remaining.Swap(n)
		if old < 0 || n/500 != old/500 || n < 50 {
			r.Log.Info().Int64("remaining", n).Str("limit", h.Get("X-RateLimit-Limit")).Msg("GitHub API budget")
		}
	}
	limited := resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests
	if limited {
		if ra := h.Get("Retry-After"); ra != "" {
			if s, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && s >= 0 {
				return time.Duration(s) * time.Second, "Retry-After"
			}
			if t, err := http.ParseTime(ra); err == nil {
				return positive(t.Sub(r.now())), "Retry-After"
			}
		}
	}
	if rem == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			// One second of slack: the reset is rounded to seconds.
			return positive(time.Unix(reset, 0).Sub(r.now())) + time.Second, "X-RateLimit-Remaining: 0"
		}
		if limited {
			return 0, "X-RateLimit-Remaining: 0"
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return 0, "429"
	}
	if resp.StatusCode == http.StatusForbidden && secondaryLimited(resp) {
		return 0, "secondary rate limit"
	}
	return -1, ""
}

func positive(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// secondaryLimited reads (and restores) a 403's body to see whether it is
// a secondary rate limit rather than a permission problem.
func secondaryLimited(resp *http.Response) bool {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	s := strings.ToLower(string(body))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse")
}
