// Package cli is keytrail's command line: flag parsing, wiring sources to
// the scanner, writing reports, and mapping outcomes to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/keytrail/keytrail/internal/gctune"
	"github.com/keytrail/keytrail/internal/report"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

// Exit codes, as documented in the README.
const (
	ExitClean    = 0
	ExitFindings = 1
	ExitError    = 2
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// env is one invocation's I/O, so tests can run the CLI in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            zerolog.Logger
	// exit is the code the command chose; errors map to ExitError.
	exit int
	// sink, when set (keytrail baseline, keytrail audit), takes scan
	// results instead of the report writer; sinkFormats are the --format
	// values it accepts (nil: any, the sink ignores --format).
	sink        scanSink
	sinkFormats []string
	// audit holds the audit-wide settings providers read (audit_providers.go).
	audit auditSettings
	// providers lists the audit providers; tests replace it with fakes.
	providers func() []auditProvider
	// now is the clock ages and report times are measured with.
	now func() time.Time
	// startGC is set when Run raised GOGC for start-up (see Run);
	// finishGC when the command then went to gcPacing (see
	// collectAfterScan).
	startGC, finishGC bool
	// gcTuner paces the collector from then on (gcPacing); gcSet, when
	// set, sees each GOGC it chooses (tests).
	gcTuner *gctune.Tuner
	gcSet   func(live uint64, percent int)
}

// exitError carries a chosen exit code out of cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Run executes keytrail with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, log: zerolog.Nop()}
	if os.Getenv("GOGC") == "" {
		// Start-up leaves a few MB live (mostly the linked cloud SDKs'
		// package data); at the default GOGC, collecting it was about a
		// quarter of a pre-commit scan's CPU. So the heap goal starts at
		// 5x the live heap, and every command but a git --staged scan
		// (whose heap stays a few MB) is paced by gcPacing once parsed
		// (root's PersistentPreRunE).
		defer debug.SetGCPercent(debug.SetGCPercent(startGCPercent))
		e.startGC = true
	}
	defer func() {
		if e.gcTuner != nil {
			e.gcTuner.Stop()
		}
	}()
	return e.run(ctx, args)
}

// startGCPercent is the GOGC a process runs with until its command is
// known, and for a git --staged scan throughout.
const startGCPercent = 400

// collectAfterScan runs one garbage collection once a scan's workers
// are done, if the user did not set GOGC. Then the heap holds the
// scan's garbage and its caches, and the collector's target was set
// from what its last cycle found live; Finalize (a history's provenance,
// ~24 MB allocated on gitleaks' history) and the report, on one core,
// grew the heap past the scan's own peak (+4-7 MB). After one cycle
// with the workers gone they fit in the memory the scan already holds.
// On gitleaks' history: peak RSS -5 MB in two sets of 11 interleaved
// runs, no clear change in a third where the scan's own peak was the
// higher one, and no cost in wall or CPU time measured; running the end
// at GOGC=20 instead cost +5% wall (BENCHMARKS.md).
func (e *env) collectAfterScan() {
	if e.finishGC {
		runtime.GC()
	}
}

// keepStartGC reports whether cmd runs with startGCPercent: only a git
// --staged scan (scan git, baseline create git, ...), whose live heap
// stays small.
func keepStartGC(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("staged")
	return cmd.Name() == "git" && f != nil && f.Value.String() == "true"
}

// run executes keytrail in this env and returns the exit code.
func (e *env) run(ctx context.Context, args []string) int { return e.runTree(ctx, args, args) }

// runTree runs args on the command tree built for treeArgs (newRootFor).
func (e *env) runTree(ctx context.Context, args, treeArgs []string) int {
	if e.providers == nil {
		e.providers = auditProviders
	}
	if e.now == nil {
		e.now = time.Now
	}
	stdin, stdout, stderr := e.stdin, e.stdout, e.stderr
	root := newRootFor(e, treeArgs)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return e.exit
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(stderr, "keytrail: %s\n", report.TerminalSafeLines(err.Error()))
		return ExitError
	}
}

type globalFlags struct {
	logLevel  string
	logFormat string
	config    string
}

func newRoot(e *env) *cobra.Command { return newRootFor(e, nil) }

// newRootFor builds the command tree to run args with. A scan gets only
// the scan commands: pre-commit hooks run `keytrail scan git --staged`,
// and building the other commands and their flags was several percent
// of that run. Anything else gets every command.
func newRootFor(e *env, args []string) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "keytrail",
		Short:         "Find leaked credentials and follow them to the cloud",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if e.startGC && !keepStartGC(cmd) {
				e.gcTuner = gctune.Start(gcPacing, e.gcSet)
				e.finishGC = true
			}
			l, err := newLogger(e.stderr, g.logLevel, g.logFormat)
			if err != nil {
				return err
			}
			e.log = l
			return nil
		},
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "auto", "log format: auto (console on a terminal), console, json")
	root.PersistentFlags().StringVar(&g.config, "config", "", "config file (default: .keytrail.toml at the scanned root if present)")
	if len(args) > 0 && args[0] == "scan" {
		root.AddCommand(newScanCmd(e, g))
		return root
	}
	root.AddCommand(newScanCmd(e, g), newRulesCmd(e, g), newConfigCmd(e, g), newVersionCmd(e))
	root.AddCommand(newBaselineCmd(e, g), newHookCmd(e))       // integrations: baseline.go, hook.go
	root.AddCommand(newRemediateCmd(e, g), newPolicyCmd(e, g)) // remediate*.go, policy.go
	root.AddCommand(newAuditCmd(e, g))                         // audit.go
	root.AddCommand(newReportCmd(e, g))                        // report_merge.go
	return root
}

func newLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	tty := isTerminal(w)
	switch format {
	case "json":
	case "auto", "console":
		if format == "console" || tty {
			w = zerolog.ConsoleWriter{Out: w, NoColor: !tty, TimeFormat: "15:04:05"}
		}
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: want auto, console or json", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := Version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(e.stdout, "keytrail %s\n", v)
			return nil
		},
	}
}

// gcPacing is how a command other than a --staged scan paces the
// collector when the user did not set GOGC: the heap may grow 8 MiB past
// what the last collection found live, at least by 30% of it (50% once
// 64 MiB are live, where the collector's extra work would cost more time
// than the memory is worth) and at most by four times (see
// internal/gctune). On gitleaks' history, whose live heap ends near 25
// MB, peak RSS went from 76 MB (GOGC=100) to 69 (12 MiB, floor 50%) and
// 63 (this), medians of 11 interleaved runs, with no measurable cost in
// time; the 20,149-commit history (live heap under 32 MB too, 34
// collections instead of 19) scanned in the same time (BENCHMARKS.md).
var gcPacing = gctune.Pacing{Headroom: 8 << 20, MinPercent: 30, MaxPercent: 400, LargeHeap: 64 << 20, LargeMinPercent: 50}
