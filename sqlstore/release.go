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

// ReleaseService is the release catalog kept in a database.
type ReleaseService struct {
	db *DB
}

var _ firmward.ReleaseService = (*ReleaseService)(nil)

// NewReleaseService returns the release catalog kept in db.
func NewReleaseService(db *DB) *ReleaseService { return &ReleaseService{db: db} }

const releaseColumns = "id, manufacturer, models, hardware_versions, version, release_date, channel, notes, fixes_cves," +
	" min_from_version, withdrawn_at, withdraw_reason, created_by, created_at"

// lineSep separates the items of the list columns of releases.
const lineSep = "\n"

func joinLines(l []string) string { return strings.Join(l, lineSep) }

func splitLines(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, lineSep)
}

func scanRelease(s scanner) (*firmward.Release, error) {
	var r firmward.Release
	var models, hw, cves string
	var created int64
	var withdrawn sql.NullInt64
	if err := s.Scan(&r.ID, &r.Manufacturer, &models, &hw, &r.Version, &r.ReleaseDate, &r.Channel, &r.Notes, &cves,
		&r.MinFromVersion, &withdrawn, &r.WithdrawReason, &r.CreatedBy, &created); err != nil {
		return nil, err
	}
	r.Models, r.HardwareVersions, r.FixesCVEs = splitLines(models), splitLines(hw), splitLines(cves)
	r.CreatedAt = fromMicros(created)
	r.WithdrawnAt = fromNullMicros(withdrawn)
	r.Withdrawn = r.WithdrawnAt != nil
	return &r, nil
}

// CreateRelease validates and stores r with its artifacts, audited as
// release.create. ECONFLICT when the manufacturer already has this version.
func (s *ReleaseService) CreateRelease(ctx context.Context, r *firmward.Release) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	nr := *r
	nr.CreatedAt = s.db.nowUTC()
	nr.CreatedBy = firmward.ActorFrom(ctx).String()
	nr.Withdrawn, nr.WithdrawnAt, nr.WithdrawReason = false, nil, ""
	err := s.db.write(ctx, func(tx conn) error {
		err := tx.queryRow(ctx, "INSERT INTO releases (manufacturer, manufacturer_lc, models, hardware_versions, version, release_date,"+
			" channel, notes, fixes_cves, min_from_version, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			nr.Manufacturer, strings.ToLower(nr.Manufacturer), joinLines(nr.Models), joinLines(nr.HardwareVersions), nr.Version,
			nr.ReleaseDate, nr.Channel, nr.Notes, joinLines(nr.FixesCVEs), nr.MinFromVersion, nr.CreatedBy, micros(nr.CreatedAt)).Scan(&nr.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return firmward.Errorf(firmward.ECONFLICT, "%s already has a release %s", nr.Manufacturer, nr.Version)
			}
			return fmt.Errorf("inserting release: %w", mapError(err))
		}
		for i, a := range nr.Artifacts {
			if _, err := tx.exec(ctx, "INSERT INTO release_artifacts (release_id, position, name, sha256, sha1, md5, size, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				nr.ID, i, a.Name, a.SHA256, a.SHA1, a.MD5, a.Size, a.URL); err != nil {
				return fmt.Errorf("inserting artifact %q: %w", a.Name, mapError(err))
			}
		}
		changes := []firmward.FieldChange{
			{Field: "manufacturer", New: nr.Manufacturer},
			{Field: "models", New: strings.Join(nr.Models, ", ")},
			{Field: "version", New: nr.Version},
			{Field: "channel", New: nr.Channel},
		}
		if len(nr.HardwareVersions) > 0 {
			changes = append(changes, firmward.FieldChange{Field: "hardware_versions", New: strings.Join(nr.HardwareVersions, ", ")})
		}
		if len(nr.FixesCVEs) > 0 {
			changes = append(changes, firmward.FieldChange{Field: "fixes_cves", New: strings.Join(nr.FixesCVEs, ", ")})
		}
		for _, a := range nr.Artifacts {
			v := "sha256:" + a.SHA256
			if a.URL != "" {
				v = a.URL
			}
			changes = append(changes, firmward.FieldChange{Field: "artifact", New: a.Name + " " + v})
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: nr.CreatedAt, Action: firmward.ActionReleaseCreate, ObjectType: "release",
			ObjectID: strconv.FormatInt(nr.ID, 10), Changes: changes,
		}})
	})
	if err != nil {
		return err
	}
	*r = nr
	return nil
}

// FindReleaseByID returns a release with its artifacts, or ENOTFOUND.
func (s *ReleaseService) FindReleaseByID(ctx context.Context, id int64) (*firmward.Release, error) {
	return findRelease(ctx, s.db.read(), id, false)
}

func findRelease(ctx context.Context, c conn, id int64, lock bool) (*firmward.Release, error) {
	q := "SELECT " + releaseColumns + " FROM releases WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	r, err := scanRelease(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "release %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading release %d: %w", id, err)
	}
	if err := loadArtifacts(ctx, c, []*firmward.Release{r}); err != nil {
		return nil, err
	}
	return r, nil
}

// loadArtifacts fills the artifacts of rs in one query.
func loadArtifacts(ctx context.Context, c conn, rs []*firmward.Release) error {
	if len(rs) == 0 {
		return nil
	}
	byID := make(map[int64]*firmward.Release, len(rs))
	args := make([]any, len(rs))
	for i, r := range rs {
		byID[r.ID] = r
		args[i] = r.ID
		r.Artifacts = []firmward.ReleaseArtifact{}
	}
	rows, err := c.query(ctx, "SELECT release_id, name, sha256, sha1, md5, size, url FROM release_artifacts WHERE release_id IN ("+
		inList(len(rs))+") ORDER BY release_id, position", args...)
	if err != nil {
		return fmt.Errorf("reading artifacts: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id int64
		var a firmward.ReleaseArtifact
		if err := rows.Scan(&id, &a.Name, &a.SHA256, &a.SHA1, &a.MD5, &a.Size, &a.URL); err != nil {
			return fmt.Errorf("reading artifacts: %w", err)
		}
		if r := byID[id]; r != nil {
			r.Artifacts = append(r.Artifacts, a)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading artifacts: %w", err)
	}
	return nil
}

// FindReleases returns one page of releases in id order and the next
// cursor, 0 at the end.
func (s *ReleaseService) FindReleases(ctx context.Context, f firmward.ReleaseFilter) ([]*firmward.Release, int64, error) {
	where := []string{"id > ?"}
	args := []any{f.After}
	if m := strings.TrimSpace(f.Manufacturer); m != "" {
		where = append(where, "manufacturer_lc = ?")
		args = append(args, strings.ToLower(m))
	}
	if m := strings.TrimSpace(f.Model); m != "" {
		where = append(where, s.db.dialect.contains("'"+lineSep+"' || models || '"+lineSep+"'"))
		args = append(args, lineSep+m+lineSep)
	}
	if !f.IncludeWithdrawn {
		where = append(where, "withdrawn_at IS NULL")
	}
	limit := pageSize(f.Limit)
	args = append(args, limit+1)
	c := s.db.read()
	out, err := queryReleases(ctx, c, "SELECT "+releaseColumns+" FROM releases WHERE "+strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing releases: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	if err := loadArtifacts(ctx, c, out); err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

func queryReleases(ctx context.Context, c conn, q string, args ...any) ([]*firmward.Release, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WithdrawRelease marks a release withdrawn and cancels its open actions
// in the same transaction: scheduled ones at once, running ones ask the
// device to cancel. Each is audited.
func (s *ReleaseService) WithdrawRelease(ctx context.Context, id int64, reason string) (*firmward.Release, int, error) {
	reason = storable(strings.TrimSpace(reason))
	if len(reason) > 1000 {
		return nil, 0, firmward.Errorf(firmward.EINVALID, "withdraw reason is longer than 1000 bytes")
	}
	var out *firmward.Release
	var canceled int
	err := s.db.write(ctx, func(tx conn) error {
		r, err := findRelease(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if r.Withdrawn {
			return firmward.Errorf(firmward.ECONFLICT, "release %d was withdrawn already", id)
		}
		now := s.db.nowUTC()
		if _, err := tx.exec(ctx, "UPDATE releases SET withdrawn_at = ?, withdraw_reason = ? WHERE id = ?", micros(now), reason, id); err != nil {
			return fmt.Errorf("withdrawing release %d: %w", id, err)
		}
		r.Withdrawn, r.WithdrawnAt, r.WithdrawReason = true, &now, reason
		ev := &firmward.AuditEvent{
			Time: now, Action: firmward.ActionReleaseWithdraw, ObjectType: "release", ObjectID: strconv.FormatInt(id, 10),
			Changes: []firmward.FieldChange{{Field: "withdrawn_at", New: now.Format(time.RFC3339)}, {Field: "withdraw_reason", New: reason}},
		}
		if err := appendAudit(ctx, tx, []*firmward.AuditEvent{ev}); err != nil {
			return err
		}
		actions, err := openActions(ctx, tx, "release_id = ?", id)
		if err != nil {
			return err
		}
		for _, a := range actions {
			if _, err := cancelAction(ctx, tx, a, now); err != nil {
				return err
			}
		}
		canceled = len(actions)
		out = r
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, canceled, nil
}
