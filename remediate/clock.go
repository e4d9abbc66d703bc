package remediate

import (
	"context"
	"sync"
	"time"

	"github.com/keytrail/keytrail/internal/ctxsleep"
)

// Clock is the time a remediation sees; tests pass a fake so a 15-minute
// overlap does not take 15 minutes.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	return ctxsleep.Sleep(ctx, d)
}

// FakeClock advances only when slept on (or told to); Sleep returns at once.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
	// OnSleep, when set, runs after each Sleep advanced the clock.
	OnSleep func(d time.Duration)
}

// NewFakeClock starts at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Sleep advances the clock by d and returns.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.Advance(d)
	}
	if c.OnSleep != nil {
		c.OnSleep(d)
	}
	return ctx.Err()
}

// SleepUntil sleeps on c until t.
func SleepUntil(ctx context.Context, c Clock, t time.Time) error {
	return c.Sleep(ctx, t.Sub(c.Now()))
}
