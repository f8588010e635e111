package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/firmward/firmward"
)

// AlertService keeps alerts in the database.
type AlertService struct {
	db *DB
}

var _ firmward.AlertService = (*AlertService)(nil)

// NewAlertService returns the alerts kept in db.
func NewAlertService(db *DB) *AlertService { return &AlertService{db: db} }

const alertColumns = "id, kind, severity, subject, device_id, site, details, dedupe_key, created_at, acknowledged_by, acknowledged_at"

func scanAlert(s scanner) (*firmward.Alert, error) {
	var a firmward.Alert
	var severity, details string
	var created int64
	var acked sql.NullInt64
	if err := s.Scan(&a.ID, &a.Kind, &severity, &a.Subject, &a.DeviceID, &a.Site, &details, &a.DedupeKey,
		&created, &a.AcknowledgedBy, &acked); err != nil {
		return nil, err
	}
	a.Severity = firmward.Severity(severity)
	if err := json.Unmarshal([]byte(details), &a.Details); err != nil {
		return nil, fmt.Errorf("alert %d: reading details: %w", a.ID, err)
	}
	if len(a.Details) == 0 {
		a.Details = nil
	}
	a.CreatedAt, a.AcknowledgedAt = fromMicros(created), fromNullMicros(acked)
	return &a, nil
}

// RaiseAlert validates and stores a and reports true; when an alert with
// the same dedupe key exists, a becomes the stored one and it reports
// false. An empty key gets "KIND:device:ID" for an alert about a device
// and a unique "KIND:alert:ID" otherwise (never deduplicated).
func (s *AlertService) RaiseAlert(ctx context.Context, a *firmward.Alert) (bool, error) {
	if err := a.Validate(); err != nil {
		return false, err
	}
	if a.DedupeKey == "" && a.DeviceID > 0 {
		a.DedupeKey = a.Kind + ":device:" + strconv.FormatInt(a.DeviceID, 10)
	}
	details := map[string]string{}
	for k, v := range a.Details {
		details[storable(k)] = storable(v)
	}
	dj, err := json.Marshal(details)
	if err != nil {
		return false, fmt.Errorf("encoding alert details: %w", err)
	}
	now := s.db.nowUTC()
	var created bool
	err = s.db.write(ctx, func(tx conn) error {
		if a.DedupeKey != "" {
			stored, err := scanAlert(tx.queryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE dedupe_key = ?", storable(a.DedupeKey)))
			switch {
			case err == nil:
				*a = *stored
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("reading alert %q: %w", a.DedupeKey, err)
			}
		}
		key := storable(a.DedupeKey)
		if key == "" {
			// A placeholder unique until the id is known.
			key = "pending:" + strconv.FormatInt(now.UnixNano(), 10) + ":" + firmward.NewSecret("")
		}
		err := tx.queryRow(ctx, "INSERT INTO alerts (kind, severity, subject, device_id, site, details, dedupe_key, created_at) VALUES ("+inList(8)+") RETURNING id",
			storable(a.Kind), string(a.Severity), storable(a.Subject), a.DeviceID, storable(a.Site), string(dj), key, micros(now)).Scan(&a.ID)
		if err != nil {
			return fmt.Errorf("inserting alert: %w", err)
		}
		if a.DedupeKey == "" {
			key = a.Kind + ":alert:" + strconv.FormatInt(a.ID, 10)
			if _, err := tx.exec(ctx, "UPDATE alerts SET dedupe_key = ? WHERE id = ?", storable(key), a.ID); err != nil {
				return fmt.Errorf("keying alert %d: %w", a.ID, err)
			}
		}
		a.DedupeKey, a.CreatedAt, a.AcknowledgedBy, a.AcknowledgedAt = key, now, "", nil
		created = true
		return nil
	})
	if err != nil && isUniqueViolation(err) {
		// Raised at the same moment by another replica: return that one.
		stored, err2 := scanAlert(s.db.read().queryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE dedupe_key = ?", storable(a.DedupeKey)))
		if err2 != nil {
			return false, fmt.Errorf("reading alert %q after a race: %w", a.DedupeKey, err2)
		}
		*a = *stored
		return false, nil
	}
	return created, err
}

// FindAlertByID returns one alert or ENOTFOUND.
func (s *AlertService) FindAlertByID(ctx context.Context, id int64) (*firmward.Alert, error) {
	return findAlert(ctx, s.db.read(), id, false)
}

func findAlert(ctx context.Context, c conn, id int64, lock bool) (*firmward.Alert, error) {
	q := "SELECT " + alertColumns + " FROM alerts WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	a, err := scanAlert(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "alert %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading alert %d: %w", id, err)
	}
	return a, nil
}

// FindAlerts returns one page of alerts, newest first, and the next cursor.
func (s *AlertService) FindAlerts(ctx context.Context, f firmward.AlertFilter) ([]*firmward.Alert, int64, error) {
	var where []string
	var args []any
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Severity != "" {
		where, args = append(where, "severity = ?"), append(args, string(f.Severity))
	}
	if f.DeviceID > 0 {
		where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
	}
	if f.Site != "" {
		where, args = append(where, "site = ?"), append(args, f.Site)
	}
	if f.Unacked {
		where = append(where, "acknowledged_at IS NULL")
	}
	return page(ctx, s.db.read(), alertColumns, "alerts", where, args, f.After, f.Limit, scanAlert,
		func(a *firmward.Alert) int64 { return a.ID })
}

// AcknowledgeAlert records that the actor of ctx has seen alert id,
// audited as alert.ack; an acknowledged alert is returned as it is.
// ENOTFOUND when there is no such alert.
func (s *AlertService) AcknowledgeAlert(ctx context.Context, id int64) (*firmward.Alert, error) {
	var out *firmward.Alert
	err := s.db.write(ctx, func(tx conn) error {
		a, err := findAlert(ctx, tx, id, true)
		if err != nil {
			return err
		}
		out = a
		if a.AcknowledgedAt != nil {
			return nil
		}
		now := s.db.nowUTC()
		actor := storable(firmward.ActorFrom(ctx).String())
		if _, err := tx.exec(ctx, "UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?", actor, micros(now), id); err != nil {
			return fmt.Errorf("acknowledging alert %d: %w", id, err)
		}
		a.AcknowledgedBy, a.AcknowledgedAt = actor, &now
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionAlertAck, ObjectType: "alert", ObjectID: strconv.FormatInt(id, 10),
			Changes: []firmward.FieldChange{{Field: "kind", New: a.Kind}, {Field: "subject", New: a.Subject}},
		}})
	})
	return out, err
}
