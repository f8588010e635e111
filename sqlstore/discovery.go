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

// DiscoveryService keeps scan runs, observations, conflicts, the values
// scans wrote into devices and scan schedules.
type DiscoveryService struct {
	db *DB
}

var _ firmward.DiscoveryService = (*DiscoveryService)(nil)

// NewDiscoveryService returns the discovery records kept in db.
func NewDiscoveryService(db *DB) *DiscoveryService { return &DiscoveryService{db: db} }

// textLines and linesOf store lists as text, one item per line.
func textLines(in []string) string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ReplaceAll(storable(s), "\n", " ")
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n")
}

func linesOf(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

const scanRunColumns = "id, site, cidr, interface, trigger, actor, status, started_at, finished_at, raw, scanned, hosts, new_devices, updated_devices, conflicts, notes, error"

func scanScanRun(s scanner) (*firmward.ScanRun, error) {
	var r firmward.ScanRun
	var started int64
	var finished sql.NullInt64
	var notes string
	if err := s.Scan(&r.ID, &r.Site, &r.CIDR, &r.Interface, &r.Trigger, &r.Actor, &r.Status, &started, &finished,
		&r.Raw, &r.Scanned, &r.Hosts, &r.New, &r.Updated, &r.Conflicts, &notes, &r.Error); err != nil {
		return nil, err
	}
	r.StartedAt, r.FinishedAt, r.Notes = fromMicros(started), fromNullMicros(finished), linesOf(notes)
	return &r, nil
}

// CreateScanRun stores r and sets its ID, StartedAt (now when zero),
// Status (running when empty) and Actor (the actor of ctx when empty).
func (s *DiscoveryService) CreateScanRun(ctx context.Context, r *firmward.ScanRun) error {
	if r.CIDR == "" || r.Trigger == "" {
		return firmward.Errorf(firmward.EINVALID, "a scan run needs a CIDR and a trigger")
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = s.db.nowUTC()
	}
	r.StartedAt = r.StartedAt.UTC().Truncate(time.Microsecond)
	if r.Status == "" {
		r.Status = firmward.ScanRunning
	}
	if r.Actor == "" {
		r.Actor = firmward.ActorFrom(ctx).String()
	}
	return s.db.write(ctx, func(tx conn) error {
		q := "INSERT INTO scan_runs (site, cidr, interface, trigger, actor, status, started_at, finished_at, raw, scanned, hosts, new_devices, updated_devices, conflicts, notes, error) VALUES (" + inList(16) + ") RETURNING id"
		err := tx.queryRow(ctx, q, storable(r.Site), storable(r.CIDR), storable(r.Interface), r.Trigger, storable(r.Actor), r.Status,
			micros(r.StartedAt), nullMicros(r.FinishedAt), r.Raw, r.Scanned, r.Hosts, r.New, r.Updated, r.Conflicts,
			textLines(r.Notes), storable(r.Error)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("inserting scan run: %w", err)
		}
		return nil
	})
}

// FinishScanRun stores r's status, times, counts, notes and error.
// ENOTFOUND when the run does not exist.
func (s *DiscoveryService) FinishScanRun(ctx context.Context, r *firmward.ScanRun) error {
	if r.FinishedAt == nil {
		now := s.db.nowUTC()
		r.FinishedAt = &now
	}
	return s.db.write(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, "UPDATE scan_runs SET status = ?, interface = ?, finished_at = ?, raw = ?, scanned = ?, hosts = ?, new_devices = ?, updated_devices = ?, conflicts = ?, notes = ?, error = ? WHERE id = ?",
			r.Status, storable(r.Interface), nullMicros(r.FinishedAt), r.Raw, r.Scanned, r.Hosts, r.New, r.Updated, r.Conflicts,
			textLines(r.Notes), storable(r.Error), r.ID)
		if err != nil {
			return fmt.Errorf("finishing scan run %d: %w", r.ID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return firmward.Errorf(firmward.ENOTFOUND, "scan run %d not found", r.ID)
		}
		return nil
	})
}

// FindScanRunByID returns one run or ENOTFOUND.
func (s *DiscoveryService) FindScanRunByID(ctx context.Context, id int64) (*firmward.ScanRun, error) {
	r, err := scanScanRun(s.db.read().queryRow(ctx, "SELECT "+scanRunColumns+" FROM scan_runs WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "scan run %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading scan run %d: %w", id, err)
	}
	return r, nil
}

// page runs a "newest first" keyset query: where holds the filter
// conditions, After the cursor. It returns the rows read and the next
// cursor (0 at the end).
func page[T any](ctx context.Context, c conn, sel, table string, where []string, args []any, after int64, limit int,
	scan func(scanner) (*T, error), id func(*T) int64,
) ([]*T, int64, error) {
	if after > 0 {
		where = append(where, "id < ?")
		args = append(args, after)
	}
	limit = pageSize(limit)
	q := "SELECT " + sel + " FROM " + table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(limit+1)
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing %s: %w", table, err)
	}
	defer func() { _ = rows.Close() }()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("reading %s: %w", table, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing %s: %w", table, err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = id(out[limit-1])
	}
	return out, next, nil
}

// FindScanRuns returns one page of runs, newest first, and the next cursor.
func (s *DiscoveryService) FindScanRuns(ctx context.Context, f firmward.ScanRunFilter) ([]*firmward.ScanRun, int64, error) {
	var where []string
	var args []any
	if f.Site != "" {
		where, args = append(where, "site = ?"), append(args, f.Site)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	return page(ctx, s.db.read(), scanRunColumns, "scan_runs", where, args, f.After, f.Limit, scanScanRun,
		func(r *firmward.ScanRun) int64 { return r.ID })
}

const observationColumns = "id, run_id, device_id, time, source, ip, mac, mac_vendor, hostname, ports, fields, hints, outcome, notes"

func scanObservation(s scanner) (*firmward.Observation, error) {
	var o firmward.Observation
	var t int64
	var ports, fields, hints, notes string
	if err := s.Scan(&o.ID, &o.RunID, &o.DeviceID, &t, &o.Source, &o.IP, &o.MAC, &o.MACVendor, &o.Hostname,
		&ports, &fields, &hints, &o.Outcome, &notes); err != nil {
		return nil, err
	}
	o.Time = fromMicros(t)
	for p := range strings.FieldsSeq(ports) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("observation %d: bad port %q", o.ID, p)
		}
		o.Ports = append(o.Ports, n)
	}
	if err := json.Unmarshal([]byte(fields), &o.Fields); err != nil {
		return nil, fmt.Errorf("observation %d: reading fields: %w", o.ID, err)
	}
	o.Hints, o.Notes = linesOf(hints), linesOf(notes)
	return &o, nil
}

// storableEvidence makes every string of ev storable.
func storableEvidence(ev []firmward.ScanEvidence) []firmward.ScanEvidence {
	out := make([]firmward.ScanEvidence, len(ev))
	for i, e := range ev {
		out[i] = firmward.ScanEvidence{Source: storable(e.Source), Observed: storable(e.Observed), Rule: storable(e.Rule)}
	}
	return out
}

// AddObservations stores observations (each needs a RunID) and sets their
// IDs.
func (s *DiscoveryService) AddObservations(ctx context.Context, obs []*firmward.Observation) error {
	if len(obs) == 0 {
		return nil
	}
	return s.db.write(ctx, func(tx conn) error {
		q := "INSERT INTO observations (run_id, device_id, time, source, ip, mac, mac_vendor, hostname, ports, fields, hints, outcome, notes) VALUES (" + inList(13) + ") RETURNING id"
		for _, o := range obs {
			if o.RunID <= 0 {
				return firmward.Errorf(firmward.EINVALID, "an observation needs a scan run")
			}
			fields := make([]firmward.ObservedField, len(o.Fields))
			for i, f := range o.Fields {
				fields[i] = firmward.ObservedField{Field: storable(f.Field), Value: storable(f.Value), Confidence: f.Confidence, Evidence: storableEvidence(f.Evidence)}
			}
			fj, err := json.Marshal(fields)
			if err != nil {
				return fmt.Errorf("encoding observed fields: %w", err)
			}
			ports := make([]string, len(o.Ports))
			for i, p := range o.Ports {
				ports[i] = strconv.Itoa(p)
			}
			if o.Source == "" {
				o.Source = firmward.ObservationScan
			}
			o.Time = o.Time.UTC().Truncate(time.Microsecond)
			err = tx.queryRow(ctx, q, o.RunID, o.DeviceID, micros(o.Time), o.Source, storable(o.IP), storable(o.MAC),
				storable(o.MACVendor), storable(o.Hostname), strings.Join(ports, " "), string(fj),
				textLines(o.Hints), o.Outcome, textLines(o.Notes)).Scan(&o.ID)
			if err != nil {
				return fmt.Errorf("inserting observation of %s: %w", o.IP, err)
			}
		}
		return nil
	})
}

// FindObservations returns one page of observations, newest first.
func (s *DiscoveryService) FindObservations(ctx context.Context, f firmward.ObservationFilter) ([]*firmward.Observation, int64, error) {
	var where []string
	var args []any
	if f.RunID > 0 {
		where, args = append(where, "run_id = ?"), append(args, f.RunID)
	}
	if f.DeviceID > 0 {
		where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
	}
	if f.Outcome != "" {
		where, args = append(where, "outcome = ?"), append(args, f.Outcome)
	}
	return page(ctx, s.db.read(), observationColumns, "observations", where, args, f.After, f.Limit, scanObservation,
		func(o *firmward.Observation) int64 { return o.ID })
}

// ScanValues returns, per field, the value a scan last wrote into the
// device.
func (s *DiscoveryService) ScanValues(ctx context.Context, deviceID int64) (map[string]string, error) {
	rows, err := s.db.read().query(ctx, "SELECT field, value FROM device_scan_values WHERE device_id = ?", deviceID)
	if err != nil {
		return nil, fmt.Errorf("reading the scan values of device %d: %w", deviceID, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]string{}
	for rows.Next() {
		var f, v string
		if err := rows.Scan(&f, &v); err != nil {
			return nil, fmt.Errorf("reading the scan values of device %d: %w", deviceID, err)
		}
		out[f] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the scan values of device %d: %w", deviceID, err)
	}
	return out, nil
}

// SetScanValues records the values a scan wrote into the device.
func (s *DiscoveryService) SetScanValues(ctx context.Context, deviceID int64, values map[string]string) error {
	if len(values) == 0 {
		return nil
	}
	now := micros(s.db.nowUTC())
	fields := slices.Sorted(func(yield func(string) bool) {
		for k := range values {
			if !yield(k) {
				return
			}
		}
	})
	return s.db.write(ctx, func(tx conn) error {
		for _, f := range fields {
			_, err := tx.exec(ctx, "INSERT INTO device_scan_values (device_id, field, value, updated_at) VALUES (?, ?, ?, ?) "+
				"ON CONFLICT (device_id, field) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
				deviceID, storable(f), storable(values[f]), now)
			if err != nil {
				return fmt.Errorf("recording the scan value of device %d's %s: %w", deviceID, f, err)
			}
		}
		return nil
	})
}

const conflictColumns = "id, device_id, run_id, observation_id, field, current_value, proposed, confidence, evidence, status, created_at, resolved_by, resolved_at"

func scanConflict(s scanner) (*firmward.Conflict, error) {
	var c firmward.Conflict
	var created int64
	var resolved sql.NullInt64
	var evidence string
	if err := s.Scan(&c.ID, &c.DeviceID, &c.RunID, &c.ObservationID, &c.Field, &c.Current, &c.Proposed, &c.Confidence,
		&evidence, &c.Status, &created, &c.ResolvedBy, &resolved); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(evidence), &c.Evidence); err != nil {
		return nil, fmt.Errorf("conflict %d: reading evidence: %w", c.ID, err)
	}
	c.CreatedAt, c.ResolvedAt = fromMicros(created), fromNullMicros(resolved)
	return &c, nil
}

// OpenConflict stores c (status open) unless the same device, field and
// proposed value is open or was rejected; an open conflict on the field
// with another proposed value is closed as rejected by the system first,
// since the newer observation supersedes it. It reports whether c was
// stored; when not, c is filled with the stored conflict.
func (s *DiscoveryService) OpenConflict(ctx context.Context, c *firmward.Conflict) (bool, error) {
	if c.DeviceID <= 0 || !slices.Contains(firmward.ObservedFields, c.Field) || c.Proposed == "" {
		return false, firmward.Errorf(firmward.EINVALID, "a conflict needs a device, an observed field and a proposed value")
	}
	var created bool
	err := s.db.write(ctx, func(tx conn) error {
		if _, err := findDevice(ctx, tx, c.DeviceID, true); err != nil {
			return err
		}
		stored, err := fieldConflicts(ctx, tx, c.DeviceID, c.Field)
		if err != nil {
			return err
		}
		proposed := storable(c.Proposed)
		for _, sc := range stored {
			if sc.Proposed == proposed && (sc.Status == firmward.ConflictOpen || sc.ResolvedBy != systemResolver) {
				*c = *sc
				return nil
			}
		}
		now := s.db.nowUTC()
		for _, sc := range stored {
			if sc.Status == firmward.ConflictOpen {
				if _, err := tx.exec(ctx, "UPDATE conflicts SET status = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
					firmward.ConflictRejected, systemResolver, micros(now), sc.ID); err != nil {
					return fmt.Errorf("closing superseded conflict %d: %w", sc.ID, err)
				}
			}
		}
		ev, err := json.Marshal(storableEvidence(c.Evidence))
		if err != nil {
			return fmt.Errorf("encoding evidence: %w", err)
		}
		c.Status, c.CreatedAt, c.ResolvedBy, c.ResolvedAt = firmward.ConflictOpen, now, "", nil
		c.Current, c.Proposed = storable(c.Current), proposed
		err = tx.queryRow(ctx, "INSERT INTO conflicts (device_id, run_id, observation_id, field, current_value, proposed, confidence, evidence, status, created_at) VALUES ("+inList(10)+") RETURNING id",
			c.DeviceID, c.RunID, c.ObservationID, c.Field, c.Current, c.Proposed, c.Confidence, string(ev), c.Status, micros(now)).Scan(&c.ID)
		if err != nil {
			return fmt.Errorf("inserting conflict: %w", err)
		}
		created = true
		return nil
	})
	return created, err
}

// fieldConflicts returns the open and rejected conflicts of one device
// field, oldest first.
func fieldConflicts(ctx context.Context, tx conn, deviceID int64, field string) ([]*firmward.Conflict, error) {
	rows, err := tx.query(ctx, "SELECT "+conflictColumns+" FROM conflicts WHERE device_id = ? AND field = ? AND status IN (?, ?) ORDER BY id",
		deviceID, field, firmward.ConflictOpen, firmward.ConflictRejected)
	if err != nil {
		return nil, fmt.Errorf("reading conflicts: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.Conflict
	for rows.Next() {
		c, err := scanConflict(rows)
		if err != nil {
			return nil, fmt.Errorf("reading conflicts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading conflicts: %w", err)
	}
	return out, nil
}

// systemResolver is resolved_by of a conflict superseded by a newer one.
const systemResolver = "system(superseded)"

// FindConflictByID returns one conflict or ENOTFOUND.
func (s *DiscoveryService) FindConflictByID(ctx context.Context, id int64) (*firmward.Conflict, error) {
	return findConflict(ctx, s.db.read(), id, false)
}

func findConflict(ctx context.Context, c conn, id int64, lock bool) (*firmward.Conflict, error) {
	q := "SELECT " + conflictColumns + " FROM conflicts WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	cf, err := scanConflict(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "conflict %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading conflict %d: %w", id, err)
	}
	return cf, nil
}

// FindConflicts returns one page of conflicts, newest first (open ones
// when f.Status is empty).
func (s *DiscoveryService) FindConflicts(ctx context.Context, f firmward.ConflictFilter) ([]*firmward.Conflict, int64, error) {
	status := f.Status
	if status == "" {
		status = firmward.ConflictOpen
	}
	where, args := []string{"status = ?"}, []any{status}
	if f.DeviceID > 0 {
		where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
	}
	return page(ctx, s.db.read(), conflictColumns, "conflicts", where, args, f.After, f.Limit, scanConflict,
		func(c *firmward.Conflict) int64 { return c.ID })
}

// ResolveConflict marks an open conflict accepted or rejected by the actor
// of ctx and records conflict.accept or conflict.reject in the audit trail
// (object "device", with the field, the person's value and the proposed
// one). ENOTFOUND, EINVALID for another status, ECONFLICT when the
// conflict is no longer open.
func (s *DiscoveryService) ResolveConflict(ctx context.Context, id int64, status string) (*firmward.Conflict, error) {
	var action string
	switch status {
	case firmward.ConflictAccepted:
		action = firmward.ActionConflictAccept
	case firmward.ConflictRejected:
		action = firmward.ActionConflictReject
	default:
		return nil, firmward.Errorf(firmward.EINVALID, "a conflict is resolved as accepted or rejected, not %q", status)
	}
	var out *firmward.Conflict
	err := s.db.write(ctx, func(tx conn) error {
		c, err := findConflict(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if c.Status != firmward.ConflictOpen {
			return firmward.Errorf(firmward.ECONFLICT, "conflict %d is already %s", id, c.Status)
		}
		now := s.db.nowUTC()
		actor := storable(firmward.ActorFrom(ctx).String())
		if _, err := tx.exec(ctx, "UPDATE conflicts SET status = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
			status, actor, micros(now), id); err != nil {
			return fmt.Errorf("resolving conflict %d: %w", id, err)
		}
		c.Status, c.ResolvedBy, c.ResolvedAt = status, actor, &now
		out = c
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: action, ObjectType: "device", ObjectID: strconv.FormatInt(c.DeviceID, 10),
			Changes: []firmward.FieldChange{
				{Field: "conflict", New: strconv.FormatInt(id, 10)},
				{Field: c.Field, Old: c.Current, New: c.Proposed},
			},
		}})
	})
	return out, err
}

const scheduleColumns = "site, subnets, interface, interval_seconds, communities, enabled, last_run_at, updated_at"

func scanSchedule(s scanner) (*firmward.ScanSchedule, error) {
	var sc firmward.ScanSchedule
	var subnets, communities string
	var last sql.NullInt64
	var updated int64
	if err := s.Scan(&sc.Site, &subnets, &sc.Interface, &sc.IntervalSec, &communities, &sc.Enabled, &last, &updated); err != nil {
		return nil, err
	}
	sc.Subnets, sc.Communities = linesOf(subnets), linesOf(communities)
	sc.LastRunAt, sc.UpdatedAt = fromNullMicros(last), fromMicros(updated)
	return &sc, nil
}

// PutScanSchedule validates sc and creates or replaces the site's
// schedule, keeping its last run; audited as scan_schedule.set (the
// communities are not written to the audit trail, only their number).
func (s *DiscoveryService) PutScanSchedule(ctx context.Context, sc *firmward.ScanSchedule) error {
	if err := sc.Normalize(); err != nil {
		return err
	}
	now := s.db.nowUTC()
	return s.db.write(ctx, func(tx conn) error {
		old, err := scanSchedule(tx.queryRow(ctx, "SELECT "+scheduleColumns+" FROM scan_schedules WHERE site = ?"+tx.db.dialect.forUpdate(), sc.Site))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			old = nil
		case err != nil:
			return fmt.Errorf("reading the scan schedule of %s: %w", sc.Site, err)
		}
		if old != nil {
			sc.LastRunAt = old.LastRunAt
		}
		sc.UpdatedAt = now
		_, err = tx.exec(ctx, "INSERT INTO scan_schedules ("+scheduleColumns+") VALUES ("+inList(8)+") "+
			"ON CONFLICT (site) DO UPDATE SET subnets = excluded.subnets, interface = excluded.interface, interval_seconds = excluded.interval_seconds, "+
			"communities = excluded.communities, enabled = excluded.enabled, updated_at = excluded.updated_at",
			sc.Site, textLines(sc.Subnets), sc.Interface, sc.IntervalSec, textLines(sc.Communities), sc.Enabled, nullMicros(sc.LastRunAt), micros(now))
		if err != nil {
			return fmt.Errorf("storing the scan schedule of %s: %w", sc.Site, err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionScheduleSet, ObjectType: "site", ObjectID: sc.Site,
			Changes: scheduleChanges(old, sc),
		}})
	})
}

// scheduleChanges lists what changed between two schedules, communities
// by their number only.
func scheduleChanges(old, nw *firmward.ScanSchedule) []firmward.FieldChange {
	text := func(sc *firmward.ScanSchedule) [5]string {
		if sc == nil {
			return [5]string{}
		}
		return [5]string{
			strings.Join(sc.Subnets, ", "), sc.Interface, strconv.FormatInt(sc.IntervalSec, 10),
			strconv.Itoa(len(sc.Communities)), strconv.FormatBool(sc.Enabled),
		}
	}
	names := [5]string{"subnets", "interface", "interval_seconds", "communities", "enabled"}
	o, n := text(old), text(nw)
	var out []firmward.FieldChange
	for i := range names {
		if o[i] != n[i] {
			out = append(out, firmward.FieldChange{Field: names[i], Old: o[i], New: n[i]})
		}
	}
	return out
}

// FindScanSchedules returns every schedule, by site.
func (s *DiscoveryService) FindScanSchedules(ctx context.Context) ([]*firmward.ScanSchedule, error) {
	rows, err := s.db.read().query(ctx, "SELECT "+scheduleColumns+" FROM scan_schedules ORDER BY site")
	if err != nil {
		return nil, fmt.Errorf("listing scan schedules: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.ScanSchedule
	for rows.Next() {
		sc, err := scanSchedule(rows)
		if err != nil {
			return nil, fmt.Errorf("reading scan schedules: %w", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing scan schedules: %w", err)
	}
	return out, nil
}

// FindScanSchedule returns one site's schedule or ENOTFOUND.
func (s *DiscoveryService) FindScanSchedule(ctx context.Context, site string) (*firmward.ScanSchedule, error) {
	sc, err := scanSchedule(s.db.read().queryRow(ctx, "SELECT "+scheduleColumns+" FROM scan_schedules WHERE site = ?", site))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "site %q has no scan schedule", site)
	case err != nil:
		return nil, fmt.Errorf("reading the scan schedule of %s: %w", site, err)
	}
	return sc, nil
}

// DeleteScanSchedule removes a site's schedule (ENOTFOUND if none),
// audited as scan_schedule.delete.
func (s *DiscoveryService) DeleteScanSchedule(ctx context.Context, site string) error {
	return s.db.write(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, "DELETE FROM scan_schedules WHERE site = ?", site)
		if err != nil {
			return fmt.Errorf("deleting the scan schedule of %s: %w", site, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return firmward.Errorf(firmward.ENOTFOUND, "site %q has no scan schedule", site)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{Action: firmward.ActionScheduleDelete, ObjectType: "site", ObjectID: storable(site)}})
	})
}

// MarkScheduleRun records that the site's schedule ran at t.
func (s *DiscoveryService) MarkScheduleRun(ctx context.Context, site string, t time.Time) error {
	return s.db.write(ctx, func(tx conn) error {
		if _, err := tx.exec(ctx, "UPDATE scan_schedules SET last_run_at = ? WHERE site = ?", micros(t), site); err != nil {
			return fmt.Errorf("recording the run of %s's scan schedule: %w", site, err)
		}
		return nil
	})
}
