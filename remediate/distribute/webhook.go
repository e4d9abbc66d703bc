package distribute

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/keytrail/keytrail/remediate"
)

// SignatureHeader carries "sha256=" + hex HMAC-SHA256 of the body, keyed
// with $KEYTRAIL_WEBHOOK_SECRET.
const SignatureHeader = "X-Keytrail-Signature"

type webhook struct {
	spec, url string
	deps      Deps
}

// CheckURL allows https, and http only to loopback (see remediate.CheckURL).
func CheckURL(raw string) (string, error) {
	u, err := remediate.CheckURL(raw)
	if err != nil {
		return "", err
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

// post sends p; what ("rotate to AKIA...") names the call in the journal
// and, with the step, derives its idempotency key.
func (t *webhook) post(ctx context.Context, what string, p any, secret string) error {
	return remediate.Call(ctx, fmt.Sprintf("webhook: POST %s (%s)", t.url, what), func(ctx context.Context) error {
		return t.postOnce(ctx, p, secret)
	})
}

func (t *webhook) postOnce(ctx context.Context, p any, secret string) error {
	key := getenv(t.deps)(WebhookSecretEnv)
	if key == "" {
		return fmt.Errorf("%s: $%s is empty; the webhook's HMAC key comes from it", t.spec, WebhookSecretEnv)
	}
	if pl, ok := p.(payload); ok {
		pl.SentAt = time.Now().UTC().Format(time.RFC3339)
		p = pl
	}
	body, err := withIdempotencyKey(ctx, p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", t.spec, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if k := remediate.IdempotencyKey(ctx); k != "" {
		req.Header.Set(remediate.IdempotencyHeader, k)
	}
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
	if err := t.post(ctx, "rotate to "+cred.AccessKeyID, p, cred.SecretAccessKey); err != nil {
		return nil, err
	}
	return Receipt{"delivered": cred.AccessKeyID}, nil
}

func (t *webhook) Holds(context.Context, string) (bool, bool, error) { return false, false, nil }

func (t *webhook) Restore(ctx context.Context, r Receipt, cred Credential) error {
	if r["delivered"] == "" {
		return nil
	}
	return t.post(ctx, "rollback to "+cred.PreviousAccessKeyID, payload{Event: "rollback", AccessKeyID: cred.PreviousAccessKeyID, UserName: cred.UserName, PreviousAccessKeyID: cred.AccessKeyID}, "")
}

// withIdempotencyKey is p as JSON with "idempotency_key" first when ctx
// carries one: a receiver that saw the key already has this delivery (a
// resume re-sent it after the journal missed the answer).
func withIdempotencyKey(ctx context.Context, p any) ([]byte, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	k := remediate.IdempotencyKey(ctx)
	if k == "" || len(body) < 2 || body[0] != '{' {
		return body, nil
	}
	kj, _ := json.Marshal(k)
	out := append([]byte(`{"idempotency_key":`), kj...)
	if len(bytes.TrimSpace(body[1:len(body)-1])) > 0 {
		out = append(out, ',')
	}
	return append(out, body[1:]...), nil
}
