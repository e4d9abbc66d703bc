package audit

import (
	"sort"
	"sync"
	"time"
)

// Usage aggregates a key's events in one streaming pass, in any order:
// what was seen in the baseline window before the leak, and what came
// after it. Memory grows with distinct IPs, regions, agents and sessions,
// never with the number of events.
type Usage struct {
	mu             sync.Mutex
	leakedAt       time.Time
	baselineStart  time.Time
	before         seen
	after          seen
	eventsAfter    int
	deniedAfter    int
	firstAfter     time.Time
	firstAfterIP   string
	last           time.Time
	sessions       map[string]*Session
	firstAfterByIP map[string]time.Time
	deniedFirst    time.Time
}

type seen struct{ ips, regions, agents map[string]bool }

func newSeen() seen {
	return seen{ips: map[string]bool{}, regions: map[string]bool{}, agents: map[string]bool{}}
}

// NewUsage starts an aggregate for a key leaked at leakedAt; events in
// [leakedAt-baseline, leakedAt) form the "known places" baseline.
func NewUsage(leakedAt time.Time, baseline time.Duration) *Usage {
	return &Usage{leakedAt: leakedAt, baselineStart: leakedAt.Add(-baseline),
		before: newSeen(), after: newSeen(), sessions: map[string]*Session{}, firstAfterByIP: map[string]time.Time{}}
}

// IsSession reports whether id is a session key minted from this key, so
// a reader can attribute that session's events to the key.
func (u *Usage) IsSession(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.sessions[id]
	return ok
}

// Add records one event. Safe for concurrent use.
func (u *Usage) Add(ev Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if ev.Time.After(u.last) {
		u.last = ev.Time
	}
	if ev.MintedKeyID != "" {
		s := u.sessions[ev.MintedKeyID]
		if s == nil {
			s = &Session{AccessKeyID: ev.MintedKeyID}
			u.sessions[ev.MintedKeyID] = s
		}
		s.Via, s.MintedAt, s.SourceIP = ev.Name, ev.Time, ev.SourceIP
	}
	if s := u.sessions[ev.AccessKeyID]; s != nil && ev.MintedKeyID == "" {
		s.Events++
	}
	if ev.Time.Before(u.leakedAt) {
		if !ev.Time.Before(u.baselineStart) {
			u.before.add(ev)
		}
		return
	}
	u.after.add(ev)
	u.eventsAfter++
	if ev.ErrorCode != "" && isDenied(ev.ErrorCode) {
		u.deniedAfter++
		if u.deniedFirst.IsZero() || ev.Time.Before(u.deniedFirst) {
			u.deniedFirst = ev.Time
		}
	}
	if u.firstAfter.IsZero() || ev.Time.Before(u.firstAfter) {
		u.firstAfter, u.firstAfterIP = ev.Time, ev.SourceIP
	}
	if ev.SourceIP != "" {
		if t, ok := u.firstAfterByIP[ev.SourceIP]; !ok || ev.Time.Before(t) {
			u.firstAfterByIP[ev.SourceIP] = ev.Time
		}
	}
}

func (s seen) add(ev Event) {
	if ev.SourceIP != "" {
		s.ips[ev.SourceIP] = true
	}
	if ev.Region != "" {
		s.regions[ev.Region] = true
	}
	if ev.UserAgent != "" {
		s.agents[ev.UserAgent] = true
	}
}

func isDenied(code string) bool {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation", "UnauthorizedAccess":
		return true
	}
	return false
}

// UsageSummary is the aggregate's result.
type UsageSummary struct {
	EventsAfterLeak       int
	FirstUseAfterLeak     *time.Time
	LastUse               *time.Time
	NewSourceIPs          []string
	NewRegions            []string
	NewUserAgents         []string
	FirstSeenAfterLeak    map[string]time.Time // by new source IP
	AccessDeniedAfterLeak int
	FirstDenied           *time.Time
	Sessions              []Session
}

// Summary returns what was aggregated so far.
func (u *Usage) Summary() UsageSummary {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := UsageSummary{EventsAfterLeak: u.eventsAfter, AccessDeniedAfterLeak: u.deniedAfter,
		NewSourceIPs: newOnly(u.after.ips, u.before.ips), NewRegions: newOnly(u.after.regions, u.before.regions),
		NewUserAgents: newOnly(u.after.agents, u.before.agents), FirstSeenAfterLeak: map[string]time.Time{}}
	if !u.firstAfter.IsZero() {
		t := u.firstAfter
		s.FirstUseAfterLeak = &t
	}
	if !u.last.IsZero() {
		t := u.last
		s.LastUse = &t
	}
	if !u.deniedFirst.IsZero() {
		t := u.deniedFirst
		s.FirstDenied = &t
	}
	for _, ip := range s.NewSourceIPs {
		s.FirstSeenAfterLeak[ip] = u.firstAfterByIP[ip]
	}
	for _, ss := range u.sessions {
		s.Sessions = append(s.Sessions, *ss)
	}
	sort.Slice(s.Sessions, func(i, j int) bool { return s.Sessions[i].MintedAt.Before(s.Sessions[j].MintedAt) })
	return s
}

func newOnly(after, before map[string]bool) []string {
	out := []string{}
	for k := range after {
		if !before[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
