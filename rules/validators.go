package rules

import (
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Validator checks a secret offline, from structure or checksum alone. It
// returns whether the secret is well formed and optional facts about it
// (for example the AWS account id a key id encodes).
type Validator func(secret string) (bool, map[string]string)

// Validators maps validator names, as rules refer to them, to functions.
type Validators map[string]Validator

// DefaultValidators returns a fresh map of the built-in validators.
func DefaultValidators() Validators {
	v := Validators{
		"github-crc32": checksumCRC32Base62,
		"npm-crc32":    checksumCRC32Base62,
		"aws-key-id":   awsKeyID,
		"jwt":          jwtStructure,
		"pem":          pemBlock,
	}
	for name, f := range extraValidators() {
		v[name] = f
	}
	return v
}

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Base62CRC32 encodes the CRC32-IEEE of s in base62 (alphabet 0-9A-Za-z),
// left-padded with '0' to 6 characters: the checksum GitHub and npm append
// to their tokens.
func Base62CRC32(s string) string {
	n := crc32.ChecksumIEEE([]byte(s))
	var buf [6]byte
	for i := 5; i >= 0; i-- {
		buf[i] = base62Alphabet[n%62]
		n /= 62
	}
	return string(buf[:])
}

// checksumCRC32Base62 validates prefix_ + 30 random + 6 checksum tokens.
func checksumCRC32Base62(secret string) (bool, map[string]string) {
	i := strings.IndexByte(secret, '_')
	if i < 0 {
		return false, nil
	}
	body := secret[i+1:]
	if len(body) != 36 {
		return false, nil
	}
	return Base62CRC32(body[:30]) == body[30:], nil
}

// awsKeyID checks the base32 alphabet of an AWS access key id and decodes
// the account id it carries (an undocumented but widely observed layout;
// a hint, not proof).
func awsKeyID(secret string) (bool, map[string]string) {
	if len(secret) != 20 {
		return false, nil
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret[4:])
	if err != nil || len(raw) < 6 {
		return false, nil
	}
	var b [8]byte
	copy(b[2:], raw[:6])
	z := binary.BigEndian.Uint64(b[:])
	account := (z & 0x7fffffffff80) >> 7
	return true, map[string]string{"account_id": fmt.Sprintf("%012d", account)}
}

// jwtStructure accepts a token whose header decodes to JSON with an alg
// and whose payload decodes to a JSON object.
func jwtStructure(secret string) (bool, map[string]string) {
	parts := strings.Split(secret, ".")
	if len(parts) != 3 {
		return false, nil
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if !decodeJSONSegment(parts[0], &hdr) || hdr.Alg == "" {
		return false, nil
	}
	var payload map[string]any
	if !decodeJSONSegment(parts[1], &payload) {
		return false, nil
	}
	meta := map[string]string{"alg": hdr.Alg}
	if iss, ok := payload["iss"].(string); ok {
		meta["iss"] = iss
	}
	return true, meta
}

func decodeJSONSegment(seg string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// pemBlock accepts a PEM private key whose body is valid base64 and, for
// unencrypted keys, parses as a key.
func pemBlock(secret string) (bool, map[string]string) {
	block, _ := pem.Decode([]byte(normalizePEM(secret)))
	if block == nil {
		return false, nil
	}
	if strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] != "" {
		return true, map[string]string{"encrypted": "true"}
	}
	switch block.Type {
	case "OPENSSH PRIVATE KEY":
		_, err := ssh.ParseRawPrivateKey(pem.EncodeToMemory(block))
		if err != nil {
			if _, ok := err.(*ssh.PassphraseMissingError); ok {
				return true, map[string]string{"encrypted": "true"}
			}
			return false, nil
		}
		return true, nil
	case "RSA PRIVATE KEY":
		_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		return err == nil, nil
	case "EC PRIVATE KEY":
		_, err := x509.ParseECPrivateKey(block.Bytes)
		return err == nil, nil
	case "PRIVATE KEY":
		_, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		return err == nil, nil
	default:
		// DSA and other types: a decodable body is as far as we check.
		return len(block.Bytes) > 0, nil
	}
}

// normalizePEM undoes common embeddings of a PEM block in source code:
// literal "\n" sequences and leading indentation or string quoting.
func normalizePEM(s string) string {
	s = strings.ReplaceAll(s, `\r\n`, "\n")
	s = strings.ReplaceAll(s, `\n`, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Trim(strings.TrimSpace(l), `"',+`)
	}
	return strings.Join(lines, "\n")
}
