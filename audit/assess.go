package audit

import (
	"sort"
	"time"
)

// Risks, most severe first, and recommendations.
const (
	RiskCritical = "critical"
	RiskHigh     = "high"
	RiskMedium   = "medium"
	RiskLow      = "low"

	RecRevokeNow      = "revoke-now"
	RecRotate         = "rotate"
	RecRemoveFromCode = "remove-from-code"
	RecNone           = "none"
)

// Statuses of a key.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
	StatusDeleted  = "deleted"
	StatusUnknown  = "unknown"
)

var riskRank = map[string]int{RiskLow: 1, RiskMedium: 2, RiskHigh: 3, RiskCritical: 4}
var recRank = map[string]int{RecNone: 0, RecRemoveFromCode: 1, RecRotate: 2, RecRevokeNow: 3}

// RiskRank orders risks: critical 4, high 3, medium 2, low 1, else 0.
func RiskRank(r string) int { return riskRank[r] }

// Assess merges the providers' evidence into k and draws the verdict:
// usage after the leak, age against the policy, the timeline, risk,
// reasons and recommendation. now is the time ages are measured at.
func Assess(k Key, evs []Evidence, p Policy, now time.Time) Key {
	p = p.WithDefaults()
	u := merge(&k, evs)
	k.MaxAgeDays = p.MaxAgeFor(k.OwnerPath, k.OwnerTags)
	if k.CreatedAt != nil {
		age := int(now.Sub(*k.CreatedAt).Hours() / 24)
		if age < 0 {
			age = 0
		}
		k.AgeDays = &age
		due := k.CreatedAt.AddDate(0, 0, k.MaxAgeDays)
		k.RotationDue = &due
		k.OverMaxAge = age > k.MaxAgeDays
	}
	// A key from an inventory (no leak) has no "after the leak".
	if leaked := !k.LeakedAt.IsZero() || len(k.LeakLocations) > 0; leaked {
		if k.LastUsedAt != nil && !k.LastUsedAt.Before(k.LeakedAt) {
			k.UsedAfterLeak = true
		}
		if k.EventsAfterLeak > 0 {
			k.UsedAfterLeak = true
		}
	}
	verdict(&k, p, now)
	k.Timeline = timeline(k, u)
	return k
}

// merge folds evidence into the key: the first provider to know a fact
// wins, usage from several logs adds up, errors are all kept.
// It returns the merged usage, whose per-IP and denied times feed the
// timeline.
func merge(k *Key, evs []Evidence) UsageSummary {
	var sums []UsageSummary
	for _, ev := range evs {
		setStr(&k.AccountID, ev.AccountID)
		setStr(&k.Owner, ev.Owner)
		setStr(&k.OwnerPath, ev.OwnerPath)
		if k.OwnerTags == nil && len(ev.OwnerTags) > 0 {
			k.OwnerTags = ev.OwnerTags
		}
		if (k.Status == "" || k.Status == StatusUnknown) && ev.Status != "" {
			k.Status = ev.Status
		}
		if k.CreatedAt == nil {
			k.CreatedAt = ev.CreatedAt
		}
		if ev.LastUsedAt != nil && (k.LastUsedAt == nil || ev.LastUsedAt.After(*k.LastUsedAt)) {
			k.LastUsedAt = ev.LastUsedAt
			k.LastUsedService, k.LastUsedRegion = ev.LastUsedService, ev.LastUsedRegion
		}
		k.Quarantined = k.Quarantined || ev.Quarantined
		k.Admin = k.Admin || ev.Admin
		if k.Verified == "" && ev.Verified != "" {
			k.Verified, k.VerifyNote = ev.Verified, ev.VerifyNote
		}
		k.Errors = append(k.Errors, ev.Errors...)
		if ev.Usage != nil {
			sums = append(sums, ev.Usage.Summary())
		}
	}
	if k.Status == "" {
		k.Status = StatusUnknown
	}
	// A live check settles what no inventory said.
	if k.Status == StatusUnknown {
		switch k.Verified {
		case "valid":
			k.Status = StatusActive
		case "invalid", "revoked":
			k.Status = StatusInactive
		}
	}
	u := mergeSummaries(sums)
	k.EventsAfterLeak += u.EventsAfterLeak
	k.FirstUseAfterLeak = earliest(k.FirstUseAfterLeak, u.FirstUseAfterLeak)
	if u.LastUse != nil && (k.LastUsedAt == nil || u.LastUse.After(*k.LastUsedAt)) {
		k.LastUsedAt = u.LastUse
	}
	k.NewSourceIPs = union(k.NewSourceIPs, u.NewSourceIPs)
	k.NewRegions = union(k.NewRegions, u.NewRegions)
	k.NewUserAgents = union(k.NewUserAgents, u.NewUserAgents)
	k.AccessDeniedAfterLeak += u.AccessDeniedAfterLeak
	k.Sessions = append(k.Sessions, u.Sessions...)
	if k.Sessions == nil {
		k.Sessions = []Session{}
	}
	sort.SliceStable(k.Sessions, func(i, j int) bool { return k.Sessions[i].MintedAt.Before(k.Sessions[j].MintedAt) })
	if k.LeakLocations == nil {
		k.LeakLocations = []Location{}
	}
	return u
}

func setStr(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func earliest(a, b *time.Time) *time.Time {
	if a == nil {
		return b
	}
	if b != nil && b.Before(*a) {
		return b
	}
	return a
}

func union(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range a {
		set[s] = true
	}
	for _, s := range b {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func mergeSummaries(ss []UsageSummary) UsageSummary {
	var u UsageSummary
	u.FirstSeenAfterLeak = map[string]time.Time{}
	for _, s := range ss {
		u.EventsAfterLeak += s.EventsAfterLeak
		u.AccessDeniedAfterLeak += s.AccessDeniedAfterLeak
		u.FirstUseAfterLeak = earliest(u.FirstUseAfterLeak, s.FirstUseAfterLeak)
		u.FirstDenied = earliest(u.FirstDenied, s.FirstDenied)
		if s.LastUse != nil && (u.LastUse == nil || s.LastUse.After(*u.LastUse)) {
			u.LastUse = s.LastUse
		}
		u.NewSourceIPs = union(u.NewSourceIPs, s.NewSourceIPs)
		u.NewRegions = union(u.NewRegions, s.NewRegions)
		u.NewUserAgents = union(u.NewUserAgents, s.NewUserAgents)
		u.Sessions = append(u.Sessions, s.Sessions...)
		for ip, t := range s.FirstSeenAfterLeak {
			if old, ok := u.FirstSeenAfterLeak[ip]; !ok || t.Before(old) {
				u.FirstSeenAfterLeak[ip] = t
			}
		}
	}
	return u
}
