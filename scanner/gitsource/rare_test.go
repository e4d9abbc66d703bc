package gitsource

import (
	"context"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/scanner"
)

// Through the prefetch stream, only the blobs read on demand (over 1 MiB)
// are marked rare, so a worker does not keep the window buffer grown for
// them; the others, and every blob read with go-git, are not.
func TestOnDemandBlobsAreRare(t *testing.T) {
	r := newRepo(t)
	big := strings.Repeat("line of filler text\n", (inMemoryMax+4096)/20)
	r.commit("two files", map[string]string{"big.txt": big, "small.txt": "small\n"})
	for _, tc := range []struct {
		backend  string
		wantRare map[string]bool
	}{
		{BackendGit, map[string]bool{"big.txt": true, "small.txt": false}},
		{BackendGoGit, map[string]bool{"big.txt": false, "small.txt": false}},
	} {
		src := New(Options{Path: r.dir, Backend: tc.backend})
		got := map[string]bool{}
		err := src.Items(context.Background(), func(it scanner.Item) error {
			if it.Path != MessageFile {
				got[it.Path] = it.Rare
			}
			return nil
		}, func(err error) { t.Error(err) })
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range tc.wantRare {
			if r, ok := got[p]; !ok || r != want {
				t.Errorf("%s: %s emitted %v (rare %v), want rare %v", tc.backend, p, ok, r, want)
			}
		}
	}
}
