package firmward

import (
	"context"
	"strconv"
	"time"
)

// CheckCadence is a health-check cadence set by policy: every Months
// months for devices of Category at Site. An empty Site means every site;
// an empty Category every category. The most specific rule wins (site and
// category, then category, then site); without one the built-in defaults
// apply (lifecycle.DefaultCadence).
type CheckCadence struct {
	Site      string    `json:"site"`
	Category  Category  `json:"category"`
	Months    int       `json:"months"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxCadenceMonths bounds a cadence (five years).
const MaxCadenceMonths = 60

// Normalize validates c: a known category or none, 1 to MaxCadenceMonths
// months. EINVALID with details.
func (c *CheckCadence) Normalize() error {
	var v validator
	c.Site = v.text("site", c.Site, MaxLifecycleNameLen)
	if c.Category != "" {
		c.Category = enum(&v, "category", c.Category, Categories, "")
	}
	if c.Months < 1 || c.Months > MaxCadenceMonths {
		v.add("months", strconv.Itoa(c.Months), "must be 1 to "+strconv.Itoa(MaxCadenceMonths))
	}
	return v.err("check cadence is not valid")
}

// CheckSource says who confirmed a device's state.
type CheckSource string

// Check sources.
const (
	CheckByPerson CheckSource = "person"
	CheckByAgent  CheckSource = "agent"
	CheckByScan   CheckSource = "scan"
)

// CheckSources lists every check source.
var CheckSources = []CheckSource{CheckByPerson, CheckByAgent, CheckByScan}

// Answers of the yes/no/unknown questions of a health check.
const (
	AnswerYes     = "yes"
	AnswerNo      = "no"
	AnswerUnknown = "unknown" // the person could not tell, or skipped it
	AnswerNA      = "not-available"
)

// CheckAnswers lists the answers a checklist question accepts.
var CheckAnswers = []string{AnswerYes, AnswerNo, AnswerUnknown, AnswerNA}

// HealthCheck is one recorded health check of a device: the answers of the
// guided checklist. It is Complete, and the device's check is no longer
// due, when the firmware version was confirmed and the automatic-update
// setting was answered (on, off, or not available on this device).
type HealthCheck struct {
	ID       int64       `json:"id"`
	DeviceID int64       `json:"device_id"`
	Source   CheckSource `json:"source"`
	Actor    string      `json:"actor"`
	Time     time.Time   `json:"time"`
	// FirmwareVersion is the version the person (agent, scan) saw on the
	// device; empty when not confirmed.
	FirmwareVersion string `json:"firmware_version"`
	// AutoUpdate: yes (turned on / was on), no (left off), not-available,
	// or unknown.
	AutoUpdate string `json:"auto_update"`
	// DefaultPassword: yes means the default password was changed.
	DefaultPassword string `json:"default_password_changed"`
	// AdminFound: yes when the admin page or app setting was found.
	AdminFound string `json:"admin_found"`
	Note       string `json:"note"`
	Complete   bool   `json:"complete"`
}

// Normalize validates c and sets Complete. EINVALID with details.
func (c *HealthCheck) Normalize() error {
	var v validator
	c.Source = enum(&v, "source", c.Source, CheckSources, CheckByPerson)
	c.FirmwareVersion = v.text("firmware_version", c.FirmwareVersion, MaxLifecycleNameLen)
	c.AutoUpdate = enum(&v, "auto_update", c.AutoUpdate, CheckAnswers, AnswerUnknown)
	c.DefaultPassword = enum(&v, "default_password_changed", c.DefaultPassword, CheckAnswers, AnswerUnknown)
	c.AdminFound = enum(&v, "admin_found", c.AdminFound, CheckAnswers, AnswerUnknown)
	c.Note = v.text("note", c.Note, MaxLifecycleNoteLen)
	if c.DeviceID <= 0 {
		v.add("device_id", strconv.FormatInt(c.DeviceID, 10), "must be a device id")
	}
	c.Complete = c.FirmwareVersion != "" && c.AutoUpdate != AnswerUnknown
	return v.err("health check is not valid")
}

// CheckService stores health-check cadences and recorded checks. Every
// change is audited.
type CheckService interface {
	// FindCheckCadences lists the cadence rules, by site then category.
	FindCheckCadences(ctx context.Context) ([]CheckCadence, error)
	// SetCheckCadence creates or changes the rule of c's site and category.
	SetCheckCadence(ctx context.Context, c CheckCadence) error
	// DeleteCheckCadence removes the rule of a site and category, or
	// answers ENOTFOUND.
	DeleteCheckCadence(ctx context.Context, site string, category Category) error
	// RecordHealthCheck normalises and stores c (ENOTFOUND for an unknown
	// device); Actor and Time are set by the store; the audit event lists
	// every answer.
	RecordHealthCheck(ctx context.Context, c *HealthCheck) error
	// LastHealthChecks returns, per device, the newest complete check.
	LastHealthChecks(ctx context.Context) (map[int64]*HealthCheck, error)
	// FindHealthChecks lists a device's checks, newest first.
	FindHealthChecks(ctx context.Context, deviceID int64) ([]*HealthCheck, error)
}
