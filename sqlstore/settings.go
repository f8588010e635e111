package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/firmward/firmward"
)

// SettingsService implements firmward.SettingsService over the name/value
// table lifecycle_settings (migration 0008), which already holds the
// lifecycle services' one-time markers; the wizard's names ("setup.…")
// cannot collide with those.
type SettingsService struct {
	db *DB
}

var _ firmward.SettingsService = (*SettingsService)(nil)

// NewSettingsService returns the settings store of db.
func NewSettingsService(db *DB) *SettingsService { return &SettingsService{db: db} }

// Setting returns the value of name or ENOTFOUND.
func (s *SettingsService) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.read().queryRow(ctx, "SELECT value FROM lifecycle_settings WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", firmward.Errorf(firmward.ENOTFOUND, "setting %q is not set", name)
	}
	if err != nil {
		return "", fmt.Errorf("reading setting %q: %w", name, err)
	}
	return v, nil
}

// SetSetting stores value under name and records the change.
func (s *SettingsService) SetSetting(ctx context.Context, name, value string) error {
	if err := firmward.ValidSetting(name, value); err != nil {
		return err
	}
	return s.db.write(ctx, func(tx conn) error {
		var old string
		err := tx.queryRow(ctx, "SELECT value FROM lifecycle_settings WHERE name = ?"+tx.db.dialect.forUpdate(), name).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading setting %q: %w", name, err)
		}
		if err == nil && old == value {
			return nil
		}
		if _, err := tx.exec(ctx, "INSERT INTO lifecycle_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value); err != nil {
			return fmt.Errorf("storing setting %q: %w", name, err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionSettingSet, ObjectType: "setting", ObjectID: name,
			Changes: []firmward.FieldChange{{Field: "value", Old: old, New: value}},
		}})
	})
}
