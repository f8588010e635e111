package discovery

import (
	"net"
	"net/netip"
	"strings"
)

// parseProcARP reads Linux's /proc/net/arp: "IP address  HW type  Flags  HW
// address  Mask  Device". Incomplete entries (flags 0x0) are skipped.
func parseProcARP(s string) map[netip.Addr]net.HardwareAddr {
	out := map[netip.Addr]net.HardwareAddr{}
	for i, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 4 || f[2] == "0x0" {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		mac, err := net.ParseMAC(f[3])
		if err != nil || mac.String() == "00:00:00:00:00:00" {
			continue
		}
		out[ip] = mac
	}
	return out
}
