package vuln

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// versionCases are ordered pairs of real version strings: the CPE versions
// and NVD range bounds of /work/shared/data (NVD iot subset, CVE 5.x ADP
// data) and vendor release names, with the expected order.
var versionCases = []struct {
	vendor string
	a, b   string
	want   int
}{
	// TP-Link (CVE-2023-1389: fixed in 1.1.4 Build 20230219).
	{"tp-link", "1.1.3_build_20221201", "1.1.4", -1},
	{"tp-link", "1.1.4", "1.1.4 Build 20230219 rel.60034", -1},
	{"tp-link", "1.1.3 Build 20221201 rel.59917", "1.1.4 Build 20230219 rel.60034", -1},
	{"tp-link", "2.3.4_build_20220902_rel.69498", "2.3.4", 1},
	{"tp-link", "1.6.18p12", "1.6.18p12_121101", -1},
	{"tp-link", "0.9.1_4.16", "0.9.1_4.16_v0348.0", -1},
	{"tp-link", "3.16.9 Build 20230210 Rel.37425", "3.16.9_build_20230210_rel.37425", 0},
	// Netgear: model prefix before -V.
	{"netgear", "R7000-V1.0.11.116_10.2.100", "1.0.11.100", 1},
	{"netgear", "R7000-V1.0.11.116_10.2.100", "V1.0.11.116_10.2.100", 0},
	{"netgear", "1.0.0.34_1.0.70", "1.0.0.40_1.0.32", -1},
	{"netgear", "1.0.1.10j", "1.0.1.10", 1},
	{"netgear", "1.4_beta_release_17", "1.4", -1},
	{"netgear", "1.0.2.68_60.0.93", "1.0.2.100_1.0.82", -1},
	// D-Link: b = build.
	{"d-link", "1.02b01", "1.02b03", -1},
	{"d-link", "1.03b04", "1.02b03", 1},
	{"d-link", "1.21b03beta01", "1.21b03", -1},
	{"d-link", "2.03.b03", "2.05b02", -1},
	{"d-link", "1.26rc55", "1.26", -1},
	// Hikvision.
	{"hikvision", "V5.5.800", "5.5.800", 0},
	{"hikvision", "1.4.0_build221212", "1.4.62_build220414", -1},
	{"hikvision", "2.2.8_build230219", "2.2.10", -1},
	{"hikvision", "4.1.0_b130111", "4.1.0", 1},
	{"hikvision", "V5.4.5", "5.4.41", -1},
	// Zyxel (escaped in CPEs, unescaped here).
	{"zyxel", "V5.21(AAZF.10)C0", "5.21(aazf.10)c0", 0},
	{"zyxel", "5.21(AAZF.10)C0", "5.21(AAZF.11)C0", -1},
	{"zyxel", "1.00(aady.4)c0", "1.01(abir.0)c0", -1},
	{"zyxel", "3.20_wa0", "3.20_wa1", -1},
	// ASUS.
	{"asus", "3.0.0.4.388_24198", "3.0.0.4.388_24209", -1},
	{"asus", "3.0.0.4.386_51668", "3.0.0.4.388_23925", -1},
	{"asus", "3.0.0.4.374_979", "3.0.0.4.374_1397", -1},
	{"asus", "1.0.1.8j", "1.0.1.8l", -1},
	// Ubiquiti.
	{"ubiquiti", "5.3.5", "5.3.6", -1},
	{"ubiquiti", "1.9.1", "1.9.1.1", -1},
	{"ubiquiti", "1.15", "1.9.7", 1},
	{"ubiquiti", "v8.3.2", "6.0.7", 1},
	// MikroTik (CVE-2023-30799).
	{"mikrotik", "6.49.7", "6.49.10", -1},
	{"mikrotik", "6.48.7", "6.49", -1},
	{"mikrotik", "7.1beta6", "7.1", -1},
	{"mikrotik", "7.1rc1", "7.1beta6", 1},
	// Synology DSM builds.
	{"synology", "7.1.1-42962", "7.1.1-42962 Update 3", -1},
	{"synology", "6.2.2-24922", "6.2.1-23824-4", 1},
	{"synology", "6.1.7-15284-3", "6.1.7-15284", 1},
	{"synology", "2.2-0942", "2.2-1041", -1},
	// QNAP.
	{"qnap", "4.3.3.0299", "4.3.3", 1},
	{"qnap", "h4.5.1.1472", "4.5.1.1472", 0},
	{"qnap", "c4.5.2.1379", "c4.5.6.1755", -1},
	{"qnap", "QTS 5.0.1.2194 build 20221022", "5.0.1.2194", 1},
	// Axis.
	{"axis", "1.0_1", "1.0", 1},
	{"axis", "1.10", "1.9", 1},
	// Siemens.
	{"siemens", "V2.4 SP1", "V2.4", 1},
	{"siemens", "V2.4 SP1", "V2.5", -1},
	{"siemens", "3.11.0", "3.11.5", -1},
	// Moxa.
	{"moxa", "1.1.10", "1.1.9", 1},
	// TOTOLINK.
	{"totolink", "9.1.0cu.2021_b20220326", "9.1.0cu.2024_b20220329", -1},
	{"totolink", "9.1.0u.6118_b20201102", "9.1.0u.6369_b20230113", -1},
	// Tenda.
	{"tenda", "15.03.05.19(6318)_cn", "15.03.05.18", 1},
	// Generic rules of the doc comment.
	{"generic", "1.0.0beta", "1.0.0", -1},
	{"generic", "1.0.0", "1.0.0-p1", -1},
	{"generic", "1.0.0-p1", "1.0.1", -1},
	{"generic", "1.0.0-hotfix2", "1.0.0-hotfix1", 1},
	{"generic", "1.2a", "1.2b", -1},
	{"generic", "1.2B", "1.2b", 0},
	{"generic", "1.0", "1.0.0", 0},
	{"generic", "20221201", "20230219", -1},
	{"generic", "1.0.0alpha", "1.0.0beta", -1},
	{"generic", "1.0.0dev", "1.0.0alpha", -1},
	{"generic", "99999999999999999999999", "100000000000000000000000", -1},
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	vendors := map[string]bool{}
	for _, tt := range versionCases {
		vendors[tt.vendor] = true
		t.Run(tt.vendor+"/"+tt.a+"_vs_"+tt.b, func(t *testing.T) {
			t.Parallel()
			if got := CompareVersions(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := CompareVersions(tt.b, tt.a); got != -tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
	if len(vendors) < 11 {
		t.Errorf("only %d vendors covered", len(vendors))
	}
}

// realVersions returns the strings of versionCases plus, when the data is
// present, the version bounds of the IoT subset (up to limit strings).
func realVersions(tb testing.TB, limit int) []string {
	tb.Helper()
	set := map[string]bool{}
	for _, tt := range versionCases {
		set[tt.a], set[tt.b] = true, true
	}
	if data, err := os.ReadFile("../../shared/data/nvd/iot-subset/iot-nvd20-derived.json"); err == nil {
		var f nvdFile
		if err := json.Unmarshal(data, &f); err != nil {
			tb.Fatal(err)
		}
	outer:
		for _, v := range f.Vulnerabilities {
			for _, c := range v.CVE.Configurations {
				for _, n := range c.Nodes {
					for _, m := range n.CPEMatch {
						for _, b := range []string{m.VersionStartIncluding, m.VersionStartExcluding, m.VersionEndIncluding, m.VersionEndExcluding} {
							if b != "" {
								set[b] = true
							}
						}
						if c, err := ParseCPE(m.Criteria); err == nil && c.Version.IsConcrete() {
							set[c.Version.Text] = true
						}
						if len(set) >= limit {
							break outer
						}
					}
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestCompareVersionsTotalOrder checks over real strings that
// CompareVersions is a total preorder: reflexive, antisymmetric,
// transitive, and that sorting with it yields a sequence in which every
// earlier element compares <= every later one.
func TestCompareVersionsTotalOrder(t *testing.T) {
	t.Parallel()
	vs := realVersions(t, 1500)
	t.Logf("%d distinct real version strings", len(vs))
	for _, a := range vs {
		if c := CompareVersions(a, a); c != 0 {
			t.Fatalf("CompareVersions(%q, itself) = %d", a, c)
		}
		for _, b := range vs {
			if CompareVersions(a, b) != -CompareVersions(b, a) {
				t.Fatalf("not antisymmetric: %q, %q", a, b)
			}
		}
	}
	sorted := slices.Clone(vs)
	slices.SortStableFunc(sorted, CompareVersions)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if CompareVersions(sorted[i], sorted[j]) > 0 {
				t.Fatalf("sorted order broken: %q (at %d) > %q (at %d)", sorted[i], i, sorted[j], j)
			}
		}
	}
	// Transitivity on all triples of a subset.
	sub := vs[:min(len(vs), 150)]
	for _, a := range sub {
		for _, b := range sub {
			ab := CompareVersions(a, b)
			for _, c := range sub {
				bc := CompareVersions(b, c)
				ac := CompareVersions(a, c)
				if ab <= 0 && bc <= 0 && ac > 0 {
					t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
				}
				if ab == 0 && bc == 0 && ac != 0 {
					t.Fatalf("equivalence not transitive: %q ~ %q ~ %q", a, b, c)
				}
			}
		}
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, tt := range versionCases {
		f.Add(tt.a, tt.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("Compare(%q,%q)=%d but Compare(%q,%q)=%d", a, b, ab, b, a, ba)
		}
		if ab < -1 || ab > 1 {
			t.Fatalf("Compare(%q,%q)=%d, want -1, 0 or 1", a, b, ab)
		}
		if CompareVersions(a, a) != 0 || CompareVersions(b, b) != 0 {
			t.Fatalf("not reflexive: %q or %q", a, b)
		}
	})
}

func BenchmarkCompareVersions(b *testing.B) {
	pairs := [][2]string{
		{"1.1.4 Build 20230219 rel.60034", "1.1.3_build_20221201"},
		{"R7000-V1.0.11.116_10.2.100", "1.0.11.100"},
		{"3.0.0.4.388_24198", "3.0.0.4.388_24209"},
		{"6.49.7", "6.49.10"},
	}
	for b.Loop() {
		for _, p := range pairs {
			CompareVersions(p[0], p[1])
		}
	}
}
