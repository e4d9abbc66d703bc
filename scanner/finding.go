// Package scanner is keytrail's detection core: sources yield items, the
// engine finds secrets in them, and findings come out, deduplicated and
// fingerprinted, for reports, audit and remediation.
package scanner

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// Finding is one detected secret at one location.
type Finding struct {
	RuleID      string   `json:"rule_id"`
	Description string   `json:"description"`
	Provider    string   `json:"provider,omitempty"`
	Severity    string   `json:"severity"`
	Confidence  string   `json:"confidence"`
	Tags        []string `json:"tags,omitempty"`

	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
	// MatchLine and MatchEndLine are the lines the rule's whole match
	// spans, context included (a netrc match starts at its machine line,
	// two above the password). Not reported; a history source uses them
	// to carry findings to later versions. 0: as Line and EndLine.
	MatchLine    int     `json:"-"`
	MatchEndLine int     `json:"-"`
	Secret       string  `json:"secret"`
	Match        string  `json:"match"`
	Entropy      float64 `json:"entropy"`
	Fingerprint  string  `json:"fingerprint"`
	// SecretSHA256 is the base64 SHA-256 of the secret (GitHub's audit-log
	// hashed_token), so a redacted report still identifies the key.
	SecretSHA256 string `json:"secret_sha256,omitempty"`

	// Valid is the offline validator's verdict; nil when the rule has none.
	Valid *bool `json:"valid,omitempty"`
	// Decoded names the encodings a secret was found under, e.g. "base64".
	Decoded string            `json:"decoded,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`

	// Git provenance, filled by history sources.
	Commit         string    `json:"commit,omitempty"`
	Author         string    `json:"author,omitempty"`
	Email          string    `json:"email,omitempty"`
	Date           time.Time `json:"date,omitzero"`
	Message        string    `json:"message,omitempty"`
	PresentAtHead  *bool     `json:"present_at_head,omitempty"`
	OtherLocations int       `json:"other_locations,omitempty"`
	// CommitsContaining counts the commits whose tree holds the secret
	// (the one that introduced it and the later ones that kept it).
	CommitsContaining int        `json:"commits_containing,omitempty"`
	Locations         []Location `json:"locations,omitempty"`

	// Where the repository is, for scans of many (keytrail scan github):
	// owner/name, its web URL, and a link to the finding (the commit and
	// line, or the Actions run).
	Repository    string `json:"repository,omitempty"`
	RepositoryURL string `json:"repository_url,omitempty"`
	URL           string `json:"url,omitempty"`

	// SuppressedByChange says what would have silenced this finding if the
	// suppression had been trusted: one the scanned change added itself
	// (a baseline or ignore entry, an allowlist rule, an inline allow
	// comment). Such findings are reported, not silently dropped.
	SuppressedByChange string `json:"suppressed_by_change,omitempty"`

	// Later stages (live validation, audit) record their verdicts here.
	Status map[string]string `json:"status,omitempty"`
}

// Location is one more place a secret was seen.
type Location struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Commit string `json:"commit,omitempty"`
}

// Fingerprint identifies a secret at a path for one rule. It leaves out
// line and commit so that unrelated edits do not change it.
func Fingerprint(ruleID, path, secret string) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// SecretHash is a one-way digest of a secret alone, for matching the same
// key across paths without storing it.
func SecretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])[:32]
}

// SecretSHA256 is the standard base64 encoding of the secret's SHA-256:
// the format of GitHub's audit-log hashed_token.
func SecretSHA256(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Redact returns a short, safe hint of a secret: at most a recognisable
// prefix (up to the first separator for prefixed tokens, else 4 chars).
func Redact(secret string) string {
	if len(secret) < 8 {
		return "…"
	}
	n := 4
	if i := strings.IndexAny(secret, "_-."); i > 0 && i <= 12 {
		n = i + 1
	}
	if strings.HasPrefix(secret, "-----BEGIN") {
		if i := strings.Index(secret, "-----\n"); i > 0 || strings.Contains(secret, "KEY-----") {
			end := strings.Index(secret[5:], "-----")
			if end > 0 {
				return secret[:end+10] + "…"
			}
		}
	}
	// Never reveal more than a third of a short secret.
	if n > len(secret)/3 {
		n = len(secret) / 3
	}
	return secret[:n] + "…"
}

// Redacted returns a copy with the secret and matched text hidden.
func (f Finding) Redacted() Finding {
	if f.SecretSHA256 == "" && f.Secret != "" {
		f.SecretSHA256 = SecretSHA256(f.Secret)
	}
	hint := Redact(f.Secret)
	if f.Match != "" {
		f.Match = strings.ReplaceAll(f.Match, f.Secret, hint)
		if strings.Contains(f.Match, f.Secret) || f.Match == f.Secret {
			f.Match = hint
		}
	}
	if f.Message != "" && len(f.Secret) >= 8 {
		f.Message = strings.ReplaceAll(f.Message, f.Secret, hint)
	}
	f.Secret = hint
	if f.Locations != nil {
		f.Locations = append([]Location(nil), f.Locations...)
	}
	return f
}

// RedactAll redacts findings together. Besides each finding's own secret,
// any other secret reported on the same line (a key id next to its secret
// key) is hidden in its matched text, secrets found in commit messages are
// hidden in every message, and the text around a secret found by decoding
// (which holds it encoded) is not shown at all.
func RedactAll(fs []Finding) []Finding {
	type lineKey struct {
		file string
		line int
	}
	bySpot := map[lineKey][]string{}
	var inMessages []string
	for _, f := range fs {
		if len(f.Secret) < 8 {
			continue
		}
		for l := f.Line; l <= f.EndLine || l == f.Line; l++ {
			k := lineKey{f.File, l}
			bySpot[k] = append(bySpot[k], f.Secret, Redact(f.Secret))
		}
		if f.File == MessageFile {
			inMessages = append(inMessages, f.Secret, Redact(f.Secret))
		}
	}
	replacers := map[lineKey]*strings.Replacer{}
	msgs := strings.NewReplacer(inMessages...)
	out := make([]Finding, len(fs))
	for i, f := range fs {
		r := f.Redacted()
		k := lineKey{f.File, f.Line}
		if pairs := bySpot[k]; len(pairs) > 2 {
			rep := replacers[k]
			if rep == nil {
				rep = strings.NewReplacer(pairs...)
				replacers[k] = rep
			}
			r.Match = rep.Replace(r.Match)
		}
		if f.Decoded != "" {
			r.Match = r.Secret
		}
		if len(inMessages) > 0 && r.Message != "" {
			r.Message = msgs.Replace(r.Message)
		}
		out[i] = r
	}
	return out
}

// MessageFile is the file name of findings in commit messages.
const MessageFile = "(commit message)"

var severityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

// SeverityRank orders severities, most severe first; unknown ones last.
func SeverityRank(s string) int {
	if r, ok := severityRank[s]; ok {
		return r
	}
	return 5
}

var confidenceRank = map[string]int{"low": 0, "medium": 1, "high": 2}

// ConfidenceAtLeast reports whether c is at least min.
func ConfidenceAtLeast(c, min string) bool {
	return confidenceRank[c] >= confidenceRank[min]
}

// SortFindings orders findings by file, line, column, rule id, then
// fingerprint and commit, so that a report does not depend on the order
// workers finished in (two keys on one line of two versions of a file).
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		if a.Fingerprint != b.Fingerprint {
			return a.Fingerprint < b.Fingerprint
		}
		return a.Commit < b.Commit
	})
}
