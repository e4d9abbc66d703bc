// Package githubaudit follows leaked GitHub tokens through organisation
// and enterprise audit logs. GitHub records every API and git request made
// with a token under hashed_token (base64 of the token's SHA-256, which is
// exactly audit.Key.SecretSHA256), so a leaked token's use can be found
// without ever sending the token itself.
package githubaudit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/ctxsleep"
)

// Config says which audit logs to search and how.
type Config struct {
	Client      *github.Client // from NewClient, authenticated as the auditor
	Orgs        []string
	Enterprises []string
	// Baseline is the window before the leak whose IPs and countries count
	// as known places.
	Baseline time.Duration
	Log      zerolog.Logger
	// Now and Sleep are the clock; nil means the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxWait is the longest rate-limit wait accepted before giving up on
	// a log (default 15 minutes); MaxRetries bounds retries per request.
	MaxWait    time.Duration
	MaxRetries int
	PerPage    int // default 100, GitHub's maximum
}

// Investigator searches GitHub audit logs for leaked tokens.
type Investigator struct{ cfg Config }

// New returns an Investigator; it needs at least one org or enterprise.
func New(cfg Config) (*Investigator, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("github audit: no client")
	}
	if len(cfg.Orgs) == 0 && len(cfg.Enterprises) == 0 {
		return nil, fmt.Errorf("github audit: name an organization (--github-audit-org) or an enterprise (--github-audit-enterprise)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = ctxsleep.Sleep
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 15 * time.Minute
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 5
	}
	if cfg.PerPage <= 0 || cfg.PerPage > 100 {
		cfg.PerPage = 100
	}
	return &Investigator{cfg: cfg}, nil
}

// Name implements audit.Investigator.
func (*Investigator) Name() string { return "github" }

// Handles reports whether k is a GitHub token whose use the audit log can
// show (an OAuth app's client secret never appears there).
func Handles(k audit.Key) bool {
	return strings.EqualFold(k.Provider, "github") && k.RuleID != "github-oauth-client-secret"
}

// scope is one audit log: an organization or an enterprise.
type scope struct{ kind, name string }

func (s scope) String() string { return s.kind + " " + s.name }

// Investigate implements audit.Investigator. Keys sharing a secret are
// searched once. A log that cannot be read is reported once as an error
// and named in the Errors of every key it would have covered.
func (inv *Investigator) Investigate(ctx context.Context, keys []audit.Key) (map[string]audit.Evidence, []error) {
	var scopes []scope
	for _, o := range inv.cfg.Orgs {
		scopes = append(scopes, scope{"organization", o})
	}
	for _, e := range inv.cfg.Enterprises {
		scopes = append(scopes, scope{"enterprise", e})
	}

	byHash := map[string][]int{}
	var order []string
	out := map[string]audit.Evidence{}
	for i, k := range keys {
		if !Handles(k) {
			continue
		}
		h := tokenHash(k)
		if h == "" {
			out[k.Fingerprint] = audit.Evidence{Errors: []string{"github audit log: no secret_sha256 for this finding (rescan with a keytrail that records it)"}}
			continue
		}
		if _, ok := byHash[h]; !ok {
			order = append(order, h)
		}
		byHash[h] = append(byHash[h], i)
	}

	var errs []error
	broken := map[scope]string{}
	for _, h := range order {
		idx := byHash[h]
		usages := make([]*audit.Usage, len(idx))
		since := time.Time{}
		for j, i := range idx {
			usages[j] = audit.NewUsage(keys[i].LeakedAt, inv.cfg.Baseline)
			start := baselineStart(keys[i].LeakedAt, inv.cfg.Baseline)
			if j == 0 || start.Before(since) {
				since = start
			}
		}
		var keyErrs []string
		var owner string
		var ownerAt time.Time
		seen := map[string]bool{} // document ids: an enterprise log repeats its orgs' events
		for _, sc := range scopes {
			if why, ok := broken[sc]; ok {
				keyErrs = append(keyErrs, fmt.Sprintf("github audit log of %s not read: %s", sc, why))
				continue
			}
			n, err := inv.search(ctx, sc, h, since, func(e *github.AuditEntry) {
				if id := e.GetDocumentID(); id != "" && len(scopes) > 1 {
					if seen[id] {
						return
					}
					seen[id] = true
				}
				ev := toEvent(e)
				for _, u := range usages {
					u.Add(ev)
				}
				if ev.Actor != "" && !ev.Time.Before(ownerAt) {
					owner, ownerAt = ev.Actor, ev.Time
				}
			})
			if err != nil {
				why := describe(err)
				broken[sc] = why
				keyErrs = append(keyErrs, fmt.Sprintf("github audit log of %s not read: %s", sc, why))
				errs = append(errs, fmt.Errorf("github audit log of %s: %s", sc, why))
				if ctx.Err() != nil {
					break
				}
				continue
			}
			inv.cfg.Log.Debug().Str("log", sc.String()).Int("events", n).Msg("github audit log searched")
		}
		for j, i := range idx {
			ev := audit.Evidence{Owner: owner, Usage: usages[j], Errors: keyErrs}
			if s := usages[j].Summary(); s.LastUse != nil {
				ev.LastUsedAt = s.LastUse
			}
			out[keys[i].Fingerprint] = ev
		}
	}
	return out, errs
}

func baselineStart(leakedAt time.Time, baseline time.Duration) time.Time {
	if leakedAt.IsZero() {
		return time.Time{}
	}
	return leakedAt.Add(-baseline)
}

// search pages through one audit log for one token hash, calling fn for
// each entry, and returns how many entries it saw.
func (inv *Investigator) search(ctx context.Context, sc scope, hash string, since time.Time, fn func(*github.AuditEntry)) (int, error) {
	phrase := fmt.Sprintf("hashed_token:%q", hash)
	if !since.IsZero() {
		phrase += " created:>=" + since.UTC().Format("2006-01-02")
	}
	opts := &github.GetAuditLogOptions{
		Phrase:            github.String(phrase),
		Include:           github.String("all"), // git events (clone, push) are the token's use too
		Order:             github.String("asc"),
		ListCursorOptions: github.ListCursorOptions{PerPage: inv.cfg.PerPage},
	}
	n := 0
	var last github.Rate
	for page := 1; ; page++ {
		var entries []*github.AuditEntry
		resp, err := inv.withRetry(ctx, sc, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			if sc.kind == "enterprise" {
				entries, resp, err = inv.cfg.Client.Enterprise.GetAuditLog(ctx, sc.name, opts)
			} else {
				entries, resp, err = inv.cfg.Client.Organizations.GetAuditLog(ctx, sc.name, opts)
			}
			return resp, err
		})
		if err != nil {
			return n, err
		}
		for _, e := range entries {
			fn(e)
		}
		n += len(entries)
		last = resp.Rate
		inv.cfg.Log.Debug().Str("log", sc.String()).Int("page", page).Int("entries", len(entries)).
			Int("rate_remaining", resp.Rate.Remaining).Int("rate_limit", resp.Rate.Limit).Msg("github audit log page")
		// GitHub's audit log pages by cursor: the next link carries after=
		// (or cursor= on some versions); page numbers are not offered.
		switch {
		case resp.Cursor != "":
			opts.Cursor, opts.After = resp.Cursor, ""
		case resp.After != "":
			opts.After, opts.Cursor = resp.After, ""
		default:
			if last.Limit > 0 {
				inv.cfg.Log.Info().Str("log", sc.String()).Int("rate_remaining", last.Remaining).Int("rate_limit", last.Limit).
					Time("rate_reset", last.Reset.Time).Msg("github API budget")
			}
			return n, nil
		}
		if len(entries) == 0 {
			return n, nil // a cursor with nothing behind it: stop rather than loop
		}
	}
}

// withRetry runs call, waiting out rate limits (403 or 429 with
// Retry-After, or X-RateLimit-Remaining: 0 until the reset).
func (inv *Investigator) withRetry(ctx context.Context, sc scope, call func() (*github.Response, error)) (*github.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := call()
		if err == nil {
			return resp, nil
		}
		wait, limited := rateLimitWait(resp, err, inv.cfg.Now())
		if !limited || attempt >= inv.cfg.MaxRetries {
			return resp, err
		}
		if wait > inv.cfg.MaxWait {
			return resp, &tooLongError{wait: wait, max: inv.cfg.MaxWait, err: err}
		}
		inv.cfg.Log.Warn().Str("log", sc.String()).Dur("wait", wait).Int("attempt", attempt+1).Msg("github rate limit hit, waiting")
		if serr := inv.cfg.Sleep(ctx, wait); serr != nil {
			return resp, serr
		}
	}
}

// toEvent reduces an audit-log entry to what the verdict needs. The
// client country stands in for a region: a token used from a new country
// after the leak is as telling as a new AWS region.
func toEvent(e *github.AuditEntry) audit.Event {
	ev := audit.Event{Name: e.GetAction(), Actor: e.GetActor()}
	switch {
	case e.Timestamp != nil:
		ev.Time = e.Timestamp.Time.UTC()
	case e.CreatedAt != nil:
		ev.Time = e.CreatedAt.Time.UTC()
	}
	if e.ActorLocation != nil {
		ev.Region = e.ActorLocation.GetCountryCode()
	}
	ev.Source = field(e, "repo")
	if ev.Source == "" {
		ev.Source = field(e, "repository")
	}
	ev.SourceIP = field(e, "actor_ip")
	ev.UserAgent = field(e, "user_agent")
	return ev
}

// field reads a string the AuditEntry struct does not name.
func field(e *github.AuditEntry, name string) string {
	if s, ok := e.AdditionalFields[name].(string); ok {
		return s
	}
	if s, ok := e.Data[name].(string); ok {
		return s
	}
	return ""
}

// tokenHash is GitHub's hashed_token for the key: base64 of the token's
// SHA-256.
func tokenHash(k audit.Key) string {
	if k.SecretSHA256 != "" {
		return k.SecretSHA256
	}
	if k.Secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(k.Secret))
	return base64.StdEncoding.EncodeToString(sum[:])
}
