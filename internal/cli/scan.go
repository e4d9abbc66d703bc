package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/internal/config"
	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
	"github.com/keytrail/keytrail/scanner/source"
)

// scanFlags are shared by every scan subcommand.
type scanFlags struct {
	format        string
	output        string
	showSecrets   bool
	exitCode      int
	maxFileSize   int64
	reportInvalid bool
	minConfidence string
	workers       int
	noProgress    bool
	sarifCategory string
	decodeDepth   int
	noisyFiles    bool
	baseline      string // see baseline.go

	// Where suppressions come from (trust.go).
	configFrom, baselineFrom string
	failOnNewSuppressions    bool
	rangeBase                string // set by scan git --range / --since-commit
}

func (f *scanFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "text", "report format: "+strings.Join(report.Formats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "print secrets in full (redacted by default everywhere)")
	fl.IntVar(&f.exitCode, "exit-code", ExitFindings, "exit code when findings are reported")
	fl.Int64Var(&f.maxFileSize, "max-file-size", 100<<20, "skip files larger than this many bytes (0: no limit)")
	fl.BoolVar(&f.reportInvalid, "report-invalid", false, "also report tokens that fail their checksum/structure check, marked invalid")
	fl.StringVar(&f.minConfidence, "min-confidence", rules.ConfidenceMedium, "drop findings below this confidence: low, medium, high (medium: precision 0.90 on labelled real code, see BENCHMARKS.md)")
	fl.IntVar(&f.workers, "workers", 0, "scan workers (default: number of CPUs; twice that for git history)")
	fl.BoolVar(&f.noProgress, "no-progress", false, "never show the progress bar")
	fl.IntVar(&f.decodeDepth, "max-decode-depth", scanner.DefaultDecodeDepth, "decode base64/hex/percent/\\u-escaped text this many layers deep to find secrets inside (0: off)")
	fl.BoolVar(&f.noisyFiles, "scan-noisy-files", false, "apply generic rules to lock files, minified bundles and vendored code too (provider rules always apply)")
	fl.StringVar(&f.sarifCategory, "sarif-category", "", "SARIF automationDetails.id, so several scans of one repo do not overwrite each other")
	fl.StringVar(&f.baseline, "baseline", "", "report only findings not in this baseline file (keytrail baseline create); .keytrailignore at the root always applies")
	fl.StringVar(&f.configFrom, "config-from", "", "read the config from this git revision, not the working tree (default in --range/--since-commit scans: the base; \"worktree\": the working tree)")
	fl.StringVar(&f.baselineFrom, "baseline-from", "", "read the --baseline file and ignore files from this git revision (default in --range/--since-commit scans: the base; \"worktree\": the working tree)")
	fl.BoolVar(&f.failOnNewSuppressions, "fail-on-new-suppressions", false, "count findings that only the scanned change's own suppressions would hide (suppressed_by_change) for the exit code")
}

func newScanCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan for leaked secrets",
		Long:  "Scan directories, standard input, logs or git history for leaked secrets.\n\nExit codes: 0 clean, 1 findings (see --exit-code), 2 something could not be scanned.",
	}
	cmd.AddCommand(newScanDirCmd(e, g), newScanStdinCmd(e, g), newScanLogsCmd(e, g), newScanGitCmd(e, g))
	cmd.AddCommand(newScanGitHubCmd(e, g)) // scan_github.go
	return cmd
}

func newScanDirCmd(e *env, g *globalFlags) *cobra.Command {
	sf := &scanFlags{}
	var noIgnore bool
	cmd := &cobra.Command{
		Use:   "dir PATH...",
		Short: "Scan files and directory trees (honours .gitignore)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := &source.Dir{Roots: args, NoIgnore: noIgnore}
			return runScan(cmd.Context(), e, g, sf, src, configRoot(args[0]))
		},
	}
	sf.register(cmd)
	cmd.Flags().BoolVar(&noIgnore, "no-ignore", false, "scan files .gitignore excludes too")
	return cmd
}

func newScanStdinCmd(e *env, g *globalFlags) *cobra.Command {
	sf := &scanFlags{}
	var label string
	cmd := &cobra.Command{
		Use:   "stdin",
		Short: "Scan standard input",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), e, g, sf, &source.Reader{Label: label, R: e.stdin}, ".")
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&label, "label", "stdin", "name to report findings under")
	return cmd
}

func newScanLogsCmd(e *env, g *globalFlags) *cobra.Command {
	sf := &scanFlags{}
	var maxDecomp int64
	cmd := &cobra.Command{
		Use:   "logs PATH...",
		Short: "Scan log files: plain text, JSON lines, .gz, directories of rotated logs",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := &source.Logs{Paths: args, MaxDecompressed: maxDecomp}
			// Logs are streamed: the per-file size limit applies to
			// what is read, so a huge log is scanned whole by default.
			if !cmd.Flags().Changed("max-file-size") {
				sf.maxFileSize = 0
			}
			return runScan(cmd.Context(), e, g, sf, src, ".")
		},
	}
	sf.register(cmd)
	cmd.Flags().Int64Var(&maxDecomp, "max-decompressed-size", source.DefaultMaxDecompressed, "stop reading a compressed log after this many decompressed bytes (gzip bomb guard)")
	return cmd
}

// configRoot is where .keytrail.toml is looked for: the scanned directory.
func configRoot(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p
	}
	return "."
}

func loadConfig(flag, root string) (*config.Config, error) {
	path := flag
	if path == "" {
		p, ok := config.Find(root)
		if !ok {
			return nil, nil
		}
		path = p
	}
	return config.Load(path)
}

// scanSetup is everything a scan needs besides its source.
type scanSetup struct {
	set    *rules.Set
	engine *scanner.Engine
	// changed is the working tree's config when suppressions come from a
	// revision and it differs (trust.go).
	changed *changedConfig
}

// buildEngine checks the flags (--format against formats; nil: not
// checked) and builds the engine.
func buildEngine(ctx context.Context, g *globalFlags, sf *scanFlags, root string, formats []string, forSink bool) (*scanSetup, error) {
	if formats != nil && !slices.Contains(formats, sf.format) {
		return nil, fmt.Errorf("--format %q: want one of %s", sf.format, strings.Join(formats, ", "))
	}
	switch sf.minConfidence {
	case rules.ConfidenceLow, rules.ConfidenceMedium, rules.ConfidenceHigh:
	default:
		return nil, fmt.Errorf("--min-confidence %q: want low, medium or high", sf.minConfidence)
	}
	cfgRev, _ := sf.trustRevs()
	cfg, trustedData, err := loadScanConfig(ctx, g.config, root, cfgRev)
	if err != nil {
		return nil, err
	}
	set, err := cfg.RuleSet()
	if err != nil {
		return nil, err
	}
	opts := scanner.Options{
		MaxFileSize:   sf.maxFileSize,
		ReportInvalid: sf.reportInvalid,
		MinConfidence: sf.minConfidence,
		Allowlist:     cfg.GlobalAllowlist(),
		DecodeDepth:   decodeDepthOption(sf.decodeDepth),
		NoisyPaths:    noisyPaths(sf.noisyFiles),
	}
	// In a range every finding is on a line the change adds, so an
	// inline allow comment there is the change's own (trust.go).
	opts.MarkInlineAllowed = sf.rangeBase != "" && !forSink
	eng, err := scanner.NewEngine(set, opts)
	if err != nil {
		return nil, err
	}
	setup := &scanSetup{set: set, engine: eng}
	if cfgRev != "" && !forSink {
		setup.changed = loadChangedConfig(g.config, root, trustedData, opts)
	}
	return setup, nil
}

// decodeDepthOption maps the flag (0 = off) to the engine's option
// (0 = default, negative = off).
func decodeDepthOption(flag int) int {
	if flag <= 0 {
		return -1
	}
	return flag
}

func noisyPaths(scanAll bool) []string {
	if scanAll {
		return []string{}
	}
	return nil
}

// runScan runs a source and reports; it sets e.exit.
func runScan(ctx context.Context, e *env, g *globalFlags, sf *scanFlags, src scanner.Source, root string) error {
	formats := report.Formats
	if e.sink != nil {
		formats = e.sinkFormats
	}
	setup, err := buildEngine(ctx, g, sf, root, formats, e.sink != nil)
	if err != nil {
		return err
	}
	start := time.Now()
	prog := newProgress(ctx, e.stderr, sf.noProgress, src)
	s := &scanner.Scanner{Engine: setup.engine, Workers: sf.workers, Log: e.log, Progress: prog}
	s.Scanned = e.collectAfterScan
	res, err := s.Run(ctx, src)
	prog.Done()
	if err != nil {
		return err
	}
	e.log.Info().Int64("items", res.Stats.Items).Int64("bytes", res.Stats.Bytes).
		Int("findings", len(res.Findings)).Dur("elapsed", time.Since(start)).Msg("scan finished")
	// Baselines and ignore files (baseline.go): `keytrail baseline` takes
	// the result here; a scan drops reviewed findings before reporting.
	if e.sink != nil {
		return e.sink(e, sf, res, root)
	}
	if err := applySuppressions(ctx, e, sf, res, root); err != nil {
		return err
	}
	markConfigSuppressions(ctx, setup.engine, setup.changed, res.Findings)
	if err := writeReport(e, sf, setup, res); err != nil {
		return err
	}
	for _, se := range res.Errors {
		fmt.Fprintf(e.stderr, "keytrail: not scanned: %s\n", report.TerminalSafe(se.Error()))
	}
	switch {
	case len(res.Errors) > 0:
		e.exit = ExitError
	case countsForExit(sf, res.Findings) > 0:
		e.exit = sf.exitCode
	default:
		e.exit = ExitClean
	}
	return nil
}

func writeReport(e *env, sf *scanFlags, setup *scanSetup, res *scanner.Result) error {
	var w io.Writer = e.stdout
	color := isTerminal(e.stdout)
	if sf.output != "" {
		f, err := os.Create(sf.output)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		defer f.Close()
		w = f
		color = false
	}
	opts := report.Options{
		ShowSecrets:   sf.showSecrets,
		Color:         color,
		Stats:         res.Stats,
		Errors:        len(res.Errors),
		Version:       Version,
		SARIFCategory: sf.sarifCategory,
		Rules:         ruleInfos(setup.set),
	}
	if err := report.Write(w, sf.format, res.Findings, opts); err != nil {
		return fmt.Errorf("writing %s report: %w", sf.format, err)
	}
	if sf.output != "" {
		if f, ok := w.(*os.File); ok {
			if err := f.Close(); err != nil {
				return fmt.Errorf("--output %s: %w", sf.output, err)
			}
		}
	}
	return nil
}

func ruleInfos(set *rules.Set) []report.RuleInfo {
	out := make([]report.RuleInfo, 0, len(set.Rules))
	for _, r := range set.Rules {
		out = append(out, report.RuleInfo{ID: r.ID, Description: r.Description, Provider: r.Provider,
			Severity: r.Severity, Remediation: r.Remediation, Tags: r.Tags})
	}
	return out
}
