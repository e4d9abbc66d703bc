package gitsource

import (
	"os"
	"testing"
)

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before := pipeCap(r)
	growPipe(r)
	after := pipeCap(r)
	if limit := pipeMaxSize(t); limit < pipeSize {
		t.Skipf("this system allows pipes of %d bytes at most", limit)
	}
	if after < pipeSize || after <= before {
		t.Fatalf("pipe buffer %d bytes after growPipe (before %d), want %d", after, before, pipeSize)
	}
}

func pipeMaxSize(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}
