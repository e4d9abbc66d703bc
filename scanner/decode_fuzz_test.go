package scanner

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets for the decoders. Each round-trips arbitrary text through
// one encoding and checks decodeWord gives the text back (or declines),
// and never panics on arbitrary words.

func decodeSeeds(f *testing.F) {
	for _, s := range []string{
		"", "a", "token=tkn_0123456789abcdefABCDEF0123456789",
		"password: hunter2hunter2", "\x00\x01\x02\xff\xfe", "é€😀 unicode text here",
		`quote " and \ backslash`, "%zz%41%", "\\u00", "\\x4", strings.Repeat("=", 20),
	} {
		f.Add([]byte(s))
	}
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func FuzzDecodeBase64(f *testing.F) {
	decodeSeeds(f)
	f.Fuzz(func(t *testing.T, s []byte) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			w := enc.EncodeToString(s)
			dec, kind := decodeWord([]byte(w))
			switch {
			case kind == "base64" && !bytes.Equal(dec, s):
				t.Fatalf("%q decoded to %q, want %q", w, dec, s)
			case kind == "" && len(w) >= minEncodedLen && len(s) >= 6 && looksText(s) &&
				looksTextPrefix(s[:6]) && !allHex(w):
				t.Fatalf("text %q encoded as %q was not decoded", s, w)
			}
		}
	})
}

func FuzzDecodeHex(f *testing.F) {
	decodeSeeds(f)
	f.Fuzz(func(t *testing.T, s []byte) {
		w := hex.EncodeToString(s)
		dec, kind := decodeWord([]byte(w))
		if kind == "hex" && !bytes.Equal(dec, s) {
			t.Fatalf("%q decoded to %q, want %q", w, dec, s)
		}
		if kind == "" && len(w) >= 32 && looksText(s) && looksTextPrefix(s[:4]) {
			t.Fatalf("text %q encoded as %q was not decoded", s, w)
		}
	})
}

func FuzzDecodePercent(f *testing.F) {
	decodeSeeds(f)
	f.Fuzz(func(t *testing.T, s []byte) {
		w := url.PathEscape(string(s))
		dec, kind := decodeWord([]byte(w))
		if kind != "" && kind != "percent" {
			return // e.g. an all-hex escape-free string: another decoder's
		}
		if strings.Contains(w, "%") && (kind != "percent" || string(dec) != string(s)) {
			t.Fatalf("%q: got %s %q, want percent %q", w, kind, dec, s)
		}
	})
}

func FuzzDecodeUnicode(f *testing.F) {
	decodeSeeds(f)
	f.Fuzz(func(t *testing.T, s []byte) {
		q := strconv.QuoteToASCII(string(s))
		w := q[1 : len(q)-1]
		dec, kind := decodeWord([]byte(w))
		if (strings.Contains(w, `\u`) || strings.Contains(w, `\x`)) && (kind != "unicode" || !bytes.Equal(dec, s)) {
			t.Fatalf("%q: got %s %q, want unicode %q", w, kind, dec, s)
		}
	})
}

// Arbitrary words: no panic, and a decoding is never empty.
func FuzzDecodeWord(f *testing.F) {
	decodeSeeds(f)
	f.Add([]byte("dG9rZW49dGtuXzAxMjM0NTY3ODlhYmNkZWZBQkNERUYwMTIzNDU2Nzg5"))
	f.Add([]byte("746f6b656e3d746b6e5f30313233343536373839616263646566"))
	f.Add([]byte(`a\u005fb\x41%41%2`))
	f.Fuzz(func(t *testing.T, w []byte) {
		if dec, kind := decodeWord(w); kind != "" && len(dec) == 0 {
			t.Fatalf("%q decoded as %s to nothing", w, kind)
		}
	})
}

// encodedWords only reports spans inside the buffer that start at or
// after from.
func FuzzEncodedWords(f *testing.F) {
	f.Add([]byte("x: dG9rZW49dGtuXzAxMjM0NTY3ODlhYmNkZWZBQkNERUYw\n"), 0, 100)
	f.Add([]byte(`{"v":"a\u005fb"} %41%42%43 ==AAAAAAAAAAAAAAAAAAAA==`), 3, 20)
	f.Fuzz(func(t *testing.T, data []byte, from, to int) {
		if from < 0 || to > len(data) || from > to {
			return
		}
		encodedWords(data, from, to, func(s, e int) {
			if s < from || s >= e || e > len(data) {
				t.Fatalf("span [%d,%d) outside [%d,%d) of %d bytes", s, e, from, len(data), len(data))
			}
		})
	})
}
