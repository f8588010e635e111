// Package nac decides which devices network access control should
// quarantine and which segment (VLAN) each device belongs in.
//
// It is pure logic over the root package's Device and Finding: a Policy per
// site holds the quarantine rules, the enforcement mode, the segment policy
// per category and the answer for unknown MACs; Policy.Evaluate turns one
// device, its findings and its NAC state into a Decision. Adapters (the
// RADIUS endpoint in package radius, firewall sets, webhooks) act on
// decisions; this package does no I/O.
//
// Safety: a device whose criticality is safety-critical, or whose category
// is one of the policy's ProtectedCategories (medical by default), is never
// quarantined automatically. When a rule hits such a device the decision
// says NeedsApproval with the reasons, and the device stays in its segment
// until a person approves the quarantine (State.Approved) or quarantines it
// by hand (State.Manual). An infusion pump must not lose its network
// because of a policy.
package nac

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	firmward "github.com/firmward/firmward"
)

// Mode says whether a site's decisions take effect on the network.
type Mode string

// Modes.
const (
	// ModeMonitor reports what would happen: devices stay in their segment
	// and decisions say Quarantine for the report only.
	ModeMonitor Mode = "monitor"
	// ModeEnforce moves quarantined devices to the quarantine VLAN (or
	// rejects them when the policy has no quarantine VLAN).
	ModeEnforce Mode = "enforce"
)

// UnknownAction is the answer for a MAC that is not in the inventory.
type UnknownAction string

// Unknown-MAC actions.
const (
	UnknownReject UnknownAction = "reject" // Access-Reject
	UnknownVLAN   UnknownAction = "vlan"   // accept into Unknown.VLAN (guest or registration)
)

// Well-known segment names used by the preset policies.
const (
	SegmentDefault    = "default"
	SegmentIoT        = "iot"
	SegmentMedical    = "medical"
	SegmentIsolated   = "isolated"
	SegmentGuest      = "guest"
	SegmentInfra      = "infrastructure"
	SegmentOT         = "ot"
	SegmentQuarantine = "quarantine"
)

// Rules are the quarantine rules of a policy. Each is on or off; the
// overdue rule also has a decision level.
type Rules struct {
	// Overdue quarantines a device with an open finding past its due date
	// whose SSVC decision is OverdueLevel or more urgent, or (with
	// OverdueKEV) any open KEV finding past its due date.
	Overdue bool `json:"overdue"`
	// OverdueLevel is the least urgent SSVC decision that counts:
	// Immediate (default), Out-of-Cycle, Scheduled or Defer.
	OverdueLevel string `json:"overdue_level"`
	// OverdueKEV also counts overdue KEV findings whatever their decision.
	OverdueKEV bool `json:"overdue_kev"`
	// KEVInternetFacing quarantines an internet-facing device with an open
	// KEV finding, due or not.
	KEVInternetFacing bool `json:"kev_internet_facing"`
	// EndOfLife quarantines a device past its end-of-life date that has
	// open findings.
	EndOfLife bool `json:"end_of_life"`
	// Unreviewed quarantines a device that discovery found (Source scan)
	// and no person has reviewed yet (State.Reviewed false).
	Unreviewed bool `json:"unreviewed"`
}

// Unknown says what to answer for a MAC that is not in the inventory.
type Unknown struct {
	Action UnknownAction `json:"action"`
	VLAN   string        `json:"vlan,omitempty"` // for UnknownVLAN
}

// Policy is one site's NAC policy.
//
// Segments maps a device category to a segment name, VLANs maps a segment
// name to the VLAN the switch should put the device in (the value of
// Tunnel-Private-Group-Id: a VLAN id 1–4094, or a VLAN name on switches
// that accept names). A device's own Segment field, when set, overrides its
// category's segment. A device whose segment has no VLAN gets no VLAN
// attributes (the port's own VLAN applies).
type Policy struct {
	Site                string                       `json:"site"`
	Mode                Mode                         `json:"mode"`
	Rules               Rules                        `json:"rules"`
	QuarantineVLAN      string                       `json:"quarantine_vlan"` // empty: quarantined devices are rejected
	Segments            map[firmward.Category]string `json:"segments"`
	DefaultSegment      string                       `json:"default_segment"`
	VLANs               map[string]string            `json:"vlans"`
	Unknown             Unknown                      `json:"unknown"`
	ProtectedCategories []firmward.Category          `json:"protected_categories"`
	// Subnets maps a segment name to its IPv4 or IPv6 prefix, so that
	// addresses seen on the network can be checked against the segment
	// policy (Violations). Optional.
	Subnets map[string]string `json:"subnets,omitempty"`
}

// EnterprisePolicy returns the default policy for an organisation's site in
// monitor mode: the default rules (overdue Immediate or KEV findings, KEV on
// internet-facing devices, end-of-life with open findings), cameras, locks,
// sensors and smart-home devices in the iot VLAN, medical devices in the
// medical VLAN, legacy OT isolated, industrial devices in the OT VLAN,
// unknown MACs in a registration VLAN, medical devices protected.
func EnterprisePolicy(site string) Policy {
	return Policy{
		Site: site,
		Mode: ModeMonitor,
		Rules: Rules{
			Overdue: true, OverdueLevel: firmward.DecisionImmediate, OverdueKEV: true,
			KEVInternetFacing: true, EndOfLife: true,
		},
		QuarantineVLAN: "666",
		Segments: map[firmward.Category]string{
			firmward.CategoryConsumerSmartHome:     SegmentIoT,
			firmward.CategoryCamera:                SegmentIoT,
			firmward.CategoryLock:                  SegmentIoT,
			firmward.CategorySensor:                SegmentIoT,
			firmward.CategoryMedical:               SegmentMedical,
			firmward.CategoryLegacyOT:              SegmentIsolated,
			firmward.CategoryIndustrial:            SegmentOT,
			firmward.CategoryNetworkInfrastructure: SegmentInfra,
		},
		DefaultSegment: SegmentDefault,
		VLANs: map[string]string{
			SegmentDefault: "10", SegmentInfra: "20", SegmentIoT: "30", SegmentMedical: "40",
			SegmentOT: "50", SegmentIsolated: "60", SegmentGuest: "90",
		},
		Unknown:             Unknown{Action: UnknownVLAN, VLAN: "99"},
		ProtectedCategories: []firmward.Category{firmward.CategoryMedical},
	}
}

// HomePolicy returns the default policy for a home in monitor mode: the
// default rules; consumer smart-home devices, cameras and locks on the
// guest network; unknown MACs on the guest network too.
func HomePolicy(site string) Policy {
	p := EnterprisePolicy(site)
	p.Segments = map[firmward.Category]string{
		firmward.CategoryConsumerSmartHome: SegmentGuest,
		firmward.CategoryCamera:            SegmentGuest,
		firmward.CategoryLock:              SegmentGuest,
		firmward.CategorySensor:            SegmentGuest,
		firmward.CategoryMedical:           SegmentMedical,
	}
	p.VLANs = map[string]string{SegmentDefault: "1", SegmentGuest: "90", SegmentMedical: "40"}
	p.Unknown = Unknown{Action: UnknownVLAN, VLAN: "90"}
	return p
}

// decisionRank orders SSVC decisions, most urgent highest; unknown ones
// rank 0.
func decisionRank(d string) int {
	switch d {
	case firmward.DecisionImmediate:
		return 4
	case firmward.DecisionOutOfCycle:
		return 3
	case firmward.DecisionScheduled:
		return 2
	case firmward.DecisionDefer:
		return 1
	}
	return 0
}

var vlanName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,31}$`)

// ValidVLAN reports whether v can be sent as Tunnel-Private-Group-Id: a
// VLAN id 1–4094 or a VLAN name (a letter, then up to 31 letters, digits,
// '_', '.', '-').
func ValidVLAN(v string) bool {
	if n, err := strconv.Atoi(v); err == nil {
		return n >= 1 && n <= 4094 && strconv.Itoa(n) == v
	}
	return vlanName.MatchString(v)
}

// Validate checks the policy and returns an EINVALID *firmward.Error with
// one detail per bad field.
func (p *Policy) Validate() error {
	var details []firmward.ErrorDetail
	bad := func(field, reason string) {
		details = append(details, firmward.ErrorDetail{Field: field, Reason: reason})
	}
	switch p.Mode {
	case ModeMonitor, ModeEnforce:
	default:
		bad("mode", fmt.Sprintf("must be %q or %q, not %q", ModeMonitor, ModeEnforce, p.Mode))
	}
	if p.Rules.Overdue && decisionRank(p.Rules.OverdueLevel) == 0 {
		bad("rules.overdue_level", fmt.Sprintf("must be one of Immediate, Out-of-Cycle, Scheduled, Defer, not %q", p.Rules.OverdueLevel))
	}
	if p.QuarantineVLAN != "" && !ValidVLAN(p.QuarantineVLAN) {
		bad("quarantine_vlan", fmt.Sprintf("%q is not a VLAN id (1-4094) or VLAN name", p.QuarantineVLAN))
	}
	cats := make([]firmward.Category, 0, len(p.Segments))
	for c := range p.Segments {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		if !slices.Contains(firmward.Categories, c) {
			bad("segments", fmt.Sprintf("unknown category %q", c))
		}
		if p.Segments[c] == "" {
			bad("segments."+string(c), "segment name is empty")
		}
	}
	segs := make([]string, 0, len(p.VLANs))
	for s := range p.VLANs {
		segs = append(segs, s)
	}
	slices.Sort(segs)
	for _, s := range segs {
		if !ValidVLAN(p.VLANs[s]) {
			bad("vlans."+s, fmt.Sprintf("%q is not a VLAN id (1-4094) or VLAN name", p.VLANs[s]))
		}
	}
	switch p.Unknown.Action {
	case UnknownReject:
	case UnknownVLAN:
		if !ValidVLAN(p.Unknown.VLAN) {
			bad("unknown.vlan", fmt.Sprintf("%q is not a VLAN id (1-4094) or VLAN name", p.Unknown.VLAN))
		}
	default:
		bad("unknown.action", fmt.Sprintf("must be %q or %q, not %q", UnknownReject, UnknownVLAN, p.Unknown.Action))
	}
	for _, c := range p.ProtectedCategories {
		if !slices.Contains(firmward.Categories, c) {
			bad("protected_categories", fmt.Sprintf("unknown category %q", c))
		}
	}
	details = append(details, p.validateSubnets()...)
	if len(details) > 0 {
		return &firmward.Error{Code: firmward.EINVALID, Message: "invalid NAC policy for site " + strconv.Quote(p.Site), Details: details}
	}
	return nil
}

// SegmentOf returns the segment a device belongs in: its own Segment when
// set, else its category's, else DefaultSegment.
func (p *Policy) SegmentOf(d *firmward.Device) string {
	if d.Segment != "" {
		return d.Segment
	}
	if s, ok := p.Segments[d.Category]; ok {
		return s
	}
	return p.DefaultSegment
}

// Protected reports whether d must never be quarantined without a
// person's approval, and why.
func (p *Policy) Protected(d *firmward.Device) (bool, string) {
	if d.Criticality == firmward.CriticalitySafetyCritical {
		return true, "the device is safety-critical"
	}
	if slices.Contains(p.ProtectedCategories, d.Category) {
		return true, fmt.Sprintf("%s devices are protected by the site's policy", d.Category)
	}
	return false, ""
}
