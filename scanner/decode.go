package scanner

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// Secrets hide in encoded text: Kubernetes Secret data and
// .dockerconfigjson are base64, URLs percent-encode, JSON escapes \u.
// The decoder finds candidate encoded words in a window, decodes the ones
// that turn into text, and scans that text with all rules, recursively up
// to a depth. Findings point at the encoded word's place in the original.

const minEncodedLen = 16

// wordDelim marks bytes that end an encoded word.
var wordDelim = func() (t [256]bool) {
	for _, c := range " \t\r\n\"'`,;:=()[]{}<>|" {
		t[c] = true
	}
	return t
}()

var b64Char = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['+'], t['/'], t['-'], t['_'] = true, true, true, true
	return t
}()

// encodedWord is a candidate span [start,end) in a buffer.
type encodedWord struct {
	start, end int
}

// decodeWord decodes one word if it is in an encoding we know and the
// result looks like text. It returns the kind ("base64", "hex",
// "percent", "unicode") or "" when the word is not worth scanning.
func decodeWord(w []byte) ([]byte, string) {
	hasPct, hasEsc, b64, hexOnly := false, false, true, true
	for i, c := range w {
		switch {
		case c == '%' && i+2 < len(w) && isHex(w[i+1]) && isHex(w[i+2]):
			hasPct = true
		case c == '\\' && i+1 < len(w) && (w[i+1] == 'u' || w[i+1] == 'x'):
			hasEsc = true
		}
		if !b64Char[c] && !(c == '=' && i >= len(w)-2) {
			b64 = false
		}
		if !isHex(c) {
			hexOnly = false
		}
	}
	switch {
	case hasEsc:
		if s, err := strconv.Unquote(`"` + string(w) + `"`); err == nil && s != string(w) {
			return []byte(s), "unicode"
		}
	case hasPct:
		if s, err := url.PathUnescape(string(w)); err == nil && s != string(w) {
			return []byte(s), "percent"
		}
	case hexOnly && len(w) >= 32 && len(w)%2 == 0:
		var head [4]byte
		if _, err := hex.Decode(head[:], w[:8]); err != nil || !looksTextPrefix(head[:]) {
			return nil, ""
		}
		dec := make([]byte, len(w)/2)
		if _, err := hex.Decode(dec, w); err == nil && looksText(dec) {
			return dec, "hex"
		}
	case b64 && len(w) >= minEncodedLen:
		if dec := decodeB64(w); dec != nil && looksText(dec) {
			return dec, "base64"
		}
	}
	return nil, ""
}

func decodeB64(w []byte) []byte {
	// Most long words in code are identifiers, not base64: decoding the
	// first 8 characters rejects them without allocating.
	var head [6]byte
	if _, err := base64.RawStdEncoding.Decode(head[:], w[:8]); err != nil {
		if _, err := base64.RawURLEncoding.Decode(head[:], w[:8]); err != nil {
			return nil
		}
	}
	if !looksTextPrefix(head[:]) {
		return nil
	}
	s := string(w)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if dec, err := enc.DecodeString(s); err == nil {
			return dec
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// looksText accepts decoded bytes that are nearly all printable UTF-8:
// random bytes (hashes, ciphertext, images) fail fast.
func looksText(b []byte) bool {
	if len(b) < 8 || !utf8.Valid(b) {
		return false
	}
	bad := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			bad++
		}
	}
	return bad*20 <= len(b)
}

// looksTextPrefix is looksText for a few bytes: printable ASCII only.
func looksTextPrefix(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c >= 0x7f) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// encodedWords calls fn for each word in data[from:to] worth trying to
// decode: runs of base64/hex characters of at least minEncodedLen bounded
// by delimiters, and words holding a '%' or '\\' escape. This runs over
// every byte scanned, so the base64 pass is a tight table loop and the
// escape passes jump between '%'/'\\' bytes with IndexByte.
func encodedWords(data []byte, from, to int, fn func(s, e int)) {
	b64, delim := &b64Char, &wordDelim
	// A run of minEncodedLen (16) or more base64 bytes covers two sample
	// points 8 bytes apart, so most of the text is stepped over 8 bytes
	// at a time and only runs that could be long enough are walked.
	const stride = minEncodedLen / 2
	for p := from; p < to; {
		if p+stride >= len(data) || !b64[data[p+stride]] || !b64[data[p]] ||
			!b64[data[p+4]] || !b64[data[p+2]] || !b64[data[p+6]] {
			// Every byte from p to p+stride is in a long enough run, so
			// sampling a few between rejects most spans of short words.
			p += stride
			continue
		}
		s := p
		for s > 0 && b64[data[s-1]] {
			s--
		}
		i := p
		for i < len(data) && b64[data[i]] {
			i++
		}
		e := i
		for e < len(data) && e-i < 2 && data[e] == '=' {
			e++
		}
		if s >= from && e-s >= minEncodedLen && (s == 0 || delim[data[s-1]]) && (e == len(data) || delim[data[e]]) {
			fn(s, e)
		}
		p = e + 1
	}
	for _, esc := range []byte{'%', '\\'} {
		for i := from; i < to; {
			j := bytes.IndexByte(data[i:to], esc)
			if j < 0 {
				break
			}
			j += i
			s := j
			for s > 0 && !wordDelim[data[s-1]] {
				s--
			}
			e := j
			for e < len(data) && !wordDelim[data[e]] {
				e++
			}
			if e-s >= 6 && s >= from {
				fn(s, e)
			}
			i = e + 1
		}
	}
}

// scanDecoded finds and scans encoded words in data[from:to], recursing
// into decoded text while depth allows. Matches are placed at the encoded
// word (offsets relative to data).
func (w *Worker) scanDecoded(data []byte, from, to, depth int, chain string, delta *deltaState) []rawMatch {
	if depth <= 0 {
		return nil
	}
	var out []rawMatch
	visit := func(start, end int) {
		ew := encodedWord{start, end}
		if delta != nil {
			if delta.unchanged(start-1, end+1) {
				return
			}
			delta.note(-1, start, end)
		}
		dec, kind := decodeWord(data[ew.start:ew.end])
		if kind == "" {
			return
		}
		label := kind
		if chain != "" {
			label = chain + ">" + kind
		}
		found := w.matchRules(dec, 0, len(dec), nil)
		found = append(found, w.scanDecoded(dec, 0, len(dec), depth-1, label, nil)...)
		for _, m := range found {
			if m.decoded == "" {
				m.decoded = label
			}
			m.start, m.sec = int64(ew.start), int64(ew.start)
			m.span = ew.end - ew.start
			out = append(out, m)
		}
	}
	if delta == nil {
		encodedWords(data, from, to, visit)
		return out
	}
	// A delta item: a word inside the deep of an unchanged span (its
	// delimiters too) is skipped anyway, so only the words that meet a
	// near range are looked for, each range widened to whole tokens.
	isTok := func(c byte) bool { return !wordDelim[c] || c == '=' }
	prev := from
	for _, r := range delta.near(2) {
		a, b := r.Start, r.End
		for a > prev && isTok(data[a-1]) {
			a--
		}
		for b < to && isTok(data[b]) {
			b++
		}
		a, b = max(a, prev), min(b, to)
		if a < b {
			encodedWords(data, a, b, visit)
			prev = b
		}
	}
	return out
}
