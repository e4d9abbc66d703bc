package distribute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keytrail/keytrail/remediate"
)

// SecretsManagerAPI is the part of the Secrets Manager client targets use.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// Staging labels, as Secrets Manager's rotation uses them.
const (
	StageCurrent = "AWSCURRENT"
	StagePending = "AWSPENDING"
)

type secretsManager struct {
	spec, id string
	deps     Deps
}

func (t *secretsManager) Spec() string { return t.spec }

func (t *secretsManager) Calls() []string {
	return []string{
		fmt.Sprintf("secretsmanager:GetSecretValue(SecretId=%s, VersionStage=AWSCURRENT)", t.id),
		fmt.Sprintf("secretsmanager:PutSecretValue(SecretId=%s, VersionStages=[AWSPENDING])", t.id),
		fmt.Sprintf("secretsmanager:UpdateSecretVersionStage(SecretId=%s, VersionStage=AWSCURRENT, MoveToVersionId=<new>)", t.id),
	}
}

func (t *secretsManager) client(ctx context.Context) (SecretsManagerAPI, error) {
	if t.deps.SecretsManager == nil {
		return nil, errors.New("no Secrets Manager client")
	}
	return t.deps.SecretsManager(ctx)
}

func (t *secretsManager) current(ctx context.Context, c SecretsManagerAPI) (*secretsmanager.GetSecretValueOutput, error) {
	var out *secretsmanager.GetSecretValueOutput
	err := remediate.Call(ctx, fmt.Sprintf("secretsmanager:GetSecretValue(SecretId=%s, VersionStage=AWSCURRENT)", t.id), func(ctx context.Context) (err error) {
		out, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(t.id), VersionStage: aws.String(StageCurrent)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: secretsmanager:GetSecretValue: %w", t.spec, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("%s: the secret is binary; keytrail writes JSON secrets only", t.spec)
	}
	return out, nil
}

// Put writes the new value as AWSPENDING, then moves AWSCURRENT to it;
// Secrets Manager moves AWSPREVIOUS to the version that was current.
func (t *secretsManager) Put(ctx context.Context, cred Credential, token string) (Receipt, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := t.current(ctx, c)
	if err != nil {
		return nil, err
	}
	curID := aws.ToString(cur.VersionId)
	if id, _ := keyIDIn(*cur.SecretString); id == cred.AccessKeyID {
		return Receipt{"version": curID}, nil // already current
	}
	doc, err := replaceKeyFields(*cur.SecretString, cred)
	if err != nil {
		return nil, fmt.Errorf("%s: the secret %v", t.spec, err)
	}
	var put *secretsmanager.PutSecretValueOutput
	err = remediate.Call(ctx, fmt.Sprintf("secretsmanager:PutSecretValue(SecretId=%s, ClientRequestToken=%s, VersionStages=[AWSPENDING])", t.id, token), func(ctx context.Context) (err error) {
		put, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(t.id), SecretString: aws.String(doc),
			ClientRequestToken: aws.String(token), VersionStages: []string{StagePending}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: secretsmanager:PutSecretValue: %w", t.spec, err)
	}
	newID := aws.ToString(put.VersionId)
	if err := t.move(ctx, c, newID, curID); err != nil {
		return Receipt{"pending_version": newID, "previous_version": curID}, fmt.Errorf("%s: secretsmanager:UpdateSecretVersionStage: %w", t.spec, err)
	}
	return Receipt{"version": newID, "previous_version": curID}, nil
}

func (t *secretsManager) Holds(ctx context.Context, keyID string) (bool, bool, error) {
	c, err := t.client(ctx)
	if err != nil {
		return false, false, err
	}
	cur, err := t.current(ctx, c)
	if err != nil {
		return false, false, err
	}
	id, err := keyIDIn(*cur.SecretString)
	if err != nil {
		return false, false, fmt.Errorf("%s: the secret %v", t.spec, err)
	}
	return id == keyID, true, nil
}

// Restore moves AWSCURRENT back to the version that was current before.
func (t *secretsManager) Restore(ctx context.Context, r Receipt, _ Credential) error {
	prev := r["previous_version"]
	if prev == "" {
		return nil // the put found the value already current: nothing to move
	}
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	cur, err := t.current(ctx, c)
	if err != nil {
		return err
	}
	if aws.ToString(cur.VersionId) == prev {
		return nil
	}
	if err := t.move(ctx, c, prev, aws.ToString(cur.VersionId)); err != nil {
		return fmt.Errorf("%s: secretsmanager:UpdateSecretVersionStage (back to %s): %w", t.spec, prev, err)
	}
	return nil
}

// Read returns the AWSCURRENT credential.
func (t *secretsManager) Read(ctx context.Context) (Credential, error) {
	c, err := t.client(ctx)
	if err != nil {
		return Credential{}, err
	}
	cur, err := t.current(ctx, c)
	if err != nil {
		return Credential{}, err
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(*cur.SecretString), &m); err != nil {
		return Credential{}, fmt.Errorf("%s: the secret is not a JSON object", t.spec)
	}
	cred, err := pairValues(func(k string) (string, bool) { s, ok := m[k].(string); return s, ok })
	if err != nil {
		return cred, fmt.Errorf("%s: the secret %w", t.spec, err)
	}
	return cred, nil
}

// Snapshot records the version that is AWSCURRENT now.
func (t *secretsManager) Snapshot(ctx context.Context) (Receipt, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := t.current(ctx, c)
	if err != nil {
		return nil, err
	}
	return Receipt{"previous_version": aws.ToString(cur.VersionId)}, nil
}

// move makes version to AWSCURRENT (Secrets Manager makes from AWSPREVIOUS).
func (t *secretsManager) move(ctx context.Context, c SecretsManagerAPI, to, from string) error {
	return remediate.Call(ctx, fmt.Sprintf("secretsmanager:UpdateSecretVersionStage(SecretId=%s, VersionStage=AWSCURRENT, MoveToVersionId=%s, RemoveFromVersionId=%s)", t.id, to, from), func(ctx context.Context) error {
		_, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(t.id),
			VersionStage: aws.String(StageCurrent), MoveToVersionId: aws.String(to), RemoveFromVersionId: aws.String(from)})
		return err
	})
}
