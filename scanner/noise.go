package scanner

import "github.com/keytrail/keytrail/rules"

// DefaultNoisyPaths are files that almost never hold a hand-written
// secret but are full of high-entropy strings: lock files, checksums,
// minified bundles, source maps and vendored code with its test vectors.
// Generic (context-only) rules are not applied to them; provider-format
// rules still are, since a real token in a lock file is still a leak.
var defaultNoisyPaths = []string{
	"*.lock", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "go.sum", "go.work.sum",
	"composer.lock", "Gemfile.lock", "poetry.lock", "Pipfile.lock", "Cargo.lock", "packages.lock.json",
	"*.min.js", "*.min.css", "*.js.map", "*.css.map", "*.map",
	"**/vendor/**", "**/node_modules/**", "**/third_party/**", "**/bower_components/**",
}

// DefaultNoisyPaths returns the built-in noisy path globs.
func DefaultNoisyPaths() []string { return append([]string(nil), defaultNoisyPaths...) }

// noiseFilter reports whether generic findings in a path are dropped.
type noiseFilter struct{ al rules.Allowlist }

func newNoiseFilter(globs []string) (*noiseFilter, error) {
	if len(globs) == 0 {
		return nil, nil
	}
	f := &noiseFilter{al: rules.Allowlist{Paths: globs}}
	if err := f.al.Compile(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *noiseFilter) noisy(path string) bool { return f != nil && f.al.AllowsPath(path) }
