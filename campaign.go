package firmward

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Audit actions of campaigns and the tasks they create.
const (
	ActionCampaignCreate  = "campaign.create"
	ActionCampaignApprove = "campaign.approve"
	ActionCampaignStatus  = "campaign.status" // start, pause, resume, cancel, abort, finish
	ActionCampaignWave    = "campaign.wave"   // a wave started
	ActionCampaignJoin    = "campaign.join"   // devices joined (the plan, or a dynamic join)
	ActionTaskCreate      = "task.create"
	ActionTaskAssign      = "task.assign"
	ActionTaskClose       = "task.close"
)

// CampaignStatus is where a campaign stands. draft: created, not started
// (it may wait for approval); running: the runner moves it on; paused:
// stopped by a person, an error threshold, a withdrawn release or a
// missing approval (Campaign.StatusReason says which); finished, canceled
// and aborted are final.
type CampaignStatus string

// Campaign statuses.
const (
	CampaignDraft    CampaignStatus = "draft"
	CampaignRunning  CampaignStatus = "running"
	CampaignPaused   CampaignStatus = "paused"
	CampaignFinished CampaignStatus = "finished"
	CampaignCanceled CampaignStatus = "canceled"
	CampaignAborted  CampaignStatus = "aborted"
)

// Final reports whether a campaign can no longer change.
func (s CampaignStatus) Final() bool {
	return s == CampaignFinished || s == CampaignCanceled || s == CampaignAborted
}

// Campaign kinds.
const (
	CampaignUpdate   = "update"
	CampaignRollback = "rollback"
)

// What a wave does when its error threshold is crossed.
const (
	OnErrorPause = "pause"
	OnErrorAbort = "abort"
)

// CampaignTarget selects the devices of a campaign: either DeviceIDs, or
// every device matching all the set filter fields (Tags: the device has
// every tag; FirmwareVersion: its current version, exactly). Only devices
// the release is for (its manufacturer and models) are ever targeted.
type CampaignTarget struct {
	Manufacturer    string   `json:"manufacturer,omitempty"`
	Model           string   `json:"model,omitempty"`
	Category        Category `json:"category,omitempty"`
	Site            string   `json:"site,omitempty"`
	Tags            []string `json:"tags,omitempty"`
	FirmwareVersion string   `json:"firmware_version,omitempty"`
	DeviceIDs       []int64  `json:"device_ids,omitempty"`
}

// Matches reports whether d matches the filter fields of t (DeviceIDs
// included when set).
func (t *CampaignTarget) Matches(d *Device) bool {
	if len(t.DeviceIDs) > 0 && !slices.Contains(t.DeviceIDs, d.ID) {
		return false
	}
	eq := strings.EqualFold
	switch {
	case t.Manufacturer != "" && !eq(t.Manufacturer, d.Manufacturer),
		t.Model != "" && !eq(t.Model, d.Model),
		t.Category != "" && t.Category != d.Category,
		t.Site != "" && !eq(t.Site, d.Site),
		t.FirmwareVersion != "" && t.FirmwareVersion != d.FirmwareVersion:
		return false
	}
	for _, tag := range t.Tags {
		if !slices.ContainsFunc(d.Tags, func(x string) bool { return eq(x, tag) }) {
			return false
		}
	}
	return true
}

// WaveSpec sizes one wave (Percent of the devices outside the staging
// ring, or Count devices; the last wave takes whatever is left) and says
// when it is done: SuccessThreshold percent of its pushed devices finished
// with success starts the next wave; when every action of the wave is
// closed below it, the campaign pauses. More than ErrorThreshold percent
// failed pauses or aborts the campaign (OnError).
type WaveSpec struct {
	Percent          int    `json:"percent,omitempty"`
	Count            int    `json:"count,omitempty"`
	SuccessThreshold int    `json:"success_threshold"`
	ErrorThreshold   int    `json:"error_threshold"`
	OnError          string `json:"on_error"`
}

// Defaults of a wave: the staging ring must all succeed and stops at the
// first failure; later waves go on at 90 % success and pause above 10 %
// failures.
var (
	DefaultStagingWave = WaveSpec{SuccessThreshold: 100, ErrorThreshold: 0, OnError: OnErrorPause}
	DefaultWave        = WaveSpec{Percent: 100, SuccessThreshold: 90, ErrorThreshold: 10, OnError: OnErrorPause}
)

// MaintenanceSchedule is when devices may install: windows opening at each
// time the 5-field cron expression names (minute hour day-of-month month
// day-of-week) in TimeZone (IANA), lasting DurationMinutes. Downloads may
// happen outside.
type MaintenanceSchedule struct {
	Cron            string `json:"cron"`
	DurationMinutes int    `json:"duration_minutes"`
	TimeZone        string `json:"time_zone"`
}

// Campaign rolls one release out to a set of devices in waves: first a
// staging ring (devices tagged "staging"), then Waves. Wave 0 is the
// staging ring, wave i the i-th entry of Waves. Devices that firmward
// cannot push to get a Task instead of an Action.
type Campaign struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"` // update or rollback
	ReleaseID  int64          `json:"release_id"`
	RollbackOf int64          `json:"rollback_of,omitempty"`
	Target     CampaignTarget `json:"target"`
	// Dynamic: devices that match the target later join the current wave.
	Dynamic bool       `json:"dynamic"`
	Type    ActionType `json:"type"` // forced, attempt or downloadonly
	Staging WaveSpec   `json:"staging"`
	Waves   []WaveSpec `json:"waves"`
	// ActionTimeoutSeconds: an action still open this long after it was
	// created (or its maintenance window opened) is failed. 0: no timeout.
	ActionTimeoutSeconds int64                `json:"action_timeout_seconds"`
	Window               *MaintenanceSchedule `json:"maintenance_window,omitempty"`
	RequireApproval      bool                 `json:"require_approval"`
	TaskAssignee         string               `json:"task_assignee,omitempty"`
	TaskDueDays          int                  `json:"task_due_days"`

	Status       CampaignStatus `json:"status"`
	StatusReason string         `json:"status_reason,omitempty"`
	Planned      bool           `json:"planned"`
	CurrentWave  int            `json:"current_wave"` // -1 before the first wave
	WaveStarted  *time.Time     `json:"wave_started_at,omitempty"`
	// AcceptedFailures: failures of the current wave a person accepted by
	// resuming; only failures beyond them count against the threshold,
	// and the wave is done when its actions are closed.
	AcceptedFailures int        `json:"accepted_failures"`
	OverrideWave     int        `json:"override_wave"` // the wave resumed past its thresholds, -1 none
	CreatedBy        string     `json:"created_by"`
	CreatorKey       string     `json:"-"` // kind:id of the creator, compared on approval
	ApprovedBy       string     `json:"approved_by,omitempty"`
	ApprovedAt       *time.Time `json:"approved_at,omitempty"`
	StartedAt        *time.Time `json:"started_at,omitempty"`
	FinishedAt       *time.Time `json:"finished_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	// Version grows with every change; the runner applies a step only to
	// the version it read, so each rollout decision is taken once.
	Version int64 `json:"version"`
}

// Limits of a campaign.
const (
	MaxCampaignWaves   = 20
	MaxCampaignDevices = MaxDeployDevices
)

// ActorKey identifies an actor for the approval rule: "token:3".
func ActorKey(a Actor) string {
	return a.Kind + ":" + strconv.FormatInt(a.ID, 10)
}

// Normalize fills defaults (kind update, type forced, one 100 % wave,
// threshold defaults, task due in 14 days) and validates c: EINVALID with
// one ErrorDetail per bad field. Cron expressions are checked by the
// rollout package.
func (c *Campaign) Normalize() error {
	var details []ErrorDetail
	bad := func(field, value, reason string) {
		details = append(details, ErrorDetail{Field: field, Value: clipText(value), Reason: reason})
	}
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case c.Name == "":
		bad("name", "", "is required")
	case !utf8.ValidString(c.Name) || strings.IndexFunc(c.Name, unicode.IsControl) >= 0 || utf8.RuneCountInString(c.Name) > maxReleaseTextLen:
		bad("name", c.Name, fmt.Sprintf("must be one line of at most %d characters", maxReleaseTextLen))
	}
	if c.Kind == "" {
		c.Kind = CampaignUpdate
	}
	if c.Kind != CampaignUpdate && c.Kind != CampaignRollback {
		bad("kind", c.Kind, "must be update or rollback")
	}
	if c.ReleaseID <= 0 {
		bad("release_id", strconv.FormatInt(c.ReleaseID, 10), "is required")
	}
	if c.Type == "" {
		c.Type = ActionForced
	}
	if c.Type != ActionForced && c.Type != ActionAttempt && c.Type != ActionDownloadOnly {
		bad("type", string(c.Type), "must be forced, attempt or downloadonly")
	}
	t := &c.Target
	t.Manufacturer, t.Model, t.Site, t.FirmwareVersion = strings.TrimSpace(t.Manufacturer), strings.TrimSpace(t.Model), strings.TrimSpace(t.Site), strings.TrimSpace(t.FirmwareVersion)
	t.Tags = cleanList(t.Tags)
	if t.Category != "" && !slices.Contains(Categories, t.Category) {
		bad("target.category", string(t.Category), "is not a known category")
	}
	slices.Sort(t.DeviceIDs)
	t.DeviceIDs = slices.Compact(t.DeviceIDs)
	if len(t.DeviceIDs) > MaxCampaignDevices {
		bad("target.device_ids", "", fmt.Sprintf("has more than %d devices", MaxCampaignDevices))
	}
	if len(t.DeviceIDs) > 0 && t.DeviceIDs[0] <= 0 {
		bad("target.device_ids", strconv.FormatInt(t.DeviceIDs[0], 10), "ids are positive")
	}
	if len(t.DeviceIDs) > 0 && c.Dynamic {
		bad("dynamic", "true", "a campaign over a list of devices cannot be dynamic")
	}
	if len(c.Waves) == 0 {
		c.Waves = []WaveSpec{DefaultWave}
	}
	if len(c.Waves) > MaxCampaignWaves {
		bad("waves", "", fmt.Sprintf("has more than %d waves", MaxCampaignWaves))
	}
	checkWave := func(field string, w *WaveSpec, staging bool) {
		if w.OnError == "" {
			w.OnError = OnErrorPause
		}
		if w.OnError != OnErrorPause && w.OnError != OnErrorAbort {
			bad(field+".on_error", w.OnError, "must be pause or abort")
		}
		if w.SuccessThreshold < 0 || w.SuccessThreshold > 100 || w.ErrorThreshold < 0 || w.ErrorThreshold > 100 {
			bad(field, "", "thresholds are percentages 0 to 100")
		}
		if staging {
			return
		}
		switch {
		case w.Percent < 0 || w.Percent > 100 || w.Count < 0:
			bad(field, "", "percent is 0 to 100 and count is not negative")
		case w.Percent > 0 && w.Count > 0:
			bad(field, "", "give a percent or a count, not both")
		case w.Percent == 0 && w.Count == 0:
			bad(field, "", "needs a percent or a count")
		}
	}
	if c.Staging == (WaveSpec{}) {
		c.Staging = DefaultStagingWave
	}
	checkWave("staging", &c.Staging, true)
	for i := range c.Waves {
		checkWave(fmt.Sprintf("waves[%d]", i), &c.Waves[i], false)
	}
	if c.ActionTimeoutSeconds < 0 {
		bad("action_timeout_seconds", strconv.FormatInt(c.ActionTimeoutSeconds, 10), "must not be negative")
	}
	if w := c.Window; w != nil {
		w.Cron, w.TimeZone = strings.TrimSpace(w.Cron), strings.TrimSpace(w.TimeZone)
		if w.TimeZone == "" {
			w.TimeZone = "UTC"
		}
		if _, err := time.LoadLocation(w.TimeZone); err != nil {
			bad("maintenance_window.time_zone", w.TimeZone, "is not an IANA time zone")
		}
		if w.DurationMinutes <= 0 || w.DurationMinutes > 7*24*60 {
			bad("maintenance_window.duration_minutes", strconv.Itoa(w.DurationMinutes), "must be 1 minute to 7 days")
		}
	}
	c.TaskAssignee = strings.TrimSpace(c.TaskAssignee)
	if c.TaskDueDays == 0 {
		c.TaskDueDays = 14
	}
	if c.TaskDueDays < 0 || c.TaskDueDays > 3650 {
		bad("task_due_days", strconv.Itoa(c.TaskDueDays), "must be 1 to 3650")
	}
	if len(details) > 0 {
		return &Error{Code: EINVALID, Message: "campaign is not valid", Details: details}
	}
	return nil
}

// CampaignMember is one device of a campaign: its wave, and the action or
// task it got. The store fills the state of the action, the task and the
// device when it reads members.
type CampaignMember struct {
	CampaignID int64     `json:"campaign_id"`
	DeviceID   int64     `json:"device_id"`
	Wave       int       `json:"wave"`
	JoinedAt   time.Time `json:"joined_at"`
	ActionID   int64     `json:"action_id,omitempty"`
	TaskID     int64     `json:"task_id,omitempty"`

	Action *Action `json:"action,omitempty"`
	Task   *Task   `json:"task,omitempty"`
	Device *Device `json:"device,omitempty"` // name, category, mechanism, versions
}

// WaveStats counts the members of one wave of a campaign (wave 0 is the
// staging ring). Pushed devices (agent or DDI, or a device since deleted)
// count in Devices as open, succeeded or failed; the others have tasks.
type WaveStats struct {
	Wave      int `json:"wave"`
	Devices   int `json:"devices"` // pushed devices (tasks not counted)
	Tasks     int `json:"tasks"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"` // finished with failure, or canceled
	Open      int `json:"open"`   // no action yet, or an open one
	TasksOpen int `json:"tasks_open"`
	// Unassigned counts the members whose device exists and that have
	// neither their action nor their task yet.
	Unassigned int `json:"unassigned"`
}

// CampaignProgress is what a campaign's members add up to, counted by the
// store without reading them one by one: the counts of every wave and the
// device categories the campaign reaches.
type CampaignProgress struct {
	Waves      []WaveStats `json:"waves"`
	Categories []Category  `json:"categories"`
}

// MemberState selects campaign members by where they stand, as WaveStats
// counts them.
type MemberState string

// Member states: a pushed member whose action is open (or not created
// yet), finished with success, or ended otherwise; a member with a task.
const (
	MemberOpen      MemberState = "open"
	MemberSucceeded MemberState = "succeeded"
	MemberFailed    MemberState = "failed"
	MemberTask      MemberState = "task"
)

// MemberStates lists the member states a filter accepts.
var MemberStates = []MemberState{MemberOpen, MemberSucceeded, MemberFailed, MemberTask}

// CampaignMemberFilter selects one page of a campaign's members, by device
// id after After; State "" is every member.
type CampaignMemberFilter struct {
	State MemberState
	After int64
	Limit int
}

// Validate checks the filter; EINVALID names the field.
func (f *CampaignMemberFilter) Validate() error {
	if f.State != "" && !slices.Contains(MemberStates, f.State) {
		return Errorf(EINVALID, "state: %q is not one of open, succeeded, failed, task", f.State)
	}
	if f.After < 0 {
		return Errorf(EINVALID, "after: must not be negative")
	}
	if f.Limit < 0 || f.Limit > MaxPageSize {
		return Errorf(EINVALID, "limit: must be between 1 and %d", MaxPageSize)
	}
	return nil
}

// DecisionKind names one rollout decision.
type DecisionKind string

// Rollout decisions: join adds a device to a wave; planned marks the plan
// made; start_wave moves the campaign to Wave; create_action and
// create_task give a member its action or task; timeout_action fails an
// action that took too long; rewindow_action gives a scheduled action the
// next maintenance window; close_task closes a task whose device reached
// the target version; pause, abort and finish change the campaign's
// status (Reason says why).
const (
	DecideJoin           DecisionKind = "join"
	DecidePlanned        DecisionKind = "planned"
	DecideStartWave      DecisionKind = "start_wave"
	DecideCreateAction   DecisionKind = "create_action"
	DecideCreateTask     DecisionKind = "create_task"
	DecideTimeoutAction  DecisionKind = "timeout_action"
	DecideRewindowAction DecisionKind = "rewindow_action"
	DecideCloseTask      DecisionKind = "close_task"
	DecidePause          DecisionKind = "pause"
	DecideAbort          DecisionKind = "abort"
	DecideFinish         DecisionKind = "finish"
	DecideRequireApprove DecisionKind = "require_approval"
)

// CampaignDecision is one thing the rollout decided for a campaign.
type CampaignDecision struct {
	Kind     DecisionKind       `json:"kind"`
	DeviceID int64              `json:"device_id,omitempty"`
	Wave     int                `json:"wave,omitempty"`
	ActionID int64              `json:"action_id,omitempty"`
	TaskID   int64              `json:"task_id,omitempty"`
	Window   *MaintenanceWindow `json:"window,omitempty"`
	Task     *Task              `json:"task,omitempty"`
	Version  string             `json:"version,omitempty"` // close_task: the version observed
	Reason   string             `json:"reason,omitempty"`
}

// String formats a decision for logs and test failures.
func (d CampaignDecision) String() string {
	s := string(d.Kind)
	if d.DeviceID != 0 {
		s += fmt.Sprintf(" device=%d", d.DeviceID)
	}
	if d.Kind == DecideJoin || d.Kind == DecideStartWave {
		s += fmt.Sprintf(" wave=%d", d.Wave)
	}
	if d.ActionID != 0 {
		s += fmt.Sprintf(" action=%d", d.ActionID)
	}
	if d.TaskID != 0 {
		s += fmt.Sprintf(" task=%d", d.TaskID)
	}
	if d.Reason != "" {
		s += " (" + d.Reason + ")"
	}
	return s
}

// CampaignOp is a person's request to move a campaign on.
type CampaignOp string

// Campaign operations.
const (
	OpStart  CampaignOp = "start"
	OpPause  CampaignOp = "pause"
	OpResume CampaignOp = "resume"
	OpCancel CampaignOp = "cancel"
)

// CampaignFilter selects campaigns, ordered by id.
type CampaignFilter struct {
	Status    CampaignStatus
	ReleaseID int64
	After     int64
	Limit     int
}

// CampaignService keeps campaigns, their members and the tasks they
// create. Every change is audited.
type CampaignService interface {
	// CreateCampaign validates c (Normalize), stores it as a draft and sets
	// ID, CreatedBy, CreatorKey and times. ENOTFOUND for an unknown release,
	// ECONFLICT for a withdrawn one.
	CreateCampaign(ctx context.Context, c *Campaign) error
	// FindCampaignByID returns a campaign or ENOTFOUND.
	FindCampaignByID(ctx context.Context, id int64) (*Campaign, error)
	// FindCampaigns returns one page of campaigns and the next cursor.
	FindCampaigns(ctx context.Context, f CampaignFilter) ([]*Campaign, int64, error)
	// ApproveCampaign records the actor in ctx as approver: EFORBIDDEN when
	// it is the creator, ECONFLICT when approved already or final.
	ApproveCampaign(ctx context.Context, id int64) (*Campaign, error)
	// ChangeCampaign starts (a draft; ECONFLICT when it needs an approval
	// it lacks), pauses, resumes (a paused campaign; the failures of the
	// current wave are accepted) or cancels (open actions canceled, open
	// tasks closed as canceled) a campaign. ECONFLICT for a move its status
	// does not allow.
	ChangeCampaign(ctx context.Context, id int64, op CampaignOp, reason string) (*Campaign, error)
	// CampaignMembers returns the members of a campaign with their action,
	// task and device, by wave and device id.
	CampaignMembers(ctx context.Context, id int64) ([]*CampaignMember, error)
	// CampaignProgress counts the members of every wave of a campaign
	// (len(Waves)+1 entries, staging ring first) and lists the categories
	// of its devices, in one query each, however large the campaign.
	CampaignProgress(ctx context.Context, id int64) (*CampaignProgress, error)
	// StepMembers returns, with their action, task and device, the members
	// a rollout step at now acts on: those of wave with neither action nor
	// task, those whose update task is open, and those of waves up to wave
	// whose open action is due: past the campaign's action timeout
	// (counted from its creation or its window's start, whichever is
	// later) or scheduled in a window that has ended. A superset is
	// harmless; a member left out is acted on at a later step.
	StepMembers(ctx context.Context, id int64, wave int, now time.Time) ([]*CampaignMember, error)
	// FindCampaignMembers returns one page of a campaign's members in
	// device id order, with their action, task and device, and the next
	// cursor (0 at the end).
	FindCampaignMembers(ctx context.Context, id int64, f CampaignMemberFilter) ([]*CampaignMember, int64, error)
	// CampaignDeviceIDs returns the ids of every member device.
	CampaignDeviceIDs(ctx context.Context, id int64) ([]int64, error)
	// ApplyCampaignStep applies decisions taken on version of the campaign
	// in one transaction: ECONFLICT (and nothing changed) when the campaign
	// moved on since, so each decision is taken once even with several
	// runners.
	ApplyCampaignStep(ctx context.Context, id, version int64, decisions []CampaignDecision) (*Campaign, error)
}
