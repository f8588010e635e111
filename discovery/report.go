package discovery

import (
	"context"
	"time"

	"github.com/firmward/firmward"
)

// Report turns a scan result into the inventory's terms: one
// firmward.Observation per host, with each fact of the fingerprint as an
// observed field (value, confidence, evidence) and the hints as text.
func (r *Result) Report() *firmward.ScanReport {
	rep := &firmward.ScanReport{
		CIDR: r.CIDR, Interface: r.Interface, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Raw: r.Raw, Scanned: r.Scanned, Notes: append([]string(nil), r.Notes...),
		Hosts: make([]firmward.Observation, 0, len(r.Hosts)),
	}
	for i := range r.Hosts {
		rep.Hosts = append(rep.Hosts, r.Hosts[i].Observation())
	}
	return rep
}

// Observation returns what was seen of h as a firmward.Observation (not yet
// ingested: no run, device or outcome).
func (h *Host) Observation() firmward.Observation {
	o := firmward.Observation{
		Time: h.ObservedAt, Source: firmward.ObservationScan, IP: h.IP, MAC: h.MAC, MACVendor: h.MACVendor, Hostname: h.Hostname,
	}
	for _, p := range h.Ports {
		o.Ports = append(o.Ports, p.Port)
	}
	f := h.Fingerprint
	for _, x := range []struct {
		name string
		fact Fact
	}{
		{firmward.FieldManufacturer, f.Manufacturer},
		{firmward.FieldModel, f.Model},
		{firmward.FieldFirmwareVersion, f.Firmware},
		{firmward.FieldCategory, f.Category},
		{firmward.FieldSerial, f.Serial},
	} {
		if x.fact.Value == "" {
			continue
		}
		of := firmward.ObservedField{Field: x.name, Value: x.fact.Value, Confidence: x.fact.Confidence}
		for _, e := range x.fact.Evidence {
			of.Evidence = append(of.Evidence, firmward.ScanEvidence{Source: e.Source, Observed: e.Observed, Rule: e.Rule})
		}
		o.Fields = append(o.Fields, of)
	}
	for _, hint := range h.Hints {
		o.Hints = append(o.Hints, hint.Summary)
	}
	return o
}

// NewScanFunc returns a firmward.ScanFunc that scans with base (rules,
// OUI registry, rate, logger…) and the network, interface and options of
// each request. It is how the server, which must not import this adapter,
// is given a scanner.
func NewScanFunc(base Options) firmward.ScanFunc {
	return func(ctx context.Context, req firmward.ScanRequest) (*firmward.ScanReport, error) {
		o := base
		o.CIDR, o.Interface = req.CIDR, req.Interface
		if len(req.Options.Communities) > 0 {
			o.Communities = req.Options.Communities
		}
		if req.Options.TimeoutMS > 0 {
			o.Timeout = time.Duration(req.Options.TimeoutMS) * time.Millisecond
		}
		if req.Options.Rate > 0 {
			o.Rate = req.Options.Rate
		}
		if req.Options.NoRaw {
			o.NoRaw = true
		}
		o.Progress = nil
		res, err := Scan(ctx, o)
		if err != nil {
			return nil, err
		}
		return res.Report(), nil
	}
}
