package discovery

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// udpListen opens a UDP socket on an ephemeral port. When ifi is set,
// multicast sent from it leaves through ifi (IP_MULTICAST_IF) with a TTL of
// 1; the socket never joins a group.
func udpListen(ctx context.Context, ifi *net.Interface, local netip.Addr) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		if ifi == nil {
			return nil
		}
		var serr error
		err := c.Control(func(fd uintptr) { serr = setMulticastIf(int(fd), ifi, local) }) //nolint:gosec // fds fit an int
		if err != nil {
			return err
		}
		return serr
	}}
	laddr := "0.0.0.0:0"
	if local.IsValid() {
		laddr = netip.AddrPortFrom(local, 0).String()
	}
	pc, err := lc.ListenPacket(ctx, "udp4", laddr)
	if err != nil {
		return nil, fmt.Errorf("discovery: opening a UDP socket: %w", err)
	}
	return pc.(*net.UDPConn), nil
}

// udpReply is one datagram received.
type udpReply struct {
	from netip.Addr
	data []byte
	at   time.Time
}

// collect reads datagrams until deadline or ctx ends, keeping those from
// inside prefix, each cut at limit bytes.
func collect(ctx context.Context, c *net.UDPConn, deadline time.Time, prefix netip.Prefix, limit int, now func() time.Time, fn func(udpReply)) {
	buf := make([]byte, limit+1)
	for ctx.Err() == nil {
		d := deadline
		if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
			d = cd
		}
		_ = c.SetReadDeadline(d)
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() { //nolint:errorlint // net.Error is an interface checked directly
				return
			}
			if time.Now().After(d) {
				return
			}
			continue
		}
		a := from.Addr().Unmap()
		if !prefix.Contains(a) {
			continue
		}
		fn(udpReply{from: a, data: append([]byte(nil), buf[:min(n, limit)]...), at: now()})
	}
}
