package report

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/firmward/firmward"
)

// Alerter raises alerts; firmward.AlertService implements it. The
// notification dispatcher delivers them to the recipients who want the
// kind (firmward.AlertComplianceReport).
type Alerter interface {
	RaiseAlert(ctx context.Context, a *firmward.Alert) (bool, error)
}

// Monthly delivers the previous month's report, once per month and site,
// as an alert carrying its summary and where to download it (the web page
// and the API's PDF). The alert's dedupe key (report.monthly:YYYY-MM:SITE)
// makes the delivery happen once across restarts and replicas; the report
// is rebuilt at most once per month and site per process.
type Monthly struct {
	Sources Sources
	Alerts  Alerter
	// Sites lists the reports to deliver: "" is the whole fleet (nil
	// means just the fleet).
	Sites  []string
	Logger *slog.Logger // nil discards

	done map[string]string // site → month delivered (or found delivered)
}

// Tick delivers the reports of the previous month not delivered yet. It
// returns how many alerts it raised.
func (m *Monthly) Tick(ctx context.Context) (int, error) {
	if m.done == nil {
		m.done = map[string]string{}
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if m.Sources.Now != nil {
		now = m.Sources.Now
	}
	sites := m.Sites
	if sites == nil {
		sites = []string{""}
	}
	raised := 0
	for _, site := range sites {
		req := PreviousMonth(site, now())
		month := req.From.Format("2006-01")
		if m.done[site] == month {
			continue
		}
		r, err := Build(ctx, m.Sources, req)
		if err != nil {
			return raised, fmt.Errorf("monthly report of %s: %w", req.Scope(), err)
		}
		created, err := m.Alerts.RaiseAlert(ctx, MonthlyAlert(r))
		if err != nil {
			return raised, fmt.Errorf("delivering the monthly report of %s: %w", req.Scope(), err)
		}
		m.done[site] = month
		if created {
			raised++
			m.Logger.Info("monthly compliance report raised", slog.String("site", site), slog.String("month", month))
		}
	}
	return raised, nil
}

// Run calls Tick at every tick until ctx ends (the caller owns the
// ticker; tests pass a channel).
func (m *Monthly) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		if _, err := m.Tick(ctx); err != nil && ctx.Err() == nil {
			m.Logger.Error("monthly compliance report", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// MonthlyAlert is the alert that delivers a report: the headline figures
// in its details, and the relative addresses of the web page and the PDF.
func MonthlyAlert(r *Report) *firmward.Alert {
	q := url.Values{}
	if r.Request.Site != "" {
		q.Set("site", r.Request.Site)
	}
	q.Set("from", r.Request.From.Format(dateLayout))
	q.Set("to", r.Request.To.Format(dateLayout))
	pdf := url.Values{}
	for k, v := range q {
		pdf[k] = v
	}
	pdf.Set("format", FormatPDF)
	sev := firmward.SeverityInfo
	audit := fmt.Sprintf("verified, %d events, head %d %s", r.Audit.Checked, r.Audit.HeadSeq, r.Audit.HeadHash)
	if !r.Audit.OK {
		sev = firmward.SeverityHigh
		audit = fmt.Sprintf("BROKEN at event %d: %s", r.Audit.BrokenSeq, r.Audit.Reason)
	} else if r.OverdueTotal > 0 {
		sev = firmward.SeverityLow
	}
	details := map[string]string{
		"period":                     r.Request.From.Format(dateLayout) + " to " + r.Request.To.Format(dateLayout),
		"fixed within SLA":           fmt.Sprintf("%s (%d of %d)", fmtPct(r.SLA.Percent), r.SLA.WithinSLA, r.SLA.Fixed),
		"devices without overdue":    fmt.Sprintf("%s (%d of %d)", fmtPct(r.SLA.DevicesPercent), r.SLA.DevicesCompliant, r.SLA.Devices),
		"overdue findings":           strconv.Itoa(r.OverdueTotal),
		"risk acceptances":           strconv.Itoa(len(r.RiskAcceptances)),
		"NAC exemptions":             strconv.Itoa(len(r.Exemptions)),
		"quarantine events":          strconv.Itoa(len(r.Quarantine)),
		"campaigns":                  strconv.Itoa(len(r.Campaigns)),
		"audit chain":                audit,
		"report (web)":               "/reports?" + q.Encode(),
		"report (PDF, API viewer+)":  "/api/v1/reports/compliance?" + pdf.Encode(),
		"report (CSV, API viewer+)":  "/api/v1/reports/compliance?" + csvQuery(q),
		"report generated (UTC)":     r.GeneratedAt.Format(time.RFC3339),
		"period end overdue by SSVC": decisionSummary(r.OverdueByDecision),
	}
	return &firmward.Alert{
		Kind: firmward.AlertComplianceReport, Severity: sev, Site: r.Request.Site,
		Subject:   fmt.Sprintf("Compliance report %s, %s: %s of fixes within SLA, %d overdue", r.Request.From.Format("January 2006"), r.Request.Scope(), fmtPct(r.SLA.Percent), r.OverdueTotal),
		Details:   details,
		DedupeKey: fmt.Sprintf("%s:%s:%s", firmward.AlertComplianceReport, r.Request.From.Format("2006-01"), r.Request.Site),
	}
}

func csvQuery(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	c.Set("format", FormatCSV)
	return c.Encode()
}

func decisionSummary(by []DecisionCount) string {
	s := ""
	for i, d := range by {
		if i > 0 {
			s += ", "
		}
		s += decisionName(d.Decision) + " " + strconv.Itoa(d.Count)
	}
	return s
}
