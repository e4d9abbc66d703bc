package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLogReader opens arbitrary bytes as a log, plain and gzip-wrapped:
// no panic; plain content and a valid gzip stream come back unchanged
// (up to the decompression limit, past which the reader errs); arbitrary
// bytes starting with the gzip magic never yield more than the limit.
func FuzzLogReader(f *testing.F) {
	for _, s := range []string{
		"", "plain line\n",
		`{"ts":"2026-01-01T00:00:00Z","level":"info","msg":"token=tkn_0123456789abcdefABCDEF0123456789"}` + "\n" + `{"msg":"\u001b[2J"}` + "\n",
		"\x1f\x8b", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", "{\"a\":\n\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	const limit = 4096
	read := func(t *testing.T, data []byte) ([]byte, error) {
		p := filepath.Join(t.TempDir(), "app.log")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rc, err := logItem(p, limit).Open(context.Background())
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := read(t, data)
		gz := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
		if !gz && (err != nil || !bytes.Equal(got, data)) {
			t.Fatalf("plain log: got %q, %v", got, err)
		}
		if gz && len(got) > limit {
			t.Fatalf("gzip stream yielded %d bytes past the %d limit", len(got), limit)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		got, err = read(t, buf.Bytes())
		switch {
		case len(data) <= limit && (err != nil || !bytes.Equal(got, data)):
			t.Fatalf("gzip log: got %q, %v; want %q", got, err, data)
		case len(data) > limit && (err == nil || len(got) != limit):
			t.Fatalf("gzip log over the limit: %d bytes, %v", len(got), err)
		}
	})
}
