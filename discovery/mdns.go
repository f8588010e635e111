package discovery

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

const (
	mdnsAddr     = "224.0.0.251:5353"
	servicesEnum = "_services._dns-sd._udp.local."
)

// MDNSService is one DNS-SD service instance a host announced.
type MDNSService struct {
	Instance string   `json:"instance"`
	Type     string   `json:"type"`
	Host     string   `json:"host,omitempty"`
	Port     int      `json:"port,omitempty"`
	TXT      []string `json:"txt,omitempty"`
}

// mdnsReply is what one mDNS answer carried.
type mdnsReply struct {
	// Types are service types found by enumeration ("_shelly._tcp.local.").
	Types []string
	// Services by instance name.
	Services map[string]*MDNSService
	// Hosts are the A records: host name -> addresses.
	Hosts map[string][]string
}

// mdnsQuery returns a legacy-unicast mDNS query (sent from an ephemeral
// port, so answered by unicast) for qtype of each name.
func mdnsQuery(id uint16, qtype uint16, names ...string) ([]byte, error) {
	m := new(dns.Msg)
	m.Id = id
	for _, n := range names {
		m.Question = append(m.Question, dns.Question{Name: dns.Fqdn(n), Qtype: qtype, Qclass: dns.ClassINET})
	}
	b, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("mdns: packing a query: %w", err)
	}
	return b, nil
}

// ParseMDNS decodes one mDNS answer (at most 9000 bytes are read): the
// service types it enumerates, the service instances with their SRV and TXT
// records, and host addresses. Queries are refused.
func ParseMDNS(b []byte) (mdnsReply, error) {
	if len(b) > maxMDNSReply {
		b = b[:maxMDNSReply]
	}
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		return mdnsReply{}, fmt.Errorf("mdns: not a DNS message: %w", err)
	}
	if !m.Response {
		return mdnsReply{}, fmt.Errorf("mdns: a query, not an answer")
	}
	out := mdnsReply{Services: map[string]*MDNSService{}, Hosts: map[string][]string{}}
	svc := func(instance string) *MDNSService {
		key := strings.ToLower(instance)
		if s, ok := out.Services[key]; ok {
			return s
		}
		if len(out.Services) >= 64 {
			return nil
		}
		s := &MDNSService{Instance: clean(instance), Type: serviceType(instance)}
		out.Services[key] = s
		return s
	}
	for _, rr := range slices.Concat(m.Answer, m.Ns, m.Extra) {
		switch r := rr.(type) {
		case *dns.PTR:
			if strings.EqualFold(r.Hdr.Name, servicesEnum) {
				if t := strings.ToLower(clean(r.Ptr)); !slices.Contains(out.Types, t) && len(out.Types) < 64 {
					out.Types = append(out.Types, t)
				}
				continue
			}
			if s := svc(r.Ptr); s != nil && s.Type == "" {
				s.Type = serviceType(r.Ptr)
			}
		case *dns.SRV:
			if s := svc(r.Hdr.Name); s != nil {
				s.Host, s.Port = clean(r.Target), int(r.Port)
			}
		case *dns.TXT:
			if s := svc(r.Hdr.Name); s != nil {
				s.TXT = nil
				for _, t := range r.Txt {
					if t = clean(t); t != "" && len(s.TXT) < 32 {
						s.TXT = append(s.TXT, t)
					}
				}
			}
		case *dns.A:
			name := strings.ToLower(clean(r.Hdr.Name))
			if ip := r.A.String(); !slices.Contains(out.Hosts[name], ip) && len(out.Hosts) < 64 {
				out.Hosts[name] = append(out.Hosts[name], ip)
			}
		}
	}
	return out, nil
}

// serviceType returns "_shelly._tcp" from "shellyplus1pm-a8032ab12345._shelly._tcp.local.",
// or "" when the name holds no _service._proto pair.
func serviceType(instance string) string {
	labels := dns.SplitDomainName(instance)
	for i := 0; i+1 < len(labels); i++ {
		if strings.HasPrefix(labels[i], "_") && (labels[i+1] == "_tcp" || labels[i+1] == "_udp") {
			return strings.ToLower(labels[i] + "." + labels[i+1])
		}
	}
	return ""
}

// txtString is the string recog's mdns.service_txt rules match: the service
// type and the TXT strings sorted by key, separated by ";".
func (s MDNSService) txtString() string {
	txt := slices.Clone(s.TXT)
	slices.Sort(txt)
	return strings.Join(append([]string{"service=" + s.Type}, txt...), ";")
}
