//go:build linux

package discovery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// arpSweeper sends ARP requests on one Ethernet interface and collects the
// replies, through an AF_PACKET socket (root or CAP_NET_RAW).
type arpSweeper struct {
	fd  int
	ifi *net.Interface
	src netip.Addr
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// openARP opens the raw socket; an error wrapping os.ErrPermission means the
// process lacks the privilege.
func openARP(ifi *net.Interface, src netip.Addr) (*arpSweeper, error) {
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("arp: %s has no Ethernet address", ifi.Name)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("arp: raw socket: %w", os.ErrPermission)
		}
		return nil, fmt.Errorf("arp: raw socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("arp: binding to %s: %w", ifi.Name, err)
	}
	tv := unix.NsecToTimeval((50 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("arp: %w", err)
	}
	return &arpSweeper{fd: fd, ifi: ifi, src: src}, nil
}

func (a *arpSweeper) close() { _ = unix.Close(a.fd) }

// request builds an ARP who-has frame for target.
func (a *arpSweeper) request(target netip.Addr) []byte {
	f := make([]byte, 42)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], a.ifi.HardwareAddr)
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_ARP)
	binary.BigEndian.PutUint16(f[14:], 1)      // Ethernet
	binary.BigEndian.PutUint16(f[16:], 0x0800) // IPv4
	f[18], f[19] = 6, 4
	binary.BigEndian.PutUint16(f[20:], 1) // request
	copy(f[22:28], a.ifi.HardwareAddr)
	s4 := a.src.As4()
	copy(f[28:32], s4[:])
	t4 := target.As4()
	copy(f[38:42], t4[:])
	return f
}

// parseARPReply reads an Ethernet ARP reply; ok is false for anything else.
func parseARPReply(f []byte) (ip netip.Addr, mac net.HardwareAddr, ok bool) {
	if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != unix.ETH_P_ARP || binary.BigEndian.Uint16(f[20:]) != 2 || f[18] != 6 || f[19] != 4 {
		return netip.Addr{}, nil, false
	}
	ip = netip.AddrFrom4([4]byte(f[28:32]))
	return ip, net.HardwareAddr(append([]byte(nil), f[22:28]...)), true
}

// sweep asks every target and returns the MAC of each that answered within
// wait after the last request. Sends go through lim.
func (a *arpSweeper) sweep(ctx context.Context, targets []netip.Addr, lim *limiter, wait time.Duration, prefix netip.Prefix) (map[netip.Addr]net.HardwareAddr, error) {
	found := map[netip.Addr]net.HardwareAddr{}
	done := make(chan struct{})
	sendDone := make(chan time.Time, 1)
	go func() {
		defer close(done)
		buf := make([]byte, 128)
		var deadline time.Time
		for {
			select {
			case t := <-sendDone:
				deadline = t.Add(wait)
			default:
			}
			if ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
				return
			}
			n, _, err := unix.Recvfrom(a.fd, buf, 0)
			if err != nil {
				continue // timeout: check the deadline again
			}
			if ip, mac, ok := parseARPReply(buf[:n]); ok && prefix.Contains(ip) {
				found[ip] = mac
			}
		}
	}()
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: a.ifi.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	var err error
	for _, t := range targets {
		if err = lim.wait(ctx); err != nil {
			break
		}
		if e := unix.Sendto(a.fd, a.request(t), 0, to); e != nil {
			err = fmt.Errorf("arp: sending to %s: %w", t, e)
			break
		}
	}
	sendDone <- time.Now()
	<-done
	return found, err
}

// neighbours reads the kernel's IPv4 neighbour table (/proc/net/arp): the
// MAC addresses it learned while the scan talked to hosts, which is how a
// scan without raw sockets still knows them.
func neighbours() map[netip.Addr]net.HardwareAddr {
	b, err := os.ReadFile("/proc/net/arp")
	if err != nil {
		return nil
	}
	return parseProcARP(string(b))
}
