package httpapi

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/ingest"
	"github.com/firmward/firmward/sqlstore"
)

// scanTime is when the test scanner's hosts answer.
var scanTime = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

// testScan stands in for the network scanner (an adapter httpapi may not
// import; the real one is tested in the discovery lab): one HP printer at
// the network's address .11.
func testScan(_ context.Context, req firmward.ScanRequest) (*firmward.ScanReport, error) {
	p := netip.MustParsePrefix(req.CIDR).Addr().As4()
	p[3] = 11
	ip := netip.AddrFrom4(p).String()
	return &firmward.ScanReport{
		CIDR: req.CIDR, StartedAt: scanTime, FinishedAt: scanTime.Add(2 * time.Second), Scanned: 254,
		Notes: []string{"no raw sockets: TCP and UDP probes only"},
		Hosts: []firmward.Observation{{
			Time: scanTime, IP: ip, MAC: "04:0e:3c:12:34:56", MACVendor: "HP Inc.", Ports: []int{80, 631},
			Fields: []firmward.ObservedField{
				{Field: firmward.FieldManufacturer, Value: "HP", Confidence: 0.95, Evidence: []firmward.ScanEvidence{{Source: "http:80 server", Observed: "HP HTTP Server; HP LaserJet Pro M404"}}},
				{Field: firmward.FieldModel, Value: "LaserJet Pro M404", Confidence: 0.9},
				{Field: firmward.FieldFirmwareVersion, Value: "20230929", Confidence: 0.85},
			},
		}},
	}, nil
}

// newTestRunner is the scan runner of the test server.
func newTestRunner(t testing.TB, db *sqlstore.DB) *ingest.Runner {
	in := ingest.New(ingest.Services{Devices: sqlstore.NewDeviceService(db), Discovery: sqlstore.NewDiscoveryService(db), Alerts: sqlstore.NewAlertService(db)}, ingest.Options{})
	r := ingest.NewRunner(context.Background(), ingest.RunnerConfig{Scan: testScan, Ingester: in})
	t.Cleanup(r.Wait)
	return r
}

func TestScanAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	op := e.client(firmward.RoleOperator)
	viewer := e.client(firmward.RoleViewer)

	if _, err := op.StartScan(ctx, firmward.ScanRequest{CIDR: "10.0.0.0/8"}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("a /8: %v", err)
	}
	if _, err := viewer.StartScan(ctx, firmward.ScanRequest{CIDR: "10.9.0.0/24"}); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("a viewer starting a scan: %v", err)
	}
	run, err := op.StartScan(ctx, firmward.ScanRequest{CIDR: "10.9.0.7/24", Site: "home"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != firmward.ScanRunning || run.CIDR != "10.9.0.0/24" || run.Trigger != firmward.TriggerAPI {
		t.Errorf("started run %+v", run)
	}
	e.srv.scans.Wait()
	list, err := viewer.ListScans(ctx, "home", "", "", 0)
	if err != nil || len(list.Runs) != 1 {
		t.Fatalf("runs: %+v, %v", list, err)
	}
	if r := list.Runs[0]; r.Status != firmward.ScanDone || r.New != 1 || r.Hosts != 1 || r.Scanned != 254 || len(r.Notes) != 1 {
		t.Errorf("finished run %+v", r)
	}
	detail, err := viewer.GetScan(ctx, run.ID, "")
	if err != nil || len(detail.Hosts) != 1 {
		t.Fatalf("scan detail %+v, %v", detail, err)
	}
	h := detail.Hosts[0]
	if h.IP != "10.9.0.11" || h.Outcome != firmward.OutcomeNew || h.DeviceID == 0 || h.Field(firmward.FieldManufacturer).Evidence[0].Source != "http:80 server" {
		t.Errorf("host %+v", h)
	}
	if _, err := viewer.GetScan(ctx, 999, ""); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("unknown scan: %v", err)
	}
	d, err := viewer.GetDevice(ctx, h.DeviceID)
	if err != nil || d.Source != firmward.SourceScan || d.Site != "home" || d.FirmwareVersion != "20230929" {
		t.Fatalf("created device %+v, %v", d, err)
	}

	alerts, err := viewer.ListAlerts(ctx, AlertQuery{Kind: firmward.AlertDeviceNew, Unacked: true})
	if err != nil || len(alerts.Alerts) != 1 || alerts.Alerts[0].DeviceID != d.ID {
		t.Fatalf("alerts %+v, %v", alerts, err)
	}
	if _, err := viewer.AcknowledgeAlert(ctx, alerts.Alerts[0].ID); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("a viewer acknowledging: %v", err)
	}
	acked, err := op.AcknowledgeAlert(ctx, alerts.Alerts[0].ID)
	if err != nil || acked.AcknowledgedAt == nil || acked.AcknowledgedBy == "" {
		t.Errorf("ack %+v, %v", acked, err)
	}
	if left, _ := viewer.ListAlerts(ctx, AlertQuery{Unacked: true}); len(left.Alerts) != 0 {
		t.Errorf("%d unacknowledged alerts after the ack", len(left.Alerts))
	}
	if _, err := viewer.ListAlerts(ctx, AlertQuery{Severity: "dire"}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("bad severity: %v", err)
	}

	// A person corrects the model; a CLI scan report proposes it back:
	// a conflict, accepted through the API.
	model := "M404dn"
	if _, err := op.UpdateDevice(ctx, d.ID, firmward.DeviceUpdate{Model: &model}); err != nil {
		t.Fatal(err)
	}
	rep, err := testScan(ctx, firmward.ScanRequest{CIDR: "10.9.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := op.ImportScan(ctx, "home", rep)
	if err != nil || imp.Status != firmward.ScanImported || imp.Conflicts != 1 || imp.Trigger != firmward.TriggerImport {
		t.Fatalf("import %+v, %v", imp, err)
	}
	if _, err := op.ImportScan(ctx, "home", nil); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("import without a report: %v", err)
	}
	cs, err := viewer.ListConflicts(ctx, "", d.ID, "")
	if err != nil || len(cs.Conflicts) != 1 || cs.Conflicts[0].Current != "M404dn" || cs.Conflicts[0].Proposed != "LaserJet Pro M404" {
		t.Fatalf("conflicts %+v, %v", cs, err)
	}
	if _, err := viewer.ResolveConflict(ctx, cs.Conflicts[0].ID, true); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("a viewer accepting: %v", err)
	}
	c, err := op.ResolveConflict(ctx, cs.Conflicts[0].ID, true)
	if err != nil || c.Status != firmward.ConflictAccepted {
		t.Fatalf("accept %+v, %v", c, err)
	}
	if _, err := op.ResolveConflict(ctx, c.ID, false); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Errorf("rejecting an accepted conflict: %v", err)
	}
	if d, _ := viewer.GetDevice(ctx, d.ID); d.Model != "LaserJet Pro M404" {
		t.Errorf("accepted model %q", d.Model)
	}
	if _, err := viewer.ListConflicts(ctx, "maybe", 0, ""); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("bad status: %v", err)
	}

	// Schedules.
	if _, err := op.PutScanSchedule(ctx, &firmward.ScanSchedule{Site: "home", Subnets: []string{"10.9.0.0/24"}, IntervalSec: 60}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("a one-minute schedule: %v", err)
	}
	sc, err := op.PutScanSchedule(ctx, &firmward.ScanSchedule{Site: "home office", Subnets: []string{"10.9.0.0/24"}, IntervalSec: 3600, Communities: []string{"ro"}, Enabled: true})
	if err != nil || sc.Site != "home office" || !sc.Enabled {
		t.Fatalf("put schedule %+v, %v", sc, err)
	}
	all, err := op.ListScanSchedules(ctx)
	if err != nil || len(all) != 1 || all[0].Communities[0] != "ro" {
		t.Fatalf("schedules %+v, %v", all, err)
	}
	if _, err := viewer.ListScanSchedules(ctx); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("a viewer reading schedules (with SNMP communities): %v", err)
	}
	if err := op.DeleteScanSchedule(ctx, "home office"); err != nil {
		t.Fatal(err)
	}
	if err := op.DeleteScanSchedule(ctx, "home office"); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("deleting twice: %v", err)
	}
}
