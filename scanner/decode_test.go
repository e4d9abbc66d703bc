package scanner

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand"
	"net/url"
	"strings"
	"testing"
)

func TestDecodedSecrets(t *testing.T) {
	tok := fakeToken(rand.New(rand.NewSource(8)))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, text, decoded string
		line, col           int
	}{
		{"k8s secret", "apiVersion: v1\nkind: Secret\ndata:\n  token: " + b64("token="+tok) + "\n", "base64", 4, 10},
		{"nested base64", "x: " + b64(`{"auth":"`+b64(tok)+`"}`), "base64>base64", 1, 4},
		{"hex", "blob = " + hex.EncodeToString([]byte("key "+tok)), "hex", 1, 8},
		{"percent", "https://example.test/cb?t=" + url.PathEscape("a b "+tok+"%"), "percent", 1, 27},
		{"unicode escapes", `{"v":"` + strings.ReplaceAll(tok, "_", `\u005f`) + `"}`, "unicode", 1, 7},
	}
	e := testEngine(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := scanString(t, e, c.text)
			if len(fs) != 1 {
				t.Fatalf("%d findings: %+v", len(fs), fs)
			}
			f := fs[0]
			if f.Secret != tok || f.Decoded != c.decoded || f.Line != c.line || f.Column != c.col {
				t.Fatalf("got secret %q decoded %q at %d:%d, want %q at %d:%d", f.Secret, f.Decoded, f.Line, f.Column, c.decoded, c.line, c.col)
			}
		})
	}
	// Depth limits nesting.
	shallow := testEngine(t, Options{DecodeDepth: 1})
	if fs := scanString(t, shallow, cases[1].text); len(fs) != 0 {
		t.Fatalf("depth 1 found a doubly encoded secret: %+v", fs)
	}
	off := testEngine(t, Options{DecodeDepth: -1})
	if fs := scanString(t, off, cases[0].text); len(fs) != 0 {
		t.Fatalf("decoding off still decoded: %+v", fs)
	}
}

func TestDecodeRejectsNonText(t *testing.T) {
	for _, w := range []string{
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", // sha256 digest
		"ThisIsALongIdentifierNameInCode",
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", // PNG
	} {
		if dec, kind := decodeWord([]byte(w)); kind != "" {
			t.Errorf("%q decoded as %s to %q", w, kind, dec)
		}
	}
}
