package rules

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/keytrail/keytrail/scanner/kwmatch"
)

// Go's regexp has no fast path for a regex without a literal prefix
// ((?i), alternations, a leading \b): an unanchored search tries every
// position of the text, each through every top-level alternative. For the
// keyword-context rules (a dozen case-insensitive key names in front of an
// assignment) that cost ~1 µs per byte of every line a keyword hit on.
//
// startFilter fixes that without changing what matches. It derives from
// the regex's syntax the finite set of literal strings every match starts
// with, finds their occurrences in one automaton pass, and runs the regex
// anchored at those positions only, in order, exactly as Go's leftmost-first
// FindAll would: the same matches, with the same groups. A rule with a
// filter compiles its plain regex only if some text needs it.

const (
	// maxPrefixLen bounds each literal; longer ones are cut (still a
	// valid prefix of every match).
	maxPrefixLen = 8
	// maxPrefixSet bounds how many literals a rule may have.
	maxPrefixSet = 128
	// minPrefixLen is the shortest literal worth filtering on: shorter
	// ones occur so often that anchored calls cost more than they save.
	minPrefixLen = 3
)

type startFilter struct {
	lits []string // for tests and debugging
	m    *kwmatch.Matcher
	// fold: some literal is case-insensitive, so U+017F (ſ) and U+212A
	// (Kelvin sign), which fold to s and k, could start a match the
	// ASCII automaton does not see; text holding either takes the plain
	// search.
	fold bool
	// skip: the regex opens with at most one character before its
	// literals ((?:^|[^A-Za-z0-9]), \s, a quote), so a match may start
	// one byte before a literal. skipASCII: that character may be a
	// multi-byte one, so only ASCII text can take the filter.
	skip      int
	skipASCII bool
	// begin: the regex has ^ or \A, so a start at the text's first byte
	// is tried with the regex anchored there as is, not after a stand-in
	// character.
	begin bool

	// loose is the regex with its long counted repetitions (x{1,300},
	// x{20,1000}) opened up, "" when it has none. Go's regexp compiles
	// x{n,m} into m copies of x: thousands of instructions, an NFA
	// instead of the backtracker, and machines sized to match. The loose
	// form matches wherever the rule's regex does, so a start it rejects
	// needs no further look, and the exact regex is compiled only for
	// rules whose loose form ever passes (few, on most trees).
	loose string
	// bounds, when set, let a match of the loose form stand for the
	// exact regex's: every opened-up repetition is of single characters,
	// outside any other repetition, and the loose form wraps each in a
	// capture group of its own (named looseGroup+i), so its rune count
	// shows whether the loose match kept to the rule's bounds. One that
	// did is the exact regex's match too (the loose form's parses are a
	// superset, ordered alike), so the exact regex runs only after a
	// match that did not; most rules then never compile it. The extra
	// groups are dropped from the loose match's locations (keep).
	bounds []groupBound
	// groups maps the loose form's capture groups once it has compiled
	// (see looseGroups).
	groupsOnce sync.Once
	groups     looseGroups
	// Each form is compiled on first use in two variants: ^(?s:.)(?:re),
	// run from one byte before a start so \b, \B and (?m)^ see the real
	// preceding character (a space stands in for it at the text's first
	// byte, where \b sees the start of text), and ^(?:re) for a start at
	// the first byte when the regex has begin anchors.
	looseCtx, looseAt0, exactCtx, exactAt0 lazyRegexp
	// gates, when set, reject most starts that cannot match before any
	// regex runs (see gate.go).
	gates gates
}

// groupBound is an opened-up repetition's count of runes allowed by the
// exact regex: min to max, max -1 for no limit.
type groupBound struct{ min, max int }

// looseGroups places the loose form's capture groups: caps[i] is the
// group wrapped around bounds[i], keep the exact regex's groups (0, the
// whole match, first) in order. ok is false when the loose form is not
// as loosen meant it, and its matches must not stand for the exact
// regex's.
type looseGroups struct {
	caps, keep []int
	ok         bool
}

// looseGroup prefixes the names of the groups loosen wraps around the
// repetitions it opens up.
const looseGroup = "kt__rep"

type lazyRegexp struct {
	once sync.Once
	re   *regexp.Regexp
}

// get compiles pre + expr + ")" once. The rule's own regex compiles (its
// tests check), so these do.
func (l *lazyRegexp) get(pre, expr string) *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(pre + expr + ")") })
	return l.re
}

// tryGet is get for a derived regex (the loose form), nil if it does not
// compile: the start filter then goes without it. Checking it when first
// needed, rather than parsing every rule's loose form up front, took 9 ms
// off the start of a history scan.
func (l *lazyRegexp) tryGet(pre, expr string) *regexp.Regexp {
	l.once.Do(func() { l.re, _ = regexp.Compile(pre + expr + ")") })
	return l.re
}

// newStartFilter returns nil when the regex has no usable literal prefix
// set, or when Go's regexp already skips ahead to a literal prefix.
func newStartFilter(expr string, parsed *syntax.Regexp) *startFilter {
	if goLiteralPrefix(parsed) {
		return nil
	}
	f := &startFilter{fold: hasFoldCase(parsed), begin: hasBeginAnchor(parsed)}
	set := usableLits(prefixLits(parsed))
	if set == nil && parsed.Op == syntax.OpConcat && len(parsed.Sub) > 1 {
		if ok, ascii := atMostOneChar(parsed.Sub[0]); ok {
			rest := &syntax.Regexp{Op: syntax.OpConcat, Flags: parsed.Flags, Sub: parsed.Sub[1:]}
			set = usableLits(prefixLits(rest))
			f.skip, f.skipASCII = 1, !ascii
		}
	}
	if set == nil {
		return nil
	}
	sort.Strings(set)
	f.lits, f.m = set, kwmatch.New(set)
	f.gates = newGates(parsed)
	if l, n := loosen(expr); l != "" {
		f.loose = l // checked when first compiled (lazyRegexp.tryGet)
		if boundable(parsed, n) {
			if w, b := loosenWrapped(expr); w != "" && len(b) == n {
				f.loose, f.bounds = w, b
			}
		}
	}
	return f
}

// boundable reports whether the n repetitions loosen opened up are all of
// single characters and outside other repetitions, so that a loose
// match's group around each shows its count.
func boundable(re *syntax.Regexp, n int) bool {
	seen, ok := 0, true
	var walk func(re *syntax.Regexp, repeated bool)
	walk = func(re *syntax.Regexp, repeated bool) {
		if re.Op == syntax.OpRepeat && opened(re.Min, re.Max) {
			seen++
			if repeated || !singleRune(re.Sub[0]) {
				ok = false
			}
		}
		switch re.Op {
		case syntax.OpStar, syntax.OpPlus:
			repeated = true
		case syntax.OpRepeat:
			repeated = repeated || re.Max != 1
		}
		for _, sub := range re.Sub {
			walk(sub, repeated)
		}
	}
	walk(re, false)
	return ok && seen == n && n > 0
}

// opened reports whether loosen opens up a repetition counted n to m.
func opened(n, m int) bool {
	return m > maxExactRepeat || n > maxExactRepeat || m < 0 && n > looseMin
}

// singleRune reports whether re always matches exactly one character.
func singleRune(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpLiteral:
		return len(re.Rune) == 1
	}
	return false
}

// looseGroups places lre's capture groups (see looseGroups), once: lre
// is the loose form compiled, both anchored variants having the same
// groups. The form is parsed again to check that each named group holds
// just the repetition loosen opened up; anything else (a rule file's
// regex that the text rewrite misread) leaves the loose form a filter.
func (f *startFilter) looseGroups(lre *regexp.Regexp) looseGroups {
	f.groupsOnce.Do(func() {
		g := looseGroups{caps: make([]int, len(f.bounds)), keep: []int{0}}
		found := 0
		for i, name := range lre.SubexpNames() {
			if i == 0 {
				continue
			}
			k, ok := strings.CutPrefix(name, looseGroup)
			if !ok {
				g.keep = append(g.keep, i)
				continue
			}
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= len(f.bounds) {
				return
			}
			g.caps[n] = i
			found++
		}
		parsed, err := syntax.Parse(f.loose, syntax.Perl)
		if err != nil || found != len(f.bounds) || !wrapsOnlyRepeats(parsed, f.bounds) {
			return
		}
		g.ok = true
		f.groups = g
	})
	return f.groups
}

// wrapsOnlyRepeats reports whether every group loosenWrapped named in re
// holds exactly the opened-up repetition of one character it meant to.
func wrapsOnlyRepeats(re *syntax.Regexp, bounds []groupBound) bool {
	ok, seen := true, 0
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		if re.Op == syntax.OpCapture && strings.HasPrefix(re.Name, looseGroup) {
			seen++
			n, err := strconv.Atoi(re.Name[len(looseGroup):])
			sub := re.Sub[0]
			if err != nil || n < 0 || n >= len(bounds) || sub.Op != syntax.OpRepeat ||
				sub.Max != -1 || sub.Min != min(bounds[n].min, looseMin) || !singleRune(sub.Sub[0]) {
				ok = false
			}
		}
		for _, s := range re.Sub {
			walk(s)
		}
	}
	walk(re)
	return ok && seen == len(bounds)
}

// within reports whether a loose match's bounded groups kept to the
// exact regex's counts.
func (f *startFilter) within(text []byte, loc []int, caps []int) bool {
	for i, b := range f.bounds {
		s, e := loc[2*caps[i]], loc[2*caps[i]+1]
		if s < 0 {
			continue
		}
		n := utf8.RuneCount(text[s:e])
		if n < b.min || b.max >= 0 && n > b.max {
			return false
		}
	}
	return true
}

// usableLits returns the strings of a literal set worth filtering on, or
// nil.
func usableLits(set []lit) []string {
	if len(set) == 0 || len(set) > maxPrefixSet {
		return nil
	}
	out := make([]string, 0, len(set))
	for _, l := range set {
		if len(l.s) < minPrefixLen {
			return nil
		}
		out = append(out, l.s)
	}
	return out
}

// atMostOneChar reports whether re matches at most one character (or only
// empty-width assertions), and whether that character is always ASCII.
func atMostOneChar(re *syntax.Regexp) (ok, ascii bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return true, true
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return false, false
		}
		r := re.Rune[0]
		folds := re.Flags&syntax.FoldCase != 0 && (r|0x20 == 's' || r|0x20 == 'k')
		return true, r < 0x80 && !folds
	case syntax.OpCharClass:
		return true, len(re.Rune) == 0 || re.Rune[len(re.Rune)-1] < 0x80
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true, false
	case syntax.OpCapture, syntax.OpQuest:
		return atMostOneChar(re.Sub[0])
	case syntax.OpAlternate:
		ascii = true
		for _, s := range re.Sub {
			o, a := atMostOneChar(s)
			if !o {
				return false, false
			}
			ascii = ascii && a
		}
		return true, ascii
	}
	return false, false
}

// Repetitions with bounds above maxExactRepeat are opened up in the loose
// form: x{n,m} becomes x{min(n,looseMin),}, which accepts every count
// x{n,m} does.
const (
	maxExactRepeat = 16
	looseMin       = 8
)

// loosen rewrites the counted repetitions of expr as described above,
// returning "" when there are none, and how many it rewrote. It works on
// the text (syntax's String is slow enough to show in start-up): escapes,
// character classes and \p{...} are skipped, and any {...} that is not a
// plain n, n, or n,m count is left alone, as the parser leaves it a
// literal.
func loosen(expr string) (string, int) {
	out, bounds, _ := loosenExpr(expr, false)
	return out, len(bounds)
}

// loosenWrapped is loosen with each opened-up repetition wrapped in a
// group named looseGroup+i, and the counts the exact regex allows; ""
// when a repetition's operand cannot be told from the text.
func loosenWrapped(expr string) (string, []groupBound) {
	out, bounds, ok := loosenExpr(expr, true)
	if !ok {
		return "", nil
	}
	return out, bounds
}

func loosenExpr(expr string, wrap bool) (string, []groupBound, bool) {
	var b []byte
	var bounds []groupBound
	atom := -1     // where the operand a count would apply to starts in b
	var open []int // where the groups still open start in b
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\\':
			// An escape: \p{Greek}, \x{41} and \Q...\E included.
			j := i + 2
			atom = len(b)
			if j <= len(expr) && (expr[i+1] == 'p' || expr[i+1] == 'P' || expr[i+1] == 'x') && j < len(expr) && expr[j] == '{' {
				if k := strings.IndexByte(expr[j:], '}'); k >= 0 {
					j += k + 1
				}
			} else if j <= len(expr) && expr[i+1] == 'Q' {
				atom = -1 // the operand is the quoted text's last character
				if k := strings.Index(expr[j:], `\E`); k >= 0 {
					j += k + 2
				} else {
					j = len(expr)
				}
			}
			j = min(j, len(expr))
			b = append(b, expr[i:j]...)
			i = j
		case c == '[':
			j := classEnd(expr, i)
			atom = len(b)
			b = append(b, expr[i:j]...)
			i = j
		case c == '(':
			open = append(open, len(b))
			atom = -1
			b = append(b, c)
			i++
		case c == ')':
			atom = -1
			if len(open) > 0 {
				atom, open = open[len(open)-1], open[:len(open)-1]
			}
			b = append(b, c)
			i++
		case c == '{':
			n, m, j, ok := parseCount(expr, i)
			if !ok {
				atom = len(b) // a literal brace
				b = append(b, expr[i:j]...)
				i = j
				break
			}
			if !opened(n, m) {
				atom = -1
				b = append(b, expr[i:j]...)
				i = j
				break
			}
			if wrap {
				if atom < 0 {
					return "", nil, false
				}
				name := "(?P<" + looseGroup + strconv.Itoa(len(bounds)) + ">"
				b = append(b[:atom], append([]byte(name), b[atom:]...)...)
			}
			b = append(b, "{"+strconv.Itoa(min(n, looseMin))+",}"...)
			bounds = append(bounds, groupBound{n, m})
			i = j
			if wrap {
				if i < len(expr) && expr[i] == '?' { // non-greedy: inside the group
					b = append(b, '?')
					i++
				}
				b = append(b, ')')
			}
			atom = -1
		case c == '|' || c == '*' || c == '+' || c == '?':
			atom = -1
			b = append(b, c)
			i++
		default:
			// One character, multi-byte ones whole.
			_, size := utf8.DecodeRuneInString(expr[i:])
			atom = len(b)
			b = append(b, expr[i:i+size]...)
			i += size
		}
	}
	if len(bounds) == 0 {
		return "", nil, true
	}
	return string(b), bounds, true
}

// classEnd returns the index just past the character class at expr[i].
func classEnd(expr string, i int) int {
	j := i + 1
	if j < len(expr) && expr[j] == '^' {
		j++
	}
	if j < len(expr) && expr[j] == ']' {
		j++ // a leading ] is a literal
	}
	for j < len(expr) {
		switch expr[j] {
		case '\\':
			j += 2
			continue
		case '[':
			if j+1 < len(expr) && expr[j+1] == ':' {
				if k := strings.Index(expr[j:], ":]"); k >= 0 {
					j += k + 2
					continue
				}
			}
		case ']':
			return j + 1
		}
		j++
	}
	return len(expr)
}

// parseCount reads {n}, {n,} or {n,m} at expr[i]; m is -1 for {n,}. j is
// the index past it, or i+1 when it is not a count (a literal brace).
func parseCount(expr string, i int) (n, m, j int, ok bool) {
	k := strings.IndexByte(expr[i:], '}')
	if k < 0 {
		return 0, 0, i + 1, false
	}
	body := expr[i+1 : i+k]
	lo, hi, comma := strings.Cut(body, ",")
	n, err := strconv.Atoi(lo)
	if err != nil || lo == "" || lo[0] == '+' || lo[0] == '-' {
		return 0, 0, i + 1, false
	}
	m = n
	if comma {
		m = -1
		if hi != "" {
			if m, err = strconv.Atoi(hi); err != nil || hi[0] == '+' || hi[0] == '-' {
				return 0, 0, i + 1, false
			}
		}
	}
	return n, m, i + k + 1, true
}

// usable reports whether the filter finds every match in text.
func (f *startFilter) usable(text []byte) bool {
	if f.skipASCII && !isASCII(text) {
		return false
	}
	return !f.fold || !bytes.Contains(text, foldS) && !bytes.Contains(text, foldK)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

var (
	foldS = []byte("\u017f")
	foldK = []byte("\u212a")
)

// findAll is the regex's FindAllSubmatchIndex(text, -1) (see usable).
func (f *startFilter) findAll(expr string, text []byte) [][]int {
	var buf [32]int
	return f.findAllFrom(expr, text, f.candidates(buf[:0], text))
}

// candidates appends to dst, in order, the starts findAll tries the
// regex at: each literal's start (and the byte before it, with skip)
// that passes the gates. Starts inside a match are dropped later.
func (f *startFilter) candidates(dst []int, text []byte) []int {
	starts := f.m.AppendStarts(dst, text)
	if len(starts) == 0 {
		return starts
	}
	if f.skip > 0 {
		for _, p := range starts {
			// The leading character: ASCII here (see usable), so never
			// the tail of a multi-byte one, which the stand-in context
			// byte would then decode as a whole.
			if p > 0 && text[p-1] < 0x80 {
				starts = append(starts, p-1)
			}
		}
	}
	// Starts come in order of the literals' ends; different lengths can
	// interleave.
	if !sort.IntsAreSorted(starts) {
		sort.Ints(starts)
	}
	out := starts[:0]
	for i, p := range starts {
		if i > 0 && p == starts[i-1] || f.gates != nil && !f.gates.pass(text, p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// findAllFrom is findAll given its candidates.
func (f *startFilter) findAllFrom(expr string, text []byte, starts []int) [][]int {
	if len(starts) == 0 {
		return nil
	}
	var out [][]int
	pos := 0
	for _, p := range starts {
		if p < pos {
			continue
		}
		var loc []int
		if p == 0 && f.begin {
			if loc = f.match(&f.looseAt0, &f.exactAt0, `^(?:`, expr, text); loc == nil {
				continue
			}
		} else {
			var at []byte // the text from one byte before p
			if p == 0 {
				at = make([]byte, 1+len(text))
				at[0] = ' '
				copy(at[1:], text)
			} else {
				at = text[p-1:]
			}
			if loc = f.match(&f.looseCtx, &f.exactCtx, `^(?s:.)(?:`, expr, at); loc == nil {
				continue
			}
			for j := range loc {
				if loc[j] >= 0 {
					loc[j] += p - 1
				}
			}
			loc[0] = p
		}
		out = append(out, loc)
		pos = loc[1]
	}
	return out
}

// match runs the anchored forms (pre) at the start of text: the loose
// form first when there is one, as a filter, or, with bounds, in place of
// the exact regex unless its match broke a bound.
func (f *startFilter) match(loose, exact *lazyRegexp, pre, expr string, text []byte) []int {
	var lre *regexp.Regexp
	if f.loose != "" {
		lre = loose.tryGet(pre, f.loose)
	}
	switch {
	case lre == nil:
	case f.bounds != nil && f.looseGroups(lre).ok:
		loc := lre.FindSubmatchIndex(text)
		if loc == nil {
			return nil
		}
		if g := &f.groups; f.within(text, loc, g.caps) {
			out := make([]int, 2*len(g.keep))
			for i, c := range g.keep {
				out[2*i], out[2*i+1] = loc[2*c], loc[2*c+1]
			}
			return out
		}
	case !lre.Match(text):
		return nil
	}
	return exact.get(pre, expr).FindSubmatchIndex(text)
}

// goLiteralPrefix reports whether Go's regexp has a literal prefix to
// search for (its Prog.Prefix: a case-sensitive literal first, no
// assertion before it).
func goLiteralPrefix(re *syntax.Regexp) bool {
	for {
		switch re.Op {
		case syntax.OpConcat, syntax.OpCapture:
			if len(re.Sub) == 0 {
				return false
			}
			re = re.Sub[0]
			continue
		case syntax.OpLiteral:
			return re.Flags&syntax.FoldCase == 0 && len(re.Rune) >= minPrefixLen
		}
		return false
	}
}

func hasFoldCase(re *syntax.Regexp) bool {
	if re.Flags&syntax.FoldCase != 0 && (re.Op == syntax.OpLiteral || re.Op == syntax.OpCharClass) {
		return true
	}
	for _, s := range re.Sub {
		if hasFoldCase(s) {
			return true
		}
	}
	return false
}

func hasBeginAnchor(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText:
		return true
	}
	for _, s := range re.Sub {
		if hasBeginAnchor(s) {
			return true
		}
	}
	return false
}

// lit is a literal prefix; exact says it is a whole match of the
// expression it came from, so what follows in a concatenation extends it.
type lit struct {
	s     string
	exact bool
}

// prefixLits returns a set of ASCII strings, lower-cased, one of which
// starts every match of re (compared ignoring case; see startFilter.fold).
// A set holding "" says nothing.
func prefixLits(re *syntax.Regexp) []lit {
	none := []lit{{"", false}}
	empty := []lit{{"", true}}
	switch re.Op {
	case syntax.OpLiteral:
		var b []byte
		for _, r := range re.Rune {
			if r >= 0x80 || len(b) == maxPrefixLen {
				// The part before still starts every match.
				return []lit{{string(b), false}}
			}
			b = append(b, lowerASCII(byte(r)))
		}
		return []lit{{string(b), true}}
	case syntax.OpCharClass:
		var set []lit
		seen := map[byte]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo >= 0x80 {
				if (lo == 0x17f || lo == 0x212a) && hi == lo {
					// Folds of s and k (see startFilter.fold).
					continue
				}
				return none
			}
			if hi >= 0x80 || hi-lo > 16 {
				return none
			}
			for c := lo; c <= hi; c++ {
				if lc := lowerASCII(byte(c)); !seen[lc] {
					seen[lc] = true
					set = append(set, lit{string(lc), true})
				}
			}
		}
		if len(set) == 0 || len(set) > 16 {
			return none
		}
		return set
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return empty
	case syntax.OpCapture:
		return prefixLits(re.Sub[0])
	case syntax.OpQuest:
		return union(prefixLits(re.Sub[0]), empty)
	case syntax.OpPlus:
		return inexact(prefixLits(re.Sub[0]))
	case syntax.OpRepeat:
		if re.Min == 0 {
			return none
		}
		s := prefixLits(re.Sub[0])
		if re.Min == 1 && re.Max == 1 {
			return s
		}
		return inexact(s)
	case syntax.OpConcat:
		acc := empty
		for _, sub := range re.Sub {
			if !anyExact(acc) {
				break
			}
			next, ok := extend(acc, prefixLits(sub))
			if !ok {
				return inexact(acc)
			}
			acc = next
		}
		return acc
	case syntax.OpAlternate:
		var acc []lit
		for _, sub := range re.Sub {
			acc = union(acc, prefixLits(sub))
		}
		if len(acc) > maxPrefixSet {
			return none
		}
		return acc
	}
	return none
}

func anyExact(set []lit) bool {
	for _, l := range set {
		if l.exact {
			return true
		}
	}
	return false
}

func inexact(set []lit) []lit {
	out := make([]lit, len(set))
	for i, l := range set {
		out[i] = lit{l.s, false}
	}
	return out
}

// extend appends each of next to each exact literal of acc (inexact ones
// stay as they are); false when the set would grow past maxPrefixSet.
func extend(acc, next []lit) ([]lit, bool) {
	var out []lit
	for _, a := range acc {
		if !a.exact {
			out = append(out, a)
			continue
		}
		for _, b := range next {
			l := lit{a.s + b.s, b.exact}
			if len(l.s) > maxPrefixLen {
				l = lit{l.s[:maxPrefixLen], false}
			}
			out = append(out, l)
		}
		if len(out) > maxPrefixSet {
			return nil, false
		}
	}
	return union(nil, out), true
}

// union merges literal sets; a string both exact and not is kept inexact.
func union(a, b []lit) []lit {
	idx := map[string]int{}
	var out []lit
	for _, l := range append(append([]lit(nil), a...), b...) {
		if i, ok := idx[l.s]; ok {
			out[i].exact = out[i].exact && l.exact
			continue
		}
		idx[l.s] = len(out)
		out = append(out, l)
	}
	return out
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
