package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

// remediate plan takes audit's sources: it scans a directory, audits the
// key it finds against the account (kumo behind awsfake, through the
// real SDK), and plans; apply then rotates that key.
func TestRemediatePlanFromSourceEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := awsfake.New(t)
	awsFakeEnv(t, s)
	if err := s.CreateUser(ctx, "plan-app", "/svc/", nil); err != nil {
		t.Fatal(err)
	}
	// A format-exact key (kumo's ids are not), seeded in the account.
	id, secret := fakeAWSPair(301)
	s.AddAccessKey("plan-app", id, time.Now().AddDate(0, 0, -10), "Active")
	sm := secretsmanager.NewFromConfig(s.Config())
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("plan/app"),
		SecretString: aws.String(`{"AccessKeyId":"` + id + `","SecretAccessKey":"` + secret + `"}`)}); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	write(t, filepath.Join(src, "deploy", "creds.env"), "AWS_ACCESS_KEY_ID="+id+"\nAWS_SECRET_ACCESS_KEY="+secret+"\n")
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")

	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"dir", "", []string{"remediate", "plan", "dir", src, "--aws", "--distribute", "secretsmanager:plan/app", "--overlap", "1s", "--grace", "0s", "-o", plan}},
		{"stdin", "AWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\n", []string{"remediate", "plan", "stdin", "--aws", "--distribute", "secretsmanager:plan/app", "--overlap", "1s", "--grace", "0s", "-o", plan}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runAuditCLI(t, []auditProvider{&awsProvider{}}, tc.stdin, tc.args...)
			if r.code != 0 {
				t.Fatalf("plan %s: exit %d\n%s\n%s", tc.name, r.code, r.stdout, r.stderr)
			}
			data, err := os.ReadFile(plan)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data)+r.stdout+r.stderr, secret) {
				t.Fatal("the plan or the output holds the secret")
			}
			var p struct {
				Source string
				Keys   []struct {
					KeyID        string `json:"key_id"`
					User, Action string
					Options      struct{ Overlap, Grace string }
					Steps        []struct{ ID string }
				}
			}
			if err := json.Unmarshal(data, &p); err != nil {
				t.Fatal(err)
			}
			var acting []string
			for _, k := range p.Keys {
				if k.Action == "none" {
					continue
				}
				acting = append(acting, k.Action+" "+k.KeyID+" of "+k.User)
				// The audit found the owner in the account: the plan can rotate.
				if k.KeyID != id || k.User != "plan-app" || k.Action != "rotate" || len(k.Steps) != 9 || k.Options.Overlap != "1s" {
					t.Errorf("key plan %+v", k)
				}
			}
			if len(acting) != 1 || !strings.Contains(p.Source, tc.name) {
				t.Fatalf("source %q, acting keys %v\n%s", p.Source, acting, data)
			}
		})
	}

	// The plan runs: the key found in the directory is rotated.
	r := run(t, "", "remediate", "apply", plan, "--yes", "--journal", filepath.Join(dir, "j"))
	if r.code != 0 || !strings.Contains(r.stdout, "rotate "+id+": done") {
		t.Fatalf("apply: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	out, err := iam.NewFromConfig(s.Config()).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("plan-app")})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("plan/app")})
	if err != nil {
		t.Fatal(err)
	}
	ks := out.AccessKeyMetadata
	if len(ks) != 1 || aws.ToString(ks[0].AccessKeyId) == id || ks[0].Status != iamtypes.StatusTypeActive ||
		!strings.Contains(aws.ToString(cur.SecretString), aws.ToString(ks[0].AccessKeyId)) {
		t.Fatalf("after apply: %+v, store %s", ks, aws.ToString(cur.VersionId))
	}

	// Bad input is named and nothing is planned from it.
	r = runAuditCLI(t, []auditProvider{&awsProvider{}}, "", "remediate", "plan", "dir", filepath.Join(dir, "missing"))
	if r.code != 2 || !strings.Contains(r.stderr, "missing") {
		t.Fatalf("missing dir: %d %s", r.code, r.stderr)
	}
}
