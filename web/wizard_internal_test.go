package web

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/seed"
)

func TestProposeNets(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name  string
		addrs []netip.Prefix
		limit int
		want  []string
	}{
		{"none", nil, 8, nil},
		{"home LAN", []netip.Prefix{p("192.168.1.7/24")}, 8, []string{"192.168.1.0/24"}},
		{"wider network gives the /24 of the address", []netip.Prefix{p("10.20.30.40/8")}, 8, []string{"10.20.30.0/24"}},
		{"narrower network gives its /24", []netip.Prefix{p("172.16.5.9/28")}, 8, []string{"172.16.5.0/24"}},
		{
			"loopback, link-local, IPv6 and duplicates left out",
			[]netip.Prefix{p("127.0.0.1/8"), p("169.254.3.4/16"), p("fe80::1/64"), p("2001:db8::1/64"), p("192.168.1.7/24"), p("192.168.1.8/24")},
			8,
			[]string{"192.168.1.0/24"},
		},
		{"IPv4-mapped IPv6", []netip.Prefix{p("::ffff:192.168.2.3/120")}, 8, []string{"192.168.2.0/24"}},
		{"limit", []netip.Prefix{p("10.0.1.1/24"), p("10.0.2.1/24"), p("10.0.3.1/24")}, 2, []string{"10.0.1.0/24", "10.0.2.0/24"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := proposeNets(tc.addrs, tc.limit); !slices.Equal(got, tc.want) {
				t.Errorf("proposeNets = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCatalogDevice(t *testing.T) {
	cat := homeCatalog()
	if len(cat) < 10 {
		t.Fatalf("catalog has %d models", len(cat))
	}
	seen := map[string]bool{}
	for _, c := range cat {
		if seen[c.Key] {
			t.Errorf("model %s twice", c.Key)
		}
		seen[c.Key] = true
	}
	for _, d := range seed.Home() {
		if d.CPE == "" {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			n := catalogDevice(d, "9.9")
			if n.FirmwareVersion != "9.9" || len(n.MACs) != 0 || len(n.IPs) != 0 || n.Serial != "" {
				t.Errorf("device carries sample data: %+v", n)
			}
			if err := n.Normalize(); err != nil {
				t.Errorf("normalize: %v", err)
			}
			if n.CPE == "" || n.CPE == d.CPE {
				t.Errorf("CPE %q: want %q without its version", n.CPE, d.CPE)
			}
			if n.Category != d.Category || n.AutoUpdate != d.AutoUpdate || n.Exposure != d.Exposure {
				t.Errorf("typical settings lost: %+v", n)
			}
		})
	}
	if got := catalogDevice(firmward.Device{Name: "x", CPE: "not a cpe"}, ""); got.CPE != "" {
		t.Errorf("a bad CPE is kept: %q", got.CPE)
	}
}
