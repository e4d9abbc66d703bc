package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/testtools"
)

// sampleAudit is a report of four keys, one per risk, built the way the
// audit builds them (Assess over evidence), for the HTML tests and the
// README screenshot.
func sampleAudit(now time.Time) audit.Report {
	day := 24 * time.Hour
	leak := now.Add(-30 * day).Truncate(time.Hour)
	at := func(d time.Duration) *time.Time { t := leak.Add(d); return &t }
	loc := func(f string, l int) []audit.Location {
		return []audit.Location{{File: f, Line: l, Commit: "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f", Date: at(0)}}
	}
	u := audit.NewUsage(leak, 90*day)
	for i, ip := range []string{"198.51.100.10", "198.51.100.10", "198.51.100.11"} {
		u.Add(audit.Event{Time: leak.Add(-time.Duration(20+i*10) * day), AccessKeyID: "AKIAZ7VRSQ5TNQLJ4MXK", SourceIP: ip, Region: "eu-west-1", UserAgent: "aws-sdk-go-v2"})
	}
	u.Add(audit.Event{Time: leak.Add(3 * day), AccessKeyID: "AKIAZ7VRSQ5TNQLJ4MXK", SourceIP: "198.51.100.10", Region: "eu-west-1", UserAgent: "aws-sdk-go-v2"})
	u.Add(audit.Event{Time: leak.Add(9 * day), AccessKeyID: "AKIAZ7VRSQ5TNQLJ4MXK", Name: "GetSessionToken", SourceIP: "203.0.113.66", Region: "us-east-1", UserAgent: "curl/8.5", MintedKeyID: "ASIAY34FZKBOKMUTVV7A"})
	u.Add(audit.Event{Time: leak.Add(10 * day), AccessKeyID: "ASIAY34FZKBOKMUTVV7A", Name: "ListUsers", SourceIP: "203.0.113.66", Region: "us-east-1", ErrorCode: "AccessDenied"})
	u.Add(audit.Event{Time: leak.Add(16 * day), AccessKeyID: "AKIAZ7VRSQ5TNQLJ4MXK", Name: "ListBuckets", SourceIP: "192.0.2.201", Region: "ap-southeast-1"})
	created := leak.Add(-150 * day)
	ghCreated := leak.Add(-40 * day)
	keys := []audit.Key{
		audit.Assess(audit.Key{Fingerprint: "f0c1a", RuleID: "aws-access-key-id", Provider: "aws", KeyID: "AKIAZ7VRSQ5TNQLJ4MXK",
			LeakedAt: leak, LeakedAtSource: audit.LeakedAtCommit, LeakLocations: loc("deploy/creds.env", 3)},
			[]audit.Evidence{{AccountID: "123456789012", Owner: "arn:aws:iam::123456789012:user/deploy", Status: audit.StatusActive, CreatedAt: &created, Usage: u}},
			audit.DefaultPolicy(), now),
		audit.Assess(audit.Key{Fingerprint: "b7e22", RuleID: "github-pat", Provider: "github", Hint: "ghp_…",
			LeakedAt: leak.Add(2 * day), LeakedAtSource: audit.LeakedAtCommit, LeakLocations: loc(".github/ci.yml", 12)},
			[]audit.Evidence{{Owner: "octo-bot", Status: audit.StatusActive, CreatedAt: &ghCreated, LastUsedAt: at(-5 * day)}},
			audit.DefaultPolicy(), now),
		audit.Assess(audit.Key{Fingerprint: "9d3f0", RuleID: "stripe-secret-key", Provider: "stripe", Hint: "sk_live_…",
			LeakedAt: now.Add(-2 * day), LeakedAtSource: audit.LeakedAtAssumed, LeakLocations: []audit.Location{{File: "app/settings.py", Line: 40}}},
			[]audit.Evidence{{Errors: []string{"stripe: no audit source configured"}}}, audit.DefaultPolicy(), now),
		audit.Assess(audit.Key{Fingerprint: "51aa9", RuleID: "aws-access-key-id", Provider: "aws", KeyID: "AKIA2OGYBAH6STMMNXNN",
			LeakedAt: leak.Add(-60 * day), LeakedAtSource: audit.LeakedAtCommit, LeakLocations: loc("old/terraform.tfvars", 8)},
			[]audit.Evidence{{AccountID: "123456789012", Owner: "arn:aws:iam::123456789012:user/legacy", Status: audit.StatusInactive, CreatedAt: at(-400 * day)}},
			audit.DefaultPolicy(), now),
	}
	return audit.NewReport(keys, nil, now)
}

func TestAuditHTMLSelfContained(t *testing.T) {
	rep := sampleAudit(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	if err := WriteAudit(&buf, "html", rep, AuditOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	// Nothing fetched: no external scripts, styles, fonts or images.
	for _, bad := range []*regexp.Regexp{regexp.MustCompile(`(?i)<script[^>]+src=`), regexp.MustCompile(`(?i)<link\b`),
		regexp.MustCompile(`(?i)@import`), regexp.MustCompile(`(?i)url\(`), regexp.MustCompile(`(?i)(src|href)="(https?:)?//`)} {
		if bad.MatchString(html) {
			t.Errorf("HTML references an external resource: %s", bad.FindString(html))
		}
	}
	for _, k := range rep.Keys {
		if !strings.Contains(html, `id="row-`+k.Fingerprint+`"`) || !strings.Contains(html, `id="key-`+k.Fingerprint+`"`) {
			t.Errorf("key %s has no row or section", k.Fingerprint)
		}
	}
	if n := strings.Count(html, `<svg class="timeline"`); n != len(rep.Keys) {
		t.Errorf("%d timelines for %d keys", n, len(rep.Keys))
	}
	for _, kind := range []string{"created", "leaked", "first-use-after-leak", "new-ip", "denied", "session-minted", "rotation-due", "last-used"} {
		if !strings.Contains(html, `data-kind="`+kind+`"`) {
			t.Errorf("no %s mark on any timeline", kind)
		}
	}
}

// The HTML report rendered by headless Chromium: each key has its row
// after the script ran, the #sort= hash sorts the table, every key has a
// time axis, and the screenshot is not blank.
func TestAuditHTMLInChromium(t *testing.T) {
	chromium := testtools.Need(t, "chromium", "chromium-browser")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	rep := sampleAudit(now)
	dir := t.TempDir()
	page := filepath.Join(dir, "audit.html")
	var buf bytes.Buffer
	if err := WriteAudit(&buf, "html", rep, AuditOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Sort by age (column 5), oldest first, on load.
	dom := runChromium(t, chromium, "--dump-dom", "file://"+page+"#sort=5-desc")
	rows := regexp.MustCompile(`<tr class="key-row" id="row-([0-9a-f]+)"`).FindAllStringSubmatch(dom, -1)
	var order []string
	for _, r := range rows {
		order = append(order, r[1])
	}
	// Ages: 51aa9 430 days, f0c1a 180, b7e22 70, 9d3f0 unknown (-1).
	if want := []string{"51aa9", "f0c1a", "b7e22", "9d3f0"}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("rows after #sort=5-desc: %v, want %v (did the script run?)", order, want)
	}
	if !regexp.MustCompile(`<th[^>]*data-col="5"[^>]*aria-sort="descending"`).MatchString(dom) {
		t.Error("the age header is not marked as sorted descending")
	}
	if n := strings.Count(dom, `class="axis"`); n != len(rep.Keys) {
		t.Errorf("%d time axes in the rendered page, want %d", n, len(rep.Keys))
	}

	shot := filepath.Join(dir, "shot.png")
	runChromium(t, chromium, "--screenshot="+shot, "--window-size=1280,900", "file://"+page)
	colours, inked := pngStats(t, shot)
	if colours < 16 || inked < 0.05 {
		t.Errorf("screenshot looks blank: %d distinct colours, %.1f%% non-background pixels", colours, inked*100)
	}
	if os.Getenv("KEYTRAIL_UPDATE_SCREENSHOT") != "" {
		data, _ := os.ReadFile(shot)
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "audit-report.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runChromium(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--hide-scrollbars"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// pngStats counts distinct colours and the share of pixels that differ
// from the top-left (background) pixel.
func pngStats(t *testing.T, path string) (int, float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("screenshot not written: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("screenshot is %v", b)
	}
	colours := map[[4]uint32]bool{}
	bg := rgba(img, b.Min.X+b.Dx()-1, b.Min.Y+b.Dy()-1)
	differ := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			c := rgba(img, x, y)
			colours[c] = true
			if c != bg {
				differ++
			}
		}
	}
	return len(colours), float64(differ) / float64((b.Dx()/2)*(b.Dy()/2))
}

func rgba(img image.Image, x, y int) [4]uint32 {
	r, g, b, a := img.At(x, y).RGBA()
	return [4]uint32{r, g, b, a}
}

// A hostile path or provider message cannot drive the terminal through
// the text report, nor inject markup into the HTML one.
func TestAuditReportsEscapeHostileFields(t *testing.T) {
	rep := hostileFieldsAudit(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	for _, format := range []string{"text", "html"} {
		var buf bytes.Buffer
		if err := WriteAudit(&buf, format, rep, AuditOptions{}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
			t.Errorf("%s report passes a control character through", format)
		}
		if format == "html" && (strings.Contains(out, "<script>alert") || strings.Contains(out, "<img src=x")) {
			t.Errorf("html report holds unescaped markup")
		}
	}
}

// hostileFieldsAudit is a key whose path, owner and provider message hold
// terminal controls and markup.
func hostileFieldsAudit(now time.Time) audit.Report {
	k := audit.Assess(audit.Key{Fingerprint: "abc", RuleID: "github-pat", Provider: "github", Hint: "ghp_…",
		LeakedAt: now.Add(-time.Hour), LeakLocations: []audit.Location{{File: "evil\x1b]0;pwned\x07<script>alert(1)</script>.env", Line: 1}}},
		[]audit.Evidence{{Owner: "bob\x1b[2J", Errors: []string{"github: 500 \x1b[31m<img src=x onerror=alert(1)>"}}}, audit.DefaultPolicy(), now)
	return audit.NewReport([]audit.Key{k}, nil, now)
}
