package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keytrail/keytrail/scanner"
)

// GitHub code scanning limits for one SARIF run (github/docs
// data/reusables/code-scanning/sarif-limits.md). Past them GitHub rejects
// the whole upload, so the writer trims instead.
const (
	SARIFMaxResults  = 25000
	SARIFMaxRules    = 25000
	SARIFMaxGzipSize = 10 << 20
	// sarifMaxTags is how many tags per rule GitHub keeps.
	sarifMaxTags = 10
)

// Variables so tests can exercise the limits without 25,000 findings.
var (
	sarifMaxResults  = SARIFMaxResults
	sarifMaxRules    = SARIFMaxRules
	sarifMaxGzipSize = SARIFMaxGzipSize
)

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "keytrail"
	toolInfoURI  = "https://github.com/keytrail/keytrail"
	srcRoot      = "%SRCROOT%"
	// commitMessageFile is the path git history sources report for
	// secrets in commit messages (gitsource.MessageFile).
	commitMessageFile = "(commit message)"
)

// The SARIF 2.1.0 subset keytrail writes. Field order follows the spec's
// examples so the output reads naturally.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                      `json:"tool"`
	Invocations        []sarifInvocation              `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifactLocate `json:"originalUriBaseIds,omitempty"`
	AutomationDetails  *sarifAutomation               `json:"automationDetails,omitempty"`
	Results            []sarifResult                  `json:"results"`
	ColumnKind         string                         `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string                `json:"name"`
	Version         string                `json:"version,omitempty"`
	SemanticVersion string                `json:"semanticVersion,omitempty"`
	InformationURI  string                `json:"informationUri"`
	Rules           []sarifReportingDescr `json:"rules"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifReportingDescr struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifMessage      `json:"shortDescription"`
	FullDescription      sarifMessage      `json:"fullDescription"`
	Help                 sarifMessage      `json:"help"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProperty struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision"`
	ProblemSeverity  string   `json:"problem.severity"`
	SecuritySeverity string   `json:"security-severity"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string            `json:"level"`
	Message    sarifMessage      `json:"message"`
	Descriptor *sarifDescrRef    `json:"descriptor,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

type sarifDescrRef struct {
	ID string `json:"id"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocate `json:"artifactLocation"`
	Region           sarifRegion         `json:"region"`
}

type sarifArtifactLocate struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

// SecuritySeverity maps keytrail severities to GitHub's
// properties.security-severity scale (>9.0 critical, 7.0-8.9 high,
// 4.0-6.9 medium, below low).
func SecuritySeverity(sev string) string {
	switch sev {
	case "critical":
		return "9.5"
	case "high":
		return "8.0"
	case "medium":
		return "5.5"
	case "low":
		return "3.0"
	case "info":
		return "1.0"
	}
	return "5.5"
}

func sarifLevel(sev string) string {
	switch sev {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}

func problemSeverity(sev string) string {
	switch sev {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "recommendation"
}

func precision(conf string) string {
	switch conf {
	case "high":
		return "very-high"
	case "medium":
		return "high"
	}
	return "medium"
}

// writeSARIF writes one SARIF 2.1.0 run that GitHub code scanning accepts:
// only rules with results, repo-relative locations, fingerprints that do
// not depend on line numbers, and GitHub's size limits respected. Secrets
// are always redacted, even with ShowSecrets.
func writeSARIF(w io.Writer, fs []scanner.Finding, o Options) error {
	if o.ShowSecrets {
		// SARIF is uploaded and kept by GitHub: never put a secret in it,
		// whatever --show-secrets says.
		fs = scanner.RedactAll(fs)
	}
	base := sarifBase()
	kept, _ := keepMostSevere(fs, sarifMaxResults)
	var data []byte
	for {
		log := buildSARIF(kept, o, base, len(fs)-len(kept))
		var err error
		data, err = json.MarshalIndent(log, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding sarif: %w", err)
		}
		data = append(data, '\n')
		size, err := gzipSize(data)
		if err != nil {
			return fmt.Errorf("measuring sarif size: %w", err)
		}
		if size <= sarifMaxGzipSize || len(kept) == 0 {
			break
		}
		// Shrink proportionally with a margin, keeping the most severe.
		n := int(float64(len(kept)) * float64(sarifMaxGzipSize) / float64(size) * 0.9)
		if n >= len(kept) {
			n = len(kept) - 1
		}
		kept, _ = keepMostSevere(kept, n)
	}
	_, err := w.Write(data)
	return err
}

// keepMostSevere returns at most n findings, preferring the most severe
// (then most confident), in their original order.
func keepMostSevere(fs []scanner.Finding, n int) ([]scanner.Finding, int) {
	if len(fs) <= n {
		return fs, 0
	}
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		fa, fb := fs[idx[a]], fs[idx[b]]
		if ra, rb := scanner.SeverityRank(fa.Severity), scanner.SeverityRank(fb.Severity); ra != rb {
			return ra < rb
		}
		return fa.Confidence != fb.Confidence && scanner.ConfidenceAtLeast(fa.Confidence, fb.Confidence)
	})
	idx = idx[:n]
	sort.Ints(idx)
	out := make([]scanner.Finding, n)
	for i, j := range idx {
		out[i] = fs[j]
	}
	return out, len(fs) - n
}

func gzipSize(b []byte) (int, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

// sarifBase is the directory repo-relative URIs are made against: the
// working directory, where CI runs the scan from the checkout root.
func sarifBase() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(wd); err == nil {
		wd = r
	}
	return wd
}

func buildSARIF(fs []scanner.Finding, o Options, base string, dropped int) sarifLog {
	infos := make(map[string]RuleInfo, len(o.Rules))
	for _, r := range o.Rules {
		infos[r.ID] = r
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           toolName,
			InformationURI: toolInfoURI,
			Rules:          []sarifReportingDescr{},
		}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
		Results:     []sarifResult{},
		ColumnKind:  "unicodeCodePoints",
	}
	run.Tool.Driver.Version, run.Tool.Driver.SemanticVersion = toolVersion(o.Version)
	if o.SARIFCategory != "" {
		id := o.SARIFCategory
		// GitHub reads "category/run-id"; a bare category needs the slash.
		if !strings.HasSuffix(id, "/") && !strings.Contains(id, "/") {
			id += "/"
		}
		run.AutomationDetails = &sarifAutomation{ID: id}
	}

	ruleIndex := map[string]int{}
	hashSeen := map[string]int{}
	usesSrcRoot := false
	for _, f := range fs {
		ri, ok := ruleIndex[f.RuleID]
		if !ok {
			if len(run.Tool.Driver.Rules) >= sarifMaxRules {
				dropped++
				continue
			}
			ri = len(run.Tool.Driver.Rules)
			ruleIndex[f.RuleID] = ri
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, descriptor(f, infos))
		}
		loc, rel := artifactLocation(f.File, base)
		if loc.URIBaseID != "" {
			usesSrcRoot = true
		}
		sev := f.Severity
		if sev == "" {
			sev = infos[f.RuleID].Severity
		}
		res := sarifResult{
			RuleID:    f.RuleID,
			RuleIndex: ri,
			Level:     sarifLevel(sev),
			Message:   sarifMessage{Text: resultMessage(f)},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: loc,
				Region:           region(f),
			}}},
			Properties: resultProperties(f, o.Annotate),
		}
		// The line hash must not depend on the line number, or every
		// unrelated edit above a finding would re-open its alert. The
		// fingerprint is rule+path+secret; the suffix counts repeats of
		// the same secret in the same file, as codeql-action does.
		fp := lineHash(f, rel)
		hashSeen[fp]++
		res.PartialFingerprints = map[string]string{
			"primaryLocationLineHash": fp + ":" + strconv.Itoa(hashSeen[fp]),
		}
		run.Results = append(run.Results, res)
	}
	if usesSrcRoot && base != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLocate{srcRoot: {URI: fileURI(base) + "/"}}
	}
	if dropped > 0 {
		run.Invocations[0].Notifications = []sarifNotification{{
			Level: "warning",
			Message: sarifMessage{Text: fmt.Sprintf(
				"%d result(s) were dropped to stay within GitHub code scanning limits (%d results and %d rules per run, %d MB gzip-compressed); the most severe %d were kept. Run keytrail with --format json to see all findings.",
				dropped, sarifMaxResults, sarifMaxRules, sarifMaxGzipSize>>20, len(run.Results))},
			Descriptor: &sarifDescrRef{ID: "KT0001"},
			Properties: map[string]string{"dropped": strconv.Itoa(dropped)},
		}}
	}
	return sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
}

// lineHash is the finding fingerprint recomputed when the path was made
// repo-relative, so the same alert matches wherever the scan ran from.
func lineHash(f scanner.Finding, rel string) string {
	if f.Fingerprint == "" || rel != f.File {
		// Findings are redacted here: rehash the original fingerprint
		// (which covers the secret) with the relative path.
		return scanner.Fingerprint(f.RuleID, rel, f.Fingerprint)
	}
	return f.Fingerprint
}

// toolVersion returns driver.version, which the SARIF validator wants to
// start with a digit, and semanticVersion when the version is semver.
func toolVersion(v string) (string, string) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if v == "" {
		v = "dev"
	}
	if v[0] < '0' || v[0] > '9' {
		v = "0.0.0-" + v
	}
	if isSemver(v) {
		return v, v
	}
	return v, ""
}

func isSemver(v string) bool {
	core := v
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil || p == "" {
			return false
		}
	}
	return true
}

// artifactLocation makes a URI relative to base when the path lies under
// it; it returns the location and the relative slash path.
func artifactLocation(p, base string) (sarifArtifactLocate, string) {
	rel := p
	if filepath.IsAbs(p) {
		abs := p
		if r, err := filepath.EvalSymlinks(p); err == nil {
			abs = r
		}
		if base != "" {
			if r, err := filepath.Rel(base, abs); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				rel = r
			}
		}
		if filepath.IsAbs(rel) {
			return sarifArtifactLocate{URI: fileURI(abs)}, filepath.ToSlash(abs)
		}
	}
	rel = path.Clean(filepath.ToSlash(rel))
	rel = strings.TrimPrefix(rel, "./")
	return sarifArtifactLocate{URI: escapePath(rel), URIBaseID: srcRoot}, rel
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func fileURI(abs string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

func region(f scanner.Finding) sarifRegion {
	r := sarifRegion{StartLine: f.Line, StartColumn: f.Column, EndLine: f.EndLine, EndColumn: f.EndColumn}
	if r.StartLine < 1 {
		r.StartLine = 1
	}
	if r.StartColumn < 1 {
		r.StartColumn = 0
	}
	if r.EndLine < r.StartLine {
		r.EndLine = 0
	}
	if r.EndColumn < 1 || (r.EndLine == 0 || r.EndLine == r.StartLine) && r.StartColumn > 0 && r.EndColumn <= r.StartColumn {
		r.EndColumn = 0
	}
	return r
}

// resultMessage is what GitHub shows as the alert title (first sentence)
// and body. It names the rule and a redacted hint, never the secret.
func resultMessage(f scanner.Finding) string {
	what := f.Description
	if what == "" {
		what = f.RuleID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s found.", what)
	if f.Secret != "" {
		fmt.Fprintf(&b, " Starts with %q (redacted).", f.Secret)
	}
	if f.Commit != "" {
		verb := "Introduced in commit"
		if f.File == commitMessageFile {
			verb = "It is in the message of commit"
		}
		fmt.Fprintf(&b, " %s %s", verb, shortSHA(f.Commit))
		if !f.Date.IsZero() {
			fmt.Fprintf(&b, " on %s", f.Date.UTC().Format("2006-01-02"))
		}
		b.WriteString(".")
	}
	if f.OtherLocations > 0 {
		fmt.Fprintf(&b, " Also seen in %d other location(s).", f.OtherLocations)
	}
	if f.SuppressedByChange != "" {
		fmt.Fprintf(&b, " The change itself would suppress it (%s); reported anyway.", f.SuppressedByChange)
	}
	b.WriteString(" Revoke or rotate it: deleting it from the code does not make it safe.")
	return b.String()
}

func resultProperties(f scanner.Finding, annotate func(scanner.Finding) map[string]any) map[string]any {
	p := map[string]any{
		"fingerprint": f.Fingerprint,
		"confidence":  f.Confidence,
		"severity":    f.Severity,
	}
	if f.Secret != "" {
		p["redactedSecret"] = f.Secret
	}
	if f.Valid != nil {
		p["structurallyValid"] = *f.Valid
	}
	if f.Decoded != "" {
		p["decoded"] = f.Decoded
	}
	if f.SuppressedByChange != "" {
		p["suppressedByChange"] = f.SuppressedByChange
	}
	if f.Commit != "" {
		p["commit"] = f.Commit
		if f.Author != "" {
			p["author"] = f.Author
		}
		if f.Email != "" {
			p["authorEmail"] = f.Email
		}
		if !f.Date.IsZero() {
			p["commitDate"] = f.Date.UTC().Format(time.RFC3339)
		}
	}
	if f.Repository != "" {
		p["repository"] = f.Repository
		if f.URL != "" {
			p["url"] = f.URL
		}
	}
	if f.CommitsContaining > 0 {
		p["commitsContaining"] = f.CommitsContaining
	}
	if f.PresentAtHead != nil {
		p["presentAtHead"] = *f.PresentAtHead
	}
	if f.OtherLocations > 0 {
		p["otherLocations"] = f.OtherLocations
	}
	if annotate != nil {
		for k, v := range annotate(f) {
			p[k] = v
		}
	}
	return p
}

// descriptor builds a rule's reportingDescriptor from the rule set's info,
// falling back to what the finding carries.
func descriptor(f scanner.Finding, infos map[string]RuleInfo) sarifReportingDescr {
	ri, ok := infos[f.RuleID]
	if !ok {
		ri = RuleInfo{ID: f.RuleID, Description: f.Description, Provider: f.Provider, Severity: f.Severity, Tags: f.Tags}
	}
	if ri.Description == "" {
		ri.Description = f.Description
	}
	if ri.Description == "" {
		ri.Description = f.RuleID
	}
	if ri.Severity == "" {
		ri.Severity = f.Severity
	}
	if ri.Provider == "" {
		ri.Provider = f.Provider
	}
	short := truncate(ri.Description, 1024)
	full := ri.Description
	if ri.Provider != "" && !strings.Contains(strings.ToLower(full), strings.ToLower(ri.Provider)) {
		full = ri.Provider + ": " + full
	}
	full = truncate(strings.TrimSuffix(full, ".")+". Detected by keytrail rule "+ri.ID+".", 1024)

	fix := ri.Remediation
	if fix == "" {
		fix = "Revoke the credential with its issuer, issue a new one, and store it in a secret manager or CI secret instead of the repository."
	}
	helpText := fmt.Sprintf("%s\n\nWhat it is: a secret of this kind (%s) was committed or logged. Anyone who can read this content can use it until it is revoked.\n\nHow to fix: %s\n\nRemoving the secret from the code or rewriting history does not revoke it. After rotating, suppress the alert with a `keytrail:allow` comment, a .keytrailignore entry, or a baseline.",
		ri.Description, ri.Description, fix)
	helpMD := fmt.Sprintf("**%s**\n\n**What it is:** a secret of this kind (%s) was committed or logged. Anyone who can read this content can use it until it is revoked.\n\n**How to revoke or rotate:** %s\n\nRemoving the secret from the code or rewriting history does **not** revoke it. Once it is rotated, suppress the alert with a `keytrail:allow` comment on the line, a `.keytrailignore` entry with the finding's fingerprint, or a baseline (`keytrail baseline create`).",
		mdEscape(ri.Description), mdEscape(ri.Description), mdEscape(fix))

	return sarifReportingDescr{
		ID:                   ri.ID,
		Name:                 ruleName(ri.ID),
		ShortDescription:     sarifMessage{Text: short},
		FullDescription:      sarifMessage{Text: full},
		Help:                 sarifMessage{Text: helpText, Markdown: helpMD},
		DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(ri.Severity)},
		Properties: sarifRuleProperty{
			Tags:             ruleTags(ri),
			Precision:        precision(f.Confidence),
			ProblemSeverity:  problemSeverity(ri.Severity),
			SecuritySeverity: SecuritySeverity(ri.Severity),
		},
	}
}

func ruleTags(ri RuleInfo) []string {
	tags := []string{"security", "secret"}
	seen := map[string]bool{"security": true, "secret": true}
	add := func(t string) {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || seen[t] || len(tags) >= sarifMaxTags {
			return
		}
		seen[t] = true
		tags = append(tags, t)
	}
	add(ri.Provider)
	for _, t := range ri.Tags {
		add(t)
	}
	return tags
}

// ruleName is the rule's friendly name; the validator (SARIF1001) wants
// it to differ from the id even ignoring case.
func ruleName(id string) string {
	n := pascal(id)
	if strings.EqualFold(n, id) {
		n += "Secret"
	}
	return n
}

// pascal turns a rule id like "github-pat" into "GithubPat", the friendly
// name form the SARIF validator recommends.
func pascal(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	if b.Len() == 0 {
		return "Secret"
	}
	return truncate(b.String(), 255)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func mdEscape(s string) string {
	r := strings.NewReplacer("*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}
