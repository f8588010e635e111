package ingest_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/ingest"
	"github.com/firmward/firmward/sqlstore"
)

// env is a real SQLite store with the services an Ingester needs.
type env struct {
	db      *sqlstore.DB
	devices *sqlstore.DeviceService
	disc    *sqlstore.DiscoveryService
	alerts  *sqlstore.AlertService
	audit   *sqlstore.AuditService
	in      *ingest.Ingester
}

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	now := t0
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"), sqlstore.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{
		db: db, devices: sqlstore.NewDeviceService(db), disc: sqlstore.NewDiscoveryService(db),
		alerts: sqlstore.NewAlertService(db), audit: sqlstore.NewAuditService(db),
	}
	e.in = ingest.New(ingest.Services{Devices: e.devices, Discovery: e.disc, Alerts: e.alerts}, ingest.Options{})
	return e
}

// ingest runs rep as a new run and returns it.
func (e *env) ingest(t *testing.T, ctx context.Context, rep *firmward.ScanReport) *firmward.ScanRun {
	t.Helper()
	run := &firmward.ScanRun{CIDR: rep.CIDR, Site: "home", Trigger: firmward.TriggerAPI}
	if err := e.disc.CreateScanRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := e.in.Ingest(ctx, run, rep); err != nil {
		t.Fatal(err)
	}
	return run
}

func field(name, value string, conf float64) firmward.ObservedField {
	return firmward.ObservedField{
		Field: name, Value: value, Confidence: conf,
		Evidence: []firmward.ScanEvidence{{Source: "upnp description", Observed: value}},
	}
}

// printer is what a scan of an HP printer reports.
func printer(at time.Time, fw string, conf float64) firmward.Observation {
	return firmward.Observation{
		Time: at, IP: "10.9.0.11", MAC: "04-0E-3C-12-34-56", MACVendor: "HP Inc.", Ports: []int{80},
		Fields: []firmward.ObservedField{
			field(firmward.FieldManufacturer, "HP", 0.95),
			field(firmward.FieldModel, "LaserJet Pro M404", 0.9),
			field(firmward.FieldFirmwareVersion, fw, conf),
			field(firmward.FieldCategory, "other", 0.6),
			field(firmward.FieldSerial, "PHB1234567", 0.9),
		},
	}
}

func report(hosts ...firmward.Observation) *firmward.ScanReport {
	return &firmward.ScanReport{CIDR: "10.9.0.0/24", StartedAt: t0, FinishedAt: t0.Add(time.Second), Scanned: 254, Hosts: hosts}
}

func mustDevice(t *testing.T, e *env, id int64) *firmward.Device {
	t.Helper()
	d, err := e.devices.FindDeviceByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNewDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	hub := firmward.Observation{
		Time: t0, IP: "10.9.0.14", Hostname: "shellyplus1pm-a8032ab12345.local",
		Hints:  []string{"clear-text admin page"},
		Fields: []firmward.ObservedField{field(firmward.FieldManufacturer, "Shelly", 0.8), field(firmward.FieldCategory, "not-a-category", 0.9), field(firmward.FieldModel, "weak guess", 0.2)},
	}
	run := e.ingest(t, ctx, report(printer(t0, "20230929", 0.9), hub, firmward.Observation{IP: "not an ip"}, firmward.Observation{IP: "192.0.2.1"}))
	if run.Hosts != 4 || run.New != 2 || run.Updated != 0 || run.Conflicts != 0 || run.Scanned != 254 {
		t.Fatalf("run counts %+v", run)
	}
	obs, _, err := e.disc.FindObservations(ctx, firmward.ObservationFilter{RunID: run.ID})
	if err != nil || len(obs) != 4 {
		t.Fatalf("observations %v, %v", obs, err)
	}
	if obs[0].Outcome != firmward.OutcomeFailed || !strings.Contains(strings.Join(obs[0].Notes, " "), "outside the scanned network") {
		t.Errorf("host outside the CIDR recorded as %+v", obs[0])
	}
	if obs[1].Outcome != firmward.OutcomeFailed || !strings.Contains(strings.Join(obs[1].Notes, " "), "not an IP address") {
		t.Errorf("bad host recorded as %+v", obs[1])
	}
	obs = obs[1:]
	prn := mustDevice(t, e, obs[2].DeviceID)
	if prn.Source != firmward.SourceScan || prn.Manufacturer != "HP" || prn.Model != "LaserJet Pro M404" ||
		prn.FirmwareVersion != "20230929" || prn.Serial != "PHB1234567" || prn.Category != firmward.CategoryOther ||
		!slices.Equal(prn.MACs, []string{"04:0e:3c:12:34:56"}) || !slices.Equal(prn.IPs, []string{"10.9.0.11"}) ||
		prn.Site != "home" || prn.Name != "HP LaserJet Pro M404 at 10.9.0.11" || prn.LastSeen == nil || !prn.LastSeen.Equal(t0) {
		t.Errorf("printer stored as %+v", prn)
	}
	plug := mustDevice(t, e, obs[1].DeviceID)
	if plug.Name != "shellyplus1pm-a8032ab12345" || plug.Model != "" || plug.Category != firmward.CategoryOther {
		t.Errorf("plug stored as %+v (weak model and unknown category must be left out)", plug)
	}
	alerts, _, err := e.alerts.FindAlerts(ctx, firmward.AlertFilter{Kind: firmward.AlertDeviceNew})
	if err != nil || len(alerts) != 2 {
		t.Fatalf("device.new alerts: %v, %v", alerts, err)
	}
	if alerts[1].DeviceID != prn.ID || alerts[1].Details["ip"] != "10.9.0.11" || alerts[1].Severity != firmward.SeverityInfo ||
		alerts[0].Severity != firmward.SeverityMedium {
		t.Errorf("alerts %+v", alerts)
	}
	// The same scan again: nothing new, no second alert, no audit noise.
	before := countAudit(t, e, firmward.ActionDeviceUpdate)
	again := e.ingest(t, ctx, report(printer(t0.Add(time.Minute), "20230929", 0.9)))
	if again.New != 0 || again.Updated != 0 || again.Hosts != 1 {
		t.Errorf("second run %+v", again)
	}
	if n := countAudit(t, e, firmward.ActionDeviceUpdate); n != before {
		t.Errorf("an unchanged device within the seen interval made %d audit events", n-before)
	}
	if alerts, _, _ := e.alerts.FindAlerts(ctx, firmward.AlertFilter{}); len(alerts) != 2 {
		t.Errorf("%d alerts after the second run", len(alerts))
	}
	// Two hours later last_seen moves (audited).
	e.ingest(t, ctx, report(printer(t0.Add(2*time.Hour), "20230929", 0.9)))
	if d := mustDevice(t, e, prn.ID); !d.LastSeen.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("last_seen %v", d.LastSeen)
	}
}

func countAudit(t *testing.T, e *env, action string) int {
	t.Helper()
	evs, _, err := e.audit.FindAuditEvents(context.Background(), firmward.AuditFilter{Action: action, Limit: firmward.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestKnownDevice covers matching and the overwrite rule, one case per
// way a device can be known and per kind of field owner.
func TestKnownDevice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stored    firmward.Device
		obs       func() firmward.Observation
		outcome   string
		want      func(d *firmward.Device) bool
		conflicts []string // fields proposed for review
	}{
		{
			name:   "manual device matched by MAC: empty fields filled, a person's model kept",
			stored: firmward.Device{Name: "office printer", MACs: []string{"04:0e:3c:12:34:56"}, Model: "M404dn", Category: firmward.CategoryOther},
			obs:    func() firmward.Observation { return printer(t0, "20230929", 0.9) },
			want: func(d *firmward.Device) bool {
				return d.Manufacturer == "HP" && d.Model == "M404dn" && d.FirmwareVersion == "20230929" && d.Serial == "PHB1234567" &&
					slices.Equal(d.IPs, []string{"10.9.0.11"}) && d.Source == firmward.SourceManual
			},
			outcome:   firmward.OutcomeConflict,
			conflicts: []string{firmward.FieldModel},
		},
		{
			name:   "matched by serial: MAC added",
			stored: firmward.Device{Name: "p", Serial: "phb1234567", Manufacturer: "HP", Model: "LaserJet Pro M404", Category: firmward.CategoryOther},
			obs:    func() firmward.Observation { return printer(t0, "", 0) },
			want: func(d *firmward.Device) bool {
				return slices.Equal(d.MACs, []string{"04:0e:3c:12:34:56"}) && d.Serial == "phb1234567"
			},
			outcome: firmward.OutcomeUpdated,
		},
		{
			name:   "matched by IP and manufacturer",
			stored: firmward.Device{Name: "p", IPs: []string{"10.9.0.11"}, Manufacturer: "hp", Category: firmward.CategoryOther},
			obs: func() firmward.Observation {
				o := printer(t0, "", 0)
				o.MAC, o.Fields = "", o.Fields[:2]
				return o
			},
			want:    func(d *firmward.Device) bool { return d.Model == "LaserJet Pro M404" && d.Manufacturer == "hp" },
			outcome: firmward.OutcomeUpdated,
		},
		{
			name:   "a person's firmware is updated by a confident reading",
			stored: firmward.Device{Name: "p", MACs: []string{"04:0e:3c:12:34:56"}, Manufacturer: "HP", Model: "LaserJet Pro M404", Serial: "PHB1234567", FirmwareVersion: "20220101", IPs: []string{"10.9.0.11"}},
			obs:    func() firmward.Observation { return printer(t0, "20230929", 0.95) },
			want:   func(d *firmward.Device) bool { return d.FirmwareVersion == "20230929" },
			// category "other" is what the person has (the default) and what the scan says.
			outcome: firmward.OutcomeUpdated,
		},
		{
			name:      "a person's firmware is kept against a weaker reading",
			stored:    firmward.Device{Name: "p", MACs: []string{"04:0e:3c:12:34:56"}, Manufacturer: "HP", Model: "LaserJet Pro M404", Serial: "PHB1234567", FirmwareVersion: "20220101", IPs: []string{"10.9.0.11"}},
			obs:       func() firmward.Observation { return printer(t0, "20230929", 0.7) },
			want:      func(d *firmward.Device) bool { return d.FirmwareVersion == "20220101" },
			outcome:   firmward.OutcomeConflict,
			conflicts: []string{firmward.FieldFirmwareVersion},
		},
		{
			name:   "the default category is filled in",
			stored: firmward.Device{Name: "p", MACs: []string{"04:0e:3c:12:34:56"}, Manufacturer: "HP", Model: "LaserJet Pro M404", Serial: "PHB1234567", FirmwareVersion: "20230929", IPs: []string{"10.9.0.11"}},
			obs: func() firmward.Observation {
				o := printer(t0, "20230929", 0.9)
				o.Fields[3].Value = "network-infrastructure"
				return o
			},
			want:    func(d *firmward.Device) bool { return d.Category == firmward.CategoryNetworkInfrastructure },
			outcome: firmward.OutcomeUpdated,
		},
		{
			name:      "a person's category is never overwritten",
			stored:    firmward.Device{Name: "p", MACs: []string{"04:0e:3c:12:34:56"}, Manufacturer: "HP", Model: "LaserJet Pro M404", Serial: "PHB1234567", FirmwareVersion: "20230929", IPs: []string{"10.9.0.11"}, Category: firmward.CategoryMedical},
			obs:       func() firmward.Observation { return printer(t0, "20230929", 0.99) },
			want:      func(d *firmward.Device) bool { return d.Category == firmward.CategoryMedical },
			outcome:   firmward.OutcomeConflict,
			conflicts: []string{firmward.FieldCategory},
		},
		{
			name:   "an anonymous host across a router matches the anonymous device at its IP",
			stored: firmward.Device{Name: "thing", IPs: []string{"10.9.0.11"}, Source: firmward.SourceScan},
			obs: func() firmward.Observation {
				return firmward.Observation{Time: t0, IP: "10.9.0.11", Ports: []int{22}}
			},
			want:    func(d *firmward.Device) bool { return d.Name == "thing" && d.LastSeen != nil },
			outcome: firmward.OutcomeUnchanged,
		},
		{
			name:   "an anonymous host does not match an identified device",
			stored: firmward.Device{Name: "cam", IPs: []string{"10.9.0.11"}, Manufacturer: "Axis"},
			obs: func() firmward.Observation {
				return firmward.Observation{Time: t0, IP: "10.9.0.11"}
			},
			want: func(d *firmward.Device) bool {
				return d.Source == firmward.SourceScan && d.Name == "Device at 10.9.0.11"
			},
			outcome: firmward.OutcomeNew,
		},
		{
			name:    "a different manufacturer at the same IP is another device",
			stored:  firmward.Device{Name: "cam", IPs: []string{"10.9.0.11"}, Manufacturer: "Axis"},
			obs:     func() firmward.Observation { o := printer(t0, "1", 0.9); o.MAC = ""; return o },
			want:    func(d *firmward.Device) bool { return d.Source == firmward.SourceScan && d.Manufacturer == "HP" },
			outcome: firmward.OutcomeNew,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			stored := tt.stored
			if err := e.devices.CreateDevice(ctx, &stored); err != nil {
				t.Fatal(err)
			}
			run := e.ingest(t, ctx, report(tt.obs()))
			obs, _, err := e.disc.FindObservations(ctx, firmward.ObservationFilter{RunID: run.ID})
			if err != nil || len(obs) != 1 {
				t.Fatalf("observations %v, %v", obs, err)
			}
			if obs[0].Outcome != tt.outcome {
				t.Errorf("outcome %q, want %q (notes %q)", obs[0].Outcome, tt.outcome, obs[0].Notes)
			}
			if tt.outcome != firmward.OutcomeNew && obs[0].DeviceID != stored.ID {
				t.Fatalf("matched device %d, want %d", obs[0].DeviceID, stored.ID)
			}
			d := mustDevice(t, e, obs[0].DeviceID)
			if !tt.want(d) {
				t.Errorf("device after the scan: %+v", d)
			}
			cs, _, err := e.disc.FindConflicts(ctx, firmward.ConflictFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, c := range cs {
				fields = append(fields, c.Field)
				if c.ObservationID != obs[0].ID || c.RunID != run.ID || c.Current != getField(d, c.Field) || len(c.Evidence) == 0 {
					t.Errorf("conflict %+v", c)
				}
			}
			if !slices.Equal(fields, tt.conflicts) || run.Conflicts != len(tt.conflicts) {
				t.Errorf("conflicts on %v (run says %d), want %v", fields, run.Conflicts, tt.conflicts)
			}
		})
	}
}

func getField(d *firmward.Device, f string) string {
	switch f {
	case firmward.FieldModel:
		return d.Model
	case firmward.FieldFirmwareVersion:
		return d.FirmwareVersion
	case firmward.FieldCategory:
		return string(d.Category)
	case firmward.FieldManufacturer:
		return d.Manufacturer
	}
	return d.Serial
}

// TestScanOwnedAndPersonEdits: values a scan wrote follow later scans;
// once a person edits one, it is theirs.
func TestScanOwnedAndPersonEdits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first := e.ingest(t, ctx, report(printer(t0, "1.0", 0.6)))
	obs, _, _ := e.disc.FindObservations(ctx, firmward.ObservationFilter{RunID: first.ID})
	id := obs[0].DeviceID
	// A scan's own earlier value follows a weaker-than-0.9 reading.
	e.ingest(t, ctx, report(printer(t0.Add(time.Minute), "1.1", 0.6)))
	if d := mustDevice(t, e, id); d.FirmwareVersion != "1.1" {
		t.Fatalf("scan-owned firmware not updated: %q", d.FirmwareVersion)
	}
	// A person renames the model; the next scan proposes, does not write.
	model := "LaserJet Pro M404dw (2nd floor)"
	person := firmward.WithActor(ctx, firmward.Actor{Kind: "token", ID: 9, Name: "carol"})
	if _, err := e.devices.UpdateDevice(person, id, firmward.DeviceUpdate{Model: &model}); err != nil {
		t.Fatal(err)
	}
	run := e.ingest(t, ctx, report(printer(t0.Add(2*time.Minute), "1.1", 0.6)))
	if d := mustDevice(t, e, id); d.Model != model || run.Conflicts != 1 {
		t.Fatalf("person's model %q, %d conflicts", d.Model, run.Conflicts)
	}
	cs, _, err := e.disc.FindConflicts(ctx, firmward.ConflictFilter{DeviceID: id})
	if err != nil || len(cs) != 1 {
		t.Fatalf("conflicts %v, %v", cs, err)
	}
	// Reject: kept, and not proposed again.
	if _, err := e.in.ResolveConflict(person, cs[0].ID, false); err != nil {
		t.Fatal(err)
	}
	if run := e.ingest(t, ctx, report(printer(t0.Add(3*time.Minute), "1.1", 0.6))); run.Conflicts != 0 {
		t.Errorf("a rejected proposal came back: %d conflicts", run.Conflicts)
	}
	if _, err := e.in.ResolveConflict(person, cs[0].ID, true); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Errorf("accepting a rejected conflict: %v", err)
	}
	// A new proposal, accepted: written (audited) and scan-owned again.
	o := printer(t0.Add(4*time.Minute), "1.1", 0.6)
	o.Fields[1].Value = "LaserJet Pro M404n"
	if run := e.ingest(t, ctx, report(o)); run.Conflicts != 1 {
		t.Fatalf("%d conflicts for a new proposal", run.Conflicts)
	}
	cs, _, _ = e.disc.FindConflicts(ctx, firmward.ConflictFilter{DeviceID: id})
	acc, err := e.in.ResolveConflict(person, cs[0].ID, true)
	if err != nil || acc.Status != firmward.ConflictAccepted || acc.ResolvedBy != "token:9(carol)" {
		t.Fatalf("accept: %+v, %v", acc, err)
	}
	if d := mustDevice(t, e, id); d.Model != "LaserJet Pro M404n" {
		t.Errorf("accepted model not written: %q", d.Model)
	}
	evs, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{ObjectType: "device", ObjectID: itoa(id), Actor: "token:9(carol)"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
	}
	want := []string{firmward.ActionDeviceUpdate, firmward.ActionConflictReject, firmward.ActionDeviceUpdate, firmward.ActionConflictAccept}
	if !slices.Equal(actions, want) {
		t.Errorf("audit by the person: %v, want %v", actions, want)
	}
	o.Time, o.Fields[1].Value = t0.Add(5*time.Minute), "LaserJet Pro M404x"
	if run := e.ingest(t, ctx, report(o)); run.Conflicts != 0 || run.Updated != 1 {
		t.Errorf("after accepting, the scan should own the model again: %+v", run)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// blockingScan is a scanner that waits for release and then reports.
type blockingScan struct {
	release chan struct{}
	calls   chan firmward.ScanRequest
	rep     *firmward.ScanReport
	err     error
}

func (b *blockingScan) scan(ctx context.Context, req firmward.ScanRequest) (*firmward.ScanReport, error) {
	b.calls <- req
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if b.err != nil {
		return nil, b.err
	}
	rep := *b.rep
	rep.CIDR = req.CIDR
	return &rep, nil
}

func TestRunner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bs := &blockingScan{release: make(chan struct{}), calls: make(chan firmward.ScanRequest, 4), rep: report(printer(t0, "1.0", 0.9))}
	r := ingest.NewRunner(context.Background(), ingest.RunnerConfig{Scan: bs.scan, Ingester: e.in, MaxRunning: 2, Now: func() time.Time { return t0 }})
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 3, Name: "ops"})
	for _, bad := range []firmward.ScanRequest{{CIDR: "10.0.0.0/8"}, {CIDR: "nonsense"}, {}} {
		if _, err := r.Start(ctx, bad, firmward.TriggerAPI); firmward.ErrorCode(err) != firmward.EINVALID {
			t.Errorf("Start(%+v): %v, want invalid", bad, err)
		}
	}
	run, err := r.Start(ctx, firmward.ScanRequest{CIDR: "10.9.0.0/24", Site: "home"}, firmward.TriggerAPI)
	if err != nil || run.Status != firmward.ScanRunning || run.Actor != "token:3(ops)" {
		t.Fatalf("Start: %+v, %v", run, err)
	}
	if req := <-bs.calls; req.CIDR != "10.9.0.0/24" {
		t.Errorf("scanner called with %+v", req)
	}
	if _, err := r.Start(ctx, firmward.ScanRequest{CIDR: "10.9.0.0/24"}, firmward.TriggerAPI); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Errorf("the same network twice: %v", err)
	}
	if _, err := r.Start(ctx, firmward.ScanRequest{CIDR: "10.8.0.0/24"}, firmward.TriggerAPI); err != nil {
		t.Fatal(err)
	}
	<-bs.calls
	if _, err := r.Start(ctx, firmward.ScanRequest{CIDR: "10.7.0.0/24"}, firmward.TriggerAPI); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Errorf("a third scan at once: %v", err)
	}
	close(bs.release)
	r.Wait()
	got, err := e.disc.FindScanRunByID(ctx, run.ID)
	if err != nil || got.Status != firmward.ScanDone || got.New != 1 || got.FinishedAt == nil {
		t.Fatalf("finished run %+v, %v", got, err)
	}
	d, _, _ := e.devices.FindDevices(ctx, firmward.DeviceFilter{})
	evs, _, _ := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{Action: firmward.ActionDeviceCreate})
	if len(d) != 1 || len(evs) != 1 || evs[0].Actor != "token:3(ops)" {
		t.Errorf("devices %d, create events %+v (want one, by the actor who started the scan)", len(d), evs)
	}

	// A failing scanner fails the run, with its error.
	bad := &blockingScan{release: make(chan struct{}), calls: make(chan firmward.ScanRequest, 1), err: errors.New("no interface has an address in 10.6.0.0/24")}
	close(bad.release)
	r2 := ingest.NewRunner(context.Background(), ingest.RunnerConfig{Scan: bad.scan, Ingester: e.in})
	run2, err := r2.Start(ctx, firmward.ScanRequest{CIDR: "10.6.0.0/24"}, firmward.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	r2.Wait()
	if got, _ := e.disc.FindScanRunByID(ctx, run2.ID); got.Status != firmward.ScanFailed || !strings.Contains(got.Error, "no interface") {
		t.Errorf("failed run %+v", got)
	}

	// Without a scanner, Start is refused and Import still works.
	r3 := ingest.NewRunner(context.Background(), ingest.RunnerConfig{Ingester: e.in})
	if _, err := r3.Start(ctx, firmward.ScanRequest{CIDR: "10.5.0.0/24"}, firmward.TriggerAPI); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("Start without a scanner: %v", err)
	}
	imp, err := r3.Import(ctx, "lab", report(firmward.Observation{Time: t0, IP: "10.9.0.20", MAC: "02:00:00:00:00:20"}))
	if err != nil || imp.Status != firmward.ScanImported || imp.New != 1 || imp.Trigger != firmward.TriggerImport || imp.Site != "lab" {
		t.Errorf("import: %+v, %v", imp, err)
	}
	if _, err := r3.Import(ctx, "lab", &firmward.ScanReport{CIDR: "0.0.0.0/0"}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("import of a /0: %v", err)
	}
}

func TestScheduler(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	bs := &blockingScan{release: make(chan struct{}), calls: make(chan firmward.ScanRequest, 8), rep: report()}
	close(bs.release)
	r := ingest.NewRunner(ctx, ingest.RunnerConfig{Scan: bs.scan, Ingester: e.in, MaxRunning: 4})
	now := t0
	s := ingest.NewScheduler(r, func() time.Time { return now }, nil)
	for _, sc := range []*firmward.ScanSchedule{
		{Site: "home", Subnets: []string{"10.1.0.0/24", "10.2.0.0/24"}, IntervalSec: 3600, Communities: []string{"home-ro"}, Enabled: true},
		{Site: "off", Subnets: []string{"10.3.0.0/24"}, IntervalSec: 3600, Enabled: false},
	} {
		if err := e.disc.PutScanSchedule(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	tick := func() []string {
		t.Helper()
		runs, err := s.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.Wait()
		var cidrs []string
		for _, run := range runs {
			cidrs = append(cidrs, run.CIDR)
			if run.Trigger != firmward.TriggerSchedule || run.Site != "home" || run.Actor != "system(scan-schedule)" {
				t.Errorf("scheduled run %+v", run)
			}
		}
		slices.Sort(cidrs)
		return cidrs
	}
	if got := tick(); !slices.Equal(got, []string{"10.1.0.0/24", "10.2.0.0/24"}) {
		t.Fatalf("first tick started %v", got)
	}
	for range 2 {
		if req := <-bs.calls; !slices.Equal(req.Options.Communities, []string{"home-ro"}) || req.Site != "home" {
			t.Errorf("scheduled request %+v", req)
		}
	}
	now = t0.Add(59 * time.Minute)
	if got := tick(); len(got) != 0 {
		t.Errorf("before the interval: started %v", got)
	}
	now = t0.Add(time.Hour)
	if got := tick(); len(got) != 2 {
		t.Errorf("after the interval: started %v", got)
	}
	runs, _, err := e.disc.FindScanRuns(ctx, firmward.ScanRunFilter{Site: "home", Status: firmward.ScanDone})
	if err != nil || len(runs) != 4 {
		t.Errorf("done scheduled runs: %d, %v", len(runs), err)
	}
}

// FuzzIngest feeds untrusted scan reports (they arrive over the API from
// CLI scans) into a real store: a host is either ingested or recorded as
// failed, never a panic or a stopped run, and nothing invalid is stored.
func FuzzIngest(f *testing.F) {
	f.Add("10.9.0.11", "04:0e:3c:12:34:56", "HP", "LaserJet", "2.1", "printer", "other", 0.9)
	f.Add("10.9.0.300", "zz", "", "", "", "", "camera", 1.5)
	f.Add("::ffff:10.9.0.12", "0400.3c12.3457", "Axis\x00", "P\xff", "1", "cam.local", "not-a-category", -1.0)
	f.Add("10.9.0.13", "", "", "", "", "", "", 0.0)
	f.Fuzz(func(t *testing.T, ip, mac, manufacturer, model, fw, hostname, category string, conf float64) {
		e := newEnv(t)
		ctx := context.Background()
		o := firmward.Observation{Time: t0, IP: ip, MAC: mac, Hostname: hostname, Fields: []firmward.ObservedField{
			field(firmward.FieldManufacturer, manufacturer, conf), field(firmward.FieldModel, model, conf),
			field(firmward.FieldFirmwareVersion, fw, conf), field(firmward.FieldCategory, category, conf),
		}}
		for range 2 { // the second run meets what the first stored
			run := e.ingest(t, ctx, report(o))
			if run.Hosts != 1 {
				t.Fatalf("run %+v", run)
			}
		}
		list, _, err := e.devices.FindDevices(ctx, firmward.DeviceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			if err := d.Normalize(); err != nil {
				t.Errorf("stored device does not validate: %v", err)
			}
		}
		if len(list) > 1 {
			t.Errorf("the same host twice made %d devices", len(list))
		}
	})
}
