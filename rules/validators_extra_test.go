package rules

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestExtraValidatorsRegistered(t *testing.T) {
	v := DefaultValidators()
	for name := range extraValidators() {
		if v[name] == nil {
			t.Errorf("validator %q missing from DefaultValidators", name)
		}
	}
}

func TestExtraValidators(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	ecKey := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEILQxG8khQZYsOe2pi2r7fQc/0ZJDDmCxEOMlRgeCxZ2AoAoGCCqGSM49\nAwEHoUQDQgAE7jVytqtwfh7HdYjfDPgPMGDNlTTIumxFinw7db+ZlZ/TEcrSxYRX\nqZfJ6B7GdQ3mZMqw/19kWarn6dgvgSTbcg==\n-----END EC PRIVATE KEY-----\n"
	cases := []struct {
		validator string
		secret    string
		want      bool
		meta      map[string]string
	}{
		// Grafana service-account tokens: CRC32-IEEE of "glsa_<secret>", little-endian hex.
		{"grafana", "glsa_V76a1PKvsLrgOQ3ntGi0Z0ALZcwNjKHe_fabc1cc3", true, map[string]string{"type": "service-account"}},
		{"grafana", "glsa_V76a1PKvsLrgOQ3ntGi0Z0ALZcwNjKHe_c31cbcfa", false, nil}, // big-endian checksum
		{"grafana", "glsa_V76a1PKvsLrgOQ3ntGi0Z0ALZcwNjKHf_fabc1cc3", false, nil}, // body changed
		{"grafana", "glsa_V76a1PKvsLrgOQ3ntGi0Z0ALZcwNjKH_fabc1cc3", false, nil},  // 31 chars
		// Grafana Cloud tokens: base64 JSON with o, n, k (padded or not).
		{"grafana", "glc_eyJvIjoiMTIzNDU2IiwibiI6InN0YWNrLTQyLWFsbG95IiwiayI6IklJUXIzWFNGZ0pDa2FDcW5RS3lmeWxaOCIsIm0iOnsiciI6InByb2QtdXMtZWFzdC0wIn19", true,
			map[string]string{"org_id": "123456", "token_name": "stack-42-alloy", "region": "prod-us-east-0"}},
		{"grafana", "glc_eyJvIjoiOSIsIm4iOiJ4LXRva2VuIiwiayI6IkVWZUl6NEo3dXRtZ2xoSjEifQ", true, map[string]string{"org_id": "9"}},
		{"grafana", "glc_" + b64([]byte(`{"o":"1","n":"x"}`)), false, nil}, // no k
		{"grafana", "glc_" + b64([]byte(`not json at all, sorry`)), false, nil},
		{"grafana", "glc_!!!!", false, nil},
		// Legacy Grafana API keys.
		{"grafana", "eyJrIjoiTGNhRUw0cVByMGFrU2haNVBGeWhQUUYwekJ6Q3ZMUk8iLCJuIjoiY2kiLCJpZCI6MX0=", true, map[string]string{"type": "api-key", "token_name": "ci"}},
		{"grafana", b64([]byte(`{"k":"abc","z":1}`)), false, nil},
		{"grafana", "gl_unknown", false, nil},
		// Sentry organization tokens.
		{"sentry-org-token", "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", true,
			map[string]string{"org": "acme", "url": "https://sentry.io"}},
		{"sentry-org-token", "sntrys_" + b64([]byte(`{"iat":1,"foo":"bar"}`)) + "_" + strings.Repeat("a", 43), false, nil},
		{"sentry-org-token", "sntrys_" + b64([]byte(`{"url":"https://sentry.io","org":"acme"}`)) + "_short", false, nil},
		{"sentry-org-token", "sntryu_" + strings.Repeat("a", 64), false, nil},
		// age identities: bech32 checksum over the HRP and 32 bytes.
		{"age-secret-key", "AGE-SECRET-KEY-18FE89L27JDZAG45FCQ9WCUHF4W0CCCUEF8S0U8HDRKC38C64RTDSFG5VH7", true, nil},
		{"age-secret-key", "AGE-SECRET-KEY-18FE89L27JDZAG45FCQ9WCUHF4W0CCCUEF8S0U8HDRKC38C64RTDSFG5VH8", false, nil}, // bad checksum
		{"age-secret-key", "AGE-SECRET-KEY-18FE89L27JDZAG45FCQ9WCUHF4W0CCCUEF8S0U8HDRKC38C64RTDSFG5Vh7", false, nil}, // mixed case
		{"age-secret-key", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQ", false, nil},
		// HTTP Basic credentials.
		{"basic-auth", b64([]byte("deploy:s3cr3t-Value")), true, map[string]string{"username": "deploy"}},
		{"basic-auth", b64([]byte("nocolon")), false, nil},
		{"basic-auth", b64([]byte("user:")), false, nil},
		{"basic-auth", b64([]byte("user:\x00\x01binary")), false, nil},
		{"basic-auth", "not base64!", false, nil},
		// base64-wrapped PEM keys (kubeconfig client-key-data).
		{"base64-pem", b64([]byte(ecKey)), true, nil},
		{"base64-pem", b64([]byte("-----BEGIN EC PRIVATE KEY-----\nbm90IGEga2V5\n-----END EC PRIVATE KEY-----\n")), false, nil},
		{"base64-pem", b64([]byte("plain text")), false, nil},
		// Base64 DER private keys without armour (keys generated for this test).
		{"der-private-key", "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgloHWjOPKK6ud01ZypsetJI2Y/z6ZTyIFvTWe9o5sTMKhRANCAAQtnJAmcdkW1HlfNciW1E8CaOeeN1yPQSZyIlfF4JLWDalV+2gp4whm6zxLkVmp7WbKdkqQhhbAECPx73+dv75Q", true, map[string]string{"format": "pkcs8"}},
		{"der-private-key", "MHcCAQEEIKmhzOx2anFxUBrgX+lsz4dDbhIoKuWqYIgqKVGpt2nDoAoGCCqGSM49AwEHoUQDQgAEFkJENJE9tsTudtEIsb9CJSWSwuA9sPWDDvzsldNecV7Zm96hnWzJQ7DNJMrs5yDaXkTbb8bKVyhGhLK+Rut7Kw==", true, map[string]string{"format": "sec1"}},
		{"der-private-key", "MC4CAQAwBQYDK2VwBCIEILDOfTwW+ZQkdng8j8rqVXSx17iygJ9GRDmoeYrIQtC7", true, map[string]string{"format": "pkcs8"}},
		{"der-private-key", "MHcCAQEEIKmhzOx2anFxUBrgX+lsz4dDbhIoKuWqYIgqKVGpt2nDoAoGCCqGSM49AwEHoUQDQgAEFkJENJE9tsTudtEIsb9CJSWSwuA9sPWDDvzsldNecV7Z", false, nil}, // cut short
		{"der-private-key", "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC5", false, nil},
		// 1Password service-account tokens.
		{"onepassword-sa", "ops_" + base64.RawURLEncoding.EncodeToString([]byte(`{"signInAddress":"acme.1password.com","email":"x@1passwordserviceaccounts.com","secretKey":"A3-X"}`)), true,
			map[string]string{"sign_in_address": "acme.1password.com"}},
		{"onepassword-sa", "ops_" + base64.RawURLEncoding.EncodeToString([]byte(`{"a":1}`)), false, nil},
		{"onepassword-sa", "ops_eyJ...", false, nil},
		// Discord bot tokens: first segment is base64 of the numeric bot id.
		{"discord-bot-token", "MTIzNDU2Nzg5MDEyMzQ1Njc4.sv2-UI.h18GiQhJdqilw_NyK-hPA6FXBeIWG8XL2BscbF", true, map[string]string{"bot_id": "123456789012345678"}},
		{"discord-bot-token", "Zm9vYmFyYmF6cXV4cXV1eHh4eHh4.sv2-UI.h18GiQhJdqilw_NyK-hPA6FXBeIWG8XL2BscbF", false, nil},
		{"discord-bot-token", "MTIzNDU2Nzg5MDEyMzQ1Njc4", false, nil},
		// Tokens wrapping a base64 JSON payload (Mapbox).
		{"json-base64-token", "sk.eyJ1Ijoia2V5dHJhaWwtZmFrZSIsImEiOiJjbHh5ejEyMzQ1In0.abcdefghijklmnopqrstuv", true, nil},
		{"json-base64-token", "sk.bm90anNvbg.abcdefghijklmnopqrstuv", false, nil},
	}
	vs := DefaultValidators()
	for _, c := range cases {
		ok, meta := vs[c.validator](c.secret)
		if ok != c.want {
			t.Errorf("%s(%q) = %v, want %v", c.validator, c.secret, ok, c.want)
			continue
		}
		for k, v := range c.meta {
			if meta[k] != v {
				t.Errorf("%s(%q) meta[%q] = %q, want %q", c.validator, c.secret, k, meta[k], v)
			}
		}
	}
}

// TestBech32Vectors checks the decoder against the BIP-173 test vectors.
func TestBech32Vectors(t *testing.T) {
	valid := []string{"A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"}
	for _, s := range valid {
		if _, _, ok := bech32Decode(s); !ok {
			t.Errorf("valid bech32 %q rejected", s)
		}
	}
	invalid := []string{"A12uEL5L", "pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8", "10a06t8", "1qzzfhee"}
	for _, s := range invalid {
		if _, _, ok := bech32Decode(s); ok {
			t.Errorf("invalid bech32 %q accepted", s)
		}
	}
}

// TestGrafanaRuleUsesValidator makes sure a glsa_ token with a wrong
// checksum is rejected end to end, not only by the validator.
func TestGrafanaRuleUsesValidator(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r := set.ByID("grafana-service-account-token")
	if r == nil {
		t.Skip("rule not present")
	}
	if ms := r.FindAll([]byte("GRAFANA_TOKEN=glsa_V76a1PKvsLrgOQ3ntGi0Z0ALZcwNjKHe_fabc1cc3"), false); len(ms) != 1 || ms[0].Confidence != ConfidenceHigh {
		t.Fatalf("valid token: %+v", ms)
	}
	if ms := r.FindAll([]byte("GRAFANA_TOKEN=glsa_V76a1PKvsLrgOQ3ntGi0Z0ALZcwNjKHe_c31cbcfa"), false); len(ms) != 0 {
		t.Fatalf("bad checksum accepted: %+v", ms)
	}
}
