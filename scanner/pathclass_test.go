package scanner

import (
	"testing"

	"github.com/keytrail/keytrail/rules"
)

// Paths the engine treats alike share a class; a path the allowlist, a
// rule's allowlist or the kind of file sets apart has its own.
func TestPathClass(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	al := &rules.Allowlist{Paths: []string{"vendor/**"}}
	if err := al.Compile(); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(set, Options{Allowlist: al})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		a, b string
		same bool
	}{
		{"cmd/main.go", "internal/x/y.go", true},
		{"app/a.env", "deploy/b.env", true},
		{"vendor/lib/a.env", "app/a.env", false}, // allowlisted
		{"app/a.env", "app/a.go", false},         // config-like or not
		{"README.md", "main.go", false},          // docs
		{"vendor/a.go", "vendor/b/c.go", true},
	}
	for _, tt := range tests {
		if got := e.PathClass(tt.a) == e.PathClass(tt.b); got != tt.same {
			t.Errorf("%s (%s) and %s (%s): same class %v, want %v", tt.a, e.PathClass(tt.a), tt.b, e.PathClass(tt.b), got, tt.same)
		}
	}
	// A rule whose own allowlist has paths sets them apart too.
	r := &rules.Rule{ID: "x-token", Keywords: []string{"xtok_"}, Regex: `xtok_[a-z]{8}`, Allowlist: rules.Allowlist{Paths: []string{"fixtures/**"}}}
	one, err := rules.NewSet([]*rules.Rule{r}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := NewEngine(one, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e2.PathClass("fixtures/a.txt") == e2.PathClass("src/a.txt") {
		t.Error("a rule's allowlisted path shares the class of other paths")
	}
}
