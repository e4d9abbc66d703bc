package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const auditJSON = `{"generated_at":"2026-03-01T00:00:00Z","keys":[
 {"fingerprint":"f1","rule_id":"aws-access-key-id","provider":"aws","key_id":"AKIAQYLPMN5HFAKE0001","owner":"arn:aws:iam::123456789012:user/deploy/ci-bot","status":"active","risk":"critical","reasons":["used from a new IP after the leak"],"recommendation":"revoke-now","leaked_at":"2026-01-01T00:00:00Z","leaked_at_source":"commit","leak_locations":[],"used_after_leak":true,"events_after_leak":3,"new_source_ips":[],"new_regions":[],"new_user_agents":[],"access_denied_after_leak":0,"sessions":[],"over_max_age":false,"quarantined":false,"admin":false,"timeline":[]},
 {"fingerprint":"f2","rule_id":"aws-access-key-id","provider":"aws","key_id":"AKIAQYLPMN5HFAKE0002","owner":"arn:aws:iam::123456789012:user/app","status":"active","risk":"medium","reasons":["older than 90 days"],"recommendation":"rotate","leaked_at":"2026-01-01T00:00:00Z","leaked_at_source":"commit","leak_locations":[],"used_after_leak":false,"events_after_leak":0,"new_source_ips":[],"new_regions":[],"new_user_agents":[],"access_denied_after_leak":0,"sessions":[],"over_max_age":true,"quarantined":false,"admin":false,"timeline":[]},
 {"fingerprint":"f3","rule_id":"github-pat","provider":"github","hint":"ghp_…abcd","owner":"octocat","status":"active","risk":"high","reasons":[],"recommendation":"revoke-now","leaked_at":"2026-01-01T00:00:00Z","leaked_at_source":"commit","leak_locations":[],"used_after_leak":false,"events_after_leak":0,"new_source_ips":[],"new_regions":[],"new_user_agents":[],"access_denied_after_leak":0,"sessions":[],"over_max_age":false,"quarantined":false,"admin":false,"timeline":[]}
],"summary":{}}`

func TestRemediatePlanFromAuditAndDryRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "audit.json")
	write(t, in, auditJSON)
	plan := filepath.Join(dir, "plan.json")
	r := run(t, "", "remediate", "plan", "--from", in, "--distribute", "secretsmanager:prod/app", "--overlap", "20m", "-o", plan)
	if r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(plan); fi.Mode().Perm() != 0o600 {
		t.Errorf("plan mode %v", fi.Mode().Perm())
	}
	var p struct {
		Keys []struct {
			KeyID, User, Action, Reason string
			Options                     map[string]any
			Steps                       []struct{ ID string }
		}
	}
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, k := range p.Keys {
		ids := []string{}
		for _, s := range k.Steps {
			ids = append(ids, s.ID)
		}
		got = append(got, k.Action+"("+k.User+"):"+strings.Join(ids, ","))
	}
	want := []string{
		"revoke(ci-bot):deactivate",
		"rotate(app):preflight,create-key,validate,distribute-1,overlap,usage-shift,deactivate,grace,delete-old",
		"none():",
	}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("plan keys\n got %v\nwant %v", got, want)
	}
	// A GitHub token the audit saw only redacted cannot be matched at apply.
	if !strings.Contains(p.Keys[2].Reason, "did not see the token itself") {
		t.Errorf("github key reason %q", p.Keys[2].Reason)
	}
	if p.Keys[1].Options["overlap"] != "20m0s" {
		t.Errorf("overlap %v", p.Keys[1].Options["overlap"])
	}

	// The same plan from stdin (keytrail audit ... -f json | keytrail remediate plan --from -).
	if r := run(t, auditJSON, "remediate", "plan", "--from", "-", "--distribute", "secretsmanager:prod/app"); r.code != 0 || !strings.Contains(r.stdout, `"user": "ci-bot"`) {
		t.Fatalf("plan from stdin: %d %s", r.code, r.stderr)
	}

	// --dry-run prints every API call and makes none (no AWS here at all).
	r = run(t, "", "remediate", "apply", plan, "--dry-run")
	if r.code != 0 {
		t.Fatalf("dry run: %d %s", r.code, r.stderr)
	}
	for _, c := range []string{"iam:UpdateAccessKey(UserName=ci-bot, AccessKeyId=AKIAQYLPMN5HFAKE0001, Status=Inactive)",
		"iam:CreateAccessKey(UserName=app)", "secretsmanager:PutSecretValue(SecretId=prod/app, VersionStages=[AWSPENDING])",
		"iam:DeleteAccessKey(UserName=app, AccessKeyId=AKIAQYLPMN5HFAKE0002)", "dry run: no call was made"} {
		if !strings.Contains(r.stdout, c) {
			t.Errorf("dry run output lacks %q:\n%s", c, r.stdout)
		}
	}

	// Not confirmed: nothing runs, no journal.
	jdir := filepath.Join(dir, "j")
	r = run(t, "no\n", "remediate", "apply", plan, "--journal", filepath.Join(jdir, "x.journal"))
	if r.code != 2 || !strings.Contains(r.stdout, "not confirmed") {
		t.Fatalf("unconfirmed apply: %d %s", r.code, r.stdout)
	}
	if _, err := os.Stat(jdir); !os.IsNotExist(err) {
		t.Error("a journal was created without confirmation")
	}

	// A hand-edited invalid plan is refused with its line.
	bad := strings.Replace(string(data), `"id": "usage-shift"`, `"id": "skip-checks"`, 1)
	write(t, plan, bad)
	r = run(t, "", "remediate", "apply", plan, "--dry-run")
	line := strings.Count(bad[:strings.Index(bad, "skip-checks")], "\n") + 1
	if r.code != 2 || !strings.Contains(r.stderr, "plan.json: line "+itoa(line)+":") || !strings.Contains(r.stderr, `"skip-checks"`) {
		t.Fatalf("bad plan: %d %s (want line %d)", r.code, r.stderr, line)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestRemediateBadInputs(t *testing.T) {
	dir := t.TempDir()
	notAudit := filepath.Join(dir, "x.json")
	write(t, notAudit, `{"findings":[]}`)
	broken := filepath.Join(dir, "b.json")
	write(t, broken, "{\n\"keys\": [\n}")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"remediate", "plan"}, "--from"},
		{[]string{"remediate", "plan", "--from", notAudit}, `no "keys" array`},
		{[]string{"remediate", "plan", "--from", broken}, "line 3"},
		{[]string{"remediate", "plan", "--from", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"remediate", "rotate", "--key-id", "AKIAQYLPMN5HFAKE0002", "--user", "app", "--distribute", "ftp:x", "--dry-run"}, "unknown target"},
		{[]string{"remediate", "rotate", "--key-id", "ghp_x", "--user", "app", "--dry-run"}, "not an IAM user access key id"},
		{[]string{"remediate", "resume", filepath.Join(dir, "b.json")}, "record 1"},
	}
	for _, tc := range tests {
		r := run(t, "", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// A provider keytrail cannot revoke goes to the hook .keytrail.toml
// names for its rule or provider, with the key's identity only.
func TestRemediateHookForOtherProviders(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "hook.json")
	cfg := filepath.Join(dir, "keytrail.toml")
	write(t, cfg, "[[remediate.hook]]\nprovider = \"slack\"\nrevoke = \"exec:cat > "+got+"\"\n")
	in := filepath.Join(dir, "audit.json")
	write(t, in, `{"keys":[{"fingerprint":"fp-slack","rule_id":"slack-bot-token","provider":"slack","hint":"xoxb-…wxyz","secret_sha256":"c2hhMjU2LW9mLXRoZS10b2tlbg==","status":"active","risk":"high","reasons":["leaked in a public repo"],"recommendation":"revoke-now"},
	 {"fingerprint":"fp-stripe","rule_id":"stripe-key","provider":"stripe","hint":"sk_live_…abcd","status":"active","risk":"high","reasons":[],"recommendation":"revoke-now"}]}`)
	plan := filepath.Join(dir, "plan.json")
	if r := run(t, "", "remediate", "plan", "--from", in, "--config", cfg, "-o", plan); r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	r := run(t, "", "remediate", "apply", plan, "--config", cfg, "--yes", "--journal", filepath.Join(dir, "j"))
	if r.code != 0 || !strings.Contains(r.stdout, "revoke xoxb-…wxyz: done") || !strings.Contains(r.stdout, "none sk_live_…abcd: skipped") {
		t.Fatalf("apply: %d %s %s", r.code, r.stdout, r.stderr)
	}
	var ev map[string]string
	data, _ := os.ReadFile(got)
	if err := json.Unmarshal(data, &ev); err != nil || ev["event"] != "revoke" || ev["secret_sha256"] != "c2hhMjU2LW9mLXRoZS10b2tlbg==" || ev["rule_id"] != "slack-bot-token" {
		t.Fatalf("hook got %s (%v)", data, err)
	}
	// A bad hook in the config is named.
	write(t, cfg, "[[remediate.hook]]\nprovider = \"slack\"\nrevoke = \"ftp://x\"\n")
	if r := run(t, "", "remediate", "plan", "--from", in, "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "remediate.hook[0].revoke") {
		t.Fatalf("bad hook: %d %s", r.code, r.stderr)
	}
}

// Notifications are journaled: a resume does not post one already
// delivered, and re-posts one whose delivery the journal never saw with
// the same Idempotency-Key.
func TestRemediateNotifyJournaled(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct {
			Key string `json:"idempotency_key"`
		}
		json.NewDecoder(r.Body).Decode(&n)
		mu.Lock()
		defer mu.Unlock()
		if n.Key == "" || n.Key != r.Header.Get("Idempotency-Key") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		keys = append(keys, n.Key)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "keytrail.toml")
	write(t, cfg, "[[remediate.hook]]\nprovider = \"slack\"\nrevoke = \"exec:cat > /dev/null\"\n")
	in := filepath.Join(dir, "audit.json")
	write(t, in, `{"keys":[{"fingerprint":"fp-slack","rule_id":"slack-bot-token","provider":"slack","hint":"xoxb-…wxyz","secret_sha256":"c2hh","status":"active","risk":"high","reasons":[],"recommendation":"revoke-now"}]}`)
	plan := filepath.Join(dir, "plan.json")
	if r := run(t, "", "remediate", "plan", "--from", in, "--config", cfg, "-o", plan); r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	journal := filepath.Join(dir, "j")
	if r := run(t, "", "remediate", "apply", plan, "--config", cfg, "--yes", "--journal", journal, "--notify", "webhook:"+srv.URL); r.code != 0 || len(keys) != 1 {
		t.Fatalf("apply: %d %s %s; %d notifications", r.code, r.stdout, r.stderr, len(keys))
	}
	r := run(t, "", "remediate", "resume", journal, "--config", cfg, "--notify", "webhook:"+srv.URL)
	if r.code != 0 || len(keys) != 1 || !strings.Contains(r.stdout, "already delivered") {
		t.Fatalf("resume after delivery: %d %s; %d notifications", r.code, r.stdout, len(keys))
	}
	// As if killed between the post and its outcome record.
	data, _ := os.ReadFile(journal)
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	if !strings.Contains(lines[len(lines)-1], `"kind":"outcome","step":"notify"`) {
		t.Fatalf("last record %s", lines[len(lines)-1])
	}
	write(t, journal, strings.Join(lines[:len(lines)-1], ""))
	r = run(t, "", "remediate", "resume", journal, "--config", cfg, "--notify", "webhook:"+srv.URL)
	if r.code != 0 || len(keys) != 2 || keys[1] != keys[0] {
		t.Fatalf("resume after a lost outcome: %d %s %s; keys %v", r.code, r.stdout, r.stderr, keys)
	}
}
