package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/internal/baseline"
	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/scanner"
)

// scanSink takes a scan's unredacted result instead of the report writer;
// `keytrail baseline` installs one on the invocation's env so every scan
// source (dir, stdin, logs, git) works unchanged.
type scanSink func(e *env, sf *scanFlags, res *scanner.Result, root string) error

// applySuppressions drops findings listed in the --baseline file or in
// .keytrailignore / .gitleaksignore at the scanned root. It runs before
// redaction because fingerprints cover the secret.
// In a range scan (or with --baseline-from) they are read from the base
// revision, and entries only the working tree has mark findings
// suppressed_by_change instead of dropping them (trust.go).
func applySuppressions(ctx context.Context, e *env, sf *scanFlags, res *scanner.Result, root string) error {
	_, rev := sf.trustRevs()
	b, ig, err := loadSuppressionFiles(ctx, sf, root, rev)
	if err != nil {
		return err
	}
	if b != nil || ig.Len() > 0 {
		var n int
		res.Findings, n = baseline.Filter(res.Findings, root, b, ig)
		if n > 0 {
			e.log.Info().Int("suppressed", n).Int("new", len(res.Findings)).Msg("findings in the baseline or an ignore file were not reported")
		}
	}
	if rev != "" {
		markFileSuppressions(sf, root, res.Findings)
	}
	return nil
}

func newBaselineCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Record reviewed findings so scans report only new ones",
		Long: `A baseline lists findings that were reviewed (fingerprint, rule, path,
a redacted hint, an optional reason; never the secret). ` + "`keytrail scan ... --baseline FILE`" + `
then reports only findings that are not in it, and exits 1 only for those.

Fingerprints cover rule, path and secret but not line numbers, commits or
dates, so moving lines or reformatting a file does not change the baseline,
and the file is sorted for small diffs. Edit the "reason" fields by hand;
` + "`baseline update`" + ` keeps them.

.keytrailignore (or .gitleaksignore) at the scanned root, one fingerprint
per line with # comments, suppresses findings without a baseline.`,
	}
	cmd.AddCommand(newBaselineSubCmd(e, g, false), newBaselineSubCmd(e, g, true))
	return cmd
}

// newBaselineSubCmd builds `baseline create` or `baseline update` with the
// scan sources as subcommands: `baseline create --output FILE dir .`.
func newBaselineSubCmd(e *env, g *globalFlags, update bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create SOURCE [ARGS]",
		Short: "Scan a source and write every finding to a new baseline file",
		Example: `  keytrail baseline create --output .keytrail-baseline.json dir .
  keytrail baseline create --output .keytrail-baseline.json git .`,
	}
	if update {
		cmd.Use = "update SOURCE [ARGS]"
		cmd.Short = "Scan a source again: add new findings to the baseline, prune gone ones, keep reasons"
		cmd.Example = `  keytrail baseline update --baseline .keytrail-baseline.json dir .`
	}
	scan := newScanCmd(e, g)
	for _, sub := range scan.Commands() {
		scan.RemoveCommand(sub)
		adaptForBaseline(e, sub, update)
		cmd.AddCommand(sub)
	}
	return cmd
}

// adaptForBaseline points a scan subcommand's run at the baseline sink
// and hides the report-only flags.
func adaptForBaseline(e *env, sub *cobra.Command, update bool) {
	run := sub.RunE
	sink := createBaseline
	if update {
		sink = updateBaseline
	}
	sub.RunE = func(cmd *cobra.Command, args []string) error {
		e.sink = sink
		return run(cmd, args)
	}
	fl := sub.Flags()
	for _, name := range []string{"format", "show-secrets", "exit-code", "sarif-category"} {
		if fl.Lookup(name) != nil {
			_ = fl.MarkHidden(name)
		}
	}
	if update {
		if f := fl.Lookup("output"); f != nil {
			_ = fl.MarkHidden("output")
		}
		if f := fl.Lookup("baseline"); f != nil {
			f.Usage = "baseline file to update (default " + baseline.DefaultFile + ")"
		}
	} else {
		if f := fl.Lookup("output"); f != nil {
			f.Usage = "baseline file to write (default " + baseline.DefaultFile + ")"
		}
		if fl.Lookup("baseline") != nil {
			_ = fl.MarkHidden("baseline")
		}
	}
}

// suppressForBaseline applies the ignore files, so entries already
// ignored there do not also land in the baseline.
func suppressForBaseline(res *scanner.Result, root string) error {
	ig, err := baseline.LoadIgnore(root)
	if err != nil {
		return err
	}
	res.Findings, _ = baseline.Filter(res.Findings, root, nil, ig)
	return nil
}

func reportScanErrors(e *env, res *scanner.Result) {
	for _, se := range res.Errors {
		fmt.Fprintf(e.stderr, "keytrail: not scanned: %s\n", report.TerminalSafe(se.Error()))
	}
}

func createBaseline(e *env, sf *scanFlags, res *scanner.Result, root string) error {
	path := sf.output
	if path == "" {
		path = baseline.DefaultFile
	}
	if err := suppressForBaseline(res, root); err != nil {
		return err
	}
	b := baseline.FromFindings(res.Findings, root)
	if err := b.Save(path); err != nil {
		return err
	}
	reportScanErrors(e, res)
	fmt.Fprintf(e.stderr, "keytrail: baseline %s written with %d finding(s)\n", path, len(b.Findings))
	e.exit = ExitClean
	if len(res.Errors) > 0 {
		fmt.Fprintf(e.stderr, "keytrail: the scan was incomplete; findings in what was not scanned are missing from the baseline\n")
		e.exit = ExitError
	}
	return nil
}

func updateBaseline(e *env, sf *scanFlags, res *scanner.Result, root string) error {
	path := sf.baseline
	if path == "" {
		path = baseline.DefaultFile
	}
	old, err := baseline.Load(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		old = nil
	}
	reportScanErrors(e, res)
	if len(res.Errors) > 0 {
		// Pruning after a partial scan would drop reviewed entries.
		fmt.Fprintf(e.stderr, "keytrail: the scan was incomplete; baseline %s left unchanged\n", path)
		e.exit = ExitError
		return nil
	}
	if err := suppressForBaseline(res, root); err != nil {
		return err
	}
	next, st := old.Update(res.Findings, root)
	if err := next.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "keytrail: baseline %s updated: %d added, %d pruned, %d kept\n", path, st.Added, st.Pruned, st.Kept)
	e.exit = ExitClean
	return nil
}
