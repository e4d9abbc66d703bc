package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/keytrail/keytrail/audit"
)

// The HTML report is one self-contained file: inline CSS, inline script,
// inline SVG; nothing is fetched, so it can be mailed or archived as is.

type htmlReport struct {
	GeneratedAt string
	Summary     audit.Summary
	Counts      []htmlCount
	Keys        []htmlKey
	Version     string
}

type htmlCount struct {
	Risk  string
	Count int
}

type htmlKey struct {
	audit.Key
	Name      string
	RiskRank  int
	AgeSort   int
	Leaked    string
	LeakSort  int64
	Timeline  htmlTimeline
	Locations []string
}

// htmlTimeline is a key's timeline laid out on a time axis.
type htmlTimeline struct {
	Width, Height int
	AxisY         int
	TickTop       int
	TickBottom    int
	TickLabelY    int
	X0, X1        int
	LeakX         int
	HasLeak       bool
	// Compressed: the time before BreakX is drawn shorter than its share.
	Compressed bool
	BreakX     int
	Ticks      []htmlTick
	Marks      []htmlMark
}

type htmlTick struct {
	X     int
	Label string
}

type htmlMark struct {
	X, TextX, LabelY, LineY1, LineY2  int
	Color, Kind, Label, Title, Anchor string
}

var kindColor = map[string]string{
	"created":              "#2b6cb0",
	"leaked":               "#c53030",
	"first-use-after-leak": "#dd6b20",
	"new-ip":               "#9b2c2c",
	"denied":               "#6b46c1",
	"session-minted":       "#b7791f",
	"rotation-due":         "#2f855a",
	"last-used":            "#4a5568",
}

func writeAuditHTML(w io.Writer, r audit.Report, o AuditOptions) error {
	hr := htmlReport{GeneratedAt: fmtTime(r.GeneratedAt), Summary: r.Summary, Version: o.Version}
	for _, risk := range []string{audit.RiskCritical, audit.RiskHigh, audit.RiskMedium, audit.RiskLow} {
		hr.Counts = append(hr.Counts, htmlCount{risk, r.Summary.ByRisk[risk]})
	}
	for _, k := range r.Keys {
		hk := htmlKey{Key: k, Name: KeyName(k), RiskRank: audit.RiskRank(k.Risk), AgeSort: -1,
			Leaked: k.LeakedAt.UTC().Format("2006-01-02"), LeakSort: k.LeakedAt.Unix(), Timeline: layoutTimeline(k)}
		if k.AgeDays != nil {
			hk.AgeSort = *k.AgeDays
		}
		for _, l := range k.LeakLocations {
			s := fmt.Sprintf("%s:%d", l.File, l.Line)
			if l.Commit != "" {
				s += " @ " + shortSHA(l.Commit)
			}
			hk.Locations = append(hk.Locations, s)
		}
		hr.Keys = append(hr.Keys, hk)
	}
	// html/template escapes markup; control and bidi characters from
	// paths or provider messages are made visible as well. The template
	// itself has none, so this changes only such fields.
	var buf strings.Builder
	if err := auditTemplate().Execute(&buf, hr); err != nil {
		return err
	}
	_, err := io.WriteString(w, TerminalSafeLines(buf.String()))
	return err
}

// layoutTimeline places the timeline events on an axis spanning their
// times. When the key is much older than its leak, the time before the
// leak is compressed to at most 40% of the axis (drawn dashed), so the
// events after the leak stay readable. Labels go to the first of several
// rows above and below the axis where they do not overlap a neighbour.
func layoutTimeline(k audit.Key) htmlTimeline {
	tl := htmlTimeline{Width: 960, Height: 160, AxisY: 80, TickTop: 76, TickBottom: 84, TickLabelY: 156, X0: 30, X1: 930}
	evs := k.Timeline
	if len(evs) == 0 {
		return tl
	}
	lo, hi := evs[0].Time, evs[0].Time
	for _, e := range evs {
		if e.Time.Before(lo) {
			lo = e.Time
		}
		if e.Time.After(hi) {
			hi = e.Time
		}
	}
	if hi.Sub(lo) < 24*time.Hour {
		lo, hi = lo.Add(-12*time.Hour), hi.Add(12*time.Hour)
	}
	// Piecewise-linear scale: [lo, pivot] onto [X0, xPivot], [pivot, hi]
	// onto [xPivot, X1].
	pivot, xPivot := hi, tl.X1
	width := float64(tl.X1 - tl.X0)
	leakIn := !k.LeakedAt.IsZero() && k.LeakedAt.After(lo) && k.LeakedAt.Before(hi)
	if leakIn {
		frac := float64(k.LeakedAt.Sub(lo)) / float64(hi.Sub(lo))
		pivot, xPivot = k.LeakedAt, tl.X0+int(math.Round(width*math.Min(frac, 0.4)))
		if frac > 0.4 {
			tl.Compressed, tl.BreakX = true, xPivot
		}
	}
	x := func(t time.Time) int {
		if !t.After(pivot) {
			if !pivot.After(lo) {
				return tl.X0
			}
			return tl.X0 + int(math.Round(float64(xPivot-tl.X0)*float64(t.Sub(lo))/float64(pivot.Sub(lo))))
		}
		return xPivot + int(math.Round(float64(tl.X1-xPivot)*float64(t.Sub(pivot))/float64(hi.Sub(pivot))))
	}
	if !k.LeakedAt.IsZero() && !k.LeakedAt.Before(lo) && !k.LeakedAt.After(hi) {
		tl.HasLeak, tl.LeakX = true, x(k.LeakedAt)
	}
	// Ticks: evenly in time on each side of the pivot.
	addTicks := func(from, to time.Time, n int) {
		for i := 0; i <= n; i++ {
			t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / float64(n)))
			tx := x(t)
			if len(tl.Ticks) > 0 && tx-tl.Ticks[len(tl.Ticks)-1].X < 70 {
				continue
			}
			tl.Ticks = append(tl.Ticks, htmlTick{X: tx, Label: t.UTC().Format("2006-01-02")})
		}
	}
	if leakIn {
		addTicks(lo, pivot, 2)
		addTicks(pivot, hi, 4)
	} else {
		addTicks(lo, hi, 5)
	}
	rows := []int{tl.AxisY - 18, tl.AxisY + 26, tl.AxisY - 34, tl.AxisY + 42, tl.AxisY - 50, tl.AxisY + 58, tl.AxisY - 66}
	lastEnd := make([]int, len(rows))
	for i := range lastEnd {
		lastEnd[i] = -1 << 30
	}
	for i, e := range evs {
		mx := x(e.Time)
		label := strings.ReplaceAll(e.Kind, "-", " ")
		w := 6*len(label) + 4
		// Labels start at the mark, or end at it near the right edge.
		from, anchor := mx-3, "start"
		if mx+w > tl.Width-4 {
			from, anchor = mx-w+3, "end"
		}
		row := i % len(rows)
		for j := range rows {
			if lastEnd[j] < from-6 {
				row = j
				break
			}
		}
		lastEnd[row] = from + w
		m := htmlMark{X: mx, TextX: mx - 3, Anchor: anchor, LabelY: rows[row], Color: kindColor[e.Kind], Kind: e.Kind, Label: label,
			Title: e.Time.UTC().Format("2006-01-02 15:04 UTC") + " — " + e.Detail}
		if anchor == "end" {
			m.TextX = mx + 3
		}
		if m.Color == "" {
			m.Color = "#718096"
		}
		if m.LabelY < tl.AxisY {
			m.LineY1, m.LineY2 = m.LabelY+3, tl.AxisY
		} else {
			m.LineY1, m.LineY2 = tl.AxisY, m.LabelY-11
		}
		tl.Marks = append(tl.Marks, m)
	}
	return tl
}

// auditTemplate is parsed on first use: parsing it at package init was
// the largest start-up cost among keytrail's own packages, paid by every
// run, pre-commit scans included.
var auditTemplate = sync.OnceValue(func() *template.Template {
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
	}).Parse(auditHTML))
})

const auditHTML = `<!DOCTYPE html>
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
