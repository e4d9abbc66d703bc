package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/keytrail/keytrail/internal/baseline"
	"github.com/keytrail/keytrail/internal/config"
	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
)

// The trust model. A scan of a change (a pull request, --range,
// --since-commit) must not let that change silence itself, so the
// suppressions - .keytrail.toml, .keytrailignore / .gitleaksignore and the
// --baseline file - are read from the base commit, not from the working
// tree the change checked out. --config-from and --baseline-from name the
// revision explicitly for any scan ("worktree" reads the working tree).
// Whatever the working tree would suppress beyond the trusted side is
// still reported, marked suppressed_by_change; in a range, inline
// keytrail:allow / gitleaks:allow comments are the change's own lines and
// are treated the same way.

// worktreeRev names the working tree in --config-from / --baseline-from.
const worktreeRev = "worktree"

// rangeBase returns the base revision of a --range or --since-commit.
func rangeBase(rng, since string) string {
	if since != "" {
		return since
	}
	base, _, ok := strings.Cut(rng, "...")
	if !ok {
		base, _, _ = strings.Cut(rng, "..")
	}
	return base
}

// trustRevs returns the revisions config and baseline/ignore files are
// read from ("" = the working tree).
func (sf *scanFlags) trustRevs() (cfgRev, blRev string) {
	cfgRev, blRev = sf.rangeBase, sf.rangeBase
	if sf.configFrom != "" {
		cfgRev = sf.configFrom
	}
	if sf.baselineFrom != "" {
		blRev = sf.baselineFrom
	}
	if cfgRev == worktreeRev {
		cfgRev = ""
	}
	if blRev == worktreeRev {
		blRev = ""
	}
	return cfgRev, blRev
}

// revFile reads a file of the repository containing dir at rev. path is
// relative to the current directory (as flags give it) or absolute; it
// must lie inside the repository. found is false when rev has no such
// file; a rev that is not a commit is an error.
func revFile(ctx context.Context, dir, rev, path string) (data []byte, name string, found bool, err error) {
	git := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return nil, "", false, fmt.Errorf("reading %s from %s: %s is not in a git repository: %w", path, rev, dir, err)
	}
	if _, err := git("rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		if out, _ := git("rev-parse", "--is-shallow-repository"); strings.TrimSpace(string(out)) == "true" {
			return nil, "", false, fmt.Errorf("revision %q is not in the shallow clone %s: fetch the full history (actions/checkout: fetch-depth: 0)", rev, dir)
		}
		return nil, "", false, fmt.Errorf("revision %q is not a commit in %s", rev, dir)
	}
	rel, err := repoRelative(strings.TrimSpace(string(top)), path)
	if err != nil {
		return nil, "", false, err // errOutsideRepo
	}
	name = rev + ":" + rel
	out, err := git("cat-file", "-s", name)
	if err != nil {
		return nil, name, false, nil // no such file at rev
	}
	if size, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err != nil || size > config.MaxFileSize {
		return nil, name, false, fmt.Errorf("%s: larger than %d bytes", name, config.MaxFileSize)
	}
	data, err = git("cat-file", "blob", name)
	if err != nil {
		return nil, name, false, fmt.Errorf("reading %s: %w", name, err)
	}
	return data, name, true, nil
}

// errOutsideRepo: a file outside the repository is no part of any change,
// so it is read from the file system as it is.
var errOutsideRepo = errors.New("is outside the repository")

// repoRelative makes path relative to the repository top, with slashes.
func repoRelative(top, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(r, filepath.Base(abs))
	}
	if r, err := filepath.EvalSymlinks(top); err == nil {
		top = r
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: %w %s", path, errOutsideRepo, top)
	}
	return filepath.ToSlash(rel), nil
}

// configPath is the config a scan of root uses in the working tree.
func configPath(flag, root string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(root, config.FileName)
}

// loadScanConfig loads the trusted config (from rev, or the working tree
// when rev is ""). It returns the config (nil: none) and its raw bytes.
func loadScanConfig(ctx context.Context, flag, root, rev string) (*config.Config, []byte, error) {
	if rev == "" {
		cfg, err := loadConfig(flag, root)
		if err != nil || cfg == nil {
			return cfg, nil, err
		}
		data, _ := os.ReadFile(configPath(flag, root))
		return cfg, data, nil
	}
	data, name, found, err := revFile(ctx, root, rev, configPath(flag, root))
	if errors.Is(err, errOutsideRepo) {
		return loadScanConfig(ctx, flag, root, "")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--config-from: %w", err)
	}
	if !found {
		if flag != "" {
			return nil, nil, fmt.Errorf("--config %s: not in revision %s", flag, rev)
		}
		return nil, nil, nil
	}
	cfg, err := config.Parse(name, data)
	return cfg, data, err
}

// changedConfig is the working tree's config when it differs from the
// trusted one: what the change would have used.
type changedConfig struct {
	name   string
	cfg    *config.Config
	set    *rules.Set
	engine *scanner.Engine
}

// loadChangedConfig returns the working tree's config when suppressions
// came from a revision and the working tree's differs (nil otherwise). A
// working-tree config that does not load is ignored: it silences nothing.
func loadChangedConfig(flag, root string, trusted []byte, opts scanner.Options) *changedConfig {
	p := configPath(flag, root)
	data, err := os.ReadFile(p)
	if err != nil || bytes.Equal(data, trusted) {
		return nil
	}
	cfg, err := config.Load(p)
	if err != nil {
		return nil
	}
	set, err := cfg.RuleSet()
	if err != nil {
		return nil
	}
	opts.Allowlist = cfg.GlobalAllowlist()
	opts.MarkInlineAllowed = true
	eng, err := scanner.NewEngine(set, opts)
	if err != nil {
		return nil
	}
	return &changedConfig{name: p, cfg: cfg, set: set, engine: eng}
}

// markConfigSuppressions marks findings the working tree's config would
// have dropped. A finding is judged by rescanning its line with both
// configs: one the trusted config finds there and the changed config does
// not was silenced by the change (findings that need more context than
// their line are left unmarked rather than guessed).
func markConfigSuppressions(ctx context.Context, trusted *scanner.Engine, ch *changedConfig, fs []scanner.Finding) {
	if ch == nil {
		return
	}
	finds := func(e *scanner.Engine, f scanner.Finding) bool {
		got, err := e.ScanReader(ctx, f.File, strings.NewReader(f.Match))
		if err != nil {
			return true
		}
		for _, g := range got {
			if g.Secret == f.Secret {
				return true
			}
		}
		return false
	}
	for i := range fs {
		f := &fs[i]
		if f.SuppressedByChange != "" || !finds(trusted, *f) || finds(ch.engine, *f) {
			continue
		}
		al := ch.cfg.GlobalAllowlist()
		switch {
		case ch.set.ByID(f.RuleID) == nil:
			f.SuppressedByChange = fmt.Sprintf("rule %s disabled or removed in %s", f.RuleID, ch.name)
		case al != nil && (al.AllowsPath(f.File) || al.AllowsSecret(f.Secret, f.Match)):
			f.SuppressedByChange = fmt.Sprintf("global allowlist in %s", ch.name)
		default:
			f.SuppressedByChange = fmt.Sprintf("rule %s changed or allowlisted in %s", f.RuleID, ch.name)
		}
	}
}

// loadSuppressionFiles reads the baseline (when --baseline is given) and
// the ignore files at root, from rev or the working tree.
func loadSuppressionFiles(ctx context.Context, sf *scanFlags, root, rev string) (*baseline.File, *baseline.Ignore, error) {
	if rev == "" {
		ig, err := baseline.LoadIgnore(root)
		if err != nil {
			return nil, nil, err
		}
		var b *baseline.File
		if sf.baseline != "" {
			if b, err = baseline.Load(sf.baseline); err != nil {
				return nil, nil, fmt.Errorf("--baseline: %w", err)
			}
		}
		return b, ig, nil
	}
	var text strings.Builder
	for _, name := range baseline.IgnoreFiles {
		data, _, found, err := revFile(ctx, root, rev, filepath.Join(root, name))
		if err != nil {
			return nil, nil, fmt.Errorf("--baseline-from: %w", err)
		}
		if found {
			text.Write(data)
			text.WriteString("\n")
		}
	}
	var b *baseline.File
	if sf.baseline != "" {
		data, name, found, err := revFile(ctx, root, rev, sf.baseline)
		switch {
		case errors.Is(err, errOutsideRepo):
			if b, err = baseline.Load(sf.baseline); err != nil {
				return nil, nil, fmt.Errorf("--baseline: %w", err)
			}
		case err != nil:
			return nil, nil, fmt.Errorf("--baseline-from: %w", err)
		case found:
			if b, err = baseline.Parse(data, name); err != nil {
				return nil, nil, fmt.Errorf("--baseline: %w", err)
			}
		}
	}
	return b, baseline.ParseIgnore(text.String()), nil
}

// markFileSuppressions marks findings the working tree's baseline or
// ignore files would have dropped (entries the change added).
func markFileSuppressions(sf *scanFlags, root string, fs []scanner.Finding) {
	var b *baseline.File
	if sf.baseline != "" {
		if wb, err := baseline.Load(sf.baseline); err == nil {
			b = wb
		} else if !errors.Is(err, os.ErrNotExist) {
			return
		}
	}
	ig, err := baseline.LoadIgnore(root)
	if err != nil {
		ig = nil
	}
	for i := range fs {
		f := &fs[i]
		if f.SuppressedByChange != "" {
			continue
		}
		one := []scanner.Finding{*f}
		if _, n := baseline.Filter(one, root, b, nil); n > 0 && b != nil {
			f.SuppressedByChange = "entry in " + sf.baseline + " added by the change"
		} else if _, n := baseline.Filter(one, root, nil, ig); n > 0 {
			f.SuppressedByChange = "entry in " + strings.Join(baseline.IgnoreFiles, " or ") + " added by the change"
		}
	}
}

// countsForExit is how many findings decide the exit code: findings
// suppressed by the change itself count only with
// --fail-on-new-suppressions.
func countsForExit(sf *scanFlags, fs []scanner.Finding) int {
	n := 0
	for _, f := range fs {
		if f.SuppressedByChange == "" || sf.failOnNewSuppressions {
			n++
		}
	}
	return n
}
