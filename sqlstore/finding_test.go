package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestFindings runs the finding store's suite on SQLite and PostgreSQL.
func TestFindings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			fn   func(t *testing.T, b backend)
		}{
			{"Lifecycle", testFindingLifecycle},
			{"PersonStatuses", testFindingPersonStatuses},
			{"SyncInvalid", testFindingSyncInvalid},
			{"SyncBatch", testFindingSyncBatch},
			{"Filters", testFindingFilters},
			{"Paging", testFindingPaging},
			{"Update", testFindingUpdate},
			{"DeleteDevice", testFindingDeleteDevice},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, b)
			})
		}
	})
}

// findingEnv is a fresh database with a settable clock.
type findingEnv struct {
	db       *DB
	clk      *clock
	devices  *DeviceService
	findings *FindingService
}

func newFindingEnv(t *testing.T, b backend) *findingEnv {
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	return &findingEnv{db: db, clk: clk, devices: NewDeviceService(db), findings: NewFindingService(db)}
}

func (e *findingEnv) device(t *testing.T, name, manufacturer string) int64 {
	t.Helper()
	d := &firmward.Device{Name: name, Manufacturer: manufacturer}
	if err := e.devices.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func (e *findingEnv) now() time.Time { return e.clk.Now().UTC().Truncate(time.Microsecond) }

func (e *findingEnv) sync(t *testing.T, deviceID int64, found ...firmward.Finding) *firmward.FindingSyncResult {
	t.Helper()
	res, err := e.findings.SyncDeviceFindings(context.Background(), deviceID, found)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// byCVE returns every finding of the device by CVE.
func (e *findingEnv) byCVE(t *testing.T, deviceID int64) map[string]*firmward.Finding {
	t.Helper()
	fs, next, err := e.findings.FindFindings(context.Background(), firmward.FindingFilter{
		DeviceID: deviceID, Statuses: firmward.FindingStatuses, Limit: firmward.MaxPageSize,
	})
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	out := map[string]*firmward.Finding{}
	for _, f := range fs {
		out[f.CVE] = f
	}
	return out
}

// syncEvents returns the ActionFindingSync events in seq order.
func syncEvents(t *testing.T, db *DB) []*firmward.AuditEvent {
	t.Helper()
	evs, _, err := NewAuditService(db).FindAuditEvents(context.Background(), firmward.AuditFilter{Action: firmward.ActionFindingSync, Limit: firmward.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// wantLastSyncEvent checks the count of sync events and the changes of
// the newest one.
func wantLastSyncEvent(t *testing.T, db *DB, n int, deviceID int64, changes ...firmward.FieldChange) {
	t.Helper()
	evs := syncEvents(t, db)
	if len(evs) != n {
		t.Fatalf("%d finding.sync events, want %d", len(evs), n)
	}
	last := evs[n-1]
	if last.ObjectType != "device" || last.ObjectID != strconv.FormatInt(deviceID, 10) {
		t.Errorf("event object = %s %s, want device %d", last.ObjectType, last.ObjectID, deviceID)
	}
	if !reflect.DeepEqual(last.Changes, changes) {
		t.Errorf("event changes = %+v, want %+v", last.Changes, changes)
	}
}

func change(field, cves string) firmward.FieldChange {
	return firmward.FieldChange{Field: field, New: cves}
}

// testFinding returns a matched finding.
func testFinding(cve string, priority int) firmward.Finding {
	due := time.Date(2025, 4, 14, 0, 0, 0, 0, time.UTC)
	return firmward.Finding{
		CVE:       cve,
		Certain:   true,
		Evidence:  firmward.Evidence{Source: "nvd", Configuration: 1, Criteria: "cpe:2.3:o:acme:fw:*:*:*:*:*:*:*:*", Range: "< 2.0", Version: "1.2", Reason: "firmware 1.2 is below 2.0"},
		CVSSScore: 9.8, CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		EPSS: 0.5, EPSSPercentile: 0.9,
		Decision: firmward.DecisionScheduled, DecisionWhy: "exploitation none",
		Priority: priority, DueDate: &due, FixedIn: "2.0",
	}
}

func testFindingLifecycle(t *testing.T, b backend) {
	e := newFindingEnv(t, b)
	dev := e.device(t, "router", "Acme")
	a, bb := testFinding("CVE-2024-0001", 50), testFinding("cve-2024-0002", 40)
	t0 := e.now()

	// New: both open.
	if res := e.sync(t, dev, a, bb); *res != (firmward.FindingSyncResult{Opened: 2}) {
		t.Fatalf("first sync = %+v", res)
	}
	wantLastSyncEvent(t, e.db, 1, dev, change("opened", "CVE-2024-0001, CVE-2024-0002"))
	got := e.byCVE(t, dev)
	fa := got["CVE-2024-0001"]
	if fa == nil || got["CVE-2024-0002"] == nil {
		t.Fatalf("findings = %v", got)
	}
	want := a
	want.ID, want.DeviceID, want.Status = fa.ID, dev, firmward.FindingOpen
	want.FirstSeen, want.LastSeen, want.UpdatedAt = t0, t0, t0
	if !reflect.DeepEqual(fa, &want) {
		t.Errorf("stored\n%+v\nwant\n%+v", fa, &want)
	}
	if byID, err := e.findings.FindFindingByID(context.Background(), fa.ID); err != nil || !reflect.DeepEqual(byID, fa) {
		t.Errorf("FindFindingByID = %+v, %v", byID, err)
	}

	// Still found, scores changed: updated, status and first_seen kept,
	// not audited; the unchanged one is not written (see lastSeenEvery).
	e.clk.Add(time.Hour)
	t1 := e.now()
	a.EPSS, a.Priority, a.KEV, a.KEVDueDate = 0.97, 90, true, "2025-04-01"
	if res := e.sync(t, dev, a, bb); *res != (firmward.FindingSyncResult{Updated: 1}) {
		t.Fatalf("second sync = %+v", res)
	}
	if n := len(syncEvents(t, e.db)); n != 1 {
		t.Errorf("%d sync events after a score update, want 1", n)
	}
	got = e.byCVE(t, dev)
	fa, fb := got["CVE-2024-0001"], got["CVE-2024-0002"]
	if fa.Status != firmward.FindingOpen || fa.EPSS != 0.97 || fa.Priority != 90 || !fa.KEV || fa.KEVDueDate != "2025-04-01" ||
		!fa.FirstSeen.Equal(t0) || !fa.LastSeen.Equal(t1) || !fa.UpdatedAt.Equal(t1) {
		t.Errorf("after update: %+v", fa)
	}
	if !fb.LastSeen.Equal(t0) || !fb.UpdatedAt.Equal(t0) {
		t.Errorf("unchanged finding seen again within a day: last_seen %v updated_at %v, want both %v (nothing written)", fb.LastSeen, fb.UpdatedAt, t0)
	}
	// A day later, an unchanged finding's last_seen moves, nothing else.
	e.clk.Add(lastSeenEvery)
	tDay := e.now()
	if res := e.sync(t, dev, a, bb); *res != (firmward.FindingSyncResult{}) {
		t.Fatalf("sync a day later = %+v", res)
	}
	fb = e.byCVE(t, dev)["CVE-2024-0002"]
	if !fb.LastSeen.Equal(tDay) || !fb.UpdatedAt.Equal(t0) {
		t.Errorf("unchanged finding a day later: last_seen %v updated_at %v, want %v and %v", fb.LastSeen, fb.UpdatedAt, tDay, t0)
	}

	// A due date is tightened, never postponed.
	later, sooner := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	a.DueDate = &later
	if res := e.sync(t, dev, a, bb); *res != (firmward.FindingSyncResult{}) {
		t.Errorf("later due date: %+v", res)
	}
	a.DueDate = &sooner
	if res := e.sync(t, dev, a, bb); *res != (firmward.FindingSyncResult{Updated: 1}) {
		t.Errorf("sooner due date: %+v", res)
	}
	if fa = e.byCVE(t, dev)["CVE-2024-0001"]; !fa.DueDate.Equal(sooner) {
		t.Errorf("due date = %v, want %v", fa.DueDate, sooner)
	}

	// Not found any more: fixed.
	e.clk.Add(time.Hour)
	t2 := e.now()
	if res := e.sync(t, dev, a); *res != (firmward.FindingSyncResult{Fixed: 1}) {
		t.Fatalf("third sync = %+v", res)
	}
	wantLastSyncEvent(t, e.db, 2, dev, change("fixed", "CVE-2024-0002"))
	fb = e.byCVE(t, dev)["CVE-2024-0002"]
	if fb.Status != firmward.FindingFixed || fb.FixedAt == nil || !fb.FixedAt.Equal(t2) {
		t.Errorf("fixed finding: %+v", fb)
	}
	// Fixed stays fixed.
	if res := e.sync(t, dev, a); *res != (firmward.FindingSyncResult{}) {
		t.Errorf("repeated sync = %+v", res)
	}

	// Found again: reopened, counted as opened.
	e.clk.Add(time.Hour)
	if res := e.sync(t, dev, a, bb); *res != (firmward.FindingSyncResult{Opened: 1}) {
		t.Fatalf("fourth sync = %+v", res)
	}
	wantLastSyncEvent(t, e.db, 3, dev, change("opened", "CVE-2024-0002"))
	fb = e.byCVE(t, dev)["CVE-2024-0002"]
	if fb.Status != firmward.FindingOpen || fb.FixedAt != nil || !fb.FirstSeen.Equal(t0) || !fb.LastSeen.Equal(e.now()) {
		t.Errorf("reopened finding: %+v", fb)
	}

	// Nothing found: everything fixed, one event.
	if res := e.sync(t, dev); *res != (firmward.FindingSyncResult{Fixed: 2}) {
		t.Fatalf("empty sync = %+v", res)
	}
	wantLastSyncEvent(t, e.db, 4, dev, change("fixed", "CVE-2024-0001, CVE-2024-0002"))
	verifyOK(t, e.db)
}

func testFindingPersonStatuses(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b)
	dev := e.device(t, "camera", "Acme")
	all := []firmward.Finding{testFinding("CVE-2024-0001", 1), testFinding("CVE-2024-0002", 2), testFinding("CVE-2024-0003", 3), testFinding("CVE-2024-0004", 4)}
	e.sync(t, dev, all...)
	got := e.byCVE(t, dev)
	day := 24 * time.Hour
	updates := map[string]firmward.FindingUpdate{
		"CVE-2024-0001": {Status: firmward.FindingMitigated, Note: "VLAN 40, no inbound"},
		"CVE-2024-0002": {Status: firmward.FindingRiskAccepted, AcceptedUntil: e.now().Add(2 * day).Format(time.DateOnly), Note: "replaced in spring"},
		"CVE-2024-0003": {Status: firmward.FindingNotAffected, VEXJustification: "vulnerable_code_not_present"},
	}
	for cve, u := range updates {
		if _, err := e.findings.UpdateFinding(ctx, got[cve].ID, u); err != nil {
			t.Fatal(cve, err)
		}
	}
	wantStatus := func(want map[string]firmward.FindingStatus) {
		t.Helper()
		got := e.byCVE(t, dev)
		for cve, st := range want {
			if got[cve].Status != st {
				t.Errorf("%s: status %q, want %q", cve, got[cve].Status, st)
			}
		}
	}

	// Kept across syncs, scores still updated; on its last day an
	// acceptance holds.
	all[0].Priority = 77
	e.clk.Add(2 * day)
	if res := e.sync(t, dev, all...); *res != (firmward.FindingSyncResult{Updated: 1}) {
		t.Errorf("sync = %+v", res)
	}
	wantStatus(map[string]firmward.FindingStatus{
		"CVE-2024-0001": firmward.FindingMitigated, "CVE-2024-0002": firmward.FindingRiskAccepted,
		"CVE-2024-0003": firmward.FindingNotAffected, "CVE-2024-0004": firmward.FindingOpen,
	})
	if f := e.byCVE(t, dev)["CVE-2024-0001"]; f.Priority != 77 || f.Note != "VLAN 40, no inbound" {
		t.Errorf("mitigated finding after sync: %+v", f)
	}
	if n := len(syncEvents(t, e.db)); n != 1 {
		t.Errorf("%d sync events, want 1", n)
	}

	// The day after: the acceptance expired.
	e.clk.Add(day)
	if res := e.sync(t, dev, all...); *res != (firmward.FindingSyncResult{Reopened: 1}) {
		t.Errorf("sync after expiry = %+v", res)
	}
	wantLastSyncEvent(t, e.db, 2, dev, change("reopened", "CVE-2024-0002"))
	if f := e.byCVE(t, dev)["CVE-2024-0002"]; f.Status != firmward.FindingOpen || f.AcceptedUntil != "" || f.Note != "replaced in spring" {
		t.Errorf("reopened finding: %+v", f)
	}

	// Not found: mitigated and open become fixed; not-affected stays.
	if res := e.sync(t, dev, all[3]); *res != (firmward.FindingSyncResult{Fixed: 2}) {
		t.Errorf("sync = %+v", res)
	}
	wantLastSyncEvent(t, e.db, 3, dev, change("fixed", "CVE-2024-0001, CVE-2024-0002"))
	wantStatus(map[string]firmward.FindingStatus{
		"CVE-2024-0001": firmward.FindingFixed, "CVE-2024-0002": firmward.FindingFixed,
		"CVE-2024-0003": firmward.FindingNotAffected, "CVE-2024-0004": firmward.FindingOpen,
	})
	// An expired acceptance that is not found is simply fixed.
	verifyOK(t, e.db)
}

func testFindingSyncInvalid(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b)
	dev := e.device(t, "lock", "Acme")
	e.sync(t, dev, testFinding("CVE-2024-0001", 1))
	before := count(t, e.db, "findings")
	events := count(t, e.db, "audit_events")

	_, err := e.findings.SyncDeviceFindings(ctx, dev+100, []firmward.Finding{testFinding("CVE-2024-0009", 1)})
	wantCode(t, err, firmward.ENOTFOUND)

	other := testFinding("CVE-2024-0003", 1)
	other.DeviceID = dev + 1
	badDecision := testFinding("CVE-2024-0004", 1)
	badDecision.Decision = "Soon"
	for name, found := range map[string][]firmward.Finding{
		"duplicate":      {testFinding("CVE-2024-0002", 1), testFinding("cve-2024-0002 ", 2)},
		"malformed":      {testFinding("CVE-24-1", 1)},
		"empty":          {testFinding("", 1)},
		"other device":   {other},
		"bad decision":   {badDecision},
		"one bad of two": {testFinding("CVE-2024-0005", 1), testFinding("NOT-A-CVE", 1)},
	} {
		_, err := e.findings.SyncDeviceFindings(ctx, dev, found)
		if firmward.ErrorCode(err) != firmward.EINVALID || len(firmward.ErrorDetails(err)) != 1 {
			t.Errorf("%s: %v (details %v), want EINVALID with one detail", name, err, firmward.ErrorDetails(err))
		}
	}
	if n := count(t, e.db, "findings"); n != before {
		t.Errorf("%d findings after refused syncs, want %d", n, before)
	}
	if n := count(t, e.db, "audit_events"); n != events {
		t.Errorf("%d audit events after refused syncs, want %d", n, events)
	}
	if f := e.byCVE(t, dev)["CVE-2024-0001"]; f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("stored finding changed: %+v", f)
	}
}

func testFindingFilters(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b)
	manufacturers := map[int64]string{}
	decisions := []string{firmward.DecisionImmediate, firmward.DecisionOutOfCycle, firmward.DecisionScheduled, firmward.DecisionDefer}
	past, future := e.now().Add(-24*time.Hour), e.now().Add(24*time.Hour)
	var devs []int64
	for d := range 3 {
		m := []string{"Acme", "ACME", "Globex"}[d]
		id := e.device(t, fmt.Sprintf("dev-%d", d), m)
		manufacturers[id] = m
		devs = append(devs, id)
		var found []firmward.Finding
		for i := range 12 {
			f := testFinding(fmt.Sprintf("CVE-2024-%04d", 100+i), (i*7+d*3)%10)
			f.KEV = i%3 == 0
			f.Decision = decisions[(i+d)%4]
			switch i % 3 {
			case 0:
				f.DueDate = &past
			case 1:
				f.DueDate = &future
			default:
				f.DueDate = nil
			}
			found = append(found, f)
		}
		e.sync(t, id, found...)
		// Fix two, mitigate one.
		e.sync(t, id, found[2:]...)
		got := e.byCVE(t, id)
		if _, err := e.findings.UpdateFinding(ctx, got["CVE-2024-0103"].ID, firmward.FindingUpdate{Status: firmward.FindingMitigated, Note: "fw rule"}); err != nil {
			t.Fatal(err)
		}
	}
	all, next, err := e.findings.FindFindings(ctx, firmward.FindingFilter{Statuses: firmward.FindingStatuses, Limit: firmward.MaxPageSize})
	if err != nil || next != "" || len(all) != 36 {
		t.Fatalf("all findings: %d, %q, %v", len(all), next, err)
	}
	now := e.now()
	cases := []struct {
		name string
		f    firmward.FindingFilter
		keep func(f *firmward.Finding) bool
	}{
		{"default open", firmward.FindingFilter{}, func(f *firmward.Finding) bool { return f.Status == firmward.FindingOpen }},
		{"fixed", firmward.FindingFilter{Status: firmward.FindingFixed}, func(f *firmward.Finding) bool { return f.Status == firmward.FindingFixed }},
		{"statuses", firmward.FindingFilter{Statuses: []firmward.FindingStatus{firmward.FindingFixed, firmward.FindingMitigated}}, func(f *firmward.Finding) bool {
			return f.Status == firmward.FindingFixed || f.Status == firmward.FindingMitigated
		}},
		{"device", firmward.FindingFilter{DeviceID: devs[1]}, func(f *firmward.Finding) bool { return f.Status == firmward.FindingOpen && f.DeviceID == devs[1] }},
		{"cve", firmward.FindingFilter{CVE: "cve-2024-0105", Statuses: firmward.FindingStatuses}, func(f *firmward.Finding) bool { return f.CVE == "CVE-2024-0105" }},
		{"kev", firmward.FindingFilter{KEV: true}, func(f *firmward.Finding) bool { return f.Status == firmward.FindingOpen && f.KEV }},
		{"decision", firmward.FindingFilter{Decision: firmward.DecisionImmediate}, func(f *firmward.Finding) bool {
			return f.Status == firmward.FindingOpen && f.Decision == firmward.DecisionImmediate
		}},
		{"overdue", firmward.FindingFilter{Overdue: true}, func(f *firmward.Finding) bool {
			return f.Status == firmward.FindingOpen && f.DueDate != nil && f.DueDate.Before(now)
		}},
		{"overdue later", firmward.FindingFilter{Overdue: true, Now: now.Add(48 * time.Hour)}, func(f *firmward.Finding) bool {
			return f.Status == firmward.FindingOpen && f.DueDate != nil && f.DueDate.Before(now.Add(48*time.Hour))
		}},
		{"overdue of all statuses is open only", firmward.FindingFilter{Overdue: true, Statuses: firmward.FindingStatuses}, func(f *firmward.Finding) bool {
			return f.Status == firmward.FindingOpen && f.DueDate != nil && f.DueDate.Before(now)
		}},
		{"manufacturer", firmward.FindingFilter{Manufacturer: " acme "}, func(f *firmward.Finding) bool {
			return f.Status == firmward.FindingOpen && manufacturers[f.DeviceID] != "Globex"
		}},
		{"combined", firmward.FindingFilter{Manufacturer: "GLOBEX", KEV: true, Statuses: firmward.FindingStatuses}, func(f *firmward.Finding) bool {
			return manufacturers[f.DeviceID] == "Globex" && f.KEV
		}},
	}
	for _, tc := range cases {
		var want []int64
		for _, f := range all {
			if tc.keep(f) {
				want = append(want, f.ID)
			}
		}
		tc.f.Limit = firmward.MaxPageSize
		page, _, err := e.findings.FindFindings(ctx, tc.f)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []int64
		for _, f := range page {
			got = append(got, f.ID)
		}
		if len(want) == 0 {
			t.Errorf("%s: the case selects nothing", tc.name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
	}
	// all is in priority order.
	for i := 1; i < len(all); i++ {
		p, q := all[i-1], all[i]
		if p.Priority < q.Priority || p.Priority == q.Priority && p.ID > q.ID {
			t.Fatalf("order broken at %d: %d/%d before %d/%d", i, p.Priority, p.ID, q.Priority, q.ID)
		}
	}
	for name, f := range map[string]firmward.FindingFilter{
		"status":   {Status: "closed"},
		"statuses": {Statuses: []firmward.FindingStatus{firmward.FindingOpen, "gone"}},
		"decision": {Decision: "Soon"},
		"cursor":   {After: "x"},
	} {
		_, _, err := e.findings.FindFindings(ctx, f)
		wantCode(t, err, firmward.EINVALID)
		_ = name
	}
}

func testFindingPaging(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b)
	var want []int64
	for d := range 2 {
		id := e.device(t, fmt.Sprintf("dev-%d", d), "Acme")
		var found []firmward.Finding
		for i := range 13 {
			found = append(found, testFinding(fmt.Sprintf("CVE-2023-%04d", 1000+i), i%4-1)) // ties, one negative
		}
		e.sync(t, id, found...)
	}
	all, _, err := e.findings.FindFindings(ctx, firmward.FindingFilter{Limit: firmward.MaxPageSize})
	if err != nil || len(all) != 26 {
		t.Fatal(len(all), err)
	}
	for _, f := range all {
		want = append(want, f.ID)
	}
	var got []int64
	after, pages := "", 0
	for {
		page, next, err := e.findings.FindFindings(ctx, firmward.FindingFilter{After: after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page {
			got = append(got, f.ID)
		}
		if next == "" {
			break
		}
		after = next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 4 || !slices.Equal(got, want) {
		t.Errorf("%d pages: %v, want 4 pages: %v", pages, got, want)
	}
	// The default page size applies.
	if page, _, _ := e.findings.FindFindings(ctx, firmward.FindingFilter{Limit: -1}); len(page) != 26 {
		t.Errorf("default limit: %d", len(page))
	}
}

func testFindingUpdate(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b)
	dev := e.device(t, "sensor", "Acme")
	e.sync(t, dev, testFinding("CVE-2024-0001", 1), testFinding("CVE-2024-0002", 1))
	e.sync(t, dev, testFinding("CVE-2024-0001", 1)) // 0002 fixed
	got := e.byCVE(t, dev)
	id, fixedID := got["CVE-2024-0001"].ID, got["CVE-2024-0002"].ID
	today := e.now().Format(time.DateOnly)
	tomorrow := e.now().Add(24 * time.Hour).Format(time.DateOnly)

	for _, tc := range []struct {
		name string
		id   int64
		u    firmward.FindingUpdate
		code string
	}{
		{"fixed by hand", id, firmward.FindingUpdate{Status: firmward.FindingFixed}, firmward.EINVALID},
		{"unknown status", id, firmward.FindingUpdate{Status: "closed"}, firmward.EINVALID},
		{"empty status", id, firmward.FindingUpdate{}, firmward.EINVALID},
		{"mitigated without note", id, firmward.FindingUpdate{Status: firmward.FindingMitigated, Note: "  "}, firmward.EINVALID},
		{"accepted without date", id, firmward.FindingUpdate{Status: firmward.FindingRiskAccepted}, firmward.EINVALID},
		{"accepted until today", id, firmward.FindingUpdate{Status: firmward.FindingRiskAccepted, AcceptedUntil: today}, firmward.EINVALID},
		{"accepted bad date", id, firmward.FindingUpdate{Status: firmward.FindingRiskAccepted, AcceptedUntil: "2099-13-01"}, firmward.EINVALID},
		{"accepted unpadded date", id, firmward.FindingUpdate{Status: firmward.FindingRiskAccepted, AcceptedUntil: "2099-1-1"}, firmward.EINVALID},
		{"not affected without vex", id, firmward.FindingUpdate{Status: firmward.FindingNotAffected}, firmward.EINVALID},
		{"not affected bad vex", id, firmward.FindingUpdate{Status: firmward.FindingNotAffected, VEXJustification: "trust me"}, firmward.EINVALID},
		{"date on open", id, firmward.FindingUpdate{Status: firmward.FindingOpen, AcceptedUntil: tomorrow}, firmward.EINVALID},
		{"vex on mitigated", id, firmward.FindingUpdate{Status: firmward.FindingMitigated, Note: "x", VEXJustification: "component_not_present"}, firmward.EINVALID},
		{"missing", id + 100, firmward.FindingUpdate{Status: firmward.FindingOpen}, firmward.ENOTFOUND},
		{"fixed finding", fixedID, firmward.FindingUpdate{Status: firmward.FindingMitigated, Note: "x"}, firmward.ECONFLICT},
	} {
		_, err := e.findings.UpdateFinding(ctx, tc.id, tc.u)
		if firmward.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if n := len(auditOf(t, e.db, firmward.ActionFindingSet)); n != 0 {
		t.Fatalf("%d finding.update events after refused updates", n)
	}

	steps := []struct {
		u       firmward.FindingUpdate
		changes []firmward.FieldChange
	}{
		{firmward.FindingUpdate{Status: firmward.FindingRiskAccepted, AcceptedUntil: tomorrow, Note: " until the swap "}, []firmward.FieldChange{
			{Field: "status", Old: "open", New: "risk-accepted"}, {Field: "note", New: "until the swap"}, {Field: "accepted_until", New: tomorrow},
		}},
		{firmward.FindingUpdate{Status: firmward.FindingRiskAccepted, AcceptedUntil: tomorrow, Note: "until the swap"}, nil}, // no change
		{firmward.FindingUpdate{Status: firmward.FindingNotAffected, VEXJustification: "component_not_present", Note: "until the swap"}, []firmward.FieldChange{
			{Field: "status", Old: "risk-accepted", New: "not-affected"}, {Field: "accepted_until", Old: tomorrow}, {Field: "vex_justification", New: "component_not_present"},
		}},
		{firmward.FindingUpdate{Status: firmward.FindingOpen}, []firmward.FieldChange{
			{Field: "status", Old: "not-affected", New: "open"}, {Field: "note", Old: "until the swap"}, {Field: "vex_justification", Old: "component_not_present"},
		}},
	}
	events := 0
	for i, s := range steps {
		e.clk.Add(time.Minute)
		f, err := e.findings.UpdateFinding(ctx, id, s.u)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		stored, err := e.findings.FindFindingByID(ctx, id)
		if err != nil || !reflect.DeepEqual(stored, f) {
			t.Errorf("step %d: returned %+v, stored %+v (%v)", i, f, stored, err)
		}
		if f.Status != s.u.Status {
			t.Errorf("step %d: status %q", i, f.Status)
		}
		evs := auditOf(t, e.db, firmward.ActionFindingSet)
		if s.changes == nil {
			if len(evs) != events {
				t.Errorf("step %d: a no-op update was recorded", i)
			}
			continue
		}
		events++
		if len(evs) != events {
			t.Fatalf("step %d: %d events, want %d", i, len(evs), events)
		}
		last := evs[len(evs)-1]
		if last.ObjectType != "finding" || last.ObjectID != strconv.FormatInt(id, 10) || !reflect.DeepEqual(last.Changes, s.changes) {
			t.Errorf("step %d: event %s %s %+v, want changes %+v", i, last.ObjectType, last.ObjectID, last.Changes, s.changes)
		}
		if !f.UpdatedAt.Equal(e.now()) {
			t.Errorf("step %d: updated_at %v", i, f.UpdatedAt)
		}
	}
	verifyOK(t, e.db)
}

// auditOf returns the events of one action in seq order.
func auditOf(t *testing.T, db *DB, action string) []*firmward.AuditEvent {
	t.Helper()
	var out []*firmward.AuditEvent
	for _, ev := range auditEvents(t, db) {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

func testFindingDeleteDevice(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b)
	gone, kept := e.device(t, "gone", "Acme"), e.device(t, "kept", "Acme")
	e.sync(t, gone, testFinding("CVE-2024-0001", 1), testFinding("CVE-2024-0002", 1))
	e.sync(t, kept, testFinding("CVE-2024-0001", 1))
	if err := e.devices.DeleteDevice(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.db, "findings"); n != 1 {
		t.Errorf("%d findings after deleting a device, want 1", n)
	}
	if got := e.byCVE(t, kept); len(got) != 1 {
		t.Errorf("kept device's findings: %v", got)
	}
	_, err := e.findings.SyncDeviceFindings(ctx, gone, []firmward.Finding{testFinding("CVE-2024-0001", 1)})
	wantCode(t, err, firmward.ENOTFOUND)
}

// BenchmarkSyncFindings stores the matching of a fleet: 10,000 devices
// with 20 findings each, first into an empty table, then again with 10%
// of the findings changed (per device: one CVE gone and one new, one
// EPSS score moved). Run it once:
//
//	CI=true go test ./sqlstore -run '^$' -bench SyncFindings -benchtime 1x
func BenchmarkSyncFindings(b *testing.B) {
	const syncBenchBatch = 500
	const devices, perDevice = 10_000, 20
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db := be.open(b, Options{})
			res, err := NewDeviceService(db).ImportDevices(ctx, benchRows(devices), firmward.ImportOptions{})
			if err != nil {
				b.Fatal(err)
			}
			svc := NewFindingService(db)
			found := func(dev, shift int) []firmward.Finding {
				out := make([]firmward.Finding, perDevice)
				for k := range out {
					cve := (dev*7 + k + shift) % 50_000
					f := testFinding(fmt.Sprintf("CVE-2024-%05d", cve), (dev+cve)%100)
					f.Evidence.Version = strconv.Itoa(dev)
					if shift > 0 && k == 0 {
						f.EPSS = 0.75
					}
					out[k] = f
				}
				return out
			}
			var first, again time.Duration
			runs := 0
			syncAll := func(shift int) *firmward.FindingSyncResult {
				var sum firmward.FindingSyncResult
				for lo := 0; lo < len(res.IDs); lo += syncBenchBatch {
					batch := make([]firmward.DeviceFindings, 0, syncBenchBatch)
					for i := lo; i < min(lo+syncBenchBatch, len(res.IDs)); i++ {
						batch = append(batch, firmward.DeviceFindings{DeviceID: res.IDs[i], Found: found(i, shift)})
					}
					r, err := svc.SyncFindings(ctx, batch)
					if err != nil {
						b.Fatal(err)
					}
					sum.Add(r)
				}
				return &sum
			}
			for b.Loop() {
				runs++
				b.StopTimer()
				exec(b, db, "DELETE FROM findings")
				b.StartTimer()
				start := time.Now()
				syncAll(0)
				first += time.Since(start)
				start = time.Now()
				r := syncAll(1)
				if *r != (firmward.FindingSyncResult{Devices: devices, Opened: devices, Fixed: devices, Updated: devices}) {
					b.Fatalf("re-sync: %+v", r)
				}
				again += time.Since(start)
			}
			b.ReportMetric(float64(devices*runs)/first.Seconds(), "first-devices/s")
			b.ReportMetric(float64(devices*runs)/again.Seconds(), "resync-devices/s")
		})
	}
}

// testFindingSyncBatch syncs several devices at once: per-device scopes,
// a device that no longer exists, and refused batches that change nothing.
func testFindingSyncBatch(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b)
	a, c := e.device(t, "cam", "Acme"), e.device(t, "hub", "Acme")
	e.sync(t, a, testFinding("CVE-2024-0001", 1), testFinding("CVE-2024-0002", 1))
	e.sync(t, c, testFinding("CVE-2024-0001", 1), testFinding("CVE-2024-0003", 1))
	events := len(syncEvents(t, e.db))

	// a: a feed changed CVE-2024-0002 (now gone) and added CVE-2024-0004;
	// CVE-2024-0001 is outside the scope and must stay open although
	// Found does not list it. c: a full re-match that finds only 0003.
	res, err := e.findings.SyncFindings(ctx, []firmward.DeviceFindings{
		{DeviceID: a, Found: []firmward.Finding{testFinding("CVE-2024-0004", 2)}, CVEs: []string{"CVE-2024-0002", "cve-2024-0004"}},
		{DeviceID: c, Found: []firmward.Finding{testFinding("CVE-2024-0003", 1)}},
		{DeviceID: c + 100, Found: []firmward.Finding{testFinding("CVE-2024-0009", 1)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := firmward.FindingSyncResult{Devices: 2, Missing: 1, Opened: 1, Fixed: 2}
	if *res != want {
		t.Errorf("SyncFindings = %+v, want %+v", *res, want)
	}
	status := func(dev int64) map[string]firmward.FindingStatus {
		out := map[string]firmward.FindingStatus{}
		for cve, f := range e.byCVE(t, dev) {
			out[cve] = f.Status
		}
		return out
	}
	if got, want := status(a), map[string]firmward.FindingStatus{
		"CVE-2024-0001": firmward.FindingOpen, "CVE-2024-0002": firmward.FindingFixed, "CVE-2024-0004": firmward.FindingOpen,
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("device a: %v, want %v", got, want)
	}
	if got, want := status(c), map[string]firmward.FindingStatus{
		"CVE-2024-0001": firmward.FindingFixed, "CVE-2024-0003": firmward.FindingOpen,
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("device c: %v, want %v", got, want)
	}
	evs := syncEvents(t, e.db)
	if len(evs) != events+2 {
		t.Fatalf("%d sync events, want %d (one per changed device)", len(evs), events+2)
	}
	byObject := map[string][]firmward.FieldChange{}
	for _, ev := range evs[events:] {
		byObject[ev.ObjectID] = ev.Changes
	}
	if got, want := byObject[strconv.FormatInt(a, 10)], []firmward.FieldChange{change("opened", "CVE-2024-0004"), change("fixed", "CVE-2024-0002")}; !reflect.DeepEqual(got, want) {
		t.Errorf("event of a = %+v, want %+v", got, want)
	}
	if got, want := byObject[strconv.FormatInt(c, 10)], []firmward.FieldChange{change("fixed", "CVE-2024-0001")}; !reflect.DeepEqual(got, want) {
		t.Errorf("event of c = %+v, want %+v", got, want)
	}

	// An empty scope syncs nothing; refused batches change nothing.
	res, err = e.findings.SyncFindings(ctx, []firmward.DeviceFindings{{DeviceID: a, CVEs: []string{}}})
	if err != nil || *res != (firmward.FindingSyncResult{Devices: 1}) {
		t.Errorf("empty scope: %+v, %v", res, err)
	}
	before, nEvents := count(t, e.db, "findings"), count(t, e.db, "audit_events")
	for name, batch := range map[string][]firmward.DeviceFindings{
		"device twice": {{DeviceID: a}, {DeviceID: a}},
		"outside scope": {
			{DeviceID: c, Found: []firmward.Finding{testFinding("CVE-2024-0005", 1)}},
			{DeviceID: a, Found: []firmward.Finding{testFinding("CVE-2024-0006", 1)}, CVEs: []string{"CVE-2024-0007"}},
		},
		"bad finding": {{DeviceID: c}, {DeviceID: a, Found: []firmward.Finding{testFinding("CVE-1", 1)}}},
	} {
		if _, err := e.findings.SyncFindings(ctx, batch); firmward.ErrorCode(err) != firmward.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if n := count(t, e.db, "findings"); n != before {
		t.Errorf("%d findings after refused batches, want %d", n, before)
	}
	if n := count(t, e.db, "audit_events"); n != nEvents {
		t.Errorf("%d audit events after refused batches, want %d", n, nEvents)
	}
}
