package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// TaskService keeps the manual tasks of campaigns in a database.
type TaskService struct {
	db *DB
}

var _ firmward.TaskService = (*TaskService)(nil)

// NewTaskService returns the tasks kept in db.
func NewTaskService(db *DB) *TaskService { return &TaskService{db: db} }

// maxTaskText bounds an assignee and a close note.
const maxTaskText = 500

const taskColumns = "id, campaign_id, device_id, release_id, kind, status, title, instructions, target_version, assignee, due_at," +
	" created_by, created_at, closed_at, closed_by, close_note, observed_version"

func scanTask(s scanner) (*firmward.Task, error) {
	var t firmward.Task
	var kind, status, lines string
	var due, created int64
	var closed sql.NullInt64
	if err := s.Scan(&t.ID, &t.CampaignID, &t.DeviceID, &t.ReleaseID, &kind, &status, &t.Title, &lines, &t.TargetVersion, &t.Assignee, &due,
		&t.CreatedBy, &created, &closed, &t.ClosedBy, &t.CloseNote, &t.ObservedVersion); err != nil {
		return nil, err
	}
	t.Kind, t.Status = firmward.TaskKind(kind), firmward.TaskStatus(status)
	t.Instructions = []string{}
	if lines != "" {
		t.Instructions = strings.Split(lines, "\n")
	}
	t.DueAt, t.CreatedAt, t.ClosedAt = fromMicros(due), fromMicros(created), fromNullMicros(closed)
	return &t, nil
}

func queryTasks(ctx context.Context, c conn, q string, args ...any) ([]*firmward.Task, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []*firmward.Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tasks: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	return out, nil
}

func findTask(ctx context.Context, c conn, id int64, lock bool) (*firmward.Task, error) {
	q := "SELECT " + taskColumns + " FROM tasks WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	t, err := scanTask(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "task %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading task %d: %w", id, err)
	}
	return t, nil
}

// finishTask closes or cancels an open task and returns its audit event
// (task.close).
func finishTask(ctx context.Context, tx conn, id int64, status firmward.TaskStatus, version, note string, now time.Time) (*firmward.AuditEvent, error) {
	by := firmward.ActorFrom(ctx).String()
	if _, err := tx.exec(ctx, "UPDATE tasks SET status = ?, closed_at = ?, closed_by = ?, close_note = ?, observed_version = ? WHERE id = ? AND status = 'open'",
		string(status), micros(now), by, storable(note), storable(version), id); err != nil {
		return nil, fmt.Errorf("closing task %d: %w", id, err)
	}
	changes := []firmward.FieldChange{{Field: "status", Old: string(firmward.TaskOpen), New: string(status)}, {Field: "note", New: note}}
	if version != "" {
		changes = append(changes, firmward.FieldChange{Field: "observed_version", New: version})
	}
	return &firmward.AuditEvent{Time: now, Action: firmward.ActionTaskClose, ObjectType: "task", ObjectID: strconv.FormatInt(id, 10), Changes: changes}, nil
}

// FindTaskByID returns a task or ENOTFOUND.
func (s *TaskService) FindTaskByID(ctx context.Context, id int64) (*firmward.Task, error) {
	return findTask(ctx, s.db.read(), id, false)
}

// FindTasks returns one page of tasks in id order and the next cursor.
func (s *TaskService) FindTasks(ctx context.Context, f firmward.TaskFilter) ([]*firmward.Task, int64, error) {
	where, args := []string{"id > ?"}, []any{f.After}
	if f.CampaignID != 0 {
		where, args = append(where, "campaign_id = ?"), append(args, f.CampaignID)
	}
	if f.DeviceID != 0 {
		where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
	}
	if f.Assignee != "" {
		where, args = append(where, "assignee = ?"), append(args, f.Assignee)
	}
	if f.Status != "" {
		switch f.Status {
		case firmward.TaskOpen, firmward.TaskClosed, firmward.TaskCanceled:
		default:
			return nil, 0, firmward.Errorf(firmward.EINVALID, "status %q is not one of open, closed, canceled", clip(string(f.Status)))
		}
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	limit := pageSize(f.Limit)
	out, err := queryTasks(ctx, s.db.read(), "SELECT "+taskColumns+" FROM tasks WHERE "+strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", append(args, limit+1)...)
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

func checkTaskText(field, s string) error {
	if len(s) > maxTaskText || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return &firmward.Error{Code: firmward.EINVALID, Message: "task change is not valid", Details: []firmward.ErrorDetail{
			{Field: field, Value: clip(s), Reason: fmt.Sprintf("must be text of at most %d bytes", maxTaskText)},
		}}
	}
	return nil
}

// AssignTask sets the assignee (and due date) of an open task, audited as
// task.assign.
func (s *TaskService) AssignTask(ctx context.Context, id int64, assignee string, due *time.Time) (*firmward.Task, error) {
	assignee = strings.TrimSpace(assignee)
	if err := checkTaskText("assignee", assignee); err != nil {
		return nil, err
	}
	if assignee == "" {
		return nil, &firmward.Error{Code: firmward.EINVALID, Message: "task change is not valid", Details: []firmward.ErrorDetail{{Field: "assignee", Reason: "is required"}}}
	}
	var out *firmward.Task
	err := s.db.write(ctx, func(tx conn) error {
		t, err := findTask(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if t.Status != firmward.TaskOpen {
			return firmward.Errorf(firmward.ECONFLICT, "task %d is %s", id, t.Status)
		}
		changes := []firmward.FieldChange{{Field: "assignee", Old: t.Assignee, New: assignee}}
		t.Assignee = assignee
		if due != nil {
			changes = append(changes, firmward.FieldChange{Field: "due_at", Old: t.DueAt.Format(time.RFC3339), New: due.UTC().Format(time.RFC3339)})
			t.DueAt = due.UTC().Truncate(time.Microsecond)
		}
		if _, err := tx.exec(ctx, "UPDATE tasks SET assignee = ?, due_at = ? WHERE id = ?", t.Assignee, micros(t.DueAt), id); err != nil {
			return fmt.Errorf("assigning task %d: %w", id, err)
		}
		out = t
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{Action: firmward.ActionTaskAssign, ObjectType: "task", ObjectID: strconv.FormatInt(id, 10), Changes: changes}})
	})
	return out, err
}

// CloseTask closes an open task, audited as task.close: an update task
// only once its device runs the target version or later.
func (s *TaskService) CloseTask(ctx context.Context, id int64, note string) (*firmward.Task, error) {
	note = strings.TrimSpace(note)
	if err := checkTaskText("note", note); err != nil {
		return nil, err
	}
	var out *firmward.Task
	err := s.db.write(ctx, func(tx conn) error {
		t, err := findTask(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if t.Status != firmward.TaskOpen {
			return firmward.Errorf(firmward.ECONFLICT, "task %d is %s", id, t.Status)
		}
		version := ""
		switch t.Kind {
		case firmward.TaskUpdate:
			d, err := findDevice(ctx, tx, t.DeviceID, false)
			if err != nil {
				return err
			}
			if d.FirmwareVersion == "" || vuln.CompareVersions(d.FirmwareVersion, t.TargetVersion) < 0 {
				return firmward.Errorf(firmward.ECONFLICT, "device %d runs %q, not %s yet: record the new version (agent, scan or an edit of the device) and the task closes",
					d.ID, d.FirmwareVersion, t.TargetVersion)
			}
			version = d.FirmwareVersion
		default:
			if note == "" {
				return &firmward.Error{Code: firmward.EINVALID, Message: "task change is not valid", Details: []firmward.ErrorDetail{
					{Field: "note", Reason: "say how the device was isolated or replaced"},
				}}
			}
		}
		now := s.db.nowUTC()
		ev, err := finishTask(ctx, tx, id, firmward.TaskClosed, version, note, now)
		if err != nil {
			return err
		}
		if out, err = findTask(ctx, tx, id, false); err != nil {
			return err
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{ev})
	})
	return out, err
}
