package firmward

import (
	"context"
	"time"
)

// Alert kinds. Kinds are open-ended strings "area.event"; these are the
// ones firmward raises or will raise.
const (
	AlertDeviceNew    = "device.new"    // a scan found a device the inventory did not know
	AlertKEVNew       = "kev.new"       // a device became affected by a known exploited CVE
	AlertQuarantine   = "quarantine"    // NAC quarantined (or asks to quarantine) a device
	AlertSLAOverdue   = "sla.overdue"   // a finding passed its due date
	AlertTaskAssigned = "task.assigned" // a task was given to someone
	AlertCheckDue     = "check.due"     // a periodic check of a device is due
	// AlertComplianceReport is the monthly compliance report (issue 7,
	// requirement 5): its summary and where to download it.
	AlertComplianceReport = "report.monthly"
)

// Severity says how urgent an alert is.
type Severity string

// Severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity, least urgent first.
var Severities = []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// ActionAlertAck is the audit action of acknowledging an alert.
const ActionAlertAck = "alert.ack"

// Alert is something a person should see: a new device, a KEV, an overdue
// SLA… Subject is a one-line summary, Details free key/value context (shown
// as is; channels such as e-mail may render them). DeviceID is 0 when the
// alert concerns no single device.
//
// DedupeKey makes raising idempotent: raising an alert whose key is already
// stored (acknowledged or not) returns the stored one. Kinds that should
// fire again later put the period or the object's version in the key
// ("sla.overdue:finding:42:2026-11-24").
type Alert struct {
	ID             int64             `json:"id"`
	Kind           string            `json:"kind"`
	Severity       Severity          `json:"severity"`
	Subject        string            `json:"subject"`
	DeviceID       int64             `json:"device_id,omitempty"`
	Site           string            `json:"site,omitempty"`
	Details        map[string]string `json:"details,omitempty"`
	DedupeKey      string            `json:"dedupe_key"`
	CreatedAt      time.Time         `json:"created_at"`
	AcknowledgedBy string            `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time        `json:"acknowledged_at"`
}

// Limits of an alert's text.
const (
	MaxAlertSubject = 500
	MaxAlertDetails = 50 // entries
	MaxAlertText    = 2000
)

// Validate checks an alert about to be raised: a kind, a known severity
// (info when empty), a subject, a dedupe key (Kind:ID when empty and a
// device is named) and bounded details. EINVALID names each bad field.
func (a *Alert) Validate() error {
	v := &validator{}
	a.Kind = v.text("kind", a.Kind, 100)
	if a.Kind == "" {
		v.add("kind", "", "is required")
	}
	if a.Severity == "" {
		a.Severity = SeverityInfo
	}
	a.Severity = enum(v, "severity", a.Severity, Severities, SeverityInfo)
	a.Subject = v.text("subject", a.Subject, MaxAlertSubject)
	if a.Subject == "" {
		v.add("subject", "", "is required")
	}
	a.Site = v.text("site", a.Site, 200)
	if a.DeviceID < 0 {
		v.add("device_id", "", "must be a device id")
	}
	a.DedupeKey = v.text("dedupe_key", a.DedupeKey, 500)
	if len(a.Details) > MaxAlertDetails {
		v.add("details", "", "has too many entries")
	}
	for k, val := range a.Details {
		if len(k) > 100 || len(val) > MaxAlertText {
			v.add("details", k, "is too long")
		}
	}
	return v.err("invalid alert")
}

// AlertFilter selects alerts, newest first. Unacked lists only alerts no one
// acknowledged; After is the cursor (the last ID of the previous page).
type AlertFilter struct {
	Kind     string
	Severity Severity
	DeviceID int64
	Site     string
	Unacked  bool
	After    int64
	Limit    int
}

// AlertService keeps alerts. It is what notification channels and
// reminders read; it does not send anything itself. Errors are *Error
// values: EINVALID, ENOTFOUND, ECONFLICT.
type AlertService interface {
	// RaiseAlert validates and stores a, setting its ID and CreatedAt, and
	// reports true; when an alert with the same DedupeKey exists it fills a
	// with the stored one and reports false.
	RaiseAlert(ctx context.Context, a *Alert) (bool, error)
	// FindAlertByID returns one alert or ENOTFOUND.
	FindAlertByID(ctx context.Context, id int64) (*Alert, error)
	// FindAlerts returns one page of alerts, newest first, and the next cursor.
	FindAlerts(ctx context.Context, f AlertFilter) ([]*Alert, int64, error)
	// AcknowledgeAlert records that the actor of ctx has seen the alert
	// (audited). Acknowledging twice keeps the first acknowledgement.
	AcknowledgeAlert(ctx context.Context, id int64) (*Alert, error)
}
