package assess

import (
	"slices"
	"testing"
)

func TestCandidates(t *testing.T) {
	t.Parallel()
	a := newTestAssessor(t)
	tests := []struct {
		name   string
		fw, hw string
		want   []string
	}{
		{"firmware", "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:*:*:*:*:*:*:*", "", []string{"CVE-2023-1389", "CVE-2023-31710"}},
		{"hardware of the same model", "", "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*", []string{"CVE-2023-1389", "CVE-2023-31710"}},
		{"firmware and hardware", "cpe:2.3:o:netgear:r7000_firmware:1.0.9.10:*:*:*:*:*:*:*", "cpe:2.3:h:netgear:r7000:-:*:*:*:*:*:*:*", []string{"CVE-2016-6277", "CVE-2017-18785"}},
		{"CVE 5.x vendor and product", "cpe:2.3:o:asus:rt-ax88u_firmware:*:*:*:*:*:*:*:*", "", []string{"CVE-2024-3080"}},
		{"case and spelling", "cpe:2.3:o:MikroTik:RouterOS:6.40.1:*:*:*:*:*:*:*", "", []string{"CVE-2018-1156", "CVE-2018-14847", "CVE-2023-30799"}},
		{"vendor only", "cpe:2.3:o:mikrotik:*:*:*:*:*:*:*:*:*", "", []string{"CVE-2018-1156", "CVE-2018-14847", "CVE-2023-30799"}},
		{"unknown product", "cpe:2.3:o:tp-link:archer_c7_firmware:1.0:*:*:*:*:*:*:*", "", nil},
		{"not a CPE", "archer", "", nil},
		{"nothing", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range a.Index.Candidates(tt.fw, tt.hw) {
				got = append(got, r.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
