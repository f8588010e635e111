package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

// DeliveryService keeps device actions and their feedback, device
// credentials and device attributes in a database.
//
// The time a device was last seen (DeviceCredential.LastSeenAt, moved at
// most once a minute per device by AuthenticateDevice and PollDevice) is
// written behind: it is kept in memory and written for all devices at once,
// in one write transaction, ContactFlushInterval after the first unwritten
// one, on Flush, on Close and when the database closes. The credentials
// this service returns already carry the unwritten times; a reader of the
// table (another replica, another DeliveryService) sees them up to one
// flush interval late. A process killed without closing loses at most the
// last flush interval of last-seen times, nothing else: the cache is never
// consulted to authenticate a device, so a replaced token is refused, and a
// new action offered, on the very next poll.
type DeliveryService struct {
	db      *DB
	devices *DeviceService

	// ContactFlushInterval is how long a time of contact waits in memory
	// before it is written; 0 means DefaultContactFlushInterval. Set it
	// before the service is used.
	ContactFlushInterval time.Duration

	pollMu   sync.Mutex // guards pollStmt
	pollStmt *sql.Stmt  // pollQuery, prepared on first use: devices poll all the time

	contacts contactLog
}

// DefaultContactFlushInterval is how long a device's time of contact waits
// in memory by default; see DeliveryService.
const DefaultContactFlushInterval = 5 * time.Second

// maxPendingContacts bounds the times of contact held in memory: at the
// bound, the poll that adds one writes them all at once itself. A fleet
// polling once a minute reaches it at 600,000 devices with the default
// interval.
const maxPendingContacts = 50000

// contactLog holds the times of contact not yet written.
type contactLog struct {
	flushMu sync.Mutex // held by a flush from taking the batch to its commit, so that flushes run one at a time

	mu         sync.Mutex          // guards the fields below
	pending    map[int64]time.Time // device id → newest time of contact not yet written
	flushing   map[int64]time.Time // the batch being written, still read by polls meanwhile
	timer      *time.Timer         // the next flush, armed while pending is not empty
	registered bool                // the database's Close flushes this log
	closed     bool                // Close was called: each contact is written at once
	flushes    int                 // write transactions committed, for tests
}

var _ firmward.DeliveryService = (*DeliveryService)(nil)

// NewDeliveryService returns the delivery state kept in db.
func NewDeliveryService(db *DB) *DeliveryService {
	return &DeliveryService{db: db, devices: NewDeviceService(db)}
}

// Limits of device attributes.
const (
	MaxDeviceAttributes    = 256
	MaxAttributeNameLen    = 128
	MaxAttributeValueBytes = 1024
)

const actionColumns = "id, device_id, release_id, campaign_id, type, status, result, window_start, window_end," +
	" progress_cnt, progress_of, created_by, created_at, updated_at, last_feedback_at"

func scanAction(s scanner) (*firmward.Action, error) {
	var a firmward.Action
	var typ, status string
	var ws, we, last sql.NullInt64
	var created, updated int64
	if err := s.Scan(&a.ID, &a.DeviceID, &a.ReleaseID, &a.CampaignID, &typ, &status, &a.Result, &ws, &we,
		&a.ProgressCnt, &a.ProgressOf, &a.CreatedBy, &created, &updated, &last); err != nil {
		return nil, err
	}
	a.Type, a.Status = firmward.ActionType(typ), firmward.ActionStatus(status)
	if ws.Valid && we.Valid {
		a.Window = &firmward.MaintenanceWindow{Start: fromMicros(ws.Int64), End: fromMicros(we.Int64)}
	}
	a.CreatedAt, a.UpdatedAt, a.LastFeedbackAt = fromMicros(created), fromMicros(updated), fromNullMicros(last)
	return &a, nil
}

func actionID(id int64) string { return strconv.FormatInt(id, 10) }

// CreateActions creates one scheduled action per device, audited as
// action.create, all or none. Errors: EINVALID for a bad request,
// ENOTFOUND for an unknown release or device, ECONFLICT for a withdrawn
// release or a device with an open action for the same release.
func (s *DeliveryService) CreateActions(ctx context.Context, req firmward.DeployRequest) ([]*firmward.Action, error) {
	if req.Type == "" {
		req.Type = firmward.ActionForced
	}
	var details []firmward.ErrorDetail
	if !slices.Contains(firmward.ActionTypes, req.Type) {
		details = append(details, firmward.ErrorDetail{Field: "type", Value: string(req.Type), Reason: "must be forced, attempt, skip or downloadonly"})
	}
	ids := slices.Clone(req.DeviceIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	switch {
	case len(ids) == 0:
		details = append(details, firmward.ErrorDetail{Field: "devices", Reason: "needs at least one device id"})
	case len(ids) > firmward.MaxDeployDevices:
		details = append(details, firmward.ErrorDetail{Field: "devices", Reason: fmt.Sprintf("has more than %d devices", firmward.MaxDeployDevices)})
	case ids[0] <= 0:
		details = append(details, firmward.ErrorDetail{Field: "devices", Value: strconv.FormatInt(ids[0], 10), Reason: "ids are positive"})
	}
	if w := req.Window; w != nil && (w.Start.IsZero() || !w.End.After(w.Start)) {
		details = append(details, firmward.ErrorDetail{Field: "maintenance_window", Reason: "needs a start and an end after it"})
	}
	if len(details) > 0 {
		return nil, &firmward.Error{Code: firmward.EINVALID, Message: "deployment is not valid", Details: details}
	}
	var ws, we sql.NullInt64
	if req.Window != nil {
		ws = sql.NullInt64{Int64: micros(req.Window.Start.UTC()), Valid: true}
		we = sql.NullInt64{Int64: micros(req.Window.End.UTC()), Valid: true}
	}
	var out []*firmward.Action
	err := s.db.write(ctx, func(tx conn) error {
		rel, err := findRelease(ctx, tx, req.ReleaseID, true)
		if err != nil {
			return err
		}
		if rel.Withdrawn {
			return firmward.Errorf(firmward.ECONFLICT, "release %d is withdrawn and cannot be deployed", rel.ID)
		}
		var missing, busy []string
		for _, chunk := range slices.Collect(slices.Chunk(ids, 500)) {
			args := make([]any, len(chunk))
			for i, id := range chunk {
				args[i] = id
			}
			existing, err := queryIDs(ctx, tx, "SELECT id FROM devices WHERE id IN ("+inList(len(chunk))+")", args...)
			if err != nil {
				return fmt.Errorf("checking devices: %w", err)
			}
			found := map[int64]bool{}
			for _, id := range existing {
				found[id] = true
			}
			for _, id := range chunk {
				if !found[id] {
					missing = append(missing, strconv.FormatInt(id, 10))
				}
			}
			open, err := queryIDs(ctx, tx, "SELECT DISTINCT device_id FROM actions WHERE release_id = ? AND status IN ('scheduled', 'running', 'canceling')"+
				" AND device_id IN ("+inList(len(chunk))+")", append([]any{rel.ID}, args...)...)
			if err != nil {
				return fmt.Errorf("checking open actions: %w", err)
			}
			for _, id := range open {
				busy = append(busy, strconv.FormatInt(id, 10))
			}
		}
		if len(missing) > 0 {
			return firmward.Errorf(firmward.ENOTFOUND, "no device with id %s", strings.Join(missing, ", "))
		}
		if len(busy) > 0 {
			return firmward.Errorf(firmward.ECONFLICT, "device %s already has an open action for release %d", strings.Join(busy, ", "), rel.ID)
		}
		now := s.db.nowUTC()
		by := firmward.ActorFrom(ctx).String()
		evs := make([]*firmward.AuditEvent, 0, len(ids))
		for _, dev := range ids {
			a := &firmward.Action{
				DeviceID: dev, ReleaseID: rel.ID, CampaignID: req.CampaignID, Type: req.Type, Status: firmward.ActionScheduled,
				CreatedBy: by, CreatedAt: now, UpdatedAt: now,
			}
			if req.Window != nil {
				a.Window = &firmward.MaintenanceWindow{Start: fromMicros(ws.Int64), End: fromMicros(we.Int64)}
			}
			err := tx.queryRow(ctx, "INSERT INTO actions (device_id, release_id, campaign_id, type, status, window_start, window_end,"+
				" created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
				dev, rel.ID, req.CampaignID, string(a.Type), string(a.Status), ws, we, by, micros(now), micros(now)).Scan(&a.ID)
			if err != nil {
				return fmt.Errorf("inserting action: %w", mapError(err))
			}
			changes := []firmward.FieldChange{
				{Field: "device_id", New: strconv.FormatInt(dev, 10)},
				{Field: "release_id", New: strconv.FormatInt(rel.ID, 10)},
				{Field: "type", New: string(a.Type)},
				{Field: "status", New: string(a.Status)},
			}
			if req.CampaignID != 0 {
				changes = append(changes, firmward.FieldChange{Field: "campaign_id", New: strconv.FormatInt(req.CampaignID, 10)})
			}
			evs = append(evs, &firmward.AuditEvent{Time: now, Action: firmward.ActionActionCreate, ObjectType: "action", ObjectID: actionID(a.ID), Changes: changes})
			out = append(out, a)
		}
		return appendAudit(ctx, tx, evs)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryIDs returns the one integer column of a query's rows.
func queryIDs(ctx context.Context, c conn, q string, args ...any) ([]int64, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FindActionByID returns an action or ENOTFOUND.
func (s *DeliveryService) FindActionByID(ctx context.Context, id int64) (*firmward.Action, error) {
	return findAction(ctx, s.db.read(), id, false)
}

func findAction(ctx context.Context, c conn, id int64, lock bool) (*firmward.Action, error) {
	q := "SELECT " + actionColumns + " FROM actions WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	a, err := scanAction(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "action %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading action %d: %w", id, err)
	}
	return a, nil
}

func queryActions(ctx context.Context, c conn, q string, args ...any) ([]*firmward.Action, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing actions: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("listing actions: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing actions: %w", err)
	}
	return out, nil
}

// openActions returns the open actions matching cond, locked for update.
func openActions(ctx context.Context, c conn, cond string, args ...any) ([]*firmward.Action, error) {
	return queryActions(ctx, c, "SELECT "+actionColumns+" FROM actions WHERE "+cond+
		" AND status IN ('scheduled', 'running', 'canceling') ORDER BY id"+c.db.dialect.forUpdate(), args...)
}

// FindActions returns one page of actions in id order and the next cursor.
func (s *DeliveryService) FindActions(ctx context.Context, f firmward.ActionFilter) ([]*firmward.Action, int64, error) {
	q, args, limit, err := findActionsQuery(f)
	if err != nil {
		return nil, 0, err
	}
	out, err := queryActions(ctx, s.db.read(), q, args...)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// findActionsQuery is the query of FindActions, its arguments and page
// size.
func findActionsQuery(f firmward.ActionFilter) (string, []any, int, error) {
	where := []string{"id > ?"}
	args := []any{f.After}
	if f.DeviceID != 0 {
		where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
	}
	// A device has few actions, a release may have 100,000: with a device
	// given, "+" and the order by (device_id, id) keep the planners on
	// actions_device rather than scanning the release's actions in id
	// order (which made each artifact download of a big campaign's device
	// read thousands of rows).
	order := "id"
	if f.ReleaseID != 0 {
		cond := "release_id = ?"
		if f.DeviceID != 0 {
			cond, order = "+release_id = ?", "device_id, id"
		}
		where, args = append(where, cond), append(args, f.ReleaseID)
	}
	if f.Status != "" {
		if !slices.Contains(firmward.ActionStatuses, f.Status) {
			return "", nil, 0, firmward.Errorf(firmward.EINVALID, "status %q is not one of scheduled, running, canceling, finished, canceled", f.Status)
		}
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	limit := pageSize(f.Limit)
	args = append(args, limit+1)
	return "SELECT " + actionColumns + " FROM actions WHERE " + strings.Join(where, " AND ") + " ORDER BY " + order + " LIMIT ?", args, limit, nil
}

// ActionFeedback returns the feedback log of an action, oldest first.
func (s *DeliveryService) ActionFeedback(ctx context.Context, id int64) ([]*firmward.ActionFeedback, error) {
	rows, err := s.db.read().query(ctx, "SELECT id, action_id, occurred_at, execution, finished, progress_cnt, progress_of, code, details, cancel"+
		" FROM action_feedback WHERE action_id = ? ORDER BY id", id)
	if err != nil {
		return nil, fmt.Errorf("reading feedback of action %d: %w", id, err)
	}
	defer func() { _ = rows.Close() }()
	out := []*firmward.ActionFeedback{}
	for rows.Next() {
		var f firmward.ActionFeedback
		var at int64
		var code sql.NullInt64
		var details string
		var cancel int
		if err := rows.Scan(&f.ID, &f.ActionID, &at, &f.Execution, &f.Finished, &f.ProgressCnt, &f.ProgressOf, &code, &details, &cancel); err != nil {
			return nil, fmt.Errorf("reading feedback of action %d: %w", id, err)
		}
		f.Time = fromMicros(at)
		if code.Valid {
			c := int(code.Int64)
			f.Code = &c
		}
		if err := json.Unmarshal([]byte(details), &f.Details); err != nil {
			return nil, fmt.Errorf("reading feedback details of action %d: %w", id, err)
		}
		f.Cancel = cancel != 0
		out = append(out, &f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading feedback of action %d: %w", id, err)
	}
	return out, nil
}

// NextAction returns the oldest open action of a device, or nil.
func (s *DeliveryService) NextAction(ctx context.Context, deviceID int64) (*firmward.Action, error) {
	a, err := scanAction(s.db.read().queryRow(ctx, "SELECT "+actionColumns+" FROM actions WHERE device_id = ?"+
		" AND status IN ('scheduled', 'running', 'canceling') ORDER BY id LIMIT 1", deviceID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the next action of device %d: %w", deviceID, err)
	}
	return a, nil
}

// nextState is where feedback fb moves an action of status a.
func nextState(a *firmward.Action, fb *firmward.ActionFeedback) (firmward.ActionStatus, string, error) {
	if fb.Cancel {
		switch {
		case fb.Execution == firmward.ExecClosed && fb.Finished == firmward.ResultSuccess, fb.Execution == firmward.ExecCanceled:
			return firmward.ActionCanceled, "", nil
		case fb.Execution == firmward.ExecRejected, fb.Execution == firmward.ExecClosed && fb.Finished == firmward.ResultFailure:
			return firmward.ActionRunning, "", nil // the device refused to cancel: it goes on
		}
		return a.Status, "", nil
	}
	switch fb.Execution {
	case firmward.ExecClosed:
		switch fb.Finished {
		case firmward.ResultSuccess, firmward.ResultFailure:
			return firmward.ActionFinished, fb.Finished, nil
		}
		return "", "", &firmward.Error{Code: firmward.EINVALID, Message: "feedback is not valid", Details: []firmward.ErrorDetail{
			{Field: "status.result.finished", Value: fb.Finished, Reason: "a closed action must be finished with success or failure"},
		}}
	case firmward.ExecCanceled:
		return firmward.ActionCanceled, "", nil
	}
	if a.Status == firmward.ActionScheduled {
		return firmward.ActionRunning, "", nil
	}
	return a.Status, "", nil
}

// AddFeedback records fb on the device's action and moves the action on;
// a change of status or result is audited as action.update (progress alone
// is only logged).
func (s *DeliveryService) AddFeedback(ctx context.Context, deviceID, id int64, fb *firmward.ActionFeedback) (*firmward.Action, error) {
	if err := fb.Validate(); err != nil {
		return nil, err
	}
	details, err := json.Marshal(storableLines(fb.Details))
	if err != nil {
		return nil, fmt.Errorf("encoding feedback details: %w", err)
	}
	var out *firmward.Action
	err = s.db.write(ctx, func(tx conn) error {
		a, err := findAction(ctx, tx, id, true)
		if err != nil || a.DeviceID != deviceID {
			if err == nil || firmward.ErrorCode(err) == firmward.ENOTFOUND {
				return firmward.Errorf(firmward.ENOTFOUND, "action %d not found for this device", id)
			}
			return err
		}
		if !a.Status.Open() {
			return firmward.Errorf(firmward.ECONFLICT, "action %d is %s already", id, a.Status)
		}
		status, result, err := nextState(a, fb)
		if err != nil {
			return err
		}
		now := s.db.nowUTC()
		fb.ActionID, fb.Time = id, now
		var code sql.NullInt64
		if fb.Code != nil {
			code = sql.NullInt64{Int64: int64(*fb.Code), Valid: true}
		}
		cancel := 0
		if fb.Cancel {
			cancel = 1
		}
		if err := tx.queryRow(ctx, "INSERT INTO action_feedback (action_id, occurred_at, execution, finished, progress_cnt, progress_of, code, details, cancel)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			id, micros(now), fb.Execution, fb.Finished, fb.ProgressCnt, fb.ProgressOf, code, string(details), cancel).Scan(&fb.ID); err != nil {
			return fmt.Errorf("inserting feedback: %w", err)
		}
		cnt, of := a.ProgressCnt, a.ProgressOf
		if fb.ProgressOf > 0 {
			cnt, of = fb.ProgressCnt, fb.ProgressOf
		}
		if _, err := tx.exec(ctx, "UPDATE actions SET status = ?, result = ?, progress_cnt = ?, progress_of = ?, updated_at = ?, last_feedback_at = ? WHERE id = ?",
			string(status), result, cnt, of, micros(now), micros(now), id); err != nil {
			return fmt.Errorf("updating action %d: %w", id, err)
		}
		var changes []firmward.FieldChange
		if status != a.Status {
			changes = append(changes, firmward.FieldChange{Field: "status", Old: string(a.Status), New: string(status)})
		}
		if result != a.Result {
			changes = append(changes, firmward.FieldChange{Field: "result", Old: a.Result, New: result})
		}
		if len(changes) > 0 {
			if err := appendAudit(ctx, tx, []*firmward.AuditEvent{{Time: now, Action: firmward.ActionActionUpdate, ObjectType: "action", ObjectID: actionID(id), Changes: changes}}); err != nil {
				return err
			}
		}
		a.Status, a.Result, a.ProgressCnt, a.ProgressOf, a.UpdatedAt, a.LastFeedbackAt = status, result, cnt, of, now, &now
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func storableLines(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = storable(s)
	}
	return out
}

// CancelAction cancels a scheduled action, or asks a running one to
// cancel, audited as action.cancel.
func (s *DeliveryService) CancelAction(ctx context.Context, id int64) (*firmward.Action, error) {
	var out *firmward.Action
	err := s.db.write(ctx, func(tx conn) error {
		a, err := findAction(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return firmward.Errorf(firmward.ECONFLICT, "action %d is %s already", id, a.Status)
		}
		if a.Status == firmward.ActionCanceling {
			out = a
			return nil
		}
		out, err = cancelAction(ctx, tx, a, s.db.nowUTC())
		return err
	})
	return out, err
}

// cancelAction moves an open action to canceled (scheduled: the device
// never started) or canceling (the device must confirm), and audits it.
func cancelAction(ctx context.Context, tx conn, a *firmward.Action, now time.Time) (*firmward.Action, error) {
	status := firmward.ActionCanceling
	if a.Status == firmward.ActionScheduled {
		status = firmward.ActionCanceled
	}
	if status == a.Status {
		return a, nil
	}
	if _, err := tx.exec(ctx, "UPDATE actions SET status = ?, updated_at = ? WHERE id = ?", string(status), micros(now), a.ID); err != nil {
		return nil, fmt.Errorf("canceling action %d: %w", a.ID, err)
	}
	if err := appendAudit(ctx, tx, []*firmward.AuditEvent{{
		Time: now, Action: firmward.ActionActionCancel, ObjectType: "action", ObjectID: actionID(a.ID),
		Changes: []firmward.FieldChange{{Field: "status", Old: string(a.Status), New: string(status)}},
	}}); err != nil {
		return nil, err
	}
	a.Status, a.UpdatedAt = status, now
	return a, nil
}

const credentialColumns = "device_id, controller_id, prefix, created_by, created_at, last_seen_at" //nolint:gosec // column names, no secret

func scanCredential(s scanner) (*firmward.DeviceCredential, error) {
	var c firmward.DeviceCredential
	var created int64
	var seen sql.NullInt64
	if err := s.Scan(&c.DeviceID, &c.ControllerID, &c.Prefix, &c.CreatedBy, &created, &seen); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastSeenAt = fromMicros(created), fromNullMicros(seen)
	return &c, nil
}

// CreateDeviceToken issues a new device secret bound to controllerID (the
// device id when empty), replacing the device's earlier one; audited as
// device.token_create.
func (s *DeliveryService) CreateDeviceToken(ctx context.Context, deviceID int64, controllerID string) (*firmward.DeviceCredential, string, error) {
	controllerID = strings.TrimSpace(controllerID)
	if controllerID == "" {
		controllerID = strconv.FormatInt(deviceID, 10)
	}
	if why := firmward.ValidControllerID(controllerID); why != "" {
		return nil, "", &firmward.Error{
			Code: firmward.EINVALID, Message: "controller id is not valid",
			Details: []firmward.ErrorDetail{{Field: "controller_id", Value: controllerID, Reason: why}},
		}
	}
	var cred *firmward.DeviceCredential
	var secret string
	err := s.db.write(ctx, func(tx conn) error {
		if _, err := findDevice(ctx, tx, deviceID, true); err != nil {
			return err
		}
		var err error
		cred, secret, err = insertCredential(ctx, tx, deviceID, controllerID)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return cred, secret, nil
}

func insertCredential(ctx context.Context, tx conn, deviceID int64, controllerID string) (*firmward.DeviceCredential, string, error) {
	var other int64
	err := tx.queryRow(ctx, "SELECT device_id FROM device_credentials WHERE controller_id = ?", controllerID).Scan(&other)
	switch {
	case err == nil && other != deviceID:
		return nil, "", firmward.Errorf(firmward.ECONFLICT, "controller id %q belongs to device %d", controllerID, other)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, "", fmt.Errorf("checking controller id: %w", err)
	}
	secret := firmward.NewSecret(firmward.DeviceTokenPrefix)
	now := tx.db.nowUTC()
	c := &firmward.DeviceCredential{
		DeviceID: deviceID, ControllerID: controllerID, Prefix: secret[:firmward.TokenPrefixLen],
		CreatedBy: firmward.ActorFrom(ctx).String(), CreatedAt: now,
	}
	if _, err := tx.exec(ctx, "DELETE FROM device_credentials WHERE device_id = ?", deviceID); err != nil {
		return nil, "", fmt.Errorf("replacing device credential: %w", err)
	}
	if _, err := tx.exec(ctx, "INSERT INTO device_credentials (device_id, controller_id, secret_hash, prefix, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		deviceID, controllerID, firmward.HashSecret(secret), c.Prefix, c.CreatedBy, micros(now)); err != nil {
		return nil, "", fmt.Errorf("inserting device credential: %w", mapError(err))
	}
	err = appendAudit(ctx, tx, []*firmward.AuditEvent{{
		Time: now, Action: firmward.ActionDeviceTokenCreate, ObjectType: "device", ObjectID: strconv.FormatInt(deviceID, 10),
		Changes: []firmward.FieldChange{{Field: "controller_id", New: controllerID}, {Field: "prefix", New: c.Prefix}},
	}})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// EnrollDevice creates d (audited as device.create) and then its
// credential. The controller id is checked first; should the credential
// still fail (another enrollment took the id in between), the device is
// deleted again.
func (s *DeliveryService) EnrollDevice(ctx context.Context, d *firmward.Device, controllerID string) (*firmward.DeviceCredential, string, error) {
	controllerID = strings.TrimSpace(controllerID)
	if why := firmward.ValidControllerID(controllerID); why != "" {
		return nil, "", &firmward.Error{
			Code: firmward.EINVALID, Message: "controller id is not valid",
			Details: []firmward.ErrorDetail{{Field: "controller_id", Value: controllerID, Reason: why}},
		}
	}
	if _, err := s.FindDeviceCredential(ctx, controllerID); err == nil {
		return nil, "", firmward.Errorf(firmward.ECONFLICT, "controller id %q is enrolled already", controllerID)
	} else if firmward.ErrorCode(err) != firmward.ENOTFOUND {
		return nil, "", err
	}
	if err := s.devices.CreateDevice(ctx, d); err != nil {
		return nil, "", err
	}
	cred, secret, err := s.CreateDeviceToken(ctx, d.ID, controllerID)
	if err != nil {
		if derr := s.devices.DeleteDevice(ctx, d.ID); derr != nil {
			return nil, "", errors.Join(err, derr)
		}
		return nil, "", err
	}
	return cred, secret, nil
}

// AuthenticateDevice returns the credential whose secret this is, or
// EUNAUTHORIZED; it records when the device was last seen, at most once a
// minute, written behind (see DeliveryService).
func (s *DeliveryService) AuthenticateDevice(ctx context.Context, secret string) (*firmward.DeviceCredential, error) {
	if secret == "" {
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "missing device token")
	}
	c, err := scanCredential(s.db.read().queryRow(ctx, "SELECT "+credentialColumns+" FROM device_credentials WHERE secret_hash = ?", firmward.HashSecret(secret)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "invalid device token")
	case err != nil:
		return nil, fmt.Errorf("authenticating device: %w", err)
	}
	if err := s.touch(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// PollDevice answers a device poll with one indexed query in the common
// case (nothing pending): the credential, the id of the oldest open action
// and whether attributes exist; the action itself is read only when there
// is one. The time of contact is recorded as AuthenticateDevice does: in
// memory, written behind.
func (s *DeliveryService) PollDevice(ctx context.Context, secret string) (*firmward.DevicePoll, error) {
	if secret == "" {
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "missing device token")
	}
	c := s.db.read()
	stmt, err := s.pollStatement(ctx) //nolint:sqlclosecheck // shared for the life of the service; see pollStatement
	if err != nil {
		return nil, err
	}
	var next sql.NullInt64
	var attrs int
	cred, err := scanCredential(suffixScanner{stmt.QueryRowContext(ctx, firmward.HashSecret(secret)), []any{&next, &attrs}})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "invalid device token")
	case err != nil:
		return nil, fmt.Errorf("polling device: %w", err)
	}
	if err := s.touch(ctx, cred); err != nil {
		return nil, err
	}
	out := &firmward.DevicePoll{Credential: cred, HasAttributes: attrs > 0}
	if next.Valid {
		if out.Next, err = findAction(ctx, c, next.Int64, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pollQuery reads a credential by secret hash, the id of the device's
// oldest open action and whether it has attributes.
var pollQuery = "SELECT c." + strings.ReplaceAll(credentialColumns, ", ", ", c.") +
	", (SELECT a.id FROM actions a WHERE a.device_id = c.device_id AND a.status IN ('scheduled', 'running', 'canceling') ORDER BY a.id LIMIT 1)" +
	", (SELECT COUNT(*) FROM (SELECT 1 FROM device_attributes t WHERE t.device_id = c.device_id LIMIT 1) x)" +
	" FROM device_credentials c WHERE c.secret_hash = ?"

// pollStatement returns pollQuery prepared; database/sql re-prepares it on
// each connection as needed. It is never closed by itself: closing the
// database closes the driver statements with their connections.
func (s *DeliveryService) pollStatement(ctx context.Context) (*sql.Stmt, error) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if s.pollStmt == nil {
		stmt, err := s.db.db.PrepareContext(ctx, s.db.rebind(pollQuery))
		if err != nil {
			return nil, fmt.Errorf("preparing the poll query: %w", err)
		}
		s.pollStmt = stmt
	}
	return s.pollStmt, nil
}

// suffixScanner scans extra columns after a credential's.
type suffixScanner struct {
	s   scanner
	suf []any
}

func (p suffixScanner) Scan(dest ...any) error { return p.s.Scan(append(dest, p.suf...)...) }

// touch records when a device was last seen, at most once a minute, in
// memory, and sets c.LastSeenAt to the newest time known. It writes only
// when the service is closed or maxPendingContacts are waiting.
func (s *DeliveryService) touch(ctx context.Context, c *firmward.DeviceCredential) error {
	now := s.db.nowUTC()
	l := &s.contacts
	l.mu.Lock()
	seen := l.seen(c)
	if seen != nil && now.Sub(*seen) < lastUsedResolution {
		l.mu.Unlock()
		c.LastSeenAt = seen
		return nil
	}
	if l.pending == nil {
		l.pending = map[int64]time.Time{}
	}
	l.pending[c.DeviceID] = now
	if !l.registered {
		l.registered = true
		s.db.onClose(s.Close)
	}
	if l.timer == nil && !l.closed {
		l.timer = time.AfterFunc(s.flushInterval(), s.flushInBackground)
	}
	writeNow := l.closed || len(l.pending) >= maxPendingContacts
	l.mu.Unlock()
	c.LastSeenAt = &now
	if writeNow {
		return s.Flush(ctx)
	}
	return nil
}

// seen returns the newest time c's device is known to have been seen:
// c.LastSeenAt or an unwritten time of contact since c was issued. l.mu
// must be held.
func (l *contactLog) seen(c *firmward.DeviceCredential) *time.Time {
	seen := c.LastSeenAt
	for _, m := range []map[int64]time.Time{l.flushing, l.pending} {
		if t, ok := m[c.DeviceID]; ok && !t.Before(c.CreatedAt) && (seen == nil || t.After(*seen)) {
			seen = &t
		}
	}
	return seen
}

// withContact sets c.LastSeenAt to the newest time known, written or not.
func (s *DeliveryService) withContact(c *firmward.DeviceCredential) *firmward.DeviceCredential {
	s.contacts.mu.Lock()
	c.LastSeenAt = s.contacts.seen(c)
	s.contacts.mu.Unlock()
	return c
}

func (s *DeliveryService) flushInterval() time.Duration {
	if s.ContactFlushInterval > 0 {
		return s.ContactFlushInterval
	}
	return DefaultContactFlushInterval
}

// flushInBackground is the timer's flush; a failure is logged and the
// times are kept for the next one.
func (s *DeliveryService) flushInBackground() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		s.db.logger.Warn("writing device contact times", "err", err)
	}
}

// Flush writes the times of contact held in memory, in one write
// transaction. On failure they are kept (unless newer ones came meanwhile)
// for the next flush, and the error is returned.
func (s *DeliveryService) Flush(ctx context.Context) error {
	l := &s.contacts
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	batch := l.pending
	l.pending, l.flushing = nil, batch
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := s.db.write(ctx, func(tx conn) error { return writeContacts(ctx, tx, batch) })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushing = nil
	if err != nil {
		if l.pending == nil {
			l.pending = map[int64]time.Time{}
		}
		for id, t := range batch {
			if old, ok := l.pending[id]; !ok || old.Before(t) {
				l.pending[id] = t
			}
		}
		if l.timer == nil && !l.closed {
			l.timer = time.AfterFunc(s.flushInterval(), s.flushInBackground)
		}
		return fmt.Errorf("recording the contact times of %d devices: %w", len(batch), err)
	}
	l.flushes++
	return nil
}

// Close writes the times of contact held in memory; afterwards each one
// is written at once, as it comes. The database's Close calls it.
func (s *DeliveryService) Close(ctx context.Context) error {
	s.contacts.mu.Lock()
	s.contacts.closed = true
	s.contacts.mu.Unlock()
	return s.Flush(ctx)
}

// contactChunk is how many devices one UPDATE of writeContactsValues
// carries.
const contactChunk = 500

// contactUpdateOne is the single-device UPDATE of writeContactsEach.
const contactUpdateOne = "UPDATE device_credentials SET last_seen_at = ? WHERE device_id = ? AND created_at <= ?" +
	" AND (last_seen_at IS NULL OR last_seen_at < ?)"

// writeContacts writes times of contact in device id order. A time never
// moves last_seen_at back (another replica may have written a newer one)
// nor lands on a credential issued after it (the device's token was
// replaced meanwhile). SQLite, in process, is fastest with one prepared
// single-row UPDATE per device (316,000 devices/s against 158,000 with
// 500-row UPDATEs); PostgreSQL with few round trips (76,000/s against
// 18,000); see BenchmarkWriteContacts.
func writeContacts(ctx context.Context, tx conn, batch map[int64]time.Time) error {
	ids := slices.Sorted(maps.Keys(batch))
	if tx.db.dialect == postgres {
		return writeContactsValues(ctx, tx, ids, batch)
	}
	return writeContactsEach(ctx, tx, ids, batch)
}

// writeContactsEach runs contactUpdateOne, prepared once, per device.
func writeContactsEach(ctx context.Context, tx conn, ids []int64, batch map[int64]time.Time) error {
	stmt, err := tx.prepare(ctx, contactUpdateOne)
	if err != nil {
		return err
	}
	defer func() { _ = stmt.Close() }()
	for _, id := range ids {
		us := micros(batch[id])
		if _, err := stmt.ExecContext(ctx, us, id, us, us); err != nil {
			return err
		}
	}
	return nil
}

// writeContactsValues runs one UPDATE per contactChunk devices.
func writeContactsValues(ctx context.Context, tx conn, ids []int64, batch map[int64]time.Time) error {
	for chunk := range slices.Chunk(ids, contactChunk) {
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, id, micros(batch[id]))
		}
		if _, err := tx.exec(ctx, contactUpdate(len(chunk)), args...); err != nil {
			return err
		}
	}
	return nil
}

// contactUpdate returns an UPDATE of last_seen_at from n (device id, time)
// pairs. VALUES columns are named column1, column2 on both databases;
// the casts give PostgreSQL their types.
func contactUpdate(n int) string {
	row := "(CAST(? AS BIGINT), CAST(? AS BIGINT))"
	return "UPDATE device_credentials SET last_seen_at = v.column2 FROM (VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + ") AS v" +
		" WHERE device_credentials.device_id = v.column1 AND device_credentials.created_at <= v.column2" +
		" AND (device_credentials.last_seen_at IS NULL OR device_credentials.last_seen_at < v.column2)"
}

// FindDeviceCredential returns the credential of a controller id, or
// ENOTFOUND.
func (s *DeliveryService) FindDeviceCredential(ctx context.Context, controllerID string) (*firmward.DeviceCredential, error) {
	c, err := scanCredential(s.db.read().queryRow(ctx, "SELECT "+credentialColumns+" FROM device_credentials WHERE controller_id = ?", controllerID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "no device with controller id %q", controllerID)
	case err != nil:
		return nil, fmt.Errorf("reading device credential: %w", err)
	}
	return s.withContact(c), nil
}

// DeviceAttributes returns the attributes a device reported.
func (s *DeliveryService) DeviceAttributes(ctx context.Context, deviceID int64) (map[string]string, error) {
	return readAttributes(ctx, s.db.read(), deviceID)
}

func readAttributes(ctx context.Context, c conn, deviceID int64) (map[string]string, error) {
	rows, err := c.query(ctx, "SELECT name, value FROM device_attributes WHERE device_id = ?", deviceID)
	if err != nil {
		return nil, fmt.Errorf("reading attributes of device %d: %w", deviceID, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("reading attributes of device %d: %w", deviceID, err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading attributes of device %d: %w", deviceID, err)
	}
	return out, nil
}

// SetDeviceAttributes merges ("merge" or ""), replaces or removes the
// attributes of a device; a change is audited as device.config_data.
func (s *DeliveryService) SetDeviceAttributes(ctx context.Context, deviceID int64, mode string, attrs map[string]string) error {
	var details []firmward.ErrorDetail
	if mode == "" {
		mode = "merge"
	}
	if mode != "merge" && mode != "replace" && mode != "remove" {
		details = append(details, firmward.ErrorDetail{Field: "mode", Value: clip(mode), Reason: "must be merge, replace or remove"})
	}
	if len(attrs) > MaxDeviceAttributes {
		details = append(details, firmward.ErrorDetail{Field: "data", Reason: fmt.Sprintf("has more than %d attributes", MaxDeviceAttributes)})
	}
	for k, v := range attrs {
		switch {
		case k == "" || utf8.RuneCountInString(k) > MaxAttributeNameLen || !utf8.ValidString(k) || strings.ContainsRune(k, 0):
			details = append(details, firmward.ErrorDetail{Field: "data", Value: clip(k), Reason: fmt.Sprintf("attribute names are 1 to %d characters of text", MaxAttributeNameLen)})
		case len(v) > MaxAttributeValueBytes || !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			details = append(details, firmward.ErrorDetail{Field: "data." + clip(k), Reason: fmt.Sprintf("values are text of at most %d bytes", MaxAttributeValueBytes)})
		}
	}
	if len(details) > 0 {
		return &firmward.Error{Code: firmward.EINVALID, Message: "config data is not valid", Details: details}
	}
	return s.db.write(ctx, func(tx conn) error {
		if _, err := findDevice(ctx, tx, deviceID, true); err != nil {
			return err
		}
		old, err := readAttributes(ctx, tx, deviceID)
		if err != nil {
			return err
		}
		next := map[string]string{}
		switch mode {
		case "merge":
			for k, v := range old {
				next[k] = v
			}
			for k, v := range attrs {
				next[k] = v
			}
		case "replace":
			for k, v := range attrs {
				next[k] = v
			}
		case "remove":
			for k, v := range old {
				if _, drop := attrs[k]; !drop {
					next[k] = v
				}
			}
		}
		names := map[string]bool{}
		for k := range old {
			names[k] = true
		}
		for k := range next {
			names[k] = true
		}
		keys := make([]string, 0, len(names))
		for k := range names {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var changes []firmward.FieldChange
		for _, k := range keys {
			o, had := old[k]
			n, has := next[k]
			switch {
			case had && !has:
				if _, err := tx.exec(ctx, "DELETE FROM device_attributes WHERE device_id = ? AND name = ?", deviceID, k); err != nil {
					return fmt.Errorf("removing attribute: %w", err)
				}
			case !had && has:
				if _, err := tx.exec(ctx, "INSERT INTO device_attributes (device_id, name, value) VALUES (?, ?, ?)", deviceID, k, n); err != nil {
					return fmt.Errorf("adding attribute: %w", err)
				}
			case o != n:
				if _, err := tx.exec(ctx, "UPDATE device_attributes SET value = ? WHERE device_id = ? AND name = ?", n, deviceID, k); err != nil {
					return fmt.Errorf("changing attribute: %w", err)
				}
			default:
				continue
			}
			changes = append(changes, firmward.FieldChange{Field: k, Old: o, New: n})
		}
		if len(changes) == 0 {
			return nil
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionDeviceConfigData, ObjectType: "device", ObjectID: strconv.FormatInt(deviceID, 10), Changes: changes,
		}})
	})
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
