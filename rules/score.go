package rules

import (
	"strings"
	"unicode"
)

// Scorers rate the candidates of context rules (a keyword, an operator and
// a value) from features of the key and the value, instead of dropping
// them on stopwords: confidence then says how likely the value is a real
// credential, and --min-confidence picks what is reported. The path and
// file type are weighed later, by the engine, which knows them.
type Scorer func(c Candidate) Score

// Candidate is one keyword-context match.
type Candidate struct {
	Before string // up to 64 bytes of text before the match (the rest of the key name)
	Prefix string // matched text before the value: key, operator, quote
	Value  string // the value as written
	After  string // a few bytes of text after the value
}

// Score is a scorer's verdict.
type Score struct {
	Value float64 // 0..1; below ScoreDrop the candidate is dropped
	// Bare marks an unquoted, identifier-like value: a literal in a config
	// or .env file, but a variable reference in code.
	Bare bool
	// Weak marks a password that is a word or a common default (postgres,
	// admin, cassandra): filler in tests, examples and docs, where it stays
	// low, but a credential in use in deployment config (compose, CI,
	// .env, YAML, properties) and non-test code, where the engine raises
	// it to medium.
	Weak bool
}

// Score thresholds: at or above High a candidate gets high confidence, at
// or above Medium medium, at or above Drop low; below Drop it is dropped.
const (
	ScoreHigh   = 0.75
	ScoreMedium = 0.40
	ScoreDrop   = 0.25
)

// ConfidenceFor maps a score to a confidence level ("" means drop).
func ConfidenceFor(s float64) string {
	switch {
	case s >= ScoreHigh:
		return ConfidenceHigh
	case s >= ScoreMedium:
		return ConfidenceMedium
	case s >= ScoreDrop:
		return ConfidenceLow
	}
	return ""
}

// DefaultScorers returns the built-in scorers by name.
func DefaultScorers() map[string]Scorer {
	return map[string]Scorer{
		"keyword-context": scoreKeywordContext,
		"url-userinfo":    scoreURLUserinfo,
		"cli-password":    scoreCredentialValue,
		"credential":      scoreCredentialValue,
	}
}

// keyKind classifies the key a value is assigned to.
type keyKind int

const (
	kindNone keyKind = iota
	kindPassword
	kindSecret
	kindToken
	kindAPIKey
	kindKey // a *_key name: encryption key, app key, ...
	kindAuth
)

var kindBase = map[keyKind]float64{
	kindPassword: 0.5, kindSecret: 0.5, kindToken: 0.45, kindAPIKey: 0.5, kindKey: 0.3, kindAuth: 0.35,
}

// keyWords splits an identifier into lower-case words: snake, kebab,
// dotted and camelCase.
func keyWords(key string) []string {
	var words []string
	var cur []rune
	rs := []rune(key)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && i > 0 && unicode.IsLower(rs[i-1]) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return words
}

// keyPart extracts the key name from the text before the value.
func keyPart(prefix string) string {
	// Drop the operator, quotes and spaces after the key.
	end := len(prefix)
	for end > 0 && strings.ContainsRune(" \t\"'`=:>!@[]-,(", rune(prefix[end-1])) {
		end--
	}
	// "with:" (Capybara fill_in) and similar trailing operator words.
	p := prefix[:end]
	if strings.HasSuffix(strings.ToLower(p), "with") {
		p = strings.TrimRight(p[:len(p)-4], " \t,")
		end = len(p)
	}
	start := end
	for start > 0 {
		c := prefix[start-1]
		if c == '_' || c == '-' || c == '.' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			start--
			continue
		}
		break
	}
	return prefix[start:end]
}

var notPasswordWords = map[string]bool{"bypass": true, "compass": true, "passing": true, "passed": true, "passes": true, "passive": true, "passenger": true, "passport": true, "passthrough": true, "passthru": true, "encompass": true, "nopasswd": true, "passable": true}

// notSecretWords in a key name say it holds something about a secret
// (its path, length, expiry, label), not the secret.
var notSecretWords = map[string]bool{
	"file": true, "path": true, "dir": true, "url": true, "uri": true, "name": true, "type": true, "length": true,
	"len": true, "size": true, "min": true, "max": true, "expiry": true, "expires": true, "expiration": true,
	"ttl": true, "timeout": true, "enabled": true, "enable": true, "required": true, "policy": true, "hint": true,
	"label": true, "prompt": true, "field": true, "header": true, "param": true, "format": true, "mode": true,
	"count": true, "version": true, "algorithm": true, "reset": true, "forgot": true, "rule": true, "rules": true,
	"regex": true, "pattern": true, "placeholder": true, "validator": true, "validation": true, "strength": true,
	"input": true, "error": true, "message": true, "title": true, "method": true, "prefix": true, "suffix": true,
	"index": true, "location": true, "endpoint": true, "host": true, "port": true, "id": true, "ids": true,
	"char": true, "chars": true, "column": true, "col": true, "attr": true, "attribute": true, "lifetime": true,
	"template": true, "description": true, "desc": true, "help": true, "usage": true, "errors": true,
	"public": true, "pub": true, "hash": true, "hashed": true, "digest": true, "checksum": true, "fingerprint": true,
	"lang": true, "locale": true, "i18n": true, "from": true, "username": true, "user": true,
	"login": true, "email": true, "issuer": true, "alg": true, "encoding": true, "encoder": true, "redis": true,
	"cache": true, "sort": true, "primary": true, "foreign": true, "partition": true, "lookup": true,
	"commit": true, "sha": true, "revision": true, "rev": true, "svg": true, "png": true, "jpg": true, "gif": true, "html": true, "js": true, "css": true, "txt": true,
	"toolbar": true, "style": true, "class": true, "icon": true, "button": true, "link": true, "mask": true,
}

// ownerWords name whose secret a key holds when they come before the
// secret word (user_password); after it they name an attribute
// (password_username).
var ownerWords = map[string]bool{"user": true, "username": true, "login": true, "email": true}

func classify(key string) keyKind {
	words := keyWords(key)
	salted, seenSecret := false, false
	for _, w := range words {
		if ownerWords[w] && !seenSecret {
			// userPassword, admin_email_token: the secret of a user,
			// not an attribute of a secret (password_user is).
			continue
		}
		if containsSecretWord(w) {
			seenSecret = true
		}
		if strings.HasSuffix(w, "salt") || w == "pepper" {
			// A hard-coded salt is key material (WordPress AUTH_SALT):
			// scored like a *_key name, so only random-looking values of
			// 16 characters or more are kept. Nonces are not: they are
			// public by design, and crypto test vectors are full of them.
			salted = true
			continue
		}
		if notSecretWords[w] {
			return kindNone
		}
	}
	if salted {
		return kindKey
	}
	kind := kindNone
	for i, w := range words {
		last := i == len(words)-1
		switch {
		case notPasswordWords[w]:
		case strings.Contains(w, "password") || strings.Contains(w, "passwd") || strings.Contains(w, "passphrase") ||
			w == "pass" || w == "pwd" || w == "pw" || w == "pswd" || w == "passwort" || w == "kennwort" || w == "senha" ||
			w == "contrasena" || w == "contraseña" || w == "parol" || w == "parole" || w == "motdepasse" ||
			strings.HasSuffix(w, "pass") || strings.HasSuffix(w, "pwd"):
			return kindPassword
		case strings.Contains(w, "secret") && !strings.Contains(w, "secretar"):
			// secretary, secretariat: a person or an office.
			kind = maxKind(kind, kindSecret)
		case w == "apikey" || w == "api" && i+1 < len(words) && words[i+1] == "key":
			kind = maxKind(kind, kindAPIKey)
		case strings.HasSuffix(w, "token"):
			kind = maxKind(kind, kindToken)
		case w == "credential" || w == "credentials" || w == "creds":
			kind = maxKind(kind, kindAuth)
		case (w == "auth" || w == "authorization") && last:
			kind = maxKind(kind, kindAuth)
		case (w == "key" && i > 0 || strings.HasSuffix(w, "key") && w != "key") && last:
			// A bare "key" is any map key; "aes_key", "appKey" name one.
			kind = maxKind(kind, kindKey)
		}
	}
	return kind
}

func maxKind(a, b keyKind) keyKind {
	if kindBase[b] > kindBase[a] {
		return b
	}
	return a
}

// weakValues are values people write where a secret goes: they are
// reported at low confidence (CredData counts many as real credentials).
var weakValues = map[string]bool{
	"password": true, "passwd": true, "pass": true, "secret": true, "root": true, "admin": true, "guest": true,
	"test": true, "testing": true, "changeme": true, "change_me": true, "default": true, "user": true,
	"username": true, "postgres": true, "mysql": true, "qwerty": true, "letmein": true, "123456": true,
	"12345678": true, "1234": true, "12345": true, "token": true, "key": true, "apikey": true, "api_key": true,
	"demo": true, "sample": true, "example": true, "foo": true, "bar": true, "foobar": true, "abc": true,
	"abc123": true, "password123": true, "pass123": true, "mypassword": true, "mysecret": true,
}

// nonValues are words that are never a credential's value.
var nonValues = map[string]bool{
	"true": true, "false": true, "null": true, "nil": true, "none": true, "undefined": true, "yes": true,
	"no": true, "on": true, "off": true, "required": true, "optional": true, "string": true, "str": true,
	"int": true, "bool": true, "boolean": true, "object": true, "bytes": true, "byte": true, "char": true,
	"text": true, "varchar": true, "number": true, "integer": true, "array": true, "function": true,
	"self": true, "this": true, "new": true, "return": true, "await": true, "async": true, "const": true,
	"let": true, "var": true, "def": true, "func": true, "public": true, "private": true, "static": true,
	"hidden": true, "masked": true, "redacted": true, "secret_here": true, "empty": true, "blank": true,
	"unknown": true, "invalid": true, "any": true, "env": true, "environment": true, "inherit": true,
	"lambda": true, "type": true, "not": true, "and": true, "or": true, "in": true, "is": true, "if": true,
}

// placeholderMarks in a value mean it stands for a secret rather than
// being one.
var placeholderMarks = []string{
	"${", "{{", "}}", "#{", "%(", "$(", "<%", "%>", "xxxx", "****", "....", "your_", "your-", "yourpass",
	"yourtoken", "yourkey", "yoursecret", "your password", "placeholder", "replace_me", "replace-me",
	"%s", "%d", "%v", "changeme", "change_me", "change-me", "changeit", "insert_", "enter_", "_here", "-here", " here", "todo", "fixme", "redacted", "<", "***", "…", "•",
}

// charClasses counts lower, upper, digit and other characters present.
func charClasses(s string) (classes int, lower, upper, digit, other bool) {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	return
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !isHex(s[i : i+1]) {
			return false
		}
	}
	return true
}

// identLike reports a value written like a program identifier: a
// variable, attribute path or constant name rather than random text.
func identLike(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '$' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// wordLike reports identifiers made of dictionary-looking words: lower or
// camel/snake case with few digits (user_password, dbPassword, Bullock).
func wordLike(s string) bool {
	if !identLike(s) {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	if digits > 2 {
		return false
	}
	ws := keyWords(s)
	short := 0
	for _, w := range ws {
		if len(w) > 14 || !vowelish(w) {
			return false
		}
		if len(w) <= 2 {
			short++
		}
	}
	// Random mixed case splits into fragments (zYiAqd9aFz: z Yi Aqd9a Fz);
	// names split into words (oaCitations, getXMLHttpRequest).
	return len(ws) < 3 || short*2 <= len(ws)
}

// vowelish is a crude "pronounceable" test: random strings of letters
// rarely keep a vowel in every 4 letters.
func vowelish(w string) bool {
	run := 0
	for _, r := range w {
		if strings.ContainsRune("aeiouy0123456789", r) {
			run = 0
			continue
		}
		run++
		if run > 5 {
			return false
		}
	}
	return true
}

// scoreKeywordContext scores "key <op> value" candidates.
func scoreKeywordContext(c Candidate) Score {
	// The regex starts at the keyword; the key name may begin before it.
	full := c.Before + c.Prefix
	key := keyPart(full)
	pre := full[:strings.LastIndex(full, key)]
	kind := classify(key)
	if kind == kindNone {
		return Score{}
	}
	// A trailing backslash escapes the quote that closes the string the
	// assignment sits in ('...;password=foobar\' where'): not the value's.
	v := strings.TrimRight(c.Value, `\`)
	quoted := strings.ContainsAny(lastByte(c.Prefix), "\"'`")
	lv := strings.ToLower(v)
	after := strings.TrimLeft(c.After, " \t")
	switch {
	case v == "" || nonValues[lv] || nonValues[strings.TrimRight(lv, "!?[]")]:
		return Score{}
	case !quoted && (strings.HasPrefix(after, "(") || strings.HasPrefix(after, "[") || strings.HasPrefix(after, ".") ||
		strings.HasPrefix(after, ">") || strings.HasPrefix(after, "::") || strings.HasSuffix(v, "-") || strings.HasSuffix(v, "=") && len(v) < 16):
		return Score{} // a call, index, attribute or pointer: code
	case quoted && strings.HasPrefix(after[min(1, len(after)):], ".") && !literalConversion(after[1:]):
		return Score{} // 'bearer {x}'.format(...)
	case strings.HasPrefix(v, "--"):
		return Score{} // a command-line flag
	case templated(v):
		return Score{} // a format string
	case strings.Count(v, " ") >= 2:
		return Score{} // a sentence
	case !quoted && len(after) < len(c.After) && after != "" && (after[0] >= 'a' && after[0] <= 'z' || after[0] >= 'A' && after[0] <= 'Z'):
		return Score{} // prose: "password: Gekko needs to log in"
	case !quoted && len(after) < len(c.After) && after != "" && strings.IndexByte("\"'`", after[0]) >= 0:
		return Score{} // a command and its argument: $pw = ConvertTo-SecureString '...'
	case ternaryKey(pre):
		return Score{} // cond ? 'wrongPassword' : 'unlockFailed'
	case key == "PASS" && strings.HasSuffix(strings.TrimRight(c.Prefix, " \t"), ":"):
		return Score{} // a test runner's status line: "--- PASS: TestLog", "PASS: t-foo.sh"
	case strings.Contains(v, "->") || strings.HasPrefix(v, ".$"):
		return Score{} // PHP/C member access and concatenation: '='.$this->config['x']
	case regexLike(v):
		return Score{} // a pattern: client_secret=\w+
	case quoted && (strings.HasPrefix(v, "+") || strings.HasSuffix(v, "+") || strings.HasSuffix(v, "(")):
		return Score{} // "&password="+value(...): string building
	case strings.Contains(v, ",") && strings.Contains(v, "="), strings.Contains(v, "?="), strings.HasSuffix(v, "*"):
		return Score{} // option lists, Kotlin nullables, globs
	case strings.HasPrefix(v, `\n`) || strings.HasPrefix(v, `\t`) || strings.Contains(v, `\n`):
		return Score{} // escaped text
	case constName(v):
		return Score{} // an environment variable or constant name
	case !quoted && (strings.ContainsAny(v[:1], "+:!?") || strings.HasSuffix(v, "?") || strings.Contains(v, "::")):
		return Score{} // an expression, a type (KeyData?), a constant (Password::X)
	case strings.Contains(v, "(") && strings.LastIndexByte(v, ')') > strings.IndexByte(v, '('):
		return Score{} // a call, a mock template @word(6), an elision (...)
	case hashed(lv):
		return Score{} // a password hash, not the password
	case isNumberLiteral(lv):
		return Score{} // 0x02, 0.0479
	}
	switch {
	case strings.HasPrefix(v, "$") || strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%"):
		return Score{} // shell/batch variable, %s format
	case strings.HasPrefix(v, "@") || strings.HasPrefix(v, "&") || strings.HasPrefix(v, "*") && !strings.HasPrefix(v, "**"):
		if !quoted {
			return Score{}
		}
	case strings.HasPrefix(lv, "env(") || strings.HasPrefix(lv, "env.") || strings.HasPrefix(lv, "process.") || strings.HasPrefix(lv, "os."):
		return Score{}
	case isUUID(v):
		return Score{}
	case strings.HasPrefix(v, "!") && !quoted, strings.HasPrefix(v, "-") && !quoted:
		return Score{} // a YAML tag, a shell default (${X:-y})
	case strings.Contains(c.Prefix, "${") || strings.Contains(c.Prefix, "{{") || strings.HasSuffix(pre, "${") ||
		strings.HasSuffix(pre, "{{") || strings.HasSuffix(pre, "%("):
		return Score{} // the key is inside a template
	case strings.HasPrefix(lv, "sha1-") || strings.HasPrefix(lv, "sha256-") || strings.HasPrefix(lv, "sha384-") ||
		strings.HasPrefix(lv, "sha512-") || strings.HasPrefix(lv, "h1:") || strings.HasPrefix(lv, "sha256:"):
		return Score{} // integrity hashes
	case !quoted && identLike(v) && strings.Contains(v, "."):
		return Score{} // an attribute path: config.secret
	}
	for _, m := range placeholderMarks {
		if strings.Contains(lv, m) {
			return Score{}
		}
	}
	if strings.Trim(v, "xX*.#-_0 ") == "" {
		return Score{}
	}
	s := kindBase[kind]
	n := len(v)
	classes, lower, upper, digit, other := charClasses(v)
	ent := ShannonEntropy(v)
	if ent < 1.5 && n > 4 {
		return Score{} // aaaaaaaa, 00000000
	}
	// An unquoted identifier is a variable in code and a literal in a
	// config file: the engine decides by file type.
	bare := !quoted && (identLike(v) || isDigits(v)) && !queryParam(pre)
	if kind == kindKey && (n < 16 || ent < 3.2) {
		return Score{} // cache_key = "user-profile"
	}
	if quoted {
		s += 0.1
	}
	// Length and character variety.
	minLen := 3
	if kind == kindToken || kind == kindAPIKey || kind == kindKey || kind == kindAuth {
		minLen = 8
	}
	if kind == kindSecret {
		minLen = 5
	}
	if n < minLen {
		return Score{}
	}
	if n >= 8 {
		s += 0.05
	}
	if n >= 12 {
		s += 0.05
	}
	if classes >= 3 {
		s += 0.15
	} else if classes == 2 && (digit || upper) {
		s += 0.08
	}
	if ent >= 3.5 {
		s += 0.1
	} else if ent < 2.5 && n >= 6 {
		s -= 0.1
	}
	_ = lower
	// Hashes and digests: often checksums, sometimes secrets.
	if isHex(v) && (n == 32 || n == 40 || n == 64 || n == 128) {
		if kind == kindPassword {
			s -= 0.15
		}
	}
	// Words: weak values and dictionary-looking identifiers.
	if weakValues[lv] || strings.Contains(lv, "password") {
		s -= 0.25
	} else if wordLike(v) && !digit {
		s -= 0.1
		if kind == kindKey || kind == kindToken || kind == kindAPIKey || kind == kindAuth {
			s -= 0.15
		}
	}
	if strings.Contains(v, " ") {
		if phraseLike(v) {
			return Score{} // UI text: 'PASSWORD_CHANGE': 'Change Login'
		}
		s -= 0.5
	}
	if nonASCIILetters(v) {
		if allNonASCII(v) {
			return Score{} // words of a language: password: '你的密码'
		}
		s -= 0.3 // translated UI text
	}
	if wordy := wordLike(v) || phraseLike(v); wordy && (kind == kindToken || kind == kindAPIKey || kind == kindKey || kind == kindAuth) {
		return Score{} // apiKey: "oa_citations", PRIVATE_TOKEN = "X-Access-Token"
	} else if wordy && kind == kindSecret && strings.Contains(lv, "secret") {
		return Score{} // a description of the value: base64-client-secret
	} else if wordy && kind == kindSecret {
		s -= 0.25 // tlsSecret: kiam-agent-tls
		if phraseLike(v) {
			s = min(s, ScoreMedium-0.05) // words joined: base64-something-random
		}
	} else if wordy && phraseLike(v) {
		s -= 0.1
	}
	if countingRun(lv) {
		s = min(s, ScoreMedium-0.05) // nothing but runs: 0123456789, abcdefghijklmno=0123456789
	} else if sequential(lv) {
		s -= 0.25 // abcdefgh, 0123456789
	}
	if isDigits(v) && n < 6 {
		s -= 0.15
	}
	if !weakValues[lv] && containsSecretWord(lv) {
		s -= 0.2 // tokenKey = "access_token", password: "my-password"
	}
	if strings.Contains(lv, "example") || strings.Contains(lv, "sample") || strings.Contains(lv, "dummy") {
		return Score{} // documented example values (…EXAMPLEKEY)
	}
	if other && !digit && !upper && strings.Count(v, "/") >= 2 {
		s -= 0.2 // a path
	}
	// Weak key kinds need a random-looking value.
	if kind == kindKey && (ent < 3.2 || n < 16) {
		s -= 0.2
	}
	// A comparison rather than an assignment.
	if strings.Contains(c.Prefix, "==") || strings.Contains(c.Prefix, "!=") {
		s -= 0.2
	}
	if s > 1 {
		s = 1
	}
	weak := kind == kindPassword && (weakValues[lv] || wordLike(v) && !digit && isLower(v)) && !strings.Contains(c.Prefix, "==")
	return Score{Value: s, Bare: bare, Weak: weak}
}

// phraseLike reports words joined by - . : / (kiam-agent-tls,
// arg-toolbar.text, X-Access-Token): names, not random text.
func phraseLike(s string) bool {
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("-.:/_ ", r) })
	if len(parts) < 2 {
		return false
	}
	digits := 0
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			switch {
			case c >= '0' && c <= '9':
				digits++
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			default:
				return false
			}
		}
		if isDigits(p) {
			continue
		}
		if len(p) > 14 || !vowelish(strings.ToLower(p)) {
			return false
		}
	}
	return digits <= 3
}

// hashed reports password hashes and digests written with their scheme.
func hashed(lv string) bool {
	for _, p := range []string{"pbkdf2_", "pbkdf2:", "$2a$", "$2b$", "$2y$", "$1$", "$5$", "$6$", "$argon2", "{sha}", "{ssha}", "{bcrypt}", "{md5}", "{sha256}", "{noop}", "md5:", "sha1:", "scrypt:"} {
		if strings.HasPrefix(lv, p) {
			return true
		}
	}
	return false
}

// isNumberLiteral reports hex (0x..) and decimal fractions.
func isNumberLiteral(lv string) bool {
	if strings.HasPrefix(lv, "0x") && isHex(lv[2:]) {
		return true
	}
	if i := strings.IndexByte(lv, '.'); i > 0 && isDigits(lv[:i]) && isDigits(lv[i+1:]) {
		return true
	}
	return false
}

// sequential reports keyboard and counting runs people type as filler.
func sequential(lv string) bool {
	for _, r := range []string{"abcd", "1234", "qwerty", "asdfgh", "zxcvbn", "9876"} {
		if strings.Contains(lv, r) {
			return true
		}
	}
	return false
}

// templated reports a format string: a {...} holding a name, an index or
// nothing ({0}, {user}, {{ .Values.x }}). Base64 wrapped in braces
// ({AQAAABAAAAAQ...=}, an encrypted-value notation) is not one.
func templated(v string) bool {
	for {
		i := strings.IndexByte(v, '{')
		if i < 0 {
			return false
		}
		j := strings.IndexByte(v[i:], '}')
		if j < 0 {
			return false
		}
		if in := v[i+1 : i+j]; len(in) <= 40 && !strings.ContainsAny(in, "+/=") {
			return true
		}
		v = v[i+j+1:]
	}
}

// literalConversion reports a method that turns a string literal into
// bytes or chars ("...".toCharArray(), "...".encode()): the literal is
// still the value, unlike "...".format(x) or "...".replace(a, b).
func literalConversion(after string) bool {
	for _, m := range []string{".toCharArray(", ".getBytes(", ".encode(", ".toByteArray(", ".ToCharArray(", ".as_bytes(", ".to_string(", ".to_owned(", ".into(", ".bytes"} {
		if strings.HasPrefix(after, m) {
			return true
		}
	}
	return false
}

// queryParam reports a key written as a URL query parameter (?token=,
// &client_secret=): its unquoted value is a literal, not a variable.
func queryParam(pre string) bool {
	pre = strings.TrimSuffix(pre, "amp;")
	return strings.HasSuffix(pre, "?") || strings.HasSuffix(pre, "&")
}

// countingRun reports values that are mostly ascending runs (0123456789,
// abcdefghijklmnopqrstuvwxyz): filler typed where a key goes.
func countingRun(lv string) bool {
	if len(lv) < 8 {
		return false
	}
	steps := 0
	for i := 1; i < len(lv); i++ {
		if lv[i] == lv[i-1]+1 {
			steps++
		}
	}
	return steps*10 >= (len(lv)-1)*7
}

// ternaryKey reports a "key" that is a quoted operand after '?': the
// ':' that follows is a conditional's, not an assignment.
func ternaryKey(pre string) bool {
	t := strings.TrimRight(pre, " \t'\"`")
	return len(t) < len(pre) && strings.HasSuffix(t, "?")
}

// regexLike reports regular expressions: a value with \w, \d, \s or \S
// and a quantifier or class is a pattern, not a credential.
func regexLike(v string) bool {
	if !strings.Contains(v, `\w`) && !strings.Contains(v, `\d`) && !strings.Contains(v, `\s`) && !strings.Contains(v, `\S`) {
		return false
	}
	return strings.ContainsAny(v, "+*?{[")
}

// constName reports UPPER_SNAKE names: an environment variable or a
// constant, not its value.
func constName(v string) bool {
	if len(v) < 3 || !strings.Contains(v, "_") {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

func containsSecretWord(lv string) bool {
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "auth", "cred"} {
		if strings.Contains(lv, w) {
			return true
		}
	}
	return false
}

func nonASCIILetters(s string) bool {
	for _, r := range s {
		if r > 127 && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func allNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x80 {
			return false
		}
	}
	return true
}

func lastByte(s string) string {
	if s == "" {
		return ""
	}
	return s[len(s)-1:]
}

// scoreURLUserinfo scores the password in scheme://user:password@host.
func scoreURLUserinfo(c Candidate) Score {
	v := c.Value
	lv := strings.ToLower(v)
	if v == "" || isUUID(v) {
		return Score{}
	}
	for _, m := range placeholderMarks {
		if strings.Contains(lv, m) {
			return Score{}
		}
	}
	if strings.HasPrefix(v, "$") || strings.HasPrefix(v, "%") || strings.Trim(v, "xX*.#-_0 ") == "" {
		return Score{}
	}
	s := 0.55
	classes, lower, upper, digit, other := charClasses(v)
	if upper && !lower && !digit && !other || constName(v) {
		return Score{} // USERNAME:APITOKEN@host
	}
	if strings.Contains(v, "**") || strings.HasPrefix(v, "[") || strings.HasSuffix(v, "]") {
		return Score{} // masked or optional: nu***:6a2**@, [user[:password]@]
	}
	if len(v) >= 8 && classes >= 2 {
		s += 0.15
	}
	if ShannonEntropy(v) >= 3.5 {
		s += 0.1
	}
	if weakValues[lv] || lv == "pass" || lv == "pw" || lv == "pwd" {
		s -= 0.25
	} else if wordLike(v) && !digit {
		s -= 0.1
	}
	user := strings.ToLower(c.Prefix[strings.LastIndex(c.Prefix, "/")+1:])
	user = strings.TrimSuffix(user, ":")
	if placeholderUsers[user] && (wordLike(v) || weakValues[lv]) && !digit {
		s -= 0.2 // foo:bar@, hello:world@, user:secret@: a made-up pair
	}
	if exampleHost(c.After) {
		s -= 0.3 // user:pass@example.com, @localhost in docs and tests
	}
	return Score{Value: s}
}

// placeholderUsers are user names docs and tests pair with a made-up
// password in URLs.
var placeholderUsers = map[string]bool{
	"foo": true, "user": true, "username": true, "hello": true, "test": true, "name": true, "login": true,
	"me": true, "someone": true, "john": true, "jane": true, "alice": true, "bob": true, "myuser": true,
}

// exampleHost reports a URL host (after is the text from the '@') that
// documentation reserves or that only names this machine.
func exampleHost(after string) bool {
	h, ok := strings.CutPrefix(after, "@")
	if !ok {
		return false
	}
	if i := strings.IndexAny(h, ":/?#'\" \t`"); i >= 0 {
		h = h[:i]
	}
	h = strings.ToLower(h)
	for _, d := range []string{"example.com", "example.org", "example.net", "example", "test", "invalid"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// scoreCredentialValue scores a value whose context already says it is a
// credential (a password flag, an Authorization header).
func scoreCredentialValue(c Candidate) Score {
	v := c.Value
	lv := strings.ToLower(v)
	if len(v) < 3 || nonValues[lv] {
		return Score{}
	}
	for _, m := range placeholderMarks {
		if strings.Contains(lv, m) {
			return Score{}
		}
	}
	if strings.HasPrefix(v, "$") || strings.HasPrefix(v, "%") || strings.HasPrefix(v, "-") ||
		strings.HasPrefix(v, ":") || strings.HasPrefix(v, "?") || strings.HasPrefix(v, "@") {
		return Score{} // variables and SQL bind parameters
	}
	if strings.HasSuffix(v, ">") {
		return Score{} // the end of a placeholder: curl -u <user:pass>
	}
	if strings.HasSuffix(v, "=") && strings.Trim(v[:len(v)-1], "abcdefghijklmnopqrstuvwxyz_") == "" {
		return Score{} // '--password', dest='password': an argparse keyword, not a value
	}
	if after := strings.TrimLeft(c.After, " \t"); len(after) < len(c.After) && after != "" &&
		after[0] >= 'a' && after[0] <= 'z' && v[0] >= 'A' && v[0] <= 'Z' && isLower(v[1:]) {
		return Score{} // help text: "-W, --password   Force password prompt."
	}
	s := 0.5
	classes, _, _, digit, _ := charClasses(v)
	if len(v) >= 8 && classes >= 2 {
		s += 0.15
	}
	if ShannonEntropy(v) >= 3.3 {
		s += 0.1
	}
	if weakValues[lv] {
		s -= 0.2
	} else if wordLike(v) && !digit {
		s -= 0.1
	}
	return Score{Value: s}
}
