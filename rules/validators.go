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
	"strconv"
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

		"gitlab-routable":   gitlabRoutable,
		"pypi-macaroon":     pypiMacaroon,
		"azure-storage-key": azureStorageKey,
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
// a hint, not proof). The id itself goes into meta.access_key_id: it is an
// identifier, not a secret, and the audit of a redacted report needs it.
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
	return true, map[string]string{"account_id": fmt.Sprintf("%012d", account), "access_key_id": secret}
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

// GitLab routable tokens (GitLab 17.x and later) carry their routing data
// and a checksum:
//
//	<prefix><base64url payload>.<2-char base36 version>.<2-char base36 length><7-char base36 CRC32>
//
// where the CRC32-IEEE covers everything before it, prefix included, and
// the base64url (unpadded) payload decodes to 16 random bytes, the routing
// payload ("k:v" lines: c cell, g group, o organization, p project, u user,
// t type) and one byte holding the routing payload's length. The first
// routable tokens had no version field and put the routing payload first,
// then the random bytes and one byte holding their count (16).
const (
	gitlabCRCLen    = 7
	gitlabLenLen    = 2
	gitlabRandomLen = 16
)

var gitlabRoutingKeys = map[string]string{
	"c": "cell_id", "g": "group_id", "o": "organization_id",
	"p": "project_id", "u": "user_id", "t": "token_type",
}

func gitlabRoutable(secret string) (bool, map[string]string) {
	n := len(secret)
	if n < gitlabCRCLen+gitlabLenLen+2 {
		return false, nil
	}
	want, err := strconv.ParseUint(secret[n-gitlabCRCLen:], 36, 64)
	if err != nil {
		return false, nil
	}
	// The CRC covers the prefix, and a regex may have captured an
	// instance prefix ("acme-glpat-") or not: accept any start at a dash.
	body := secret[:n-gitlabCRCLen]
	crcOK := false
	for i := 0; i < len(body); i++ {
		if i > 0 && body[i-1] != '-' {
			continue
		}
		if uint64(crc32.ChecksumIEEE([]byte(body[i:]))) == want {
			crcOK = true
			break
		}
	}
	if !crcOK {
		return false, nil
	}
	b64len, err := strconv.ParseUint(body[len(body)-gitlabLenLen:], 36, 16)
	if err != nil {
		return false, nil
	}
	rest := body[:len(body)-gitlabLenLen]
	if !strings.HasSuffix(rest, ".") {
		return false, nil
	}
	rest = rest[:len(rest)-1]
	versioned := false
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		if v, err := strconv.ParseUint(rest[i+1:], 36, 16); err == nil && len(rest)-i-1 == 2 {
			versioned = v >= 1
			rest = rest[:i]
		}
	}
	if uint64(len(rest)) < b64len {
		return false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest[uint64(len(rest))-b64len:])
	if err != nil || len(raw) < gitlabRandomLen+2 {
		return false, nil
	}
	last := int(raw[len(raw)-1])
	var routing []byte
	if versioned {
		// random(16) + routing + len(routing)
		if len(raw) != gitlabRandomLen+last+1 {
			return false, nil
		}
		routing = raw[gitlabRandomLen : len(raw)-1]
	} else {
		// routing + random(n) + n
		if last != gitlabRandomLen || len(raw) < last+2 {
			return false, nil
		}
		routing = raw[:len(raw)-1-last]
	}
	meta := map[string]string{}
	for _, line := range strings.Split(string(routing), "\n") {
		k, v, ok := strings.Cut(line, ":")
		name, known := gitlabRoutingKeys[k]
		if !ok || !known || v == "" {
			return false, nil
		}
		if k != "t" {
			if id, err := strconv.ParseUint(v, 36, 64); err == nil {
				v = strconv.FormatUint(id, 10)
			}
		}
		meta[name] = v
	}
	if _, ok := meta["organization_id"]; !ok {
		return false, nil
	}
	return true, meta
}

// pypiMacaroon decodes a PyPI API token ("pypi-" + base64url of a v2
// binary macaroon) and checks the macaroon's framing: version byte 2, a
// location of pypi.org or test.pypi.org, an identifier, well-formed caveat
// sections and a 32-byte signature. The HMAC itself needs PyPI's root key
// and cannot be checked offline.
func pypiMacaroon(secret string) (bool, map[string]string) {
	enc, ok := strings.CutPrefix(secret, "pypi-")
	if !ok {
		return false, nil
	}
	enc = strings.TrimRight(enc, "=")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(enc)
		if err != nil {
			return false, nil
		}
	}
	if len(raw) < 2 || raw[0] != 2 {
		return false, nil
	}
	r := macaroonReader{b: raw[1:]}
	// Header section: location (1), identifier (2), end of section (0).
	loc, ok := r.field(1)
	if !ok {
		return false, nil
	}
	if id, ok := r.field(2); !ok || len(id) == 0 {
		return false, nil
	}
	if !r.eos() {
		return false, nil
	}
	location := string(loc)
	if location != "pypi.org" && location != "test.pypi.org" {
		return false, nil
	}
	caveats := 0
	for {
		if len(r.b) == 0 {
			return false, nil
		}
		if r.eos() {
			break
		}
		r.field(1) // optional caveat location
		if cid, ok := r.field(2); !ok || len(cid) == 0 {
			return false, nil
		}
		r.field(4) // optional verification id (third-party caveats)
		if !r.eos() {
			return false, nil
		}
		caveats++
	}
	sig, ok := r.field(6)
	if !ok || len(sig) != 32 || len(r.b) != 0 {
		return false, nil
	}
	return true, map[string]string{"location": location, "caveats": strconv.Itoa(caveats)}
}

// macaroonReader walks the fields of a libmacaroons v2 binary macaroon:
// a type byte, a uvarint length and the data; type 0 ends a section.
type macaroonReader struct{ b []byte }

// field consumes a field of the given type if it comes next.
func (r *macaroonReader) field(typ byte) ([]byte, bool) {
	if len(r.b) == 0 || r.b[0] != typ || typ == 0 {
		return nil, false
	}
	n, k := binary.Uvarint(r.b[1:])
	if k <= 0 || uint64(len(r.b)-1-k) < n {
		return nil, false
	}
	data := r.b[1+k : 1+k+int(n)]
	r.b = r.b[1+k+int(n):]
	return data, true
}

// eos consumes an end-of-section marker if it comes next.
func (r *macaroonReader) eos() bool {
	if len(r.b) == 0 || r.b[0] != 0 {
		return false
	}
	r.b = r.b[1:]
	return true
}

// azureStorageKey accepts an Azure storage account key: 88 base64
// characters decoding to 64 bytes.
func azureStorageKey(secret string) (bool, map[string]string) {
	if len(secret) != 88 {
		return false, nil
	}
	raw, err := base64.StdEncoding.DecodeString(secret)
	return err == nil && len(raw) == 64, nil
}
