package nac

import (
	"strings"
	"testing"

	firmward "github.com/firmward/firmward"
)

// FuzzFirewallRules feeds device addresses (which come from imports and
// scans) and the query's allow and table values into the nftables and UCI
// writers: no panic, and whatever is accepted cannot break out of its set
// or quote.
func FuzzFirewallRules(f *testing.F) {
	f.Add("02:00:00:00:00:01", "10.0.0.5", "10.0.0.1", "firmward")
	f.Add("3C-D9-2B-00-00-13", "192.168.1.23", "192.0.2.0/24", "")
	f.Add("0200.0000.0001", "::1", "nonsense", "bad table")
	f.Add("02:00:00:00:00:01 }\n flush ruleset", "10.0.0.5'", "10.0.0.1/33", "x;y")
	f.Fuzz(func(t *testing.T, mac, ip, allow, table string) {
		hosts := []Host{{DeviceID: 1, MACs: []string{mac}, IPv4: []string{ip}}}
		o := FirewallOptions{Table: table, Allow: []string{allow}}
		for name, write := range map[string]func([]Host, FirewallOptions) (string, error){"nft": NFTRuleset, "uci": OpenWrtUCI} {
			out, err := write(hosts, o)
			if err != nil {
				if firmward.ErrorCode(err) != firmward.EINVALID {
					t.Fatalf("%s: error %v is not EINVALID", name, err)
				}
				continue
			}
			if strings.Count(out, "{") != strings.Count(out, "}") {
				t.Fatalf("%s: unbalanced braces for %q %q %q %q:\n%s", name, mac, ip, allow, table, out)
			}
			for line := range strings.Lines(out) {
				if strings.Count(line, "'")%2 != 0 {
					t.Fatalf("%s: unbalanced quote in %q", name, line)
				}
				if strings.Contains(line, "flush") {
					t.Fatalf("%s: input escaped into the ruleset: %q", name, line)
				}
			}
		}
	})
}

// FuzzViolations checks the segment check over arbitrary addresses and
// subnets: no panic, and every violation names an address of the device.
func FuzzViolations(f *testing.F) {
	f.Add("10.0.0.5", "10.30.0.0/24", "10.0.0.0/24")
	f.Add("fe80::1", "10.30.0.0/24", "fe80::/64")
	f.Add("bogus", "nope", "10.0.0.0/8")
	f.Fuzz(func(t *testing.T, ip, iot, def string) {
		p := EnterprisePolicy("hq")
		p.Subnets = map[string]string{SegmentIoT: iot, SegmentDefault: def}
		_ = p.Validate()
		d := &firmward.Device{ID: 1, Name: "cam", Category: firmward.CategoryCamera, Site: "hq", IPs: []string{ip}}
		for _, v := range p.Violations([]*firmward.Device{d}) {
			if v.DeviceID != 1 || v.Advice == "" || !strings.Contains(v.Advice, v.IP) {
				t.Fatalf("violation %+v", v)
			}
		}
	})
}
