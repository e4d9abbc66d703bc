package awsaudit

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	ct "github.com/keytrail/keytrail/audit/cloudtrail"
)

// ConnectOptions choose the credentials and Regions.
type ConnectOptions struct {
	Profile string   // --profile; "" means the standard chain (AWS_PROFILE, env, SSO, instance role...)
	Roles   []string // --assume-role ARNs: one account each; none means the base credentials' account
	Regions []string // --region; the first is the SDK's Region, all are asked by LookupEvents
	// Getenv reads the environment (AWS_ENDPOINT_URL_S3); nil means none.
	Getenv     func(string) string
	HTTPClient *http.Client
}

// MissingCredentialsHelp says how to give the auditor credentials.
const MissingCredentialsHelp = "no AWS credentials found: set AWS_PROFILE or pass --profile NAME, " +
	"or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), " +
	"or run where an instance or container role provides them"

// Connect loads the SDK configuration (the standard credential chain,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> included) and returns
// one Account per role to assume, or the base account.
func Connect(ctx context.Context, o ConnectOptions) ([]Account, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			// Throttling (IAM's Throttling, CloudTrail's ThrottlingException)
			// is retried with the standard exponential backoff.
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 8 })
		}),
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if len(o.Regions) > 0 {
		opts = append(opts, config.WithRegion(o.Regions[0]))
	}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if base.Region == "" {
		base.Region = "us-east-1"
	}
	if _, err := base.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("%s", MissingCredentialsHelp)
	}
	regions := o.Regions
	if len(regions) == 0 {
		regions = []string{base.Region}
		if base.Region != "us-east-1" {
			// IAM and other global services log to us-east-1.
			regions = append(regions, "us-east-1")
		}
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	pathStyle := base.BaseEndpoint != nil || getenv("AWS_ENDPOINT_URL_S3") != ""
	label := "default credentials"
	if o.Profile != "" {
		label = "profile " + o.Profile
	}
	if len(o.Roles) == 0 {
		return []Account{account4(base, label, regions, pathStyle)}, nil
	}
	var out []Account
	for _, arn := range o.Roles {
		cfg := base.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), arn,
			func(ao *stscreds.AssumeRoleOptions) { ao.RoleSessionName = "keytrail-audit" }))
		out = append(out, account4(cfg, "role "+arn, regions, pathStyle))
	}
	return out, nil
}

func account4(cfg aws.Config, label string, regions []string, pathStyle bool) Account {
	a := Account{Label: label, IAM: iam.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		S3:         s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = so.UsePathStyle || pathStyle }),
		CloudTrail: map[string]ct.LookupAPI{}}
	for _, r := range regions {
		a.CloudTrail[r] = cloudtrail.NewFromConfig(cfg, func(co *cloudtrail.Options) { co.Region = r })
	}
	return a
}
