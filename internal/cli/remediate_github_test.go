package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if !strings.Contains(string(data), `"step":"revoke-batch-1"`) {
		t.Errorf("journal lacks the batch: %s", data)
	}
}
