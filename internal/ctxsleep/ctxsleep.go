// Package ctxsleep waits for a duration unless a context ends first. The
// API clients that honour rate limits (CloudTrail LookupEvents, the GitHub
// audit log, org scans) all need exactly this wait.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d or until ctx is done, whichever comes first, and returns
// ctx's error in the second case. A d of zero or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
