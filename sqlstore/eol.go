package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// EOLService keeps end-of-support dates, the open-firmware list and the
// owners' operational values (migration 0008). Every change is audited in
// its transaction.
type EOLService struct {
	db *DB
}

var _ firmward.EOLService = (*EOLService)(nil)

// NewEOLService returns the lifecycle data kept in db.
func NewEOLService(db *DB) *EOLService { return &EOLService{db: db} }

const eolColumns = "id, manufacturer, model, release_date, end_of_support, source, updated_at"

func scanEOL(s scanner) (*firmward.EOLEntry, error) {
	var e firmward.EOLEntry
	var updated int64
	if err := s.Scan(&e.ID, &e.Manufacturer, &e.Model, &e.ReleaseDate, &e.EndOfSupport, &e.Source, &updated); err != nil {
		return nil, err
	}
	e.UpdatedAt = fromMicros(updated)
	return &e, nil
}

// FindEOL lists every entry by manufacturer and model.
func (s *EOLService) FindEOL(ctx context.Context) ([]*firmward.EOLEntry, error) {
	rows, err := s.db.read().query(ctx, "SELECT "+eolColumns+" FROM eol ORDER BY manufacturer_key, model_key")
	if err != nil {
		return nil, fmt.Errorf("listing end-of-support dates: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.EOLEntry
	for rows.Next() {
		e, err := scanEOL(rows)
		if err != nil {
			return nil, fmt.Errorf("reading end-of-support dates: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading end-of-support dates: %w", err)
	}
	return out, nil
}

// SetEOL creates or changes the entry of e's manufacturer and model.
func (s *EOLService) SetEOL(ctx context.Context, e *firmward.EOLEntry) error {
	if err := e.Normalize(); err != nil {
		return err
	}
	return s.db.write(ctx, func(tx conn) error {
		_, err := s.setEOL(ctx, tx, e)
		return err
	})
}

// ImportEOL sets every row or none.
func (s *EOLService) ImportEOL(ctx context.Context, rows []firmward.EOLRow) (*firmward.EOLImportResult, error) {
	var details []firmward.ErrorDetail
	seen := map[string]int{}
	for i := range rows {
		r := &rows[i]
		if err := r.Entry.Normalize(); err != nil {
			for _, d := range firmward.ErrorDetails(err) {
				d.Line = r.Line
				details = append(details, d)
			}
			continue
		}
		if first, ok := seen[r.Entry.EOLKey()]; ok {
			details = append(details, firmward.ErrorDetail{Line: r.Line, Field: "model", Value: r.Entry.Model, Reason: fmt.Sprintf("is already on line %d", first)})
		}
		seen[r.Entry.EOLKey()] = r.Line
	}
	if len(details) > 0 {
		return nil, &firmward.Error{Code: firmward.EINVALID, Message: "the end-of-support import is not valid; nothing was imported", Details: details}
	}
	var res firmward.EOLImportResult
	err := s.db.write(ctx, func(tx conn) error {
		res = firmward.EOLImportResult{}
		for i := range rows {
			outcome, err := s.setEOL(ctx, tx, &rows[i].Entry)
			if err != nil {
				return fmt.Errorf("line %d: %w", rows[i].Line, err)
			}
			switch outcome {
			case "created":
				res.Created++
			case "updated":
				res.Updated++
			default:
				res.Unchanged++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// setEOL upserts e inside tx and audits the change; it says whether the
// entry was created, updated or unchanged.
func (s *EOLService) setEOL(ctx context.Context, tx conn, e *firmward.EOLEntry) (string, error) {
	mk, pk := strings.ToLower(e.Manufacturer), strings.ToLower(e.Model)
	old, err := scanEOL(tx.queryRow(ctx, "SELECT "+eolColumns+" FROM eol WHERE manufacturer_key = ? AND model_key = ?"+tx.db.dialect.forUpdate(), mk, pk))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("reading end-of-support entry: %w", err)
	}
	now := s.db.nowUTC()
	e.UpdatedAt = now
	var changes []firmward.FieldChange
	add := func(field, o, n string) {
		if o != n {
			changes = append(changes, firmward.FieldChange{Field: field, Old: o, New: n})
		}
	}
	outcome := "created"
	if old == nil {
		add("manufacturer", "", e.Manufacturer)
		add("model", "", e.Model)
		add("release_date", "", e.ReleaseDate)
		add("end_of_support", "", e.EndOfSupport)
		add("source", "", e.Source)
		err = tx.queryRow(ctx, "INSERT INTO eol (manufacturer, model, manufacturer_key, model_key, release_date, end_of_support, source, updated_at)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			e.Manufacturer, e.Model, mk, pk, e.ReleaseDate, e.EndOfSupport, e.Source, micros(now)).Scan(&e.ID)
		if err != nil {
			return "", fmt.Errorf("storing end-of-support entry: %w", mapError(err))
		}
	} else {
		e.ID = old.ID
		add("manufacturer", old.Manufacturer, e.Manufacturer)
		add("model", old.Model, e.Model)
		add("release_date", old.ReleaseDate, e.ReleaseDate)
		add("end_of_support", old.EndOfSupport, e.EndOfSupport)
		add("source", old.Source, e.Source)
		if len(changes) == 0 {
			e.UpdatedAt = old.UpdatedAt
			return "unchanged", nil
		}
		outcome = "updated"
		if _, err := tx.exec(ctx, "UPDATE eol SET manufacturer = ?, model = ?, release_date = ?, end_of_support = ?, source = ?, updated_at = ? WHERE id = ?",
			e.Manufacturer, e.Model, e.ReleaseDate, e.EndOfSupport, e.Source, micros(now), e.ID); err != nil {
			return "", fmt.Errorf("storing end-of-support entry: %w", mapError(err))
		}
	}
	return outcome, appendAudit(ctx, tx, []*firmward.AuditEvent{{
		Time: now, Action: firmward.ActionEOLSet, ObjectType: "eol", ObjectID: strconv.FormatInt(e.ID, 10), Changes: changes,
	}})
}

// DeleteEOL removes an entry or answers ENOTFOUND.
func (s *EOLService) DeleteEOL(ctx context.Context, id int64) error {
	return s.db.write(ctx, func(tx conn) error {
		old, err := scanEOL(tx.queryRow(ctx, "SELECT "+eolColumns+" FROM eol WHERE id = ?"+tx.db.dialect.forUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return firmward.Errorf(firmward.ENOTFOUND, "end-of-support entry %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("reading end-of-support entry: %w", err)
		}
		if _, err := tx.exec(ctx, "DELETE FROM eol WHERE id = ?", id); err != nil {
			return fmt.Errorf("deleting end-of-support entry: %w", err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionEOLDelete, ObjectType: "eol", ObjectID: strconv.FormatInt(id, 10),
			Changes: []firmward.FieldChange{
				{Field: "manufacturer", Old: old.Manufacturer},
				{Field: "model", Old: old.Model},
				{Field: "end_of_support", Old: old.EndOfSupport},
			},
		}})
	})
}

const openFWColumns = "id, firmware, manufacturer, model, hardware_version, url, updated_at"

func scanOpenFW(s scanner) (*firmward.OpenFirmwareModel, error) {
	var m firmward.OpenFirmwareModel
	var updated int64
	if err := s.Scan(&m.ID, &m.Firmware, &m.Manufacturer, &m.Model, &m.HardwareVersion, &m.URL, &updated); err != nil {
		return nil, err
	}
	m.UpdatedAt = fromMicros(updated)
	return &m, nil
}

func openFWKey(m *firmward.OpenFirmwareModel) string {
	return strings.ToLower(strings.Join([]string{m.Firmware, m.Manufacturer, m.Model, m.HardwareVersion}, "\x1f"))
}

// FindOpenFirmware lists the open-firmware list by manufacturer and model.
func (s *EOLService) FindOpenFirmware(ctx context.Context) ([]*firmward.OpenFirmwareModel, error) {
	rows, err := s.db.read().query(ctx, "SELECT "+openFWColumns+" FROM open_firmware ORDER BY entry_key")
	if err != nil {
		return nil, fmt.Errorf("listing open firmware: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.OpenFirmwareModel
	for rows.Next() {
		m, err := scanOpenFW(rows)
		if err != nil {
			return nil, fmt.Errorf("reading open firmware: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading open firmware: %w", err)
	}
	return out, nil
}

// SetOpenFirmware adds m, or changes the URL of the same entry.
func (s *EOLService) SetOpenFirmware(ctx context.Context, m *firmward.OpenFirmwareModel) error {
	if err := m.Normalize(); err != nil {
		return err
	}
	return s.db.write(ctx, func(tx conn) error { return s.setOpenFW(ctx, tx, m) })
}

func (s *EOLService) setOpenFW(ctx context.Context, tx conn, m *firmward.OpenFirmwareModel) error {
	key := openFWKey(m)
	now := s.db.nowUTC()
	m.UpdatedAt = now
	old, err := scanOpenFW(tx.queryRow(ctx, "SELECT "+openFWColumns+" FROM open_firmware WHERE entry_key = ?"+tx.db.dialect.forUpdate(), key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.queryRow(ctx, "INSERT INTO open_firmware (firmware, manufacturer, model, hardware_version, url, entry_key, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
			m.Firmware, m.Manufacturer, m.Model, m.HardwareVersion, m.URL, key, micros(now)).Scan(&m.ID)
		if err != nil {
			return fmt.Errorf("storing open firmware: %w", mapError(err))
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionOpenFirmwareSet, ObjectType: "open_firmware", ObjectID: strconv.FormatInt(m.ID, 10),
			Changes: []firmward.FieldChange{
				{Field: "firmware", New: m.Firmware},
				{Field: "manufacturer", New: m.Manufacturer},
				{Field: "model", New: m.Model},
				{Field: "hardware_version", New: m.HardwareVersion},
				{Field: "url", New: m.URL},
			},
		}})
	case err != nil:
		return fmt.Errorf("reading open firmware: %w", err)
	}
	m.ID = old.ID
	if *old == (firmward.OpenFirmwareModel{ID: old.ID, Firmware: m.Firmware, Manufacturer: m.Manufacturer, Model: m.Model, HardwareVersion: m.HardwareVersion, URL: m.URL, UpdatedAt: old.UpdatedAt}) {
		m.UpdatedAt = old.UpdatedAt
		return nil
	}
	if _, err := tx.exec(ctx, "UPDATE open_firmware SET firmware = ?, manufacturer = ?, model = ?, hardware_version = ?, url = ?, updated_at = ? WHERE id = ?",
		m.Firmware, m.Manufacturer, m.Model, m.HardwareVersion, m.URL, micros(now), m.ID); err != nil {
		return fmt.Errorf("storing open firmware: %w", err)
	}
	return appendAudit(ctx, tx, []*firmward.AuditEvent{{
		Time: now, Action: firmward.ActionOpenFirmwareSet, ObjectType: "open_firmware", ObjectID: strconv.FormatInt(m.ID, 10),
		Changes: changedFields(
			[]string{"firmware", "manufacturer", "model", "hardware_version", "url"},
			[]string{old.Firmware, old.Manufacturer, old.Model, old.HardwareVersion, old.URL},
			[]string{m.Firmware, m.Manufacturer, m.Model, m.HardwareVersion, m.URL}),
	}})
}

// DeleteOpenFirmware removes an entry or answers ENOTFOUND.
func (s *EOLService) DeleteOpenFirmware(ctx context.Context, id int64) error {
	return s.db.write(ctx, func(tx conn) error {
		old, err := scanOpenFW(tx.queryRow(ctx, "SELECT "+openFWColumns+" FROM open_firmware WHERE id = ?"+tx.db.dialect.forUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return firmward.Errorf(firmward.ENOTFOUND, "open-firmware entry %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("reading open firmware: %w", err)
		}
		if _, err := tx.exec(ctx, "DELETE FROM open_firmware WHERE id = ?", id); err != nil {
			return fmt.Errorf("deleting open firmware: %w", err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionOpenFirmwareDelete, ObjectType: "open_firmware", ObjectID: strconv.FormatInt(id, 10),
			Changes: []firmward.FieldChange{
				{Field: "firmware", Old: old.Firmware},
				{Field: "manufacturer", Old: old.Manufacturer},
				{Field: "model", Old: old.Model},
				{Field: "hardware_version", Old: old.HardwareVersion},
			},
		}})
	})
}

// openFWSeeded is the lifecycle_settings marker of SeedOpenFirmware.
const openFWSeeded = "open_firmware_seeded"

// SeedOpenFirmware adds list once per database, in one audited change
// (one event listing the models); later calls read one row and add
// nothing, so that entries a person removed stay removed.
func (s *EOLService) SeedOpenFirmware(ctx context.Context, list []firmward.OpenFirmwareModel) (int, error) {
	var done int
	err := s.db.read().queryRow(ctx, "SELECT 1 FROM lifecycle_settings WHERE name = ?", openFWSeeded).Scan(&done)
	switch {
	case err == nil:
		return 0, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("reading the open-firmware seed marker: %w", err)
	}
	for i := range list {
		if err := list[i].Normalize(); err != nil {
			return 0, fmt.Errorf("seed entry %d: %w", i+1, err)
		}
	}
	added := 0
	err = s.db.write(ctx, func(tx conn) error {
		added = 0
		now := s.db.nowUTC()
		res, err := tx.exec(ctx, "INSERT INTO lifecycle_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", openFWSeeded, now.Format(time.RFC3339))
		if err != nil {
			return fmt.Errorf("marking the open-firmware seed: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // another process seeded meanwhile (or the count is unreadable)
		}
		var changes []firmward.FieldChange
		for i := range list {
			m := &list[i]
			res, err := tx.exec(ctx, "INSERT INTO open_firmware (firmware, manufacturer, model, hardware_version, url, entry_key, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"+
				" ON CONFLICT (entry_key) DO NOTHING",
				m.Firmware, m.Manufacturer, m.Model, m.HardwareVersion, m.URL, openFWKey(m), micros(now))
			if err != nil {
				return fmt.Errorf("seeding open firmware: %w", err)
			}
			if n, err := res.RowsAffected(); err == nil && n > 0 {
				added++
				changes = append(changes, firmward.FieldChange{Field: "model", New: strings.TrimSpace(m.Firmware + ": " + m.Manufacturer + " " + m.Model + " " + m.HardwareVersion)})
			}
		}
		if len(changes) == 0 {
			return nil
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionOpenFirmwareSeed, ObjectType: "open_firmware", ObjectID: "seed", Changes: changes,
		}})
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// FindOperationalValues returns every owner's answer by device.
func (s *EOLService) FindOperationalValues(ctx context.Context) (map[int64]*firmward.OperationalValueAnswer, error) {
	rows, err := s.db.read().query(ctx, "SELECT device_id, value, note, updated_by, updated_at FROM device_values")
	if err != nil {
		return nil, fmt.Errorf("listing operational values: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[int64]*firmward.OperationalValueAnswer{}
	for rows.Next() {
		var a firmward.OperationalValueAnswer
		var v string
		var updated int64
		if err := rows.Scan(&a.DeviceID, &v, &a.Note, &a.UpdatedBy, &updated); err != nil {
			return nil, fmt.Errorf("reading operational values: %w", err)
		}
		a.Value, a.UpdatedAt = firmward.OperationalValue(v), fromMicros(updated)
		out[a.DeviceID] = &a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading operational values: %w", err)
	}
	return out, nil
}

// SetOperationalValue stores the owner's answer for a device.
func (s *EOLService) SetOperationalValue(ctx context.Context, deviceID int64, v firmward.OperationalValue, note string) (*firmward.OperationalValueAnswer, error) {
	v, err := firmward.ParseOperationalValue(string(v))
	if err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if len(note) > firmward.MaxLifecycleNoteLen {
		return nil, &firmward.Error{
			Code: firmward.EINVALID, Message: "operational value is not valid",
			Details: []firmward.ErrorDetail{{Field: "note", Reason: fmt.Sprintf("is longer than %d bytes", firmward.MaxLifecycleNoteLen)}},
		}
	}
	a := &firmward.OperationalValueAnswer{DeviceID: deviceID, Value: v, Note: storable(note), UpdatedBy: storable(firmward.ActorFrom(ctx).String()), UpdatedAt: s.db.nowUTC()}
	err = s.db.write(ctx, func(tx conn) error {
		var exists int
		if err := tx.queryRow(ctx, "SELECT 1 FROM devices WHERE id = ?"+tx.db.dialect.forUpdate(), deviceID).Scan(&exists); errors.Is(err, sql.ErrNoRows) {
			return firmward.Errorf(firmward.ENOTFOUND, "device %d not found", deviceID)
		} else if err != nil {
			return fmt.Errorf("reading device: %w", err)
		}
		var oldV, oldNote string
		err := tx.queryRow(ctx, "SELECT value, note FROM device_values WHERE device_id = ?", deviceID).Scan(&oldV, &oldNote)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading operational value: %w", err)
		}
		if _, err := tx.exec(ctx, "INSERT INTO device_values (device_id, value, note, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)"+
			" ON CONFLICT (device_id) DO UPDATE SET value = excluded.value, note = excluded.note, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
			deviceID, string(a.Value), a.Note, a.UpdatedBy, micros(a.UpdatedAt)); err != nil {
			return fmt.Errorf("storing operational value: %w", mapError(err))
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: a.UpdatedAt, Action: firmward.ActionOperationalValue, ObjectType: "device", ObjectID: strconv.FormatInt(deviceID, 10),
			Changes: []firmward.FieldChange{{Field: "operational_value", Old: oldV, New: string(a.Value)}, {Field: "note", Old: oldNote, New: a.Note}},
		}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// changedFields lists the fields whose old and new values differ.
func changedFields(fields, old, new []string) []firmward.FieldChange {
	var out []firmward.FieldChange
	for i, f := range fields {
		if old[i] != new[i] {
			out = append(out, firmward.FieldChange{Field: f, Old: old[i], New: new[i]})
		}
	}
	return out
}
