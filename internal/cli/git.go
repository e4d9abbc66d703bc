package cli

import (
	"runtime"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/scanner/gitsource"
)

func newScanGitCmd(e *env, g *globalFlags) *cobra.Command {
	sf := &scanFlags{}
	opts := gitsource.Options{}
	cmd := &cobra.Command{
		Use:   "git [PATH]",
		Short: "Scan git history: all refs, a commit range (--range) or staged changes (--staged)",
		Long: `Scan the history of a git repository (default: the current directory).

Every unique blob of every commit reachable from the selected refs is
scanned once; each finding reports the commit that first introduced the
secret (author, date, subject, path and line at that commit), how many
other places it was introduced (other_locations; --all-locations lists
them) and whether it is still present at HEAD. Commit messages are
scanned too (file "(commit message)").

--range BASE..HEAD (or --since-commit BASE) scans only what the commits of
a pull request add. The config, ignore files and --baseline are then read
from BASE, not the working tree, so a change cannot silence itself; what
only the change's own suppressions (or keytrail:allow comments on its
lines) would hide is reported, marked suppressed_by_change. --staged scans only the index against HEAD, for a
pre-commit hook.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = "."
			if len(args) == 1 {
				opts.Path = args[0]
			}
			opts.MaxBlobSize = sf.maxFileSize
			opts.Workers = sf.workers
			if opts.Workers <= 0 {
				opts.Workers = runtime.GOMAXPROCS(0)
				if !opts.Staged {
					// History items come through one reader, and a
					// worker waits at times (a big blob, a
					// commit for a report): two per CPU kept both
					// cores of the benchmark machine busier, 3-6%
					// less wall time on gitleaks' history over three
					// sets of interleaved runs.
					sf.workers = 2 * opts.Workers
				}
			}
			sf.rangeBase = rangeBase(opts.Range, opts.SinceCommit)
			src := gitsource.New(opts)
			defer src.Close()
			// The scan's first git processes run while the rules load.
			src.Prefetch(cmd.Context())
			return runScan(cmd.Context(), e, g, sf, src, configRoot(opts.Path))
		},
	}
	sf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.Branch, "branch", "", "scan only the history of this branch (or any revision)")
	fl.StringSliceVar(&opts.Refs, "refs", nil, "scan only refs matching these globs, e.g. refs/heads/*,v1.* (default: all refs, HEAD and the stash)")
	fl.StringVar(&opts.Range, "range", "", "scan only what the commits in BASE..HEAD add (pull requests)")
	fl.StringVar(&opts.SinceCommit, "since-commit", "", "scan only what the commits after this one add, up to HEAD")
	fl.BoolVar(&opts.Staged, "staged", false, "scan only staged changes (the index against HEAD), for pre-commit hooks")
	fl.BoolVar(&opts.AllLocations, "all-locations", false, "list every commit and path where a secret was introduced")
	fl.BoolVar(&opts.FullBlobs, "full-blobs", false, "scan every blob version whole, not only what it adds to its parent version (slower; same findings)")
	fl.BoolVar(&opts.Submodules, "submodules", false, "also scan the history of checked-out submodules")
	fl.StringVar(&opts.Backend, "git-backend", gitsource.BackendAuto, "how to read the repository: auto (git binary if on PATH), git, go-git")
	cmd.MarkFlagsMutuallyExclusive("range", "since-commit", "staged")
	return cmd
}
