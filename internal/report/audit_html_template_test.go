package report

import (
	"fmt"
	"html/template"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keytrail/keytrail/audit"
)

// hostileHTMLStrings go into every field the page prints: markup, every
// character html/template escapes, terminal controls, URL specials,
// non-ASCII, invalid UTF-8, line separators and bidi controls.
func hostileHTMLStrings() []string {
	return []string{
		"", "plain", "<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, `"`, "'", "&", "&amp;", "a+b",
		"\x00", "nul\x00in\x00side", "\x1b[31mred\x1b]0;title\x07", "javascript:alert(1)", "with spaces", " ", "#frag", "100%", "%41%zz",
		"é", "日本", "\xff", "\xe6<", "ok\xc3", "\u2028", "\u2029", "\u202eevil\u202c \u2066x\u2069 \u200f", "\r\n\t", "line\nbreak",
		"-._~", "!#$&*+,/:;=?@[]()'", "</title><script>", "</textarea>", "<!--", "]]>", "{{.Name}}", "\ufdd0\uffff\ufffd",
		"\u0085\u009b", "\x7f", "leaked", "first-use-after-leak",
	}
}

// hostileAudit puts s into every string field the page prints, on keys
// that take each branch of the page: named by key id, by hint, by rule;
// with and without owner, account, age, verification, locations,
// timeline, new IPs or regions and errors.
func hostileAudit(s string) audit.Report {
	day := 24 * time.Hour
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	leak := now.Add(-30 * day)
	age := 430
	full := audit.Key{Fingerprint: s, RuleID: s, Provider: s, KeyID: s, Hint: s, AccountID: s, Owner: s, Status: s,
		AgeDays: &age, MaxAgeDays: 90, LeakedAt: leak, LeakedAtSource: s,
		LeakLocations:   []audit.Location{{File: s, Line: 7, Commit: s + "4f2a9c1e8b7d6a5f"}, {File: s, Line: 1}},
		EventsAfterLeak: 3, NewSourceIPs: []string{s, "192.0.2.1"}, NewRegions: []string{s}, Verified: s,
		Risk: s, Reasons: []string{s, "plain"}, Recommendation: s, Errors: []string{s, s},
		Timeline: []audit.TimelineEvent{{Time: leak.Add(-400 * day), Kind: s, Detail: s}, {Time: leak, Kind: "leaked", Detail: s},
			{Time: leak.Add(2 * day), Kind: s + "-" + s, Detail: s}, {Time: now, Kind: "last-used", Detail: s}}}
	hint := full
	hint.KeyID, hint.Risk, hint.NewSourceIPs = "", audit.RiskHigh, nil
	hint.Timeline = []audit.TimelineEvent{{Time: leak.Add(time.Hour), Kind: s, Detail: s}}
	bare := audit.Key{Fingerprint: s, RuleID: s, Provider: s, Status: s, Risk: audit.RiskLow, LeakedAtSource: s,
		NewRegions: []string{s}, Recommendation: s}
	return audit.NewReport([]audit.Key{full, hint, bare}, []string{s, "input.json: " + s}, now)
}

// requireSameAsTemplate checks that the audit HTML for r, and the page
// for its htmlReport with s also in the fields no audit input reaches,
// are what templateAudit writes.
func requireSameAsTemplate(t testing.TB, r audit.Report, o AuditOptions, s string) {
	t.Helper()
	hr := newHTMLReport(r, o)
	want := executeTemplateAudit(t, hr)
	var got strings.Builder
	if err := WriteAudit(&got, "html", r, o); err != nil {
		t.Fatal(err)
	}
	requireSameHTML(t, "WriteAudit", got.String(), TerminalSafeLines(want))
	requireSameHTML(t, "renderAuditHTML", renderAuditHTML(hr), want)

	hr.GeneratedAt = s
	for i := range hr.Counts {
		hr.Counts[i].Risk = s
	}
	for _, k := range hr.Keys {
		for i := range k.Timeline.Ticks {
			k.Timeline.Ticks[i].Label = s
		}
		for i := range k.Timeline.Marks {
			k.Timeline.Marks[i].Color, k.Timeline.Marks[i].Anchor = s, s
		}
	}
	requireSameHTML(t, "renderAuditHTML, all fields", renderAuditHTML(hr), executeTemplateAudit(t, hr))
}

func executeTemplateAudit(t testing.TB, hr htmlReport) string {
	t.Helper()
	var b strings.Builder
	if err := templateAudit().Execute(&b, hr); err != nil {
		t.Fatalf("template: %v", err)
	}
	return b.String()
}

// requireSameHTML fails at the first byte where got and want differ.
func requireSameHTML(t testing.TB, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-80, 0)
	t.Fatalf("%s differs from the template at byte %d (lengths %d, %d):\n got: %q\nwant: %q",
		what, i, len(got), len(want), got[lo:min(i+80, len(got))], want[lo:min(i+80, len(want))])
}

// The hand-written page is byte for byte what html/template wrote.
func TestAuditHTMLMatchesTemplate(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	reports := map[string]audit.Report{
		"sample":  sampleAudit(now),
		"hostile": hostileFieldsAudit(now),
		"empty":   audit.NewReport(nil, nil, now),
	}
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			requireSameAsTemplate(t, r, AuditOptions{Version: "test"}, "<b>&'\"+\x00")
			requireSameAsTemplate(t, r, AuditOptions{}, "")
		})
	}
	for _, s := range hostileHTMLStrings() {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			requireSameAsTemplate(t, hostileAudit(s), AuditOptions{Version: s}, s)
		})
	}
}

func FuzzAuditHTMLMatchesTemplate(f *testing.F) {
	for _, s := range hostileHTMLStrings() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		requireSameAsTemplate(t, hostileAudit(s), AuditOptions{Version: s}, s)
	})
}

// templateAudit is the html/template the page was written with before
// renderAuditHTML, kept verbatim (with its FuncMap) as the reference the
// hand-written page must match byte for byte. Test code is not linked
// into the binary, so html/template costs nothing here.
var templateAudit = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("audit").Funcs(template.FuncMap{
		"upper": strings.ToUpper,
		"time": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return fmtTime(*t)
		},
		"join": strings.Join,
		"sub":  func(a, b int) int { return a - b },
	}).Parse(templateAuditHTML))
})

const templateAuditHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keytrail audit — {{.GeneratedAt}}</title>
<style>
` + auditCSS + `</style>
</head>
<body>
<header>
<h1>keytrail audit</h1>
<p>Generated {{.GeneratedAt}} · {{.Summary.Keys}} key(s) · {{.Summary.UsedAfterLeak}} used after the leak · {{.Summary.OverMaxAge}} over the maximum age</p>
</header>
<main>
<div class="counts">
{{range .Counts}}<div class="count {{.Risk}}" data-risk="{{.Risk}}"><b>{{.Count}}</b>{{.Risk}}</div>
{{end}}</div>
{{if .Summary.InputErrors}}<div class="errors"><p><b>Inputs that could not be read:</b></p><ul>{{range .Summary.InputErrors}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
<table id="keys">
<thead><tr>
<th data-col="0" data-type="num">Risk</th>
<th data-col="1">Key</th>
<th data-col="2">Provider</th>
<th data-col="3">Owner</th>
<th data-col="4">Status</th>
<th data-col="5" data-type="num">Age (days)</th>
<th data-col="6" data-type="num">Leaked</th>
<th data-col="7" data-type="num">Events since leak</th>
<th data-col="8">New IPs / regions</th>
<th data-col="9">Recommendation</th>
</tr></thead>
<tbody>
{{range .Keys}}<tr class="key-row" id="row-{{.Fingerprint}}" data-fingerprint="{{.Fingerprint}}">
<td data-v="{{.RiskRank}}"><span class="risk {{.Risk}}">{{.Risk}}</span></td>
<td data-v="{{.Name}}"><a href="#key-{{.Fingerprint}}"><code>{{.Name}}</code></a></td>
<td>{{.Provider}}</td>
<td class="wrap">{{.Owner}}</td>
<td>{{.Status}}</td>
<td class="num" data-v="{{.AgeSort}}">{{if .AgeDays}}{{.AgeDays}}{{end}}</td>
<td class="date" data-v="{{.LeakSort}}">{{.Leaked}}</td>
<td class="num" data-v="{{.EventsAfterLeak}}">{{.EventsAfterLeak}}</td>
<td class="wrap">{{join .NewSourceIPs ", "}}{{if and .NewSourceIPs .NewRegions}} · {{end}}{{join .NewRegions ", "}}</td>
<td>{{.Recommendation}}</td>
</tr>
{{end}}</tbody>
</table>
{{range .Keys}}
<section class="key {{.Risk}}" id="key-{{.Fingerprint}}">
<h2><span class="risk {{.Risk}}">{{.Risk}}</span> <code>{{.Name}}</code> → {{.Recommendation}}</h2>
<p class="facts">{{.Provider}} · rule {{.RuleID}} · status {{.Status}}{{if .Owner}} · owner {{.Owner}}{{end}}{{if .AccountID}} · account {{.AccountID}}{{end}}{{if .AgeDays}} · {{.AgeDays}} days old (max {{.MaxAgeDays}}){{end}}{{if .Verified}} · verified {{.Verified}}{{end}}<br>
leaked {{.Leaked}} ({{.LeakedAtSource}}){{if .Locations}} in {{join .Locations ", "}}{{end}}</p>
<ul class="reasons">{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
{{with .Timeline}}{{if .Marks}}<svg class="timeline" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="timeline">
{{if .HasLeak}}<rect class="after-leak" x="{{.LeakX}}" y="4" width="{{sub .X1 .LeakX}}" height="{{sub .Height 20}}" fill="#fed7d7" opacity="0.55"><title>after the leak</title></rect>{{end}}
{{if .Compressed}}<line class="axis" x1="{{.X0}}" y1="{{.AxisY}}" x2="{{.BreakX}}" y2="{{.AxisY}}" stroke="#2d3748" stroke-width="2" stroke-dasharray="6,4"><title>before the leak (compressed)</title></line>
<line x1="{{.BreakX}}" y1="{{.AxisY}}" x2="{{.X1}}" y2="{{.AxisY}}" stroke="#2d3748" stroke-width="2"/>{{else}}<line class="axis" x1="{{.X0}}" y1="{{.AxisY}}" x2="{{.X1}}" y2="{{.AxisY}}" stroke="#2d3748" stroke-width="2"/>{{end}}
{{$y := .AxisY}}{{$t0 := .TickTop}}{{$t1 := .TickBottom}}{{$ty := .TickLabelY}}{{range .Ticks}}<line x1="{{.X}}" y1="{{$t0}}" x2="{{.X}}" y2="{{$t1}}" stroke="#2d3748"/><text class="tick" x="{{.X}}" y="{{$ty}}" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Marks}}<g class="mark" data-kind="{{.Kind}}"><title>{{.Title}}</title>
<line x1="{{.X}}" y1="{{.LineY1}}" x2="{{.X}}" y2="{{.LineY2}}" stroke="{{.Color}}" stroke-dasharray="2,2"/>
<circle cx="{{.X}}" cy="{{$y}}" r="6" fill="{{.Color}}" stroke="#fff" stroke-width="1.5"/>
<text x="{{.TextX}}" y="{{.LabelY}}" fill="{{.Color}}" text-anchor="{{.Anchor}}">{{.Label}}</text></g>
{{end}}</svg>{{end}}{{end}}
{{if .Errors}}<p class="errors">Not determined: {{join .Errors "; "}}</p>{{end}}
</section>
{{end}}
</main>
<footer>keytrail {{.Version}} · secrets are never included in this report · click a column header to sort</footer>
<script>
` + auditScript + `</script>
</body>
</html>
`
