package risk

import (
	"testing"

	"github.com/firmward/firmward"
)

func TestParseVector(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Vector // zero Version = error expected
	}{
		{
			"v3.1 CVE-2024-3080", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			Vector{Version: "3.1", AV: "N", AC: "L", PR: "N", UI: "N", C: "H", I: "H", A: "H"},
		},
		{
			"v3.0 with temporal", "CVSS:3.0/AV:L/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N/E:P/RL:O/RC:C",
			Vector{Version: "3.0", AV: "L", AC: "H", PR: "L", UI: "R", C: "L", I: "N", A: "N"},
		},
		{
			"v4.0 CVE-2024-7029 with every metric", avtech.CVSS[0].Vector,
			Vector{Version: "4.0", AV: "N", AC: "L", AT: "N", PR: "L", UI: "N", C: "H", I: "H", A: "H"},
		},
		{
			"v4.0 minimal", "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N",
			Vector{Version: "4.0", AV: "P", AC: "H", AT: "P", PR: "H", UI: "A", C: "N", I: "L", A: "N"},
		},
		{
			"v2 bare", "AV:N/AC:L/Au:N/C:P/I:P/A:P",
			Vector{Version: "2.0", AV: "N", AC: "L", Au: "N", C: "P", I: "P", A: "P"},
		},
		{
			"v2 parenthesised with temporal", "(AV:A/AC:M/Au:S/C:C/I:N/A:N/E:F/RL:OF/RC:C)",
			Vector{Version: "2.0", AV: "A", AC: "M", Au: "S", C: "C", I: "N", A: "N"},
		},
		{
			"tolerant: case, spaces, trailing slash", "  cvss:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h/ ",
			Vector{Version: "3.1", AV: "N", AC: "L", PR: "N", UI: "N", C: "H", I: "H", A: "H"},
		},
		{
			"tolerant: metrics out of order", "CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U",
			Vector{Version: "3.1", AV: "N", AC: "L", PR: "N", UI: "N", C: "H", I: "H", A: "H"},
		},
		{"empty", "", Vector{}},
		{"garbage", "not a vector", Vector{}},
		{"unknown version", "CVSS:5.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Vector{}},
		{"no slash after version", "CVSS:3.1AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Vector{}},
		{"missing base metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", Vector{}},
		{"bad value", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Vector{}},
		{"duplicate base metric", "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Vector{}},
		{"duplicate other metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/E:P", Vector{}},
		{"v3 metric in v4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Vector{}},
		{"component without colon", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/junk", Vector{}},
		{"just the prefix", "CVSS:3.1/", Vector{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseVector(tt.in)
			if tt.want.Version == "" {
				if firmward.ErrorCode(err) != firmward.EINVALID {
					t.Errorf("ParseVector(%q) = %+v, %v; want EINVALID", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseVector(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestVectorPredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vec         string
		auto, total bool
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", true, true},
		{"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", false, true},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", false, false},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", true, true},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:H/SI:H/SA:H", true, false},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", false, true},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", true, false},
		{"AV:N/AC:M/Au:N/C:C/I:C/A:C", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.vec, func(t *testing.T) {
			t.Parallel()
			v, err := ParseVector(tt.vec)
			if err != nil {
				t.Fatal(err)
			}
			if v.Automatable() != tt.auto || v.HighImpact() != tt.total {
				t.Errorf("Automatable %v HighImpact %v, want %v %v", v.Automatable(), v.HighImpact(), tt.auto, tt.total)
			}
		})
	}
}

func TestPickCVSS(t *testing.T) {
	t.Parallel()
	v2 := firmward.CVSS{Version: "2.0", BaseScore: 10, Type: "Primary", Source: "nvd@nist.gov"}
	v30 := firmward.CVSS{Version: "3.0", BaseScore: 9.8, Type: "Primary", Source: "nvd@nist.gov"}
	v31p := firmward.CVSS{Version: "3.1", BaseScore: 7.2, Type: "Primary", Source: "nvd@nist.gov"}
	v31s := firmward.CVSS{Version: "3.1", BaseScore: 9.1, Type: "Secondary", Source: "disclosure@vulncheck.com"}
	v31s2 := firmward.CVSS{Version: "3.1", BaseScore: 9.8, Type: "Secondary", Source: "other"}
	v40s := firmward.CVSS{Version: "4.0", BaseScore: 8.7, Type: "Secondary", Source: "ics-cert@hq.dhs.gov"}
	odd := firmward.CVSS{Version: "9", BaseScore: 1}
	tests := []struct {
		name string
		in   []firmward.CVSS
		want firmward.CVSS
		ok   bool
	}{
		{"empty", nil, firmward.CVSS{}, false},
		{"v4 secondary beats v3.1 primary", []firmward.CVSS{v31p, v40s}, v40s, true},
		{"v3.1 beats v3.0 and v2", []firmward.CVSS{v2, v30, v31s}, v31s, true},
		{"primary beats secondary (CVE-2023-30799)", []firmward.CVSS{v31s, v31p}, v31p, true},
		{"higher score among secondaries", []firmward.CVSS{v31s, v31s2}, v31s2, true},
		{"unknown version last", []firmward.CVSS{odd, v2}, v2, true},
		{"only unknown", []firmward.CVSS{odd}, odd, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := PickCVSS(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("PickCVSS = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
