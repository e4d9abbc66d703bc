package audit

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// verdict sets Risk, Recommendation and Reasons. The rules, most severe
// first: used after the leak from a new IP or region is critical
// (revoke now); used after the leak only from known places, or active and
// unused since, is high (rotate); a key no provider could check is medium;
// an inactive or deleted key is low (remove it from the code). Being over
// the maximum age raises a live key at least to medium, rotate.
func verdict(k *Key, p Policy, now time.Time) {
	risk, rec := RiskLow, RecNone
	var reasons []string
	raise := func(r, c string) {
		if riskRank[r] > riskRank[risk] {
			risk = r
		}
		if recRank[c] > recRank[rec] {
			rec = c
		}
	}
	say := func(format string, args ...any) { reasons = append(reasons, fmt.Sprintf(format, args...)) }

	leaked := !k.LeakedAt.IsZero() || len(k.LeakLocations) > 0
	leakWhen := "its leak"
	if !k.LeakedAt.IsZero() {
		leakWhen = "it leaked on " + day(k.LeakedAt)
		if k.LeakedAtSource == LeakedAtAssumed {
			leakWhen += " (assumed: the scan time, as no commit date or --leaked-at was known)"
		}
	}
	places := newPlaces(k)
	dead := k.Status == StatusInactive || k.Status == StatusDeleted
	// Use seen in a log proves the key worked then, whatever the inventory knew.
	live := k.Status == StatusActive || (k.Status == StatusUnknown && k.UsedAfterLeak)

	switch {
	case dead:
		if leaked {
			raise(RiskLow, RecRemoveFromCode)
			say("The key is %s%s, so it no longer grants access; remove it from the code and its history.", k.Status, verifiedNote(k))
		} else {
			say("The key is %s%s.", k.Status, verifiedNote(k))
		}
		if k.UsedAfterLeak && places != "" {
			raise(RiskHigh, RecRemoveFromCode)
			say("Before it was disabled it was used after %s from %s: find out what was done with it.", leakWhen, places)
		} else if k.UsedAfterLeak {
			say("Before it was disabled it was used after %s%s.", leakWhen, eventsNote(k))
		}
	case live && leaked:
		switch {
		case k.UsedAfterLeak && places != "":
			raise(RiskCritical, RecRevokeNow)
			say("It was used after %s%s from places not seen in the baseline before the leak: %s.", leakWhen, eventsNote(k), places)
		case k.UsedAfterLeak && k.EventsAfterLeak > 0:
			raise(RiskHigh, RecRotate)
			say("It was used after %s%s, only from IP addresses and regions seen before the leak.", leakWhen, eventsNote(k))
		case k.UsedAfterLeak:
			raise(RiskHigh, RecRotate)
			say("It was last used on %s%s, after %s; no usage log was read to tell from where.", day(*k.LastUsedAt), lastUseNote(k), leakWhen)
		default:
			raise(RiskHigh, RecRotate)
			say("It is active and public since %s, but has not been used since; rotate it before someone does.", strings.TrimPrefix(leakWhen, "it leaked on "))
		}
	case live:
		say("The key is active.")
	case leaked && len(k.Errors) > 0:
		raise(RiskMedium, RecRotate)
		say("Its account could not be checked: %s.", strings.Join(k.Errors, "; "))
	case leaked:
		raise(RiskMedium, RecRotate)
		say("No provider could tell whether it is active or used (providers are enabled by their flags, see keytrail audit --help); treat it as live until it is checked.")
	default:
		say("Its status is unknown.")
	}

	if !dead {
		if n := k.AccessDeniedAfterLeak; n > 0 {
			say("%d call(s) after the leak were denied: someone may be probing what it is allowed to do.", n)
		}
		if n := sessionsAfter(k); n > 0 {
			say("%d set(s) of temporary credentials were minted with it after the leak; their use counts as its use.", n)
		}
		if k.Quarantined {
			say("AWS attached its compromised-key quarantine policy: AWS already saw this key leak.")
		}
		if k.Admin {
			say("Its owner has administrator permissions, so whoever holds the key controls the account.")
		}
		if k.OverMaxAge && k.AgeDays != nil && k.RotationDue != nil {
			raise(RiskMedium, RecRotate)
			say("It is %d days old, over the maximum age of %d days; rotation was due on %s.", *k.AgeDays, k.MaxAgeDays, day(*k.RotationDue))
		} else if k.RotationDue != nil && k.RotationDue.Sub(now) <= time.Duration(p.WarnDays)*24*time.Hour {
			say("Rotation is due on %s (policy: %d days).", day(*k.RotationDue), k.MaxAgeDays)
		}
		if k.Status == StatusActive && k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) > time.Duration(p.UnusedDays)*24*time.Hour {
			say("It has not been used for %d days (policy: unused after %d): if nothing needs it, deactivate it rather than rotate it.",
				int(now.Sub(*k.LastUsedAt).Hours()/24), p.UnusedDays)
		}
	}
	if len(k.Errors) > 0 && (live || dead) {
		say("Some evidence is missing: %s.", strings.Join(k.Errors, "; "))
	}
	if k.Verified == "error" || k.Verified == "unknown" {
		say("Live verification was inconclusive%s.", verifiedNote(k))
	}
	k.Risk, k.Recommendation, k.Reasons = risk, rec, reasons
	if k.Reasons == nil {
		k.Reasons = []string{}
	}
}

// LeakedAt sources.
const (
	LeakedAtCommit  = "commit"
	LeakedAtFlag    = "flag"
	LeakedAtAssumed = "assumed-scan-time"
)

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func newPlaces(k *Key) string {
	var parts []string
	if n := len(k.NewSourceIPs); n > 0 {
		parts = append(parts, plural(n, "new IP address", "new IP addresses")+" "+list(k.NewSourceIPs))
	}
	if n := len(k.NewRegions); n > 0 {
		parts = append(parts, plural(n, "new region", "new regions")+" "+list(k.NewRegions))
	}
	return strings.Join(parts, " and ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// list shows at most five items, so one busy key does not flood a report.
func list(xs []string) string {
	if len(xs) > 5 {
		return strings.Join(xs[:5], ", ") + fmt.Sprintf(" and %d more", len(xs)-5)
	}
	return strings.Join(xs, ", ")
}

func eventsNote(k *Key) string {
	if k.EventsAfterLeak == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d event(s) since)", k.EventsAfterLeak)
}

func lastUseNote(k *Key) string {
	var parts []string
	if k.LastUsedService != "" {
		parts = append(parts, k.LastUsedService)
	}
	if k.LastUsedRegion != "" {
		parts = append(parts, k.LastUsedRegion)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func verifiedNote(k *Key) string {
	switch {
	case k.Verified != "" && k.VerifyNote != "":
		return fmt.Sprintf(" (live check: %s, %s)", k.Verified, k.VerifyNote)
	case k.Verified != "":
		return fmt.Sprintf(" (live check: %s)", k.Verified)
	}
	return ""
}

func sessionsAfter(k *Key) int {
	n := 0
	for _, s := range k.Sessions {
		if !s.MintedAt.Before(k.LeakedAt) {
			n++
		}
	}
	return n
}

// timeline lists the key's dated facts in time order.
func timeline(k Key, u UsageSummary) []TimelineEvent {
	tl := []TimelineEvent{}
	add := func(t *time.Time, kind, detail string) {
		if t != nil && !t.IsZero() {
			tl = append(tl, TimelineEvent{Time: t.UTC(), Kind: kind, Detail: detail})
		}
	}
	if k.CreatedAt != nil {
		d := "key created"
		if k.Owner != "" {
			d += " for " + k.Owner
		}
		add(k.CreatedAt, "created", d)
	}
	if !k.LeakedAt.IsZero() {
		t := k.LeakedAt
		add(&t, "leaked", leakDetail(k))
	}
	if k.FirstUseAfterLeak != nil {
		add(k.FirstUseAfterLeak, "first-use-after-leak", "first use after the leak")
	}
	ips := make([]string, 0, len(u.FirstSeenAfterLeak))
	for ip := range u.FirstSeenAfterLeak {
		ips = append(ips, ip)
	}
	sort.Strings(ips)
	for _, ip := range ips {
		t := u.FirstSeenAfterLeak[ip]
		add(&t, "new-ip", "first use from new IP "+ip)
	}
	if u.FirstDenied != nil {
		add(u.FirstDenied, "denied", fmt.Sprintf("first of %d denied call(s) after the leak", k.AccessDeniedAfterLeak))
	}
	for _, s := range k.Sessions {
		t := s.MintedAt
		d := fmt.Sprintf("%s minted %s", s.Via, s.AccessKeyID)
		if s.SourceIP != "" {
			d += " from " + s.SourceIP
		}
		if s.Events > 0 {
			d += fmt.Sprintf(", used %d time(s)", s.Events)
		}
		add(&t, "session-minted", d)
	}
	if k.RotationDue != nil {
		add(k.RotationDue, "rotation-due", fmt.Sprintf("rotation due (maximum age %d days)", k.MaxAgeDays))
	}
	if k.LastUsedAt != nil {
		add(k.LastUsedAt, "last-used", "last used"+lastUseNote(&k))
	}
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].Time.Before(tl[j].Time) })
	return tl
}

func leakDetail(k Key) string {
	d := "leaked"
	if len(k.LeakLocations) > 0 {
		l := k.LeakLocations[0]
		d += fmt.Sprintf(" in %s:%d", l.File, l.Line)
		if l.Commit != "" {
			c := l.Commit
			if len(c) > 12 {
				c = c[:12]
			}
			d += " (commit " + c + ")"
		}
		if n := len(k.LeakLocations) - 1; n > 0 {
			d += fmt.Sprintf(" and %d more place(s)", n)
		}
	}
	switch k.LeakedAtSource {
	case LeakedAtAssumed:
		d += "; time assumed (scan time)"
	case LeakedAtFlag:
		d += "; time from --leaked-at"
	}
	return d
}
