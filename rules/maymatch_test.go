package rules

import (
	"reflect"
	"slices"
	"testing"
)

// TestMayMatch: every built-in rule's positive examples may match; text
// the required literal or the gates rule out may not, and FindAll finds
// nothing there either.
func TestMayMatch(t *testing.T) {
	rs, err := BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	var c Candidates
	for _, r := range rs {
		for _, ex := range append(slices.Clone(r.Examples), r.Negatives...) {
			want := r.FindAll([]byte(ex), true)
			if !r.MayMatch([]byte(ex), &c) {
				if len(want) > 0 {
					t.Errorf("%s: MayMatch false on %q, FindAll found %v", r.ID, ex, want)
				}
				continue
			}
			if got := r.FindAllAfter([]byte(ex), &c, true); !reflect.DeepEqual(got, want) {
				t.Errorf("%s on %q: FindAllAfter %v, FindAll %v", r.ID, ex, got, want)
			}
		}
		for _, ex := range r.Examples {
			if !r.MayMatch([]byte(ex), nil) {
				t.Errorf("%s: MayMatch false on its example %q", r.ID, ex)
			}
		}
	}
	byID := map[string]*Rule{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	for _, c := range []struct {
		rule, text string
		want       bool
	}{
		// No "secret" anywhere: the required literal is missing.
		{"github-oauth-client-secret", `import "github.com/zricethezav/gitleaks/v8/detect"`, false},
		// The key name runs into '/', which no gate lets through.
		{"generic-secret-assignment", `see https://example.com/secret/path and more`, false},
		{"generic-secret-assignment", `secret = "Qn3vT7kLw2Xr9pZd"`, true},
		{"github-oauth-client-secret", `GITHUB_CLIENT_SECRET=32176a67b31b3e1cf4118122d069cfc50f336cca`, true},
	} {
		r := byID[c.rule]
		if r == nil {
			t.Fatalf("no rule %s", c.rule)
		}
		if got := r.MayMatch([]byte(c.text), nil); got != c.want {
			t.Errorf("%s on %q: MayMatch %v, want %v", c.rule, c.text, got, c.want)
		}
		if !c.want {
			if ms := r.FindAll([]byte(c.text), true); len(ms) > 0 {
				t.Errorf("%s on %q: MayMatch false but FindAll found %v", c.rule, c.text, ms)
			}
		}
	}
}
