package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/firmward/firmward"
)

// FirmwareDates tells when firmware was released. The release catalog will
// implement it; until then Sources.Firmware is nil and firmward estimates
// from the CVE data it has (see NewestKnown).
type FirmwareDates interface {
	// NewestFirmware returns the newest firmware known for a model and its
	// release date; ok is false when none is known.
	NewestFirmware(ctx context.Context, manufacturer, model string) (version string, released time.Time, ok bool, err error)
	// FirmwareReleased returns when a firmware version of a model was
	// released; ok is false when unknown.
	FirmwareReleased(ctx context.Context, manufacturer, model, version string) (released time.Time, ok bool, err error)
}

// Sources are the services Load reads.
type Sources struct {
	Devices  firmward.DeviceService
	Findings firmward.FindingService
	Vulns    firmward.VulnerabilityService
	EOL      firmward.EOLService
	Checks   firmward.CheckService
	Firmware FirmwareDates // nil: no release dates known
}

// Fleet is everything the lifecycle views are computed from, read at one
// time. It caches derived values on first use and is not safe for
// concurrent use: each request loads its own.
type Fleet struct {
	Devices   []*firmward.Device
	Findings  map[int64][]*firmward.Finding // by device, every status
	Published map[string]time.Time          // CVE → publication date
	EOL       []*firmward.EOLEntry
	OpenFW    []*firmward.OpenFirmwareModel
	Values    map[int64]*firmward.OperationalValueAnswer
	Cadences  []firmward.CheckCadence
	LastCheck map[int64]*firmward.HealthCheck
	// newest caches the catalog's answers by model.
	newest map[string]*NewestFirmware
	fixRel map[string]time.Time
	// estimates holds NewestKnown's estimate per model, built on first
	// use (one pass over the findings instead of one per device).
	estimates map[string]*NewestFirmware
}

// maxLoadDevices bounds the devices Load reads (a safety net, far above
// any real fleet).
const maxLoadDevices = 1_000_000

// Load reads the fleet: every device, every finding, the publication dates
// of their CVEs, the EOL table, the open-firmware list, the owners'
// answers, the cadences and the last checks. Services left nil in src
// contribute nothing.
func Load(ctx context.Context, src Sources) (*Fleet, error) {
	fl := &Fleet{Findings: map[int64][]*firmward.Finding{}, Published: map[string]time.Time{}, newest: map[string]*NewestFirmware{}, fixRel: map[string]time.Time{}}
	var after int64
	for {
		page, next, err := src.Devices.FindDevices(ctx, firmward.DeviceFilter{After: after, Limit: firmward.MaxPageSize})
		if err != nil {
			return nil, fmt.Errorf("reading devices: %w", err)
		}
		fl.Devices = append(fl.Devices, page...)
		if next == 0 || len(fl.Devices) >= maxLoadDevices {
			break
		}
		after = next
	}
	if src.Findings != nil {
		cursor := ""
		cves := map[string]bool{}
		for {
			page, next, err := src.Findings.FindFindings(ctx, firmward.FindingFilter{Statuses: firmward.FindingStatuses, After: cursor, Limit: firmward.MaxPageSize})
			if err != nil {
				return nil, fmt.Errorf("reading findings: %w", err)
			}
			for _, f := range page {
				fl.Findings[f.DeviceID] = append(fl.Findings[f.DeviceID], f)
				cves[f.CVE] = true
			}
			if next == "" || len(page) == 0 {
				break
			}
			cursor = next
		}
		if src.Vulns != nil && len(cves) > 0 {
			if err := fl.loadPublished(ctx, src.Vulns, cves); err != nil {
				return nil, err
			}
		}
	}
	if src.EOL != nil {
		var err error
		if fl.EOL, err = src.EOL.FindEOL(ctx); err != nil {
			return nil, fmt.Errorf("reading end-of-support dates: %w", err)
		}
		if fl.OpenFW, err = OpenFirmware(ctx, src.EOL); err != nil {
			return nil, fmt.Errorf("reading the open-firmware list: %w", err)
		}
		if fl.Values, err = src.EOL.FindOperationalValues(ctx); err != nil {
			return nil, fmt.Errorf("reading operational values: %w", err)
		}
	}
	if src.Checks != nil {
		var err error
		if fl.Cadences, err = src.Checks.FindCheckCadences(ctx); err != nil {
			return nil, fmt.Errorf("reading check cadences: %w", err)
		}
		if fl.LastCheck, err = src.Checks.LastHealthChecks(ctx); err != nil {
			return nil, fmt.Errorf("reading health checks: %w", err)
		}
	}
	if src.Firmware != nil {
		if err := fl.loadFirmwareDates(ctx, src.Firmware); err != nil {
			return nil, err
		}
	}
	return fl, nil
}

// loadPublished reads the publication date of every CVE, 1000 at a time.
func (fl *Fleet) loadPublished(ctx context.Context, vulns firmward.VulnerabilityService, cves map[string]bool) error {
	ids := make([]string, 0, len(cves))
	for c := range cves {
		ids = append(ids, c)
	}
	for len(ids) > 0 {
		n := min(len(ids), firmward.MaxPageSize)
		batch := ids[:n]
		ids = ids[n:]
		cursor := ""
		for {
			recs, next, err := vulns.FindVulnerabilities(ctx, firmward.VulnerabilityFilter{IDs: batch, After: cursor, Limit: firmward.MaxPageSize})
			if err != nil {
				return fmt.Errorf("reading CVE dates: %w", err)
			}
			for _, r := range recs {
				if !r.Published.IsZero() {
					fl.Published[r.ID] = r.Published.UTC()
				}
			}
			if next == "" || len(recs) == 0 {
				break
			}
			cursor = next
		}
	}
	return nil
}

// loadFirmwareDates asks the catalog for the newest firmware of every
// model and the release of every fixed_in version.
func (fl *Fleet) loadFirmwareDates(ctx context.Context, fd FirmwareDates) error {
	for _, d := range fl.Devices {
		k := modelKey(d)
		if _, done := fl.newest[k]; !done {
			v, rel, ok, err := fd.NewestFirmware(ctx, d.Manufacturer, d.Model)
			if err != nil {
				return fmt.Errorf("reading the newest firmware of %s %s: %w", d.Manufacturer, d.Model, err)
			}
			var nf *NewestFirmware
			if ok {
				nf = &NewestFirmware{Date: rel.UTC(), Version: v, From: "release catalog: " + v}
			}
			fl.newest[k] = nf
		}
		for _, f := range fl.Findings[d.ID] {
			if f.FixedIn == "" {
				continue
			}
			fk := k + "\x00" + f.FixedIn
			if _, done := fl.fixRel[fk]; done {
				continue
			}
			rel, ok, err := fd.FirmwareReleased(ctx, d.Manufacturer, d.Model, f.FixedIn)
			if err != nil {
				return fmt.Errorf("reading the release of %s %s %s: %w", d.Manufacturer, d.Model, f.FixedIn, err)
			}
			if ok {
				fl.fixRel[fk] = rel.UTC()
			}
		}
	}
	return nil
}

func modelKey(d *firmward.Device) string {
	return normName(d.Manufacturer) + "\x00" + normName(d.Model)
}

// NewestKnown returns the newest firmware firmward knows for d's model:
// the release catalog's answer when there is one, else an estimate from
// the CVEs of the model's findings that have a fixed version: a fixed
// firmware exists, released around the CVE's publication or later, so the
// newest such publication is a lower bound on the newest firmware. Nil
// when nothing is known.
func (fl *Fleet) NewestKnown(d *firmward.Device) *NewestFirmware {
	k := modelKey(d)
	if nf := fl.newest[k]; nf != nil {
		return nf
	}
	if fl.estimates == nil {
		fl.buildEstimates()
	}
	return fl.estimates[k]
}

// buildEstimates computes, per model, the newest publication among the
// CVEs of its devices' findings that have a fixed version.
func (fl *Fleet) buildEstimates() {
	fl.estimates = map[string]*NewestFirmware{}
	for _, d := range fl.Devices {
		var k string
		for _, f := range fl.Findings[d.ID] {
			if f.FixedIn == "" {
				continue
			}
			pub, ok := fl.Published[f.CVE]
			if !ok {
				continue
			}
			if k == "" {
				k = modelKey(d)
			}
			if best := fl.estimates[k]; best == nil || pub.After(best.Date) {
				fl.estimates[k] = &NewestFirmware{
					Date: pub, Version: f.FixedIn, Estimated: true,
					From: fmt.Sprintf("%s is fixed in %s; the CVE was published %s", f.CVE, f.FixedIn, pub.Format(firmward.DateLayout)),
				}
			}
		}
	}
}

// Facts gathers what Assess reads for d.
func (fl *Fleet) Facts(d *firmward.Device) DeviceFacts {
	return DeviceFacts{
		Device:   d,
		Findings: fl.Findings[d.ID],
		EOL:      MatchEOL(fl.EOL, d),
		Newest:   fl.NewestKnown(d),
		Value:    fl.Values[d.ID],
		OpenFW:   MatchOpenFirmware(fl.OpenFW, d),
	}
}

// Assessments assesses every device at now; with orphanedOnly, only the
// orphaned ones (and those whose support ends soon). Highest risk first.
func (fl *Fleet) Assessments(p Policy, now time.Time, orphanedOnly bool) []Assessment {
	var out []Assessment
	for _, d := range fl.Devices {
		a := Assess(fl.Facts(d), p, now)
		if orphanedOnly && !a.Orphaned && !a.EOLSoon {
			continue
		}
		out = append(out, a)
	}
	SortAssessments(out)
	return out
}

// Device returns the device with id, or nil.
func (fl *Fleet) Device(id int64) *firmward.Device {
	for _, d := range fl.Devices {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// CheckStatuses computes every device's check status at now.
func (fl *Fleet) CheckStatuses(now time.Time) []CheckStatus {
	return Statuses(fl.Cadences, fl.Devices, fl.LastCheck, now)
}

// VendorRecords computes the vendor records (see VendorRecords).
func (fl *Fleet) VendorRecords(category firmward.Category) []VendorRecord {
	return VendorRecords(VendorInput{
		Devices: fl.Devices, Findings: fl.Findings, Published: fl.Published, EOL: fl.EOL,
		FixReleased: func(d *firmward.Device, f *firmward.Finding) (time.Time, bool) {
			t, ok := fl.fixRel[modelKey(d)+"\x00"+f.FixedIn]
			return t, ok
		},
	}, category)
}
