// Package audit is keytrail's audit model: one Key per leaked credential,
// the Evidence providers report about it, and the verdict drawn from both.
// It does no I/O; providers (audit/awsaudit, audit/githubaudit,
// audit/verify) gather evidence and the CLI wires them together.
package audit

import (
	"context"
	"time"
)

// Key is one leaked credential as keytrail audit reports it. Its JSON is
// the contract `keytrail remediate plan --from` reads. It never holds a
// secret: only a redacted hint and the secret's SHA-256.
type Key struct {
	Fingerprint  string `json:"fingerprint"`
	RuleID       string `json:"rule_id"`
	Provider     string `json:"provider"` // "aws", "github", ... (lower case)
	KeyID        string `json:"key_id,omitempty"`
	Hint         string `json:"hint,omitempty"`
	SecretSHA256 string `json:"secret_sha256,omitempty"` // base64 SHA-256: GitHub's hashed_token

	// Secret and PairSecret (for an AWS key id: the secret access key it
	// was paired with) are known only when the audit ran the scan itself
	// or read an unredacted findings file. They are never serialised and
	// only --verify may use them.
	Secret     string `json:"-"`
	PairSecret string `json:"-"`

	AccountID string            `json:"account_id,omitempty"`
	Owner     string            `json:"owner,omitempty"` // ARN or login
	OwnerPath string            `json:"owner_path,omitempty"`
	OwnerTags map[string]string `json:"owner_tags,omitempty"`
	Status    string            `json:"status"` // active, inactive, deleted, unknown
	CreatedAt *time.Time        `json:"created_at,omitempty"`
	AgeDays   *int              `json:"age_days,omitempty"`

	LastUsedAt      *time.Time `json:"last_used_at,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`

	LeakedAt       time.Time  `json:"leaked_at"`
	LeakedAtSource string     `json:"leaked_at_source"` // commit, flag, assumed-scan-time
	LeakLocations  []Location `json:"leak_locations"`

	UsedAfterLeak         bool       `json:"used_after_leak"`
	FirstUseAfterLeak     *time.Time `json:"first_use_after_leak,omitempty"`
	EventsAfterLeak       int        `json:"events_after_leak"`
	NewSourceIPs          []string   `json:"new_source_ips"`
	NewRegions            []string   `json:"new_regions"`
	NewUserAgents         []string   `json:"new_user_agents"`
	AccessDeniedAfterLeak int        `json:"access_denied_after_leak"`
	Sessions              []Session  `json:"sessions"`

	OverMaxAge  bool       `json:"over_max_age"`
	MaxAgeDays  int        `json:"max_age_days,omitempty"`
	RotationDue *time.Time `json:"rotation_due,omitempty"`
	Quarantined bool       `json:"quarantined"`
	Admin       bool       `json:"admin"`
	Verified    string     `json:"verified,omitempty"` // valid, invalid, revoked, unknown, error; empty: not checked
	VerifyNote  string     `json:"verify_note,omitempty"`

	Risk           string          `json:"risk"`           // critical, high, medium, low
	Reasons        []string        `json:"reasons"`        // plain sentences
	Recommendation string          `json:"recommendation"` // revoke-now, rotate, remove-from-code, none
	Timeline       []TimelineEvent `json:"timeline"`
	// Errors say what could not be determined (AccessDenied on an IAM
	// call, an unreachable account). They never hold a secret.
	Errors []string `json:"errors,omitempty"`
}

// Location is one place the key was found.
type Location struct {
	File   string     `json:"file"`
	Line   int        `json:"line"`
	Commit string     `json:"commit,omitempty"`
	Date   *time.Time `json:"date,omitempty"`
}

// Session is a set of temporary credentials minted with the key.
type Session struct {
	AccessKeyID string    `json:"access_key_id"` // ASIA...
	Via         string    `json:"via"`           // GetSessionToken, AssumeRole, GetFederationToken
	MintedAt    time.Time `json:"minted_at"`
	SourceIP    string    `json:"source_ip,omitempty"`
	Events      int       `json:"events"` // uses of the session's credentials seen
}

// TimelineEvent is one point on a key's time axis.
type TimelineEvent struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"` // created, leaked, first-use-after-leak, new-ip, denied, session-minted, rotation-due, last-used, ...
	Detail string    `json:"detail"`
}

// Event is one use of a key reported by a provider's log (a CloudTrail
// record, a GitHub audit-log entry), reduced to what the verdict needs.
type Event struct {
	Time        time.Time
	AccessKeyID string // the key, or a session key minted from it
	Name        string // eventName / action
	Source      string // eventSource / repository
	Region      string
	SourceIP    string
	UserAgent   string
	ErrorCode   string // AccessDenied, UnauthorizedOperation, ...
	Actor       string
	// MintedKeyID is the ASIA id in responseElements of GetSessionToken,
	// AssumeRole or GetFederationToken called with the key.
	MintedKeyID string
}

// Evidence is what one provider reports about one key. Zero values mean
// "not known"; Errors say why something is missing.
type Evidence struct {
	AccountID       string
	Owner           string
	OwnerPath       string
	OwnerTags       map[string]string
	Status          string
	CreatedAt       *time.Time
	LastUsedAt      *time.Time
	LastUsedService string
	LastUsedRegion  string
	Quarantined     bool
	Admin           bool
	Verified        string
	VerifyNote      string
	// Usage is the key's use aggregated from logs; nil when no log was read.
	Usage  *Usage
	Errors []string
}

// Investigator gathers evidence about keys from one provider. It skips
// keys it does not handle. Evidence is keyed by Key.Fingerprint. A failure
// about one key goes into that key's Evidence.Errors; the returned errors
// name inputs that could not be read (a truncated log, a bucket denied),
// which make the audit exit 2 while the rest goes on.
type Investigator interface {
	Name() string
	Investigate(ctx context.Context, keys []Key) (map[string]Evidence, []error)
}
