package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/config"
	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/scanner"
)

// auditFlags are `keytrail audit`'s own flags; the scan subcommands keep
// theirs (their --format and --output then take the audit's formats).
type auditFlags struct {
	findings       string
	format         string
	output         string
	sarifCategory  string
	leakedAt       string
	baselineWindow string
}

// auditInput is what an audit starts from: findings of a scan run
// in-process or read from a file, and where to write the report.
type auditInput struct {
	findings      []scanner.Finding
	inputErrors   []string
	format        string
	output        string
	sarifCategory string
	configRoot    string
	scanTime      time.Time
}

func newAuditCmd(e *env, g *globalFlags) *cobra.Command {
	af := &auditFlags{}
	providers := e.providers()
	cmd := &cobra.Command{
		Use:   "audit (dir|git|stdin|logs|github) [ARGS] | audit --findings FILE",
		Short: "Follow each leaked key to its account: owner, age, use after the leak, verdict",
		Long: `Audit the keys a scan finds: who owns each one, how old it is, whether it
was used after it leaked and from where, and what to do about it.

Run a scan in-process (same sources and flags as ` + "`keytrail scan`" + `), or audit
the JSON of an earlier ` + "`keytrail scan --format json`" + ` with --findings.
Providers (cloud accounts, audit logs, live checks) are enabled by their
flags; without any, each key is reported with what the scan knows.

Exit codes: 0 no key is at high or critical risk; 1 some key is at high or
critical risk; 2 an input could not be read or a provider failed (the rest
is still audited and reported).`,
		Example: `  keytrail audit git .
  keytrail scan git . -f json -o findings.json && keytrail audit --findings findings.json
  keytrail audit --findings findings.json --format html --output audit.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if af.findings == "" {
				return fmt.Errorf("give a source to scan (audit dir|git|stdin|logs|github ...) or --findings FILE")
			}
			in := auditInput{format: af.format, output: af.output, sarifCategory: af.sarifCategory, configRoot: ".", scanTime: e.now()}
			if err := checkAuditFormat(af.format); err != nil {
				return err
			}
			var r io.Reader = e.stdin
			name := "standard input"
			if af.findings != "-" {
				f, err := os.Open(af.findings)
				if err != nil {
					return fmt.Errorf("--findings: %w", err)
				}
				defer f.Close()
				if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
					// The findings were current when the file was written.
					in.scanTime = fi.ModTime()
				}
				r, name = f, af.findings
			}
			var err error
			if in.findings, err = report.ReadFindings(name, r); err != nil {
				return err
			}
			return runAudit(cmd.Context(), e, g, af, providers, in)
		},
	}
	addAuditFlags(cmd.PersistentFlags(), af, providers)
	fl := cmd.Flags()
	fl.StringVar(&af.findings, "findings", "", "audit the findings `FILE` of an earlier \"keytrail scan --format json\" (or jsonl); - reads standard input")
	fl.StringVarP(&af.format, "format", "f", "text", "report format: "+strings.Join(report.AuditFormats, ", "))
	fl.StringVarP(&af.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.StringVar(&af.sarifCategory, "sarif-category", "", "SARIF automationDetails.id")

	for _, sub := range auditSources(e, g, report.AuditFormats, "Scan and audit", func(cmd *cobra.Command, sf *scanFlags, in auditInput) error {
		in.format, in.output, in.sarifCategory = sf.format, sf.output, sf.sarifCategory
		return runAudit(cmd.Context(), e, g, af, providers, in)
	}) {
		if f := sub.Flags().Lookup("format"); f != nil {
			f.Usage = "report format: " + strings.Join(report.AuditFormats, ", ")
		}
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newAuditAWSKeysCmd(e, g, providers)) // audit_awskeys.go
	return cmd
}

// addAuditFlags registers the flags every audit shares, and each
// provider's (keytrail audit, keytrail remediate plan SOURCE).
func addAuditFlags(pf *pflag.FlagSet, af *auditFlags, providers []auditProvider) {
	pf.StringVar(&af.leakedAt, "leaked-at", "", "when the keys leaked, if no commit date tells (RFC 3339 or YYYY-MM-DD; default: the scan time, reported as an assumption)")
	pf.StringVar(&af.baselineWindow, "baseline-window", "90d", "use of a key in this window before the leak defines its known IPs, regions and agents (e.g. 90d, 12w, 720h)")
	for _, p := range providers {
		p.register(pf)
	}
}

// auditSources returns keytrail scan's source subcommands (dir, git,
// stdin, logs, github), each pointed at an audit instead of the report
// writer: the suppressed scan's findings go to then. formats are the
// --format values accepted (nil: any); short replaces "Scan" in the help.
func auditSources(e *env, g *globalFlags, formats []string, short string, then func(cmd *cobra.Command, sf *scanFlags, in auditInput) error) []*cobra.Command {
	scan := newScanCmd(e, g)
	var out []*cobra.Command
	for _, sub := range scan.Commands() {
		scan.RemoveCommand(sub)
		run := sub.RunE
		sub.RunE = func(cmd *cobra.Command, args []string) error {
			start := e.now()
			e.sinkFormats = formats
			e.sink = func(e *env, sf *scanFlags, res *scanner.Result, root string) error {
				if err := applySuppressions(cmd.Context(), e, sf, res, root); err != nil {
					return err
				}
				in := auditInput{findings: res.Findings, configRoot: root, scanTime: start}
				for _, se := range res.Errors {
					in.inputErrors = append(in.inputErrors, "not scanned: "+se.Error())
				}
				return then(cmd, sf, in)
			}
			return run(cmd, args)
		}
		sub.Short = strings.Replace(sub.Short, "Scan", short, 1)
		fl := sub.Flags()
		for _, name := range []string{"show-secrets", "exit-code"} {
			if fl.Lookup(name) != nil {
				_ = fl.MarkHidden(name)
			}
		}
		out = append(out, sub)
	}
	return out
}

func checkAuditFormat(f string) error {
	if !slices.Contains(report.AuditFormats, f) {
		return fmt.Errorf("--format %q: want one of %s", f, strings.Join(report.AuditFormats, ", "))
	}
	return nil
}

// assessed is an audit's result before it is written: the keys with
// their verdicts, and what could not be read or asked.
type assessed struct {
	keys        []audit.Key
	keyOf       map[string]string
	inputErrors []string
	cfg         *config.Config
	now         time.Time
}

// runAudit builds keys from the findings, asks every enabled provider
// about them, draws the verdicts and writes the report; it sets e.exit.
func runAudit(ctx context.Context, e *env, g *globalFlags, af *auditFlags, providers []auditProvider, in auditInput) error {
	a, err := assessKeys(ctx, e, g, af, providers, in)
	if err != nil {
		return err
	}
	cfg, keys, keyOf, inputErrors, now := a.cfg, a.keys, a.keyOf, a.inputErrors, a.now
	rep := audit.NewReport(keys, inputErrors, now)

	var rules []report.RuleInfo
	if in.format == "sarif" {
		set, err := cfg.RuleSet()
		if err != nil {
			return err
		}
		rules = ruleInfos(set)
	}
	opts := report.AuditOptions{Version: Version, SARIFCategory: in.sarifCategory, Rules: rules,
		Findings: in.findings, KeyOf: keyOf}
	if err := writeAuditReport(e, in, rep, opts); err != nil {
		return err
	}
	for _, msg := range inputErrors {
		fmt.Fprintf(e.stderr, "keytrail: %s\n", msg)
	}
	switch {
	case len(inputErrors) > 0:
		e.exit = ExitError
	case rep.Failing():
		e.exit = ExitFindings
	default:
		e.exit = ExitClean
	}
	return nil
}

// assessKeys builds keys from the findings, asks every enabled provider
// about them and draws the verdicts (shared by audit and remediate plan).
func assessKeys(ctx context.Context, e *env, g *globalFlags, af *auditFlags, providers []auditProvider, in auditInput) (*assessed, error) {
	leaked, err := parseLeakedAt(af.leakedAt)
	if err != nil {
		return nil, err
	}
	window, err := parseDays(af.baselineWindow)
	if err != nil {
		return nil, fmt.Errorf("--baseline-window %q: %w", af.baselineWindow, err)
	}
	now := e.now()
	e.audit = auditSettings{BaselineWindow: window, Now: now}
	cfg, err := loadConfig(g.config, in.configRoot)
	if err != nil {
		return nil, err
	}
	policy := cfg.AuditPolicy()

	keys, keyOf := keysFromFindings(in.findings, leakTime{flag: leaked, scanTime: in.scanTime})
	inputErrors := in.inputErrors
	evidence := map[string][]audit.Evidence{}
	for _, p := range providers {
		if len(keys) == 0 {
			break // nothing to ask about: a provider's setup cannot fail the run
		}
		inv, err := p.investigator(ctx, e)
		if err != nil {
			inputErrors = append(inputErrors, err.Error())
			continue
		}
		if inv == nil {
			continue
		}
		evs, errs := inv.Investigate(ctx, keys)
		for fp, ev := range evs {
			evidence[fp] = append(evidence[fp], ev)
		}
		for _, err := range errs {
			inputErrors = append(inputErrors, inv.Name()+": "+err.Error())
		}
		e.log.Info().Str("provider", inv.Name()).Int("keys", len(evs)).Int("errors", len(errs)).Msg("provider investigated")
	}
	for i := range keys {
		keys[i] = audit.Assess(keys[i], evidence[keys[i].Fingerprint], policy, now)
	}
	return &assessed{keys: keys, keyOf: keyOf, inputErrors: inputErrors, cfg: cfg, now: now}, nil
}

func writeAuditReport(e *env, in auditInput, rep audit.Report, opts report.AuditOptions) error {
	var w io.Writer = e.stdout
	opts.Color = isTerminal(e.stdout)
	var f *os.File
	if in.output != "" {
		var err error
		if f, err = os.Create(in.output); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		defer f.Close()
		w, opts.Color = f, false
	}
	if err := report.WriteAudit(w, in.format, rep, opts); err != nil {
		return fmt.Errorf("writing %s audit report: %w", in.format, err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("--output %s: %w", in.output, err)
		}
	}
	return nil
}

// parseLeakedAt reads --leaked-at: RFC 3339, or a date (midnight UTC).
func parseLeakedAt(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--leaked-at %q: want a time like 2026-05-01T10:00:00Z or a date like 2026-05-01", s)
}

// parseDays reads a duration that may be given in days ("90d") or weeks
// ("12w"), as well as Go's units ("720h").
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("want a number of days like 90d")
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration like 90d, 12w or 720h")
	}
	return d, nil
}
