package source

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/scanner"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// items lists what a source yields, as paths relative to root, and the
// problems it reports.
func items(t *testing.T, src scanner.Source, root string) ([]string, []error) {
	t.Helper()
	var got []string
	var errs []error
	err := src.Items(context.Background(), func(it scanner.Item) error {
		rel, err := filepath.Rel(root, it.Path)
		if err != nil {
			rel = it.Path
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	}, func(err error) { errs = append(errs, err) })
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got, errs
}

func TestDirGitignore(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		".gitignore":          "*.log\nbuild/\n!keep.log\n/rootonly.txt\n",
		"a.txt":               "a",
		"x.log":               "x",
		"keep.log":            "k",
		"rootonly.txt":        "r",
		"sub/rootonly.txt":    "r",
		"build/out.txt":       "o",
		"sub/.gitignore":      "secret.env\n",
		"sub/secret.env":      "s",
		"other/secret.env":    "s",
		".git/info/exclude":   "excluded.txt\n",
		"excluded.txt":        "e",
		".git/objects/x":      "never",
		"deep/build/file.txt": "b",
	})
	cases := []struct {
		name     string
		noIgnore bool
		want     []string
	}{
		{"honours .gitignore", false, []string{".gitignore", "a.txt", "keep.log", "other/secret.env", "sub/.gitignore", "sub/rootonly.txt"}},
		{"--no-ignore", true, []string{".gitignore", "a.txt", "build/out.txt", "deep/build/file.txt", "excluded.txt", "keep.log", "other/secret.env", "rootonly.txt", "sub/.gitignore", "sub/rootonly.txt", "sub/secret.env", "x.log"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, errs := items(t, &Dir{Roots: []string{root}, NoIgnore: c.noIgnore}, root)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("got  %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestLogsSourceReadsGzipByContent(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"plain.log": "hello\n"})
	var gz strings.Builder
	gz.WriteString("\x1f\x8b") // a gzip header cut short: reported on read, by name
	writeFiles(t, root, map[string]string{"app.log.2": gz.String()})
	var opened []string
	var readErrs []string
	src := &Logs{Paths: []string{root}}
	err := src.Items(context.Background(), func(it scanner.Item) error {
		rc, err := it.Open(context.Background())
		if err != nil {
			readErrs = append(readErrs, filepath.Base(it.Path)+": "+err.Error())
			return nil
		}
		defer rc.Close()
		if _, err := io.ReadAll(rc); err != nil {
			readErrs = append(readErrs, filepath.Base(it.Path)+": "+err.Error())
			return nil
		}
		opened = append(opened, filepath.Base(it.Path))
		return nil
	}, func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(opened, ",") != "plain.log" || len(readErrs) != 1 || !strings.HasPrefix(readErrs[0], "app.log.2: gzip") {
		t.Fatalf("opened %v errors %v", opened, readErrs)
	}
}
