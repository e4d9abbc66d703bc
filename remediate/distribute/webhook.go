package distribute

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// SignatureHeader carries "sha256=" + hex HMAC-SHA256 of the body, keyed
// with $KEYTRAIL_WEBHOOK_SECRET.
const SignatureHeader = "X-Keytrail-Signature"

type webhook struct {
	spec, url string
	deps      Deps
}

// CheckURL allows https, and http only to loopback (a credential never
// crosses a network in clear text).
func CheckURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", errors.New("plain http is allowed only to localhost; use https")
		}
	default:
		return "", fmt.Errorf("scheme %q: want https", u.Scheme)
	}
	return u.String(), nil
}

func (t *webhook) Spec() string { return t.spec }
func (t *webhook) Calls() []string {
	return []string{fmt.Sprintf("webhook: POST %s (HMAC-SHA256 in %s)", t.url, SignatureHeader)}
}

// Sign returns the signature header value for body.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (t *webhook) post(ctx context.Context, p any, secret string) error {
	key := getenv(t.deps)(WebhookSecretEnv)
	if key == "" {
		return fmt.Errorf("%s: $%s is empty; the webhook's HMAC key comes from it", t.spec, WebhookSecretEnv)
	}
	if pl, ok := p.(payload); ok {
		pl.SentAt = time.Now().UTC().Format(time.RFC3339)
		p = pl
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", t.spec, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign([]byte(key), body))
	hc := t.deps.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: POST: %w", t.spec, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: POST answered %s: %s", t.spec, resp.Status, redact(string(msg), secret))
	}
	return nil
}

func (t *webhook) Put(ctx context.Context, cred Credential, _ string) (Receipt, error) {
	p := payload{Event: "rotate", AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey, UserName: cred.UserName, PreviousAccessKeyID: cred.PreviousAccessKeyID}
	if err := t.post(ctx, p, cred.SecretAccessKey); err != nil {
		return nil, err
	}
	return Receipt{"delivered": cred.AccessKeyID}, nil
}

func (t *webhook) Holds(context.Context, string) (bool, bool, error) { return false, false, nil }

func (t *webhook) Restore(ctx context.Context, r Receipt, cred Credential) error {
	if r["delivered"] == "" {
		return nil
	}
	return t.post(ctx, payload{Event: "rollback", AccessKeyID: cred.PreviousAccessKeyID, UserName: cred.UserName, PreviousAccessKeyID: cred.AccessKeyID}, "")
}
