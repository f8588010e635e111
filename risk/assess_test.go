package risk

import (
	"slices"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// Real records (values copied from ../shared/data: NVD 2.0 transcriptions in
// nvd/api-2.0/fkie-transcribed, KEV catalog 2025.08.25, EPSS 2026-08-16,
// vulnrichment cve5/iot/CVE-2023-30799.json).
var (
	cvssNVD = func(vec string, score float64) firmward.CVSS {
		return firmward.CVSS{Version: vec[5:8], Vector: vec, BaseScore: score, Source: "nvd@nist.gov", Type: "Primary"}
	}
	// CVE-2023-1389, TP-Link Archer AX21 command injection (NVD rates it adjacent).
	tplink = Facts{
		CVE:  "CVE-2023-1389",
		CVSS: []firmward.CVSS{cvssNVD("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8)},
		KEV: &firmward.KEVEntry{
			CVE: "CVE-2023-1389", VendorProject: "TP-Link", Product: "Archer AX21",
			DateAdded: "2023-05-01", DueDate: "2023-05-22",
		},
		EPSS:        &firmward.EPSSScore{CVE: "CVE-2023-1389", Score: 0.99999, Percentile: 0.99992},
		Criticality: firmward.CriticalityHigh, Exposure: firmward.ExposureInternetFacing, Certain: true,
	}
	// CVE-2021-36260, Hikvision camera web server; every CPE has version "-".
	hikvision = Facts{
		CVE:  "CVE-2021-36260",
		CVSS: []firmward.CVSS{cvssNVD("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)},
		KEV: &firmward.KEVEntry{
			CVE: "CVE-2021-36260", VendorProject: "Hikvision", DateAdded: "2022-01-10", DueDate: "2022-01-24",
		},
		EPSS:        &firmward.EPSSScore{CVE: "CVE-2021-36260", Score: 0.99869, Percentile: 0.99962},
		Criticality: firmward.CriticalityHigh, Exposure: firmward.ExposureInternetFacing, Certain: false,
	}
	// CVE-2023-30799, MikroTik RouterOS privilege escalation, with CISA ADP values.
	mikrotik = Facts{
		CVE: "CVE-2023-30799",
		CVSS: []firmward.CVSS{
			{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", BaseScore: 9.1, Source: "disclosure@vulncheck.com", Type: "Secondary"},
			cvssNVD("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2),
		},
		SSVC:        &firmward.SSVCValues{Exploitation: "poc", Automatable: "no", TechnicalImpact: "total"},
		EPSS:        &firmward.EPSSScore{CVE: "CVE-2023-30799", Score: 0.01297, Percentile: 0.67924},
		Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternal, Certain: true,
	}
	// CVE-2024-3080, ASUS router authentication bypass.
	asus = Facts{
		CVE:         "CVE-2024-3080",
		CVSS:        []firmward.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", BaseScore: 9.8, Source: "twcert@cert.org.tw", Type: "Primary"}},
		EPSS:        &firmward.EPSSScore{CVE: "CVE-2024-3080", Score: 0.43456, Percentile: 0.98626},
		Criticality: firmward.CriticalityHigh, Exposure: firmward.ExposureInternetFacing, Certain: true,
	}
	// CVE-2024-7029, AVTECH camera command injection, CVSS 4.0 and 3.1.
	avtech = Facts{
		CVE: "CVE-2024-7029",
		CVSS: []firmward.CVSS{
			{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X", BaseScore: 8.7, Source: "ics-cert@hq.dhs.gov", Type: "Secondary"},
			{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", BaseScore: 8.8, Source: "ics-cert@hq.dhs.gov", Type: "Secondary"},
		},
		EPSS:        &firmward.EPSSScore{CVE: "CVE-2024-7029", Score: 0.38739, Percentile: 0.98455},
		Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureSegmented, Certain: true,
	}
)

func TestAssessRealRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		facts    Facts
		want     Inputs
		decision Decision
		why      []string // substrings of the explanation
	}{
		{
			"CVE-2023-1389 KEV internet-facing router", tplink,
			Inputs{ExploitationActive, ExposureOpen, AutomatableNo, HumanImpactHigh},
			DecisionOutOfCycle,
			[]string{"in CISA KEV since 2023-05-01", "internet-facing", "AV:A/AC:L/PR:N/UI:N", "criticality high, technical impact total (CVSS 3.1"},
		},
		{
			"CVE-2021-36260 KEV camera, possible", hikvision,
			Inputs{ExploitationActive, ExposureOpen, AutomatableYes, HumanImpactHigh},
			DecisionImmediate,
			[]string{"since 2022-01-10", "no privileges", "possible: the advisory does not say which versions"},
		},
		{
			"CVE-2023-30799 ADP values, internal", mikrotik,
			Inputs{ExploitationPoC, ExposureControlled, AutomatableNo, HumanImpactMedium},
			DecisionScheduled,
			[]string{"CISA ADP SSVC exploitation poc", "CISA ADP SSVC automatable no", "technical impact total (CISA ADP)"},
		},
		{
			"CVE-2024-3080 EPSS above threshold", asus,
			Inputs{ExploitationPoC, ExposureOpen, AutomatableYes, HumanImpactHigh},
			DecisionOutOfCycle,
			[]string{"EPSS 0.4346, percentile 0.986, at or above the 0.10 threshold"},
		},
		{
			"CVE-2024-7029 v4 vector, segmented", avtech,
			Inputs{ExploitationPoC, ExposureSmall, AutomatableNo, HumanImpactMedium},
			DecisionScheduled,
			[]string{"CVSS 4.0 AV:N/AC:L/AT:N/PR:L/UI:N", "segmented"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Assess(tt.facts)
			if a.Inputs != tt.want {
				t.Errorf("inputs = %+v, want %+v", a.Inputs, tt.want)
			}
			if a.Decision != tt.decision {
				t.Errorf("decision = %s, want %s", a.Decision, tt.decision)
			}
			ex := a.Explanation()
			for _, s := range tt.why {
				if !strings.Contains(ex, s) {
					t.Errorf("explanation %q lacks %q", ex, s)
				}
			}
			if a.CVE != tt.facts.CVE || a.Priority < 0 || a.Priority > MaxPriority {
				t.Errorf("cve %s priority %d", a.CVE, a.Priority)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	t.Parallel()
	rce := []firmward.CVSS{cvssNVD("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)}
	xss := []firmward.CVSS{cvssNVD("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1)}
	tests := []struct {
		name string
		f    Facts
		want Inputs
	}{
		{"nothing known", Facts{}, Inputs{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactMedium}},
		{"ADP active without KEV", Facts{SSVC: &firmward.SSVCValues{Exploitation: "Active"}}, Inputs{ExploitationActive, ExposureControlled, AutomatableNo, HumanImpactMedium}},
		{"EPSS outranks stale ADP none", Facts{SSVC: &firmward.SSVCValues{Exploitation: "none"}, EPSS: &firmward.EPSSScore{Score: 0.2}}, Inputs{ExploitationPoC, ExposureControlled, AutomatableNo, HumanImpactMedium}},
		{"EPSS below threshold", Facts{EPSS: &firmward.EPSSScore{Score: 0.09}}, Inputs{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactMedium}},
		{"EPSS at threshold", Facts{EPSS: &firmward.EPSSScore{Score: 0.1}}, Inputs{ExploitationPoC, ExposureControlled, AutomatableNo, HumanImpactMedium}},
		{"garbled ADP ignored", Facts{SSVC: &firmward.SSVCValues{Exploitation: "lots", Automatable: "?"}, CVSS: rce}, Inputs{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactMedium}},
		{"ADP automatable beats vector", Facts{SSVC: &firmward.SSVCValues{Automatable: "no"}, CVSS: rce}, Inputs{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactMedium}},
		{"user interaction not automatable", Facts{CVSS: xss}, Inputs{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactLow}},
		{"v2 vector only", Facts{CVSS: []firmward.CVSS{{Version: "2.0", Vector: "AV:N/AC:L/Au:N/C:C/I:C/A:C", BaseScore: 10}}, Criticality: firmward.CriticalityLow}, Inputs{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactLow}},
		{"garbage vector falls back to next", Facts{CVSS: []firmward.CVSS{{Version: "4.0", Vector: "junk"}, rce[0]}}, Inputs{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactMedium}},
		{"safety-critical total", Facts{Criticality: firmward.CriticalitySafetyCritical, CVSS: rce}, Inputs{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactVeryHigh}},
		{"safety-critical partial", Facts{Criticality: firmward.CriticalitySafetyCritical, SSVC: &firmward.SSVCValues{TechnicalImpact: "partial"}}, Inputs{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactHigh}},
		{"low partial stays low", Facts{Criticality: firmward.CriticalityLow, CVSS: xss}, Inputs{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactLow}},
		{"internet-facing", Facts{Exposure: firmward.ExposureInternetFacing}, Inputs{ExploitationNone, ExposureOpen, AutomatableNo, HumanImpactMedium}},
		{"segmented", Facts{Exposure: firmward.ExposureSegmented}, Inputs{ExploitationNone, ExposureSmall, AutomatableNo, HumanImpactMedium}},
		{"internal", Facts{Exposure: firmward.ExposureInternal}, Inputs{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactMedium}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Assess(tt.f)
			if a.Inputs != tt.want {
				t.Errorf("inputs = %+v, want %+v\n%s", a.Inputs, tt.want, a.Explanation())
			}
			for _, r := range []string{a.Why.Exploitation, a.Why.Exposure, a.Why.Automatable, a.Why.HumanImpact} {
				if r == "" {
					t.Errorf("empty reason in %+v", a.Why)
				}
			}
		})
	}
}

func TestFactsFor(t *testing.T) {
	t.Parallel()
	v := &firmward.Vulnerability{ID: "CVE-2024-3080", CVSS: asus.CVSS, SSVC: &firmward.SSVCValues{Automatable: "yes"}}
	d := &firmward.Device{Criticality: firmward.CriticalityHigh, Exposure: firmward.ExposureSegmented}
	f := FactsFor(v, d)
	if f.CVE != v.ID || len(f.CVSS) != 1 || f.SSVC != v.SSVC || f.Criticality != d.Criticality || f.Exposure != d.Exposure {
		t.Errorf("FactsFor = %+v", f)
	}
	if g := FactsFor(nil, nil); g.CVE != "" {
		t.Errorf("FactsFor(nil, nil) = %+v", g)
	}
}

// TestPriorityOrder sorts realistic findings by priority and checks the
// order: decision band first, then certain before possible, then KEV, then
// EPSS, CVSS and criticality.
func TestPriorityOrder(t *testing.T) {
	t.Parallel()
	with := func(f Facts, change func(*Facts)) Facts {
		f.CVSS = slices.Clone(f.CVSS)
		change(&f)
		return f
	}
	cases := []struct {
		name string
		f    Facts
	}{
		// In expected order, most urgent first.
		{"hikvision KEV open automatable (Immediate)", with(hikvision, func(f *Facts) { f.Certain = true })},
		{"hikvision KEV, possible (Immediate)", hikvision},
		{"tplink KEV open router (Out-of-Cycle, KEV)", tplink},
		{"asus EPSS 0.43 open (Out-of-Cycle)", asus},
		{"asus with EPSS 0.12 (Out-of-Cycle)", with(asus, func(f *Facts) { f.EPSS = &firmward.EPSSScore{Score: 0.12} })},
		{"tplink KEV open router, possible (Out-of-Cycle)", with(tplink, func(f *Facts) { f.Certain = false })},
		{"avtech camera segmented, safety-critical (Scheduled)", with(avtech, func(f *Facts) { f.Criticality = firmward.CriticalitySafetyCritical })},
		{"avtech camera segmented (Scheduled)", avtech},
		{"mikrotik internal ADP poc (Scheduled)", mikrotik},
		{"mikrotik, lower CVSS (Scheduled)", with(mikrotik, func(f *Facts) { f.CVSS = f.CVSS[1:]; f.CVSS[0].BaseScore = 4.3 })},
		{"mikrotik, possible (Scheduled)", with(mikrotik, func(f *Facts) { f.Certain = false })},
		{"low-criticality segmented sensor, no evidence (Defer)", Facts{
			CVE: "CVE-2018-0001", CVSS: []firmward.CVSS{cvssNVD("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)},
			EPSS: &firmward.EPSSScore{Score: 0.002}, Criticality: firmward.CriticalityLow, Exposure: firmward.ExposureSegmented, Certain: true,
		}},
		{"same, no EPSS (Defer)", Facts{
			CVE: "CVE-2018-0001", CVSS: []firmward.CVSS{cvssNVD("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)},
			Criticality: firmward.CriticalityLow, Exposure: firmward.ExposureSegmented, Certain: true,
		}},
		{"possible, nothing known (Defer)", Facts{Criticality: firmward.CriticalityLow, Exposure: firmward.ExposureSegmented}},
	}
	type ranked struct {
		name string
		a    Assessment
	}
	var got []ranked
	for _, c := range cases {
		got = append(got, ranked{c.name, Assess(c.f)})
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].a.Priority <= got[i].a.Priority {
			t.Errorf("%q (%d, %s) should rank above %q (%d, %s)", got[i-1].name, got[i-1].a.Priority, got[i-1].a.Decision,
				got[i].name, got[i].a.Priority, got[i].a.Decision)
		}
	}
	if testing.Verbose() {
		for _, r := range got {
			t.Logf("%4d %-13s %s", r.a.Priority, r.a.Decision, r.name)
		}
	}
}

func TestPriorityBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    int
		want int
	}{
		{"maximum", priority(DecisionImmediate, true, true, 1, 10, firmward.CriticalitySafetyCritical), MaxPriority},
		{"minimum", priority(DecisionDefer, false, false, -1, 0, firmward.CriticalityLow), 0},
		{"band floor beats everything below", priority(DecisionScheduled, false, false, -1, 0, firmward.CriticalityLow), 250},
		{"best Defer stays below Scheduled", priority(DecisionDefer, true, true, 1, 10, firmward.CriticalitySafetyCritical), 248},
		{"garbage numbers clamp", priority(DecisionDefer, false, false, 7, 99, "x"), 30 + 22 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.p != tt.want {
				t.Errorf("priority = %d, want %d", tt.p, tt.want)
			}
		})
	}
}
