// Package githubsource scans every repository of GitHub organisations and
// users: it lists them through the REST API (go-github), keeps a bare clone
// of each in a cache, scans the history of every branch and tag with the
// git history source (scanner/gitsource) and optionally the Actions run
// logs. Findings are the git source's, plus the repository and a link to
// the commit and line on GitHub, so the engine and reports are unchanged.
//
// Incremental runs (State) remember each ref's last scanned commit and
// pass them to the git source as Exclude: only commits not reachable from
// what was scanned are walked, a force-pushed ref is rescanned from its
// merge base with the old tip, and an unchanged repository costs a fetch
// that transfers nothing and one for-each-ref.
package githubsource

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"github.com/sourcegraph/conc/pool"

	"github.com/keytrail/keytrail/scanner"
	"github.com/keytrail/keytrail/scanner/gitsource"
)

// Options configure an organisation scan.
type Options struct {
	Client  *github.Client
	Limiter *RateLimiter // for the summary's API call count; may be nil
	// Token authenticates clones (sent as a header, see gitRunner).
	Token  string
	Filter Filter
	// CacheDir keeps bare clones between runs; "" uses a temporary one.
	CacheDir string
	// State, when set, makes the scan incremental and is updated for
	// every repository that finished. Full ignores what it says (but
	// still updates it).
	State *State
	Full  bool
	// Concurrency is how many repositories are processed at once.
	Concurrency int
	// Git is the template for each repository's history source (size
	// limit, workers, backend, all-locations); Path and Exclude are set
	// per repository.
	Git gitsource.Options
	// ActionsLogs also scans Actions run logs created within Since.
	ActionsLogs bool
	Since       time.Duration
	// Download fetches log archives from the signed URLs the API
	// redirects to; it must not add the token. nil: a plain client.
	Download *http.Client
	// GitHTTP reads ref advertisements from the clone host (nil: a plain
	// client).
	GitHTTP *http.Client
	// Scan runs one source through the engine.
	Scan func(ctx context.Context, src scanner.Source) (*scanner.Result, error)
	Log  zerolog.Logger
	Now  func() time.Time
}

// Failure is a repository that could not be scanned completely.
type Failure struct {
	Repo   string `json:"repo"`
	Reason string `json:"reason"`
}

// Summary is the account of a run (stderr and --summary FILE).
type Summary struct {
	Listed         int            `json:"repos_listed"`
	Skipped        []Skip         `json:"skipped"`
	Scanned        int            `json:"repos_scanned"`
	Unchanged      int            `json:"repos_unchanged"`
	Failed         []Failure      `json:"failed"`
	Commits        int64          `json:"commits_scanned"`
	Bytes          int64          `json:"bytes_scanned"`
	ActionsRuns    int            `json:"actions_runs_scanned,omitempty"`
	Findings       int            `json:"findings"`
	FindingsByRepo map[string]int `json:"findings_by_repo"`
	FindingsByRule map[string]int `json:"findings_by_rule"`
	APICalls       int64          `json:"api_calls"`
	APIRemaining   int64          `json:"api_remaining"`
	Notes          []string       `json:"notes,omitempty"`
	Elapsed        float64        `json:"elapsed_seconds"`
}

// Result is a run's findings and summary.
type Result struct {
	Findings []scanner.Finding
	Summary  Summary
}

// Run lists, fetches and scans. It returns an error only when the run
// could not start (listing failed); a repository that fails is recorded in
// Summary.Failed and the others go on.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	l, err := List(ctx, o.Client, o.Filter)
	if err != nil {
		return nil, err
	}
	res := &Result{Summary: Summary{
		Listed: l.Listed, Skipped: l.Skipped, Failed: []Failure{},
		FindingsByRepo: map[string]int{}, FindingsByRule: map[string]int{},
	}}
	if res.Summary.Skipped == nil {
		res.Summary.Skipped = []Skip{}
	}
	sum := &res.Summary
	var mu sync.Mutex
	note := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		o.Log.Info().Msg(msg)
		mu.Lock()
		sum.Notes = append(sum.Notes, msg)
		mu.Unlock()
	}
	if o.State != nil {
		pruneState(o.State, l, note)
	}
	cache := o.CacheDir
	if cache == "" {
		cache, err = os.MkdirTemp("", "keytrail-clones-")
		if err != nil {
			return nil, fmt.Errorf("creating a clone directory: %w", err)
		}
		defer os.RemoveAll(cache)
	}
	g := &gitRunner{token: o.Token}
	p := pool.New().WithMaxGoroutines(o.Concurrency)
	for _, r := range l.Repos {
		p.Go(func() {
			var prev *RepoState
			if o.State != nil {
				mu.Lock()
				prev = o.State.Repos[r.FullName]
				mu.Unlock()
			}
			rr := o.scanRepo(ctx, g, cache, r, prev, note)
			mu.Lock()
			defer mu.Unlock()
			res.Findings = append(res.Findings, rr.findings...)
			sum.Commits += int64(rr.commits)
			sum.Bytes += rr.bytes
			sum.ActionsRuns += rr.runs
			if rr.err != nil {
				reason := g.scrub(rr.err.Error())
				o.Log.Error().Str("repo", r.FullName).Str("reason", reason).Msg("repository not scanned completely")
				sum.Failed = append(sum.Failed, Failure{Repo: r.FullName, Reason: reason})
				return
			}
			sum.Scanned++
			if rr.unchanged {
				sum.Unchanged++
			}
			if o.State != nil {
				o.State.Repos[r.FullName] = rr.state
			}
		})
	}
	p.Wait()
	sort.Slice(sum.Failed, func(i, j int) bool { return sum.Failed[i].Repo < sum.Failed[j].Repo })
	sort.Strings(sum.Notes)
	scanner.SortFindings(res.Findings)
	sort.SliceStable(res.Findings, func(i, j int) bool { return res.Findings[i].Repository < res.Findings[j].Repository })
	for _, f := range res.Findings {
		sum.FindingsByRepo[f.Repository]++
		sum.FindingsByRule[f.RuleID]++
	}
	sum.Findings = len(res.Findings)
	if o.Limiter != nil {
		sum.APICalls = o.Limiter.Calls()
		sum.APIRemaining = o.Limiter.Remaining()
	}
	sum.Elapsed = time.Since(start).Seconds()
	return res, nil
}

// pruneState drops repositories that no longer exist: their owner was
// listed in full and they were not in it, or --repo named them and GitHub
// answered 404. Repositories merely filtered out stay.
func pruneState(st *State, l *Listing, note func(string, ...any)) {
	gone := map[string]bool{}
	for _, n := range l.Gone {
		gone[strings.ToLower(n)] = true
	}
	names := make([]string, 0, len(st.Repos))
	for n := range st.Repos {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k := strings.ToLower(n)
		owner, _, _ := strings.Cut(k, "/")
		if gone[k] || (l.Complete[owner] && !l.Seen[k]) {
			delete(st.Repos, n)
			note("%s: repository no longer exists (deleted, renamed or access removed); dropped from the state", n)
		}
	}
}

type repoResult struct {
	findings  []scanner.Finding
	commits   int
	bytes     int64
	runs      int
	unchanged bool
	state     *RepoState
	err       error
}

func (o *Options) scanRepo(ctx context.Context, g *gitRunner, cache string, r Repo, prev *RepoState, note func(string, ...any)) (rr repoResult) {
	log := o.Log.With().Str("repo", r.FullName).Logger()
	if prev != nil && !o.Full {
		// The cheap path: the server's refs equal what was scanned.
		remote, err := remoteRefs(ctx, o.gitHTTP(), r.CloneURL, o.Token)
		if err == nil && sameRefs(prev.Refs, remote) {
			log.Debug().Msg("no ref changed since the last run (advertisement)")
			st := *prev
			st.ScannedAt = o.Now().UTC()
			rr.state, rr.unchanged = &st, true
			return o.actionsPart(ctx, r, rr, note)
		}
		if err != nil {
			log.Debug().Str("err", g.scrub(err.Error())).Msg("ref advertisement not read; fetching")
		}
	}
	m := &mirror{dir: cachePath(cache, r), repo: r, git: g}
	if err := m.sync(ctx); err != nil {
		if _, serr := os.Stat(m.dir); serr == nil && ctx.Err() == nil {
			// A damaged cache must not fail a repository forever: clone
			// afresh once.
			log.Warn().Err(fmt.Errorf("%s", g.scrub(err.Error()))).Msg("fetch into the cache failed; cloning afresh")
			os.RemoveAll(m.dir)
			err = m.sync(ctx)
		}
		if err != nil {
			rr.err = err
			return rr
		}
	}
	refs, err := m.refs(ctx)
	if err != nil {
		rr.err = err
		return rr
	}
	if o.Full {
		prev = nil
	}
	rr.state = &RepoState{Refs: refs, ScannedAt: o.Now().UTC(), DefaultRef: r.DefaultBranch}
	if prev != nil {
		rr.state.LastRunID = prev.LastRunID
	}
	switch {
	case len(refs) == 0:
		log.Debug().Msg("empty repository")
		rr.unchanged = prev != nil
	case prev != nil && sameRefs(prev.Refs, refs):
		rr.unchanged = true
		log.Debug().Msg("no ref changed since the last run")
	default:
		var exclude []string
		if prev != nil {
			for name, old := range prev.Refs {
				cur, ok := refs[name]
				if !ok || cur == old {
					continue
				}
				present := m.has(ctx, old) || m.fetchCommit(ctx, old)
				switch {
				case !present:
					note("%s: %s was rewritten and its old tip %.12s is neither in the clone nor on the server any more; its history is rescanned in full (keep --cache to rescan from the merge base)", r.FullName, name, old)
				case !m.isAncestor(ctx, old, cur):
					note("%s: %s was force-pushed (%.12s -> %.12s); rescanned from the merge base", r.FullName, name, old, cur)
				}
			}
			exclude = prev.scannedTips()
		}
		gopts := o.Git
		gopts.Path = m.dir
		gopts.Exclude = exclude
		gopts.Range, gopts.SinceCommit, gopts.Staged, gopts.Branch = "", "", false, ""
		src := gitsource.New(gopts)
		res, err := o.Scan(ctx, src)
		rr.commits = src.Stats().Commits
		src.Close()
		if res != nil {
			rr.bytes += res.Stats.Bytes
			for _, f := range res.Findings {
				rr.findings = append(rr.findings, decorateGit(f, r))
			}
		}
		if err != nil {
			rr.err = fmt.Errorf("scanning history: %w", err)
			return rr
		}
		if len(res.Errors) > 0 {
			rr.err = fmt.Errorf("history not scanned completely: %d problem(s), first: %w", len(res.Errors), res.Errors[0])
			return rr
		}
	}
	return o.actionsPart(ctx, r, rr, note)
}

// actionsPart scans the Actions logs when asked to.
func (o *Options) actionsPart(ctx context.Context, r Repo, rr repoResult, note func(string, ...any)) repoResult {
	if !o.ActionsLogs {
		return rr
	}
	n, last, fs, bytes, err := o.scanActions(ctx, r, rr.state.LastRunID, note)
	rr.runs, rr.bytes = n, rr.bytes+bytes
	rr.findings = append(rr.findings, fs...)
	if err != nil {
		rr.err = fmt.Errorf("actions logs: %w", err)
		return rr
	}
	if last > rr.state.LastRunID {
		rr.state.LastRunID = last
	}
	return rr
}

func (o *Options) gitHTTP() *http.Client {
	if o.GitHTTP != nil {
		return o.GitHTTP
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

func sameRefs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// decorateGit adds the repository and the GitHub link to a history
// finding. The fingerprint covers the repository too: the same key at the
// same path in two repositories is two findings to fix.
func decorateGit(f scanner.Finding, r Repo) scanner.Finding {
	f.Repository = r.FullName
	f.RepositoryURL = r.HTMLURL
	base := strings.TrimSuffix(r.HTMLURL, "/")
	switch {
	case base == "" || f.Commit == "":
	case f.File == scanner.MessageFile:
		f.URL = base + "/commit/" + f.Commit
	default:
		f.URL = base + "/blob/" + f.Commit + "/" + escapePath(f.File) + "#L" + strconv.Itoa(f.Line)
	}
	f.Fingerprint = scanner.Fingerprint(f.RuleID, r.FullName+"/"+f.File, f.Secret)
	return f
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
