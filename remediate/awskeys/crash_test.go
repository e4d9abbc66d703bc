package awskeys_test

import (
	"bufio"
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
	"syscall"
	"testing"
	"time"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/awskeys"
	"github.com/keytrail/keytrail/remediate/distribute"
)

// callCrashEnv makes the test binary a child that rotates (or drills)
// and SIGKILLs itself at the KillAt-th journaled point: every step's
// intent and end, and before and after every external call.
const callCrashEnv = "KEYTRAIL_AWSKEYS_CALL_CRASH_CHILD"

type callCrashSpec struct {
	URL, User, OldID, SecretName, Journal string
	Mode                                  string // rotate, drill
	Distribute                            []string
	KillAt                                int
}

const webhookSecret = "whsec-test"

func withWebhookSecret(f *fixture) {
	f.prov.Targets.Getenv = func(k string) string {
		if k == distribute.WebhookSecretEnv {
			return webhookSecret
		}
		return ""
	}
}

// crashOptions are the rotation's options in each mode: a fake clock
// makes rotate's 15-minute overlap instant; a drill runs on the wall
// clock, so its overlap is short.
func crashOptions(mode string, dist []string) remediate.Options {
	if mode == "drill" {
		// Force: this test is about crashes, and a client stalled past half
		// this short overlap on a loaded machine would stop the check
		// (TestDrill and TestNoDowntime test that the client keeps working).
		return remediate.Options{Distribute: dist, Overlap: remediate.Duration(200 * time.Millisecond), Force: true}
	}
	return remediate.Options{Distribute: dist, Overlap: remediate.Duration(remediate.DefaultOverlap), Grace: remediate.Duration(remediate.DefaultGrace)}
}

// runCrashMode runs a rotation or a drill with hook at every point.
func runCrashMode(t *testing.T, f *fixture, journal, mode string, dist []string, hook func(key int, step, point string)) {
	t.Helper()
	if mode == "drill" {
		r := f.runner(t, journal, remediate.RealClock{})
		r.Hook = hook
		d := &awskeys.Drill{Runner: r, Provider: f.prov, Interval: 10 * time.Millisecond, Plan: f.plan(t, remediate.ActionRotate, crashOptions(mode, dist))}
		rep, err := d.Run(context.Background())
		if err != nil || rep.Status != "done" {
			t.Fatalf("drill: %v %+v", err, rep)
		}
		return
	}
	r := f.runner(t, journal, remediate.NewFakeClock(time.Now()))
	r.Hook = hook
	res, err := r.Apply(context.Background(), f.plan(t, remediate.ActionRotate, crashOptions(mode, dist)))
	if err != nil || res[0].Status != "done" {
		t.Fatalf("rotation: %v %+v", err, res)
	}
}

func TestCallCrashChild(t *testing.T) {
	raw := os.Getenv(callCrashEnv)
	if raw == "" {
		t.Skip("run by TestCrashAtEveryCall")
	}
	var cs callCrashSpec
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, cs.URL)
	f.user, f.oldID, f.secretName = cs.User, cs.OldID, cs.SecretName
	withWebhookSecret(f)
	n := 0
	runCrashMode(t, f, cs.Journal, cs.Mode, cs.Distribute, func(_ int, step, point string) {
		if n++; n == cs.KillAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
	})
	t.Fatalf("the child was not killed at point %d (it passed %d)", cs.KillAt, n)
}

// delivery is one credential a write-only target received.
type delivery struct {
	Key       string `json:"idempotency_key"`
	Event     string `json:"event"`
	KeyID     string `json:"access_key_id"`
	SecretKey string `json:"secret_access_key"`
}

// receiver is a webhook target checking signatures.
type receiver struct {
	mu  sync.Mutex
	got []delivery
	bad int
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var d delivery
	json.Unmarshal(body, &d)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if r.Header.Get(distribute.SignatureHeader) != distribute.Sign([]byte(webhookSecret), body) || r.Header.Get(remediate.IdempotencyHeader) != d.Key {
		rv.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rv.got = append(rv.got, d)
}

func readDeliveries(t *testing.T, path string) []delivery {
	t.Helper()
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []delivery
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var d delivery
		if line := strings.TrimSpace(sc.Text()); line != "" && json.Unmarshal([]byte(line), &d) == nil {
			out = append(out, d)
		}
	}
	return out
}

// checkDeliveries: every credential a write-only target got came with one
// idempotency key (never re-sent under a new one), and the last one is
// the key the secret store holds.
func checkDeliveries(t *testing.T, name string, ds []delivery, storeID, storeSecret string) {
	t.Helper()
	keys := map[string]string{}
	var last delivery
	for _, d := range ds {
		if !strings.HasPrefix(d.Key, "kt-") {
			t.Fatalf("%s: a delivery without an idempotency key: %+v", name, d.KeyID)
		}
		id := d.Event + " " + d.KeyID
		if k, ok := keys[id]; ok && k != d.Key {
			t.Fatalf("%s: %s was sent again under a new idempotency key", name, id)
		}
		keys[id] = d.Key
		if d.Event == "rotate" {
			last = d
		}
	}
	if last.KeyID != storeID || last.SecretKey != storeSecret {
		t.Fatalf("%s last received %s, the secret store holds %s", name, last.KeyID, storeID)
	}
}

// TestCrashAtEveryCall kills a rotation (to Secrets Manager, an exec
// command and a webhook) and a drill at every journaled point — each
// step's intent and end, before and after each external call — with
// SIGKILL, then resumes. The end state: exactly one active key, the one
// the secret store holds and the write-only targets last received (each
// credential delivered under one idempotency key), no orphan key, no
// secret in the journal.
func TestCrashAtEveryCall(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process per call")
	}
	for _, mode := range []string{"rotate", "drill"} {
		t.Run(mode, func(t *testing.T) {
			targets := func(f *fixture, dir string, hook *httptest.Server) []string {
				d := []string{"secretsmanager:" + f.secretName}
				if mode == "rotate" {
					d = append(d, "exec:cat >> "+filepath.Join(dir, "exec.jsonl")+"; echo >> "+filepath.Join(dir, "exec.jsonl"), "webhook:"+hook.URL)
				}
				return d
			}
			// A run with no kill counts the points.
			var points []string
			{
				f := newFixture(t, "")
				withWebhookSecret(f)
				hook := httptest.NewServer(&receiver{})
				defer hook.Close()
				runCrashMode(t, f, filepath.Join(t.TempDir(), "j"), mode, targets(f, t.TempDir(), hook), func(_ int, step, point string) {
					// "before:iam:CreateAccessKey", "after:exec:", "intent"...
					name, _, _ := strings.Cut(point, "(")
					name, _, _ = strings.Cut(name, " ")
					points = append(points, step+" "+name)
				})
			}
			if len(points) < 30 {
				t.Fatalf("only %d points: %v", len(points), points)
			}
			for n := 1; n <= len(points); n++ {
				t.Run(fmt.Sprintf("%02d %s", n, points[n-1]), func(t *testing.T) {
					f := newFixture(t, "")
					withWebhookSecret(f)
					rv := &receiver{}
					hook := httptest.NewServer(rv)
					defer hook.Close()
					dir := t.TempDir()
					dist := targets(f, dir, hook)
					journal := filepath.Join(dir, "rotation.journal")
					spec, _ := json.Marshal(callCrashSpec{URL: f.s.URL, User: f.user, OldID: f.oldID, SecretName: f.secretName, Journal: journal,
						Mode: mode, Distribute: dist, KillAt: n})
					cmd := exec.Command(os.Args[0], "-test.run", "^TestCallCrashChild$", "-test.count=1")
					cmd.Env = append(os.Environ(), callCrashEnv+"="+string(spec))
					out, err := cmd.CombinedOutput()
					var ee *exec.ExitError
					if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
						t.Fatalf("child was not SIGKILLed: %v\n%s", err, out)
					}
					j, recs, err := remediate.OpenJournal(journal)
					if err != nil {
						t.Fatalf("journal after the crash: %v", err)
					}
					defer j.Close()
					var clk remediate.Clock = remediate.NewFakeClock(time.Now())
					if mode == "drill" {
						clk = remediate.RealClock{}
					}
					res, err := (&remediate.Runner{Journal: j, Providers: f.providers, Clock: clk, Wait: true}).Resume(context.Background(), recs)
					if err != nil || res[0].Status != "done" {
						t.Fatalf("resume: %v %+v", err, res)
					}
					storeID := f.assertSettled(t)
					_, storeSecret, _, _ := f.current(context.Background())
					data, _ := os.ReadFile(journal)
					for _, s := range append(f.s.IssuedSecrets(), f.oldSecret) {
						if strings.Contains(string(data), s) {
							t.Fatalf("a secret is in the journal")
						}
					}
					if mode == "rotate" {
						rv.mu.Lock()
						got, bad := rv.got, rv.bad
						rv.mu.Unlock()
						if bad > 0 {
							t.Fatalf("%d webhook deliveries with a bad signature or key", bad)
						}
						checkDeliveries(t, "webhook", got, storeID, storeSecret)
						checkDeliveries(t, "exec", readDeliveries(t, filepath.Join(dir, "exec.jsonl")), storeID, storeSecret)
					}
				})
			}
		})
	}
}
