package gitsource

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestParseBatchHeader(t *testing.T) {
	id := plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")
	tests := []struct {
		line    string
		ok      bool
		missing bool
		typ     string
		size    int64
		isID    bool
	}{
		{"0123456789abcdef0123456789abcdef01234567 blob 1234\n", true, false, "blob", 1234, true},
		{"0123456789abcdef0123456789abcdef01234567 commit 0\n", true, false, "commit", 0, true},
		{"0123456789abcdef0123456789abcdef01234567 tree 7", true, false, "tree", 7, true},
		{"0123456789abcdef0123456789abcdef01234567 tag 12\r\n", true, false, "tag", 12, true},
		{"0123456789abcdef0123456789abcdef01234567 missing\n", true, true, "", 0, true},
		{"1111111111111111111111111111111111111111 blob 5\n", true, false, "blob", 5, false},
		{"0123456789abcdef0123456789abcdef01234567 blob\n", false, false, "", 0, false},
		{"0123456789abcdef0123456789abcdef01234567 blob -5\n", false, false, "", 0, false},
		{"0123456789abcdef0123456789abcdef01234567 blob 12x\n", false, false, "", 0, false},
		{"0123456789abcdef0123456789abcdef01234567 blob 99999999999999999999\n", false, false, "", 0, false},
		{"0123456789abcdef0123456789abcdef01234567 blob \n", false, false, "", 0, false},
		{"fatal: not a git repository\n", false, false, "", 0, false},
		{"\n", false, false, "", 0, false},
	}
	for _, tt := range tests {
		h, ok := parseBatchHeader([]byte(tt.line))
		if ok != tt.ok {
			t.Errorf("%q: ok = %v, want %v", tt.line, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if h.missing != tt.missing || h.typ != tt.typ || h.size != tt.size || h.is(id) != tt.isID {
			t.Errorf("%q: got missing=%v typ=%q size=%d is=%v", tt.line, h.missing, h.typ, h.size, h.is(id))
		}
	}
}

func TestParseBatchHeaderAllocs(t *testing.T) {
	line := []byte("0123456789abcdef0123456789abcdef01234567 blob 1234\n")
	id := plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")
	if n := testing.AllocsPerRun(100, func() {
		h, ok := parseBatchHeader(line)
		if !ok || !h.is(id) {
			t.Fatal("not parsed")
		}
	}); n != 0 {
		t.Errorf("%v allocations per header, want 0", n)
	}
}

// A line read out of step is not a header and may be a blob's content:
// an error shows only its length then.
func TestQuoteHeader(t *testing.T) {
	tests := []struct{ line, want string }{
		{"0123456789abcdef0123456789abcdef01234567 blob x\n", `"0123456789abcdef0123456789abcdef01234567 blob x"`},
		{"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "(62 bytes, not shown)"},
		{"0123456789abcdef0123456789abcdef0123456Z blob 1\n", "(47 bytes, not shown)"},
	}
	for _, tt := range tests {
		if got := quoteHeader([]byte(tt.line)); got != tt.want {
			t.Errorf("quoteHeader(%q) = %s, want %s", tt.line, got, tt.want)
		}
	}
}
