package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestReportsPage shows the figures of a period, the download links, and
// downloads the report as HTML and CSV (no PDF printer is configured here:
// the page offers only those two).
func TestReportsPage(t *testing.T) {
	e := newEnv(t)
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 1, Name: "alice", Role: firmward.RoleAdmin})
	d := &firmward.Device{Name: "lobby-cam", Site: "hq", Owner: "facilities", Manufacturer: "Acme"}
	if err := e.devices.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := e.devices.CreateDevice(ctx, &firmward.Device{Name: "lab-sensor", Site: "lab", Manufacturer: "Acme"}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().UTC().AddDate(0, 0, -2)
	if _, err := e.findings.SyncDeviceFindings(ctx, d.ID, []firmward.Finding{{
		CVE: "CVE-2025-7777", Certain: true,
		Decision: firmward.DecisionOutOfCycle, DueDate: &past, Priority: 3, Evidence: firmward.Evidence{Source: "nvd", Reason: "old"},
	}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.viewer)
	from, to := time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)

	for _, tc := range []struct {
		name, query string
		status      int
		want        []string
		not         []string
	}{
		{"default month", "", 200, []string{"Compliance reports", "whole fleet", `value="lab"`, `value="hq"`, "Audit chain verified", "format=html", "format=csv", "PDF needs Chromium"}, []string{"format=pdf"}},
		{"site", "?site=hq&from=" + from + "&to=" + to, 200, []string{"site hq", "0.0%", "(0 of 1)", "/reports/download?format=csv&amp;from=" + from + "&amp;site=hq&amp;to=" + to}, nil},
		{"bad dates", "?from=" + to + "&to=" + from, 400, []string{"to: is before from"}, []string{"Download:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.get("/reports" + tc.query)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d:\n%s", p.status, tc.status, p.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(p.body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}

	q := url.Values{"site": {"hq"}, "from": {from}, "to": {to}}
	for _, tc := range []struct {
		format, ctype, want string
	}{
		{"html", "text/html", "CVE-2025-7777"},
		{"csv", "text/csv", "overdue,CVE-2025-7777,lobby-cam,hq,facilities,Out-of-Cycle"},
	} {
		t.Run("download "+tc.format, func(t *testing.T) {
			q.Set("format", tc.format)
			p := b.get("/reports/download?" + q.Encode())
			if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), tc.ctype) || !strings.Contains(p.body, tc.want) {
				t.Fatalf("status %d %s:\n%s", p.status, p.header.Get("Content-Type"), p.body)
			}
			if cd := p.header.Get("Content-Disposition"); !strings.Contains(cd, "compliance-hq-"+from+"-"+to+"."+tc.format) {
				t.Errorf("Content-Disposition = %q", cd)
			}
			if strings.Contains(p.body, "lab-sensor") {
				t.Error("the hq report names a lab device")
			}
		})
	}
	t.Run("pdf without printer", func(t *testing.T) {
		q.Set("format", "pdf")
		if p := b.get("/reports/download?" + q.Encode()); p.status != 400 || !strings.Contains(p.body, "Chromium") {
			t.Errorf("status %d:\n%s", p.status, p.body)
		}
	})
	t.Run("signed out", func(t *testing.T) {
		if p := e.browser().get("/reports/download?format=csv"); p.status != 303 && p.status != 302 {
			t.Errorf("status %d without a session", p.status)
		}
	})
}
