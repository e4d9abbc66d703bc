// Package config reads a user's .keytrail.toml (or --config file) and
// turns it, with the built-in rules, into the rule set and global
// allowlist a scan uses.
package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/rules"
)

// FileName is the config file looked for at the scanned root.
const FileName = ".keytrail.toml"

// Config is the shape of .keytrail.toml.
type Config struct {
	// Extends: "builtin" (default) keeps the built-in rules; "none" starts empty.
	Extends string `toml:"extends"`
	// Disable lists built-in rule ids to turn off.
	Disable   []string        `toml:"disable"`
	Rules     []*rules.Rule   `toml:"rule"`
	Allowlist rules.Allowlist `toml:"allowlist"`
	// Policy is the key-age policy `keytrail audit` applies.
	Policy audit.Policy `toml:"policy"`
	// Remediate names revocation hooks for providers keytrail cannot
	// revoke itself ([[remediate.hook]]).
	Remediate Remediate `toml:"remediate"`
	// Warnings say what of a converted gitleaks config was not carried
	// over exactly; empty for keytrail configs.
	Warnings []string `toml:"-"`

	path string
}

// Load reads a config file. Errors name the file and, where the TOML
// decoder knows them, the line and field.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads config data; path names it in errors (it may be "REV:path"
// for a config read from a git revision).
func Parse(path string, data []byte) (*Config, error) {
	var c Config
	if IsGitleaks(data) {
		// A gitleaks config is converted in memory (see gitleaks.go).
		imp, err := ConvertGitleaks(path, data)
		if err != nil {
			return nil, err
		}
		c = *imp.Config
		c.Warnings = imp.Warnings
	} else {
		unknown, err := rules.DecodeTOML(data, &c)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("config %s: line %d: unknown field %q", path, unknown[0].Line, unknown[0].Key)
		}
		for _, r := range c.Rules {
			r.Source = path
		}
	}
	c.path = path
	if err := c.Allowlist.Compile(); err != nil {
		return nil, fmt.Errorf("config %s: field allowlist: %w", path, err)
	}
	if err := c.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.Remediate.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	switch c.Extends {
	case "", "builtin", "none":
	default:
		return nil, fmt.Errorf("config %s: field extends: %q is not \"builtin\" or \"none\"", path, c.Extends)
	}
	return &c, nil
}

// Find returns the config at root, if there is one.
func Find(root string) (string, bool) {
	p := filepath.Join(root, FileName)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p, true
	}
	return "", false
}

// RuleSet builds the rule set: built-ins (unless extends = "none") minus
// disabled ids, with user rules added or replacing built-ins of the same id.
func (c *Config) RuleSet() (*rules.Set, error) {
	var base []*rules.Rule
	if c == nil || c.Extends != "none" {
		var err error
		base, err = rules.BuiltinRules()
		if err != nil {
			return nil, err
		}
	}
	if c == nil {
		return rules.NewSet(base, rules.DefaultValidators())
	}
	known := map[string]bool{}
	for _, r := range base {
		known[r.ID] = true
	}
	off := map[string]bool{}
	for _, id := range c.Disable {
		if !known[id] {
			return nil, fmt.Errorf("config %s: field disable: no built-in rule %q", c.path, id)
		}
		off[id] = true
	}
	override := map[string]*rules.Rule{}
	for _, r := range c.Rules {
		override[r.ID] = r
	}
	var all []*rules.Rule
	for _, r := range base {
		if off[r.ID] || override[r.ID] != nil {
			continue
		}
		all = append(all, r)
	}
	all = append(all, c.Rules...)
	set, err := rules.NewSet(all, rules.DefaultValidators())
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return set, nil
}

// GlobalAllowlist returns the config's allowlist, or nil.
func (c *Config) GlobalAllowlist() *rules.Allowlist {
	if c == nil {
		return nil
	}
	return &c.Allowlist
}

// Remediate is the [remediate] table.
type Remediate struct {
	Hooks []RemediateHook `toml:"hook"`
}

// RemediateHook sends the identity of leaked keys of a rule (or of a
// provider) to a command or webhook that revokes them.
type RemediateHook struct {
	Rule     string `toml:"rule"`
	Provider string `toml:"provider"`
	Revoke   string `toml:"revoke"` // exec:CMD or webhook:URL
}

// Validate names the first wrong hook.
func (r Remediate) Validate() error {
	for i, h := range r.Hooks {
		if h.Rule == "" && h.Provider == "" {
			return fmt.Errorf("remediate.hook[%d]: needs rule or provider", i)
		}
		if !strings.HasPrefix(h.Revoke, "exec:") && !strings.HasPrefix(h.Revoke, "webhook:") || len(h.Revoke) < 7 {
			return fmt.Errorf("remediate.hook[%d].revoke: %q is not exec:CMD or webhook:URL", i, h.Revoke)
		}
	}
	return nil
}

// HookFor returns the revoke hook for a key of this rule and provider: a
// hook naming the rule wins over one naming the provider.
func (c *Config) HookFor(rule, provider string) string {
	if c == nil {
		return ""
	}
	for _, h := range c.Remediate.Hooks {
		if h.Rule != "" && h.Rule == rule {
			return h.Revoke
		}
	}
	for _, h := range c.Remediate.Hooks {
		if h.Rule == "" && strings.EqualFold(h.Provider, provider) {
			return h.Revoke
		}
	}
	return ""
}

// AuditPolicy returns the [policy] table with defaults filled in.
func (c *Config) AuditPolicy() audit.Policy {
	if c == nil {
		return audit.DefaultPolicy()
	}
	return c.Policy.WithDefaults()
}

// MaxFileSize caps a config file: configs are small, and a path that
// names a device or a huge file must fail, not hang or exhaust memory.
const MaxFileSize = 16 << 20

// readFile reads a config file that must be a regular file of at most
// MaxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	return data, nil
}
