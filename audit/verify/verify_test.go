package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/rules"
)

const (
	alnum  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	alpha  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	hexLow = "0123456789abcdef"
	digits = "0123456789"
	urlb64 = alnum + "_-"
)

func pick(r *rand.Rand, set string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(set[r.IntN(len(set))])
	}
	return b.String()
}

// gens make format-exact fake tokens per rule (checksums valid where the
// format has one); TestFakeTokensMatchTheirRules holds them to the rules.
var gens = map[string]func(r *rand.Rand) string{
	"github-pat": func(r *rand.Rand) string {
		b := pick(r, alnum, 30)
		return "ghp_" + b + rules.Base62CRC32(b)
	},
	"github-installation-token": func(r *rand.Rand) string {
		b := pick(r, alnum, 30)
		return "ghs_" + b + rules.Base62CRC32(b)
	},
	"gitlab-pat": func(r *rand.Rand) string { return "glpat-" + pick(r, alnum, 20) },
	"slack-bot-token": func(r *rand.Rand) string {
		return "xoxb-" + pick(r, digits, 12) + "-" + pick(r, digits, 12) + "-" + pick(r, alnum, 24)
	},
	"stripe-secret-key": func(r *rand.Rand) string {
		return "sk_live_" + pick(r, alnum, 32)
	},
	"npm-access-token": func(r *rand.Rand) string {
		b := pick(r, alnum, 30)
		return "npm_" + b + rules.Base62CRC32(b)
	},
	"openai-project-key": func(r *rand.Rand) string {
		return "sk-proj-" + pick(r, urlb64, 40) + "T3BlbkFJ" + pick(r, urlb64, 40)
	},
	"anthropic-api-key":        func(r *rand.Rand) string { return "sk-ant-api03-" + pick(r, urlb64, 93) + "AA" },
	"sendgrid-api-key":         func(r *rand.Rand) string { return "SG." + pick(r, urlb64, 22) + "." + pick(r, urlb64, 43) },
	"huggingface-access-token": func(r *rand.Rand) string { return "hf_" + pick(r, alpha, 34) },
	"digitalocean-pat":         func(r *rand.Rand) string { return "dop_v1_" + pick(r, hexLow, 64) },
}

func TestEveryCheckNamesARealRule(t *testing.T) {
	rs, err := rules.BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range rs {
		known[r.ID] = true
	}
	for _, c := range checks {
		for _, id := range c.rules {
			if !known[id] {
				t.Errorf("check %s names rule %q, which keytrail rules list does not have", c.provider, id)
			}
		}
	}
	if n := len(Providers()); n < 8 {
		t.Errorf("%d providers, want at least 8", n)
	}
}

func TestFakeTokensMatchTheirRules(t *testing.T) {
	rs, _ := rules.BuiltinRules()
	byID := map[string]*rules.Rule{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for id, gen := range gens {
		tok := gen(rng)
		if !regexp.MustCompile(byID[id].Regex).MatchString(" " + tok + " ") {
			t.Errorf("%s: fake %q does not match the rule", id, tok)
		}
	}
}

// A provider fake answers in the provider's documented shapes: the good
// token is accepted, the revoked one gets the provider's revoked answer
// (where it has one), anything else is rejected.
type fake func(w http.ResponseWriter, r *http.Request, good, revoked string)

func writeJSON(w http.ResponseWriter, status int, v string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, v)
}

func bearerOf(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

var fakes = map[string]fake{
	"github": func(w http.ResponseWriter, r *http.Request, good, _ string) {
		if bearerOf(r) != good {
			writeJSON(w, 401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
			return
		}
		switch r.URL.Path {
		case "/user":
			w.Header().Set("X-OAuth-Scopes", "repo, read:org")
			w.Header().Set("github-authentication-token-expiration", "2027-01-31 00:00:00 UTC")
			writeJSON(w, 200, `{"login":"octocat","id":1,"type":"User","site_admin":false}`)
		case "/installation/repositories":
			writeJSON(w, 200, `{"total_count":3,"repositories":[{"id":1,"full_name":"acme/api"}]}`)
		default:
			http.NotFound(w, r)
		}
	},
	"gitlab": func(w http.ResponseWriter, r *http.Request, good, revoked string) {
		if r.URL.Path != "/api/v4/personal_access_tokens/self" {
			http.NotFound(w, r)
			return
		}
		switch r.Header.Get("PRIVATE-TOKEN") {
		case good:
			writeJSON(w, 200, `{"id":4,"name":"ci-deploy","revoked":false,"created_at":"2026-01-05T10:00:00.000Z","scopes":["api","read_repository"],"user_id":7,"last_used_at":"2026-11-30T09:00:00.000Z","active":true,"expires_at":"2027-01-05"}`)
		case revoked:
			writeJSON(w, 401, `{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}`)
		default:
			writeJSON(w, 401, `{"message":"401 Unauthorized"}`)
		}
	},
	"slack": func(w http.ResponseWriter, r *http.Request, good, revoked string) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/auth.test" {
			http.NotFound(w, r)
			return
		}
		switch bearerOf(r) {
		case good:
			writeJSON(w, 200, `{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"deploybot","team_id":"T0001","user_id":"U0001","bot_id":"B0001","is_enterprise_install":false}`)
		case revoked:
			writeJSON(w, 200, `{"ok":false,"error":"token_revoked"}`)
		default:
			writeJSON(w, 200, `{"ok":false,"error":"invalid_auth"}`)
		}
	},
	"stripe": func(w http.ResponseWriter, r *http.Request, good, revoked string) {
		user, pass, _ := r.BasicAuth()
		switch {
		case r.URL.Path != "/v1/account":
			http.NotFound(w, r)
		case user == good && pass == "":
			writeJSON(w, 200, `{"id":"acct_1FakeFakeFake","object":"account","charges_enabled":true}`)
		case user == revoked:
			writeJSON(w, 401, `{"error":{"message":"Expired API Key provided: sk_live_*********`+user[len(user)-4:]+`","type":"invalid_request_error"}}`)
		default:
			writeJSON(w, 401, `{"error":{"message":"Invalid API Key provided: sk_live_*********","type":"invalid_request_error"}}`)
		}
	},
	"npm": func(w http.ResponseWriter, r *http.Request, good, _ string) {
		if r.URL.Path == "/-/whoami" && bearerOf(r) == good {
			writeJSON(w, 200, `{"username":"npm-publisher"}`)
			return
		}
		writeJSON(w, 401, `{"error":"Unauthorized"}`)
	},
	"openai": func(w http.ResponseWriter, r *http.Request, good, revoked string) {
		switch bearerOf(r) {
		case good:
			writeJSON(w, 200, `{"object":"list","data":[{"id":"gpt-4o","object":"model","owned_by":"system"}]}`)
		case revoked:
			writeJSON(w, 401, `{"error":{"message":"Your account is deactivated.","type":"invalid_request_error","param":null,"code":"account_deactivated"}}`)
		default:
			writeJSON(w, 401, `{"error":{"message":"Incorrect API key provided: sk-proj-****. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		}
	},
	"anthropic": func(w http.ResponseWriter, r *http.Request, good, _ string) {
		if r.Header.Get("x-api-key") == good && r.Header.Get("anthropic-version") != "" {
			writeJSON(w, 200, `{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5"}],"has_more":false}`)
			return
		}
		writeJSON(w, 401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
	},
	"sendgrid": func(w http.ResponseWriter, r *http.Request, good, _ string) {
		if bearerOf(r) == good {
			writeJSON(w, 200, `{"scopes":["alerts.read","mail.send","stats.read"]}`)
			return
		}
		writeJSON(w, 401, `{"errors":[{"field":null,"message":"authorization required"}]}`)
	},
	"huggingface": func(w http.ResponseWriter, r *http.Request, good, _ string) {
		if bearerOf(r) == good {
			writeJSON(w, 200, `{"type":"user","id":"1","name":"hf-user","auth":{"type":"access_token","accessToken":{"displayName":"ci","role":"write"}}}`)
			return
		}
		writeJSON(w, 401, `{"error":"Invalid credentials in Authorization header"}`)
	},
	"digitalocean": func(w http.ResponseWriter, r *http.Request, good, _ string) {
		if bearerOf(r) == good {
			writeJSON(w, 200, `{"account":{"droplet_limit":25,"email":"ops@example.com","uuid":"b6fr89dbf6d9156cace5f3c78dc9851d957381ef","status":"active"}}`)
			return
		}
		writeJSON(w, 401, `{"id":"Unauthorized","message":"Unable to authenticate you"}`)
	},
}

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) inc(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[k]++
}

func TestProviders(t *testing.T) {
	tests := []struct {
		rule, provider string
		validNote      string
		owner          string
		revoked        string // the status of the provider's "revoked" answer
		badNote        string
	}{
		{"github-pat", "github", "login octocat; scopes: repo, read:org; expires 2027-01-31 00:00:00 UTC", "octocat", Invalid, "bad credentials"},
		{"github-installation-token", "github", "GitHub App installation token with access to 3 repositories", "", Invalid, "bad credentials"},
		{"gitlab-pat", "gitlab", `token "ci-deploy" of user 7; scopes: api, read_repository; expires 2027-01-05`, "", Revoked, "rejected by GitLab"},
		{"slack-bot-token", "slack", "team Acme; user deploybot", "deploybot", Revoked, "invalid_auth"},
		{"stripe-secret-key", "stripe", "account acct_1FakeFakeFake", "", Revoked, "rejected by Stripe"},
		{"npm-access-token", "npm", "npm user npm-publisher", "npm-publisher", Invalid, "HTTP 401"},
		{"openai-project-key", "openai", "", "", Revoked, "invalid_api_key"},
		{"anthropic-api-key", "anthropic", "", "", Invalid, "HTTP 401"},
		{"sendgrid-api-key", "sendgrid", "3 scopes, can send mail", "", Invalid, "HTTP 401"},
		{"huggingface-access-token", "huggingface", `login hf-user; token "ci" (write)`, "hf-user", Invalid, "HTTP 401"},
		{"digitalocean-pat", "digitalocean", "account status active", "", Invalid, "HTTP 401"},
	}
	rng := rand.New(rand.NewPCG(5, 8))
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			gen := gens[tc.rule]
			good, revoked, bad := gen(rng), gen(rng), gen(rng)
			calls := &counter{n: map[string]int{}}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.UserAgent() != "keytrail/test" {
					t.Errorf("User-Agent %q", r.UserAgent())
				}
				calls.inc(r.Header.Get("Authorization") + r.Header.Get("PRIVATE-TOKEN") + r.Header.Get("x-api-key"))
				fakes[tc.provider](w, r, good, revoked)
			}))
			defer srv.Close()
			var logs bytes.Buffer
			v := New(Options{HTTPClient: srv.Client(), UserAgent: "keytrail/test", PerHost: rate.Inf,
				BaseURLs: map[string]string{tc.provider: srv.URL}, Log: zerolog.New(&logs).Level(zerolog.DebugLevel)})
			keys := []audit.Key{
				{Fingerprint: "good", RuleID: tc.rule, Provider: tc.provider, Secret: good},
				{Fingerprint: "good-again", RuleID: tc.rule, Provider: tc.provider, Secret: good}, // same secret elsewhere: one call
				{Fingerprint: "revoked", RuleID: tc.rule, Provider: tc.provider, Secret: revoked},
				{Fingerprint: "bad", RuleID: tc.rule, Provider: tc.provider, Secret: bad},
				{Fingerprint: "redacted", RuleID: tc.rule, Provider: tc.provider, SecretSHA256: "x"},
				{Fingerprint: "other", RuleID: "generic-secret-assignment", Provider: "", Secret: good},
			}
			ev, errs := v.Investigate(context.Background(), keys)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			check := func(fp, status, note string) {
				t.Helper()
				e, ok := ev[fp]
				if !ok {
					t.Fatalf("%s: no evidence", fp)
				}
				if e.Verified != status || !strings.Contains(e.VerifyNote, note) {
					t.Errorf("%s: %s %q, want %s with %q", fp, e.Verified, e.VerifyNote, status, note)
				}
			}
			check("good", Valid, tc.validNote)
			check("good-again", Valid, tc.validNote)
			check("revoked", tc.revoked, "")
			check("bad", Invalid, tc.badNote)
			check("redacted", Unknown, "secret not at hand")
			if tc.validNote != "" && ev["good"].VerifyNote != tc.validNote {
				t.Errorf("note %q, want exactly %q", ev["good"].VerifyNote, tc.validNote)
			}
			if ev["good"].Owner != tc.owner {
				t.Errorf("owner %q, want %q", ev["good"].Owner, tc.owner)
			}
			if _, ok := ev["other"]; ok {
				t.Error("a rule without a check was verified")
			}
			for k, n := range calls.n {
				if n != 1 {
					t.Errorf("%d calls with one credential (%.12s...), want 1", n, k)
				}
			}
			if len(calls.n) != 3 {
				t.Errorf("%d distinct credentials sent, want 3", len(calls.n))
			}
			out, _ := json.Marshal(ev)
			for _, s := range []string{good, revoked, bad} {
				if strings.Contains(string(out), s) || strings.Contains(logs.String(), s) {
					t.Errorf("a secret reached the evidence or the log")
				}
			}
		})
	}
}

func TestFailures(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tok := gens["github-pat"](rng)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a redirect was followed to %s with headers %v", r.URL, r.Header)
	}))
	defer other.Close()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  string
		note    string
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 502, `{}`) }, Error, "HTTP 502"},
		{"rate limited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			writeJSON(w, 403, `{"message":"API rate limit exceeded"}`)
		}, Error, "rate limit"},
		{"forbidden but authenticated", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 403, `{"message":"Resource not accessible by personal access token `+tok+`"}`)
		}, Valid, "not accessible by personal access token [redacted]"},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
		}, Unknown, "HTTP 302"},
		{"slow provider times out", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, Error, "request failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			v := New(Options{HTTPClient: srv.Client(), Timeout: 200 * time.Millisecond, BaseURLs: map[string]string{"github": srv.URL}})
			r, ok := v.Verify(context.Background(), audit.Key{RuleID: "github-pat", Provider: "github", Secret: tok})
			if !ok || r.Status != tc.status || !strings.Contains(r.Note, tc.note) {
				t.Errorf("%s %q, want %s with %q", r.Status, r.Note, tc.status, tc.note)
			}
			if strings.Contains(r.Note, tok) {
				t.Errorf("note holds the secret: %q", r.Note)
			}
		})
	}
}

// The per-host limit holds calls to one host back without slowing others.
func TestPerHostRateLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"login":"octocat"}`)
	}))
	defer gh.Close()
	npm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"username":"u"}`)
	}))
	defer npm.Close()
	// One call per hour per host: the second GitHub call cannot get a
	// token before its deadline and fails at once; npm's host is untouched.
	v := New(Options{PerHost: rate.Every(time.Hour), Burst: 1, Timeout: time.Minute,
		BaseURLs: map[string]string{"github": gh.URL, "npm": npm.URL}})
	ctx := context.Background()
	first, _ := v.Verify(ctx, audit.Key{RuleID: "github-pat", Secret: gens["github-pat"](rng)})
	second, _ := v.Verify(ctx, audit.Key{RuleID: "github-pat", Secret: gens["github-pat"](rng)})
	third, _ := v.Verify(ctx, audit.Key{RuleID: "npm-access-token", Secret: gens["npm-access-token"](rng)})
	if first.Status != Valid || second.Status != Error || !strings.Contains(second.Note, "rate limit") || third.Status != Valid {
		t.Errorf("first %+v, second %+v, third %+v; want valid, rate-limited error, valid", first, second, third)
	}
}
