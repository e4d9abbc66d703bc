package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUProfile(t *testing.T) {
	// Unset: nothing is written.
	var stderr bytes.Buffer
	cpuProfile("", &stderr)()

	path := filepath.Join(t.TempDir(), "cpu.prof")
	stop := cpuProfile(path, &stderr)
	x := 0
	for i := range 20_000_000 { // some work, so the profile has samples to hold
		x += i % 7
	}
	_ = x
	stop()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A profile is gzipped protocol buffers; an empty or cut file is not.
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("KEYTRAIL_CPUPROFILE wrote no profile: %v", err)
	}
	if body, err := io.ReadAll(zr); err != nil || len(body) == 0 {
		t.Fatalf("KEYTRAIL_CPUPROFILE wrote a cut or empty profile (%d bytes, %v)", len(body), err)
	}

	if stderr.Len() != 0 {
		t.Fatalf("complaints on a good path: %s", stderr.String())
	}

	// A path that cannot be created: the run goes on without a profile,
	// and says so, naming it.
	bad := filepath.Join(t.TempDir(), "missing", "cpu.prof")
	cpuProfile(bad, &stderr)()
	if !strings.Contains(stderr.String(), bad) {
		t.Fatalf("no error naming %s: %q", bad, stderr.String())
	}
}
