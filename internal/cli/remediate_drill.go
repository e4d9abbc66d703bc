package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/remediate"
	"github.com/keytrail/keytrail/remediate/awskeys"
)

func newRemediateDrillCmd(e *env) *cobra.Command {
	f := &remediateFlags{}
	var keyID, user, report string
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "drill --key-id CANARY --distribute TARGET...",
		Short: "Rotate a canary key end to end, timing each step, with a client working throughout; write a drill report",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyID == "" || len(f.distribute) == 0 {
				return errors.New("--key-id and at least one --distribute (secretsmanager: or vault:, which the drill's client reads) are required")
			}
			provs := remediateProviders(e, nil)
			if user == "" {
				u, err := iamUserOf(cmd.Context(), provs, keyID)
				if err != nil {
					return err
				}
				user = u
			}
			opts := remediate.OptionsFor(remediate.ActionRotate, f.options(cmd))
			kp := remediate.KeyPlan{Provider: "aws", KeyID: keyID, User: user, Action: remediate.ActionRotate, Reason: "rotation drill", Options: opts}
			if err := remediate.Fill(&kp, remediate.Planners(provs)); err != nil {
				return fmt.Errorf("drill %s: %w", keyID, err)
			}
			p := &remediate.Plan{Version: remediate.PlanVersion, GeneratedAt: time.Now().UTC(), Source: "keytrail remediate drill", Keys: []remediate.KeyPlan{kp}}
			j, err := remediate.OpenNewJournal(f.journal, time.Now())
			if err != nil {
				return err
			}
			defer j.Close()
			fmt.Fprintf(e.stdout, "journal: %s\n", j.Path())
			f.wait = true // a drill runs through the grace period
			d := &awskeys.Drill{Runner: newRunner(e, f, j, provs), Plan: p, Interval: interval, Provider: provs["aws"].(*awskeys.Provider)}
			rep, err := d.Run(cmd.Context())
			if err != nil {
				return err
			}
			rep.WriteText(e.stdout)
			if report != "" {
				data, _ := json.MarshalIndent(rep, "", "  ")
				if err := os.WriteFile(report, append(data, '\n'), 0o600); err != nil {
					return fmt.Errorf("--report %s: %w", report, err)
				}
			}
			if !rep.Passed {
				e.exit = ExitError
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyID, "key-id", "", "the canary key (AKIA...) the drill rotates")
	cmd.Flags().StringVar(&user, "user", "", "the canary's IAM user (default: looked up)")
	cmd.Flags().StringVar(&report, "report", "", "write the drill report as JSON here")
	cmd.Flags().DurationVar(&interval, "client-interval", 5*time.Second, "how often the drill's client reads the credential and calls STS")
	addPlanFlags(cmd, f)
	cmd.Flags().Lookup("grace").DefValue = "0s"
	f.grace = 0
	cmd.Flags().StringVar(&f.journal, "journal", "", "journal file (default .keytrail/remediation/<UTC timestamp>.journal)")
	return cmd
}
