package githubsource

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Repo is one repository to scan.
type Repo struct {
	FullName      string // owner/name
	Owner, Name   string
	CloneURL      string
	HTMLURL       string
	DefaultBranch string
	Fork          bool
	Archived      bool
	Visibility    string // public, private or internal
}

// Filter selects repositories.
type Filter struct {
	Orgs, Users     []string
	Repos           []string // owner/name
	IncludeForks    bool
	IncludeArchived bool
	Visibility      string // public, private (anything not public) or all
	Exclude         []string
	// Shard and Shards select a stable share of the list: repositories
	// whose name hashes to Shard modulo Shards. Shards 0 means all.
	Shard, Shards int
}

// Skip is a listed repository that is not scanned, and why.
type Skip struct {
	Repo   string `json:"repo"`
	Reason string `json:"reason"`
}

// Listing is what List found.
type Listing struct {
	Repos   []Repo
	Skipped []Skip
	// Listed counts the repositories the API returned (after dedup).
	Listed int
	// Seen holds the lower-cased names of every repository listed, and
	// Complete the owners (lower-cased) whose repositories were listed in
	// full: a state entry of such an owner not in Seen was deleted.
	Seen     map[string]bool
	Complete map[string]bool
	// Gone are --repo names the API says do not exist (404).
	Gone []string
}

// NewClient returns a go-github client for base (the API root, e.g.
// https://api.github.com/ or https://ghe.example.com/api/v3/) that sends
// token and goes through rt (a RateLimiter).
func NewClient(base, token string, rt http.RoundTripper) (*github.Client, error) {
	c := github.NewClient(&http.Client{Transport: rt})
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if base != "" {
		u, err := APIBase(base)
		if err != nil {
			return nil, err
		}
		c.BaseURL = u
	}
	c.UserAgent = "keytrail"
	return c, nil
}

// APIBase normalises an API URL: a bare GitHub Enterprise Server host
// gets /api/v3/, and the path always ends in a slash.
func APIBase(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("GitHub API URL %q: want https://HOST[/api/v3]", s)
	}
	if (u.Path == "" || u.Path == "/") && !strings.HasPrefix(u.Host, "api.") {
		u.Path = "/api/v3/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// List lists the repositories the filter selects, following pagination.
// A failure to list an owner is an error: scanning part of an org while
// saying nothing would look like a clean bill of health.
func List(ctx context.Context, c *github.Client, f Filter) (*Listing, error) {
	l := &Listing{Seen: map[string]bool{}, Complete: map[string]bool{}}
	var all []*github.Repository
	for _, org := range f.Orgs {
		opt := &github.RepositoryListByOrgOptions{Type: "all", ListOptions: github.ListOptions{PerPage: 100}}
		for {
			rs, resp, err := c.Repositories.ListByOrg(ctx, org, opt)
			if err != nil {
				return nil, fmt.Errorf("listing repositories of org %s: %w", org, err)
			}
			all = append(all, rs...)
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
		l.Complete[strings.ToLower(org)] = true
	}
	for _, user := range f.Users {
		opt := &github.RepositoryListByUserOptions{Type: "owner", ListOptions: github.ListOptions{PerPage: 100}}
		for {
			rs, resp, err := c.Repositories.ListByUser(ctx, user, opt)
			if err != nil {
				return nil, fmt.Errorf("listing repositories of user %s: %w", user, err)
			}
			all = append(all, rs...)
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
		l.Complete[strings.ToLower(user)] = true
	}
	for _, full := range f.Repos {
		owner, name, ok := strings.Cut(full, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("--repo %q: want OWNER/NAME", full)
		}
		r, _, err := c.Repositories.Get(ctx, owner, name)
		var ge *github.ErrorResponse
		if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound {
			l.Gone = append(l.Gone, full)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("getting repository %s: %w", full, err)
		}
		all = append(all, r)
	}
	byName := map[string]Repo{}
	for _, r := range all {
		rp := fromAPI(r)
		if rp.FullName == "" {
			continue
		}
		byName[strings.ToLower(rp.FullName)] = rp
	}
	names := make([]string, 0, len(byName))
	for k := range byName {
		names = append(names, k)
	}
	sort.Strings(names)
	l.Listed = len(names)
	for _, k := range names {
		r := byName[k]
		l.Seen[k] = true
		if why := f.skip(r); why != "" {
			l.Skipped = append(l.Skipped, Skip{Repo: r.FullName, Reason: why})
			continue
		}
		l.Repos = append(l.Repos, r)
	}
	return l, nil
}

func fromAPI(r *github.Repository) Repo {
	full := r.GetFullName()
	owner, name, _ := strings.Cut(full, "/")
	vis := r.GetVisibility()
	if vis == "" {
		vis = "public"
		if r.GetPrivate() {
			vis = "private"
		}
	}
	return Repo{
		FullName: full, Owner: owner, Name: name,
		CloneURL: r.GetCloneURL(), HTMLURL: r.GetHTMLURL(), DefaultBranch: r.GetDefaultBranch(),
		Fork: r.GetFork(), Archived: r.GetArchived(), Visibility: vis,
	}
}

// skip says why the filter leaves r out, "" if it does not.
func (f Filter) skip(r Repo) string {
	switch {
	case r.Fork && !f.IncludeForks:
		return "fork (--include-forks to scan)"
	case r.Archived && !f.IncludeArchived:
		return "archived (--include-archived to scan)"
	case f.Visibility == "public" && r.Visibility != "public":
		return r.Visibility + " (--visibility public)"
	case f.Visibility == "private" && r.Visibility == "public":
		return "public (--visibility private)"
	}
	for _, g := range f.Exclude {
		if ok, _ := path.Match(strings.ToLower(g), strings.ToLower(r.FullName)); ok {
			return "excluded by --exclude " + g
		}
	}
	if f.Shards > 1 && ShardOf(r.FullName, f.Shards) != f.Shard {
		return fmt.Sprintf("in shard %d/%d", ShardOf(r.FullName, f.Shards), f.Shards)
	}
	if r.CloneURL == "" {
		return "no clone URL"
	}
	return ""
}

// ShardOf is the shard a repository belongs to: FNV-1a of its lower-cased
// name modulo n. It depends on nothing but the name, so every worker of a
// matrix agrees and a repository stays in its shard as others come and go.
func ShardOf(fullName string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(fullName)))
	return int(h.Sum64() % uint64(n))
}

// ParseShard parses I/N.
func ParseShard(s string) (int, int, error) {
	var i, n int
	if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err != nil || n < 1 || i < 0 || i >= n || fmt.Sprintf("%d/%d", i, n) != s {
		return 0, 0, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. 0/8", s)
	}
	return i, n, nil
}
