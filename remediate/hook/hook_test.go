package hook

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
	"time"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/distribute"
)

// receiver is a revocation webhook that dedups by Idempotency-Key, as
// the README asks receivers to.
type receiver struct {
	mu       sync.Mutex
	requests []string // the key of each request
	revoked  map[string]int
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		Key   string `json:"idempotency_key"`
		KeyID string `json:"key_id"`
	}
	json.Unmarshal(body, &ev)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if r.Header.Get(distribute.SignatureHeader) != distribute.Sign([]byte("whsec"), body) || ev.Key != r.Header.Get(remediate.IdempotencyHeader) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rv.requests = append(rv.requests, ev.Key)
	if rv.revoked == nil {
		rv.revoked = map[string]int{}
	}
	rv.revoked[ev.Key+" "+ev.KeyID]++
}

// A run killed at the hook call is resumed: before the call, resume
// makes it; after it, resume re-sends it with the same Idempotency-Key
// (header and JSON field, under the signature), so the receiver revokes
// once.
func TestHookResentWithSameKeyOnResume(t *testing.T) {
	for _, die := range []string{"", "before:", "after:"} {
		t.Run(die, func(t *testing.T) {
			rv := &receiver{}
			srv := httptest.NewServer(rv)
			defer srv.Close()
			deps := distribute.Deps{Getenv: func(k string) string {
				if k == distribute.WebhookSecretEnv {
					return "whsec"
				}
				return ""
			}}
			provs := map[string]remediate.Provider{remediate.HookProvider: &Provider{Deps: deps}}
			p := &remediate.Plan{Version: remediate.PlanVersion, Keys: []remediate.KeyPlan{{Provider: "slack", KeyID: "xoxb-…wxyz", SecretSHA256: "c2hh",
				Action: remediate.ActionRevoke, Options: remediate.Options{Hook: "webhook:" + srv.URL}}}}
			if err := remediate.Fill(&p.Keys[0], remediate.Planners(provs)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "j")
			j, err := remediate.CreateJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			r := &remediate.Runner{Journal: j, Providers: provs, Clock: remediate.NewFakeClock(time.Now())}
			type died struct{}
			r.Hook = func(_ int, _, point string) {
				if die != "" && strings.HasPrefix(point, die+"webhook: POST") {
					panic(died{})
				}
			}
			func() {
				defer func() {
					if v := recover(); v != nil {
						if _, ok := v.(died); !ok {
							panic(v)
						}
					}
				}()
				r.Apply(context.Background(), p)
			}()
			j.Close()
			if die != "" {
				j2, recs, err := remediate.OpenJournal(path)
				if err != nil {
					t.Fatal(err)
				}
				res, err := (&remediate.Runner{Journal: j2, Providers: provs, Clock: remediate.RealClock{}}).Resume(context.Background(), recs)
				j2.Close()
				if err != nil || res[0].Status != "done" {
					t.Fatalf("resume: %v %+v", err, res)
				}
			}
			want := map[string]int{"": 1, "before:": 1, "after:": 2}[die]
			if len(rv.requests) != want || len(rv.revoked) != 1 {
				t.Fatalf("%d requests (want %d), %d distinct revocations (want 1): %v", len(rv.requests), want, len(rv.revoked), rv.requests)
			}
			if !strings.HasPrefix(rv.requests[0], "kt-") {
				t.Errorf("key %q", rv.requests[0])
			}
			data, _ := os.ReadFile(path)
			if !strings.Contains(string(data), `"call":"webhook: POST `+srv.URL) {
				t.Errorf("the call is not journaled: %s", data)
			}
		})
	}
}
