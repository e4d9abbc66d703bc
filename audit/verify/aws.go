package verify

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// verifyAWS signs sts:GetCallerIdentity with the found pair. The call
// needs no permission and cannot be denied, so success proves the pair is
// live; it is recorded in the key owner's CloudTrail.
func verifyAWS(ctx context.Context, v *Verifier, base string, c cred) Result {
	if c.id == "" {
		return Result{Status: Unknown, Note: "no access key id to pair the secret with"}
	}
	if strings.HasPrefix(c.id, "ASIA") {
		return Result{Status: Unknown, Note: "temporary (ASIA) key: verifying it needs its session token"}
	}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(c.id, c.secret, ""),
		HTTPClient:  v.http,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		AppID:       v.opts.UserAgent,
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if base != "" {
			o.BaseEndpoint = aws.String(base)
		}
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return awsFailure(err)
	}
	arn, account := aws.ToString(out.Arn), aws.ToString(out.Account)
	return Result{Status: Valid, Owner: arn, AccountID: account, Note: notes("arn "+arn, "account "+account)}
}

// awsFailure reads an STS error by its code only: the SDK's messages are
// safe, but the code is what decides.
func awsFailure(err error) Result {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "InvalidClientTokenId":
			return Result{Status: Invalid, Note: "AWS: unknown key id (deleted, deactivated or never valid)"}
		case "SignatureDoesNotMatch":
			return Result{Status: Invalid, Note: "AWS: the secret does not match the key id"}
		case "ExpiredToken", "ExpiredTokenException":
			return Result{Status: Invalid, Note: "AWS: expired"}
		case "Throttling", "ThrottlingException", "RequestLimitExceeded":
			return Result{Status: Error, Note: "AWS: throttled; try again later"}
		}
		return Result{Status: Unknown, Note: "AWS: " + api.ErrorCode()}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Result{Status: Error, Note: "AWS: " + err.Error()}
	}
	// Transport failures: the SDK's text names the operation and the
	// cause, never the credentials (Verify scrubs the secret anyway).
	return Result{Status: Error, Note: "AWS: " + err.Error()}
}

func looksLikeAWSKeyID(s string) bool {
	if len(s) != 20 {
		return false
	}
	switch s[:4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
		return true
	}
	return false
}
