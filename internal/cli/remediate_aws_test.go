package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

// The CLI end to end against kumo through the real SDK: rotate (user
// looked up from the key), pause for grace, notify, rollback; then a
// rotation that runs to the end.
func TestRemediateRotateRollbackCLI(t *testing.T) {
	ctx := context.Background()
	s := awsfake.New(t)
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if err := s.CreateUser(ctx, "cli-app", "", nil); err != nil {
		t.Fatal(err)
	}
	oldID, oldSecret, err := s.CreateAccessKey(ctx, "cli-app")
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(s.Config())
	doc := `{"aws_access_key_id":"` + oldID + `","aws_secret_access_key":"` + oldSecret + `"}`
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("cli/app"), SecretString: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notes []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		notes = append(notes, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	current := func() string {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("cli/app")})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		json.Unmarshal([]byte(aws.ToString(out.SecretString)), &m)
		return m["aws_access_key_id"]
	}
	keys := func() []iamtypes.AccessKeyMetadata {
		out, err := iam.NewFromConfig(s.Config()).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("cli-app")})
		if err != nil {
			t.Fatal(err)
		}
		return out.AccessKeyMetadata
	}
	dir := t.TempDir()
	j1 := filepath.Join(dir, "one.journal")
	r := run(t, "", "remediate", "rotate", "--key-id", oldID, "--distribute", "secretsmanager:cli/app", "--overlap", "0s", "--grace", "1h",
		"--yes", "--journal", j1, "--notify", "webhook:"+hook.URL)
	if r.code != 0 || !strings.Contains(r.stdout, "paused") || !strings.Contains(r.stdout, "remediate resume "+j1) {
		t.Fatalf("rotate: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	t.Log(r.stdout)
	if current() == oldID || len(keys()) != 2 {
		t.Fatalf("after rotate: store %s, %d keys", current(), len(keys()))
	}
	mu.Lock()
	if len(notes) != 1 || !strings.Contains(notes[0], `"text":"keytrail remediation finished`) || strings.Contains(notes[0], oldSecret) {
		t.Errorf("notification %v", notes)
	}
	mu.Unlock()
	for _, sec := range s.IssuedSecrets() {
		if strings.Contains(r.stdout+r.stderr, sec) {
			t.Fatal("a secret in the output")
		}
	}
	r = run(t, "", "remediate", "rollback", j1, "--yes")
	if r.code != 0 || current() != oldID {
		t.Fatalf("rollback: %d %s %s; store %s", r.code, r.stdout, r.stderr, current())
	}
	if ks := keys(); len(ks) != 1 || aws.ToString(ks[0].AccessKeyId) != oldID || ks[0].Status != iamtypes.StatusTypeActive {
		t.Fatalf("after rollback: %+v", ks)
	}
	r = run(t, "", "remediate", "rotate", "--key-id", oldID, "--user", "cli-app", "--distribute", "secretsmanager:cli/app", "--overlap", "0s", "--grace", "0s",
		"--yes", "--journal", filepath.Join(dir, "two.journal"))
	if r.code != 0 || !strings.Contains(r.stdout, "rotate "+oldID+": done") {
		t.Fatalf("second rotate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if ks := keys(); len(ks) != 1 || aws.ToString(ks[0].AccessKeyId) != current() || current() == oldID {
		t.Fatalf("end state: %+v, store %s", ks, current())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "two.journal"))
	for _, sec := range s.IssuedSecrets() {
		if strings.Contains(string(data), sec) {
			t.Fatal("a secret in the journal")
		}
	}
	// Resume of a finished journal does nothing and succeeds.
	r = run(t, "", "remediate", "resume", filepath.Join(dir, "two.journal"))
	if r.code != 0 || !strings.Contains(r.stdout, ": done") {
		t.Fatalf("resume of a finished run: %d %s %s", r.code, r.stdout, r.stderr)
	}
	t.Log(r.stdout)
}

func TestRemediateDrillCLI(t *testing.T) {
	ctx := context.Background()
	s := awsfake.New(t)
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if err := s.CreateUser(ctx, "canary", "", nil); err != nil {
		t.Fatal(err)
	}
	id, secret, err := s.CreateAccessKey(ctx, "canary")
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(s.Config())
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("canary/app"),
		SecretString: aws.String(`{"AccessKeyId":"` + id + `","SecretAccessKey":"` + secret + `"}`)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rep := filepath.Join(dir, "drill.json")
	r := run(t, "", "remediate", "drill", "--key-id", id, "--distribute", "secretsmanager:canary/app", "--overlap", "1s",
		"--client-interval", "20ms", "--report", rep, "--journal", filepath.Join(dir, "drill.journal"))
	if r.code != 0 || !strings.Contains(r.stdout, "rotation drill PASSED") {
		t.Fatalf("drill: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var got struct {
		Passed      bool
		ClientCalls int `json:"client_calls"`
		Steps       []struct{ ID string }
	}
	data, err := os.ReadFile(rep)
	if err != nil || json.Unmarshal(data, &got) != nil || !got.Passed || got.ClientCalls == 0 || len(got.Steps) != 9 {
		t.Fatalf("report %s (%v)", data, err)
	}
	for _, sec := range s.IssuedSecrets() {
		if strings.Contains(string(data), sec) || strings.Contains(r.stdout, sec) {
			t.Fatal("a secret in the drill report or output")
		}
	}
}
