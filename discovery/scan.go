package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/firmward/firmward/recog"
)

// Defaults of Options.
const (
	DefaultTimeout     = 3 * time.Second
	DefaultRate        = 1000
	DefaultConcurrency = 128
	DefaultMaxHosts    = 4096
	DefaultListenWait  = 2 * time.Second
)

// Options configure one scan.
type Options struct {
	// CIDR is the IPv4 network to scan ("192.168.1.0/24").
	CIDR string
	// Interface is the network interface for the ARP sweep and multicast;
	// empty picks the one whose address lies in CIDR.
	Interface string
	// Ports are the TCP ports probed on each live host (DefaultPorts when
	// empty).
	Ports []int
	// Timeout bounds the probes of one host (DefaultTimeout when zero).
	Timeout time.Duration
	// Rate is the most probes (packets and connections) sent per second
	// over the whole scan (DefaultRate when zero; negative means no limit).
	Rate int
	// Concurrency is how many hosts are probed at once (DefaultConcurrency
	// when zero).
	Concurrency int
	// MaxHosts refuses a CIDR holding more addresses (DefaultMaxHosts when
	// zero).
	MaxHosts int
	// ListenWait is how long the scan listens for answers to broadcast and
	// UDP probes (DefaultListenWait when zero).
	ListenWait time.Duration
	// Communities are the SNMP v2c communities tried (["public"] when nil).
	Communities []string
	// OUI is the IEEE registry for MAC vendors; nil leaves them out.
	OUI *OUI
	// Rules identify devices (recog's directory plus recog.Builtin).
	Rules *recog.Set
	// NoRaw skips the ARP sweep and ICMP echo even when raw sockets could
	// be opened: the scan runs as it would without privileges.
	NoRaw bool
	// IoTSegment says the scanned network is already an IoT segment: IoT
	// devices on it are not flagged as being on the main network.
	IoTSegment bool
	// Progress, if set, is called as the scan advances (from one goroutine
	// at a time).
	Progress func(Progress)
	Logger   *slog.Logger
	Now      func() time.Time
}

// Progress says how far a scan is.
type Progress struct {
	// Phase is "sweep" (ARP, ICMP, SNMP, SSDP, mDNS), "probe" (TCP ports of
	// each live host) or "describe" (UPnP descriptions).
	Phase string
	// Done of Total units of the phase (hosts for "probe"; 0 of 0 when the
	// phase cannot count).
	Done, Total int
	// Found is how many hosts answered so far.
	Found int
}

func (o *Options) defaults() {
	if len(o.Ports) == 0 {
		o.Ports = DefaultPorts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxHosts <= 0 {
		o.MaxHosts = DefaultMaxHosts
	}
	if o.ListenWait <= 0 {
		o.ListenWait = DefaultListenWait
	}
	if o.Communities == nil {
		o.Communities = []string{"public"}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rules == nil {
		o.Rules = recog.NewSet()
	}
}

// hostsOf lists the addresses of an IPv4 prefix to probe: all but the
// network and broadcast addresses (both kept for /31 and /32).
func hostsOf(p netip.Prefix, maxHosts int) ([]netip.Addr, error) {
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("discovery: %s is not an IPv4 network; IPv6 networks are too large to sweep", p)
	}
	p = p.Masked()
	size := 1 << (32 - p.Bits())
	if size > maxHosts {
		return nil, fmt.Errorf("discovery: %s holds %d addresses, more than the limit of %d; scan smaller networks", p, size, maxHosts)
	}
	var out []netip.Addr
	for a := p.Addr(); p.Contains(a); a = a.Next() {
		out = append(out, a)
		if len(out) == size {
			break
		}
	}
	if size > 2 {
		out = out[1 : len(out)-1]
	}
	return out, nil
}

// pickInterface returns the named interface, or the one with an IPv4
// address inside p, with that address. An on-link network needs both for
// the ARP sweep and multicast; a routed one has neither.
func pickInterface(name string, p netip.Prefix) (*net.Interface, netip.Addr, error) {
	var ifs []net.Interface
	if name != "" {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return nil, netip.Addr{}, fmt.Errorf("discovery: interface %q: %w", name, err)
		}
		ifs = []net.Interface{*ifi}
	} else {
		var err error
		if ifs, err = net.Interfaces(); err != nil {
			return nil, netip.Addr{}, fmt.Errorf("discovery: listing interfaces: %w", err)
		}
	}
	var first netip.Addr
	for i := range ifs {
		ifi := &ifs[i]
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagLoopback != 0 && name == "" {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP.To4())
			if !ok {
				continue
			}
			if !first.IsValid() {
				first = ip
			}
			if p.Contains(ip) {
				return ifi, ip, nil
			}
		}
	}
	if name != "" {
		if !first.IsValid() {
			return nil, netip.Addr{}, fmt.Errorf("discovery: interface %q has no IPv4 address", name)
		}
		return &ifs[0], first, nil
	}
	return nil, netip.Addr{}, nil
}

// hostTable holds the hosts found so far.
type hostTable struct {
	now func() time.Time
	mu  sync.Mutex // guards m and ssdp
	m   map[netip.Addr]*Host
	// ssdp holds the SSDP answers by host, for the describe phase.
	ssdp map[netip.Addr][]SSDPResponse
}

// touch records that a answered probe by and lets fn change its host under
// the lock.
func (t *hostTable) touch(a netip.Addr, by string, fn func(h *Host)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.m[a]
	if !ok {
		h = &Host{IP: a.String()}
		t.m[a] = h
	}
	h.ObservedAt = t.now().UTC()
	if !slices.Contains(h.AliveBy, by) {
		h.AliveBy = append(h.AliveBy, by)
	}
	if fn != nil {
		fn(h)
	}
}

func (t *hostTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

func (t *hostTable) addrs() []netip.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]netip.Addr, 0, len(t.m))
	for a := range t.m {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// Scan sweeps o.CIDR and returns every host that answered, identified. It
// fails only when the scan cannot start (a bad CIDR, a missing interface) or
// ctx ends; probes that fail are simply not answered.
func Scan(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	prefix, err := netip.ParsePrefix(strings.TrimSpace(o.CIDR))
	if err != nil {
		if a, err2 := netip.ParseAddr(strings.TrimSpace(o.CIDR)); err2 == nil && a.Is4() {
			prefix = netip.PrefixFrom(a, 32)
		} else {
			return nil, fmt.Errorf("discovery: %q is not a CIDR such as 192.168.1.0/24: %w", o.CIDR, err)
		}
	}
	prefix = prefix.Masked()
	for _, port := range o.Ports {
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("discovery: port %d is not a TCP port (1 to 65535)", port)
		}
	}
	addrs, err := hostsOf(prefix, o.MaxHosts)
	if err != nil {
		return nil, err
	}
	ifi, local, err := pickInterface(o.Interface, prefix)
	if err != nil {
		return nil, err
	}
	res := &Result{CIDR: prefix.String(), StartedAt: o.Now().UTC()}
	if ifi != nil {
		res.Interface = ifi.Name
	}
	if local.IsValid() && prefix.Contains(local) {
		addrs = slices.DeleteFunc(addrs, func(a netip.Addr) bool { return a == local })
	}
	res.Scanned = len(addrs)
	progress := func(p Progress) {
		if o.Progress != nil {
			o.Progress(p)
		}
	}
	// The rate limit paces real packets, so it keeps real time even when
	// o.Now is a test's clock (which only stamps the observations).
	lim := newLimiter(o.Rate, time.Now)
	t := &hostTable{now: o.Now, m: map[netip.Addr]*Host{}, ssdp: map[netip.Addr][]SSDPResponse{}}
	onLink := ifi != nil && prefix.Contains(local)

	// Raw sockets: the ARP sweep (on-link networks) and ICMP echo.
	var arp *arpSweeper
	var pinger *icmpPinger
	var arpErr, icmpErr error
	if !o.NoRaw {
		if onLink {
			if arp, arpErr = openARP(ifi, local); arpErr != nil {
				o.Logger.Info("no ARP sweep", "err", arpErr)
			}
		}
		if pinger, icmpErr = openICMP(uint16(rand.IntN(1 << 16))); icmpErr != nil { //nolint:gosec // an echo identifier, not a secret
			o.Logger.Info("no ICMP echo", "err", icmpErr)
		}
	}
	res.Raw = (arp != nil || !onLink) && pinger != nil
	const fallback = "hosts were found by TCP connect, SNMP, SSDP and mDNS only, and MAC addresses come from the kernel's neighbour table."
	switch {
	case o.NoRaw:
		res.Notes = append(res.Notes, "raw sockets not used (--no-raw): no ARP sweep or ICMP echo; "+fallback)
	case errors.Is(arpErr, os.ErrPermission) || errors.Is(icmpErr, os.ErrPermission):
		res.Notes = append(res.Notes, "no raw-socket privilege (run as root or grant CAP_NET_RAW): no ARP sweep or ICMP echo; "+fallback)
	case arpErr != nil:
		res.Notes = append(res.Notes, fmt.Sprintf("no ARP sweep (%v); hosts that ignore ICMP were found by TCP connect, SNMP, SSDP and mDNS, and MAC addresses come from the kernel's neighbour table.", arpErr))
	case icmpErr != nil:
		res.Notes = append(res.Notes, fmt.Sprintf("no ICMP echo (%v).", icmpErr))
	}
	if !onLink {
		res.Notes = append(res.Notes, fmt.Sprintf("no interface of this machine is on %s: no ARP sweep, SSDP or mDNS (they do not cross routers); hosts were probed over IP only.", prefix))
	}
	if o.OUI == nil {
		res.Notes = append(res.Notes, "no IEEE OUI registry loaded: MAC vendors are not shown.")
	}

	// Phase 1: sweep.
	progress(Progress{Phase: "sweep"})
	var macs map[netip.Addr]net.HardwareAddr
	var wg sync.WaitGroup
	if arp != nil {
		wg.Go(func() {
			defer arp.close()
			found, err := arp.sweep(ctx, addrs, lim, min(o.ListenWait, time.Second), prefix)
			if err != nil {
				o.Logger.Warn("ARP sweep", "err", err)
			}
			for a := range found {
				t.touch(a, "arp", nil)
			}
			macs = found
		})
	}
	if pinger != nil {
		wg.Go(func() {
			defer pinger.close()
			alive, err := pinger.sweep(ctx, addrs, lim, min(o.ListenWait, time.Second), prefix)
			if err != nil {
				o.Logger.Warn("ICMP sweep", "err", err)
			}
			for a := range alive {
				t.touch(a, "icmp", nil)
			}
		})
	}
	wg.Go(func() { snmpSweep(ctx, o, lim, prefix, local, addrs, t) })
	if onLink {
		wg.Go(func() { ssdpSearch(ctx, o, ifi, local, prefix, t) })
		wg.Go(func() { mdnsBrowse(ctx, o, ifi, local, prefix, t) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovery: scan of %s: %w", prefix, err)
	}

	// Phase 2: TCP probes. On an on-link network swept by ARP, a host that
	// did not answer ARP cannot answer anything else.
	targets := addrs
	if arp != nil {
		targets = t.addrs()
	}
	p := newProber(lim, prefix, o.Timeout)
	p.logger = o.Logger
	var done int
	var mu sync.Mutex // guards done and the calls to progress
	progress(Progress{Phase: "probe", Total: len(targets), Found: t.len()})
	sem := make(chan struct{}, o.Concurrency)
	for _, a := range targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			probeHost(ctx, o, p, a, t)
			mu.Lock()
			done++
			progress(Progress{Phase: "probe", Done: done, Total: len(targets), Found: t.len()})
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovery: scan of %s: %w", prefix, err)
	}

	// Phase 3: UPnP descriptions and gateway port mappings.
	progress(Progress{Phase: "describe", Found: t.len()})
	describeUPnP(ctx, o, p, t)

	if onLink {
		for a, mac := range neighbours() {
			if _, ok := macs[a]; !ok && prefix.Contains(a) {
				if macs == nil {
					macs = map[netip.Addr]net.HardwareAddr{}
				}
				macs[a] = mac
			}
		}
	}
	for _, a := range t.addrs() {
		h := t.m[a]
		if mac, ok := macs[a]; ok {
			h.MAC = mac.String()
			h.MACVendor = o.OUI.Lookup(h.MAC)
		}
		slices.SortFunc(h.Ports, func(x, y Port) int { return cmp.Compare(x.Port, y.Port) })
		slices.Sort(h.AliveBy)
		slices.SortFunc(h.MDNS, func(x, y MDNSService) int { return cmp.Compare(x.Instance, y.Instance) })
		if h.Hostname == "" && h.SNMP != nil {
			h.Hostname = h.SNMP.SysName
		}
		h.Fingerprint = Fuse(h, o.Rules)
		res.Hosts = append(res.Hosts, *h)
	}
	Hints(res.Hosts, HintOptions{MainNetwork: !o.IoTSegment && onMainNetwork(prefix, local)})
	res.FinishedAt = o.Now().UTC()
	o.Logger.Info("scan finished", "cidr", prefix, "hosts", len(res.Hosts), "took", res.FinishedAt.Sub(res.StartedAt))
	return res, nil
}

// probeHost connects to every port of one host, within the per-host
// timeout, and probes those that are open.
func probeHost(ctx context.Context, o Options, p *prober, a netip.Addr, t *hostTable) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var mu sync.Mutex // guards open and alive
	var open []int
	alive := false
	var wg sync.WaitGroup
	for _, port := range o.Ports {
		wg.Go(func() {
			ok, up := p.connect(ctx, a, port)
			mu.Lock()
			defer mu.Unlock()
			alive = alive || up
			if ok {
				open = append(open, port)
			}
		})
	}
	wg.Wait()
	if !alive {
		return
	}
	ports := make([]Port, len(open))
	for i, port := range open {
		wg.Go(func() { ports[i] = p.probePort(ctx, a, port) })
	}
	wg.Wait()
	t.touch(a, "tcp", func(h *Host) { h.Ports = append(h.Ports, ports...) })
}

// snmpSweep sends an SNMP v2c GET for sysDescr, sysObjectID and sysName to
// every address with every community and records the answers.
func snmpSweep(ctx context.Context, o Options, lim *limiter, prefix netip.Prefix, local netip.Addr, addrs []netip.Addr, t *hostTable) {
	c, err := udpListen(ctx, nil, local)
	if err != nil {
		o.Logger.Warn("SNMP sweep", "err", err)
		return
	}
	defer func() { _ = c.Close() }()
	sent := map[int32]string{} // request ID -> community
	var sentMu sync.Mutex      // guards sent
	done := make(chan struct{})
	last := make(chan time.Time, 1)
	go func() {
		defer close(done)
		deadline := time.Now().Add(time.Hour)
		for ctx.Err() == nil {
			select {
			case l := <-last:
				deadline = l.Add(min(o.ListenWait, time.Second))
			default:
			}
			if time.Now().After(deadline) {
				return
			}
			until := time.Now().Add(100 * time.Millisecond)
			if deadline.Before(until) {
				until = deadline
			}
			collect(ctx, c, until, prefix, maxSNMPReply, o.Now, func(r udpReply) {
				resp, err := ParseSNMPResponse(r.data)
				if err != nil || resp.ErrorStatus != 0 {
					return
				}
				sentMu.Lock()
				community, ok := sent[resp.RequestID]
				sentMu.Unlock()
				if !ok || resp.Values[oidSysDescr] == "" && resp.Values[oidSysObjectID] == "" {
					return
				}
				t.touch(r.from, "snmp", func(h *Host) {
					if h.SNMP != nil {
						return
					}
					h.SNMP = &SNMPInfo{
						SysDescr: resp.Values[oidSysDescr], SysObjectID: resp.Values[oidSysObjectID], SysName: resp.Values[oidSysName],
						DefaultCommunity: community == "public" || community == "private",
					}
				})
			})
		}
	}()
	base := rand.Int32N(1 << 24) //nolint:gosec // request IDs, not secrets
	id := base
	for _, community := range o.Communities {
		for _, a := range addrs {
			if lim.wait(ctx) != nil {
				break
			}
			id++
			msg, err := snmpGet(community, id, []string{oidSysDescr, oidSysObjectID, oidSysName})
			if err != nil {
				break
			}
			sentMu.Lock()
			sent[id] = community
			sentMu.Unlock()
			_, _ = c.WriteToUDPAddrPort(msg, netip.AddrPortFrom(a, 161))
		}
	}
	last <- time.Now()
	<-done
}

// ssdpSearch multicasts M-SEARCH twice and records every answer.
func ssdpSearch(ctx context.Context, o Options, ifi *net.Interface, local netip.Addr, prefix netip.Prefix, t *hostTable) {
	c, err := udpListen(ctx, ifi, local)
	if err != nil {
		o.Logger.Warn("SSDP", "err", err)
		return
	}
	defer func() { _ = c.Close() }()
	dst := netip.MustParseAddrPort(ssdpAddr)
	mx := max(1, int(o.ListenWait/time.Second)-1)
	send := func() {
		for _, st := range []string{"ssdp:all", "upnp:rootdevice"} {
			_, _ = c.WriteToUDPAddrPort(mSearch(st, mx), dst)
		}
	}
	send()
	deadline := time.Now().Add(o.ListenWait)
	resent := false
	for ctx.Err() == nil && time.Now().Before(deadline) {
		until := deadline
		if !resent {
			until = time.Now().Add(300 * time.Millisecond)
		}
		collect(ctx, c, until, prefix, maxSSDPReply, o.Now, func(r udpReply) {
			resp, err := ParseSSDPResponse(r.data)
			if err != nil {
				return
			}
			t.touch(r.from, "ssdp", func(*Host) {
				for _, s := range t.ssdp[r.from] {
					if s.Location == resp.Location {
						return
					}
				}
				if len(t.ssdp[r.from]) < 4 {
					t.ssdp[r.from] = append(t.ssdp[r.from], resp)
				}
			})
		})
		if !resent {
			send() // UDP is lossy: ask once more
			resent = true
		}
	}
}

// mdnsBrowse enumerates DNS-SD service types, then their instances, then the
// SRV and TXT records of instances that came without them; three rounds of
// legacy-unicast queries.
func mdnsBrowse(ctx context.Context, o Options, ifi *net.Interface, local netip.Addr, prefix netip.Prefix, t *hostTable) {
	c, err := udpListen(ctx, ifi, local)
	if err != nil {
		o.Logger.Warn("mDNS", "err", err)
		return
	}
	defer func() { _ = c.Close() }()
	dst := netip.MustParseAddrPort(mdnsAddr)
	round := max(o.ListenWait/3, 300*time.Millisecond)
	var types []string
	services := map[netip.Addr]map[string]*MDNSService{}
	hostnames := map[netip.Addr]string{}
	ask := func(qtype uint16, names ...string) {
		for chunk := range slices.Chunk(names, 16) {
			q, err := mdnsQuery(uint16(rand.IntN(1<<16-1)+1), qtype, chunk...) //nolint:gosec // a query ID
			if err == nil {
				_, _ = c.WriteToUDPAddrPort(q, dst)
			}
		}
	}
	listen := func() {
		collect(ctx, c, time.Now().Add(round), prefix, maxMDNSReply, o.Now, func(r udpReply) {
			rep, err := ParseMDNS(r.data)
			if err != nil {
				return
			}
			for _, ty := range rep.Types {
				if !slices.Contains(types, ty) && len(types) < 64 {
					types = append(types, ty)
				}
			}
			if services[r.from] == nil {
				services[r.from] = map[string]*MDNSService{}
			}
			for k, s := range rep.Services {
				if old, ok := services[r.from][k]; ok {
					if s.Host == "" {
						s.Host, s.Port = old.Host, old.Port
					}
					if s.TXT == nil {
						s.TXT = old.TXT
					}
				}
				if len(services[r.from]) < 64 {
					services[r.from][k] = s
				}
			}
			for name, ips := range rep.Hosts {
				if slices.Contains(ips, r.from.String()) {
					hostnames[r.from] = strings.TrimSuffix(name, ".local.")
				}
			}
			t.touch(r.from, "mdns", nil)
		})
	}
	ask(dns.TypePTR, servicesEnum)
	listen()
	if len(types) > 0 {
		ask(dns.TypePTR, types...)
		listen()
	}
	var missing []string
	for _, m := range services {
		for _, s := range m {
			if s.TXT == nil || s.Host == "" {
				missing = append(missing, s.Instance)
			}
		}
	}
	if len(missing) > 0 {
		ask(dns.TypeTXT, missing...)
		ask(dns.TypeSRV, missing...)
		listen()
	}
	for a, m := range services {
		t.touch(a, "mdns", func(h *Host) {
			for _, s := range m {
				if s.Type != "" {
					h.MDNS = append(h.MDNS, *s)
				}
			}
			if n := hostnames[a]; n != "" {
				h.Hostname = n
			}
		})
	}
}

// describeUPnP fetches the description of every SSDP location (inside the
// scanned network only) and reads the port mappings of Internet gateways.
func describeUPnP(ctx context.Context, o Options, p *prober, t *hostTable) {
	t.mu.Lock()
	work := map[netip.Addr][]SSDPResponse{}
	for a, rs := range t.ssdp {
		work[a] = slices.Clone(rs)
	}
	t.mu.Unlock()
	var wg sync.WaitGroup
	for a, rs := range work {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 2*o.Timeout)
			defer cancel()
			var devs []UPnPDevice
			for _, r := range rs {
				d, err := fetchDescription(ctx, p, r)
				if err != nil {
					o.Logger.Debug("UPnP description", "location", r.Location, "err", err)
					continue
				}
				if slices.ContainsFunc(devs, func(x UPnPDevice) bool { return x.UDN != "" && x.UDN == d.UDN }) {
					continue
				}
				if d.IsGateway() {
					d.PortMappings = portMappings(ctx, p, d)
				}
				devs = append(devs, d)
			}
			t.touch(a, "ssdp", func(h *Host) { h.UPnP = append(h.UPnP, devs...) })
		})
	}
	wg.Wait()
}

func fetchDescription(ctx context.Context, p *prober, r SSDPResponse) (UPnPDevice, error) {
	u := resolveURL(r.Location, r.Location)
	if u == "" {
		return UPnPDevice{}, fmt.Errorf("upnp: location %q is not an http URL", cutText(r.Location, 100))
	}
	f, err := p.get(ctx, u, maxDescription+1)
	if err != nil {
		return UPnPDevice{}, err
	}
	d, err := ParseDeviceDescription(f.body, u)
	if err != nil {
		return d, err
	}
	d.Server = r.Server
	return d, nil
}

// portMappings reads a gateway's port mapping table, entry by entry, up to
// maxPortMappings.
func portMappings(ctx context.Context, p *prober, d UPnPDevice) []PortMapping {
	s := d.wanService()
	if s == nil || s.ControlURL == "" {
		return nil
	}
	var out []PortMapping
	for i := range maxPortMappings {
		b, err := p.post(ctx, s.ControlURL, s.ServiceType+"#GetGenericPortMappingEntry", portMappingRequest(s.ServiceType, i), maxSOAPReply)
		if err != nil {
			break
		}
		m, err := ParsePortMappingEntry(b)
		if err != nil {
			if !errors.Is(err, errNoMoreMappings) {
				p.logger.Debug("UPnP port mapping", "url", s.ControlURL, "index", i, "err", err)
			}
			break
		}
		out = append(out, m)
	}
	return out
}
