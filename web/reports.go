package web

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/report"
)

// maxReportSites bounds the sites offered in the /reports form.
const maxReportSites = 200

// reportsView is the data of /reports: the form, the headline figures of
// the chosen period and the download links.
type reportsView struct {
	Site, From, To string
	Sites          []string
	Formats        []string
	PDF            bool
	Errors         []firmward.ErrorDetail
	Report         *report.Report
	Links          map[string]string // format → download URL
	// SLAPct and DevicesPct are the report's percentages as text ("n/a"
	// without data).
	SLAPct, DevicesPct string
}

// reportsPage shows the compliance report form and the figures of the
// chosen period (the previous month by default).
func (h *Handler) reportsPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := reportsView{Site: q.Get("site"), From: q.Get("from"), To: q.Get("to"), Formats: h.reportFormats(), PDF: h.reportPDF != nil}
	var err error
	if v.Sites, err = h.reportSites(r); err != nil {
		h.serverError(w, r, s, err)
		return
	}
	req, err := report.ParseRequest(v.Site, v.From, v.To, h.now())
	status := http.StatusOK
	if err != nil {
		if firmward.ErrorCode(err) != firmward.EINVALID {
			h.serverError(w, r, s, err)
			return
		}
		v.Errors, status = firmward.ErrorDetails(err), http.StatusBadRequest
	} else {
		v.Site, v.From, v.To = req.Site, req.From.Format("2006-01-02"), req.To.Format("2006-01-02")
		if v.Report, err = report.Build(r.Context(), h.reportSources(), req); err != nil {
			h.serverError(w, r, s, err)
			return
		}
		v.SLAPct, v.DevicesPct = pctText(v.Report.SLA.Percent), pctText(v.Report.SLA.DevicesPercent)
		v.Links = map[string]string{}
		for _, f := range v.Formats {
			lq := url.Values{"from": {v.From}, "to": {v.To}, "format": {f}}
			if v.Site != "" {
				lq.Set("site", v.Site)
			}
			v.Links[f] = "/reports/download?" + lq.Encode()
		}
	}
	h.render(w, r, s, status, "reports", view{Title: "Compliance reports", Nav: "reports", Page: v})
}

// reportDownload sends the report as a file.
func (h *Handler) reportDownload(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = report.FormatHTML
	}
	if !slices.Contains(h.reportFormats(), format) {
		h.errorPage(w, r, s, http.StatusBadRequest, "Unknown format",
			"Reports come as "+joinFormats(h.reportFormats())+". PDF needs Chromium on the server.")
		return
	}
	req, err := report.ParseRequest(q.Get("site"), q.Get("from"), q.Get("to"), h.now())
	if err != nil {
		h.serviceError(w, r, s, err)
		return
	}
	rep, err := report.Build(r.Context(), h.reportSources(), req)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	var body bytes.Buffer
	switch format {
	case report.FormatCSV:
		err = rep.WriteCSV(&body)
	case report.FormatHTML:
		err = rep.WriteHTML(&body)
	case report.FormatPDF:
		var page bytes.Buffer
		if err = rep.WriteHTML(&page); err == nil {
			err = h.reportPDF(r.Context(), &page, &body)
		}
	}
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", report.ContentType(format))
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.FileName(format)}))
	hd.Set("Content-Length", strconv.Itoa(body.Len()))
	hd.Set("Cache-Control", "no-store")
	// The report page has no script; only its own inline style applies.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}

func (h *Handler) reportFormats() []string {
	if h.reportPDF == nil {
		return []string{report.FormatHTML, report.FormatCSV}
	}
	return report.Formats
}

func joinFormats(fs []string) string {
	out := ""
	for i, f := range fs {
		switch {
		case i == 0:
		case i == len(fs)-1:
			out += " or "
		default:
			out += ", "
		}
		out += f
	}
	return out
}

func (h *Handler) reportSources() report.Sources {
	src := report.Sources{Devices: h.devices, Findings: h.findings, Audit: h.audit, Now: h.now}
	if h.nac != nil && h.nac.Store != nil {
		src.NAC = h.nac.Store
	}
	if h.campaigns != nil && h.campaigns.Campaigns != nil {
		src.Campaigns = h.campaigns.Campaigns
	}
	return src
}

// reportSites lists the sites of the inventory, sorted (at most
// maxReportSites).
func (h *Handler) reportSites(r *http.Request) ([]string, error) {
	seen := map[string]bool{}
	f := firmward.DeviceFilter{Limit: firmward.MaxPageSize}
	for range 20 {
		page, _, err := h.devices.FindDevices(r.Context(), f)
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			if d.Site != "" && len(seen) < maxReportSites {
				seen[d.Site] = true
			}
		}
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

func pctText(p float64) string {
	if p < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}
