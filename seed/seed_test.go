package seed

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// checkInventory asserts what every sample inventory promises: each device
// passes Normalize unchanged, and MACs (and IPs) are unique.
func checkInventory(t *testing.T, ds []firmward.Device, private func(netip.Addr) bool) {
	t.Helper()
	macs := map[string]string{}
	ips := map[string]string{}
	for i := range ds {
		d := ds[i]
		before := d
		before.MACs = slices.Clone(d.MACs)
		if err := d.Normalize(); err != nil {
			t.Errorf("device %d %q does not pass Normalize: %v", i, d.Name, err)
			continue
		}
		// Generated data should already be canonical: what is stored is what
		// the generator wrote.
		if !slices.Equal(before.MACs, d.MACs) || before.Category != d.Category || before.CPE != d.CPE {
			t.Errorf("device %q changes under Normalize: %+v → %+v", d.Name, before, d)
		}
		for _, m := range d.MACs {
			if other, ok := macs[m]; ok {
				t.Errorf("MAC %s of %q is also used by %q", m, d.Name, other)
			}
			macs[m] = d.Name
		}
		for _, ip := range d.IPs {
			if other, ok := ips[ip]; ok {
				t.Errorf("IP %s of %q is also used by %q", ip, d.Name, other)
			}
			ips[ip] = d.Name
			if !private(netip.MustParseAddr(ip)) {
				t.Errorf("IP %s of %q is outside the sample range", ip, d.Name)
			}
		}
		if d.Manufacturer == "" || d.Model == "" || d.Site == "" || d.Location == "" || d.Owner == "" {
			t.Errorf("device %q lacks manufacturer, model, site, location or owner: %+v", d.Name, d)
		}
	}
}

func TestHome(t *testing.T) {
	t.Parallel()
	ds := Home()
	if len(ds) < 18 || len(ds) > 25 {
		t.Fatalf("Home has %d devices, want about 20", len(ds))
	}
	home := netip.MustParsePrefix("192.168.1.0/24")
	checkInventory(t, ds, home.Contains)

	var internetFacing, unknownFW, unknownMech, withCPE, eol int
	cats := map[firmward.Category]bool{}
	for _, d := range ds {
		cats[d.Category] = true
		if d.Exposure == firmward.ExposureInternetFacing {
			internetFacing++
			if d.Category != firmward.CategoryNetworkInfrastructure {
				t.Errorf("internet-facing device %q is not the router", d.Name)
			}
		}
		if d.FirmwareVersion == "" {
			unknownFW++
		}
		if d.UpdateMechanism == firmward.UpdateUnknown {
			unknownMech++
		}
		if d.CPE != "" {
			withCPE++
		}
		if d.EOLDate != "" {
			eol++
		}
	}
	if internetFacing != 1 {
		t.Errorf("%d internet-facing devices, want the router only", internetFacing)
	}
	if unknownFW < 2 || unknownMech < 2 {
		t.Errorf("unknown firmware %d, unknown update mechanism %d: want a few of each for the dashboard", unknownFW, unknownMech)
	}
	if withCPE < 3 || eol < 1 {
		t.Errorf("%d devices with a CPE and %d with an end-of-life date, want some", withCPE, eol)
	}
	for _, c := range []firmward.Category{firmward.CategoryNetworkInfrastructure, firmward.CategoryCamera, firmward.CategoryLock, firmward.CategoryConsumerSmartHome} {
		if !cats[c] {
			t.Errorf("no device of category %s", c)
		}
	}
	// Home returns fresh slices.
	a, b := Home(), Home()
	a[0].MACs[0] = "changed"
	if b[0].MACs[0] == "changed" {
		t.Error("Home shares slices between calls")
	}
}

func TestEnterprise(t *testing.T) {
	t.Parallel()
	ds := Enterprise(DefaultEnterpriseCount, "", rand.New(rand.NewPCG(1, 2)))
	if len(ds) != DefaultEnterpriseCount {
		t.Fatalf("got %d devices, want %d", len(ds), DefaultEnterpriseCount)
	}
	campus := netip.MustParsePrefix("10.0.0.0/8")
	checkInventory(t, ds, campus.Contains)

	count := map[firmward.Category]int{}
	var eol, unknownFW, unknownMech, cpes, safety int
	for _, d := range ds {
		count[d.Category]++
		if d.Site != DefaultEnterpriseSite {
			t.Fatalf("site %q, want the default", d.Site)
		}
		if d.EOLDate != "" {
			eol++
		}
		if d.FirmwareVersion == "" {
			unknownFW++
		}
		if d.UpdateMechanism == firmward.UpdateUnknown {
			unknownMech++
		}
		if d.CPE != "" {
			cpes++
		}
		if d.Criticality == firmward.CriticalitySafetyCritical {
			safety++
		}
		if d.Segment == "" || !strings.HasPrefix(d.Segment, "vlan") {
			t.Errorf("device %q has segment %q", d.Name, d.Segment)
		}
	}
	for _, c := range []firmward.Category{
		firmward.CategoryCamera, firmward.CategoryNetworkInfrastructure, firmward.CategoryOther,
		firmward.CategoryIndustrial, firmward.CategoryLock, firmward.CategoryMedical,
		firmward.CategoryLegacyOT, firmward.CategorySensor,
	} {
		if count[c] == 0 {
			t.Errorf("no device of category %s", c)
		}
	}
	if count[firmward.CategoryMedical] < DefaultEnterpriseCount/10 {
		t.Errorf("%d medical devices in a hospital of %d, want more", count[firmward.CategoryMedical], DefaultEnterpriseCount)
	}
	if eol == 0 || unknownFW == 0 || unknownMech == 0 || cpes == 0 || safety == 0 {
		t.Errorf("eol %d, unknown firmware %d, unknown mechanism %d, cpe %d, safety-critical %d: want some of each",
			eol, unknownFW, unknownMech, cpes, safety)
	}
}

func TestEnterpriseDeterministic(t *testing.T) {
	t.Parallel()
	a := Enterprise(300, "North Campus", rand.New(rand.NewPCG(7, 7)))
	b := Enterprise(300, "North Campus", rand.New(rand.NewPCG(7, 7)))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different inventories")
	}
	c := Enterprise(300, "North Campus", rand.New(rand.NewPCG(8, 8)))
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same inventory")
	}
	if a[0].Site != "North Campus" {
		t.Fatalf("site %q", a[0].Site)
	}
}

func TestEnterpriseSizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{-1, 0, 1, 5, len(templates), 5000} {
		ds := Enterprise(n, "S", rand.New(rand.NewPCG(uint64(n+10), 3)))
		if want := max(n, 0); len(ds) != want {
			t.Errorf("Enterprise(%d) gave %d devices", n, len(ds))
		}
		if n > 1000 {
			checkInventory(t, ds, netip.MustParsePrefix("10.0.0.0/8").Contains)
		}
	}
}

func TestCPEVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"V5.7.11 build 220929", "5.7.11"},
		{"MR 29.7.1", "29.7.1"},
		{"15.2(7)E8", `15.2\(7\)e8`},
		{"DSM 7.1.1-42962", "7.1.1-42962"},
		{"WC.16.11.0014", "-"},
		{"", "-"},
	} {
		got := cpeVersion(tc.in)
		if got != tc.want {
			t.Errorf("cpeVersion(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if err := firmward.ValidateCPE23("cpe:2.3:o:v:p:" + got + ":*:*:*:*:*:*:*"); err != nil {
			t.Errorf("cpeVersion(%q) = %q makes an invalid CPE: %v", tc.in, got, err)
		}
	}
}

func BenchmarkEnterprise(b *testing.B) {
	for b.Loop() {
		Enterprise(DefaultEnterpriseCount, "", rand.New(rand.NewPCG(1, 2)))
	}
}
