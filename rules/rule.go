// Package rules holds keytrail's detection rules: the embedded TOML rule
// data, its loader and compiler, and the offline validators rules refer to
// by name. A rule is pure data; adding one never needs a code change unless
// it brings a new validator.
package rules

import (
	"embed"
	"fmt"
	"math"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/*.toml
var builtin embed.FS

// Severity levels, ordered from most to least severe.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
	SeverityInfo     = "info"
)

// Confidence levels of a finding, set from how the rule matched.
const (
	ConfidenceHigh   = "high"
	ConfidenceMedium = "medium"
	ConfidenceLow    = "low"
)

// DefaultContext is how many bytes around a keyword hit the rule's regex
// sees on a long line. Short lines are always searched whole.
const DefaultContext = 256

// Allowlist suppresses matches of one rule (or, in a config, of all rules).
type Allowlist struct {
	Description string   `toml:"description"`
	Regexes     []string `toml:"regexes"`      // matched against the secret
	LineRegexes []string `toml:"line_regexes"` // matched against the whole matched text/line
	Stopwords   []string `toml:"stopwords"`    // a secret containing one (case-insensitive) is dropped
	Paths       []string `toml:"paths"`        // path globs (path.Match, ** allowed) or regexes prefixed "re:"

	c *compiledAllowlist
}

// compiledAllowlist is an allowlist's prepared form. Built-in rules build
// it on first use (their allowlists are checked by go test ./rules), which
// keeps start-up fast for pre-commit runs.
type compiledAllowlist struct {
	once        sync.Once
	regexes     []*regexp.Regexp
	lineRegexes []*regexp.Regexp
	stopwords   []string
	paths       []pathMatcher
}

// Rule is one provider token type. Field names are the TOML keys.
type Rule struct {
	ID          string   `toml:"id"`
	Description string   `toml:"description"`
	Provider    string   `toml:"provider"`
	Keywords    []string `toml:"keywords"`
	Regex       string   `toml:"regex"`
	SecretGroup int      `toml:"secret_group"`
	MinEntropy  float64  `toml:"min_entropy"`
	Validator   string   `toml:"validator"`
	Severity    string   `toml:"severity"`
	Tags        []string `toml:"tags"`
	// Generic marks rules that match by context (assignments, headers)
	// rather than a provider's token format; their findings get low
	// confidence and lose to a provider rule matching the same secret.
	Generic bool `toml:"generic"`
	// Context is the byte radius around a keyword hit that the regex runs
	// on for long lines; multi-line rules (PEM blocks) need more.
	Context int `toml:"context"`
	// PairRule links this rule's findings to another rule's within
	// PairLines lines (an AWS key id and its secret access key), so the
	// pair can be validated, audited and rotated together.
	PairRule  string `toml:"pair_rule"`
	PairLines int    `toml:"pair_lines"`
	Multiline bool   `toml:"multiline"`
	// Lead, when above zero, says every match starts exactly Lead bytes
	// before a keyword hit (a PEM block at its BEGIN line's dashes): the
	// regex then runs anchored there, up to Context after the hit, so each
	// block is matched once, from its own hit, not again in the ±Context
	// region of every block near it.
	Lead        int       `toml:"lead"`
	Remediation string    `toml:"remediation"`
	Allowlist   Allowlist `toml:"allowlist"`
	// Scorer names a function that rates each candidate from features of
	// its key and value (see score.go) and sets its confidence; a rule
	// with a scorer takes as its secret the first capture group that
	// took part in the match, so it can offer quoted and bare forms.
	Scorer string `toml:"scorer"`
	// UnverifiedConfidence keeps matches whose validator fails, at this
	// confidence and marked meta.verified=false, instead of dropping them.
	UnverifiedConfidence string   `toml:"unverified_confidence"`
	Examples             []string `toml:"examples"`
	Negatives            []string `toml:"negative_examples"`

	// Source is the file the rule came from, for error messages.
	Source string `toml:"-"`

	re         *regexp.Regexp
	reOnce     sync.Once
	fullOnce   sync.Once
	atRe       *regexp.Regexp // \A-anchored regex, for FindAt
	atOnce     sync.Once
	lazy       bool
	validator  Validator
	scorer     Scorer
	spansLines bool
	starts     *startFilter // nil: plain unanchored search (see prefix.go)
	need       *needLit     // a literal every match holds, or nil (need.go)
}

// regexp returns the compiled regex, compiling a lazy rule on first use.
func (r *Rule) regexp() *regexp.Regexp {
	r.prepare()
	r.fullOnce.Do(func() {
		if r.re == nil {
			// Built-in regexes are checked by TestBuiltinRulesCompile.
			r.re = regexp.MustCompile(r.Regex)
		}
	})
	return r.re
}

// prepare finishes a lazy (built-in) rule the first time its keyword
// occurs: parsing the regex to see whether it can cross a line, how many
// groups it has and which literals start its matches. The regex itself is
// compiled when first run, and a rule with a start filter may never need
// it (see prefix.go). Pre-commit runs on a few staged files touch few
// rules, so start-up does none of this.
func (r *Rule) prepare() {
	r.reOnce.Do(func() {
		if !r.lazy {
			return
		}
		parsed, err := syntax.Parse(r.Regex, syntax.Perl)
		if err != nil {
			panic(fmt.Sprintf("built-in rule %s: %v", r.ID, err))
		}
		r.spansLines = canMatchNewline(parsed)
		r.starts = newStartFilter(r.Regex, parsed)
		r.need = newNeed(parsed, r.Keywords)
		if r.SecretGroup == 0 && parsed.MaxCap() > 0 {
			r.SecretGroup = 1
		}
	})
}

// SpansLines reports whether the regex can match across a line break; a
// rule that cannot only needs the line its keyword is on.
func (r *Rule) SpansLines() bool {
	r.prepare()
	return r.spansLines
}

// canMatchNewline reports whether any character the regex consumes can be
// a newline (assertions like ^ and $ consume nothing).
func canMatchNewline(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar:
		return true
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if c == '\n' {
				return true
			}
		}
		return false
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return true
			}
		}
		return false
	}
	for _, sub := range re.Sub {
		if canMatchNewline(sub) {
			return true
		}
	}
	return false
}

// File is the top-level shape of a rule data file.
type File struct {
	Rules []*Rule `toml:"rule"`
}

// Match is one accepted match of a rule inside a text.
type Match struct {
	Start, End             int // byte offsets of the whole match in the text
	SecretStart, SecretEnd int // byte offsets of the secret in the text
	Secret                 string
	Entropy                float64
	Confidence             string
	Valid                  *bool             // nil when the rule has no validator
	Meta                   map[string]string // validator output, e.g. account_id
	// Score is the scorer's rating (0 when the rule has none); Bare marks
	// an unquoted identifier-like value, which the engine keeps only in
	// config-like files.
	Score float64
	Bare  bool
	// Weak marks a common default password (postgres, admin, guest): a
	// real credential in deployment config, filler in code (see Score).
	Weak bool
}

// Clone returns an uncompiled deep copy of the rule's data fields.
func (r *Rule) Clone() *Rule { return r.copyData(slices.Clone[[]string]) }

// copyData copies the rule's data fields, each string slice through dup.
func (r *Rule) copyData(dup func([]string) []string) *Rule {
	c := &Rule{
		ID: r.ID, Description: r.Description, Provider: r.Provider,
		Keywords: dup(r.Keywords), Regex: r.Regex, SecretGroup: r.SecretGroup,
		MinEntropy: r.MinEntropy, Validator: r.Validator, Severity: r.Severity,
		Tags: dup(r.Tags), Generic: r.Generic, Context: r.Context,
		PairRule: r.PairRule, PairLines: r.PairLines, Multiline: r.Multiline, Lead: r.Lead,
		Remediation: r.Remediation, Scorer: r.Scorer, UnverifiedConfidence: r.UnverifiedConfidence, Examples: dup(r.Examples),
		Negatives: dup(r.Negatives), Source: r.Source, lazy: r.lazy,
	}
	c.Allowlist = Allowlist{
		Description: r.Allowlist.Description,
		Regexes:     dup(r.Allowlist.Regexes),
		LineRegexes: dup(r.Allowlist.LineRegexes),
		Stopwords:   dup(r.Allowlist.Stopwords),
		Paths:       dup(r.Allowlist.Paths),
	}
	return c
}

// Compiled reports whether Compile has run.
func (r *Rule) Compiled() bool { return r.re != nil || r.lazy }

// Regexp returns the compiled regex.
func (r *Rule) Regexp() *regexp.Regexp { return r.regexp() }

// Compile checks the rule and prepares its regexes. Errors name the rule
// and the field.
func (r *Rule) Compile(validators Validators) error {
	// Built lazily: formatting the name for each of 450 rules was a
	// measurable share of a pre-commit run.
	errf := func(format string, a ...any) error {
		return fmt.Errorf("rule %q (%s): "+format, append([]any{r.ID, r.Source}, a...)...)
	}
	if r.ID == "" {
		return fmt.Errorf("rule in %s: field id: must not be empty", r.Source)
	}
	if r.Regex == "" {
		return errf("field regex: must not be empty")
	}
	// Built-in rules (all checked by go test ./rules) are parsed and
	// compiled when their keyword first occurs (see prepare), which keeps
	// start-up fast for pre-commit runs. User rules are compiled now, so a
	// bad one fails the config load.
	if !r.lazy {
		parsed, err := syntax.Parse(r.Regex, syntax.Perl)
		if err != nil {
			return errf("field regex: %w", err)
		}
		r.spansLines = canMatchNewline(parsed)
		groups := parsed.MaxCap()
		re, err := regexp.Compile(r.Regex)
		if err != nil {
			return errf("field regex: %w", err)
		}
		r.re = re
		r.starts = newStartFilter(r.Regex, parsed)
		r.need = newNeed(parsed, r.Keywords)
		if r.SecretGroup < 0 || r.SecretGroup > groups {
			return errf("field secret_group: %d but the regex has %d groups", r.SecretGroup, groups)
		}
		if r.SecretGroup == 0 && groups > 0 {
			r.SecretGroup = 1
		}
	}
	if len(r.Keywords) == 0 {
		return errf("field keywords: at least one keyword is needed for the prefilter")
	}
	lowered := false
	for i, k := range r.Keywords {
		if strings.TrimSpace(k) == "" {
			return errf("field keywords[%d]: empty keyword", i)
		}
		// Copied before the first change: built-in rules share their
		// keywords with the pre-decoded copy (builtinRules).
		if lk := strings.ToLower(k); lk != k {
			if !lowered {
				r.Keywords, lowered = slices.Clone(r.Keywords), true
			}
			r.Keywords[i] = lk
		}
	}
	switch r.Severity {
	case "":
		r.Severity = SeverityHigh
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo:
	default:
		return errf("field severity: %q is not one of critical, high, medium, low, info", r.Severity)
	}
	if r.Validator != "" {
		v, ok := validators[r.Validator]
		if !ok {
			return errf("field validator: unknown validator %q", r.Validator)
		}
		r.validator = v
	}
	switch r.UnverifiedConfidence {
	case "", ConfidenceLow, ConfidenceMedium, ConfidenceHigh:
	default:
		return errf("field unverified_confidence: %q is not one of low, medium, high", r.UnverifiedConfidence)
	}
	if r.Scorer != "" {
		sc, ok := DefaultScorers()[r.Scorer]
		if !ok {
			return errf("field scorer: unknown scorer %q", r.Scorer)
		}
		r.scorer = sc
	}
	if r.Context <= 0 {
		r.Context = DefaultContext
		if r.Multiline {
			r.Context = 16 << 10
		}
	}
	if r.Lead < 0 || r.Lead > 0 && !r.Multiline {
		return errf("field lead: %d needs multiline = true and a value of at least 1", r.Lead)
	}
	if r.PairLines <= 0 {
		r.PairLines = 5
	}
	if r.MinEntropy < 0 || r.MinEntropy > 8 {
		return errf("field min_entropy: %v is outside 0..8", r.MinEntropy)
	}
	if r.lazy {
		r.Allowlist.compileLazily()
	} else if err := r.Allowlist.Compile(); err != nil {
		return errf("field allowlist: %w", err)
	}
	return nil
}

// Compile prepares an allowlist's regexes and globs, reporting the first
// bad entry by field and index.
func (a *Allowlist) Compile() error {
	c := &compiledAllowlist{}
	c.once.Do(func() {})
	if err := a.build(c); err != nil {
		return err
	}
	a.c = c
	return nil
}

// compileLazily defers Compile to first use; a bad entry then panics, so
// it is only for the built-in rules, whose tests compile every allowlist.
func (a *Allowlist) compileLazily() { a.c = &compiledAllowlist{} }

func (a *Allowlist) compiled() *compiledAllowlist {
	if a.c == nil {
		return &compiledAllowlist{}
	}
	a.c.once.Do(func() {
		if err := a.build(a.c); err != nil {
			panic(fmt.Sprintf("built-in allowlist: %v", err))
		}
	})
	return a.c
}

func (a *Allowlist) build(c *compiledAllowlist) error {
	for i, s := range a.Regexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return fmt.Errorf("regexes[%d]: %w", i, err)
		}
		c.regexes = append(c.regexes, re)
	}
	for i, s := range a.LineRegexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return fmt.Errorf("line_regexes[%d]: %w", i, err)
		}
		c.lineRegexes = append(c.lineRegexes, re)
	}
	for _, s := range a.Stopwords {
		c.stopwords = append(c.stopwords, strings.ToLower(s))
	}
	for i, p := range a.Paths {
		m, err := newPathMatcher(p)
		if err != nil {
			return fmt.Errorf("paths[%d]: %w", i, err)
		}
		c.paths = append(c.paths, m)
	}
	return nil
}

// AllowsSecret reports whether the secret or the text around it is allowed.
func (a *Allowlist) AllowsSecret(secret, context string) bool {
	c := a.compiled()
	for _, re := range c.regexes {
		if re.MatchString(secret) {
			return true
		}
	}
	for _, re := range c.lineRegexes {
		if re.MatchString(context) {
			return true
		}
	}
	if len(c.stopwords) > 0 {
		ls := strings.ToLower(secret)
		for _, w := range c.stopwords {
			if strings.Contains(ls, w) {
				return true
			}
		}
	}
	return false
}

// AllowsLine reports whether a line_regexes entry matches the line.
func (a *Allowlist) AllowsLine(line string) bool {
	for _, re := range a.compiled().lineRegexes {
		if re.MatchString(line) {
			return true
		}
	}
	return false
}

// AllowsPath reports whether findings in the path are suppressed.
func (a *Allowlist) AllowsPath(p string) bool {
	for _, m := range a.compiled().paths {
		if m.match(p) {
			return true
		}
	}
	return false
}

// HasPaths reports whether the allowlist has any path entries.
func (a *Allowlist) HasPaths() bool { return len(a.compiled().paths) > 0 }

// FindAll runs the rule over text and returns the accepted matches: regex,
// then entropy, allowlist and validator. Matches failing the validator are
// returned only when keepInvalid is set, with Valid pointing to false.
func (r *Rule) FindAll(text []byte, keepInvalid bool) []Match {
	return r.acceptAll(text, r.findAllIndex(text), keepInvalid)
}

// acceptAll is the accepted matches at locs.
func (r *Rule) acceptAll(text []byte, locs [][]int, keepInvalid bool) []Match {
	var out []Match
	for _, loc := range locs {
		m, ok := r.accept(text, loc, keepInvalid)
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// FindAt returns the match that starts at text[0], as FindAll would
// report it, for rules with a Lead: only the block at the hit is wanted,
// not the ones after it. A match refused (ok false) still has its
// Start and End; End is 0 when the regex does not match there.
func (r *Rule) FindAt(text []byte, keepInvalid bool) (Match, bool) {
	r.prepare()
	r.atOnce.Do(func() {
		// Anchored, a block that does not match where it starts fails
		// at once instead of searching on to the next block.
		r.atRe = regexp.MustCompile(`\A(?:` + r.Regex + `)`)
	})
	loc := r.atRe.FindSubmatchIndex(text)
	if loc == nil {
		return Match{}, false
	}
	return r.accept(text, loc, keepInvalid)
}

// findAllIndex is the regex's FindAllSubmatchIndex(text, -1), through the
// start filter when the rule has one.
func (r *Rule) findAllIndex(text []byte) [][]int {
	r.prepare()
	if r.need != nil && !r.need.in(text) {
		return nil
	}
	if r.starts != nil && r.starts.usable(text) {
		return r.starts.findAll(r.Regex, text)
	}
	return r.regexp().FindAllSubmatchIndex(text, -1)
}

func (r *Rule) accept(text []byte, loc []int, keepInvalid bool) (Match, bool) {
	g := r.SecretGroup
	if r.scorer != nil {
		for g < len(loc)/2-1 && loc[2*g] < 0 {
			g++
		}
	}
	ss, se := loc[2*g], loc[2*g+1]
	if ss < 0 {
		return Match{}, false
	}
	secret := string(text[ss:se])
	m := Match{Start: loc[0], End: loc[1], SecretStart: ss, SecretEnd: se, Secret: secret}
	m.Entropy = ShannonEntropy(secret)
	if r.MinEntropy > 0 && m.Entropy < r.MinEntropy {
		return m, false
	}
	if r.Allowlist.AllowsSecret(secret, string(text[loc[0]:loc[1]])) {
		return m, false
	}
	m.Confidence = ConfidenceMedium
	if r.Generic {
		m.Confidence = ConfidenceLow
	}
	if r.scorer != nil {
		after := text[se:min(len(text), se+32)]
		before := text[max(0, loc[0]-64):loc[0]]
		sc := r.scorer(Candidate{Before: string(before), Prefix: string(text[loc[0]:ss]), Value: secret, After: string(after)})
		m.Score, m.Bare, m.Weak = sc.Value, sc.Bare, sc.Weak
		m.Meta = map[string]string{"score": strconv.FormatFloat(sc.Value, 'f', 2, 64)}
		if m.Confidence = ConfidenceFor(sc.Value); m.Confidence == "" {
			return m, false
		}
	}
	if r.validator != nil {
		ok, meta := r.validator(secret)
		m.Meta = meta
		m.Valid = &ok
		if !ok && r.UnverifiedConfidence != "" {
			// The format is unmistakable even when the body does not
			// check out (cut short, redacted by hand): report it, lower.
			m.Valid = nil
			m.Meta = map[string]string{"verified": "false"}
			m.Confidence = r.UnverifiedConfidence
			return m, true
		}
		if !ok {
			if !keepInvalid {
				return m, false
			}
		} else if !r.Generic {
			m.Confidence = ConfidenceHigh
		}
	}
	return m, true
}

// ShannonEntropy returns the Shannon entropy of s in bits per byte.
func ShannonEntropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

// Set is a compiled collection of rules.
type Set struct {
	Rules []*Rule
	byID  map[string]*Rule
}

// ByID returns the rule with the id, or nil.
func (s *Set) ByID(id string) *Rule { return s.byID[id] }

// NewSet compiles rules and checks that ids are unique.
func NewSet(rs []*Rule, validators Validators) (*Set, error) {
	s := &Set{byID: make(map[string]*Rule, len(rs))}
	for _, r := range rs {
		if err := r.Compile(validators); err != nil {
			return nil, err
		}
		if prev, dup := s.byID[r.ID]; dup {
			return nil, fmt.Errorf("rule %q defined twice (%s and %s)", r.ID, prev.Source, r.Source)
		}
		s.byID[r.ID] = r
		s.Rules = append(s.Rules, r)
	}
	for _, r := range s.Rules {
		if r.PairRule != "" && s.byID[r.PairRule] == nil {
			return nil, fmt.Errorf("rule %q (%s): field pair_rule: no rule %q", r.ID, r.Source, r.PairRule)
		}
	}
	slices.SortStableFunc(s.Rules, func(a, b *Rule) int { return strings.Compare(a.ID, b.ID) })
	return s, nil
}

// Parse decodes one TOML rule file. name is used in errors.
func Parse(name string, data []byte) ([]*Rule, error) {
	var f File
	unknown, err := DecodeTOML(data, &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s: line %d: unknown field %q", name, unknown[0].Line, unknown[0].Key)
	}
	for _, r := range f.Rules {
		r.Source = name
	}
	return f.Rules, nil
}

// Builtin loads and compiles the embedded rule set.
func Builtin() (*Set, error) {
	rs, err := builtinRules()
	if err != nil {
		return nil, err
	}
	return NewSet(rs, DefaultValidators())
}

// BuiltinRules returns fresh, uncompiled copies of the embedded rules, for
// configs that extend or override them.
func BuiltinRules() ([]*Rule, error) { return builtinRules() }

type pathMatcher struct {
	glob string
	re   *regexp.Regexp
}

func newPathMatcher(p string) (pathMatcher, error) {
	if strings.HasPrefix(p, "re:") {
		re, err := regexp.Compile(p[3:])
		if err != nil {
			return pathMatcher{}, err
		}
		return pathMatcher{re: re}, nil
	}
	if _, err := path.Match(strings.ReplaceAll(p, "**", "*"), ""); err != nil {
		return pathMatcher{}, fmt.Errorf("glob %q: %w", p, err)
	}
	return pathMatcher{glob: p}, nil
}

func (m pathMatcher) match(p string) bool {
	if m.re != nil {
		return m.re.MatchString(p)
	}
	return globMatch(m.glob, p)
}

// globMatch matches slash-separated paths; "**" spans directories and a
// pattern without a slash matches the base name at any depth.
func globMatch(pattern, p string) bool {
	if !strings.Contains(pattern, "/") {
		ok, _ := path.Match(pattern, path.Base(p))
		return ok
	}
	return matchSegments(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(segs); i++ {
				if matchSegments(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// Candidates is what MayMatch learned of a text, for FindAllAfter: the
// starts the rule's start filter lets through, when it applies.
type Candidates struct {
	starts   []int
	filtered bool
}

// MayMatch reports whether FindAll could find a match in text. It is
// false when text lacks the literal every match holds, or when the start
// filter finds no start that passes its gates: the checks FindAll makes
// first, without a regex. A caller can then skip what it does around
// FindAll (the engine's memo hashes each region twice), and go on with
// FindAllAfter and c (which may be nil) instead of doing them again.
func (r *Rule) MayMatch(text []byte, c *Candidates) bool {
	r.prepare()
	if c == nil {
		c = &Candidates{}
	}
	c.filtered = false
	if r.need != nil && !r.need.in(text) {
		return false
	}
	if r.starts == nil || !r.starts.usable(text) {
		return true
	}
	c.starts, c.filtered = r.starts.candidates(c.starts[:0], text), true
	return len(c.starts) > 0
}

// FindAllAfter is FindAll for text that MayMatch let through with c.
func (r *Rule) FindAllAfter(text []byte, c *Candidates, keepInvalid bool) []Match {
	if c.filtered {
		return r.acceptAll(text, r.starts.findAllFrom(r.Regex, text, c.starts), keepInvalid)
	}
	return r.acceptAll(text, r.regexp().FindAllSubmatchIndex(text, -1), keepInvalid)
}
