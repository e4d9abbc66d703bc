package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/report"
	"github.com/keytrail/keytrail/internal/testtools"
	"github.com/keytrail/keytrail/internal/testtools/ghfake"
)

// fakeProvider stands in for a cloud account: enabled by --fake-account,
// it reports canned evidence by AWS key id or by secret hash.
type fakeProvider struct {
	enabled  bool
	initErr  error
	inv      *fakeInvestigator
	evidence func(k audit.Key, window time.Duration) (audit.Evidence, bool)
}

func (p *fakeProvider) register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.enabled, "fake-account", false, "test provider")
}

func (p *fakeProvider) investigator(ctx context.Context, e *env) (audit.Investigator, error) {
	if !p.enabled {
		return nil, nil
	}
	if p.initErr != nil {
		return nil, p.initErr
	}
	p.inv = &fakeInvestigator{window: e.audit.BaselineWindow, evidence: p.evidence}
	return p.inv, nil
}

type fakeInvestigator struct {
	mu       sync.Mutex
	window   time.Duration
	seen     []audit.Key
	evidence func(k audit.Key, window time.Duration) (audit.Evidence, bool)
	errs     []error
}

func (f *fakeInvestigator) Name() string { return "fake" }

func (f *fakeInvestigator) Investigate(ctx context.Context, keys []audit.Key) (map[string]audit.Evidence, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]audit.Evidence{}
	for _, k := range keys {
		f.seen = append(f.seen, k)
		if ev, ok := f.evidence(k, f.window); ok {
			out[k.Fingerprint] = ev
		}
	}
	return out, f.errs
}

// runAuditCLI runs keytrail in-process with the given providers.
func runAuditCLI(t *testing.T, providers []auditProvider, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		providers: func() []auditProvider { return providers }}
	code := e.run(ctx, args)
	return result{code, out.String(), errb.String()}
}

// Format-exact fake AWS credentials, from a fixed seed.
func fakeAWSPair(seed int64) (id, secret string) {
	return "AKIA" + seeded(seed, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
		seeded(seed+1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40)
}

type auditFixture struct {
	dir                  string
	awsID, awsSecret     string
	ghTok                string
	leakedAt, created    time.Time
	provider             *fakeProvider
	attackerIP, knownIP  string
	lastUsedBeforeLeakGH time.Time
}

// newAuditFixture writes a directory with an AWS key pair and a GitHub
// token, and a fake account in which the AWS key is active and was used
// after the leak from a new IP, and the GitHub token is revoked.
func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	fx := &auditFixture{dir: t.TempDir(), ghTok: ghToken(81), attackerIP: "203.0.113.66", knownIP: "198.51.100.10"}
	fx.awsID, fx.awsSecret = fakeAWSPair(80)
	fx.leakedAt = time.Now().UTC().AddDate(0, 0, -20).Truncate(time.Second)
	fx.created = time.Now().UTC().AddDate(0, 0, -120).Truncate(time.Second)
	write(t, filepath.Join(fx.dir, "deploy", "creds.env"),
		"aws_access_key_id = "+fx.awsID+"\naws_secret_access_key = "+fx.awsSecret+"\n")
	write(t, filepath.Join(fx.dir, "ci.yml"), "token: "+fx.ghTok+"\n")
	fx.provider = &fakeProvider{evidence: func(k audit.Key, window time.Duration) (audit.Evidence, bool) {
		switch {
		case k.KeyID == fx.awsID:
			u := audit.NewUsage(k.LeakedAt, window)
			u.Add(audit.Event{Time: k.LeakedAt.Add(-24 * time.Hour), AccessKeyID: fx.awsID, SourceIP: fx.knownIP, Region: "us-east-1"})
			u.Add(audit.Event{Time: k.LeakedAt.Add(48 * time.Hour), AccessKeyID: fx.awsID, SourceIP: fx.attackerIP, Region: "us-east-1"})
			return audit.Evidence{AccountID: "123456789012", Owner: "arn:aws:iam::123456789012:user/deploy", Status: audit.StatusActive,
				CreatedAt: &fx.created, Usage: u}, true
		case k.SecretSHA256 == audit.Key{}.SecretSHA256:
			return audit.Evidence{}, false
		case k.Provider == "github":
			return audit.Evidence{Verified: "revoked"}, true
		}
		return audit.Evidence{}, false
	}}
	return fx
}

type auditReportJSON struct {
	GeneratedAt time.Time   `json:"generated_at"`
	Keys        []audit.Key `json:"keys"`
	Summary     struct {
		Keys          int            `json:"keys"`
		ByRisk        map[string]int `json:"by_risk"`
		UsedAfterLeak int            `json:"used_after_leak"`
		OverMaxAge    int            `json:"over_max_age"`
		InputErrors   []string       `json:"input_errors"`
	} `json:"summary"`
}

func parseAudit(t *testing.T, s string) auditReportJSON {
	t.Helper()
	var r auditReportJSON
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("audit JSON: %v\n%s", err, s)
	}
	return r
}

func keyByProvider(t *testing.T, r auditReportJSON, provider string) audit.Key {
	t.Helper()
	for _, k := range r.Keys {
		if k.Provider == provider {
			return k
		}
	}
	t.Fatalf("no %s key in %+v", provider, r.Keys)
	return audit.Key{}
}

// The JSON contract: every field issue 8 names is present.
var auditJSONFields = []string{"fingerprint", "rule_id", "provider", "key_id", "account_id", "owner", "status", "created_at",
	"age_days", "leaked_at", "leak_locations", "used_after_leak", "first_use_after_leak", "events_after_leak", "new_source_ips",
	"new_regions", "access_denied_after_leak", "sessions", "over_max_age", "rotation_due", "quarantined", "risk", "reasons",
	"recommendation", "timeline"}

func TestAuditDirWithProvider(t *testing.T) {
	fx := newAuditFixture(t)
	r := runAuditCLI(t, []auditProvider{fx.provider}, "", "audit", "dir", fx.dir, "--fake-account",
		"--leaked-at", fx.leakedAt.Format(time.RFC3339), "--baseline-window", "30d", "-f", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want 1 (a critical key)\nstderr: %s\nstdout: %s", r.code, r.stderr, r.stdout)
	}
	rep := parseAudit(t, r.stdout)
	if len(rep.Keys) != 2 || rep.Summary.Keys != 2 || rep.Summary.ByRisk["critical"] != 1 || rep.Summary.ByRisk["low"] != 1 {
		t.Fatalf("keys %d summary %+v", len(rep.Keys), rep.Summary)
	}
	aws := keyByProvider(t, rep, "aws")
	if aws.KeyID != fx.awsID || aws.Risk != "critical" || aws.Recommendation != "revoke-now" || !aws.UsedAfterLeak {
		t.Errorf("aws key: id %s risk %s rec %s used %v", aws.KeyID, aws.Risk, aws.Recommendation, aws.UsedAfterLeak)
	}
	if !slices.Equal(aws.NewSourceIPs, []string{fx.attackerIP}) || aws.EventsAfterLeak != 1 {
		t.Errorf("aws usage: new ips %v events %d", aws.NewSourceIPs, aws.EventsAfterLeak)
	}
	// The secret key line is audited through its key id: one key, two places.
	if len(aws.LeakLocations) != 2 || aws.LeakedAtSource != audit.LeakedAtFlag || !aws.LeakedAt.Equal(fx.leakedAt) {
		t.Errorf("aws leak: %+v from %s at %v", aws.LeakLocations, aws.LeakedAtSource, aws.LeakedAt)
	}
	if aws.AgeDays == nil || *aws.AgeDays != 120 || !aws.OverMaxAge || aws.RotationDue == nil || !aws.RotationDue.Equal(fx.created.AddDate(0, 0, 90)) {
		t.Errorf("aws age %v over %v due %v", aws.AgeDays, aws.OverMaxAge, aws.RotationDue)
	}
	gh := keyByProvider(t, rep, "github")
	if gh.Risk != "low" || gh.Recommendation != "remove-from-code" || gh.Status != "inactive" || gh.Verified != "revoked" {
		t.Errorf("github key: %s %s %s %s", gh.Risk, gh.Recommendation, gh.Status, gh.Verified)
	}
	// What the provider was handed: the pair's secret (for --verify only), and the window.
	inv := fx.provider.inv
	if inv.window != 30*24*time.Hour {
		t.Errorf("baseline window %v reached the provider, want 30d", inv.window)
	}
	for _, k := range inv.seen {
		if k.KeyID == fx.awsID && (k.Secret != fx.awsID || k.PairSecret != fx.awsSecret) {
			t.Errorf("aws key handed to the provider without its pair secret")
		}
	}
	var raw struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	json.Unmarshal([]byte(r.stdout), &raw)
	for _, k := range raw.Keys {
		if string(k["provider"]) != `"aws"` {
			continue
		}
		for _, f := range auditJSONFields {
			if _, ok := k[f]; !ok {
				t.Errorf("JSON key lacks %q", f)
			}
		}
	}
}

// No format may print a secret: not the AWS secret key, not the GitHub
// token. The AWS key id is an identifier and may appear.
func TestAuditNoSecretInAnyFormat(t *testing.T) {
	fx := newAuditFixture(t)
	for _, format := range []string{"text", "json", "html", "sarif"} {
		out := filepath.Join(t.TempDir(), "audit."+format)
		r := runAuditCLI(t, []auditProvider{fx.provider}, "", "audit", "dir", fx.dir, "--fake-account", "-f", format, "-o", out)
		if r.code != ExitFindings {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{fx.awsSecret, fx.awsSecret[8:30], fx.ghTok, fx.ghTok[4:]} {
			if bytes.Contains(data, []byte(s)) || strings.Contains(r.stderr, s) {
				t.Errorf("%s report holds a secret (%q...)", format, s[:6])
			}
		}
		if !bytes.Contains(data, []byte(fx.awsID)) {
			t.Errorf("%s report does not name the AWS key id", format)
		}
		if format == "sarif" {
			if issues := testtools.ValidateSARIF(t, out); len(issues) > 0 {
				t.Errorf("SARIF invalid: %v", issues)
			}
			checkAuditSARIF(t, data, fx.awsID)
		}
		if format == "text" {
			for _, want := range []string{"CRITICAL " + fx.awsID, "revoke-now", "new IPs " + fx.attackerIP, "timeline:", "first-use-after-leak", "2 key(s) audited: 1 critical"} {
				if !strings.Contains(string(data), want) {
					t.Errorf("text report lacks %q:\n%s", want, data)
				}
			}
		}
	}
}

func checkAuditSARIF(t *testing.T, data []byte, awsID string) {
	t.Helper()
	var doc struct {
		Runs []struct {
			Results []struct {
				RuleID     string         `json:"ruleId"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, res := range doc.Runs[0].Results {
		p := res.Properties
		if p["auditRisk"] == nil || p["auditRecommendation"] == nil {
			t.Errorf("result %s lacks the verdict: %v", res.RuleID, p)
		}
		if strings.HasPrefix(res.RuleID, "aws-") {
			n++
			if p["auditRisk"] != "critical" || p["security-severity"] != "10.0" || p["auditKey"] != awsID {
				t.Errorf("aws result %s: %v", res.RuleID, p)
			}
		} else if p["security-severity"] != nil {
			t.Errorf("security-severity raised on a low key: %v", p)
		}
	}
	if n != 2 {
		t.Errorf("%d aws results, want the key id and its secret key", n)
	}
}

// A saved, redacted findings file is enough: same keys, same verdicts,
// no secret needed.
func TestAuditFindingsFile(t *testing.T) {
	fx := newAuditFixture(t)
	findings := filepath.Join(t.TempDir(), "findings.json")
	if r := run(t, "", "scan", "dir", fx.dir, "-f", "json", "-o", findings); r.code != ExitFindings {
		t.Fatalf("scan: exit %d %s", r.code, r.stderr)
	}
	r := runAuditCLI(t, []auditProvider{fx.provider}, "", "audit", "--findings", findings, "--fake-account", "-f", "json")
	if r.code != ExitFindings {
		t.Fatalf("audit: exit %d %s", r.code, r.stderr)
	}
	rep := parseAudit(t, r.stdout)
	aws := keyByProvider(t, rep, "aws")
	if aws.Risk != "critical" || aws.KeyID != fx.awsID || len(aws.LeakLocations) != 2 {
		t.Errorf("aws key from file: %s %s %v", aws.Risk, aws.KeyID, aws.LeakLocations)
	}
	if aws.LeakedAtSource != audit.LeakedAtAssumed || !strings.Contains(strings.Join(aws.Reasons, " "), "assumed") {
		t.Errorf("leak time should be the assumed scan time: %s %q", aws.LeakedAtSource, aws.Reasons)
	}
	// The same file through standard input.
	data, err := os.ReadFile(findings)
	if err != nil {
		t.Fatal(err)
	}
	r2 := runAuditCLI(t, []auditProvider{fx.provider}, string(data), "audit", "--findings", "-", "--fake-account", "-f", "json")
	if rep2 := parseAudit(t, r2.stdout); r2.code != ExitFindings || len(rep2.Keys) != len(rep.Keys) || keyByProvider(t, rep2, "aws").Risk != "critical" {
		t.Errorf("--findings -: exit %d %s", r2.code, r2.stderr)
	}
	gh := keyByProvider(t, rep, "github")
	if gh.SecretSHA256 == "" || gh.Risk != "low" {
		t.Errorf("github key from file: %+v", gh)
	}
	for _, k := range fx.provider.inv.seen {
		if k.Secret != "" || k.PairSecret != "" {
			t.Errorf("a redacted file cannot hold secrets, yet key %s has one", k.Fingerprint)
		}
	}
}

func TestAuditFindingsFileErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content, want string
	}{
		{"truncated.json", "[\n  {\"rule_id\": \"x\",\n", "truncated.json:3:1: unexpected end of input"},
		{"syntax.json", "[\n  {\"rule_id\": \"x\"},\n  {oops}\n]", "syntax.json:3:4: invalid character 'o'"},
		{"type.json", "[{\"rule_id\": 5}]", "type.json:1:15:"},
		{"notfindings.json", "[{\"name\": \"x\"}]", "finding 1 has no rule_id"},
		{"empty.json", "  \n", "empty"},
		{"object.txt", "hello", "want a JSON array"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			write(t, path, c.content)
			r := runAuditCLI(t, nil, "", "audit", "--findings", path)
			if r.code != ExitError || !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d stderr %q, want 2 and %q naming the file", r.code, r.stderr, c.want)
			}
		})
	}
	if r := runAuditCLI(t, nil, "", "audit", "--findings", filepath.Join(dir, "missing.json")); r.code != ExitError || !strings.Contains(r.stderr, "missing.json") {
		t.Errorf("missing file: exit %d %q", r.code, r.stderr)
	}
	if r := runAuditCLI(t, nil, "", "audit"); r.code != ExitError || !strings.Contains(r.stderr, "--findings") {
		t.Errorf("no source: exit %d %q", r.code, r.stderr)
	}
	if r := runAuditCLI(t, nil, "", "audit", "stdin", "-f", "csv"); r.code != ExitError || !strings.Contains(r.stderr, "text, json, html, sarif") {
		t.Errorf("bad format: exit %d %q", r.code, r.stderr)
	}
	for _, bad := range [][]string{{"--leaked-at", "yesterday"}, {"--baseline-window", "ninety"}} {
		if r := runAuditCLI(t, nil, "x", append([]string{"audit", "stdin"}, bad...)...); r.code != ExitError || !strings.Contains(r.stderr, bad[0]) {
			t.Errorf("%v: exit %d %q", bad, r.code, r.stderr)
		}
	}
}

// Exit codes: 2 when a provider failed (the report is still written),
// 1 for a high or critical key, 0 otherwise.
func TestAuditExitCodes(t *testing.T) {
	fx := newAuditFixture(t)
	// A provider that cannot start: exit 2, keys still reported.
	broken := &fakeProvider{initErr: fmt.Errorf("fake: no credentials (set FAKE_TOKEN)"), evidence: fx.provider.evidence}
	r := runAuditCLI(t, []auditProvider{broken}, "", "audit", "dir", fx.dir, "--fake-account", "-f", "json")
	rep := parseAudit(t, r.stdout)
	if r.code != ExitError || len(rep.Keys) != 2 || !strings.Contains(r.stderr, "set FAKE_TOKEN") || len(rep.Summary.InputErrors) != 1 {
		t.Errorf("broken provider: exit %d keys %d stderr %q", r.code, len(rep.Keys), r.stderr)
	}
	// Without any provider nothing is known: medium, exit 0.
	r = runAuditCLI(t, []auditProvider{&fakeProvider{}}, "", "audit", "dir", fx.dir, "-f", "json")
	rep = parseAudit(t, r.stdout)
	if r.code != ExitClean || rep.Summary.ByRisk["medium"] != 2 {
		t.Errorf("no provider: exit %d summary %+v", r.code, rep.Summary)
	}
	// Only revoked keys: low, exit 0.
	only := t.TempDir()
	write(t, filepath.Join(only, "ci.yml"), "token: "+fx.ghTok+"\n")
	r = runAuditCLI(t, []auditProvider{fx.provider}, "", "audit", "dir", only, "--fake-account")
	if r.code != ExitClean || !strings.Contains(r.stdout, "LOW") {
		t.Errorf("revoked only: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Nothing found: an empty report, exit 0, even if a provider could
	// not have started (it is not asked).
	r = runAuditCLI(t, []auditProvider{broken}, "nothing here\n", "audit", "stdin", "--fake-account", "-f", "json")
	if rep = parseAudit(t, r.stdout); r.code != ExitClean || len(rep.Keys) != 0 {
		t.Errorf("no findings, broken provider: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Nothing found: an empty report, exit 0.
	r = runAuditCLI(t, []auditProvider{fx.provider}, "nothing here\n", "audit", "stdin", "--fake-account", "-f", "json")
	if rep = parseAudit(t, r.stdout); r.code != ExitClean || len(rep.Keys) != 0 || rep.Keys == nil {
		t.Errorf("no findings: exit %d %s", r.code, r.stdout)
	}
	// Input errors from an investigator: exit 2 even with a critical key.
	erring := &fakeProvider{evidence: fx.provider.evidence}
	r = runAuditCLI(t, []auditProvider{&erringProvider{erring}}, "", "audit", "dir", fx.dir, "--fake-account", "-f", "json")
	if r.code != ExitError || !strings.Contains(r.stderr, "fake: trail.json.gz: unexpected EOF") {
		t.Errorf("investigator error: exit %d %q", r.code, r.stderr)
	}
}

type erringProvider struct{ *fakeProvider }

func (p *erringProvider) investigator(ctx context.Context, e *env) (audit.Investigator, error) {
	inv, err := p.fakeProvider.investigator(ctx, e)
	if inv != nil {
		inv.(*fakeInvestigator).errs = []error{fmt.Errorf("trail.json.gz: unexpected EOF")}
	}
	return inv, err
}

// In a history scan the leak time is the introducing commit's date.
func TestAuditGitLeakTime(t *testing.T) {
	testtools.Need(t, "git")
	dir := t.TempDir()
	id, secret := fakeAWSPair(90)
	date := time.Now().UTC().AddDate(0, 0, -40).Truncate(time.Second)
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = gitEnv("GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_DATE="+date.Format(time.RFC3339), "GIT_COMMITTER_DATE="+date.Format(time.RFC3339))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	write(t, filepath.Join(dir, "app.cfg"), "aws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n")
	git("add", ".")
	git("commit", "-q", "-m", "config")
	p := &fakeProvider{evidence: func(k audit.Key, w time.Duration) (audit.Evidence, bool) {
		created := date.AddDate(0, 0, -5)
		return audit.Evidence{Status: audit.StatusActive, CreatedAt: &created}, k.KeyID == id
	}}
	r := runAuditCLI(t, []auditProvider{p}, "", "audit", "git", dir, "--fake-account", "--leaked-at", "2020-01-01", "-f", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	k := keyByProvider(t, parseAudit(t, r.stdout), "aws")
	if k.LeakedAtSource != audit.LeakedAtCommit || !k.LeakedAt.Equal(date) {
		t.Errorf("leaked at %v from %s, want the commit date %v", k.LeakedAt, k.LeakedAtSource, date)
	}
	if k.Risk != "high" || k.Recommendation != "rotate" || k.LeakLocations[0].Commit == "" {
		t.Errorf("active, unused since the leak: %s/%s %+v", k.Risk, k.Recommendation, k.LeakLocations)
	}
}

func TestParseDays(t *testing.T) {
	cases := map[string]time.Duration{"90d": 90 * 24 * time.Hour, "12w": 84 * 24 * time.Hour, "720h": 720 * time.Hour, "1.5d": 36 * time.Hour}
	for in, want := range cases {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-3d", "ninety", "5x"} {
		if _, err := parseDays(bad); err == nil {
			t.Errorf("parseDays(%q): no error", bad)
		}
	}
}

// FuzzAuditFindings reads arbitrary findings files through the whole
// --findings path without providers: reading, grouping into keys, verdict.
func FuzzAuditFindings(f *testing.F) {
	f.Add([]byte(`[{"rule_id":"aws-access-key-id","provider":"AWS","fingerprint":"a","secret":"AKIA…","secret_sha256":"x","meta":{"access_key_id":"AKIAX","paired_with":"b"}},` +
		`{"rule_id":"aws-secret-access-key","provider":"AWS","fingerprint":"b","secret":"abcd…","meta":{"paired_with":"a"},"date":"2026-01-01T00:00:00Z"}]`))
	f.Add([]byte(`[{"rule_id":"aws-secret-access-key","fingerprint":"b","meta":{"paired_with":"b"}}]`))
	f.Add([]byte(`{"rule_id":"github-pat","secret":"ghp_","locations":[{"file":"x","line":-1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := report.ReadFindings("fuzz.json", bytes.NewReader(data))
		if err != nil {
			return
		}
		keys, keyOf := keysFromFindings(fs, leakTime{scanTime: time.Unix(1e9, 0)})
		for _, f := range fs {
			if _, ok := keyOf[f.Fingerprint]; !ok {
				t.Fatalf("finding %q belongs to no key", f.Fingerprint)
			}
		}
		for _, k := range keys {
			a := audit.Assess(k, nil, audit.DefaultPolicy(), time.Unix(2e9, 0))
			if a.Risk == "" || a.Recommendation == "" {
				t.Fatalf("no verdict for %+v", a)
			}
		}
	})
}

// The audit's JSON is what `keytrail remediate plan --from` reads: the
// critical AWS key becomes a revocation of its owner's key.
func TestAuditJSONFeedsRemediatePlan(t *testing.T) {
	fx := newAuditFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "audit.json")
	if r := runAuditCLI(t, []auditProvider{fx.provider}, "", "audit", "dir", fx.dir, "--fake-account", "-f", "json", "-o", out); r.code != ExitFindings {
		t.Fatalf("audit: exit %d %s", r.code, r.stderr)
	}
	plan := filepath.Join(dir, "plan.json")
	r := run(t, "", "remediate", "plan", "--from", out, "-o", plan)
	if r.code != ExitClean {
		t.Fatalf("remediate plan: exit %d %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Keys []struct {
			KeyID  string `json:"key_id"`
			User   string `json:"user"`
			Action string `json:"action"`
		}
	}
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range p.Keys {
		if k.KeyID == fx.awsID {
			found = true
			if k.Action != "revoke" || k.User != "deploy" {
				t.Errorf("plan for the critical key: %+v", k)
			}
		}
	}
	if !found {
		t.Errorf("plan has no entry for %s: %s", fx.awsID, data)
	}
}

// `keytrail audit github` audits what an organisation-wide scan finds; a
// repository that cannot be cloned is an input error (exit 2), the others
// are still audited.
func TestAuditGitHubOrg(t *testing.T) {
	gh := fakeGitHub(t)
	id, secret := fakeAWSPair(95)
	gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "api", IsOrg: true},
		map[string]string{"deploy.env": "aws_access_key_id = " + id + "\naws_secret_access_key = " + secret + "\n"})
	gh.AddRepo(ghfake.Repo{Owner: "acme", Name: "broken", IsOrg: true}, map[string]string{"main.go": "package main\n"})
	gh.Corrupt("acme", "broken")
	p := &fakeProvider{evidence: func(k audit.Key, w time.Duration) (audit.Evidence, bool) {
		return audit.Evidence{Status: audit.StatusActive}, k.KeyID == id
	}}
	dir := t.TempDir()
	r := runAuditCLI(t, []auditProvider{p}, "", "audit", "github", "--org", "acme", "--cache", filepath.Join(dir, "cache"),
		"--fake-account", "-f", "json")
	if r.code != ExitError || !strings.Contains(r.stderr, "acme/broken") {
		t.Fatalf("exit %d, want 2 naming the broken repository; stderr:\n%s", r.code, r.stderr)
	}
	rep := parseAudit(t, r.stdout)
	k := keyByProvider(t, rep, "aws")
	if k.KeyID != id || k.Risk != "high" || k.LeakedAtSource != audit.LeakedAtCommit || len(rep.Summary.InputErrors) != 1 {
		t.Errorf("key %s risk %s leak %s; input errors %v", k.KeyID, k.Risk, k.LeakedAtSource, rep.Summary.InputErrors)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Error("the secret key is in the output")
	}
}
