package audit

import (
	"sort"
	"time"
)

// Report is the JSON document `keytrail audit --format json` writes and
// `keytrail remediate plan --from` reads.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	Keys        []Key     `json:"keys"`
	Summary     Summary   `json:"summary"`
}

// Summary counts the keys of a report.
type Summary struct {
	Keys          int            `json:"keys"`
	ByRisk        map[string]int `json:"by_risk"`
	UsedAfterLeak int            `json:"used_after_leak"`
	OverMaxAge    int            `json:"over_max_age"`
	// InputErrors counts inputs that could not be read (the exit is 2).
	InputErrors []string `json:"input_errors"`
}

// NewReport sorts keys most risky first (then by provider and key id)
// and counts them.
func NewReport(keys []Key, inputErrors []string, now time.Time) Report {
	if keys == nil {
		keys = []Key{}
	}
	SortKeys(keys)
	s := Summary{Keys: len(keys), ByRisk: map[string]int{RiskCritical: 0, RiskHigh: 0, RiskMedium: 0, RiskLow: 0}, InputErrors: inputErrors}
	if s.InputErrors == nil {
		s.InputErrors = []string{}
	}
	for _, k := range keys {
		s.ByRisk[k.Risk]++
		if k.UsedAfterLeak {
			s.UsedAfterLeak++
		}
		if k.OverMaxAge {
			s.OverMaxAge++
		}
	}
	return Report{GeneratedAt: now.UTC(), Keys: keys, Summary: s}
}

// SortKeys orders keys most risky first, then by provider, key id and
// fingerprint, so reports are stable.
func SortKeys(keys []Key) {
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if ra, rb := RiskRank(a.Risk), RiskRank(b.Risk); ra != rb {
			return ra > rb
		}
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.KeyID != b.KeyID {
			return a.KeyID < b.KeyID
		}
		return a.Fingerprint < b.Fingerprint
	})
}

// Failing reports whether any key is critical or high: the audit exits 1.
func (r Report) Failing() bool {
	return r.Summary.ByRisk[RiskCritical]+r.Summary.ByRisk[RiskHigh] > 0
}
