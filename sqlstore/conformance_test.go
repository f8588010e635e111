package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestConformance runs the same suite against SQLite and PostgreSQL.
func TestConformance(t *testing.T) {
	forEachBackend(t, runConformance)
}

// runConformance checks that the store behaves as the firmward service
// interfaces say, on one backend.
func runConformance(t *testing.T, b backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b backend)
	}{
		{"DeviceRoundTrip", testDeviceRoundTrip},
		{"DeviceNormalize", testDeviceNormalize},
		{"DeviceInvalid", testDeviceInvalid},
		{"DeviceUpdate", testDeviceUpdate},
		{"DeviceUpdateNoop", testDeviceUpdateNoop},
		{"DeviceDelete", testDeviceDelete},
		{"MACConflict", testMACConflict},
		{"Filters", testFilters},
		{"FilterInvalid", testFilterInvalid},
		{"Stats", testStats},
		{"Import", testImport},
		{"ImportRefused", testImportRefused},
		{"ImportDryRun", testImportDryRun},
		{"Tokens", testTokens},
		{"TokenValidation", testTokenValidation},
		{"TokenLastUsed", testTokenLastUsed},
		{"Sessions", testSessions},
		{"AuditFind", testAuditFind},
		{"AuditRecord", testAuditRecord},
		{"AuditTamper", testAuditTamper},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentImports", testConcurrentImports},
		{"MACRace", testMACRace},
		{"Migrations", testMigrations},
		{"ConcurrentOpen", testConcurrentOpen},
		{"SchemaGolden", testSchemaGolden},
		{"Canceled", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, b)
		})
	}
}

// fullDevice has every field set, spelled as a person might type it.
func fullDevice() *firmward.Device {
	first := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
	last := first.Add(48 * time.Hour)
	return &firmward.Device{
		Name:            "  Front door camera ",
		Manufacturer:    "Axis",
		Model:           "M3106-L Mk II",
		HardwareVersion: "rev B",
		FirmwareVersion: "10.12.182",
		Serial:          "ACCC8E123456",
		Category:        "Camera",
		Criticality:     "HIGH",
		Exposure:        "internet_facing",
		UpdateMechanism: "web_admin",
		AutoUpdate:      "No",
		MACs:            []string{"AC-CC-8E-12-34-56", "accc.8e12.3457"},
		IPs:             []string{"192.168.1.20", "::ffff:10.0.0.7", "2001:DB8::1"},
		Site:            "Head Office",
		Location:        "Entrance, 1st floor",
		Owner:           "Facilities",
		Segment:         "cctv",
		CPE:             "cpe:2.3:h:axis:m3106-l_mk_ii:-:*:*:*:*:*:*:*",
		EOLDate:         "2027-12-31",
		PurchaseDate:    "2021-06-01",
		ReplacementCost: 349.95,
		Notes:           "Mounted outside; \"special\" 50% chars_here\nsecond line ünïcödé",
		Tags:            []string{"Outdoor", "cctv", "outdoor"},
		Source:          "scan",
		FirstSeen:       &first,
		LastSeen:        &last,
	}
}

func testDeviceRoundTrip(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 7, Name: "alice", Role: firmward.RoleOperator})
	svc := NewDeviceService(db)

	d := fullDevice()
	if err := svc.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.ID <= 0 {
		t.Fatalf("ID = %d", d.ID)
	}
	now := clk.Now().UTC().Truncate(time.Microsecond)
	if !d.CreatedAt.Equal(now) || !d.UpdatedAt.Equal(now) || d.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v UTC", d.CreatedAt, d.UpdatedAt, now)
	}
	got, err := svc.FindDeviceByID(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, d)
	}
	// Every field survives, including the optional times at microsecond
	// precision, in UTC.
	if got.FirstSeen == nil || got.FirstSeen.Nanosecond() != 123456000 || got.FirstSeen.Location() != time.UTC {
		t.Errorf("FirstSeen = %v", got.FirstSeen)
	}
	if got.Source != firmward.SourceScan || got.ReplacementCost != 349.95 {
		t.Errorf("Source, ReplacementCost = %q, %v", got.Source, got.ReplacementCost)
	}

	// A device with nothing optional set.
	bare := &firmward.Device{Name: "plug"}
	if err := svc.CreateDevice(ctx, bare); err != nil {
		t.Fatal(err)
	}
	got, err = svc.FindDeviceByID(ctx, bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, bare) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, bare)
	}
	if got.Source != firmward.SourceManual || got.FirstSeen != nil || got.MACs != nil || got.Tags != nil {
		t.Errorf("defaults: %+v", got)
	}
	if bare.ID <= d.ID {
		t.Errorf("IDs not increasing: %d then %d", d.ID, bare.ID)
	}

	_, err = svc.FindDeviceByID(ctx, 999999)
	wantCode(t, err, firmward.ENOTFOUND)

	// Creation is audited with every non-empty field and the actor.
	evs := auditEvents(t, db)
	if len(evs) != 2 {
		t.Fatalf("%d audit events, want 2", len(evs))
	}
	e := evs[0]
	if e.Action != firmward.ActionDeviceCreate || e.ObjectType != "device" || e.ObjectID != strconv.FormatInt(d.ID, 10) ||
		e.Actor != "token:7(alice)" || !e.Time.Equal(now) {
		t.Errorf("event = %+v", e)
	}
	if !reflect.DeepEqual(e.Changes, firmward.DiffDevices(nil, d)) {
		t.Errorf("changes = %v, want %v", e.Changes, firmward.DiffDevices(nil, d))
	}
	verifyOK(t, db)
}

func testDeviceNormalize(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	d := fullDevice()
	if err := svc.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := svc.FindDeviceByID(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]any{
		"name":        {got.Name, "Front door camera"},
		"category":    {got.Category, firmward.CategoryCamera},
		"criticality": {got.Criticality, firmward.CriticalityHigh},
		"exposure":    {got.Exposure, firmward.ExposureInternetFacing},
		"mechanism":   {got.UpdateMechanism, firmward.UpdateWebAdmin},
		"auto_update": {got.AutoUpdate, firmward.AutoUpdateNo},
		"macs":        {got.MACs, []string{"ac:cc:8e:12:34:56", "ac:cc:8e:12:34:57"}},
		"ips":         {got.IPs, []string{"192.168.1.20", "10.0.0.7", "2001:db8::1"}},
		"tags":        {got.Tags, []string{"outdoor", "cctv"}},
	}
	for name, w := range want {
		if !reflect.DeepEqual(w[0], w[1]) {
			t.Errorf("%s = %#v, want %#v", name, w[0], w[1])
		}
	}
	plain := &firmward.Device{Name: "x"}
	if err := svc.CreateDevice(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if plain.Category != firmward.CategoryOther || plain.Criticality != firmward.CriticalityMedium ||
		plain.Exposure != firmward.ExposureInternal || plain.AutoUpdate != firmward.AutoUpdateUnknown || plain.UpdateMechanism != "" {
		t.Errorf("defaults = %+v", plain)
	}
}

func testDeviceInvalid(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	d := &firmward.Device{Name: " ", Category: "toaster", MACs: []string{"nope"}}
	err := svc.CreateDevice(ctx, d)
	wantCode(t, err, firmward.EINVALID)
	var fields []string
	for _, det := range firmward.ErrorDetails(err) {
		fields = append(fields, det.Field)
	}
	slices.Sort(fields)
	if !reflect.DeepEqual(fields, []string{"category", "macs", "name"}) {
		t.Errorf("detail fields = %v", fields)
	}
	if n := count(t, db, "devices"); n != 0 {
		t.Errorf("%d devices stored", n)
	}
	if n := count(t, db, "audit_events"); n != 0 {
		t.Errorf("%d audit events", n)
	}
}

func testDeviceUpdate(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 3, Name: "bob"})
	svc := NewDeviceService(db)
	d := fullDevice()
	if err := svc.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	seen := time.Date(2025, 1, 1, 0, 0, 0, 999, time.UTC)
	u := firmward.DeviceUpdate{
		FirmwareVersion: ptr("10.12.200"),
		Criticality:     ptr(firmward.Criticality("safety-critical")),
		MACs:            ptr([]string{"ac:cc:8e:12:34:56", "00:11:22:33:44:55"}),
		IPs:             ptr([]string{}),
		Tags:            ptr([]string{"CCTV", "patched"}),
		Site:            ptr("Branch"),
		LastSeen:        &seen,
		Notes:           ptr(""),
	}
	got, err := svc.UpdateDevice(ctx, d.ID, u)
	if err != nil {
		t.Fatal(err)
	}
	want := *d
	want.FirmwareVersion = "10.12.200"
	want.Criticality = firmward.CriticalitySafetyCritical
	want.MACs = []string{"ac:cc:8e:12:34:56", "00:11:22:33:44:55"}
	want.IPs = nil
	want.Tags = []string{"cctv", "patched"}
	want.Site = "Branch"
	want.LastSeen = ptr(seen.Truncate(time.Microsecond))
	want.Notes = ""
	want.UpdatedAt = clk.Now().UTC().Truncate(time.Microsecond)
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("UpdateDevice =\n %+v\nwant\n %+v", got, &want)
	}
	stored, err := svc.FindDeviceByID(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, &want) {
		t.Errorf("stored =\n %+v\nwant\n %+v", stored, &want)
	}
	// Side tables follow: the dropped MAC is free, the new one taken.
	free := &firmward.Device{Name: "other", MACs: []string{"ac:cc:8e:12:34:57"}}
	if err := svc.CreateDevice(ctx, free); err != nil {
		t.Errorf("dropped MAC still taken: %v", err)
	}
	list, _, err := svc.FindDevices(ctx, firmward.DeviceFilter{Tag: "patched"})
	if err != nil || len(list) != 1 || list[0].ID != d.ID {
		t.Errorf("tag filter after update = %v, %v", list, err)
	}
	list, _, err = svc.FindDevices(ctx, firmward.DeviceFilter{Tag: "outdoor"})
	if err != nil || len(list) != 0 {
		t.Errorf("old tag still found: %v, %v", list, err)
	}

	evs := auditEvents(t, db)
	last := evs[len(evs)-2] // before the creation of "other"
	if last.Action != firmward.ActionDeviceUpdate || last.Actor != "token:3(bob)" || last.ObjectID != strconv.FormatInt(d.ID, 10) {
		t.Errorf("event = %+v", last)
	}
	wantFields := []string{"firmware_version", "criticality", "macs", "ips", "site", "notes", "tags", "last_seen"}
	if !reflect.DeepEqual(fieldNames(last.Changes), wantFields) {
		t.Errorf("changed fields = %v, want %v", fieldNames(last.Changes), wantFields)
	}
	if !reflect.DeepEqual(last.Changes, firmward.DiffDevices(d, &want)) {
		t.Errorf("changes = %v", last.Changes)
	}

	// Invalid updates change nothing.
	_, err = svc.UpdateDevice(ctx, d.ID, firmward.DeviceUpdate{Name: ptr(""), EOLDate: ptr("soon")})
	wantCode(t, err, firmward.EINVALID)
	if len(firmward.ErrorDetails(err)) != 2 {
		t.Errorf("details = %v", firmward.ErrorDetails(err))
	}
	_, err = svc.UpdateDevice(ctx, 424242, firmward.DeviceUpdate{Name: ptr("x")})
	wantCode(t, err, firmward.ENOTFOUND)
	again, _ := svc.FindDeviceByID(ctx, d.ID)
	if !reflect.DeepEqual(again, &want) {
		t.Errorf("refused update changed the device")
	}
	verifyOK(t, db)
}

func testDeviceUpdateNoop(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ctx := context.Background()
	svc := NewDeviceService(db)
	d := fullDevice()
	if err := svc.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	for name, u := range map[string]firmward.DeviceUpdate{
		"empty":      {},
		"same":       {Name: ptr("Front door camera"), Tags: ptr([]string{"outdoor", "cctv"})},
		"normalised": {Category: ptr(firmward.Category("CAMERA")), MACs: ptr([]string{"AC:CC:8E:12:34:56", "ac-cc-8e-12-34-57"})},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := svc.UpdateDevice(ctx, d.ID, u)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Errorf("no-op update returned\n %+v\nwant\n %+v", got, d)
			}
		})
	}
	if n := count(t, db, "audit_events"); n != 1 {
		t.Errorf("%d audit events after no-op updates, want 1", n)
	}
	got, _ := svc.FindDeviceByID(ctx, d.ID)
	if !got.UpdatedAt.Equal(d.UpdatedAt) {
		t.Errorf("UpdatedAt moved on a no-op update")
	}
}

func testDeviceDelete(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	d := fullDevice()
	if err := svc.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteDevice(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	_, err := svc.FindDeviceByID(ctx, d.ID)
	wantCode(t, err, firmward.ENOTFOUND)
	wantCode(t, svc.DeleteDevice(ctx, d.ID), firmward.ENOTFOUND)
	for _, table := range []string{"devices", "device_macs", "device_ips", "device_tags"} {
		if n := count(t, db, table); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
	evs := auditEvents(t, db)
	if len(evs) != 2 || evs[1].Action != firmward.ActionDeviceDelete || !reflect.DeepEqual(evs[1].Changes, firmward.DiffDevices(d, nil)) {
		t.Errorf("events = %+v", evs)
	}
	// The MACs are free again, and IDs are not reused.
	again := fullDevice()
	if err := svc.CreateDevice(ctx, again); err != nil {
		t.Fatal(err)
	}
	if again.ID == d.ID {
		t.Errorf("ID %d reused", d.ID)
	}
	verifyOK(t, db)
}

func testMACConflict(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	owner := &firmward.Device{Name: "Hall camera", MACs: []string{"aa:bb:cc:dd:ee:01"}}
	other := &firmward.Device{Name: "Thermostat", MACs: []string{"aa:bb:cc:dd:ee:02"}}
	for _, d := range []*firmward.Device{owner, other} {
		if err := svc.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() (int, int, int) {
		return count(t, db, "devices"), count(t, db, "device_macs"), count(t, db, "audit_events")
	}
	d0, m0, a0 := snapshot()

	checkConflict := func(t *testing.T, err error) {
		t.Helper()
		wantCode(t, err, firmward.ECONFLICT)
		msg := firmward.ErrorMessage(err)
		for _, want := range []string{"aa:bb:cc:dd:ee:01", strconv.FormatInt(owner.ID, 10), "Hall camera"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not name %q", msg, want)
			}
		}
	}
	t.Run("create", func(t *testing.T) {
		err := svc.CreateDevice(ctx, &firmward.Device{Name: "dup", MACs: []string{"AA-BB-CC-DD-EE-01"}})
		checkConflict(t, err)
	})
	t.Run("update", func(t *testing.T) {
		_, err := svc.UpdateDevice(ctx, other.ID, firmward.DeviceUpdate{MACs: ptr([]string{"aa:bb:cc:dd:ee:02", "aabbccddee01"})})
		checkConflict(t, err)
		got, _ := svc.FindDeviceByID(ctx, other.ID)
		if !reflect.DeepEqual(got, other) {
			t.Errorf("refused update changed the device")
		}
	})
	t.Run("update-own", func(t *testing.T) {
		// Keeping one's own MAC is no conflict.
		if _, err := svc.UpdateDevice(ctx, owner.ID, firmward.DeviceUpdate{MACs: ptr([]string{"aa:bb:cc:dd:ee:01"}), Name: ptr("Hall camera")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("import-db", func(t *testing.T) {
		_, err := svc.ImportDevices(ctx, []firmward.ImportRow{
			{Line: 2, Device: firmward.Device{Name: "fine", MACs: []string{"aa:bb:cc:dd:ee:99"}}},
			{Line: 3, Device: firmward.Device{Name: "dup", MACs: []string{"aa:bb:cc:dd:ee:01"}}},
		}, firmward.ImportOptions{})
		wantCode(t, err, firmward.EINVALID)
		dets := firmward.ErrorDetails(err)
		if len(dets) != 1 || dets[0].Line != 3 || dets[0].Value != "aa:bb:cc:dd:ee:01" ||
			!strings.Contains(dets[0].Reason, strconv.FormatInt(owner.ID, 10)) || !strings.Contains(dets[0].Reason, "Hall camera") {
			t.Errorf("details = %+v", dets)
		}
	})
	t.Run("import-file", func(t *testing.T) {
		_, err := svc.ImportDevices(ctx, []firmward.ImportRow{
			{Line: 2, Device: firmward.Device{Name: "a", MACs: []string{"aa:bb:cc:dd:ee:98"}}},
			{Line: 5, Device: firmward.Device{Name: "b", MACs: []string{"AA:BB:CC:DD:EE:98"}}},
		}, firmward.ImportOptions{})
		wantCode(t, err, firmward.EINVALID)
		dets := firmward.ErrorDetails(err)
		if len(dets) != 1 || dets[0].Line != 5 || !strings.Contains(dets[0].Reason, "line 2") {
			t.Errorf("details = %+v", dets)
		}
	})
	if d, m, a := snapshot(); d != d0 || m != m0 || a != a0 {
		t.Errorf("refused changes left devices/macs/events %d/%d/%d, want %d/%d/%d", d, m, a, d0, m0, a0)
	}
	verifyOK(t, db)
}

// filterDevices builds a varied inventory for the filter tests.
func filterDevices() []*firmward.Device {
	var out []*firmward.Device
	mechs := append([]firmward.UpdateMechanism{""}, firmward.UpdateMechanisms...)
	for i := range 73 {
		d := &firmward.Device{
			Name:            fmt.Sprintf("device %02d", i),
			Manufacturer:    []string{"Axis", "AXIS", "Philips", "Ubiquiti", "Äcme"}[i%5],
			Model:           fmt.Sprintf("M-%d", i%7),
			Serial:          fmt.Sprintf("SN%05d", i*37),
			Category:        firmward.Categories[i%len(firmward.Categories)],
			Criticality:     firmward.Criticalities[i%len(firmward.Criticalities)],
			Exposure:        firmward.Exposures[i%len(firmward.Exposures)],
			UpdateMechanism: mechs[i%len(mechs)],
			Site:            []string{"HQ", "hq", "Lab", "Ünterwald"}[i%4],
			Location:        fmt.Sprintf("Room %d", i%11),
			Owner:           []string{"ops", "IT", "Facilities"}[i%3],
			MACs:            []string{fmt.Sprintf("02:00:00:00:%02x:%02x", i/256, i%256)},
			IPs:             []string{fmt.Sprintf("10.1.%d.%d", i/200, i%200+1)},
		}
		if i%4 != 0 {
			d.FirmwareVersion = fmt.Sprintf("1.%d", i)
		}
		if i%3 == 0 {
			d.Tags = append(d.Tags, "pci")
		}
		if i%5 == 0 {
			d.Tags = append(d.Tags, "outdoor")
		}
		if i == 42 {
			d.Notes = "Replaced 100%_fan last spring"
		}
		out = append(out, d)
	}
	return out
}

// matches is the reference implementation of DeviceFilter.
func matches(f firmward.DeviceFilter, d *firmward.Device) bool {
	eqFold := func(a, b string) bool { return strings.ToLower(a) == strings.ToLower(b) } //nolint:staticcheck // the store lower-cases; EqualFold folds differently
	switch {
	case f.Category != "" && d.Category != f.Category,
		f.Criticality != "" && d.Criticality != f.Criticality,
		f.Exposure != "" && d.Exposure != f.Exposure,
		f.UpdateMechanism != "" && d.UpdateMechanism != f.UpdateMechanism,
		f.Manufacturer != "" && !eqFold(d.Manufacturer, f.Manufacturer),
		f.Site != "" && !eqFold(d.Site, f.Site),
		f.Tag != "" && !slices.Contains(d.Tags, strings.ToLower(f.Tag)),
		f.Missing == "firmware_version" && d.FirmwareVersion != "",
		f.Missing == "update_mechanism" && d.UpdateMechanism != "":
		return false
	}
	if f.Query != "" {
		q := strings.ToLower(f.Query)
		for _, s := range []string{
			d.Name, d.Manufacturer, d.Model, d.Serial, d.Location, d.Owner, d.Notes,
			strings.Join(d.MACs, " "), strings.Join(d.IPs, " "),
		} {
			if strings.Contains(strings.ToLower(s), q) {
				return true
			}
		}
		return false
	}
	return true
}

func testFilters(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	all := filterDevices()
	for _, d := range all[:40] {
		if err := svc.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var rows []firmward.ImportRow
	for i, d := range all[40:] {
		rows = append(rows, firmward.ImportRow{Line: i + 2, Device: *d})
	}
	if _, err := svc.ImportDevices(ctx, rows, firmward.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		all[40+i] = &rows[i].Device
	}

	tests := []struct {
		name string
		f    firmward.DeviceFilter
	}{
		{"all", firmward.DeviceFilter{}},
		{"category", firmward.DeviceFilter{Category: firmward.CategoryCamera}},
		{"criticality", firmward.DeviceFilter{Criticality: firmward.CriticalitySafetyCritical}},
		{"exposure", firmward.DeviceFilter{Exposure: firmward.ExposureInternetFacing}},
		{"mechanism", firmward.DeviceFilter{UpdateMechanism: firmward.UpdateDDI}},
		{"manufacturer-fold", firmward.DeviceFilter{Manufacturer: "axis"}},
		{"manufacturer-unicode", firmward.DeviceFilter{Manufacturer: "äCME"}},
		{"site", firmward.DeviceFilter{Site: "HQ"}},
		{"site-unicode", firmward.DeviceFilter{Site: "ünterwald"}},
		{"tag", firmward.DeviceFilter{Tag: "pci"}},
		{"tag-upper", firmward.DeviceFilter{Tag: "OUTDOOR"}},
		{"tag-unused", firmward.DeviceFilter{Tag: "nothing"}},
		{"missing-firmware", firmward.DeviceFilter{Missing: "firmware_version"}},
		{"missing-mechanism", firmward.DeviceFilter{Missing: "update_mechanism"}},
		{"query-name", firmward.DeviceFilter{Query: "DEVICE 1"}},
		{"query-owner", firmward.DeviceFilter{Query: "facil"}},
		{"query-mac", firmward.DeviceFilter{Query: "00:00:2a"}},
		{"query-ip", firmward.DeviceFilter{Query: "10.1.0.43"}},
		{"query-wildcards", firmward.DeviceFilter{Query: "100%_"}},
		{"query-percent-only", firmward.DeviceFilter{Query: "%"}},
		{"query-underscore", firmward.DeviceFilter{Query: "_"}},
		{"query-serial", firmward.DeviceFilter{Query: "sn0011"}},
		{"combined", firmward.DeviceFilter{Tag: "pci", Criticality: firmward.CriticalityLow, Site: "hq"}},
		{"crit-exposure", firmward.DeviceFilter{Criticality: firmward.CriticalityHigh, Exposure: firmward.ExposureSegmented}},
		{"tag-query", firmward.DeviceFilter{Tag: "outdoor", Query: "room 5"}},
		{"none", firmward.DeviceFilter{Category: firmward.CategoryMedical, Tag: "outdoor", Site: "nowhere"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []int64
			for _, d := range all {
				if matches(tc.f, d) {
					want = append(want, d.ID)
				}
			}
			for _, limit := range []int{0, 1, 7, 1000} {
				f := tc.f
				f.Limit = limit
				var got []int64
				for page := 0; ; page++ {
					list, next, err := svc.FindDevices(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					pageMax := limit
					if limit == 0 {
						pageMax = firmward.DefaultPageSize
					}
					if len(list) > pageMax {
						t.Fatalf("page of %d devices, limit %d", len(list), limit)
					}
					for _, d := range list {
						got = append(got, d.ID)
					}
					if next == 0 {
						break
					}
					if next != list[len(list)-1].ID {
						t.Fatalf("next = %d, last ID %d", next, list[len(list)-1].ID)
					}
					if page > len(all) {
						t.Fatal("pagination does not end")
					}
					f.After = next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("limit %d: got IDs %v\nwant %v", limit, got, want)
				}
			}
		})
	}
	// A full page and nothing after it: the cursor ends at 0.
	list, next, err := svc.FindDevices(ctx, firmward.DeviceFilter{Limit: len(all)})
	if err != nil || len(list) != len(all) || next != 0 {
		t.Errorf("exact page: %d devices, next %d, err %v", len(list), next, err)
	}
	// The listed devices are complete.
	list, _, err = svc.FindDevices(ctx, firmward.DeviceFilter{Query: "device 42"})
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], all[42]) {
		t.Errorf("listed device differs: %+v, %v", list, err)
	}
	// The page size is capped.
	if _, err := svc.ImportDevices(ctx, bulkRows(1100, 1000), firmward.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	list, next, err = svc.FindDevices(ctx, firmward.DeviceFilter{Limit: 5000})
	if err != nil || len(list) != firmward.MaxPageSize || next == 0 {
		t.Errorf("limit 5000: %d devices, next %d, err %v", len(list), next, err)
	}
}

func testFilterInvalid(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewDeviceService(db)
	for name, f := range map[string]firmward.DeviceFilter{
		"missing":     {Missing: "serial"},
		"category":    {Category: "toaster"},
		"criticality": {Criticality: "extreme"},
		"exposure":    {Exposure: "everywhere"},
		"mechanism":   {UpdateMechanism: "magic"},
		"tag":         {Tag: "two words"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := svc.FindDevices(context.Background(), f)
			wantCode(t, err, firmward.EINVALID)
		})
	}
	// Enum values are accepted in any spelling Normalize accepts.
	if _, _, err := svc.FindDevices(context.Background(), firmward.DeviceFilter{Exposure: "Internet_Facing", Missing: " Firmware_Version "}); err != nil {
		t.Error(err)
	}
}

func testStats(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	st, err := svc.DeviceStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 0 || st.ByCategory["camera"] != 0 || len(st.ByCategory) != len(firmward.Categories) ||
		len(st.ByUpdateMechanism) != len(firmward.UpdateMechanisms)+1 {
		t.Errorf("empty stats = %+v", st)
	}
	check := func(t *testing.T) {
		t.Helper()
		got, err := svc.DeviceStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := statsOf(t, svc); !reflect.DeepEqual(got, want) {
			t.Errorf("stats =\n %+v\nwant\n %+v", got, want)
		}
	}
	all := filterDevices()
	for _, d := range all {
		if err := svc.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	check(t)
	// Updates move devices between counts; no-op and refused ones do not.
	for _, d := range all[:10] {
		u := firmward.DeviceUpdate{Category: ptr(firmward.CategoryMedical), FirmwareVersion: ptr(""), UpdateMechanism: ptr(firmward.UpdateAgent)}
		if _, err := svc.UpdateDevice(ctx, d.ID, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.UpdateDevice(ctx, all[11].ID, firmward.DeviceUpdate{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateDevice(ctx, all[12].ID, firmward.DeviceUpdate{Category: ptr(firmward.Category("bad"))}); err == nil {
		t.Fatal("bad update accepted")
	}
	check(t)
	for _, d := range all[20:30] {
		if err := svc.DeleteDevice(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	check(t)
	if _, err := svc.ImportDevices(ctx, bulkRows(300, 5000), firmward.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportDevices(ctx, bulkRows(30, 9000), firmward.ImportOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	check(t)
}

// statsOf computes DeviceStats from a listing of every device.
func statsOf(t *testing.T, svc *DeviceService) *firmward.DeviceStats {
	t.Helper()
	st := firmward.NewDeviceStats()
	f := firmward.DeviceFilter{Limit: firmward.MaxPageSize}
	for {
		list, next, err := svc.FindDevices(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			st.Total++
			st.ByCategory[string(d.Category)]++
			st.ByCriticality[string(d.Criticality)]++
			st.ByExposure[string(d.Exposure)]++
			m := string(d.UpdateMechanism)
			if m == "" {
				m = "unknown"
				st.MissingMechanism++
			}
			st.ByUpdateMechanism[m]++
			if d.FirmwareVersion == "" {
				st.MissingFirmware++
			}
		}
		if next == 0 {
			return st
		}
		f.After = next
	}
}

// bulkRows returns n valid import rows whose MACs start at number base.
func bulkRows(n, base int) []firmward.ImportRow {
	rows := make([]firmward.ImportRow, n)
	for i := range rows {
		k := base + i
		rows[i] = firmward.ImportRow{Line: i + 2, Device: firmward.Device{
			Name:            fmt.Sprintf("sensor %d", k),
			Manufacturer:    "Bosch",
			Model:           "BME680",
			FirmwareVersion: "2.1",
			Category:        firmward.CategorySensor,
			MACs:            []string{fmt.Sprintf("06:%02x:%02x:%02x:%02x:%02x", byte(k>>32), byte(k>>24), byte(k>>16), byte(k>>8), byte(k))},
			IPs:             []string{fmt.Sprintf("10.%d.%d.%d", byte(k>>16), byte(k>>8), byte(k))},
			Tags:            []string{"bulk"},
		}}
	}
	return rows
}

func testImport(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 1, Name: "importer"})
	svc := NewDeviceService(db)
	// More rows than one batch, to cross batch boundaries.
	rows := bulkRows(2345, 0)
	rows[7].Device.Source = "agent"
	res, err := svc.ImportDevices(ctx, rows, firmward.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != len(rows) || res.DryRun || len(res.IDs) != len(rows) {
		t.Fatalf("result = created %d, dry %v, %d IDs", res.Created, res.DryRun, len(res.IDs))
	}
	if !slices.IsSorted(res.IDs) {
		t.Errorf("IDs not in row order")
	}
	for _, i := range []int{0, 7, 1000, 2344} {
		got, err := svc.FindDeviceByID(ctx, res.IDs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &rows[i].Device) {
			t.Errorf("row %d stored as\n %+v\nwant\n %+v", i, got, &rows[i].Device)
		}
	}
	if rows[0].Device.Source != firmward.SourceImport || rows[7].Device.Source != firmward.SourceAgent {
		t.Errorf("sources = %q, %q", rows[0].Device.Source, rows[7].Device.Source)
	}
	for table, want := range map[string]int{"devices": 2345, "device_macs": 2345, "device_ips": 2345, "device_tags": 2345, "audit_events": 2345} {
		if n := count(t, db, table); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
	evs := auditEvents(t, db)
	for i, e := range evs {
		if e.Action != firmward.ActionDeviceImport || e.ObjectID != strconv.FormatInt(res.IDs[i], 10) || e.Actor != "token:1(importer)" {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	if !reflect.DeepEqual(evs[5].Changes, firmward.DiffDevices(nil, &rows[5].Device)) {
		t.Errorf("changes = %v", evs[5].Changes)
	}
	verifyOK(t, db)

	// Devices created afterwards get IDs after the imported ones.
	d := &firmward.Device{Name: "after"}
	if err := svc.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.ID <= res.IDs[len(res.IDs)-1] {
		t.Errorf("ID after import = %d, last imported %d", d.ID, res.IDs[len(res.IDs)-1])
	}
	// An empty import is fine.
	if res, err := svc.ImportDevices(ctx, nil, firmward.ImportOptions{}); err != nil || res.Created != 0 {
		t.Errorf("empty import: %+v, %v", res, err)
	}
}

func testImportRefused(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	taken := &firmward.Device{Name: "Router", MACs: []string{"00:00:5e:00:53:01"}}
	if err := svc.CreateDevice(ctx, taken); err != nil {
		t.Fatal(err)
	}
	rows := bulkRows(1500, 100)
	rows[3].Device.Name = ""                                            // line 5
	rows[10].Device.Category = "toaster"                                // line 12
	rows[10].Device.EOLDate = "never"                                   // line 12 again
	rows[20].Device.MACs = append(rows[20].Device.MACs, "00005E005301") // line 22: in the database
	rows[1200].Device.MACs = []string{rows[30].Device.MACs[0]}          // line 1202: duplicates line 32
	rows[1400].Device.IPs = []string{"300.1.1.1"}                       // line 1402
	rows[1401].Device.MACs = []string{"00:00:5e:00:53:01", "zz"}        // line 1403: bad and taken
	_, err := svc.ImportDevices(ctx, rows, firmward.ImportOptions{})
	wantCode(t, err, firmward.EINVALID)
	if msg := firmward.ErrorMessage(err); msg != "import refused: 6 rows have problems; nothing was imported" {
		t.Errorf("message = %q", msg)
	}
	type key struct {
		line  int
		field string
	}
	var got []key
	for _, d := range firmward.ErrorDetails(err) {
		got = append(got, key{d.Line, d.Field})
	}
	want := []key{{5, "name"}, {12, "category"}, {12, "eol_date"}, {22, "macs"}, {1202, "macs"}, {1402, "ips"}, {1403, "macs"}, {1403, "macs"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("details = %v\nwant %v\n(%v)", got, want, err)
	}
	for _, d := range firmward.ErrorDetails(err) {
		if d.Line == 1202 && !strings.Contains(d.Reason, "line 32") {
			t.Errorf("duplicate detail does not name line 32: %+v", d)
		}
		if d.Line == 22 && !strings.Contains(d.Reason, "Router") {
			t.Errorf("database detail does not name the device: %+v", d)
		}
	}
	if n := count(t, db, "devices"); n != 1 {
		t.Errorf("%d devices after a refused import", n)
	}
	if n := count(t, db, "audit_events"); n != 1 {
		t.Errorf("%d audit events after a refused import", n)
	}
	if n := count(t, db, "device_macs"); n != 1 {
		t.Errorf("%d MACs after a refused import", n)
	}
	if st, err := svc.DeviceStats(ctx); err != nil || st.Total != 1 {
		t.Errorf("stats after a refused import: %+v, %v", st, err)
	}
}

func testImportDryRun(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewDeviceService(db)
	rows := bulkRows(50, 0)
	res, err := svc.ImportDevices(ctx, rows, firmward.ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Created != 50 || res.IDs != nil {
		t.Errorf("dry run result = %+v", res)
	}
	if n := count(t, db, "devices"); n != 0 {
		t.Errorf("dry run stored %d devices", n)
	}
	if n := count(t, db, "audit_events"); n != 0 {
		t.Errorf("dry run recorded %d events", n)
	}
	// A dry run sees MACs taken in the database.
	if _, err := svc.ImportDevices(ctx, rows[:1], firmward.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.ImportDevices(ctx, bulkRows(50, 0), firmward.ImportOptions{DryRun: true})
	wantCode(t, err, firmward.EINVALID)
	if d := firmward.ErrorDetails(err); len(d) != 1 || d[0].Line != 2 {
		t.Errorf("details = %+v", d)
	}
	if n := count(t, db, "devices"); n != 1 {
		t.Errorf("%d devices, want 1", n)
	}
}

func testTokens(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	admin := firmward.Actor{Kind: "token", ID: 1, Name: "root", Role: firmward.RoleAdmin}
	ctx := firmward.WithActor(context.Background(), admin)
	svc := NewTokenService(db)

	tok, secret, err := svc.CreateToken(ctx, "  ci deploy ", "Operator")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, firmward.TokenSecretPrefix) || len(secret) != len(firmward.TokenSecretPrefix)+43 {
		t.Errorf("secret = %q", secret)
	}
	if tok.Name != "ci deploy" || tok.Role != firmward.RoleOperator || tok.Prefix != secret[:firmward.TokenPrefixLen] ||
		tok.CreatedBy != admin.String() || !tok.CreatedAt.Equal(clk.Now().Truncate(time.Microsecond)) || tok.ID <= 0 {
		t.Errorf("token = %+v", tok)
	}

	// Only the hash is stored: no column of any token row holds the secret.
	if !tokenTableHolds(t, db, secret) {
		t.Error("the secret's hash is not stored")
	}

	got, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tok.ID || got.LastUsedAt == nil {
		t.Errorf("Authenticate = %+v", got)
	}
	_, err = svc.Authenticate(ctx, secret+"x")
	wantCode(t, err, firmward.EUNAUTHORIZED)
	_, err = svc.Authenticate(ctx, "")
	wantCode(t, err, firmward.EUNAUTHORIZED)

	byID, err := svc.FindTokenByID(ctx, tok.ID)
	if err != nil || byID.Name != "ci deploy" || byID.LastUsedAt == nil {
		t.Errorf("FindTokenByID = %+v, %v", byID, err)
	}
	_, err = svc.FindTokenByID(ctx, 9999)
	wantCode(t, err, firmward.ENOTFOUND)

	tok2, _, err := svc.CreateToken(ctx, "viewer", firmward.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.CountTokens(ctx); err != nil || n != 2 {
		t.Errorf("CountTokens = %d, %v", n, err)
	}

	clk.Add(time.Second)
	if err := svc.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, secret)
	wantCode(t, err, firmward.EUNAUTHORIZED)
	wantCode(t, svc.RevokeToken(ctx, tok.ID), firmward.ECONFLICT)
	wantCode(t, svc.RevokeToken(ctx, 9999), firmward.ENOTFOUND)
	if n, err := svc.CountTokens(ctx); err != nil || n != 1 {
		t.Errorf("CountTokens = %d, %v", n, err)
	}
	list, err := svc.FindTokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != tok.ID || list[1].ID != tok2.ID || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
		t.Errorf("FindTokens = %+v, %v", list, err)
	}

	evs := auditEvents(t, db)
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
		if e.ObjectType != "token" || e.Actor != admin.String() {
			t.Errorf("event = %+v", e)
		}
		for _, c := range e.Changes {
			for _, s := range []string{c.Old, c.New} {
				if strings.Contains(s, secret[4:]) || strings.Contains(s, firmward.HashSecret(secret)) {
					t.Errorf("event %d holds the secret or its hash", e.Seq)
				}
			}
		}
	}
	if !reflect.DeepEqual(actions, []string{firmward.ActionTokenCreate, firmward.ActionTokenCreate, firmward.ActionTokenRevoke}) {
		t.Errorf("actions = %v", actions)
	}
	if !reflect.DeepEqual(fieldNames(evs[0].Changes), []string{"name", "role"}) || evs[0].ObjectID != strconv.FormatInt(tok.ID, 10) {
		t.Errorf("create event = %+v", evs[0])
	}
	verifyOK(t, db)
}

// tokenTableHolds reads every column of every token row and fails the test
// when one holds (the random part of) secret; it reports whether the hash
// of secret is stored.
func tokenTableHolds(t *testing.T, db *DB, secret string) (sawHash bool) {
	t.Helper()
	rows, err := db.SQL().Query("SELECT * FROM tokens")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			s := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				s = string(b)
			}
			if strings.Contains(s, secret[firmward.TokenPrefixLen:]) {
				t.Errorf("column %s holds the secret", cols[i])
			}
			if s == firmward.HashSecret(secret) {
				sawHash = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sawHash
}

func testTokenValidation(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewTokenService(db)
	tests := []struct {
		name, tokName string
		role          firmward.Role
		ok            bool
	}{
		{"ok", "n", firmward.RoleAdmin, true},
		{"max-name", strings.Repeat("é", MaxTokenNameLen), firmward.RoleViewer, true},
		{"empty-name", "  ", firmward.RoleViewer, false},
		{"long-name", strings.Repeat("x", MaxTokenNameLen+1), firmward.RoleViewer, false},
		{"bad-role", "n", "root", false},
		{"no-role", "n", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := svc.CreateToken(context.Background(), tc.tokName, tc.role)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, firmward.EINVALID)
		})
	}
}

func testTokenLastUsed(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ctx := context.Background()
	svc := NewTokenService(db)
	tok, secret, err := svc.CreateToken(ctx, "t", firmward.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	stored := func() time.Time {
		got, err := svc.FindTokenByID(ctx, tok.ID)
		if err != nil || got.LastUsedAt == nil {
			t.Fatalf("FindTokenByID = %+v, %v", got, err)
		}
		return *got.LastUsedAt
	}
	first := clk.Now().Truncate(time.Microsecond)
	if _, err := svc.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if !stored().Equal(first) {
		t.Errorf("last used = %v, want %v", stored(), first)
	}
	clk.Add(30 * time.Second)
	if _, err := svc.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if !stored().Equal(first) {
		t.Errorf("last used written again within a minute: %v", stored())
	}
	clk.Add(31 * time.Second)
	if _, err := svc.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Truncate(time.Microsecond); !stored().Equal(want) {
		t.Errorf("last used = %v, want %v", stored(), want)
	}
}

func testSessions(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ctx := context.Background()
	tokens := NewTokenService(db)
	svc := NewSessionService(db)
	tok, _, err := tokens.CreateToken(ctx, "web", firmward.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	events := count(t, db, "audit_events")

	sess, secret, err := svc.CreateSession(ctx, tok.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, SessionSecretPrefix) || sess.TokenID != tok.ID || !sess.ExpiresAt.Equal(sess.CreatedAt.Add(time.Hour)) {
		t.Errorf("session = %+v, secret %q", sess, secret)
	}
	var stored string
	if err := db.SQL().QueryRow("SELECT secret_hash FROM sessions").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != firmward.HashSecret(secret) {
		t.Errorf("stored %q, not the hash of the secret", stored)
	}
	gotSess, gotTok, err := svc.FindSession(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotSess, sess) || gotTok.ID != tok.ID || gotTok.Role != firmward.RoleOperator || gotTok.Name != "web" {
		t.Errorf("FindSession = %+v, %+v", gotSess, gotTok)
	}
	_, _, err = svc.FindSession(ctx, secret+"x")
	wantCode(t, err, firmward.EUNAUTHORIZED)

	t.Run("expiry", func(t *testing.T) {
		clk.Add(59 * time.Minute)
		if _, _, err := svc.FindSession(ctx, secret); err != nil {
			t.Errorf("session ended early: %v", err)
		}
		clk.Add(time.Minute)
		_, _, err := svc.FindSession(ctx, secret)
		wantCode(t, err, firmward.EUNAUTHORIZED)
		// Expired sessions are purged when the next one starts.
		if _, _, err := svc.CreateSession(ctx, tok.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "sessions"); n != 1 {
			t.Errorf("%d sessions, want 1", n)
		}
	})
	t.Run("delete", func(t *testing.T) {
		_, s2, err := svc.CreateSession(ctx, tok.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteSession(ctx, s2); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.FindSession(ctx, s2)
		wantCode(t, err, firmward.EUNAUTHORIZED)
		if err := svc.DeleteSession(ctx, "fws_unknown"); err != nil {
			t.Errorf("deleting an unknown session: %v", err)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		_, s3, err := svc.CreateSession(ctx, tok.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := tokens.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.FindSession(ctx, s3)
		wantCode(t, err, firmward.EUNAUTHORIZED)
		_, _, err = svc.CreateSession(ctx, tok.ID, time.Hour)
		wantCode(t, err, firmward.EUNAUTHORIZED)
	})
	t.Run("bad", func(t *testing.T) {
		_, _, err := svc.CreateSession(ctx, 9999, time.Hour)
		wantCode(t, err, firmward.ENOTFOUND)
		_, _, err = svc.CreateSession(ctx, tok.ID, 0)
		wantCode(t, err, firmward.EINVALID)
	})
	// Sessions are not audited here; only the token revocation is.
	if n := count(t, db, "audit_events"); n != events+1 {
		t.Errorf("%d audit events, want %d", n, events+1)
	}
}

func testAuditFind(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewDeviceService(db)
	audit := NewAuditService(db)
	alice := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 1, Name: "alice"})
	bob := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 2, Name: "bob"})
	var ids []int64
	for i := range 6 {
		ctx := alice
		if i%2 == 1 {
			ctx = bob
		}
		d := &firmward.Device{Name: fmt.Sprintf("d%d", i)}
		if err := svc.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if _, err := svc.UpdateDevice(bob, ids[0], firmward.DeviceUpdate{Owner: ptr("bob")}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteDevice(alice, ids[0]); err != nil {
		t.Fatal(err)
	}
	// 8 events: seq 1-6 creations, 7 update of ids[0] by bob, 8 deletion by alice.
	tests := []struct {
		name string
		f    firmward.AuditFilter
		want []int64
	}{
		{"all", firmward.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"newest", firmward.AuditFilter{Newest: true}, []int64{8, 7, 6, 5, 4, 3, 2, 1}},
		{"object", firmward.AuditFilter{ObjectType: "device", ObjectID: strconv.FormatInt(ids[0], 10)}, []int64{1, 7, 8}},
		{"action", firmward.AuditFilter{Action: firmward.ActionDeviceCreate}, []int64{1, 2, 3, 4, 5, 6}},
		{"actor", firmward.AuditFilter{Actor: "token:2(bob)"}, []int64{2, 4, 6, 7}},
		{"actor-newest", firmward.AuditFilter{Actor: "token:1(alice)", Newest: true}, []int64{8, 5, 3, 1}},
		{"type", firmward.AuditFilter{ObjectType: "token"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{0, 1, 3} {
				f := tc.f
				f.Limit = limit
				var got []int64
				for {
					evs, next, err := audit.FindAuditEvents(context.Background(), f)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range evs {
						got = append(got, e.Seq)
					}
					if next == 0 {
						break
					}
					f.After = next
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %d: seqs %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
}

func testAuditRecord(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	audit := NewAuditService(db)
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 4, Name: "carol"})
	verifyOK(t, db) // an empty chain is fine

	e := &firmward.AuditEvent{Action: firmward.ActionSessionStart, ObjectType: "token", ObjectID: "4"}
	if err := audit.RecordAudit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.PrevHash != firmward.GenesisHash || e.Hash == "" || e.Actor != "token:4(carol)" ||
		!e.Time.Equal(clk.Now().Truncate(time.Microsecond)) {
		t.Errorf("recorded = %+v", e)
	}
	at := time.Date(2020, 2, 2, 2, 2, 2, 2222, time.FixedZone("X", 7200))
	e2 := &firmward.AuditEvent{Time: at, Actor: "system(web)", Action: "custom", Changes: []firmward.FieldChange{{Field: "f", Old: "a\x00b", New: "<ü>"}}}
	if err := audit.RecordAudit(ctx, e2); err != nil {
		t.Fatal(err)
	}
	if e2.Seq != 2 || e2.PrevHash != e.Hash || !e2.Time.Equal(at.Truncate(time.Microsecond)) || e2.Actor != "system(web)" {
		t.Errorf("recorded = %+v", e2)
	}
	evs := auditEvents(t, db)
	if len(evs) != 2 || !reflect.DeepEqual(evs[0], e) || !reflect.DeepEqual(evs[1], e2) {
		t.Errorf("read back\n %+v\n %+v\nwant\n %+v\n %+v", evs[0], evs[1], e, e2)
	}
	wantCode(t, audit.RecordAudit(ctx, &firmward.AuditEvent{}), firmward.EINVALID)
	if rep := verifyOK(t, db); rep.Checked != 2 {
		t.Errorf("checked %d", rep.Checked)
	}
}

func testAuditTamper(t *testing.T, b backend) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *DB)
		broken int64
	}{
		{"edit-actor", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_events SET actor = 'token:9(mallory)' WHERE seq = 3")
		}, 3},
		{"edit-changes", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_events SET changes = '[]' WHERE seq = 4")
		}, 4},
		{"edit-changes-garbage", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_events SET changes = 'not json' WHERE seq = 2")
		}, 2},
		{"edit-time", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_events SET occurred_at = occurred_at + 1 WHERE seq = 5")
		}, 5},
		{"rehash", func(t *testing.T, db *DB) {
			// Editing a row and fixing its own hash still breaks the next link.
			var e firmward.AuditEvent
			evs := auditEvents(t, db)
			e = *evs[2]
			e.Actor = "token:9(mallory)"
			e.Hash = e.ComputeHash()
			exec(t, db, "UPDATE audit_events SET actor = ?, hash = ? WHERE seq = 3", e.Actor, e.Hash)
		}, 4},
		{"delete-middle", func(t *testing.T, db *DB) {
			exec(t, db, "DELETE FROM audit_events WHERE seq = 3")
		}, 4},
		{"delete-first", func(t *testing.T, db *DB) {
			exec(t, db, "DELETE FROM audit_events WHERE seq = 1")
		}, 2},
		{"delete-newest", func(t *testing.T, db *DB) {
			exec(t, db, "DELETE FROM audit_events WHERE seq = 6")
		}, 6},
		{"delete-two-newest", func(t *testing.T, db *DB) {
			exec(t, db, "DELETE FROM audit_events WHERE seq >= 5")
		}, 5},
		{"delete-all", func(t *testing.T, db *DB) {
			exec(t, db, "DELETE FROM audit_events")
		}, 1},
		{"swap-seq", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_events SET seq = -1 WHERE seq = 2")
			exec(t, db, "UPDATE audit_events SET seq = 2 WHERE seq = 4")
			exec(t, db, "UPDATE audit_events SET seq = 4 WHERE seq = -1")
		}, 2},
		{"swap-adjacent", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_events SET seq = -1 WHERE seq = 5")
			exec(t, db, "UPDATE audit_events SET seq = 5 WHERE seq = 6")
			exec(t, db, "UPDATE audit_events SET seq = 6 WHERE seq = -1")
		}, 5},
		{"head-rolled-back", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_head SET seq = 4")
		}, 5},
		{"head-hash", func(t *testing.T, db *DB) {
			exec(t, db, "UPDATE audit_head SET hash = ?", firmward.GenesisHash)
		}, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t, Options{})
			ctx := context.Background()
			svc := NewDeviceService(db)
			for i := range 4 {
				if err := svc.CreateDevice(ctx, &firmward.Device{Name: fmt.Sprintf("d%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := svc.UpdateDevice(ctx, 1, firmward.DeviceUpdate{Owner: ptr("x")}); err != nil {
				t.Fatal(err)
			}
			if err := svc.DeleteDevice(ctx, 2); err != nil {
				t.Fatal(err)
			}
			verifyOK(t, db)
			tc.tamper(t, db)
			rep, err := NewAuditService(db).VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BrokenSeq != tc.broken || rep.Reason == "" {
				t.Errorf("report = %+v, want broken at %d", rep, tc.broken)
			}
			t.Logf("%s: %s", tc.name, rep.Reason)
		})
	}
}

func testConcurrentCreates(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewDeviceService(db)
	const workers, each = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: int64(w), Name: fmt.Sprintf("w%d", w)})
			for i := range each {
				d := &firmward.Device{Name: fmt.Sprintf("w%d-%d", w, i), MACs: []string{fmt.Sprintf("0a:00:00:00:%02x:%02x", w, i)}}
				if err := svc.CreateDevice(ctx, d); err != nil {
					errs <- err
				}
				if i%4 == 0 {
					if _, err := svc.UpdateDevice(ctx, d.ID, firmward.DeviceUpdate{Notes: ptr("touched")}); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, db, "devices"); n != workers*each {
		t.Errorf("%d devices, want %d", n, workers*each)
	}
	rep := verifyOK(t, db)
	if want := int64(workers*each + workers*((each+3)/4)); rep.Checked != want {
		t.Errorf("checked %d events, want %d", rep.Checked, want)
	}
}

// testConcurrentImports runs imports next to single creates and updates:
// IDs stay unique (imports reserve theirs in one go), every import is
// whole, and the chain stays linear.
func testConcurrentImports(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewDeviceService(db)
	ctx := context.Background()
	const imports, rowsEach, creators, createsEach = 3, 700, 3, 10
	var wg sync.WaitGroup
	errs := make(chan error, imports+creators*createsEach*2)
	results := make([]*firmward.ImportResult, imports)
	for w := range imports {
		wg.Go(func() {
			res, err := svc.ImportDevices(ctx, bulkRows(rowsEach, 10_000*(w+1)), firmward.ImportOptions{})
			if err != nil {
				errs <- err
			}
			results[w] = res
		})
	}
	for w := range creators {
		wg.Go(func() {
			for i := range createsEach {
				d := &firmward.Device{Name: fmt.Sprintf("c%d-%d", w, i), MACs: []string{fmt.Sprintf("0c:00:00:00:%02x:%02x", w, i)}}
				if err := svc.CreateDevice(ctx, d); err != nil {
					errs <- err
					continue
				}
				if _, err := svc.UpdateDevice(ctx, d.ID, firmward.DeviceUpdate{Owner: ptr("x")}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	seen := map[int64]bool{}
	for _, r := range results {
		for _, id := range r.IDs {
			if seen[id] {
				t.Fatalf("ID %d given twice", id)
			}
			seen[id] = true
		}
	}
	want := imports*rowsEach + creators*createsEach
	if n := count(t, db, "devices"); n != want {
		t.Errorf("%d devices, want %d", n, want)
	}
	rep := verifyOK(t, db)
	if wantEvents := int64(imports*rowsEach + 2*creators*createsEach); rep.Checked != wantEvents {
		t.Errorf("checked %d events, want %d", rep.Checked, wantEvents)
	}
}

// testMACRace claims one MAC from several goroutines at once: exactly one
// create wins and the others get ECONFLICT naming the winner; of two
// imports sharing a MAC, one is refused with the row problem.
func testMACRace(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewDeviceService(db)
	ctx := context.Background()
	const racers = 6
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			errs[i] = svc.CreateDevice(ctx, &firmward.Device{Name: fmt.Sprintf("racer %d", i), MACs: []string{"0e:00:00:00:00:01"}})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch firmward.ErrorCode(err) {
		case "":
			won++
		case firmward.ECONFLICT:
			if !strings.Contains(firmward.ErrorMessage(err), "racer") && !strings.Contains(firmward.ErrorMessage(err), "concurrent") {
				t.Errorf("conflict message %q names no device", firmward.ErrorMessage(err))
			}
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates won the MAC, want 1", won)
	}

	results := make([]error, 2)
	for i := range results {
		wg.Go(func() {
			rows := bulkRows(300, 20_000*(i+1))
			rows[150].Device.MACs = []string{"0e:00:00:00:00:02"}
			_, results[i] = svc.ImportDevices(ctx, rows, firmward.ImportOptions{})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch firmward.ErrorCode(err) {
		case "":
			ok++
		case firmward.EINVALID:
			if d := firmward.ErrorDetails(err); len(d) != 1 || d[0].Line != 152 {
				t.Errorf("details = %+v", d)
			}
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d imports succeeded, want 1", ok)
	}
	if n := count(t, db, "devices"); n != 301 {
		t.Errorf("%d devices, want 301", n)
	}
	verifyOK(t, db)
}

func testMigrations(t *testing.T, b backend) {
	dsn := b.newDSN(t)
	clk := newClock()
	db := openDSN(t, dsn, Options{Now: clk.Now})
	ms, err := db.dialect.migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v, %v", ms, err)
	}
	applied := func(db *DB) map[int64]int64 {
		rows, err := db.SQL().Query("SELECT version, applied_at FROM schema_migrations")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		out := map[int64]int64{}
		for rows.Next() {
			var v, at int64
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			out[v] = at
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := applied(db)
	if len(first) != len(ms) {
		t.Fatalf("recorded %v, want %d migrations", first, len(ms))
	}
	for _, m := range ms {
		if first[int64(m.version)] != micros(clk.Now().Truncate(time.Microsecond)) {
			t.Errorf("migration %d applied_at = %d", m.version, first[int64(m.version)])
		}
	}
	if err := NewDeviceService(db).CreateDevice(context.Background(), &firmward.Device{Name: "kept"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Add(time.Hour)
	again := openDSN(t, dsn, Options{Now: clk.Now})
	if !reflect.DeepEqual(applied(again), first) {
		t.Errorf("re-open changed schema_migrations: %v, was %v", applied(again), first)
	}
	if n := count(t, again, "devices"); n != 1 {
		t.Errorf("%d devices after re-open", n)
	}
	if again.Dialect() != b.name {
		t.Errorf("Dialect() = %q", again.Dialect())
	}
	if err := again.Ping(context.Background()); err != nil {
		t.Error(err)
	}
}

func testConcurrentOpen(t *testing.T, b backend) {
	dsn := b.newDSN(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	dbs := make([]*DB, n)
	for i := range n {
		wg.Go(func() {
			dbs[i], errs[i] = Open(context.Background(), dsn, Options{})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		defer func() { _ = dbs[i].Close() }()
	}
	if t.Failed() {
		return
	}
	ms, _ := dbs[0].dialect.migrations()
	if got := count(t, dbs[0], "schema_migrations"); got != len(ms) {
		t.Errorf("%d migrations recorded, want %d", got, len(ms))
	}
	if got := count(t, dbs[0], "audit_head"); got != 1 {
		t.Errorf("%d audit heads", got)
	}
}

func testCanceled(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	svc := NewDeviceService(db)
	if err := svc.CreateDevice(ctx, &firmward.Device{Name: "x"}); err == nil {
		t.Error("CreateDevice with a canceled context succeeded")
	}
	if _, _, err := svc.FindDevices(ctx, firmward.DeviceFilter{}); err == nil {
		t.Error("FindDevices with a canceled context succeeded")
	}
	if _, err := svc.ImportDevices(ctx, bulkRows(3, 0), firmward.ImportOptions{}); err == nil {
		t.Error("ImportDevices with a canceled context succeeded")
	}
	if n := count(t, db, "devices"); n != 0 {
		t.Errorf("%d devices stored", n)
	}
}
