package githubaudit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/go-github/v60/github"
)

// GitHub answers an exhausted budget with 403 or 429 (its docs list both;
// go-github v60 maps only the 403 forms), so the wait is worked out here
// from whichever signal the response carries.

// defaultSecondaryWait is GitHub's advice when a secondary limit names no
// Retry-After: wait at least a minute.
const defaultSecondaryWait = time.Minute

// rateLimitWait reports how long to wait before retrying after err, and
// whether err was a rate limit at all.
func rateLimitWait(resp *github.Response, err error, now time.Time) (time.Duration, bool) {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return untilReset(rl.Rate.Reset.Time, now), true
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		if ab.RetryAfter != nil {
			return *ab.RetryAfter, true
		}
		return defaultSecondaryWait, true
	}
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return 0, false
	}
	h := er.Response.Header
	code := er.Response.StatusCode
	if code != http.StatusTooManyRequests && !(code == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0")) {
		return 0, false
	}
	if s, perr := strconv.Atoi(h.Get("Retry-After")); perr == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, perr := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); perr == nil {
			return untilReset(time.Unix(reset, 0), now), true
		}
	}
	return defaultSecondaryWait, true
}

// untilReset is the wait until a primary limit resets, plus a second for
// clock skew (the reset is given in whole seconds).
func untilReset(reset, now time.Time) time.Duration {
	d := reset.Sub(now) + time.Second
	if d < time.Second {
		d = time.Second
	}
	return d
}

// tooLongError is a rate limit whose wait exceeds Config.MaxWait.
type tooLongError struct {
	wait, max time.Duration
	err       error
}

func (e *tooLongError) Error() string { return describe(e) }
func (e *tooLongError) Unwrap() error { return e.err }

// describe turns a go-github error into a short message with the status
// and GitHub's own message, never the request (its headers hold the
// auditor's token) nor the full URL.
func describe(err error) string {
	var tl *tooLongError
	if errors.As(err, &tl) {
		return fmt.Sprintf("rate limited for %s, longer than the %s accepted (%s)", tl.wait.Round(time.Second), tl.max, describe(tl.err))
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Sprintf("rate limit exhausted until %s", rl.Rate.Reset.UTC().Format(time.RFC3339))
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		return "secondary rate limit: " + ab.Message
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		msg := er.Message
		if msg == "" {
			msg = http.StatusText(er.Response.StatusCode)
		}
		return fmt.Sprintf("HTTP %d: %s", er.Response.StatusCode, msg)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err.Error()
	}
	// Transport errors: go-github already strips query secrets from
	// *url.Error; keep only the operation and cause.
	return err.Error()
}
