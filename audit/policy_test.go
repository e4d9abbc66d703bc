package audit

import (
	"strings"
	"testing"
)

func TestPolicyMaxAgeFor(t *testing.T) {
	p := Policy{MaxAgeDays: 90, Overrides: []PolicyOverride{
		{Tag: "env=prod", MaxAgeDays: 30},
		{Path: "/ci/", MaxAgeDays: 60},
		{Path: "/ci/deploy/", Tag: "team=ops", MaxAgeDays: 14},
	}}
	cases := []struct {
		name string
		path string
		tags map[string]string
		want int
	}{
		{"no match", "/", nil, 90},
		{"tag match", "/", map[string]string{"env": "prod"}, 30},
		{"tag value differs", "/", map[string]string{"env": "dev"}, 90},
		{"path prefix", "/ci/build/", nil, 60},
		{"path and tag both needed, tag missing", "/ci/deploy/", nil, 60},
		{"path and tag both match: strictest wins", "/ci/deploy/", map[string]string{"team": "ops"}, 14},
		{"two overrides match: strictest wins", "/ci/", map[string]string{"env": "prod"}, 30},
		{"empty path never matches a path override", "", nil, 90},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := p.MaxAgeFor(c.path, c.tags); got != c.want {
				t.Errorf("MaxAgeFor(%q, %v) = %d, want %d", c.path, c.tags, got, c.want)
			}
		})
	}
	if got := (Policy{}).MaxAgeFor("/", nil); got != DefaultMaxAgeDays {
		t.Errorf("zero policy: max age %d, want the default %d", got, DefaultMaxAgeDays)
	}
	// An override may be laxer than the default when it is the only match.
	lax := Policy{Overrides: []PolicyOverride{{Path: "/legacy/", MaxAgeDays: 365}}}
	if got := lax.MaxAgeFor("/legacy/x/", nil); got != 365 {
		t.Errorf("lax override: %d, want 365", got)
	}
}

func TestPolicyValidate(t *testing.T) {
	cases := []struct {
		p    Policy
		want string // "" = valid
	}{
		{Policy{}, ""},
		{DefaultPolicy(), ""},
		{Policy{MaxAgeDays: -1}, "max_age_days"},
		{Policy{WarnDays: -3}, "warn_days"},
		{Policy{Overrides: []PolicyOverride{{MaxAgeDays: 30}}}, "needs path or tag"},
		{Policy{Overrides: []PolicyOverride{{Tag: "envprod", MaxAgeDays: 30}}}, "not key=value"},
		{Policy{Overrides: []PolicyOverride{{Path: "prod/", MaxAgeDays: 30}}}, "does not start with /"},
		{Policy{Overrides: []PolicyOverride{{Tag: "env=prod"}}}, "must be positive"},
		{Policy{Overrides: []PolicyOverride{{Tag: "env=prod", MaxAgeDays: 30}}}, ""},
	}
	for _, c := range cases {
		err := c.p.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c.p, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: error %v, want one containing %q", c.p, err, c.want)
		}
	}
}
