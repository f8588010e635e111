package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// DeviceService is the inventory kept in a database.
type DeviceService struct {
	db *DB
}

var _ firmward.DeviceService = (*DeviceService)(nil)

// NewDeviceService returns the inventory kept in db.
func NewDeviceService(db *DB) *DeviceService { return &DeviceService{db: db} }

// deviceColumns are the stored fields of a Device, in scanDevice order.
var deviceColumns = []string{
	"id", "name", "manufacturer", "model", "hardware_version", "firmware_version", "serial",
	"category", "criticality", "exposure", "update_mechanism", "auto_update", "macs", "ips",
	"site", "location", "owner", "segment", "cpe", "eol_date", "purchase_date",
	"replacement_cost", "notes", "tags", "source", "first_seen", "last_seen", "created_at", "updated_at",
}

// derivedColumns are kept by the store for filtering and search, after
// deviceColumns in deviceArgs order.
var derivedColumns = []string{"manufacturer_lc", "site_lc", "search"}

var (
	// selectDeviceColumns is "d.id, d.name, …".
	selectDeviceColumns = "d." + strings.Join(deviceColumns, ", d.")
	// writeDeviceColumns are the columns deviceArgs fills, id first.
	writeDeviceColumns = append(slices.Clone(deviceColumns), derivedColumns...)
)

// listSep separates the elements of macs, ips and tags in their columns;
// none of them may contain a space.
const listSep = " "

// searchSep separates the fields of the search column, so that a query
// does not match across two fields.
const searchSep = "\x1f"

// deviceArgs returns the values of writeDeviceColumns for d.
func deviceArgs(args []any, d *firmward.Device) []any {
	return append(args,
		d.ID, d.Name, d.Manufacturer, d.Model, d.HardwareVersion, d.FirmwareVersion, d.Serial,
		string(d.Category), string(d.Criticality), string(d.Exposure), string(d.UpdateMechanism), string(d.AutoUpdate),
		strings.Join(d.MACs, listSep), strings.Join(d.IPs, listSep),
		d.Site, d.Location, d.Owner, d.Segment, d.CPE, d.EOLDate, d.PurchaseDate,
		d.ReplacementCost, d.Notes, strings.Join(d.Tags, listSep), string(d.Source),
		nullMicros(d.FirstSeen), nullMicros(d.LastSeen), micros(d.CreatedAt), micros(d.UpdatedAt),
		strings.ToLower(d.Manufacturer), strings.ToLower(d.Site), searchText(d),
	)
}

// searchText is the lower-cased text that DeviceFilter.Query searches.
func searchText(d *firmward.Device) string {
	return strings.ToLower(strings.Join([]string{
		d.Name, d.Manufacturer, d.Model, d.Serial, d.Location, d.Owner, d.Notes,
		strings.Join(d.MACs, listSep), strings.Join(d.IPs, listSep),
	}, searchSep))
}

type scanner interface{ Scan(dest ...any) error }

func scanDevice(s scanner) (*firmward.Device, error) {
	var d firmward.Device
	var category, criticality, exposure, mechanism, autoUpdate, macs, ips, tags, source string
	var firstSeen, lastSeen sql.NullInt64
	var created, updated int64
	err := s.Scan(&d.ID, &d.Name, &d.Manufacturer, &d.Model, &d.HardwareVersion, &d.FirmwareVersion, &d.Serial,
		&category, &criticality, &exposure, &mechanism, &autoUpdate, &macs, &ips,
		&d.Site, &d.Location, &d.Owner, &d.Segment, &d.CPE, &d.EOLDate, &d.PurchaseDate,
		&d.ReplacementCost, &d.Notes, &tags, &source, &firstSeen, &lastSeen, &created, &updated)
	if err != nil {
		return nil, err
	}
	d.Category = firmward.Category(category)
	d.Criticality = firmward.Criticality(criticality)
	d.Exposure = firmward.Exposure(exposure)
	d.UpdateMechanism = firmward.UpdateMechanism(mechanism)
	d.AutoUpdate = firmward.AutoUpdate(autoUpdate)
	d.Source = firmward.Source(source)
	d.MACs, d.IPs, d.Tags = splitList(macs), splitList(ips), splitList(tags)
	d.FirstSeen, d.LastSeen = fromNullMicros(firstSeen), fromNullMicros(lastSeen)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, listSep)
}

// canonTimes makes the optional times of d what the database gives back:
// UTC, whole microseconds.
func canonTimes(d *firmward.Device) {
	canon := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		c := t.UTC().Truncate(time.Microsecond)
		return &c
	}
	d.FirstSeen, d.LastSeen = canon(d.FirstSeen), canon(d.LastSeen)
}

// FindDeviceByID returns the device with the given ID, or ENOTFOUND.
func (s *DeviceService) FindDeviceByID(ctx context.Context, id int64) (*firmward.Device, error) {
	return findDevice(ctx, s.db.read(), id, false)
}

// findDevice reads one device, locking its row on PostgreSQL when lock is
// set.
func findDevice(ctx context.Context, c conn, id int64, lock bool) (*firmward.Device, error) {
	q := "SELECT " + selectDeviceColumns + " FROM devices d WHERE d.id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	d, err := scanDevice(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "device %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading device %d: %w", id, err)
	}
	return d, nil
}

// FindDevices returns one page of devices matching f in ID order and the
// cursor of the next page (0 on the last page). An unknown enum value, tag
// or Missing field is EINVALID.
func (s *DeviceService) FindDevices(ctx context.Context, f firmward.DeviceFilter) ([]*firmward.Device, int64, error) {
	q, args, err := deviceQuery(s.db.dialect, f)
	if err != nil {
		return nil, 0, err
	}
	limit := pageSize(f.Limit)
	args = append(args, limit+1)
	rows, err := s.db.read().query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing devices: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := make([]*firmward.Device, 0, min(limit+1, 64))
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing devices: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing devices: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// deviceQuery builds the SELECT for f, ending in "LIMIT ?".
//
// Category, criticality, manufacturer, site and missing firmware have
// indexes ending in id, so a page is a range scan; with a tag, the
// (tag, device_id) key of device_tags drives the query. Exposure and update
// mechanism values are common enough for a scan in id order, and free text
// is a scan in id order that stops once the page is full.
func deviceQuery(d dialect, f firmward.DeviceFilter) (string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	var v filterValidator
	from := "devices d"
	idCol := "d.id"
	if tag := strings.TrimSpace(f.Tag); tag != "" {
		t, err := firmward.NormalizeTag(tag)
		if err != nil || t == "" {
			v.add("tag", f.Tag, "is not a valid tag")
		}
		from = "device_tags t JOIN devices d ON d.id = t.device_id"
		idCol = "t.device_id"
		add("t.tag = ?", t)
	}
	add(idCol+" > ?", max(f.After, 0))
	if c := filterEnum(&v, "category", f.Category, firmward.Categories); c != "" {
		add("d.category = ?", c)
	}
	if c := filterEnum(&v, "criticality", f.Criticality, firmward.Criticalities); c != "" {
		add("d.criticality = ?", c)
	}
	if e := filterEnum(&v, "exposure", f.Exposure, firmward.Exposures); e != "" {
		add("d.exposure = ?", e)
	}
	if m := filterEnum(&v, "update_mechanism", f.UpdateMechanism, firmward.UpdateMechanisms); m != "" {
		add("d.update_mechanism = ?", m)
	}
	if m := strings.TrimSpace(f.Manufacturer); m != "" {
		add("d.manufacturer_lc = ?", strings.ToLower(m))
	}
	if site := strings.TrimSpace(f.Site); site != "" {
		add("d.site_lc = ?", strings.ToLower(site))
	}
	switch strings.ToLower(strings.TrimSpace(f.Missing)) {
	case "":
	case "firmware_version":
		where = append(where, "d.firmware_version = ''")
	case "update_mechanism":
		where = append(where, "d.update_mechanism = ''")
	default:
		v.add("missing", f.Missing, "must be firmware_version or update_mechanism")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		add(d.contains("d.search"), strings.ToLower(q))
	}
	if !f.UpdatedSince.IsZero() {
		add("d.updated_at >= ?", micros(f.UpdatedSince.UTC()))
	}
	if err := v.err(); err != nil {
		return "", nil, err
	}
	q := "SELECT " + selectDeviceColumns + " FROM " + from +
		" WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + idCol + " LIMIT ?"
	return q, args, nil
}

// filterValidator collects problems with a filter.
type filterValidator struct{ details []firmward.ErrorDetail }

func (v *filterValidator) add(field, value, reason string) {
	v.details = append(v.details, firmward.ErrorDetail{Field: field, Value: value, Reason: reason})
}

func (v *filterValidator) err() error {
	if len(v.details) == 0 {
		return nil
	}
	return &firmward.Error{Code: firmward.EINVALID, Message: "device filter is not valid", Details: v.details}
}

// filterEnum canonicalises an enum filter value like Normalize does, and
// records a problem when it is not one of valid.
func filterEnum[T ~string](v *filterValidator, field string, val T, valid []T) T {
	s := T(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(string(val))), "_", "-"))
	if s == "" {
		return ""
	}
	if !slices.Contains(valid, s) {
		names := make([]string, len(valid))
		for i, x := range valid {
			names[i] = string(x)
		}
		v.add(field, string(val), "must be one of "+strings.Join(names, ", "))
		return ""
	}
	return s
}

// CreateDevice normalises d, stores it and sets its ID, Source
// (SourceManual when empty) and timestamps. It returns Normalize's EINVALID
// error as is, and ECONFLICT when a MAC belongs to another device.
func (s *DeviceService) CreateDevice(ctx context.Context, d *firmward.Device) error {
	if err := d.Normalize(); err != nil {
		return err
	}
	if d.Source == "" {
		d.Source = firmward.SourceManual
	}
	canonTimes(d)
	now := s.db.nowUTC()
	nd := *d
	nd.CreatedAt, nd.UpdatedAt = now, now
	err := s.db.write(ctx, func(tx conn) error {
		if err := macConflict(ctx, tx, 0, nd.MACs); err != nil {
			return err
		}
		cols := writeDeviceColumns[1:]
		args := deviceArgs(nil, &nd)[1:]
		q := "INSERT INTO devices (" + strings.Join(cols, ", ") + ") VALUES (" + inList(len(cols)) + ") RETURNING id"
		if err := tx.queryRow(ctx, q, args...).Scan(&nd.ID); err != nil {
			return fmt.Errorf("inserting device: %w", err)
		}
		if err := syncLists(ctx, tx, nd.ID, nil, &nd); err != nil {
			return err
		}
		counts := countDelta{}
		counts.add(&nd, 1)
		if err := counts.apply(ctx, tx); err != nil {
			return err
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{deviceEvent(now, firmward.ActionDeviceCreate, nd.ID, firmward.DiffDevices(nil, &nd))})
	})
	if err != nil {
		return s.raceConflict(ctx, err, 0, nd.MACs)
	}
	*d = nd
	return nil
}

// UpdateDevice applies u to device id, normalises and stores the result,
// and returns it. An update that changes nothing stores and records
// nothing. Errors: ENOTFOUND, EINVALID from Normalize, ECONFLICT for a MAC
// of another device.
func (s *DeviceService) UpdateDevice(ctx context.Context, id int64, u firmward.DeviceUpdate) (*firmward.Device, error) {
	var out *firmward.Device
	var macs []string
	err := s.db.write(ctx, func(tx conn) error {
		old, err := findDevice(ctx, tx, id, true)
		if err != nil {
			return err
		}
		nd := *old
		nd.MACs, nd.IPs, nd.Tags = slices.Clone(old.MACs), slices.Clone(old.IPs), slices.Clone(old.Tags)
		u.Apply(&nd)
		if err := nd.Normalize(); err != nil {
			return err
		}
		canonTimes(&nd)
		macs = nd.MACs
		changes := firmward.DiffDevices(old, &nd)
		if len(changes) == 0 {
			out = old
			return nil
		}
		if err := macConflict(ctx, tx, id, added(old.MACs, nd.MACs)); err != nil {
			return err
		}
		now := s.db.nowUTC()
		nd.UpdatedAt = now
		cols := writeDeviceColumns[1:]
		args := deviceArgs(nil, &nd)[1:]
		q := "UPDATE devices SET " + strings.Join(cols, " = ?, ") + " = ? WHERE id = ?"
		if _, err := tx.exec(ctx, q, append(args, id)...); err != nil {
			return fmt.Errorf("updating device %d: %w", id, err)
		}
		if err := syncLists(ctx, tx, id, old, &nd); err != nil {
			return err
		}
		counts := countDelta{}
		counts.add(old, -1)
		counts.add(&nd, 1)
		if err := counts.apply(ctx, tx); err != nil {
			return err
		}
		out = &nd
		return appendAudit(ctx, tx, []*firmward.AuditEvent{deviceEvent(now, firmward.ActionDeviceUpdate, id, changes)})
	})
	if err != nil {
		return nil, s.raceConflict(ctx, err, id, macs)
	}
	return out, nil
}

// DeleteDevice removes a device (ENOTFOUND if there is none) with its
// findings and records its last state in the audit trail.
func (s *DeviceService) DeleteDevice(ctx context.Context, id int64) error {
	return s.db.write(ctx, func(tx conn) error {
		old, err := findDevice(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM devices WHERE id = ?", id); err != nil {
			return fmt.Errorf("deleting device %d: %w", id, err)
		}
		if _, err := tx.exec(ctx, "DELETE FROM findings WHERE device_id = ?", id); err != nil {
			return fmt.Errorf("deleting the findings of device %d: %w", id, err)
		}
		if err := syncLists(ctx, tx, id, old, &firmward.Device{}); err != nil {
			return err
		}
		counts := countDelta{}
		counts.add(old, -1)
		if err := counts.apply(ctx, tx); err != nil {
			return err
		}
		now := s.db.nowUTC()
		return appendAudit(ctx, tx, []*firmward.AuditEvent{deviceEvent(now, firmward.ActionDeviceDelete, id, firmward.DiffDevices(old, nil))})
	})
}

func deviceEvent(now time.Time, action string, id int64, changes []firmward.FieldChange) *firmward.AuditEvent {
	return &firmward.AuditEvent{
		Time:       now,
		Action:     action,
		ObjectType: "device",
		ObjectID:   strconv.FormatInt(id, 10),
		Changes:    changes,
	}
}

// added returns the elements of new that are not in old.
func added(old, new []string) []string {
	var out []string
	for _, s := range new {
		if !slices.Contains(old, s) {
			out = append(out, s)
		}
	}
	return out
}

// syncLists brings the side tables of device id from old's lists (nil for
// a new device) to nd's (empty for a deleted one). Rows are removed by
// their primary key, (value, device_id).
func syncLists(ctx context.Context, tx conn, id int64, old, nd *firmward.Device) error {
	var oldMACs, oldIPs, oldTags []string
	if old != nil {
		oldMACs, oldIPs, oldTags = old.MACs, old.IPs, old.Tags
	}
	for _, l := range []struct {
		table, col string
		old, new   []string
	}{
		{"device_macs", "mac", oldMACs, nd.MACs},
		{"device_ips", "ip", oldIPs, nd.IPs},
		{"device_tags", "tag", oldTags, nd.Tags},
	} {
		if gone := added(l.new, l.old); len(gone) > 0 {
			args := []any{id}
			for _, v := range gone {
				args = append(args, v)
			}
			q := "DELETE FROM " + l.table + " WHERE device_id = ? AND " + l.col + " IN (" + inList(len(gone)) + ")"
			if _, err := tx.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("updating %s of device %d: %w", l.table, id, err)
			}
		}
		if add := added(l.old, l.new); len(add) > 0 {
			q := "INSERT INTO " + l.table + " (" + l.col + ", device_id) VALUES " + placeholders(len(add), 2)
			args := make([]any, 0, 2*len(add))
			for _, v := range add {
				args = append(args, v, id)
			}
			if _, err := tx.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("updating %s of device %d: %w", l.table, id, err)
			}
		}
	}
	return nil
}

// macOwner is a stored MAC and the device it belongs to.
type macOwner struct {
	mac  string
	id   int64
	name string
}

// macOwners returns the owners of those of macs that are stored and do not
// belong to device self, querying in batches.
func macOwners(ctx context.Context, c conn, self int64, macs []string) ([]macOwner, error) {
	var out []macOwner
	const per = 1000
	for start := 0; start < len(macs); start += per {
		var err error
		if out, err = macOwnersBatch(ctx, c, self, macs[start:min(start+per, len(macs))], out); err != nil {
			return nil, fmt.Errorf("looking up MACs: %w", err)
		}
	}
	return out, nil
}

func macOwnersBatch(ctx context.Context, c conn, self int64, macs []string, out []macOwner) ([]macOwner, error) {
	args := make([]any, 0, len(macs)+1)
	args = append(args, self)
	for _, m := range macs {
		args = append(args, m)
	}
	rows, err := c.query(ctx, "SELECT m.mac, d.id, d.name FROM device_macs m JOIN devices d ON d.id = m.device_id"+
		" WHERE m.device_id <> ? AND m.mac IN ("+inList(len(macs))+") ORDER BY m.mac", args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var o macOwner
		if err := rows.Scan(&o.mac, &o.id, &o.name); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// macConflict returns ECONFLICT naming the MACs of macs that belong to a
// device other than self, or nil.
func macConflict(ctx context.Context, c conn, self int64, macs []string) error {
	if len(macs) == 0 {
		return nil
	}
	owners, err := macOwners(ctx, c, self, macs)
	if err != nil || len(owners) == 0 {
		return err
	}
	e := &firmward.Error{Code: firmward.ECONFLICT}
	for _, o := range owners {
		e.Details = append(e.Details, firmward.ErrorDetail{Field: "macs", Value: o.mac, Reason: ownedBy(o)})
	}
	o := owners[0]
	e.Message = fmt.Sprintf("MAC %s is already used by device %d %q", o.mac, o.id, o.name)
	if len(owners) > 1 {
		e.Message += fmt.Sprintf(" (and %d more MACs are taken)", len(owners)-1)
	}
	return e
}

func ownedBy(o macOwner) string {
	return fmt.Sprintf("is already used by device %d %q", o.id, o.name)
}

// raceConflict turns a unique violation that a concurrent change caused
// after macConflict passed (PostgreSQL only: SQLite writers are serial)
// into the ECONFLICT that names the owner.
func (s *DeviceService) raceConflict(ctx context.Context, err error, self int64, macs []string) error {
	if !isMACViolation(err) {
		return err
	}
	if cerr := macConflict(ctx, s.db.read(), self, macs); cerr != nil {
		return cerr
	}
	return &wrapped{code: firmward.ECONFLICT, msg: "a MAC of the device was claimed by a concurrent change; try again", err: err}
}

// ImportDevices creates every row or none. Each row is normalised in place
// (and, once stored, gets its ID, Source and timestamps); MACs are checked
// against the other rows and the database. All problems come back together
// in one EINVALID error, each detail carrying the row's Line. With
// opts.DryRun everything is checked and nothing stored.
//
// Each device gets one device.import audit event.
func (s *DeviceService) ImportDevices(ctx context.Context, rows []firmward.ImportRow, opts firmward.ImportOptions) (*firmward.ImportResult, error) {
	problems := make([][]firmward.ErrorDetail, len(rows))
	line := func(i int) int {
		if rows[i].Line > 0 {
			return rows[i].Line
		}
		return i + 1
	}
	firstLine := make(map[string]int) // MAC → index of the first row with it
	var macs []string
	for i := range rows {
		d := &rows[i].Device
		if err := d.Normalize(); err != nil {
			for _, det := range firmward.ErrorDetails(err) {
				det.Line = line(i)
				problems[i] = append(problems[i], det)
			}
			if len(firmward.ErrorDetails(err)) == 0 {
				problems[i] = append(problems[i], firmward.ErrorDetail{Line: line(i), Reason: firmward.ErrorMessage(err)})
			}
		}
		if d.Source == "" {
			d.Source = firmward.SourceImport
		}
		canonTimes(d)
		for _, m := range d.MACs {
			if j, dup := firstLine[m]; dup {
				problems[i] = append(problems[i], firmward.ErrorDetail{
					Line: line(i), Field: "macs", Value: m, Reason: fmt.Sprintf("is also on line %d", line(j)),
				})
				continue
			}
			firstLine[m] = i
			macs = append(macs, m)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("importing devices: %w", err)
	}

	// dbProblems adds the MACs that belong to stored devices.
	dbProblems := func(c conn) error {
		owners, err := macOwners(ctx, c, 0, macs)
		if err != nil {
			return err
		}
		for _, o := range owners {
			i := firstLine[o.mac]
			problems[i] = append(problems[i], firmward.ErrorDetail{Line: line(i), Field: "macs", Value: o.mac, Reason: ownedBy(o)})
		}
		return importError(problems)
	}

	if opts.DryRun || importError(problems) != nil {
		// Report the MACs taken in the database together with the other
		// problems.
		if err := s.db.snapshot(ctx, dbProblems); err != nil {
			return nil, err
		}
		return &firmward.ImportResult{Created: len(rows), DryRun: true}, nil
	}
	if len(rows) == 0 {
		return &firmward.ImportResult{}, nil
	}

	start := time.Now()
	var ids []int64
	var err error
	// A concurrent change may claim a MAC between the check and the insert
	// (PostgreSQL); the second attempt then reports it as a row problem.
	for attempt := 0; attempt < 2; attempt++ {
		err = s.db.write(ctx, func(tx conn) error {
			if err := dbProblems(tx); err != nil {
				return err
			}
			ids, err = s.insertImport(ctx, tx, rows)
			return err
		})
		if !isMACViolation(err) {
			break
		}
	}
	if err != nil {
		for i := range rows { // nothing was stored
			d := &rows[i].Device
			d.ID, d.CreatedAt, d.UpdatedAt = 0, time.Time{}, time.Time{}
		}
		var fe *firmward.Error
		if errors.As(err, &fe) && fe.Code == firmward.EINVALID {
			return nil, err
		}
		return nil, fmt.Errorf("importing devices: %w", err)
	}
	s.db.logger.Info("imported devices", "count", len(rows), "duration", time.Since(start).Round(time.Millisecond),
		"first_id", ids[0], "last_id", ids[len(ids)-1])
	if len(rows) >= analyzeAfterRows {
		s.db.analyze(ctx)
	}
	return &firmward.ImportResult{Created: len(rows), IDs: ids}, nil
}

// importError returns the EINVALID error listing problems, or nil.
func importError(problems [][]firmward.ErrorDetail) error {
	var bad int
	var details []firmward.ErrorDetail
	for _, p := range problems {
		if len(p) > 0 {
			bad++
			details = append(details, p...)
		}
	}
	if bad == 0 {
		return nil
	}
	what := fmt.Sprintf("%d rows have problems", bad)
	if bad == 1 {
		what = "1 row has problems"
	}
	return &firmward.Error{
		Code:    firmward.EINVALID,
		Message: "import refused: " + what + "; nothing was imported",
		Details: details,
	}
}

// insertImport stores the normalised rows with their lists and audit
// events in tx and returns their IDs.
//
// A second goroutine builds and seals the audit events while the devices
// are inserted: diffing, encoding and hashing 100,000 events is a good
// share of an import's time, and the chain can only be hashed in order.
func (s *DeviceService) insertImport(ctx context.Context, tx conn, rows []firmward.ImportRow) ([]int64, error) {
	n := len(rows)
	ids, err := allocateDeviceIDs(ctx, tx, n)
	if err != nil {
		return nil, err
	}
	now := s.db.nowUTC()
	devs := make([]*firmward.Device, n)
	for i := range rows {
		d := &rows[i].Device
		d.ID = ids[i]
		d.CreatedAt, d.UpdatedAt = now, now
		devs[i] = d
	}
	head, err := lockHead(ctx, tx)
	if err != nil {
		return nil, err
	}

	const chunk = 1000
	type sealedChunk struct {
		evs     []*firmward.AuditEvent
		changes []string
	}
	sealed := make(chan sealedChunk, 8)
	quit := make(chan struct{})
	defer close(quit) // stops the sealing when we return early
	go func() {
		var buf []byte
		h := head
		for start := 0; start < n; start += chunk {
			var c sealedChunk
			for _, d := range devs[start:min(start+chunk, n)] {
				e := deviceEvent(now, firmward.ActionDeviceImport, d.ID, firmward.DiffDevices(nil, d))
				prepareEvent(ctx, s.db, e)
				buf = appendJSONChanges(buf[:0], e.Changes)
				e.Seal(h.seq, h.hash)
				h = auditHead{seq: e.Seq, hash: e.Hash}
				c.evs = append(c.evs, e)
				c.changes = append(c.changes, string(buf))
			}
			select {
			case sealed <- c:
			case <-quit:
				return
			}
		}
	}()

	if err := insertDevices(ctx, tx, devs); err != nil {
		return nil, err
	}
	var c sealedChunk
	err = insertRows(ctx, tx, "audit_events", auditColumnList, n, func(i int, args []any) ([]any, error) {
		if i%chunk == 0 {
			select {
			case c = <-sealed:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		e := c.evs[i%chunk]
		head = auditHead{seq: e.Seq, hash: e.Hash}
		return auditArgs(args, e, c.changes[i%chunk]), nil
	})
	if err != nil {
		return nil, err
	}
	if err := head.store(ctx, tx); err != nil {
		return nil, err
	}
	return ids, nil
}

// insertDevices bulk-inserts new devices, which have their IDs, with their
// MACs, IPs and tags, and counts them.
func insertDevices(ctx context.Context, tx conn, devs []*firmward.Device) error {
	err := insertRows(ctx, tx, "devices", writeDeviceColumns, len(devs), func(i int, args []any) ([]any, error) {
		return deviceArgs(args, devs[i]), nil
	})
	if err != nil {
		return err
	}
	counts := countDelta{}
	for _, d := range devs {
		counts.add(d, 1)
	}
	if err := counts.apply(ctx, tx); err != nil {
		return err
	}
	type pair struct {
		v  string
		id int64
	}
	var macs, ips, tags []pair
	for _, d := range devs {
		for _, m := range d.MACs {
			macs = append(macs, pair{m, d.ID})
		}
		for _, ip := range d.IPs {
			ips = append(ips, pair{ip, d.ID})
		}
		for _, t := range d.Tags {
			tags = append(tags, pair{t, d.ID})
		}
	}
	for _, l := range []struct {
		table string
		cols  []string
		pairs []pair
	}{
		{"device_macs", []string{"mac", "device_id"}, macs},
		{"device_ips", []string{"ip", "device_id"}, ips},
		{"device_tags", []string{"tag", "device_id"}, tags},
	} {
		err := insertRows(ctx, tx, l.table, l.cols, len(l.pairs), func(i int, args []any) ([]any, error) {
			return append(args, l.pairs[i].v, l.pairs[i].id), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// allocateDeviceIDs reserves n new device IDs, in increasing order.
func allocateDeviceIDs(ctx context.Context, tx conn, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	var last int64
	if tx.db.dialect == postgres {
		// Reserve n IDs at once. The table lock keeps every other insert
		// into devices (and so the identity's nextval) out until we commit;
		// readers are not blocked. Concurrent device changes would wait for
		// the audit head this import holds anyway.
		if _, err := tx.exec(ctx, "LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return nil, fmt.Errorf("allocating device IDs: %w", err)
		}
		err := tx.queryRow(ctx, "SELECT setval(pg_get_serial_sequence('devices', 'id'), nextval(pg_get_serial_sequence('devices', 'id')) + ? - 1)",
			n).Scan(&last)
		if err != nil {
			return nil, fmt.Errorf("allocating device IDs: %w", err)
		}
		for i := range n {
			ids = append(ids, last-int64(n)+1+int64(i))
		}
		return ids, nil
	}
	// SQLite: the write transaction holds the database lock, so the IDs
	// after the highest ever used (AUTOINCREMENT never reuses one) are ours.
	err := tx.queryRow(ctx, "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'devices'), 0),"+
		" COALESCE((SELECT max(id) FROM devices), 0))").Scan(&last)
	if err != nil {
		return nil, fmt.Errorf("allocating device IDs: %w", err)
	}
	for i := range n {
		ids = append(ids, last+1+int64(i))
	}
	return ids, nil
}

// DeviceStats counts devices by category, criticality, exposure and update
// mechanism (unknown as "unknown"), with every known value present. It
// reads the device_counts table, which every change keeps up to date, so
// it costs the same for 20 devices or a million.
func (s *DeviceService) DeviceStats(ctx context.Context) (*firmward.DeviceStats, error) {
	st := firmward.NewDeviceStats()
	rows, err := s.db.read().query(ctx, "SELECT dimension, value, n FROM device_counts")
	if err != nil {
		return nil, fmt.Errorf("counting devices: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var dim, val string
		var n int64
		if err := rows.Scan(&dim, &val, &n); err != nil {
			return nil, fmt.Errorf("counting devices: %w", err)
		}
		switch dim {
		case "category":
			st.Total += n
			st.ByCategory[val] += n
		case "criticality":
			st.ByCriticality[val] += n
		case "exposure":
			st.ByExposure[val] += n
		case "update_mechanism":
			if val == "" {
				val = "unknown"
				st.MissingMechanism += n
			}
			st.ByUpdateMechanism[val] += n
		case "missing_firmware":
			st.MissingFirmware += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting devices: %w", err)
	}
	return st, nil
}

// countDelta is a change to device_counts: (dimension, value) → delta.
type countDelta map[[2]string]int64

// add counts d once more (sign 1) or once less (sign -1).
func (c countDelta) add(d *firmward.Device, sign int64) {
	c[[2]string{"category", string(d.Category)}] += sign
	c[[2]string{"criticality", string(d.Criticality)}] += sign
	c[[2]string{"exposure", string(d.Exposure)}] += sign
	c[[2]string{"update_mechanism", string(d.UpdateMechanism)}] += sign
	if d.FirmwareVersion == "" {
		c[[2]string{"missing_firmware", ""}] += sign
	}
}

// apply adds the deltas to device_counts in one upsert, in key order (so
// that concurrent writers on PostgreSQL lock the rows in the same order).
func (c countDelta) apply(ctx context.Context, tx conn) error {
	keys := make([][2]string, 0, len(c))
	for k, n := range c {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if a[0] != b[0] {
			return strings.Compare(a[0], b[0])
		}
		return strings.Compare(a[1], b[1])
	})
	args := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		args = append(args, k[0], k[1], c[k])
	}
	_, err := tx.exec(ctx, "INSERT INTO device_counts (dimension, value, n) VALUES "+placeholders(len(keys), 3)+
		" ON CONFLICT (dimension, value) DO UPDATE SET n = device_counts.n + excluded.n", args...)
	if err != nil {
		return fmt.Errorf("updating device counts: %w", err)
	}
	return nil
}
