package nac

import (
	"context"
	"strings"

	firmward "github.com/firmward/firmward"
)

// Devices reads the inventory (firmward.DeviceService does).
type Devices interface {
	DeviceLister
	FindDeviceByID(ctx context.Context, id int64) (*firmward.Device, error)
}

// MaxReportDevices bounds the devices of one status answer and the
// devices checked for segment violations per site.
const MaxReportDevices = 10_000

// DeviceReport is one device in the NAC status: its state and what the
// policy decides now.
type DeviceReport struct {
	ID          int64                `json:"id"`
	Name        string               `json:"name"`
	Site        string               `json:"site"`
	Category    firmward.Category    `json:"category"`
	Criticality firmward.Criticality `json:"criticality"`
	MACs        []string             `json:"macs"`
	IPs         []string             `json:"ips"`
	State       firmward.NACState    `json:"state"`
	Decision    Decision             `json:"decision"`
}

// Report is the NAC status (GET /api/v1/nac/status, the web page): every device with something going
// on (quarantined or would be, waiting for approval, quarantined by hand,
// approved, exempt), the counts, the sites' policies and segment
// violations.
type Report struct {
	Quarantined   int                 `json:"quarantined"`      // enforced on the network
	WouldBe       int                 `json:"would_quarantine"` // monitor mode: would be quarantined
	NeedsApproval int                 `json:"needs_approval"`
	Exempt        int                 `json:"exempt"`
	Devices       []DeviceReport      `json:"devices"`
	Policies      []Policy            `json:"policies"`
	Violations    []Violation         `json:"violations"`
	Events        []firmward.NACEvent `json:"events"` // the latest history, newest first
}

// BuildReport builds the status from the store: it re-evaluates every
// device with a stored state (at most MaxReportDevices) and checks the
// devices of each site that has subnets against its segment policy. The
// web UI uses it too.
func BuildReport(ctx context.Context, store Store, devices Devices, site string) (*Report, error) {
	states, err := store.NACStates(ctx, StateFilter{Active: true, Limit: MaxReportDevices})
	if err != nil {
		return nil, err
	}
	st := &Report{Devices: []DeviceReport{}, Policies: []Policy{}, Violations: []Violation{}}
	for _, s := range states {
		ev, err := store.Evaluate(ctx, s.DeviceID)
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if site != "" && !strings.EqualFold(SiteOf(ev.Device), site) {
			continue
		}
		d := ev.Decision
		switch {
		case d.Enforced:
			st.Quarantined++
		case d.Quarantine:
			st.WouldBe++
		case d.NeedsApproval:
			st.NeedsApproval++
		}
		if d.Exempt != "" {
			st.Exempt++
		}
		st.Devices = append(st.Devices, DeviceReport{
			ID: ev.Device.ID, Name: ev.Device.Name, Site: SiteOf(ev.Device), Category: ev.Device.Category,
			Criticality: ev.Device.Criticality, MACs: ev.Device.MACs, IPs: ev.Device.IPs, State: ev.State, Decision: d,
		})
	}
	policies, err := store.SitePolicies(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range policies {
		if site != "" && !strings.EqualFold(p.Site, site) {
			continue
		}
		st.Policies = append(st.Policies, p)
		if len(p.Subnets) == 0 {
			continue
		}
		var devs []*firmward.Device
		var after int64
		for len(devs) < MaxReportDevices {
			page, next, err := devices.FindDevices(ctx, firmward.DeviceFilter{Site: siteFilter(p.Site), After: after, Limit: firmward.MaxPageSize})
			if err != nil {
				return nil, err
			}
			devs = append(devs, page...)
			if next == 0 {
				break
			}
			after = next
		}
		st.Violations = append(st.Violations, p.Violations(devs)...)
	}
	if st.Events, err = store.NACEvents(ctx, 0, 50); err != nil {
		return nil, err
	}
	if st.Events == nil {
		st.Events = []firmward.NACEvent{}
	}
	return st, nil
}

// siteFilter is the DeviceFilter.Site of a policy's site: devices without
// a site belong to DefaultSite, and a filter cannot say "empty", so
// every device is read and Violations keeps the site's own.
func siteFilter(site string) string {
	if site == DefaultSite {
		return ""
	}
	return site
}

// FirewallRules renders the enforced quarantine as an nftables ruleset
// (format "nft" or "") or OpenWrt UCI sections ("uci"). Devices in a
// monitor-mode site are not in the sets.
func FirewallRules(ctx context.Context, store Store, devices Devices, format string, o FirewallOptions) (string, error) {
	states, err := store.NACStates(ctx, StateFilter{Active: true})
	if err != nil {
		return "", err
	}
	var hosts []Host
	for _, st := range states {
		if !st.Enforced {
			continue
		}
		d, err := devices.FindDeviceByID(ctx, st.DeviceID)
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			continue
		}
		if err != nil {
			return "", err
		}
		hosts = append(hosts, HostOf(d))
	}
	if format == "uci" {
		return OpenWrtUCI(hosts, o)
	}
	return NFTRuleset(hosts, o)
}
