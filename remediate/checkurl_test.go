package remediate

import (
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		raw, err string // err: "" when allowed, else a part of the message
	}{
		{"https://hooks.example.com/x", ""},
		{"http://127.0.0.1:8080/hook", ""},
		{"http://localhost/hook", ""},
		{"http://[::1]:9/hook", ""},
		{"http://hooks.example.com/x", "plain http is allowed only to localhost"},
		{"http://10.0.0.1/x", "plain http is allowed only to localhost"},
		{"ftp://example.com/x", `scheme "ftp", want https`},
		{"hooks.example.com/x", "is not a URL"},
		{"://bad", "is not a URL"},
	} {
		_, err := CheckURL(tc.raw)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want allowed", tc.raw, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.raw)):
			t.Errorf("CheckURL(%q) = %v, want an error naming it with %q", tc.raw, err, tc.err)
		}
	}
}
