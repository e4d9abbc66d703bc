package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/config"
	"github.com/keytrail/keytrail/remediate"
)

func newRemediatePlanCmd(e *env, g *globalFlags) *cobra.Command {
	f := &remediateFlags{}
	af := &auditFlags{}
	providers := e.providers()
	var from, out string
	cmd := &cobra.Command{
		Use:   "plan (dir|git|stdin|logs|github) [ARGS] | plan --from audit.json",
		Short: "Write a remediation plan (per key: revoke, rotate or none, and every step) from an audit",
		Long: `plan writes what remediate apply will do, per key: the action (revoke,
rotate or none, with the reason) and every step with the API calls it makes.

It audits in-process, with the same sources and flags as keytrail audit
(plan git ., plan dir PATH --aws, ...), or reads the JSON of an earlier
keytrail audit --format json with --from FILE (- for standard input).
The plan never holds a secret.`,
		Example: `  keytrail remediate plan git . --aws --distribute secretsmanager:prod/app -o plan.json
  keytrail remediate plan --from audit.json --distribute secretsmanager:prod/app -o plan.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return errors.New("give a source to audit (remediate plan dir|git|stdin|logs|github ...) or --from FILE (the JSON of keytrail audit --format json)")
			}
			keys, err := readAuditKeysFrom(e, from)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(g.config, ".")
			if err != nil {
				return err
			}
			return writeRemediationPlan(cmd, e, f, keys, cfg, from, out, nil)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "keytrail audit JSON to plan from (- for stdin)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the plan here (mode 0600) instead of stdout")
	pf := cmd.PersistentFlags()
	addPlanFlagSet(pf, f)
	pf.StringVar(&f.githubAPI, "github-api", githubAPIURL(""), "where GitHub tokens are revoked: GitHub's API (GitHub Enterprise Server: https://HOST/api/v3; default $GITHUB_API_URL, else https://api.github.com)")
	addAuditFlags(pf, af, providers)
	for _, sub := range auditSources(e, g, nil, "Scan, audit and plan the remediation of", func(cmd *cobra.Command, sf *scanFlags, in auditInput) error {
		a, err := assessKeys(cmd.Context(), e, g, af, providers, in)
		if err != nil {
			return err
		}
		return writeRemediationPlan(cmd, e, f, a.keys, a.cfg, "audit of "+cmd.Name()+" "+in.configRoot, sf.output, a.inputErrors)
	}) {
		if fl := sub.Flags().Lookup("output"); fl != nil {
			fl.Usage = "write the plan here (mode 0600) instead of stdout"
		}
		if fl := sub.Flags().Lookup("format"); fl != nil {
			fl.Usage = "ignored: a plan is JSON"
			_ = sub.Flags().MarkHidden("format")
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

// writeRemediationPlan turns audited keys into a plan and writes it (to
// out, mode 0600, or stdout). inputErrors (what the audit could not read)
// are printed and make the exit code 2, as do keys that cannot be planned.
func writeRemediationPlan(cmd *cobra.Command, e *env, f *remediateFlags, keys []audit.Key, cfg *config.Config, source, out string, inputErrors []string) error {
	provs := remediateProviders(e, nil)
	p, errs := remediate.FromAudit(keys, f.options(cmd), source, time.Now(), remediate.Planners(provs),
		func(k audit.Key) string { return cfg.HookFor(k.RuleID, k.Provider) })
	// The [policy] table's overlap and grace (per environment) apply
	// unless the flags say otherwise.
	pol := cfg.AuditPolicy()
	for i := range p.Keys {
		kp := &p.Keys[i]
		if kp.Action != remediate.ActionRotate {
			continue
		}
		o, gr := pol.RotationTimings(keys[i].OwnerPath, keys[i].OwnerTags)
		if o > 0 && !cmd.Flags().Changed("overlap") {
			kp.Options.Overlap = remediate.Duration(o)
		}
		if gr > 0 && !cmd.Flags().Changed("grace") {
			kp.Options.Grace = remediate.Duration(gr)
		}
	}
	for _, msg := range inputErrors {
		fmt.Fprintf(e.stderr, "keytrail: %s\n", msg)
	}
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "keytrail: %v\n", err)
	}
	w := e.stdout
	if out != "" {
		fh, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("--output %s: %w", out, err)
		}
		defer fh.Close()
		w = fh
	}
	if err := remediate.WritePlan(w, p); err != nil {
		return err
	}
	if len(errs) > 0 || len(inputErrors) > 0 {
		e.exit = ExitError
	} else {
		e.exit = ExitClean
	}
	return nil
}
