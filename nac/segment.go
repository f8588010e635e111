package nac

import (
	"fmt"
	"net/netip"
	"slices"

	firmward "github.com/firmward/firmward"
)

// validateSubnets checks Subnets: each a valid prefix, no two
// overlapping (an address must tell its segment).
func (p *Policy) validateSubnets() []firmward.ErrorDetail {
	var details []firmward.ErrorDetail
	segs := make([]string, 0, len(p.Subnets))
	for s := range p.Subnets {
		segs = append(segs, s)
	}
	slices.Sort(segs)
	var seen []netip.Prefix
	var names []string
	for _, s := range segs {
		pr, err := netip.ParsePrefix(p.Subnets[s])
		if err != nil {
			details = append(details, firmward.ErrorDetail{Field: "subnets." + s, Value: p.Subnets[s], Reason: "is not an address prefix such as 10.30.0.0/24"})
			continue
		}
		pr = pr.Masked()
		for i, o := range seen {
			if o.Overlaps(pr) {
				details = append(details, firmward.ErrorDetail{Field: "subnets." + s, Value: p.Subnets[s], Reason: "overlaps the subnet of segment " + names[i]})
			}
		}
		seen, names = append(seen, pr), append(names, s)
	}
	return details
}

// Violation is a device seen at an address outside the segment the policy
// puts it in.
type Violation struct {
	DeviceID int64  `json:"device_id"`
	Device   string `json:"device"`
	IP       string `json:"ip"`
	// Want is the device's segment and WantSubnet its prefix; Actual is
	// the segment whose subnet holds IP ("" when none does).
	Want       string `json:"want"`
	WantSubnet string `json:"want_subnet"`
	Actual     string `json:"actual,omitempty"`
	Advice     string `json:"advice"`
}

// Violations checks the addresses of devices (from the inventory and
// discovery) against the segment policy: a device of this site whose
// segment has a subnet, seen at an address outside it, is a violation,
// with plain advice. Devices of other sites, without addresses, or whose
// segment has no subnet are not checked. Invalid subnets are ignored
// (Validate reports them).
func (p *Policy) Violations(devices []*firmward.Device) []Violation {
	type subnet struct {
		seg string
		pr  netip.Prefix
	}
	var subnets []subnet
	for seg, s := range p.Subnets {
		if pr, err := netip.ParsePrefix(s); err == nil {
			subnets = append(subnets, subnet{seg, pr.Masked()})
		}
	}
	slices.SortFunc(subnets, func(a, b subnet) int { return cmpString(a.seg, b.seg) })
	var out []Violation
	for _, d := range devices {
		if SiteOf(d) != p.Site {
			continue
		}
		want := p.SegmentOf(d)
		wantPr, err := netip.ParsePrefix(p.Subnets[want])
		if err != nil {
			continue
		}
		wantPr = wantPr.Masked()
		for _, ipText := range d.IPs {
			ip, err := netip.ParseAddr(ipText)
			if err != nil || ip.Is4() != wantPr.Addr().Is4() || wantPr.Contains(ip) {
				continue
			}
			v := Violation{DeviceID: d.ID, Device: d.Name, IP: ip.String(), Want: want, WantSubnet: wantPr.String()}
			for _, s := range subnets {
				if s.pr.Contains(ip) {
					v.Actual = s.seg
					break
				}
			}
			v.Advice = advice(p, d, v)
			out = append(out, v)
		}
	}
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// advice says what to do about a violation, in words for a person.
func advice(p *Policy, d *firmward.Device, v Violation) string {
	where := "outside every known segment"
	if v.Actual != "" {
		where = "on the " + v.Actual + " network"
	}
	vlan := p.VLANs[v.Want]
	move := fmt.Sprintf("move it to the %s network (%s", v.Want, v.WantSubnet)
	if vlan != "" {
		move += ", VLAN " + vlan
	}
	move += ")"
	how := "set its switch port to that VLAN, or let RADIUS MAC authentication assign it"
	if v.Want == SegmentGuest {
		how = "connect it to the guest Wi-Fi instead of the main one"
	}
	cat := string(d.Category)
	if cat == "" {
		cat = "device"
	}
	return fmt.Sprintf("%s (%s) is at %s, %s, but the policy puts %s devices in %s: %s; %s.",
		d.Name, cat, v.IP, where, cat, v.Want, move, how)
}
