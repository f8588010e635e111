package lifecycle

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func date(s string) time.Time {
	t, err := time.Parse(firmward.DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestMatching(t *testing.T) {
	t.Parallel()
	entries := []*firmward.EOLEntry{
		{ID: 1, Manufacturer: "TP-Link", EndOfSupport: "2030-01-01"},
		{ID: 2, Manufacturer: "tp link", Model: "Archer C7", EndOfSupport: "2022-01-01"},
		{ID: 3, Manufacturer: "TP-Link", Model: "Archer C7 AC1750", EndOfSupport: "2023-01-01"},
		{ID: 4, Manufacturer: "Netgear", Model: "R7800", EndOfSupport: "2024-01-01"},
	}
	tests := []struct {
		manufacturer, model string
		want                int64
	}{
		{"TP-Link", "Archer C7", 2},
		{"TP-LINK", "archer c7 ac1750 (US)", 3},
		{"TP-Link", "Archer C70", 1}, // not Archer C7: manufacturer-wide entry
		{"Netgear", "R7800", 4},
		{"Netgear", "R7000", 0},
		{"Wyze", "Cam v3", 0},
	}
	for _, tc := range tests {
		t.Run(tc.manufacturer+"/"+tc.model, func(t *testing.T) {
			t.Parallel()
			got := MatchEOL(entries, &firmward.Device{Manufacturer: tc.manufacturer, Model: tc.model})
			var id int64
			if got != nil {
				id = got.ID
			}
			if id != tc.want {
				t.Errorf("MatchEOL = %d, want %d", id, tc.want)
			}
		})
	}

	list := make([]*firmward.OpenFirmwareModel, 0)
	for _, m := range SeedOpenFirmware() {
		if err := m.Normalize(); err != nil {
			t.Fatalf("seed entry %+v: %v", m, err)
		}
		list = append(list, &m)
	}
	ofw := []struct {
		manufacturer, model, hw string
		want                    bool
	}{
		{"TP-Link", "Archer C7", "v2.0", true},
		{"TP-Link", "Archer C7", "V5", true},
		{"TP-Link", "Archer C7", "v3", false},
		{"TP-Link", "Archer C7", "", false},
		{"TP-Link", "Archer C7", "v20", false},
		{"Netgear", "R7800", "", true},
		{"Aruba", "AP-303H", "", true},
		{"TP-Link", "Archer AX21", "V1.20", false},
	}
	for _, tc := range ofw {
		got := len(MatchOpenFirmware(list, &firmward.Device{Manufacturer: tc.manufacturer, Model: tc.model, HardwareVersion: tc.hw})) > 0
		if got != tc.want {
			t.Errorf("MatchOpenFirmware(%s %s %s) = %v, want %v", tc.manufacturer, tc.model, tc.hw, got, tc.want)
		}
	}
}

func openFinding(cve string, kev bool, epss, cvss float64, fixedIn string) *firmward.Finding {
	return &firmward.Finding{CVE: cve, Status: firmward.FindingOpen, KEV: kev, EPSS: epss, CVSSScore: cvss, FixedIn: fixedIn}
}

func TestAssess(t *testing.T) {
	t.Parallel()
	base := func(mod func(d *firmward.Device)) *firmward.Device {
		d := &firmward.Device{
			ID: 7, Name: "cam", Manufacturer: "Acme", Model: "X1", Category: firmward.CategoryCamera,
			Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternal, Owner: "alice",
		}
		if mod != nil {
			mod(d)
		}
		return d
	}
	eolPast := &firmward.EOLEntry{Manufacturer: "Acme", Model: "X1", EndOfSupport: "2024-06-30", Source: "vendor notice"}
	value := func(v firmward.OperationalValue) *firmward.OperationalValueAnswer {
		return &firmward.OperationalValueAnswer{DeviceID: 7, Value: v}
	}
	recent := &NewestFirmware{Date: now.AddDate(0, -3, 0), From: "test"}
	old := &NewestFirmware{Date: now.AddDate(-2, 0, 0), From: "test"}
	openwrt := []*firmward.OpenFirmwareModel{{Firmware: "OpenWrt", Manufacturer: "Acme", Model: "X1", URL: "https://openwrt.org/toh/start"}}

	tests := []struct {
		name       string
		facts      DeviceFacts
		orphaned   bool
		likelihood Level
		impact     Level
		risk       Level
		rec        Recommendation
		isolate    string
		assumed    bool
		whyHas     string
	}{
		{
			name:  "supported, no findings",
			facts: DeviceFacts{Device: base(nil), Newest: recent},
			risk:  Low, likelihood: Low, impact: Medium, rec: KeepUpdated,
			whyHas: "No end of support",
		},
		{
			name:     "eol passed, no findings, low risk → isolate",
			facts:    DeviceFacts{Device: base(nil), EOL: eolPast, Value: value(firmward.ValueHigh)},
			orphaned: true, likelihood: Low, impact: Medium, risk: Low, rec: Isolate, isolate: IsolateSegment,
			whyHas: "support ended on 2024-06-30",
		},
		{
			name: "device eol field wins over table; KEV internet-facing high value → replace, quarantine",
			facts: DeviceFacts{
				Device:   base(func(d *firmward.Device) { d.EOLDate = "2025-01-01"; d.Exposure = firmward.ExposureInternetFacing }),
				EOL:      &firmward.EOLEntry{Manufacturer: "Acme", EndOfSupport: "2035-01-01"},
				Findings: []*firmward.Finding{openFinding("CVE-2024-1", true, 0.9, 9.8, "")},
				Value:    value(firmward.ValueHigh),
			},
			orphaned: true, likelihood: High, impact: Medium, risk: High, rec: Replace, isolate: IsolateQuarantine,
			whyHas: "the device's eol_date",
		},
		{
			name: "stale firmware with findings, low value → disconnect",
			facts: DeviceFacts{
				Device:   base(nil),
				Findings: []*firmward.Finding{openFinding("CVE-2024-2", false, 0.02, 7.5, "")},
				Newest:   old, Value: value(firmward.ValueLow),
			},
			orphaned: true, likelihood: Medium, impact: Medium, risk: Medium, rec: Disconnect,
			whyHas: "more than 18 months ago",
		},
		{
			name: "no firmware date known with findings → orphaned; open firmware supported → third-party",
			facts: DeviceFacts{
				Device:   base(func(d *firmward.Device) { d.Criticality = firmward.CriticalityHigh }),
				Findings: []*firmward.Finding{openFinding("CVE-2024-3", false, 0.001, 5, "")},
				OpenFW:   openwrt,
			},
			orphaned: true, likelihood: Medium, impact: High, risk: High, rec: ThirdPartyFW, isolate: IsolateQuarantine, assumed: true,
			whyHas: "no firmware release is known for Acme X1",
		},
		{
			name: "recent firmware known: not orphaned despite findings",
			facts: DeviceFacts{
				Device:   base(nil),
				Findings: []*firmward.Finding{openFinding("CVE-2024-4", false, 0.001, 5, "2.0")},
				Newest:   recent,
			},
			orphaned: false, likelihood: Medium, impact: Medium, risk: Medium, rec: KeepUpdated,
			whyHas: "still ships updates",
		},
		{
			name: "every open finding has a fix, only an old estimate: not orphaned, update it",
			facts: DeviceFacts{
				Device:   base(nil),
				Findings: []*firmward.Finding{openFinding("CVE-2023-1389", true, 0.9, 8.8, "1.1.4")},
				Newest:   &NewestFirmware{Date: now.AddDate(-3, 0, 0), From: "estimate", Estimated: true},
			},
			orphaned: false, likelihood: High, impact: Medium, risk: High, rec: KeepUpdated,
			whyHas: "update the device",
		},
		{
			name: "unfixed findings and only an old estimate: orphaned",
			facts: DeviceFacts{
				Device:   base(nil),
				Findings: []*firmward.Finding{openFinding("CVE-2023-1", false, 0.001, 5, "1.1.4"), openFinding("CVE-2025-2", false, 0.001, 5, "")},
				Newest:   &NewestFirmware{Date: now.AddDate(-3, 0, 0), From: "estimate", Estimated: true},
			},
			orphaned: true, likelihood: Medium, impact: Medium, risk: Medium, rec: Isolate, isolate: IsolateSegment, assumed: true,
			whyHas: "1 open finding without a known fix",
		},
		{
			name: "safety-critical, low value, KEV → replace, never disconnect",
			facts: DeviceFacts{
				Device: base(func(d *firmward.Device) {
					d.Criticality = firmward.CriticalitySafetyCritical
					d.Exposure = firmward.ExposureSegmented
				}),
				EOL:      eolPast,
				Findings: []*firmward.Finding{openFinding("CVE-2024-5", true, 0.5, 9, "")},
				Value:    value(firmward.ValueLow),
			},
			orphaned: true, likelihood: High, impact: High, risk: High, rec: Replace, isolate: IsolateQuarantine,
			whyHas: "support ended",
		},
		{
			name: "segmented lowers likelihood; medium value, medium risk → isolate",
			facts: DeviceFacts{
				Device: base(func(d *firmward.Device) {
					d.Exposure = firmward.ExposureSegmented
					d.Criticality = firmward.CriticalityHigh
				}),
				EOL:      eolPast,
				Findings: []*firmward.Finding{openFinding("CVE-2024-6", false, 0.05, 8, "")},
				Value:    value(firmward.ValueMedium),
			},
			orphaned: true, likelihood: Low, impact: High, risk: Medium, rec: Isolate, isolate: IsolateSegment,
			whyHas: "support ended",
		},
		{
			name: "eol soon is flagged but not orphaned",
			facts: DeviceFacts{
				Device: base(func(d *firmward.Device) { d.EOLDate = "2027-02-01" }),
			},
			orphaned: false, likelihood: Low, impact: Medium, risk: Low, rec: Isolate, isolate: IsolateSegment, assumed: true,
			whyHas: "Support ends soon",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := Assess(tc.facts, Policy{}, now)
			if a.Orphaned != tc.orphaned {
				t.Errorf("Orphaned = %v, want %v (why %q)", a.Orphaned, tc.orphaned, a.Why)
			}
			if a.Likelihood != tc.likelihood || a.Impact != tc.impact || a.Risk != tc.risk {
				t.Errorf("likelihood/impact/risk = %s/%s/%s, want %s/%s/%s (%q)", a.Likelihood, a.Impact, a.Risk, tc.likelihood, tc.impact, tc.risk, a.LikelihoodWhy)
			}
			if a.Recommendation != tc.rec || a.IsolateHow != tc.isolate {
				t.Errorf("recommendation %s/%s, want %s/%s; reasoning %q", a.Recommendation, a.IsolateHow, tc.rec, tc.isolate, a.Reasoning)
			}
			if a.ValueAssumed != tc.assumed {
				t.Errorf("ValueAssumed = %v, want %v", a.ValueAssumed, tc.assumed)
			}
			if !strings.Contains(strings.Join(a.Why, " "), tc.whyHas) {
				t.Errorf("why %q lacks %q", a.Why, tc.whyHas)
			}
			if len(a.Reasoning) < 2 {
				t.Errorf("reasoning too short: %q", a.Reasoning)
			}
		})
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		dev                   firmward.Device
		eos                   string
		known, assumed        bool
		life, age             int
		remaining, costPerYrs float64
	}{
		{"nothing known", firmward.Device{}, "", false, false, 0, 0, 0, 0},
		{"no purchase date", firmward.Device{ReplacementCost: 100}, "", false, false, 0, 0, 0, 0},
		{"eol known", firmward.Device{ReplacementCost: 240, PurchaseDate: "2022-11-25"}, "2028-11-25", true, false, 72, 48, 80, 40},
		{"eol before purchase: assumed life", firmward.Device{ReplacementCost: 500, PurchaseDate: "2024-11-25"}, "2020-01-01", true, true, 60, 24, 300, 100},
		{"past its life", firmward.Device{ReplacementCost: 120, PurchaseDate: "2018-01-01"}, "2021-01-01", true, false, 36, 106, 0, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Cost(&tc.dev, tc.eos, Policy{}, now)
			if c.Known != tc.known || c.LifeEndAssumed != tc.assumed || c.LifeMonths != tc.life || c.AgeMonths != tc.age ||
				c.RemainingValue != tc.remaining || c.CostPerYear != tc.costPerYrs {
				t.Errorf("Cost = %+v", c)
			}
			if c.Summary == "" {
				t.Error("no summary")
			}
		})
	}
}

func TestCadenceAndStatus(t *testing.T) {
	t.Parallel()
	rules := []firmward.CheckCadence{
		{Category: firmward.CategorySensor, Months: 6},
		{Site: "Campus", Category: firmward.CategoryCamera, Months: 2},
		{Site: "campus", Months: 4},
	}
	tests := []struct {
		name   string
		dev    firmward.Device
		months int
		why    string
	}{
		{"router default monthly", firmward.Device{Category: firmward.CategoryNetworkInfrastructure}, 1, "default for network-infrastructure"},
		{"lock", firmward.Device{Category: firmward.CategoryLock}, 1, "default"},
		{"internet-facing tv", firmward.Device{Category: firmward.CategoryOther, Exposure: firmward.ExposureInternetFacing}, 1, "internet-facing"},
		{"plug quarterly", firmward.Device{Category: firmward.CategoryConsumerSmartHome}, 3, "quarterly"},
		{"category rule", firmward.Device{Category: firmward.CategorySensor}, 6, "policy for sensor"},
		{"site+category rule", firmward.Device{Category: firmward.CategoryCamera, Site: "CAMPUS"}, 2, "at site Campus"},
		{"site rule", firmward.Device{Category: firmward.CategoryMedical, Site: "campus"}, 4, "site campus"},
		{"category beats site", firmward.Device{Category: firmward.CategorySensor, Site: "campus"}, 6, "policy for sensor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, why := Cadence(rules, &tc.dev)
			if m != tc.months || !strings.Contains(why, tc.why) {
				t.Errorf("Cadence = %d %q, want %d containing %q", m, why, tc.months, tc.why)
			}
		})
	}

	created := now.AddDate(0, -6, 0)
	cam := &firmward.Device{ID: 1, Category: firmward.CategoryCamera, CreatedAt: created}
	plug := &firmward.Device{ID: 2, Category: firmward.CategoryConsumerSmartHome, CreatedAt: created}
	fresh := &firmward.Device{ID: 3, Category: firmward.CategoryConsumerSmartHome, CreatedAt: now.Add(time.Hour)}
	last := map[int64]*firmward.HealthCheck{
		1: {DeviceID: 1, Time: now.AddDate(0, 0, -40), Complete: true},
		2: {DeviceID: 2, Time: now.AddDate(0, 0, -40), Complete: true},
	}
	st := Statuses(nil, []*firmward.Device{plug, fresh, cam}, last, now)
	if len(st) != 3 || st[0].DeviceID != 1 || !st[0].Due || st[0].DaysOverdue < 9 {
		t.Errorf("camera checked 40 days ago should be due first: %+v", st)
	}
	for _, s := range st {
		switch s.DeviceID {
		case 2:
			if s.Due || !s.DueDate.Equal(last[2].Time.AddDate(0, 3, 0)) {
				t.Errorf("plug: %+v", s)
			}
		case 3:
			if s.Due {
				t.Errorf("a device added in the future is not due: %+v", s)
			}
		}
	}
	never := Status(nil, plug, nil, now)
	if !never.Due || !never.DueDate.Equal(created) {
		t.Errorf("never checked: %+v", never)
	}
}

func TestChecklistHints(t *testing.T) {
	t.Parallel()
	steps := Checklist(&firmward.Device{Manufacturer: "Philips Hue", FirmwareVersion: "1.50"})
	if len(steps) != 4 || !strings.Contains(steps[1].Help, "Automatic updates") || !strings.Contains(steps[3].Help, "1.50") {
		t.Errorf("Hue checklist: %+v", steps)
	}
	if h := HintFor("Unknown Corp"); !strings.Contains(h.Admin, "web page") {
		t.Errorf("generic hint: %+v", h)
	}
	if h := HintFor("tp link"); h.Manufacturer != "TP-Link" {
		t.Errorf("TP-Link hint: %+v", h)
	}
}

func TestVendorRecords(t *testing.T) {
	t.Parallel()
	fixedAt := date("2024-03-11")
	in := VendorInput{
		Devices: []*firmward.Device{
			{ID: 1, Manufacturer: "Acme", Category: firmward.CategoryCamera, AutoUpdate: firmward.AutoUpdateYes},
			{ID: 2, Manufacturer: "ACME", Category: firmward.CategoryCamera, AutoUpdate: firmward.AutoUpdateNo},
			{ID: 3, Manufacturer: "Acme", Category: firmward.CategoryLock, AutoUpdate: firmward.AutoUpdateUnknown},
			{ID: 4, Manufacturer: "Bolt", Category: firmward.CategoryLock, AutoUpdate: firmward.AutoUpdateYes},
			{ID: 5, Manufacturer: "Cammy", Category: firmward.CategoryCamera},
		},
		Findings: map[int64][]*firmward.Finding{
			1: {openFinding("CVE-1", true, 0, 0, "2.0"), {CVE: "CVE-2", Status: firmward.FindingFixed, FixedIn: "2.1", FixedAt: &fixedAt}},
			2: {openFinding("CVE-1", true, 0, 0, ""), openFinding("CVE-3", false, 0, 0, "")},
			4: {{CVE: "CVE-9", Status: firmward.FindingNotAffected}},
			5: {openFinding("CVE-5", true, 0, 0, "")},
		},
		Published: map[string]time.Time{"CVE-1": date("2024-01-01"), "CVE-2": date("2024-03-01")},
		FixReleased: func(d *firmward.Device, f *firmward.Finding) (time.Time, bool) {
			if f.CVE == "CVE-1" && f.FixedIn == "2.0" {
				return date("2024-01-31"), true
			}
			return time.Time{}, false
		},
		EOL: []*firmward.EOLEntry{
			{Manufacturer: "Acme", Model: "A", ReleaseDate: "2018-01-01", EndOfSupport: "2023-01-01"},
			{Manufacturer: "acme", Model: "B", ReleaseDate: "2016-01-01", EndOfSupport: "2023-01-01"},
			{Manufacturer: "Acme", Model: "C", EndOfSupport: "2023-01-01"}, // no release date: not counted
		},
	}
	all := VendorRecords(in, "")
	if len(all) != 3 {
		t.Fatalf("records: %+v", all)
	}
	var acme VendorRecord
	for _, r := range all {
		if r.Manufacturer == "Acme" {
			acme = r
		}
	}
	want := VendorRecord{
		Manufacturer: "Acme", Devices: 3, Categories: []firmward.Category{firmward.CategoryCamera, firmward.CategoryLock},
		CVEs: 3, FixShare: Figure{0.667, 3}, KEV: 1,
		DaysToFix: Figure{30, 1}, DaysToFixedInFleet: Figure{10, 1},
		SupportYears: Figure{6, 2}, AutoUpdate: Figure{0.5, 2},
	}
	want.Score, want.ScoreN = score(want)
	if acme.Manufacturer != want.Manufacturer || acme.Devices != want.Devices || !slices.Equal(acme.Categories, want.Categories) ||
		acme.CVEs != want.CVEs || acme.FixShare != want.FixShare || acme.KEV != want.KEV || acme.DaysToFix != want.DaysToFix ||
		acme.DaysToFixedInFleet != want.DaysToFixedInFleet || acme.SupportYears != want.SupportYears || acme.AutoUpdate != want.AutoUpdate ||
		acme.ScoreN != 5 || acme.Score != want.Score {
		t.Errorf("Acme = %+v\nwant %+v", acme, want)
	}
	cams := VendorRecords(in, firmward.CategoryCamera)
	names := []string{}
	for _, r := range cams {
		names = append(names, r.Manufacturer)
	}
	// Cammy: one CVE in KEV, no fix, nothing else → score 0 on 2 figures.
	if !slices.Equal(names, []string{"Acme", "Cammy"}) {
		t.Errorf("camera ranking = %v", names)
	}
	locks := VendorRecords(in, firmward.CategoryLock)
	if len(locks) != 2 || locks[0].Manufacturer != "Bolt" || locks[0].CVEs != 0 || locks[0].AutoUpdate != (Figure{1, 1}) {
		t.Errorf("lock ranking = %+v", locks)
	}
}

// fakeFirmware is a FirmwareDates with fixed answers.
type fakeFirmware struct{}

func (fakeFirmware) NewestFirmware(_ context.Context, manufacturer, model string) (string, time.Time, bool, error) {
	if manufacturer == "Acme" && model == "X1" {
		return "3.0", date("2026-09-01"), true, nil
	}
	return "", time.Time{}, false, nil
}

func (fakeFirmware) FirmwareReleased(_ context.Context, _, _, version string) (time.Time, bool, error) {
	if version == "2.0" {
		return date("2024-02-01"), true, nil
	}
	return time.Time{}, false, nil
}

func TestNewestKnown(t *testing.T) {
	t.Parallel()
	x1 := &firmward.Device{ID: 1, Manufacturer: "Acme", Model: "X1"}
	x1b := &firmward.Device{ID: 2, Manufacturer: "acme", Model: "x-1"}
	y := &firmward.Device{ID: 3, Manufacturer: "Acme", Model: "Y"}
	fl := &Fleet{
		Devices: []*firmward.Device{x1, x1b, y},
		Findings: map[int64][]*firmward.Finding{
			2: {openFinding("CVE-A", false, 0, 0, "2.0"), openFinding("CVE-B", false, 0, 0, "2.1"), openFinding("CVE-C", false, 0, 0, "")},
			3: {openFinding("CVE-C", false, 0, 0, "")},
		},
		Published: map[string]time.Time{"CVE-A": date("2024-01-01"), "CVE-B": date("2025-01-01"), "CVE-C": date("2026-01-01")},
		newest:    map[string]*NewestFirmware{}, fixRel: map[string]time.Time{},
	}
	nf := fl.NewestKnown(x1)
	if nf == nil || !nf.Date.Equal(date("2025-01-01")) || !nf.Estimated || !strings.Contains(nf.From, "CVE-B is fixed in 2.1") {
		t.Errorf("estimate from the model's fixed CVEs: %+v", nf)
	}
	if nf := fl.NewestKnown(y); nf != nil {
		t.Errorf("no fix known for Y: %+v", nf)
	}
	if err := fl.loadFirmwareDates(context.Background(), fakeFirmware{}); err != nil {
		t.Fatal(err)
	}
	if nf := fl.NewestKnown(x1); nf == nil || !nf.Date.Equal(date("2026-09-01")) || nf.Version != "3.0" || nf.Estimated {
		t.Errorf("catalog answer: %+v", nf)
	}
	a := Assess(fl.Facts(y), Policy{StaleMonths: 6}, now)
	if !a.Orphaned {
		t.Errorf("Y has open findings and no firmware date: %+v", a)
	}
	recs := fl.VendorRecords("")
	if len(recs) != 1 || recs[0].DaysToFix != (Figure{31, 1}) {
		t.Errorf("days to fix from the catalog: %+v", recs)
	}
}
