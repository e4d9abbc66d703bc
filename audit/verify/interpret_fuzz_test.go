package verify

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzInterpret feeds every check's reader arbitrary answers: a hostile
// or broken provider must yield one of the five results, never a panic.
func FuzzInterpret(f *testing.F) {
	f.Add(200, `{"login":"octocat"}`, "repo")
	f.Add(401, `{"error":"invalid_token","error_description":"Token was revoked."}`, "")
	f.Add(200, `{"ok":false,"error":"token_revoked"}`, "")
	f.Add(429, `{"error":{"code":"insufficient_quota"}}`, "")
	f.Add(200, `{"revoked":true,"active":false,"expires_at":null,"scopes":null}`, "")
	f.Add(403, `{"message":"`+strings.Repeat("x", 100)+`"}`, "")
	f.Add(200, `{"auth":{"accessToken":[]}}`, "")
	f.Add(200, `[]`, "")
	valid := map[string]bool{Valid: true, Invalid: true, Revoked: true, Unknown: true, Error: true}
	f.Fuzz(func(t *testing.T, status int, body, scopes string) {
		h := http.Header{}
		h.Set("X-OAuth-Scopes", scopes)
		for _, c := range checks {
			if c.do != nil {
				continue
			}
			r := c.interpret(status, h, []byte(body))
			if !valid[r.Status] {
				t.Fatalf("%s: status %q", c.provider, r.Status)
			}
		}
	})
}
