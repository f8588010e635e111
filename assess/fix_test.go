package assess

import (
	"slices"
	"strings"
	"testing"
)

func TestRecommend(t *testing.T) {
	t.Parallel()
	lt := func(end string) span { return span{end: end} }
	rng := func(start, end string) span { return span{start: start, end: end} }
	le := func(end string) span { return span{end: end, endIncl: true} }
	tests := []struct {
		name      string
		version   string            // the device's
		cves      map[string][]span // vulnerable ranges per CVE
		want      string
		closes    []string
		stillOpen []string
		textPart  string
	}{
		{
			// Shaped like MikroTik's branches: "< 6.49.7" and
			// ">= 7.0, < 7.7" for one CVE, the next release of each
			// branch for another. A 6.x device stays in 6.x.
			name:    "RouterOS 6.x stays in its branch",
			version: "6.48.6",
			cves: map[string][]span{
				"CVE-A": {lt("6.49.7"), rng("7.0", "7.7")},
				"CVE-B": {lt("6.49.8"), rng("7.0", "7.8")},
			},
			want:   "6.49.8",
			closes: []string{"CVE-A", "CVE-B"},
		},
		{
			name:    "RouterOS 7.x",
			version: "7.5",
			cves: map[string][]span{
				"CVE-A": {lt("6.49.7"), rng("7.0", "7.7")},
				"CVE-B": {lt("6.49.8"), rng("7.0", "7.8")},
			},
			want:   "7.8",
			closes: []string{"CVE-A", "CVE-B"},
		},
		{
			// CVE-C is fixed in 7.7 only (no 6.x fix); 7.7 is still in
			// CVE-B's 7.x range, whose end 7.8 is taken.
			name:    "one CVE forces the next branch",
			version: "6.48.6",
			cves: map[string][]span{
				"CVE-A": {lt("6.49.7"), rng("7.0", "7.7")},
				"CVE-B": {lt("6.49.8"), rng("7.0", "7.8")},
				"CVE-C": {lt("7.7")},
			},
			want:   "7.8",
			closes: []string{"CVE-A", "CVE-B", "CVE-C"},
		},
		{
			// NETGEAR R7000 version strings; CVE-2016-6277 ends
			// including 1.0.7.2_1.1.93, closed by the other's fix.
			name:    "end including closed by a later fix",
			version: "1.0.7.2_1.1.93",
			cves: map[string][]span{
				"CVE-2016-6277":  {le("1.0.7.2_1.1.93")},
				"CVE-2017-18785": {lt("1.0.9.18")},
			},
			want:   "1.0.9.18",
			closes: []string{"CVE-2016-6277", "CVE-2017-18785"},
		},
		{
			name:      "end including alone",
			version:   "1.0.7.2_1.1.93",
			cves:      map[string][]span{"CVE-2016-6277": {le("1.0.7.2_1.1.93")}},
			stillOpen: []string{"CVE-2016-6277"},
			textPart:  "later than 1.0.7.2_1.1.93",
		},
		{
			name:    "chained ranges",
			version: "1.1.3 Build 20221201 rel.62108",
			cves: map[string][]span{
				"CVE-X": {lt("1.1.4"), rng("1.1.4", "1.2.0")},
			},
			want:   "1.2.0",
			closes: []string{"CVE-X"},
		},
		{
			name:    "unstated versions stay open",
			version: "3.0.0.4.388_24198",
			cves: map[string][]span{
				"CVE-2024-3080": {lt("3.0.0.4.388_24209"), le("3.0.0.4.388_24198")},
				"CVE-NA":        {{unstated: true}},
				"CVE-FROM":      {{start: "3.0.0.4.386"}},
			},
			want:      "3.0.0.4.388_24209",
			closes:    []string{"CVE-2024-3080"},
			stillOpen: []string{"CVE-FROM", "CVE-NA"},
			textPart:  "does not say which versions",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var fixes []cveFix
			for cve, spans := range tt.cves {
				cf := cveFix{cve: cve, spans: spans, version: tt.version}
				cf.fixed, cf.why = escape(spans, tt.version)
				fixes = append(fixes, cf)
			}
			fx := recommend(fixes)
			if fx.Version != tt.want || !slices.Equal(fx.Closes, tt.closes) || !slices.Equal(fx.StillOpen, tt.stillOpen) {
				t.Errorf("got %+v, want %q closing %v, open %v", fx, tt.want, tt.closes, tt.stillOpen)
			}
			if !strings.Contains(fx.Text, tt.textPart) {
				t.Errorf("text %q does not contain %q", fx.Text, tt.textPart)
			}
		})
	}
}
