package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/scanner"
)

func newReportCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work with scan reports",
	}
	cmd.AddCommand(newReportMergeCmd(e, g))
	return cmd
}

func newReportMergeCmd(e *env, g *globalFlags) *cobra.Command {
	sf := &scanFlags{minConfidence: "low", exitCode: ExitFindings}
	cmd := &cobra.Command{
		Use:   "merge FILE...",
		Short: "Join JSON reports (e.g. of scan github --shard workers) into one, deduplicated by fingerprint",
		Long: `Join the JSON (or JSON lines) reports of several scans into one report,
keeping one finding per fingerprint, ordered as a single scan orders them:
the shards of keytrail scan github --shard I/N merge into exactly the
report an unsharded run writes.

Secrets stay as the inputs have them (redacted unless the scans ran with
--show-secrets); a secret given in full is redacted unless --show-secrets.

Exit codes: 0 no findings, 1 findings (see --exit-code), 2 an input could
not be read.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all []scanner.Finding
			for _, p := range args {
				fs, err := readReport(p)
				if err != nil {
					return err
				}
				all = append(all, fs...)
			}
			merged := mergeFindings(all)
			if !sf.showSecrets {
				merged = redactUnredacted(merged)
			}
			setup, err := buildEngine(cmd.Context(), g, sf, ".", report.Formats, false)
			if err != nil {
				return err
			}
			show := sf.showSecrets
			sf.showSecrets = true // already redacted above; do not redact twice
			err = writeReport(e, sf, setup, &scanner.Result{Findings: merged})
			sf.showSecrets = show
			if err != nil {
				return err
			}
			e.exit = ExitClean
			if len(merged) > 0 {
				e.exit = sf.exitCode
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&sf.format, "format", "f", "json", "report format: json, sarif, text (or jsonl, csv, github)")
	fl.StringVarP(&sf.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.BoolVar(&sf.showSecrets, "show-secrets", false, "keep secrets the inputs give in full")
	fl.IntVar(&sf.exitCode, "exit-code", ExitFindings, "exit code when the merged report has findings")
	fl.StringVar(&sf.sarifCategory, "sarif-category", "", "SARIF automationDetails.id")
	return cmd
}

// readReport reads a JSON array or JSON lines report.
func readReport(path string) ([]scanner.Finding, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report %s: %w", path, err)
	}
	return parseReport(path, data)
}

// parseReport parses a JSON array or JSON lines report named path.
func parseReport(path string, data []byte) ([]scanner.Finding, error) {
	trimmed := bytes.TrimSpace(data)
	var fs []scanner.Finding
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &fs); err != nil {
			return nil, fmt.Errorf("report %s is not a keytrail JSON report: %w", path, err)
		}
		return fs, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var f scanner.Finding
		if err := json.Unmarshal(line, &f); err != nil {
			return nil, fmt.Errorf("report %s line %d is not a keytrail finding (want --format json or jsonl): %w", path, n, err)
		}
		fs = append(fs, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading report %s: %w", path, err)
	}
	return fs, nil
}

// mergeFindings keeps the first finding of each fingerprint and orders
// them as scan github does: by repository, then file, line, column, rule.
func mergeFindings(fs []scanner.Finding) []scanner.Finding {
	seen := map[string]bool{}
	out := make([]scanner.Finding, 0, len(fs))
	for _, f := range fs {
		k := f.Fingerprint
		if k == "" {
			k = f.RuleID + "\x00" + f.Repository + "\x00" + f.File + "\x00" + f.Secret
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	scanner.SortFindings(out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Repository < out[j].Repository })
	return out
}

// redactUnredacted redacts findings whose secret an input gave in full
// (scans redact to a hint ending in "…").
func redactUnredacted(fs []scanner.Finding) []scanner.Finding {
	var full []int
	var sub []scanner.Finding
	for i, f := range fs {
		if !strings.HasSuffix(f.Secret, "…") {
			full = append(full, i)
			sub = append(sub, f)
		}
	}
	if len(sub) == 0 {
		return fs
	}
	red := scanner.RedactAll(sub)
	for j, i := range full {
		fs[i] = red[j]
	}
	return fs
}
