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
:root { --critical:#c53030; --high:#dd6b20; --medium:#d69e2e; --low:#38a169; --ink:#1a202c; --muted:#4a5568; --line:#e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f7fafc; }
header { background: #1a202c; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; color: #cbd5e0; }
main { padding: 20px 28px 40px; }
.counts { display: flex; gap: 14px; margin-bottom: 22px; flex-wrap: wrap; }
.count { background: #fff; border-radius: 8px; padding: 12px 18px; min-width: 130px; border-top: 5px solid; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.count b { display: block; font-size: 28px; }
.count.critical { border-color: var(--critical); } .count.high { border-color: var(--high); }
.count.medium { border-color: var(--medium); } .count.low { border-color: var(--low); }
.count.other { border-color: #718096; }
table { border-collapse: collapse; width: 100%; background: #fff; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 13px; }
td.wrap { word-break: break-all; } td.date, td.num { white-space: nowrap; }
th { background: #edf2f7; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
td.num { text-align: right; }
.risk { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; text-transform: uppercase; }
.risk.critical { background: var(--critical); } .risk.high { background: var(--high); }
.risk.medium { background: var(--medium); } .risk.low { background: var(--low); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
section.key { background: #fff; margin-top: 22px; padding: 14px 18px; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); border-left: 6px solid #718096; }
section.key.critical { border-left-color: var(--critical); } section.key.high { border-left-color: var(--high); }
section.key.medium { border-left-color: var(--medium); } section.key.low { border-left-color: var(--low); }
section.key h2 { margin: 0 0 6px; font-size: 17px; }
.facts { color: var(--muted); margin: 0 0 8px; }
ul.reasons { margin: 6px 0 10px 18px; padding: 0; }
svg.timeline { width: 100%; height: auto; max-width: 960px; display: block; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: #2d3748; }
svg.timeline text.tick { fill: #718096; font-size: 10px; }
.errors { color: var(--critical); }
footer { color: var(--muted); padding: 0 28px 24px; font-size: 12px; }
</style>
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
(function () {
  var table = document.getElementById("keys");
  var heads = table.tHead.rows[0].cells;
  function value(row, col, num) {
    var cell = row.cells[col];
    var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    return num ? parseFloat(v) || 0 : v.toLowerCase();
  }
  function sortBy(col, desc) {
    var num = heads[col].getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, col, num), y = value(b, col, num);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute("aria-sort");
    heads[col].setAttribute("aria-sort", desc ? "descending" : "ascending");
  }
  for (var i = 0; i < heads.length; i++) {
    heads[i].addEventListener("click", (function (col) {
      return function () { sortBy(col, heads[col].getAttribute("aria-sort") === "ascending"); };
    })(i));
  }
  // #sort=COLUMN or #sort=COLUMN-desc sorts on load, so a link can share a view.
  var m = /^#sort=(\d+)(-desc)?$/.exec(location.hash);
  if (m && heads[+m[1]]) sortBy(+m[1], !!m[2]);
})();
</script>
</body>
</html>
`
