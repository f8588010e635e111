package discovery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// icmpPinger sends ICMP echo requests over a raw socket (root or
// CAP_NET_RAW) and collects the replies.
type icmpPinger struct {
	conn net.PacketConn
	id   uint16
}

func openICMP(id uint16) (*icmpPinger, error) {
	var lc net.ListenConfig
	c, err := lc.ListenPacket(context.Background(), "ip4:icmp", "0.0.0.0")
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("icmp: raw socket: %w", os.ErrPermission)
		}
		return nil, fmt.Errorf("icmp: raw socket: %w", err)
	}
	return &icmpPinger{conn: c, id: id}, nil
}

func (p *icmpPinger) close() { _ = p.conn.Close() }

// echoRequest builds an ICMP echo request with identifier id and sequence seq.
func echoRequest(id, seq uint16) []byte {
	b := []byte{8, 0, 0, 0, 0, 0, 0, 0, 'f', 'i', 'r', 'm', 'w', 'a', 'r', 'd'}
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	binary.BigEndian.PutUint16(b[2:], icmpChecksum(b))
	return b
}

func icmpChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s) //nolint:gosec // folded to 16 bits above
}

// isEchoReply says b is an echo reply carrying id.
func isEchoReply(b []byte, id uint16) bool {
	return len(b) >= 8 && b[0] == 0 && b[1] == 0 && binary.BigEndian.Uint16(b[4:]) == id
}

// sweep pings every target and returns those that answered within wait
// after the last request.
func (p *icmpPinger) sweep(ctx context.Context, targets []netip.Addr, lim *limiter, wait time.Duration, prefix netip.Prefix) (map[netip.Addr]bool, error) {
	alive := map[netip.Addr]bool{}
	done := make(chan struct{})
	sendDone := make(chan time.Time, 1)
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
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
			_ = p.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, from, err := p.conn.ReadFrom(buf)
			if err != nil {
				continue
			}
			ipa, ok := from.(*net.IPAddr)
			if !ok {
				continue
			}
			if a, ok := netip.AddrFromSlice(ipa.IP.To4()); ok && prefix.Contains(a) && isEchoReply(buf[:n], p.id) {
				alive[a] = true
			}
		}
	}()
	var err error
	for i, t := range targets {
		if err = lim.wait(ctx); err != nil {
			break
		}
		if _, e := p.conn.WriteTo(echoRequest(p.id, uint16(i)), &net.IPAddr{IP: t.AsSlice()}); e != nil { //nolint:gosec // the sequence number wraps on purpose
			continue // unreachable hosts fail here; keep going
		}
	}
	sendDone <- time.Now()
	<-done
	return alive, err
}
