package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestComplianceReport asks the API for the report in every format, and
// with bad parameters.
func TestComplianceReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := e.mustCreate(t, firmward.Device{Name: "lobby-camera", Site: "hq", Owner: "facilities", Manufacturer: "Acme"})
	e.mustCreate(t, firmward.Device{Name: "lab-sensor", Site: "lab", Manufacturer: "Acme"})
	past := time.Now().UTC().AddDate(0, 0, -3)
	if _, err := e.finds.SyncDeviceFindings(ctx, d.ID, []firmward.Finding{{
		CVE: "CVE-2025-4242", Certain: true, Decision: firmward.DecisionImmediate, DueDate: &past, Priority: 9,
		Evidence: firmward.Evidence{Source: "nvd", Reason: "below the fix"},
	}}); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	from := time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly)
	base := "/api/v1/reports/compliance?site=hq&from=" + from + "&to=" + today

	t.Run("html", func(t *testing.T) {
		r := e.do(t, "GET", base, firmward.RoleViewer, "")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("status %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "compliance-hq-"+from+"-"+today+".html") {
			t.Errorf("Content-Disposition = %q", cd)
		}
		for _, want := range []string{"site hq", "CVE-2025-4242", "lobby-camera", "Audit chain verified"} {
			if !bytes.Contains(r.body, []byte(want)) {
				t.Errorf("HTML lacks %q", want)
			}
		}
		if bytes.Contains(r.body, []byte("lab-sensor")) {
			t.Error("the hq report names a lab device")
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := e.do(t, "GET", base+"&format=csv", firmward.RoleViewer, "")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var overdue int
		for _, rec := range recs {
			if rec[0] == "overdue" && rec[1] == "CVE-2025-4242" && rec[2] == "lobby-camera" && rec[4] == "facilities" {
				overdue++
			}
		}
		if overdue != 1 {
			t.Errorf("CSV has %d overdue rows for CVE-2025-4242:\n%s", overdue, r.body)
		}
	})
	t.Run("pdf", func(t *testing.T) {
		if _, err := exec.LookPath("chromium"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("chromium is required under CI=true")
			}
			t.Skip("chromium not installed")
		}
		var buf bytes.Buffer
		name, err := e.client(firmward.RoleViewer).ComplianceReport(ctx, ReportQuery{Site: "hq", From: from, To: today, Format: "pdf"}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || name != "compliance-hq-"+from+"-"+today+".pdf" {
			t.Errorf("got %q, %d bytes starting %q", name, buf.Len(), buf.Bytes()[:min(8, buf.Len())])
		}
	})
	for _, tc := range []struct{ name, query, field string }{
		{"bad format", "?format=docx", "format"},
		{"bad date", "?from=2025-01-01&to=yesterday", "to"},
		{"reversed", "?from=2025-02-01&to=2025-01-01", "to"},
		{"one date", "?from=2025-02-01", "to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "GET", "/api/v1/reports/compliance"+tc.query, firmward.RoleViewer, "")
			if r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if ae := r.apiError(t); len(ae.Details) == 0 || ae.Details[0].Field != tc.field {
				t.Errorf("error = %+v, want a detail on %s", ae, tc.field)
			}
		})
	}
	t.Run("unknown parameter", func(t *testing.T) {
		if r := e.do(t, "GET", "/api/v1/reports/compliance?sites=hq", firmward.RoleViewer, ""); r.status != 400 {
			t.Errorf("status %d: %s", r.status, r.body)
		}
	})
}
