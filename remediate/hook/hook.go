// Package hook revokes keys of providers keytrail has no remediator for
// by handing their identity (never the secret) to a command or webhook
// that a [[remediate.hook]] in .keytrail.toml names for the rule or
// provider: the organisation's own revocation tooling, keyed by the
// secret's SHA-256, key id or hint.
package hook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/distribute"
)

// Provider runs hook key plans.
type Provider struct {
	Deps distribute.Deps
}

// Event is what the hook receives.
type Event struct {
	Event        string `json:"event"` // revoke
	Provider     string `json:"provider"`
	RuleID       string `json:"rule_id,omitempty"`
	KeyID        string `json:"key_id,omitempty"`
	Fingerprint  string `json:"fingerprint,omitempty"`
	SecretSHA256 string `json:"secret_sha256,omitempty"`
	Owner        string `json:"owner,omitempty"`
	Reason       string `json:"reason,omitempty"`
	SentAt       string `json:"sent_at"`
}

// Procedure is one step: call the hook.
func (p *Provider) Procedure(kp remediate.KeyPlan) (*remediate.Procedure, error) {
	if kp.Action != remediate.ActionRevoke {
		return nil, &remediate.FieldError{Field: "action", Msg: "a hook revokes; rotation needs a provider keytrail knows"}
	}
	if !strings.HasPrefix(kp.Options.Hook, "exec:") && !strings.HasPrefix(kp.Options.Hook, "webhook:") {
		return nil, &remediate.FieldError{Field: "hook", Msg: fmt.Sprintf("%q: want exec:CMD or webhook:URL", kp.Options.Hook)}
	}
	if _, err := distribute.Parse(kp.Options.Hook, p.Deps); err != nil {
		return nil, &remediate.FieldError{Field: "hook", Msg: err.Error()}
	}
	return &remediate.Procedure{Steps: []remediate.Step{call{p, kp}}}, nil
}

type call struct {
	p  *Provider
	kp remediate.KeyPlan
}

func (c call) Info() remediate.PlannedStep {
	return remediate.PlannedStep{ID: "revoke-hook", Intent: "ask " + c.kp.Options.Hook + " to revoke the key (it gets the key's identity, never the secret)",
		Calls: []string{c.kp.Options.Hook + ` {"event":"revoke",...}`}, Touches: []string{c.kp.Provider + " credential " + c.kp.KeyID}}
}
func (c call) Done(context.Context, *remediate.State) (bool, error) { return false, nil }
func (c call) Do(ctx context.Context, st *remediate.State) error {
	ev := Event{Event: "revoke", Provider: c.kp.Provider, RuleID: c.kp.RuleID, KeyID: c.kp.KeyID, Fingerprint: c.kp.Fingerprint,
		SecretSHA256: c.kp.SecretSHA256, Owner: c.kp.Owner, Reason: c.kp.Reason, SentAt: st.Clock.Now().UTC().Format(time.RFC3339)}
	if err := distribute.Send(ctx, c.kp.Options.Hook, "revoke "+c.kp.KeyID, c.p.Deps, ev); err != nil {
		return err
	}
	st.SetTime("hook_called_at", st.Clock.Now())
	return nil
}
func (c call) Undo(context.Context, *remediate.State) error {
	return fmt.Errorf("a revocation by hook: %w", remediate.ErrNotUndoable)
}
