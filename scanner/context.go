package scanner

import (
	"path"
	"strings"

	"github.com/keytrail/keytrail/rules"
)

// configExts are file types where an unquoted word after "password:" or
// "TOKEN=" is the value itself, not a variable holding it.
var configExts = map[string]bool{
	".env": true, ".yml": true, ".yaml": true, ".properties": true, ".ini": true, ".conf": true, ".cfg": true,
	".cnf": true, ".toml": true, ".txt": true, ".md": true, ".rst": true, ".adoc": true, ".sh": true,
	".bash": true, ".zsh": true, ".json": true, ".xml": true, ".config": true, ".example": true, ".sample": true,
	".dist": true, ".tpl": true, ".j2": true, ".erb": true, ".cmd": true, ".bat": true, ".service": true,
	".dockerfile": true, ".local": true, ".dev": true, ".prod": true, ".test": true, ".travis": true,
}

// configLike reports whether bare values in the file are literals.
func configLike(p string) bool {
	base := strings.ToLower(path.Base(strings.ReplaceAll(p, "\\", "/")))
	if strings.HasPrefix(base, "dockerfile") || strings.HasPrefix(base, ".env") || strings.HasPrefix(base, "docker-compose") {
		return true
	}
	ext := path.Ext(base)
	if ext == "" || ext == base { // no extension, or a dotfile (.netrc, .pgpass)
		return true
	}
	return configExts[ext]
}

// deployExts are configuration formats that deployments read (compose,
// CI workflows, Ansible vars, .env, properties): a plain default password
// there (postgres, admin) is one a service really runs with. Docs and
// code are left out: "password: admin" in a README or a test is filler.
var deployExts = map[string]bool{
	".env": true, ".yml": true, ".yaml": true, ".properties": true, ".ini": true, ".conf": true, ".cfg": true,
	".cnf": true, ".toml": true, ".dist": true, ".config": true, ".tfvars": true,
}

// deployConfig reports whether the file is deployment configuration.
func deployConfig(p string) bool {
	base := strings.ToLower(path.Base(strings.ReplaceAll(p, "\\", "/")))
	if strings.HasPrefix(base, "dockerfile") || strings.HasPrefix(base, ".env") || strings.HasPrefix(base, "docker-compose") {
		return true
	}
	return deployExts[path.Ext(base)]
}

// testDirs and testMarks mark paths of tests, fixtures, examples and docs,
// where credentials are more often throwaway ones: generic findings there
// lose one confidence level rather than being dropped.
var testDirs = map[string]bool{
	"test": true, "tests": true, "spec": true, "specs": true, "__tests__": true, "testdata": true,
	"fixtures": true, "fixture": true, "example": true, "examples": true, "sample": true, "samples": true,
	"demo": true, "demos": true, "mock": true, "mocks": true, "testing": true, "e2e": true, "stubs": true,
}

var testMarks = []string{"_test.", ".test.", ".spec.", "_spec.", "test_", "example", "sample", "fixture", "mock"}

// i18nDirs hold translations: "password: Mot de passe" is a label there.
var i18nDirs = map[string]bool{"locale": true, "locales": true, "i18n": true, "l10n": true, "lang": true, "langs": true, "translations": true, "localization": true}

func i18nPath(p string) bool {
	for _, s := range strings.Split(strings.ToLower(strings.ReplaceAll(p, "\\", "/")), "/") {
		if i18nDirs[s] {
			return true
		}
	}
	return false
}

func testLikePath(p string) bool {
	p = strings.ToLower(strings.ReplaceAll(p, "\\", "/"))
	segs := strings.Split(p, "/")
	for _, s := range segs[:len(segs)-1] {
		if testDirs[s] {
			return true
		}
	}
	base := segs[len(segs)-1]
	for _, m := range testMarks {
		if strings.Contains(base, m) {
			return true
		}
	}
	return false
}

// testPathPenalty is what a test or example path takes off a score.
const testPathPenalty = 0.1

// lowerConfidence returns the level below c (low stays low).
func lowerConfidence(c string) string {
	switch c {
	case rules.ConfidenceHigh:
		return rules.ConfidenceMedium
	default:
		return rules.ConfidenceLow
	}
}

// weighPath adjusts a generic match for where it was found: a bare
// identifier in code is a variable, not a secret (false: drop it), and
// test or example paths lower the confidence one level.
func weighPath(r *rules.Rule, m *rules.Match, line string, p pathKind) bool {
	if !r.Generic {
		return true
	}
	if p.i18n || m.Bare && !p.config {
		return false
	}
	if m.Weak && (p.deploy || !p.config && !p.testy && !p.docs) {
		// A default password in deployment config is in use as written,
		// tests' service containers included; so is one in non-test code
		// (connect(user="root", password="root")). Tests, examples and
		// docs use such values as filler: they stay low.
		if m.Confidence == rules.ConfidenceLow {
			m.Confidence = rules.ConfidenceMedium
		}
		return true
	}
	if p.testy && !p.deploy {
		if m.Score > 0 {
			// A scored candidate loses testPathPenalty: a random-looking
			// value in a test is still reported high, a weak one drops a level.
			if m.Confidence = rules.ConfidenceFor(m.Score - testPathPenalty); m.Confidence == "" {
				m.Confidence = rules.ConfidenceLow
			}
		} else {
			m.Confidence = lowerConfidence(m.Confidence)
		}
	}
	if len(line) >= 1000 {
		// Minified or generated code.
		m.Confidence = lowerConfidence(m.Confidence)
	}
	return true
}

// pathKind is what the engine knows about an item's path.
type pathKind struct{ config, deploy, docs, testy, i18n bool }

func kindOf(p string) pathKind {
	return pathKind{config: configLike(p), deploy: deployConfig(p), docs: docsPath(p), testy: testLikePath(p), i18n: i18nPath(p)}
}

// docsExts are prose formats, where "password: admin" illustrates.
var docsExts = map[string]bool{".md": true, ".markdown": true, ".rst": true, ".txt": true, ".adoc": true, ".html": true, ".htm": true, ".1": true, ".ipynb": true}

func docsPath(p string) bool {
	return docsExts[strings.ToLower(path.Ext(p))]
}
