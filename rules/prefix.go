package rules

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"sort"
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

	once sync.Once
	// withCtx is ^(?s:.)(?:regex), run from one byte before a start so \b
	// and \B see the real preceding character (a space stands in for it
	// at the text's first byte, where \b sees the start of text).
	withCtx *regexp.Regexp
}

// newStartFilter returns nil when the regex has no usable literal prefix
// set, or when Go's regexp already skips ahead to a literal prefix.
func newStartFilter(parsed *syntax.Regexp) *startFilter {
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
	return &startFilter{lits: set, m: kwmatch.New(set), fold: hasFoldCase(parsed)}
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
	f.once.Do(func() {
		// The rule's own regex compiles (its tests check), so this does.
		f.withCtx = regexp.MustCompile(`^(?s:.)(?:` + expr + `)`)
	})
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
		var loc []int
		if p == 0 {
			ctx := make([]byte, 1+len(text))
			ctx[0] = ' '
			copy(ctx[1:], text)
			loc = f.withCtx.FindSubmatchIndex(ctx)
		} else {
			loc = f.withCtx.FindSubmatchIndex(text[p-1:])
		}
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
