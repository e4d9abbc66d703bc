package kwmatch

import (
	"bytes"
	"strings"
)

// one finds a single keyword: it searches for one of the keyword's bytes
// with bytes.IndexByte (vectorised), in both cases for a letter, and
// compares the keyword around each occurrence. Most rules' start filters
// (rules/prefix.go) are a single literal run over a few hundred bytes at
// a time; there the small index and the DFA cost a lookup per byte.
type one struct {
	kw     string // lower-cased
	at     int    // offset in kw of the byte searched for
	lo, up byte   // that byte in lower and upper case (equal for a non-letter)
}

// rarity orders the lower-case letters from most to least frequent in
// source code and prose; the searched byte is the keyword's rarest, so
// that few occurrences need comparing. Any byte that is not a letter is
// searched for first: one IndexByte pass instead of two.
const rarity = "etaoinsrlcdhupmfgybwvkxjqz"

func newOne(kw string) *one {
	low := make([]byte, len(kw))
	for i := 0; i < len(kw); i++ {
		low[i] = lower(kw[i])
	}
	o := &one{kw: string(low)}
	best := -1
	for i, c := range low {
		r := 100 // not a letter
		if c >= 'a' && c <= 'z' {
			r = strings.IndexByte(rarity, c)
		}
		if r > best {
			best, o.at = r, i
		}
	}
	o.lo, o.up = low[o.at], low[o.at]
	if o.lo >= 'a' && o.lo <= 'z' {
		o.up = o.lo - 'a' + 'A'
	}
	return o
}

// each calls fn with the start of every occurrence of the keyword in
// text, overlapping ones included, in order.
func (o *one) each(text []byte, fn func(start int)) {
	n := len(o.kw)
	if n == 0 || len(text) < n {
		return
	}
	// The searched byte of an occurrence starting at s is at s+at, for s
	// from 0 to len(text)-n.
	from, to := o.at, len(text)-n+o.at+1
	next := func(c byte, p int) int {
		if p >= to {
			return -1
		}
		i := bytes.IndexByte(text[p:to], c)
		if i < 0 {
			return -1
		}
		return p + i
	}
	lo, up := next(o.lo, from), -1
	if o.up != o.lo {
		up = next(o.up, from)
	}
	for lo >= 0 || up >= 0 {
		var p int
		if up < 0 || lo >= 0 && lo < up {
			p, lo = lo, next(o.lo, lo+1)
		} else {
			p, up = up, next(o.up, up+1)
		}
		s := p - o.at
		if o.matchAt(text[s : s+n]) {
			fn(s)
		}
	}
}

func (o *one) matchAt(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != o.kw[i] {
			return false
		}
	}
	return true
}
