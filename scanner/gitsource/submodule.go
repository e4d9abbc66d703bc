package gitsource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/keytrail/keytrail/scanner"
)

// subSource is a checked-out submodule scanned with --submodules.
type subSource struct {
	src    *Source
	prefix string
}

// splitSubKey splits "sub<i>:<key>" item keys.
func splitSubKey(k string) (int, string, bool) {
	if !strings.HasPrefix(k, "sub") {
		return 0, "", false
	}
	n, rest, ok := strings.Cut(k[3:], ":")
	if !ok {
		return 0, "", false
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return 0, "", false
	}
	return i, rest, true
}

// submoduleItems scans the history of each submodule checked out in the
// work tree. Submodules that are not checked out are skipped: nothing is
// fetched.
func (s *Source) submoduleItems(ctx context.Context, b backend, emit func(scanner.Item) error, report func(error)) error {
	root := b.workTree(ctx)
	if root == "" {
		return nil
	}
	paths, err := b.gitlinks(ctx, "HEAD")
	if err != nil {
		return nil
	}
	for _, p := range paths {
		dir := filepath.Join(root, filepath.FromSlash(p))
		if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
			continue
		}
		// A checked-out submodule is followed only inside the repository:
		// a hostile working tree may put a symlink where it should be.
		if !insideDir(root, dir) {
			report(&scanner.ScanError{Path: p, Err: fmt.Errorf("submodule not followed: %s resolves outside the repository", p)})
			continue
		}
		o := s.opts
		o.Path, o.Range, o.SinceCommit, o.Branch, o.Refs, o.Staged = dir, "", "", "", nil, false
		sub := &subSource{src: New(o), prefix: p + "/"}
		sub.src.pathClass = s.pathClass
		i := len(s.subs)
		s.subs = append(s.subs, sub)
		err := sub.src.Items(ctx, func(it scanner.Item) error {
			it.Path = sub.prefix + it.Path
			it.Key = "sub" + strconv.Itoa(i) + ":" + it.Key
			return emit(it)
		}, func(err error) {
			if se, ok := err.(*scanner.ScanError); ok {
				se.Path = sub.prefix + se.Path
			}
			report(err)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// insideDir reports whether p, with symlinks resolved, lies under root.
func insideDir(root, p string) bool {
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false
	}
	q, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(r, q)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != "."
}
