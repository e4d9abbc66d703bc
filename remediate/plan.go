// Package remediate turns audited keys into a plan of steps and runs it:
// dual-key rotation and revocation, each external call journaled so a run
// killed at any point can be resumed or rolled back. It never stores a
// secret: not in the plan, not in the journal, not in an error.
package remediate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// PlanVersion is the plan format this package reads and writes.
const PlanVersion = 1

// Actions a key plan can carry.
const (
	ActionRotate = "rotate"
	ActionRevoke = "revoke"
	ActionNone   = "none"
)

// Plan is what `keytrail remediate plan` writes and `apply` runs.
type Plan struct {
	Version     int       `json:"version"`
	GeneratedAt time.Time `json:"generated_at"`
	Source      string    `json:"source,omitempty"`
	Keys        []KeyPlan `json:"keys"`
}

// KeyPlan is one key's action and the steps that carry it out.
type KeyPlan struct {
	Fingerprint string `json:"fingerprint,omitempty"`
	RuleID      string `json:"rule_id,omitempty"`
	Provider    string `json:"provider"`
	KeyID       string `json:"key_id"`
	User        string `json:"user,omitempty"` // the IAM user owning an AWS key
	Owner       string `json:"owner,omitempty"`
	// SecretSHA256 identifies a key that has no id (a token) without
	// holding it: base64 SHA-256, as keytrail audit reports it.
	SecretSHA256 string        `json:"secret_sha256,omitempty"`
	Action       string        `json:"action"`
	Reason       string        `json:"reason,omitempty"`
	Options      Options       `json:"options"`
	Steps        []PlannedStep `json:"steps"`
}

// Options tune a key's remediation.
type Options struct {
	Distribute     []string  `json:"distribute,omitempty"`
	Overlap        Duration  `json:"overlap,omitempty"`
	Grace          Duration  `json:"grace,omitempty"`
	DeleteInactive bool      `json:"delete_inactive,omitempty"`
	Force          bool      `json:"force,omitempty"`
	RevokeSessions bool      `json:"revoke_sessions,omitempty"`
	DeleteAfter    *Duration `json:"delete_after,omitempty"` // revoke: nil keeps the key, deactivated
	// GitHubAPI is where GitHub tokens are revoked (GitHub Enterprise
	// Server: https://HOST/api/v3); https://api.github.com when empty.
	GitHubAPI string `json:"github_api,omitempty"`
	// Hook, for a provider keytrail cannot revoke itself, is the exec:CMD
	// or webhook:URL a [[remediate.hook]] names; it gets the key's
	// identity (never the secret) and revokes it.
	Hook string `json:"hook,omitempty"`
}

// HookProvider is the provider name key plans with a hook run under.
const HookProvider = "hook"

// ProviderOf is the provider that remediates kp: its own, or the hook
// provider when a hook is named.
func ProviderOf(kp KeyPlan) string {
	if kp.Options.Hook != "" {
		return HookProvider
	}
	return kp.Provider
}

// PlannedStep describes one step: what it means to do, the API calls it
// makes (with their parameters) and the things it changes.
type PlannedStep struct {
	ID      string   `json:"id"`
	Intent  string   `json:"intent"`
	Calls   []string `json:"calls,omitempty"`
	Touches []string `json:"touches,omitempty"`
}

// Default durations of a rotation.
const (
	DefaultOverlap = 15 * time.Minute
	DefaultGrace   = 24 * time.Hour
)

// Duration is a time.Duration written as "15m0s" in JSON.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string ("15m", "24h").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"15m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want a value like \"15m\" or \"24h\"", s)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// Planner lists the steps of a key's action for one provider. It does no
// I/O, so plans can be made and checked offline.
type Planner interface {
	// Steps returns the steps kp's action takes, or an error naming the
	// field of kp that makes it impossible.
	Steps(kp KeyPlan) ([]PlannedStep, error)
}

// FieldError says which field of a key plan is wrong.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// UnsupportedError says a provider cannot take this key's action (a
// GitHub token kind the revocation API does not take): the plan makes the
// key's action none, with this as the reason, rather than fail.
type UnsupportedError struct{ Msg string }

func (e *UnsupportedError) Error() string { return e.Msg }

// Fill sets kp.Steps from its provider's planner; keys with action none,
// or a provider nobody remediates, get no steps.
func Fill(kp *KeyPlan, planners map[string]Planner) error {
	if kp.Action == ActionNone {
		kp.Steps = nil
		return nil
	}
	p, ok := planners[ProviderOf(*kp)]
	if !ok {
		return &FieldError{"provider", fmt.Sprintf("%q: no remediator for this provider (have %s)", kp.Provider, names(planners))}
	}
	steps, err := p.Steps(*kp)
	if err != nil {
		return err
	}
	kp.Steps = steps
	return nil
}

func names(planners map[string]Planner) string {
	var out []string
	for n := range planners {
		out = append(out, n)
	}
	if len(out) == 0 {
		return "none"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// WritePlan writes p as indented JSON.
func WritePlan(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// PlanError is a plan refused because of one line in it.
type PlanError struct {
	Name string // the file, or "plan"
	Line int    // 1-based; 0 when not known
	Msg  string
}

func (e *PlanError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", e.Name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Msg)
}

// ParsePlan reads and checks a plan. Every key's action and options must
// be valid and its steps must be exactly the steps that action takes (a
// plan edited into a step sequence keytrail would not run is refused),
// and the error names the line that is wrong.
func ParsePlan(name string, data []byte, planners map[string]Planner) (*Plan, error) {
	perr := func(off int64, format string, a ...any) error {
		return &PlanError{Name: name, Line: lineAt(data, off), Msg: fmt.Sprintf(format, a...)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	// Walk the top-level object by tokens so each key plan's offset is known.
	var p Plan
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(name, data, dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, perr(dec.InputOffset(), "a plan is a JSON object")
	}
	seen := map[string]bool{}
	var keyOffsets []int64
	var rawKeys []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(name, data, dec, err)
		}
		field, _ := tok.(string)
		fieldOff := dec.InputOffset()
		seen[field] = true
		switch field {
		case "version":
			if err := dec.Decode(&p.Version); err != nil {
				return nil, perr(fieldOff, "version: %v", err)
			}
		case "generated_at":
			if err := dec.Decode(&p.GeneratedAt); err != nil {
				return nil, perr(fieldOff, "generated_at: want an RFC 3339 time")
			}
		case "source":
			if err := dec.Decode(&p.Source); err != nil {
				return nil, perr(fieldOff, "source: want a string")
			}
		case "keys":
			t, err := dec.Token()
			if err != nil {
				return nil, jsonErr(name, data, dec, err)
			}
			if t == nil {
				break
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				return nil, perr(fieldOff, "keys: want an array")
			}
			for dec.More() {
				var raw json.RawMessage
				start := dec.InputOffset()
				if err := dec.Decode(&raw); err != nil {
					return nil, jsonErr(name, data, dec, err)
				}
				keyOffsets = append(keyOffsets, start+int64(leadingSpace(data[start:])))
				rawKeys = append(rawKeys, raw)
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonErr(name, data, dec, err)
			}
		default:
			return nil, perr(fieldOff, "unknown field %q", field)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(name, data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, perr(dec.InputOffset(), "unexpected data after the plan")
	}
	if !seen["version"] {
		return nil, &PlanError{Name: name, Line: 1, Msg: "missing field \"version\""}
	}
	if p.Version != PlanVersion {
		return nil, perr(fieldOffset(data, 0, "version"), "version %d: this keytrail reads plan version %d", p.Version, PlanVersion)
	}
	for i, raw := range rawKeys {
		base := keyOffsets[i]
		kdec := json.NewDecoder(bytes.NewReader(raw))
		kdec.DisallowUnknownFields()
		var kp KeyPlan
		if err := kdec.Decode(&kp); err != nil {
			return nil, keyDecodeErr(name, data, base, raw, i, err)
		}
		at := func(field string) int64 { return fieldOffset(data, base, field) }
		switch kp.Action {
		case ActionRotate, ActionRevoke, ActionNone:
		default:
			return nil, perr(at("action"), "keys[%d].action %q: want rotate, revoke or none", i, kp.Action)
		}
		if kp.KeyID == "" && kp.Action != ActionNone {
			return nil, perr(base, "keys[%d]: missing key_id", i)
		}
		want := kp
		if err := Fill(&want, planners); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return nil, perr(at(fe.Field), "keys[%d].%s", i, fe.Error())
			}
			return nil, perr(base, "keys[%d]: %v", i, err)
		}
		if err := sameSteps(kp.Steps, want.Steps); err != nil {
			off := at("steps")
			if err.index >= 0 {
				off = fieldOffsetNth(data, base, "id", err.index)
			}
			return nil, perr(off, "keys[%d].steps: %s", i, err.msg)
		}
		kp.Steps = want.Steps // descriptions come from keytrail, not the file
		p.Keys = append(p.Keys, kp)
	}
	return &p, nil
}

type stepsErr struct {
	index int
	msg   string
}

func sameSteps(got, want []PlannedStep) *stepsErr {
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(want):
			return &stepsErr{i, fmt.Sprintf("step %q is not part of this action (the action has %d steps)", got[i].ID, len(want))}
		case i >= len(got):
			return &stepsErr{-1, fmt.Sprintf("step %q is missing (the action's steps are %s)", want[i].ID, stepIDs(want))}
		case got[i].ID != want[i].ID:
			return &stepsErr{i, fmt.Sprintf("step %d is %q, want %q (the action's steps are %s)", i+1, got[i].ID, want[i].ID, stepIDs(want))}
		}
	}
	return nil
}

func stepIDs(s []PlannedStep) string {
	var ids []string
	for _, st := range s {
		ids = append(ids, st.ID)
	}
	return strings.Join(ids, ", ")
}

func jsonErr(name string, data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	// A streaming decoder's syntax offsets are relative to the value it
	// was reading; a whole-document parse gives the absolute one.
	var se *json.SyntaxError
	if errors.As(json.Unmarshal(data, new(any)), &se) {
		off = se.Offset
		err = se
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || (se != nil && se.Offset >= int64(len(data))) {
		return &PlanError{Name: name, Line: lineAt(data, int64(len(data))), Msg: "unexpected end of the plan (truncated?)"}
	}
	return &PlanError{Name: name, Line: lineAt(data, off), Msg: "invalid JSON: " + err.Error()}
}

func keyDecodeErr(name string, data []byte, base int64, raw json.RawMessage, i int, err error) error {
	var te *json.UnmarshalTypeError
	off := base
	msg := err.Error()
	if errors.As(err, &te) {
		off = base + te.Offset
		if te.Field != "" {
			msg = fmt.Sprintf("field %s: want %s", te.Field, te.Type)
		}
	} else if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		field := strings.Trim(f, `"`)
		off = fieldOffset(data, base, field)
		msg = "unknown field " + f
	} else {
		// A value's own UnmarshalJSON failed (a bad duration): find it.
		for _, f := range []string{"overlap", "grace", "delete_after"} {
			if strings.Contains(msg, "duration") && bytes.Contains(raw, []byte(`"`+f+`"`)) {
				off = fieldOffset(data, base, f)
				if durBad(raw, f) {
					msg = f + ": " + strings.TrimPrefix(msg, "json: ")
					break
				}
			}
		}
	}
	return &PlanError{Name: name, Line: lineAt(data, off), Msg: fmt.Sprintf("keys[%d]: %s", i, msg)}
}

// durBad reports whether the options field f of raw fails to parse.
func durBad(raw json.RawMessage, f string) bool {
	var k struct {
		Options map[string]json.RawMessage `json:"options"`
	}
	if json.Unmarshal(raw, &k) != nil {
		return false
	}
	v, ok := k.Options[f]
	if !ok {
		return false
	}
	var d Duration
	return d.UnmarshalJSON(v) != nil
}

// lineAt is the 1-based line holding byte offset off.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

func leadingSpace(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\n' || b[n] == '\t' || b[n] == '\r' || b[n] == ',') {
		n++
	}
	return n
}

// fieldOffset finds `"field"` at or after base; base when absent.
func fieldOffset(data []byte, base int64, field string) int64 {
	return fieldOffsetNth(data, base, field, 0)
}

func fieldOffsetNth(data []byte, base int64, field string, n int) int64 {
	if base < 0 || base > int64(len(data)) {
		return base
	}
	needle := []byte(`"` + field + `"`)
	pos := base
	for {
		i := bytes.Index(data[pos:], needle)
		if i < 0 {
			return base
		}
		if n == 0 {
			return pos + int64(i)
		}
		n--
		pos += int64(i) + int64(len(needle))
	}
}
