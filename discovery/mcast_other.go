//go:build !linux

package discovery

import (
	"net"
	"net/netip"
)

// setMulticastIf leaves the system's choice of interface elsewhere than on
// Linux.
func setMulticastIf(int, *net.Interface, netip.Addr) error { return nil }
