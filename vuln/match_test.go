package vuln

import (
	"os"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// want describes the expected outcome of MatchDevice: how many matches,
// and for the first one its configuration (or affected) index, whether it
// is certain and what its reason mentions.
type want struct {
	n          int
	cfg        int
	certain    bool
	platform   string // substring of Platform
	reasonPart string
}

func checkMatches(t *testing.T, got []Match, w want) {
	t.Helper()
	if len(got) != w.n {
		t.Fatalf("got %d matches, want %d: %+v", len(got), w.n, got)
	}
	if w.n == 0 {
		return
	}
	m := got[0]
	if m.Configuration != w.cfg && m.Affected != w.cfg {
		t.Errorf("configuration/affected = %d/%d, want %d", m.Configuration, m.Affected, w.cfg)
	}
	if m.Certain != w.certain {
		t.Errorf("certain = %v, want %v (reason %q)", m.Certain, w.certain, m.Reason)
	}
	if !strings.Contains(m.Platform, w.platform) {
		t.Errorf("platform = %q, want it to contain %q", m.Platform, w.platform)
	}
	if !strings.Contains(m.Reason, w.reasonPart) {
		t.Errorf("reason = %q, want it to contain %q", m.Reason, w.reasonPart)
	}
	if m.Reason == "" || !strings.HasSuffix(m.Reason, ".") {
		t.Errorf("reason %q is not a sentence", m.Reason)
	}
}

func TestMatchDeviceNVD(t *testing.T) {
	t.Parallel()
	const (
		ax21FW = "cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*"
		ax21HW = "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*"
	)
	tests := []struct {
		name string
		cve  string
		dev  DeviceCPEs
		want want
	}{
		// CVE-2023-1389: AND(firmware < 1.1.4 vulnerable, hardware archer_ax21).
		{
			"1389 own hardware old firmware", "CVE-2023-1389",
			DeviceCPEs{Firmware: ax21FW, Hardware: ax21HW, Version: "1.1.3 Build 20221201 rel.59917"},
			want{1, 0, true, "archer_ax21:-", "version 1.1.3 Build 20221201 rel.59917 is in the affected range (< 1.1.4)"},
		},
		{
			"1389 fixed firmware", "CVE-2023-1389",
			DeviceCPEs{Firmware: ax21FW, Hardware: ax21HW, Version: "1.1.4 Build 20230219 rel.60034"},
			want{},
		},
		{
			"1389 version in firmware CPE", "CVE-2023-1389",
			DeviceCPEs{Firmware: "cpe:2.3:o:TP-Link:Archer_AX21_Firmware:1.1.2:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:tp-link:archer_ax21:v1:*:*:*:*:*:*:*"},
			want{1, 0, true, "archer_ax21", "1.1.2"},
		},
		{
			"1389 other hardware model", "CVE-2023-1389",
			DeviceCPEs{Firmware: ax21FW, Hardware: "cpe:2.3:h:tp-link:archer_ax50:-:*:*:*:*:*:*:*", Version: "1.1.2"},
			want{},
		},
		{
			"1389 hardware unknown", "CVE-2023-1389",
			DeviceCPEs{Firmware: ax21FW, Version: "1.1.2"},
			want{1, 0, false, "archer_ax21", "hardware model is unknown"},
		},
		{
			"1389 firmware version unknown", "CVE-2023-1389",
			DeviceCPEs{Firmware: ax21FW, Hardware: ax21HW},
			want{1, 0, false, "archer_ax21", "firmware version is unknown"},
		},
		{
			"1389 hardware only", "CVE-2023-1389",
			DeviceCPEs{Hardware: ax21HW, Version: "1.1.2"},
			want{},
		},
		// CVE-2023-30799: ltr <= 6.48.7 OR stable (-) [6.34, 6.49.7).
		{
			"30799 ltr in range", "CVE-2023-30799",
			DeviceCPEs{Firmware: "cpe:2.3:o:mikrotik:routeros:6.48.6:*:*:*:ltr:*:*:*"},
			want{1, 0, true, "", "6.48.6"},
		},
		{
			"30799 ltr above", "CVE-2023-30799",
			DeviceCPEs{Firmware: "cpe:2.3:o:mikrotik:routeros:6.48.8:*:*:*:ltr:*:*:*"},
			want{},
		},
		{
			"30799 stable in range", "CVE-2023-30799",
			DeviceCPEs{Firmware: "cpe:2.3:o:mikrotik:routeros:*:*:*:*:-:*:*:*", Version: "6.49.6"},
			want{1, 0, true, "", "< 6.49.7"},
		},
		{
			"30799 edition unstated in stable range", "CVE-2023-30799",
			DeviceCPEs{Firmware: "cpe:2.3:o:mikrotik:routeros:*:*:*:*:*:*:*:*", Version: "6.40"},
			want{1, 0, true, "", "6.40"},
		},
		{
			"30799 edition unstated only ltr range", "CVE-2023-30799",
			DeviceCPEs{Firmware: "cpe:2.3:o:mikrotik:routeros:*:*:*:*:*:*:*:*", Version: "6.30"},
			want{1, 0, false, "", "sw_edition \"ltr\""},
		},
		{
			"30799 fixed", "CVE-2023-30799",
			DeviceCPEs{Firmware: "cpe:2.3:o:mikrotik:routeros:*:*:*:*:*:*:*:*", Version: "6.49.7"},
			want{},
		},
		// CVE-2013-4654: NA firmware versions, two models each with its own hardware.
		{
			"4654 NA version possible", "CVE-2013-4654",
			DeviceCPEs{Firmware: "cpe:2.3:o:tp-link:tl-wdr4300_firmware:*:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:tp-link:tl-wdr4300:-:*:*:*:*:*:*:*", Version: "3.13.33"},
			want{1, 0, false, "tl-wdr4300", "does not say which versions"},
		},
		{
			"4654 second model", "CVE-2013-4654",
			DeviceCPEs{Firmware: "cpe:2.3:o:tp-link:tl-1043nd_firmware:*:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:tp-link:tl-1043nd:-:*:*:*:*:*:*:*"},
			want{1, 1, false, "tl-1043nd", "does not say"},
		},
		{
			"4654 firmware of one model on the other's hardware", "CVE-2013-4654",
			DeviceCPEs{Firmware: "cpe:2.3:o:tp-link:tl-wdr4300_firmware:*:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:tp-link:tl-1043nd:-:*:*:*:*:*:*:*"},
			want{},
		},
		// CVE-2013-4977: concrete firmware version AND vulnerable hardware.
		{
			"4977 exact version", "CVE-2013-4977",
			DeviceCPEs{Firmware: "cpe:2.3:o:hikvision:ds-2cd7153-e_firmware:*:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:hikvision:ds-2cd7153-e:*:*:*:*:*:*:*:*", Version: "V4.1.0_b130111"},
			want{1, 0, true, "", "= 4.1.0_b130111"},
		},
		{
			"4977 other version", "CVE-2013-4977",
			DeviceCPEs{Firmware: "cpe:2.3:o:hikvision:ds-2cd7153-e_firmware:*:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:hikvision:ds-2cd7153-e:*:*:*:*:*:*:*:*", Version: "5.2.0"},
			want{},
		},
		// CVE-2014-1966: start-excluding ranges tied to one hardware model each.
		{
			"1966 rs950g in its range", "CVE-2014-1966",
			DeviceCPEs{Firmware: "cpe:2.3:o:siemens:ruggedcom_rugged_operating_system:3.11.2:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:siemens:ruggedcom_rs950g:-:*:*:*:*:*:*:*"},
			want{1, 1, true, "rs950g", "> 3.11.0, < 3.11.5"},
		},
		{
			"1966 same version other model", "CVE-2014-1966",
			DeviceCPEs{Firmware: "cpe:2.3:o:siemens:ruggedcom_rugged_operating_system:3.11.2:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:siemens:ruggedcom_rsg2488:-:*:*:*:*:*:*:*"},
			want{},
		},
		{
			"1966 start excluded", "CVE-2014-1966",
			DeviceCPEs{Firmware: "cpe:2.3:o:siemens:ruggedcom_rugged_operating_system:3.11.0:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:siemens:ruggedcom_rs950g:-:*:*:*:*:*:*:*"},
			want{},
		},
		{
			"1966 any hardware, first configuration", "CVE-2014-1966",
			DeviceCPEs{Firmware: "cpe:2.3:o:siemens:ruggedcom_rugged_operating_system:3.12.3:*:*:*:*:*:*:*"},
			want{1, 0, true, "", "< 3.12.4"},
		},
		// CVE-2017-13067: both bounds inclusive.
		{"13067 lower bound", "CVE-2017-13067", DeviceCPEs{Firmware: "cpe:2.3:o:qnap:qts:4.2.0:*:*:*:*:*:*:*"}, want{1, 0, true, "", ">= 4.2.0, <= 4.2.6"}},
		{"13067 upper bound", "CVE-2017-13067", DeviceCPEs{Firmware: "cpe:2.3:o:qnap:qts:*:*:*:*:*:*:*:*", Version: "4.3.3.0299"}, want{1, 0, true, "", "<= 4.3.3.0299"}},
		{"13067 between ranges", "CVE-2017-13067", DeviceCPEs{Firmware: "cpe:2.3:o:qnap:qts:*:*:*:*:*:*:*:*", Version: "4.2.7"}, want{}},
		// CVE-2010-5330: three ranges of one product.
		{"5330 first range", "CVE-2010-5330", DeviceCPEs{Firmware: "cpe:2.3:o:ui:airos:5.3.6:*:*:*:*:*:*:*"}, want{1, 0, true, "", ">= 5.3.6, < 5.4.5"}},
		{"5330 gap", "CVE-2010-5330", DeviceCPEs{Firmware: "cpe:2.3:o:ui:airos:5.3.5:*:*:*:*:*:*:*"}, want{}},
		{"5330 oldest", "CVE-2010-5330", DeviceCPEs{Firmware: "cpe:2.3:o:ui:airos:4.0:*:*:*:*:*:*:*"}, want{1, 0, true, "", "< 4.0.1"}},
		{"no device CPEs", "CVE-2010-5330", DeviceCPEs{Version: "4.0"}, want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := loadExcerpt(t, tt.cve)
			got := MatchDevice(v, tt.dev)
			for _, m := range got {
				if m.CVE != tt.cve || m.Source != "nvd" || m.Affected != -1 || m.Vulnerable == "" {
					t.Errorf("bad match fields: %+v", m)
				}
			}
			checkMatches(t, got, tt.want)
		})
	}
}

// TestMatchDeviceLogic covers tree shapes the excerpts lack: negation,
// NVD 1.1 nested children, an empty tree, and platform-only trees.
func TestMatchDeviceLogic(t *testing.T) {
	t.Parallel()
	fw := firmward.CPEMatch{Vulnerable: true, Criteria: "cpe:2.3:o:acme:cam_firmware:*:*:*:*:*:*:*:*", VersionEndExcluding: "2.0"}
	hwA := firmward.CPEMatch{Criteria: "cpe:2.3:h:acme:cam_a:-:*:*:*:*:*:*:*"}
	hwB := firmward.CPEMatch{Criteria: "cpe:2.3:h:acme:cam_b:-:*:*:*:*:*:*:*"}
	node := func(op string, neg bool, ms ...firmward.CPEMatch) firmward.Node {
		return firmward.Node{Operator: op, Negate: neg, Matches: ms}
	}
	devA := DeviceCPEs{Firmware: "cpe:2.3:o:acme:cam_firmware:1.5:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:acme:cam_a:-:*:*:*:*:*:*:*"}
	devB := DeviceCPEs{Firmware: "cpe:2.3:o:acme:cam_firmware:1.5:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:acme:cam_b:-:*:*:*:*:*:*:*"}
	tests := []struct {
		name string
		cfg  firmward.Configuration
		dev  DeviceCPEs
		want want
	}{
		{"AND with hardware list", firmward.Configuration{Operator: "AND", Nodes: []firmward.Node{node("OR", false, fw), node("OR", false, hwA, hwB)}}, devB, want{1, 0, true, "cam_b", "1.5"}},
		{"negated hardware excludes", firmward.Configuration{Operator: "AND", Nodes: []firmward.Node{node("OR", false, fw), node("OR", true, hwA)}}, devA, want{}},
		{"negated hardware admits others", firmward.Configuration{Operator: "AND", Nodes: []firmward.Node{node("OR", false, fw), node("OR", true, hwA)}}, devB, want{1, 0, true, "", "1.5"}},
		{"negated configuration", firmward.Configuration{Negate: true, Nodes: []firmward.Node{node("OR", false, hwA)}}, devB, want{}},
		{"nested 1.1 children", firmward.Configuration{Nodes: []firmward.Node{{Operator: "AND", Children: []firmward.Node{node("OR", false, fw), node("OR", false, hwA)}}}}, devA, want{1, 0, true, "cam_a", "1.5"}},
		{"nested 1.1 children other model", firmward.Configuration{Nodes: []firmward.Node{{Operator: "AND", Children: []firmward.Node{node("OR", false, fw), node("OR", false, hwA)}}}}, devB, want{}},
		{"platform only is no match", firmward.Configuration{Nodes: []firmward.Node{node("OR", false, hwA)}}, devA, want{}},
		{"empty node", firmward.Configuration{Nodes: []firmward.Node{{Operator: "AND"}}}, devA, want{}},
		{"lower-case operator", firmward.Configuration{Operator: "and", Nodes: []firmward.Node{node("or", false, fw), node("or", false, hwA)}}, devB, want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := &firmward.Vulnerability{ID: "CVE-0000-0001", Configurations: []firmward.Configuration{tt.cfg}}
			checkMatches(t, MatchDevice(v, tt.dev), tt.want)
		})
	}
}

// TestMatchDeviceAffected uses CVE-2024-3080 (ASUS), which has no NVD
// configuration, through its CVE 5 CNA and CISA-ADP affected[] data.
func TestMatchDeviceAffected(t *testing.T) {
	t.Parallel()
	v := loadCVE5(t, "testdata/cve5-CVE-2024-3080.json")
	tests := []struct {
		name    string
		dev     DeviceCPEs
		sources []string
		certain bool
		reason  string
	}{
		{
			"cna and adp both",
			DeviceCPEs{Firmware: "cpe:2.3:o:asus:rt-ax88u_firmware:3.0.0.4.388_24198:*:*:*:*:*:*:*"},
			[]string{"cve5:cna", "cve5:adp:CISA-ADP"},
			true, "<= 3.0.0.4.388_24198",
		},
		{
			"adp only (bound differs)",
			DeviceCPEs{Firmware: "cpe:2.3:o:asus:rt-ax88u_firmware:*:*:*:*:*:*:*:*", Version: "3.0.0.4.388_24200"},
			[]string{"cve5:adp:CISA-ADP"},
			true, "< 3.0.0.4.388_24209",
		},
		{"fixed", DeviceCPEs{Firmware: "cpe:2.3:o:asus:rt-ax88u_firmware:*:*:*:*:*:*:*:*", Version: "3.0.0.4.388_24209"}, nil, false, ""},
		{
			"hardware name, version unknown",
			DeviceCPEs{Hardware: "cpe:2.3:h:ASUS:RT-AX88U:-:*:*:*:*:*:*:*"},
			[]string{"cve5:cna", "cve5:adp:CISA-ADP"},
			false, "version is unknown",
		},
		{
			"product with spaces",
			DeviceCPEs{Hardware: "cpe:2.3:h:asus:zenwifi_xt8:-:*:*:*:*:*:*:*", Version: "3.0.0.4.388_24000"},
			[]string{"cve5:cna", "cve5:adp:CISA-ADP"},
			true, "ZenWiFi XT8",
		},
		{"other model", DeviceCPEs{Firmware: "cpe:2.3:o:asus:rt-ax86u_firmware:*:*:*:*:*:*:*:*", Version: "3.0.0.4.388_24000"}, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := MatchDevice(v, tt.dev)
			if len(got) != len(tt.sources) {
				t.Fatalf("got %d matches, want %d: %+v", len(got), len(tt.sources), got)
			}
			for i, m := range got {
				if m.Source != tt.sources[i] || m.Configuration != -1 || m.Affected < 0 {
					t.Errorf("match %d: source %q cfg %d affected %d", i, m.Source, m.Configuration, m.Affected)
				}
				if m.Certain != tt.certain {
					t.Errorf("match %d: certain = %v, want %v (%s)", i, m.Certain, tt.certain, m.Reason)
				}
			}
			if len(got) > 0 && !strings.Contains(got[0].Reason, tt.reason) {
				t.Errorf("reason %q lacks %q", got[0].Reason, tt.reason)
			}
		})
	}
}

func TestMatchDeviceAffectedStatuses(t *testing.T) {
	t.Parallel()
	dev := DeviceCPEs{Firmware: "cpe:2.3:o:acme:cam_firmware:*:*:*:*:*:*:*:*", Version: "2.1"}
	aff := func(def string, vs ...firmward.AffectedVersion) *firmward.Vulnerability {
		return &firmward.Vulnerability{ID: "CVE-0000-0002", Affected: []firmward.Affected{{Source: "csaf:TEST", Vendor: "ACME", Product: "Cam", Default: def, Versions: vs}}}
	}
	tests := []struct {
		name    string
		v       *firmward.Vulnerability
		n       int
		certain bool
	}{
		{"no versions default affected", aff("affected"), 1, true},
		{"no versions default unknown", aff(""), 1, false},
		{"no versions default unaffected", aff("unaffected"), 0, false},
		{"exact version", aff("unaffected", firmward.AffectedVersion{Version: "2.1", Status: "affected"}), 1, true},
		{"exact other version", aff("unaffected", firmward.AffectedVersion{Version: "2.0", Status: "affected"}), 0, false},
		{"unaffected carve-out", aff("affected", firmward.AffectedVersion{Version: "2.1", Status: "unaffected"}), 0, false},
		{"default affected outside ranges", aff("affected", firmward.AffectedVersion{Version: "3.0", Status: "unaffected"}), 1, true},
		{"range lessThanOrEqual", aff("unaffected", firmward.AffectedVersion{Version: "0", LessThanOrEqual: "2.1", Status: "affected"}), 1, true},
		{"range lower bound above", aff("unaffected", firmward.AffectedVersion{Version: "2.2", LessThan: "3.0", Status: "affected"}), 0, false},
		{"n/a version", aff("unaffected", firmward.AffectedVersion{Version: "n/a", Status: "affected"}), 1, false},
		{"git version type", aff("unaffected", firmward.AffectedVersion{Version: "abc123", LessThan: "def456", VersionType: "git", Status: "affected"}), 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := MatchDevice(tt.v, dev)
			if len(got) != tt.n {
				t.Fatalf("got %d matches, want %d: %+v", len(got), tt.n, got)
			}
			if tt.n > 0 && got[0].Certain != tt.certain {
				t.Errorf("certain = %v, want %v: %s", got[0].Certain, tt.certain, got[0].Reason)
			}
		})
	}
}

const iotFeed = "../../shared/data/nvd/iot-subset/iot-nvd20-derived.json"

// TestMatchDeviceIoTSubset runs one device against the 2,304 IoT CVEs: it
// must match CVEs of its own firmware only.
func TestMatchDeviceIoTSubset(t *testing.T) {
	if _, err := os.Stat(iotFeed); err != nil {
		t.Skipf("data absent: %v", err)
	}
	vs := loadNVD20(t, iotFeed)
	dev := DeviceCPEs{
		Firmware: "cpe:2.3:o:netgear:r7000_firmware:*:*:*:*:*:*:*:*",
		Hardware: "cpe:2.3:h:netgear:r7000:-:*:*:*:*:*:*:*",
		Version:  "1.0.9.6_1.2.19",
	}
	var n, possible int
	for i := range vs {
		for _, m := range MatchDevice(&vs[i], dev) {
			n++
			if !m.Certain {
				possible++
			}
			if !strings.Contains(m.Vulnerable, ":r7000_firmware:") || m.Platform != "" && !strings.Contains(m.Platform, ":r7000:") {
				t.Errorf("%s matched through %s on %s", m.CVE, m.Vulnerable, m.Platform)
			}
		}
	}
	// The subset has 18 CVEs with an R7000 range ending after 1.0.9.6
	// (1.0.9.10 … 1.0.9.34; counted by hand from the file), plus
	// CVE-2016-11059 whose bound is a date ("2017-01-06", NVD's error)
	// and so above every 1.x version.
	if n != 19 {
		t.Errorf("%d matches for a Netgear R7000 on 1.0.9.6, want 19", n)
	}
	t.Logf("%d matches (%d possible) of %d CVEs", n, possible, len(vs))
}

func BenchmarkMatchDevice(b *testing.B) {
	if _, err := os.Stat(iotFeed); err != nil {
		b.Skipf("data absent: %v", err)
	}
	vs := loadNVD20(b, iotFeed)
	dev := DeviceCPEs{
		Firmware: "cpe:2.3:o:netgear:r7000_firmware:*:*:*:*:*:*:*:*",
		Hardware: "cpe:2.3:h:netgear:r7000:-:*:*:*:*:*:*:*",
		Version:  "1.0.9.88_10.2.88",
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range vs {
			MatchDevice(&vs[i], dev)
		}
	}
	b.ReportMetric(float64(len(vs)), "cves/op")
}

// TestAffectedVendorAliases: CVE 5 and CSAF name vendors as companies do
// ("QNAP Systems Inc."); the alias table links them to CPE vendors.
func TestAffectedVendorAliases(t *testing.T) {
	t.Parallel()
	v := &firmward.Vulnerability{ID: "CVE-2023-32971", Affected: []firmward.Affected{{
		Source: "cve5:cna", Vendor: "QNAP Systems Inc.", Product: "QTS", Default: "unaffected",
		Versions: []firmward.AffectedVersion{{Version: "5.0.x", LessThan: "5.0.1.2425 build 20230609", Status: "affected"}},
	}}}
	got := MatchDevice(v, DeviceCPEs{Firmware: "cpe:2.3:o:qnap:qts:5.0.1.2376:*:*:*:*:*:*:*"})
	if len(got) != 1 || !got[0].Certain {
		t.Fatalf("QNAP Systems Inc. / QTS should match qnap:qts 5.0.1.2376 certainly: %+v", got)
	}
	// The fixed build, written in full. (A bare "5.0.1.2425" still sorts
	// below "5.0.1.2425 build 20230609": a version without its build number
	// is taken as older than the same version with one.)
	if got := MatchDevice(v, DeviceCPEs{Firmware: "cpe:2.3:o:qnap:qts:*:*:*:*:*:*:*:*", Version: "5.0.1.2425 build 20230609"}); len(got) != 0 {
		t.Errorf("the fixed version should not match: %+v", got)
	}
}

func TestFirmwareProduct(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"dir-850l_firmare", "dir-850l_firmware"},
		{"email_security_appliance_firmeware", "email_security_appliance_firmware"},
		{"mate_9_pro_fimware", "mate_9_pro_firmware"},
		{"usb_memory_stick_with_fingerprint_firwmare", "usb_memory_stick_with_fingerprint_firmware"}, //nolint:misspell // NVD's spelling
		{"DIR-850L_FIRMARE", "DIR-850L_firmware"},
		{"dir-850l_firmware", "dir-850l_firmware"},
		{"pix_firewall", "pix_firewall"},
		{"_firmare", "_firmare"}, // nothing before the suffix: not a product name
		{"", ""},
	} {
		if got := FirmwareProduct(tc.in); got != tc.want {
			t.Errorf("FirmwareProduct(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A device named with the right spelling matches the CVE filed under
	// the wrong one (CVE-2018-18907, abridged).
	v := &firmward.Vulnerability{ID: "CVE-2018-18907", Configurations: []firmward.Configuration{{Nodes: []firmward.Node{{
		Operator: "AND", Children: []firmward.Node{
			{Operator: "OR", Matches: []firmward.CPEMatch{{Vulnerable: true, Criteria: "cpe:2.3:o:dlink:dir-850l_firmare:*:*:*:*:*:*:*:*", VersionEndExcluding: "1.21b07"}}},
			{Operator: "OR", Matches: []firmward.CPEMatch{{Criteria: "cpe:2.3:h:dlink:dir-850l:-:*:*:*:*:*:*:*"}}},
		},
	}}}}}
	ms := MatchDevice(v, DeviceCPEs{Firmware: "cpe:2.3:o:dlink:dir-850l_firmware:1.14b07:*:*:*:*:*:*:*", Hardware: "cpe:2.3:h:dlink:dir-850l:a1:*:*:*:*:*:*:*"})
	if len(ms) != 1 || !ms[0].Certain {
		t.Errorf("DIR-850L 1.14B07 against CVE-2018-18907: %+v, want one certain match", ms)
	}
	if NormalProduct("dir-850l_firmare") != NormalProduct("DIR-850L") {
		t.Error("NormalProduct does not key the misspelt firmware with its hardware")
	}
}
