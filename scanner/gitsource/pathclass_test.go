package gitsource

import (
	"testing"

	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
)

// A blob is scanned under the path it first appears at. Content copied
// from a path the engine treats otherwise (an allowlisted fixture
// directory) must still be found where it lands, as a scan of the tree
// would find it, and each path class keeps its own introductions.
func TestRescanForPathClass(t *testing.T) {
	r := newRepo(t)
	tok, other := token("fixture"), token("other")
	content := "GITHUB_TOKEN=" + tok + "\n"
	r.commit("fixture", map[string]string{"vendor/lib/a.env": content})
	copied := r.commit("copy into the app", map[string]string{"app/a.env": content, "vendor/lib/b.env": "X=" + other + "\n"})
	r.commit("and again", map[string]string{"deploy/a.env": content})

	al := &rules.Allowlist{Paths: []string{"vendor/**"}}
	if err := al.Compile(); err != nil {
		t.Fatal(err)
	}
	for _, backend := range backends {
		for _, full := range []bool{false, true} {
			opts := Options{Path: r.dir, Backend: backend, FullBlobs: full, AllLocations: true}
			res, err := scanWith(t, opts, scanner.Options{Allowlist: al})
			if err != nil {
				t.Fatal(err)
			}
			got := bySecret(t, res.Findings)
			if _, ok := got[other]; ok {
				t.Errorf("%s full=%v: a secret only under vendor/ reported", backend, full)
			}
			f, ok := got[tok]
			if !ok {
				t.Fatalf("%s full=%v: the copied secret is not reported (findings %v)", backend, full, res.Findings)
			}
			if f.File != "app/a.env" || f.Commit != copied {
				t.Errorf("%s full=%v: reported at %s in %.7s, want app/a.env in %.7s", backend, full, f.File, f.Commit, copied)
			}
			// deploy/a.env is another introduction of the same class
			// or of its own; either way it is a location, vendor's is not.
			for _, l := range f.Locations {
				if l.File == "vendor/lib/a.env" {
					t.Errorf("%s full=%v: allowlisted location listed: %+v", backend, full, f.Locations)
				}
			}
			if f.OtherLocations != 1 || len(f.Locations) != 1 || f.Locations[0].File != "deploy/a.env" {
				t.Errorf("%s full=%v: other locations %d %+v, want deploy/a.env", backend, full, f.OtherLocations, f.Locations)
			}
		}
	}

	// Without the allowlist nothing is scanned twice: one finding at the
	// first path, the copies as its other locations.
	res := mustScan(t, Options{Path: r.dir, AllLocations: true})
	f := bySecret(t, res.Findings)[tok]
	if f.File != "vendor/lib/a.env" || f.OtherLocations != 2 {
		t.Errorf("no allowlist: %s with %d other locations, want vendor/lib/a.env with 2", f.File, f.OtherLocations)
	}
}

// The same for what is staged: a fixture copied out of an allowlisted
// directory in the commit being made is reported at its new path.
func TestRescanStagedForPathClass(t *testing.T) {
	r := newRepo(t)
	tok := token("staged-fixture")
	content := "GITHUB_TOKEN=" + tok + "\n"
	r.commit("initial", map[string]string{"README.md": "x\n"})
	r.write("vendor/lib/a.env", content)
	r.write("x/a.env", content) // listed after vendor/
	r.git("add", ".")
	al := &rules.Allowlist{Paths: []string{"vendor/**"}}
	if err := al.Compile(); err != nil {
		t.Fatal(err)
	}
	for _, backend := range backends {
		res, err := scanWith(t, Options{Path: r.dir, Backend: backend, Staged: true}, scanner.Options{Allowlist: al})
		if err != nil {
			t.Fatal(err)
		}
		f, ok := bySecret(t, res.Findings)[tok]
		if !ok || f.File != "x/a.env" {
			t.Errorf("%s: staged copy reported as %+v (found %v), want x/a.env", backend, f.File, ok)
		}
	}
}
