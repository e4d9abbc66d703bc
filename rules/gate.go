package rules

import (
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// # Gates: a byte-level test before the anchored regex
//
// A start the literal search finds is only a candidate: for the
// keyword-context rules most are a key name in prose or in an identifier
// (`// the secret is rotated`, `func validateToken(`), and the anchored
// regex, run by Go's backtracker at some tens of nanoseconds a step, takes
// ~1 µs to say no. On gitleaks' history 79% of generic-secret-assignment's
// 24,000 anchored runs failed.
//
// Many of those regexes read, from the start, characters of a few classes
// (the key name, [\w.-]*, quotes, blanks) until an element that cannot
// begin with any of them and must consume something (the operator: =, :,
// !, ,). Every match then has that shape on the text: from the start, the
// longest run of bytes of those classes, then a byte that element can
// begin with. A start that fails this cannot match, and checking it is a
// table lookup per byte. A gate is that condition for one top-level
// alternative of the regex; a start passes a rule's gates when it passes
// one of them (or the rule has an alternative without a gate: no
// filtering then).

// byteSet is a set of bytes. Characters beyond ASCII are not tracked one
// by one: a set that may hold any of them holds every byte from 0x80.
type byteSet [4]uint64

func (s byteSet) with(b byte) byteSet { s.add(b); return s }
func (s *byteSet) add(b byte)         { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool    { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) union(o byteSet) {
	s[0], s[1], s[2], s[3] = s[0]|o[0], s[1]|o[1], s[2]|o[2], s[3]|o[3]
}
func (s byteSet) meets(o byteSet) bool { return s[0]&o[0]|s[1]&o[1]|s[2]&o[2]|s[3]&o[3] != 0 }
func (s byteSet) empty() bool          { return s == byteSet{} }
func (s *byteSet) addHigh()            { s[2], s[3] = ^uint64(0), ^uint64(0) }
func (s *byteSet) addRange(lo, hi rune) { // inclusive
	for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
		s.add(byte(r))
	}
	if hi >= utf8.RuneSelf {
		s.addHigh()
	}
}

// addFold adds r and, when fold is set, every rune that case-folds to it.
func (s *byteSet) addFold(r rune, fold bool) {
	s.addRange(r, r)
	if !fold {
		return
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		s.addRange(f, f)
	}
}

// cond is a necessary condition for a match at a start: from it, the
// longest run of bytes in run, then a byte in next.
type cond struct {
	run, next byteSet
	// then narrows some bytes of next: after that byte the stop must go
	// on with one of these (`,` must be followed by a blank or the w of
	// `, with:`).
	then []follow
}

type follow struct {
	b   byte
	set byteSet
}

func (c *cond) pass(text []byte, p int) bool {
	for p < len(text) && c.run.has(text[p]) {
		p++
	}
	if p >= len(text) || !c.next.has(text[p]) {
		return false
	}
	for _, f := range c.then {
		if f.b == text[p] {
			return p+1 < len(text) && f.set.has(text[p+1])
		}
	}
	return true
}

// gate is one top-level alternative's conditions: a match of it meets
// them all.
type gate []cond

func (g gate) pass(text []byte, p int) bool {
	for i := range g {
		if !g[i].pass(text, p) {
			return false
		}
	}
	return true
}

// gates is a rule's gates, one per top-level alternative.
type gates []gate

func (gs gates) pass(text []byte, p int) bool {
	for _, g := range gs {
		if g.pass(text, p) {
			return true
		}
	}
	return false
}

// newGates derives the gates of re, nil when some top-level alternative
// has none.
func newGates(re *syntax.Regexp) gates {
	var gs gates
	for _, a := range parts(re, syntax.OpAlternate) {
		g := gateOf(a)
		if len(g) == 0 {
			return nil
		}
		gs = append(gs, g)
	}
	return gs
}

// gateOf walks the elements of a concatenation in order, gathering the
// bytes they may consume. Each element that must consume a byte and
// cannot begin with any byte before it (a stop) gives a condition: the
// run of bytes the elements before it may consume, then one it may
// begin with. The walk ends at the first element it cannot describe.
func gateOf(re *syntax.Regexp) gate {
	elems := parts(re, syntax.OpConcat)
	// A literal is a run of elements of one character each: "pass=" has
	// a stop at its "=".
	var flat []*syntax.Regexp
	for _, e := range elems {
		if e.Op != syntax.OpLiteral || len(e.Rune) < 2 {
			flat = append(flat, e)
			continue
		}
		for i := range e.Rune {
			flat = append(flat, &syntax.Regexp{Op: syntax.OpLiteral, Flags: e.Flags, Rune: e.Rune[i : i+1]})
		}
	}
	var run byteSet
	var g gate
	for _, e := range flat {
		d, ok := describe(e)
		if !ok {
			break
		}
		if !d.nullable && !d.first.empty() && !run.empty() && !d.first.meets(run) {
			g = append(g, cond{run: run, next: d.first, then: thens(e, d.first)})
		}
		run.union(d.chars)
	}
	return g
}

// parts returns the subexpressions of re, inside any groups, if it is
// an op (alternatives, or the elements of a concatenation), else re.
func parts(re *syntax.Regexp, op syntax.Op) []*syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op == op {
		return re.Sub
	}
	return []*syntax.Regexp{re}
}

// desc is what gateOf needs of a sub-expression: every byte it may
// consume, the bytes it may begin with, and whether it may match empty.
type desc struct {
	chars, first byteSet
	nullable     bool
}

// describe returns re's desc, false for what it does not handle.
func describe(re *syntax.Regexp) (desc, bool) {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return desc{nullable: true}, true
	case syntax.OpLiteral:
		var d desc
		for i, r := range re.Rune {
			d.chars.addFold(r, fold)
			if i == 0 {
				d.first.addFold(r, fold)
			}
		}
		d.nullable = len(re.Rune) == 0
		return d, true
	case syntax.OpCharClass:
		var d desc
		for i := 0; i+1 < len(re.Rune); i += 2 {
			d.chars.addRange(re.Rune[i], re.Rune[i+1])
		}
		d.first = d.chars
		return d, true
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		var d desc
		d.chars.addRange(0, unicode.MaxRune)
		if re.Op == syntax.OpAnyCharNotNL {
			d.chars[0] &^= 1 << '\n'
		}
		d.first = d.chars
		return d, true
	case syntax.OpCapture:
		return describe(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest, syntax.OpPlus, syntax.OpRepeat:
		d, ok := describe(re.Sub[0])
		if !ok {
			return desc{}, false
		}
		if re.Op == syntax.OpRepeat && re.Max == 0 {
			return desc{nullable: true}, true
		}
		if re.Op == syntax.OpStar || re.Op == syntax.OpQuest || re.Op == syntax.OpRepeat && re.Min == 0 {
			d.nullable = true
		}
		return d, true
	case syntax.OpConcat:
		d := desc{nullable: true}
		for _, s := range re.Sub {
			sd, ok := describe(s)
			if !ok {
				return desc{}, false
			}
			d.chars.union(sd.chars)
			if d.nullable {
				d.first.union(sd.first)
			}
			d.nullable = d.nullable && sd.nullable
		}
		return d, true
	case syntax.OpAlternate:
		var d desc
		for _, s := range re.Sub {
			sd, ok := describe(s)
			if !ok {
				return desc{}, false
			}
			d.chars.union(sd.chars)
			d.first.union(sd.first)
			d.nullable = d.nullable || sd.nullable
		}
		return d, true
	}
	return desc{}, false
}

// thens lists, for each ASCII byte of first that e can begin with, what e
// must consume next, where e cannot end after that byte alone.
func thens(e *syntax.Regexp, first byteSet) []follow {
	var out []follow
	for b := 0; b < utf8.RuneSelf; b++ {
		if !first.has(byte(b)) {
			continue
		}
		set, end, ok := after(e, byte(b))
		if ok && !end && !set.empty() {
			out = append(out, follow{byte(b), set})
		}
	}
	return out
}

// after returns the bytes re may consume right after consuming b first,
// and whether re may end right after b; ok is false when it cannot tell
// (the caller then asks nothing of the next byte). b is ASCII.
func after(re *syntax.Regexp, b byte) (next byteSet, end, ok bool) {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return next, false, true
		}
		var f byteSet
		f.addFold(re.Rune[0], fold)
		if !f.has(b) {
			return next, false, true
		}
		if len(re.Rune) == 1 {
			return next, true, true
		}
		next.addFold(re.Rune[1], fold)
		return next, false, true
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		d, _ := describe(re)
		return next, d.first.has(b), true
	case syntax.OpCapture:
		return after(re.Sub[0], b)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		n, e, ok := after(re.Sub[0], b)
		if !ok {
			return next, false, false
		}
		more := re.Op == syntax.OpStar || re.Op == syntax.OpPlus || re.Op == syntax.OpRepeat && (re.Max < 0 || re.Max > 1)
		if re.Op == syntax.OpRepeat && re.Max == 0 {
			return next, false, true
		}
		if e && more {
			d, ok := describe(re.Sub[0])
			if !ok {
				return next, false, false
			}
			n.union(d.first)
		}
		mustMore := re.Op == syntax.OpRepeat && re.Min > 1
		return n, e && !mustMore, true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			n, e, ok := after(s, b)
			if !ok {
				return next, false, false
			}
			next.union(n)
			end = end || e
		}
		return next, end, true
	case syntax.OpConcat:
		// b is consumed by the first element that consumes anything:
		// any of a nullable prefix.
		for i, s := range re.Sub {
			n, e, ok := after(s, b)
			if !ok {
				return next, false, false
			}
			next.union(n)
			if e {
				// What follows s: the first bytes of the rest, up to
				// one that must consume; all nullable means re may end.
				restNull := true
				for _, r := range re.Sub[i+1:] {
					d, ok := describe(r)
					if !ok {
						return next, false, false
					}
					next.union(d.first)
					if !d.nullable {
						restNull = false
						break
					}
				}
				end = end || restNull
			}
			d, ok := describe(s)
			if !ok {
				return next, false, false
			}
			if !d.nullable {
				break
			}
		}
		return next, end, true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return next, false, true
	}
	return next, false, false
}
