package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
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

// newHTMLReport is what the page shows of r.
func newHTMLReport(r audit.Report, o AuditOptions) htmlReport {
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
	return hr
}

func writeAuditHTML(w io.Writer, r audit.Report, o AuditOptions) error {
	// renderAuditHTML escapes markup; control and bidi characters from
	// paths or provider messages are made visible as well. The page
	// itself has none, so this changes only such fields.
	if _, err := io.WriteString(w, TerminalSafeLines(renderAuditHTML(newHTMLReport(r, o)))); err != nil {
		return fmt.Errorf("write audit HTML: %w", err)
	}
	return nil
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

// The page is written by hand rather than with html/template: reaching
// html/template (text/template's method lookup by name) made the linker
// keep every exported method of every type, 37.4 MB of binary against
// 19.6 MB without it, and ~6 MB more resident memory from start-up on.
// Its output is byte for byte what the template it replaced produced
// (audit_html_template_test.go holds that template and checks it).

// htmlWriter builds the page. Values go through esc, which escapes as
// html/template did for HTML text, <title> (RCDATA) and double-quoted
// attribute values: the three take the same escaping.
type htmlWriter struct{ b strings.Builder }

// lit writes markup as is.
func (w *htmlWriter) lit(s string) *htmlWriter {
	w.b.WriteString(s)
	return w
}

// esc writes s with html/template's htmlReplacementTable: NUL becomes
// U+FFFD and " & ' + < > become entities. All of them are ASCII, which
// never occurs inside a multi-byte UTF-8 sequence, so working on bytes
// matches its rune loop, invalid UTF-8 included (passed through as is).
func (w *htmlWriter) esc(s string) *htmlWriter {
	last := 0
	for i := 0; i < len(s); i++ {
		repl := htmlEscape(s[i])
		if repl == "" {
			continue
		}
		w.b.WriteString(s[last:i])
		w.b.WriteString(repl)
		last = i + 1
	}
	w.b.WriteString(s[last:])
	return w
}

func htmlEscape(c byte) string {
	switch c {
	case 0:
		return "\uFFFD"
	case '"':
		return "&#34;"
	case '&':
		return "&amp;"
	case '\'':
		return "&#39;"
	case '+':
		return "&#43;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return ""
}

// fragment writes s as part of a URL fragment inside a quoted attribute,
// as html/template's urlEscaper did: every byte but RFC 3986's
// unreserved characters is percent-encoded (lower-case hex). The result
// holds nothing the attribute escaping would change.
func (w *htmlWriter) fragment(s string) *htmlWriter {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isURLUnreserved(c) {
			w.b.WriteByte(c)
			continue
		}
		w.b.WriteByte('%')
		w.b.WriteByte(hex[c>>4])
		w.b.WriteByte(hex[c&0xf])
	}
	return w
}

func isURLUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func (w *htmlWriter) num(n int) *htmlWriter { return w.num64(int64(n)) }

func (w *htmlWriter) num64(n int64) *htmlWriter {
	w.b.WriteString(strconv.FormatInt(n, 10))
	return w
}

// renderAuditHTML writes the page for hr, before TerminalSafeLines.
func renderAuditHTML(hr htmlReport) string {
	var w htmlWriter
	w.lit(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keytrail audit — `).esc(hr.GeneratedAt).lit("</title>\n<style>\n" + auditCSS + "</style>\n</head>\n<body>\n")
	writeHTMLHeader(&w, hr)
	w.lit("<main>\n")
	writeHTMLCounts(&w, hr)
	writeHTMLTable(&w, hr.Keys)
	for _, k := range hr.Keys {
		writeHTMLKey(&w, k)
	}
	w.lit("\n</main>\n<footer>keytrail ").esc(hr.Version).
		lit(" · secrets are never included in this report · click a column header to sort</footer>\n<script>\n" + auditScript + "</script>\n</body>\n</html>\n")
	return w.b.String()
}

func writeHTMLHeader(w *htmlWriter, hr htmlReport) {
	s := hr.Summary
	w.lit("<header>\n<h1>keytrail audit</h1>\n<p>Generated ").esc(hr.GeneratedAt).
		lit(" · ").num(s.Keys).lit(" key(s) · ").num(s.UsedAfterLeak).lit(" used after the leak · ").
		num(s.OverMaxAge).lit(" over the maximum age</p>\n</header>\n")
}

func writeHTMLCounts(w *htmlWriter, hr htmlReport) {
	w.lit(`<div class="counts">` + "\n")
	for _, c := range hr.Counts {
		w.lit(`<div class="count `).esc(c.Risk).lit(`" data-risk="`).esc(c.Risk).lit(`"><b>`).num(c.Count).lit("</b>").esc(c.Risk).lit("</div>\n")
	}
	w.lit("</div>\n")
	if errs := hr.Summary.InputErrors; len(errs) > 0 {
		w.lit(`<div class="errors"><p><b>Inputs that could not be read:</b></p><ul>`)
		for _, e := range errs {
			w.lit("<li>").esc(e).lit("</li>")
		}
		w.lit("</ul></div>")
	}
	w.lit("\n")
}

func writeHTMLTable(w *htmlWriter, keys []htmlKey) {
	w.lit(`<table id="keys">
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
`)
	for _, k := range keys {
		writeHTMLRow(w, k)
	}
	w.lit("</tbody>\n</table>\n")
}

func writeHTMLRow(w *htmlWriter, k htmlKey) {
	w.lit(`<tr class="key-row" id="row-`).esc(k.Fingerprint).lit(`" data-fingerprint="`).esc(k.Fingerprint).lit("\">\n")
	w.lit(`<td data-v="`).num(k.RiskRank).lit(`"><span class="risk `).esc(k.Risk).lit(`">`).esc(k.Risk).lit("</span></td>\n")
	w.lit(`<td data-v="`).esc(k.Name).lit(`"><a href="#key-`).fragment(k.Fingerprint).lit(`"><code>`).esc(k.Name).lit("</code></a></td>\n")
	w.lit("<td>").esc(k.Provider).lit("</td>\n")
	w.lit(`<td class="wrap">`).esc(k.Owner).lit("</td>\n")
	w.lit("<td>").esc(k.Status).lit("</td>\n")
	w.lit(`<td class="num" data-v="`).num(k.AgeSort).lit(`">`)
	if k.AgeDays != nil {
		w.num(*k.AgeDays)
	}
	w.lit("</td>\n")
	w.lit(`<td class="date" data-v="`).num64(k.LeakSort).lit(`">`).esc(k.Leaked).lit("</td>\n")
	w.lit(`<td class="num" data-v="`).num(k.EventsAfterLeak).lit(`">`).num(k.EventsAfterLeak).lit("</td>\n")
	w.lit(`<td class="wrap">`).esc(strings.Join(k.NewSourceIPs, ", "))
	if len(k.NewSourceIPs) > 0 && len(k.NewRegions) > 0 {
		w.lit(" · ")
	}
	w.esc(strings.Join(k.NewRegions, ", ")).lit("</td>\n")
	w.lit("<td>").esc(k.Recommendation).lit("</td>\n</tr>\n")
}

func writeHTMLKey(w *htmlWriter, k htmlKey) {
	w.lit("\n<section class=\"key ").esc(k.Risk).lit(`" id="key-`).esc(k.Fingerprint).lit("\">\n")
	w.lit(`<h2><span class="risk `).esc(k.Risk).lit(`">`).esc(k.Risk).lit("</span> <code>").esc(k.Name).lit("</code> → ").esc(k.Recommendation).lit("</h2>\n")
	writeHTMLFacts(w, k)
	w.lit(`<ul class="reasons">`)
	for _, r := range k.Reasons {
		w.lit("<li>").esc(r).lit("</li>")
	}
	w.lit("</ul>\n")
	if len(k.Timeline.Marks) > 0 {
		writeHTMLTimeline(w, k.Timeline)
	}
	w.lit("\n")
	if len(k.Errors) > 0 {
		w.lit(`<p class="errors">Not determined: `).esc(strings.Join(k.Errors, "; ")).lit("</p>")
	}
	w.lit("\n</section>\n")
}

func writeHTMLFacts(w *htmlWriter, k htmlKey) {
	w.lit(`<p class="facts">`).esc(k.Provider).lit(" · rule ").esc(k.RuleID).lit(" · status ").esc(k.Status)
	if k.Owner != "" {
		w.lit(" · owner ").esc(k.Owner)
	}
	if k.AccountID != "" {
		w.lit(" · account ").esc(k.AccountID)
	}
	if k.AgeDays != nil {
		w.lit(" · ").num(*k.AgeDays).lit(" days old (max ").num(k.MaxAgeDays).lit(")")
	}
	if k.Verified != "" {
		w.lit(" · verified ").esc(k.Verified)
	}
	w.lit("<br>\nleaked ").esc(k.Leaked).lit(" (").esc(k.LeakedAtSource).lit(")")
	if len(k.Locations) > 0 {
		w.lit(" in ").esc(strings.Join(k.Locations, ", "))
	}
	w.lit("</p>\n")
}

func writeHTMLTimeline(w *htmlWriter, tl htmlTimeline) {
	w.lit(`<svg class="timeline" viewBox="0 0 `).num(tl.Width).lit(" ").num(tl.Height).lit("\" role=\"img\" aria-label=\"timeline\">\n")
	if tl.HasLeak {
		w.lit(`<rect class="after-leak" x="`).num(tl.LeakX).lit(`" y="4" width="`).num(tl.X1 - tl.LeakX).lit(`" height="`).num(tl.Height - 20).
			lit(`" fill="#fed7d7" opacity="0.55"><title>after the leak</title></rect>`)
	}
	w.lit("\n")
	if tl.Compressed {
		w.lit(`<line class="axis" x1="`).num(tl.X0).lit(`" y1="`).num(tl.AxisY).lit(`" x2="`).num(tl.BreakX).lit(`" y2="`).num(tl.AxisY).
			lit(`" stroke="#2d3748" stroke-width="2" stroke-dasharray="6,4"><title>before the leak (compressed)</title></line>` + "\n")
		w.lit(`<line x1="`).num(tl.BreakX).lit(`" y1="`).num(tl.AxisY).lit(`" x2="`).num(tl.X1).lit(`" y2="`).num(tl.AxisY).lit(`" stroke="#2d3748" stroke-width="2"/>`)
	} else {
		w.lit(`<line class="axis" x1="`).num(tl.X0).lit(`" y1="`).num(tl.AxisY).lit(`" x2="`).num(tl.X1).lit(`" y2="`).num(tl.AxisY).lit(`" stroke="#2d3748" stroke-width="2"/>`)
	}
	w.lit("\n")
	for _, t := range tl.Ticks {
		w.lit(`<line x1="`).num(t.X).lit(`" y1="`).num(tl.TickTop).lit(`" x2="`).num(t.X).lit(`" y2="`).num(tl.TickBottom).
			lit(`" stroke="#2d3748"/><text class="tick" x="`).num(t.X).lit(`" y="`).num(tl.TickLabelY).lit(`" text-anchor="middle">`).esc(t.Label).lit("</text>\n")
	}
	for _, m := range tl.Marks {
		writeHTMLMark(w, m, tl.AxisY)
	}
	w.lit("</svg>")
}

func writeHTMLMark(w *htmlWriter, m htmlMark, axisY int) {
	w.lit(`<g class="mark" data-kind="`).esc(m.Kind).lit(`"><title>`).esc(m.Title).lit("</title>\n")
	w.lit(`<line x1="`).num(m.X).lit(`" y1="`).num(m.LineY1).lit(`" x2="`).num(m.X).lit(`" y2="`).num(m.LineY2).lit(`" stroke="`).esc(m.Color).lit("\" stroke-dasharray=\"2,2\"/>\n")
	w.lit(`<circle cx="`).num(m.X).lit(`" cy="`).num(axisY).lit(`" r="6" fill="`).esc(m.Color).lit("\" stroke=\"#fff\" stroke-width=\"1.5\"/>\n")
	w.lit(`<text x="`).num(m.TextX).lit(`" y="`).num(m.LabelY).lit(`" fill="`).esc(m.Color).lit(`" text-anchor="`).esc(m.Anchor).lit(`">`).esc(m.Label).lit("</text></g>\n")
}

const auditCSS = `:root { --critical:#c53030; --high:#dd6b20; --medium:#d69e2e; --low:#38a169; --ink:#1a202c; --muted:#4a5568; --line:#e2e8f0; }
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
`

// auditScript sorts the table by a clicked column, or on load by
// #sort=COLUMN or #sort=COLUMN-desc so a link can share a view. That
// second use was a // comment in the script, which html/template dropped,
// leaving its indent: the "  \n" keeps the page byte-identical.
const auditScript = `(function () {
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
` + "  \n" + `  var m = /^#sort=(\d+)(-desc)?$/.exec(location.hash);
  if (m && heads[+m[1]]) sortBy(+m[1], !!m[2]);
})();
`
