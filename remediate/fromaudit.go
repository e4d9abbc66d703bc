package remediate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keytrail/keytrail/audit"
)

// FromAudit makes a plan from `keytrail audit` keys: revoke-now becomes
// revoke, rotate becomes rotate, anything else none. opts are the options
// every acting key gets (--distribute, --overlap, ...).
//
// hook, when set, returns the exec or webhook hook configured for a key
// whose provider keytrail cannot remediate ("" for none).
func FromAudit(keys []audit.Key, opts Options, source string, now time.Time, planners map[string]Planner, hook func(audit.Key) string) (*Plan, []error) {
	p := &Plan{Version: PlanVersion, GeneratedAt: now.UTC(), Source: source, Keys: []KeyPlan{}}
	var errs []error
	for _, k := range keys {
		kp := KeyPlan{Fingerprint: k.Fingerprint, RuleID: k.RuleID, Provider: strings.ToLower(k.Provider), KeyID: k.KeyID, Owner: k.Owner, SecretSHA256: k.SecretSHA256, Options: opts}
		if kp.KeyID == "" {
			kp.KeyID = k.Hint // tokens have no id; the hint names them in plans and journals
		}
		if kp.Provider == "aws" {
			kp.User = IAMUserFromARN(k.Owner)
		}
		switch {
		case k.Status == "deleted":
			kp.Action, kp.Reason = ActionNone, "the key no longer exists"
		case k.Recommendation == "revoke-now":
			kp.Action, kp.Reason = ActionRevoke, firstReason(k, "audit recommends revoking now")
		case k.Recommendation == "rotate":
			kp.Action, kp.Reason = ActionRotate, firstReason(k, "audit recommends rotation")
		default:
			kp.Action, kp.Reason = ActionNone, fmt.Sprintf("audit recommends %q", k.Recommendation)
		}
		if kp.Action != ActionNone {
			if _, ok := planners[kp.Provider]; !ok {
				if h := hookFor(hook, k); h != "" && planners[HookProvider] != nil {
					kp.Action, kp.Options = ActionRevoke, Options{Hook: h}
					kp.Reason += "; revoked through the configured hook"
				} else {
					kp.Reason = fmt.Sprintf("%s; but keytrail cannot remediate %q keys, do it by hand (or name a [[remediate.hook]])", kp.Reason, k.Provider)
					kp.Action = ActionNone
				}
			}
		}
		if kp.Action == ActionRotate && kp.Provider == "aws" && kp.User == "" {
			kp.Reason = "rotation needs the owning IAM user, and the audit did not find it (owner " + orDash(k.Owner) + ")"
			kp.Action = ActionNone
		}
		if kp.Options.Hook == "" {
			kp.Options = OptionsFor(kp.Action, opts)
			switch {
			case kp.Provider == "github" && kp.Action == ActionRevoke:
				kp.Options = Options{GitHubAPI: opts.GitHubAPI}
			case kp.Provider == "github" && kp.Action == ActionRotate:
				// Revoking a token still in use is an outage; only its owner
				// can make the replacement.
				kp.Action, kp.Options = ActionNone, Options{}
				kp.Reason += "; GitHub tokens cannot be rotated through an API: have the owner make a new token, then revoke this one (plan it with the audit's revoke-now, or keytrail remediate revoke-github)"
			}
		}
		if err := Fill(&kp, planners); err != nil {
			var ue *UnsupportedError
			if errors.As(err, &ue) {
				kp.Action, kp.Reason, kp.Options, kp.Steps = ActionNone, kp.Reason+"; but "+ue.Msg, Options{}, nil
			} else {
				errs = append(errs, fmt.Errorf("key %s: %w", orDash(kp.KeyID), err))
				kp.Action, kp.Reason, kp.Options, kp.Steps = ActionNone, err.Error(), Options{}, nil
			}
		}
		p.Keys = append(p.Keys, kp)
	}
	return p, errs
}

// OptionsFor keeps the options that apply to action: distribution,
// overlap, grace, delete-inactive and force for rotate; revoke-sessions
// and delete-after for revoke.
func OptionsFor(action string, o Options) Options {
	switch action {
	case ActionRotate:
		return Options{Distribute: o.Distribute, Overlap: o.Overlap, Grace: o.Grace, DeleteInactive: o.DeleteInactive, Force: o.Force}
	case ActionRevoke:
		return Options{RevokeSessions: o.RevokeSessions, DeleteAfter: o.DeleteAfter}
	}
	return Options{}
}

func firstReason(k audit.Key, def string) string {
	if len(k.Reasons) > 0 {
		return k.Reasons[0]
	}
	return def
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// IAMUserFromARN returns the user name of arn:aws:iam::ACCOUNT:user/PATH/NAME,
// or "" for anything else (roles, root, a login).
func IAMUserFromARN(arn string) string {
	_, rest, ok := strings.Cut(arn, ":user/")
	if !ok || !strings.HasPrefix(arn, "arn:aws") {
		return ""
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}

func hookFor(hook func(audit.Key) string, k audit.Key) string {
	if hook == nil {
		return ""
	}
	return hook(k)
}
