package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/report"
	"github.com/firmward/firmward/reportpdf"
)

// monthlyReportEvery is how often serve checks whether the previous
// month's compliance report was delivered (it is built once per month).
const monthlyReportEvery = time.Hour

// reportPDFTimeout bounds one PDF rendering by Chromium.
const reportPDFTimeout = 60 * time.Second

// reportPDF returns the PDF printer of compliance reports, or nil (with a
// log line) when Chromium is not installed: the API then refuses
// format=pdf with a clear message.
func reportPDF(logger *slog.Logger) func(ctx context.Context, html io.Reader, w io.Writer) error {
	r := reportpdf.New(reportpdf.Config{Timeout: reportPDFTimeout, Logger: logger.With(slog.String("component", "reportpdf"))})
	if _, err := r.Chromium(); err != nil {
		logger.Warn("PDF compliance reports are off", slog.Any("error", err))
		return nil
	}
	return r.PDF
}

// reportRuntime is serve's monthly compliance report: at each check the
// previous month's fleet report is raised as a report.monthly alert, which
// the notification dispatcher delivers to the recipients who want it.
type reportRuntime struct {
	monthly *report.Monthly
	logger  *slog.Logger
	stop    context.CancelFunc
	done    chan struct{}
}

// newReportRuntime returns nil (nothing to run) when notifications are
// off or no alert store is wired.
func newReportRuntime(src report.Sources, alerts firmward.AlertService, notifyOn bool, logger *slog.Logger) *reportRuntime {
	if !notifyOn || alerts == nil {
		return nil
	}
	log := logger.With(slog.String("component", "report"))
	return &reportRuntime{monthly: &report.Monthly{Sources: src, Alerts: alerts, Logger: log}, logger: log}
}

func (r *reportRuntime) start(ctx context.Context) {
	if r == nil {
		return
	}
	ctx, r.stop = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(monthlyReportEvery)
		defer t.Stop()
		r.monthly.Run(ctx, t.C)
	}()
}

func (r *reportRuntime) close() {
	if r == nil || r.stop == nil {
		return
	}
	r.stop()
	<-r.done
	r.stop = nil
}

// nacReportSource is the NAC store for reports (nil without NAC).
func (n *nacRuntime) reportSource() report.NACSource {
	if n == nil || n.store == nil {
		return nil
	}
	return n.store
}
