package nac

import (
	"fmt"
	"slices"
	"strings"
	"time"

	firmward "github.com/firmward/firmward"
)

// Rule names a reason for quarantine.
type Rule string

// Rules that can put a device in quarantine.
const (
	RuleOverdue           Rule = "overdue"             // open finding past its due date at the chosen decision level
	RuleKEVInternetFacing Rule = "kev-internet-facing" // open KEV finding on an internet-facing device
	RuleEndOfLife         Rule = "end-of-life"         // past end-of-life with open findings
	RuleUnreviewed        Rule = "unreviewed"          // discovered, not reviewed by a person
	RuleManual            Rule = "manual"              // a person quarantined it
	RuleUnknown           Rule = "unknown"             // the MAC is not in the inventory
)

// State is what people decided about one device's quarantine; the server
// persists it beside the device. The zero value means nothing was decided.
type State struct {
	// Manual is a quarantine a person asked for, with a reason; it applies
	// in both modes' reports and, in enforce mode, on the network, even to
	// protected devices (a person decided).
	Manual *Manual `json:"manual,omitempty"`
	// Approved says a person approved the automatic quarantine of a
	// protected device; without it a protected device is only flagged.
	Approved bool `json:"approved,omitempty"`
	// Reviewed says a person reviewed a discovered device.
	Reviewed bool `json:"reviewed,omitempty"`
	// Exemption suspends the automatic rules until it expires.
	Exemption *Exemption `json:"exemption,omitempty"`
}

// Manual is a manual quarantine.
type Manual struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Exemption suspends the automatic quarantine rules for one device until a
// time, with a reason and an owner.
type Exemption struct {
	Reason string    `json:"reason"`
	Owner  string    `json:"owner"`
	Until  time.Time `json:"until"`
}

// Reason is one rule that hit, in words a person can act on. CVEs lists the
// findings behind it, when there are any.
type Reason struct {
	Rule    Rule     `json:"rule"`
	Message string   `json:"message"`
	CVEs    []string `json:"cves,omitempty"`
}

// Decision is what the policy says about one device at one time.
//
// Quarantine says the device is in quarantine (enforce mode) or would be
// (monitor mode); Enforced says the network acts on it now. VLAN and Reject
// are what a RADIUS answer should carry now: in monitor mode, and for a
// protected device waiting for approval, that is the device's segment VLAN.
type Decision struct {
	DeviceID      int64    `json:"device_id"`
	Site          string   `json:"site"`
	Mode          Mode     `json:"mode"`
	Quarantine    bool     `json:"quarantine"`
	Enforced      bool     `json:"enforced"`
	NeedsApproval bool     `json:"needs_approval"`
	Approval      string   `json:"approval,omitempty"` // why a person must approve
	Exempt        string   `json:"exempt,omitempty"`   // why the automatic rules are suspended
	Reasons       []Reason `json:"reasons,omitempty"`
	Segment       string   `json:"segment"`
	VLAN          string   `json:"vlan,omitempty"`   // Tunnel-Private-Group-Id to answer; empty: none
	Reject        bool     `json:"reject,omitempty"` // answer Access-Reject
}

// Summary is a one-line account of the decision for logs and lists.
func (d Decision) Summary() string {
	var b strings.Builder
	switch {
	case d.Quarantine && d.Enforced:
		b.WriteString("quarantined")
	case d.Quarantine:
		b.WriteString("would be quarantined (monitor mode)")
	case d.NeedsApproval:
		b.WriteString("quarantine needs a person's approval")
	default:
		b.WriteString("compliant")
	}
	for i, r := range d.Reasons {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(r.Message)
	}
	return b.String()
}

// UnknownDecision is the decision for a MAC that is not in the inventory:
// the guest/registration VLAN (segmentation, applied in both modes), or a
// reject, which in monitor mode is only reported (the device is accepted
// without VLAN attributes).
func (p *Policy) UnknownDecision() Decision {
	d := Decision{Site: p.Site, Mode: p.Mode, Segment: "unknown"}
	switch {
	case p.Unknown.Action == UnknownVLAN:
		d.VLAN = p.Unknown.VLAN
		d.Reasons = []Reason{{Rule: RuleUnknown, Message: "not in the inventory: registration VLAN " + p.Unknown.VLAN}}
	case p.Mode == ModeEnforce:
		d.Reject = true
		d.Reasons = []Reason{{Rule: RuleUnknown, Message: "not in the inventory: rejected"}}
	default:
		d.Reasons = []Reason{{Rule: RuleUnknown, Message: "not in the inventory: would be rejected (monitor mode)"}}
	}
	return d
}

// Evaluate applies the policy to one device, its findings (any status; only
// open ones count, and risk acceptances that have expired count as open)
// and its NAC state at time now. It does not validate the policy: call
// Validate when the policy is stored.
func (p *Policy) Evaluate(d *firmward.Device, findings []*firmward.Finding, st State, now time.Time) Decision {
	dec := Decision{DeviceID: d.ID, Site: p.Site, Mode: p.Mode, Segment: p.SegmentOf(d)}
	dec.VLAN = p.VLANs[dec.Segment]

	var open []*firmward.Finding
	for _, f := range findings {
		if isOpen(f, now) {
			open = append(open, f)
		}
	}
	var auto []Reason
	if p.Rules.Overdue {
		var cves []string
		for _, f := range open {
			due, ok := dueDate(f)
			if !ok || !now.After(due) {
				continue
			}
			if decisionRank(f.Decision) >= decisionRank(p.Rules.OverdueLevel) || (p.Rules.OverdueKEV && f.KEV) {
				cves = append(cves, f.CVE)
			}
		}
		if len(cves) > 0 {
			level := p.Rules.OverdueLevel
			if p.Rules.OverdueKEV {
				level += " or KEV"
			}
			auto = append(auto, Reason{
				Rule:    RuleOverdue,
				Message: fmt.Sprintf("%s past the due date (%s): %s", plural(len(cves), "open finding"), level, listCVEs(cves)),
				CVEs:    cves,
			})
		}
	}
	if p.Rules.KEVInternetFacing && d.Exposure == firmward.ExposureInternetFacing {
		var cves []string
		for _, f := range open {
			if f.KEV {
				cves = append(cves, f.CVE)
			}
		}
		if len(cves) > 0 {
			auto = append(auto, Reason{
				Rule:    RuleKEVInternetFacing,
				Message: fmt.Sprintf("internet-facing with %s known to be exploited (CISA KEV): %s", plural(len(cves), "vulnerability"), listCVEs(cves)),
				CVEs:    cves,
			})
		}
	}
	if p.Rules.EndOfLife && d.EOLDate != "" && len(open) > 0 {
		if eol, err := time.Parse(time.DateOnly, d.EOLDate); err == nil && !now.Before(eol) {
			cves := make([]string, 0, len(open))
			for _, f := range open {
				cves = append(cves, f.CVE)
			}
			auto = append(auto, Reason{
				Rule:    RuleEndOfLife,
				Message: fmt.Sprintf("end of life since %s with %s; no fix will come: replace it", d.EOLDate, plural(len(open), "open finding")),
				CVEs:    cves,
			})
		}
	}
	if p.Rules.Unreviewed && d.Source == firmward.SourceScan && !st.Reviewed {
		auto = append(auto, Reason{Rule: RuleUnreviewed, Message: "discovered on the network and not reviewed by a person yet"})
	}

	if st.Exemption != nil && now.Before(st.Exemption.Until) && len(auto) > 0 {
		dec.Exempt = fmt.Sprintf("exempt until %s by %s: %s", st.Exemption.Until.UTC().Format(time.DateOnly), st.Exemption.Owner, st.Exemption.Reason)
		auto = nil
	}
	dec.Reasons = auto
	quarantine := len(auto) > 0
	if quarantine {
		if prot, why := p.Protected(d); prot && !st.Approved {
			quarantine = false
			dec.NeedsApproval = true
			dec.Approval = why + ": a person must approve the quarantine; the device keeps its network until then"
		}
	}
	if st.Manual != nil {
		quarantine, dec.NeedsApproval, dec.Approval = true, false, ""
		msg := "quarantined by hand"
		if st.Manual.By != "" {
			msg += " by " + st.Manual.By
		}
		dec.Reasons = append([]Reason{{Rule: RuleManual, Message: msg + ": " + st.Manual.Reason}}, dec.Reasons...)
	}
	dec.Quarantine = quarantine
	dec.Enforced = quarantine && p.Mode == ModeEnforce
	if dec.Enforced {
		dec.Segment = SegmentQuarantine
		dec.VLAN = p.QuarantineVLAN
		dec.Reject = p.QuarantineVLAN == ""
	}
	return dec
}

// isOpen reports whether a finding still needs work at now: open, or
// risk-accepted with an acceptance that has run out.
func isOpen(f *firmward.Finding, now time.Time) bool {
	switch f.Status {
	case firmward.FindingOpen:
		return true
	case firmward.FindingRiskAccepted:
		until, err := time.Parse(time.DateOnly, f.AcceptedUntil)
		return err == nil && !now.Before(until.AddDate(0, 0, 1))
	}
	return false
}

// dueDate returns the finding's due date: DueDate, or the end of the KEV
// due date's day when only that is known.
func dueDate(f *firmward.Finding) (time.Time, bool) {
	if f.DueDate != nil {
		return *f.DueDate, true
	}
	if f.KEVDueDate != "" {
		if t, err := time.Parse(time.DateOnly, f.KEVDueDate); err == nil {
			return t.AddDate(0, 0, 1), true
		}
	}
	return time.Time{}, false
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// listCVEs names up to five CVEs, sorted, and counts the rest.
func listCVEs(cves []string) string {
	s := slices.Clone(cves)
	slices.Sort(s)
	if len(s) > 5 {
		return strings.Join(s[:5], ", ") + fmt.Sprintf(" and %d more", len(s)-5)
	}
	return strings.Join(s, ", ")
}
