package distribute

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/keytrail/keytrail/remediate"
)

type vaultKV struct {
	spec, mount, path string
	deps              Deps
}

func (t *vaultKV) Spec() string { return t.spec }

func (t *vaultKV) Calls() []string {
	return []string{
		fmt.Sprintf("vault:GET /v1/%s/data/%s", t.mount, t.path),
		fmt.Sprintf("vault:PUT /v1/%s/data/%s (check-and-set = the version read)", t.mount, t.path),
	}
}

func (t *vaultKV) kv() (*api.KVv2, error) {
	if t.deps.Vault == nil {
		return nil, errors.New("no Vault client")
	}
	c, err := t.deps.Vault()
	if err != nil {
		return nil, fmt.Errorf("%s: vault client: %w", t.spec, err)
	}
	return c.KVv2(t.mount), nil
}

// casRetries bounds re-reads after a check-and-set conflict (someone else
// wrote the secret between our read and our write).
const casRetries = 3

func isCASConflict(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == 400 && strings.Contains(strings.Join(re.Errors, " "), "check-and-set")
}

// Put reads the current version, changes only the key fields and writes
// with check-and-set on the version read; a conflict re-reads and retries.
func (t *vaultKV) Put(ctx context.Context, cred Credential, _ string) (Receipt, error) {
	kv, err := t.kv()
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		cur, err := t.get(ctx, kv)
		if err != nil {
			return nil, fmt.Errorf("%s: reading: %w", t.spec, err)
		}
		if cur.Data == nil || cur.VersionMetadata == nil {
			return nil, fmt.Errorf("%s: the latest version is deleted", t.spec)
		}
		pair, ok := pairIn(func(k string) bool { _, ok := cur.Data[k]; return ok })
		if !ok {
			return nil, fmt.Errorf("%s: the secret %v", t.spec, errShape)
		}
		ver := cur.VersionMetadata.Version
		if cur.Data[pair[0]] == cred.AccessKeyID {
			return Receipt{"version": strconv.Itoa(ver)}, nil
		}
		data := map[string]any{}
		for k, v := range cur.Data {
			data[k] = v
		}
		data[pair[0]], data[pair[1]] = cred.AccessKeyID, cred.SecretAccessKey
		out, err := t.put(ctx, kv, data, ver)
		if err == nil {
			return Receipt{"version": strconv.Itoa(out.VersionMetadata.Version), "previous_version": strconv.Itoa(ver)}, nil
		}
		if !isCASConflict(err) || attempt == casRetries {
			return nil, fmt.Errorf("%s: writing (check-and-set %d): %s", t.spec, ver, redact(err.Error(), cred.SecretAccessKey))
		}
	}
}

func (t *vaultKV) Holds(ctx context.Context, keyID string) (bool, bool, error) {
	kv, err := t.kv()
	if err != nil {
		return false, false, err
	}
	cur, err := t.get(ctx, kv)
	if err != nil {
		return false, false, fmt.Errorf("%s: reading: %w", t.spec, err)
	}
	pair, ok := pairIn(func(k string) bool { _, ok := cur.Data[k]; return ok })
	if !ok {
		return false, false, fmt.Errorf("%s: the secret %v", t.spec, errShape)
	}
	return cur.Data[pair[0]] == keyID, true, nil
}

// Restore writes the previous version's data back as a new version (KV v2
// has no "make version N current"), check-and-set on the latest.
func (t *vaultKV) Restore(ctx context.Context, r Receipt, _ Credential) error {
	prev, err := strconv.Atoi(r["previous_version"])
	if err != nil {
		return nil // nothing was changed
	}
	kv, err := t.kv()
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		cur, err := t.get(ctx, kv)
		if err != nil {
			return fmt.Errorf("%s: reading: %w", t.spec, err)
		}
		old, err := t.getVersion(ctx, kv, prev)
		if err != nil || old.Data == nil {
			return fmt.Errorf("%s: reading version %d: %v", t.spec, prev, err)
		}
		pair, _ := pairIn(func(k string) bool { _, ok := old.Data[k]; return ok })
		if pair[0] != "" && cur.Data[pair[0]] == old.Data[pair[0]] {
			return nil
		}
		_, err = t.put(ctx, kv, old.Data, cur.VersionMetadata.Version)
		if err == nil {
			return nil
		}
		if !isCASConflict(err) || attempt == casRetries {
			return fmt.Errorf("%s: writing version %d back: %w", t.spec, prev, err)
		}
	}
}

// Read returns the latest version's credential.
func (t *vaultKV) Read(ctx context.Context) (Credential, error) {
	kv, err := t.kv()
	if err != nil {
		return Credential{}, err
	}
	cur, err := t.get(ctx, kv)
	if err != nil {
		return Credential{}, fmt.Errorf("%s: reading: %w", t.spec, err)
	}
	cred, err := pairValues(func(k string) (string, bool) { s, ok := cur.Data[k].(string); return s, ok })
	if err != nil {
		return cred, fmt.Errorf("%s: the secret %w", t.spec, err)
	}
	return cred, nil
}

// Snapshot records the latest version number.
func (t *vaultKV) Snapshot(ctx context.Context) (Receipt, error) {
	kv, err := t.kv()
	if err != nil {
		return nil, err
	}
	cur, err := t.get(ctx, kv)
	if err != nil {
		return nil, fmt.Errorf("%s: reading: %w", t.spec, err)
	}
	if cur.VersionMetadata == nil {
		return nil, fmt.Errorf("%s: no version metadata", t.spec)
	}
	return Receipt{"previous_version": strconv.Itoa(cur.VersionMetadata.Version)}, nil
}

// get, getVersion and put are the Vault calls, each journaled.
func (t *vaultKV) get(ctx context.Context, kv *api.KVv2) (out *api.KVSecret, err error) {
	err = remediate.Call(ctx, fmt.Sprintf("vault: GET %s/data/%s", t.mount, t.path), func(ctx context.Context) error {
		out, err = kv.Get(ctx, t.path)
		return err
	})
	return out, err
}

func (t *vaultKV) getVersion(ctx context.Context, kv *api.KVv2, v int) (out *api.KVSecret, err error) {
	err = remediate.Call(ctx, fmt.Sprintf("vault: GET %s/data/%s?version=%d", t.mount, t.path, v), func(ctx context.Context) error {
		out, err = kv.GetVersion(ctx, t.path, v)
		return err
	})
	return out, err
}

func (t *vaultKV) put(ctx context.Context, kv *api.KVv2, data map[string]any, cas int) (out *api.KVSecret, err error) {
	err = remediate.Call(ctx, fmt.Sprintf("vault: PUT %s/data/%s (cas=%d)", t.mount, t.path, cas), func(ctx context.Context) error {
		out, err = kv.Put(ctx, t.path, data, api.WithCheckAndSet(cas))
		return err
	})
	return out, err
}
