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
		weak bool
		conf string
		keep bool
		want string
	}{
		{"app/settings.py", generic, false, false, "high", true, "high"},
		{"app/settings.py", generic, true, false, "low", false, ""},
		{"deploy/.env", generic, true, false, "low", true, "low"},
		{"docker-compose.yml", generic, true, false, "medium", true, "medium"},
		{"src/tests/test_login.py", generic, false, false, "high", true, "medium"},
		{"examples/config.js", generic, false, false, "medium", true, "low"},
		{"config/locales/en.yml", generic, false, false, "high", false, ""},
		{"src/tests/keys_test.go", provider, false, false, "high", true, "high"},
		// A default password (postgres, admin) is in use in deployment
		// config, tests' service containers included, and in non-test
		// code; in tests, examples and docs it stays low.
		{"docker-compose.yml", generic, true, true, "low", true, "medium"},
		{".github/workflows/ci.yml", generic, true, true, "low", true, "medium"},
		{"deploy/.env.dist", generic, true, true, "low", true, "medium"},
		{"src/test/resources/cassandra.yaml", generic, true, true, "low", true, "medium"},
		{"conf/app.properties", generic, true, true, "low", true, "medium"},
		{"tests/test_db.py", generic, false, true, "low", true, "low"},
		{"app/db.py", generic, false, true, "low", true, "medium"},
		{"src/main/java/org/acme/RabbitContainer.java", generic, false, true, "low", true, "medium"},
		{"examples/connect.py", generic, false, true, "low", true, "low"},
		{"app/db.py", generic, false, false, "low", true, "low"},
		{"", generic, false, true, "low", true, "low"}, // stdin: no file type to go by
		// Deployment config under a test or example path is config all
		// the same: it keeps its level.
		{"config/postal.example.yml", generic, true, false, "medium", true, "medium"},
		{"test/ansible/defaults/main.yml", generic, true, false, "high", true, "high"},
		{"examples/app.js", generic, false, false, "high", true, "medium"},
		{"README.md", generic, true, true, "low", true, "low"},
		{"docs/install.rst", generic, true, true, "low", true, "low"},
		{"config/locales/en.yml", generic, false, true, "low", false, ""},
	}
	for _, c := range cases {
		m := rules.Match{Confidence: c.conf, Bare: c.bare, Weak: c.weak}
		keep := weighPath(c.rule, &m, "x", kindOf(c.path))
		if keep != c.keep || keep && m.Confidence != c.want {
			t.Errorf("%s (bare %v, %s): keep %v confidence %q, want %v %q", c.path, c.bare, c.conf, keep, m.Confidence, c.keep, c.want)
		}
	}
}
