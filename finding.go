package firmward

import (
	"context"
	"time"
)

// FindingStatus is where a finding is in its lifecycle.
type FindingStatus string

// Finding statuses.
const (
	FindingOpen         FindingStatus = "open"
	FindingFixed        FindingStatus = "fixed"         // set by matching: the firmware left every vulnerable range
	FindingMitigated    FindingStatus = "mitigated"     // a person says a compensating control covers it (Note says which)
	FindingRiskAccepted FindingStatus = "risk-accepted" // until AcceptedUntil; reopens after it
	FindingNotAffected  FindingStatus = "not-affected"  // with a VEX justification
)

// FindingStatuses lists every status.
var FindingStatuses = []FindingStatus{FindingOpen, FindingFixed, FindingMitigated, FindingRiskAccepted, FindingNotAffected}

// VEXJustifications are the justifications of a not-affected status, as
// CSAF VEX and OpenVEX spell them.
var VEXJustifications = []string{
	"component_not_present",
	"vulnerable_code_not_present",
	"vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary",
	"inline_mitigations_already_exist",
}

// Decision values of the SSVC deployer table, most urgent first.
const (
	DecisionImmediate  = "Immediate"
	DecisionOutOfCycle = "Out-of-Cycle"
	DecisionScheduled  = "Scheduled"
	DecisionDefer      = "Defer"
)

// Evidence says why a device matched a CVE: the source, which configuration
// and criteria matched (the vulnerable one and the platform the device's
// own hardware satisfied), the version range and the version compared.
type Evidence struct {
	Source        string `json:"source"`                  // "nvd", "cve5:cna", "csaf:ICSA-…"
	Configuration int    `json:"configuration,omitempty"` // index in the NVD configurations, or of the affected entry
	Criteria      string `json:"criteria,omitempty"`
	Platform      string `json:"platform,omitempty"`
	Range         string `json:"range,omitempty"` // ">= 6.34, < 6.49.7"
	Version       string `json:"version,omitempty"`
	DeviceCPE     string `json:"device_cpe,omitempty"` // the firmware CPE the device was matched with
	CPEProposed   bool   `json:"cpe_proposed,omitempty"`
	Reason        string `json:"reason"` // one sentence for a person
}

// Finding is one device affected (or possibly affected) by one CVE, with
// what decides its urgency. Matching writes the matching fields; a person
// writes Status (other than fixed), Note, AcceptedUntil and
// VEXJustification, and every such change is audited.
//
// Certain is false when the advisory does not say which versions are
// affected ("possible"): such findings rank below certain ones.
type Finding struct {
	ID       int64         `json:"id"`
	DeviceID int64         `json:"device_id"`
	CVE      string        `json:"cve"`
	Status   FindingStatus `json:"status"`
	Certain  bool          `json:"certain"`
	Evidence Evidence      `json:"evidence"`

	CVSSScore      float64    `json:"cvss_score"`
	CVSSVector     string     `json:"cvss_vector,omitempty"`
	KEV            bool       `json:"kev"`
	KEVDueDate     string     `json:"kev_due_date,omitempty"`
	Ransomware     bool       `json:"ransomware"`
	EPSS           float64    `json:"epss"`
	EPSSPercentile float64    `json:"epss_percentile"`
	Decision       string     `json:"decision"`
	DecisionWhy    string     `json:"decision_why"`
	Priority       int        `json:"priority"` // larger is more urgent; sort descending
	DueDate        *time.Time `json:"due_date"`
	FixedIn        string     `json:"fixed_in,omitempty"` // lowest firmware version outside this CVE's ranges, when known

	Note             string     `json:"note,omitempty"`
	AcceptedUntil    string     `json:"accepted_until,omitempty"` // YYYY-MM-DD, for risk-accepted
	VEXJustification string     `json:"vex_justification,omitempty"`
	FirstSeen        time.Time  `json:"first_seen"`
	LastSeen         time.Time  `json:"last_seen"`
	FixedAt          *time.Time `json:"fixed_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// FindingFilter selects findings; results are ordered by Priority, most
// urgent first, then ID. Overdue compares DueDate with Now. Manufacturer
// matches the device's manufacturer case-insensitively. After is the cursor
// of the previous page as FindFindings returned it.
type FindingFilter struct {
	DeviceID     int64
	CVE          string
	Status       FindingStatus // "" means open (the default view); "all" is not a status: use Statuses
	Statuses     []FindingStatus
	KEV          bool
	Decision     string
	Overdue      bool
	Now          time.Time
	Manufacturer string
	After        string
	Limit        int
}

// FindingUpdate is what a person may change on a finding. Status must be
// open, mitigated (Note required), risk-accepted (AcceptedUntil required,
// in the future) or not-affected (VEXJustification required, one of
// VEXJustifications); fixed is set by matching only.
type FindingUpdate struct {
	Status           FindingStatus `json:"status"`
	Note             string        `json:"note,omitempty"`
	AcceptedUntil    string        `json:"accepted_until,omitempty"`
	VEXJustification string        `json:"vex_justification,omitempty"`
}

// FindingSyncResult says what storing the matching of one device or of a
// batch changed.
type FindingSyncResult struct {
	Devices  int `json:"devices,omitempty"` // devices synced (SyncFindings)
	Missing  int `json:"missing,omitempty"` // devices skipped because they no longer exist (SyncFindings)
	Opened   int `json:"opened"`            // new findings, and fixed ones that came back
	Updated  int `json:"updated"`           // still matching, evidence or priority changed
	Fixed    int `json:"fixed"`             // no longer matching: the firmware left the range
	Reopened int `json:"reopened"`          // risk acceptances that expired
}

// Add adds the counts of o to r.
func (r *FindingSyncResult) Add(o *FindingSyncResult) {
	r.Devices += o.Devices
	r.Missing += o.Missing
	r.Opened += o.Opened
	r.Updated += o.Updated
	r.Fixed += o.Fixed
	r.Reopened += o.Reopened
}

// DeviceFindings is what matching found for one device, for SyncFindings.
// CVEs limits the sync to a set of CVEs (a re-match after a feed changed
// only those): stored findings of other CVEs are left as they are, and
// Found may name only CVEs of the set. A nil CVEs means every CVE (a full
// re-match of the device); an empty non-nil set syncs nothing.
type DeviceFindings struct {
	DeviceID int64
	Found    []Finding
	CVEs     []string
}

// FindingService stores findings.
type FindingService interface {
	// SyncDeviceFindings stores the result of matching one device against
	// every CVE: found lists what matches now. Findings that no longer
	// match become fixed; new ones open; existing ones keep the status a
	// person gave them (a fixed one that matches again reopens) and get the
	// new evidence and priority. Status changes are audited.
	SyncDeviceFindings(ctx context.Context, deviceID int64, found []Finding) (*FindingSyncResult, error)
	// SyncFindings does what SyncDeviceFindings does for many devices at
	// once, each within its DeviceFindings.CVEs scope, in one transaction.
	// Devices that no longer exist are skipped and counted in Missing.
	SyncFindings(ctx context.Context, batch []DeviceFindings) (*FindingSyncResult, error)
	// FindFindings returns one page of findings and the next cursor.
	FindFindings(ctx context.Context, f FindingFilter) ([]*Finding, string, error)
	// FindFindingByID returns one finding or ENOTFOUND.
	FindFindingByID(ctx context.Context, id int64) (*Finding, error)
	// FindingStats counts open findings fleet-wide: by decision, by
	// vendor, and overdue per day over the last days (finding_stats.go).
	FindingStats(ctx context.Context, f FindingStatsFilter) (*FindingStats, error)
	// UpdateFinding applies a person's decision; audited.
	UpdateFinding(ctx context.Context, id int64, u FindingUpdate) (*Finding, error)
}
