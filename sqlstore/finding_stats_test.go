package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestFindingStats runs the statistics suite on SQLite and PostgreSQL.
func TestFindingStats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			fn   func(t *testing.T, b backend)
		}{
			{"History", testFindingStatsHistory},
			{"Invalid", testFindingStatsInvalid},
			{"Empty", testFindingStatsEmpty},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, b)
			})
		}
	})
}

// statFinding is a finding with a decision, a due date (nil for none)
// and KEV.
func statFinding(cve, decision string, due *time.Time, kev bool) firmward.Finding {
	f := testFinding(cve, 10)
	f.Decision, f.DueDate, f.KEV = decision, due, kev
	return f
}

func at(month time.Month, day, hour int) *time.Time {
	t := time.Date(2025, month, day, hour, 0, 0, 0, time.UTC)
	return &t
}

// testFindingStatsHistory walks four days of a small fleet through every
// way a finding enters and leaves the overdue count: opening past due,
// becoming due, a person's status, matching fixing it, reopening, and the
// device being deleted.
func testFindingStatsHistory(t *testing.T, b backend) {
	ctx := context.Background()
	e := newFindingEnv(t, b) // clock: 2025-03-14 09:26 UTC
	a := e.device(t, "router", "TP-Link")
	bdev := e.device(t, "extender", "TP-Link")
	c := e.device(t, "camera", "Axis")
	d := e.device(t, "mystery box", "")

	// Mar 14: 0001 due at noon (overdue by the end of the day), 0002
	// without a due date (never overdue), 0003 already past due.
	e.sync(t, a, statFinding("CVE-2025-0001", firmward.DecisionImmediate, at(3, 14, 12), true),
		statFinding("CVE-2025-0002", firmward.DecisionDefer, nil, false))
	e.sync(t, c, statFinding("CVE-2025-0003", firmward.DecisionOutOfCycle, at(3, 13, 0), false))

	// Mar 15: a person mitigates 0003; 0004 opens, due at the very end of
	// the day (not yet overdue then); matching A again changes nothing.
	e.clk.Add(24 * time.Hour)
	f3 := e.byCVE(t, c)["CVE-2025-0003"]
	if _, err := e.findings.UpdateFinding(ctx, f3.ID, firmward.FindingUpdate{Status: firmward.FindingMitigated, Note: "firewalled"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t, bdev, statFinding("CVE-2025-0004", firmward.DecisionScheduled, at(3, 16, 0), true))
	e.sync(t, a, statFinding("CVE-2025-0001", firmward.DecisionImmediate, at(3, 14, 12), true),
		statFinding("CVE-2025-0002", firmward.DecisionDefer, nil, false))

	// Mar 16: new firmware fixes 0001; 0005 opens past due, undecided.
	e.clk.Add(24 * time.Hour)
	e.sync(t, a, statFinding("CVE-2025-0002", firmward.DecisionDefer, nil, false))
	e.sync(t, d, statFinding("CVE-2025-0005", "", at(3, 10, 0), false))

	// Mar 17: the mitigation is withdrawn; 0003 is open (and overdue) again.
	e.clk.Add(24 * time.Hour)
	if _, err := e.findings.UpdateFinding(ctx, f3.ID, firmward.FindingUpdate{Status: firmward.FindingOpen}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.db, "finding_periods"); n != 6 {
		t.Errorf("%d finding periods, want 6 (0001, 0002, 0003 twice, 0004, 0005)", n)
	}

	now := e.now().Add(time.Hour)
	st, err := e.findings.FindingStats(ctx, firmward.FindingStatsFilter{Days: 5, Vendors: 2, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Now.Equal(now) || st.Open != 4 || st.KEV != 1 || st.Overdue != 3 {
		t.Errorf("now %v open %d kev %d overdue %d, want %v 4 1 3", st.Now, st.Open, st.KEV, st.Overdue, now)
	}
	wantDecisions := []firmward.NamedCount{
		{Name: firmward.DecisionImmediate, Count: 0},
		{Name: firmward.DecisionOutOfCycle, Count: 1},
		{Name: firmward.DecisionScheduled, Count: 1},
		{Name: firmward.DecisionDefer, Count: 1},
		{Name: "", Count: 1},
	}
	if !reflect.DeepEqual(st.ByDecision, wantDecisions) {
		t.Errorf("by decision = %+v, want %+v", st.ByDecision, wantDecisions)
	}
	if len(st.Vendors) != 2 || !strings.EqualFold(st.Vendors[0].Name, "tp-link") || st.Vendors[0].Count != 2 ||
		st.Vendors[1] != (firmward.NamedCount{Name: "", Count: 1}) || st.OtherVendors != 1 {
		t.Errorf("vendors = %+v other %d, want TP-Link 2, \"\" 1 (before axis), other 1", st.Vendors, st.OtherVendors)
	}
	wantDays := []firmward.DayCount{
		{Day: "2025-03-13", Count: 0}, // nothing yet
		{Day: "2025-03-14", Count: 2}, // 0001 (due at noon), 0003
		{Day: "2025-03-15", Count: 1}, // 0001; 0003 mitigated; 0004 due at midnight, not before it
		{Day: "2025-03-16", Count: 2}, // 0004, 0005; 0001 fixed
		{Day: "2025-03-17", Count: 3}, // now: 0003 reopened, 0004, 0005
	}
	if !reflect.DeepEqual(st.OverdueByDay, wantDays) {
		t.Errorf("overdue by day = %+v, want %+v", st.OverdueByDay, wantDays)
	}

	// One day only: today's point alone. Defaults: 30 days.
	if st, err = e.findings.FindingStats(ctx, firmward.FindingStatsFilter{Days: 1, Now: now}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.OverdueByDay, wantDays[4:]) || len(st.Vendors) != 3 {
		t.Errorf("one day: overdue by day = %+v, vendors %+v", st.OverdueByDay, st.Vendors)
	}
	if st, err = e.findings.FindingStats(ctx, firmward.FindingStatsFilter{}); err != nil {
		t.Fatal(err)
	}
	if len(st.OverdueByDay) != firmward.DefaultStatsDays || st.OverdueByDay[len(st.OverdueByDay)-1].Day != "2025-03-17" || !st.Now.Equal(e.now()) {
		t.Errorf("defaults: %d days ending %v at %v", len(st.OverdueByDay), st.OverdueByDay[len(st.OverdueByDay)-1], st.Now)
	}

	// Deleting a device takes its findings' history with it.
	if err := e.devices.DeleteDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if st, err = e.findings.FindingStats(ctx, firmward.FindingStatsFilter{Days: 5, Now: now}); err != nil {
		t.Fatal(err)
	}
	got := make([]int64, len(st.OverdueByDay))
	for i, dc := range st.OverdueByDay {
		got[i] = dc.Count
	}
	if want := []int64{0, 2, 1, 1, 2}; !reflect.DeepEqual(got, want) || st.Open != 3 || st.Overdue != 2 {
		t.Errorf("after deleting the device: overdue by day %v open %d overdue %d, want %v 3 2", got, st.Open, st.Overdue, want)
	}
	if n := count(t, e.db, "finding_periods"); n != 5 {
		t.Errorf("%d finding periods after deleting the device, want 5", n)
	}
}

func testFindingStatsInvalid(t *testing.T, b backend) {
	e := newFindingEnv(t, b)
	for _, tc := range []struct {
		name  string
		f     firmward.FindingStatsFilter
		field string
	}{
		{"negative days", firmward.FindingStatsFilter{Days: -1}, "days"},
		{"too many days", firmward.FindingStatsFilter{Days: firmward.MaxStatsDays + 1}, "days"},
		{"too many vendors", firmward.FindingStatsFilter{Vendors: firmward.MaxStatsVendors + 1}, "vendors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.findings.FindingStats(context.Background(), tc.f)
			wantCode(t, err, firmward.EINVALID)
			if ds := firmward.ErrorDetails(err); len(ds) != 1 || ds[0].Field != tc.field {
				t.Errorf("details = %+v, want one naming %s", ds, tc.field)
			}
		})
	}
}

func testFindingStatsEmpty(t *testing.T, b backend) {
	e := newFindingEnv(t, b)
	st, err := e.findings.FindingStats(context.Background(), firmward.FindingStatsFilter{Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	if st.Open != 0 || len(st.ByDecision) != 4 || len(st.Vendors) != 0 || st.Vendors == nil || len(st.OverdueByDay) != 3 {
		t.Errorf("empty stats = %+v", st)
	}
	for _, dc := range st.OverdueByDay {
		if dc.Count != 0 {
			t.Errorf("day %s: %d overdue in an empty fleet", dc.Day, dc.Count)
		}
	}
}

// BenchmarkFindingStats measures FindingStats over 10,000 devices with 20
// open findings each (200,000 findings, due dates spread over 60 days), and
// what the finding_periods triggers cost the first sync of those findings:
// the same sync with the triggers dropped (after the other, on a fresh
// database) is reported beside it.
//
//	go test ./sqlstore -run '^$' -bench FindingStats -benchtime 5x
func BenchmarkFindingStats(b *testing.B) {
	const devices, perDevice, batchLen = 10_000, 20, 500
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
			syncAll := func(db *DB) time.Duration {
				res, err := NewDeviceService(db).ImportDevices(ctx, benchRows(devices), firmward.ImportOptions{})
				if err != nil {
					b.Fatal(err)
				}
				svc := NewFindingService(db)
				start := time.Now()
				for lo := 0; lo < len(res.IDs); lo += batchLen {
					batch := make([]firmward.DeviceFindings, 0, batchLen)
					for i := lo; i < min(lo+batchLen, len(res.IDs)); i++ {
						found := make([]firmward.Finding, perDevice)
						for k := range found {
							due := now.AddDate(0, 0, (i+k)%60-45)
							found[k] = statFinding(fmt.Sprintf("CVE-2024-%05d", (i*7+k)%50_000), decisions[(i+k)%4], &due, k == 0)
						}
						batch = append(batch, firmward.DeviceFindings{DeviceID: res.IDs[i], Found: found})
					}
					if _, err := svc.SyncFindings(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			db := be.open(b, Options{Now: func() time.Time { return now }})
			with := syncAll(db)
			plain := be.open(b, Options{Now: func() time.Time { return now }})
			drop := []string{"DROP TRIGGER findings_period_insert", "DROP TRIGGER findings_period_update", "DROP TRIGGER findings_period_delete"}
			if plain.dialect == postgres {
				drop = []string{"DROP TRIGGER findings_periods ON findings"}
			}
			for _, q := range drop {
				exec(b, plain, q)
			}
			without := syncAll(plain)
			svc := NewFindingService(db)
			var st *firmward.FindingStats
			for b.Loop() {
				var err error
				if st, err = svc.FindingStats(ctx, firmward.FindingStatsFilter{Days: 30, Now: now.Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			if st.Open != devices*perDevice || st.OverdueByDay[29].Count != st.Overdue {
				b.Fatalf("stats: open %d, overdue %d, today's point %d", st.Open, st.Overdue, st.OverdueByDay[29].Count)
			}
			b.ReportMetric(with.Seconds(), "sync-s")
			b.ReportMetric(without.Seconds(), "sync-no-history-s")
		})
	}
}
