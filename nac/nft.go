package nac

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	firmward "github.com/firmward/firmward"
)

// Host is one quarantined device's addresses, for firewall sets.
type Host struct {
	DeviceID int64    `json:"device_id"`
	Name     string   `json:"name"`
	MACs     []string `json:"macs"`
	IPv4     []string `json:"ipv4"`
}

// HostOf returns the addresses of d (MACs in firmward form, IPv4 only).
func HostOf(d *firmward.Device) Host {
	h := Host{DeviceID: d.ID, Name: d.Name, MACs: slices.Clone(d.MACs)}
	for _, ip := range d.IPs {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			h.IPv4 = append(h.IPv4, a.String())
		}
	}
	return h
}

// FirewallOptions shape the nftables ruleset and the OpenWrt snippet.
type FirewallOptions struct {
	// Table is the nftables table (family inet); default "firmward".
	Table string
	// Allow lists IPv4 addresses or prefixes quarantined devices may still
	// reach (firmward itself for remediation, DNS, a captive portal).
	Allow []string
}

var nftName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// firewallSets validates and collects the set elements, sorted and
// without duplicates.
func firewallSets(hosts []Host, o *FirewallOptions) (macs, ips, allow []string, err error) {
	if o.Table == "" {
		o.Table = "firmward"
	}
	if !nftName.MatchString(o.Table) {
		return nil, nil, nil, firmward.Errorf(firmward.EINVALID, "table name %q: want a letter then up to 31 letters, digits or _", o.Table)
	}
	for _, h := range hosts {
		for _, m := range h.MACs {
			hw, err := net.ParseMAC(m)
			if err != nil || len(hw) != 6 {
				return nil, nil, nil, firmward.Errorf(firmward.EINVALID, "device %d: %q is not an Ethernet MAC address", h.DeviceID, m)
			}
			macs = append(macs, hw.String())
		}
		for _, ip := range h.IPv4 {
			a, err := netip.ParseAddr(ip)
			if err != nil || !a.Is4() {
				return nil, nil, nil, firmward.Errorf(firmward.EINVALID, "device %d: %q is not an IPv4 address", h.DeviceID, ip)
			}
			ips = append(ips, a.String())
		}
	}
	for _, s := range o.Allow {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || !a.Is4() {
				return nil, nil, nil, firmward.Errorf(firmward.EINVALID, "allow %q: want an IPv4 address or prefix", s)
			}
			p = netip.PrefixFrom(a, 32)
		}
		if !p.Addr().Is4() {
			return nil, nil, nil, firmward.Errorf(firmward.EINVALID, "allow %q: want an IPv4 address or prefix", s)
		}
		allow = append(allow, p.Masked().String())
	}
	sortUnique := func(s []string) []string { slices.Sort(s); return slices.Compact(s) }
	return sortUnique(macs), sortUnique(ips), sortUnique(allow), nil
}

// NFTRuleset returns an nftables ruleset for `nft -f`: table inet TABLE
// with the sets quarantine_mac (type ether_addr) and quarantine_ipv4 (type
// ipv4_addr) holding the quarantined devices, and a forward chain that
// rejects whatever they send or receive through the router, except to the
// Allow addresses. Applying it replaces the whole table atomically, so it
// can be applied again and again.
func NFTRuleset(hosts []Host, o FirewallOptions) (string, error) {
	macs, ips, allow, err := firewallSets(hosts, &o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# firmward NAC quarantine: %d MAC and %d IPv4 addresses of %d devices.\n", len(macs), len(ips), len(hosts))
	b.WriteString("# Apply with `nft -f FILE`; the table is replaced in one transaction.\n")
	fmt.Fprintf(&b, "table inet %s\ndelete table inet %s\n", o.Table, o.Table)
	fmt.Fprintf(&b, "table inet %s {\n", o.Table)
	writeSet(&b, "quarantine_mac", "ether_addr", false, macs)
	writeSet(&b, "quarantine_ipv4", "ipv4_addr", false, ips)
	writeSet(&b, "allow_ipv4", "ipv4_addr", true, allow)
	b.WriteString("\tchain forward {\n\t\ttype filter hook forward priority -5; policy accept;\n")
	b.WriteString("\t\tether saddr @quarantine_mac ip daddr @allow_ipv4 accept\n")
	b.WriteString("\t\tip saddr @quarantine_ipv4 ip daddr @allow_ipv4 accept\n")
	b.WriteString("\t\tip saddr @allow_ipv4 ip daddr @quarantine_ipv4 accept\n")
	b.WriteString("\t\tether saddr @quarantine_mac counter reject comment \"firmward quarantine (MAC)\"\n")
	b.WriteString("\t\tip saddr @quarantine_ipv4 counter reject comment \"firmward quarantine (IPv4)\"\n")
	b.WriteString("\t\tip daddr @quarantine_ipv4 counter reject comment \"firmward quarantine (IPv4)\"\n")
	b.WriteString("\t}\n}\n")
	return b.String(), nil
}

func writeSet(b *strings.Builder, name, typ string, interval bool, elems []string) {
	fmt.Fprintf(b, "\tset %s {\n\t\ttype %s\n", name, typ)
	if interval {
		b.WriteString("\t\tflags interval\n")
	}
	if len(elems) > 0 {
		fmt.Fprintf(b, "\t\telements = { %s }\n", strings.Join(elems, ", "))
	}
	b.WriteString("\t}\n")
}

// OpenWrtUCI returns the same quarantine as OpenWrt firewall4 (22.03 and
// later) configuration: two `ipset` sections (src_mac and src_ip) and
// `rule` sections that reject their forwarded traffic, for
// /etc/config/firewall.
func OpenWrtUCI(hosts []Host, o FirewallOptions) (string, error) {
	macs, ips, allow, err := firewallSets(hosts, &o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# firmward NAC quarantine for OpenWrt firewall4: add to /etc/config/firewall, then `service firewall reload`.\n")
	set := func(name, family, match string, entries []string) {
		fmt.Fprintf(&b, "config ipset\n\toption name '%s_%s'\n\toption family '%s'\n\tlist match '%s'\n", o.Table, name, family, match)
		for _, e := range entries {
			fmt.Fprintf(&b, "\tlist entry '%s'\n", e)
		}
		b.WriteString("\n")
	}
	set("quarantine_mac", "ipv4", "src_mac", macs)
	set("quarantine_ipv4", "ipv4", "src_ip", ips)
	for _, a := range allow {
		fmt.Fprintf(&b, "config rule\n\toption name '%s allow %s'\n\toption src '*'\n\toption dest '*'\n\toption dest_ip '%s'\n\toption ipset '%s_quarantine_mac'\n\toption target 'ACCEPT'\n\n", o.Table, a, a, o.Table)
	}
	for _, name := range []string{"quarantine_mac", "quarantine_ipv4"} {
		fmt.Fprintf(&b, "config rule\n\toption name '%s %s'\n\toption src '*'\n\toption dest '*'\n\toption ipset '%s_%s'\n\toption target 'REJECT'\n\n", o.Table, name, o.Table, name)
	}
	return b.String(), nil
}
