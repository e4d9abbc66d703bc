package githubsource

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/keytrail/keytrail/scanner"
)

// maxLogArchive caps one run's log archive (a guard, not a limit anyone
// should meet: GitHub's own cap on a job log is far smaller).
const maxLogArchive = 1 << 30

// scanActions scans the logs of the repository's Actions runs created
// within Since and newer than afterID (what an earlier run scanned). It
// returns the runs scanned, the newest run id seen, findings and bytes.
// Logs that expired or were deleted (404, 410) are noted, not failures.
func (o *Options) scanActions(ctx context.Context, r Repo, afterID int64, note func(string, ...any)) (int, int64, []scanner.Finding, int64, error) {
	opt := &github.ListWorkflowRunsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	if o.Since > 0 {
		opt.Created = ">=" + o.Now().Add(-o.Since).UTC().Format("2006-01-02T15:04:05Z")
	}
	var runs []*github.WorkflowRun
	for {
		page, resp, err := o.Client.Actions.ListRepositoryWorkflowRuns(ctx, r.Owner, r.Name, opt)
		if err != nil {
			if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusForbidden) {
				note("%s: Actions runs not listed (%v)", r.FullName, statusOf(err))
				return 0, afterID, nil, 0, nil
			}
			return 0, afterID, nil, 0, fmt.Errorf("listing runs: %w", err)
		}
		stop := false
		for _, run := range page.WorkflowRuns {
			// Newest first: stop at what an earlier run already covered.
			if run.GetID() <= afterID {
				stop = true
				continue
			}
			runs = append(runs, run)
		}
		if stop || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].GetID() < runs[j].GetID() })
	last := afterID
	var out []scanner.Finding
	var bytes int64
	n := 0
	for _, run := range runs {
		if st := run.GetStatus(); st != "" && st != "completed" {
			// Logs of a run still going are incomplete: leave it for
			// the next run (and do not move last past it).
			break
		}
		fs, b, err := o.scanRun(ctx, r, run, note)
		bytes += b
		if err != nil {
			return n, last, out, bytes, fmt.Errorf("run %d: %w", run.GetID(), err)
		}
		out = append(out, fs...)
		n++
		last = run.GetID()
	}
	return n, last, out, bytes, nil
}

func isStatus(err error, code int) bool {
	return statusOf(err) == code
}

func statusOf(err error) int {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		return ge.Response.StatusCode
	}
	return 0
}

func (o *Options) scanRun(ctx context.Context, r Repo, run *github.WorkflowRun, note func(string, ...any)) ([]scanner.Finding, int64, error) {
	id := run.GetID()
	loc, resp, err := o.Client.Actions.GetWorkflowRunLogs(ctx, r.Owner, r.Name, id, 0)
	if err != nil {
		c := statusOf(err)
		if resp != nil && resp.Response != nil {
			c = resp.StatusCode
		}
		if c == http.StatusNotFound || c == http.StatusGone {
			note("%s: logs of run %d have expired or were deleted (%d)", r.FullName, id, c)
			return nil, 0, nil
		}
		return nil, 0, fmt.Errorf("getting the log archive URL: %w", err)
	}
	zr, cleanup, err := o.download(ctx, loc.String())
	if err != nil {
		var gone goneError
		if errors.As(err, &gone) {
			note("%s: logs of run %d have expired or were deleted (%d)", r.FullName, id, int(gone))
			return nil, 0, nil
		}
		return nil, 0, err
	}
	defer cleanup()
	src := &logArchive{name: fmt.Sprintf("%s run %d", r.FullName, id), items: archiveItems(zr, id)}
	res, err := o.Scan(ctx, src)
	if err != nil {
		return nil, 0, fmt.Errorf("scanning logs: %w", err)
	}
	if len(res.Errors) > 0 {
		return nil, res.Stats.Bytes, fmt.Errorf("log archive not scanned completely: %w", res.Errors[0])
	}
	out := make([]scanner.Finding, 0, len(res.Findings))
	for _, f := range res.Findings {
		out = append(out, decorateRun(f, r, run))
	}
	return out, res.Stats.Bytes, nil
}

type goneError int

func (g goneError) Error() string { return "log archive gone: HTTP " + strconv.Itoa(int(g)) }

// download fetches a log archive into a temporary file. The URL is a
// short-lived signed one on another host: it gets no Authorization header
// and is never logged (its query string is a credential).
func (o *Options) download(ctx context.Context, u string) (*zip.Reader, func(), error) {
	hc := o.Download
	if hc == nil {
		hc = &http.Client{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, errors.New("bad log archive URL")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("downloading the log archive: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		return nil, nil, goneError(resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("downloading the log archive: HTTP %d", resp.StatusCode)
	}
	f, err := os.CreateTemp("", "keytrail-actions-log-*.zip")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, io.LimitReader(resp.Body, maxLogArchive+1))
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("downloading the log archive: %w", err)
	}
	if n > maxLogArchive {
		cleanup()
		return nil, nil, fmt.Errorf("log archive larger than %d bytes", int64(maxLogArchive))
	}
	zr, err := zip.NewReader(f, n)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("log archive is not a zip: %w", err)
	}
	return zr, cleanup, nil
}

// archiveItems turns a run's log archive into items. The archive holds a
// file per job ("0_build.txt") and a directory per job with a file per
// step ("build/2_Run tests.txt") with the same lines; a job's whole-log
// file is scanned only when it has no step files, so nothing is reported
// twice.
func archiveItems(zr *zip.Reader, runID int64) []scanner.Item {
	dirs := map[string]bool{}
	for _, f := range zr.File {
		if d, _, ok := strings.Cut(f.Name, "/"); ok {
			dirs[d] = true
		}
	}
	var items []scanner.Item
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !strings.Contains(f.Name, "/") && dirs[stepName(f.Name)] {
			continue
		}
		items = append(items, scanner.Item{
			Path: fmt.Sprintf("actions/runs/%d/%s", runID, f.Name),
			Size: int64(f.UncompressedSize64),
			Key:  f.Name,
			Open: func(ctx context.Context) (io.ReadCloser, error) { return f.Open() },
		})
	}
	return items
}

// stepName strips the order prefix and extension: "2_Run tests.txt" ->
// "Run tests".
func stepName(file string) string {
	base := strings.TrimSuffix(path.Base(file), ".txt")
	if i := strings.IndexByte(base, '_'); i > 0 {
		if _, err := strconv.Atoi(base[:i]); err == nil {
			return base[i+1:]
		}
	}
	return base
}

// logArchive is a source over one run's archive entries.
type logArchive struct {
	name  string
	items []scanner.Item
}

func (l *logArchive) Name() string { return l.name }

func (l *logArchive) Items(ctx context.Context, emit func(scanner.Item) error, report func(error)) error {
	for _, it := range l.items {
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

// decorateRun points a log finding at its repository, workflow, run, job
// and step.
func decorateRun(f scanner.Finding, r Repo, run *github.WorkflowRun) scanner.Finding {
	entry := f.Meta["item_key"]
	meta := map[string]string{}
	for k, v := range f.Meta {
		if k != "item_key" {
			meta[k] = v
		}
	}
	meta["source"] = "actions-log"
	meta["workflow"] = run.GetName()
	meta["run_id"] = strconv.FormatInt(run.GetID(), 10)
	if a := run.GetRunAttempt(); a > 0 {
		meta["run_attempt"] = strconv.Itoa(a)
	}
	if job, step, ok := strings.Cut(entry, "/"); ok {
		meta["job"] = job
		meta["step"] = stepName(step)
	} else {
		meta["job"] = stepName(entry)
	}
	f.Meta = meta
	f.Repository = r.FullName
	f.RepositoryURL = r.HTMLURL
	f.URL = run.GetHTMLURL()
	if run.CreatedAt != nil {
		meta["run_created"] = run.GetCreatedAt().Time.UTC().Format("2006-01-02T15:04:05Z")
	}
	f.Fingerprint = scanner.Fingerprint(f.RuleID, r.FullName+"/"+f.File, f.Secret)
	return f
}
