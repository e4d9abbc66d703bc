// Package ghfake is a test double of the GitHub endpoints keytrail scan
// github uses: the REST API (repository lists with Link pagination,
// repositories, Actions runs and the log archive redirect, scripted rate
// limits) answered in GitHub's documented JSON shapes for the real
// go-github client, and git over smart HTTP served by the real
// `git http-backend` through net/http/cgi from bare repositories in a
// temporary directory. Both servers require the token and record every
// request so tests can check it never travels in a URL.
package ghfake

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Repo is a repository the fake serves.
type Repo struct {
	Owner, Name string
	Fork        bool
	Archived    bool
	Private     bool
	IsOrg       bool
}

// Run is an Actions workflow run with its log archive.
type Run struct {
	ID       int64
	Workflow string
	Created  time.Time
	// Logs maps archive entry names ("build/2_Run tests.txt") to content.
	Logs map[string]string
	// Gone answers the logs endpoint with this status (404 or 410).
	Gone int
}

// Scripted is a response the API gives instead of the real one, once.
type Scripted struct {
	Status int
	Header map[string]string
	Body   string
}

// Server is the fake GitHub.
type Server struct {
	t        testing.TB
	API      *httptest.Server
	Git      *httptest.Server
	ReposDir string
	Token    string
	// PageSize caps repository list pages (GitHub allows 100).
	PageSize int
	// CacheAdverts answers ref advertisements from memory once served
	// (until a repository changes), so benchmarks time keytrail rather
	// than the fake's CGI processes.
	CacheAdverts bool

	mu        sync.Mutex
	repos     map[string]*Repo // lower-case full name
	runs      map[string][]Run
	script    []Scripted
	requests  []string // method, URL and auth header of every request
	apiCalls  int
	remaining int
	gitAuthOK int
	gitDenied int
	clock     int64
	adverts   map[string][]byte
	dlAuth    int // downloads that carried an Authorization header
}

// New starts both servers; token is what they require.
func New(t testing.TB, token string) *Server {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not on PATH")
	}
	s := &Server{t: t, ReposDir: t.TempDir(), Token: token, PageSize: 100,
		repos: map[string]*Repo{}, runs: map[string][]Run{}, remaining: 5000, adverts: map[string][]byte{}}
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		// GitHub serves any commit by id until it is garbage-collected.
		Env: []string{"GIT_PROJECT_ROOT=" + s.ReposDir, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=uploadpack.allowAnySHA1InWant", "GIT_CONFIG_VALUE_0=true"},
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	s.Git = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		if r.Header.Get("Authorization") != want {
			s.mu.Lock()
			s.gitDenied++
			s.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.gitAuthOK++
		cacheable := s.CacheAdverts && strings.HasSuffix(r.URL.Path, "/info/refs") && r.URL.Query().Get("service") == "git-upload-pack" && r.Header.Get("Git-Protocol") == ""
		cached, hit := s.adverts[r.URL.Path]
		s.mu.Unlock()
		if cacheable && hit {
			w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
			w.Write(cached)
			return
		}
		if !cacheable {
			backend.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		backend.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		if rec.Code == http.StatusOK {
			s.mu.Lock()
			s.adverts[r.URL.Path] = rec.Body.Bytes()
			s.mu.Unlock()
		}
	}))
	t.Cleanup(s.Git.Close)
	s.API = httptest.NewServer(http.HandlerFunc(s.serveAPI))
	t.Cleanup(s.API.Close)
	return s
}

// APIURL is the base to give keytrail (a GitHub Enterprise Server style
// /api/v3/ root).
func (s *Server) APIURL() string { return s.API.URL + "/api/v3/" }

func (s *Server) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.String()+" auth="+r.Header.Get("Authorization"))
}

// Requests returns what was asked so far (method, URL, auth header).
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// GitStats counts git requests with and without the right header.
func (s *Server) GitStats() (authorised, denied int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gitAuthOK, s.gitDenied
}

// APICalls counts API requests served (scripted ones included).
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiCalls
}

// DownloadsWithAuth counts log downloads that carried an Authorization
// header (the signed URL must not get the token).
func (s *Server) DownloadsWithAuth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dlAuth
}

// Script queues responses the next API requests get instead.
func (s *Server) Script(rs ...Scripted) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// AddRepo creates a bare repository whose history is commits, each a map
// of path -> content ("" deletes), committed in order on main. It is
// written by one git fast-import, so building many repositories is quick.
func (s *Server) AddRepo(r Repo, commits ...map[string]string) {
	s.t.Helper()
	bare := s.BarePath(r.Owner, r.Name)
	os.MkdirAll(filepath.Dir(bare), 0o755)
	s.gitIn("", "init", "-q", "--bare", "-b", "main", bare)
	s.fastImport(bare, "", false, commits...)
	s.mu.Lock()
	rc := r
	s.repos[strings.ToLower(r.Owner+"/"+r.Name)] = &rc
	s.mu.Unlock()
}

// RemoveRepo deletes a repository (from the API and git).
func (s *Server) RemoveRepo(owner, name string) {
	s.mu.Lock()
	delete(s.repos, strings.ToLower(owner+"/"+name))
	clear(s.adverts)
	s.mu.Unlock()
	os.RemoveAll(s.BarePath(owner, name))
}

// BarePath is where a repository's bare clone is served from.
func (s *Server) BarePath(owner, name string) string {
	return filepath.Join(s.ReposDir, owner, name+".git")
}

// Push adds a commit with files on top of main, as a push would; force
// first drops main's last commit (a force-push rewriting it). It returns
// the new tip.
func (s *Server) Push(owner, name string, files map[string]string, force bool) string {
	s.t.Helper()
	bare := s.BarePath(owner, name)
	from := "refs/heads/main^0"
	if force {
		from = "refs/heads/main~1"
	}
	s.fastImport(bare, from, force, files)
	return s.gitIn(bare, "rev-parse", "refs/heads/main")
}

// fastImport commits each file map in order on main, starting from from
// (empty: a new history).
func (s *Server) fastImport(bare, from string, force bool, commits ...map[string]string) {
	s.t.Helper()
	s.mu.Lock()
	clear(s.adverts)
	s.clock++
	when := 1704067200 + s.clock*3600
	s.mu.Unlock()
	var in bytes.Buffer
	for i, files := range commits {
		msg := fmt.Sprintf("change %d", when+int64(i))
		fmt.Fprintf(&in, "commit refs/heads/main\nauthor Fake Dev <dev@example.com> %d +0000\ncommitter Fake Dev <dev@example.com> %d +0000\ndata %d\n%s\n",
			when+int64(i), when+int64(i), len(msg), msg)
		if i == 0 && from != "" {
			fmt.Fprintf(&in, "from %s\n", from)
		}
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			if files[p] == "" {
				fmt.Fprintf(&in, "D %s\n", p)
				continue
			}
			fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", p, len(files[p]), files[p])
		}
	}
	args := []string{"fast-import", "--quiet"}
	if force {
		args = append(args, "--force")
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = bare
	cmd.Stdin = &in
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("git fast-import: %v\n%s", err, out)
	}
}

// Corrupt damages a repository's pack so cloning it fails.
func (s *Server) Corrupt(owner, name string) {
	s.t.Helper()
	bare := s.BarePath(owner, name)
	s.gitIn(bare, "repack", "-a", "-d", "-q")
	packs, _ := filepath.Glob(filepath.Join(bare, "objects", "pack", "*.pack"))
	if len(packs) == 0 {
		s.t.Fatalf("no pack in %s", bare)
	}
	data, err := os.ReadFile(packs[0])
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 32; i < len(data)-20; i += 7 {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(packs[0], data, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// AddRun adds an Actions run to a repository.
func (s *Server) AddRun(owner, name string, r Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(owner + "/" + name)
	s.runs[k] = append(s.runs[k], r)
}

func (s *Server) gitIn(dir string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Fake Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Fake Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// --- the REST API ---

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.record(r)
	if strings.HasPrefix(r.URL.Path, "/_logs/") {
		s.serveArchive(w, r)
		return
	}
	s.mu.Lock()
	s.apiCalls++
	if len(s.script) > 0 {
		sc := s.script[0]
		s.script = s.script[1:]
		s.mu.Unlock()
		for k, v := range sc.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(sc.Status)
		fmt.Fprint(w, sc.Body)
		return
	}
	if s.remaining > 0 {
		s.remaining--
	}
	rem := s.remaining
	s.mu.Unlock()
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(rem))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "orgs" && parts[2] == "repos":
		s.serveList(w, r, parts[1], true)
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "repos":
		s.serveList(w, r, parts[1], false)
	case len(parts) == 3 && parts[0] == "repos":
		s.mu.Lock()
		rp := s.repos[strings.ToLower(parts[1]+"/"+parts[2])]
		s.mu.Unlock()
		if rp == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		writeJSON(w, http.StatusOK, s.repoJSON(rp))
	case len(parts) == 5 && parts[0] == "repos" && parts[3] == "actions" && parts[4] == "runs":
		s.serveRuns(w, r, parts[1]+"/"+parts[2])
	case len(parts) == 7 && parts[0] == "repos" && parts[3] == "actions" && parts[4] == "runs" && parts[6] == "logs":
		s.serveLogs(w, r, parts[1]+"/"+parts[2], parts[5])
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) repoJSON(r *Repo) map[string]any {
	full := r.Owner + "/" + r.Name
	vis := "public"
	if r.Private {
		vis = "private"
	}
	return map[string]any{
		"id": len(full), "name": r.Name, "full_name": full,
		"owner":   map[string]any{"login": r.Owner},
		"private": r.Private, "visibility": vis, "fork": r.Fork, "archived": r.Archived,
		"html_url":       "https://github.example/" + full,
		"clone_url":      s.Git.URL + "/" + full + ".git",
		"default_branch": "main",
	}
}

// serveList pages through an owner's repositories with a Link header.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, owner string, org bool) {
	s.mu.Lock()
	var all []*Repo
	for _, rp := range s.repos {
		if strings.EqualFold(rp.Owner, owner) && rp.IsOrg == org {
			all = append(all, rp)
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	if len(all) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > s.PageSize {
		per = s.PageSize
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	last := (len(all) + per - 1) / per
	lo, hi := (page-1)*per, page*per
	if lo > len(all) {
		lo = len(all)
	}
	if hi > len(all) {
		hi = len(all)
	}
	out := []map[string]any{}
	for _, rp := range all[lo:hi] {
		out = append(out, s.repoJSON(rp))
	}
	setLink(w, r, s.API.URL, page, last)
	writeJSON(w, http.StatusOK, out)
}

func setLink(w http.ResponseWriter, r *http.Request, base string, page, last int) {
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, base, r.URL.Path, q.Encode(), rel)
	}
	var ls []string
	if page < last {
		ls = append(ls, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		ls = append(ls, link(1, "first"), link(page-1, "prev"))
	}
	if len(ls) > 0 {
		w.Header().Set("Link", strings.Join(ls, ", "))
	}
}

func (s *Server) serveRuns(w http.ResponseWriter, r *http.Request, full string) {
	s.mu.Lock()
	runs := append([]Run(nil), s.runs[strings.ToLower(full)]...)
	s.mu.Unlock()
	// Newest first, as GitHub lists them; created=>=DATE filters.
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID > runs[j].ID })
	if c := r.URL.Query().Get("created"); strings.HasPrefix(c, ">=") {
		since, err := time.Parse(time.RFC3339, strings.TrimPrefix(c, ">="))
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "bad created"})
			return
		}
		kept := runs[:0]
		for _, rn := range runs {
			if !rn.Created.Before(since) {
				kept = append(kept, rn)
			}
		}
		runs = kept
	}
	out := []map[string]any{}
	for _, rn := range runs {
		out = append(out, map[string]any{
			"id": rn.ID, "name": rn.Workflow, "status": "completed", "conclusion": "success",
			"run_attempt": 1, "created_at": rn.Created.UTC().Format(time.RFC3339),
			"html_url": fmt.Sprintf("https://github.example/%s/actions/runs/%d", full, rn.ID),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(out), "workflow_runs": out})
}

func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, full, id string) {
	s.mu.Lock()
	var run *Run
	for i, rn := range s.runs[strings.ToLower(full)] {
		if strconv.FormatInt(rn.ID, 10) == id {
			run = &s.runs[strings.ToLower(full)][i]
		}
	}
	s.mu.Unlock()
	switch {
	case run == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	case run.Gone != 0:
		writeJSON(w, run.Gone, map[string]string{"message": "Logs have expired"})
	default:
		// The real endpoint redirects to a short-lived signed URL.
		http.Redirect(w, r, fmt.Sprintf("%s/_logs/%s/%s.zip?sig=signed", s.API.URL, strings.ReplaceAll(full, "/", "_"), id), http.StatusFound)
	}
}

func (s *Server) serveArchive(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.mu.Lock()
		s.dlAuth++
		s.mu.Unlock()
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_logs/"), ".zip")
	repo, id, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	var logs map[string]string
	for k, runs := range s.runs {
		if strings.ReplaceAll(k, "/", "_") != strings.ToLower(repo) {
			continue
		}
		for _, rn := range runs {
			if strconv.FormatInt(rn.ID, 10) == id {
				logs = rn.Logs
			}
		}
	}
	s.mu.Unlock()
	if logs == nil {
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(logs))
	for n := range logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, _ := zw.Create(n)
		f.Write([]byte(logs[n]))
	}
	zw.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Write(buf.Bytes())
}
