package audit

import (
	"strings"
	"testing"
	"time"
)

func TestRotationTimingsPerEnvironment(t *testing.T) {
	p := Policy{Overlap: "30m", Grace: "48h", Overrides: []PolicyOverride{
		{Path: "/prod/", MaxAgeDays: 30, Overlap: "2h"},
		{Tag: "env=dev", Grace: "1h"},
		{Path: "/prod/payments/", Grace: "168h"},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path           string
		tags           map[string]string
		overlap, grace time.Duration
		maxAge         int
	}{
		{"/prod/payments/", nil, 2 * time.Hour, 168 * time.Hour, 30},
		{"/prod/", nil, 2 * time.Hour, 48 * time.Hour, 30},
		{"/", map[string]string{"env": "dev"}, 30 * time.Minute, time.Hour, 90},
		{"/", nil, 30 * time.Minute, 48 * time.Hour, 90},
	}
	for _, tc := range tests {
		o, g := p.RotationTimings(tc.path, tc.tags)
		if o != tc.overlap || g != tc.grace || p.MaxAgeFor(tc.path, tc.tags) != tc.maxAge {
			t.Errorf("%s %v: overlap %s grace %s max %d, want %s %s %d", tc.path, tc.tags, o, g, p.MaxAgeFor(tc.path, tc.tags), tc.overlap, tc.grace, tc.maxAge)
		}
	}
	for _, bad := range []Policy{{Overlap: "soon"}, {Overrides: []PolicyOverride{{Path: "/x/", Grace: "-1h"}}}, {Overrides: []PolicyOverride{{Path: "/x/"}}}} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "policy.") {
			t.Errorf("%+v accepted (%v)", bad, err)
		}
	}
}
