package rules

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"sync"

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

	// loose is the regex with its long counted repetitions (x{1,300},
	// x{20,1000}) opened up, "" when it has none. Go's regexp compiles
	// x{n,m} into m copies of x: thousands of instructions, an NFA
	// instead of the backtracker, and machines sized to match. The loose
	// form matches wherever the rule's regex does, so a start it rejects
	// needs no further look, and the exact regex is compiled only for
	// rules whose loose form ever passes (few, on most trees).
	loose     string
	looseOnce sync.Once
	looseRe   *regexp.Regexp

	once sync.Once
	// withCtx is ^(?s:.)(?:regex), run from one byte before a start so \b
	// and \B see the real preceding character (a space stands in for it
	// at the text's first byte, where \b sees the start of text).
	withCtx *regexp.Regexp
}

// newStartFilter returns nil when the regex has no usable literal prefix
// set, or when Go's regexp already skips ahead to a literal prefix.
func newStartFilter(expr string, parsed *syntax.Regexp) *startFilter {
	if goLiteralPrefix(parsed) {
		return nil
	}
	if hasBeginAnchor(parsed) {
		// ^ would mean something else at a start inside the text.
		return nil
	}
	set, _ := prefixLits(parsed)
	if len(set) == 0 || len(set) > maxPrefixSet {
		return nil
	}
	for _, s := range set {
		if len(s) < minPrefixLen {
			return nil
		}
	}
	sort.Strings(set)
	f := &startFilter{lits: set, m: kwmatch.New(set), fold: hasFoldCase(parsed)}
	if l := loosen(expr); l != "" {
		if _, err := syntax.Parse(l, syntax.Perl); err == nil {
			f.loose = l
		}
	}
	return f
}

// Repetitions with bounds above maxExactRepeat are opened up in the loose
// form: x{n,m} becomes x{min(n,looseMin),}, which accepts every count
// x{n,m} does.
const (
	maxExactRepeat = 16
	looseMin       = 8
)

// loosen rewrites the counted repetitions of expr as described above,
// returning "" when there are none. It works on the text (syntax's
// String is slow enough to show in start-up): escapes, character
// classes and \p{...} are skipped, and any {...} that is not a plain
// n, n, or n,m count is left alone, as the parser leaves it a literal.
func loosen(expr string) string {
	var b strings.Builder
	changed := false
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\\':
			// An escape: \p{Greek}, \x{41} and \Q...\E included.
			j := i + 2
			if j <= len(expr) && (expr[i+1] == 'p' || expr[i+1] == 'P' || expr[i+1] == 'x') && j < len(expr) && expr[j] == '{' {
				if k := strings.IndexByte(expr[j:], '}'); k >= 0 {
					j += k + 1
				}
			} else if j <= len(expr) && expr[i+1] == 'Q' {
				if k := strings.Index(expr[j:], `\E`); k >= 0 {
					j += k + 2
				} else {
					j = len(expr)
				}
			}
			j = min(j, len(expr))
			b.WriteString(expr[i:j])
			i = j
		case c == '[':
			j := classEnd(expr, i)
			b.WriteString(expr[i:j])
			i = j
		case c == '{':
			n, m, j, ok := parseCount(expr, i)
			if ok && (m > maxExactRepeat || n > maxExactRepeat || m < 0 && n > looseMin) {
				b.WriteString("{" + strconv.Itoa(min(n, looseMin)) + ",}")
				changed = true
			} else {
				b.WriteString(expr[i:j])
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	if !changed {
		return ""
	}
	return b.String()
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
	return !f.fold || !bytes.Contains(text, foldS) && !bytes.Contains(text, foldK)
}

var (
	foldS = []byte("\u017f")
	foldK = []byte("\u212a")
)

// findAll is the regex's FindAllSubmatchIndex(text, -1) (see usable).
func (f *startFilter) findAll(expr string, text []byte) [][]int {
	var buf [32]int
	starts := f.m.AppendStarts(buf[:0], text)
	if len(starts) == 0 {
		return nil
	}
	if f.loose != "" {
		f.looseOnce.Do(func() {
			f.looseRe = regexp.MustCompile(`^(?s:.)(?:` + f.loose + `)`)
		})
	}
	// Starts come in order of the literals' ends; different lengths can
	// interleave.
	if !sort.IntsAreSorted(starts) {
		sort.Ints(starts)
	}
	var out [][]int
	pos := 0
	for i, p := range starts {
		if p < pos || i > 0 && p == starts[i-1] {
			continue
		}
		var at []byte // the text from one byte before p
		if p == 0 {
			at = make([]byte, 1+len(text))
			at[0] = ' '
			copy(at[1:], text)
		} else {
			at = text[p-1:]
		}
		if f.looseRe != nil && !f.looseRe.Match(at) {
			continue
		}
		f.once.Do(func() {
			// The rule's own regex compiles (its tests check), so
			// this does.
			f.withCtx = regexp.MustCompile(`^(?s:.)(?:` + expr + `)`)
		})
		loc := f.withCtx.FindSubmatchIndex(at)
		if loc == nil {
			continue
		}
		for j := range loc {
			if loc[j] >= 0 {
				loc[j] += p - 1
			}
		}
		loc[0] = p
		out = append(out, loc)
		pos = loc[1]
	}
	return out
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

// prefixLits returns a set of ASCII strings, lower-cased, one of which
// starts every match of re on ASCII text (compared ignoring case), and
// whether each is a whole match of re (so a concatenation may extend it).
// A set holding "" says nothing.
func prefixLits(re *syntax.Regexp) ([]string, bool) {
	none := []string{""}
	switch re.Op {
	case syntax.OpLiteral:
		var b []byte
		for _, r := range re.Rune {
			if r >= 0x80 {
				// The part before still starts every match.
				return []string{string(b)}, false
			}
			if len(b) == maxPrefixLen {
				return []string{string(b)}, false
			}
			b = append(b, lowerASCII(byte(r)))
		}
		return []string{string(b)}, true
	case syntax.OpCharClass:
		var set []string
		seen := map[byte]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo >= 0x80 {
				if (lo == 0x17f || lo == 0x212a) && hi == lo {
					// Folds of s and k (see startFilter.fold).
					continue
				}
				return none, false
			}
			if hi >= 0x80 || hi-lo > 16 {
				return none, false
			}
			for c := lo; c <= hi; c++ {
				if lc := lowerASCII(byte(c)); !seen[lc] {
					seen[lc] = true
					set = append(set, string(lc))
				}
			}
		}
		if len(set) == 0 || len(set) > 16 {
			return none, false
		}
		return set, true
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return none, true
	case syntax.OpCapture:
		return prefixLits(re.Sub[0])
	case syntax.OpQuest:
		s, exact := prefixLits(re.Sub[0])
		return union(s, none), exact
	case syntax.OpPlus:
		s, _ := prefixLits(re.Sub[0])
		return s, false
	case syntax.OpRepeat:
		if re.Min == 0 {
			return none, false
		}
		s, exact := prefixLits(re.Sub[0])
		return s, exact && re.Min == 1 && re.Max == 1
	case syntax.OpConcat:
		acc, exact := none, true
		for _, sub := range re.Sub {
			if !exact {
				break
			}
			s, e := prefixLits(sub)
			next, ok := cross(acc, s)
			if !ok {
				return acc, false
			}
			acc, exact = next, e
			for i, x := range acc {
				if len(x) > maxPrefixLen {
					acc[i], exact = x[:maxPrefixLen], false
				}
			}
		}
		return dedupe(acc), exact
	case syntax.OpAlternate:
		var acc []string
		exact := true
		for _, sub := range re.Sub {
			s, e := prefixLits(sub)
			acc = union(acc, s)
			exact = exact && e
		}
		if len(acc) > maxPrefixSet {
			return none, false
		}
		return acc, exact
	}
	return none, false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func cross(a, b []string) ([]string, bool) {
	if len(a)*len(b) > maxPrefixSet {
		return nil, false
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out, true
}

func union(a, b []string) []string { return dedupe(append(append([]string(nil), a...), b...)) }

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
