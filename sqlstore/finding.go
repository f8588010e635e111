package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// FindingService keeps the findings of matching in the database.
type FindingService struct {
	db *DB
}

var _ firmward.FindingService = (*FindingService)(nil)

// NewFindingService returns the findings kept in db.
func NewFindingService(db *DB) *FindingService { return &FindingService{db: db} }

// findingColumns are the stored fields of a Finding, in scanFinding order;
// findingArgs fills all but id.
var findingColumns = []string{
	"id", "device_id", "cve", "status", "certain", "evidence",
	"cvss_score", "cvss_vector", "kev", "kev_due_date", "ransomware", "epss", "epss_percentile",
	"decision", "decision_why", "priority", "due_date", "fixed_in",
	"note", "accepted_until", "vex_justification", "first_seen", "last_seen", "fixed_at", "updated_at",
}

var (
	// selectFindingColumns is "f.id, f.device_id, …".
	selectFindingColumns = "f." + strings.Join(findingColumns, ", f.")
	// upsertFindingHead and upsertFindingTail frame the multi-row upsert of
	// a sync: new rows are inserted, stored ones (same device and CVE)
	// take every value but their key and first_seen.
	upsertFindingHead = "INSERT INTO findings (" + strings.Join(findingColumns[1:], ", ") + ") VALUES "
	upsertFindingTail = " ON CONFLICT (device_id, cve) DO UPDATE SET " + excludedSet(findingColumns[1:], "device_id", "cve", "first_seen")
)

// excludedSet returns "a = excluded.a, …" for cols but skip.
func excludedSet(cols []string, skip ...string) string {
	var parts []string
	for _, c := range cols {
		if !slices.Contains(skip, c) {
			parts = append(parts, c+" = excluded."+c)
		}
	}
	return strings.Join(parts, ", ")
}

// findingArgs appends the values of findingColumns[1:] for f; evidence is
// the JSON of f.Evidence.
func findingArgs(args []any, f *firmward.Finding, evidence string) []any {
	return append(args,
		f.DeviceID, f.CVE, string(f.Status), f.Certain, evidence,
		f.CVSSScore, f.CVSSVector, f.KEV, f.KEVDueDate, f.Ransomware, f.EPSS, f.EPSSPercentile,
		f.Decision, f.DecisionWhy, f.Priority, nullMicros(f.DueDate), f.FixedIn,
		f.Note, f.AcceptedUntil, f.VEXJustification, micros(f.FirstSeen), micros(f.LastSeen), nullMicros(f.FixedAt), micros(f.UpdatedAt),
	)
}

func scanFinding(s scanner) (*firmward.Finding, error) {
	var f firmward.Finding
	var status, evidence string
	var due, fixedAt sql.NullInt64
	var first, last, updated int64
	err := s.Scan(&f.ID, &f.DeviceID, &f.CVE, &status, &f.Certain, &evidence,
		&f.CVSSScore, &f.CVSSVector, &f.KEV, &f.KEVDueDate, &f.Ransomware, &f.EPSS, &f.EPSSPercentile,
		&f.Decision, &f.DecisionWhy, &f.Priority, &due, &f.FixedIn,
		&f.Note, &f.AcceptedUntil, &f.VEXJustification, &first, &last, &fixedAt, &updated)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(evidence), &f.Evidence); err != nil {
		return nil, fmt.Errorf("finding %d: reading evidence: %w", f.ID, err)
	}
	f.Status = firmward.FindingStatus(status)
	f.DueDate, f.FixedAt = fromNullMicros(due), fromNullMicros(fixedAt)
	f.FirstSeen, f.LastSeen, f.UpdatedAt = fromMicros(first), fromMicros(last), fromMicros(updated)
	return &f, nil
}

// FindFindingByID returns one finding or ENOTFOUND.
func (s *FindingService) FindFindingByID(ctx context.Context, id int64) (*firmward.Finding, error) {
	return findFinding(ctx, s.db.read(), id, false)
}

// findFinding reads one finding, locking its row on PostgreSQL when lock
// is set.
func findFinding(ctx context.Context, c conn, id int64, lock bool) (*firmward.Finding, error) {
	q := "SELECT " + selectFindingColumns + " FROM findings f WHERE f.id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	f, err := scanFinding(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "finding %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading finding %d: %w", id, err)
	}
	return f, nil
}

// decisions are the valid non-empty values of Finding.Decision.
var decisions = []string{firmward.DecisionImmediate, firmward.DecisionOutOfCycle, firmward.DecisionScheduled, firmward.DecisionDefer}

// normalizeFound checks and copies the findings of one device's matching:
// each needs a CVE id, at most once, a known decision (or none) and the
// device's ID (or none). Status and the fields a person writes are
// ignored: the sync decides the status. Every problem is reported at once
// as EINVALID, Line being the 1-based position in found.
func normalizeFound(deviceID int64, found []firmward.Finding) ([]firmward.Finding, error) {
	out := make([]firmward.Finding, len(found))
	var details []firmward.ErrorDetail
	bad := func(i int, field, value, reason string) {
		details = append(details, firmward.ErrorDetail{Line: i + 1, Field: field, Value: value, Reason: reason})
	}
	seen := make(map[string]int, len(found))
	for i := range found {
		f := found[i]
		f.CVE = normalizeCVE(f.CVE)
		switch {
		case !cveIDPattern.MatchString(f.CVE):
			bad(i, "cve", found[i].CVE, "not a CVE id (want CVE-YYYY-NNNN)")
		case seen[f.CVE] > 0:
			bad(i, "cve", f.CVE, fmt.Sprintf("listed twice (first at %d): one finding per CVE", seen[f.CVE]))
		default:
			seen[f.CVE] = i + 1
		}
		if f.DeviceID != 0 && f.DeviceID != deviceID {
			bad(i, "device_id", strconv.FormatInt(f.DeviceID, 10), fmt.Sprintf("finding of another device (syncing device %d)", deviceID))
		}
		if f.Decision != "" && !slices.Contains(decisions, f.Decision) {
			bad(i, "decision", f.Decision, "want one of "+strings.Join(decisions, ", "))
		}
		f.DeviceID = deviceID
		f.DueDate = canonTime(f.DueDate)
		f.ID, f.Status, f.Note, f.AcceptedUntil, f.VEXJustification, f.FixedAt = 0, "", "", "", "", nil
		out[i] = f
	}
	if len(details) > 0 {
		return nil, &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("findings of device %d are not valid", deviceID), Details: details}
	}
	return out, nil
}

// canonTime returns t as stored (UTC, whole microseconds), nil for nil.
func canonTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC().Truncate(time.Microsecond)
	return &c
}

// earlier returns the earlier of two optional times (a nil one does not
// count).
func earlier(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || !b.Before(*a):
		return a
	}
	return b
}

// sameMatching reports whether the fields that matching writes are equal.
func sameMatching(a, b *firmward.Finding) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.Certain == b.Certain && a.Evidence == b.Evidence &&
		a.CVSSScore == b.CVSSScore && a.CVSSVector == b.CVSSVector &&
		a.KEV == b.KEV && a.KEVDueDate == b.KEVDueDate && a.Ransomware == b.Ransomware &&
		a.EPSS == b.EPSS && a.EPSSPercentile == b.EPSSPercentile &&
		a.Decision == b.Decision && a.DecisionWhy == b.DecisionWhy && a.Priority == b.Priority &&
		sameTime(a.DueDate, b.DueDate) && a.FixedIn == b.FixedIn
}

// setMatching copies the fields that matching writes from m to f.
func setMatching(f, m *firmward.Finding) {
	f.Certain, f.Evidence = m.Certain, m.Evidence
	f.CVSSScore, f.CVSSVector = m.CVSSScore, m.CVSSVector
	f.KEV, f.KEVDueDate, f.Ransomware = m.KEV, m.KEVDueDate, m.Ransomware
	f.EPSS, f.EPSSPercentile = m.EPSS, m.EPSSPercentile
	f.Decision, f.DecisionWhy, f.Priority = m.Decision, m.DecisionWhy, m.Priority
	f.FixedIn = m.FixedIn
}

// SyncDeviceFindings stores the result of matching device deviceID against
// every CVE, in one transaction: found is everything that matches now.
//
//   - A CVE without a stored finding opens one; its DueDate is the one in
//     found: the caller (risk) computes due dates, the store only keeps them.
//   - A stored finding that is found again takes the new matching fields
//     (certainty, evidence, scores, KEV, EPSS, decision, priority, fixed_in)
//     and last_seen (an unchanged one only once lastSeenEvery has passed
//     since its last_seen), and keeps first_seen and what a person set (status,
//     note, acceptance, VEX). Its due date becomes the earlier of the stored
//     and the given one, so that a re-sync can tighten a deadline (a CVE
//     that enters KEV) but never postpones one silently. A fixed finding
//     that is found again reopens (counted in Opened) with the given due
//     date; a risk-accepted one whose AcceptedUntil is before today (the
//     DB's clock, UTC) reopens too (Reopened) and loses its AcceptedUntil.
//   - An open, mitigated or risk-accepted finding that is not found any more
//     becomes fixed, with FixedAt now. Not-affected and fixed ones stay.
//
// A sync that changes any status records one ActionFindingSync event on
// the device listing the CVEs "opened", "fixed" and "reopened". Changes of
// scores, evidence or due dates alone are not audited: they are derived
// data, recomputed on every sync from audited inputs (the device's
// firmware, audited feed imports), and recording them would flood the
// trail after each feed update.
//
// Errors: EINVALID (see below) with nothing changed, ENOTFOUND when the
// device does not exist. found is checked first: a malformed or repeated
// CVE, an unknown decision or a finding of another device is EINVALID.
// found's Status, Note, AcceptedUntil, VEXJustification, ID and times are
// ignored.
func (s *FindingService) SyncDeviceFindings(ctx context.Context, deviceID int64, found []firmward.Finding) (*firmward.FindingSyncResult, error) {
	res, err := s.SyncFindings(ctx, []firmward.DeviceFindings{{DeviceID: deviceID, Found: found}})
	if err != nil {
		return nil, err
	}
	if res.Missing > 0 {
		return nil, firmward.Errorf(firmward.ENOTFOUND, "device %d not found", deviceID)
	}
	res.Devices = 0
	return res, nil
}

// SyncFindings applies the rules of SyncDeviceFindings to every device of
// batch in one transaction, each device within its CVEs scope (nil: every
// CVE), with one ActionFindingSync event per device whose statuses
// changed. Devices that do not exist are skipped and counted in Missing.
// A device listed twice, or a Found entry outside its CVEs scope, is
// EINVALID with nothing changed, as is any entry SyncDeviceFindings would
// reject.
func (s *FindingService) SyncFindings(ctx context.Context, batch []firmward.DeviceFindings) (*firmward.FindingSyncResult, error) {
	in := make([]firmward.DeviceFindings, len(batch))
	ids := make([]int64, len(batch))
	seenDev := make(map[int64]bool, len(batch))
	for i, b := range batch {
		if seenDev[b.DeviceID] {
			return nil, firmward.Errorf(firmward.EINVALID, "device %d is listed twice in one findings sync", b.DeviceID)
		}
		seenDev[b.DeviceID] = true
		found, err := normalizeFound(b.DeviceID, b.Found)
		if err != nil {
			return nil, err
		}
		scope := b.CVEs
		if scope != nil {
			scope = make([]string, len(b.CVEs))
			for j, c := range b.CVEs {
				scope[j] = normalizeCVE(c)
			}
			slices.Sort(scope)
			for j := range found {
				if _, ok := slices.BinarySearch(scope, found[j].CVE); !ok {
					return nil, &firmward.Error{
						Code: firmward.EINVALID, Message: fmt.Sprintf("findings of device %d are not valid", b.DeviceID),
						Details: []firmward.ErrorDetail{{Line: j + 1, Field: "cve", Value: found[j].CVE, Reason: "outside the CVEs this sync is limited to"}},
					}
				}
			}
		}
		in[i] = firmward.DeviceFindings{DeviceID: b.DeviceID, Found: found, CVEs: scope}
		ids[i] = b.DeviceID
	}
	var res firmward.FindingSyncResult
	if len(in) == 0 {
		return &res, nil
	}
	err := s.db.write(ctx, func(tx conn) error {
		res = firmward.FindingSyncResult{}
		// The device rows are locked so that a sync and DeleteDevice (which
		// deletes the findings) or another sync of the device queue.
		exists, err := lockDevices(ctx, tx, ids)
		if err != nil {
			return err
		}
		stored, err := devicesFindings(ctx, tx, ids)
		if err != nil {
			return err
		}
		now := s.db.nowUTC()
		today := now.Format(time.DateOnly)
		var writes []*firmward.Finding
		var seen []int64 // unchanged findings: only last_seen moves
		var events []*firmward.AuditEvent
		for i := range in {
			d := &in[i]
			if !exists[d.DeviceID] {
				res.Missing++
				continue
			}
			res.Devices++
			mine := stored[d.DeviceID]
			if d.CVEs != nil {
				for cve := range mine {
					if _, ok := slices.BinarySearch(d.CVEs, cve); !ok {
						delete(mine, cve)
					}
				}
			}
			w, sn, ev := syncDevice(&res, d, mine, now, today)
			writes = append(writes, w...)
			seen = append(seen, sn...)
			if ev != nil {
				events = append(events, ev)
			}
		}
		if err := upsertFindings(ctx, tx, writes); err != nil {
			return err
		}
		if err := touchFindings(ctx, tx, seen, now); err != nil {
			return err
		}
		return appendAudit(ctx, tx, events)
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// syncDevice compares what matching found for one device with its stored
// findings (within the sync's scope), adds the counts to res and returns
// the findings to write, the ids whose last_seen only moves, and the audit
// event of the status changes (nil when none changed).
func syncDevice(res *firmward.FindingSyncResult, d *firmward.DeviceFindings, stored map[string]*firmward.Finding, now time.Time, today string) (writes []*firmward.Finding, seen []int64, ev *firmward.AuditEvent) {
	var opened, fixed, reopened []string
	for i := range d.Found {
		m := &d.Found[i]
		old := stored[m.CVE]
		if old == nil {
			nf := *m
			nf.Status = firmward.FindingOpen
			nf.FirstSeen, nf.LastSeen, nf.UpdatedAt = now, now, now
			writes = append(writes, &nf)
			opened = append(opened, nf.CVE)
			continue
		}
		delete(stored, m.CVE)
		nf := *old
		setMatching(&nf, m)
		nf.LastSeen = now
		switch {
		case old.Status == firmward.FindingFixed:
			nf.Status, nf.FixedAt, nf.DueDate = firmward.FindingOpen, nil, m.DueDate
			opened = append(opened, nf.CVE)
		case old.Status == firmward.FindingRiskAccepted && old.AcceptedUntil < today:
			nf.Status, nf.AcceptedUntil, nf.DueDate = firmward.FindingOpen, "", earlier(old.DueDate, m.DueDate)
			reopened = append(reopened, nf.CVE)
		default:
			nf.DueDate = earlier(old.DueDate, m.DueDate)
			if sameMatching(old, &nf) {
				if now.Sub(old.LastSeen) >= lastSeenEvery {
					seen = append(seen, old.ID)
				}
				continue
			}
			res.Updated++
		}
		nf.UpdatedAt = now
		writes = append(writes, &nf)
	}
	for _, old := range stored {
		switch old.Status {
		case firmward.FindingOpen, firmward.FindingMitigated, firmward.FindingRiskAccepted:
			nf := *old
			nf.Status, nf.FixedAt, nf.UpdatedAt = firmward.FindingFixed, &now, now
			writes = append(writes, &nf)
			fixed = append(fixed, nf.CVE)
		}
	}
	res.Opened += len(opened)
	res.Fixed += len(fixed)
	res.Reopened += len(reopened)
	if len(opened)+len(fixed)+len(reopened) == 0 {
		return writes, seen, nil
	}
	var changes []firmward.FieldChange
	for _, c := range []struct {
		field string
		cves  []string
	}{{"opened", opened}, {"fixed", fixed}, {"reopened", reopened}} {
		if len(c.cves) > 0 {
			slices.Sort(c.cves)
			changes = append(changes, firmward.FieldChange{Field: c.field, New: strings.Join(c.cves, ", ")})
		}
	}
	return writes, seen, deviceEvent(now, firmward.ActionFindingSync, d.DeviceID, changes)
}

// lastSeenEvery is how often an unchanged finding's last_seen moves: a
// sync that finds it again within this time writes nothing, so that
// re-matching an unchanged fleet (hundreds of thousands of findings)
// writes nothing either, and a daily full run keeps last_seen within a
// day of the truth.
const lastSeenEvery = 24 * time.Hour

// lockDevices reads (and on PostgreSQL locks, in id order so that two
// batches cannot deadlock) the devices ids and returns those that exist.
func lockDevices(ctx context.Context, tx conn, ids []int64) (map[int64]bool, error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	out := make(map[int64]bool, len(ids))
	for start := 0; start < len(sorted); start += maxParams {
		chunk := sorted[start:min(start+maxParams, len(sorted))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		err := func() error {
			rows, err := tx.query(ctx, "SELECT id FROM devices WHERE id IN ("+inList(len(chunk))+") ORDER BY id"+tx.db.dialect.forUpdate(), args...)
			if err != nil {
				return fmt.Errorf("reading devices: %w", err)
			}
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return fmt.Errorf("reading devices: %w", err)
				}
				out[id] = true
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// devicesFindings reads (and on PostgreSQL locks) every finding of the
// devices ids, by device and CVE.
func devicesFindings(ctx context.Context, tx conn, ids []int64) (map[int64]map[string]*firmward.Finding, error) {
	out := make(map[int64]map[string]*firmward.Finding, len(ids))
	for _, id := range ids {
		out[id] = map[string]*firmward.Finding{}
	}
	for start := 0; start < len(ids); start += maxParams {
		chunk := ids[start:min(start+maxParams, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		err := func() error {
			rows, err := tx.query(ctx, "SELECT "+selectFindingColumns+" FROM findings f WHERE f.device_id IN ("+inList(len(chunk))+")"+tx.db.dialect.forUpdate(), args...)
			if err != nil {
				return fmt.Errorf("reading findings: %w", err)
			}
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				f, err := scanFinding(rows)
				if err != nil {
					return fmt.Errorf("reading findings: %w", err)
				}
				out[f.DeviceID][f.CVE] = f
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// upsertFindings writes fs in multi-row upserts on (device_id, cve): new
// findings are inserted, stored ones replaced but for first_seen.
func upsertFindings(ctx context.Context, tx conn, fs []*firmward.Finding) error {
	cols := len(findingColumns) - 1
	per := min(maxParams/cols, 1000)
	args := make([]any, 0, min(len(fs), per)*cols)
	for start := 0; start < len(fs); start += per {
		batch := fs[start:min(start+per, len(fs))]
		args = args[:0]
		for _, f := range batch {
			ev, err := json.Marshal(f.Evidence)
			if err != nil {
				return fmt.Errorf("encoding the evidence of %s: %w", f.CVE, err)
			}
			args = findingArgs(args, f, string(ev))
		}
		if _, err := tx.exec(ctx, upsertFindingHead+placeholders(len(batch), cols)+upsertFindingTail, args...); err != nil {
			return fmt.Errorf("storing findings: %w", err)
		}
	}
	return nil
}

// touchFindings sets last_seen of the findings ids.
func touchFindings(ctx context.Context, tx conn, ids []int64, now time.Time) error {
	per := maxParams - 1
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(start+per, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, micros(now))
		for _, id := range chunk {
			args = append(args, id)
		}
		if _, err := tx.exec(ctx, "UPDATE findings SET last_seen = ? WHERE id IN ("+inList(len(chunk))+")", args...); err != nil {
			return fmt.Errorf("updating last_seen of findings: %w", err)
		}
	}
	return nil
}

// FindFindings returns one page of findings matching f, most urgent first
// (priority descending, then id), and the cursor of the next page ("" at
// the end). With neither Status nor Statuses it lists open findings; both
// together select the union. Overdue keeps open findings due before f.Now
// (the DB's clock when zero). An unknown status or decision, or a
// malformed cursor, is EINVALID.
func (s *FindingService) FindFindings(ctx context.Context, f firmward.FindingFilter) ([]*firmward.Finding, string, error) {
	var v filterValidator
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	statuses := slices.Clone(f.Statuses)
	if f.Status != "" {
		statuses = append(statuses, f.Status)
	}
	if len(statuses) == 0 {
		statuses = []firmward.FindingStatus{firmward.FindingOpen}
	}
	var sargs []any
	for _, st := range statuses {
		if st = filterEnum(&v, "status", st, firmward.FindingStatuses); st != "" && !slices.Contains(sargs, any(string(st))) {
			sargs = append(sargs, string(st))
		}
	}
	if len(sargs) == 1 {
		add("f.status = ?", sargs...)
	} else {
		add("f.status IN ("+inList(len(sargs))+")", sargs...)
	}
	if f.DeviceID != 0 {
		add("f.device_id = ?", f.DeviceID)
	}
	if cve := normalizeCVE(f.CVE); cve != "" {
		add("f.cve = ?", cve)
	}
	if f.KEV {
		add("f.kev = ?", true)
	}
	if f.Decision != "" {
		if !slices.Contains(decisions, f.Decision) {
			v.add("decision", f.Decision, "want one of "+strings.Join(decisions, ", "))
		}
		add("f.decision = ?", f.Decision)
	}
	if f.Overdue {
		now := f.Now
		if now.IsZero() {
			now = s.db.nowUTC()
		}
		add("f.status = ? AND f.due_date < ?", string(firmward.FindingOpen), micros(now))
	}
	join := ""
	if m := strings.TrimSpace(f.Manufacturer); m != "" {
		join = " JOIN devices d ON d.id = f.device_id"
		add("d.manufacturer_lc = ?", strings.ToLower(m))
	}
	if f.After != "" {
		prio, id, ok := parseFindingCursor(f.After)
		if !ok {
			v.add("after", f.After, "not a cursor returned by FindFindings")
		}
		add("(f.priority < ? OR (f.priority = ? AND f.id > ?))", prio, prio, id)
	}
	if err := findingInvalid("finding filter is not valid", v); err != nil {
		return nil, "", err
	}
	limit := pageSize(f.Limit)
	q := "SELECT " + selectFindingColumns + " FROM findings f" + join + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY f.priority DESC, f.id LIMIT ?"
	args = append(args, limit+1)

	rows, err := s.db.read().query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing findings: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.Finding
	for rows.Next() {
		fd, err := scanFinding(rows)
		if err != nil {
			return nil, "", fmt.Errorf("listing findings: %w", err)
		}
		out = append(out, fd)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("listing findings: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = findingCursor(last.Priority, last.ID)
	}
	return out, next, nil
}

// findingCursor encodes the sort key of the last finding of a page as
// "priority.id"; callers treat it as opaque.
func findingCursor(priority int, id int64) string {
	return strconv.Itoa(priority) + "." + strconv.FormatInt(id, 10)
}

func parseFindingCursor(s string) (priority int, id int64, ok bool) {
	p, i, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	priority, err1 := strconv.Atoi(p)
	id, err2 := strconv.ParseInt(i, 10, 64)
	return priority, id, err1 == nil && err2 == nil
}

// UpdateFinding applies a person's decision to finding id and returns the
// result. u.Status must be open, mitigated (with a Note), risk-accepted
// (with AcceptedUntil, YYYY-MM-DD after today by the DB's clock, UTC) or
// not-affected (with a VEXJustification of firmward.VEXJustifications);
// AcceptedUntil and VEXJustification go with those statuses only. Note
// replaces the stored note. Errors: EINVALID, ENOTFOUND, and ECONFLICT for
// a fixed finding (matching fixed it; it reopens when matching finds it
// again). The changed fields are audited as ActionFindingSet on the
// finding; an update that changes nothing records nothing.
func (s *FindingService) UpdateFinding(ctx context.Context, id int64, u firmward.FindingUpdate) (*firmward.Finding, error) {
	now := s.db.nowUTC()
	if err := checkFindingUpdate(&u, now.Format(time.DateOnly)); err != nil {
		return nil, err
	}
	var out *firmward.Finding
	err := s.db.write(ctx, func(tx conn) error {
		old, err := findFinding(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if old.Status == firmward.FindingFixed {
			return firmward.Errorf(firmward.ECONFLICT, "finding %d (%s) is fixed: matching reopens it if the device is affected again", id, old.CVE)
		}
		nf := *old
		nf.Status, nf.Note, nf.AcceptedUntil, nf.VEXJustification = u.Status, u.Note, u.AcceptedUntil, u.VEXJustification
		var changes []firmward.FieldChange
		diff := func(field, o, n string) {
			if o != n {
				changes = append(changes, firmward.FieldChange{Field: field, Old: o, New: n})
			}
		}
		diff("status", string(old.Status), string(nf.Status))
		diff("note", old.Note, nf.Note)
		diff("accepted_until", old.AcceptedUntil, nf.AcceptedUntil)
		diff("vex_justification", old.VEXJustification, nf.VEXJustification)
		if len(changes) == 0 {
			out = old
			return nil
		}
		nf.UpdatedAt = now
		_, err = tx.exec(ctx, "UPDATE findings SET status = ?, note = ?, accepted_until = ?, vex_justification = ?, updated_at = ? WHERE id = ?",
			string(nf.Status), nf.Note, nf.AcceptedUntil, nf.VEXJustification, micros(now), id)
		if err != nil {
			return fmt.Errorf("updating finding %d: %w", id, err)
		}
		out = &nf
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time:       now,
			Action:     firmward.ActionFindingSet,
			ObjectType: "finding",
			ObjectID:   strconv.FormatInt(id, 10),
			Changes:    changes,
		}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkFindingUpdate trims u and checks it against the rules of
// firmward.FindingUpdate; today is YYYY-MM-DD.
func checkFindingUpdate(u *firmward.FindingUpdate, today string) error {
	var v filterValidator
	u.Note = strings.TrimSpace(u.Note)
	u.AcceptedUntil = strings.TrimSpace(u.AcceptedUntil)
	u.VEXJustification = strings.TrimSpace(u.VEXJustification)
	switch u.Status {
	case firmward.FindingOpen:
	case firmward.FindingMitigated:
		if u.Note == "" {
			v.add("note", "", "mitigated needs a note saying which compensating control covers the finding")
		}
	case firmward.FindingRiskAccepted:
		d, err := time.Parse(time.DateOnly, u.AcceptedUntil)
		switch {
		case u.AcceptedUntil == "":
			v.add("accepted_until", "", "risk-accepted needs the date until which the risk is accepted (YYYY-MM-DD)")
		case err != nil || d.Format(time.DateOnly) != u.AcceptedUntil:
			v.add("accepted_until", u.AcceptedUntil, "not a date (want YYYY-MM-DD)")
		case u.AcceptedUntil <= today:
			v.add("accepted_until", u.AcceptedUntil, "must be after today ("+today+")")
		}
	case firmward.FindingNotAffected:
		if !slices.Contains(firmward.VEXJustifications, u.VEXJustification) {
			v.add("vex_justification", u.VEXJustification, "not-affected needs a VEX justification: one of "+strings.Join(firmward.VEXJustifications, ", "))
		}
	case firmward.FindingFixed:
		v.add("status", string(u.Status), "fixed is set by matching when the firmware leaves the vulnerable range; it cannot be set by hand")
	default:
		v.add("status", string(u.Status), "want one of open, mitigated, risk-accepted, not-affected")
	}
	if u.AcceptedUntil != "" && u.Status != firmward.FindingRiskAccepted {
		v.add("accepted_until", u.AcceptedUntil, "only a risk-accepted finding has an acceptance date")
	}
	if u.VEXJustification != "" && u.Status != firmward.FindingNotAffected {
		v.add("vex_justification", u.VEXJustification, "only a not-affected finding has a VEX justification")
	}
	return findingInvalid("finding update is not valid", v)
}

// findingInvalid returns the EINVALID error listing v's problems, nil if
// there are none.
func findingInvalid(msg string, v filterValidator) error {
	if len(v.details) == 0 {
		return nil
	}
	return &firmward.Error{Code: firmward.EINVALID, Message: msg, Details: v.details}
}
