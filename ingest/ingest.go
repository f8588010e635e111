// Package ingest brings what network scans see into the inventory.
//
// An Ingester takes a scan report (one firmward.Observation per host) and,
// for each host, finds the device it is (by MAC, then serial, then IP and
// manufacturer), creates a device with source "scan" and raises a
// "device.new" alert when there is none, or updates the known one: last
// seen, addresses and the fields the scan observed. Every device change goes
// through DeviceService.UpdateDevice, so it is audited and (with the
// server's assess.WatchDevices wrapper) re-matched against the CVEs.
//
// A scan never silently overwrites a value a person entered. The rule:
//   - a field that is empty (for category: "other", the default nobody
//     has to choose), or still holds the value a scan last wrote
//     (DiscoveryService.ScanValues), takes the observed value when the
//     confidence is at least Options.MinConfidence;
//   - a field a person set (any other non-empty value) is overwritten only
//     when it is firmware_version and the confidence is at least
//     Options.FirmwareConfidence: firmware changes by itself when a device
//     updates, and a confident reading is better than a stale entry;
//   - everything else becomes a firmward.Conflict for review. Accepting one
//     writes the proposed value (audited); rejecting it keeps the person's
//     value and the scan does not propose that value again.
//
// A Runner runs scans in the background (the scanner is injected as a
// firmward.ScanFunc) and a Scheduler starts each site's scheduled scans.
// The package is pure: it imports the root package and the standard
// library only.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Defaults of Options.
const (
	DefaultMinConfidence      = 0.5
	DefaultFirmwareConfidence = 0.9
	// DefaultSeenInterval is how stale last_seen may get before a scan
	// that changes nothing else moves it (each move is an audited update).
	DefaultSeenInterval = time.Hour
	// maxIPs is how many addresses a scan keeps on a device: the newest
	// first, the oldest dropped.
	maxIPs = 8
)

// Services are what an Ingester reads and writes. Devices should be the
// server's watched DeviceService, so that changes are re-matched.
type Services struct {
	Devices   firmward.DeviceService
	Discovery firmward.DiscoveryService
	Alerts    firmward.AlertService
}

// Options tune an Ingester; zero values take the defaults.
type Options struct {
	MinConfidence      float64
	FirmwareConfidence float64
	SeenInterval       time.Duration
	Logger             *slog.Logger
}

// Ingester applies scan reports to the inventory.
type Ingester struct {
	svc  Services
	opts Options
	log  *slog.Logger
}

// New returns an Ingester over svc.
func New(svc Services, opts Options) *Ingester {
	if opts.MinConfidence <= 0 {
		opts.MinConfidence = DefaultMinConfidence
	}
	if opts.FirmwareConfidence <= 0 {
		opts.FirmwareConfidence = DefaultFirmwareConfidence
	}
	if opts.SeenInterval <= 0 {
		opts.SeenInterval = DefaultSeenInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ingester{svc: svc, opts: opts, log: log}
}

// Discovery returns the discovery store the Ingester writes to.
func (in *Ingester) Discovery() firmward.DiscoveryService { return in.svc.Discovery }

// Ingest applies every host of rep to the inventory as part of run (a
// stored run), stores one observation per host and sets run's counts. A
// host that cannot be applied is recorded with outcome "failed" and the
// reason; Ingest fails only when the store does (or ctx ends).
func (in *Ingester) Ingest(ctx context.Context, run *firmward.ScanRun, rep *firmward.ScanReport) error {
	run.Hosts, run.New, run.Updated, run.Conflicts = 0, 0, 0, 0
	run.Raw, run.Scanned = rep.Raw, rep.Scanned
	if rep.Interface != "" {
		run.Interface = rep.Interface
	}
	run.Notes = append(run.Notes, rep.Notes...)
	for i := range rep.Hosts {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ingesting scan %d: %w", run.ID, err)
		}
		o := rep.Hosts[i]
		o.RunID, o.Source = run.ID, firmward.ObservationScan
		if o.Time.IsZero() {
			o.Time = rep.FinishedAt
		}
		if o.Time.IsZero() {
			o.Time = run.StartedAt
		}
		conflicts, err := in.apply(ctx, run, &o)
		if err != nil {
			if isStoreError(err) {
				return err
			}
			o.Outcome, o.Notes = firmward.OutcomeFailed, append(o.Notes, err.Error())
			in.log.Warn("scan host not ingested", "run", run.ID, "ip", o.IP, "err", err)
		}
		if err := in.svc.Discovery.AddObservations(ctx, []*firmward.Observation{&o}); err != nil {
			return fmt.Errorf("storing the observation of %s: %w", o.IP, err)
		}
		opened := 0
		for _, c := range conflicts {
			c.ObservationID = o.ID
			created, err := in.svc.Discovery.OpenConflict(ctx, c)
			if err != nil {
				return fmt.Errorf("storing a conflict on device %d: %w", c.DeviceID, err)
			}
			if created {
				opened++
			}
		}
		run.Hosts++
		switch o.Outcome {
		case firmward.OutcomeNew:
			run.New++
		case firmward.OutcomeUpdated:
			run.Updated++
		}
		run.Conflicts += opened
	}
	return nil
}

// isStoreError tells a failure of the stores (give up) from a problem of
// one host's data (record it and go on).
func isStoreError(err error) bool {
	switch firmward.ErrorCode(err) {
	case firmward.EINVALID, firmward.ECONFLICT, firmward.ENOTFOUND:
		return false
	}
	return true
}

// apply matches o to a device and creates or updates it; it sets o's
// DeviceID, Outcome and Notes and returns the conflicts to open.
func (in *Ingester) apply(ctx context.Context, run *firmward.ScanRun, o *firmward.Observation) ([]*firmward.Conflict, error) {
	if mac, err := firmward.NormalizeMAC(o.MAC); err == nil {
		o.MAC = mac
	} else {
		o.MAC = ""
	}
	ip, err := netip.ParseAddr(o.IP)
	if err != nil {
		return nil, firmward.Errorf(firmward.EINVALID, "host address %q is not an IP address", o.IP)
	}
	if p, err := netip.ParsePrefix(run.CIDR); err == nil && !p.Contains(ip.Unmap()) {
		return nil, firmward.Errorf(firmward.EINVALID, "host %s is outside the scanned network %s", o.IP, run.CIDR)
	}
	o.IP = ip.Unmap().String()
	d, how, err := in.match(ctx, o)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, in.create(ctx, run, o)
	}
	o.DeviceID = d.ID
	o.Notes = append(o.Notes, "matched device "+strconv.FormatInt(d.ID, 10)+" by "+how)
	return in.update(ctx, run, d, o)
}

// match finds the device of o: by MAC, then serial, then IP and
// manufacturer; a host seen without MAC and manufacturer matches a device
// at its IP that has neither. It returns the device and how it matched, or
// nil.
func (in *Ingester) match(ctx context.Context, o *firmward.Observation) (*firmward.Device, string, error) {
	if o.MAC != "" {
		d, err := in.find(ctx, firmward.DeviceFilter{Query: o.MAC}, func(d *firmward.Device) bool { return slices.Contains(d.MACs, o.MAC) })
		if d != nil || err != nil {
			return d, "MAC " + o.MAC, err
		}
	}
	if serial := o.Value(firmward.FieldSerial); serial != "" {
		d, err := in.find(ctx, firmward.DeviceFilter{Query: serial}, func(d *firmward.Device) bool { return strings.EqualFold(d.Serial, serial) })
		if d != nil || err != nil {
			return d, "serial " + serial, err
		}
	}
	if m := o.Value(firmward.FieldManufacturer); m != "" {
		d, err := in.find(ctx, firmward.DeviceFilter{Query: o.IP, Manufacturer: m}, func(d *firmward.Device) bool { return slices.Contains(d.IPs, o.IP) })
		if d != nil || err != nil {
			return d, "IP " + o.IP + " and manufacturer " + m, err
		}
	} else if o.MAC == "" {
		// Seen across a router (no MAC) and not identified: the device at
		// this address that is just as anonymous, lest every scan add a
		// copy of it.
		d, err := in.find(ctx, firmward.DeviceFilter{Query: o.IP}, func(d *firmward.Device) bool {
			return slices.Contains(d.IPs, o.IP) && d.Manufacturer == "" && len(d.MACs) == 0
		})
		if d != nil || err != nil {
			return d, "IP " + o.IP + " (no MAC or manufacturer seen)", err
		}
	}
	return nil, "", nil
}

// maxMatchPages bounds the pages read while looking for one device; the
// searches are narrow (a full MAC, serial or address).
const maxMatchPages = 5

// find returns the first device of f for which ok holds (lowest ID).
func (in *Ingester) find(ctx context.Context, f firmward.DeviceFilter, ok func(*firmward.Device) bool) (*firmward.Device, error) {
	f.Limit = firmward.MaxPageSize
	for range maxMatchPages {
		list, next, err := in.svc.Devices.FindDevices(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("looking for the device: %w", err)
		}
		for _, d := range list {
			if ok(d) {
				return d, nil
			}
		}
		if next == 0 {
			return nil, nil
		}
		f.After = next
	}
	return nil, nil
}

// observed returns the value of field if it is confident enough to write
// into the inventory, cut to the field's length limit; "" when not.
func (in *Ingester) observed(o *firmward.Observation, field string) (*firmward.ObservedField, string) {
	f := o.Field(field)
	if f == nil || f.Confidence < in.opts.MinConfidence {
		return f, ""
	}
	v := strings.TrimSpace(f.Value)
	if len(v) > firmward.MaxTextLen {
		v = strings.ToValidUTF8(v[:firmward.MaxTextLen], "")
	}
	if field == firmward.FieldCategory && !slices.Contains(firmward.Categories, firmward.Category(v)) {
		return f, ""
	}
	return f, v
}

// create adds o as a new device with source scan and raises device.new.
func (in *Ingester) create(ctx context.Context, run *firmward.ScanRun, o *firmward.Observation) error {
	t := o.Time.UTC()
	d := &firmward.Device{Site: run.Site, Source: firmward.SourceScan, FirstSeen: &t, LastSeen: &t, IPs: []string{o.IP}}
	if o.MAC != "" {
		d.MACs = []string{o.MAC}
	}
	written := map[string]string{}
	for _, field := range firmward.ObservedFields {
		if _, v := in.observed(o, field); v != "" {
			setField(d, field, v)
			written[field] = v
		}
	}
	d.Name = deviceName(o, d)
	if err := in.svc.Devices.CreateDevice(ctx, d); err != nil {
		return fmt.Errorf("creating a device for %s: %w", o.IP, err)
	}
	o.DeviceID, o.Outcome = d.ID, firmward.OutcomeNew
	o.Notes = append(o.Notes, "created device "+strconv.FormatInt(d.ID, 10))
	if err := in.svc.Discovery.SetScanValues(ctx, d.ID, written); err != nil {
		return err
	}
	a := &firmward.Alert{
		Kind:     firmward.AlertDeviceNew,
		Severity: firmward.SeverityInfo,
		Subject:  "New device seen: " + d.Name,
		DeviceID: d.ID,
		Site:     run.Site,
		Details: map[string]string{
			"ip": o.IP, "mac": o.MAC, "mac_vendor": o.MACVendor, "manufacturer": d.Manufacturer, "model": d.Model,
			"firmware_version": d.FirmwareVersion, "category": string(d.Category),
			"scan_run": strconv.FormatInt(run.ID, 10), "cidr": run.CIDR,
		},
	}
	for k, v := range a.Details {
		if v == "" {
			delete(a.Details, k)
		}
	}
	if len(o.Hints) > 0 {
		a.Severity = firmward.SeverityMedium
		a.Details["hints"] = strings.Join(o.Hints, "\n")
	}
	if _, err := in.svc.Alerts.RaiseAlert(ctx, a); err != nil {
		return fmt.Errorf("raising the new-device alert of device %d: %w", d.ID, err)
	}
	return nil
}

// deviceName names a new device: its host name, else maker and model,
// else what it is, with its address.
func deviceName(o *firmward.Observation, d *firmward.Device) string {
	name := strings.TrimSuffix(strings.TrimSpace(o.Hostname), ".local")
	if name == "" {
		name = strings.TrimSpace(d.Manufacturer + " " + d.Model)
		if name == "" {
			name = "Device"
		}
		name += " at " + o.IP
	}
	if len(name) > firmward.MaxNameLen {
		name = strings.ToValidUTF8(name[:firmward.MaxNameLen], "")
	}
	return name
}

// update applies o to the known device d and returns the conflicts to open.
func (in *Ingester) update(ctx context.Context, run *firmward.ScanRun, d *firmward.Device, o *firmward.Observation) ([]*firmward.Conflict, error) {
	scanned, err := in.svc.Discovery.ScanValues(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	var u firmward.DeviceUpdate
	var conflicts []*firmward.Conflict
	written := map[string]string{}
	changed := false
	for _, field := range firmward.ObservedFields {
		f, v := in.observed(o, field)
		if v == "" {
			if f != nil {
				o.Notes = append(o.Notes, fmt.Sprintf("%s %q not written: confidence %.2f is below %.2f or not a known value", field, f.Value, f.Confidence, in.opts.MinConfidence))
			}
			continue
		}
		cur := getField(d, field)
		switch {
		case cur == v || strings.EqualFold(cur, v) && field != firmward.FieldFirmwareVersion:
			// Already so; a person's value confirmed by the scan stays theirs.
		case unset(field, cur) || scanned[field] == cur:
			setUpdate(&u, field, v)
			written[field], changed = v, true
			o.Notes = append(o.Notes, fmt.Sprintf("%s: %q → %q", field, cur, v))
		case field == firmward.FieldFirmwareVersion && f.Confidence >= in.opts.FirmwareConfidence:
			setUpdate(&u, field, v)
			written[field], changed = v, true
			o.Notes = append(o.Notes, fmt.Sprintf("%s: %q → %q (confidence %.2f, firmware changes by itself)", field, cur, v, f.Confidence))
		default:
			conflicts = append(conflicts, &firmward.Conflict{
				DeviceID: d.ID, RunID: run.ID, Field: field, Current: cur, Proposed: v,
				Confidence: f.Confidence, Evidence: f.Evidence,
			})
			o.Notes = append(o.Notes, fmt.Sprintf("%s: %q kept, scan proposes %q for review", field, cur, v))
		}
	}
	if !slices.Contains(d.IPs, o.IP) {
		ips := append([]string{o.IP}, d.IPs...)
		if len(ips) > maxIPs && d.Source == firmward.SourceScan {
			ips = ips[:maxIPs]
		}
		if len(ips) > firmward.MaxAddrs {
			ips = ips[:firmward.MaxAddrs]
		}
		u.IPs, changed = &ips, true
		o.Notes = append(o.Notes, "address "+o.IP+" added")
	}
	if o.MAC != "" && !slices.Contains(d.MACs, o.MAC) && len(d.MACs) < firmward.MaxAddrs {
		macs := append(slices.Clone(d.MACs), o.MAC)
		u.MACs, changed = &macs, true
		o.Notes = append(o.Notes, "MAC "+o.MAC+" added")
	}
	t := o.Time.UTC()
	if changed || d.LastSeen == nil || t.Sub(*d.LastSeen) >= in.opts.SeenInterval {
		if d.LastSeen == nil || t.After(*d.LastSeen) {
			u.LastSeen = &t
		}
		if d.FirstSeen == nil || t.Before(*d.FirstSeen) {
			u.FirstSeen = &t
		}
	}
	o.Outcome = firmward.OutcomeUnchanged
	if changed {
		o.Outcome = firmward.OutcomeUpdated
	}
	if len(conflicts) > 0 {
		o.Outcome = firmward.OutcomeConflict
	}
	if u == (firmward.DeviceUpdate{}) {
		return conflicts, nil
	}
	if _, err := in.svc.Devices.UpdateDevice(ctx, d.ID, u); err != nil {
		return nil, fmt.Errorf("updating device %d: %w", d.ID, err)
	}
	if err := in.svc.Discovery.SetScanValues(ctx, d.ID, written); err != nil {
		return nil, err
	}
	return conflicts, nil
}

// ResolveConflict accepts or rejects an open conflict. Accepting writes
// the proposed value into the device through UpdateDevice (audited as
// device.update, re-matched) and records it as the scan's value, so later
// scans keep it current; both are audited as conflict.accept or
// conflict.reject with the actor of ctx. ENOTFOUND, ECONFLICT when the
// conflict is not open.
func (in *Ingester) ResolveConflict(ctx context.Context, id int64, accept bool) (*firmward.Conflict, error) {
	c, err := in.svc.Discovery.FindConflictByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != firmward.ConflictOpen {
		return nil, firmward.Errorf(firmward.ECONFLICT, "conflict %d is already %s", id, c.Status)
	}
	if !accept {
		return in.svc.Discovery.ResolveConflict(ctx, id, firmward.ConflictRejected)
	}
	var u firmward.DeviceUpdate
	if !setUpdate(&u, c.Field, c.Proposed) {
		return nil, firmward.Errorf(firmward.EINVALID, "conflict %d is about field %q, which a scan does not write", id, c.Field)
	}
	if _, err := in.svc.Devices.UpdateDevice(ctx, c.DeviceID, u); err != nil {
		return nil, fmt.Errorf("accepting conflict %d: %w", id, err)
	}
	if err := in.svc.Discovery.SetScanValues(ctx, c.DeviceID, map[string]string{c.Field: c.Proposed}); err != nil {
		return nil, err
	}
	return in.svc.Discovery.ResolveConflict(ctx, id, firmward.ConflictAccepted)
}

// unset reports whether a field holds no one's choice: empty, or the
// default category.
func unset(field, v string) bool {
	return v == "" || field == firmward.FieldCategory && v == string(firmward.CategoryOther)
}

func getField(d *firmward.Device, field string) string {
	switch field {
	case firmward.FieldManufacturer:
		return d.Manufacturer
	case firmward.FieldModel:
		return d.Model
	case firmward.FieldFirmwareVersion:
		return d.FirmwareVersion
	case firmward.FieldCategory:
		return string(d.Category)
	case firmward.FieldSerial:
		return d.Serial
	}
	return ""
}

func setField(d *firmward.Device, field, v string) {
	switch field {
	case firmward.FieldManufacturer:
		d.Manufacturer = v
	case firmward.FieldModel:
		d.Model = v
	case firmward.FieldFirmwareVersion:
		d.FirmwareVersion = v
	case firmward.FieldCategory:
		d.Category = firmward.Category(v)
	case firmward.FieldSerial:
		d.Serial = v
	}
}

// setUpdate sets field in u; false for a field scans do not write.
func setUpdate(u *firmward.DeviceUpdate, field, v string) bool {
	switch field {
	case firmward.FieldManufacturer:
		u.Manufacturer = &v
	case firmward.FieldModel:
		u.Model = &v
	case firmward.FieldFirmwareVersion:
		u.FirmwareVersion = &v
	case firmward.FieldCategory:
		c := firmward.Category(v)
		u.Category = &c
	case firmward.FieldSerial:
		u.Serial = &v
	default:
		return false
	}
	return true
}

// errNoScanner is returned by Runner.Start when no scanner was wired in.
var errNoScanner = errors.New("this server was started without a network scanner")
