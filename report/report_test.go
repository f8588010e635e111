package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/report"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/sqlstore"
)

var opCtx = firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 2, Name: "ops", Role: firmward.RoleAdmin})

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(month time.Month, day, hour int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Date(2025, month, day, hour, 0, 0, 0, time.UTC)
}

func day(month time.Month, d int) *time.Time {
	t := time.Date(2025, month, d, 0, 0, 0, 0, time.UTC)
	return &t
}

func finding(cve, decision string, due *time.Time) firmward.Finding {
	return firmward.Finding{
		CVE: cve, Certain: true, CVSSScore: 9.8, Decision: decision, DecisionWhy: "test", Priority: 10, DueDate: due,
		Evidence: firmward.Evidence{Source: "nvd", Criteria: "cpe:2.3:o:acme:fw:*:*:*:*:*:*:*:*", Range: "< 2.0", Version: "1.0", Reason: "firmware 1.0 is below 2.0"},
	}
}

// fixture is June 2025 on a fleet of three devices on two sites: findings
// fixed in time and late, one risk-accepted, one left overdue, a NAC
// exemption and quarantine, and a campaign.
type fixture struct {
	src                   report.Sources
	router, camera, lock  int64
	quarantinedBeforeJune int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{}
	clk.set(time.May, 20, 9)
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "report.db"), sqlstore.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	devices, findings := sqlstore.NewDeviceService(db), sqlstore.NewFindingService(db)
	nacs, err := sqlstore.NewNACService(db, sqlstore.NACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	campaigns, releases := sqlstore.NewCampaignService(db), sqlstore.NewReleaseService(db)
	f := &fixture{src: report.Sources{
		Devices: devices, Findings: findings, Audit: sqlstore.NewAuditService(db), NAC: nacs, Campaigns: campaigns, Now: clk.Now,
	}}
	mk := func(name, site, owner string) int64 {
		d := &firmward.Device{Name: name, Site: site, Owner: owner, Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0"}
		if err := devices.CreateDevice(opCtx, d); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	sync := func(id int64, fs ...firmward.Finding) {
		t.Helper()
		if _, err := findings.SyncDeviceFindings(opCtx, id, fs); err != nil {
			t.Fatal(err)
		}
	}
	f.router, f.camera, f.lock = mk("hq-router", "hq", "alice"), mk("hq-camera", "hq", "bob"), mk("lab-lock", "lab", "carol")
	// May 20: the camera is quarantined by hand (before the period).
	if _, err := nacs.Quarantine(opCtx, f.camera, "old firmware"); err != nil {
		t.Fatal(err)
	}
	f.quarantinedBeforeJune = f.camera

	// June 1: findings appear.
	clk.set(time.June, 1, 10)
	a, b := finding("CVE-2025-0001", firmward.DecisionImmediate, day(6, 10)), finding("CVE-2025-0002", firmward.DecisionScheduled, day(6, 20))
	c, d := finding("CVE-2025-0003", firmward.DecisionOutOfCycle, day(6, 5)), finding("CVE-2025-0004", firmward.DecisionDefer, day(6, 25))
	e := finding("CVE-2025-0005", firmward.DecisionImmediate, day(6, 3))
	sync(f.router, a, b)
	sync(f.camera, c, d)
	sync(f.lock, e)

	// June 8: the router's firmware fixes 0001 (due June 10: in time).
	clk.set(time.June, 8, 12)
	sync(f.router, b)
	// June 12: the camera's fixes 0003 (due June 5: late).
	clk.set(time.June, 12, 12)
	sync(f.camera, d)
	// June 15: 0004 is risk-accepted until the end of July.
	clk.set(time.June, 15, 12)
	fs, _, err := findings.FindFindings(ctx, firmward.FindingFilter{DeviceID: f.camera, CVE: "CVE-2025-0004"})
	if err != nil || len(fs) != 1 {
		t.Fatalf("finding 0004: %v %v", fs, err)
	}
	if _, err := findings.UpdateFinding(opCtx, fs[0].ID, firmward.FindingUpdate{Status: firmward.FindingRiskAccepted, AcceptedUntil: "2025-07-31", Note: "replacement ordered"}); err != nil {
		t.Fatal(err)
	}
	// June 20: the lock is exempted from quarantine until July 15; June 22
	// the router is quarantined by hand.
	clk.set(time.June, 20, 12)
	if _, err := nacs.Exempt(opCtx, f.lock, firmward.NACExemption{Reason: "door must stay online", Owner: "carol", Until: time.Date(2025, 7, 15, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	clk.set(time.June, 22, 12)
	if _, err := nacs.Quarantine(opCtx, f.router, "telnet open"); err != nil {
		t.Fatal(err)
	}
	// June 23: a campaign to the router starts (a manual task: the device
	// has no update mechanism).
	rel := &firmward.Release{
		Manufacturer: "Acme", Models: []string{"Cam 1"}, Version: "2.0", ReleaseDate: "2025-06-01",
		Artifacts: []firmward.ReleaseArtifact{{Name: "fw.bin", URL: "https://vendor.example/fw.bin"}},
	}
	if err := releases.CreateRelease(opCtx, rel); err != nil {
		t.Fatal(err)
	}
	clk.set(time.June, 23, 12)
	camp := &firmward.Campaign{Name: "router-2.0", ReleaseID: rel.ID, Target: firmward.CampaignTarget{DeviceIDs: []int64{f.router}}}
	if err := campaigns.CreateCampaign(opCtx, camp); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.ChangeCampaign(opCtx, camp.ID, firmward.OpStart, "June window"); err != nil {
		t.Fatal(err)
	}
	runner := &rollout.Runner{Campaigns: campaigns, Releases: releases, Devices: devices, Policy: rollout.DefaultPolicy(), Now: clk.Now}
	for range 3 {
		if _, err := runner.Tick(opCtx); err != nil {
			t.Fatal(err)
		}
	}
	clk.set(time.July, 1, 8)
	return f
}

func june(site string) report.Request {
	return report.Request{Site: site, From: *day(6, 1), To: *day(6, 30)}
}

func TestBuild(t *testing.T) {
	f := newFixture(t)
	type want struct {
		fixed, within, devices, compliant int
		overdue                           map[string]int
		overdueCVEs                       []string
		accepted                          []string
		exemptions                        []string
		quarantined                       []int64 // devices with NAC events (quarantine, exemption) in the period
		campaigns                         int
	}
	for _, tc := range []struct {
		name string
		req  report.Request
		want want
	}{
		{"fleet", june(""), want{
			fixed: 2, within: 1, devices: 3, compliant: 1,
			overdue:     map[string]int{firmward.DecisionImmediate: 1, firmward.DecisionScheduled: 1},
			overdueCVEs: []string{"CVE-2025-0005", "CVE-2025-0002"},
			accepted:    []string{"CVE-2025-0004"}, exemptions: []string{"lab-lock"}, quarantined: []int64{f.router, f.lock}, campaigns: 1,
		}},
		{"site hq", june("hq"), want{
			fixed: 2, within: 1, devices: 2, compliant: 1,
			overdue:     map[string]int{firmward.DecisionScheduled: 1},
			overdueCVEs: []string{"CVE-2025-0002"},
			accepted:    []string{"CVE-2025-0004"}, quarantined: []int64{f.router}, campaigns: 1,
		}},
		{"site lab", june("lab"), want{
			devices: 1, compliant: 0, overdue: map[string]int{firmward.DecisionImmediate: 1},
			overdueCVEs: []string{"CVE-2025-0005"}, exemptions: []string{"lab-lock"}, quarantined: []int64{f.lock},
		}},
		{"first week", report.Request{From: *day(6, 1), To: *day(6, 7)}, want{
			// On June 7 0003 (due June 5) and 0005 (due June 3) were overdue.
			devices: 3, compliant: 1,
			overdue:     map[string]int{firmward.DecisionImmediate: 1, firmward.DecisionOutOfCycle: 1},
			overdueCVEs: []string{"CVE-2025-0005", "CVE-2025-0003"},
			exemptions:  nil, campaigns: 0,
		}},
		{"May: before anything", report.Request{From: *day(5, 1), To: *day(5, 31)}, want{
			devices: 3, compliant: 3, quarantined: []int64{f.quarantinedBeforeJune},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := report.Build(context.Background(), f.src, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if r.SLA.Fixed != w.fixed || r.SLA.WithinSLA != w.within || r.SLA.Devices != w.devices || r.SLA.DevicesCompliant != w.compliant {
				t.Errorf("SLA = %+v, want fixed %d within %d devices %d compliant %d", r.SLA, w.fixed, w.within, w.devices, w.compliant)
			}
			if w.fixed == 0 && r.SLA.Percent != -1 {
				t.Errorf("percent without fixes = %v, want -1", r.SLA.Percent)
			}
			total := 0
			for _, dc := range r.OverdueByDecision {
				if dc.Count != w.overdue[dc.Decision] {
					t.Errorf("overdue %q = %d, want %d", dc.Decision, dc.Count, w.overdue[dc.Decision])
				}
				total += dc.Count
			}
			if len(r.OverdueByDecision) < 4 || total != r.OverdueTotal {
				t.Errorf("by decision %+v, total %d", r.OverdueByDecision, r.OverdueTotal)
			}
			if got := cves(r.Overdue); strings.Join(got, ",") != strings.Join(w.overdueCVEs, ",") {
				t.Errorf("overdue = %v, want %v (oldest due first)", got, w.overdueCVEs)
			}
			if got := cves(r.RiskAcceptances); strings.Join(got, ",") != strings.Join(w.accepted, ",") {
				t.Errorf("acceptances = %v, want %v", got, w.accepted)
			}
			for _, a := range r.RiskAcceptances {
				if a.Owner != "bob" || a.AcceptedUntil != "2025-07-31" || a.Note != "replacement ordered" || a.Expired {
					t.Errorf("acceptance = %+v", a)
				}
			}
			var ex []string
			for _, e := range r.Exemptions {
				ex = append(ex, e.Device)
				if e.Owner != "carol" || e.Reason != "door must stay online" || e.Expired || !strings.Contains(e.By, "ops") {
					t.Errorf("exemption = %+v", e)
				}
			}
			if strings.Join(ex, ",") != strings.Join(w.exemptions, ",") {
				t.Errorf("exemptions = %v, want %v", ex, w.exemptions)
			}
			qdev := map[int64]bool{}
			for _, q := range r.Quarantine {
				qdev[q.DeviceID] = true
				if q.Time.Before(tc.req.From) || !q.Time.Before(tc.req.End()) {
					t.Errorf("event outside the period: %+v", q)
				}
			}
			for _, id := range w.quarantined {
				if !qdev[id] {
					t.Errorf("no quarantine event of device %d in %+v", id, r.Quarantine)
				}
			}
			if len(qdev) != len(w.quarantined) {
				t.Errorf("quarantine events of %v, want %v", qdev, w.quarantined)
			}
			if len(r.Campaigns) != w.campaigns {
				t.Fatalf("campaigns = %+v, want %d", r.Campaigns, w.campaigns)
			}
			for _, c := range r.Campaigns {
				if c.Name != "router-2.0" || c.Devices != 1 || c.Pending+c.Succeeded+c.Failed+c.Canceled != 1 || !strings.Contains(c.Outcome, "of 1 devices") {
					t.Errorf("campaign = %+v", c)
				}
			}
			if !r.Audit.OK || r.Audit.Checked == 0 || len(r.Audit.HeadHash) != 64 || r.Audit.HeadSeq != r.Audit.Checked {
				t.Errorf("audit = %+v", r.Audit)
			}
			days := int(tc.req.End().Sub(tc.req.From) / (24 * time.Hour))
			if len(r.OverdueByDay) != days || r.OverdueByDay[days-1].Count != int64(r.OverdueTotal) {
				t.Errorf("overdue by day = %+v, want %d days ending at %d", r.OverdueByDay, days, r.OverdueTotal)
			}
		})
	}
}

func cves(rows []report.FindingRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.CVE)
	}
	return out
}

func TestRender(t *testing.T) {
	f := newFixture(t)
	r, err := report.Build(context.Background(), f.src, june(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("html", func(t *testing.T) {
		var b bytes.Buffer
		if err := r.WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
		s := b.String()
		for _, want := range []string{
			"whole fleet", "2025-06-01 to 2025-06-30", "50.0 %", "33.3 %", "CVE-2025-0005", "replacement ordered",
			"door must stay online", "telnet open", "router-2.0", "Audit chain verified", r.Audit.HeadHash, "<svg", "@media print",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("HTML lacks %q", want)
			}
		}
		for _, bad := range []string{"<script", "http://", "https://", "<link"} {
			if strings.Contains(s, bad) {
				t.Errorf("HTML is not self-contained: has %q", bad)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		var b bytes.Buffer
		if err := r.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		sections := map[string]int{}
		for _, rec := range recs[1:] {
			sections[rec[0]]++
			if rec[0] == "summary" && rec[1] == "fixed within SLA" && (rec[7] != "1" || rec[8] != "50.0 %") {
				t.Errorf("SLA row = %v", rec)
			}
		}
		want := map[string]int{"overdue": 2, "risk-acceptance": 1, "nac-exemption": 1, "campaign": 1, "audit": 1}
		for s, n := range want {
			if sections[s] != n {
				t.Errorf("%d %s rows, want %d (%v)", sections[s], s, n, sections)
			}
		}
		if sections["quarantine"] == 0 {
			t.Error("no quarantine rows")
		}
	})
	t.Run("file name", func(t *testing.T) {
		r2 := *r
		r2.Request.Site = "HQ 1/2"
		if got := r2.FileName("pdf"); got != "compliance-HQ_1_2-2025-06-01-2025-06-30.pdf" {
			t.Errorf("file name = %q", got)
		}
	})
}

// TestAuditBroken shows a broken chain in the report.
func TestAuditBroken(t *testing.T) {
	f := newFixture(t)
	f.src.Audit = brokenAudit{f.src.Audit}
	r, err := report.Build(context.Background(), f.src, june(""))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if r.Audit.OK || !strings.Contains(b.String(), "Audit chain BROKEN") || !strings.Contains(b.String(), "hash mismatch") {
		t.Errorf("audit = %+v", r.Audit)
	}
}

// brokenAudit answers VerifyAudit as a store whose chain was edited does.
type brokenAudit struct{ firmward.AuditService }

func (brokenAudit) VerifyAudit(context.Context) (*firmward.AuditReport, error) {
	return &firmward.AuditReport{OK: false, Checked: 3, BrokenSeq: 4, Reason: "hash mismatch"}, nil
}

func TestParseRequest(t *testing.T) {
	now := time.Date(2025, 7, 15, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, site, from, to string
		want                 report.Request
		fields               []string
	}{
		{"dates", "hq", "2025-06-01", "2025-06-30", report.Request{Site: "hq", From: *day(6, 1), To: *day(6, 30)}, nil},
		{"one day", "", "2025-06-01", "2025-06-01", report.Request{From: *day(6, 1), To: *day(6, 1)}, nil},
		{"previous month", " hq ", "", "", report.Request{Site: "hq", From: *day(6, 1), To: *day(6, 30)}, nil},
		{"missing to", "", "2025-06-01", "", report.Request{}, []string{"to"}},
		{"bad dates", "", "June", "2025-13-01", report.Request{}, []string{"from", "to"}},
		{"reversed", "", "2025-06-30", "2025-06-01", report.Request{}, []string{"to"}},
		{"too long", "", "2024-01-01", "2025-06-01", report.Request{}, []string{"to"}},
		{"control site", "a\x00b", "", "", report.Request{}, []string{"site"}},
		{"long site", strings.Repeat("s", 201), "2025-06-01", "2025-06-30", report.Request{}, []string{"site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := report.ParseRequest(tc.site, tc.from, tc.to, now)
			if tc.fields == nil {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			var fields []string
			for _, d := range firmward.ErrorDetails(err) {
				fields = append(fields, d.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields = %v, want %v (%v)", fields, tc.fields, err)
			}
		})
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add("hq", "2025-06-01", "2025-06-30")
	f.Add("", "", "")
	f.Add("x\x7f", "2025-02-30", "9999-12-31")
	f.Add("", "0000-01-01", "2025-01-01")
	now := time.Date(2025, 7, 15, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, site, from, to string) {
		r, err := report.ParseRequest(site, from, to, now)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID || len(firmward.ErrorDetails(err)) == 0 {
				t.Fatalf("error %v is not EINVALID with details", err)
			}
			return
		}
		if r.To.Before(r.From) || r.End().Sub(r.From) > report.MaxDays*24*time.Hour {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func TestPreviousMonth(t *testing.T) {
	for _, tc := range []struct {
		now      time.Time
		from, to string
	}{
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "2024-12-01", "2024-12-31"},
		{time.Date(2025, 3, 31, 23, 0, 0, 0, time.UTC), "2025-02-01", "2025-02-28"},
		{time.Date(2024, 3, 2, 0, 0, 0, 0, time.FixedZone("x", -5*3600)), "2024-02-01", "2024-02-29"},
	} {
		t.Run(tc.from, func(t *testing.T) {
			r := report.PreviousMonth("", tc.now)
			if r.From.Format(time.DateOnly) != tc.from || r.To.Format(time.DateOnly) != tc.to {
				t.Errorf("PreviousMonth(%v) = %v..%v", tc.now, r.From, r.To)
			}
		})
	}
}

func TestMonthly(t *testing.T) {
	f := newFixture(t) // clock: 2025-07-01 08:00, so the previous month is June
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "alerts.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	alerts := sqlstore.NewAlertService(db)
	m := &report.Monthly{Sources: f.src, Alerts: alerts, Sites: []string{"", "hq"}}
	for i, want := range []int{2, 0} {
		n, err := m.Tick(ctx)
		if err != nil || n != want {
			t.Fatalf("tick %d: raised %d, %v; want %d", i, n, err, want)
		}
	}
	// A restarted server (a new Monthly) finds them raised already.
	again := &report.Monthly{Sources: f.src, Alerts: alerts, Sites: []string{"", "hq"}}
	if n, err := again.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("after a restart: raised %d, %v", n, err)
	}
	got, _, err := alerts.FindAlerts(ctx, firmward.AlertFilter{Kind: firmward.AlertComplianceReport})
	if err != nil || len(got) != 2 {
		t.Fatalf("alerts = %v, %v", got, err)
	}
	for _, a := range got {
		if a.DedupeKey != "report.monthly:2025-06:"+a.Site || !strings.Contains(a.Subject, "June 2025") ||
			a.Details["fixed within SLA"] != "50.0 % (1 of 2)" || !strings.HasPrefix(a.Details["audit chain"], "verified") ||
			!strings.Contains(a.Details["report (PDF, API viewer+)"], "from=2025-06-01") || !strings.Contains(a.Details["report (PDF, API viewer+)"], "format=pdf") {
			t.Errorf("alert = %+v", a)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("alert does not validate: %v", err)
		}
	}
}
