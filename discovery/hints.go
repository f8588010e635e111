package discovery

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/firmward/firmward"
)

// Hint kinds.
const (
	HintClearTextAdmin   = "clear-text-admin"
	HintTelnet           = "telnet"
	HintUPnPPortMapping  = "upnp-port-mapping"
	HintInternetExposed  = "internet-exposed"
	HintIoTOnMainNetwork = "iot-on-main-network"
	HintDefaultSNMP      = "default-snmp-community"
	HintClearTextMQTT    = "clear-text-mqtt"
)

// Hint is an exposure or segmentation problem of one host, with advice in
// plain words for a home and for an enterprise.
type Hint struct {
	Kind string `json:"kind"`
	// Severity is high, medium or low.
	Severity   string `json:"severity"`
	Summary    string `json:"summary"`
	Home       string `json:"home"`
	Enterprise string `json:"enterprise"`
}

// iotCategories belong on an IoT segment, not beside laptops and phones.
var iotCategories = []firmward.Category{
	firmward.CategoryCamera, firmward.CategoryLock, firmward.CategoryConsumerSmartHome, firmward.CategorySensor,
	firmward.CategoryIndustrial, firmward.CategoryLegacyOT, firmward.CategoryMedical,
}

// HintOptions say what the scanned network is.
type HintOptions struct {
	// MainNetwork says the scanned network is where people's computers and
	// phones live (not an IoT segment), so IoT devices on it are flagged.
	MainNetwork bool
}

// Hints returns the exposure and segmentation hints of every host, adding
// to each host's Hints: telnet and other clear-text admin services, SNMP
// answering a default community, clear-text MQTT, the port mappings of a
// UPnP Internet gateway (and the hosts they expose), and IoT devices on the
// main network.
func Hints(hosts []Host, o HintOptions) {
	byIP := map[string]*Host{}
	for i := range hosts {
		byIP[hosts[i].IP] = &hosts[i]
	}
	for i := range hosts {
		h := &hosts[i]
		name := describe(h)
		for _, p := range h.Ports {
			switch {
			case p.Service == "telnet":
				h.Hints = append(h.Hints, Hint{
					Kind: HintTelnet, Severity: "high",
					Summary:    fmt.Sprintf("%s accepts telnet on port %d: its password crosses the network in clear text and telnet is the first thing botnets try.", name, p.Port),
					Home:       "Turn telnet off in the device's settings. If there is no such setting, keep the device on the guest Wi-Fi and ask the maker for a firmware that closes it.",
					Enterprise: "Disable telnet and manage the device over SSH or HTTPS from a management VLAN only; block TCP 23 to it at the firewall until then.",
				})
			case p.ClearTextAuth:
				h.Hints = append(h.Hints, Hint{
					Kind: HintClearTextAdmin, Severity: "medium",
					Summary:    fmt.Sprintf("%s asks for its admin password over plain HTTP on port %d: anyone on the network can read it.", name, p.Port),
					Home:       "Use the device's HTTPS page if it has one, change the default password, and never log in to it over public or guest Wi-Fi.",
					Enterprise: "Enforce HTTPS for device administration (or an admin jump host), and restrict the admin port to the management network.",
				})
			case p.Service == "mqtt" && p.Port == 1883:
				h.Hints = append(h.Hints, Hint{
					Kind: HintClearTextMQTT, Severity: "low",
					Summary:    fmt.Sprintf("%s runs MQTT without TLS on port 1883: messages and any password are readable on the network.", name),
					Home:       "Leave it on the home network only; never forward port 1883 on the router.",
					Enterprise: "Require MQTT over TLS (8883) with client authentication, or confine the broker to the IoT VLAN.",
				})
			}
		}
		if h.SNMP != nil && h.SNMP.DefaultCommunity {
			h.Hints = append(h.Hints, Hint{
				Kind: HintDefaultSNMP, Severity: "medium",
				Summary:    fmt.Sprintf("%s answers SNMP with the default community \"public\": anyone on the network can read its configuration.", name),
				Home:       "Turn SNMP off in the device's settings unless you use it.",
				Enterprise: "Change the community or move to SNMPv3 with authentication, and allow SNMP only from the monitoring hosts.",
			})
		}
		for _, d := range h.UPnP {
			if len(d.PortMappings) == 0 {
				continue
			}
			var lines []string
			for _, m := range d.PortMappings {
				if !m.Enabled {
					continue
				}
				lines = append(lines, fmt.Sprintf("%s %d → %s:%d (%s)", m.Protocol, m.ExternalPort, m.InternalClient, m.InternalPort, orNone(m.Description)))
				if t := byIP[m.InternalClient]; t != nil {
					t.Hints = append(t.Hints, Hint{
						Kind: HintInternetExposed, Severity: "high",
						Summary: fmt.Sprintf("%s is reachable from the internet: the router %s forwards %s port %d to its port %d (UPnP, %q).",
							describe(t), h.IP, m.Protocol, m.ExternalPort, m.InternalPort, orNone(m.Description)),
						Home:       "Remove the forwarding in the router (or turn UPnP off) and use the maker's app or a VPN to reach the device from outside.",
						Enterprise: "Remove the mapping, disable UPnP IGD on the edge router, and publish the service only through a reverse proxy or VPN if it must be reached.",
					})
				}
			}
			if len(lines) == 0 {
				continue
			}
			h.Hints = append(h.Hints, Hint{
				Kind: HintUPnPPortMapping, Severity: "high",
				Summary:    fmt.Sprintf("%s lets devices open ports to the internet by UPnP, and %d are open: %s.", name, len(lines), strings.Join(lines, "; ")),
				Home:       "Turn UPnP off in the router's settings and remove these forwardings unless you know what each is for.",
				Enterprise: "Disable UPnP IGD on every router and firewall; inbound rules belong in the firewall's reviewed configuration.",
			})
		}
		if o.MainNetwork && slices.Contains(iotCategories, h.Fingerprint.CategoryValue()) {
			sev := "medium"
			switch h.Fingerprint.CategoryValue() {
			case firmward.CategoryCamera, firmward.CategoryLock, firmward.CategoryIndustrial, firmward.CategoryMedical, firmward.CategoryLegacyOT:
				sev = "high"
			}
			h.Hints = append(h.Hints, Hint{
				Kind: HintIoTOnMainNetwork, Severity: sev,
				Summary: fmt.Sprintf("%s (%s) sits on the same network as your computers and phones: if it is taken over, the attacker is next to them.",
					name, h.Fingerprint.Category.Value),
				Home:       "Move it to the router's guest Wi-Fi (or a separate IoT Wi-Fi network) so that it can reach the internet but not your computers.",
				Enterprise: "Move it to an IoT VLAN with a default-deny firewall policy that allows only what it needs (its cloud service, NTP, the management hosts).",
			})
		}
	}
}

// describe names a host for a sentence: "Siemens SIMATIC S7-1200 (10.0.0.5)".
func describe(h *Host) string {
	name := strings.TrimSpace(h.Fingerprint.Manufacturer.Value + " " + h.Fingerprint.Model.Value)
	if name == "" {
		return "The device at " + h.IP
	}
	if m := h.Fingerprint.Manufacturer.Value; m != "" && strings.HasPrefix(strings.ToLower(h.Fingerprint.Model.Value), strings.ToLower(m)) {
		name = h.Fingerprint.Model.Value
	}
	return name + " (" + h.IP + ")"
}

func orNone(s string) string {
	if s == "" {
		return "no description"
	}
	return s
}

// onMainNetwork says whether the scanner's own address (local) lies inside
// the scanned prefix: then the scanned network is the one its user sits on.
func onMainNetwork(prefix netip.Prefix, local netip.Addr) bool {
	return local.IsValid() && prefix.Contains(local)
}
