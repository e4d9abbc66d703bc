package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/audit/verify"
)

// verifyProvider is --verify: opt-in live checks of the found keys
// against their providers (audit/verify). Never on by default: each
// check is a use of the key that the provider logs.
type verifyProvider struct {
	on   bool
	urls []string
	fs   *pflag.FlagSet
}

func (p *verifyProvider) register(fs *pflag.FlagSet) {
	p.fs = fs
	fs.BoolVar(&p.on, "verify", false, "check each key live with its provider ("+strings.Join(verify.Providers(), ", ")+"); the call shows in the provider's logs, so it is off unless asked")
	fs.StringArrayVar(&p.urls, "verify-url", nil, "PROVIDER=URL: the API root --verify calls for that provider (self-managed GitLab, GitHub Enterprise Server); repeatable")
}

func (p *verifyProvider) investigator(_ context.Context, e *env) (audit.Investigator, error) {
	if !p.on {
		if len(p.urls) > 0 {
			return nil, fmt.Errorf("--verify-url needs --verify")
		}
		return nil, nil
	}
	bases, err := p.baseURLs()
	if err != nil {
		return nil, err
	}
	e.log.Warn().Msg("--verify: each found key is tried live; the calls appear in the providers' logs (for AWS, in the key owner's CloudTrail)")
	return verify.New(verify.Options{
		HTTPClient: &http.Client{},
		UserAgent:  "keytrail/" + Version,
		BaseURLs:   bases,
		Log:        e.log,
	}), nil
}

// baseURLs gathers API roots: --verify-url first, then the GitHub URL the
// GitHub audit uses (--github-url, GITHUB_API_URL), then the standard AWS
// endpoint variables.
func (p *verifyProvider) baseURLs() (map[string]string, error) {
	known := verify.Providers()
	out := map[string]string{}
	for _, kv := range p.urls {
		name, u, ok := strings.Cut(kv, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || u == "" || !slices.Contains(known, name) {
			return nil, fmt.Errorf("--verify-url %q: want PROVIDER=URL, PROVIDER one of %s", kv, strings.Join(known, ", "))
		}
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return nil, fmt.Errorf("--verify-url %q: the URL must start with https:// or http://", kv)
		}
		out[name] = u
	}
	if _, ok := out["github"]; !ok {
		flag := ""
		if p.fs != nil {
			if f := p.fs.Lookup("github-url"); f != nil {
				flag = f.Value.String()
			}
		}
		if u := githubAPIURL(flag); u != "" {
			out["github"] = gheAPIRoot(u)
		}
	}
	if _, ok := out["aws"]; !ok {
		for _, name := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
			if u := os.Getenv(name); u != "" {
				out["aws"] = u
				break
			}
		}
	}
	return out, nil
}

// gheAPIRoot turns a GitHub Enterprise Server host URL into its REST
// root the way go-github does for the audit log: /api/v3 is added unless
// present or the host is an api.* one (github.com, GHE.com).
func gheAPIRoot(raw string) string {
	raw = strings.TrimRight(raw, "/")
	u, err := url.Parse(raw)
	if err != nil || strings.HasSuffix(u.Path, "/api/v3") || strings.HasPrefix(u.Host, "api.") || strings.Contains(u.Host, ".api.") {
		return raw
	}
	return raw + "/api/v3"
}
