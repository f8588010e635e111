package assess

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/vuln"
)

var testNow = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

// newTestAssessor returns an Assessor over the records of testdata.
func newTestAssessor(t testing.TB) *Assessor {
	t.Helper()
	x := NewIndex()
	recs := loadRecords(t)
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		x.Add(recs[id])
	}
	return &Assessor{Index: x, Policy: risk.DefaultPolicy(), Now: func() time.Time { return testNow }}
}

func findingCVEs(fs []firmward.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.CVE)
	}
	slices.Sort(out)
	return out
}

func findingOf(fs []firmward.Finding, cve string) *firmward.Finding {
	for i := range fs {
		if fs[i].CVE == cve {
			return &fs[i]
		}
	}
	return nil
}

const (
	ax21 = "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:*:*:*:*:*:*:*"
	r7k  = "cpe:2.3:o:netgear:r7000_firmware:1.0.9.10:*:*:*:*:*:*:*"
)

func TestDevice(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	tests := []struct {
		name     string
		dev      firmward.Device
		cves     []string // the findings' CVEs, sorted
		proposed bool     // Evidence.CPEProposed of every finding
		source   string   // Proposal.Source
		fwCPE    string   // Result.FirmwareCPE; "" not checked
		hwCPE    string   // Result.HardwareCPE; "" not checked
	}{
		{
			// CVE-2023-1389: AND(archer_ax21_firmware < 1.1.4, archer_ax21).
			name: "explicit CPE",
			dev: firmward.Device{
				ID: 1, Manufacturer: "TP-Link", Model: "Archer AX21", FirmwareVersion: "1.1.3 Build 20221201 rel.62108",
				CPE: ax21, Exposure: firmward.ExposureInternetFacing, Criticality: firmward.CriticalityHigh,
			},
			cves:   []string{"CVE-2023-1389"},
			source: vuln.ProposalDevice,
			fwCPE:  ax21,
			hwCPE:  "cpe:2.3:h:tp-link:archer_ax21:*:*:*:*:*:*:*:*",
		},
		{
			// The CPE names a NETGEAR R7000 although the inventory says
			// TP-Link: the CPE wins (CVE-2017-18785, configuration 35).
			name:   "explicit CPE wins over manufacturer and model",
			dev:    firmward.Device{ID: 2, Manufacturer: "TP-Link", Model: "Archer AX21", FirmwareVersion: "1.1.3", CPE: r7k},
			cves:   []string{"CVE-2017-18785"},
			source: vuln.ProposalDevice,
			fwCPE:  r7k,
		},
		{
			name:   "explicit CPE with version ANY gets the device's version",
			dev:    firmward.Device{ID: 3, FirmwareVersion: "1.0.9.10", CPE: "cpe:2.3:o:netgear:r7000_firmware:*:*:*:*:*:*:*:*"},
			cves:   []string{"CVE-2017-18785"},
			source: vuln.ProposalDevice,
			fwCPE:  r7k,
		},
		{
			// RouterOS is proposed for any MikroTik model; 6.48.6 is in
			// CVE-2023-30799's [6.34, 6.49.7).
			name:     "proposed CPE used and flagged",
			dev:      firmward.Device{ID: 4, Manufacturer: "MikroTik", Model: "hAP ac2", FirmwareVersion: "6.48.6"},
			cves:     []string{"CVE-2023-30799"},
			proposed: true,
			source:   vuln.ProposalProposed,
			fwCPE:    "cpe:2.3:o:mikrotik:routeros:6.48.6:*:*:*:*:*:*:*",
		},
		{
			name:   "explicit hardware CPE",
			dev:    firmward.Device{ID: 5, FirmwareVersion: "1.0.9.10", CPE: "cpe:2.3:h:netgear:r7000:-:*:*:*:*:*:*:*"},
			cves:   nil, // the hardware alone names no vulnerable firmware
			source: vuln.ProposalDevice,
			hwCPE:  "cpe:2.3:h:netgear:r7000:-:*:*:*:*:*:*:*",
		},
		{
			// CVE 5.x only (no NVD configuration): the CNA's and CISA
			// ADP's entries both name the RT-AX88U; one finding.
			name:   "CVE 5.x affected, one finding for two entries",
			dev:    firmward.Device{ID: 6, FirmwareVersion: "3.0.0.4.388_24198", CPE: "cpe:2.3:o:asus:rt-ax88u_firmware:3.0.0.4.388_24198:*:*:*:*:*:*:*"},
			cves:   []string{"CVE-2024-3080"},
			source: vuln.ProposalDevice,
		},
		{
			name:   "fixed version is not affected",
			dev:    firmward.Device{ID: 7, CPE: "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.4:*:*:*:*:*:*:*"},
			cves:   nil,
			source: vuln.ProposalDevice,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := a.Device(&tt.dev)
			if got := findingCVEs(res.Findings); !slices.Equal(got, tt.cves) {
				t.Fatalf("findings %v, want %v; proposal %+v", got, tt.cves, res.Proposal)
			}
			if res.Proposal.Source != tt.source {
				t.Errorf("proposal source %q, want %q", res.Proposal.Source, tt.source)
			}
			if tt.fwCPE != "" && res.FirmwareCPE != tt.fwCPE {
				t.Errorf("firmware CPE %q, want %q", res.FirmwareCPE, tt.fwCPE)
			}
			if tt.hwCPE != "" && res.HardwareCPE != tt.hwCPE {
				t.Errorf("hardware CPE %q, want %q", res.HardwareCPE, tt.hwCPE)
			}
			for _, f := range res.Findings {
				checkFinding(t, f, tt.dev.ID)
				if f.Evidence.CPEProposed != tt.proposed {
					t.Errorf("%s: cpe_proposed %v, want %v", f.CVE, f.Evidence.CPEProposed, tt.proposed)
				}
			}
			if (res.Fix == nil) != (len(res.Findings) == 0) {
				t.Errorf("fix %+v with %d findings", res.Fix, len(res.Findings))
			}
		})
	}
}

// checkFinding checks what every finding must carry.
func checkFinding(t *testing.T, f firmward.Finding, deviceID int64) {
	t.Helper()
	switch {
	case f.DeviceID != deviceID:
		t.Errorf("%s: device %d, want %d", f.CVE, f.DeviceID, deviceID)
	case f.Status != firmward.FindingOpen:
		t.Errorf("%s: status %q", f.CVE, f.Status)
	case f.Evidence.Source == "" || f.Evidence.Criteria == "" || f.Evidence.Range == "" || f.Evidence.DeviceCPE == "":
		t.Errorf("%s: incomplete evidence %+v", f.CVE, f.Evidence)
	case !strings.HasSuffix(f.Evidence.Reason, "."):
		t.Errorf("%s: reason %q is not a sentence", f.CVE, f.Evidence.Reason)
	case f.Decision == "" || !strings.HasPrefix(f.DecisionWhy, f.Decision+":"):
		t.Errorf("%s: decision %q, why %q", f.CVE, f.Decision, f.DecisionWhy)
	case f.CVSSScore == 0 || f.CVSSVector == "":
		t.Errorf("%s: no CVSS", f.CVE)
	case !f.FirstSeen.Equal(testNow) || !f.LastSeen.Equal(testNow):
		t.Errorf("%s: first/last seen %v/%v", f.CVE, f.FirstSeen, f.LastSeen)
	}
}

func TestDeviceHardware(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	tests := []struct {
		name    string
		fw, hw  string
		cves    []string
		certain bool
	}{
		// CVE-2023-1389 needs the AX21 hardware; CVE-2017-18785 needs
		// the R7000 hardware with r7000_firmware.
		{"own hardware", ax21, "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*", []string{"CVE-2023-1389"}, true},
		{"another model's hardware", ax21, "cpe:2.3:h:tp-link:archer_ax55:-:*:*:*:*:*:*:*", nil, false},
		{"firmware of one model, hardware of another", r7k, "cpe:2.3:h:netgear:r6400:-:*:*:*:*:*:*:*", nil, false},
		{"R7000 with its hardware", r7k, "cpe:2.3:h:netgear:r7000:-:*:*:*:*:*:*:*", []string{"CVE-2017-18785"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Matching below Device: the same pipeline with both names
			// given, as a person would set them.
			dev := vuln.DeviceCPEs{Firmware: tt.fw, Hardware: tt.hw}
			var got []string
			for _, rec := range a.Index.Candidates(tt.fw, tt.hw) {
				ms := vuln.MatchDevice(&rec.Vulnerability, dev)
				if len(ms) == 0 {
					continue
				}
				got = append(got, rec.ID)
				if m := best(ms); m.Certain != tt.certain || m.Platform == "" {
					t.Errorf("%s: certain %v platform %q", rec.ID, m.Certain, m.Platform)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.cves) {
				t.Errorf("matched %v, want %v", got, tt.cves)
			}
		})
	}
}

func TestPossibleRanksBelowCertain(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	base := firmward.Device{
		ID: 8, Manufacturer: "MikroTik", Model: "RB4011", CPE: "cpe:2.3:o:mikrotik:routeros:*:*:*:*:*:*:*:*",
		Exposure: firmward.ExposureInternal, Criticality: firmward.CriticalityMedium,
	}
	known := base
	known.FirmwareVersion = "6.48.6"
	certain := findingOf(a.Device(&known).Findings, "CVE-2023-30799")
	possible := findingOf(a.Device(&base).Findings, "CVE-2023-30799")
	if certain == nil || possible == nil {
		t.Fatal("CVE-2023-30799 not found for both devices")
	}
	if !certain.Certain || possible.Certain {
		t.Fatalf("certain %v / %v", certain.Certain, possible.Certain)
	}
	if possible.Priority >= certain.Priority {
		t.Errorf("possible priority %d >= certain %d", possible.Priority, certain.Priority)
	}
	if !strings.Contains(possible.DecisionWhy, "possible") {
		t.Errorf("decision why %q does not say possible", possible.DecisionWhy)
	}
	// CVE-2013-4654 names TL-WDR4300 firmware with version NA: possible.
	wdr := firmward.Device{ID: 9, FirmwareVersion: "3.14.3", CPE: "cpe:2.3:o:tp-link:tl-wdr4300_firmware:3.14.3:*:*:*:*:*:*:*"}
	res := a.Device(&wdr)
	f := findingOf(res.Findings, "CVE-2013-4654")
	if f == nil || f.Certain || !strings.Contains(f.Evidence.Reason, "does not say which versions") {
		t.Fatalf("NA finding %+v", f)
	}
	if res.Fix == nil || res.Fix.Version != "" || !slices.Equal(res.Fix.StillOpen, []string{"CVE-2013-4654"}) ||
		!strings.Contains(res.Fix.Text, "does not say which versions") {
		t.Errorf("fix %+v", res.Fix)
	}
}

func TestKEV(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	// Archer AX21 1.1.3: CVE-2023-1389 is in KEV (due 2023-05-22).
	// RouterOS 6.40.1: CVE-2018-1156 is not in KEV, CVE-2018-14847 is.
	devs := []firmward.Device{
		{ID: 10, CPE: ax21, Exposure: firmward.ExposureInternal, Criticality: firmward.CriticalityMedium},
		{ID: 11, CPE: "cpe:2.3:o:mikrotik:routeros:6.40.1:*:*:*:*:*:*:*", Exposure: firmward.ExposureInternal, Criticality: firmward.CriticalityMedium},
	}
	var kev, notKEV []firmward.Finding
	for i := range devs {
		for _, f := range a.Device(&devs[i]).Findings {
			if f.KEV {
				kev = append(kev, f)
			} else {
				notKEV = append(notKEV, f)
			}
		}
	}
	if len(kev) != 2 || len(notKEV) == 0 {
		t.Fatalf("%d KEV findings, %d others", len(kev), len(notKEV))
	}
	for _, f := range kev {
		if !strings.Contains(f.DecisionWhy, "exploitation Active") {
			t.Errorf("%s: %q", f.CVE, f.DecisionWhy)
		}
		want, _ := time.Parse(time.DateOnly, f.KEVDueDate)
		want = want.Add(risk.Day)
		if f.DueDate == nil || !f.DueDate.Equal(want) {
			t.Errorf("%s: due %v, want the KEV due date %v", f.CVE, f.DueDate, want)
		}
		for _, o := range notKEV {
			if o.DueDate != nil && !f.DueDate.Before(*o.DueDate) {
				t.Errorf("%s due %v not before %s due %v", f.CVE, f.DueDate, o.CVE, o.DueDate)
			}
			if f.Priority <= o.Priority {
				t.Errorf("%s priority %d <= %s %d", f.CVE, f.Priority, o.CVE, o.Priority)
			}
		}
	}
	for _, o := range notKEV {
		if strings.Contains(o.DecisionWhy, "exploitation Active") {
			t.Errorf("%s: %q", o.CVE, o.DecisionWhy)
		}
	}
	// The store recomputes the due date from its own first-seen time.
	f := notKEV[0]
	first := testNow.Add(-20 * risk.Day)
	dur, _ := a.Policy.For(risk.Decision(f.Decision))
	if got := DueFrom(a.Policy, &f, first); got == nil || !got.Equal(first.Add(dur)) {
		t.Errorf("DueFrom = %v, want %v", got, first.Add(dur))
	}
}

func TestDeviceFix(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	tests := []struct {
		name      string
		dev       firmward.Device
		version   string
		closes    []string
		stillOpen []string
		fixedIn   map[string]string
	}{
		{
			// CVE-2018-1156 < 6.42.7, CVE-2018-14847 <= 6.42 (no fix of
			// its own), CVE-2023-30799 [6.34, 6.49.7).
			name:    "RouterOS 6.40.1, three CVEs",
			dev:     firmward.Device{ID: 12, CPE: "cpe:2.3:o:mikrotik:routeros:6.40.1:*:*:*:*:*:*:*"},
			version: "6.49.7",
			closes:  []string{"CVE-2018-1156", "CVE-2018-14847", "CVE-2023-30799"},
			fixedIn: map[string]string{"CVE-2018-1156": "6.42.7", "CVE-2018-14847": "", "CVE-2023-30799": "6.49.7"},
		},
		{
			// 6.30 is below CVE-2023-30799's main range [6.34, 6.49.7)
			// but possibly in its ltr one (<= 6.48.7, whose fix firmward
			// cannot name): it stays open.
			name:      "RouterOS 6.30, ltr range ends including",
			dev:       firmward.Device{ID: 13, CPE: "cpe:2.3:o:mikrotik:routeros:6.30:*:*:*:*:*:*:*"},
			version:   "6.42.7",
			closes:    []string{"CVE-2018-1156", "CVE-2018-14847"},
			stillOpen: []string{"CVE-2023-30799"},
		},
		{
			name:    "Archer AX21",
			dev:     firmward.Device{ID: 14, CPE: ax21},
			version: "1.1.4",
			closes:  []string{"CVE-2023-1389"},
			fixedIn: map[string]string{"CVE-2023-1389": "1.1.4"},
		},
		{
			// CNA: <= 3.0.0.4.388_24198; CISA ADP: < 3.0.0.4.388_24209.
			name:    "ASUS RT-AX88U, CNA and ADP bounds",
			dev:     firmward.Device{ID: 15, CPE: "cpe:2.3:o:asus:rt-ax88u_firmware:3.0.0.4.388_24198:*:*:*:*:*:*:*"},
			version: "3.0.0.4.388_24209",
			closes:  []string{"CVE-2024-3080"},
			fixedIn: map[string]string{"CVE-2024-3080": "3.0.0.4.388_24209"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := a.Device(&tt.dev)
			if res.Fix == nil {
				t.Fatal("no fix")
			}
			fx := res.Fix
			if fx.Version != tt.version || !slices.Equal(fx.Closes, tt.closes) || !slices.Equal(fx.StillOpen, tt.stillOpen) {
				t.Errorf("fix %+v, want %s closing %v, open %v", fx, tt.version, tt.closes, tt.stillOpen)
			}
			if !strings.Contains(fx.Text, tt.version) {
				t.Errorf("text %q", fx.Text)
			}
			for cve, want := range tt.fixedIn {
				if f := findingOf(res.Findings, cve); f == nil || f.FixedIn != want {
					t.Errorf("%s: finding %+v, want fixed in %q", cve, f, want)
				}
			}
		})
	}
}

func TestNothingToMatch(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	res := a.Device(&firmward.Device{ID: 16, Name: "Unknown gadget", FirmwareVersion: "1.0"})
	if len(res.Findings) != 0 || res.Fix != nil || res.FirmwareCPE != "" || res.HardwareCPE != "" {
		t.Errorf("result %+v", res)
	}
	if res.Proposal.Source != vuln.ProposalNone || res.Proposal.Explanation == "" {
		t.Errorf("proposal %+v", res.Proposal)
	}
	// A nil index assesses nothing but still proposes.
	empty := &Assessor{Policy: risk.DefaultPolicy()}
	if r := empty.Device(&firmward.Device{Manufacturer: "MikroTik", Model: "hAP ac2"}); len(r.Findings) != 0 || r.Proposal.Source == "" {
		t.Errorf("nil index: %+v", r)
	}
}

func TestNoDuplicateFindings(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	// Adding a record again (as the "modified" feed repeats the yearly
	// one) keeps one record per CVE.
	for _, r := range loadRecords(t) {
		a.Index.Add(r)
	}
	if a.Index.Len() != len(testCVEs)+1 {
		t.Errorf("index holds %d records", a.Index.Len())
	}
	devs := []firmward.Device{
		{ID: 17, CPE: "cpe:2.3:o:asus:rt-ax88u_firmware:3.0.0.4.388_24198:*:*:*:*:*:*:*"},
		{ID: 18, CPE: "cpe:2.3:o:mikrotik:routeros:6.40.1:*:*:*:*:*:*:*", Manufacturer: "MikroTik", Model: "RB4011"},
		{ID: 19, CPE: ax21, Manufacturer: "TP-Link", Model: "Archer AX21"},
	}
	for i := range devs {
		fs := a.Device(&devs[i]).Findings
		got := findingCVEs(fs)
		if len(got) == 0 || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("device %d: findings %v", devs[i].ID, got)
		}
		for j := 1; j < len(fs); j++ {
			if fs[j].Priority > fs[j-1].Priority {
				t.Errorf("device %d: findings not sorted by priority", devs[i].ID)
			}
		}
	}
}

func TestDevicesMatchesDevice(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	ds := []firmward.Device{
		{ID: 20, CPE: ax21, Exposure: firmward.ExposureInternetFacing},
		{ID: 21, CPE: ax21, Exposure: firmward.ExposureSegmented}, // same match, other decision
		{ID: 22, Manufacturer: "MikroTik", Model: "hAP ac2", FirmwareVersion: "6.48.6"},
		{ID: 23, Manufacturer: "MikroTik", Model: "hAP ac2", FirmwareVersion: "6.48.6"},
		{ID: 24},
	}
	got := a.Devices(ds)
	if len(got) != len(ds) {
		t.Fatalf("%d results", len(got))
	}
	for i := range ds {
		want := a.Device(&ds[i])
		if !slices.Equal(findingCVEs(got[i].Findings), findingCVEs(want.Findings)) || got[i].FirmwareCPE != want.FirmwareCPE {
			t.Errorf("device %d: Devices %+v, Device %+v", ds[i].ID, got[i], want)
		}
		for j := range want.Findings {
			if g, w := got[i].Findings[j], want.Findings[j]; g.Priority != w.Priority || g.Decision != w.Decision || g.DeviceID != ds[i].ID {
				t.Errorf("device %d %s: %+v vs %+v", ds[i].ID, w.CVE, g, w)
			}
		}
	}
}
