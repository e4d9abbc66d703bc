package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/keytrail/keytrail/rules"
)

// This file converts a gitleaks v8 TOML config into a keytrail Config.
// The gitleaks schema read here (field names are gitleaks'):
//
//	title = "…"
//	[extend]            useDefault, path, disabledRules
//	[[rules]]           id, description, regex, secretGroup, entropy,
//	                    keywords, path, tags
//	[[rules.allowlists]] (or the older singular [rules.allowlist])
//	                    description, condition (OR|AND), commits, paths,
//	                    regexTarget (secret|match|line), regexes, stopwords
//	[allowlist] / [[allowlists]]  the same, global; [[allowlists]] may
//	                    name targetRules
//
// gitleaks compiles regexes with Go's RE2 syntax, so they carry over as is.
// What keytrail cannot express (commit allowlists, AND allowlists over
// several criteria, rules restricted to or matching only file paths) is
// dropped with a warning, never widened into a broader suppression.

// maxExtendDepth is how deep [extend] path chains are followed, as in gitleaks.
const maxExtendDepth = 2

// minKeywordLen is the shortest keyword derived from a regex; shorter ones
// would make the prefilter useless.
const minKeywordLen = 3

type glConfig struct {
	Title      string        `toml:"title"`
	Extend     glExtend      `toml:"extend"`
	Rules      []glRule      `toml:"rules"`
	Allowlist  *glAllowlist  `toml:"allowlist"`
	Allowlists []glAllowlist `toml:"allowlists"`
}

type glExtend struct {
	UseDefault    bool     `toml:"useDefault"`
	Path          string   `toml:"path"`
	URL           string   `toml:"url"`
	DisabledRules []string `toml:"disabledRules"`
}

type glRule struct {
	ID          string        `toml:"id"`
	Description string        `toml:"description"`
	Regex       string        `toml:"regex"`
	SecretGroup int           `toml:"secretGroup"`
	Entropy     float64       `toml:"entropy"`
	Keywords    []string      `toml:"keywords"`
	Path        string        `toml:"path"`
	Tags        []string      `toml:"tags"`
	Allowlist   *glAllowlist  `toml:"allowlist"`
	Allowlists  []glAllowlist `toml:"allowlists"`
}

type glAllowlist struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Commits     []string `toml:"commits"`
	Paths       []string `toml:"paths"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	StopWords   []string `toml:"stopwords"`
	TargetRules []string `toml:"targetRules"`
}

// GitleaksImport is a gitleaks config converted to keytrail's format.
type GitleaksImport struct {
	Config *Config
	// Source is the gitleaks file converted, Title its title.
	Source, Title string
	// Warnings list what could not be carried over exactly.
	Warnings []string
}

// IsGitleaks reports whether data looks like a gitleaks config rather
// than a keytrail one: it has top-level rules, extend, title or
// allowlists keys (keytrail uses [[rule]]), or a global allowlist with
// gitleaks-only keys.
func IsGitleaks(data []byte) bool {
	var m map[string]any
	if _, err := rules.DecodeTOML(data, &m); err != nil {
		return false
	}
	if _, ours := m["rule"]; ours {
		return false
	}
	for _, k := range []string{"rules", "extend", "title", "allowlists"} {
		if _, ok := m[k]; ok {
			return true
		}
	}
	if al, ok := m["allowlist"].(map[string]any); ok {
		for _, k := range []string{"regexTarget", "commits"} {
			if _, ok := al[k]; ok {
				return true
			}
		}
	}
	return false
}

// ImportGitleaks reads and converts the gitleaks config at path.
func ImportGitleaks(path string) (*GitleaksImport, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("gitleaks config %s: %w", path, err)
	}
	var m map[string]any
	if _, err := rules.DecodeTOML(data, &m); err == nil && !IsGitleaks(data) {
		for _, k := range []string{"rule", "extends", "disable"} {
			if _, ok := m[k]; ok {
				return nil, fmt.Errorf("gitleaks config %s: field %s: this is a keytrail config, not a gitleaks one", path, k)
			}
		}
	}
	return ConvertGitleaks(path, data)
}

// ConvertGitleaks converts gitleaks config data; name is the file it came
// from, used in errors and to resolve [extend] path.
func ConvertGitleaks(name string, data []byte) (*GitleaksImport, error) {
	imp, err := convertGitleaks(name, data, 0)
	if err != nil {
		return nil, err
	}
	if err := imp.validate(); err != nil {
		return nil, err
	}
	return imp, nil
}

func convertGitleaks(name string, data []byte, depth int) (*GitleaksImport, error) {
	var gc glConfig
	unknown, err := rules.DecodeTOML(data, &gc)
	if err != nil {
		return nil, fmt.Errorf("gitleaks config %s: %w", name, err)
	}
	cv := &converter{
		name:      name,
		imp:       &GitleaksImport{Source: name, Title: gc.Title, Config: &Config{path: name}},
		ruleLines: headerLines(data, "rules", len(gc.Rules)),
		alLines:   headerLines(data, "allowlists", len(gc.Allowlists)),
	}
	for _, k := range unknown {
		cv.warnf("line %d: field %s is not supported by keytrail and was ignored", k.Line, k.Key)
	}
	if err := cv.run(&gc, depth); err != nil {
		return nil, err
	}
	return cv.imp, nil
}

type converter struct {
	name      string
	imp       *GitleaksImport
	ruleLines []int
	alLines   []int

	builtin map[string]*rules.Rule // when extending the built-in set
	byID    map[string]*rules.Rule // converted rules
}

func (cv *converter) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !strings.Contains(msg, cv.name) {
		msg = cv.name + ": " + msg
	}
	cv.imp.Warnings = append(cv.imp.Warnings, msg)
}

// at names a position: "file:line" when the line is known.
func (cv *converter) at(lines []int, i int) string {
	if i < len(lines) && lines[i] > 0 {
		return fmt.Sprintf("%s:%d", cv.name, lines[i])
	}
	return cv.name
}

func (cv *converter) run(gc *glConfig, depth int) error {
	c := cv.imp.Config
	cv.byID = map[string]*rules.Rule{}
	var order []string // rule ids in output order

	// [extend]
	if gc.Extend.URL != "" {
		cv.warnf("field extend.url: remote configs are not fetched; ignored")
	}
	var base *GitleaksImport
	if gc.Extend.Path != "" {
		if depth >= maxExtendDepth {
			cv.warnf("field extend.path: %q not followed: configs extend at most %d levels deep", gc.Extend.Path, maxExtendDepth)
		} else {
			p := cv.resolve(gc.Extend.Path)
			data, err := readFile(p)
			if err != nil {
				return fmt.Errorf("gitleaks config %s: field extend.path: %w", cv.name, err)
			}
			base, err = convertGitleaks(p, data, depth+1)
			if err != nil {
				return fmt.Errorf("gitleaks config %s: field extend.path: %w", cv.name, err)
			}
			cv.imp.Warnings = append(cv.imp.Warnings, base.Warnings...)
		}
	}
	c.Extends = "none"
	if gc.Extend.UseDefault || (base != nil && base.Config.Extends == "builtin") {
		c.Extends = "builtin"
		bs, err := rules.BuiltinRules()
		if err != nil {
			return fmt.Errorf("loading built-in rules: %w", err)
		}
		cv.builtin = make(map[string]*rules.Rule, len(bs))
		for _, r := range bs {
			cv.builtin[r.ID] = r
		}
	}
	if base != nil {
		c.Disable = append(c.Disable, base.Config.Disable...)
		c.Allowlist = base.Config.Allowlist
		for _, r := range base.Config.Rules {
			cv.byID[r.ID] = r
			order = append(order, r.ID)
		}
	}
	for _, id := range gc.Extend.DisabledRules {
		switch {
		case cv.byID[id] != nil:
			delete(cv.byID, id)
		case cv.builtin[id] != nil:
			if !slices.Contains(c.Disable, id) {
				c.Disable = append(c.Disable, id)
			}
		case cv.builtin != nil:
			cv.warnf("field extend.disabledRules: keytrail has no built-in rule %q; nothing disabled (see `keytrail rules list` for ids)", id)
		default:
			cv.warnf("field extend.disabledRules: no extended rule %q; nothing disabled", id)
		}
	}

	// [[rules]]
	var keywordErrs []error
	seen := map[string]string{}
	for i := range gc.Rules {
		gr := &gc.Rules[i]
		at := cv.at(cv.ruleLines, i)
		if strings.TrimSpace(gr.ID) == "" {
			return fmt.Errorf("gitleaks config %s: rules[%d]: field id: must not be empty", at, i)
		}
		where := fmt.Sprintf("rule %q (%s)", gr.ID, at)
		if prev, dup := seen[gr.ID]; dup {
			return fmt.Errorf("gitleaks config %s: field id: defined twice (also at %s)", where, prev)
		}
		seen[gr.ID] = at
		al, err := cv.allowlists(where, gr.Allowlist, gr.Allowlists)
		if err != nil {
			return err
		}
		if gr.Regex == "" {
			if gr.Path != "" {
				cv.warnf("%s: rules that match only file paths (path without regex) are not supported by keytrail; skipped", where)
				continue
			}
			// A rule with only an id and allowlists adds to a rule
			// it extends.
			r, err := cv.extended(gr.ID)
			if err != nil {
				return fmt.Errorf("gitleaks config %s: %w", where, err)
			}
			if r == nil {
				if cv.builtin == nil && base == nil {
					return fmt.Errorf("gitleaks config %s: field regex: must not be empty (a rule needs regex or path)", where)
				}
				cv.warnf("%s: adds to a rule keytrail does not have; skipped (see `keytrail rules list` for ids)", where)
				continue
			}
			mergeAllowlist(&r.Allowlist, al)
			r.Keywords = appendNew(r.Keywords, gr.Keywords...)
			r.Tags = appendNew(r.Tags, gr.Tags...)
			if cv.byID[r.ID] == nil {
				order = append(order, r.ID)
			}
			cv.byID[r.ID] = r
			continue
		}
		re, err := regexp.Compile(gr.Regex)
		if err != nil {
			return fmt.Errorf("gitleaks config %s: field regex: %w", where, err)
		}
		if gr.SecretGroup < 0 || gr.SecretGroup > re.NumSubexp() {
			return fmt.Errorf("gitleaks config %s: field secretGroup: %d but the regex has %d groups", where, gr.SecretGroup, re.NumSubexp())
		}
		if gr.Entropy < 0 || gr.Entropy > 8 {
			return fmt.Errorf("gitleaks config %s: field entropy: %v is outside 0..8", where, gr.Entropy)
		}
		if gr.Path != "" {
			if _, err := regexp.Compile(gr.Path); err != nil {
				return fmt.Errorf("gitleaks config %s: field path: %w", where, err)
			}
			cv.warnf("%s: field path: keytrail rules apply to every file; the restriction to paths matching %q was dropped", where, gr.Path)
		}
		kws := slices.Clone(gr.Keywords)
		if len(kws) == 0 {
			kws = DeriveKeywords(gr.Regex)
			if len(kws) == 0 {
				keywordErrs = append(keywordErrs, fmt.Errorf("gitleaks config %s: field keywords: none given and no literal of at least %d characters that every match contains could be derived from the regex; add keywords = [...]", where, minKeywordLen))
				continue
			}
			cv.warnf("%s: field keywords: none given; derived %s from the regex", where, quoteList(kws))
		}
		r := &rules.Rule{
			ID:          gr.ID,
			Description: gr.Description,
			Keywords:    kws,
			Regex:       gr.Regex,
			SecretGroup: gr.SecretGroup,
			MinEntropy:  gr.Entropy,
			Tags:        slices.Clone(gr.Tags),
			Allowlist:   al,
			Source:      at,
		}
		if r.Description == "" {
			r.Description = gr.ID
		}
		if prev := cv.byID[r.ID]; prev != nil {
			// Overriding an extended rule keeps its allowlists, as
			// gitleaks appends them.
			mergeAllowlist(&r.Allowlist, prev.Allowlist)
		} else {
			order = append(order, r.ID)
		}
		cv.byID[r.ID] = r
	}
	if len(keywordErrs) > 0 {
		return errors.Join(keywordErrs...)
	}

	// Global allowlists.
	type glob struct {
		al    glAllowlist
		where string
	}
	var globals []glob
	if gc.Allowlist != nil {
		globals = append(globals, glob{*gc.Allowlist, "allowlist (" + cv.name + ")"})
	}
	for i, a := range gc.Allowlists {
		globals = append(globals, glob{a, fmt.Sprintf("allowlists[%d] (%s)", i, cv.at(cv.alLines, i))})
	}
	for _, g := range globals {
		al, ok, err := cv.allowlist(g.where, g.al)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if len(g.al.TargetRules) == 0 {
			mergeAllowlist(&c.Allowlist, al)
			continue
		}
		for _, id := range g.al.TargetRules {
			r := cv.byID[id]
			if r == nil {
				var err error
				if r, err = cv.extended(id); err != nil {
					return fmt.Errorf("gitleaks config %s: %s: field targetRules: %w", cv.name, g.where, err)
				}
				if r == nil {
					cv.warnf("%s: field targetRules: no rule %q; allowlist not applied to it", g.where, id)
					continue
				}
				order = append(order, id)
				cv.byID[id] = r
			}
			mergeAllowlist(&r.Allowlist, al)
		}
	}
	for _, id := range order {
		if r := cv.byID[id]; r != nil {
			c.Rules = append(c.Rules, r)
			delete(cv.byID, id) // order may repeat an id
		}
	}
	if c.Extends == "none" && len(c.Rules) == 0 && depth == 0 {
		cv.warnf("no rules: without [extend] useDefault = true a gitleaks config replaces the default rules, so this one detects nothing; add it to keep keytrail's built-in rules")
	}
	return nil
}

// extended returns a copy of the rule id from the built-in set being
// extended, or the already converted rule, for a rule entry that only
// adds allowlists. It returns nil if there is no such rule.
func (cv *converter) extended(id string) (*rules.Rule, error) {
	if r := cv.byID[id]; r != nil {
		return r, nil
	}
	if b := cv.builtin[id]; b != nil {
		cp := b.Clone()
		cp.Source = cv.name
		return cp, nil
	}
	return nil, nil
}

// resolve finds an [extend] path: gitleaks resolves it against the
// working directory; the config's own directory is tried next.
func (cv *converter) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join(filepath.Dir(cv.name), p)
}

// allowlists converts a rule's allowlists (old singular and new plural
// forms) into one keytrail allowlist; gitleaks ORs separate allowlists.
func (cv *converter) allowlists(where string, single *glAllowlist, list []glAllowlist) (rules.Allowlist, error) {
	var all []glAllowlist
	if single != nil {
		all = append(all, *single)
	}
	all = append(all, list...)
	var out rules.Allowlist
	for i, a := range all {
		w := where + " allowlist"
		if len(all) > 1 {
			w = fmt.Sprintf("%s allowlists[%d]", where, i)
		}
		if len(a.TargetRules) > 0 {
			cv.warnf("%s: field targetRules is only meaningful in global allowlists; ignored", w)
		}
		if a.RegexTarget == "line" && len(a.Regexes) > 0 {
			cv.warnf("%s: regexTarget = \"line\": a keytrail rule allowlist tests these regexes against the rule's whole match, not the whole line", w)
		}
		al, ok, err := cv.allowlist(w, a)
		if err != nil {
			return out, err
		}
		if ok {
			mergeAllowlist(&out, al)
		}
	}
	return out, nil
}

// allowlist converts one gitleaks allowlist. ok is false when nothing of
// it can be expressed without suppressing more than gitleaks would.
func (cv *converter) allowlist(where string, a glAllowlist) (rules.Allowlist, bool, error) {
	var out rules.Allowlist
	fail := func(field string, err error) error {
		return fmt.Errorf("gitleaks config %s: %s: field %s: %w", cv.name, where, field, err)
	}
	and := false
	switch strings.ToUpper(strings.TrimSpace(a.Condition)) {
	case "", "OR":
	case "AND":
		and = true
	default:
		return out, false, fail("condition", fmt.Errorf("%q is not OR or AND", a.Condition))
	}
	lineTarget := false
	switch a.RegexTarget {
	case "", "secret":
	case "match", "line":
		lineTarget = true
	default:
		return out, false, fail("regexTarget", fmt.Errorf("%q is not secret, match or line", a.RegexTarget))
	}
	for i, s := range a.Regexes {
		if _, err := regexp.Compile(s); err != nil {
			return out, false, fail(fmt.Sprintf("regexes[%d]", i), err)
		}
	}
	for i, s := range a.Paths {
		if _, err := regexp.Compile(s); err != nil {
			return out, false, fail(fmt.Sprintf("paths[%d]", i), err)
		}
	}
	var kinds []string
	for _, k := range []struct {
		name string
		n    int
	}{{"commits", len(a.Commits)}, {"paths", len(a.Paths)}, {"regexes", len(a.Regexes)}, {"stopwords", len(a.StopWords)}} {
		if k.n > 0 {
			kinds = append(kinds, k.name)
		}
	}
	switch {
	case len(kinds) == 0:
		cv.warnf("%s: empty allowlist; ignored", where)
		return out, false, nil
	case and && len(kinds) > 1:
		cv.warnf("%s: condition = \"AND\" over %s cannot be expressed in keytrail; allowlist skipped (what it would hide is reported)", where, strings.Join(kinds, " and "))
		return out, false, nil
	case len(a.Commits) > 0 && len(kinds) == 1:
		cv.warnf("%s: commit allowlists are not supported by keytrail; allowlist skipped", where)
		return out, false, nil
	case len(a.Commits) > 0:
		cv.warnf("%s: field commits: commit allowlists are not supported by keytrail; %d commit(s) dropped", where, len(a.Commits))
	}
	out.Description = a.Description
	if lineTarget {
		out.LineRegexes = slices.Clone(a.Regexes)
	} else {
		out.Regexes = slices.Clone(a.Regexes)
	}
	out.Stopwords = slices.Clone(a.StopWords)
	for _, p := range a.Paths {
		out.Paths = append(out.Paths, "re:"+p)
	}
	return out, true, nil
}

func mergeAllowlist(dst *rules.Allowlist, src rules.Allowlist) {
	if dst.Description == "" {
		dst.Description = src.Description
	}
	dst.Regexes = appendNew(dst.Regexes, src.Regexes...)
	dst.LineRegexes = appendNew(dst.LineRegexes, src.LineRegexes...)
	dst.Stopwords = appendNew(dst.Stopwords, src.Stopwords...)
	dst.Paths = appendNew(dst.Paths, src.Paths...)
}

func appendNew(dst []string, src ...string) []string {
	for _, s := range src {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

// validate compiles copies of the converted rules as a scan would, so a
// conversion that succeeds yields a usable config.
func (imp *GitleaksImport) validate() error {
	c := *imp.Config
	c.Rules = make([]*rules.Rule, len(imp.Config.Rules))
	for i, r := range imp.Config.Rules {
		c.Rules[i] = r.Clone()
	}
	if err := c.Allowlist.Compile(); err != nil {
		return fmt.Errorf("gitleaks config %s: allowlist: %w", imp.Source, err)
	}
	if _, err := c.RuleSet(); err != nil {
		return fmt.Errorf("gitleaks config %s: %w", imp.Source, err)
	}
	return nil
}

// headerLines returns the 1-based line of each [[name]] array-table
// header, or nil if their count does not match want (say, rules written
// as an inline array), so no wrong line is ever reported.
func headerLines(data []byte, name string, want int) []int {
	re := regexp.MustCompile(`^\s*\[\[\s*` + regexp.QuoteMeta(name) + `\s*\]\]`)
	var out []int
	for i, l := range strings.Split(string(data), "\n") {
		if re.MatchString(l) {
			out = append(out, i+1)
		}
	}
	if len(out) != want {
		return nil
	}
	return out
}

// DeriveKeywords returns lowercase literals such that every match of the
// regex contains at least one of them (case-insensitively), each at least
// minKeywordLen long, or nil if the regex has none. It walks the parsed
// regex: a concatenation needs all its parts, so its best part's literals
// do; an alternation needs one of its branches, so the union of theirs.
func DeriveKeywords(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	kws := requiredLiterals(re.Simplify())
	for _, k := range kws {
		if len(k) < minKeywordLen {
			return nil
		}
	}
	return kws
}

func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, s := range re.Sub {
			if c := requiredLiterals(s); c != nil && betterLiterals(c, best) {
				best = c
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, s := range re.Sub {
			c := requiredLiterals(s)
			if c == nil {
				return nil
			}
			all = appendNew(all, c...)
		}
		return all
	}
	return nil
}

// betterLiterals prefers the set whose shortest literal is longest, then
// the smaller set.
func betterLiterals(a, b []string) bool {
	if b == nil {
		return true
	}
	ma, mb := minLen(a), minLen(b)
	if ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

func minLen(ss []string) int {
	m := -1
	for _, s := range ss {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// WriteTOML writes the converted config in keytrail's format, with the
// gitleaks title and the warnings as comments at the top.
func (imp *GitleaksImport) WriteTOML(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# keytrail config converted from the gitleaks config %s\n", filepath.Base(imp.Source))
	fmt.Fprintf(&b, "# by `keytrail config import-gitleaks`.\n")
	if imp.Title != "" {
		fmt.Fprintf(&b, "# gitleaks title: %s\n", oneLine(imp.Title))
	}
	if len(imp.Warnings) > 0 {
		b.WriteString("#\n# Not carried over exactly:\n")
		for _, wn := range imp.Warnings {
			fmt.Fprintf(&b, "#   - %s\n", oneLine(wn))
		}
	}
	c := imp.Config
	b.WriteString("\n")
	fmt.Fprintf(&b, "extends = %s\n", tomlString(c.Extends))
	if len(c.Disable) > 0 {
		writeList(&b, "disable", c.Disable)
	}
	if !emptyAllowlist(c.Allowlist) {
		b.WriteString("\n[allowlist]\n")
		writeAllowlist(&b, c.Allowlist)
	}
	for _, r := range c.Rules {
		b.WriteString("\n[[rule]]\n")
		writeRule(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRule(b *strings.Builder, r *rules.Rule) {
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(b, "%s = %s\n", k, tomlString(v))
		}
	}
	kv("id", r.ID)
	kv("description", r.Description)
	kv("provider", r.Provider)
	if len(r.Keywords) > 0 {
		writeList(b, "keywords", r.Keywords)
	}
	kv("regex", r.Regex)
	if r.SecretGroup != 0 {
		fmt.Fprintf(b, "secret_group = %d\n", r.SecretGroup)
	}
	if r.MinEntropy != 0 {
		fmt.Fprintf(b, "min_entropy = %s\n", tomlFloat(r.MinEntropy))
	}
	kv("validator", r.Validator)
	kv("severity", r.Severity)
	if len(r.Tags) > 0 {
		writeList(b, "tags", r.Tags)
	}
	if r.Generic {
		b.WriteString("generic = true\n")
	}
	if r.Context != 0 {
		fmt.Fprintf(b, "context = %d\n", r.Context)
	}
	if r.Multiline {
		b.WriteString("multiline = true\n")
	}
	kv("remediation", r.Remediation)
	if len(r.Examples) > 0 {
		writeList(b, "examples", r.Examples)
	}
	if len(r.Negatives) > 0 {
		writeList(b, "negative_examples", r.Negatives)
	}
	if !emptyAllowlist(r.Allowlist) {
		b.WriteString("\n[rule.allowlist]\n")
		writeAllowlist(b, r.Allowlist)
	}
}

func writeAllowlist(b *strings.Builder, a rules.Allowlist) {
	if a.Description != "" {
		fmt.Fprintf(b, "description = %s\n", tomlString(a.Description))
	}
	for _, f := range []struct {
		k string
		v []string
	}{{"regexes", a.Regexes}, {"line_regexes", a.LineRegexes}, {"stopwords", a.Stopwords}, {"paths", a.Paths}} {
		if len(f.v) > 0 {
			writeList(b, f.k, f.v)
		}
	}
}

func emptyAllowlist(a rules.Allowlist) bool {
	return len(a.Regexes)+len(a.LineRegexes)+len(a.Stopwords)+len(a.Paths) == 0
}

func writeList(b *strings.Builder, key string, vs []string) {
	if len(vs) == 1 {
		fmt.Fprintf(b, "%s = [%s]\n", key, tomlString(vs[0]))
		return
	}
	fmt.Fprintf(b, "%s = [\n", key)
	for _, v := range vs {
		fmt.Fprintf(b, "  %s,\n", tomlString(v))
	}
	b.WriteString("]\n")
}

// tomlString quotes s for TOML: a literal string when it can be one
// (regexes stay readable), else a basic string with escapes.
func tomlString(s string) string {
	literal := true
	for _, r := range s {
		if r == '\'' || r == '\n' || r == '\r' || (r < 0x20 && r != '\t') || r == 0x7f {
			literal = false
			break
		}
	}
	if literal {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tomlFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
