//go:build linux

package discovery

import (
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// setMulticastIf makes multicast sent from fd leave through ifi, with a TTL
// of 1 and without looping back.
func setMulticastIf(fd int, ifi *net.Interface, local netip.Addr) error {
	mreq := &unix.IPMreqn{Ifindex: int32(ifi.Index)} //nolint:gosec // interface indexes fit
	if local.IsValid() {
		mreq.Address = local.As4()
	}
	if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 1); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0)
}
