package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/remediate/ghrevoke"
)

func TestRemediateRevokeGitHub(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/credentials/revoke" || r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var body struct{ Credentials []string }
		json.NewDecoder(r.Body).Decode(&body)
		got = append(got, body.Credentials...)
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	t1, t2 := ghToken(11), ghToken(12)
	in := filepath.Join(dir, "findings.json")
	write(t, in, `[{"rule_id":"github-pat","secret":"`+t1+`"},{"secret":"`+t2+`"},{"secret":"`+t1+`"}]`)
	journal := filepath.Join(dir, "gh.journal")
	r := run(t, "", "remediate", "revoke-github", in, "--yes", "--github-api", srv.URL, "--journal", journal)
	if r.code != 0 || !strings.Contains(r.stdout, "submitted 2 token(s) in 1 request(s)") {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
	if len(got) != 2 || got[0] != t1 || got[1] != t2 {
		t.Fatalf("server got %v", got)
	}
	data, _ := os.ReadFile(journal)
	if strings.Contains(string(data), t1[4:]) || strings.Contains(string(data), t2[4:]) || strings.Contains(r.stdout, t1[4:]) {
		t.Fatal("a token reached the journal or the output")
	}
	if !strings.Contains(string(data), `"step":"revoke-token"`) {
		t.Errorf("journal lacks the batch: %s", data)
	}
}

// A plan from an audit revokes its GitHub tokens as steps: the plan and
// journal name them by hint and hash, apply gets them from --tokens and
// sends them in one request, and resume does not send them again.
func TestRemediatePlanRevokesGitHubTokens(t *testing.T) {
	var requests int
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/credentials/revoke" || r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var body struct{ Credentials []string }
		json.NewDecoder(r.Body).Decode(&body)
		requests++
		got = append(got, body.Credentials...)
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	t1, t2 := ghToken(21), ghToken(22)
	key := func(fp, tok, rec string) string {
		return `{"fingerprint":"` + fp + `","rule_id":"github-pat","provider":"github","hint":"` + ghrevoke.Hint(tok) + `","secret_sha256":"` + ghrevoke.Hash(tok) +
			`","status":"active","risk":"critical","reasons":["leaked in a public repository"],"recommendation":"` + rec + `"}`
	}
	in := filepath.Join(dir, "audit.json")
	write(t, in, `{"keys":[`+key("f1", t1, "revoke-now")+`,`+key("f2", t2, "revoke-now")+`,`+key("f3", ghToken(23), "rotate")+`]}`)
	plan := filepath.Join(dir, "plan.json")
	if r := run(t, "", "remediate", "plan", "--from", in, "--github-api", srv.URL, "-o", plan); r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	data, _ := os.ReadFile(plan)
	var p struct {
		Keys []struct {
			Action, Reason string
			Steps          []struct{ ID string }
		}
	}
	if err := json.Unmarshal(data, &p); err != nil || len(p.Keys) != 3 || p.Keys[0].Action != "revoke" || len(p.Keys[0].Steps) != 1 ||
		p.Keys[0].Steps[0].ID != "revoke-token" || p.Keys[2].Action != "none" || !strings.Contains(p.Keys[2].Reason, "cannot be rotated") {
		t.Fatalf("plan %s (%v)", data, err)
	}
	if strings.Contains(string(data), t1[4:]) {
		t.Fatal("a token is in the plan")
	}
	r := run(t, "", "remediate", "apply", plan, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "POST "+srv.URL+"/credentials/revoke") || requests != 0 {
		t.Fatalf("dry run: %d %s; %d requests", r.code, r.stdout, requests)
	}
	// Without the tokens the keys fail, each saying how to give them.
	r = run(t, "", "remediate", "apply", plan, "--yes", "--journal", filepath.Join(dir, "none.journal"))
	if r.code != 2 || !strings.Contains(r.stdout, "--tokens") || requests != 0 {
		t.Fatalf("apply without tokens: %d %s", r.code, r.stdout)
	}
	tokens := filepath.Join(dir, "scan.json")
	write(t, tokens, `[{"rule_id":"github-pat","secret":"`+t1+`"},{"rule_id":"github-pat","secret":"`+t2+`"}]`)
	journal := filepath.Join(dir, "gh.journal")
	r = run(t, "", "remediate", "apply", plan, "--yes", "--tokens", tokens, "--journal", journal)
	if r.code != 0 || requests != 1 || len(got) != 2 || got[0] != t1 || got[1] != t2 {
		t.Fatalf("apply: %d %s %s; %d requests %v", r.code, r.stdout, r.stderr, requests, len(got))
	}
	j, _ := os.ReadFile(journal)
	if strings.Contains(string(j)+r.stdout+r.stderr, t1[4:]) || strings.Contains(string(j), t2[4:]) {
		t.Fatal("a token reached the journal or the output")
	}
	if !strings.Contains(string(j), `"hashed_token":"`+ghrevoke.Hash(t1)+`"`) {
		t.Errorf("journal lacks the hashed token: %s", j)
	}
	r = run(t, "", "remediate", "resume", journal, "--tokens", tokens)
	if r.code != 0 || requests != 1 {
		t.Fatalf("resume of a finished revocation: %d %s; %d requests", r.code, r.stdout, requests)
	}
}
