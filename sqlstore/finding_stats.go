package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/firmward/firmward"
)

// dayMicros is one day in Unix microseconds.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// greatest returns the SQL of the larger of two expressions: SQLite's
// scalar max, PostgreSQL's GREATEST.
func (d dialect) greatest(a, b string) string {
	if d == postgres {
		return "GREATEST(" + a + ", " + b + ")"
	}
	return "max(" + a + ", " + b + ")"
}

// FindingStats counts the open findings of the whole fleet, in one
// consistent snapshot: totals (open, in KEV, overdue at f.Now), open
// findings by SSVC decision and by device manufacturer (the f.Vendors
// with the most), and the number of overdue open findings at the end of
// each of the last f.Days days (UTC), today's being at f.Now.
//
// The history comes from finding_periods (migration 0004), which triggers
// on findings keep: a finding counts at time T when one of its periods
// was open at T (opened_at <= T < closed_at) and that period's due date
// is before T. Findings stored before migration 0004 have one period from
// first_seen to when they left open (see the migration), so their history
// is approximate.
//
// Errors: EINVALID naming days or vendors when out of range.
func (s *FindingService) FindingStats(ctx context.Context, f firmward.FindingStatsFilter) (*firmward.FindingStats, error) {
	var v filterValidator
	days, vendors := f.Days, f.Vendors
	switch {
	case days == 0:
		days = firmward.DefaultStatsDays
	case days < 1 || days > firmward.MaxStatsDays:
		v.add("days", strconv.Itoa(f.Days), fmt.Sprintf("must be between 1 and %d", firmward.MaxStatsDays))
	}
	switch {
	case vendors == 0:
		vendors = firmward.DefaultStatsVendors
	case vendors < 1 || vendors > firmward.MaxStatsVendors:
		v.add("vendors", strconv.Itoa(f.Vendors), fmt.Sprintf("must be between 1 and %d", firmward.MaxStatsVendors))
	}
	if err := findingInvalid("finding statistics filter is not valid", v); err != nil {
		return nil, err
	}
	now := f.Now.UTC().Truncate(time.Microsecond)
	if f.Now.IsZero() {
		now = s.db.nowUTC()
	}
	st := &firmward.FindingStats{Now: now}
	err := s.db.snapshot(ctx, func(tx conn) error {
		if err := decisionCounts(ctx, tx, st); err != nil {
			return err
		}
		if err := vendorCounts(ctx, tx, vendors, st); err != nil {
			return err
		}
		series, err := overdueSeries(ctx, tx, now, days)
		if err != nil {
			return err
		}
		st.OverdueByDay = series
		st.Overdue = series[len(series)-1].Count
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// decisionCounts fills Open, KEV and ByDecision of st; the index
// findings_open_stats (migration 0004) covers the query.
func decisionCounts(ctx context.Context, tx conn, st *firmward.FindingStats) error {
	rows, err := tx.query(ctx, `SELECT decision, COUNT(*), SUM(CASE WHEN kev THEN 1 ELSE 0 END)
		FROM findings WHERE status = ? GROUP BY decision`, string(firmward.FindingOpen))
	if err != nil {
		return fmt.Errorf("counting open findings by decision: %w", err)
	}
	defer func() { _ = rows.Close() }()
	counts := map[string]int64{}
	for rows.Next() {
		var decision string
		var n, kev int64
		if err := rows.Scan(&decision, &n, &kev); err != nil {
			return fmt.Errorf("counting open findings by decision: %w", err)
		}
		counts[decision] += n
		st.Open += n
		st.KEV += kev
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counting open findings by decision: %w", err)
	}
	for _, d := range decisions {
		st.ByDecision = append(st.ByDecision, firmward.NamedCount{Name: d, Count: counts[d]})
		delete(counts, d)
	}
	// Anything else (no decision yet; the store refuses unknown ones)
	// counts as undecided.
	var rest int64
	for _, n := range counts {
		rest += n
	}
	if rest > 0 {
		st.ByDecision = append(st.ByDecision, firmward.NamedCount{Name: "", Count: rest})
	}
	return nil
}

// vendorCounts fills Vendors (the limit manufacturers with the most open
// findings, compared case-insensitively and named as one of their devices
// spells it) and OtherVendors. It needs st.Open.
func vendorCounts(ctx context.Context, tx conn, limit int, st *firmward.FindingStats) error {
	// Counting per device first joins each device once, not each finding.
	rows, err := tx.query(ctx, `SELECT MIN(d.manufacturer), SUM(f.n) FROM
		(SELECT device_id, COUNT(*) AS n FROM findings WHERE status = ? GROUP BY device_id) f
		JOIN devices d ON d.id = f.device_id
		GROUP BY d.manufacturer_lc ORDER BY SUM(f.n) DESC, d.manufacturer_lc LIMIT ?`,
		string(firmward.FindingOpen), limit)
	if err != nil {
		return fmt.Errorf("counting open findings by vendor: %w", err)
	}
	defer func() { _ = rows.Close() }()
	st.Vendors = []firmward.NamedCount{}
	var listed int64
	for rows.Next() {
		var c firmward.NamedCount
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			return fmt.Errorf("counting open findings by vendor: %w", err)
		}
		listed += c.Count
		st.Vendors = append(st.Vendors, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counting open findings by vendor: %w", err)
	}
	st.OtherVendors = max(0, st.Open-listed)
	return nil
}

// overdueSeries counts overdue open findings at the end of each of the
// last days days (UTC) and at now for today.
//
// A period is overdue from start = max(opened_at, due_date + 1µs) (the
// first instant at which it is open and past due) until closed_at; one
// whose closed_at is not after start never is. The count at T is then the
// number of starts at or before T minus the number of ends at or before
// T. Starts and ends are grouped in the database by the first day-end at
// or after them, so that one row per day comes back whatever the size of
// the fleet; today, whose point is now rather than a day-end, is counted
// directly. (Three simple scans measured faster on SQLite than one scan
// grouped by every key at once: its GROUP BY sorts.)
func overdueSeries(ctx context.Context, tx conn, now time.Time, days int) ([]firmward.DayCount, error) {
	today := now.Truncate(24 * time.Hour) // UTC midnight: now is UTC
	first := today.AddDate(0, 0, -(days - 1))
	out := make([]firmward.DayCount, days)
	for i := range out {
		out[i].Day = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	start := tx.db.dialect.greatest("opened_at", "due_date + 1")
	periods := "(SELECT " + start + " AS s, closed_at AS e FROM finding_periods WHERE due_date IS NOT NULL) p WHERE (p.e IS NULL OR p.e > p.s)"

	if days > 1 {
		// Day-ends of the days before today: T_i = t0 + i days.
		t0 := micros(first.AddDate(0, 0, 1))
		last := t0 + int64(days-2)*dayMicros
		bucket := func(col string) string {
			return "CASE WHEN " + col + " <= ? THEN 0 ELSE (" + col + " - ? + " + strconv.FormatInt(dayMicros-1, 10) + ") / " +
				strconv.FormatInt(dayMicros, 10) + " END"
		}
		delta := make([]int64, days-1)
		for _, q := range []struct {
			col  string
			sign int64
		}{{"p.s", 1}, {"p.e", -1}} {
			err := countBuckets(ctx, tx, "SELECT b, COUNT(*) FROM (SELECT "+bucket(q.col)+" AS b FROM "+periods+
				" AND "+q.col+" <= ?) q GROUP BY b", []any{t0, t0, last}, func(b, n int64) {
				if b >= 0 && b < int64(len(delta)) {
					delta[b] += q.sign * n
				}
			})
			if err != nil {
				return nil, err
			}
		}
		var run int64
		for i, d := range delta {
			run += d
			out[i].Count = run
		}
	}
	t := micros(now)
	if err := tx.queryRow(ctx, "SELECT COUNT(*) FROM "+periods+" AND p.s <= ? AND (p.e IS NULL OR p.e > ?)", t, t).Scan(&out[days-1].Count); err != nil {
		return nil, fmt.Errorf("counting overdue findings now: %w", err)
	}
	return out, nil
}

// countBuckets runs a query of (bucket, count) rows and hands each to fn.
func countBuckets(ctx context.Context, tx conn, q string, args []any, fn func(b, n int64)) error {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("counting overdue findings per day: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return fmt.Errorf("counting overdue findings per day: %w", err)
		}
		fn(b, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counting overdue findings per day: %w", err)
	}
	return nil
}
