package httpapi

import (
	"bytes"
	"mime"
	"net/http"
	"slices"
	"strconv"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/report"
)

var reportParams = []param{
	stringParam("site", "Only devices of this site (exact); empty: the whole fleet."),
	stringParam("from", "First day of the period, YYYY-MM-DD (UTC). With to; both empty: the previous calendar month."),
	stringParam("to", "Last day of the period, YYYY-MM-DD, included."),
	enumParamDoc("format", "html (default; self-contained, SVG charts, print-friendly), pdf (printed by Chromium on the server) or csv.", report.Formats),
}

// handleComplianceReport renders the compliance report (issue 7,
// requirement 5) as a download.
func (s *Server) handleComplianceReport(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(reportParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format := q.get("format")
	if format == "" {
		format = report.FormatHTML
	}
	if !slices.Contains(report.Formats, format) {
		s.writeError(w, r, &firmward.Error{
			Code: firmward.EINVALID, Message: "invalid report request",
			Details: []firmward.ErrorDetail{{Field: "format", Value: format, Reason: "must be html, pdf or csv"}},
		})
		return
	}
	if format == report.FormatPDF && s.reportPDF == nil {
		s.writeError(w, r, firmward.Errorf(firmward.EINVALID, "PDF reports need Chromium on the server (Debian package chromium); ask for format=html and print it, or format=csv"))
		return
	}
	req, err := report.ParseRequest(q.get("site"), q.get("from"), q.get("to"), s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	src := report.Sources{Devices: s.devices, Findings: s.findings, Audit: s.audit, Campaigns: s.campaigns, Now: s.now}
	if s.nac != nil && s.nac.Store != nil {
		src.NAC = s.nac.Store
	}
	rep, err := report.Build(r.Context(), src, req)
	if err != nil {
		s.writeError(w, r, err)
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
			err = s.reportPDF(r.Context(), &page, &body)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", report.ContentType(format))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.FileName(format)}))
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	h.Set("X-Content-Type-Options", "nosniff")
	// The page has no script and no outside resource: only its inline
	// style may apply.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}
