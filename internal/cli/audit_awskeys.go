package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/audit/awsaudit"
	"github.com/keytrail/keytrail/internal/report"
)

// newAuditAWSKeysCmd is `keytrail audit aws-keys`: the key-age policy
// over every IAM user key of the account(s), no scan needed. It reads
// --profile, --assume-role and --region from the audit's AWS provider.
func newAuditAWSKeysCmd(e *env, g *globalFlags, providers []auditProvider) *cobra.Command {
	var p *awsProvider
	for _, pr := range providers {
		if ap, ok := pr.(*awsProvider); ok {
			p = ap
		}
	}
	var format, output string
	cmd := &cobra.Command{
		Use:   "aws-keys",
		Short: "Inventory every IAM user key (and root keys) against the key-age policy",
		Long: `List every access key of the IAM users of the account (or of each
--assume-role account) with its age, last use and what breaks the [policy]
of .keytrail.toml: over max_age_days (with the date rotation was due),
unused for unused_days, never used, two active keys on one user, and
access keys of the root user (from the credential report).

Exit codes: 0 no key breaks the policy; 1 some key does; 2 the inventory
could not be completed.`,
		Example: `  keytrail audit aws-keys --profile security-audit
  keytrail audit aws-keys --assume-role arn:aws:iam::111122223333:role/KeytrailAudit --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			cfg, err := loadConfig(g.config, ".")
			if err != nil {
				return err
			}
			var opts awsaudit.ConnectOptions
			if p != nil {
				opts = awsaudit.ConnectOptions{Profile: p.profile, Roles: p.roles, Regions: p.regions, Getenv: os.Getenv}
			}
			accts, err := awsaudit.Connect(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("aws: %w", err)
			}
			keys, errs := awsaudit.Inventory(cmd.Context(), accts, cfg.AuditPolicy(), e.now())
			w := e.stdout
			var f *os.File
			if output != "" {
				if f, err = os.Create(output); err != nil {
					return fmt.Errorf("--output: %w", err)
				}
				defer f.Close()
				w = f
			}
			if format == "json" {
				msgs := []string{}
				for _, err := range errs {
					msgs = append(msgs, err.Error())
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				err = enc.Encode(map[string]any{"generated_at": e.now().UTC(), "keys": nonNil(keys), "errors": msgs})
			} else {
				err = writeAWSKeysText(w, keys)
			}
			if err != nil {
				return err
			}
			if f != nil {
				if err := f.Close(); err != nil {
					return fmt.Errorf("--output %s: %w", output, err)
				}
			}
			for _, err := range errs {
				fmt.Fprintf(e.stderr, "keytrail: %s\n", report.TerminalSafe(err.Error()))
			}
			e.exit = ExitClean
			for _, k := range keys {
				if len(k.Violations) > 0 {
					e.exit = ExitFindings
				}
			}
			if len(errs) > 0 {
				e.exit = ExitError
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "report format: text, json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to this file instead of standard output")
	if p == nil {
		p = &awsProvider{}
		p.register(cmd.Flags())
	}
	return cmd
}

func nonNil(k []awsaudit.InventoryKey) []awsaudit.InventoryKey {
	if k == nil {
		return []awsaudit.InventoryKey{}
	}
	return k
}

func writeAWSKeysText(w io.Writer, keys []awsaudit.InventoryKey) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tUSER\tKEY\tSTATUS\tAGE\tMAX\tROTATION DUE\tLAST USED\tPROBLEMS")
	bad := 0
	for _, k := range keys {
		age, due, last := "-", "-", "never"
		if k.AgeDays != nil {
			age = fmt.Sprintf("%dd", *k.AgeDays)
		}
		if k.RotationDue != nil {
			due = k.RotationDue.Format("2006-01-02")
		}
		if k.LastUsedAt != nil {
			last = k.LastUsedAt.Format("2006-01-02") + " " + k.LastUsedService + "/" + k.LastUsedRegion
		}
		id := k.KeyID
		if id == "" {
			id = "(root key)"
		}
		problems := strings.Join(k.Problems, ", ")
		if len(k.Violations) > 0 {
			bad++
			problems = "VIOLATES: " + problems
		}
		if len(k.Errors) > 0 {
			problems += " (" + strings.Join(k.Errors, "; ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%dd\t%s\t%s\t%s\n", k.AccountID, report.TerminalSafe(k.User), id, k.Status, age, k.MaxAgeDays, due,
			report.TerminalSafe(last), report.TerminalSafe(problems))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d key(s), %d breaking the policy\n", len(keys), bad)
	return err
}
