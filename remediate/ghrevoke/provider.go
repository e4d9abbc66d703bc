package ghrevoke

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/keytrail/keytrail/remediate"
)

// DefaultAPI is github.com's REST API.
const DefaultAPI = "https://api.github.com/"

// StepID is the one step of a GitHub token's revocation.
const StepID = "revoke-token"

// Provider revokes GitHub tokens as plan steps. A plan names a token by
// its hint and SHA-256 only; the tokens themselves come from Tokens (the
// CLI's --tokens), keyed by Hash, and never reach the plan or the journal.
// Every token of a plan going to the same API is sent in one request (at
// most MaxBatch), as the API is limited to 60 requests an hour.
type Provider struct {
	// Tokens maps Hash(token) to the token.
	Tokens map[string]string
	// HTTP is the client requests go through (nil: 60 s timeout). It must
	// add no credentials: GitHub refuses authenticated revocations.
	HTTP  *http.Client
	Clock remediate.Clock
	// MaxWait bounds one wait for the rate limit (default 1h).
	MaxWait time.Duration

	mu       sync.Mutex
	requests int
}

// Requests is how many revocation requests GitHub accepted.
func (p *Provider) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// APIBase checks a --github-api value: https, or http to loopback only
// (tokens never cross a network in clear text), ending in "/".
func APIBase(raw string) (string, error) {
	if raw == "" {
		return DefaultAPI, nil
	}
	u, err := remediate.CheckURL(raw)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(u.String(), "/") + "/", nil
}

// RevocableHint says from a plan's view of a token (its rule and hint)
// whether the revocation API takes it, and if not, why.
func RevocableHint(ruleID, hint string) (bool, string) {
	for _, p := range []string{"ghp_", "gho_", "ghu_", "ghr_", "github_pat_", "github_"} {
		if strings.HasPrefix(hint, p) {
			return true, ""
		}
	}
	if strings.HasPrefix(hint, "ghs_") {
		return false, "GitHub's revocation API does not take installation tokens (ghs_); they expire within the hour"
	}
	return false, fmt.Sprintf("GitHub's revocation API takes personal access, OAuth, user-to-server and refresh tokens, and rule %s found something else", orDash(ruleID))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Procedure is one batched step: submit the token to the revocation API.
func (p *Provider) Procedure(kp remediate.KeyPlan) (*remediate.Procedure, error) {
	if kp.Action != remediate.ActionRevoke {
		return nil, &remediate.UnsupportedError{Msg: "GitHub tokens can only be revoked (through GitHub's credential revocation API), not rotated"}
	}
	if ok, why := RevocableHint(kp.RuleID, kp.KeyID); !ok {
		return nil, &remediate.UnsupportedError{Msg: why}
	}
	if kp.SecretSHA256 == "" {
		return nil, &remediate.UnsupportedError{Msg: "the audit did not see the token itself (a redacted findings file), so apply could not match it: plan from the source (remediate plan git . ...) or from scan JSON written with --show-secrets"}
	}
	o := kp.Options
	if len(o.Distribute) > 0 || o.RevokeSessions || o.DeleteAfter != nil || o.Overlap != 0 || o.Grace != 0 || o.Force || o.DeleteInactive {
		return nil, &remediate.FieldError{Field: "options", Msg: "a GitHub token's revocation takes no option but github_api"}
	}
	base, err := APIBase(o.GitHubAPI)
	if err != nil {
		return nil, &remediate.FieldError{Field: "github_api", Msg: err.Error()}
	}
	return &remediate.Procedure{Steps: []remediate.Step{revokeStep{p: p, base: base, kp: kp}}}, nil
}

type revokeStep struct {
	p    *Provider
	base string
	kp   remediate.KeyPlan
}

func (s revokeStep) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: StepID, Intent: "submit the token to GitHub's credential revocation API (GitHub notifies its owner; a revoked token cannot be restored)",
		Calls:   []string{fmt.Sprintf("github: POST %scredentials/revoke (unauthenticated; with the plan's other tokens, at most %d a request)", s.base, MaxBatch)},
		Touches: []string{"github token " + s.kp.KeyID + " (sha256 " + s.kp.SecretSHA256 + ")"}}
}

func (s revokeStep) Batch() (string, int) { return "github:" + s.base, MaxBatch }

// Done cannot be known without using the token (live validation is
// opt-in): a resume re-submits, which GitHub accepts for a revoked token.
func (s revokeStep) Done(context.Context, *remediate.State) (bool, error) { return false, nil }

func (s revokeStep) Do(ctx context.Context, st *remediate.State) error {
	return s.DoBatch(ctx, []*remediate.State{st})[0]
}

func (s revokeStep) Undo(context.Context, *remediate.State) error {
	return fmt.Errorf("a revoked GitHub token: %w", remediate.ErrNotUndoable)
}

// DoBatch submits the tokens of every state in one request.
func (s revokeStep) DoBatch(ctx context.Context, sts []*remediate.State) []error {
	errs := make([]error, len(sts))
	var tokens []string
	var sent []int
	for i, st := range sts {
		sum := st.Key.SecretSHA256
		tok, ok := s.p.Tokens[sum]
		switch {
		case !ok:
			errs[i] = fmt.Errorf("the token (sha256 %s) was not given: pass --tokens FILE holding it (a token list, or keytrail scan ... --format json --show-secrets)", sum)
			continue
		case !Revocable(tok):
			errs[i] = fmt.Errorf("GitHub's revocation API does not take %s tokens", Hint(tok))
			continue
		}
		st.SetSecret(tok) // never journaled: the runner forbids it
		tokens = append(tokens, tok)
		sent = append(sent, i)
	}
	if len(tokens) == 0 {
		return errs
	}
	base, _ := url.Parse(s.base)
	hc := s.p.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	c := github.NewClient(hc)
	c.BaseURL = base
	clk := s.p.Clock
	if clk == nil {
		clk = remediate.RealClock{}
	}
	rv := &Revoker{Client: c, Clock: clk, MaxWait: s.p.MaxWait}
	res, err := rv.Revoke(ctx, tokens)
	if err == nil && res.Submitted == 0 {
		err = errors.New("GitHub took none of the tokens")
	}
	s.p.mu.Lock()
	s.p.requests += res.Batches
	s.p.mu.Unlock()
	for _, i := range sent {
		if err != nil {
			errs[i] = err
			continue
		}
		sts[i].SetTime("submitted_at", clk.Now())
		sts[i].Set("hashed_token", sts[i].Key.SecretSHA256)
		sts[i].Set("batch_tokens", fmt.Sprint(len(tokens)))
	}
	return errs
}
