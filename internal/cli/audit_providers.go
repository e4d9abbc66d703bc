package cli

import (
	"context"

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

// auditProviders lists the providers `keytrail audit` offers, fresh per
// invocation so no flag state is shared between runs.
func auditProviders() []auditProvider {
	return []auditProvider{}
}
