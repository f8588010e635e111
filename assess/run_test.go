package assess_test

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/assess"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/sqlstore"
)

// runEnv is a real SQLite database holding a few records of testdata and
// three devices: a vulnerable TP-Link Archer AX21, a MikroTik router and a
// device nothing names.
type runEnv struct {
	path     string // the SQLite file
	src      assess.Sources
	devices  firmward.DeviceService
	findings firmward.FindingService
	ax21     *firmward.Device
}

func newRunEnv(t *testing.T) *runEnv {
	t.Helper()
	return newRunEnvOpts(t, sqlstore.Options{})
}

// newRunEnvOpts is newRunEnv with the database opened with opts.
func newRunEnvOpts(t *testing.T, opts sqlstore.Options) *runEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "firmward.db")
	e := openRunEnv(t, path, opts)
	vulns := e.src.Vulns

	recs := assess.LoadTestRecords(t)
	imp, err := vulns.BeginFeedImport(ctx, "records.jsonl", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = imp.Rollback() }()
	for _, id := range []string{"CVE-2023-1389", "CVE-2023-31710", "CVE-2018-14847"} {
		r := recs[id]
		if r == nil {
			t.Fatalf("%s is not in testdata", id)
		}
		if err := imp.PutVulnerability(ctx, firmward.SourceNVD, &r.Vulnerability); err != nil {
			t.Fatalf("staging %s: %v", id, err)
		}
		if r.KEV != nil {
			if err := imp.PutKEV(ctx, r.KEV); err != nil {
				t.Fatalf("staging the KEV entry of %s: %v", id, err)
			}
		}
		if r.EPSS != nil {
			if err := imp.PutEPSS(ctx, *r.EPSS); err != nil {
				t.Fatalf("staging the EPSS score of %s: %v", id, err)
			}
		}
	}
	if _, err := imp.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	for _, d := range []*firmward.Device{
		{
			Name: "office router", Manufacturer: "TP-Link", Model: "Archer AX21", HardwareVersion: "V3",
			FirmwareVersion: "1.1.3 Build 20221201 rel.62108", Exposure: firmward.ExposureInternetFacing, Criticality: firmward.CriticalityHigh,
		},
		{Name: "core router", Manufacturer: "MikroTik", Model: "RB4011", FirmwareVersion: "6.49.8"},
		{Name: "widget", Manufacturer: "Acme", Model: "Widget 9000", FirmwareVersion: "1.0"},
	} {
		if err := e.devices.CreateDevice(ctx, d); err != nil {
			t.Fatalf("creating %s: %v", d.Name, err)
		}
		if e.ax21 == nil {
			e.ax21 = d
		}
	}
	return e
}

// openRunEnv opens the database at path (one more process using it) and
// returns its services; the change log is in its Sources.
func openRunEnv(t *testing.T, path string, opts sqlstore.Options) *runEnv {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &runEnv{
		path:     path,
		devices:  sqlstore.NewDeviceService(db),
		findings: sqlstore.NewFindingService(db),
	}
	vulns := sqlstore.NewVulnerabilityService(db)
	e.src = assess.Sources{Vulns: vulns, Devices: e.devices, Findings: e.findings, Changes: vulns}
	return e
}

// findingsOf returns the findings of device id with any status, by CVE.
func (e *runEnv) findingsOf(t *testing.T, id int64) map[string]*firmward.Finding {
	t.Helper()
	fs, _, err := e.findings.FindFindings(context.Background(), firmward.FindingFilter{DeviceID: id, Statuses: firmward.FindingStatuses})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*firmward.Finding{}
	for _, f := range fs {
		out[f.CVE] = f
	}
	return out
}

func TestRun(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	opts := assess.RunOptions{Policy: risk.DefaultPolicy(), Now: func() time.Time { return now }}

	res, err := assess.Run(ctx, e.src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.CVEs != 3 || res.Devices != 3 || res.DevicesWithFindings != 1 || res.Opened < 1 || res.Fixed != 0 {
		t.Errorf("first run: %+v", res)
	}
	got := e.findingsOf(t, e.ax21.ID)
	f := got["CVE-2023-1389"]
	if f == nil {
		t.Fatalf("the Archer AX21 on 1.1.3 has no CVE-2023-1389 finding: %v", slices.Collect(maps.Keys(got)))
	}
	if f.Status != firmward.FindingOpen || !f.KEV || f.Decision == "" || f.DueDate == nil {
		t.Errorf("CVE-2023-1389 finding: %+v", f)
	}

	again, err := assess.Run(ctx, e.src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Opened+again.Fixed+again.Reopened != 0 {
		t.Errorf("a second run over the same data changed findings: %+v", again)
	}

	fixed := "1.1.4 Build 20230219 rel.60034"
	if _, err := e.devices.UpdateDevice(ctx, e.ax21.ID, firmward.DeviceUpdate{FirmwareVersion: &fixed}); err != nil {
		t.Fatal(err)
	}
	after, err := assess.Run(ctx, e.src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if after.Fixed < 1 || after.DevicesWithFindings != 0 {
		t.Errorf("run after the firmware update: %+v", after)
	}
	if f := e.findingsOf(t, e.ax21.ID)["CVE-2023-1389"]; f == nil || f.Status != firmward.FindingFixed || f.FixedAt == nil {
		t.Errorf("CVE-2023-1389 after updating to %s: %+v, want fixed", fixed, f)
	}
}

func TestRunCanceled(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := assess.Run(ctx, e.src, assess.RunOptions{Policy: risk.DefaultPolicy()}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a canceled context: %v, want context.Canceled", err)
	}
	if fs := e.findingsOf(t, e.ax21.ID); len(fs) != 0 {
		t.Errorf("a canceled run stored %d findings", len(fs))
	}
}

// deviceNamed returns the test device called name.
func (e *runEnv) deviceNamed(t *testing.T, name string) *firmward.Device {
	t.Helper()
	ds, _, err := e.devices.FindDevices(context.Background(), firmward.DeviceFilter{Limit: firmward.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no device %q", name)
	return nil
}
