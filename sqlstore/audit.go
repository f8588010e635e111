package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

// AuditService reads, verifies and appends to the audit trail.
type AuditService struct {
	db *DB
}

var _ firmward.AuditService = (*AuditService)(nil)

// NewAuditService returns the audit trail kept in db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

const auditColumns = "seq, occurred_at, actor, action, object_type, object_id, changes, prev_hash, hash"

// FindAuditEvents returns one page of events matching f in seq order
// (newest first with f.Newest) and the cursor of the next page, 0 at the
// end.
func (s *AuditService) FindAuditEvents(ctx context.Context, f firmward.AuditFilter) ([]*firmward.AuditEvent, int64, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.ObjectType != "" {
		add("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("object_id = ?", f.ObjectID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	order := "ASC"
	if f.Newest {
		order = "DESC"
		if f.After > 0 {
			add("seq < ?", f.After)
		}
	} else if f.After > 0 {
		add("seq > ?", f.After)
	}
	limit := pageSize(f.Limit)
	q := "SELECT " + auditColumns + " FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq " + order + " LIMIT ?"
	args = append(args, limit+1)

	rows, err := s.db.read().query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing audit events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing audit events: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Seq
	}
	return out, next, nil
}

// RecordAudit appends e as an event of its own. Time defaults to now and
// Actor to the actor in ctx; Seq, PrevHash and Hash are set. An event
// without an action is EINVALID.
func (s *AuditService) RecordAudit(ctx context.Context, e *firmward.AuditEvent) error {
	if strings.TrimSpace(e.Action) == "" {
		return firmward.Errorf(firmward.EINVALID, "audit event needs an action")
	}
	return s.db.write(ctx, func(tx conn) error {
		return appendAudit(ctx, tx, []*firmward.AuditEvent{e})
	})
}

// VerifyAudit checks every event of the chain in seq order and that the
// last one is the head recorded by the last append. A broken chain is
// reported in the AuditReport, not as an error; errors are for a database
// that cannot be read.
func (s *AuditService) VerifyAudit(ctx context.Context) (*firmward.AuditReport, error) {
	var rep *firmward.AuditReport
	err := s.db.snapshot(ctx, func(tx conn) error {
		var headSeq int64
		var headHash string
		if err := tx.queryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("reading the audit head: %w", err)
		}
		rows, err := tx.query(ctx, "SELECT "+auditColumns+" FROM audit_events ORDER BY seq")
		if err != nil {
			return fmt.Errorf("reading audit events: %w", err)
		}
		defer func() { _ = rows.Close() }()
		var chain firmward.AuditChain
		for rows.Next() {
			e, err := scanAuditEvent(rows)
			if err != nil {
				var se syntaxError
				if errors.As(err, &se) {
					// Unreadable changes: an edited row.
					rep = &firmward.AuditReport{Checked: chain.Checked(), BrokenSeq: se.seq, Reason: se.Error()}
					return nil
				}
				return err
			}
			if err := chain.Check(e); err != nil {
				rep = &firmward.AuditReport{Checked: chain.Checked(), BrokenSeq: e.Seq, Reason: err.Error()}
				return nil
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading audit events: %w", err)
		}
		lastSeq, lastHash := chain.Last()
		if lastHash == "" {
			lastHash = firmward.GenesisHash
		}
		switch {
		case lastSeq < headSeq:
			rep = &firmward.AuditReport{Checked: chain.Checked(), BrokenSeq: lastSeq + 1, Reason: fmt.Sprintf(
				"the chain ends at event %d but the head records event %d (the newest events were deleted)", lastSeq, headSeq)}
		case lastSeq > headSeq:
			rep = &firmward.AuditReport{Checked: chain.Checked(), BrokenSeq: headSeq + 1, Reason: fmt.Sprintf(
				"the chain goes on to event %d but the head records event %d (events were added outside firmward, or the head was rolled back)", lastSeq, headSeq)}
		case lastHash != headHash:
			rep = &firmward.AuditReport{Checked: chain.Checked(), BrokenSeq: lastSeq, Reason: fmt.Sprintf(
				"event %d does not match the hash recorded in the head (the event or the head was replaced)", lastSeq)}
		default:
			rep = &firmward.AuditReport{OK: true, Checked: chain.Checked()}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// syntaxError is a stored event whose changes are not valid JSON.
type syntaxError struct {
	seq int64
	err error
}

func (e syntaxError) Error() string {
	return fmt.Sprintf("event %d: changes are not readable (the event was edited): %v", e.seq, e.err)
}

func (e syntaxError) Unwrap() error { return e.err }

func scanAuditEvent(rows *sql.Rows) (*firmward.AuditEvent, error) {
	var e firmward.AuditEvent
	var at int64
	var changes string
	if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &changes, &e.PrevHash, &e.Hash); err != nil {
		return nil, fmt.Errorf("reading an audit event: %w", err)
	}
	e.Time = fromMicros(at)
	if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
		return nil, syntaxError{seq: e.Seq, err: err}
	}
	if len(e.Changes) == 0 {
		e.Changes = nil
	}
	return &e, nil
}

// appendAudit seals evs as the successors of the current head, in order,
// stores them and moves the head, all inside tx. On PostgreSQL the head row
// is locked until tx ends, so concurrent appends (from any replica) queue
// behind each other and the chain stays linear; SQLite's write transactions
// are serialised already.
//
// Events with a zero Time get the current time; an empty Actor is the
// actor in ctx.
func appendAudit(ctx context.Context, tx conn, evs []*firmward.AuditEvent) error {
	if len(evs) == 0 {
		return nil
	}
	changes := make([]string, len(evs))
	for i, e := range evs {
		prepareEvent(ctx, tx.db, e)
		changes[i] = jsonChanges(e.Changes)
	}
	h, err := lockHead(ctx, tx)
	if err != nil {
		return err
	}
	for _, e := range evs {
		h = h.seal(e)
	}
	if err := insertAuditEvents(ctx, tx, evs, changes); err != nil {
		return err
	}
	return h.store(ctx, tx)
}

// prepareEvent fills in the defaults of e and makes its text storable on
// both databases (valid UTF-8, no NUL), so that the hash computed now is
// the hash of what is read back.
func prepareEvent(ctx context.Context, db *DB, e *firmward.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = db.nowUTC()
	}
	if e.Actor == "" {
		e.Actor = firmward.ActorFrom(ctx).String()
	}
	e.Actor = storable(e.Actor)
	e.Action = storable(e.Action)
	e.ObjectType = storable(e.ObjectType)
	e.ObjectID = storable(e.ObjectID)
	for i := range e.Changes {
		c := &e.Changes[i]
		c.Field, c.Old, c.New = storable(c.Field), storable(c.Old), storable(c.New)
	}
}

func storable(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

// jsonChanges encodes changes for the changes column ("[]" for none).
func jsonChanges(c []firmward.FieldChange) string {
	return string(appendJSONChanges(nil, c))
}

// auditHead is the newest event of the chain.
type auditHead struct {
	seq  int64
	hash string
}

// lockHead reads the head, locking it on PostgreSQL until tx ends.
func lockHead(ctx context.Context, tx conn) (auditHead, error) {
	var h auditHead
	err := tx.queryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1"+tx.db.dialect.forUpdate()).Scan(&h.seq, &h.hash)
	if err != nil {
		return h, fmt.Errorf("reading the audit head: %w", err)
	}
	return h, nil
}

// seal seals e as the successor of h and returns the new head.
func (h auditHead) seal(e *firmward.AuditEvent) auditHead {
	e.Seal(h.seq, h.hash)
	return auditHead{seq: e.Seq, hash: e.Hash}
}

func (h auditHead) store(ctx context.Context, tx conn) error {
	if _, err := tx.exec(ctx, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", h.seq, h.hash); err != nil {
		return fmt.Errorf("moving the audit head: %w", err)
	}
	return nil
}

// insertAuditEvents stores sealed events; changes[i] is the JSON of
// evs[i].Changes.
func insertAuditEvents(ctx context.Context, tx conn, evs []*firmward.AuditEvent, changes []string) error {
	return insertRows(ctx, tx, "audit_events", auditColumnList, len(evs), func(i int, args []any) ([]any, error) {
		return auditArgs(args, evs[i], changes[i]), nil
	})
}

// auditColumnList is auditColumns as a list.
var auditColumnList = strings.Split(auditColumns, ", ")

// auditArgs appends the values of auditColumns for a sealed event.
func auditArgs(args []any, e *firmward.AuditEvent, changes string) []any {
	return append(args, e.Seq, micros(e.Time), e.Actor, e.Action, e.ObjectType, e.ObjectID, changes, e.PrevHash, e.Hash)
}

// pageSize applies the default and maximum page size to a requested limit.
func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return firmward.DefaultPageSize
	case limit > firmward.MaxPageSize:
		return firmward.MaxPageSize
	}
	return limit
}
