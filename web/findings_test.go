package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// syncFindings stores found as device id's matching result through the
// real FindingService and returns the stored findings by CVE.
func (e *env) syncFindings(id int64, found ...firmward.Finding) map[string]*firmward.Finding {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.findings.SyncDeviceFindings(ctx, id, found); err != nil {
		e.t.Fatal(err)
	}
	all, _, err := e.findings.FindFindings(ctx, firmward.FindingFilter{DeviceID: id, Statuses: firmward.FindingStatuses, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]*firmward.Finding{}
	for _, f := range all {
		out[f.CVE] = f
	}
	return out
}

func ptime(t time.Time) *time.Time { return &t }

// sampleFindings are a router's findings: one KEV finding overdue, one due
// later, and one without a known fix.
func sampleFindings() []firmward.Finding {
	return []firmward.Finding{
		{
			CVE: "CVE-2023-1389", Certain: true, CVSSScore: 8.8, KEV: true, EPSS: 0.94, EPSSPercentile: 0.99,
			Decision: firmward.DecisionImmediate, DecisionWhy: "exploited in the wild", Priority: 900,
			DueDate: ptime(time.Now().Add(-48 * time.Hour)), FixedIn: "1.1.4 Build 20230219",
			Evidence: firmward.Evidence{
				Source: "nvd", Range: "< 1.1.4 Build 20230219", Version: "1.1.0 Build 20220101",
				DeviceCPE: "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.0:*:*:*:*:*:*:*", CPEProposed: true,
				Reason: "Firmware 1.1.0 is below 1.1.4, where TP-Link fixed the command injection.",
			},
		},
		{
			CVE: "CVE-2022-30075", Certain: true, CVSSScore: 8.0, EPSS: 0.2, Decision: firmward.DecisionScheduled, Priority: 500,
			DueDate: ptime(time.Now().Add(30 * 24 * time.Hour)), FixedIn: "1.2.0",
			Evidence: firmward.Evidence{Source: "nvd", Range: "< 1.2.0", Version: "1.1.0", Reason: "Firmware 1.1.0 is below 1.2.0."},
		},
		{
			CVE: "CVE-2024-0001", Certain: false, CVSSScore: 5.0, Decision: firmward.DecisionDefer, Priority: 100,
			Evidence: firmward.Evidence{Source: "cve5:cna", Reason: "The advisory names the product but no versions."},
		},
	}
}

func TestDeviceVulnerabilities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.addDevice(firmward.Device{Name: "Router", Manufacturer: "TP-Link", Model: "Archer AX21", FirmwareVersion: "1.1.0"})
	b := e.browser()
	b.signIn(e.viewer)

	p := b.get("/devices/" + itoa(d.ID))
	wantContains(t, p.body, "Vulnerabilities", "No known vulnerabilities", "firmward vulns assess")

	e.syncFindings(d.ID, sampleFindings()...)
	p = b.get("/devices/" + itoa(d.ID))
	wantContains(t, p.body,
		`href="https://nvd.nist.gov/vuln/detail/CVE-2023-1389"`, ">KEV<", "Immediate", "94.0%", "8.8",
		`class="overdue"`, "overdue</span>",
		"Firmware 1.1.0 is below 1.1.4, where TP-Link fixed the command injection.",
		"&lt; 1.1.4 Build 20230219", "1.1.0 Build 20220101", "proposed by firmward",
		// 1.2.0 is above 1.1.4 Build …, so it closes both findings with a fix.
		"Update to <span class=\"mono\">1.2.0</span> to close 2 of 3 open findings.", "1 has no known fixed version.",
		"possible", "CVE-2024-0001",
	)
	wantNotContains(t, p.body, `action="/findings/`) // a viewer gets no forms
	if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<script") {
		t.Error("inline style or script")
	}

	// Moving the firmware past 1.2.0 fixes two; they are counted, not listed.
	e.syncFindings(d.ID, sampleFindings()[2])
	p = b.get("/devices/" + itoa(d.ID))
	wantContains(t, p.body, "2 fixed by firmware updates", "No known fixed version for the 1 open finding")
	vulns := p.body[strings.Index(p.body, `id="vulnerabilities"`):strings.Index(p.body, `id="h-hist"`)]
	wantNotContains(t, vulns, "CVE-2023-1389")
	wantContains(t, p.body, "Vulnerabilities assessed") // the sync's audit event in the history
}

func TestFindingStatusForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.addDevice(firmward.Device{Name: "Router", Manufacturer: "TP-Link", FirmwareVersion: "1.1.0"})
	f := e.syncFindings(d.ID, sampleFindings()...)["CVE-2023-1389"]
	path := "/findings/" + itoa(f.ID)
	ctx := context.Background()
	status := func() firmward.FindingStatus {
		t.Helper()
		got, err := e.findings.FindFindingByID(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}

	// A viewer may not.
	v := e.browser()
	v.signIn(e.viewer)
	v.get("/devices/" + itoa(d.ID))
	if p := v.post(path, url.Values{"csrf": {v.csrf}, "status": {"mitigated"}, "note": {"VLAN"}}); p.status != http.StatusForbidden {
		t.Errorf("viewer: status %d", p.status)
	}

	b := e.browser()
	b.signIn(e.admin)
	p := b.get("/devices/" + itoa(d.ID))
	wantContains(t, p.body, `action="/findings/`+itoa(f.ID)+`"`, `<option value="vulnerable_code_not_present">`)
	// Without the CSRF token nothing happens.
	if p := b.post(path, url.Values{"status": {"mitigated"}, "note": {"VLAN"}}); p.status != http.StatusForbidden {
		t.Errorf("no CSRF: status %d", p.status)
	}

	for _, c := range []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"mitigated without note", url.Values{"status": {"mitigated"}, "note": {"  "}}, []string{"Mitigated needs a note"}},
		{"accepted in the past", url.Values{"status": {"risk-accepted"}, "accepted_until": {"2001-01-01"}}, []string{"“2001-01-01” must be after today"}},
		{"not affected without VEX", url.Values{"status": {"not-affected"}}, []string{"Not-affected needs a VEX justification"}},
		{"fixed by hand", url.Values{"status": {"fixed"}}, []string{"cannot be set by hand"}},
	} {
		c.form.Set("csrf", b.csrf)
		p := b.post(path, c.form)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", c.name, p.status)
		}
		wantContains(t, p.body, append(c.wants, `class="field-error"`, "<details open>")...)
		if got := status(); got != firmward.FindingOpen {
			t.Errorf("%s: status became %s", c.name, got)
		}
	}

	p = b.post(path, url.Values{"csrf": {b.csrf}, "status": {"mitigated"}, "note": {"Admin UI blocked on the WAN side"}})
	if p.status != http.StatusSeeOther || p.location() != "/devices/"+itoa(d.ID)+"#finding-"+itoa(f.ID) {
		t.Fatalf("valid update: status %d, location %q: %s", p.status, p.location(), p.body)
	}
	if got := status(); got != firmward.FindingMitigated {
		t.Errorf("status %s, want mitigated", got)
	}
	p = b.get("/devices/" + itoa(d.ID))
	wantContains(t, p.body, "CVE-2023-1389 is now Mitigated.", "Admin UI blocked on the WAN side", `class="badge status-mitigated"`)
	events, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{ObjectType: "finding", ObjectID: itoa(f.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != firmward.ActionFindingSet || !strings.HasPrefix(events[0].Actor, "token:") {
		t.Errorf("audit events %+v, want one finding.update by the token", events)
	}

	// Risk accepted with a date, then reopened.
	until := time.Now().AddDate(0, 1, 0).Format(firmward.DateLayout)
	b.post(path, url.Values{"csrf": {b.csrf}, "status": {"risk-accepted"}, "accepted_until": {until}, "vex_justification": {"ignored for this status"}})
	if got := status(); got != firmward.FindingRiskAccepted {
		t.Errorf("status %s, want risk-accepted", got)
	}
	b.post(path, url.Values{"csrf": {b.csrf}, "status": {"open"}})
	if got := status(); got != firmward.FindingOpen {
		t.Errorf("status %s, want open", got)
	}
	if p := b.post("/findings/99999", url.Values{"csrf": {b.csrf}, "status": {"open"}}); p.status != http.StatusNotFound {
		t.Errorf("unknown finding: status %d", p.status)
	}
}

func TestRiskPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.viewer)

	p := b.get("/risk")
	wantContains(t, p.body, `aria-current="page">Risk<`, "No open vulnerabilities", "firmward feeds import", "firmward vulns assess")
	wantNotContains(t, p.body, `role="img"`)

	router := e.addDevice(firmward.Device{Name: "Router", Manufacturer: "TP-Link", FirmwareVersion: "1.1.0"})
	cam := e.addDevice(firmward.Device{Name: "Cam", Manufacturer: "Hikvision", FirmwareVersion: "5.4"})
	e.syncFindings(router.ID, sampleFindings()...)
	e.syncFindings(cam.ID, firmward.Finding{
		CVE: "CVE-2021-36260", Certain: true, CVSSScore: 9.8, KEV: true, EPSS: 0.97, Decision: firmward.DecisionImmediate, Priority: 950,
		Evidence: firmward.Evidence{Reason: "below 5.5.800"},
	})

	p = b.get("/risk")
	wantContains(t, p.body,
		`<span class="stat-n">4</span><span class="stat-l">open findings</span>`,
		`<span class="stat-n">2</span><span class="stat-l">known exploited (KEV)</span>`,
		`<span class="stat-n">1</span><span class="stat-l">overdue</span>`,
		`aria-label="Open findings by decision: Immediate 2, Out-of-Cycle 0, Scheduled 1, Defer 1"`,
		`aria-label="Top vendors by open findings: TP-Link 3, Hikvision 1"`,
		"<title>Immediate: 2 findings</title>",
		`href="/devices/`+itoa(cam.ID)+`#vulnerabilities">Cam</a>`,
	)
	// Overdue over time: 30 days, the last (today) with the one overdue
	// finding, drawn with axes and labels.
	today := time.Now().UTC().Format("2 Jan 2006")
	wantContains(t, p.body, `<figcaption>Overdue findings, last 30 days</figcaption>`,
		`class="chart line-chart"`, `<polyline class="chart-line" points="`, `class="chart-axis"`, `class="chart-tick"`,
		today+" 1\"", "<title>"+today+": 1 finding overdue</title>")
	if n := strings.Count(p.body, `<circle class="chart-dot"`); n != 30 {
		t.Errorf("%d points on the overdue chart, want 30", n)
	}
	// The most urgent first.
	if i, j := strings.Index(p.body, "CVE-2021-36260"), strings.Index(p.body, "CVE-2023-1389"); i < 0 || j < 0 || i > j {
		t.Error("urgent table not in priority order")
	}
	if !regexp.MustCompile(`<tr class="overdue">\s*<td><a class="mono" href="https://nvd.nist.gov/vuln/detail/CVE-2023-1389"`).MatchString(p.body) {
		t.Error("overdue finding not highlighted")
	}
	if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<script") {
		t.Error("inline style or script")
	}
	wantNotContains(t, p.body, "No open vulnerabilities", "most urgent only")
}
