package awskeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/keytrail/keytrail/internal/fakes/awsfake"
	"github.com/keytrail/keytrail/internal/fakes/vaultfake"
	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/awskeys"
	"github.com/keytrail/keytrail/remediate/distribute"
)

// fixture is one IAM user with one key whose pair sits in a Secrets
// Manager secret, all in kumo behind awsfake, driven by the real SDK.
type fixture struct {
	s                 *awsfake.Server
	cfg               aws.Config
	user, secretName  string
	oldID, oldSecret  string
	iam               *iam.Client
	sm                *secretsmanager.Client
	prov              *awskeys.Provider
	providers         map[string]remediate.Provider
	secretVersionOrig string
}

var seq atomic.Int64

func fastRetry(o *retry.StandardOptions) {
	o.MaxBackoff = 20 * time.Millisecond
	o.MaxAttempts = 6
}

func newFixture(t *testing.T, url string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{}
	var cfg aws.Config
	if url == "" {
		f.s = awsfake.New(t)
		cfg = f.s.Config()
	} else {
		cfg = configFor(url)
	}
	cfg.Retryer = func() aws.Retryer { return retry.NewStandard(fastRetry) }
	f.cfg = cfg
	f.iam = iam.NewFromConfig(cfg)
	f.sm = secretsmanager.NewFromConfig(cfg)
	f.prov = &awskeys.Provider{
		IAM: func(context.Context) (awskeys.IAM, error) { return f.iam, nil },
		STSWith: func(id, secret string) awskeys.STS {
			return sts.NewFromConfig(cfg, func(o *sts.Options) { o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "") })
		},
		Targets:     distribute.Deps{SecretsManager: func(context.Context) (distribute.SecretsManagerAPI, error) { return f.sm, nil }},
		ValidateFor: 5 * time.Second,
	}
	f.providers = map[string]remediate.Provider{"aws": f.prov}
	if url != "" {
		return f
	}
	n := seq.Add(1)
	f.user = fmt.Sprintf("app-%d-%d", os.Getpid(), n)
	f.secretName = "prod/" + f.user
	if err := f.s.CreateUser(ctx, f.user, "", nil); err != nil {
		t.Fatal(err)
	}
	var err error
	f.oldID, f.oldSecret, err = f.s.CreateAccessKey(ctx, f.user)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]string{"region": "eu-west-1", "AccessKeyId": f.oldID, "SecretAccessKey": f.oldSecret})
	out, err := f.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(f.secretName), SecretString: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	f.secretVersionOrig = aws.ToString(out.VersionId)
	return f
}

func configFor(url string) aws.Config {
	return aws.Config{Region: awsfake.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.AuditorKeyID, awsfake.AuditorSecret, "")}
}

func (f *fixture) plan(t *testing.T, action string, opts remediate.Options) *remediate.Plan {
	t.Helper()
	kp := remediate.KeyPlan{Provider: "aws", KeyID: f.oldID, User: f.user, Action: action, Options: opts}
	if err := remediate.Fill(&kp, remediate.Planners(f.providers)); err != nil {
		t.Fatal(err)
	}
	return &remediate.Plan{Version: remediate.PlanVersion, Keys: []remediate.KeyPlan{kp}}
}

func (f *fixture) runner(t *testing.T, path string, clk remediate.Clock) *remediate.Runner {
	t.Helper()
	j, err := remediate.CreateJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return &remediate.Runner{Journal: j, Providers: f.providers, Clock: clk, Wait: true}
}

// current returns the key pair Secrets Manager hands out as AWSCURRENT.
func (f *fixture) current(ctx context.Context) (id, secret, version string, err error) {
	out, err := f.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.secretName)})
	if err != nil {
		return "", "", "", err
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &m); err != nil {
		return "", "", "", err
	}
	return m["AccessKeyId"], m["SecretAccessKey"], aws.ToString(out.VersionId), nil
}

func (f *fixture) whoami(ctx context.Context, id, secret string) error {
	c := sts.NewFromConfig(f.cfg, func(o *sts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
		o.Retryer = aws.NopRetryer{}
	})
	_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return err
}

func (f *fixture) keys(t *testing.T) []iamtypes.AccessKeyMetadata {
	t.Helper()
	out, err := f.iam.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(f.user)})
	if err != nil {
		t.Fatal(err)
	}
	return out.AccessKeyMetadata
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// assertSettled checks the end state every rotation must reach: exactly
// one key, active, the one Secrets Manager holds, and it works.
func (f *fixture) assertSettled(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ks := f.keys(t)
	id, secret, _, err := f.current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 1 || aws.ToString(ks[0].AccessKeyId) != id || ks[0].Status != iamtypes.StatusTypeActive {
		var got []string
		for _, k := range ks {
			got = append(got, aws.ToString(k.AccessKeyId)+"="+string(k.Status))
		}
		t.Fatalf("want exactly one active key equal to the secret store's %s; IAM has %v", id, got)
	}
	if id == f.oldID {
		t.Fatalf("the secret store still holds the old key")
	}
	if err := f.whoami(ctx, id, secret); err != nil {
		t.Fatalf("the stored key does not work: %v", err)
	}
	return id
}

// TestNoDowntime: a client fetching AWSCURRENT every few ms and calling
// STS with it never fails during a full rotation, and the old key is
// refused once deactivated.
//
// It waits on the client, never on a sleep: a loaded machine once
// starved the client past the old fixed waits (50 ms to start with the
// old key; its old-key call in flight past half the overlap). The
// rotation starts once the client has worked with the old key, and the
// overlap begins once the client has worked with the new one, so every
// use of the old key is over before the usage check. What is left to
// fail is the rotation's: a client call refused (deactivating too soon,
// a moment without AWSCURRENT, a new key STS refuses), or the old key
// still working after deactivation.
func TestNoDowntime(t *testing.T) {
	f := newFixture(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls, failures, withOld, withNew atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			id, secret, _, err := f.current(ctx)
			if err == nil {
				err = f.whoami(ctx, id, secret)
			}
			if ctx.Err() != nil {
				return
			}
			calls.Add(1)
			if err != nil {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			} else if id == f.oldID {
				withOld.Add(1)
			} else {
				withNew.Add(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// waitFor polls the client's progress; a client that makes no progress
	// in a minute fails the test rather than letting a sleep decide.
	waitFor := func(what string, n *atomic.Int64) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for n.Load() == 0 && failures.Load() == 0 {
			if time.Now().After(deadline) {
				t.Errorf("the client never %s (%d calls, %d failed: %v)", what, calls.Load(), failures.Load(), firstErr.Load())
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("worked with the old key", &withOld)
	if t.Failed() || failures.Load() > 0 {
		t.Fatalf("before the rotation: %d failed calls: %v", failures.Load(), firstErr.Load())
	}
	r := f.runner(t, filepath.Join(t.TempDir(), "j"), remediate.RealClock{})
	var oldRefused error
	r.Hook = func(_ int, step, point string) {
		switch {
		case step == "overlap" && point == "intent":
			// Every target has the new key: the overlap counts from when
			// the client picked it up.
			waitFor("picked up the new key", &withNew)
		case step == "grace" && point == "intent":
			// Deactivated, not yet deleted: the old key must be refused.
			oldRefused = f.whoami(context.Background(), f.oldID, f.oldSecret)
		}
	}
	plan := f.plan(t, remediate.ActionRotate, remediate.Options{
		Distribute: []string{"secretsmanager:" + f.secretName}, Overlap: remediate.Duration(2 * time.Second)})
	res, err := r.Apply(ctx, plan)
	if err == nil && res[0].Status == "stopped" {
		// The client was still using the old key more than half the
		// overlap after distribution (it was starved that long): the check
		// stopped, as it must. Resume, as an operator would.
		t.Logf("usage check stopped (%s); resuming", res[0].Error)
		r.Journal.Close()
		j, recs, jerr := remediate.OpenJournal(r.Journal.Path())
		if jerr != nil {
			t.Fatal(jerr)
		}
		defer j.Close()
		r = &remediate.Runner{Journal: j, Providers: f.providers, Clock: remediate.RealClock{}, Wait: true, Hook: r.Hook}
		res, err = r.Resume(ctx, recs)
	}
	if err != nil || res[0].Status != "done" {
		t.Fatalf("rotation: %v %+v", err, res)
	}
	cancel()
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d client calls failed during the rotation; first: %v", n, calls.Load(), firstErr.Load())
	}
	if withOld.Load() == 0 || withNew.Load() == 0 {
		t.Fatalf("the client made %d calls with the old key and %d with the new one; want both", withOld.Load(), withNew.Load())
	}
	if errCode(oldRefused) != "InvalidClientTokenId" {
		t.Fatalf("old key after deactivation: %v, want InvalidClientTokenId", oldRefused)
	}
	// Waiting on the client must not hide a rotation that skips its
	// overlap: both keys worked for the whole overlap.
	dist, _ := time.Parse(time.RFC3339Nano, res[0].Facts["distributed_at"])
	deact, _ := time.Parse(time.RFC3339Nano, res[0].Facts["deactivated_at"])
	if d := deact.Sub(dist); d < 2*time.Second {
		t.Fatalf("the old key was deactivated %s after distribution, before the 2s overlap ended", d)
	}
	newID := f.assertSettled(t)
	if res[0].Facts["new_key_id"] != newID {
		t.Errorf("result new key %s, store %s", res[0].Facts["new_key_id"], newID)
	}
	if err := f.whoami(context.Background(), f.oldID, f.oldSecret); errCode(err) != "InvalidClientTokenId" {
		t.Errorf("old key after deletion: %v", err)
	}
	t.Logf("%d client calls (%d with the old key, %d with the new), 0 failed", calls.Load(), withOld.Load(), withNew.Load())
}

// The zero-failure test can fail: without an overlap, a client holding
// the old key when it is deactivated gets refused.
func TestNoOverlapBreaksClients(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	id, secret, _, _ := f.current(ctx)
	r := f.runner(t, filepath.Join(t.TempDir(), "j"), remediate.RealClock{})
	res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}, Force: true}))
	if res[0].Status != "done" {
		t.Fatalf("%+v", res)
	}
	if err := f.whoami(ctx, id, secret); errCode(err) != "InvalidClientTokenId" {
		t.Fatalf("a client still holding the old key: %v, want InvalidClientTokenId", err)
	}
}

// crashEnv makes the test binary a child that rotates and SIGKILLs
// itself at one point.
const crashEnv = "KEYTRAIL_AWSKEYS_CRASH_CHILD"

type crashSpec struct {
	URL, User, OldID, SecretName, Journal, At string
}

func TestCrashChild(t *testing.T) {
	raw := os.Getenv(crashEnv)
	if raw == "" {
		t.Skip("run by TestCrashAtEveryStep")
	}
	var cs crashSpec
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, cs.URL)
	f.user, f.oldID, f.secretName = cs.User, cs.OldID, cs.SecretName
	r := f.runner(t, cs.Journal, remediate.NewFakeClock(time.Now()))
	r.Hook = func(_ int, step, point string) {
		if step+":"+point == cs.At {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
	}
	res, err := r.Apply(context.Background(), f.plan(t, remediate.ActionRotate, crashOpts(cs.SecretName)))
	t.Fatalf("the child was not killed at %s: %v %+v", cs.At, err, res)
}

func crashOpts(secretName string) remediate.Options {
	return remediate.Options{Distribute: []string{"secretsmanager:" + secretName}, Overlap: remediate.Duration(remediate.DefaultOverlap), Grace: remediate.Duration(remediate.DefaultGrace)}
}

// A run killed mid-way can be rolled back instead of resumed: the old key
// active and current again, and no key left of those the run made, even
// one whose id the journal never got.
func TestCrashThenRollback(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, at := range []string{"create-key:called", "distribute-1:called", "deactivate:called", "grace:intent"} {
		t.Run(at, func(t *testing.T) {
			f := newFixture(t, "")
			journal := filepath.Join(t.TempDir(), "rotation.journal")
			spec, _ := json.Marshal(crashSpec{URL: f.s.URL, User: f.user, OldID: f.oldID, SecretName: f.secretName, Journal: journal, At: at})
			cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnv+"="+string(spec))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not SIGKILLed: %v\n%s", err, out)
			}
			rollback(t, f, journal)
		})
	}
}

// A distribution target failing mid-way stops the run before the old key
// is touched, and rollback restores the previous state.
func TestFailedDistributionStopsAndRollsBack(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j")
	r := f.runner(t, path, remediate.NewFakeClock(time.Now()))
	res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRotate, remediate.Options{
		Distribute: []string{"secretsmanager:" + f.secretName, "exec:echo target down >&2; exit 1"}}))
	if res[0].Status != "failed" || !strings.Contains(res[0].Error, "distribute-2") || !strings.Contains(res[0].Error, "target down") {
		t.Fatalf("%+v", res[0])
	}
	if ks := f.keys(t); len(ks) != 2 {
		t.Fatalf("want old and new key, have %d", len(ks))
	}
	for _, k := range f.keys(t) {
		if k.Status != iamtypes.StatusTypeActive {
			t.Fatalf("key %s is %s: the run went past distribution", aws.ToString(k.AccessKeyId), k.Status)
		}
	}
	r.Journal.Close()
	rollback(t, f, path)
}

func rollback(t *testing.T, f *fixture, path string) {
	t.Helper()
	ctx := context.Background()
	j, recs, err := remediate.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	res, err := (&remediate.Runner{Journal: j, Providers: f.providers, Clock: remediate.RealClock{}}).Rollback(ctx, recs)
	if err != nil || res[0].Status != "rolled-back" {
		t.Fatalf("rollback: %v %+v", err, res)
	}
	id, secret, version, err := f.current(ctx)
	if err != nil || id != f.oldID || version != f.secretVersionOrig {
		t.Fatalf("AWSCURRENT after rollback: %s version %s (want %s %s) %v", id, version, f.oldID, f.secretVersionOrig, err)
	}
	ks := f.keys(t)
	if len(ks) != 1 || aws.ToString(ks[0].AccessKeyId) != f.oldID || ks[0].Status != iamtypes.StatusTypeActive {
		t.Fatalf("after rollback IAM has %+v", ks)
	}
	if err := f.whoami(ctx, id, secret); err != nil {
		t.Fatalf("old key after rollback: %v", err)
	}
}

// Rollback during the grace period reactivates the old key; after the
// old key is deleted it refuses.
func TestRollbackInGraceAndAfterDelete(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j")
	clk := remediate.NewFakeClock(time.Now())
	r := f.runner(t, path, clk)
	r.Wait = false
	res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}, Grace: remediate.Duration(time.Hour)}))
	if res[0].Status != "paused" {
		t.Fatalf("%+v", res[0])
	}
	if err := f.whoami(ctx, f.oldID, f.oldSecret); errCode(err) != "InvalidClientTokenId" {
		t.Fatalf("old key in grace: %v", err)
	}
	r.Journal.Close()
	rollback(t, f, path)

	g := newFixture(t, "")
	path2 := filepath.Join(t.TempDir(), "j")
	r2 := g.runner(t, path2, clk)
	res, _ = r2.Apply(ctx, g.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + g.secretName}}))
	if res[0].Status != "done" {
		t.Fatalf("%+v", res[0])
	}
	r2.Journal.Close()
	j, recs, _ := remediate.OpenJournal(path2)
	defer j.Close()
	res, _ = (&remediate.Runner{Journal: j, Providers: g.providers, Clock: clk}).Rollback(ctx, recs)
	if res[0].Status != "failed" || !strings.Contains(res[0].Error, "deleted") {
		t.Fatalf("rollback after delete: %+v", res[0])
	}
	g.assertSettled(t)
}

// Throttled IAM calls are retried by the SDK and the rotation completes.
func TestThrottledIAMIsRetried(t *testing.T) {
	f := newFixture(t, "")
	for _, a := range []string{"ListAccessKeys", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "GetAccessKeyLastUsed"} {
		f.s.Inject(awsfake.Fault{Action: a, Code: "Throttling", Times: 2})
	}
	before := len(f.s.Calls("CreateAccessKey"))
	r := f.runner(t, filepath.Join(t.TempDir(), "j"), remediate.NewFakeClock(time.Now()))
	res, _ := r.Apply(context.Background(), f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}}))
	if res[0].Status != "done" {
		t.Fatalf("%+v", res[0])
	}
	if n := len(f.s.Calls("CreateAccessKey")) - before; n != 3 {
		t.Errorf("CreateAccessKey reached the fake %d times, want 3 (two throttled)", n)
	}
	f.assertSettled(t)
}

func TestPreflightAndPermissions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		setup   func(f *fixture)
		opts    remediate.Options
		status  string
		wantErr string
		keys    int
	}{
		{"two keys: stop", func(f *fixture) { f.s.CreateAccessKey(ctx, f.user) }, remediate.Options{}, "stopped", "already has two access keys", 2},
		{"two keys, other active, --delete-inactive: stop", func(f *fixture) { f.s.CreateAccessKey(ctx, f.user) }, remediate.Options{DeleteInactive: true}, "stopped", "is Active", 2},
		{"two keys, other inactive, --delete-inactive: go", func(f *fixture) {
			id, _, _ := f.s.CreateAccessKey(ctx, f.user)
			f.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(f.user), AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive})
		}, remediate.Options{DeleteInactive: true}, "done", "", 1},
		{"key already gone", func(f *fixture) {
			f.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(f.user), AccessKeyId: aws.String(f.oldID)})
		}, remediate.Options{}, "failed", "no longer exists", 0},
		{"CreateAccessKey denied", func(f *fixture) {
			f.s.Inject(awsfake.Fault{Action: "CreateAccessKey", Code: "AccessDenied", Match: map[string]string{"UserName": f.user}})
		}, remediate.Options{}, "failed", `needs permission "iam:CreateAccessKey"`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "")
			tc.setup(f)
			r := f.runner(t, filepath.Join(t.TempDir(), "j"), remediate.NewFakeClock(time.Now()))
			res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}, DeleteInactive: tc.opts.DeleteInactive}))
			if res[0].Status != tc.status || !strings.Contains(res[0].Error, tc.wantErr) {
				t.Fatalf("got %s %q, want %s %q", res[0].Status, res[0].Error, tc.status, tc.wantErr)
			}
			if n := len(f.keys(t)); n != tc.keys {
				t.Errorf("user has %d keys, want %d", n, tc.keys)
			}
		})
	}
}

// The usage-shift check stops when the old key is still used after the
// clients should have moved; --force deactivates anyway.
func TestUsageShiftStopsWhileOldKeyInUse(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprint("force=", force), func(t *testing.T) {
			f := newFixture(t, "")
			ctx := context.Background()
			clk := remediate.NewFakeClock(time.Now())
			f.s.SetClock(clk.Now)
			r := f.runner(t, filepath.Join(t.TempDir(), "j"), clk)
			r.Hook = func(_ int, step, point string) {
				if step == "usage-shift" && point == "intent" {
					// A forgotten client still signs with the old key.
					f.whoami(ctx, f.oldID, f.oldSecret)
				}
			}
			res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}, Overlap: remediate.Duration(time.Minute), Force: force}))
			if force {
				if res[0].Status != "done" {
					t.Fatalf("%+v", res[0])
				}
				return
			}
			if res[0].Status != "stopped" || !strings.Contains(res[0].Error, "still in use") {
				t.Fatalf("%+v", res[0])
			}
			for _, k := range f.keys(t) {
				if k.Status != iamtypes.StatusTypeActive {
					t.Fatalf("a key was deactivated although the old one is in use")
				}
			}
		})
	}
}

// Revocation deactivates at once, denies older sessions, and leaves AWS's
// quarantine policy attached.
func TestRevoke(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	f.s.AttachManagedPolicy(f.user, "AWSCompromisedKeyQuarantineV2")
	clk := remediate.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	r := f.runner(t, filepath.Join(t.TempDir(), "j"), clk)
	d := remediate.Duration(time.Hour)
	res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRevoke, remediate.Options{RevokeSessions: true, DeleteAfter: &d}))
	if res[0].Status != "done" {
		t.Fatalf("%+v", res[0])
	}
	if len(f.keys(t)) != 0 {
		t.Fatal("key not deleted after delete-after")
	}
	doc := f.s.UserPolicy(f.user, awskeys.RevokePolicyName)
	if !strings.Contains(doc, `"aws:TokenIssueTime":"2026-03-04T05:06:07Z"`) || !strings.Contains(doc, `"DateLessThan"`) || !strings.Contains(doc, `"Deny"`) {
		t.Fatalf("inline policy %q", doc)
	}
	out, err := f.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(f.user)})
	if err != nil || len(out.AttachedPolicies) != 1 || aws.ToString(out.AttachedPolicies[0].PolicyName) != "AWSCompromisedKeyQuarantineV2" {
		t.Fatalf("quarantine policy: %+v %v", out, err)
	}
}

// A new key unknown to STS for its first calls (IAM is eventually
// consistent) is validated by retrying; one that never works fails the
// run before anything is distributed.
func TestValidateRetriesWhileIAMPropagates(t *testing.T) {
	for _, tc := range []struct {
		delay  int
		status string
	}{{3, "done"}, {1000, "failed"}} {
		t.Run(fmt.Sprint(tc.delay), func(t *testing.T) {
			f := newFixture(t, "")
			f.s.SetPropagationDelay(tc.delay)
			r := f.runner(t, filepath.Join(t.TempDir(), "j"), remediate.NewFakeClock(time.Now()))
			res, _ := r.Apply(context.Background(), f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}}))
			if res[0].Status != tc.status {
				t.Fatalf("%+v", res[0])
			}
			if tc.status == "done" {
				if res[0].Facts["validate_attempts"] != "4" {
					t.Errorf("validated after %s attempts, want 4", res[0].Facts["validate_attempts"])
				}
				return
			}
			if !strings.Contains(res[0].Error, "InvalidClientTokenId") {
				t.Errorf("error %q", res[0].Error)
			}
			if id, _, _, _ := f.current(context.Background()); id != f.oldID {
				t.Errorf("a key that never validated was distributed")
			}
		})
	}
}

// A drill rotates the canary with a client working throughout and
// reports per-step timings.
func TestDrill(t *testing.T) {
	f := newFixture(t, "")
	r := f.runner(t, filepath.Join(t.TempDir(), "j"), remediate.RealClock{})
	d := &awskeys.Drill{Runner: r, Provider: f.prov, Interval: 10 * time.Millisecond,
		Plan: f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}, Overlap: remediate.Duration(1500 * time.Millisecond)})}
	rep, err := d.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.ClientFails != 0 || rep.ClientCalls < 2 || !rep.OldKeyRefused || len(rep.Steps) != 9 {
		t.Fatalf("%+v", rep)
	}
	var overlap time.Duration
	for _, s := range rep.Steps {
		if s.ID == "overlap" {
			overlap = s.Duration
		}
	}
	if overlap < 1400*time.Millisecond {
		t.Errorf("overlap step took %s", overlap)
	}
	// The client moved to the new key, and only after the drill began.
	if rep.ClientMoved.IsZero() || !rep.ClientMoved.After(rep.Started) || !rep.ClientMoved.Before(rep.Finished) {
		t.Errorf("client moved at %v (drill %v to %v)", rep.ClientMoved, rep.Started, rep.Finished)
	}
	var b strings.Builder
	rep.WriteText(&b)
	if !strings.Contains(b.String(), "rotation drill PASSED") || !strings.Contains(b.String(), "usage-shift") || !strings.Contains(b.String(), "client moved to the new key at") {
		t.Errorf("text report:\n%s", b.String())
	}
	f.assertSettled(t)
}

// One rotation through all four kinds of target, in order, then a
// rollback that puts every readable store back.
func TestRotateToEveryTargetKindAndRollBack(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	v := vaultfake.New()
	defer v.Close()
	v.Seed("secret", "app/aws", map[string]any{"aws_access_key_id": f.oldID, "aws_secret_access_key": f.oldSecret, "team": "payments"})
	f.prov.Targets.Vault = func() (*vaultapi.Client, error) {
		cfg := vaultapi.DefaultConfig()
		cfg.Address = v.URL
		c, err := vaultapi.NewClient(cfg)
		if err == nil {
			c.SetToken(vaultfake.Token)
		}
		return c, err
	}
	dir := t.TempDir()
	execOut := filepath.Join(dir, "exec.json")
	var hookBody []byte
	var hookSigOK bool
	var hookKey string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hookBody, _ = io.ReadAll(r.Body)
		hookSigOK = r.Header.Get(distribute.SignatureHeader) == distribute.Sign([]byte("whsec"), hookBody)
		hookKey = r.Header.Get(remediate.IdempotencyHeader)
	}))
	defer hook.Close()
	f.prov.Targets.Getenv = func(k string) string {
		if k == distribute.WebhookSecretEnv {
			return "whsec"
		}
		return ""
	}
	path := filepath.Join(dir, "j")
	r := f.runner(t, path, remediate.NewFakeClock(time.Now()))
	r.Wait = false
	res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{
		"secretsmanager:" + f.secretName, "vault:secret/app/aws", "exec:cat > " + execOut, "webhook:" + hook.URL}, Grace: remediate.Duration(time.Hour)}))
	if res[0].Status != "paused" {
		t.Fatalf("%+v", res[0])
	}
	newID := res[0].Facts["new_key_id"]
	id, secret, _, _ := f.current(ctx)
	data, _ := v.Latest("secret", "app/aws")
	var got struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Key             string `json:"idempotency_key"`
	}
	b, _ := os.ReadFile(execOut)
	json.Unmarshal(b, &got)
	var hooked struct {
		AccessKeyID string `json:"access_key_id"`
		Key         string `json:"idempotency_key"`
	}
	json.Unmarshal(hookBody, &hooked)
	// Write-only targets get an idempotency key: the webhook in the body
	// and the header, the command in its JSON; one per target.
	if !strings.HasPrefix(got.Key, "kt-") || hooked.Key != hookKey || !strings.HasPrefix(hookKey, "kt-") || hookKey == got.Key {
		t.Errorf("idempotency keys: exec %q, webhook body %q header %q", got.Key, hooked.Key, hookKey)
	}
	if id != newID || data["aws_access_key_id"] != newID || data["aws_secret_access_key"] != secret || data["team"] != "payments" ||
		got.AccessKeyID != newID || got.SecretAccessKey != secret || hooked.AccessKeyID != newID || !hookSigOK {
		t.Fatalf("targets: sm %s vault %v exec %+v webhook %s (sig %v); new %s", id, data["aws_access_key_id"], got.AccessKeyID, hooked.AccessKeyID, hookSigOK, newID)
	}
	r.Journal.Close()
	rollback(t, f, path)
	if data, _ := v.Latest("secret", "app/aws"); data["aws_access_key_id"] != f.oldID || data["aws_secret_access_key"] != f.oldSecret {
		t.Errorf("vault after rollback holds %v", data["aws_access_key_id"])
	}
	b, _ = os.ReadFile(execOut)
	if !strings.Contains(string(b), `"event":"rollback"`) || !strings.Contains(string(b), f.oldID) || strings.Contains(string(b), f.oldSecret) {
		t.Errorf("exec rollback payload %s", b)
	}
}

// After a stop at the usage-shift check, resume checks again once the
// clients had time; the old key no longer advancing, the rotation ends.
func TestUsageShiftResumeAfterClientMoved(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	clk := remediate.NewFakeClock(time.Now())
	f.s.SetClock(clk.Now)
	path := filepath.Join(t.TempDir(), "j")
	r := f.runner(t, path, clk)
	stale := true
	r.Hook = func(_ int, step, point string) {
		if step == "usage-shift" && point == "intent" && stale {
			f.whoami(ctx, f.oldID, f.oldSecret)
		}
	}
	res, _ := r.Apply(ctx, f.plan(t, remediate.ActionRotate, remediate.Options{Distribute: []string{"secretsmanager:" + f.secretName}, Overlap: remediate.Duration(time.Minute)}))
	if res[0].Status != "stopped" {
		t.Fatalf("%+v", res[0])
	}
	r.Journal.Close()
	stale = false // the forgotten client was fixed
	j, recs, err := remediate.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	before := clk.Now()
	res, _ = (&remediate.Runner{Journal: j, Providers: f.providers, Clock: clk, Wait: true}).Resume(ctx, recs)
	if res[0].Status != "done" {
		t.Fatalf("resume: %+v", res[0])
	}
	if clk.Now().Sub(before) < 30*time.Second {
		t.Errorf("resume re-checked after %s, want at least half the overlap", clk.Now().Sub(before))
	}
	f.assertSettled(t)
}
