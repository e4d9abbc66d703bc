package rules

import (
	"bytes"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// # Required literals
//
// Many rules name a provider and a kind of secret in one pattern, e.g.
// (?i:github)...(?i:secret)...: the keyword (github) triggers the regex on
// every line that mentions the provider, most of which hold no "secret" at
// all. A literal that every match must contain (it sits in the regex's
// top-level concatenation, not under an alternation or an optional part)
// is looked for first, and text without it has no match. 98 of the 863
// built-in rules have one besides their keywords; on a Go import line
// github-oauth-client-secret went from 1,137 ns to 126 ns, and a scan of
// gitleaks' history took about 5% less CPU time.

// needLit is the literal a match must contain; fold: ASCII letters match
// either case, as under (?i).
type needLit struct {
	lit  []byte // lower-cased when fold
	fold bool
}

// minNeedLen is the shortest literal worth a check: shorter ones are in
// most lines anyway.
const minNeedLen = 4

// newNeed returns the longest ASCII literal every match of re contains
// that is not one of the rule's keywords (lower case; the keyword hit
// that triggered the regex already holds those), or nil.
func newNeed(re *syntax.Regexp, keywords []string) *needLit {
	var best *needLit
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			// Each run of ASCII in the literal is a candidate.
			fold := re.Flags&syntax.FoldCase != 0
			var b []byte
			take := func() {
				if len(b) >= minNeedLen && (best == nil || len(b) > len(best.lit)) && !isKeyword(b, keywords) {
					best = &needLit{lit: b, fold: fold}
				}
				b = nil
			}
			for _, c := range re.Rune {
				if c >= utf8.RuneSelf {
					take()
					continue
				}
				if fold && 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b = append(b, byte(c))
			}
			take()
		case syntax.OpConcat:
			for _, s := range re.Sub {
				walk(s)
			}
		case syntax.OpCapture, syntax.OpPlus:
			walk(re.Sub[0])
		case syntax.OpRepeat:
			if re.Min >= 1 {
				walk(re.Sub[0])
			}
		}
	}
	walk(re)
	return best
}

// in reports whether text may hold a match: whether it contains the
// literal. Under (?i) Go's regexp also folds U+017F (ſ) to s and U+212A
// (Kelvin sign) to k, so text with bytes outside ASCII is not ruled out.
func (n *needLit) in(text []byte) bool {
	if !n.fold {
		return bytes.Contains(text, n.lit)
	}
	first := n.lit[0]
	other := first
	if 'a' <= first && first <= 'z' {
		other = first - 'a' + 'A'
	}
	for i := 0; i+len(n.lit) <= len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			return true
		}
		if c != first && c != other {
			continue
		}
		if equalFold(text[i:i+len(n.lit)], n.lit) {
			return true
		}
	}
	for _, c := range text[max(0, len(text)-len(n.lit)+1):] {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// equalFold compares ASCII text with a lower-case literal, ignoring case.
func equalFold(text, lower []byte) bool {
	for i, c := range text {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// isKeyword reports whether lit (lower case unless it is case-sensitive)
// is a keyword or part of one.
func isKeyword(lit []byte, keywords []string) bool {
	for _, k := range keywords {
		if strings.Contains(strings.ToLower(k), strings.ToLower(string(lit))) {
			return true
		}
	}
	return false
}
