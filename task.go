package firmward

import (
	"context"
	"time"
)

// TaskKind says what a person must do with a device firmward cannot push
// to.
type TaskKind string

// Task kinds: update the firmware by hand (vendor cloud, web admin,
// technician); isolate or replace a device that cannot be updated at all
// (update mechanism none).
const (
	TaskUpdate  TaskKind = "update"
	TaskIsolate TaskKind = "isolate"
)

// TaskStatus is where a task stands.
type TaskStatus string

// Task statuses.
const (
	TaskOpen     TaskStatus = "open"
	TaskClosed   TaskStatus = "closed"
	TaskCanceled TaskStatus = "canceled"
)

// Task is manual work a campaign asks for on one device: Instructions (where
// to log in, which file or version, what to check), an Assignee and a due
// date. An update task closes only when the device's observed firmware
// version reaches TargetVersion (from an agent, a scan or an audited edit);
// an isolate task closes when a person says it is done.
type Task struct {
	ID              int64      `json:"id"`
	CampaignID      int64      `json:"campaign_id"`
	DeviceID        int64      `json:"device_id"`
	ReleaseID       int64      `json:"release_id"`
	Kind            TaskKind   `json:"kind"`
	Status          TaskStatus `json:"status"`
	Title           string     `json:"title"`
	Instructions    []string   `json:"instructions"`
	TargetVersion   string     `json:"target_version,omitempty"`
	Assignee        string     `json:"assignee"`
	DueAt           time.Time  `json:"due_at"`
	CreatedBy       string     `json:"created_by"`
	CreatedAt       time.Time  `json:"created_at"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	ClosedBy        string     `json:"closed_by,omitempty"`
	CloseNote       string     `json:"close_note,omitempty"`
	ObservedVersion string     `json:"observed_version,omitempty"`
}

// TaskFilter selects tasks, ordered by id.
type TaskFilter struct {
	CampaignID int64
	DeviceID   int64
	Assignee   string
	Status     TaskStatus
	After      int64
	Limit      int
}

// TaskService keeps the tasks of campaigns. Every change is audited.
type TaskService interface {
	// FindTaskByID returns a task or ENOTFOUND.
	FindTaskByID(ctx context.Context, id int64) (*Task, error)
	// FindTasks returns one page of tasks and the next cursor.
	FindTasks(ctx context.Context, f TaskFilter) ([]*Task, int64, error)
	// AssignTask sets the assignee (and the due date when due is not nil)
	// of an open task: ECONFLICT when it is closed.
	AssignTask(ctx context.Context, id int64, assignee string, due *time.Time) (*Task, error)
	// CloseTask closes a task with a note. An update task closes only when
	// the device's firmware version has reached the target (ECONFLICT
	// otherwise, naming both versions); an isolate task needs the note.
	CloseTask(ctx context.Context, id int64, note string) (*Task, error)
}
