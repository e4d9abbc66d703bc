// Package source holds keytrail's content sources: directories, standard
// input and log files. Each yields scanner.Items; none knows about rules.
package source

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/keytrail/keytrail/scanner"
)

// Dir walks directory trees (or single files).
type Dir struct {
	Roots []string
	// NoIgnore scans files that .gitignore would exclude.
	NoIgnore bool
}

// Name implements scanner.Source.
func (d *Dir) Name() string { return "dir" }

// Items implements scanner.Source. Symlinks are not followed (no loops,
// no escaping the tree); FIFOs, sockets and devices are skipped unopened.
func (d *Dir) Items(ctx context.Context, emit func(scanner.Item) error, report func(error)) error {
	for _, root := range d.Roots {
		if err := d.walk(ctx, root, emit, report); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dir) walk(ctx context.Context, root string, emit func(scanner.Item) error, report func(error)) error {
	info, err := os.Stat(root)
	if err != nil {
		report(&scanner.ScanError{Path: root, Err: cleanErr(err)})
		return nil
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			report(&scanner.ScanError{Path: root, Err: fmt.Errorf("not a regular file (%s); skipped", info.Mode().Type())})
			return nil
		}
		return emit(fileItem(root, root, info.Size()))
	}
	ignores := map[string][]gitignore.Pattern{}
	if !d.NoIgnore {
		ignores["."] = append(readIgnore(filepath.Join(root, ".git", "info", "exclude"), nil),
			readIgnore(filepath.Join(root, ".gitignore"), nil)...)
	}
	return walk(ctx, root, report, func(p string, de fs.DirEntry) error {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if de.IsDir() {
			if de.Name() == ".git" && p != root {
				return filepath.SkipDir
			}
			if rel == "." {
				return nil
			}
			parent := pathDir(rel)
			if !d.NoIgnore {
				ps := ignores[parent]
				if gitignore.NewMatcher(ps).Match(strings.Split(rel, "/"), true) {
					return filepath.SkipDir
				}
				own := readIgnore(filepath.Join(p, ".gitignore"), strings.Split(rel, "/"))
				if len(own) > 0 {
					ignores[rel] = append(append([]gitignore.Pattern(nil), ps...), own...)
				} else {
					ignores[rel] = ps
				}
			}
			return nil
		}
		t := de.Type()
		if t&fs.ModeSymlink != 0 || !t.IsRegular() {
			return nil
		}
		if !d.NoIgnore {
			if gitignore.NewMatcher(ignores[pathDir(rel)]).Match(strings.Split(rel, "/"), false) {
				return nil
			}
		}
		var size int64 = -1
		if fi, err := de.Info(); err == nil {
			size = fi.Size()
		}
		return emit(fileItem(p, filepath.ToSlash(p), size))
	})
}

func pathDir(rel string) string {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "."
	}
	return rel[:i]
}

func fileItem(osPath, display string, size int64) scanner.Item {
	return scanner.Item{
		Path: display,
		Size: size,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			f, err := os.Open(osPath)
			if err != nil {
				return nil, cleanErr(err)
			}
			return f, nil
		},
	}
}

// readIgnore parses one .gitignore; a missing file has no patterns.
func readIgnore(path string, domain []string) []gitignore.Pattern {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}

// walk is filepath.WalkDir that stops on cancellation and reports an
// unreadable entry (skipping the directory) instead of ending the walk.
func walk(ctx context.Context, root string, report func(error), fn func(string, fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			report(&scanner.ScanError{Path: p, Err: cleanErr(err)})
			if de != nil && de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(p, de)
	})
}

// cleanErr strips the path os errors repeat, since ScanError adds it.
func cleanErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
