package assess

import (
	"context"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/risk"
)

// RunBatch is how many devices Run assesses at once: one batch of devices
// and their results is what Run holds besides the Index.
const RunBatch = 5000

// Sources are the services Run reads from and writes to.
type Sources struct {
	Vulns    firmward.VulnerabilityService
	Devices  firmward.DeviceService
	Findings firmward.FindingService
	// Changes is the store's change log of CVEs, which Engine.CatchUp
	// follows; nil when nothing else writes to the store (Run needs none).
	Changes ChangeLog
}

// ChangeLog is the change log of stored CVEs (sqlstore's
// VulnerabilityService has it): the CVEs that feed imports changed after
// seq after, at most limit of them (none with limit 0), and the newest seq.
type ChangeLog interface {
	VulnerabilityChanges(ctx context.Context, after int64, limit int) (*firmward.VulnerabilityChanges, error)
}

// RunOptions configure Run. Now gives the time findings count from;
// time.Now when nil.
type RunOptions struct {
	Policy risk.Policy
	Now    func() time.Time
}

// RunResult says what one Run did: the CVEs indexed, the devices assessed
// and how many of them match at least one CVE, and the sums of the
// FindingSyncResults of every device.
type RunResult struct {
	CVEs                int           `json:"cves"`
	Devices             int           `json:"devices"`
	DevicesWithFindings int           `json:"devices_with_findings"`
	Opened              int           `json:"opened"`
	Updated             int           `json:"updated"`
	Fixed               int           `json:"fixed"`
	Reopened            int           `json:"reopened"`
	Duration            time.Duration `json:"duration_ns"`
}

// add adds the counts of a store sync to r.
func (r *RunResult) add(sr *firmward.FindingSyncResult) {
	r.Devices += sr.Devices
	r.Opened += sr.Opened
	r.Updated += sr.Updated
	r.Fixed += sr.Fixed
	r.Reopened += sr.Reopened
}

// Run assesses every device against every stored vulnerability and stores
// the findings: it reads all records into a new Index (page by page,
// firmward.MaxPageSize at a time), reads the devices in batches of
// RunBatch, assesses each batch with Assessor.Devices and stores the
// findings of SyncBatch devices at a time with Findings.SyncFindings,
// every device, those without findings too, so that findings that no
// longer match become fixed. Devices deleted between reading and syncing
// are skipped.
//
// Run is Full on a new Engine that is then dropped: a server keeps an
// Engine to redo only what changes. It stops at the first error and
// returns it wrapped, with ctx's error when ctx ends; the devices synced
// before stay synced.
func Run(ctx context.Context, src Sources, opts RunOptions) (*RunResult, error) {
	return NewEngine(src, opts, nil).Full(ctx)
}
