package cli

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/keytrail/keytrail/audit"
)

// auditProvider adds one provider's flags to `keytrail audit` and builds
// its Investigator when those flags ask for it. Each provider lives in its
// own file (audit_aws.go, audit_github.go, ...), so `audit` itself knows
// none of their details.
type auditProvider interface {
	register(fs *pflag.FlagSet)
	// investigator returns nil, nil when the flags did not enable it.
	investigator(ctx context.Context, e *env) (audit.Investigator, error)
}

// auditSettings are the audit-wide options a provider reads from
// env.audit in investigator(); `keytrail audit` sets them from its flags
// before it asks any provider.
type auditSettings struct {
	// BaselineWindow (--baseline-window, default 90 days): a key's use in
	// this window before the leak is its "known places"; IPs, regions and
	// agents seen after the leak but not in it are new.
	BaselineWindow time.Duration
	// Now is the time the audit measures ages against.
	Now time.Time
}

// auditProviders lists the providers `keytrail audit` offers, fresh per
// invocation so no flag state is shared between runs.
func auditProviders() []auditProvider {
	return []auditProvider{
		&awsProvider{},         // audit_aws.go
		&githubAuditProvider{}, // audit_github.go
		&verifyProvider{},      // audit_verify.go: last, so inventories settle status first
	}
}
