package firmward

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Observation sources.
const (
	// ObservationScan is an observation made by a network scan.
	ObservationScan = "scan"
)

// Observed fields: the Device fields a scan proposes values for, by their
// JSON names.
const (
	FieldManufacturer    = "manufacturer"
	FieldModel           = "model"
	FieldFirmwareVersion = "firmware_version"
	FieldCategory        = "category"
	FieldSerial          = "serial"
)

// ObservedFields lists the fields a scan proposes, in display order.
var ObservedFields = []string{FieldManufacturer, FieldModel, FieldFirmwareVersion, FieldCategory, FieldSerial}

// Observation outcomes: what ingesting an observation did to the inventory.
const (
	OutcomeNew       = "new"       // a device was created
	OutcomeUpdated   = "updated"   // a known device was changed
	OutcomeUnchanged = "unchanged" // a known device was seen again, only last_seen moved
	OutcomeConflict  = "conflict"  // at least one proposed value waits for review
	OutcomeFailed    = "failed"    // the device could not be created or updated; Notes say why
)

// ScanEvidence is one thing seen that backs an observed value: the probe and
// field ("http:80 server", "snmp sysDescr"), the string seen and the
// fingerprint rule that read it, if any.
type ScanEvidence struct {
	Source   string `json:"source"`
	Observed string `json:"observed"`
	Rule     string `json:"rule,omitempty"`
}

// ObservedField is one value a scan proposes for a device field, with how
// sure it is (0 to 1) and why.
type ObservedField struct {
	Field      string         `json:"field"`
	Value      string         `json:"value"`
	Confidence float64        `json:"confidence"`
	Evidence   []ScanEvidence `json:"evidence,omitempty"`
}

// Observation is what one scan saw of one host at one time. Before it is
// ingested DeviceID and Outcome are empty; ingesting sets the device it was
// matched to (or created) and what happened.
type Observation struct {
	ID       int64     `json:"id"`
	RunID    int64     `json:"run_id"`
	DeviceID int64     `json:"device_id,omitempty"`
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
	IP       string    `json:"ip"`
	MAC      string    `json:"mac,omitempty"`
	// MACVendor is the IEEE registry's name for the MAC's prefix.
	MACVendor string `json:"mac_vendor,omitempty"`
	Hostname  string `json:"hostname,omitempty"`
	// Ports are the open TCP ports.
	Ports  []int           `json:"ports,omitempty"`
	Fields []ObservedField `json:"fields,omitempty"`
	// Hints are exposure and segmentation warnings, in plain words.
	Hints   []string `json:"hints,omitempty"`
	Outcome string   `json:"outcome,omitempty"`
	// Notes say what ingesting changed or why it failed.
	Notes []string `json:"notes,omitempty"`
}

// Field returns the observed value of name, or nil.
func (o *Observation) Field(name string) *ObservedField {
	for i := range o.Fields {
		if o.Fields[i].Field == name {
			return &o.Fields[i]
		}
	}
	return nil
}

// Value returns the observed value of name, or "".
func (o *Observation) Value(name string) string {
	if f := o.Field(name); f != nil {
		return f.Value
	}
	return ""
}

// ScanOptions tune one scan. Zero values use the scanner's defaults.
type ScanOptions struct {
	// Communities are the SNMP v2c communities tried.
	Communities []string `json:"communities,omitempty"`
	// TimeoutMS bounds the probes of one host, in milliseconds.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// Rate is the most probes per second over the whole scan.
	Rate int `json:"rate,omitempty"`
	// NoRaw runs without ARP sweep and ICMP echo even with privileges.
	NoRaw bool `json:"no_raw,omitempty"`
}

// ScanRequest asks for one scan of a network.
type ScanRequest struct {
	CIDR      string      `json:"cidr"`
	Interface string      `json:"interface,omitempty"`
	Site      string      `json:"site,omitempty"`
	Options   ScanOptions `json:"options,omitzero"`
}

// ScanReport is what a scanner hands to the inventory: the hosts it saw,
// as observations not yet ingested.
type ScanReport struct {
	CIDR       string    `json:"cidr"`
	Interface  string    `json:"interface,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Raw says the scan could open raw sockets (ARP sweep, ICMP echo).
	Raw     bool          `json:"raw"`
	Scanned int           `json:"scanned"`
	Notes   []string      `json:"notes,omitempty"`
	Hosts   []Observation `json:"hosts"`
}

// ScanFunc runs one scan. The server is given one by its wiring, since the
// scanner is an adapter of its own.
type ScanFunc func(ctx context.Context, req ScanRequest) (*ScanReport, error)

// Scan run statuses.
const (
	ScanRunning  = "running"
	ScanDone     = "done"
	ScanFailed   = "failed"
	ScanImported = "imported" // a report sent by a CLI scan
)

// Scan run triggers.
const (
	TriggerAPI      = "api"
	TriggerSchedule = "schedule"
	TriggerImport   = "import"
	TriggerWeb      = "web"
)

// ScanRun is one scan and what it did to the inventory: Hosts answered,
// New devices were created, Updated ones changed, Conflicts were opened for
// review. Error is set when Status is ScanFailed.
type ScanRun struct {
	ID         int64      `json:"id"`
	Site       string     `json:"site"`
	CIDR       string     `json:"cidr"`
	Interface  string     `json:"interface,omitempty"`
	Trigger    string     `json:"trigger"`
	Actor      string     `json:"actor"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Raw        bool       `json:"raw"`
	Scanned    int        `json:"scanned"`
	Hosts      int        `json:"hosts"`
	New        int        `json:"new"`
	Updated    int        `json:"updated"`
	Conflicts  int        `json:"conflicts"`
	Notes      []string   `json:"notes,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// ScanRunFilter selects scan runs, newest first; After is the cursor (the
// last ID of the previous page).
type ScanRunFilter struct {
	Site   string
	Status string
	After  int64
	Limit  int
}

// ObservationFilter selects observations, newest first; After is the
// cursor (the last ID of the previous page). RunID or DeviceID narrow it.
type ObservationFilter struct {
	RunID    int64
	DeviceID int64
	Outcome  string
	After    int64
	Limit    int
}

// Conflict statuses.
const (
	ConflictOpen     = "open"
	ConflictAccepted = "accepted"
	ConflictRejected = "rejected"
)

// Conflict is a value a scan proposes for a device field that differs from
// what a person entered, kept for review instead of being written. Accepting
// writes Proposed into the device (audited as a device update); rejecting
// keeps the person's value, and the scan does not propose the same value
// for that field again.
type Conflict struct {
	ID            int64          `json:"id"`
	DeviceID      int64          `json:"device_id"`
	RunID         int64          `json:"run_id"`
	ObservationID int64          `json:"observation_id"`
	Field         string         `json:"field"`
	Current       string         `json:"current"`
	Proposed      string         `json:"proposed"`
	Confidence    float64        `json:"confidence"`
	Evidence      []ScanEvidence `json:"evidence,omitempty"`
	Status        string         `json:"status"`
	CreatedAt     time.Time      `json:"created_at"`
	ResolvedBy    string         `json:"resolved_by,omitempty"`
	ResolvedAt    *time.Time     `json:"resolved_at"`
}

// ConflictFilter selects conflicts, newest first; Status "" means open
// ones. After is the cursor (the last ID of the previous page).
type ConflictFilter struct {
	Status   string
	DeviceID int64
	After    int64
	Limit    int
}

// ScanSchedule is a site's recurring scan: each subnet is scanned every
// Interval (at least MinScanInterval) with the SNMP communities given.
type ScanSchedule struct {
	Site        string     `json:"site"`
	Subnets     []string   `json:"subnets"`
	Interface   string     `json:"interface,omitempty"`
	IntervalSec int64      `json:"interval_seconds"`
	Communities []string   `json:"communities,omitempty"`
	Enabled     bool       `json:"enabled"`
	LastRunAt   *time.Time `json:"last_run_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// MinScanInterval is the shortest interval of a scheduled scan.
const MinScanInterval = 5 * time.Minute

// Interval returns IntervalSec as a duration.
func (s *ScanSchedule) Interval() time.Duration { return time.Duration(s.IntervalSec) * time.Second }

// Due reports whether the schedule should run at now.
func (s *ScanSchedule) Due(now time.Time) bool {
	if !s.Enabled || len(s.Subnets) == 0 {
		return false
	}
	return s.LastRunAt == nil || !now.Before(s.LastRunAt.Add(s.Interval()))
}

// Audit actions of discovery.
const (
	ActionConflictAccept = "conflict.accept"
	ActionConflictReject = "conflict.reject"
	ActionScheduleSet    = "scan_schedule.set"
	ActionScheduleDelete = "scan_schedule.delete"
)

// DiscoveryService keeps what scans saw: runs, observations, conflicts
// awaiting review, which device fields a scan wrote, and scan schedules.
// Device changes go through DeviceService (audited there); accepting and
// rejecting conflicts and changing schedules are audited here. Errors are
// *Error values: EINVALID, ENOTFOUND, ECONFLICT.
type DiscoveryService interface {
	// CreateScanRun stores r (Status running when empty) and sets its ID.
	CreateScanRun(ctx context.Context, r *ScanRun) error
	// FinishScanRun stores the final status, counts, notes and error of r.
	FinishScanRun(ctx context.Context, r *ScanRun) error
	// FindScanRunByID returns one run or ENOTFOUND.
	FindScanRunByID(ctx context.Context, id int64) (*ScanRun, error)
	// FindScanRuns returns one page of runs, newest first, and the next cursor.
	FindScanRuns(ctx context.Context, f ScanRunFilter) ([]*ScanRun, int64, error)

	// AddObservations stores ingested observations and sets their IDs.
	AddObservations(ctx context.Context, obs []*Observation) error
	// FindObservations returns one page of observations, newest first.
	FindObservations(ctx context.Context, f ObservationFilter) ([]*Observation, int64, error)

	// ScanValues returns, per field, the value a scan last wrote into the
	// device (fields a person has not taken over).
	ScanValues(ctx context.Context, deviceID int64) (map[string]string, error)
	// SetScanValues records the values a scan wrote into the device.
	SetScanValues(ctx context.Context, deviceID int64, values map[string]string) error

	// OpenConflict stores c unless the same device, field and proposed
	// value is already open or was rejected; it reports whether it stored
	// one. An open conflict on the same field with another value is
	// replaced (closed as rejected by the system).
	OpenConflict(ctx context.Context, c *Conflict) (bool, error)
	// FindConflictByID returns one conflict or ENOTFOUND.
	FindConflictByID(ctx context.Context, id int64) (*Conflict, error)
	// FindConflicts returns one page of conflicts, newest first.
	FindConflicts(ctx context.Context, f ConflictFilter) ([]*Conflict, int64, error)
	// ResolveConflict marks an open conflict accepted or rejected by the
	// actor of ctx, audited; ECONFLICT when it is not open.
	ResolveConflict(ctx context.Context, id int64, status string) (*Conflict, error)

	// PutScanSchedule creates or replaces a site's schedule (validated,
	// audited).
	PutScanSchedule(ctx context.Context, s *ScanSchedule) error
	// FindScanSchedules returns every schedule, by site.
	FindScanSchedules(ctx context.Context) ([]*ScanSchedule, error)
	// FindScanSchedule returns one site's schedule or ENOTFOUND.
	FindScanSchedule(ctx context.Context, site string) (*ScanSchedule, error)
	// DeleteScanSchedule removes a site's schedule (audited).
	DeleteScanSchedule(ctx context.Context, site string) error
	// MarkScheduleRun records that the site's schedule ran at t.
	MarkScheduleRun(ctx context.Context, site string, t time.Time) error
}

// Limits of scan requests and schedules.
const (
	// MinScanPrefix is the widest IPv4 prefix a scan may cover (/16).
	MinScanPrefix  = 16
	maxSubnets     = 64
	maxCommunities = 16
)

// normalizeCIDR checks one IPv4 network given as a CIDR (a bare address
// is a /32) and returns it masked.
func normalizeCIDR(v *validator, field, s string) string {
	s = strings.TrimSpace(s)
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, err2 := netip.ParseAddr(s)
		if err2 != nil {
			v.add(field, s, "must be an IPv4 network such as 192.168.1.0/24")
			return s
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	switch {
	case !p.Addr().Is4():
		v.add(field, s, "must be an IPv4 network (IPv6 networks are too large to sweep)")
	case p.Bits() < MinScanPrefix:
		v.add(field, s, fmt.Sprintf("is wider than /%d", MinScanPrefix))
	}
	return p.Masked().String()
}

func normalizeCommunities(v *validator, in []string) []string {
	if len(in) > maxCommunities {
		v.add("communities", "", fmt.Sprintf("has more than %d entries", maxCommunities))
	}
	var out []string
	for _, c := range in {
		c = v.text("communities", c, 64)
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Normalize checks a scan request: a valid IPv4 CIDR no wider than /16,
// an interface name, a site, sane options. EINVALID names each bad field.
func (r *ScanRequest) Normalize() error {
	v := &validator{}
	if strings.TrimSpace(r.CIDR) == "" {
		v.add("cidr", "", "is required")
	} else {
		r.CIDR = normalizeCIDR(v, "cidr", r.CIDR)
	}
	r.Interface = v.text("interface", r.Interface, 15)
	if strings.ContainsAny(r.Interface, "/ \t") {
		v.add("interface", r.Interface, "is not an interface name")
	}
	r.Site = v.text("site", r.Site, 200)
	r.Options.Communities = normalizeCommunities(v, r.Options.Communities)
	if r.Options.TimeoutMS < 0 || r.Options.TimeoutMS > 60_000 {
		v.add("options.timeout_ms", strconv.Itoa(r.Options.TimeoutMS), "must be between 0 and 60000")
	}
	if r.Options.Rate < 0 || r.Options.Rate > 100_000 {
		v.add("options.rate", strconv.Itoa(r.Options.Rate), "must be between 0 and 100000")
	}
	return v.err("invalid scan request")
}

// Normalize checks a schedule: a site, one to 64 subnets (IPv4, no wider
// than /16), an interval of at least MinScanInterval and at most 30 days,
// up to 16 SNMP communities. EINVALID names each bad field.
func (s *ScanSchedule) Normalize() error {
	v := &validator{}
	s.Site = v.text("site", s.Site, 200)
	if s.Site == "" {
		v.add("site", "", "is required")
	}
	if len(s.Subnets) == 0 {
		v.add("subnets", "", "needs at least one network")
	}
	if len(s.Subnets) > maxSubnets {
		v.add("subnets", "", fmt.Sprintf("has more than %d networks", maxSubnets))
	}
	var subnets []string
	for _, n := range s.Subnets {
		n = normalizeCIDR(v, "subnets", n)
		if !slices.Contains(subnets, n) {
			subnets = append(subnets, n)
		}
	}
	s.Subnets = subnets
	s.Interface = v.text("interface", s.Interface, 15)
	if strings.ContainsAny(s.Interface, "/ \t") {
		v.add("interface", s.Interface, "is not an interface name")
	}
	if s.Interval() < MinScanInterval || s.Interval() > 30*24*time.Hour {
		v.add("interval_seconds", strconv.FormatInt(s.IntervalSec, 10),
			fmt.Sprintf("must be between %d (%s) and 2592000 (30 days)", int64(MinScanInterval/time.Second), MinScanInterval))
	}
	s.Communities = normalizeCommunities(v, s.Communities)
	return v.err("invalid scan schedule")
}
