package scanner

import (
	"math/rand"
	"reflect"
	"testing"
)

// The order of a report does not depend on the order findings arrive in,
// even for findings at the same place under the same rule.
func TestSortFindingsDeterministic(t *testing.T) {
	fs := []Finding{
		{File: "a.go", Line: 3, Column: 1, RuleID: "r", Fingerprint: "f2", Commit: "c1"},
		{File: "a.go", Line: 3, Column: 1, RuleID: "r", Fingerprint: "f1", Commit: "c2"},
		{File: "a.go", Line: 3, Column: 1, RuleID: "r", Fingerprint: "f1", Commit: "c1"},
		{File: "a.go", Line: 3, Column: 1, RuleID: "q", Fingerprint: "f9"},
		{File: "a.go", Line: 2, Column: 7, RuleID: "z"},
		{File: "A.go", Line: 9},
	}
	want := []Finding{fs[5], fs[4], fs[3], fs[2], fs[1], fs[0]}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		got := append([]Finding(nil), fs...)
		r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		SortFindings(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("order depends on input order:\n got %v\nwant %v", got, want)
		}
	}
}
