package gitsource

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSecretIndexRedact(t *testing.T) {
	secrets := []string{"ghp_abcdefghij0123456789", "abc", "", "passw0rd-123", "0123456789"}
	x := newSecretIndex(secrets)
	for _, tc := range []struct{ in, want string }{
		{"Add config", "Add config"},
		{"leak ghp_abcdefghij0123456789 twice: ghp_abcdefghij0123456789", "leak ghp_… twice: ghp_…"},
		{"short abc and passw0rd-123", "short … and pass…"},
		// Secrets are redacted in their order: the token first, so the
		// digits inside it are gone before the digits' turn.
		{"ghp_abcdefghij0123456789 0123456789", "ghp_… 012…"},
		{"", ""},
	} {
		if got := x.redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := redactAll(tc.in, secrets); got != tc.want {
			t.Errorf("redactAll(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// On random subjects and secrets the index gives what trying every
// secret gives.
func TestSecretIndexMatchesRedactAll(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte("ab-_.c0"[r.IntN(7)])
		}
		return b.String()
	}
	for range 300 {
		var secrets []string
		for range 1 + r.IntN(30) {
			secrets = append(secrets, word(r.IntN(14)))
		}
		x := newSecretIndex(secrets)
		for range 20 {
			s := word(r.IntN(60))
			if r.IntN(2) == 0 {
				sec := secrets[r.IntN(len(secrets))]
				at := r.IntN(len(s) + 1)
				s = s[:at] + sec + s[at:]
			}
			if got, want := x.redact(s), redactAll(s, secrets); got != want {
				t.Fatalf("secrets %q, subject %q: index %q, every secret %q", secrets, s, got, want)
			}
		}
	}
}
