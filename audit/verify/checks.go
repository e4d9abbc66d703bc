package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/keytrail/keytrail/audit"
)

// check is one provider's live test: which rules it covers, what to call,
// and how to read the answer. Most checks are a request line plus a
// reader; do replaces both where a provider needs its own SDK (AWS).
type check struct {
	provider string
	rules    []string
	base     string // default API root; Options.BaseURLs[provider] overrides it
	method   string
	path     string
	auth     func(h http.Header, c cred)
	// ok reads a 2xx answer; nil means "valid" with no note.
	ok func(h http.Header, body []byte) Result
	// fail reads any other answer first; returning false falls back to
	// the common reading (401 invalid, 429 and 5xx error, else unknown).
	fail func(status int, h http.Header, body []byte) (Result, bool)
	do   func(ctx context.Context, v *Verifier, base string, c cred) Result
}

// checks is the table of supported providers. Endpoints are the
// providers' documented "who am I" calls: read-only, no side effect
// beyond the provider's own access log.
var checks = []*check{
	{
		provider: "github", base: "https://api.github.com", method: "GET", path: "/user",
		rules: []string{"github-pat", "github-oauth", "github-user-to-server-token", "github-fine-grained-pat"},
		auth:  bearer, ok: githubUser, fail: githubFail,
	},
	{
		// Installation tokens cannot read /user; this is the call an
		// installation token can always make.
		provider: "github", base: "https://api.github.com", method: "GET", path: "/installation/repositories?per_page=1",
		rules: []string{"github-installation-token", "github-installation-token-stateless"},
		auth:  bearer, ok: githubInstallation, fail: githubFail,
	},
	{
		provider: "gitlab", base: "https://gitlab.com", method: "GET", path: "/api/v4/personal_access_tokens/self",
		rules: []string{"gitlab-pat", "gitlab-pat-routable"},
		auth:  header("PRIVATE-TOKEN"), ok: gitlabSelf, fail: gitlabFail,
	},
	{
		provider: "slack", base: "https://slack.com", method: "POST", path: "/api/auth.test",
		rules: []string{"slack-bot-token", "slack-user-token", "slack-workspace-token", "slack-legacy-token"},
		auth:  bearer, ok: slackAuthTest,
	},
	{
		provider: "stripe", base: "https://api.stripe.com", method: "GET", path: "/v1/account",
		rules: []string{"stripe-secret-key", "stripe-restricted-key", "stripe-test-key"},
		auth:  basicUser, ok: jsonNote("account %s", "id"), fail: stripeFail,
	},
	{
		provider: "npm", base: "https://registry.npmjs.org", method: "GET", path: "/-/whoami",
		rules: []string{"npm-access-token", "npm-legacy-auth-token"},
		auth:  bearer, ok: ownerFrom("username", "npm user %s"),
	},
	{
		provider: "openai", base: "https://api.openai.com", method: "GET", path: "/v1/models",
		rules: []string{"openai-project-key", "openai-legacy-key", "openai-service-account-key"},
		auth:  bearer, fail: openaiFail,
	},
	{
		provider: "anthropic", base: "https://api.anthropic.com", method: "GET", path: "/v1/models?limit=1",
		rules: []string{"anthropic-api-key"},
		auth:  anthropicAuth, fail: permissionIsValid,
	},
	{
		provider: "sendgrid", base: "https://api.sendgrid.com", method: "GET", path: "/v3/scopes",
		rules: []string{"sendgrid-api-key"},
		auth:  bearer, ok: sendgridScopes,
	},
	{
		provider: "huggingface", base: "https://huggingface.co", method: "GET", path: "/api/whoami-v2",
		rules: []string{"huggingface-access-token", "huggingface-org-token"},
		auth:  bearer, ok: huggingfaceWhoami,
	},
	{
		provider: "digitalocean", base: "https://api.digitalocean.com", method: "GET", path: "/v2/account",
		rules: []string{"digitalocean-pat"},
		auth:  bearer, ok: jsonNote("account status %s", "account", "status"),
	},
	{
		provider: "aws", rules: []string{"aws-access-key-id"}, do: verifyAWS,
	},
}

// byRule indexes checks by rule id.
var byRule = func() map[string]*check {
	m := map[string]*check{}
	for _, c := range checks {
		for _, r := range c.rules {
			m[r] = c
		}
	}
	return m
}()

func lookup(k audit.Key) *check { return byRule[k.RuleID] }

func (c *check) request(ctx context.Context, base string, cr cred) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	c.auth(req.Header, cr)
	return req, nil
}

func (c *check) interpret(status int, h http.Header, body []byte) Result {
	if status >= 200 && status < 300 {
		if c.ok == nil {
			return Result{Status: Valid}
		}
		return c.ok(h, body)
	}
	if c.fail != nil {
		if r, ok := c.fail(status, h, body); ok {
			return r
		}
	}
	return common(status)
}

// common is how most APIs answer: 401 (or 403 for some) a bad key, 429 a
// rate limit, 5xx an outage.
func common(status int) Result {
	switch {
	case status == http.StatusUnauthorized:
		return Result{Status: Invalid, Note: "rejected (HTTP 401)"}
	case status == http.StatusTooManyRequests:
		return Result{Status: Error, Note: "rate limited by the provider (HTTP 429); try again later"}
	case status >= 500:
		return Result{Status: Error, Note: fmt.Sprintf("provider error (HTTP %d)", status)}
	}
	return Result{Status: Unknown, Note: fmt.Sprintf("unexpected answer (HTTP %d)", status)}
}

// Authentication styles.

func bearer(h http.Header, c cred) { h.Set("Authorization", "Bearer "+c.secret) }

func header(name string) func(http.Header, cred) {
	return func(h http.Header, c cred) { h.Set(name, c.secret) }
}

// basicUser sends the key as the basic-auth user with an empty password
// (Stripe's documented form).
func basicUser(h http.Header, c cred) {
	r := &http.Request{Header: h}
	r.SetBasicAuth(c.secret, "")
}

func anthropicAuth(h http.Header, c cred) {
	h.Set("x-api-key", c.secret)
	h.Set("anthropic-version", "2023-06-01")
}

// Readers.

// jsonNote formats one string found at path in a JSON object.
func jsonNote(format string, path ...string) func(http.Header, []byte) Result {
	return func(_ http.Header, body []byte) Result {
		if s := jsonString(body, path...); s != "" {
			return Result{Status: Valid, Note: fmt.Sprintf(format, s)}
		}
		return Result{Status: Valid}
	}
}

// ownerFrom is jsonNote that also names the owner.
func ownerFrom(field, format string) func(http.Header, []byte) Result {
	return func(_ http.Header, body []byte) Result {
		s := jsonString(body, field)
		if s == "" {
			return Result{Status: Valid}
		}
		return Result{Status: Valid, Owner: s, Note: fmt.Sprintf(format, s)}
	}
}

func jsonString(body []byte, path ...string) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func notes(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// GitHub: /user names the login; classic tokens list their scopes in
// X-OAuth-Scopes; tokens with an expiry carry it in
// github-authentication-token-expiration.
func githubUser(h http.Header, body []byte) Result {
	login := jsonString(body, "login")
	r := Result{Status: Valid, Owner: login}
	var scopes, exp string
	if _, ok := h["X-Oauth-Scopes"]; ok {
		scopes = "scopes: " + h.Get("X-OAuth-Scopes")
		if h.Get("X-OAuth-Scopes") == "" {
			scopes = "scopes: none"
		}
	}
	if e := h.Get("Github-Authentication-Token-Expiration"); e != "" {
		exp = "expires " + e
	}
	r.Note = notes(loginNote(login), scopes, exp)
	return r
}

func loginNote(login string) string {
	if login == "" {
		return ""
	}
	return "login " + login
}

func githubInstallation(h http.Header, body []byte) Result {
	var v struct {
		TotalCount *int `json:"total_count"`
	}
	_ = json.Unmarshal(body, &v)
	note := "GitHub App installation token"
	if v.TotalCount != nil {
		note += fmt.Sprintf(" with access to %d repositories", *v.TotalCount)
	}
	if e := h.Get("Github-Authentication-Token-Expiration"); e != "" {
		note += "; expires " + e
	}
	return Result{Status: Valid, Note: note}
}

func githubFail(status int, h http.Header, body []byte) (Result, bool) {
	switch {
	case status == http.StatusUnauthorized:
		// GitHub does not say why; revoked, expired and wrong tokens all
		// get "Bad credentials".
		return Result{Status: Invalid, Note: "bad credentials: revoked, expired or never valid"}, true
	case (status == http.StatusForbidden || status == http.StatusTooManyRequests) && (h.Get("X-RateLimit-Remaining") == "0" || h.Get("Retry-After") != ""):
		return Result{Status: Error, Note: "GitHub rate limit; try again later"}, true
	case status == http.StatusForbidden:
		// Authenticated but not allowed here: the token works.
		return Result{Status: Valid, Note: "accepted, but not allowed to read this endpoint: " + jsonString(body, "message")}, true
	}
	return Result{}, false
}

// GitLab: /personal_access_tokens/self describes the token itself.
func gitlabSelf(_ http.Header, body []byte) Result {
	var t struct {
		Name      string   `json:"name"`
		Revoked   bool     `json:"revoked"`
		Active    bool     `json:"active"`
		ExpiresAt *string  `json:"expires_at"`
		Scopes    []string `json:"scopes"`
		UserID    int      `json:"user_id"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return Result{Status: Unknown, Note: "unreadable answer from GitLab"}
	}
	exp := "no expiry"
	if t.ExpiresAt != nil && *t.ExpiresAt != "" {
		exp = "expires " + *t.ExpiresAt
	}
	note := notes(fmt.Sprintf("token %q of user %d", t.Name, t.UserID), "scopes: "+strings.Join(t.Scopes, ", "), exp)
	switch {
	case t.Revoked:
		return Result{Status: Revoked, Note: note}
	case !t.Active:
		return Result{Status: Invalid, Note: "inactive; " + note}
	}
	return Result{Status: Valid, Note: note}
}

func gitlabFail(status int, _ http.Header, body []byte) (Result, bool) {
	if status != http.StatusUnauthorized {
		return Result{}, false
	}
	desc := strings.ToLower(jsonString(body, "error_description") + " " + jsonString(body, "message"))
	switch {
	case strings.Contains(desc, "revoked"):
		return Result{Status: Revoked, Note: "GitLab says the token was revoked"}, true
	case strings.Contains(desc, "expired"):
		return Result{Status: Invalid, Note: "GitLab says the token has expired"}, true
	}
	return Result{Status: Invalid, Note: "rejected by GitLab (HTTP 401)"}, true
}

// Slack answers 200 with {"ok": false, "error": ...} for a bad token.
func slackAuthTest(_ http.Header, body []byte) Result {
	var v struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		Team  string `json:"team"`
		User  string `json:"user"`
		URL   string `json:"url"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return Result{Status: Unknown, Note: "unreadable answer from Slack"}
	}
	if v.OK {
		return Result{Status: Valid, Owner: v.User, Note: notes("team "+v.Team, "user "+v.User)}
	}
	switch v.Error {
	case "token_revoked", "account_inactive", "team_disabled":
		return Result{Status: Revoked, Note: "Slack: " + v.Error}
	case "invalid_auth", "not_authed", "token_expired", "not_allowed_token_type":
		return Result{Status: Invalid, Note: "Slack: " + v.Error}
	case "ratelimited":
		return Result{Status: Error, Note: "Slack: rate limited; try again later"}
	}
	return Result{Status: Unknown, Note: "Slack: " + v.Error}
}

// Stripe: 401 for a wrong or rolled key (an expired one says so), 403
// for a restricted key without access to the account.
func stripeFail(status int, _ http.Header, body []byte) (Result, bool) {
	msg := jsonString(body, "error", "message")
	switch status {
	case http.StatusUnauthorized:
		if strings.Contains(strings.ToLower(msg), "expired") {
			return Result{Status: Revoked, Note: "Stripe: the key was rolled or expired"}, true
		}
		return Result{Status: Invalid, Note: "rejected by Stripe (HTTP 401)"}, true
	case http.StatusForbidden:
		return Result{Status: Valid, Note: "restricted key without access to the account endpoint"}, true
	}
	return Result{}, false
}

// OpenAI: a key out of quota still authenticates.
func openaiFail(status int, _ http.Header, body []byte) (Result, bool) {
	code := jsonString(body, "error", "code")
	switch {
	case status == http.StatusUnauthorized && code == "account_deactivated":
		return Result{Status: Revoked, Note: "OpenAI: account deactivated"}, true
	case status == http.StatusUnauthorized:
		return Result{Status: Invalid, Note: "rejected by OpenAI: " + nonEmpty(code, "HTTP 401")}, true
	case status == http.StatusTooManyRequests && code == "insufficient_quota":
		return Result{Status: Valid, Note: "accepted, but the account is out of quota"}, true
	}
	return Result{}, false
}

// permissionIsValid: a 403 means the key authenticated but may not do
// this (Anthropic's permission_error).
func permissionIsValid(status int, _ http.Header, body []byte) (Result, bool) {
	if status == http.StatusForbidden {
		return Result{Status: Valid, Note: "accepted, without permission to list models"}, true
	}
	return Result{}, false
}

func sendgridScopes(_ http.Header, body []byte) Result {
	var v struct {
		Scopes []string `json:"scopes"`
	}
	if json.Unmarshal(body, &v) != nil {
		return Result{Status: Valid}
	}
	note := fmt.Sprintf("%d scopes", len(v.Scopes))
	for _, s := range v.Scopes {
		if strings.HasSuffix(s, ".send") || s == "mail.send" {
			note += ", can send mail"
			break
		}
	}
	return Result{Status: Valid, Note: note}
}

func huggingfaceWhoami(_ http.Header, body []byte) Result {
	var v struct {
		Name string `json:"name"`
		Auth struct {
			AccessToken struct {
				DisplayName string `json:"displayName"`
				Role        string `json:"role"`
			} `json:"accessToken"`
		} `json:"auth"`
	}
	if json.Unmarshal(body, &v) != nil {
		return Result{Status: Valid}
	}
	t := v.Auth.AccessToken
	tok := ""
	if t.DisplayName != "" || t.Role != "" {
		tok = fmt.Sprintf("token %q (%s)", t.DisplayName, nonEmpty(t.Role, "role unknown"))
	}
	return Result{Status: Valid, Owner: v.Name, Note: notes(loginNote(v.Name), tok)}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
