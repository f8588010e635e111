package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// CheckService keeps health-check cadences and recorded checks (migration
// 0008). Every change is audited in its transaction.
type CheckService struct {
	db *DB
}

var _ firmward.CheckService = (*CheckService)(nil)

// NewCheckService returns the health checks kept in db.
func NewCheckService(db *DB) *CheckService { return &CheckService{db: db} }

// FindCheckCadences lists the rules by site then category.
func (s *CheckService) FindCheckCadences(ctx context.Context) ([]firmward.CheckCadence, error) {
	rows, err := s.db.read().query(ctx, "SELECT site, category, months, updated_at FROM check_cadences ORDER BY site_key, category")
	if err != nil {
		return nil, fmt.Errorf("listing check cadences: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []firmward.CheckCadence
	for rows.Next() {
		var c firmward.CheckCadence
		var cat string
		var updated int64
		if err := rows.Scan(&c.Site, &cat, &c.Months, &updated); err != nil {
			return nil, fmt.Errorf("reading check cadences: %w", err)
		}
		c.Category, c.UpdatedAt = firmward.Category(cat), fromMicros(updated)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading check cadences: %w", err)
	}
	return out, nil
}

func cadenceID(site string, cat firmward.Category) string {
	if site == "" {
		site = "*"
	}
	if cat == "" {
		cat = "*"
	}
	return site + "/" + string(cat)
}

// SetCheckCadence creates or changes the rule of c's site and category.
func (s *CheckService) SetCheckCadence(ctx context.Context, c firmward.CheckCadence) error {
	if err := c.Normalize(); err != nil {
		return err
	}
	now := s.db.nowUTC()
	return s.db.write(ctx, func(tx conn) error {
		var old int
		err := tx.queryRow(ctx, "SELECT months FROM check_cadences WHERE site_key = ? AND category = ?"+tx.db.dialect.forUpdate(), strings.ToLower(c.Site), string(c.Category)).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading check cadence: %w", err)
		}
		oldText := ""
		if err == nil {
			if old == c.Months {
				return nil
			}
			oldText = strconv.Itoa(old)
		}
		if _, err := tx.exec(ctx, "INSERT INTO check_cadences (site_key, category, site, months, updated_at) VALUES (?, ?, ?, ?, ?)"+
			" ON CONFLICT (site_key, category) DO UPDATE SET site = excluded.site, months = excluded.months, updated_at = excluded.updated_at",
			strings.ToLower(c.Site), string(c.Category), c.Site, c.Months, micros(now)); err != nil {
			return fmt.Errorf("storing check cadence: %w", err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionCheckCadence, ObjectType: "check_cadence", ObjectID: cadenceID(c.Site, c.Category),
			Changes: []firmward.FieldChange{{Field: "months", Old: oldText, New: strconv.Itoa(c.Months)}},
		}})
	})
}

// DeleteCheckCadence removes a rule or answers ENOTFOUND.
func (s *CheckService) DeleteCheckCadence(ctx context.Context, site string, cat firmward.Category) error {
	site = strings.TrimSpace(site)
	return s.db.write(ctx, func(tx conn) error {
		var old int
		err := tx.queryRow(ctx, "SELECT months FROM check_cadences WHERE site_key = ? AND category = ?"+tx.db.dialect.forUpdate(), strings.ToLower(site), string(cat)).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return firmward.Errorf(firmward.ENOTFOUND, "no check cadence for site %q and category %q", site, cat)
		}
		if err != nil {
			return fmt.Errorf("reading check cadence: %w", err)
		}
		if _, err := tx.exec(ctx, "DELETE FROM check_cadences WHERE site_key = ? AND category = ?", strings.ToLower(site), string(cat)); err != nil {
			return fmt.Errorf("deleting check cadence: %w", err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionCheckCadence, ObjectType: "check_cadence", ObjectID: cadenceID(site, cat),
			Changes: []firmward.FieldChange{{Field: "months", Old: strconv.Itoa(old)}},
		}})
	})
}

const checkColumns = "id, device_id, source, actor, time, firmware_version, auto_update, default_password, admin_found, note, complete"

func scanCheck(s scanner) (*firmward.HealthCheck, error) {
	var c firmward.HealthCheck
	var src string
	var at int64
	if err := s.Scan(&c.ID, &c.DeviceID, &src, &c.Actor, &at, &c.FirmwareVersion, &c.AutoUpdate, &c.DefaultPassword, &c.AdminFound, &c.Note, &c.Complete); err != nil {
		return nil, err
	}
	c.Source, c.Time = firmward.CheckSource(src), fromMicros(at)
	return &c, nil
}

// RecordHealthCheck stores c and audits every answer.
func (s *CheckService) RecordHealthCheck(ctx context.Context, c *firmward.HealthCheck) error {
	if err := c.Normalize(); err != nil {
		return err
	}
	c.Note = storable(c.Note)
	c.FirmwareVersion = storable(c.FirmwareVersion)
	c.Actor = storable(firmward.ActorFrom(ctx).String())
	c.Time = s.db.nowUTC()
	return s.db.write(ctx, func(tx conn) error {
		var exists int
		if err := tx.queryRow(ctx, "SELECT 1 FROM devices WHERE id = ?"+tx.db.dialect.forUpdate(), c.DeviceID).Scan(&exists); errors.Is(err, sql.ErrNoRows) {
			return firmward.Errorf(firmward.ENOTFOUND, "device %d not found", c.DeviceID)
		} else if err != nil {
			return fmt.Errorf("reading device: %w", err)
		}
		err := tx.queryRow(ctx, "INSERT INTO health_checks (device_id, source, actor, time, firmware_version, auto_update, default_password, admin_found, note, complete)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			c.DeviceID, string(c.Source), c.Actor, micros(c.Time), c.FirmwareVersion, c.AutoUpdate, c.DefaultPassword, c.AdminFound, c.Note, c.Complete).Scan(&c.ID)
		if err != nil {
			return fmt.Errorf("storing health check: %w", mapError(err))
		}
		changes := []firmward.FieldChange{
			{Field: "source", New: string(c.Source)},
			{Field: "admin_found", New: c.AdminFound},
			{Field: "auto_update", New: c.AutoUpdate},
			{Field: "default_password_changed", New: c.DefaultPassword},
			{Field: "firmware_version", New: c.FirmwareVersion},
			{Field: "complete", New: strconv.FormatBool(c.Complete)},
		}
		if c.Note != "" {
			changes = append(changes, firmward.FieldChange{Field: "note", New: c.Note})
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: c.Time, Action: firmward.ActionHealthCheck, ObjectType: "device", ObjectID: strconv.FormatInt(c.DeviceID, 10), Changes: changes,
		}})
	})
}

// LastHealthChecks returns the newest complete check of every device.
func (s *CheckService) LastHealthChecks(ctx context.Context) (map[int64]*firmward.HealthCheck, error) {
	rows, err := s.db.read().query(ctx, "SELECT "+checkColumns+" FROM health_checks h WHERE complete = ? AND id = "+
		"(SELECT id FROM health_checks h2 WHERE h2.device_id = h.device_id AND h2.complete = ? ORDER BY h2.time DESC, h2.id DESC LIMIT 1)", true, true)
	if err != nil {
		return nil, fmt.Errorf("listing health checks: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[int64]*firmward.HealthCheck{}
	for rows.Next() {
		c, err := scanCheck(rows)
		if err != nil {
			return nil, fmt.Errorf("reading health checks: %w", err)
		}
		out[c.DeviceID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading health checks: %w", err)
	}
	return out, nil
}

// maxDeviceChecks bounds FindHealthChecks.
const maxDeviceChecks = 1000

// FindHealthChecks lists a device's checks, newest first (at most 1000).
func (s *CheckService) FindHealthChecks(ctx context.Context, deviceID int64) ([]*firmward.HealthCheck, error) {
	rows, err := s.db.read().query(ctx, "SELECT "+checkColumns+" FROM health_checks WHERE device_id = ? ORDER BY time DESC, id DESC LIMIT ?", deviceID, maxDeviceChecks)
	if err != nil {
		return nil, fmt.Errorf("listing health checks: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.HealthCheck
	for rows.Next() {
		c, err := scanCheck(rows)
		if err != nil {
			return nil, fmt.Errorf("reading health checks: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading health checks: %w", err)
	}
	return out, nil
}
