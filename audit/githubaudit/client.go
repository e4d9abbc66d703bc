package githubaudit

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// DefaultAPIURL is github.com's REST root; any other base URL is treated
// as GitHub Enterprise Server.
const DefaultAPIURL = "https://api.github.com"

// NewClient builds the go-github client the investigator uses. baseURL is
// GITHUB_API_URL or --github-url ("" for github.com); for GitHub
// Enterprise Server it may be given with or without its /api/v3 suffix.
// token is the auditor's token; it only ever goes into the Authorization
// header and errors never carry it.
func NewClient(hc *http.Client, baseURL, token, userAgent string) (*github.Client, error) {
	if hc == nil {
		hc = &http.Client{}
	}
	c := github.NewClient(hc)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	base := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if base != "" && base != DefaultAPIURL {
		u, err := url.Parse(base)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("github url %q: want an absolute http(s) URL such as https://github.example.com/api/v3", baseURL)
		}
		upload := u.Scheme + "://" + u.Host + "/api/uploads/"
		if c, err = c.WithEnterpriseURLs(base+"/", upload); err != nil {
			return nil, fmt.Errorf("github url %q: %w", baseURL, err)
		}
	}
	if userAgent != "" {
		c.UserAgent = userAgent
	}
	return c, nil
}
