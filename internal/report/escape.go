package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Everything a report prints from scanned content (paths, commit subjects,
// authors, matched text) or from a user's config (rule ids, descriptions)
// may have been written by an attacker. These helpers make such a field
// safe for one output format; every writer, here and in other packages,
// passes such fields through the one for its format.

// TerminalSafe makes s safe to print on a terminal: C0 and C1 control
// characters (ESC included), DEL, Unicode bidi overrides and line
// separators, and bytes that are not UTF-8 are shown as visible escapes
// (\x1b, \n, \t, \u202e, \xff) instead of reaching the terminal, so a file
// name cannot clear the screen, recolour, retitle or reorder what follows.
// Safe strings are returned unchanged without allocating.
func TerminalSafe(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if needsTerminalEscape(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !needsTerminalEscape(r, size) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		switch {
		case r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

func needsTerminalEscape(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size <= 1: // invalid UTF-8 byte
		return true
	case r < 0x20 || r == 0x7f: // C0, ESC, DEL
		return true
	case r >= 0x80 && r <= 0x9f: // C1 (CSI is 0x9b)
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c: // bidi
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// CSVCell neutralises a CSV cell against formula injection, following
// OWASP's CSV Injection guidance: a cell beginning with =, +, -, @, tab
// or carriage return is prefixed with a single quote so a spreadsheet
// shows it as text instead of evaluating it. (Quoting of separators and
// quotes is encoding/csv's job.)
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// TerminalSafeLines is TerminalSafe for multi-line messages (joined
// errors): line breaks are kept, every other control is escaped.
func TerminalSafeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = TerminalSafe(l)
	}
	return strings.Join(lines, "\n")
}
