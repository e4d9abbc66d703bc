package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

// awsFakeEnv aims the standard credential chain at the fake.
func awsFakeEnv(t *testing.T, f *awsfake.Server) {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	for _, kv := range f.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

func TestAuditAWSAgainstEmulator(t *testing.T) {
	ctx := context.Background()
	f := awsfake.New(t)
	awsFakeEnv(t, f)
	id, secret := fakeAWSPair(90)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "deploy.env"), "aws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n")
	leaked := time.Now().UTC().AddDate(0, 0, -10).Truncate(time.Second)
	if err := f.CreateUser(ctx, "deploy", "/ci/", nil); err != nil {
		t.Fatal(err)
	}
	f.AddAccessKey("deploy", id, time.Now().UTC().AddDate(0, 0, -120), "Active")
	f.SetKeyLastUsed(id, leaked.Add(72*time.Hour), "ec2", "sa-east-1")
	trail := t.TempDir()
	recs := []awsfake.Record{
		awsfake.Use("deploy", id, leaked.Add(-5*24*time.Hour), "s3.amazonaws.com", "ListBuckets", "us-east-1", "198.51.100.10", "aws-cli/2"),
		awsfake.Use("deploy", id, leaked.Add(72*time.Hour), "ec2.amazonaws.com", "RunInstances", "sa-east-1", "203.0.113.66", "python-requests/2.31"),
	}
	if err := awsfake.WriteTrailFile(filepath.Join(trail, "AWSLogs", awsfake.AccountID, "CloudTrail", "us-east-1", "a.json.gz"), recs); err != nil {
		t.Fatal(err)
	}
	sqlPath := filepath.Join(t.TempDir(), "audit.sql")
	r := runAuditCLI(t, []auditProvider{&awsProvider{}}, "", "audit", "dir", dir, "--aws", "--cloudtrail", trail,
		"--leaked-at", leaked.Format(time.RFC3339), "--athena-sql", sqlPath, "--format", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	k := keyByProvider(t, parseAudit(t, r.stdout), "aws")
	if k.KeyID != id || k.AccountID != awsfake.AccountID || k.Owner != "arn:aws:iam::123456789012:user/ci/deploy" || k.Status != "active" ||
		k.Risk != "critical" || k.Recommendation != "revoke-now" || !slices.Equal(k.NewSourceIPs, []string{"203.0.113.66"}) ||
		!slices.Equal(k.NewRegions, []string{"sa-east-1"}) || k.EventsAfterLeak != 1 || k.AgeDays == nil || *k.AgeDays != 120 || !k.OverMaxAge {
		t.Errorf("key: %+v", k)
	}
	sql, err := os.ReadFile(sqlPath)
	if err != nil || !strings.Contains(string(sql), "('"+id+"'") {
		t.Errorf("athena sql: %v %.200s", err, sql)
	}
	for _, s := range []string{secret, secret[5:25], awsfake.AuditorSecret, awsfake.AuditorKeyID} {
		if strings.Contains(r.stdout+r.stderr+string(sql), s) {
			t.Errorf("output holds a secret or the auditor's credential")
		}
	}

	// A damaged trail file is named, the rest still audited, exit 2.
	if err := os.WriteFile(filepath.Join(trail, "cut.json.gz"), []byte{0x1f, 0x8b, 8, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runAuditCLI(t, []auditProvider{&awsProvider{}}, "", "audit", "dir", dir, "--cloudtrail", trail,
		"--leaked-at", leaked.Format(time.RFC3339), "--format", "json")
	if r.code != ExitError || !strings.Contains(r.stderr, "cut.json.gz") {
		t.Fatalf("damaged trail: exit %d stderr %s", r.code, r.stderr)
	}
	if k := keyByProvider(t, parseAudit(t, r.stdout), "aws"); k.EventsAfterLeak != 1 {
		t.Errorf("the good file was not read: %+v", k)
	}
}

func TestAuditAWSMissingCredentials(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")
	id, secret := fakeAWSPair(91)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "k.env"), "aws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n")
	r := runAuditCLI(t, []auditProvider{&awsProvider{}}, "", "audit", "dir", dir, "--aws", "--format", "json")
	if r.code != ExitError || !strings.Contains(r.stderr, "AWS_PROFILE") || !strings.Contains(r.stderr, "--profile") {
		t.Fatalf("exit %d stderr %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Error("secret in output")
	}
}

func TestAuditAWSKeys(t *testing.T) {
	ctx := context.Background()
	f := awsfake.New(t)
	awsFakeEnv(t, f)
	if err := f.CreateUser(ctx, "ci", "/", nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	f.AddAccessKey("ci", "AKIAQYLPMN5HCLIOLD01", now.AddDate(0, 0, -200), "Active")
	f.SetKeyLastUsed("AKIAQYLPMN5HCLIOLD01", now.AddDate(0, 0, -1), "s3", "eu-west-1")
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".keytrail.toml"), "[policy]\nmax_age_days = 365\n")
	t.Chdir(dir)
	r := runAuditCLI(t, []auditProvider{&awsProvider{}}, "", "audit", "aws-keys")
	if r.code != ExitClean || !strings.Contains(r.stdout, "AKIAQYLPMN5HCLIOLD01") || !strings.Contains(r.stdout, "0 breaking the policy") {
		t.Fatalf("under a 365-day policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f.SetRootKeys(awsfake.RootKeys{Key1Active: true, Key1LastRotated: now.AddDate(0, 0, -10)})
	write(t, filepath.Join(dir, ".keytrail.toml"), "[policy]\nmax_age_days = 90\n")
	r = runAuditCLI(t, []auditProvider{&awsProvider{}}, "", "audit", "aws-keys", "--format", "json")
	if r.code != ExitFindings {
		t.Fatalf("over 90 days and a root key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{`"over-max-age"`, `"root-key"`, `"<root_account>"`, `"rotation_due"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("json lacks %s", want)
		}
	}
	if strings.Contains(r.stdout+r.stderr, awsfake.AuditorSecret) {
		t.Error("auditor credential in output")
	}
}
