package distribute

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/keytrail/keytrail/internal/fakes/vaultfake"
)

// Obviously fake, format-exact AWS key pairs.
var (
	oldCred = Credential{AccessKeyID: "AKIAOLDOLDOLDOLD2345", SecretAccessKey: "oldSECRETxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx1", UserName: "app"}
	newCred = Credential{AccessKeyID: "AKIANEWNEWNEWNEW2345", SecretAccessKey: "newSECRETxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx2", UserName: "app", PreviousAccessKeyID: "AKIAOLDOLDOLDOLD2345"}
)

func TestReplaceKeyFieldsKeepsShape(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"sdk names", `{"region":"eu-west-1","AccessKeyId":"AKIAOLDOLDOLDOLD2345","SecretAccessKey":"x","n":1.50}`,
			`{"region":"eu-west-1","AccessKeyId":"AKIANEWNEWNEWNEW2345","SecretAccessKey":"newSECRETxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx2","n":1.50}`, ""},
		{"cli names", `{"aws_secret_access_key":"x","aws_access_key_id":"y","nested":{"a":[1,2]}}`,
			`{"aws_secret_access_key":"newSECRETxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx2","aws_access_key_id":"AKIANEWNEWNEWNEW2345","nested":{"a":[1,2]}}`, ""},
		{"half a pair", `{"AccessKeyId":"x","aws_secret_access_key":"y"}`, "", "neither"},
		{"not an object", `["AccessKeyId"]`, "", "not a JSON object"},
		{"not json", `AccessKeyId=1`, "", "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := replaceKeyFields(tc.in, newCred)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %s (%v)\nwant %s", got, err, tc.want)
			}
		})
	}
}

func vaultDeps(t *testing.T, s *vaultfake.Server) Deps {
	return Deps{Vault: func() (*api.Client, error) {
		cfg := api.DefaultConfig()
		cfg.Address = s.URL
		cfg.MaxRetries = 0
		c, err := api.NewClient(cfg)
		if err != nil {
			return nil, err
		}
		c.SetToken(vaultfake.Token)
		return c, nil
	}}
}

func TestVaultPutCASRestore(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		conflicts int
		wantErr   string
	}{
		{"clean write", 0, ""},
		{"a concurrent writer once", 1, ""},
		{"conflicts every time", 100, "check-and-set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := vaultfake.New()
			defer s.Close()
			s.Seed("secret", "app/aws", map[string]any{"AccessKeyId": oldCred.AccessKeyID, "SecretAccessKey": oldCred.SecretAccessKey, "owner": "team-a"})
			left := tc.conflicts
			s.BeforeWrite = func(key string) {
				if left > 0 {
					left--
					d, _ := s.Latest("secret", "app/aws")
					nd := map[string]any{}
					for k, v := range d {
						nd[k] = v
					}
					nd["owner"] = "team-b" // someone else's unrelated change
					s.Seed("secret", "app/aws", nd)
				}
			}
			tg, err := Parse("vault:secret/app/aws", vaultDeps(t, s))
			if err != nil {
				t.Fatal(err)
			}
			rc, err := tg.Put(ctx, newCred, "tok")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), newCred.SecretAccessKey) {
					t.Fatalf("err %v, want %q and no secret", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			data, ver := s.Latest("secret", "app/aws")
			if data["AccessKeyId"] != newCred.AccessKeyID || data["SecretAccessKey"] != newCred.SecretAccessKey {
				t.Fatalf("vault holds %v", data)
			}
			if tc.conflicts > 0 && data["owner"] != "team-b" {
				t.Errorf("the concurrent writer's change was lost: %v", data)
			}
			if rc["version"] != itoa(ver) {
				t.Errorf("receipt %v, latest version %d", rc, ver)
			}
			if c, err := tg.(Reader).Read(ctx); err != nil || c.AccessKeyID != newCred.AccessKeyID || c.SecretAccessKey != newCred.SecretAccessKey {
				t.Errorf("Read = %v, %v", c.AccessKeyID, err)
			}
			if h, known, err := tg.Holds(ctx, newCred.AccessKeyID); !h || !known || err != nil {
				t.Errorf("Holds(new) = %v %v %v", h, known, err)
			}
			if err := tg.Restore(ctx, rc, newCred); err != nil {
				t.Fatal(err)
			}
			data, _ = s.Latest("secret", "app/aws")
			if data["AccessKeyId"] != oldCred.AccessKeyID {
				t.Errorf("after restore vault holds %v", data["AccessKeyId"])
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestExecTargetGetsCredentialOnStdinOnly(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "got.json")
	args := filepath.Join(dir, "args")
	script := filepath.Join(dir, "hook.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$0 $*\" > "+args+"\ncat > "+out+"\n"), 0o755)
	tg, err := Parse("exec:"+script, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Put(context.Background(), newCred, "tok"); err != nil {
		t.Fatal(err)
	}
	var p payload
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &p); err != nil || p.SecretAccessKey != newCred.SecretAccessKey || p.AccessKeyID != newCred.AccessKeyID || p.Event != "rotate" {
		t.Fatalf("stdin got %s (%v)", b, err)
	}
	if a, _ := os.ReadFile(args); strings.Contains(string(a), "SECRET") {
		t.Errorf("secret in argv: %s", a)
	}
	// A failing command's output is in the error, with the secret redacted.
	bad, _ := Parse("exec:cat >&2; exit 3", Deps{})
	_, err = bad.Put(context.Background(), newCred, "tok")
	if err == nil || strings.Contains(err.Error(), newCred.SecretAccessKey) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Fatalf("error %v", err)
	}
}

func TestWebhookSignsAndRedacts(t *testing.T) {
	key := "hmac-key-for-tests"
	var got payload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(SignatureHeader) != Sign([]byte(key), body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		json.Unmarshal(body, &got)
		if got.Event == "rollback" {
			http.Error(w, "no: "+string(body), http.StatusConflict)
		}
	}))
	defer srv.Close()
	env := map[string]string{WebhookSecretEnv: key}
	deps := Deps{HTTP: srv.Client(), Getenv: func(k string) string { return env[k] }}
	tg, err := Parse("webhook:"+srv.URL, deps)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := tg.Put(context.Background(), newCred, "tok")
	if err != nil || got.SecretAccessKey != newCred.SecretAccessKey {
		t.Fatalf("put: %v %+v", err, got)
	}
	if err := tg.Restore(context.Background(), rc, newCred); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("restore error %v", err)
	}
	env[WebhookSecretEnv] = "wrong"
	if _, err := tg.Put(context.Background(), newCred, "tok"); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), newCred.SecretAccessKey) {
		t.Fatalf("bad key: %v", err)
	}
	env[WebhookSecretEnv] = ""
	if _, err := tg.Put(context.Background(), newCred, "tok"); err == nil || !strings.Contains(err.Error(), WebhookSecretEnv) {
		t.Fatalf("no key: %v", err)
	}
	for _, spec := range []string{"webhook:http://example.com/x", "webhook:ftp://localhost/", "vault:secret", "nope:x", "exec:"} {
		if _, err := Parse(spec, deps); err == nil {
			t.Errorf("Parse(%q) accepted", spec)
		}
	}
}
