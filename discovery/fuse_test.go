package discovery

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward/recog"
)

func builtinRules(t *testing.T) *recog.Set {
	t.Helper()
	set, err := recog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestFuse(t *testing.T) {
	t.Parallel()
	rules := builtinRules(t)
	tests := []struct {
		name                                    string
		host                                    Host
		manufacturer, model, firmware, category string
		others                                  string // a losing manufacturer kept for review
	}{
		{
			name: "HP printer: Server header and title agree, OUI adds the maker",
			host: Host{MAC: "04:0e:3c:12:34:56", MACVendor: "HP Inc.", Ports: []Port{{
				Port: 80, Service: "http", Title: "HP Color LaserJet Pro MFP M479fdw",
				HTTPServer: "HP HTTP Server; HP Color LaserJet Pro MFP M479fdw - W1A80A; Serial Number: VNB3R12345; Built: Fri Apr 09, 2021 02:36:29AM {002_2114A}",
			}}},
			manufacturer: "HP", model: "Color LaserJet Pro MFP M479fdw", firmware: "002_2114A", category: "other",
		},
		{
			name: "UPnP gateway: description fields, company suffix dropped, OUI agrees",
			host: Host{MACVendor: "NETGEAR", UPnP: []UPnPDevice{{
				DeviceType: "urn:schemas-upnp-org:device:InternetGatewayDevice:1", Manufacturer: "NETGEAR, Inc.",
				ModelName: "RBR750", FirmwareVersion: "V7.2.6.21", SerialNumber: "6LA1",
			}}},
			manufacturer: "NETGEAR", model: "RBR750", firmware: "V7.2.6.21", category: "network-infrastructure",
		},
		{
			name:         "Shelly on an Espressif chip: the chip maker loses but is kept",
			host:         Host{MACVendor: "Espressif Inc.", MDNS: []MDNSService{{Type: "_shelly._tcp", TXT: []string{"ver=1.0.8", "app=Plus1PM", "gen=2"}}}},
			manufacturer: "Shelly", model: "Shelly Plus1PM", firmware: "1.0.8", category: "consumer-smart-home", others: "Espressif",
		},
		{
			name:         "SNMP sysDescr of an S7 PLC",
			host:         Host{SNMP: &SNMPInfo{SysDescr: "Siemens, SIMATIC S7-1200, CPU 1214C DC/DC/DC, 6ES7 214-1AG40-0XB0, HW: 5, FW: V4.4.0, S C-H4TS12345678"}},
			manufacturer: "Siemens", model: "SIMATIC S7-1200 CPU 1214C DC/DC/DC", firmware: "4.4.0", category: "industrial",
		},
		{
			name:  "HomeKit lock category",
			host:  Host{MDNS: []MDNSService{{Type: "_hap._tcp", TXT: []string{"ci=6", "md=SmartLock4", "c#=3"}}}},
			model: "SmartLock4", category: "lock",
		},
		{name: "nothing known", host: Host{IP: "10.0.0.9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Fuse(&tt.host, rules)
			for _, c := range []struct {
				field string
				got   Fact
				want  string
			}{{"manufacturer", f.Manufacturer, tt.manufacturer}, {"model", f.Model, tt.model}, {"firmware", f.Firmware, tt.firmware}, {"category", f.Category, tt.category}} {
				if c.got.Value != c.want {
					t.Errorf("%s = %q (others %+v), want %q", c.field, c.got.Value, c.got.Others, c.want)
				}
				if c.want != "" && (c.got.Confidence <= 0 || c.got.Confidence > maxConfidence || len(c.got.Evidence) == 0) {
					t.Errorf("%s: confidence %v, evidence %v", c.field, c.got.Confidence, c.got.Evidence)
				}
			}
			if tt.others != "" && !slices.ContainsFunc(f.Manufacturer.Others, func(a Alternative) bool { return a.Value == tt.others }) {
				t.Errorf("others = %+v, want %q among them", f.Manufacturer.Others, tt.others)
			}
		})
	}
}

func TestDecideReinforces(t *testing.T) {
	t.Parallel()
	ev := func(s string) Evidence { return Evidence{Source: s} }
	f := decide([]candidate{{"Netgear", 0.4, ev("oui")}, {"NETGEAR", 0.9, ev("upnp")}, {"Arris", 0.6, ev("title")}}, vendorKey)
	if f.Value != "NETGEAR" || f.Confidence != 0.94 || len(f.Evidence) != 2 {
		t.Errorf("got %+v, want NETGEAR at 1-(0.6×0.1)=0.94 from two pieces of evidence", f)
	}
	if len(f.Others) != 1 || f.Others[0].Value != "Arris" {
		t.Errorf("others = %+v", f.Others)
	}
}

func TestVendorName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"NETGEAR, Inc.": "NETGEAR", "Synology Incorporated": "Synology", "Espressif Inc.": "Espressif",
		"TP-LINK TECHNOLOGIES CO.,LTD.": "TP-LINK TECHNOLOGIES", "Siemens AG": "Siemens", "Inc.": "Inc.", "HP": "HP",
	} {
		if got := vendorName(in); got != want {
			t.Errorf("vendorName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHints(t *testing.T) {
	t.Parallel()
	hosts := []Host{
		{IP: "10.0.0.1", UPnP: []UPnPDevice{{PortMappings: []PortMapping{{ExternalPort: 8443, Protocol: "TCP", InternalPort: 80, InternalClient: "10.0.0.5", Enabled: true}}}}},
		{IP: "10.0.0.5", Ports: []Port{{Port: 23, Service: "telnet"}, {Port: 80, Service: "http", ClearTextAuth: true}}},
		{IP: "10.0.0.6", Fingerprint: Fingerprint{Category: Fact{Value: "camera"}}, SNMP: &SNMPInfo{DefaultCommunity: true}},
		{IP: "10.0.0.7", Fingerprint: Fingerprint{Category: Fact{Value: "other"}}},
	}
	Hints(hosts, HintOptions{MainNetwork: true})
	kinds := func(h Host) []string {
		var out []string
		for _, x := range h.Hints {
			out = append(out, x.Kind+"/"+x.Severity)
		}
		slices.Sort(out)
		return out
	}
	want := [][]string{
		{"upnp-port-mapping/high"},
		{"clear-text-admin/medium", "internet-exposed/high", "telnet/high"},
		{"default-snmp-community/medium", "iot-on-main-network/high"},
		nil,
	}
	for i, h := range hosts {
		if got := kinds(h); !slices.Equal(got, want[i]) {
			t.Errorf("%s: hints %v, want %v", h.IP, got, want[i])
		}
	}
	if s := hosts[0].Hints[0].Summary; !strings.Contains(s, "TCP 8443 → 10.0.0.5:80") {
		t.Errorf("summary %q does not list the mapping", s)
	}
	seg := []Host{{IP: "10.0.0.6", Fingerprint: Fingerprint{Category: Fact{Value: "camera"}}}}
	Hints(seg, HintOptions{MainNetwork: false})
	if len(seg[0].Hints) != 0 {
		t.Errorf("IoT segment: %v", seg[0].Hints)
	}
}

func TestReadOUI(t *testing.T) {
	t.Parallel()
	o, err := ReadOUI(strings.NewReader("Registry,Assignment,Organization Name,Organization Address\n" +
		"MA-L,040E3C,HP Inc.,10300 Energy Dr\nMA-M,70B3D51,Some Small Maker,addr\nMA-L,zzzzzz,bad,x\n"))
	if err != nil {
		t.Fatal(err)
	}
	for mac, want := range map[string]string{"04:0e:3c:12:34:56": "HP Inc.", "70-B3-D5-1A-BC-DE": "Some Small Maker", "00:00:00:00:00:01": ""} {
		if got := o.Lookup(mac); got != want {
			t.Errorf("Lookup(%s) = %q, want %q", mac, got, want)
		}
	}
	if _, err := ReadOUI(strings.NewReader("a,b\n")); err == nil {
		t.Error("a file without assignments loaded")
	}
	if _, err := LoadOUI("/nonexistent/oui.csv"); err == nil || !strings.Contains(err.Error(), "ieee-data") {
		t.Errorf("missing file: %v", err)
	}
	if o := (*OUI)(nil); o.Lookup("04:0e:3c:12:34:56") != "" {
		t.Error("nil OUI found a vendor")
	}
}

func TestLimiterSpacesProbes(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	var slept []time.Duration
	l := newLimiter(100, func() time.Time { return now })
	l.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	for range 3 {
		if err := l.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Errorf("slept %v, want %v (100 per second from one instant)", slept, want)
	}
	now = now.Add(time.Second) // idle time is not saved up as a burst
	slept = nil
	_ = l.wait(context.Background())
	_ = l.wait(context.Background())
	if want := []time.Duration{10 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Errorf("after idling slept %v, want %v", slept, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := newLimiter(0, time.Now).wait(ctx); err == nil {
		t.Error("a cancelled context went through")
	}
}

func TestHostsOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cidr        string
		n           int
		first, last string
		err         string
	}{
		{cidr: "10.0.0.0/24", n: 254, first: "10.0.0.1", last: "10.0.0.254"},
		{cidr: "10.0.0.7/30", n: 2, first: "10.0.0.5", last: "10.0.0.6"},
		{cidr: "10.0.0.7/32", n: 1, first: "10.0.0.7", last: "10.0.0.7"},
		{cidr: "10.0.0.0/16", err: "more than the limit"},
		{cidr: "fd00::/120", err: "not an IPv4 network"},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			t.Parallel()
			got, err := hostsOf(netip.MustParsePrefix(tt.cidr), DefaultMaxHosts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(got) != tt.n || got[0].String() != tt.first || got[len(got)-1].String() != tt.last {
				t.Errorf("got %d addresses %v…, %v", len(got), got[:min(2, len(got))], err)
			}
		})
	}
}

func TestScanRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{CIDR: "not-a-cidr"}, {CIDR: "10.0.0.0/8"}, {CIDR: "10.0.0.0/24", Interface: "no-such-if0"}, {CIDR: "10.0.0.0/24", Ports: []int{80, 70000}}} {
		if _, err := Scan(context.Background(), o); err == nil {
			t.Errorf("Scan(%+v) started", o)
		}
	}
}

func TestParseProcARP(t *testing.T) {
	t.Parallel()
	got := parseProcARP(`IP address       HW type     Flags       HW address            Mask     Device
10.0.0.11        0x1         0x2         04:0e:3c:12:34:56     *        eth0
10.0.0.99        0x1         0x0         00:00:00:00:00:00     *        eth0
garbage`)
	if len(got) != 1 || got[netip.MustParseAddr("10.0.0.11")].String() != "04:0e:3c:12:34:56" {
		t.Errorf("got %v", got)
	}
}

func TestStripTelnet(t *testing.T) {
	t.Parallel()
	in := []byte("\xff\xfb\x01\xff\xfa\x18\x01\xff\xf0\xff\xfb\x03HP JetDirect\r\nPassword: ")
	if got := firstLine(stripTelnet(in)); got != "HP JetDirect" {
		t.Errorf("got %q", got)
	}
}
