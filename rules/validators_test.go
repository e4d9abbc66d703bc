package rules

import (
	"encoding/base64"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"
)

// Test vectors below were produced by a separate encoder written from
// GitLab's RoutableToken generator and the libmacaroons v2 format; the
// random parts are random, the framing and checksums are real.
const (
	glpatRoutable       = "glpat-pU3KGCUwux1tEyze1iN7Lm86MQp1OjJzCA.01.0y10it1x3"
	glrtRoutableLegacy  = "glrt-YzoxCmc6YQpvOjEKcDo5Ygp0OjEKdToxbNkeP3IfyxlxF0SU1kk8nVwQ.1k10bwss1"
	glpatInstancePrefix = "acme-glpat-NGC-MSAeaf7aoO7ouZl_XG86MQp1OjJzCA.01.0y1e0wnez"

	pypiToken     = "pypi-AgEIcHlwaS5vcmcCJDdjMjk5OWZkLWFmZTUtNDMyNS1iY2Q2LTU0YWY0ZGZhZDcxNAACJXsidmVyc2lvbiI6IDEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYgJ6Cus_7pIy-K8iEfnuSRxbEL7LVWO_web5NCfsvI_ik"
	testPypiToken = "pypi-AgENdGVzdC5weXBpLm9yZwIkNTVlNWNkOGUtNDZkYy00ZWQ0LWI3YzItNzY0ZDJhNWE0ZDc2AAAGIHcG-F2GkAJK1r2jQBvpyMvMyTX2zR9hImrhUziuGjQA"
	// A well-framed macaroon whose location is not PyPI.
	foreignMacaroon = "pypi-AgEMZXZpbC5leGFtcGxlAiQ0ZDMzYmEwZC0yNDZhLTQwNGMtODFiMS1iYWYyM2UzYmY5ZWUAAiV7InZlcnNpb24iOiAxLCAicGVybWlzc2lvbnMiOiAidXNlciJ9AAAGIPX3nytJNK-H9VILablLDZguhbtVtnKocmN6zXRm_LYO"

	azureKey = "Do/xhGOw5LK6KXA0dPBkrGj3APWwKz3GZvRb3qosyu3NK1FXQQ5N7krys09DCgc0R95jbA6AbJV7poTWQx+16g=="
)

// withCRC re-computes the 7-char base36 CRC of a routable token body, so
// tests can tamper with a field and still get past the checksum.
func withCRC(body string) string {
	c := strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 36)
	return body + strings.Repeat("0", 7-len(c)) + c
}

func TestGitLabRoutable(t *testing.T) {
	// A versioned token whose routing payload has an unknown key "x".
	raw := append(make([]byte, 16), []byte("o:1\nx:2")...)
	raw = append(raw, byte(len("o:1\nx:2")))
	p := base64.RawURLEncoding.EncodeToString(raw)
	unknownKey := withCRC("glpat-" + p + ".01." + strconv.FormatInt(int64(len(p)), 36))
	// A versioned token whose routing payload lacks the required "o" key.
	raw = append(make([]byte, 16), []byte("u:2s")...)
	raw = append(raw, 4)
	p = base64.RawURLEncoding.EncodeToString(raw)
	noOrg := withCRC("glpat-" + p + ".01." + strconv.FormatInt(int64(len(p)), 36))

	cases := []struct {
		name  string
		token string
		want  bool
		meta  map[string]string
	}{
		{"versioned pat", glpatRoutable, true, map[string]string{"organization_id": "1", "user_id": "100"}},
		{"legacy runner token", glrtRoutableLegacy, true, map[string]string{"cell_id": "1", "group_id": "10", "organization_id": "1", "project_id": "335", "token_type": "1", "user_id": "57"}},
		{"instance prefix", glpatInstancePrefix, true, map[string]string{"organization_id": "1", "user_id": "100"}},
		{"instance prefix captured without it", strings.TrimPrefix(glpatInstancePrefix, "acme-"), false, nil},
		{"junk before prefix", "zz-" + glpatInstancePrefix, true, nil},
		{"bad crc", glpatRoutable[:len(glpatRoutable)-1] + "4", false, nil},
		{"tampered payload", strings.Replace(glpatRoutable, "pU3K", "pU3L", 1), false, nil},
		{"unknown routing key", unknownKey, false, nil},
		{"missing organization", noOrg, false, nil},
		{"legacy 20-char pat", "glpat-" + strings.Repeat("a", 20), false, nil},
		{"too short", "glpat-", false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, meta := gitlabRoutable(c.token)
			if ok != c.want {
				t.Fatalf("gitlabRoutable(%q) = %v, want %v", c.token, ok, c.want)
			}
			for k, v := range c.meta {
				if meta[k] != v {
					t.Errorf("meta[%q] = %q, want %q (meta %v)", k, meta[k], v, meta)
				}
			}
		})
	}
}

func TestPyPIMacaroon(t *testing.T) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(pypiToken, "pypi-"))
	if err != nil {
		t.Fatal(err)
	}
	enc := func(b []byte) string { return "pypi-" + base64.RawURLEncoding.EncodeToString(b) }
	cases := []struct {
		name     string
		token    string
		want     bool
		location string
	}{
		{"pypi.org", pypiToken, true, "pypi.org"},
		{"padded", pypiToken + "=", true, "pypi.org"},
		{"test.pypi.org without caveats", testPypiToken, true, "test.pypi.org"},
		{"foreign location", foreignMacaroon, false, ""},
		{"truncated signature", enc(raw[:len(raw)-1]), false, ""},
		{"trailing bytes", enc(append(append([]byte{}, raw...), 0)), false, ""},
		{"version 1", enc(append([]byte{1}, raw[1:]...)), false, ""},
		{"not base64", "pypi-AgEIcHlwaS5vcmc!!!!", false, ""},
		{"no prefix", strings.TrimPrefix(pypiToken, "pypi-"), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, meta := pypiMacaroon(c.token)
			if ok != c.want {
				t.Fatalf("pypiMacaroon = %v, want %v", ok, c.want)
			}
			if ok && meta["location"] != c.location {
				t.Errorf("location %q, want %q", meta["location"], c.location)
			}
		})
	}
	if _, meta := pypiMacaroon(pypiToken); meta["caveats"] != "1" {
		t.Errorf("caveats = %q, want 1", meta["caveats"])
	}
}

func TestAzureStorageKey(t *testing.T) {
	cases := []struct {
		name, key string
		want      bool
	}{
		{"valid", azureKey, true},
		{"short", azureKey[:86], false},
		{"bad base64", strings.Repeat("!", 86) + "==", false},
		{"wrong padding", azureKey[:86] + "AA", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if ok, _ := azureStorageKey(c.key); ok != c.want {
				t.Fatalf("azureStorageKey(%q) = %v, want %v", c.key, ok, c.want)
			}
		})
	}
}

func TestDefaultValidatorsRegistered(t *testing.T) {
	v := DefaultValidators()
	for _, name := range []string{"gitlab-routable", "pypi-macaroon", "azure-storage-key", "github-crc32", "npm-crc32"} {
		if v[name] == nil {
			t.Errorf("validator %q not registered", name)
		}
	}
}
