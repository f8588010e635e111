package assess

import (
	"context"
	"fmt"
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

// Run assesses every device against every stored vulnerability and stores
// the findings: it reads all records into a new Index (page by page,
// firmward.MaxPageSize at a time), reads the devices in batches of
// RunBatch, assesses each batch with Assessor.Devices and calls
// Findings.SyncDeviceFindings for every device, those without findings
// too, so that findings that no longer match become fixed.
//
// Run is synchronous and full: it redoes every device, not only those a
// change touched. It stops at the first error (a device deleted between
// reading and syncing is skipped) and returns it wrapped, with ctx's
// error when ctx ends; the devices synced before stay synced.
func Run(ctx context.Context, src Sources, opts RunOptions) (*RunResult, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	x := NewIndex()
	var res RunResult
	// Only CVEs with a source record can match: KEV- and EPSS-only entries
	// still reach findings, merged into the records that have them.
	f := firmward.VulnerabilityFilter{Described: true, Limit: firmward.MaxPageSize}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading vulnerabilities: %w", err)
		}
		recs, next, err := src.Vulns.FindVulnerabilities(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reading vulnerabilities: %w", err)
		}
		for _, r := range recs {
			x.Add(r)
		}
		res.CVEs += len(recs)
		if next == "" || len(recs) == 0 {
			break
		}
		f.After = next
	}

	a := &Assessor{Index: x, Policy: opts.Policy, Now: now}
	df := firmward.DeviceFilter{Limit: firmward.MaxPageSize}
	batch := make([]firmward.Device, 0, RunBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		results := a.Devices(batch)
		for i := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			found := results[i].Findings
			sr, err := src.Findings.SyncDeviceFindings(ctx, batch[i].ID, found)
			if firmward.ErrorCode(err) == firmward.ENOTFOUND {
				continue // deleted since it was read
			}
			if err != nil {
				return fmt.Errorf("storing the findings of device %d: %w", batch[i].ID, err)
			}
			res.Devices++
			if len(found) > 0 {
				res.DevicesWithFindings++
			}
			res.Opened += sr.Opened
			res.Updated += sr.Updated
			res.Fixed += sr.Fixed
			res.Reopened += sr.Reopened
		}
		batch = batch[:0]
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading devices: %w", err)
		}
		ds, next, err := src.Devices.FindDevices(ctx, df)
		if err != nil {
			return nil, fmt.Errorf("reading devices: %w", err)
		}
		for _, d := range ds {
			batch = append(batch, *d)
			if len(batch) == RunBatch {
				if err := flush(); err != nil {
					return nil, fmt.Errorf("assessing devices: %w", err)
				}
			}
		}
		if next == 0 || len(ds) == 0 {
			break
		}
		df.After = next
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("assessing devices: %w", err)
	}
	res.Duration = now().Sub(start)
	return &res, nil
}
