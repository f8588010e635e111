package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

// Limits of the text a person writes into NAC state.
const (
	maxNACReasonLen = 500
	maxNACEvents    = 1000
)

// NACService keeps NAC site policies, per-device quarantine state and its
// history, RADIUS sessions and NAS secrets (migration 0007). It implements
// nac.Store, and radius.Directory through Decide.
type NACService struct {
	db  *DB
	key []byte // AES-256 key sealing NAS secrets; nil refuses to store them
}

var _ nac.Store = (*NACService)(nil)

// NACOptions configure a NACService.
type NACOptions struct {
	// SecretKey (32 bytes) seals NAS shared secrets with AES-256-GCM. The
	// server keeps it in DATA/nac-secrets.key (mode 0600), outside the
	// database. Without it SetNASSecret and revealing NASSecrets fail.
	SecretKey []byte
}

// NewNACService returns the NAC state kept in db.
func NewNACService(db *DB, opts NACOptions) (*NACService, error) {
	if opts.SecretKey != nil && len(opts.SecretKey) != 32 {
		return nil, fmt.Errorf("sqlstore: the NAS secret key must be 32 bytes, not %d", len(opts.SecretKey))
	}
	return &NACService{db: db, key: opts.SecretKey}, nil
}

// --- policies ---

const policyColumns = "site, mode, quarantine_vlan, default_segment, unknown_action, unknown_vlan, rules, segments, vlans, protected_categories, subnets"

func scanPolicy(s scanner) (nac.Policy, error) {
	var p nac.Policy
	var mode, action, rules, segments, vlans, protected, subnets string
	if err := s.Scan(&p.Site, &mode, &p.QuarantineVLAN, &p.DefaultSegment, &action, &p.Unknown.VLAN, &rules, &segments, &vlans, &protected, &subnets); err != nil {
		return p, err
	}
	p.Mode, p.Unknown.Action = nac.Mode(mode), nac.UnknownAction(action)
	for _, f := range []struct {
		src string
		dst any
	}{{rules, &p.Rules}, {segments, &p.Segments}, {vlans, &p.VLANs}, {protected, &p.ProtectedCategories}, {subnets, &p.Subnets}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return p, fmt.Errorf("site %q: reading policy: %w", p.Site, err)
		}
	}
	return p, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // maps of strings and plain structs always encode
		return "null"
	}
	return string(b)
}

// SitePolicy returns the stored policy of site, or nac.EnterprisePolicy
// (monitor mode) when none is stored.
func (s *NACService) SitePolicy(ctx context.Context, site string) (nac.Policy, error) {
	return sitePolicy(ctx, s.db.read(), site)
}

func sitePolicy(ctx context.Context, c conn, site string) (nac.Policy, error) {
	p, err := scanPolicy(c.queryRow(ctx, "SELECT "+policyColumns+" FROM nac_policies WHERE site = ?", site))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nac.EnterprisePolicy(site), nil
	case err != nil:
		return p, fmt.Errorf("reading the NAC policy of site %q: %w", site, err)
	}
	return p, nil
}

// SetSitePolicy validates and stores p; audited as nac.policy with the
// settings that changed.
func (s *NACService) SetSitePolicy(ctx context.Context, p nac.Policy) error {
	p.Site = strings.TrimSpace(p.Site)
	if p.Site == "" || !utf8.ValidString(p.Site) || len(p.Site) > 200 {
		return &firmward.Error{Code: firmward.EINVALID, Message: "invalid NAC policy", Details: []firmward.ErrorDetail{{Field: "site", Reason: "is required (text, at most 200 bytes)"}}}
	}
	if err := p.Validate(); err != nil {
		return err
	}
	fields := func(p nac.Policy) [][2]string {
		return [][2]string{
			{"mode", string(p.Mode)},
			{"quarantine_vlan", p.QuarantineVLAN},
			{"default_segment", p.DefaultSegment},
			{"unknown", mustJSON(p.Unknown)},
			{"rules", mustJSON(p.Rules)},
			{"segments", mustJSON(p.Segments)},
			{"vlans", mustJSON(p.VLANs)},
			{"protected_categories", mustJSON(p.ProtectedCategories)},
			{"subnets", mustJSON(p.Subnets)},
		}
	}
	return s.db.write(ctx, func(tx conn) error {
		old, err := sitePolicy(ctx, tx, p.Site)
		if err != nil {
			return err
		}
		var changes []firmward.FieldChange
		of, nf := fields(old), fields(p)
		for i := range nf {
			if of[i][1] != nf[i][1] {
				changes = append(changes, firmward.FieldChange{Field: nf[i][0], Old: of[i][1], New: nf[i][1]})
			}
		}
		now := tx.db.nowUTC()
		_, err = tx.exec(ctx, "INSERT INTO nac_policies ("+policyColumns+", updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"+
			" ON CONFLICT (site) DO UPDATE SET mode = excluded.mode, quarantine_vlan = excluded.quarantine_vlan,"+
			" default_segment = excluded.default_segment, unknown_action = excluded.unknown_action, unknown_vlan = excluded.unknown_vlan,"+
			" rules = excluded.rules, segments = excluded.segments, vlans = excluded.vlans,"+
			" protected_categories = excluded.protected_categories, subnets = excluded.subnets, updated_at = excluded.updated_at",
			p.Site, string(p.Mode), p.QuarantineVLAN, p.DefaultSegment, string(p.Unknown.Action), p.Unknown.VLAN,
			mustJSON(p.Rules), mustJSON(p.Segments), mustJSON(p.VLANs), mustJSON(p.ProtectedCategories), mustJSON(p.Subnets), micros(now))
		if err != nil {
			return fmt.Errorf("storing the NAC policy of site %q: %w", p.Site, mapError(err))
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionNACPolicy, ObjectType: "nac_site", ObjectID: p.Site, Changes: changes,
		}})
	})
}

// SitePolicies lists the stored policies by site.
func (s *NACService) SitePolicies(ctx context.Context) ([]nac.Policy, error) {
	rows, err := s.db.read().query(ctx, "SELECT "+policyColumns+" FROM nac_policies ORDER BY site")
	if err != nil {
		return nil, fmt.Errorf("listing NAC policies: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []nac.Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// --- state ---

const stateColumns = "device_id, manual_reason, manual_by, manual_at, approval_reason, approval_by, approval_at, reviewed," +
	" exempt_reason, exempt_owner, exempt_until, exempt_by, exempt_at, quarantined, enforced, needs_approval, reasons, changed_at, updated_at"

func scanState(s scanner) (*firmward.NACState, error) {
	var st firmward.NACState
	var manualReason, approvalReason, exemptReason sql.NullString
	var manualBy, approvalBy, exemptOwner, exemptBy string
	var manualAt, approvalAt, exemptUntil, exemptAt, changed sql.NullInt64
	var updated int64
	err := s.Scan(&st.DeviceID, &manualReason, &manualBy, &manualAt, &approvalReason, &approvalBy, &approvalAt, &st.Reviewed,
		&exemptReason, &exemptOwner, &exemptUntil, &exemptBy, &exemptAt, &st.Quarantined, &st.Enforced, &st.NeedsApproval,
		&st.Reasons, &changed, &updated)
	if err != nil {
		return nil, err
	}
	at := func(n sql.NullInt64) time.Time {
		if !n.Valid {
			return time.Time{}
		}
		return fromMicros(n.Int64)
	}
	if manualReason.Valid {
		st.Manual = &firmward.NACManual{Reason: manualReason.String, By: manualBy, At: at(manualAt)}
	}
	if approvalReason.Valid {
		st.Approval = &firmward.NACApproval{Reason: approvalReason.String, By: approvalBy, At: at(approvalAt)}
	}
	if exemptReason.Valid {
		st.Exemption = &firmward.NACExemption{Reason: exemptReason.String, Owner: exemptOwner, Until: at(exemptUntil), By: exemptBy, At: at(exemptAt)}
	}
	st.ChangedAt = fromNullMicros(changed)
	u := fromMicros(updated)
	st.UpdatedAt = &u
	return &st, nil
}

// readState reads a device's state; the zero state (DeviceID set) when no
// row exists. It does not check that the device exists.
func readState(ctx context.Context, c conn, id int64, lock bool) (*firmward.NACState, error) {
	q := "SELECT " + stateColumns + " FROM nac_states WHERE device_id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	st, err := scanState(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &firmward.NACState{DeviceID: id}, nil
	case err != nil:
		return nil, fmt.Errorf("reading the NAC state of device %d: %w", id, err)
	}
	return st, nil
}

func writeState(ctx context.Context, tx conn, st *firmward.NACState, now time.Time) error {
	var mr, ar, er sql.NullString
	var mb, ab, eo, eb string
	var ma, aa, eu, ea sql.NullInt64
	if m := st.Manual; m != nil {
		mr, mb, ma = sql.NullString{String: m.Reason, Valid: true}, m.By, nullMicros(&m.At)
	}
	if a := st.Approval; a != nil {
		ar, ab, aa = sql.NullString{String: a.Reason, Valid: true}, a.By, nullMicros(&a.At)
	}
	if e := st.Exemption; e != nil {
		er, eo, eu, eb, ea = sql.NullString{String: e.Reason, Valid: true}, e.Owner, nullMicros(&e.Until), e.By, nullMicros(&e.At)
	}
	st.UpdatedAt = &now
	_, err := tx.exec(ctx, "INSERT INTO nac_states ("+stateColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"+
		" ON CONFLICT (device_id) DO UPDATE SET manual_reason = excluded.manual_reason, manual_by = excluded.manual_by,"+
		" manual_at = excluded.manual_at, approval_reason = excluded.approval_reason, approval_by = excluded.approval_by,"+
		" approval_at = excluded.approval_at, reviewed = excluded.reviewed, exempt_reason = excluded.exempt_reason,"+
		" exempt_owner = excluded.exempt_owner, exempt_until = excluded.exempt_until, exempt_by = excluded.exempt_by,"+
		" exempt_at = excluded.exempt_at, quarantined = excluded.quarantined, enforced = excluded.enforced,"+
		" needs_approval = excluded.needs_approval, reasons = excluded.reasons, changed_at = excluded.changed_at, updated_at = excluded.updated_at",
		st.DeviceID, mr, mb, ma, ar, ab, aa, st.Reviewed, er, eo, eu, eb, ea, st.Quarantined, st.Enforced, st.NeedsApproval,
		st.Reasons, nullMicros(st.ChangedAt), micros(now))
	if err != nil {
		return fmt.Errorf("storing the NAC state of device %d: %w", st.DeviceID, mapError(err))
	}
	return nil
}

// NACState returns a device's state, the zero state when none is stored,
// or ENOTFOUND.
func (s *NACService) NACState(ctx context.Context, id int64) (*firmward.NACState, error) {
	c := s.db.read()
	if err := deviceExists(ctx, c, id, false); err != nil {
		return nil, err
	}
	return readState(ctx, c, id, false)
}

func deviceExists(ctx context.Context, c conn, id int64, lock bool) error {
	q := "SELECT id FROM devices WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	var got int64
	err := c.queryRow(ctx, q, id).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return firmward.Errorf(firmward.ENOTFOUND, "device %d not found", id)
	case err != nil:
		return fmt.Errorf("reading device %d: %w", id, err)
	}
	return nil
}

// NACStates lists stored states by device id; with f.Active only those
// with something going on.
func (s *NACService) NACStates(ctx context.Context, f nac.StateFilter) ([]*firmward.NACState, error) {
	q := "SELECT " + stateColumns + " FROM nac_states"
	if f.Active {
		q += " WHERE quarantined OR needs_approval OR manual_reason IS NOT NULL OR approval_reason IS NOT NULL OR exempt_reason IS NOT NULL"
	}
	limit := f.Limit
	if limit <= 0 || limit > 100_000 {
		limit = 100_000
	}
	rows, err := s.db.read().query(ctx, q+" ORDER BY device_id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("listing NAC states: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.NACState
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, fmt.Errorf("listing NAC states: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// checkReason validates a reason a person gives.
func checkReason(field, reason string, required bool) (string, []firmward.ErrorDetail) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "" && required:
		return reason, []firmward.ErrorDetail{{Field: field, Reason: "is required: say why"}}
	case !utf8.ValidString(reason) || strings.ContainsRune(reason, 0):
		return reason, []firmward.ErrorDetail{{Field: field, Reason: "must be text"}}
	case utf8.RuneCountInString(reason) > maxNACReasonLen:
		return reason, []firmward.ErrorDetail{{Field: field, Reason: fmt.Sprintf("is longer than %d characters", maxNACReasonLen)}}
	}
	return reason, nil
}

// changeState runs one person's change: it locks the device, reads the
// state, lets fn change it (fn returns the event kind, the message, the
// audit action and changes, or an error), stores it, appends the history
// event and the audit event.
func (s *NACService) changeState(ctx context.Context, id int64, fn func(st *firmward.NACState, actor string, now time.Time) (kind, msg, action string, changes []firmward.FieldChange, err error)) (*firmward.NACState, error) {
	var out *firmward.NACState
	err := s.db.write(ctx, func(tx conn) error {
		if err := deviceExists(ctx, tx, id, true); err != nil {
			return err
		}
		st, err := readState(ctx, tx, id, true)
		if err != nil {
			return err
		}
		now := tx.db.nowUTC()
		actor := storable(firmward.ActorFrom(ctx).String())
		kind, msg, action, changes, err := fn(st, actor, now)
		if err != nil {
			return err
		}
		if err := writeState(ctx, tx, st, now); err != nil {
			return err
		}
		if err := insertNACEvent(ctx, tx, firmward.NACEvent{DeviceID: id, Time: now, Kind: kind, Actor: actor, Message: msg}); err != nil {
			return err
		}
		out = st
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: action, ObjectType: "device", ObjectID: strconv.FormatInt(id, 10), Changes: changes,
		}})
	})
	return out, err
}

func invalidNAC(msg string, details []firmward.ErrorDetail) error {
	return &firmward.Error{Code: firmward.EINVALID, Message: msg, Details: details}
}

// Quarantine records a manual quarantine; the reason is required.
func (s *NACService) Quarantine(ctx context.Context, id int64, reason string) (*firmward.NACState, error) {
	reason, bad := checkReason("reason", reason, true)
	if bad != nil {
		return nil, invalidNAC("cannot quarantine device "+strconv.FormatInt(id, 10), bad)
	}
	return s.changeState(ctx, id, func(st *firmward.NACState, actor string, now time.Time) (string, string, string, []firmward.FieldChange, error) {
		old := ""
		if st.Manual != nil {
			old = st.Manual.Reason
		}
		st.Manual = &firmward.NACManual{Reason: reason, By: actor, At: now}
		return firmward.NACEventManual, "quarantined by hand: " + reason, firmward.ActionNACQuarantine,
			[]firmward.FieldChange{{Field: "manual_quarantine", Old: old, New: reason}}, nil
	})
}

// Release clears a manual quarantine and an approval. Releasing a device
// that has neither is ECONFLICT (an automatic quarantine ends when its
// rule no longer holds, or with an exemption).
func (s *NACService) Release(ctx context.Context, id int64, reason string) (*firmward.NACState, error) {
	reason, bad := checkReason("reason", reason, false)
	if bad != nil {
		return nil, invalidNAC("cannot release device "+strconv.FormatInt(id, 10), bad)
	}
	return s.changeState(ctx, id, func(st *firmward.NACState, _ string, _ time.Time) (string, string, string, []firmward.FieldChange, error) {
		if st.Manual == nil && st.Approval == nil {
			return "", "", "", nil, firmward.Errorf(firmward.ECONFLICT,
				"device %d has no manual quarantine or approval to release; an automatic quarantine ends when its rule no longer holds, or exempt the device", id)
		}
		var changes []firmward.FieldChange
		if st.Manual != nil {
			changes = append(changes, firmward.FieldChange{Field: "manual_quarantine", Old: st.Manual.Reason})
		}
		if st.Approval != nil {
			changes = append(changes, firmward.FieldChange{Field: "approval", Old: st.Approval.Reason})
		}
		changes = append(changes, firmward.FieldChange{Field: "reason", New: reason})
		st.Manual, st.Approval = nil, nil
		msg := "released by hand"
		if reason != "" {
			msg += ": " + reason
		}
		return firmward.NACEventManualRelease, msg, firmward.ActionNACRelease, changes, nil
	})
}

// Approve records the approval of a protected device's quarantine.
func (s *NACService) Approve(ctx context.Context, id int64, reason string) (*firmward.NACState, error) {
	reason, bad := checkReason("reason", reason, true)
	if bad != nil {
		return nil, invalidNAC("cannot approve the quarantine of device "+strconv.FormatInt(id, 10), bad)
	}
	return s.changeState(ctx, id, func(st *firmward.NACState, actor string, now time.Time) (string, string, string, []firmward.FieldChange, error) {
		st.Approval = &firmward.NACApproval{Reason: reason, By: actor, At: now}
		return firmward.NACEventApprove, "quarantine approved: " + reason, firmward.ActionNACApprove,
			[]firmward.FieldChange{{Field: "approval", New: reason}}, nil
	})
}

// Exempt sets or (with a zero Until) removes an exemption.
func (s *NACService) Exempt(ctx context.Context, id int64, e firmward.NACExemption) (*firmward.NACState, error) {
	var details []firmward.ErrorDetail
	remove := e.Until.IsZero()
	var bad []firmward.ErrorDetail
	e.Reason, bad = checkReason("reason", e.Reason, !remove)
	details = append(details, bad...)
	e.Owner, bad = checkReason("owner", e.Owner, !remove)
	details = append(details, bad...)
	now := s.db.nowUTC()
	if !remove && !e.Until.After(now) {
		details = append(details, firmward.ErrorDetail{Field: "until", Value: e.Until.UTC().Format(time.RFC3339), Reason: "must be in the future"})
	}
	if len(details) > 0 {
		return nil, invalidNAC("cannot exempt device "+strconv.FormatInt(id, 10), details)
	}
	return s.changeState(ctx, id, func(st *firmward.NACState, actor string, now time.Time) (string, string, string, []firmward.FieldChange, error) {
		old := ""
		if st.Exemption != nil {
			old = fmt.Sprintf("until %s, owner %s: %s", st.Exemption.Until.Format(time.RFC3339), st.Exemption.Owner, st.Exemption.Reason)
		}
		if remove {
			if st.Exemption == nil {
				return "", "", "", nil, firmward.Errorf(firmward.ECONFLICT, "device %d has no exemption to remove", id)
			}
			st.Exemption = nil
			return firmward.NACEventExempt, "exemption removed", firmward.ActionNACExempt,
				[]firmward.FieldChange{{Field: "exemption", Old: old}}, nil
		}
		e.Until = e.Until.UTC().Truncate(time.Microsecond)
		e.By, e.At = actor, now
		st.Exemption = &e
		desc := fmt.Sprintf("until %s, owner %s: %s", e.Until.Format(time.RFC3339), e.Owner, e.Reason)
		return firmward.NACEventExempt, "exempt " + desc, firmward.ActionNACExempt,
			[]firmward.FieldChange{{Field: "exemption", Old: old, New: desc}}, nil
	})
}

// Review marks a discovered device as reviewed.
func (s *NACService) Review(ctx context.Context, id int64) (*firmward.NACState, error) {
	return s.changeState(ctx, id, func(st *firmward.NACState, _ string, _ time.Time) (string, string, string, []firmward.FieldChange, error) {
		old := strconv.FormatBool(st.Reviewed)
		st.Reviewed = true
		return firmward.NACEventReview, "reviewed by a person", firmward.ActionNACReview,
			[]firmward.FieldChange{{Field: "reviewed", Old: old, New: "true"}}, nil
	})
}

// RecordDecision stores d as the device's current state when its
// quarantine flags changed, with one history event per transition and one
// audit event. A compliant device without a stored row stays without one.
func (s *NACService) RecordDecision(ctx context.Context, d nac.Decision) (firmward.NACState, bool, error) {
	// A cheap read first: most decisions change nothing.
	cur, err := readState(ctx, s.db.read(), d.DeviceID, false)
	if err != nil {
		return firmward.NACState{}, false, err
	}
	if !flagsChanged(cur, d) {
		return *cur, false, nil
	}
	var prev firmward.NACState
	changed := false
	err = s.db.write(ctx, func(tx conn) error {
		if err := deviceExists(ctx, tx, d.DeviceID, true); err != nil {
			return err
		}
		st, err := readState(ctx, tx, d.DeviceID, true)
		if err != nil {
			return err
		}
		prev = *st
		if !flagsChanged(st, d) { // another replica got here first
			return nil
		}
		changed = true
		now := tx.db.nowUTC()
		changes := []firmward.FieldChange{}
		for _, f := range []struct {
			name     string
			old, new bool
		}{{"quarantined", st.Quarantined, d.Quarantine}, {"enforced", st.Enforced, d.Enforced}, {"needs_approval", st.NeedsApproval, d.NeedsApproval}} {
			if f.old != f.new {
				changes = append(changes, firmward.FieldChange{Field: f.name, Old: strconv.FormatBool(f.old), New: strconv.FormatBool(f.new)})
			}
		}
		summary := d.Summary()
		changes = append(changes, firmward.FieldChange{Field: "reasons", Old: st.Reasons, New: summary})
		for _, t := range nac.Diff(*st, d) {
			kind := firmward.NACEventQuarantine
			switch t.Kind {
			case nac.TransitionRelease:
				kind = firmward.NACEventRelease
			case nac.TransitionNeedsApproval:
				kind = firmward.NACEventNeedsApproval
			}
			msg := summary
			if d.Mode == nac.ModeMonitor && t.Kind != nac.TransitionNeedsApproval {
				msg = "monitor mode, nothing enforced: " + msg
			}
			if err := insertNACEvent(ctx, tx, firmward.NACEvent{DeviceID: d.DeviceID, Time: now, Kind: kind, Actor: "firmward", Enforced: t.Network, Message: msg}); err != nil {
				return err
			}
		}
		st.Quarantined, st.Enforced, st.NeedsApproval, st.Reasons, st.ChangedAt = d.Quarantine, d.Enforced, d.NeedsApproval, summary, &now
		if err := writeState(ctx, tx, st, now); err != nil {
			return err
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Actor: "firmward", Action: firmward.ActionNACTransition, ObjectType: "device",
			ObjectID: strconv.FormatInt(d.DeviceID, 10), Changes: changes,
		}})
	})
	return prev, changed, err
}

func flagsChanged(st *firmward.NACState, d nac.Decision) bool {
	return st.Quarantined != d.Quarantine || st.Enforced != d.Enforced || st.NeedsApproval != d.NeedsApproval
}

// NACCandidates pages through the devices with open or risk-accepted
// findings, a stored NAC state, or found by a scan (the unreviewed rule).
func (s *NACService) NACCandidates(ctx context.Context, after int64, limit int) ([]int64, int64, error) {
	limit = pageSize(limit)
	rows, err := s.db.read().query(ctx, "SELECT id FROM ("+
		"SELECT device_id AS id FROM findings WHERE device_id > ? AND status IN ('open', 'risk-accepted')"+
		" UNION SELECT device_id FROM nac_states WHERE device_id > ?"+
		" UNION SELECT id FROM devices WHERE id > ? AND source = 'scan'"+
		") c ORDER BY id LIMIT ?", after, after, after, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("listing NAC candidates: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, 0, fmt.Errorf("listing NAC candidates: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing NAC candidates: %w", err)
	}
	var next int64
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	return ids, next, nil
}

// --- history ---

func insertNACEvent(ctx context.Context, tx conn, e firmward.NACEvent) error {
	_, err := tx.exec(ctx, "INSERT INTO nac_events (device_id, time, kind, actor, enforced, outcome, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
		e.DeviceID, micros(e.Time), storable(e.Kind), storable(e.Actor), e.Enforced, storable(e.Outcome), storable(e.Message))
	if err != nil {
		return fmt.Errorf("recording the NAC event of device %d: %w", e.DeviceID, mapError(err))
	}
	return nil
}

// RecordNACEvent appends e (a CoA or webhook outcome) and audits it as
// nac.coa or nac.webhook (other kinds as nac.transition).
func (s *NACService) RecordNACEvent(ctx context.Context, e firmward.NACEvent) error {
	if e.Kind == "" {
		return firmward.Errorf(firmward.EINVALID, "NAC event without a kind")
	}
	action := firmward.ActionNACTransition
	switch e.Kind {
	case firmward.NACEventCoA:
		action = firmward.ActionNACCoA
	case firmward.NACEventWebhook:
		action = firmward.ActionNACWebhook
	}
	return s.db.write(ctx, func(tx conn) error {
		if e.Time.IsZero() {
			e.Time = tx.db.nowUTC()
		}
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		if e.Actor == "" {
			e.Actor = firmward.ActorFrom(ctx).String()
		}
		if err := insertNACEvent(ctx, tx, e); err != nil {
			return err
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: e.Time, Actor: e.Actor, Action: action, ObjectType: "device", ObjectID: strconv.FormatInt(e.DeviceID, 10),
			Changes: []firmward.FieldChange{{Field: "outcome", New: e.Outcome}, {Field: "message", New: e.Message}},
		}})
	})
}

// NACEvents returns the history of a device (all devices when id is 0),
// newest first, at most limit (default 100, at most 1000) events.
func (s *NACService) NACEvents(ctx context.Context, id int64, limit int) ([]firmward.NACEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, maxNACEvents)
	q := "SELECT id, device_id, time, kind, actor, enforced, outcome, message FROM nac_events"
	args := []any{}
	if id != 0 {
		q += " WHERE device_id = ?"
		args = append(args, id)
	}
	rows, err := s.db.read().query(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading NAC history: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []firmward.NACEvent
	for rows.Next() {
		var e firmward.NACEvent
		var t int64
		if err := rows.Scan(&e.ID, &e.DeviceID, &t, &e.Kind, &e.Actor, &e.Enforced, &e.Outcome, &e.Message); err != nil {
			return nil, fmt.Errorf("reading NAC history: %w", err)
		}
		e.Time = fromMicros(t)
		out = append(out, e)
	}
	return out, rows.Err()
}
