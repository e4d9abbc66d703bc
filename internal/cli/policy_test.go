package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "keytrail.toml")
	write(t, cfg, `[policy]
max_age_days = 90
overlap = "30m"

[[policy.override]]
path = "/prod/"
max_age_days = 30
overlap = "2h"
grace = "72h"
`)
	now := time.Now().UTC()
	key := func(id, path string, ageDays int, rec string) string {
		created := now.AddDate(0, 0, -ageDays).Format(time.RFC3339)
		return fmt.Sprintf(`{"fingerprint":%q,"provider":"aws","key_id":%q,"owner":"arn:aws:iam::123456789012:user%sapp","owner_path":%q,"status":"active","created_at":%q,"last_used_at":%q,"recommendation":%q,"risk":"low","reasons":[]}`,
			id, id, path, path, created, now.Format(time.RFC3339), rec)
	}
	in := filepath.Join(dir, "audit.json")
	write(t, in, `{"keys":[`+strings.Join([]string{
		key("AKIAQYLPMN5HFAKE0001", "/", 100, "rotate"),
		key("AKIAQYLPMN5HFAKE0002", "/prod/", 40, "rotate"),
		key("AKIAQYLPMN5HFAKE0003", "/", 10, "none"),
		key("AKIAQYLPMN5HFAKE0004", "/", 5, "revoke-now"),
		key("AKIAQYLPMN5HFAKE0005", "/", 80, "none"),
	}, ",")+`]}`)
	r := run(t, "", "policy", "check", "--from", in, "--config", cfg, "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (keys due): %s", r.code, r.stderr)
	}
	var out struct {
		Keys []policyVerdict
		Due  int
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	want := []string{"due rotate 30m0s 24h0m0s", "due rotate 2h0m0s 72h0m0s", "ok none  ", "ok revoke  ", "soon none  "}
	for i, v := range out.Keys {
		if got := strings.Join([]string{v.State, v.Action, v.Overlap, v.Grace}, " "); got != want[i] {
			t.Errorf("key %s: %q, want %q (%s)", v.KeyID, got, want[i], v.Why)
		}
	}
	if out.Due != 3 {
		t.Errorf("due %d", out.Due)
	}
	// remediate plan takes the per-environment timings from the policy.
	r = run(t, "", "remediate", "plan", "--from", in, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, `"overlap": "2h0m0s"`) || !strings.Contains(r.stdout, `"grace": "72h0m0s"`) {
		t.Fatalf("plan: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "policy", "check", "--from", in, "--config", cfg)
	if !strings.Contains(r.stdout, "AKIAQYLPMN5HFAKE0002") || !strings.Contains(r.stdout, "5 key(s), 3 need action") {
		t.Errorf("text:\n%s", r.stdout)
	}
}
