package cli

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/internal/config"
	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/scanner"
)

func newRulesCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Inspect detection rules"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the rules in effect (built-in plus config)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(g.config, ".")
			if err != nil {
				return err
			}
			set, err := cfg.RuleSet()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tVALIDATOR\tTAGS\tDESCRIPTION")
			for _, r := range set.Rules {
				v := r.Validator
				if v == "" {
					v = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", report.TerminalSafe(r.ID), r.Severity, v, report.TerminalSafe(strings.Join(r.Tags, ",")), report.TerminalSafe(r.Description))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%d rules\n", len(set.Rules))
			return nil
		},
	}
	cmd.AddCommand(list, newRulesTestCmd(e))
	return cmd
}

func newRulesTestCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE",
		Short: "Run a rule file's own examples against its rules",
		Long: "Load a rule/config file (keytrail format, or a gitleaks config), compile it, and run each\n" +
			"rule's examples (must match, and contain a keyword) and negative_examples (must not match).\n\n" +
			"Exit codes: 0 all examples pass, 1 an example fails, 2 the file is invalid.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", report.TerminalSafe(w))
			}
			if len(cfg.Rules) == 0 {
				return fmt.Errorf("%s: no rules to test", args[0])
			}
			// Compiles the user's rules in place, and checks the rest
			// of the config (disable ids, duplicates) as a scan would.
			if _, err := cfg.RuleSet(); err != nil {
				return err
			}
			rs := slices.Clone(cfg.Rules)
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
			var pass, fail, untested int
			for _, r := range rs {
				if len(r.Examples)+len(r.Negatives) == 0 {
					untested++
					fmt.Fprintf(e.stdout, "SKIP  %s: no examples\n", r.ID)
					continue
				}
				for i, ex := range r.Examples {
					var why string
					switch ms := r.FindAll([]byte(ex), false); {
					case len(ms) == 0:
						why = "not matched"
					case !hasKeyword(ex, r.Keywords):
						why = fmt.Sprintf("matched, but contains none of the keywords %v, so the prefilter would skip it", r.Keywords)
					}
					exampleResult(e, r.ID, "examples", i, why, &pass, &fail)
				}
				for i, ex := range r.Negatives {
					var why string
					if ms := r.FindAll([]byte(ex), false); len(ms) > 0 {
						why = fmt.Sprintf("matched %q at byte %d", scanner.Redact(ms[0].Secret), ms[0].SecretStart)
					}
					exampleResult(e, r.ID, "negative_examples", i, why, &pass, &fail)
				}
			}
			fmt.Fprintf(e.stdout, "%d passed, %d failed, %d rule(s) without examples\n", pass, fail, untested)
			if fail > 0 {
				return exitError{ExitFindings}
			}
			return nil
		},
	}
}

func exampleResult(e *env, id, field string, i int, why string, pass, fail *int) {
	if why == "" {
		*pass++
		fmt.Fprintf(e.stdout, "PASS  %s %s[%d]\n", id, field, i)
		return
	}
	*fail++
	fmt.Fprintf(e.stdout, "FAIL  %s %s[%d]: %s\n", id, field, i, why)
}

func hasKeyword(s string, kws []string) bool {
	ls := strings.ToLower(s)
	for _, k := range kws {
		if strings.Contains(ls, k) {
			return true
		}
	}
	return false
}
