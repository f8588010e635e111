package nac

import (
	"strings"
	"testing"
	"time"

	firmward "github.com/firmward/firmward"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		prev firmward.NACState
		dec  Decision
		want []Transition
	}{
		{"steady compliant", firmward.NACState{}, Decision{}, nil},
		{
			"enters, enforced",
			firmward.NACState{},
			Decision{Quarantine: true, Enforced: true},
			[]Transition{{Kind: TransitionQuarantine, Network: true}},
		},
		{
			"enters, monitor",
			firmward.NACState{},
			Decision{Quarantine: true},
			[]Transition{{Kind: TransitionQuarantine}},
		},
		{"steady quarantined", firmward.NACState{Quarantined: true, Enforced: true}, Decision{Quarantine: true, Enforced: true}, nil},
		{
			"released",
			firmward.NACState{Quarantined: true, Enforced: true},
			Decision{},
			[]Transition{{Kind: TransitionRelease, Network: true}},
		},
		{
			"released, monitor",
			firmward.NACState{Quarantined: true},
			Decision{},
			[]Transition{{Kind: TransitionRelease}},
		},
		{
			"site switched to enforce",
			firmward.NACState{Quarantined: true},
			Decision{Quarantine: true, Enforced: true},
			[]Transition{{Kind: TransitionQuarantine, Network: true}},
		},
		{
			"site switched to monitor",
			firmward.NACState{Quarantined: true, Enforced: true},
			Decision{Quarantine: true},
			[]Transition{{Kind: TransitionRelease, Network: true}},
		},
		{
			"protected device hit",
			firmward.NACState{},
			Decision{NeedsApproval: true},
			[]Transition{{Kind: TransitionNeedsApproval}},
		},
		{
			"approved after waiting",
			firmward.NACState{NeedsApproval: true},
			Decision{Quarantine: true, Enforced: true},
			[]Transition{{Kind: TransitionQuarantine, Network: true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Diff(tc.prev, tc.dec)
			if len(got) != len(tc.want) {
				t.Fatalf("Diff = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i].Kind != tc.want[i].Kind || got[i].Network != tc.want[i].Network {
					t.Errorf("transition %d = %s network=%v, want %s network=%v", i, got[i].Kind, got[i].Network, tc.want[i].Kind, tc.want[i].Network)
				}
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	t.Parallel()
	until := now.Add(time.Hour)
	s := &firmward.NACState{
		Manual:    &firmward.NACManual{Reason: "r", By: "alice"},
		Approval:  &firmward.NACApproval{Reason: "ok"},
		Reviewed:  true,
		Exemption: &firmward.NACExemption{Reason: "wait", Owner: "bob", Until: until},
	}
	st := StateOf(s, now)
	if st.Manual == nil || st.Manual.By != "alice" || !st.Approved || !st.Reviewed || st.Exemption == nil || st.Exemption.Owner != "bob" {
		t.Errorf("StateOf = %+v", st)
	}
	if st := StateOf(s, until); st.Exemption != nil {
		t.Errorf("expired exemption kept: %+v", st.Exemption)
	}
	if st := StateOf(nil, now); st.Manual != nil || st.Approved {
		t.Errorf("StateOf(nil) = %+v", st)
	}
}

func TestNFTRuleset(t *testing.T) {
	t.Parallel()
	hosts := []Host{
		{DeviceID: 1, MACs: []string{"02:00:00:00:00:02", "02-00-00-00-00-01"}, IPv4: []string{"10.0.0.5"}},
		{DeviceID: 2, MACs: []string{"02:00:00:00:00:01"}, IPv4: []string{"10.0.0.4"}},
	}
	got, err := NFTRuleset(hosts, FirewallOptions{Allow: []string{"10.0.0.1", "192.0.2.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"table inet firmward\ndelete table inet firmward\n",
		"set quarantine_mac {\n\t\ttype ether_addr\n\t\telements = { 02:00:00:00:00:01, 02:00:00:00:00:02 }",
		"set quarantine_ipv4 {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.4, 10.0.0.5 }",
		"elements = { 10.0.0.1/32, 192.0.2.0/24 }",
		"ether saddr @quarantine_mac counter reject",
		"type filter hook forward priority -5; policy accept;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, got)
		}
	}
	empty, err := NFTRuleset(nil, FirewallOptions{Table: "fw_q"})
	if err != nil || strings.Contains(empty, "elements") || !strings.Contains(empty, "table inet fw_q {") {
		t.Errorf("empty ruleset (%v):\n%s", err, empty)
	}
	uci, err := OpenWrtUCI(hosts, FirewallOptions{Allow: []string{"10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"config ipset\n\toption name 'firmward_quarantine_mac'\n\toption family 'ipv4'\n\tlist match 'src_mac'\n\tlist entry '02:00:00:00:00:01'\n\tlist entry '02:00:00:00:00:02'\n",
		"list match 'src_ip'\n\tlist entry '10.0.0.4'",
		"option ipset 'firmward_quarantine_ipv4'\n\toption target 'REJECT'",
		"option dest_ip '10.0.0.1/32'",
	} {
		if !strings.Contains(uci, want) {
			t.Errorf("UCI lacks %q:\n%s", want, uci)
		}
	}
	for _, bad := range []struct {
		hosts []Host
		o     FirewallOptions
	}{
		{[]Host{{MACs: []string{"02:00:00:00:00:01:02:03"}}}, FirewallOptions{}},
		{[]Host{{IPv4: []string{"::1"}}}, FirewallOptions{}},
		{nil, FirewallOptions{Table: "bad table; drop"}},
		{nil, FirewallOptions{Allow: []string{"2001:db8::/32"}}},
		{nil, FirewallOptions{Allow: []string{"nonsense"}}},
	} {
		if _, err := NFTRuleset(bad.hosts, bad.o); firmward.ErrorCode(err) != firmward.EINVALID {
			t.Errorf("NFTRuleset(%+v, %+v) err = %v, want EINVALID", bad.hosts, bad.o, err)
		}
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	p := HomePolicy("home")
	p.Subnets = map[string]string{SegmentDefault: "192.168.1.0/24", SegmentGuest: "192.168.90.0/24"}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	devs := []*firmward.Device{
		{ID: 1, Name: "doorbell", Category: firmward.CategoryCamera, Site: "home", IPs: []string{"192.168.1.23"}},
		{ID: 2, Name: "plug", Category: firmward.CategoryConsumerSmartHome, Site: "home", IPs: []string{"192.168.90.7"}},
		{ID: 3, Name: "laptop", Category: firmward.CategoryOther, Site: "home", IPs: []string{"192.168.1.5"}},
		{ID: 4, Name: "elsewhere", Category: firmward.CategoryCamera, Site: "office", IPs: []string{"192.168.1.9"}},
		{ID: 5, Name: "lamp", Category: firmward.CategoryConsumerSmartHome, Site: "home", IPs: []string{"10.9.9.9"}},
	}
	v := p.Violations(devs)
	if len(v) != 2 {
		t.Fatalf("violations = %+v, want doorbell and lamp", v)
	}
	if v[0].DeviceID != 1 || v[0].Actual != SegmentDefault || v[0].Want != SegmentGuest ||
		!strings.Contains(v[0].Advice, "guest Wi-Fi") || !strings.Contains(v[0].Advice, "192.168.1.23") {
		t.Errorf("doorbell: %+v", v[0])
	}
	if v[1].DeviceID != 5 || v[1].Actual != "" || !strings.Contains(v[1].Advice, "outside every known segment") {
		t.Errorf("lamp: %+v", v[1])
	}
	bad := p
	bad.Subnets = map[string]string{"a": "10.0.0.0/8", "b": "10.1.0.0/16", "c": "nope"}
	err := bad.Validate()
	if firmward.ErrorCode(err) != firmward.EINVALID || len(firmward.ErrorDetails(err)) != 2 {
		t.Errorf("overlapping and bad subnets: %v %+v", err, firmward.ErrorDetails(err))
	}
}
