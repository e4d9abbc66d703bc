package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/internal/testtools"
	"github.com/keytrail/keytrail/rules"
	"github.com/keytrail/keytrail/scanner"
	"github.com/keytrail/keytrail/scanner/source"
)

// Fake keys from the rule examples; they are not live credentials.
const (
	fakePAT = "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"
	fakeAKI = "AKIAZ7VRSQ5TNQLJ4MXK"
)

func finding(rule, sev, file string, line int, secret string) scanner.Finding {
	return scanner.Finding{
		RuleID: rule, Description: "Desc of " + rule, Provider: "Prov", Severity: sev, Confidence: "high",
		File: file, Line: line, Column: 5, EndLine: line, EndColumn: 5 + len(secret),
		Secret: secret, Match: "token = " + secret,
		Fingerprint: scanner.Fingerprint(rule, file, secret),
	}
}

var testRules = []RuleInfo{
	{ID: "github-pat", Description: "GitHub personal access token (classic)", Provider: "GitHub", Severity: "critical",
		Remediation: "Revoke the token at https://github.com/settings/tokens.", Tags: []string{"github", "vcs"}},
	{ID: "aws-access-key-id", Description: "AWS access key ID", Provider: "AWS", Severity: "high",
		Remediation: "Deactivate the key with aws iam update-access-key.", Tags: []string{"aws"}},
	{ID: "unused-rule", Description: "Never matches", Severity: "low"},
}

// sarifDoc is the subset of the output the tests inspect.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Rules   []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct{ Text string }
					FullDescription  struct{ Text string }
					Help             struct{ Text, Markdown string }
					Properties       struct {
						Tags             []string `json:"tags"`
						SecuritySeverity string   `json:"security-severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
			Notifications       []struct {
				Level   string `json:"level"`
				Message struct{ Text string }
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		AutomationDetails *struct {
			ID string `json:"id"`
		} `json:"automationDetails"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          map[string]any    `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func writeSARIFDoc(t *testing.T, fs []scanner.Finding, o Options) (sarifDoc, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, "sarif", fs, o); err != nil {
		t.Fatalf("Write sarif: %v", err)
	}
	var doc sarifDoc
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("want 1 run, got %d", len(doc.Runs))
	}
	return doc, buf.String()
}

func TestSecuritySeverity(t *testing.T) {
	for _, tc := range []struct{ sev, want string }{
		{"critical", "9.5"}, {"high", "8.0"}, {"medium", "5.5"}, {"low", "3.0"}, {"info", "1.0"}, {"bogus", "5.5"},
	} {
		if got := SecuritySeverity(tc.sev); got != tc.want {
			t.Errorf("SecuritySeverity(%q) = %q, want %q", tc.sev, got, tc.want)
		}
	}
}

func TestSARIFRulesAndResults(t *testing.T) {
	fs := []scanner.Finding{
		finding("github-pat", "critical", "src/app.go", 3, fakePAT),
		finding("aws-access-key-id", "high", "deploy/env.sh", 7, fakeAKI),
		finding("github-pat", "critical", "src/other.go", 1, fakePAT),
	}
	doc, raw := writeSARIFDoc(t, fs, Options{Rules: testRules, Version: "v1.2.3", SARIFCategory: "keytrail-history"})
	if doc.Version != "2.1.0" || !strings.Contains(doc.Schema, "sarif-2.1.0") {
		t.Errorf("version/schema = %q %q", doc.Version, doc.Schema)
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "keytrail" || run.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver = %+v", run.Tool.Driver.Name+" "+run.Tool.Driver.Version)
	}
	if run.AutomationDetails == nil || run.AutomationDetails.ID != "keytrail-history/" {
		t.Errorf("automationDetails = %+v", run.AutomationDetails)
	}
	rs := run.Tool.Driver.Rules
	if len(rs) != 2 {
		t.Fatalf("want 2 rules (only those with results), got %d", len(rs))
	}
	wantSev := map[string]string{"github-pat": "9.5", "aws-access-key-id": "8.0"}
	for _, r := range rs {
		if r.ID == "unused-rule" {
			t.Errorf("rule without results is listed")
		}
		if r.Name == "" || r.ShortDescription.Text == "" || r.FullDescription.Text == "" || r.Help.Text == "" || r.Help.Markdown == "" {
			t.Errorf("rule %s lacks a required text: %+v", r.ID, r)
		}
		if r.Properties.SecuritySeverity != wantSev[r.ID] {
			t.Errorf("rule %s security-severity = %q, want %q", r.ID, r.Properties.SecuritySeverity, wantSev[r.ID])
		}
		tags := strings.Join(r.Properties.Tags, ",")
		if !strings.HasPrefix(tags, "security,secret,") {
			t.Errorf("rule %s tags = %v", r.ID, r.Properties.Tags)
		}
	}
	if !strings.Contains(rs[0].Help.Markdown, "settings/tokens") || !strings.Contains(rs[1].Help.Text, "update-access-key") {
		t.Errorf("help lacks the remediation: %q / %q", rs[0].Help.Markdown, rs[1].Help.Text)
	}
	if !strings.Contains(strings.Join(rs[0].Properties.Tags, ","), "github") {
		t.Errorf("provider tag missing: %v", rs[0].Properties.Tags)
	}
	if len(run.Results) != 3 {
		t.Fatalf("want 3 results, got %d", len(run.Results))
	}
	for i, res := range run.Results {
		if rs[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex %d points at %s, ruleId %s", i, res.RuleIndex, rs[res.RuleIndex].ID, res.RuleID)
		}
		if res.Level != "error" {
			t.Errorf("result %d level = %q", i, res.Level)
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != fs[i].File || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("result %d location = %+v", i, loc.ArtifactLocation)
		}
		if loc.Region.StartLine != fs[i].Line || loc.Region.StartColumn != 5 {
			t.Errorf("result %d region = %+v", i, loc.Region)
		}
		if h := res.PartialFingerprints["primaryLocationLineHash"]; h != fs[i].Fingerprint+":1" {
			t.Errorf("result %d line hash = %q, want %q", i, h, fs[i].Fingerprint+":1")
		}
		if first, _, _ := strings.Cut(res.Message.Text, "."); !strings.Contains(first, "found") {
			t.Errorf("result %d title %q", i, first)
		}
	}
	for _, secret := range []string{fakePAT, fakeAKI, fakePAT[4:20], fakeAKI[4:]} {
		if strings.Contains(raw, secret) {
			t.Errorf("SARIF contains the secret %q", secret)
		}
	}
	// --show-secrets does not apply to SARIF, which GitHub stores.
	_, raw = writeSARIFDoc(t, fs, Options{Rules: testRules, ShowSecrets: true})
	if strings.Contains(raw, fakePAT) || strings.Contains(raw, fakeAKI) {
		t.Errorf("SARIF with ShowSecrets contains a secret")
	}
}

// The alert key must survive lines moving; repeats of one secret in a
// file are told apart by the ":n" suffix in order of appearance.
func TestSARIFLineHashStable(t *testing.T) {
	hashes := func(lines ...int) []string {
		var fs []scanner.Finding
		for _, l := range lines {
			fs = append(fs, finding("github-pat", "critical", "a/b.env", l, fakePAT))
		}
		fs = append(fs, finding("aws-access-key-id", "high", "a/b.env", lines[0]+1, fakeAKI))
		doc, _ := writeSARIFDoc(t, fs, Options{Rules: testRules})
		var out []string
		for _, r := range doc.Runs[0].Results {
			out = append(out, r.PartialFingerprints["primaryLocationLineHash"])
		}
		return out
	}
	before := hashes(10, 20)
	after := hashes(42, 97) // lines inserted above both
	if strings.Join(before, " ") != strings.Join(after, " ") {
		t.Errorf("line hashes changed when lines moved:\n%v\n%v", before, after)
	}
	if !strings.HasSuffix(before[0], ":1") || !strings.HasSuffix(before[1], ":2") || before[0][:32] != before[1][:32] {
		t.Errorf("repeat suffixes = %v", before)
	}
	if before[2][:32] == before[0][:32] {
		t.Errorf("different secrets share a hash: %v", before)
	}
}

func TestSARIFEmptyRun(t *testing.T) {
	doc, raw := writeSARIFDoc(t, nil, Options{Rules: testRules})
	if !strings.Contains(raw, `"results": []`) || !strings.Contains(raw, `"rules": []`) {
		t.Errorf("empty run must have results: [] and rules: []:\n%s", raw)
	}
	if doc.Runs[0].AutomationDetails != nil {
		t.Errorf("automationDetails without a category: %+v", doc.Runs[0].AutomationDetails)
	}
	if !doc.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Errorf("executionSuccessful false")
	}
}

func TestSARIFHistoryProvenance(t *testing.T) {
	f := finding("github-pat", "critical", "config/app.yml", 2, fakePAT)
	f.Commit = "0123456789abcdef0123456789abcdef01234567"
	f.Author, f.Email = "Dev", "dev@example.com"
	f.Date = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	f.Message = "add config with " + fakePAT // a commit message may hold the secret
	head := false
	f.PresentAtHead = &head
	doc, raw := writeSARIFDoc(t, []scanner.Finding{f}, Options{Rules: testRules})
	p := doc.Runs[0].Results[0].Properties
	if p["commit"] != f.Commit || p["author"] != "Dev" || p["commitDate"] != "2025-03-04T05:06:07Z" || p["presentAtHead"] != false {
		t.Errorf("provenance properties = %v", p)
	}
	if !strings.Contains(doc.Runs[0].Results[0].Message.Text, "0123456789ab") {
		t.Errorf("message lacks the commit: %q", doc.Runs[0].Results[0].Message.Text)
	}
	if strings.Contains(raw, fakePAT) || strings.Contains(raw, "add config with") {
		t.Errorf("commit message or secret leaked into SARIF")
	}
}

func TestSARIFLimits(t *testing.T) {
	sevs := strings.Fields(strings.Repeat("low critical medium high critical low ", 40))
	var fs []scanner.Finding
	for i, s := range sevs {
		fs = append(fs, finding("github-pat", s, fmt.Sprintf("f%d.txt", i), i+1, fmt.Sprintf("%s%03d", fakePAT[:37], i)))
	}
	tests := []struct {
		name       string
		maxResults int
		maxGzip    int
		wantKept   int
	}{
		{"result count", 7, SARIFMaxGzipSize, 7},
		{"gzip size", SARIFMaxResults, 0, 0}, // computed below
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldR, oldG := sarifMaxResults, sarifMaxGzipSize
			defer func() { sarifMaxResults, sarifMaxGzipSize = oldR, oldG }()
			sarifMaxResults = tc.maxResults
			sarifMaxGzipSize = tc.maxGzip
			if tc.maxGzip == 0 {
				// Room for about half of the results.
				sarifMaxGzipSize = SARIFMaxGzipSize
				var full, empty bytes.Buffer
				if err := Write(&full, "sarif", fs, Options{Rules: testRules}); err != nil {
					t.Fatal(err)
				}
				if err := Write(&empty, "sarif", fs[:1], Options{Rules: testRules}); err != nil {
					t.Fatal(err)
				}
				nf, _ := gzipSize(full.Bytes())
				ne, _ := gzipSize(empty.Bytes())
				sarifMaxGzipSize = (nf + ne) / 2
				t.Logf("gzip sizes: one result %d, all %d, limit %d", ne, nf, sarifMaxGzipSize)
			}
			var buf bytes.Buffer
			if err := Write(&buf, "sarif", fs, Options{Rules: testRules}); err != nil {
				t.Fatal(err)
			}
			if n, _ := gzipSize(buf.Bytes()); n > sarifMaxGzipSize {
				t.Errorf("gzip size %d over limit %d", n, sarifMaxGzipSize)
			}
			var doc sarifDoc
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			run := doc.Runs[0]
			kept := len(run.Results)
			if kept == 0 || kept >= len(fs) || (tc.wantKept > 0 && kept != tc.wantKept) {
				t.Fatalf("kept %d of %d results", kept, len(fs))
			}
			// The kept ones are the most severe.
			worst := 0
			for _, r := range run.Results {
				sev := r.Properties["severity"].(string)
				if rk := scanner.SeverityRank(sev); rk > worst {
					worst = rk
				}
			}
			for _, f := range fs {
				if scanner.SeverityRank(f.Severity) < worst {
					found := false
					for _, r := range run.Results {
						if r.Properties["fingerprint"] == f.Fingerprint {
							found = true
						}
					}
					if !found {
						t.Errorf("a %s finding was dropped while a less severe one was kept", f.Severity)
					}
				}
			}
			ns := run.Invocations[0].Notifications
			want := fmt.Sprintf("%d result(s) were dropped", len(fs)-kept)
			if len(ns) != 1 || !strings.Contains(ns[0].Message.Text, want) {
				t.Errorf("notification = %+v, want %q", ns, want)
			}
		})
	}
}

func TestSARIFRelativizesAbsolutePaths(t *testing.T) {
	dir := t.TempDir()
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	t.Chdir(dir)
	inside := finding("github-pat", "critical", filepath.Join(dir, "sub", "x y.txt"), 1, fakePAT)
	doc, _ := writeSARIFDoc(t, []scanner.Finding{inside}, Options{Rules: testRules})
	loc := doc.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation
	if loc.URI != "sub/x%20y.txt" || loc.URIBaseID != "%SRCROOT%" {
		t.Errorf("location = %+v", loc)
	}
}

// plantKeys writes every example of every builtin rule into a tree, so a
// real scan exercises many rules at once.
func plantKeys(t *testing.T, dir string) int {
	t.Helper()
	rs, err := rules.BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rs {
		if len(r.Examples) == 0 {
			continue
		}
		p := filepath.Join(dir, "planted", r.ID+".txt")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		body := "# fixture\n\n" + strings.Join(r.Examples, "\n\n") + "\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func scanTree(t *testing.T, root string) ([]scanner.Finding, []RuleInfo) {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := scanner.NewEngine(set, scanner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&scanner.Scanner{Engine: eng}).Run(context.Background(), &source.Dir{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	var infos []RuleInfo
	for _, r := range set.Rules {
		infos = append(infos, RuleInfo{ID: r.ID, Description: r.Description, Provider: r.Provider,
			Severity: r.Severity, Remediation: r.Remediation, Tags: r.Tags})
	}
	return res.Findings, infos
}

// TestSARIFValidatesWithMicrosoftValidator runs Microsoft's SARIF
// validator with GitHub's rules on SARIF from real scans and requires
// zero errors and zero warnings.
func TestSARIFValidatesWithMicrosoftValidator(t *testing.T) {
	testtools.SARIFValidator(t) // skip early when absent
	dir := t.TempDir()
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	nPlanted := plantKeys(t, dir)
	t.Chdir(dir)
	for _, tc := range []struct {
		name, root, category, version string
		clean                         bool
	}{
		{"relative root", ".", "keytrail/dir", "v0.3.0", false},
		{"absolute root", dir, "", "dev", false},
		{"clean tree", "clean", "", "0.3.0-4-gabcdef", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.clean {
				os.MkdirAll(filepath.Join(dir, "clean"), 0o755)
				os.WriteFile(filepath.Join(dir, "clean", "main.go"), []byte("package main\n"), 0o644)
			}
			fs, infos := scanTree(t, tc.root)
			if tc.clean != (len(fs) == 0) {
				t.Fatalf("scan found %d findings", len(fs))
			}
			if !tc.clean && len(fs) < nPlanted {
				t.Fatalf("scan found %d findings for %d planted rules", len(fs), nPlanted)
			}
			var buf bytes.Buffer
			if err := Write(&buf, "sarif", fs, Options{Rules: infos, SARIFCategory: tc.category, Version: tc.version}); err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if strings.Contains(buf.String(), f.Secret) {
					t.Fatalf("SARIF contains a secret of rule %s", f.RuleID)
				}
			}
			file := filepath.Join(t.TempDir(), "scan.sarif")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if issues := testtools.ValidateSARIF(t, file); len(issues) > 0 {
				for _, is := range issues {
					t.Error(is)
				}
			}
		})
	}
}

// JSON keeps the secret's hash and the AWS key id when it redacts, so a
// saved report is enough to audit the keys without holding them.
func TestJSONKeepsHashAndKeyIDWhenRedacted(t *testing.T) {
	pat := finding("github-pat", "critical", "a.env", 1, fakePAT)
	pat.SecretSHA256 = scanner.SecretSHA256(fakePAT)
	aki := finding("aws-access-key-id", "high", "a.env", 2, fakeAKI)
	aki.Meta = map[string]string{"access_key_id": fakeAKI}
	var buf bytes.Buffer
	if err := Write(&buf, "json", []scanner.Finding{pat, aki}, Options{}); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Secret       string            `json:"secret"`
		SecretSHA256 string            `json:"secret_sha256"`
		Meta         map[string]string `json:"meta"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), fakePAT[4:]) {
		t.Fatal("JSON holds the token")
	}
	if got[0].SecretSHA256 != scanner.SecretSHA256(fakePAT) || got[0].Secret == fakePAT {
		t.Errorf("token finding: %+v", got[0])
	}
	// A finding built without the hash gets it from the secret before redaction.
	if got[1].SecretSHA256 != scanner.SecretSHA256(fakeAKI) || got[1].Meta["access_key_id"] != fakeAKI {
		t.Errorf("key id finding: %+v", got[1])
	}
}
