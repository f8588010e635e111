package assess_test

import (
	"context"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/assess"
	"github.com/firmward/firmward/risk"
)

// importRecords imports records of testdata as one feed file, with edit
// applied to each first (nil: as they are), and returns the import result.
func (e *runEnv) importRecords(t *testing.T, edit func(*firmward.VulnerabilityRecord), ids ...string) *firmward.FeedImportResult {
	t.Helper()
	ctx := context.Background()
	recs := assess.LoadTestRecords(t)
	imp, err := e.src.Vulns.BeginFeedImport(ctx, "more.jsonl", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = imp.Rollback() }()
	for _, id := range ids {
		r := recs[id]
		if r == nil {
			t.Fatalf("%s is not in testdata", id)
		}
		if edit != nil {
			edit(r)
		}
		if err := imp.PutVulnerability(ctx, firmward.SourceNVD, &r.Vulnerability); err != nil {
			t.Fatal(err)
		}
	}
	res, err := imp.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestEngineIncremental shows that a changed device re-matches that
// device only, and that a feed import re-matches only the CVEs it changed
// on only the devices they name, leaving other findings untouched.
func TestEngineIncremental(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	eng := assess.NewEngine(e.src, assess.RunOptions{Policy: risk.DefaultPolicy(), Now: func() time.Time { return now }}, nil)

	if _, err := eng.Vulnerabilities(ctx, []string{"CVE-2023-1389"}); err != nil { // nothing loaded yet: a Full
		t.Fatal(err)
	}
	if !eng.Loaded() || e.findingsOf(t, e.ax21.ID)["CVE-2023-1389"] == nil {
		t.Fatal("the first call did not load the index and match everything")
	}
	mikrotik := e.deviceNamed(t, "core router")
	old := "6.40.1"
	if _, err := e.devices.UpdateDevice(ctx, mikrotik.ID, firmward.DeviceUpdate{FirmwareVersion: &old}); err != nil {
		t.Fatal(err)
	}

	// A changed device: only it is re-matched.
	res, err := eng.Devices(ctx, []int64{mikrotik.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Devices != 1 || res.Opened != 1 {
		t.Errorf("re-matching the MikroTik on %s: %+v, want 1 device and CVE-2018-14847 opened", old, res)
	}
	if f := e.findingsOf(t, mikrotik.ID)["CVE-2018-14847"]; f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("CVE-2018-14847 on RouterOS %s: %+v", old, f)
	}
	ax21Before := e.findingsOf(t, e.ax21.ID)

	// A feed brings two RouterOS CVEs: only the MikroTik is re-matched,
	// only for them, and the AX21's findings are not written.
	imp := e.importRecords(t, nil, "CVE-2018-1156", "CVE-2023-30799")
	if len(imp.ChangedCVEs) != 2 {
		t.Fatalf("import changed %v", imp.ChangedCVEs)
	}
	res, err = eng.Vulnerabilities(ctx, imp.ChangedCVEs)
	if err != nil {
		t.Fatal(err)
	}
	if res.CVEs != 2 || res.Devices != 1 || res.Opened != 2 {
		t.Errorf("re-matching after the feed: %+v, want 2 CVEs on 1 device, 2 opened", res)
	}
	got := e.findingsOf(t, mikrotik.ID)
	for _, id := range []string{"CVE-2018-14847", "CVE-2018-1156", "CVE-2023-30799"} {
		if f := got[id]; f == nil || f.Status != firmward.FindingOpen {
			t.Errorf("%s on RouterOS %s after the feed: %+v", id, old, f)
		}
	}
	for cve, f := range e.findingsOf(t, e.ax21.ID) {
		if b := ax21Before[cve]; b == nil || !b.LastSeen.Equal(f.LastSeen) || !b.UpdatedAt.Equal(f.UpdatedAt) {
			t.Errorf("the AX21's %s was written by a feed that does not name it: %+v, was %+v", cve, f, b)
		}
	}

	// A modified record that no longer names the device fixes its finding,
	// and only that one.
	res, err = eng.Vulnerabilities(ctx, e.importRecords(t, func(r *firmward.VulnerabilityRecord) {
		r.LastModified = r.LastModified.Add(24 * time.Hour)
		r.EachMatch(func(m *firmward.CPEMatch) { m.VersionEndExcluding = "6.30" })
	}, "CVE-2018-1156").ChangedCVEs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Devices != 1 || res.Fixed != 1 || res.Opened != 0 {
		t.Errorf("re-matching the narrowed CVE-2018-1156: %+v, want 1 fixed", res)
	}
	got = e.findingsOf(t, mikrotik.ID)
	if f := got["CVE-2018-1156"]; f == nil || f.Status != firmward.FindingFixed {
		t.Errorf("CVE-2018-1156 after its range shrank below %s: %+v, want fixed", old, f)
	}
	if f := got["CVE-2023-30799"]; f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("CVE-2023-30799 was touched by a feed that changed only CVE-2018-1156: %+v", f)
	}

	// A CVE nobody has: nothing to re-match.
	res, err = eng.Vulnerabilities(ctx, []string{"CVE-2099-0001"})
	if err != nil || res.Devices != 0 {
		t.Errorf("an unknown CVE: %+v, %v", res, err)
	}
	// A deleted device is forgotten, not an error.
	if err := e.devices.DeleteDevice(ctx, mikrotik.ID); err != nil {
		t.Fatal(err)
	}
	if res, err := eng.Devices(ctx, []int64{mikrotik.ID}); err != nil || res.Devices != 0 {
		t.Errorf("re-matching a deleted device: %+v, %v", res, err)
	}
}

// TestEngineWatch runs the worker: changes made through the watched
// services are matched without anyone asking.
func TestEngineWatch(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := assess.NewEngine(e.src, assess.RunOptions{Policy: risk.DefaultPolicy()}, nil)
	devices := assess.WatchDevices(e.devices, eng)
	vulns := assess.WatchVulnerabilities(e.src.Vulns, eng)
	eng.NotifyFull()
	done := make(chan struct{})
	go func() {
		defer close(done)
		eng.Start(ctx, 0)
	}()
	wait := func() {
		t.Helper()
		wctx, stop := context.WithTimeout(ctx, 30*time.Second)
		defer stop()
		if err := eng.Wait(wctx); err != nil {
			t.Fatal(err)
		}
	}
	wait()
	if e.findingsOf(t, e.ax21.ID)["CVE-2023-1389"] == nil {
		t.Fatal("the start-up full run did not match the AX21")
	}

	d := &firmward.Device{Name: "new router", Manufacturer: "MikroTik", Model: "hEX", FirmwareVersion: "6.40.1"}
	if err := devices.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	wait()
	if f := e.findingsOf(t, d.ID)["CVE-2018-14847"]; f == nil {
		t.Error("a created MikroTik on 6.40.1 has no CVE-2018-14847 finding")
	}
	fixed := "7.12"
	if _, err := devices.UpdateDevice(ctx, d.ID, firmward.DeviceUpdate{FirmwareVersion: &fixed}); err != nil {
		t.Fatal(err)
	}
	wait()
	if f := e.findingsOf(t, d.ID)["CVE-2018-14847"]; f == nil || f.Status != firmward.FindingFixed {
		t.Errorf("after updating to %s: %+v, want fixed", fixed, f)
	}

	e.src.Vulns = vulns
	old := "6.40.1"
	if _, err := devices.UpdateDevice(ctx, d.ID, firmward.DeviceUpdate{FirmwareVersion: &old}); err != nil {
		t.Fatal(err)
	}
	e.importRecords(t, nil, "CVE-2023-30799")
	wait()
	if f := e.findingsOf(t, d.ID)["CVE-2023-30799"]; f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("a watched feed import did not open CVE-2023-30799: %+v", f)
	}
	cancel()
	<-done
}
