package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/audit/awsaudit"
)

// awsProvider adds the AWS flags to `keytrail audit`: the account
// inventory (--aws, --profile, --assume-role), CloudTrail (--cloudtrail,
// --lookup-events) and the Athena SQL (--athena-sql).
type awsProvider struct {
	enable      bool
	profile     string
	roles       []string
	regions     []string
	trails      []string
	lookup      bool
	athenaSQL   string
	athenaTable string
}

func (p *awsProvider) register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.enable, "aws", false, "ask AWS about each AWS key (owner, status, age, last use, quarantine) with the standard credential chain")
	fs.StringVar(&p.profile, "profile", "", "AWS shared-config profile for the auditor's credentials (implies --aws)")
	fs.StringArrayVar(&p.roles, "assume-role", nil, "audit the account of this role ARN (repeatable: one account each; implies --aws)")
	fs.StringArrayVar(&p.regions, "region", nil, "AWS Region (repeatable; --lookup-events asks each; default: the configured Region and us-east-1)")
	fs.StringArrayVar(&p.trails, "cloudtrail", nil, "CloudTrail logs to read for each AWS key's use: a file, a directory tree (AWSLogs/...) or s3://bucket/prefix (repeatable)")
	fs.BoolVar(&p.lookup, "lookup-events", false, "ask CloudTrail LookupEvents (90 days of management events) for each AWS key in every Region (implies --aws)")
	fs.StringVar(&p.athenaSQL, "athena-sql", "", "write to this file the Athena SQL that asks the same questions of a CloudTrail table (for trails too big to read here)")
	fs.StringVar(&p.athenaTable, "athena-table", "cloudtrail_logs", "the CloudTrail table --athena-sql queries")
}

func (p *awsProvider) investigator(ctx context.Context, e *env) (audit.Investigator, error) {
	iamOn := p.enable || p.profile != "" || len(p.roles) > 0 || p.lookup
	needS3 := false
	for _, t := range p.trails {
		if strings.HasPrefix(t, "s3://") {
			needS3 = true
		}
	}
	if !iamOn && !needS3 && len(p.trails) == 0 && p.athenaSQL == "" {
		return nil, nil
	}
	opts := awsaudit.Options{CloudTrail: p.trails, LookupEvents: p.lookup, Baseline: e.audit.BaselineWindow, Now: e.now}
	if iamOn || needS3 {
		accts, err := awsaudit.Connect(ctx, awsaudit.ConnectOptions{Profile: p.profile, Roles: p.roles, Regions: p.regions, Getenv: os.Getenv})
		if err != nil {
			return nil, fmt.Errorf("aws: %w", err)
		}
		if !iamOn {
			// Credentials only to read the S3 trail: no IAM questions.
			opts.S3Only = true
		}
		opts.Accounts = accts
	}
	inv := awsaudit.New(opts)
	if p.athenaSQL == "" {
		return inv, nil
	}
	return &athenaWriter{Investigator: inv, path: p.athenaSQL, table: p.athenaTable, window: e.audit.BaselineWindow, run: iamOn || len(p.trails) > 0}, nil
}

// athenaWriter writes the Athena SQL for the audited AWS keys, then runs
// the AWS investigation if its flags asked for one.
type athenaWriter struct {
	*awsaudit.Investigator
	path, table string
	window      time.Duration
	run         bool
}

func (a *athenaWriter) Investigate(ctx context.Context, keys []audit.Key) (map[string]audit.Evidence, []error) {
	var errs []error
	sql, err := awsaudit.AthenaSQL(a.table, keys, a.window)
	if err == nil {
		err = os.WriteFile(a.path, []byte(sql), 0o644)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("--athena-sql %s: %w", a.path, err))
	}
	if !a.run {
		return map[string]audit.Evidence{}, errs
	}
	evs, more := a.Investigator.Investigate(ctx, keys)
	return evs, append(errs, more...)
}
