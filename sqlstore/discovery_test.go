package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestDiscoveryConformance runs the discovery and alert store tests on
// every backend.
func TestDiscoveryConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func(*testing.T, backend)
	}{
		{"ScanRuns", testScanRuns},
		{"Observations", testObservations},
		{"ScanValues", testScanValues},
		{"Conflicts", testConflicts},
		{"Schedules", testSchedules},
		{"Alerts", testAlerts},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.fn(t, b)
			})
		}
	})
}

// discClock returns a clock that moves one second per call.
func discClock() func() time.Time {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		now = now.Add(time.Second)
		return now
	}
}

func discDB(t *testing.T, b backend) *DB {
	t.Helper()
	return b.open(t, Options{Now: discClock()})
}

func discDevice(t *testing.T, db *DB, name string) *firmward.Device {
	t.Helper()
	d := &firmward.Device{Name: name, Category: firmward.CategoryCamera, Manufacturer: "Axis"}
	if err := NewDeviceService(db).CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func testScanRuns(t *testing.T, b backend) {
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 7, Name: "ops"})
	svc := NewDiscoveryService(discDB(t, b))
	wantCode(t, svc.CreateScanRun(ctx, &firmward.ScanRun{Trigger: firmward.TriggerAPI}), firmward.EINVALID)
	var ids []int64
	for i := range 5 {
		site := "home"
		if i%2 == 1 {
			site = "office"
		}
		r := &firmward.ScanRun{Site: site, CIDR: fmt.Sprintf("10.0.%d.0/24", i), Trigger: firmward.TriggerAPI}
		if err := svc.CreateScanRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		if r.ID == 0 || r.Status != firmward.ScanRunning || r.Actor != "token:7(ops)" {
			t.Fatalf("created run %+v", r)
		}
		ids = append(ids, r.ID)
	}
	r, err := svc.FindScanRunByID(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.Hosts, r.New, r.Updated, r.Conflicts, r.Raw, r.Scanned = firmward.ScanDone, 4, 2, 1, 1, true, 254
	r.Notes = []string{"no raw sockets", "line\ntwo"}
	if err := svc.FinishScanRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := svc.FindScanRunByID(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != firmward.ScanDone || got.Hosts != 4 || got.New != 2 || !got.Raw || got.Scanned != 254 ||
		got.FinishedAt == nil || !slices.Equal(got.Notes, []string{"no raw sockets", "line two"}) {
		t.Errorf("finished run read back as %+v", got)
	}
	wantCode(t, svc.FinishScanRun(ctx, &firmward.ScanRun{ID: 999, Status: firmward.ScanDone}), firmward.ENOTFOUND)
	_, err = svc.FindScanRunByID(ctx, 999)
	wantCode(t, err, firmward.ENOTFOUND)

	// Newest first, two per page, then filtered.
	var seen []int64
	f := firmward.ScanRunFilter{Limit: 2}
	for {
		list, next, err := svc.FindScanRuns(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			seen = append(seen, r.ID)
		}
		if next == 0 {
			break
		}
		f.After = next
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(seen, want) {
		t.Errorf("paged runs %v, want %v", seen, want)
	}
	office, _, err := svc.FindScanRuns(ctx, firmward.ScanRunFilter{Site: "office"})
	if err != nil {
		t.Fatal(err)
	}
	done, _, err := svc.FindScanRuns(ctx, firmward.ScanRunFilter{Status: firmward.ScanDone})
	if err != nil {
		t.Fatal(err)
	}
	if len(office) != 2 || len(done) != 1 || done[0].ID != ids[0] {
		t.Errorf("filters: office %d runs, done %d runs", len(office), len(done))
	}
}

func testObservations(t *testing.T, b backend) {
	ctx := context.Background()
	db := discDB(t, b)
	svc := NewDiscoveryService(db)
	run := &firmward.ScanRun{CIDR: "10.0.0.0/24", Trigger: firmward.TriggerSchedule}
	if err := svc.CreateScanRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 123456789, time.UTC)
	obs := []*firmward.Observation{
		{
			RunID: run.ID, DeviceID: 3, Time: at, IP: "10.0.0.5", MAC: "04:0e:3c:12:34:56", MACVendor: "HP Inc.",
			Hostname: "prn", Ports: []int{80, 443}, Outcome: firmward.OutcomeNew, Notes: []string{"created"},
			Hints:  []string{"telnet is open"},
			Fields: []firmward.ObservedField{{Field: firmward.FieldManufacturer, Value: "HP", Confidence: 0.9, Evidence: []firmward.ScanEvidence{{Source: "http:80 server", Observed: "HP HTTP Server\x00", Rule: "r"}}}},
		},
		{RunID: run.ID, DeviceID: 4, Time: at, IP: "10.0.0.6", Outcome: firmward.OutcomeUnchanged},
	}
	if err := svc.AddObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.AddObservations(ctx, []*firmward.Observation{{IP: "10.0.0.7"}}), firmward.EINVALID)
	list, next, err := svc.FindObservations(ctx, firmward.ObservationFilter{RunID: run.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || next != 0 || list[0].ID != obs[1].ID {
		t.Fatalf("observations of the run: %d, next %d", len(list), next)
	}
	o := list[1]
	if !o.Time.Equal(at.Truncate(time.Microsecond)) || o.Source != firmward.ObservationScan || !slices.Equal(o.Ports, []int{80, 443}) ||
		o.Value(firmward.FieldManufacturer) != "HP" || o.Field(firmward.FieldManufacturer).Evidence[0].Observed != "HP HTTP Server\uFFFD" ||
		o.MACVendor != "HP Inc." || o.Hints[0] != "telnet is open" || o.Outcome != firmward.OutcomeNew {
		t.Errorf("observation read back as %+v", o)
	}
	byDevice, _, err := svc.FindObservations(ctx, firmward.ObservationFilter{DeviceID: 4})
	if err != nil {
		t.Fatal(err)
	}
	byOutcome, _, err := svc.FindObservations(ctx, firmward.ObservationFilter{Outcome: firmward.OutcomeNew})
	if err != nil {
		t.Fatal(err)
	}
	if len(byDevice) != 1 || byDevice[0].IP != "10.0.0.6" || len(byOutcome) != 1 || byOutcome[0].IP != "10.0.0.5" {
		t.Errorf("filters: by device %v, by outcome %v", byDevice, byOutcome)
	}
}

func testScanValues(t *testing.T, b backend) {
	ctx := context.Background()
	svc := NewDiscoveryService(discDB(t, b))
	if err := svc.SetScanValues(ctx, 5, map[string]string{"model": "P1", "firmware_version": "1.0"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetScanValues(ctx, 5, map[string]string{"firmware_version": "1.1"}); err != nil {
		t.Fatal(err)
	}
	got, err := svc.ScanValues(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["model"] != "P1" || got["firmware_version"] != "1.1" {
		t.Errorf("scan values %v", got)
	}
	none, err := svc.ScanValues(ctx, 6)
	if err != nil || len(none) != 0 {
		t.Errorf("scan values of another device: %v, %v", none, err)
	}
}

func testConflicts(t *testing.T, b backend) {
	db := discDB(t, b)
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 2, Name: "alice"})
	svc := NewDiscoveryService(db)
	d := discDevice(t, db, "cam")
	open := func(field, proposed string) (*firmward.Conflict, bool) {
		t.Helper()
		c := &firmward.Conflict{
			DeviceID: d.ID, RunID: 1, Field: field, Current: "person", Proposed: proposed, Confidence: 0.7,
			Evidence: []firmward.ScanEvidence{{Source: "upnp description", Observed: proposed}},
		}
		created, err := svc.OpenConflict(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return c, created
	}
	_, err := svc.OpenConflict(ctx, &firmward.Conflict{DeviceID: d.ID, Field: "notes", Proposed: "x"})
	wantCode(t, err, firmward.EINVALID)
	_, err = svc.OpenConflict(ctx, &firmward.Conflict{DeviceID: 999, Field: firmward.FieldModel, Proposed: "x"})
	wantCode(t, err, firmward.ENOTFOUND)

	c1, created := open(firmward.FieldModel, "P3225")
	if !created || c1.ID == 0 || c1.Status != firmward.ConflictOpen {
		t.Fatalf("first conflict %+v created=%v", c1, created)
	}
	again, created := open(firmward.FieldModel, "P3225")
	if created || again.ID != c1.ID {
		t.Errorf("the same proposal again: created=%v id %d, want the stored %d", created, again.ID, c1.ID)
	}
	// A different proposal supersedes the open one.
	c2, created := open(firmward.FieldModel, "P3245")
	if !created {
		t.Fatal("a new proposal was not stored")
	}
	old, err := svc.FindConflictByID(ctx, c1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if old.Status != firmward.ConflictRejected || old.ResolvedBy != systemResolver {
		t.Errorf("superseded conflict: %+v", old)
	}
	// The superseded value may be proposed again.
	if _, created := open(firmward.FieldModel, "P3225"); !created {
		t.Error("a value only superseded could not be proposed again")
	}
	c3, _ := open(firmward.FieldFirmwareVersion, "10.5")
	list, _, err := svc.FindConflicts(ctx, firmward.ConflictFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != c3.ID || list[0].Evidence[0].Source != "upnp description" {
		t.Fatalf("open conflicts: %+v", list)
	}

	// Reject: audited, and the same value is not proposed again.
	rej, err := svc.ResolveConflict(ctx, c3.ID, firmward.ConflictRejected)
	if err != nil {
		t.Fatal(err)
	}
	if rej.Status != firmward.ConflictRejected || rej.ResolvedBy != "token:2(alice)" || rej.ResolvedAt == nil {
		t.Errorf("rejected conflict %+v", rej)
	}
	if _, created := open(firmward.FieldFirmwareVersion, "10.5"); created {
		t.Error("a rejected value was proposed again")
	}
	_, err = svc.ResolveConflict(ctx, c3.ID, firmward.ConflictAccepted)
	wantCode(t, err, firmward.ECONFLICT)
	_, err = svc.ResolveConflict(ctx, c2.ID, "maybe")
	wantCode(t, err, firmward.EINVALID)
	_, err = svc.ResolveConflict(ctx, 999, firmward.ConflictAccepted)
	wantCode(t, err, firmward.ENOTFOUND)
	evs, _, err := NewAuditService(db).FindAuditEvents(ctx, firmward.AuditFilter{Action: firmward.ActionConflictReject})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Actor != "token:2(alice)" || evs[0].ObjectID != fmt.Sprint(d.ID) ||
		!slices.Contains(evs[0].Changes, firmward.FieldChange{Field: firmward.FieldFirmwareVersion, Old: "person", New: "10.5"}) {
		t.Errorf("audit of the rejection: %+v", evs)
	}
	rejected, _, err := svc.FindConflicts(ctx, firmward.ConflictFilter{Status: firmward.ConflictRejected, DeviceID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 3 {
		t.Errorf("rejected conflicts: %d, want 3 (two superseded, one by a person)", len(rejected))
	}
	if rep, err := NewAuditService(db).VerifyAudit(ctx); err != nil || !rep.OK {
		t.Errorf("audit chain: %+v, %v", rep, err)
	}
}

func testSchedules(t *testing.T, b backend) {
	db := discDB(t, b)
	ctx := context.Background()
	svc := NewDiscoveryService(db)
	for _, bad := range []firmward.ScanSchedule{
		{Subnets: []string{"10.0.0.0/24"}, IntervalSec: 3600},
		{Site: "home", IntervalSec: 3600},
		{Site: "home", Subnets: []string{"10.0.0.0/8"}, IntervalSec: 3600},
		{Site: "home", Subnets: []string{"fe80::/64"}, IntervalSec: 3600},
		{Site: "home", Subnets: []string{"10.0.0.0/24"}, IntervalSec: 60},
	} {
		wantCode(t, svc.PutScanSchedule(ctx, &bad), firmward.EINVALID)
	}
	s := &firmward.ScanSchedule{
		Site: "home", Subnets: []string{"192.168.1.7/24", "192.168.1.0/24"}, IntervalSec: 3600,
		Communities: []string{"public", "s3cret"}, Enabled: true,
	}
	if err := svc.PutScanSchedule(ctx, s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Subnets, []string{"192.168.1.0/24"}) {
		t.Errorf("subnets normalised to %v", s.Subnets)
	}
	ran := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	if err := svc.MarkScheduleRun(ctx, "home", ran); err != nil {
		t.Fatal(err)
	}
	s.IntervalSec = 7200
	if err := svc.PutScanSchedule(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := svc.FindScanSchedule(ctx, "home")
	if err != nil {
		t.Fatal(err)
	}
	if got.IntervalSec != 7200 || got.LastRunAt == nil || !got.LastRunAt.Equal(ran) || !slices.Equal(got.Communities, []string{"public", "s3cret"}) || !got.Enabled {
		t.Errorf("schedule read back as %+v", got)
	}
	if got.Due(ran.Add(time.Hour)) || !got.Due(ran.Add(2*time.Hour)) {
		t.Error("Due does not follow the interval")
	}
	all, err := svc.FindScanSchedules(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("schedules: %v, %v", all, err)
	}
	evs, _, err := NewAuditService(db).FindAuditEvents(ctx, firmward.AuditFilter{ObjectType: "site", ObjectID: "home"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		for _, c := range e.Changes {
			if c.Old == "s3cret" || c.New == "s3cret" {
				t.Errorf("a community reached the audit trail: %+v", e)
			}
		}
	}
	if len(evs) != 2 {
		t.Errorf("%d schedule audit events, want 2", len(evs))
	}
	if err := svc.DeleteScanSchedule(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.DeleteScanSchedule(ctx, "home"), firmward.ENOTFOUND)
	_, err = svc.FindScanSchedule(ctx, "home")
	wantCode(t, err, firmward.ENOTFOUND)
}

func testAlerts(t *testing.T, b backend) {
	db := discDB(t, b)
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 4, Name: "bob"})
	svc := NewAlertService(db)
	_, err := svc.RaiseAlert(ctx, &firmward.Alert{Kind: firmward.AlertDeviceNew})
	wantCode(t, err, firmward.EINVALID)
	_, err = svc.RaiseAlert(ctx, &firmward.Alert{Kind: firmward.AlertDeviceNew, Subject: "x", Severity: "dire"})
	wantCode(t, err, firmward.EINVALID)

	a := &firmward.Alert{
		Kind: firmward.AlertDeviceNew, Subject: "New device: HP printer at 10.0.0.5", DeviceID: 3, Site: "home",
		Details: map[string]string{"ip": "10.0.0.5"},
	}
	created, err := svc.RaiseAlert(ctx, a)
	if err != nil || !created {
		t.Fatalf("raise: %v, created=%v", err, created)
	}
	if a.DedupeKey != "device.new:device:3" || a.Severity != firmward.SeverityInfo || a.ID == 0 {
		t.Errorf("raised alert %+v", a)
	}
	dup := &firmward.Alert{Kind: firmward.AlertDeviceNew, Subject: "again", DeviceID: 3}
	created, err = svc.RaiseAlert(ctx, dup)
	if err != nil || created || dup.ID != a.ID || dup.Subject != a.Subject {
		t.Errorf("raising again: created=%v %+v, %v", created, dup, err)
	}
	// Alerts without key or device are never merged.
	for range 2 {
		o := &firmward.Alert{Kind: firmward.AlertCheckDue, Subject: "check the lock", Severity: firmward.SeverityHigh}
		if created, err := svc.RaiseAlert(ctx, o); err != nil || !created {
			t.Fatalf("keyless alert: %v, %v", created, err)
		}
	}
	list, _, err := svc.FindAlerts(ctx, firmward.AlertFilter{})
	if err != nil || len(list) != 3 || list[2].ID != a.ID || list[2].Details["ip"] != "10.0.0.5" {
		t.Fatalf("alerts: %+v, %v", list, err)
	}
	acked, err := svc.AcknowledgeAlert(ctx, a.ID)
	if err != nil || acked.AcknowledgedBy != "token:4(bob)" || acked.AcknowledgedAt == nil {
		t.Fatalf("ack: %+v, %v", acked, err)
	}
	again, err := svc.AcknowledgeAlert(firmward.WithActor(ctx, firmward.Actor{Kind: "token", ID: 5, Name: "eve"}), a.ID)
	if err != nil || again.AcknowledgedBy != "token:4(bob)" || !again.AcknowledgedAt.Equal(*acked.AcknowledgedAt) {
		t.Errorf("second ack changed the first: %+v, %v", again, err)
	}
	_, err = svc.AcknowledgeAlert(ctx, 999)
	wantCode(t, err, firmward.ENOTFOUND)
	for _, tc := range []struct {
		name string
		f    firmward.AlertFilter
		want int
	}{
		{"unacked", firmward.AlertFilter{Unacked: true}, 2},
		{"kind", firmward.AlertFilter{Kind: firmward.AlertCheckDue}, 2},
		{"severity", firmward.AlertFilter{Severity: firmward.SeverityHigh}, 2},
		{"device", firmward.AlertFilter{DeviceID: 3}, 1},
		{"site", firmward.AlertFilter{Site: "home"}, 1},
		{"page", firmward.AlertFilter{Limit: 1, After: list[0].ID}, 1},
	} {
		got, _, err := svc.FindAlerts(ctx, tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %d alerts, want %d (%v)", tc.name, len(got), tc.want, err)
		}
	}
	evs, _, err := NewAuditService(db).FindAuditEvents(ctx, firmward.AuditFilter{Action: firmward.ActionAlertAck})
	if err != nil || len(evs) != 1 || evs[0].Actor != "token:4(bob)" {
		t.Errorf("ack audit: %+v, %v", evs, err)
	}
}
