//go:build !linux

package discovery

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

type arpSweeper struct{}

func openARP(*net.Interface, netip.Addr) (*arpSweeper, error) {
	return nil, errors.New("arp: the ARP sweep is implemented for Linux only")
}

func (a *arpSweeper) close() {}

func (a *arpSweeper) sweep(context.Context, []netip.Addr, *limiter, time.Duration, netip.Prefix) (map[netip.Addr]net.HardwareAddr, error) {
	return nil, nil
}

func neighbours() map[netip.Addr]net.HardwareAddr { return nil }
