package sqlstore

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestLifecycleConformance checks the end-of-support table, the
// open-firmware list, operational values, cadences and health checks on
// both databases.
func TestLifecycleConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			fn   func(t *testing.T, b backend)
		}{
			{"EOL", testEOL},
			{"EOLImportAllOrNothing", testEOLImportAllOrNothing},
			{"OpenFirmware", testOpenFirmware},
			{"OperationalValue", testOperationalValue},
			{"Cadences", testCadences},
			{"HealthChecks", testHealthChecks},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, b)
			})
		}
	})
}

var lcCtx = firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 5, Name: "owner", Role: firmward.RoleOperator})

func lcDevice(t *testing.T, db *DB, name string) int64 {
	t.Helper()
	d := &firmward.Device{Name: name, Manufacturer: "Acme", Model: "Cam 1", Category: firmward.CategoryCamera}
	if err := NewDeviceService(db).CreateDevice(lcCtx, d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// lastEvent returns the newest audit event.
func lastEvent(t *testing.T, db *DB) *firmward.AuditEvent {
	t.Helper()
	evs := auditEvents(t, db)
	if len(evs) == 0 {
		t.Fatal("no audit events")
	}
	return evs[len(evs)-1]
}

func testEOL(t *testing.T, b backend) {
	c := newClock()
	db := b.open(t, Options{Now: c.Now})
	s := NewEOLService(db)
	e := &firmward.EOLEntry{Manufacturer: " TP-Link ", Model: "Archer C7", ReleaseDate: "2013-06-01", EndOfSupport: "2022-12-31", Source: "vendor"}
	if err := s.SetEOL(lcCtx, e); err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 || e.Manufacturer != "TP-Link" || !e.UpdatedAt.Equal(c.Now().Truncate(time.Microsecond)) {
		t.Fatalf("after SetEOL: %+v", e)
	}
	ev := lastEvent(t, db)
	if ev.Action != firmward.ActionEOLSet || ev.Actor != "token:5(owner)" || len(ev.Changes) != 5 {
		t.Errorf("create event: %+v", ev)
	}
	// Same key in another case: an update of the one entry.
	c.Add(time.Hour)
	e2 := &firmward.EOLEntry{Manufacturer: "tp-link", Model: "ARCHER C7", ReleaseDate: "2013-06-01", EndOfSupport: "2023-06-30", Source: "vendor"}
	if err := s.SetEOL(lcCtx, e2); err != nil {
		t.Fatal(err)
	}
	if e2.ID != e.ID {
		t.Errorf("update made a new entry: %d vs %d", e2.ID, e.ID)
	}
	ev = lastEvent(t, db)
	if !slices.Equal(fieldNames(ev.Changes), []string{"manufacturer", "model", "end_of_support"}) || ev.Changes[2].Old != "2022-12-31" {
		t.Errorf("update event: %+v", ev.Changes)
	}
	n := len(auditEvents(t, db))
	if err := s.SetEOL(lcCtx, e2); err != nil {
		t.Fatal(err)
	}
	if len(auditEvents(t, db)) != n {
		t.Error("an unchanged entry was audited")
	}
	list, err := s.FindEOL(lcCtx)
	if err != nil || len(list) != 1 || list[0].EndOfSupport != "2023-06-30" || list[0].Model != "ARCHER C7" {
		t.Fatalf("FindEOL = %+v, %v", list, err)
	}
	wantCode(t, s.SetEOL(lcCtx, &firmward.EOLEntry{Manufacturer: "x"}), firmward.EINVALID)
	wantCode(t, s.DeleteEOL(lcCtx, 999), firmward.ENOTFOUND)
	if err := s.DeleteEOL(lcCtx, e.ID); err != nil {
		t.Fatal(err)
	}
	if ev := lastEvent(t, db); ev.Action != firmward.ActionEOLDelete || ev.ObjectID != strconv.FormatInt(e.ID, 10) {
		t.Errorf("delete event: %+v", ev)
	}
	if list, _ := s.FindEOL(lcCtx); len(list) != 0 {
		t.Errorf("after delete: %+v", list)
	}
	verifyOK(t, db)
}

func testEOLImportAllOrNothing(t *testing.T, b backend) {
	db := b.open(t, Options{})
	s := NewEOLService(db)
	if err := s.SetEOL(lcCtx, &firmward.EOLEntry{Manufacturer: "Netgear", Model: "R7800", EndOfSupport: "2024-01-01"}); err != nil {
		t.Fatal(err)
	}
	before := len(auditEvents(t, db))
	bad := []firmward.EOLRow{
		{Line: 2, Entry: firmward.EOLEntry{Manufacturer: "Wyze", EndOfSupport: "2025-01-01"}},
		{Line: 3, Entry: firmward.EOLEntry{Manufacturer: "Acme", EndOfSupport: "someday"}},
		{Line: 4, Entry: firmward.EOLEntry{Manufacturer: "wyze", EndOfSupport: "2025-02-01"}},
	}
	_, err := s.ImportEOL(lcCtx, bad)
	wantCode(t, err, firmward.EINVALID)
	ds := firmward.ErrorDetails(err)
	if len(ds) != 2 || ds[0].Line != 3 || ds[0].Field != "end_of_support" || ds[1].Line != 4 {
		t.Errorf("details %+v", ds)
	}
	if count(t, db, "eol") != 1 || len(auditEvents(t, db)) != before {
		t.Fatal("a bad import changed something")
	}
	res, err := s.ImportEOL(lcCtx, []firmward.EOLRow{
		{Line: 2, Entry: firmward.EOLEntry{Manufacturer: "Wyze", EndOfSupport: "2025-01-01"}},
		{Line: 3, Entry: firmward.EOLEntry{Manufacturer: "NETGEAR", Model: "r7800", EndOfSupport: "2024-01-01"}},
		{Line: 4, Entry: firmward.EOLEntry{Manufacturer: "Netgear", Model: "R7000", EndOfSupport: "2021-01-01"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// NETGEAR/r7800 differs from the stored Netgear/R7800 in case only:
	// the entry takes the new spelling.
	if *res != (firmward.EOLImportResult{Created: 2, Updated: 1}) {
		t.Errorf("result %+v", res)
	}
	if count(t, db, "eol") != 3 {
		t.Errorf("eol rows = %d", count(t, db, "eol"))
	}
	verifyOK(t, db)
}

func testOpenFirmware(t *testing.T, b backend) {
	db := b.open(t, Options{})
	s := NewEOLService(db)
	seed := []firmward.OpenFirmwareModel{
		{Firmware: "OpenWrt", Manufacturer: "TP-Link", Model: "Archer C7", HardwareVersion: "v2", URL: "https://openwrt.org/toh/tp-link/archer_c7"},
		{Firmware: "OpenWrt", Manufacturer: "Netgear", Model: "R7800"},
	}
	n, err := s.SeedOpenFirmware(lcCtx, seed)
	if err != nil || n != 2 {
		t.Fatalf("seed: %d, %v", n, err)
	}
	list, err := s.FindOpenFirmware(lcCtx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if err := s.DeleteOpenFirmware(lcCtx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	// A second seed adds nothing back.
	if n, err := s.SeedOpenFirmware(lcCtx, seed); err != nil || n != 0 {
		t.Fatalf("second seed: %d, %v", n, err)
	}
	if count(t, db, "open_firmware") != 1 {
		t.Errorf("open_firmware rows = %d", count(t, db, "open_firmware"))
	}
	m := &firmward.OpenFirmwareModel{Firmware: "OpenWrt", Manufacturer: "Aruba", Model: "AP-303H", URL: "https://openwrt.org/toh/start"}
	if err := s.SetOpenFirmware(lcCtx, m); err != nil || m.ID == 0 {
		t.Fatalf("set: %+v, %v", m, err)
	}
	m2 := &firmward.OpenFirmwareModel{Firmware: "openwrt", Manufacturer: "ARUBA", Model: "ap-303h", URL: "https://openwrt.org/toh/aruba/ap-303h"}
	if err := s.SetOpenFirmware(lcCtx, m2); err != nil || m2.ID != m.ID {
		t.Fatalf("update: %+v, %v", m2, err)
	}
	if ev := lastEvent(t, db); ev.Action != firmward.ActionOpenFirmwareSet || !slices.Contains(fieldNames(ev.Changes), "url") {
		t.Errorf("update event: %+v", ev)
	}
	wantCode(t, s.SetOpenFirmware(lcCtx, &firmward.OpenFirmwareModel{Firmware: "OpenWrt", Manufacturer: "x", Model: "y", URL: "ftp://x"}), firmward.EINVALID)
	wantCode(t, s.DeleteOpenFirmware(lcCtx, 9999), firmward.ENOTFOUND)
	actions := map[string]int{}
	for _, ev := range auditEvents(t, db) {
		actions[ev.Action]++
	}
	if actions[firmward.ActionOpenFirmwareSeed] != 1 || actions[firmward.ActionOpenFirmwareDelete] != 1 || actions[firmward.ActionOpenFirmwareSet] != 2 {
		t.Errorf("audit actions %v", actions)
	}
	verifyOK(t, db)
}

func testOperationalValue(t *testing.T, b backend) {
	db := b.open(t, Options{})
	s := NewEOLService(db)
	id := lcDevice(t, db, "cam")
	a, err := s.SetOperationalValue(lcCtx, id, "HIGH", " the only camera on the door ")
	if err != nil || a.Value != firmward.ValueHigh || a.Note != "the only camera on the door" || a.UpdatedBy != "token:5(owner)" {
		t.Fatalf("set: %+v, %v", a, err)
	}
	if _, err := s.SetOperationalValue(lcCtx, id, firmward.ValueLow, ""); err != nil {
		t.Fatal(err)
	}
	ev := lastEvent(t, db)
	if ev.Action != firmward.ActionOperationalValue || ev.Changes[0].Old != "high" || ev.Changes[0].New != "low" {
		t.Errorf("event %+v", ev)
	}
	vals, err := s.FindOperationalValues(lcCtx)
	if err != nil || len(vals) != 1 || vals[id].Value != firmward.ValueLow {
		t.Fatalf("values %+v, %v", vals, err)
	}
	_, err = s.SetOperationalValue(lcCtx, id, "precious", "")
	wantCode(t, err, firmward.EINVALID)
	_, err = s.SetOperationalValue(lcCtx, 9999, firmward.ValueLow, "")
	wantCode(t, err, firmward.ENOTFOUND)
	// Deleting the device removes its answer.
	if err := NewDeviceService(db).DeleteDevice(lcCtx, id); err != nil {
		t.Fatal(err)
	}
	if count(t, db, "device_values") != 0 {
		t.Error("the answer outlived its device")
	}
	verifyOK(t, db)
}

func testCadences(t *testing.T, b backend) {
	db := b.open(t, Options{})
	s := NewCheckService(db)
	for _, c := range []firmward.CheckCadence{
		{Category: firmward.CategorySensor, Months: 6},
		{Site: "Campus", Category: firmward.CategoryCamera, Months: 2},
		{Site: "campus", Category: firmward.CategoryCamera, Months: 3}, // same rule, other spelling
	} {
		if err := s.SetCheckCadence(lcCtx, c); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.FindCheckCadences(lcCtx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list %+v, %v", list, err)
	}
	if list[0].Site != "" || list[0].Months != 6 || list[1].Site != "campus" || list[1].Months != 3 {
		t.Errorf("list %+v", list)
	}
	if ev := lastEvent(t, db); ev.Action != firmward.ActionCheckCadence || ev.ObjectID != "campus/camera" || ev.Changes[0].Old != "2" || ev.Changes[0].New != "3" {
		t.Errorf("event %+v", ev)
	}
	wantCode(t, s.SetCheckCadence(lcCtx, firmward.CheckCadence{Category: "toaster", Months: 0}), firmward.EINVALID)
	wantCode(t, s.DeleteCheckCadence(lcCtx, "nowhere", ""), firmward.ENOTFOUND)
	if err := s.DeleteCheckCadence(lcCtx, "CAMPUS", firmward.CategoryCamera); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.FindCheckCadences(lcCtx); len(list) != 1 {
		t.Errorf("after delete: %+v", list)
	}
	verifyOK(t, db)
}

func testHealthChecks(t *testing.T, b backend) {
	c := newClock()
	db := b.open(t, Options{Now: c.Now})
	s := NewCheckService(db)
	id := lcDevice(t, db, "cam")
	other := lcDevice(t, db, "cam 2")

	partial := &firmward.HealthCheck{DeviceID: id, AdminFound: "yes", DefaultPassword: "no"}
	if err := s.RecordHealthCheck(lcCtx, partial); err != nil {
		t.Fatal(err)
	}
	if partial.Complete || partial.AutoUpdate != firmward.AnswerUnknown || partial.Source != firmward.CheckByPerson {
		t.Errorf("partial: %+v", partial)
	}
	c.Add(time.Minute)
	full := &firmward.HealthCheck{DeviceID: id, FirmwareVersion: "1.2.3", AutoUpdate: "yes", DefaultPassword: "yes", AdminFound: "yes", Note: "all good"}
	if err := s.RecordHealthCheck(lcCtx, full); err != nil {
		t.Fatal(err)
	}
	if !full.Complete || full.Actor != "token:5(owner)" {
		t.Errorf("full: %+v", full)
	}
	ev := lastEvent(t, db)
	if ev.Action != firmward.ActionHealthCheck || ev.ObjectID != strconv.FormatInt(id, 10) ||
		!slices.Equal(fieldNames(ev.Changes), []string{"source", "admin_found", "auto_update", "default_password_changed", "firmware_version", "complete", "note"}) {
		t.Errorf("event %+v", ev)
	}
	c.Add(time.Minute)
	scan := &firmward.HealthCheck{DeviceID: other, Source: "scan", FirmwareVersion: "9.0", AutoUpdate: "not-available"}
	if err := s.RecordHealthCheck(lcCtx, scan); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastHealthChecks(lcCtx)
	if err != nil || len(last) != 2 || last[id].ID != full.ID || last[other].Source != firmward.CheckByScan || !last[id].Time.Equal(full.Time) {
		t.Fatalf("last %+v, %v", last, err)
	}
	hist, err := s.FindHealthChecks(lcCtx, id)
	if err != nil || len(hist) != 2 || hist[0].ID != full.ID || hist[1].ID != partial.ID || *hist[0] != *full {
		t.Fatalf("history %+v, %v", hist, err)
	}
	wantCode(t, s.RecordHealthCheck(lcCtx, &firmward.HealthCheck{DeviceID: 999}), firmward.ENOTFOUND)
	wantCode(t, s.RecordHealthCheck(lcCtx, &firmward.HealthCheck{DeviceID: id, AutoUpdate: "maybe"}), firmward.EINVALID)
	verifyOK(t, db)
}
