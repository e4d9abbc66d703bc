package awsaudit

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

const (
	aliceKey   = "AKIAQYLPMN5HALICE001"
	bobKey     = "AKIAQYLPMN5HBOB00002"
	carolGone  = "AKIAQYLPMN5HCAROL003"
	daveKey    = "AKIAQYLPMN5HDAVE0004"
	erinKey    = "AKIAQYLPMN5HERIN0005"
	foreignKey = "AKIAY34FZKBOKMUTVV7A" // encodes account 609629065308
)

var leak = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// useFake points the standard credential chain at the fake.
func useFake(t *testing.T, f *awsfake.Server) {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	for _, kv := range f.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

func seed(t *testing.T, f *awsfake.Server) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []struct {
		name, path string
		tags       map[string]string
	}{{"alice", "/prod/", map[string]string{"env": "prod"}}, {"bob", "", nil}, {"carol", "", nil}, {"dave", "", nil}, {"erin", "", nil}} {
		if err := f.CreateUser(ctx, u.name, u.path, u.tags); err != nil {
			t.Fatal(err)
		}
	}
	f.AddAccessKey("alice", aliceKey, time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), "Active")
	f.SetKeyLastUsed(aliceKey, leak.Add(48*time.Hour), "s3", "eu-central-1")
	f.AttachManagedPolicy("alice", "AWSCompromisedKeyQuarantineV2")
	f.AttachManagedPolicy("alice", "AdministratorAccess")
	f.AddAccessKey("bob", bobKey, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "Inactive")
	f.AddAccessKey("dave", daveKey, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), "Active")
	f.AddAccessKey("erin", erinKey, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), "Active")
	f.SetKeyLastUsed(erinKey, leak, "iam", "us-east-1")
	f.Inject(awsfake.Fault{Action: "ListAttachedUserPolicies", Code: "AccessDenied", Match: map[string]string{"UserName": "dave"}})
	f.Inject(awsfake.Fault{Action: "ListAccessKeys", Code: "AccessDenied", Match: map[string]string{"UserName": "erin"}})
	f.Inject(awsfake.Fault{Action: "ListUsers", Code: "Throttling", Times: 2})
}

func key(id string) audit.Key {
	return audit.Key{Fingerprint: "fp-" + id, Provider: "aws", RuleID: "aws-access-key-id", KeyID: id, LeakedAt: leak, LeakedAtSource: audit.LeakedAtCommit}
}

func TestInvestigate(t *testing.T) {
	ctx := context.Background()
	f := awsfake.New(t)
	useFake(t, f)
	seed(t, f)
	dir := t.TempDir()
	recs := []awsfake.Record{
		awsfake.Use("alice", aliceKey, leak.Add(-24*time.Hour), "s3.amazonaws.com", "ListBuckets", "us-east-1", "192.0.2.10", "aws-cli/2"),
		awsfake.Use("alice", aliceKey, leak.Add(24*time.Hour), "s3.amazonaws.com", "ListBuckets", "eu-central-1", "203.0.113.66", "curl/8"),
	}
	if err := awsfake.WriteTrailFile(filepath.Join(dir, "AWSLogs", awsfake.AccountID, "CloudTrail", "us-east-1", "2026", "03", "02", "x.json.gz"), recs); err != nil {
		t.Fatal(err)
	}
	accts, err := Connect(ctx, ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv := New(Options{Accounts: accts, CloudTrail: []string{dir}, Baseline: 90 * 24 * time.Hour})
	keys := []audit.Key{key(aliceKey), key(bobKey), key(carolGone), key(daveKey), key(erinKey), key(foreignKey),
		{Fingerprint: "fp-gh", Provider: "github", Secret: "ghp_notmine"}}
	evs, errs := inv.Investigate(ctx, keys)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if _, ok := evs["fp-gh"]; ok {
		t.Error("a GitHub key got AWS evidence")
	}
	a := evs["fp-"+aliceKey]
	if a.AccountID != awsfake.AccountID || a.Owner != "arn:aws:iam::123456789012:user/prod/alice" || a.OwnerPath != "/prod/" ||
		a.Status != "active" || !a.Quarantined || !a.Admin || a.OwnerTags["env"] != "prod" || len(a.Errors) != 0 {
		t.Errorf("alice: %+v", a)
	}
	if a.CreatedAt == nil || !a.CreatedAt.Equal(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)) || a.LastUsedAt == nil || a.LastUsedRegion != "eu-central-1" {
		t.Errorf("alice dates: %+v", a)
	}
	if s := a.Usage.Summary(); s.EventsAfterLeak != 1 || strings.Join(s.NewSourceIPs, ",") != "203.0.113.66" {
		t.Errorf("alice usage: %+v", s)
	}
	for _, tc := range []struct {
		id, status, errPart string
	}{
		{bobKey, "inactive", ""},
		// erin's keys could not be listed, so an unknown key may be hers.
		{carolGone, "unknown", "refused for 1 user(s)"},
		{daveKey, "active", "ListAttachedUserPolicies for dave: AccessDenied"},
		{erinKey, "unknown", "ListAccessKeys for erin: AccessDenied"},
		{foreignKey, "unknown", "account 609629065308, which is not audited"},
	} {
		ev := evs["fp-"+tc.id]
		if ev.Status != tc.status {
			t.Errorf("%s: status %q, want %q", tc.id, ev.Status, tc.status)
		}
		joined := strings.Join(ev.Errors, "; ")
		if tc.errPart == "" && joined != "" || !strings.Contains(joined, tc.errPart) {
			t.Errorf("%s: errors %q, want %q", tc.id, joined, tc.errPart)
		}
	}
	if n := len(f.Calls("ListUsers")); n != 3 {
		t.Errorf("ListUsers calls = %d: two throttled then one", n)
	}
	// Nothing the auditor signs with leaks into the evidence.
	b, _ := json.Marshal(evs)
	if strings.Contains(string(b), awsfake.AuditorSecret) || strings.Contains(string(b), awsfake.AuditorKeyID) {
		t.Error("auditor credential in evidence")
	}
	// The whole audit verdict for alice: used after the leak from a new IP.
	k := audit.Assess(key(aliceKey), []audit.Evidence{a}, audit.DefaultPolicy(), leak.AddDate(0, 0, 10))
	if k.Risk != "critical" || k.Recommendation != "revoke-now" {
		t.Errorf("alice verdict %s %s: %v", k.Risk, k.Recommendation, k.Reasons)
	}
}

func TestLookupEventsAndRoles(t *testing.T) {
	ctx := context.Background()
	f := awsfake.New(t)
	useFake(t, f)
	if err := f.CreateUser(ctx, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	f.AddAccessKey("alice", aliceKey, time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), "Active")
	now := time.Now().UTC()
	if err := f.AddTrailEvents(
		awsfake.Use("alice", aliceKey, now.Add(-48*time.Hour), "ec2.amazonaws.com", "DescribeInstances", "eu-west-1", "198.51.100.1", "boto3"),
		awsfake.Minted(awsfake.Use("alice", aliceKey, now.Add(-47*time.Hour), "sts.amazonaws.com", "GetSessionToken", "us-east-1", "198.51.100.1", "boto3"), "ASIAQYLPMN5HSESS0001"),
		awsfake.Use("alice", "ASIAQYLPMN5HSESS0001", now.Add(-46*time.Hour), "s3.amazonaws.com", "GetObject", "eu-west-1", "198.51.100.1", "boto3"),
	); err != nil {
		t.Fatal(err)
	}
	roles := []string{"arn:aws:iam::123456789012:role/audit-a", "arn:aws:iam::123456789012:role/audit-b"}
	accts, err := Connect(ctx, ConnectOptions{Roles: roles, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) != 2 || !strings.Contains(accts[1].Label, "audit-b") {
		t.Fatalf("accounts: %+v", accts)
	}
	inv := New(Options{Accounts: accts[:1], LookupEvents: true, Baseline: 90 * 24 * time.Hour})
	k := key(aliceKey)
	k.LeakedAt = now.Add(-72 * time.Hour)
	evs, errs := inv.Investigate(ctx, []audit.Key{k, key(carolGone)})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if st := evs["fp-"+carolGone].Status; st != "deleted" {
		t.Errorf("a key no user holds: %q, want deleted", st)
	}
	s := evs["fp-"+aliceKey].Usage.Summary()
	if s.EventsAfterLeak != 3 || len(s.Sessions) != 1 || s.Sessions[0].Events != 1 {
		t.Errorf("usage: %+v", s)
	}
	if n := len(f.Calls("AssumeRole")); n < 1 {
		t.Errorf("AssumeRole calls = %d", n)
	}
	// two keys + the session, each in two Regions.
	if n := len(f.Calls("LookupEvents")); n != 6 {
		t.Errorf("LookupEvents calls = %d, want 6", n)
	}
}

func TestMissingCredentials(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Connect(ctx, ConnectOptions{Regions: []string{"us-east-1"}})
	if err == nil || !strings.Contains(err.Error(), "AWS_PROFILE") || !strings.Contains(err.Error(), "--profile") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("err = %v", err)
	}
}

func TestIsAccessKeyID(t *testing.T) {
	for id, want := range map[string]bool{aliceKey: true, "ASIAY34FZKBOKMUTVV7A": true, "AKIA123": false, "AIDAQYLPMN5HALICE001": false, "AKIAqylpmn5halice001": false} {
		if IsAccessKeyID(id) != want {
			t.Errorf("IsAccessKeyID(%s) != %v", id, want)
		}
	}
}
