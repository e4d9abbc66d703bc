package audit

import (
	"fmt"
	"strings"
	"time"
)

// Policy is the key-age policy of the [policy] table in .keytrail.toml.
// Zero values mean "the default" (see DefaultPolicy).
type Policy struct {
	// MaxAgeDays is the age after which a key must be rotated.
	MaxAgeDays int `toml:"max_age_days" json:"max_age_days"`
	// WarnDays: rotation due within this many days is mentioned.
	WarnDays int `toml:"warn_days" json:"warn_days"`
	// UnusedDays: a key not used for this many days is called unused.
	UnusedDays int `toml:"unused_days" json:"unused_days"`
	// Overrides set a different maximum age for keys whose IAM owner
	// matches; when several match, the strictest (smallest) applies.
	Overrides []PolicyOverride `toml:"override" json:"overrides,omitempty"`
	// Overlap and Grace are the rotation timings remediate uses (Go
	// durations, "15m", "24h"); an override may set its own per
	// environment. Empty: remediate's defaults.
	Overlap string `toml:"overlap" json:"overlap,omitempty"`
	Grace   string `toml:"grace" json:"grace,omitempty"`
}

// PolicyOverride matches keys by their owner's IAM path prefix and/or one
// tag "key=value"; both given means both must match.
type PolicyOverride struct {
	Path       string `toml:"path" json:"path,omitempty"`
	Tag        string `toml:"tag" json:"tag,omitempty"`
	MaxAgeDays int    `toml:"max_age_days" json:"max_age_days"`
	// Overlap and Grace override the policy's rotation timings for the
	// matching keys (an override may set only these, max_age_days 0).
	Overlap string `toml:"overlap" json:"overlap,omitempty"`
	Grace   string `toml:"grace" json:"grace,omitempty"`
}

// Defaults of the policy: 90 days is the common upper bound of
// key-rotation guidance (30 for high-security, set by an override).
const (
	DefaultMaxAgeDays = 90
	DefaultWarnDays   = 14
	DefaultUnusedDays = 90
)

// DefaultPolicy is the policy without a [policy] table.
func DefaultPolicy() Policy {
	return Policy{MaxAgeDays: DefaultMaxAgeDays, WarnDays: DefaultWarnDays, UnusedDays: DefaultUnusedDays}
}

// WithDefaults fills the zero fields with the defaults.
func (p Policy) WithDefaults() Policy {
	if p.MaxAgeDays == 0 {
		p.MaxAgeDays = DefaultMaxAgeDays
	}
	if p.WarnDays == 0 {
		p.WarnDays = DefaultWarnDays
	}
	if p.UnusedDays == 0 {
		p.UnusedDays = DefaultUnusedDays
	}
	return p
}

// Validate says what is wrong with a policy, naming the field.
func (p Policy) Validate() error {
	for name, v := range map[string]int{"max_age_days": p.MaxAgeDays, "warn_days": p.WarnDays, "unused_days": p.UnusedDays} {
		if v < 0 {
			return fmt.Errorf("policy.%s: %d is negative", name, v)
		}
	}
	for name, v := range map[string]string{"overlap": p.Overlap, "grace": p.Grace} {
		if err := checkDuration(v); err != nil {
			return fmt.Errorf("policy.%s: %w", name, err)
		}
	}
	for i, o := range p.Overrides {
		if o.Path == "" && o.Tag == "" {
			return fmt.Errorf("policy.override[%d]: needs path or tag", i)
		}
		if o.Tag != "" {
			if k, _, ok := strings.Cut(o.Tag, "="); !ok || k == "" {
				return fmt.Errorf("policy.override[%d].tag: %q is not key=value", i, o.Tag)
			}
		}
		if o.Path != "" && !strings.HasPrefix(o.Path, "/") {
			return fmt.Errorf("policy.override[%d].path: %q does not start with / (IAM paths do)", i, o.Path)
		}
		if o.MaxAgeDays < 0 || (o.MaxAgeDays == 0 && o.Overlap == "" && o.Grace == "") {
			return fmt.Errorf("policy.override[%d].max_age_days: must be positive", i)
		}
		for name, v := range map[string]string{"overlap": o.Overlap, "grace": o.Grace} {
			if err := checkDuration(v); err != nil {
				return fmt.Errorf("policy.override[%d].%s: %w", i, name, err)
			}
		}
	}
	return nil
}

// MaxAgeFor returns the maximum age for a key whose owner has this IAM
// path and these tags: the strictest matching override, else MaxAgeDays.
func (p Policy) MaxAgeFor(path string, tags map[string]string) int {
	best := p.WithDefaults().MaxAgeDays
	matched := false
	for _, o := range p.Overrides {
		if o.MaxAgeDays == 0 || !o.matches(path, tags) {
			continue
		}
		if !matched || o.MaxAgeDays < best {
			best, matched = o.MaxAgeDays, true
		}
	}
	return best
}

func (o PolicyOverride) matches(path string, tags map[string]string) bool {
	if o.Path == "" && o.Tag == "" {
		return false
	}
	if o.Path != "" && (path == "" || !strings.HasPrefix(path, o.Path)) {
		return false
	}
	if o.Tag != "" {
		k, v, _ := strings.Cut(o.Tag, "=")
		got, ok := tags[k]
		if !ok || got != v {
			return false
		}
	}
	return true
}

func checkDuration(s string) error {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration like \"15m\" or \"24h\"", s)
	}
	return nil
}

// RotationTimings returns the overlap and grace for a key whose owner has
// this IAM path and these tags: the first matching override that sets
// one, else the policy's; zero means "remediate's default".
func (p Policy) RotationTimings(path string, tags map[string]string) (overlap, grace time.Duration) {
	ov, gr := p.Overlap, p.Grace
	setO, setG := false, false
	for _, o := range p.Overrides {
		if !o.matches(path, tags) {
			continue
		}
		if o.Overlap != "" && !setO {
			ov, setO = o.Overlap, true
		}
		if o.Grace != "" && !setG {
			gr, setG = o.Grace, true
		}
	}
	overlap, _ = time.ParseDuration(ov)
	grace, _ = time.ParseDuration(gr)
	return overlap, grace
}
