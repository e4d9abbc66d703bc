// Package verify is keytrail's opt-in live verification: it asks each
// key's provider whether the key still works (GitHub's /user, Slack's
// auth.test, AWS's GetCallerIdentity, ...). Such a call is a real use of
// the leaked credential and shows up in the provider's logs, so it only
// runs when the user asks (keytrail audit --verify).
//
// What to call and how to read the answer is data (checks.go); this file
// is the shared machinery: one HTTP client with a User-Agent, a per-host
// rate limit and a timeout, and one call per distinct secret per run.
package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/keytrail/keytrail/audit"
)

// Result values, as audit.Key.Verified reports them.
const (
	Valid   = "valid"   // the provider accepted the key
	Invalid = "invalid" // rejected: wrong, expired or deleted
	Revoked = "revoked" // the provider says it was revoked
	Unknown = "unknown" // could not tell (no secret at hand, an answer we do not know)
	Error   = "error"   // the call failed (network, 5xx, rate limited)
)

// Result is one key's verification.
type Result struct {
	Status string
	Note   string // login, scopes, expiry; never the secret
	// Owner and AccountID are filled when the provider named them (a
	// GitHub login, an AWS ARN and account).
	Owner     string
	AccountID string
}

// Options configure a Verifier. Zero values get sensible defaults.
type Options struct {
	HTTPClient *http.Client
	UserAgent  string        // default "keytrail"
	Timeout    time.Duration // per call, default 15s
	// PerHost is the request rate allowed per host (default 2/s, burst 2).
	PerHost rate.Limit
	Burst   int
	// BaseURLs overrides a provider's API root, keyed by provider
	// ("github", "gitlab", "aws", ...): GitHub Enterprise Server, a
	// self-managed GitLab, or a test server.
	BaseURLs map[string]string
	Log      zerolog.Logger
	// Workers bounds the calls in flight (default 4).
	Workers int
}

// Verifier checks keys live. One Verifier is one run: it calls each
// provider at most once per distinct secret.
type Verifier struct {
	opts Options
	http *http.Client

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	cache    map[string]*pending
}

type pending struct {
	done chan struct{}
	res  Result
}

// New returns a Verifier.
func New(opts Options) *Verifier {
	if opts.UserAgent == "" {
		opts.UserAgent = "keytrail"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.PerHost <= 0 {
		opts.PerHost = 2
	}
	if opts.Burst <= 0 {
		opts.Burst = 2
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	base := opts.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	v := &Verifier{opts: opts, limiters: map[string]*rate.Limiter{}, cache: map[string]*pending{}}
	v.http = &http.Client{
		Transport: &limitedTransport{next: rt, v: v},
		Jar:       base.Jar,
		// Never follow a redirect: some providers take the key in a
		// custom header, which Go would forward to any host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return v
}

// Name implements audit.Investigator.
func (*Verifier) Name() string { return "verify" }

// Providers lists the providers Verify supports, for help and docs.
func Providers() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range checks {
		if !seen[c.provider] {
			seen[c.provider] = true
			out = append(out, c.provider)
		}
	}
	return out
}

// Supports reports whether Verify has a check for k.
func Supports(k audit.Key) bool { return lookup(k) != nil }

// Investigate implements audit.Investigator: every supported key gets
// Evidence.Verified and VerifyNote (plus owner and account when the
// provider named them); other keys are skipped.
func (v *Verifier) Investigate(ctx context.Context, keys []audit.Key) (map[string]audit.Evidence, []error) {
	out := make(map[string]audit.Evidence, len(keys))
	var mu sync.Mutex
	sem := make(chan struct{}, v.opts.Workers)
	var wg sync.WaitGroup
	for _, k := range keys {
		if !Supports(k) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(k audit.Key) {
			defer wg.Done()
			defer func() { <-sem }()
			r, _ := v.Verify(ctx, k)
			// Status is left to audit.Assess, which reads it from Verified
			// when no inventory knew better.
			ev := audit.Evidence{Verified: r.Status, VerifyNote: r.Note, Owner: r.Owner, AccountID: r.AccountID}
			mu.Lock()
			out[k.Fingerprint] = ev
			mu.Unlock()
		}(k)
	}
	wg.Wait()
	// Logged here, not in the workers: the log's writer need not be safe
	// for concurrent use.
	for _, k := range keys {
		if ev, ok := out[k.Fingerprint]; ok {
			v.opts.Log.Debug().Str("rule", k.RuleID).Str("fingerprint", k.Fingerprint).Str("result", ev.Verified).Msg("verified")
		}
	}
	return out, nil
}

// Verify checks one key; ok is false when no check exists for it.
func (v *Verifier) Verify(ctx context.Context, k audit.Key) (r Result, ok bool) {
	c := lookup(k)
	if c == nil {
		return Result{}, false
	}
	cr := credOf(k)
	if cr.secret == "" && c.provider == "aws" {
		return Result{Status: Unknown, Note: "needs the secret access key paired with this key id; none was found next to it"}, true
	}
	if cr.secret == "" {
		return Result{Status: Unknown, Note: "secret not at hand: audit the source itself, or a findings file written with --show-secrets"}, true
	}
	key := c.provider + "\x00" + cr.hash()
	v.mu.Lock()
	p, found := v.cache[key]
	if !found {
		p = &pending{done: make(chan struct{})}
		v.cache[key] = p
	}
	v.mu.Unlock()
	if found {
		select {
		case <-p.done:
			return p.res, true
		case <-ctx.Done():
			return Result{Status: Error, Note: ctx.Err().Error()}, true
		}
	}
	res := v.run(ctx, c, cr)
	res.Note = scrub(res.Note, cr)
	res.Owner = scrub(res.Owner, cr)
	p.res = res
	close(p.done)
	return res, true
}

func (v *Verifier) run(ctx context.Context, c *check, cr cred) Result {
	ctx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	defer cancel()
	base := strings.TrimRight(c.base, "/")
	if b := v.opts.BaseURLs[c.provider]; b != "" {
		base = strings.TrimRight(b, "/")
	}
	if c.do != nil {
		return c.do(ctx, v, base, cr)
	}
	req, err := c.request(ctx, base, cr)
	if err != nil {
		return Result{Status: Error, Note: "building request: " + err.Error()}
	}
	req.Header.Set("User-Agent", v.opts.UserAgent)
	resp, err := v.http.Do(req)
	if err != nil {
		return Result{Status: Error, Note: transportNote(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Result{Status: Error, Note: "reading answer: " + transportNote(err)}
	}
	return c.interpret(resp.StatusCode, resp.Header, body)
}

// transportNote says why a call failed without the URL, which for some
// providers could carry more than a host.
func transportNote(err error) string {
	if ue, ok := err.(interface{ Unwrap() error }); ok && ue.Unwrap() != nil {
		err = ue.Unwrap()
	}
	return "request failed: " + err.Error()
}

// limitedTransport applies the per-host rate limit to every call,
// including the AWS SDK's.
type limitedTransport struct {
	next http.RoundTripper
	v    *Verifier
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.v.limiter(req.URL.Host).Wait(req.Context()); err != nil {
		return nil, fmt.Errorf("waiting for the %s rate limit: %w", req.URL.Host, err)
	}
	return t.next.RoundTrip(req)
}

func (v *Verifier) limiter(host string) *rate.Limiter {
	v.mu.Lock()
	defer v.mu.Unlock()
	l := v.limiters[host]
	if l == nil {
		l = rate.NewLimiter(v.opts.PerHost, v.opts.Burst)
		v.limiters[host] = l
	}
	return l
}

// cred is what a check sends: the secret, and for a pair (AWS) its id.
type cred struct{ id, secret string }

func (c cred) hash() string {
	s := sha256.Sum256([]byte(c.id + "\x00" + c.secret))
	return hex.EncodeToString(s[:])
}

// credOf picks the secret a key's check needs. An AWS key id is verified
// with the secret it was paired with; everything else with the secret.
func credOf(k audit.Key) cred {
	if strings.EqualFold(k.Provider, "aws") {
		id := k.KeyID
		if id == "" && looksLikeAWSKeyID(k.Secret) {
			id = k.Secret
		}
		return cred{id: id, secret: k.PairSecret}
	}
	return cred{secret: k.Secret}
}

// scrub removes the secret from provider text, should an answer echo it.
func scrub(s string, c cred) string {
	if c.secret != "" && len(c.secret) >= 8 {
		s = strings.ReplaceAll(s, c.secret, "[redacted]")
	}
	return s
}
