package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyTable(t *testing.T) {
	cases := []struct {
		name    string
		toml    string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{name: "absent: defaults", toml: "", check: func(t *testing.T, c *Config) {
			p := c.AuditPolicy()
			if p.MaxAgeDays != 90 || p.WarnDays != 14 || p.UnusedDays != 90 {
				t.Errorf("defaults: %+v", p)
			}
		}},
		{name: "values and overrides", toml: `
[policy]
max_age_days = 60
unused_days = 30

[[policy.override]]
tag = "env=prod"
max_age_days = 30

[[policy.override]]
path = "/legacy/"
max_age_days = 180
`, check: func(t *testing.T, c *Config) {
			p := c.AuditPolicy()
			if p.MaxAgeDays != 60 || p.UnusedDays != 30 || p.WarnDays != 14 {
				t.Errorf("policy: %+v", p)
			}
			if got := p.MaxAgeFor("/", map[string]string{"env": "prod"}); got != 30 {
				t.Errorf("env=prod: %d, want 30", got)
			}
			if got := p.MaxAgeFor("/legacy/app/", nil); got != 180 {
				t.Errorf("/legacy/: %d, want 180", got)
			}
		}},
		{name: "bad tag", toml: "[policy]\n[[policy.override]]\ntag = \"prod\"\nmax_age_days = 30\n", wantErr: "policy.override[0].tag"},
		{name: "unknown field", toml: "[policy]\nmax_age = 30\n", wantErr: `unknown field "policy.max_age"`},
		{name: "negative", toml: "[policy]\nmax_age_days = -5\n", wantErr: "policy.max_age_days"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, []byte(c.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want one naming %s and %q", err, path, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
	var none *Config
	if none.AuditPolicy().MaxAgeDays != 90 {
		t.Error("nil config: want the default policy")
	}
}
