package vuln

import (
	"testing"

	"github.com/firmward/firmward"
)

func TestInRange(t *testing.T) {
	t.Parallel()
	const anyFW = "cpe:2.3:o:qnap:qts:*:*:*:*:*:*:*:*"
	// Bounds of CVE-2017-13067 (QNAP, both inclusive), CVE-2010-5330
	// (Ubiquiti airOS, start incl / end excl), CVE-2014-1966 (Siemens ROS,
	// start excl / end excl), CVE-2023-30799 (MikroTik, end incl).
	qnap := firmward.CPEMatch{Criteria: anyFW, VersionStartIncluding: "4.3.0", VersionEndIncluding: "4.3.3.0299"}
	airos := firmward.CPEMatch{Criteria: "cpe:2.3:o:ui:airos:*:*:*:*:*:*:*:*", VersionStartIncluding: "5.3.6", VersionEndExcluding: "5.4.5"}
	ros := firmward.CPEMatch{Criteria: "cpe:2.3:o:siemens:ruggedcom_rugged_operating_system:*:*:*:*:*:*:*:*", VersionStartExcluding: "3.11.0", VersionEndExcluding: "3.11.5"}
	mikrotik := firmward.CPEMatch{Criteria: "cpe:2.3:o:mikrotik:routeros:*:*:*:*:ltr:*:*:*", VersionEndIncluding: "6.48.7"}
	tests := []struct {
		name        string
		version     string
		m           firmward.CPEMatch
		in, certain bool
	}{
		{"start incl at bound", "4.3.0", qnap, true, true},
		{"below start incl", "4.2.6", qnap, false, true},
		{"end incl at bound", "4.3.3.0299", qnap, true, true},
		{"above end incl", "4.3.3.0300", qnap, false, true},
		{"end incl with build", "4.3.3.0299 build 20170826", qnap, false, true},
		{"airos at start", "5.3.6", airos, true, true},
		{"airos at end excl", "5.4.5", airos, false, true},
		{"airos inside", "v5.4.4", airos, true, true},
		{"ros at start excl", "3.11.0", ros, false, true},
		{"ros just above start", "3.11.1", ros, true, true},
		{"ros at end excl", "3.11.5", ros, false, true},
		{"mikrotik end incl", "6.48.7", mikrotik, true, true},
		{"mikrotik above", "6.48.10", mikrotik, false, true},
		{"mikrotik beta of next", "6.49beta54", mikrotik, false, true},
		{"unknown version", "", qnap, true, false},
		{"NA criteria version", "1.0", firmward.CPEMatch{Criteria: "cpe:2.3:o:tp-link:tl-wdr4300_firmware:-:*:*:*:*:*:*:*"}, true, false},
		{"ANY criteria no bounds", "1.0", firmward.CPEMatch{Criteria: anyFW}, true, false},
		{"concrete equal", "V4.1.0_b130111", firmward.CPEMatch{Criteria: "cpe:2.3:o:hikvision:ds-2cd7153-e_firmware:4.1.0_b130111:*:*:*:*:*:*:*"}, true, true},
		{"concrete differs", "4.1.2", firmward.CPEMatch{Criteria: "cpe:2.3:o:hikvision:ds-2cd7153-e_firmware:4.1.0_b130111:*:*:*:*:*:*:*"}, false, true},
		{"concrete escaped", "5.21(AAZF.10)C0", firmward.CPEMatch{Criteria: `cpe:2.3:o:zyxel:nas326_firmware:5.21\(aazf.10\)c0:*:*:*:*:*:*:*`}, true, true},
		{"version wildcard", "1.0.11.116", firmward.CPEMatch{Criteria: "cpe:2.3:o:netgear:r7000_firmware:1.0.11.*:*:*:*:*:*:*:*"}, true, true},
		{"bad criteria", "1.0", firmward.CPEMatch{Criteria: "cpe:/o:x"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, certain := InRange(tt.version, tt.m)
			if in != tt.in || certain != tt.certain {
				t.Errorf("InRange(%q, %s [%s]) = %v, %v; want %v, %v", tt.version, tt.m.Criteria, RangeString(tt.m), in, certain, tt.in, tt.certain)
			}
		})
	}
}
