package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
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
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, v, strings.Join(r.Tags, ","), r.Description)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%d rules\n", len(set.Rules))
			return nil
		},
	}
	cmd.AddCommand(list)
	return cmd
}
