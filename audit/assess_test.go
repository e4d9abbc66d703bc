package audit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	tNow    = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tLeak   = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tCreate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func at(t time.Time) *time.Time { return &t }

// usage builds a Usage from events, with a 90-day baseline.
func usage(evs ...Event) *Usage {
	u := NewUsage(tLeak, 90*24*time.Hour)
	for _, e := range evs {
		u.Add(e)
	}
	return u
}

func ev(daysFromLeak int, ip, region string) Event {
	return Event{Time: tLeak.Add(time.Duration(daysFromLeak) * 24 * time.Hour), AccessKeyID: "AKIAEXAMPLEEXAMPLE01",
		Name: "ListBuckets", Source: "s3.amazonaws.com", Region: region, SourceIP: ip, UserAgent: "aws-cli/2"}
}

func leakedKey() Key {
	return Key{Fingerprint: "fp1", RuleID: "aws-access-key-id", Provider: "aws", KeyID: "AKIAEXAMPLEEXAMPLE01",
		LeakedAt: tLeak, LeakedAtSource: LeakedAtCommit,
		LeakLocations: []Location{{File: "config.py", Line: 3, Commit: "0123456789abcdef0123"}}}
}

func TestAssessVerdict(t *testing.T) {
	active := func(extra Evidence) Evidence {
		extra.Status = StatusActive
		extra.Owner = "arn:aws:iam::123456789012:user/ci"
		extra.AccountID = "123456789012"
		if extra.CreatedAt == nil {
			extra.CreatedAt = at(tNow.AddDate(0, 0, -30))
		}
		return extra
	}
	cases := []struct {
		name       string
		key        func() Key
		evs        []Evidence
		risk, rec  string
		reasonHas  []string
		usedAfter  bool
		overMaxAge bool
	}{
		{
			name: "used after the leak from a new IP",
			evs: []Evidence{active(Evidence{Usage: usage(
				ev(-10, "198.51.100.7", "us-east-1"), ev(2, "198.51.100.7", "us-east-1"), ev(3, "203.0.113.9", "us-east-1"))})},
			risk: RiskCritical, rec: RecRevokeNow, usedAfter: true,
			reasonHas: []string{"new IP address 203.0.113.9", "(2 event(s) since)"},
		},
		{
			name: "used after the leak from a new region only",
			evs: []Evidence{active(Evidence{Usage: usage(
				ev(-10, "198.51.100.7", "us-east-1"), ev(2, "198.51.100.7", "ap-south-1"))})},
			risk: RiskCritical, rec: RecRevokeNow, usedAfter: true,
			reasonHas: []string{"new region ap-south-1"},
		},
		{
			name: "used after the leak only from known places",
			evs: []Evidence{active(Evidence{Usage: usage(
				ev(-10, "198.51.100.7", "us-east-1"), ev(2, "198.51.100.7", "us-east-1"))})},
			risk: RiskHigh, rec: RecRotate, usedAfter: true,
			reasonHas: []string{"only from IP addresses and regions seen before the leak"},
		},
		{
			name: "last used after the leak, no log read",
			evs:  []Evidence{active(Evidence{LastUsedAt: at(tLeak.Add(48 * time.Hour)), LastUsedService: "s3", LastUsedRegion: "us-east-1"})},
			risk: RiskHigh, rec: RecRotate, usedAfter: true,
			reasonHas: []string{"no usage log was read", "(s3, us-east-1)"},
		},
		{
			name: "active and public but unused since",
			evs:  []Evidence{active(Evidence{LastUsedAt: at(tLeak.Add(-48 * time.Hour)), Usage: usage(ev(-2, "198.51.100.7", "us-east-1"))})},
			risk: RiskHigh, rec: RecRotate,
			reasonHas: []string{"has not been used since"},
		},
		{
			name: "inactive",
			evs:  []Evidence{{Status: StatusInactive}},
			risk: RiskLow, rec: RecRemoveFromCode,
			reasonHas: []string{"inactive", "remove it from the code"},
		},
		{
			name: "deleted, even if very old",
			evs:  []Evidence{{Status: StatusDeleted, CreatedAt: at(tNow.AddDate(-3, 0, 0))}},
			risk: RiskLow, rec: RecRemoveFromCode, overMaxAge: true,
			reasonHas: []string{"deleted"},
		},
		{
			name: "inactive now, but abused before it was disabled",
			evs: []Evidence{{Status: StatusInactive, Usage: usage(
				ev(-10, "198.51.100.7", "us-east-1"), ev(1, "203.0.113.9", "us-east-1"))}},
			risk: RiskHigh, rec: RecRemoveFromCode, usedAfter: true,
			reasonHas: []string{"Before it was disabled", "203.0.113.9"},
		},
		{
			name: "revoked by live verification",
			evs:  []Evidence{{Verified: "revoked"}},
			risk: RiskLow, rec: RecRemoveFromCode,
			reasonHas: []string{"live check: revoked"},
		},
		{
			name: "valid by live verification, no usage known",
			evs:  []Evidence{{Verified: "valid", VerifyNote: "login octocat"}},
			risk: RiskHigh, rec: RecRotate,
			reasonHas: []string{"has not been used since"},
		},
		{
			name: "account not reachable",
			evs:  []Evidence{{Errors: []string{"iam ListUsers: AccessDenied"}}},
			risk: RiskMedium, rec: RecRotate,
			reasonHas: []string{"could not be checked: iam ListUsers: AccessDenied"},
		},
		{
			name: "no evidence at all",
			evs:  nil,
			risk: RiskMedium, rec: RecRotate,
			reasonHas: []string{"No provider could tell"},
		},
		{
			name: "unknown status but the audit log shows use from a new IP",
			evs: []Evidence{{Usage: usage(
				Event{Time: tLeak.Add(time.Hour), AccessKeyID: "x", Name: "git.clone", SourceIP: "203.0.113.50"})}},
			risk: RiskCritical, rec: RecRevokeNow, usedAfter: true,
		},
		{
			name: "inventory key over max age (no leak)",
			key:  func() Key { return Key{Fingerprint: "inv", Provider: "aws", KeyID: "AKIAEXAMPLEEXAMPLE02"} },
			evs:  []Evidence{{Status: StatusActive, CreatedAt: at(tNow.AddDate(0, 0, -120))}},
			risk: RiskMedium, rec: RecRotate, overMaxAge: true,
			reasonHas: []string{"120 days old, over the maximum age of 90 days; rotation was due on 2026-05-02"},
		},
		{
			name: "inventory key within policy (no leak)",
			key:  func() Key { return Key{Fingerprint: "inv", Provider: "aws"} },
			evs:  []Evidence{{Status: StatusActive, CreatedAt: at(tNow.AddDate(0, 0, -10)), LastUsedAt: at(tNow.Add(-time.Hour))}},
			risk: RiskLow, rec: RecNone,
		},
		{
			name: "prod key over its 30-day override",
			evs: []Evidence{active(Evidence{CreatedAt: at(tNow.AddDate(0, 0, -45)), OwnerTags: map[string]string{"env": "prod"},
				Usage: usage(ev(-10, "198.51.100.7", "us-east-1"), ev(2, "198.51.100.7", "us-east-1"))})},
			risk: RiskHigh, rec: RecRotate, usedAfter: true, overMaxAge: true,
			reasonHas: []string{"over the maximum age of 30 days"},
		},
		{
			name: "denied calls and minted sessions after the leak",
			evs: []Evidence{active(Evidence{Usage: usage(
				ev(-10, "198.51.100.7", "us-east-1"),
				Event{Time: tLeak.Add(time.Hour), AccessKeyID: "AKIAEXAMPLEEXAMPLE01", Name: "GetSessionToken", SourceIP: "198.51.100.7", Region: "us-east-1", MintedKeyID: "ASIAEXAMPLEEXAMPLE99"},
				Event{Time: tLeak.Add(2 * time.Hour), AccessKeyID: "ASIAEXAMPLEEXAMPLE99", Name: "ListUsers", SourceIP: "198.51.100.7", Region: "us-east-1", ErrorCode: "AccessDenied"})})},
			risk: RiskHigh, rec: RecRotate, usedAfter: true,
			reasonHas: []string{"1 call(s) after the leak were denied", "1 set(s) of temporary credentials"},
		},
		{
			name: "quarantined and admin are explained",
			evs:  []Evidence{active(Evidence{Quarantined: true, Admin: true})},
			risk: RiskHigh, rec: RecRotate,
			reasonHas: []string{"quarantine policy", "administrator"},
		},
		{
			name: "leak time assumed is said",
			key: func() Key {
				k := leakedKey()
				k.LeakedAtSource = LeakedAtAssumed
				return k
			},
			evs:  []Evidence{active(Evidence{})},
			risk: RiskHigh, rec: RecRotate,
			reasonHas: []string{"assumed"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := leakedKey()
			if c.key != nil {
				k = c.key()
			}
			got := Assess(k, c.evs, Policy{Overrides: []PolicyOverride{{Tag: "env=prod", MaxAgeDays: 30}}}, tNow)
			if got.Risk != c.risk || got.Recommendation != c.rec {
				t.Errorf("verdict %s/%s, want %s/%s; reasons: %q", got.Risk, got.Recommendation, c.risk, c.rec, got.Reasons)
			}
			if got.UsedAfterLeak != c.usedAfter {
				t.Errorf("used_after_leak %v, want %v", got.UsedAfterLeak, c.usedAfter)
			}
			if got.OverMaxAge != c.overMaxAge {
				t.Errorf("over_max_age %v, want %v", got.OverMaxAge, c.overMaxAge)
			}
			all := strings.Join(got.Reasons, " | ")
			for _, want := range c.reasonHas {
				if !strings.Contains(all, want) {
					t.Errorf("reasons %q lack %q", got.Reasons, want)
				}
			}
			if len(got.Reasons) == 0 {
				t.Error("no reasons")
			}
			if got.NewSourceIPs == nil || got.NewRegions == nil || got.NewUserAgents == nil || got.Sessions == nil || got.Timeline == nil || got.LeakLocations == nil {
				t.Error("list fields must be empty lists, not null, in JSON")
			}
		})
	}
}

func TestAssessFacts(t *testing.T) {
	created := tNow.AddDate(0, 0, -100)
	u := usage(
		ev(-20, "198.51.100.7", "us-east-1"),
		ev(1, "198.51.100.7", "us-east-1"),
		Event{Time: tLeak.Add(26 * time.Hour), AccessKeyID: "AKIAEXAMPLEEXAMPLE01", Name: "GetSessionToken", SourceIP: "203.0.113.9", Region: "eu-west-3", UserAgent: "curl/8", MintedKeyID: "ASIAEXAMPLEEXAMPLE77"},
		Event{Time: tLeak.Add(27 * time.Hour), AccessKeyID: "ASIAEXAMPLEEXAMPLE77", Name: "GetObject", SourceIP: "203.0.113.9", Region: "eu-west-3", ErrorCode: "AccessDenied"},
	)
	// A second provider with a separate log: the usage adds up.
	u2 := usage(Event{Time: tLeak.Add(-time.Hour), SourceIP: "192.0.2.1"}, Event{Time: tLeak.Add(72 * time.Hour), SourceIP: "192.0.2.44", Region: "us-west-2"})
	evs := []Evidence{
		{AccountID: "123456789012", Owner: "arn:aws:iam::123456789012:user/ci", OwnerPath: "/ci/", Status: StatusActive,
			CreatedAt: &created, LastUsedAt: at(tLeak.Add(-time.Hour)), LastUsedService: "s3", Usage: u},
		{Owner: "ignored, first wins", Status: StatusUnknown, Verified: "valid", Usage: u2, Errors: []string{"bucket denied"}},
	}
	k := Assess(leakedKey(), evs, DefaultPolicy(), tNow)

	if k.Owner != "arn:aws:iam::123456789012:user/ci" || k.AccountID != "123456789012" || k.Status != StatusActive || k.Verified != "valid" {
		t.Errorf("identity merged wrongly: %+v", k)
	}
	if k.AgeDays == nil || *k.AgeDays != 100 || !k.OverMaxAge || k.MaxAgeDays != 90 {
		t.Errorf("age: %v over=%v max=%d", k.AgeDays, k.OverMaxAge, k.MaxAgeDays)
	}
	if want := created.AddDate(0, 0, 90); k.RotationDue == nil || !k.RotationDue.Equal(want) {
		t.Errorf("rotation_due %v, want %v", k.RotationDue, want)
	}
	if k.EventsAfterLeak != 4 || k.AccessDeniedAfterLeak != 1 {
		t.Errorf("events after leak %d, denied %d; want 4, 1", k.EventsAfterLeak, k.AccessDeniedAfterLeak)
	}
	if want := tLeak.Add(24 * time.Hour); k.FirstUseAfterLeak == nil || !k.FirstUseAfterLeak.Equal(want) {
		t.Errorf("first use after leak %v, want %v", k.FirstUseAfterLeak, want)
	}
	if want := tLeak.Add(72 * time.Hour); k.LastUsedAt == nil || !k.LastUsedAt.Equal(want) {
		t.Errorf("last used %v, want the latest of all evidence %v", k.LastUsedAt, want)
	}
	if !slices.Equal(k.NewSourceIPs, []string{"192.0.2.44", "203.0.113.9"}) || !slices.Equal(k.NewRegions, []string{"eu-west-3", "us-west-2"}) || !slices.Equal(k.NewUserAgents, []string{"curl/8"}) {
		t.Errorf("new places: ips %v regions %v agents %v", k.NewSourceIPs, k.NewRegions, k.NewUserAgents)
	}
	if len(k.Sessions) != 1 || k.Sessions[0].AccessKeyID != "ASIAEXAMPLEEXAMPLE77" || k.Sessions[0].Events != 1 {
		t.Errorf("sessions %+v", k.Sessions)
	}
	if !slices.Equal(k.Errors, []string{"bucket denied"}) {
		t.Errorf("errors %v", k.Errors)
	}
	if k.Risk != RiskCritical || k.Recommendation != RecRevokeNow {
		t.Errorf("verdict %s/%s", k.Risk, k.Recommendation)
	}
	if !strings.Contains(strings.Join(k.Reasons, " "), "Some evidence is missing: bucket denied") {
		t.Errorf("reasons %q do not mention the missing evidence", k.Reasons)
	}

	var kinds []string
	for i, e := range k.Timeline {
		kinds = append(kinds, e.Kind)
		if i > 0 && e.Time.Before(k.Timeline[i-1].Time) {
			t.Errorf("timeline out of order at %d: %v", i, k.Timeline)
		}
	}
	want := []string{"created", "leaked", "first-use-after-leak", "new-ip", "session-minted", "denied", "new-ip", "last-used", "rotation-due"}
	if !slices.Equal(kinds, want) {
		t.Errorf("timeline kinds\n got %v\nwant %v", kinds, want)
	}
	for _, e := range k.Timeline {
		if e.Kind == "leaked" && !strings.Contains(e.Detail, "config.py:3") {
			t.Errorf("leaked detail %q lacks the location", e.Detail)
		}
	}
}

func TestAssessWarnsBeforeRotationDue(t *testing.T) {
	created := tNow.AddDate(0, 0, -85) // due in 5 days, within the 14-day warning
	k := Assess(leakedKey(), []Evidence{{Status: StatusActive, CreatedAt: &created}}, DefaultPolicy(), tNow)
	if k.OverMaxAge || !strings.Contains(strings.Join(k.Reasons, " "), "Rotation is due on 2026-06-06") {
		t.Errorf("want a rotation warning, got over=%v reasons %q", k.OverMaxAge, k.Reasons)
	}
	created = tNow.AddDate(0, 0, -10)
	k = Assess(leakedKey(), []Evidence{{Status: StatusActive, CreatedAt: &created}}, DefaultPolicy(), tNow)
	if strings.Contains(strings.Join(k.Reasons, " "), "Rotation is due") {
		t.Errorf("no warning expected 80 days ahead: %q", k.Reasons)
	}
}

func TestAssessUnusedDays(t *testing.T) {
	last := tNow.AddDate(0, 0, -200)
	k := Assess(leakedKey(), []Evidence{{Status: StatusActive, LastUsedAt: &last}}, Policy{UnusedDays: 60}, tNow)
	if !strings.Contains(strings.Join(k.Reasons, " "), "has not been used for 200 days (policy: unused after 60)") {
		t.Errorf("reasons %q", k.Reasons)
	}
}
