// Package distribute hands a new credential to the places clients read it
// from: AWS Secrets Manager, HashiCorp Vault KV v2, a command, a webhook.
// Every target has the same interface, so a rotation distributes to each
// --distribute target in order and can undo what it did.
package distribute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/hashicorp/vault/api"
)

// Credential is what a target receives. Only AccessKeyID, UserName and
// PreviousAccessKeyID may ever be logged.
type Credential struct {
	AccessKeyID         string
	SecretAccessKey     string
	UserName            string
	PreviousAccessKeyID string
}

// Receipt is what a target reports about a put, for the journal and for
// Restore: version ids, never a secret.
type Receipt map[string]string

// Target is one --distribute destination.
type Target interface {
	// Spec is the --distribute value, e.g. "secretsmanager:prod/app".
	Spec() string
	// Calls lists the API calls a put makes, for plans and --dry-run.
	Calls() []string
	// Put stores cred. token identifies this put, so a retried put of the
	// same credential is recognised (Secrets Manager's ClientRequestToken).
	Put(ctx context.Context, cred Credential, token string) (Receipt, error)
	// Holds reports whether the target currently hands out keyID; known is
	// false for targets that cannot be read back (exec, webhook).
	Holds(ctx context.Context, keyID string) (holds, known bool, err error)
	// Restore puts back what the target held before the put the receipt
	// describes.
	Restore(ctx context.Context, r Receipt, cred Credential) error
}

// Deps are the clients targets use, injected so tests point them at fakes.
type Deps struct {
	SecretsManager func(ctx context.Context) (SecretsManagerAPI, error)
	Vault          func() (*api.Client, error)
	HTTP           *http.Client
	Getenv         func(string) string
	// Shell runs exec targets' commands ("sh" when empty).
	Shell string
}

// WebhookSecretEnv names the environment variable holding the HMAC key of
// webhook targets.
const WebhookSecretEnv = "KEYTRAIL_WEBHOOK_SECRET"

// Parse checks a --distribute value and returns its target. Nothing is
// contacted until Put, Holds or Restore.
func Parse(spec string, d Deps) (Target, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok || rest == "" {
		return nil, fmt.Errorf("--distribute %q: want secretsmanager:NAME_OR_ARN, vault:MOUNT/PATH, exec:CMD or webhook:URL", spec)
	}
	switch kind {
	case "secretsmanager":
		return &secretsManager{spec: spec, id: rest, deps: d}, nil
	case "vault":
		mount, path, ok := strings.Cut(strings.Trim(rest, "/"), "/")
		if !ok || mount == "" || path == "" {
			return nil, fmt.Errorf("--distribute %q: want vault:MOUNT/PATH (KV v2 mount, then the secret's path)", spec)
		}
		return &vaultKV{spec: spec, mount: mount, path: path, deps: d}, nil
	case "exec":
		return &execTarget{spec: spec, cmd: rest, deps: d}, nil
	case "webhook":
		u, err := CheckURL(rest)
		if err != nil {
			return nil, fmt.Errorf("--distribute %q: %w", spec, err)
		}
		return &webhook{spec: spec, url: u, deps: d}, nil
	}
	return nil, fmt.Errorf("--distribute %q: unknown target %q (want secretsmanager, vault, exec or webhook)", spec, kind)
}

func getenv(d Deps) func(string) string {
	if d.Getenv != nil {
		return d.Getenv
	}
	return os.Getenv
}

// Field pairs a secret may hold an AWS key in, in the order tried.
var fieldPairs = [][2]string{{"AccessKeyId", "SecretAccessKey"}, {"aws_access_key_id", "aws_secret_access_key"}}

// pairIn returns the field pair a JSON object uses.
func pairIn(has func(string) bool) ([2]string, bool) {
	for _, p := range fieldPairs {
		if has(p[0]) && has(p[1]) {
			return p, true
		}
	}
	return [2]string{}, false
}

var errShape = errors.New("holds neither AccessKeyId/SecretAccessKey nor aws_access_key_id/aws_secret_access_key; refusing to guess where the key goes")

// replaceKeyFields rewrites the key fields of a JSON object, keeping every
// other field and the fields' order.
func replaceKeyFields(doc string, cred Credential) (string, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil || t != json.Delim('{') {
		return "", errors.New("is not a JSON object")
	}
	type kv struct {
		k string
		v json.RawMessage
	}
	var fields []kv
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", errors.New("is not valid JSON")
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", errors.New("is not valid JSON")
		}
		fields = append(fields, kv{k, v})
	}
	has := func(name string) bool {
		for _, f := range fields {
			if f.k == name {
				return true
			}
		}
		return false
	}
	pair, ok := pairIn(has)
	if !ok {
		return "", errShape
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		b.Write(k)
		b.WriteByte(':')
		switch f.k {
		case pair[0]:
			v, _ := json.Marshal(cred.AccessKeyID)
			b.Write(v)
		case pair[1]:
			v, _ := json.Marshal(cred.SecretAccessKey)
			b.Write(v)
		default:
			b.Write(f.v)
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// keyIDIn returns the access key id a JSON secret holds.
func keyIDIn(doc string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return "", errors.New("is not a JSON object")
	}
	pair, ok := pairIn(func(k string) bool { _, ok := m[k]; return ok })
	if !ok {
		return "", errShape
	}
	id, _ := m[pair[0]].(string)
	return id, nil
}

// payload is what exec and webhook targets receive.
type payload struct {
	Event               string `json:"event"` // rotate, rollback
	AccessKeyID         string `json:"access_key_id"`
	SecretAccessKey     string `json:"secret_access_key,omitempty"`
	UserName            string `json:"user_name,omitempty"`
	PreviousAccessKeyID string `json:"previous_access_key_id,omitempty"`
	SentAt              string `json:"sent_at,omitempty"`
	// A journaled delivery also carries "idempotency_key", first
	// (withIdempotencyKey).
}

// redact removes a secret from text a target returned (a command's stderr,
// a webhook's body) before it goes into an error.
func redact(s, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
	}
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// Reader is a target clients read their credential from (Secrets
// Manager, Vault); drills read it the way clients do.
type Reader interface {
	// Read returns the credential the target currently hands out.
	Read(ctx context.Context) (Credential, error)
}

// pairValues returns the id and secret of a JSON object's key fields.
func pairValues(get func(string) (string, bool)) (Credential, error) {
	for _, p := range fieldPairs {
		id, ok1 := get(p[0])
		sec, ok2 := get(p[1])
		if ok1 && ok2 {
			return Credential{AccessKeyID: id, SecretAccessKey: sec}, nil
		}
	}
	return Credential{}, errShape
}

// Snapshotter is a target that can say, before a put, which version it
// holds, so a put interrupted before it could report can be undone.
type Snapshotter interface {
	// Snapshot returns {"previous_version": <the version now current>}.
	Snapshot(ctx context.Context) (Receipt, error)
}

// Send delivers a JSON document to an exec:CMD (on stdin) or webhook:URL
// (signed POST) hook: what revocation hooks for other providers get. what
// names the delivery in the journal ("revoke xoxb-…").
func Send(ctx context.Context, spec, what string, d Deps, doc any) error {
	t, err := Parse(spec, d)
	if err != nil {
		return err
	}
	switch t := t.(type) {
	case *execTarget:
		return t.run(ctx, what, doc, "")
	case *webhook:
		return t.post(ctx, what, doc, "")
	}
	return fmt.Errorf("%q: a hook is exec:CMD or webhook:URL", spec)
}
