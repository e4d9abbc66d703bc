package awsfake

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSecretsManagerStagingLabels(t *testing.T) {
	ctx := context.Background()
	s := New(t)
	sm := secretsmanager.NewFromConfig(s.Config())
	name := "staging-test"
	c, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(`{"v":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	v1 := aws.ToString(c.VersionId)
	cur := func() (string, string) {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId), aws.ToString(out.SecretString)
	}
	v2 := "pending-version-0000000000000000000002"
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(`{"v":2}`),
		ClientRequestToken: aws.String(v2), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	if id, val := cur(); id != v1 || val != `{"v":1}` {
		t.Fatalf("AWSPENDING moved AWSCURRENT: %s %s", id, val)
	}
	p, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionStage: aws.String("AWSPENDING")})
	if err != nil || aws.ToString(p.SecretString) != `{"v":2}` {
		t.Fatalf("AWSPENDING: %v %v", p, err)
	}
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(name), VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: aws.String(v2), RemoveFromVersionId: aws.String("wrong")}); code(err) != "InvalidParameterException" {
		t.Fatalf("wrong RemoveFromVersionId: %v", err)
	}
	for _, step := range []struct{ to, from, want string }{{v2, v1, `{"v":2}`}, {v1, v2, `{"v":1}`}} {
		if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(name), VersionStage: aws.String("AWSCURRENT"),
			MoveToVersionId: aws.String(step.to), RemoveFromVersionId: aws.String(step.from)}); err != nil {
			t.Fatal(err)
		}
		if id, val := cur(); id != step.to || val != step.want {
			t.Fatalf("after moving AWSCURRENT to %s: %s %s", step.to, id, val)
		}
	}
}

func TestKeyStatusEnforcedAndUseRecorded(t *testing.T) {
	ctx := context.Background()
	s := New(t)
	if err := s.CreateUser(ctx, "enforce-user", "", nil); err != nil {
		t.Fatal(err)
	}
	id, secret, err := s.CreateAccessKey(ctx, "enforce-user")
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	cfg.RetryMaxAttempts = 1
	stsc, sm, ic := sts.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg), iam.NewFromConfig(s.Config())
	if _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	lu, err := ic.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil || lu.AccessKeyLastUsed.LastUsedDate == nil || aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "sts" {
		t.Fatalf("last use not recorded: %+v %v", lu, err)
	}
	if _, err := ic.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("enforce-user"), AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); code(err) != "InvalidClientTokenId" {
		t.Fatalf("inactive key on STS: %v", err)
	}
	if _, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{}); code(err) != "UnrecognizedClientException" {
		t.Fatalf("inactive key on Secrets Manager: %v", err)
	}
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("enforce-user"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17"}`)}); err != nil {
		t.Fatal(err)
	}
	if s.UserPolicy("enforce-user", "p") == "" || len(s.IssuedSecrets()) != 1 {
		t.Fatal("inline policy or issued secret not recorded")
	}
}
