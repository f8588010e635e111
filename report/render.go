package report

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

// Formats a report renders to (PDF is HTML printed by a browser, package
// reportpdf).
const (
	FormatHTML = "html"
	FormatPDF  = "pdf"
	FormatCSV  = "csv"
)

// Formats lists the formats in the order the surfaces offer them.
var Formats = []string{FormatHTML, FormatPDF, FormatCSV}

// ContentType returns the media type of a format ("" for an unknown one).
func ContentType(format string) string {
	switch format {
	case FormatHTML:
		return "text/html; charset=utf-8"
	case FormatPDF:
		return "application/pdf"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	}
	return ""
}

// FileName is the download name of a report: compliance-SITE-FROM-TO.EXT
// (fleet for the whole fleet; characters other than letters, digits, '-'
// and '_' in the site become '_').
func (r *Report) FileName(format string) string {
	site := "fleet"
	if r.Request.Site != "" {
		site = strings.Map(func(c rune) rune {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
				return c
			}
			return '_'
		}, r.Request.Site)
	}
	return fmt.Sprintf("compliance-%s-%s-%s.%s", site, r.Request.From.Format(dateLayout), r.Request.To.Format(dateLayout), format)
}

//go:embed report.html.tmpl
var htmlTemplate string

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format(dateLayout) },
	"datep": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format(dateLayout)
	},
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"pct":   fmtPct,
	"orNone": func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	},
	"decision": func(s string) string {
		if s == "" {
			return "no decision"
		}
		return s
	},
}

func fmtPct(p float64) string {
	if p < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + " %"
}

// page is what the template receives.
type page struct {
	*Report
	SLAChart      template.HTML
	DecisionChart template.HTML
	TrendChart    template.HTML
}

// WriteHTML writes the report as one self-contained HTML page: no script,
// no outside resources, CSS and SVG charts inline, laid out for A4 print.
func (r *Report) WriteHTML(w io.Writer) error {
	t, err := template.New("report").Funcs(funcs).Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("parsing the report template: %w", err)
	}
	p := page{Report: r, SLAChart: slaChart(r.SLA), DecisionChart: decisionChart(r.OverdueByDecision), TrendChart: trendChart(r)}
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	return nil
}

// WriteCSV writes the report as CSV, one row per fact: section, item,
// device, site, owner, status, date, value and detail. Summary rows come
// first (section "summary"), then overdue findings, acceptances,
// exemptions, quarantine events, campaigns and the audit chain.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rec := func(f ...string) {
		for i, s := range f {
			f[i] = csvSafe(s)
		}
		_ = cw.Write(f)
	}
	num := func(n int) string { return strconv.Itoa(n) }
	rec("section", "item", "device", "site", "owner", "status", "date", "value", "detail")
	rec("summary", "scope", "", r.Request.Site, "", "", r.Request.From.Format(dateLayout)+"/"+r.Request.To.Format(dateLayout), r.Request.Scope(), "generated "+r.GeneratedAt.Format(time.RFC3339))
	rec("summary", "findings fixed", "", "", "", "", "", num(r.SLA.Fixed), "")
	rec("summary", "fixed within SLA", "", "", "", "", "", num(r.SLA.WithinSLA), fmtPct(r.SLA.Percent))
	rec("summary", "devices", "", "", "", "", "", num(r.SLA.Devices), "")
	rec("summary", "devices without overdue finding", "", "", "", "", "", num(r.SLA.DevicesCompliant), fmtPct(r.SLA.DevicesPercent))
	for _, d := range r.OverdueByDecision {
		rec("summary", "overdue: "+decisionName(d.Decision), "", "", "", "", "", num(d.Count), "")
	}
	for _, f := range r.Overdue {
		rec("overdue", f.CVE, f.Device, f.Site, f.Owner, decisionName(f.Decision), datePtr(f.DueDate), strconv.FormatInt(f.ID, 10), "")
	}
	for _, f := range r.RiskAcceptances {
		st := "in force"
		if f.Expired {
			st = "expired"
		}
		rec("risk-acceptance", f.CVE, f.Device, f.Site, f.Owner, st, f.AcceptedUntil, strconv.FormatInt(f.ID, 10), f.Note)
	}
	for _, e := range r.Exemptions {
		st := "in force"
		if e.Expired {
			st = "expired"
		}
		rec("nac-exemption", "", e.Device, e.Site, e.Owner, st, e.Until.Format(dateLayout), e.By, e.Reason)
	}
	for _, e := range r.Quarantine {
		mode := "monitor"
		if e.Enforced {
			mode = "enforced"
		}
		rec("quarantine", e.Kind, e.Device, "", e.Actor, mode, e.Time.Format(time.RFC3339), e.Outcome, e.Message)
	}
	for _, c := range r.Campaigns {
		rec("campaign", c.Name, "", "", "", c.Status, datePtr(c.StartedAt)+"/"+datePtr(c.FinishedAt), num(c.Devices), c.Outcome)
	}
	ok := "verified"
	if !r.Audit.OK {
		ok = fmt.Sprintf("BROKEN at %d: %s", r.Audit.BrokenSeq, r.Audit.Reason)
	}
	rec("audit", "chain", "", "", "", ok, "", strconv.FormatInt(r.Audit.Checked, 10), "head "+strconv.FormatInt(r.Audit.HeadSeq, 10)+" "+r.Audit.HeadHash)
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing the report CSV: %w", err)
	}
	return nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func datePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

func decisionName(s string) string {
	if s == "" {
		return "no decision"
	}
	return s
}

// Charts: plain SVG, sized in user units, text escaped.

func esc(s string) string { return template.HTMLEscapeString(s) }

func slaChart(s SLA) template.HTML {
	var b strings.Builder
	b.WriteString(`<svg class="chart" viewBox="0 0 420 90" role="img" aria-label="SLA compliance">`)
	bars := []struct {
		label string
		p     float64
	}{{"Findings fixed within SLA", s.Percent}, {"Devices without overdue findings", s.DevicesPercent}}
	for i, bar := range bars {
		y := 10 + i*40
		fmt.Fprintf(&b, `<text x="0" y="%d" class="lbl">%s</text>`, y+10, esc(bar.label))
		fmt.Fprintf(&b, `<rect x="0" y="%d" width="320" height="14" class="track"/>`, y+15)
		if bar.p >= 0 {
			fmt.Fprintf(&b, `<rect x="0" y="%d" width="%.1f" height="14" class="%s"/>`, y+15, bar.p*3.2, barClass(bar.p))
		}
		fmt.Fprintf(&b, `<text x="328" y="%d" class="val">%s</text>`, y+26, esc(fmtPct(bar.p)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above from numbers and escaped text
}

func barClass(p float64) string {
	switch {
	case p >= 90:
		return "good"
	case p >= 70:
		return "warn"
	}
	return "bad"
}

func decisionChart(by []DecisionCount) template.HTML {
	maxN := 1
	for _, d := range by {
		maxN = max(maxN, d.Count)
	}
	h := 12 + len(by)*22
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 420 %d" role="img" aria-label="Overdue findings by decision">`, h)
	for i, d := range by {
		y := 6 + i*22
		fmt.Fprintf(&b, `<text x="0" y="%d" class="lbl">%s</text>`, y+12, esc(decisionName(d.Decision)))
		w := float64(d.Count) * 240 / float64(maxN)
		fmt.Fprintf(&b, `<rect x="110" y="%d" width="%.1f" height="14" class="dec%d"/>`, y+1, w, min(i, 4))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="val">%d</text>`, 116+w, y+12, d.Count)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above from numbers and escaped text
}

func trendChart(r *Report) template.HTML {
	days := r.OverdueByDay
	if len(days) == 0 {
		return ""
	}
	const w, h, left, top, plotW, plotH = 640, 170, 36, 10, 590, 130
	maxN := int64(1)
	for _, d := range days {
		maxN = max(maxN, d.Count)
	}
	x := func(i int) float64 {
		if len(days) == 1 {
			return left + plotW/2
		}
		return left + float64(i)*plotW/float64(len(days)-1)
	}
	y := func(n int64) float64 { return top + plotH - float64(n)*plotH/float64(maxN) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart wide" viewBox="0 0 %d %d" role="img" aria-label="Overdue findings per day">`, w, h)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, left, top, left, top+plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl" text-anchor="end">%d</text>`, left-4, top+8, maxN)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl" text-anchor="end">0</text>`, left-4, top+plotH)
	var pts []string
	for i, d := range days {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(d.Count)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" class="line"/>`, strings.Join(pts, " "))
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl">%s</text>`, left, h-8, esc(days[0].Day))
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl" text-anchor="end">%s</text>`, left+plotW, h-8, esc(days[len(days)-1].Day))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above from numbers and escaped text
}
