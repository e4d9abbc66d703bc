// Package report writes findings for people and machines: text, JSON,
// JSON lines and CSV here; SARIF and GitHub annotations in their own files.
// Secrets are redacted before any writer sees them unless the caller opts
// out, so no format can leak one by accident.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/keytrail/keytrail/scanner"
)

// Options control every writer.
type Options struct {
	ShowSecrets bool
	Color       bool
	// Summary for the text format's last line.
	Stats  scanner.Stats
	Errors int
	// Tool info and SARIF settings.
	Version       string
	SARIFCategory string
	Rules         []RuleInfo
	// Annotate, when set, adds properties to each SARIF result (the
	// audit's verdict on the finding's key).
	Annotate func(scanner.Finding) map[string]any
}

// RuleInfo is what SARIF needs to know about a rule.
type RuleInfo struct {
	ID, Description, Provider, Severity, Remediation string
	Tags                                             []string
}

// Formats lists the accepted --format values.
var Formats = []string{"text", "json", "jsonl", "csv", "sarif", "github"}

// Write renders findings in the format.
func Write(w io.Writer, format string, fs []scanner.Finding, o Options) error {
	if !o.ShowSecrets {
		fs = scanner.RedactAll(fs)
	}
	switch format {
	case "text", "":
		return writeText(w, fs, o)
	case "json":
		if fs == nil {
			fs = []scanner.Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(fs)
	case "jsonl":
		enc := json.NewEncoder(w)
		for _, f := range fs {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		return writeCSV(w, fs)
	case "sarif":
		return writeSARIF(w, fs, o)
	case "github":
		return writeGitHub(w, fs)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiYel   = "\x1b[33m"
	ansiDim   = "\x1b[2m"
)

func writeText(w io.Writer, fs []scanner.Finding, o Options) error {
	c := func(code, s string) string {
		if !o.Color {
			return s
		}
		return code + s + ansiReset
	}
	// Every field below may come from scanned content or a user's config.
	t := TerminalSafe
	for _, f := range fs {
		sev := t(f.Severity)
		switch f.Severity {
		case "critical", "high":
			sev = c(ansiRed, sev)
		case "medium":
			sev = c(ansiYel, sev)
		}
		fmt.Fprintf(w, "%s %s %s %s\n", c(ansiBold, fmt.Sprintf("%s:%d:%d", t(f.File), f.Line, f.Column)), t(f.RuleID), sev, t(f.Description))
		fmt.Fprintf(w, "    secret: %s  confidence: %s  fingerprint: %s\n", t(f.Secret), t(f.Confidence), t(f.Fingerprint))
		if f.Repository != "" {
			fmt.Fprintf(w, "    repository: %s  %s\n", t(f.Repository), t(f.URL))
		}
		if f.SuppressedByChange != "" {
			fmt.Fprintf(w, "    %s\n", c(ansiYel, "suppressed by the change itself, reported anyway: "+t(f.SuppressedByChange)))
		}
		if f.Valid != nil && !*f.Valid {
			fmt.Fprintf(w, "    %s\n", c(ansiDim, "checksum/structure invalid (shown because of --report-invalid)"))
		}
		if f.Decoded != "" {
			fmt.Fprintf(w, "    decoded: %s\n", t(f.Decoded))
		}
		if len(f.Meta) > 0 {
			keys := make([]string, 0, len(f.Meta))
			for k := range f.Meta {
				if k != "item_key" {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "    %s: %s\n", t(k), t(f.Meta[k]))
			}
		}
		if f.Commit != "" {
			fmt.Fprintf(w, "    commit: %s  author: %s <%s>  date: %s\n", t(shortSHA(f.Commit)), t(f.Author), t(f.Email), f.Date.Format("2006-01-02"))
			if f.Message != "" {
				fmt.Fprintf(w, "    message: %s\n", t(f.Message))
			}
		}
		if f.PresentAtHead != nil {
			if f.CommitsContaining > 0 {
				fmt.Fprintf(w, "    present at HEAD: %v  in %d commit(s)\n", *f.PresentAtHead, f.CommitsContaining)
			} else {
				fmt.Fprintf(w, "    present at HEAD: %v\n", *f.PresentAtHead)
			}
		}
		if f.OtherLocations > 0 {
			fmt.Fprintf(w, "    also in %d other location(s)\n", f.OtherLocations)
		}
		for _, l := range f.Locations {
			fmt.Fprintf(w, "    at %s:%d %s\n", t(l.File), l.Line, t(shortSHA(l.Commit)))
		}
	}
	summary := fmt.Sprintf("%d finding(s) in %d item(s), %s scanned", len(fs), o.Stats.Items, HumanBytes(o.Stats.Bytes))
	if o.Stats.Skipped > 0 {
		summary += fmt.Sprintf(", %d skipped (binary or over size limit)", o.Stats.Skipped)
	}
	if o.Errors > 0 {
		summary += fmt.Sprintf(", %d input(s) could not be scanned completely", o.Errors)
	}
	if len(fs) > 0 {
		summary = c(ansiRed, summary)
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// HumanBytes formats a byte count for people.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func writeCSV(w io.Writer, fs []scanner.Finding) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"rule_id", "description", "severity", "confidence", "file", "line", "column", "end_line", "end_column", "secret", "fingerprint", "entropy", "commit", "author", "email", "date", "suppressed_by_change"})
	for _, f := range fs {
		date := ""
		if !f.Date.IsZero() {
			date = f.Date.UTC().Format("2006-01-02T15:04:05Z")
		}
		// Text cells may come from scanned content or a user's config.
		c := CSVCell
		cw.Write([]string{c(f.RuleID), c(f.Description), c(f.Severity), c(f.Confidence), c(f.File),
			strconv.Itoa(f.Line), strconv.Itoa(f.Column), strconv.Itoa(f.EndLine), strconv.Itoa(f.EndColumn),
			c(f.Secret), c(f.Fingerprint), strconv.FormatFloat(f.Entropy, 'f', 2, 64), c(f.Commit), c(f.Author), c(f.Email), date, c(f.SuppressedByChange)})
	}
	cw.Flush()
	return cw.Error()
}

// writeGitHub prints GitHub Actions workflow commands so findings show up
// inline on a pull request without code scanning.
func writeGitHub(w io.Writer, fs []scanner.Finding) error {
	for _, f := range fs {
		msg := fmt.Sprintf("%s: %s (secret %s, fingerprint %s)", f.RuleID, f.Description, f.Secret, f.Fingerprint)
		level, title := "error", "Leaked secret: "+f.RuleID
		if f.SuppressedByChange != "" {
			level, title = "warning", "Secret suppressed by this change: "+f.RuleID
			msg += "; suppressed by " + f.SuppressedByChange
		}
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,endLine=%d,endColumn=%d,title=%s::%s\n",
			level, ghProp(f.File), f.Line, f.Column, f.EndLine, f.EndColumn, ghProp(title), ghData(msg)); err != nil {
			return err
		}
	}
	return nil
}

// Escaping per the Actions toolkit's command encoding.
func ghData(s string) string {
	r := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	return r.Replace(s)
}

func ghProp(s string) string {
	r := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	return r.Replace(s)
}
