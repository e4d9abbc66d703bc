package scanner

import (
	"testing"

	"github.com/keytrail/keytrail/rules"
)

func TestWeighPath(t *testing.T) {
	generic := &rules.Rule{Generic: true}
	provider := &rules.Rule{}
	cases := []struct {
		path string
		rule *rules.Rule
		bare bool
		conf string
		keep bool
		want string
	}{
		{"app/settings.py", generic, false, "high", true, "high"},
		{"app/settings.py", generic, true, "low", false, ""},
		{"deploy/.env", generic, true, "low", true, "low"},
		{"docker-compose.yml", generic, true, "medium", true, "medium"},
		{"src/tests/test_login.py", generic, false, "high", true, "medium"},
		{"examples/config.js", generic, false, "medium", true, "low"},
		{"config/locales/en.yml", generic, false, "high", false, ""},
		{"src/tests/keys_test.go", provider, false, "high", true, "high"},
	}
	for _, c := range cases {
		m := rules.Match{Confidence: c.conf, Bare: c.bare}
		keep := weighPath(c.rule, &m, "x", kindOf(c.path))
		if keep != c.keep || keep && m.Confidence != c.want {
			t.Errorf("%s (bare %v, %s): keep %v confidence %q, want %v %q", c.path, c.bare, c.conf, keep, m.Confidence, c.keep, c.want)
		}
	}
}
