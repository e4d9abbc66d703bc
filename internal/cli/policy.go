package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/remediate"
)

// policyVerdict is one key measured against the [policy] table.
type policyVerdict struct {
	KeyID      string `json:"key_id"`
	Provider   string `json:"provider"`
	Owner      string `json:"owner,omitempty"`
	AgeDays    *int   `json:"age_days,omitempty"`
	MaxAgeDays int    `json:"max_age_days"`
	State      string `json:"state"` // due, soon, ok, unknown, gone
	DueInDays  *int   `json:"due_in_days,omitempty"`
	Unused     bool   `json:"unused"`
	Action     string `json:"action"` // what remediate would do: rotate, revoke, none
	Overlap    string `json:"overlap,omitempty"`
	Grace      string `json:"grace,omitempty"`
	Why        string `json:"why"`
}

func newPolicyCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Key-rotation policy as code ([policy] in .keytrail.toml)"}
	var from, format string
	check := &cobra.Command{
		Use:   "check --from audit.json",
		Short: "Measure the inventory against the [policy] table: which keys are due, and what remediate would do",
		Long: `policy check reads keytrail audit JSON (the inventory) and the [policy] table
(max_age_days, warn_days, unused_days, overlap, grace, and [[policy.override]]
per IAM path or tag), and says for each key whether rotation is due and what
keytrail remediate would do, with which overlap and grace. Exit 1 when a key
is due or must be revoked, 0 when none is, 2 on error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return errors.New("--from: name the keytrail audit JSON file (the inventory)")
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			cfg, err := loadConfig(g.config, ".")
			if err != nil {
				return err
			}
			keys, err := readAuditKeysFrom(e, from)
			if err != nil {
				return err
			}
			vs := checkPolicy(keys, cfg.AuditPolicy(), e.now())
			violations := 0
			for _, v := range vs {
				if v.Action != remediate.ActionNone {
					violations++
				}
			}
			if format == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"keys": vs, "due": violations}); err != nil {
					return err
				}
			} else {
				for _, v := range vs {
					age := "?"
					if v.AgeDays != nil {
						age = fmt.Sprint(*v.AgeDays)
					}
					fmt.Fprintf(e.stdout, "%-6s %-22s age %4s/%-4d %-7s -> %s", v.Provider, v.KeyID, age, v.MaxAgeDays, v.State, v.Action)
					if v.Action == remediate.ActionRotate {
						fmt.Fprintf(e.stdout, " (overlap %s, grace %s)", v.Overlap, v.Grace)
					}
					fmt.Fprintf(e.stdout, ": %s\n", v.Why)
				}
				fmt.Fprintf(e.stdout, "%d key(s), %d need action\n", len(vs), violations)
			}
			if violations > 0 {
				e.exit = ExitFindings
			}
			return nil
		},
	}
	check.Flags().StringVar(&from, "from", "", "keytrail audit JSON: the inventory (- for stdin)")
	check.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.AddCommand(check)
	return cmd
}

func checkPolicy(keys []audit.Key, p audit.Policy, now time.Time) []policyVerdict {
	p = p.WithDefaults()
	var out []policyVerdict
	for _, k := range keys {
		v := policyVerdict{KeyID: k.KeyID, Provider: k.Provider, Owner: k.Owner, MaxAgeDays: p.MaxAgeFor(k.OwnerPath, k.OwnerTags), State: "unknown", Action: remediate.ActionNone}
		if v.KeyID == "" {
			v.KeyID = k.Hint
		}
		age := k.AgeDays
		if age == nil && k.CreatedAt != nil {
			a := int(now.Sub(*k.CreatedAt).Hours() / 24)
			age = &a
		}
		v.AgeDays = age
		if k.LastUsedAt != nil {
			v.Unused = now.Sub(*k.LastUsedAt) > time.Duration(p.UnusedDays)*24*time.Hour
		} else {
			v.Unused = age != nil && *age > p.UnusedDays // never used in all that time
		}
		switch {
		case k.Status == "deleted" || k.Status == "inactive":
			v.State, v.Why = "gone", "the key is "+k.Status
		case age == nil:
			v.Why = "the key's age is unknown (run keytrail audit with provider access)"
		default:
			left := v.MaxAgeDays - *age
			v.DueInDays = &left
			switch {
			case left <= 0:
				v.State, v.Why = "due", fmt.Sprintf("%d days old, over the %d-day maximum by %d", *age, v.MaxAgeDays, -left)
			case left <= p.WarnDays:
				v.State, v.Why = "soon", fmt.Sprintf("rotation due in %d days", left)
			default:
				v.State, v.Why = "ok", fmt.Sprintf("rotation due in %d days", left)
			}
		}
		switch {
		case v.State == "gone":
		case k.Recommendation == "revoke-now":
			v.Action, v.Why = remediate.ActionRevoke, "leaked and used after the leak: revoke now; "+v.Why
		case v.State == "due":
			v.Action = remediate.ActionRotate
		}
		if v.Unused && v.Action == remediate.ActionRotate {
			v.Why += fmt.Sprintf("; unused for over %d days: consider revoking instead", p.UnusedDays)
		}
		if v.Action == remediate.ActionRotate {
			o, g := p.RotationTimings(k.OwnerPath, k.OwnerTags)
			v.Overlap, v.Grace = orDefault(o, remediate.DefaultOverlap).String(), orDefault(g, remediate.DefaultGrace).String()
		}
		out = append(out, v)
	}
	return out
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
