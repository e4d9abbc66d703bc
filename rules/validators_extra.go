package rules

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strings"
	"unicode/utf8"
)

// extraValidators holds validators for the wider rule families, kept apart
// from the core ones so both files can grow independently.
func extraValidators() Validators {
	return Validators{
		"grafana":           grafanaToken,
		"sentry-org-token":  sentryOrgToken,
		"age-secret-key":    ageSecretKey,
		"basic-auth":        basicAuthValue,
		"base64-pem":        base64PEM,
		"der-private-key":   derPrivateKey,
		"onepassword-sa":    onePasswordServiceAccount,
		"json-base64-token": jsonBase64Object,
		"discord-bot-token": discordBotToken,
	}
}

// decodeBase64Any decodes standard or URL-safe base64, padded or not.
func decodeBase64Any(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
		if b, err := enc.WithPadding(base64.NoPadding).DecodeString(strings.TrimRight(s, "=")); err == nil {
			return b, true
		}
	}
	return nil, false
}

// decodeJSONObject decodes base64 text holding a JSON object.
func decodeJSONObject(s string) (map[string]any, bool) {
	raw, ok := decodeBase64Any(s)
	if !ok {
		return nil, false
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

func stringField(m map[string]any, k string) (string, bool) {
	v, ok := m[k].(string)
	return v, ok && v != ""
}

// grafanaToken validates the three Grafana token shapes:
//   - glsa_ service-account tokens: "glsa_" + 32 alphanumerics + "_" + 8 hex
//     digits, the CRC32-IEEE of "glsa_<secret>" written little-endian in hex;
//   - glc_ Grafana Cloud access-policy tokens: "glc_" + base64 of a JSON
//     object with string fields o (org id), n (token name) and k (key);
//   - legacy API keys: base64 of a JSON object with k, n and id.
func grafanaToken(secret string) (bool, map[string]string) {
	switch {
	case strings.HasPrefix(secret, "glsa_"):
		parts := strings.Split(secret, "_")
		if len(parts) != 3 || len(parts[1]) != 32 || len(parts[2]) != 8 {
			return false, nil
		}
		sum := crc32.ChecksumIEEE([]byte(parts[0] + "_" + parts[1]))
		le := []byte{byte(sum), byte(sum >> 8), byte(sum >> 16), byte(sum >> 24)}
		if hex.EncodeToString(le) != parts[2] {
			return false, nil
		}
		return true, map[string]string{"type": "service-account"}
	case strings.HasPrefix(secret, "glc_"):
		m, ok := decodeJSONObject(secret[len("glc_"):])
		if !ok {
			return false, nil
		}
		org, ok1 := stringField(m, "o")
		name, ok2 := stringField(m, "n")
		_, ok3 := stringField(m, "k")
		if !ok1 || !ok2 || !ok3 {
			return false, nil
		}
		meta := map[string]string{"type": "cloud-access-policy", "org_id": org, "token_name": name}
		if mm, ok := m["m"].(map[string]any); ok {
			if r, ok := stringField(mm, "r"); ok {
				meta["region"] = r
			}
		}
		return true, meta
	case strings.HasPrefix(secret, "eyJrIjoi"):
		m, ok := decodeJSONObject(secret)
		if !ok {
			return false, nil
		}
		_, ok1 := stringField(m, "k")
		name, ok2 := stringField(m, "n")
		_, ok3 := m["id"].(float64)
		if !ok1 || !ok2 || !ok3 {
			return false, nil
		}
		return true, map[string]string{"type": "api-key", "token_name": name}
	}
	return false, nil
}

// sentryOrgToken validates a Sentry organization auth token:
// "sntrys_" + base64 JSON payload (iat, url, org) + "_" + 43-char secret.
func sentryOrgToken(secret string) (bool, map[string]string) {
	rest, ok := strings.CutPrefix(secret, "sntrys_")
	if !ok {
		return false, nil
	}
	i := strings.LastIndexByte(rest, '_')
	if i < 0 || len(rest)-i-1 != 43 {
		return false, nil
	}
	m, ok := decodeJSONObject(rest[:i])
	if !ok {
		return false, nil
	}
	org, ok1 := stringField(m, "org")
	u, ok2 := stringField(m, "url")
	if !ok1 || !ok2 {
		return false, nil
	}
	meta := map[string]string{"org": org, "url": u}
	if r, ok := stringField(m, "region_url"); ok {
		meta["region_url"] = r
	}
	return true, meta
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>uint(i))&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// bech32Decode checks a bech32 string's checksum and returns its
// human-readable part and 5-bit data (checksum removed).
func bech32Decode(s string) (string, []byte, bool) {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, false
	}
	s = strings.ToLower(s)
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 || pos+7 > len(s) {
		return "", nil, false
	}
	hrp := s[:pos]
	data := make([]byte, 0, len(s)-pos-1)
	for i := pos + 1; i < len(s); i++ {
		d := strings.IndexByte(bech32Charset, s[i])
		if d < 0 {
			return "", nil, false
		}
		data = append(data, byte(d))
	}
	vals := make([]byte, 0, 2*len(hrp)+1+len(data))
	for i := 0; i < len(hrp); i++ {
		vals = append(vals, hrp[i]>>5)
	}
	vals = append(vals, 0)
	for i := 0; i < len(hrp); i++ {
		vals = append(vals, hrp[i]&31)
	}
	vals = append(vals, data...)
	if bech32Polymod(vals) != 1 {
		return "", nil, false
	}
	return hrp, data[:len(data)-6], true
}

// ageSecretKey validates an age X25519 identity: bech32 with the HRP
// "age-secret-key-" carrying 32 bytes, checksum included.
func ageSecretKey(secret string) (bool, map[string]string) {
	hrp, data, ok := bech32Decode(secret)
	if !ok || hrp != "age-secret-key-" {
		return false, nil
	}
	// 32 bytes = 256 bits = 52 five-bit groups (last one padded).
	return len(data) == 52, nil
}

// basicAuthValue accepts the credentials of an HTTP Basic header: base64
// of printable "user:password" with a non-empty password.
func basicAuthValue(secret string) (bool, map[string]string) {
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil || !utf8.Valid(raw) {
		return false, nil
	}
	s := string(raw)
	i := strings.IndexByte(s, ':')
	if i < 0 || i == len(s)-1 {
		return false, nil
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false, nil
		}
	}
	return true, map[string]string{"username": s[:i]}
}

// base64PEM validates base64 text (kubeconfig client-key-data, Helm values)
// that decodes to a PEM private key the pem validator accepts.
func base64PEM(secret string) (bool, map[string]string) {
	raw, ok := decodeBase64Any(secret)
	if !ok {
		return false, nil
	}
	return pemBlock(string(raw))
}

// onePasswordServiceAccount validates a 1Password service-account token:
// "ops_" + base64 of a JSON object naming the sign-in address and user.
func onePasswordServiceAccount(secret string) (bool, map[string]string) {
	rest, ok := strings.CutPrefix(secret, "ops_")
	if !ok {
		return false, nil
	}
	m, ok := decodeJSONObject(rest)
	if !ok || len(m) < 3 {
		return false, nil
	}
	meta := map[string]string{}
	if u, ok := stringField(m, "signInAddress"); ok {
		meta["sign_in_address"] = u
	}
	if u, ok := stringField(m, "email"); ok {
		meta["email"] = u
	}
	return true, meta
}

// jsonBase64Object accepts an optional "prefix_"/"prefix." then base64
// of a JSON object: tokens that wrap a JSON envelope (Intercom, Mapbox-like
// payload segments). It reports the top-level field names.
func jsonBase64Object(secret string) (bool, map[string]string) {
	body := secret
	if i := strings.IndexAny(body, "_."); i >= 0 && i < 12 && !strings.HasPrefix(body, "eyJ") {
		body = body[i+1:]
	}
	if j := strings.IndexByte(body, '.'); j >= 0 {
		body = body[:j]
	}
	m, ok := decodeJSONObject(body)
	if !ok {
		return false, nil
	}
	return true, map[string]string{"fields": fmt.Sprint(len(m))}
}

// discordBotToken checks that the first segment of a Discord bot token is
// the base64 of the bot's numeric user id (a snowflake of 17 to 20 digits).
func discordBotToken(secret string) (bool, map[string]string) {
	first, _, ok := strings.Cut(secret, ".")
	if !ok {
		return false, nil
	}
	raw, ok := decodeBase64Any(first)
	if !ok || len(raw) < 17 || len(raw) > 20 {
		return false, nil
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false, nil
		}
	}
	return true, map[string]string{"bot_id": string(raw)}
}

// derPrivateKey checks base64 DER key material without PEM armour
// (PKCS#8, PKCS#1 RSA or SEC1 EC): it must decode and parse as a key.
// A body cut short fails, and the rule reports it at its unverified level.
func derPrivateKey(secret string) (bool, map[string]string) {
	raw, ok := decodeBase64Any(secret)
	if !ok {
		return false, nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(raw); err == nil {
		return true, map[string]string{"format": "pkcs8"}
	}
	if _, err := x509.ParsePKCS1PrivateKey(raw); err == nil {
		return true, map[string]string{"format": "pkcs1"}
	}
	if _, err := x509.ParseECPrivateKey(raw); err == nil {
		return true, map[string]string{"format": "sec1"}
	}
	return false, nil
}
