package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/audit/githubaudit"
)

// githubAuditProvider searches GitHub audit logs for leaked GitHub tokens
// (--github-audit-org, --github-audit-enterprise).
type githubAuditProvider struct {
	orgs        []string
	enterprises []string
	url         string
}

func (p *githubAuditProvider) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&p.orgs, "github-audit-org", nil, "search this GitHub organization's audit log for the leaked GitHub tokens' use (repeatable; token in GITHUB_TOKEN or GH_TOKEN, with read:audit_log)")
	fs.StringArrayVar(&p.enterprises, "github-audit-enterprise", nil, "search this GitHub enterprise's audit log (slug; repeatable)")
	fs.StringVar(&p.url, "github-url", "", "GitHub API URL, for GitHub Enterprise Server (default $GITHUB_API_URL, else https://api.github.com)")
}

func (p *githubAuditProvider) investigator(_ context.Context, e *env) (audit.Investigator, error) {
	if len(p.orgs) == 0 && len(p.enterprises) == 0 {
		return nil, nil
	}
	for _, n := range append(append([]string{}, p.orgs...), p.enterprises...) {
		if strings.TrimSpace(n) == "" || strings.ContainsAny(n, "/ ") {
			return nil, fmt.Errorf("github audit: %q is not an organization or enterprise name", n)
		}
	}
	token := auditorGitHubToken()
	if token == "" {
		return nil, fmt.Errorf("github audit: no token; set GITHUB_TOKEN or GH_TOKEN to a token that can read the audit log (read:audit_log)")
	}
	client, err := githubaudit.NewClient(&http.Client{Timeout: time.Minute}, githubAPIURL(p.url), token, "keytrail/"+Version)
	if err != nil {
		return nil, err
	}
	return githubaudit.New(githubaudit.Config{
		Client: client, Orgs: p.orgs, Enterprises: p.enterprises,
		Baseline: e.audit.BaselineWindow, Log: e.log,
	})
}

// auditorGitHubToken is the auditor's own token, the GitHub CLI's way.
func auditorGitHubToken() string {
	if t := os.Getenv("GITHUB_TOKEN"); t != "" {
		return t
	}
	return os.Getenv("GH_TOKEN")
}

// githubAPIURL is --github-url, else GITHUB_API_URL (set by GitHub
// Actions, on Enterprise Server too), else "" for github.com.
func githubAPIURL(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv("GITHUB_API_URL")
}
