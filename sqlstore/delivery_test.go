package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestDeliveryConformance checks the release catalog, actions, device
// credentials and attributes on both databases.
func TestDeliveryConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			fn   func(t *testing.T, b backend)
		}{
			{"ReleaseRoundTrip", testReleaseRoundTrip},
			{"ReleaseInvalid", testReleaseInvalid},
			{"ActionLifecycle", testActionLifecycle},
			{"ActionForeignDevice", testActionForeignDevice},
			{"Withdraw", testWithdraw},
			{"DeviceTokens", testDeviceTokens},
			{"Attributes", testAttributes},
			{"ContactsWriteBehind", testContactsWriteBehind},
			{"ContactsRevokedToken", testContactsRevokedToken},
			{"ContactsOnClose", testContactsOnClose},
			{"ContactsConcurrent", testContactsConcurrent},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, b)
			})
		}
	})
}

var operatorCtx = firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 2, Name: "ops", Role: firmward.RoleOperator})

func sampleRelease() *firmward.Release {
	return &firmward.Release{
		Manufacturer: " Acme ", Models: []string{"Cam 1", "Cam 2", "Cam 1"}, HardwareVersions: []string{"rev1"},
		Version: "2.0.1", ReleaseDate: "2025-03-01", FixesCVEs: []string{"cve-2024-1234", "CVE-2025-0001"},
		MinFromVersion: "1.0", Notes: "Fixes the web server.\nAnd more.",
		Artifacts: []firmward.ReleaseArtifact{
			{Name: "cam.swu", SHA256: strings.Repeat("ab", 32), SHA1: strings.Repeat("cd", 20), MD5: strings.Repeat("ef", 16), Size: 1234},
			{Name: "vendor.bin", URL: "https://vendor.example/fw/2.0.1.bin"},
		},
	}
}

func newDevice(t *testing.T, db *DB, name string) int64 {
	t.Helper()
	d := &firmward.Device{Name: name, Manufacturer: "Acme", Model: "Cam 1"}
	if err := NewDeviceService(db).CreateDevice(operatorCtx, d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func testReleaseRoundTrip(t *testing.T, b backend) {
	db := b.open(t, Options{})
	rs := NewReleaseService(db)
	r := sampleRelease()
	if err := rs.CreateRelease(operatorCtx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Manufacturer != "Acme" || len(r.Models) != 2 || r.Channel != firmward.ChannelStable || r.FixesCVEs[0] != "CVE-2024-1234" {
		t.Fatalf("created release not normalised: %+v", r)
	}
	got, err := rs.FindReleaseByID(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "2.0.1" || len(got.Artifacts) != 2 || got.Artifacts[0].Size != 1234 || got.Artifacts[1].URL == "" ||
		got.CreatedBy != "token:2(ops)" || got.Notes != r.Notes || got.Withdrawn || len(got.HardwareVersions) != 1 {
		t.Fatalf("read back %+v", got)
	}
	dup := sampleRelease()
	dup.Manufacturer = "ACME"
	wantCode(t, rs.CreateRelease(operatorCtx, dup), firmward.ECONFLICT)

	other := sampleRelease()
	other.Version, other.Models = "3.0", []string{"Door"}
	if err := rs.CreateRelease(operatorCtx, other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    firmward.ReleaseFilter
		want int
	}{
		{"all", firmward.ReleaseFilter{}, 2},
		{"model", firmward.ReleaseFilter{Model: "Cam 2"}, 1},
		{"model prefix is not a match", firmward.ReleaseFilter{Model: "Cam"}, 0},
		{"manufacturer any case", firmward.ReleaseFilter{Manufacturer: "acme"}, 2},
		{"other manufacturer", firmward.ReleaseFilter{Manufacturer: "Bosch"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, _, err := rs.FindReleases(context.Background(), tc.f)
			if err != nil || len(list) != tc.want {
				t.Fatalf("FindReleases(%+v) = %d, %v; want %d", tc.f, len(list), err, tc.want)
			}
		})
	}
	page, next, err := rs.FindReleases(context.Background(), firmward.ReleaseFilter{Limit: 1})
	if err != nil || len(page) != 1 || next != page[0].ID || len(page[0].Artifacts) != 2 {
		t.Fatalf("page = %v, %d, %v", page, next, err)
	}
	evs := auditEvents(t, db)
	if last := evs[len(evs)-1]; last.Action != firmward.ActionReleaseCreate || last.ObjectType != "release" {
		t.Fatalf("last audit event = %+v", last)
	}
}

func testReleaseInvalid(t *testing.T, b backend) {
	db := b.open(t, Options{})
	rs := NewReleaseService(db)
	for _, tc := range []struct {
		name  string
		edit  func(r *firmward.Release)
		field string
	}{
		{"no version", func(r *firmward.Release) { r.Version = " " }, "version"},
		{"no model", func(r *firmward.Release) { r.Models = nil }, "models"},
		{"bad cve", func(r *firmward.Release) { r.FixesCVEs = []string{"CVE-24-1"} }, "fixes_cves"},
		{"bad date", func(r *firmward.Release) { r.ReleaseDate = "1.3.2025" }, "release_date"},
		{"bad channel", func(r *firmward.Release) { r.Channel = "nightly" }, "channel"},
		{"traversal", func(r *firmward.Release) { r.Artifacts[0].Name = "../etc/passwd" }, "artifacts[0].name"},
		{"dot dot", func(r *firmward.Release) { r.Artifacts[0].Name = ".." }, "artifacts[0].name"},
		{"bad sha256", func(r *firmward.Release) { r.Artifacts[0].SHA256 = "xyz" }, "artifacts[0].sha256"},
		{"no hash no url", func(r *firmward.Release) { r.Artifacts[0].SHA256 = "" }, "artifacts[0].sha256"},
		{"ftp url", func(r *firmward.Release) { r.Artifacts[1].URL = "ftp://x/y" }, "artifacts[1].url"},
		{"same name", func(r *firmward.Release) { r.Artifacts[1].Name = "cam.swu" }, "artifacts[1].name"},
		{"no artifacts", func(r *firmward.Release) { r.Artifacts = nil }, "artifacts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRelease()
			tc.edit(r)
			err := rs.CreateRelease(operatorCtx, r)
			wantCode(t, err, firmward.EINVALID)
			found := false
			for _, d := range firmward.ErrorDetails(err) {
				found = found || d.Field == tc.field
			}
			if !found {
				t.Fatalf("details %v do not name %s", firmward.ErrorDetails(err), tc.field)
			}
		})
	}
	if n := count(t, db, "releases"); n != 0 {
		t.Fatalf("%d releases stored after refusals", n)
	}
}

func testActionLifecycle(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	rs, ds := NewReleaseService(db), NewDeliveryService(db)
	r := sampleRelease()
	if err := rs.CreateRelease(operatorCtx, r); err != nil {
		t.Fatal(err)
	}
	dev := newDevice(t, db, "cam")
	win := &firmward.MaintenanceWindow{Start: clk.Now().Add(time.Hour), End: clk.Now().Add(2 * time.Hour)}
	acts, err := ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{dev, dev}, Type: firmward.ActionAttempt, Window: win})
	if err != nil || len(acts) != 1 {
		t.Fatalf("CreateActions = %v, %v", acts, err)
	}
	a := acts[0]
	if a.Status != firmward.ActionScheduled || a.Window == nil || !a.Window.Start.Equal(win.Start.Truncate(time.Microsecond)) {
		t.Fatalf("action = %+v", a)
	}
	_, err = ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{dev}})
	wantCode(t, err, firmward.ECONFLICT)
	_, err = ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{dev + 100}})
	wantCode(t, err, firmward.ENOTFOUND)
	_, err = ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{dev}, Type: "now"})
	wantCode(t, err, firmward.EINVALID)

	next, err := ds.NextAction(context.Background(), dev)
	if err != nil || next == nil || next.ID != a.ID {
		t.Fatalf("NextAction = %v, %v", next, err)
	}
	devCtx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "device", ID: dev, Name: "cam"})
	steps := []struct {
		fb     firmward.ActionFeedback
		status firmward.ActionStatus
		result string
		code   string
	}{
		{firmward.ActionFeedback{Execution: "proceeding", Finished: "none", ProgressCnt: 1, ProgressOf: 3}, firmward.ActionRunning, "", ""},
		{firmward.ActionFeedback{Execution: "bogus", Finished: "none"}, "", "", firmward.EINVALID},
		{firmward.ActionFeedback{Execution: "closed", Finished: "none"}, "", "", firmward.EINVALID},
		{firmward.ActionFeedback{Execution: "proceeding", Finished: "none", ProgressCnt: 5, ProgressOf: 3}, "", "", firmward.EINVALID},
		{firmward.ActionFeedback{Execution: "closed", Finished: "success", Details: []string{"Update Installed."}}, firmward.ActionFinished, "success", ""},
		{firmward.ActionFeedback{Execution: "closed", Finished: "success"}, "", "", firmward.ECONFLICT},
	}
	for i, st := range steps {
		clk.Add(time.Second)
		fb := st.fb
		got, err := ds.AddFeedback(devCtx, dev, a.ID, &fb)
		if st.code != "" {
			wantCode(t, err, st.code)
			continue
		}
		if err != nil || got.Status != st.status || got.Result != st.result {
			t.Fatalf("step %d: %+v, %v; want %s %s", i, got, err, st.status, st.result)
		}
	}
	log, err := ds.ActionFeedback(context.Background(), a.ID)
	if err != nil || len(log) != 2 || log[1].Details[0] != "Update Installed." || log[0].ProgressOf != 3 {
		t.Fatalf("feedback log = %v, %v", log, err)
	}
	if next, _ := ds.NextAction(context.Background(), dev); next != nil {
		t.Fatalf("finished action still offered: %+v", next)
	}
	var updates int
	for _, e := range auditEvents(t, db) {
		if e.Action == firmward.ActionActionUpdate && e.ObjectID == actionID(a.ID) {
			updates++
			if e.Actor != "device:"+actionID(dev)+"(cam)" {
				t.Fatalf("audit actor = %s", e.Actor)
			}
		}
	}
	if updates != 2 {
		t.Fatalf("%d action.update events, want 2 (scheduled→running, running→finished)", updates)
	}
}

func testActionForeignDevice(t *testing.T, b backend) {
	db := b.open(t, Options{})
	rs, ds := NewReleaseService(db), NewDeliveryService(db)
	r := sampleRelease()
	if err := rs.CreateRelease(operatorCtx, r); err != nil {
		t.Fatal(err)
	}
	devA, devB := newDevice(t, db, "a"), newDevice(t, db, "b")
	acts, err := ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{devB}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ds.AddFeedback(context.Background(), devA, acts[0].ID, &firmward.ActionFeedback{Execution: "closed", Finished: "failure"})
	wantCode(t, err, firmward.ENOTFOUND)
	if n := count(t, db, "action_feedback"); n != 0 {
		t.Fatalf("foreign feedback stored: %d rows", n)
	}
	got, _ := ds.FindActionByID(context.Background(), acts[0].ID)
	if got.Status != firmward.ActionScheduled {
		t.Fatalf("foreign feedback changed the action: %+v", got)
	}
}

func testWithdraw(t *testing.T, b backend) {
	db := b.open(t, Options{})
	rs, ds := NewReleaseService(db), NewDeliveryService(db)
	r := sampleRelease()
	if err := rs.CreateRelease(operatorCtx, r); err != nil {
		t.Fatal(err)
	}
	d1, d2 := newDevice(t, db, "1"), newDevice(t, db, "2")
	acts, err := ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{d1, d2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.AddFeedback(context.Background(), d2, acts[1].ID, &firmward.ActionFeedback{Execution: "proceeding", Finished: "none"}); err != nil {
		t.Fatal(err)
	}
	got, n, err := rs.WithdrawRelease(operatorCtx, r.ID, "bricks cameras")
	if err != nil || n != 2 || !got.Withdrawn || got.WithdrawReason != "bricks cameras" {
		t.Fatalf("WithdrawRelease = %+v, %d, %v", got, n, err)
	}
	a1, _ := ds.FindActionByID(context.Background(), acts[0].ID)
	a2, _ := ds.FindActionByID(context.Background(), acts[1].ID)
	if a1.Status != firmward.ActionCanceled || a2.Status != firmward.ActionCanceling {
		t.Fatalf("after withdraw: %s, %s; want canceled, canceling", a1.Status, a2.Status)
	}
	// The running device confirms the cancellation.
	a2, err = ds.AddFeedback(context.Background(), d2, a2.ID, &firmward.ActionFeedback{Execution: "closed", Finished: "success", Cancel: true})
	if err != nil || a2.Status != firmward.ActionCanceled {
		t.Fatalf("cancel feedback: %+v, %v", a2, err)
	}
	_, _, err = rs.WithdrawRelease(operatorCtx, r.ID, "")
	wantCode(t, err, firmward.ECONFLICT)
	_, err = ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{d1}})
	wantCode(t, err, firmward.ECONFLICT)
	if list, _, _ := rs.FindReleases(context.Background(), firmward.ReleaseFilter{}); len(list) != 0 {
		t.Fatalf("withdrawn release listed by default")
	}
	if list, _, _ := rs.FindReleases(context.Background(), firmward.ReleaseFilter{IncludeWithdrawn: true}); len(list) != 1 {
		t.Fatalf("withdrawn release not listed with IncludeWithdrawn")
	}
}

func testDeviceTokens(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ds := NewDeliveryService(db)
	dev := newDevice(t, db, "gw")
	cred, secret, err := ds.CreateDeviceToken(operatorCtx, dev, "")
	if err != nil || cred.ControllerID != actionID(dev) || !strings.HasPrefix(secret, firmward.DeviceTokenPrefix) {
		t.Fatalf("CreateDeviceToken = %+v, %q, %v", cred, secret, err)
	}
	var stored string
	if err := db.SQL().QueryRow(db.rebind("SELECT secret_hash FROM device_credentials WHERE device_id = ?"), dev).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == secret || stored != firmward.HashSecret(secret) {
		t.Fatalf("secret stored as %q", stored)
	}
	got, err := ds.AuthenticateDevice(context.Background(), secret)
	if err != nil || got.DeviceID != dev || got.LastSeenAt == nil {
		t.Fatalf("AuthenticateDevice = %+v, %v", got, err)
	}
	_, err = ds.AuthenticateDevice(context.Background(), secret+"x")
	wantCode(t, err, firmward.EUNAUTHORIZED)
	// PollDevice: the same credential, with the next action and whether
	// attributes exist.
	poll, err := ds.PollDevice(context.Background(), secret)
	if err != nil || poll.Credential.DeviceID != dev || poll.Next != nil || poll.HasAttributes {
		t.Fatalf("PollDevice, nothing pending = %+v, %v", poll, err)
	}
	rel := sampleRelease()
	if err := NewReleaseService(db).CreateRelease(operatorCtx, rel); err != nil {
		t.Fatal(err)
	}
	acts, err := ds.CreateActions(operatorCtx, firmward.DeployRequest{ReleaseID: rel.ID, DeviceIDs: []int64{dev}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.SetDeviceAttributes(context.Background(), dev, "", map[string]string{"hw": "1"}); err != nil {
		t.Fatal(err)
	}
	poll, err = ds.PollDevice(context.Background(), secret)
	if err != nil || poll.Next == nil || poll.Next.ID != acts[0].ID || !poll.HasAttributes {
		t.Fatalf("PollDevice, action pending = %+v, %v", poll, err)
	}
	_, err = ds.PollDevice(context.Background(), "fwd_unknown")
	wantCode(t, err, firmward.EUNAUTHORIZED)
	// A new token replaces the old one.
	_, secret2, err := ds.CreateDeviceToken(operatorCtx, dev, "gw-01")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ds.AuthenticateDevice(context.Background(), secret)
	wantCode(t, err, firmward.EUNAUTHORIZED)
	if c, err := ds.AuthenticateDevice(context.Background(), secret2); err != nil || c.ControllerID != "gw-01" {
		t.Fatalf("new token: %+v, %v", c, err)
	}
	other := newDevice(t, db, "other")
	_, _, err = ds.CreateDeviceToken(operatorCtx, other, "gw-01")
	wantCode(t, err, firmward.ECONFLICT)
	_, _, err = ds.CreateDeviceToken(operatorCtx, other, "../x")
	wantCode(t, err, firmward.EINVALID)
	_, _, err = ds.CreateDeviceToken(operatorCtx, other+1000, "")
	wantCode(t, err, firmward.ENOTFOUND)

	ecred, esecret, err := ds.EnrollDevice(context.Background(), &firmward.Device{Name: "new sensor", Manufacturer: "Acme"}, "sensor-9")
	if err != nil || ecred.ControllerID != "sensor-9" {
		t.Fatalf("EnrollDevice = %+v, %v", ecred, err)
	}
	if c, err := ds.AuthenticateDevice(context.Background(), esecret); err != nil || c.DeviceID != ecred.DeviceID {
		t.Fatalf("enrolled token: %+v, %v", c, err)
	}
	before := count(t, db, "devices")
	_, _, err = ds.EnrollDevice(context.Background(), &firmward.Device{Name: "dup"}, "sensor-9")
	wantCode(t, err, firmward.ECONFLICT)
	if count(t, db, "devices") != before {
		t.Fatal("a refused enrollment created a device")
	}
}

func testAttributes(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ds := NewDeliveryService(db)
	dev := newDevice(t, db, "x")
	ctx := context.Background()
	steps := []struct {
		mode  string
		attrs map[string]string
		want  map[string]string
	}{
		{"", map[string]string{"hw": "rev1", "fw": "1.0"}, map[string]string{"hw": "rev1", "fw": "1.0"}},
		{"merge", map[string]string{"fw": "1.1"}, map[string]string{"hw": "rev1", "fw": "1.1"}},
		{"remove", map[string]string{"hw": ""}, map[string]string{"fw": "1.1"}},
		{"replace", map[string]string{"serial": "S1"}, map[string]string{"serial": "S1"}},
	}
	for i, st := range steps {
		if err := ds.SetDeviceAttributes(ctx, dev, st.mode, st.attrs); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got, err := ds.DeviceAttributes(ctx, dev)
		if err != nil || len(got) != len(st.want) {
			t.Fatalf("step %d: %v, %v; want %v", i, got, err, st.want)
		}
		for k, v := range st.want {
			if got[k] != v {
				t.Fatalf("step %d: %v; want %v", i, got, st.want)
			}
		}
	}
	wantCode(t, ds.SetDeviceAttributes(ctx, dev, "append", map[string]string{"a": "b"}), firmward.EINVALID)
	wantCode(t, ds.SetDeviceAttributes(ctx, dev, "merge", map[string]string{"": "b"}), firmward.EINVALID)
	wantCode(t, ds.SetDeviceAttributes(ctx, dev+99, "merge", map[string]string{"a": "b"}), firmward.ENOTFOUND)
	n := 0
	for _, e := range auditEvents(t, db) {
		if e.Action == firmward.ActionDeviceConfigData {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("%d device.config_data events, want 4", n)
	}
}

// storedLastSeen returns device_credentials.last_seen_at of a device as
// written (0 for NULL).
func storedLastSeen(t testing.TB, db *DB, dev int64) int64 {
	t.Helper()
	var seen sql.NullInt64
	if err := db.SQL().QueryRow(db.rebind("SELECT last_seen_at FROM device_credentials WHERE device_id = ?"), dev).Scan(&seen); err != nil {
		t.Fatalf("reading last_seen_at of device %d: %v", dev, err)
	}
	return seen.Int64
}

// flushes returns how many write transactions the contact log committed.
func (s *DeliveryService) flushCount() int {
	s.contacts.mu.Lock()
	defer s.contacts.mu.Unlock()
	return s.contacts.flushes
}

// testContactsWriteBehind: many polls of two devices write nothing until
// Flush, which writes both in one transaction; the service's reads carry
// the unwritten times meanwhile.
func testContactsWriteBehind(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ds := NewDeliveryService(db)
	ds.ContactFlushInterval = time.Hour // only Flush writes
	ctx := context.Background()
	d1, d2 := newDevice(t, db, "a"), newDevice(t, db, "b")
	_, s1, err := ds.CreateDeviceToken(operatorCtx, d1, "dev-a")
	if err != nil {
		t.Fatal(err)
	}
	_, s2, err := ds.CreateDeviceToken(operatorCtx, d2, "dev-b")
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for round := range 3 {
		clk.Add(time.Minute) // each round is a new minute: each records a contact
		last = clk.Now().UTC().Truncate(time.Microsecond)
		for i := range 20 {
			p, err := ds.PollDevice(ctx, s1)
			if err != nil || p.Credential.LastSeenAt == nil || !p.Credential.LastSeenAt.Equal(last) {
				t.Fatalf("round %d poll %d: %+v, %v; want last seen %v", round, i, p, err, last)
			}
			c, err := ds.AuthenticateDevice(ctx, s2)
			if err != nil || c.LastSeenAt == nil || !c.LastSeenAt.Equal(last) {
				t.Fatalf("round %d authentication %d: %+v, %v; want last seen %v", round, i, c, err, last)
			}
			clk.Add(time.Second)
		}
	}
	if got1, got2 := storedLastSeen(t, db, d1), storedLastSeen(t, db, d2); got1 != 0 || got2 != 0 || ds.flushCount() != 0 {
		t.Fatalf("before Flush: stored %d, %d after %d flushes; want nothing written", got1, got2, ds.flushCount())
	}
	if c, err := ds.FindDeviceCredential(ctx, "dev-a"); err != nil || c.LastSeenAt == nil || !c.LastSeenAt.Equal(last) {
		t.Fatalf("FindDeviceCredential before Flush = %+v, %v; want the unwritten %v", c, err, last)
	}
	if err := ds.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got1, got2, n := storedLastSeen(t, db, d1), storedLastSeen(t, db, d2), ds.flushCount(); got1 != micros(last) || got2 != micros(last) || n != 1 {
		t.Fatalf("after Flush: stored %d, %d in %d transactions; want %d for both in 1", got1, got2, n, micros(last))
	}
	// Within the minute nothing more is recorded, so nothing is written.
	for range 10 {
		if _, err := ds.PollDevice(ctx, s1); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Flush(ctx); err != nil || ds.flushCount() != 1 {
		t.Fatalf("Flush with nothing pending: %v, %d transactions; want 1", err, ds.flushCount())
	}
	// A time never moves last_seen_at back (another replica wrote later).
	if err := db.write(ctx, func(tx conn) error {
		return writeContacts(ctx, tx, map[int64]time.Time{d1: last.Add(-time.Hour), d2: last.Add(time.Second)})
	}); err != nil {
		t.Fatal(err)
	}
	if got1, got2 := storedLastSeen(t, db, d1), storedLastSeen(t, db, d2); got1 != micros(last) || got2 != micros(last.Add(time.Second)) {
		t.Fatalf("after an older and a newer time: %d, %d", got1, got2)
	}
}

// testContactsRevokedToken: the unwritten times never authenticate; a
// replaced token is refused on the next poll and the new credential does
// not inherit the old token's contact.
func testContactsRevokedToken(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ds := NewDeliveryService(db)
	ds.ContactFlushInterval = time.Hour
	ctx := context.Background()
	dev := newDevice(t, db, "gw")
	_, old, err := ds.CreateDeviceToken(operatorCtx, dev, "gw-1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if _, err := ds.PollDevice(ctx, old); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	_, secret, err := ds.CreateDeviceToken(operatorCtx, dev, "gw-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ds.PollDevice(ctx, old)
	wantCode(t, err, firmward.EUNAUTHORIZED)
	_, err = ds.AuthenticateDevice(ctx, old)
	wantCode(t, err, firmward.EUNAUTHORIZED)
	if c, err := ds.FindDeviceCredential(ctx, "gw-1"); err != nil || c.LastSeenAt != nil {
		t.Fatalf("new credential = %+v, %v; want it never seen", c, err)
	}
	if err := ds.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storedLastSeen(t, db, dev); got != 0 {
		t.Fatalf("the old token's contact %d landed on the new credential", got)
	}
	clk.Add(time.Second)
	if _, err := ds.PollDevice(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := ds.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := storedLastSeen(t, db, dev), micros(clk.Now()); got != want {
		t.Fatalf("new token's contact stored as %d, want %d", got, want)
	}
}

// testContactsOnClose: closing the database writes what is pending; the
// timer writes it on its own; after the service's Close each contact is
// written at once.
func testContactsOnClose(t *testing.T, b backend) {
	clk := newClock()
	dsn := b.newDSN(t)
	db := openDSN(t, dsn, Options{Now: clk.Now})
	ds := NewDeliveryService(db)
	ds.ContactFlushInterval = time.Hour
	ctx := context.Background()
	dev := newDevice(t, db, "x")
	_, secret, err := ds.CreateDeviceToken(operatorCtx, dev, "x-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.PollDevice(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDSN(t, dsn, Options{Now: clk.Now})
	if got, want := storedLastSeen(t, db, dev), micros(clk.Now()); got != want {
		t.Fatalf("after Close: stored %d, want %d", got, want)
	}

	// The timer.
	ds = NewDeliveryService(db)
	ds.ContactFlushInterval = time.Millisecond
	clk.Add(time.Minute)
	if _, err := ds.AuthenticateDevice(ctx, secret); err != nil {
		t.Fatal(err)
	}
	want := micros(clk.Now())
	for deadline := time.Now().Add(10 * time.Second); storedLastSeen(t, db, dev) != want; {
		if time.Now().After(deadline) {
			t.Fatalf("the timer wrote nothing in 10 s: stored %d, want %d", storedLastSeen(t, db, dev), want)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// After the service's Close.
	if err := ds.Close(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if _, err := ds.PollDevice(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got, want := storedLastSeen(t, db, dev), micros(clk.Now()); got != want {
		t.Fatalf("after the service's Close: stored %d, want %d", got, want)
	}
}

// testContactsConcurrent polls many devices from several goroutines while
// flushes run (for -race) and checks that the newest times are written.
func testContactsConcurrent(t *testing.T, b backend) {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	ds := NewDeliveryService(db)
	ds.ContactFlushInterval = time.Millisecond
	ctx := context.Background()
	const devices = 20
	ids, secrets := make([]int64, devices), make([]string, devices)
	for i := range devices {
		ids[i] = newDevice(t, db, fmt.Sprintf("d%d", i))
		var err error
		if _, secrets[i], err = ds.CreateDeviceToken(operatorCtx, ids[i], ""); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				if i%25 == 0 && g == 0 {
					clk.Add(time.Minute)
				}
				if _, err := ds.PollDevice(ctx, secrets[(g+i)%devices]); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if err := ds.Flush(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := make([]int64, devices) // what the service says, written or not
	for i, id := range ids {
		c, err := ds.FindDeviceCredential(ctx, fmt.Sprint(id))
		if err != nil || c.LastSeenAt == nil {
			t.Fatalf("device %d: %+v, %v", i, c, err)
		}
		want[i] = micros(*c.LastSeenAt)
	}
	if err := ds.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if got := storedLastSeen(t, db, id); got != want[i] {
			t.Fatalf("device %d: stored %d, want %d", i, got, want[i])
		}
	}
}

// BenchmarkWriteContacts compares ways of writing one flush of contact
// times (10,000 devices) in one transaction: UPDATE … FROM (VALUES …) of
// 500 rows (what Flush does on PostgreSQL), a prepared single-row UPDATE
// in a loop (on SQLite), and, as the reference, a write transaction per
// device (the old touch).
//
//	go test ./sqlstore -run '^$' -bench WriteContacts -benchtime 10x
func BenchmarkWriteContacts(b *testing.B) {
	const n = 10_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db := be.open(b, Options{})
			res, err := NewDeviceService(db).ImportDevices(operatorCtx, bulkRows(n, 0), firmward.ImportOptions{})
			if err != nil {
				b.Fatal(err)
			}
			ids := res.IDs
			if err := db.write(ctx, func(tx conn) error {
				return insertRows(ctx, tx, "device_credentials", []string{"device_id", "controller_id", "secret_hash", "prefix", "created_by", "created_at"}, n,
					func(i int, args []any) ([]any, error) {
						return append(args, ids[i], fmt.Sprint("c", i), fmt.Sprint("h", i), "fwd_x", "bench", int64(0)), nil
					})
			}); err != nil {
				b.Fatal(err)
			}
			at := time.Unix(1_800_000_000, 0)
			batch := func() map[int64]time.Time {
				at = at.Add(time.Minute)
				m := make(map[int64]time.Time, n)
				for _, id := range ids {
					m[id] = at
				}
				return m
			}
			for _, tc := range []struct {
				name  string
				write func(m map[int64]time.Time) error
			}{
				{"values500", func(m map[int64]time.Time) error {
					return db.write(ctx, func(tx conn) error { return writeContactsValues(ctx, tx, slices.Sorted(maps.Keys(m)), m) })
				}},
				{"prepared", func(m map[int64]time.Time) error {
					return db.write(ctx, func(tx conn) error { return writeContactsEach(ctx, tx, slices.Sorted(maps.Keys(m)), m) })
				}},
				{"tx-each", func(m map[int64]time.Time) error {
					for id, t := range m {
						if err := db.write(ctx, func(tx conn) error {
							return writeContacts(ctx, tx, map[int64]time.Time{id: t})
						}); err != nil {
							return err
						}
					}
					return nil
				}},
			} {
				b.Run(tc.name, func(b *testing.B) {
					for b.Loop() {
						b.StopTimer()
						m := batch()
						b.StartTimer()
						if err := tc.write(m); err != nil {
							b.Fatal(err)
						}
					}
					if got := storedLastSeen(b, db, ids[n-1]); got != micros(at) {
						b.Fatalf("stored %d, want %d", got, micros(at))
					}
					b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "contacts/s")
				})
			}
		})
	}
}
