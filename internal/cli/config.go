package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/internal/config"
	"github.com/keytrail/keytrail/internal/report"
)

func newConfigCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with keytrail config files"}
	var out string
	imp := &cobra.Command{
		Use:   "import-gitleaks FILE",
		Short: "Convert a gitleaks TOML config into a keytrail config",
		Long: "Convert a gitleaks v8 TOML config (rules, allowlists, [extend]) into keytrail's format.\n" +
			"The result is written to standard output or -o FILE; what cannot be carried over exactly\n" +
			"is listed as warnings on standard error and as comments in the output.\n" +
			"--config also accepts a gitleaks config directly, converting it in memory.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := config.ImportGitleaks(args[0])
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := res.WriteTOML(&buf); err != nil {
				return fmt.Errorf("writing converted config: %w", err)
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", report.TerminalSafe(w))
			}
			if out == "" || out == "-" {
				_, err = e.stdout.Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("writing converted config: %w", err)
			}
			fmt.Fprintf(e.stderr, "wrote %s (%d rules)\n", out, len(res.Config.Rules))
			return nil
		},
	}
	imp.Flags().StringVarP(&out, "output", "o", "", "write the keytrail config to this file instead of standard output")
	cmd.AddCommand(imp)
	return cmd
}
