package nac

import (
	"slices"
	"strings"
	"testing"
	"time"

	firmward "github.com/firmward/firmward"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func days(n int) *time.Time {
	t := now.AddDate(0, 0, n)
	return &t
}

func finding(cve, decision string, kev bool, due *time.Time) *firmward.Finding {
	return &firmward.Finding{CVE: cve, Status: firmward.FindingOpen, Decision: decision, KEV: kev, DueDate: due}
}

func enforcing() Policy {
	p := EnterprisePolicy("hq")
	p.Mode = ModeEnforce
	return p
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	camera := &firmward.Device{ID: 1, Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternal, Source: firmward.SourceManual}
	with := func(d *firmward.Device, f func(*firmward.Device)) *firmward.Device {
		c := *d
		f(&c)
		return &c
	}
	type want struct {
		quarantine, enforced, approval, reject bool
		rules                                  []Rule
		segment, vlan                          string
	}
	tests := []struct {
		name     string
		policy   func() Policy
		device   *firmward.Device
		findings []*firmward.Finding
		state    State
		want     want
	}{
		{
			name: "compliant camera gets the iot VLAN", policy: enforcing, device: camera,
			want: want{segment: "iot", vlan: "30"},
		},
		{
			name: "immediate finding not yet due", policy: enforcing, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, false, days(1))},
			want:     want{segment: "iot", vlan: "30"},
		},
		{
			name: "overdue immediate finding quarantines", policy: enforcing, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, false, days(-1))},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "overdue scheduled finding does not count at the default level", policy: enforcing, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0002", firmward.DecisionScheduled, false, days(-30))},
			want:     want{segment: "iot", vlan: "30"},
		},
		{
			name: "overdue scheduled finding counts at level Scheduled",
			policy: func() Policy {
				p := enforcing()
				p.Rules.OverdueLevel = firmward.DecisionScheduled
				return p
			},
			device:   camera,
			findings: []*firmward.Finding{finding("CVE-2026-0002", firmward.DecisionScheduled, false, days(-30))},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "overdue KEV finding counts whatever its decision", policy: enforcing, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0003", firmward.DecisionDefer, true, days(-2))},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "KEV due date is used when DueDate is unknown", policy: enforcing, device: camera,
			findings: []*firmward.Finding{{CVE: "CVE-2026-0003", Status: firmward.FindingOpen, KEV: true, KEVDueDate: "2026-11-24"}},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "KEV due today is not overdue yet", policy: enforcing, device: camera,
			findings: []*firmward.Finding{{CVE: "CVE-2026-0003", Status: firmward.FindingOpen, KEV: true, KEVDueDate: "2026-11-25"}},
			want:     want{segment: "iot", vlan: "30"},
		},
		{
			name: "fixed and mitigated findings do not count", policy: enforcing, device: camera,
			findings: []*firmward.Finding{
				{CVE: "CVE-2026-0004", Status: firmward.FindingFixed, Decision: firmward.DecisionImmediate, DueDate: days(-5)},
				{CVE: "CVE-2026-0005", Status: firmward.FindingMitigated, Decision: firmward.DecisionImmediate, KEV: true, DueDate: days(-5)},
			},
			want: want{segment: "iot", vlan: "30"},
		},
		{
			name: "risk acceptance that ran out counts as open", policy: enforcing, device: camera,
			findings: []*firmward.Finding{{CVE: "CVE-2026-0006", Status: firmward.FindingRiskAccepted, AcceptedUntil: "2026-11-24", Decision: firmward.DecisionImmediate, DueDate: days(-5)}},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "risk acceptance still valid today", policy: enforcing, device: camera,
			findings: []*firmward.Finding{{CVE: "CVE-2026-0006", Status: firmward.FindingRiskAccepted, AcceptedUntil: "2026-11-25", Decision: firmward.DecisionImmediate, DueDate: days(-5)}},
			want:     want{segment: "iot", vlan: "30"},
		},
		{
			name: "KEV on an internet-facing device, not yet due", policy: enforcing,
			device:   with(camera, func(d *firmward.Device) { d.Exposure = firmward.ExposureInternetFacing }),
			findings: []*firmward.Finding{finding("CVE-2026-0007", firmward.DecisionOutOfCycle, true, days(10))},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleKEVInternetFacing}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "KEV on an internal device, not yet due", policy: enforcing, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0007", firmward.DecisionOutOfCycle, true, days(10))},
			want:     want{segment: "iot", vlan: "30"},
		},
		{
			name: "end of life with open findings", policy: enforcing,
			device:   with(camera, func(d *firmward.Device) { d.EOLDate = "2025-01-01" }),
			findings: []*firmward.Finding{finding("CVE-2026-0008", firmward.DecisionScheduled, false, days(60))},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleEndOfLife}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "end of life without open findings", policy: enforcing,
			device: with(camera, func(d *firmward.Device) { d.EOLDate = "2025-01-01" }),
			want:   want{segment: "iot", vlan: "30"},
		},
		{
			name: "end of life in the future", policy: enforcing,
			device:   with(camera, func(d *firmward.Device) { d.EOLDate = "2027-01-01" }),
			findings: []*firmward.Finding{finding("CVE-2026-0008", firmward.DecisionScheduled, false, days(60))},
			want:     want{segment: "iot", vlan: "30"},
		},
		{
			name: "unreviewed rule is off by default", policy: enforcing,
			device: with(camera, func(d *firmward.Device) { d.Source = firmward.SourceScan }),
			want:   want{segment: "iot", vlan: "30"},
		},
		{
			name: "unreviewed discovered device when the rule is on",
			policy: func() Policy {
				p := enforcing()
				p.Rules.Unreviewed = true
				return p
			},
			device: with(camera, func(d *firmward.Device) { d.Source = firmward.SourceScan }),
			want:   want{quarantine: true, enforced: true, rules: []Rule{RuleUnreviewed}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "reviewed discovered device",
			policy: func() Policy {
				p := enforcing()
				p.Rules.Unreviewed = true
				return p
			},
			device: with(camera, func(d *firmward.Device) { d.Source = firmward.SourceScan }),
			state:  State{Reviewed: true},
			want:   want{segment: "iot", vlan: "30"},
		},
		{
			name: "manual quarantine", policy: enforcing, device: camera,
			state: State{Manual: &Manual{Reason: "stolen credentials", By: "alice", At: now}},
			want:  want{quarantine: true, enforced: true, rules: []Rule{RuleManual}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "monitor mode reports without enforcing", policy: func() Policy { return EnterprisePolicy("hq") }, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, false, days(-1))},
			want:     want{quarantine: true, rules: []Rule{RuleOverdue}, segment: "iot", vlan: "30"},
		},
		{
			name: "safety-critical device needs approval and keeps its VLAN", policy: enforcing,
			device:   with(camera, func(d *firmward.Device) { d.Criticality = firmward.CriticalitySafetyCritical }),
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, true, days(-1))},
			want:     want{approval: true, rules: []Rule{RuleOverdue}, segment: "iot", vlan: "30"},
		},
		{
			name: "medical device needs approval", policy: enforcing,
			device: with(camera, func(d *firmward.Device) {
				d.Category = firmward.CategoryMedical
				d.Criticality = firmward.CriticalityLow
			}),
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, false, days(-1))},
			want:     want{approval: true, rules: []Rule{RuleOverdue}, segment: "medical", vlan: "40"},
		},
		{
			name: "approved quarantine of a safety-critical device", policy: enforcing,
			device:   with(camera, func(d *firmward.Device) { d.Criticality = firmward.CriticalitySafetyCritical }),
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, false, days(-1))},
			state:    State{Approved: true},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "exemption suspends the automatic rules", policy: enforcing, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, false, days(-1))},
			state:    State{Exemption: &Exemption{Reason: "vendor fix next week", Owner: "bob", Until: now.Add(time.Hour)}},
			want:     want{segment: "iot", vlan: "30"},
		},
		{
			name: "expired exemption", policy: enforcing, device: camera,
			findings: []*firmward.Finding{finding("CVE-2026-0001", firmward.DecisionImmediate, false, days(-1))},
			state:    State{Exemption: &Exemption{Reason: "vendor fix", Owner: "bob", Until: now}},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue}, segment: "quarantine", vlan: "666"},
		},
		{
			name: "no quarantine VLAN rejects",
			policy: func() Policy {
				p := enforcing()
				p.QuarantineVLAN = ""
				return p
			},
			device: camera,
			state:  State{Manual: &Manual{Reason: "lost"}},
			want:   want{quarantine: true, enforced: true, reject: true, rules: []Rule{RuleManual}, segment: "quarantine"},
		},
		{
			name: "device segment overrides the category", policy: enforcing,
			device: with(camera, func(d *firmward.Device) { d.Segment = "medical" }),
			want:   want{segment: "medical", vlan: "40"},
		},
		{
			name: "home policy puts consumer devices on guest", policy: func() Policy { return HomePolicy("home") },
			device: with(camera, func(d *firmward.Device) { d.Category = firmward.CategoryConsumerSmartHome }),
			want:   want{segment: "guest", vlan: "90"},
		},
		{
			name: "legacy OT is isolated", policy: enforcing,
			device: with(camera, func(d *firmward.Device) { d.Category = firmward.CategoryLegacyOT }),
			want:   want{segment: "isolated", vlan: "60"},
		},
		{
			name: "several rules at once", policy: enforcing,
			device: with(camera, func(d *firmward.Device) {
				d.Exposure = firmward.ExposureInternetFacing
				d.EOLDate = "2024-06-30"
			}),
			findings: []*firmward.Finding{finding("CVE-2026-0009", firmward.DecisionImmediate, true, days(-3))},
			want:     want{quarantine: true, enforced: true, rules: []Rule{RuleOverdue, RuleKEVInternetFacing, RuleEndOfLife}, segment: "quarantine", vlan: "666"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tt.policy()
			if err := p.Validate(); err != nil {
				t.Fatalf("policy: %v", err)
			}
			got := p.Evaluate(tt.device, tt.findings, tt.state, now)
			var rules []Rule
			for _, r := range got.Reasons {
				rules = append(rules, r.Rule)
				if r.Message == "" {
					t.Errorf("reason %s has no message", r.Rule)
				}
			}
			w := tt.want
			if got.Quarantine != w.quarantine || got.Enforced != w.enforced || got.NeedsApproval != w.approval || got.Reject != w.reject {
				t.Errorf("quarantine=%v enforced=%v needsApproval=%v reject=%v, want %v %v %v %v (%s)",
					got.Quarantine, got.Enforced, got.NeedsApproval, got.Reject, w.quarantine, w.enforced, w.approval, w.reject, got.Summary())
			}
			if !slices.Equal(rules, w.rules) {
				t.Errorf("rules %v, want %v", rules, w.rules)
			}
			if got.Segment != w.segment || got.VLAN != w.vlan {
				t.Errorf("segment %q VLAN %q, want %q %q", got.Segment, got.VLAN, w.segment, w.vlan)
			}
			if got.NeedsApproval && !strings.Contains(got.Approval, "approve") {
				t.Errorf("approval reason %q does not ask for approval", got.Approval)
			}
		})
	}
}

func TestEvaluateMessages(t *testing.T) {
	t.Parallel()
	p := enforcing()
	d := &firmward.Device{ID: 7, Category: firmward.CategoryCamera, Exposure: firmward.ExposureInternetFacing, Criticality: firmward.CriticalitySafetyCritical}
	var fs []*firmward.Finding
	for _, cve := range []string{"CVE-2026-0016", "CVE-2026-0011", "CVE-2026-0012", "CVE-2026-0013", "CVE-2026-0014", "CVE-2026-0015"} {
		fs = append(fs, finding(cve, firmward.DecisionImmediate, true, days(-1)))
	}
	got := p.Evaluate(d, fs, State{}, now)
	if len(got.Reasons) != 2 {
		t.Fatalf("reasons %+v", got.Reasons)
	}
	want := "6 open findings past the due date (Immediate or KEV): CVE-2026-0011, CVE-2026-0012, CVE-2026-0013, CVE-2026-0014, CVE-2026-0015 and 1 more"
	if got.Reasons[0].Message != want {
		t.Errorf("message %q\nwant %q", got.Reasons[0].Message, want)
	}
	if !strings.Contains(got.Reasons[1].Message, "6 vulnerabilities known to be exploited") {
		t.Errorf("message %q", got.Reasons[1].Message)
	}
	if got.Approval != "the device is safety-critical: a person must approve the quarantine; the device keeps its network until then" {
		t.Errorf("approval %q", got.Approval)
	}
	if s := got.Summary(); !strings.HasPrefix(s, "quarantine needs a person's approval: 6 open findings") {
		t.Errorf("summary %q", s)
	}
	man := p.Evaluate(&firmward.Device{}, nil, State{Manual: &Manual{Reason: "lost", By: "alice"}}, now)
	if s := man.Summary(); s != "quarantined: quarantined by hand by alice: lost" {
		t.Errorf("summary %q", s)
	}
}

func TestUnknownDecision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    Mode
		unknown Unknown
		reject  bool
		vlan    string
		message string
	}{
		{"guest VLAN in enforce mode", ModeEnforce, Unknown{Action: UnknownVLAN, VLAN: "99"}, false, "99", "not in the inventory: registration VLAN 99"},
		{"guest VLAN in monitor mode too", ModeMonitor, Unknown{Action: UnknownVLAN, VLAN: "99"}, false, "99", "not in the inventory: registration VLAN 99"},
		{"reject in enforce mode", ModeEnforce, Unknown{Action: UnknownReject}, true, "", "not in the inventory: rejected"},
		{"reject only reported in monitor mode", ModeMonitor, Unknown{Action: UnknownReject}, false, "", "not in the inventory: would be rejected (monitor mode)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := EnterprisePolicy("hq")
			p.Mode, p.Unknown = tt.mode, tt.unknown
			d := p.UnknownDecision()
			if d.Reject != tt.reject || d.VLAN != tt.vlan || len(d.Reasons) != 1 || d.Reasons[0].Rule != RuleUnknown || d.Reasons[0].Message != tt.message {
				t.Errorf("decision %+v", d)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Policy)
		fields []string
	}{
		{"enterprise preset", func(*Policy) {}, nil},
		{"home preset", func(p *Policy) { *p = HomePolicy("home") }, nil},
		{"bad mode", func(p *Policy) { p.Mode = "block" }, []string{"mode"}},
		{"bad overdue level", func(p *Policy) { p.Rules.OverdueLevel = "urgent" }, []string{"rules.overdue_level"}},
		{"overdue level ignored when the rule is off", func(p *Policy) { p.Rules.Overdue = false; p.Rules.OverdueLevel = "" }, nil},
		{"bad quarantine VLAN", func(p *Policy) { p.QuarantineVLAN = "4095" }, []string{"quarantine_vlan"}},
		{"VLAN name", func(p *Policy) { p.QuarantineVLAN = "quarantine-vlan" }, nil},
		{"leading zero", func(p *Policy) { p.VLANs["iot"] = "030" }, []string{"vlans.iot"}},
		{"unknown category", func(p *Policy) { p.Segments["toaster"] = "iot" }, []string{"segments"}},
		{"empty segment", func(p *Policy) { p.Segments[firmward.CategoryLock] = "" }, []string{"segments.lock"}},
		{"unknown action", func(p *Policy) { p.Unknown.Action = "drop" }, []string{"unknown.action"}},
		{"guest VLAN missing", func(p *Policy) { p.Unknown.VLAN = "" }, []string{"unknown.vlan"}},
		{"reject needs no VLAN", func(p *Policy) { p.Unknown = Unknown{Action: UnknownReject} }, nil},
		{"bad protected category", func(p *Policy) { p.ProtectedCategories = []firmward.Category{"pump"} }, []string{"protected_categories"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := EnterprisePolicy("hq")
			tt.change(&p)
			err := p.Validate()
			var fields []string
			for _, d := range firmward.ErrorDetails(err) {
				fields = append(fields, d.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields %v, want %v (err %v)", fields, tt.fields, err)
			}
			if err != nil && firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("code %q", firmward.ErrorCode(err))
			}
		})
	}
}
