// Package baseline records reviewed findings so later scans report only new
// ones, and reads .keytrailignore / .gitleaksignore fingerprint lists.
//
// A baseline holds, per finding, a fingerprint over rule, root-relative
// path and secret (scanner.Fingerprint) plus a redacted hint: no line
// numbers, commits or timestamps, so moving lines, reformatting or
// re-running the scan never changes the file, and it sorts into a stable,
// diff-friendly order. It never contains a secret.
package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/keytrail/keytrail/scanner"
)

// FormatVersion is the baseline file format written by this package.
const FormatVersion = 1

// DefaultFile is the conventional baseline name at a repository root.
const DefaultFile = ".keytrail-baseline.json"

// Entry is one reviewed finding.
type Entry struct {
	Fingerprint string `json:"fingerprint"`
	RuleID      string `json:"rule_id"`
	Path        string `json:"path"`
	Hint        string `json:"hint"`
	// Reason is free text a reviewer adds (false positive, test fixture,
	// rotated on ...); updates keep it.
	Reason string `json:"reason,omitempty"`
}

// File is a baseline document.
type File struct {
	Version  int     `json:"version"`
	Findings []Entry `json:"findings"`
}

// RelPath is a finding's path relative to the scanned root, with forward
// slashes. Absolute paths are made relative to root when inside it; a
// relative path already prefixed with a relative root loses the prefix;
// other relative paths (git sources report repo-relative paths) are kept.
func RelPath(file, root string) string {
	if root == "" {
		root = "."
	}
	p := file
	if filepath.IsAbs(p) {
		if absRoot, err := filepath.Abs(root); err == nil {
			if r, err := filepath.Rel(absRoot, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				p = r
			}
		}
	} else if cr := filepath.Clean(root); cr != "." && !filepath.IsAbs(cr) {
		if r, ok := strings.CutPrefix(filepath.Clean(p), cr+string(filepath.Separator)); ok {
			p = r
		}
	}
	p = filepath.ToSlash(filepath.Clean(p))
	return strings.TrimPrefix(p, "./")
}

// Fingerprint is the baseline key of an unredacted finding: the scanner's
// fingerprint recomputed over the root-relative path, so it is the same
// whether the scan ran as `dir .` or `dir /abs/path`.
func Fingerprint(f scanner.Finding, root string) string {
	return scanner.Fingerprint(f.RuleID, RelPath(f.File, root), f.Secret)
}

// FromFindings builds a baseline from unredacted findings. Findings of the
// same secret at the same path (repeats, other commits) become one entry.
func FromFindings(fs []scanner.Finding, root string) *File {
	b := &File{Version: FormatVersion, Findings: []Entry{}}
	seen := map[string]bool{}
	for _, f := range fs {
		fp := Fingerprint(f, root)
		if seen[fp] {
			continue
		}
		seen[fp] = true
		b.Findings = append(b.Findings, Entry{
			Fingerprint: fp,
			RuleID:      f.RuleID,
			Path:        RelPath(f.File, root),
			Hint:        scanner.Redact(f.Secret),
		})
	}
	b.sort()
	return b
}

func (b *File) sort() {
	sort.Slice(b.Findings, func(i, j int) bool {
		x, y := b.Findings[i], b.Findings[j]
		if x.Path != y.Path {
			return x.Path < y.Path
		}
		if x.RuleID != y.RuleID {
			return x.RuleID < y.RuleID
		}
		return x.Fingerprint < y.Fingerprint
	})
}

// Contains reports whether fp is in the baseline.
func (b *File) Contains(fp string) bool {
	if b == nil {
		return false
	}
	for _, e := range b.Findings {
		if e.Fingerprint == fp {
			return true
		}
	}
	return false
}

// UpdateStats says what Update changed.
type UpdateStats struct {
	Added, Pruned, Kept int
}

// Update returns the baseline for the current findings: entries still
// found are kept with their reasons, new findings are added and entries
// no longer found are pruned.
func (b *File) Update(fs []scanner.Finding, root string) (*File, UpdateStats) {
	next := FromFindings(fs, root)
	old := map[string]Entry{}
	if b != nil {
		for _, e := range b.Findings {
			old[e.Fingerprint] = e
		}
	}
	var st UpdateStats
	for i, e := range next.Findings {
		if o, ok := old[e.Fingerprint]; ok {
			next.Findings[i].Reason = o.Reason
			delete(old, e.Fingerprint)
			st.Kept++
		} else {
			st.Added++
		}
	}
	st.Pruned = len(old)
	return next, st
}

// Marshal renders the baseline as indented, sorted JSON with a trailing
// newline.
func (b *File) Marshal() ([]byte, error) {
	cp := *b
	cp.Version = FormatVersion
	if cp.Findings == nil {
		cp.Findings = []Entry{}
	}
	cp.Findings = append([]Entry(nil), cp.Findings...)
	cp.sort()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cp); err != nil {
		return nil, fmt.Errorf("encoding baseline: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes the baseline atomically (temp file, then rename).
func (b *File) Save(path string) error {
	data, err := b.Marshal()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".keytrail-baseline-*")
	if err != nil {
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	return nil
}

// Load reads a baseline file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a baseline; name is used in errors.
func Parse(data []byte, name string) (*File, error) {
	var b File
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", name, err)
	}
	if b.Version != FormatVersion {
		return nil, fmt.Errorf("baseline %s: format version %d, this keytrail reads version %d", name, b.Version, FormatVersion)
	}
	for i, e := range b.Findings {
		if e.Fingerprint == "" {
			return nil, fmt.Errorf("baseline %s: entry %d has no fingerprint", name, i+1)
		}
	}
	return &b, nil
}

// IgnoreFiles are read from the scanned root, in this order.
var IgnoreFiles = []string{".keytrailignore", ".gitleaksignore"}

// Ignore is a set of fingerprints from ignore files: keytrail fingerprints
// and gitleaks-style "[commit:]file:rule:line" entries.
type Ignore struct {
	fps      map[string]bool
	gitleaks map[string]bool
}

// Len is the number of entries.
func (ig *Ignore) Len() int {
	if ig == nil {
		return 0
	}
	return len(ig.fps) + len(ig.gitleaks)
}

// LoadIgnore reads the ignore files present at root; none is not an error.
func LoadIgnore(root string) (*Ignore, error) {
	ig := &Ignore{fps: map[string]bool{}, gitleaks: map[string]bool{}}
	for _, name := range IgnoreFiles {
		p := filepath.Join(root, name)
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		ig.add(string(data))
	}
	return ig, nil
}

// ParseIgnore reads ignore-file text: one fingerprint per line, blank
// lines and '#' comments (whole-line or after whitespace) ignored.
func ParseIgnore(text string) *Ignore {
	ig := &Ignore{fps: map[string]bool{}, gitleaks: map[string]bool{}}
	ig.add(text)
	return ig
}

func (ig *Ignore) add(text string) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if i := strings.Index(line, "\t#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, ":") {
			ig.gitleaks[line] = true
		} else {
			ig.fps[strings.ToLower(line)] = true
		}
	}
}

// Matches reports whether an unredacted finding is listed.
func (ig *Ignore) Matches(f scanner.Finding, root string) bool {
	if ig == nil {
		return false
	}
	if ig.fps[f.Fingerprint] || ig.fps[Fingerprint(f, root)] {
		return true
	}
	if len(ig.gitleaks) == 0 {
		return false
	}
	rel := RelPath(f.File, root)
	tail := fmt.Sprintf("%s:%s:%d", rel, f.RuleID, f.Line)
	if ig.gitleaks[tail] || (f.Commit != "" && ig.gitleaks[f.Commit+":"+tail]) {
		return true
	}
	return false
}

// Filter drops findings in the baseline or an ignore file and returns the
// rest with the number dropped. Findings must not be redacted yet.
func Filter(fs []scanner.Finding, root string, b *File, ig *Ignore) ([]scanner.Finding, int) {
	var set map[string]bool
	if b != nil {
		set = make(map[string]bool, len(b.Findings))
		for _, e := range b.Findings {
			set[e.Fingerprint] = true
		}
	}
	out := make([]scanner.Finding, 0, len(fs))
	for _, f := range fs {
		if set[f.Fingerprint] || set[Fingerprint(f, root)] || ig.Matches(f, root) {
			continue
		}
		out = append(out, f)
	}
	return out, len(fs) - len(out)
}
