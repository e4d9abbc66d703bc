package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/scanner"
)

// AuditFormats lists the --format values of `keytrail audit`.
var AuditFormats = []string{"text", "json", "html", "sarif"}

// AuditOptions control the audit writers.
type AuditOptions struct {
	Color         bool
	Version       string
	SARIFCategory string
	Rules         []RuleInfo
	// Findings and KeyOf (finding fingerprint -> key fingerprint) let the
	// SARIF writer put each key's verdict on the scan's results.
	Findings []scanner.Finding
	KeyOf    map[string]string
}

// WriteAudit renders an audit report. Keys never hold a secret in any
// serialised field, so no format can print one.
func WriteAudit(w io.Writer, format string, r audit.Report, o AuditOptions) error {
	switch format {
	case "text", "":
		return writeAuditText(w, r, o)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "html":
		return writeAuditHTML(w, r, o)
	case "sarif":
		return writeAuditSARIF(w, r, o)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(AuditFormats, ", "))
}

// KeyName is how reports name a key: its id (an AWS key id is not a
// secret), else its redacted hint, with the rule.
func KeyName(k audit.Key) string {
	if k.KeyID != "" {
		return k.KeyID
	}
	if k.Hint != "" {
		return k.Hint + " (" + k.RuleID + ")"
	}
	return k.RuleID
}

func writeAuditText(w io.Writer, r audit.Report, o AuditOptions) error {
	c := func(code, s string) string {
		if !o.Color {
			return s
		}
		return code + s + ansiReset
	}
	riskColor := map[string]string{audit.RiskCritical: ansiRed + ansiBold, audit.RiskHigh: ansiRed, audit.RiskMedium: ansiYel, audit.RiskLow: ansiDim}
	// Paths, owners and provider messages come from outside: shown with
	// control characters made visible, never interpreted by a terminal.
	for _, k := range r.Keys {
		provider := k.Provider
		if provider == "" {
			provider = "unknown provider"
		}
		fmt.Fprintf(w, "%s %s %s  →  %s\n", c(riskColor[k.Risk], strings.ToUpper(k.Risk)), c(ansiBold, TerminalSafe(KeyName(k))), TerminalSafe(provider), k.Recommendation)
		var facts []string
		facts = append(facts, "status "+k.Status)
		if k.Owner != "" {
			facts = append(facts, "owner "+TerminalSafe(k.Owner))
		}
		if k.AccountID != "" {
			facts = append(facts, "account "+TerminalSafe(k.AccountID))
		}
		if k.AgeDays != nil {
			facts = append(facts, fmt.Sprintf("age %d days (max %d)", *k.AgeDays, k.MaxAgeDays))
		}
		if k.Verified != "" {
			facts = append(facts, "verified "+k.Verified)
		}
		fmt.Fprintf(w, "    %s\n", strings.Join(facts, "  "))
		fmt.Fprintf(w, "    leaked %s (%s)", k.LeakedAt.UTC().Format("2006-01-02 15:04"), k.LeakedAtSource)
		if len(k.LeakLocations) > 0 {
			l := k.LeakLocations[0]
			fmt.Fprintf(w, " at %s:%d", TerminalSafe(l.File), l.Line)
			if l.Commit != "" {
				fmt.Fprintf(w, " %s", TerminalSafe(shortSHA(l.Commit)))
			}
			if n := len(k.LeakLocations) - 1; n > 0 {
				fmt.Fprintf(w, " and %d more", n)
			}
		}
		fmt.Fprintln(w)
		if k.UsedAfterLeak {
			fmt.Fprintf(w, "    used after the leak: %d event(s)", k.EventsAfterLeak)
			if k.FirstUseAfterLeak != nil {
				fmt.Fprintf(w, ", first %s", k.FirstUseAfterLeak.UTC().Format("2006-01-02 15:04"))
			}
			if len(k.NewSourceIPs) > 0 {
				fmt.Fprintf(w, "; new IPs %s", TerminalSafe(strings.Join(k.NewSourceIPs, ", ")))
			}
			if len(k.NewRegions) > 0 {
				fmt.Fprintf(w, "; new regions %s", TerminalSafe(strings.Join(k.NewRegions, ", ")))
			}
			fmt.Fprintln(w)
		}
		for _, reason := range k.Reasons {
			fmt.Fprintf(w, "  - %s\n", TerminalSafe(reason))
		}
		if len(k.Timeline) > 0 {
			fmt.Fprintf(w, "    %s\n", c(ansiDim, "timeline:"))
			for _, ev := range k.Timeline {
				fmt.Fprintf(w, "      %s  %-20s %s\n", ev.Time.UTC().Format("2006-01-02 15:04"), TerminalSafe(ev.Kind), TerminalSafe(ev.Detail))
			}
		}
		fmt.Fprintln(w)
	}
	s := r.Summary
	line := fmt.Sprintf("%d key(s) audited: %d critical, %d high, %d medium, %d low; %d used after the leak, %d over the maximum age",
		s.Keys, s.ByRisk[audit.RiskCritical], s.ByRisk[audit.RiskHigh], s.ByRisk[audit.RiskMedium], s.ByRisk[audit.RiskLow], s.UsedAfterLeak, s.OverMaxAge)
	if n := len(s.InputErrors); n > 0 {
		line += fmt.Sprintf("; %d input(s) could not be read", n)
	}
	if r.Failing() {
		line = c(ansiRed, line)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// writeAuditSARIF is the scan's SARIF with each result's key verdict in
// its properties; a critical key's results get the top security-severity.
func writeAuditSARIF(w io.Writer, r audit.Report, o AuditOptions) error {
	byFP := map[string]*audit.Key{}
	for i := range r.Keys {
		byFP[r.Keys[i].Fingerprint] = &r.Keys[i]
	}
	annotate := func(f scanner.Finding) map[string]any {
		k := byFP[o.KeyOf[f.Fingerprint]]
		if k == nil {
			return nil
		}
		p := map[string]any{
			"auditRisk":           k.Risk,
			"auditRecommendation": k.Recommendation,
			"auditReasons":        k.Reasons,
			"auditStatus":         k.Status,
			"auditUsedAfterLeak":  k.UsedAfterLeak,
			"auditKey":            KeyName(*k),
		}
		if k.Owner != "" {
			p["auditOwner"] = k.Owner
		}
		if k.Risk == audit.RiskCritical {
			p["security-severity"] = "10.0"
		}
		return p
	}
	return Write(w, "sarif", o.Findings, Options{Version: o.Version, SARIFCategory: o.SARIFCategory, Rules: o.Rules, Annotate: annotate})
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
