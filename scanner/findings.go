package scanner

import (
	"sort"
	"strings"

	"github.com/keytrail/keytrail/rules"
)

// inlineAllow are the markers that suppress a finding on their line;
// gitleaks' marker is accepted so teams can migrate without edits.
var inlineAllow = []string{"keytrail:allow", "gitleaks:allow"}

// inlineMarker returns the allow marker on line, or "".
func inlineMarker(line string) string {
	for _, m := range inlineAllow {
		if strings.Contains(line, m) {
			return m
		}
	}
	return ""
}

// toFindings turns an item's raw matches into findings: inline and global
// allowlists, confidence filter, then one finding per secret location
// (a provider rule wins over a generic one matching the same secret).
func (w *Worker) toFindings(path string, ms []rawMatch) []Finding {
	e := w.e
	// A provider-format token that fails its checksum is not a secret:
	// it is dropped (unless --report-invalid) and must not resurface
	// through a generic rule matching the same text.
	// A generic match whose text overlaps a provider match is noise
	// about a line that is already reported (or already known invalid).
	var provider [][2]int64
	for _, m := range ms {
		if !e.rules[m.rule].Generic {
			provider = append(provider, m.matchSpan())
		}
	}
	if len(ms) == 0 {
		return nil
	}
	kept := ms[:0]
	noisy := e.noise.noisy(path)
	pk := kindOf(path)
	for _, m := range ms {
		r := e.rules[m.rule]
		if noisy && r.Generic {
			continue
		}
		if !weighPath(r, &m.m, m.text, pk) {
			continue
		}
		// The rule's own allowlist: paths, and line regexes against the
		// whole line (FindAll saw only the matched text).
		if r.Allowlist.AllowsPath(path) || r.Allowlist.AllowsLine(m.text) {
			continue
		}
		if m.m.Valid != nil && !*m.m.Valid && !e.opts.ReportInvalid {
			continue
		}
		if r.Generic && overlapsAny(m.matchSpan(), provider) {
			continue
		}
		if marker := inlineMarker(m.text); marker != "" {
			if !e.opts.MarkInlineAllowed {
				continue
			}
			m.inline = marker
		}
		if e.opts.Allowlist != nil && e.opts.Allowlist.AllowsSecret(m.m.Secret, m.text) {
			continue
		}
		if e.opts.MinConfidence != "" && !ConfidenceAtLeast(m.m.Confidence, e.opts.MinConfidence) {
			continue
		}
		kept = append(kept, m)
	}
	ms = kept
	// Overlapping secrets: keep the most specific rule's match.
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].sec != ms[j].sec {
			return ms[i].sec < ms[j].sec
		}
		return betterMatch(e.rules[ms[i].rule], ms[i], e.rules[ms[j].rule], ms[j])
	})
	var out []Finding
	prev := -1 // index in ms of the match last reported
	for i, m := range ms {
		if prev >= 0 && m.sec < ms[prev].sec+int64(ms[prev].secretSpan()) {
			p := ms[prev]
			r, pr := e.rules[m.rule], e.rules[p.rule]
			// Same span found by two rules, or a generic rule
			// overlapping a specific one: report once.
			// So does a secret found by decoding text that a rule
			// already matched as written.
			if (m.sec == p.sec && m.m.Secret == p.m.Secret) || r.Generic || pr.Generic || (m.decoded == "") != (p.decoded == "") {
				if betterMatch(r, m, pr, p) {
					out[len(out)-1] = w.finding(path, m)
					prev = i
				}
				continue
			}
		}
		out = append(out, w.finding(path, m))
		prev = i
	}
	w.pair(out)
	return out
}

// pair links findings of paired rules (an AWS key id and the secret key
// next to it): each records the other's fingerprint in meta.paired_with.
func (w *Worker) pair(fs []Finding) {
	for i := range fs {
		r := w.e.byID[fs[i].RuleID]
		if r == nil || r.PairRule == "" {
			continue
		}
		best, bestDist := -1, r.PairLines+1
		for j := range fs {
			if fs[j].RuleID != r.PairRule {
				continue
			}
			d := fs[j].Line - fs[i].Line
			if d < 0 {
				d = -d
			}
			if d < bestDist {
				best, bestDist = j, d
			}
		}
		if best < 0 {
			continue
		}
		setMeta(&fs[i], "paired_with", fs[best].Fingerprint)
		setMeta(&fs[best], "paired_with", fs[i].Fingerprint)
	}
}

func setMeta(f *Finding, k, v string) {
	if f.Meta == nil {
		f.Meta = map[string]string{}
	} else if _, shared := f.Meta[k]; !shared {
		// Meta may be shared with the validator's result; copy on write.
		m := make(map[string]string, len(f.Meta)+1)
		for kk, vv := range f.Meta {
			m[kk] = vv
		}
		f.Meta = m
	}
	f.Meta[k] = v
}

// secretSpan is the length of the secret's text in the original input.
func (m rawMatch) secretSpan() int {
	if m.decoded != "" {
		return m.span
	}
	return len(m.m.Secret)
}

// matchSpan is the absolute span of the whole match (context included).
func (m rawMatch) matchSpan() [2]int64 {
	if m.decoded != "" {
		return [2]int64{m.sec, m.sec + int64(m.span)}
	}
	return [2]int64{m.start, m.start + int64(m.m.End-m.m.Start)}
}

func overlapsAny(span [2]int64, spans [][2]int64) bool {
	for _, sp := range spans {
		if span[0] < sp[1] && sp[0] < span[1] {
			return true
		}
	}
	return false
}

// betterMatch prefers, in order: a provider rule over a generic one, a
// match in the text as written over one found by decoding it, then
// better() on the rules and matches.
func betterMatch(ra *rules.Rule, a rawMatch, rb *rules.Rule, b rawMatch) bool {
	if ra.Generic == rb.Generic && (a.decoded == "") != (b.decoded == "") {
		return a.decoded == ""
	}
	return better(ra, a.m, rb, b.m)
}

// better reports whether match a of rule ra should be reported over b.
func better(ra *rules.Rule, a rules.Match, rb *rules.Rule, b rules.Match) bool {
	if ra.Generic != rb.Generic {
		return !ra.Generic
	}
	if a.Confidence != b.Confidence {
		return ConfidenceAtLeast(a.Confidence, b.Confidence)
	}
	if len(a.Secret) != len(b.Secret) {
		return len(a.Secret) > len(b.Secret)
	}
	return ra.ID < rb.ID
}

func (w *Worker) finding(path string, m rawMatch) Finding {
	r := w.e.rules[m.rule]
	match := m.text
	f := Finding{
		RuleID:       r.ID,
		Description:  r.Description,
		Provider:     r.Provider,
		Severity:     r.Severity,
		Confidence:   m.m.Confidence,
		Tags:         r.Tags,
		File:         path,
		Line:         m.line,
		Column:       m.col,
		EndLine:      m.eline,
		EndColumn:    m.ecol,
		MatchLine:    m.mline,
		MatchEndLine: m.meline,
		Secret:       m.m.Secret,
		Match:        strings.TrimRight(match, "\r"),
		Entropy:      round2(m.m.Entropy),
		Fingerprint:  Fingerprint(r.ID, path, m.m.Secret),
		SecretSHA256: SecretSHA256(m.m.Secret),
		Valid:        m.m.Valid,
		Decoded:      m.decoded,
	}
	if len(m.m.Meta) > 0 {
		f.Meta = m.m.Meta
	}
	if m.inline != "" {
		f.SuppressedByChange = m.inline + " comment on a line the change adds"
	}
	return f
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
