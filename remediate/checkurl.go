package remediate

import (
	"fmt"
	"net"
	"net/url"
)

// CheckURL parses an address a credential or token will be sent to
// (webhook targets, notifications, the GitHub revocation API) and allows
// https, or plain http to loopback only: a credential never crosses a
// network in clear text.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a URL", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%q: plain http is allowed only to localhost; use https", raw)
		}
	default:
		return nil, fmt.Errorf("%q: scheme %q, want https", raw, u.Scheme)
	}
	return u, nil
}
