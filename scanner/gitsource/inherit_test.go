package gitsource

import (
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keytrail/keytrail/scanner"
)

// A version made from a base inherits the base's findings on the lines
// it keeps, once each: not again where its own scan found the same
// finding, and not twice where the base lists one twice. Versions with
// few findings compare them directly and others use a map; both must
// give the same list.
func TestInheritFindingsDedup(t *testing.T) {
	base, ver := plumbing.Hash{1}, plumbing.Hash{2}
	finding := func(key string, line int) scanner.Finding {
		return scanner.Finding{RuleID: "r", Secret: fmt.Sprintf("s%d", line), Line: line, Column: 3,
			Meta: map[string]string{"item_key": key}}
	}
	for _, n := range []int{3, 40} { // base findings: below and above the map threshold
		t.Run(fmt.Sprintf("base %d", n), func(t *testing.T) {
			var fs []scanner.Finding
			for i := 1; i <= n; i++ {
				fs = append(fs, finding(base.String(), i))
			}
			fs = append(fs, finding(base.String(), 1)) // the base's scan reported line 1 twice
			fs = append(fs, finding(ver.String(), 2))  // the version's own scan found line 2 again
			s := &Source{
				deltas:     map[plumbing.Hash]*blobDelta{ver: {base: base, runs: []lineRun{{b: 0, a: 0, n: int32(n + 5)}}}},
				deltaOrder: []plumbing.Hash{ver},
			}
			got := s.inheritFindings(fs)
			// The base's n+1 as scanned, the version's own one, and n-1
			// inherited: every line but 2, and line 1 once.
			if want := (n + 1) + 1 + (n - 1); len(got) != want {
				t.Fatalf("%d findings, want %d", len(got), want)
			}
			perVer := map[int]int{}
			for _, r := range got {
				if r.key == ver.String() {
					perVer[r.line()]++
				}
			}
			for line := 1; line <= n; line++ {
				if perVer[line] != 1 {
					t.Errorf("version holds line %d %d times, want once", line, perVer[line])
				}
			}
		})
	}
}

// Streams are chosen by directory: all versions of a file, and all files
// of a directory, go through one; different directories spread.
func TestDirHash(t *testing.T) {
	same := [][2]string{{"a/b.go", "a/c.go"}, {"x.go", "README"}, {"a/b/c", "a/b/d"}}
	for _, p := range same {
		if dirHash(p[0]) != dirHash(p[1]) {
			t.Errorf("%q and %q: different streams", p[0], p[1])
		}
	}
	seen := map[uint32]bool{}
	for i := range 64 {
		seen[dirHash(fmt.Sprintf("dir%d/f.go", i))%2] = true
	}
	if len(seen) != 2 {
		t.Error("64 directories all went to one of two streams")
	}
}
