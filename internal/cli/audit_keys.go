package cli

import (
	"sort"
	"strings"
	"time"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/scanner"
)

// leakTime says when the keys leaked if no commit date tells: the
// --leaked-at flag, else the scan time (reported as an assumption).
type leakTime struct {
	flag     time.Time
	scanTime time.Time
}

// Rules whose findings pair up: an AWS secret key is audited through the
// key id found next to it (meta.paired_with).
const (
	ruleAWSKeyID  = "aws-access-key-id"
	ruleAWSSecret = "aws-secret-access-key"
)

// keysFromFindings groups findings by secret into keys: one key per
// distinct secret, with every place it was found. Findings may be fresh
// from a scan or read back from a (redacted) JSON report. It also returns,
// for each finding fingerprint, the key fingerprint it belongs to.
func keysFromFindings(fs []scanner.Finding, lt leakTime) ([]audit.Key, map[string]string) {
	sorted := append([]scanner.Finding(nil), fs...)
	// Provider rules before generic ones, then oldest first, so a key is
	// named after its most specific rule and first appearance.
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if (a.Provider == "") != (b.Provider == "") {
			return a.Provider != ""
		}
		if !a.Date.Equal(b.Date) {
			return a.Date.Before(b.Date)
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	type group struct {
		key      audit.Key
		earliest time.Time
	}
	var groups []*group
	bySecret := map[string]*group{}
	byFinding := map[string]*group{} // finding fingerprint -> group
	var paired, unpaired []scanner.Finding
	for _, f := range sorted {
		// AWS secret keys go after every key id is grouped: paired ones
		// join their id's key, and the same secret seen elsewhere without
		// an id joins it too.
		if f.RuleID == ruleAWSSecret {
			if f.Meta["paired_with"] != "" {
				paired = append(paired, f)
			} else {
				unpaired = append(unpaired, f)
			}
			continue
		}
		id := secretID(f)
		g := bySecret[id]
		if g == nil {
			g = &group{key: newKey(f)}
			bySecret[id] = g
			groups = append(groups, g)
		}
		addLocation(&g.key, &g.earliest, f)
		byFinding[f.Fingerprint] = g
	}
	for _, f := range append(paired, unpaired...) {
		id := secretID(f)
		g := byFinding[f.Meta["paired_with"]]
		if g == nil {
			g = bySecret["pair:"+id]
		}
		if g == nil {
			// No key id next to it anywhere (or it was filtered out):
			// audit the secret on its own.
			if g = bySecret[id]; g == nil {
				g = &group{key: newKey(f)}
				bySecret[id] = g
				groups = append(groups, g)
			}
		} else {
			bySecret["pair:"+id] = g
			if g.key.PairSecret == "" && fullSecret(f) {
				g.key.PairSecret = f.Secret
			}
		}
		addLocation(&g.key, &g.earliest, f)
		byFinding[f.Fingerprint] = g
	}
	keys := make([]audit.Key, 0, len(groups))
	for _, g := range groups {
		k := g.key
		switch {
		case !g.earliest.IsZero():
			k.LeakedAt, k.LeakedAtSource = g.earliest.UTC(), audit.LeakedAtCommit
		case !lt.flag.IsZero():
			k.LeakedAt, k.LeakedAtSource = lt.flag.UTC(), audit.LeakedAtFlag
		default:
			k.LeakedAt, k.LeakedAtSource = lt.scanTime.UTC(), audit.LeakedAtAssumed
		}
		if k.RuleID == ruleAWSSecret && k.KeyID == "" {
			k.Errors = append(k.Errors, "no access key id was found next to this secret access key, so its account cannot be looked up")
		}
		keys = append(keys, k)
	}
	owner := map[string]string{}
	for fp, g := range byFinding {
		owner[fp] = g.key.Fingerprint
	}
	return keys, owner
}

// secretID identifies a secret across findings without holding it: its
// SHA-256, else (an old report without it) the finding's fingerprint.
func secretID(f scanner.Finding) string {
	if f.SecretSHA256 != "" {
		return f.SecretSHA256
	}
	if fullSecret(f) {
		return scanner.SecretSHA256(f.Secret)
	}
	return "fp:" + f.Fingerprint
}

// fullSecret reports whether the finding holds the secret itself (a scan
// run in-process, or a report written with --show-secrets), not a hint.
func fullSecret(f scanner.Finding) bool {
	if f.Secret == "" || strings.HasSuffix(f.Secret, "…") {
		return false
	}
	return f.SecretSHA256 == "" || scanner.SecretSHA256(f.Secret) == f.SecretSHA256
}

func newKey(f scanner.Finding) audit.Key {
	k := audit.Key{
		Fingerprint:  f.Fingerprint,
		RuleID:       f.RuleID,
		Provider:     providerName(f.Provider),
		SecretSHA256: f.SecretSHA256,
		Status:       audit.StatusUnknown,
	}
	if fullSecret(f) {
		k.Secret = f.Secret
		k.Hint = scanner.Redact(f.Secret)
		if k.SecretSHA256 == "" {
			k.SecretSHA256 = scanner.SecretSHA256(f.Secret)
		}
	} else {
		k.Hint = f.Secret
	}
	if f.RuleID == ruleAWSKeyID {
		k.KeyID = f.Meta["access_key_id"]
		if k.KeyID == "" && fullSecret(f) {
			k.KeyID = f.Secret
		}
	}
	return k
}

// providerName is the rule's provider in lower case with dashes: "AWS"
// becomes "aws", "Google Cloud" "google-cloud".
func providerName(p string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(p)), " ", "-")
}

func addLocation(k *audit.Key, earliest *time.Time, f scanner.Finding) {
	loc := audit.Location{File: f.File, Line: f.Line, Commit: f.Commit}
	if !f.Date.IsZero() {
		d := f.Date.UTC()
		loc.Date = &d
		if earliest.IsZero() || d.Before(*earliest) {
			*earliest = d
		}
	}
	k.LeakLocations = append(k.LeakLocations, loc)
	for _, l := range f.Locations {
		k.LeakLocations = append(k.LeakLocations, audit.Location{File: l.File, Line: l.Line, Commit: l.Commit})
	}
}
