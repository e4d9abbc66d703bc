package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/scanner"
	"github.com/keytrail/keytrail/scanner/githubsource"
	"github.com/keytrail/keytrail/scanner/gitsource"
)

// githubFlags are keytrail scan github's own flags.
type githubFlags struct {
	filter       githubsource.Filter
	shard        string
	githubURL    string
	cache        string
	state        string
	full         bool
	concurrency  int
	actionsLogs  bool
	since        string
	summary      string
	allLocations bool
	backend      string
}

func newScanGitHubCmd(e *env, g *globalFlags) *cobra.Command {
	sf := &scanFlags{}
	gf := &githubFlags{}
	cmd := &cobra.Command{
		Use:   "github",
		Short: "Scan every repository of GitHub organisations or users (history of every branch and tag, optionally Actions logs)",
		Long: `Scan every repository of one or more GitHub organisations or users.

Repositories are listed through the REST API (following pagination and
honouring rate limits), kept as bare clones (--cache DIR, fetched
incrementally), and the history of every branch and tag is scanned as
keytrail scan git does. Each finding also carries repository,
repository_url and url (the commit and line on GitHub).

The token comes from GITHUB_TOKEN or GH_TOKEN; it is sent to git as an
HTTP header, never put in a URL, argument, log or file. The API is
https://api.github.com unless GITHUB_API_URL or --github-url names
another (GitHub Enterprise Server: https://HOST or https://HOST/api/v3).

--state FILE makes runs incremental: only commits not reachable from the
ref tips an earlier run scanned are scanned, so an unchanged org scans
nothing. --shard I/N scans a stable share of the repositories, for N
parallel workers; keytrail report merge joins their JSON reports.

Exit codes: 0 clean, 1 findings, 2 some repository could not be scanned
(and no findings).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScanGitHub(cmd.Context(), e, g, sf, gf)
		},
	}
	sf.register(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&gf.filter.Orgs, "org", nil, "scan the repositories of this organisation (repeatable)")
	fl.StringArrayVar(&gf.filter.Users, "user", nil, "scan the public repositories of this user (repeatable)")
	fl.StringArrayVar(&gf.filter.Repos, "repo", nil, "scan this repository, OWNER/NAME (repeatable)")
	fl.BoolVar(&gf.filter.IncludeForks, "include-forks", false, "also scan forks")
	fl.BoolVar(&gf.filter.IncludeArchived, "include-archived", false, "also scan archived repositories")
	fl.StringVar(&gf.filter.Visibility, "visibility", "all", "scan public, private (and internal) or all repositories")
	fl.StringArrayVar(&gf.filter.Exclude, "exclude", nil, "skip repositories whose OWNER/NAME matches this glob, e.g. 'acme/legacy-*' (repeatable)")
	fl.StringVar(&gf.shard, "shard", "", "scan only shard I of N (I/N, 0-based), by a stable hash of the repository name")
	fl.StringVar(&gf.githubURL, "github-url", "", "GitHub API URL (GitHub Enterprise Server); default $GITHUB_API_URL or https://api.github.com")
	fl.StringVar(&gf.cache, "cache", "", "keep a bare clone of each repository here and fetch only what changed (default: temporary clones)")
	fl.StringVar(&gf.state, "state", "", "JSON file of the commits scanned per repository and ref; scan only what is new since")
	fl.BoolVar(&gf.full, "full", false, "scan all history even if --state says it was scanned (the state is still updated)")
	fl.IntVar(&gf.concurrency, "concurrency", 4, "repositories processed at once")
	fl.BoolVar(&gf.actionsLogs, "actions-logs", false, "also scan the logs of GitHub Actions runs")
	fl.StringVar(&gf.since, "since", "7d", "with --actions-logs: runs created within this long, e.g. 7d, 36h")
	fl.StringVar(&gf.summary, "summary", "", "also write the run's summary as JSON to this file")
	fl.BoolVar(&gf.allLocations, "all-locations", false, "list every commit and path where a secret was introduced")
	fl.StringVar(&gf.backend, "git-backend", gitsource.BackendAuto, "how to read the clones: auto, git, go-git")
	return cmd
}

// parseSince accepts Go durations plus a day suffix ("7d").
func parseSince(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--since %q: want a duration such as 7d or 36h", s)
	}
	return d, nil
}

func githubToken() string {
	if t := os.Getenv("GITHUB_TOKEN"); t != "" {
		return t
	}
	return os.Getenv("GH_TOKEN")
}

func runScanGitHub(ctx context.Context, e *env, g *globalFlags, sf *scanFlags, gf *githubFlags) error {
	f := gf.filter
	if len(f.Orgs)+len(f.Users)+len(f.Repos) == 0 {
		return errors.New("scan github: name what to scan with --org, --user or --repo")
	}
	switch f.Visibility {
	case "public", "private", "all":
	default:
		return fmt.Errorf("--visibility %q: want public, private or all", f.Visibility)
	}
	if gf.shard != "" {
		i, n, err := githubsource.ParseShard(gf.shard)
		if err != nil {
			return err
		}
		f.Shard, f.Shards = i, n
	}
	since, err := parseSince(gf.since)
	if err != nil {
		return err
	}
	if gf.concurrency < 1 {
		return fmt.Errorf("--concurrency %d: want at least 1", gf.concurrency)
	}
	api := gf.githubURL
	if api == "" {
		api = os.Getenv("GITHUB_API_URL")
	}
	token := githubToken()
	if token == "" {
		e.log.Warn().Msg("neither GITHUB_TOKEN nor GH_TOKEN is set: only public repositories, at 60 API calls an hour")
	}
	formats := report.Formats
	if e.sink != nil {
		formats = e.sinkFormats
	}
	setup, err := buildEngine(ctx, g, sf, ".", formats, e.sink != nil)
	if err != nil {
		return err
	}
	rl := &githubsource.RateLimiter{Base: http.DefaultTransport, Log: e.log}
	client, err := githubsource.NewClient(api, token, rl)
	if err != nil {
		return err
	}
	var st *githubsource.State
	if gf.state != "" {
		if st, err = githubsource.LoadState(gf.state); err != nil {
			return err
		}
	}
	workers := sf.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	opts := githubsource.Options{
		Client: client, Limiter: rl, Token: token, Filter: f,
		CacheDir: gf.cache, State: st, Full: gf.full, Concurrency: gf.concurrency,
		Git: gitsource.Options{MaxBlobSize: sf.maxFileSize, Workers: workers,
			Backend: gf.backend, AllLocations: gf.allLocations},
		ActionsLogs: gf.actionsLogs, Since: since,
		Log: e.log,
		Scan: func(ctx context.Context, src scanner.Source) (*scanner.Result, error) {
			s := &scanner.Scanner{Engine: setup.engine, Workers: workers, Log: e.log}
			return s.Run(ctx, src)
		},
	}
	out, err := githubsource.Run(ctx, opts)
	if err != nil {
		return err
	}
	sum := out.Summary
	if st != nil {
		if err := st.Save(gf.state); err != nil {
			return err
		}
	}
	res := &scanner.Result{Findings: out.Findings, Stats: scanner.Stats{Bytes: sum.Bytes}}
	if e.sink != nil {
		// keytrail audit / baseline: failed repositories are inputs that
		// could not be read, as unreadable files are in other sources.
		writeGitHubSummary(e.stderr, sum)
		if err := writeGitHubSummaryFile(gf.summary, sum); err != nil {
			return err
		}
		for _, f := range sum.Failed {
			res.Errors = append(res.Errors, &scanner.ScanError{Path: f.Repo, Err: errors.New(f.Reason)})
		}
		return e.sink(e, sf, res, ".")
	}
	if err := applySuppressions(ctx, e, sf, res, "."); err != nil {
		return err
	}
	if err := writeReport(e, sf, setup, res); err != nil {
		return err
	}
	writeGitHubSummary(e.stderr, sum)
	if err := writeGitHubSummaryFile(gf.summary, sum); err != nil {
		return err
	}
	switch {
	case len(res.Findings) > 0:
		e.exit = sf.exitCode
	case len(sum.Failed) > 0:
		e.exit = ExitError
	default:
		e.exit = ExitClean
	}
	return nil
}

func writeGitHubSummaryFile(path string, sum githubsource.Summary) error {
	if path == "" {
		return nil
	}
	data, _ := json.MarshalIndent(sum, "", "  ")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("--summary: %w", err)
	}
	return nil
}

func writeGitHubSummary(w io.Writer, s githubsource.Summary) {
	fmt.Fprintf(w, "keytrail: %d repositories listed, %d scanned (%d unchanged), %d skipped, %d failed; %d commits, %s scanned",
		s.Listed, s.Scanned, s.Unchanged, len(s.Skipped), len(s.Failed), s.Commits, report.HumanBytes(s.Bytes))
	if s.ActionsRuns > 0 {
		fmt.Fprintf(w, ", %d Actions runs", s.ActionsRuns)
	}
	fmt.Fprintf(w, "; %d finding(s); %d API calls", s.Findings, s.APICalls)
	if s.APIRemaining >= 0 {
		fmt.Fprintf(w, " (%d left)", s.APIRemaining)
	}
	fmt.Fprintf(w, "; %.1fs\n", s.Elapsed)
	for _, f := range s.Failed {
		fmt.Fprintf(w, "keytrail: failed: %s: %s\n", report.TerminalSafe(f.Repo), report.TerminalSafe(f.Reason))
	}
	skips := map[string]int{}
	for _, sk := range s.Skipped {
		why, _, _ := strings.Cut(sk.Reason, " (")
		if strings.HasPrefix(why, "in shard") {
			why = "other shards"
		}
		skips[why]++
	}
	keys := make([]string, 0, len(skips))
	for k := range skips {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "keytrail: skipped %d: %s\n", skips[k], report.TerminalSafe(k))
	}
	repos := make([]string, 0, len(s.FindingsByRepo))
	for r := range s.FindingsByRepo {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	for _, r := range repos {
		fmt.Fprintf(w, "keytrail: %d finding(s) in %s\n", s.FindingsByRepo[r], report.TerminalSafe(r))
	}
	if len(s.FindingsByRule) > 0 {
		rs := make([]string, 0, len(s.FindingsByRule))
		for r, n := range s.FindingsByRule {
			rs = append(rs, fmt.Sprintf("%s %d", r, n))
		}
		sort.Strings(rs)
		fmt.Fprintf(w, "keytrail: findings by rule: %s\n", strings.Join(rs, ", "))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "keytrail: note: %s\n", report.TerminalSafe(n))
	}
}
