package firmward

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ActionType says how a device handles an action (hawkBit's terms).
type ActionType string

// Action types: forced installs at once; attempt lets the device decide
// when; skip only downloads during a closed maintenance window (hawkBit's
// update "skip"); downloadonly downloads and never installs.
const (
	ActionForced       ActionType = "forced"
	ActionAttempt      ActionType = "attempt"
	ActionSkip         ActionType = "skip"
	ActionDownloadOnly ActionType = "downloadonly"
)

// ActionTypes lists every action type.
var ActionTypes = []ActionType{ActionForced, ActionAttempt, ActionSkip, ActionDownloadOnly}

// ActionStatus is where an action stands.
type ActionStatus string

// Action statuses. scheduled: waiting for the device; running: the device
// reported progress; canceling: firmward asked the device to stop and waits
// for its confirmation; finished: the device reported a result (see
// Action.Result); canceled: stopped before it finished.
const (
	ActionScheduled ActionStatus = "scheduled"
	ActionRunning   ActionStatus = "running"
	ActionCanceling ActionStatus = "canceling"
	ActionFinished  ActionStatus = "finished"
	ActionCanceled  ActionStatus = "canceled"
)

// ActionStatuses lists every action status.
var ActionStatuses = []ActionStatus{ActionScheduled, ActionRunning, ActionCanceling, ActionFinished, ActionCanceled}

// Open reports whether an action still waits for the device.
func (s ActionStatus) Open() bool {
	return s == ActionScheduled || s == ActionRunning || s == ActionCanceling
}

// Action results, set when an action is finished.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// MaintenanceWindow is when a device may install: Start ≤ now < End.
// Downloads may happen before.
type MaintenanceWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Contains reports whether t falls in the window.
func (w *MaintenanceWindow) Contains(t time.Time) bool {
	return w == nil || (!t.Before(w.Start) && t.Before(w.End))
}

// Action is one release to install on one device, with the state the
// device reported. Campaigns create them through the same call as a manual
// deployment (CampaignID 0 for the latter).
type Action struct {
	ID             int64              `json:"id"`
	DeviceID       int64              `json:"device_id"`
	ReleaseID      int64              `json:"release_id"`
	CampaignID     int64              `json:"campaign_id,omitempty"`
	Type           ActionType         `json:"type"`
	Status         ActionStatus       `json:"status"`
	Result         string             `json:"result,omitempty"`
	Window         *MaintenanceWindow `json:"maintenance_window,omitempty"`
	ProgressCnt    int                `json:"progress_cnt,omitempty"`
	ProgressOf     int                `json:"progress_of,omitempty"`
	CreatedBy      string             `json:"created_by"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
	LastFeedbackAt *time.Time         `json:"last_feedback_at,omitempty"`
}

// Feedback executions a device reports (hawkBit's status.execution).
const (
	ExecProceeding = "proceeding"
	ExecClosed     = "closed"
	ExecCanceled   = "canceled"
	ExecRejected   = "rejected"
	ExecResumed    = "resumed"
	ExecScheduled  = "scheduled"
	ExecDownload   = "download"
	ExecDownloaded = "downloaded"
)

// FeedbackExecutions lists every execution value a device may report.
var FeedbackExecutions = []string{ExecProceeding, ExecClosed, ExecCanceled, ExecRejected, ExecResumed, ExecScheduled, ExecDownload, ExecDownloaded}

// Limits of one feedback.
const (
	MaxFeedbackDetails    = 256
	MaxFeedbackDetailsLen = 64 << 10 // all details together, in bytes
)

// ActionFeedback is one report of a device about an action: Execution one
// of FeedbackExecutions, Finished success, failure or none, progress
// counters, a device-specific Code and free-text Details (a log).
type ActionFeedback struct {
	ID          int64     `json:"id"`
	ActionID    int64     `json:"action_id"`
	Time        time.Time `json:"time"`
	Execution   string    `json:"execution"`
	Finished    string    `json:"finished"`
	ProgressCnt int       `json:"progress_cnt,omitempty"`
	ProgressOf  int       `json:"progress_of,omitempty"`
	Code        *int      `json:"code,omitempty"`
	Details     []string  `json:"details,omitempty"`
	// Cancel says the feedback answers a cancellation (DDI cancelAction).
	Cancel bool `json:"cancel,omitempty"`
}

// Validate checks a feedback from a device: EINVALID naming the bad field.
func (f *ActionFeedback) Validate() error {
	var details []ErrorDetail
	if !slices.Contains(FeedbackExecutions, f.Execution) {
		details = append(details, ErrorDetail{Field: "status.execution", Value: clipText(f.Execution), Reason: "must be one of " + strings.Join(FeedbackExecutions, ", ")})
	}
	switch f.Finished {
	case ResultSuccess, ResultFailure, "none":
	default:
		details = append(details, ErrorDetail{Field: "status.result.finished", Value: clipText(f.Finished), Reason: "must be success, failure or none"})
	}
	if f.ProgressCnt < 0 || f.ProgressOf < 0 || (f.ProgressOf > 0 && f.ProgressCnt > f.ProgressOf) {
		details = append(details, ErrorDetail{Field: "status.result.progress", Value: fmt.Sprintf("%d of %d", f.ProgressCnt, f.ProgressOf), Reason: "must be 0 ≤ cnt ≤ of"})
	}
	n := 0
	for _, d := range f.Details {
		n += len(d)
	}
	switch {
	case len(f.Details) > MaxFeedbackDetails:
		details = append(details, ErrorDetail{Field: "status.details", Reason: fmt.Sprintf("has more than %d lines", MaxFeedbackDetails)})
	case n > MaxFeedbackDetailsLen:
		details = append(details, ErrorDetail{Field: "status.details", Reason: fmt.Sprintf("is longer than %d bytes", MaxFeedbackDetailsLen)})
	}
	for _, d := range f.Details {
		if !utf8.ValidString(d) || strings.ContainsRune(d, 0) {
			details = append(details, ErrorDetail{Field: "status.details", Reason: "must be text"})
			break
		}
	}
	if len(details) > 0 {
		return &Error{Code: EINVALID, Message: "feedback is not valid", Details: details}
	}
	return nil
}

func clipText(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// DeployRequest asks for one action per device: the release, how to
// install, and an optional maintenance window.
type DeployRequest struct {
	ReleaseID  int64              `json:"release_id"`
	DeviceIDs  []int64            `json:"devices"`
	Type       ActionType         `json:"type"`
	Window     *MaintenanceWindow `json:"maintenance_window,omitempty"`
	CampaignID int64              `json:"campaign_id,omitempty"`
}

// MaxDeployDevices bounds the devices of one DeployRequest.
const MaxDeployDevices = 10000

// ActionFilter selects actions, ordered by id.
type ActionFilter struct {
	DeviceID  int64
	ReleaseID int64
	Status    ActionStatus
	After     int64
	Limit     int
}

// DeviceCredential is how a device proves who it is: a secret (only its
// hash is stored) bound to a device and to the controller id it uses on the
// DDI API.
type DeviceCredential struct {
	DeviceID     int64      `json:"device_id"`
	ControllerID string     `json:"controller_id"`
	Prefix       string     `json:"prefix"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	LastSeenAt   *time.Time `json:"last_seen_at,omitempty"`
}

// DevicePoll is what one device poll needs to know.
type DevicePoll struct {
	Credential    *DeviceCredential
	Next          *Action // the oldest open action, or nil
	HasAttributes bool    // the device has reported its attributes
}

// DeviceTokenPrefix starts every device secret.
const DeviceTokenPrefix = "fwd_"

// MaxControllerIDLen bounds a controller id.
const MaxControllerIDLen = 64

// ValidControllerID reports why id cannot be a controller id, or "": 1-64
// characters of letters, digits, '.', '_', ':' and '-'.
func ValidControllerID(id string) string {
	if id == "" || len(id) > MaxControllerIDLen {
		return fmt.Sprintf("must be 1 to %d characters", MaxControllerIDLen)
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("._-:", c):
		default:
			return "may hold only letters, digits, '.', '_', ':' and '-'"
		}
	}
	return ""
}

// DeviceActor returns the actor for a device speaking for itself.
func DeviceActor(c *DeviceCredential) Actor {
	return Actor{Kind: "device", ID: c.DeviceID, Name: c.ControllerID}
}

// DeliveryService keeps device actions, their feedback log, device
// credentials and the attributes devices report. Every change of state is
// audited.
type DeliveryService interface {
	// CreateActions creates one scheduled action per device of req, all or
	// none: EINVALID for a bad request, ENOTFOUND for an unknown release or
	// device, ECONFLICT for a withdrawn release or a device with an open
	// action for the same release. A device with an open action for another
	// release gets the new one after it (actions are offered oldest first).
	CreateActions(ctx context.Context, req DeployRequest) ([]*Action, error)
	// FindActionByID returns an action or ENOTFOUND.
	FindActionByID(ctx context.Context, id int64) (*Action, error)
	// FindActions returns one page of actions and the next cursor.
	FindActions(ctx context.Context, f ActionFilter) ([]*Action, int64, error)
	// ActionFeedback returns the feedback log of an action, oldest first.
	ActionFeedback(ctx context.Context, actionID int64) ([]*ActionFeedback, error)
	// NextAction returns the open action a device should work on (the
	// oldest), or nil.
	NextAction(ctx context.Context, deviceID int64) (*Action, error)
	// AddFeedback records a device's feedback on one of its own actions
	// and moves the action on: ENOTFOUND when the action is not the
	// device's; EINVALID for a bad feedback; ECONFLICT for an action that
	// is closed already. It returns the action as it now is.
	AddFeedback(ctx context.Context, deviceID, actionID int64, fb *ActionFeedback) (*Action, error)
	// CancelAction cancels a scheduled action at once and asks a running
	// one to cancel (canceling until the device confirms). ECONFLICT when
	// the action is closed.
	CancelAction(ctx context.Context, id int64) (*Action, error)

	// CreateDeviceToken issues a new secret for a device (replacing any
	// earlier one) bound to controllerID ("" means the device's id). It
	// returns the credential and the secret, which is not stored.
	// ENOTFOUND for an unknown device; ECONFLICT when another device uses
	// the controller id.
	CreateDeviceToken(ctx context.Context, deviceID int64, controllerID string) (*DeviceCredential, string, error)
	// EnrollDevice creates device d and its credential (a device enrolling
	// with the enrollment key); when the credential cannot be made, the
	// device is removed again. ECONFLICT when the controller id is taken.
	EnrollDevice(ctx context.Context, d *Device, controllerID string) (*DeviceCredential, string, error)
	// AuthenticateDevice returns the credential of this secret, or
	// EUNAUTHORIZED.
	AuthenticateDevice(ctx context.Context, secret string) (*DeviceCredential, error)
	// PollDevice authenticates a device secret and says, in one query,
	// what a poll needs: the credential, the oldest open action (nil when
	// none) and whether the device has reported attributes. EUNAUTHORIZED
	// for an unknown secret.
	PollDevice(ctx context.Context, secret string) (*DevicePoll, error)
	// FindDeviceCredential returns the credential of a controller id, or
	// ENOTFOUND.
	FindDeviceCredential(ctx context.Context, controllerID string) (*DeviceCredential, error)
	// DeviceAttributes returns the attributes a device reported.
	DeviceAttributes(ctx context.Context, deviceID int64) (map[string]string, error)
	// SetDeviceAttributes merges, replaces or removes (mode "merge",
	// "replace", "remove") the attributes of a device.
	SetDeviceAttributes(ctx context.Context, deviceID int64, mode string, attrs map[string]string) error
}
