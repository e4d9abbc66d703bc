package rules

import (
	"strings"
	"testing"
)

// TestKeywordsCoverNamingStyles checks the prefilter cannot hide a match:
// a rule's secret, assigned to a name built from its first keyword in
// env, YAML and Java-properties style (where _ becomes .), must not be
// matched by the regex on a line that holds none of its keywords, since
// the scanner would never run the regex there.
func TestKeywordsCoverNamingStyles(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range set.Rules {
		if r.Generic || len(r.Examples) == 0 {
			continue
		}
		ms := r.FindAll([]byte(r.Examples[0]), false)
		if len(ms) == 0 || strings.Contains(ms[0].Secret, "\n") {
			continue
		}
		var b strings.Builder
		for _, c := range strings.ToLower(strings.Trim(r.Keywords[0], "_-.:/ ")) {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				b.WriteRune(c)
			} else {
				b.WriteByte('_')
			}
		}
		name := b.String() + "_api_key"
		for _, line := range []string{
			strings.ToUpper(name) + "=" + ms[0].Secret,
			"  " + name + ": " + ms[0].Secret,
			strings.ReplaceAll(name, "_", ".") + "=" + ms[0].Secret,
		} {
			if len(r.FindAll([]byte(line), false)) > 0 && !containsKeyword(line, r.Keywords) {
				t.Errorf("rule %s (%s): regex matches %q but none of the keywords %v occurs in it", r.ID, r.Source, line, r.Keywords)
			}
		}
	}
}
