// Package discovery finds the devices of a network and identifies them: the
// maker, the model, the firmware version and the kind of device, each with a
// confidence and the evidence behind it.
//
// A Scanner sweeps a CIDR: an ARP sweep and ICMP echo when the process may
// open raw sockets (root or CAP_NET_RAW), else TCP and UDP probes only (the
// Result says so in its Notes); TCP connect on a short list of IoT ports;
// the HTTP(S) Server header, HTML title and favicon hash; the TLS
// certificate subject; SNMP v2c sysDescr and sysObjectID; SSDP M-SEARCH and
// the UPnP device description (and an Internet gateway's port mappings);
// mDNS/DNS-SD service types and TXT records; the MAC vendor from the IEEE
// registry. Probes run concurrently with a timeout per host and one rate
// limit for the whole scan; every reply read from the network is cut at a
// size limit.
//
// Observations are matched against recog rules (package recog) and fused
// into one Fingerprint per host (Fuse). Hints flags exposure and
// segmentation problems with advice in plain words.
//
// Multicast probes (SSDP, mDNS) are sent from an ephemeral port and answered
// by unicast: the scanner never joins a multicast group.
//
// The package is an adapter for the network: it imports the root package,
// recog and its own libraries only.
package discovery

import (
	"time"

	"github.com/firmward/firmward"
)

// DefaultPorts is the TCP port list probed on every live host: SSH, telnet,
// HTTP, HTTPS, RTSP, MQTT, the Synology/UPnP admin port, the alternative
// HTTP(S) ports, MQTT over TLS and the usual UPnP port.
var DefaultPorts = []int{22, 23, 80, 443, 554, 1883, 5000, 8080, 8443, 8883, 49152}

// Result is what one scan found.
type Result struct {
	CIDR      string    `json:"cidr"`
	Interface string    `json:"interface,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// FinishedAt minus StartedAt is how long the scan took.
	FinishedAt time.Time `json:"finished_at"`
	// Raw says the scan could open raw sockets (ARP sweep, ICMP echo).
	Raw bool `json:"raw"`
	// Scanned is how many addresses were probed.
	Scanned int `json:"scanned"`
	// Notes say what the scan could not do and why (no raw sockets, no OUI
	// registry…), in plain words.
	Notes []string `json:"notes,omitempty"`
	Hosts []Host   `json:"hosts"`
}

// Host is one address that answered, with everything observed of it.
type Host struct {
	IP        string `json:"ip"`
	MAC       string `json:"mac,omitempty"`
	MACVendor string `json:"mac_vendor,omitempty"`
	Hostname  string `json:"hostname,omitempty"`
	// ObservedAt is when the host last answered during the scan.
	ObservedAt time.Time `json:"observed_at"`
	// AliveBy lists the probes it answered: arp, icmp, tcp, ssdp, mdns, snmp.
	AliveBy     []string      `json:"alive_by"`
	Ports       []Port        `json:"ports,omitempty"`
	SNMP        *SNMPInfo     `json:"snmp,omitempty"`
	UPnP        []UPnPDevice  `json:"upnp,omitempty"`
	MDNS        []MDNSService `json:"mdns,omitempty"`
	Fingerprint Fingerprint   `json:"fingerprint"`
	Hints       []Hint        `json:"hints,omitempty"`
}

// Port is an open TCP port and what it told.
type Port struct {
	Port    int    `json:"port"`
	Service string `json:"service"`
	// Banner is the first line a server sent unasked (SSH, telnet).
	Banner     string `json:"banner,omitempty"`
	HTTPServer string `json:"http_server,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Title      string `json:"title,omitempty"`
	FaviconMD5 string `json:"favicon_md5,omitempty"`
	TLSSubject string `json:"tls_subject,omitempty"`
	TLSIssuer  string `json:"tls_issuer,omitempty"`
	// ClearTextAuth says the port serves a login over plain text (telnet,
	// or an HTTP page asking for a password).
	ClearTextAuth bool `json:"clear_text_auth,omitempty"`
}

// SNMPInfo is what an SNMP v2c agent answered.
type SNMPInfo struct {
	SysDescr    string `json:"sys_descr,omitempty"`
	SysObjectID string `json:"sys_object_id,omitempty"`
	SysName     string `json:"sys_name,omitempty"`
	// DefaultCommunity says the agent answered a well-known community
	// string such as "public".
	DefaultCommunity bool `json:"default_community,omitempty"`
}

// Fact is one identified property of a device.
type Fact struct {
	Value string `json:"value"`
	// Confidence is 0 to 1: how sure firmward is of Value.
	Confidence float64    `json:"confidence"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	// Others are the values other evidence gave, weaker ones, kept so that
	// a conflict can be shown for review.
	Others []Alternative `json:"others,omitempty"`
}

// Alternative is a value of a Fact that lost to a stronger one.
type Alternative struct {
	Value      string     `json:"value"`
	Confidence float64    `json:"confidence"`
	Evidence   []Evidence `json:"evidence,omitempty"`
}

// Evidence is one observation behind a Fact: the probe and what it saw.
type Evidence struct {
	// Source names the probe and field: "http:80 server", "upnp
	// description", "snmp sysDescr", "mdns _shelly._tcp", "oui".
	Source string `json:"source"`
	// Observed is the string the value came from.
	Observed string `json:"observed"`
	// Rule is the recog rule that read it, if any ("firmward_snmp_sysdescr.xml: Siemens SIMATIC S7 PLC").
	Rule string `json:"rule,omitempty"`
}

// Fingerprint is what a host is, fused from every observation.
type Fingerprint struct {
	Manufacturer Fact `json:"manufacturer,omitzero"`
	Model        Fact `json:"model,omitzero"`
	Firmware     Fact `json:"firmware_version,omitzero"`
	// Category is a firmward.Category value.
	Category Fact `json:"category,omitzero"`
	// DeviceType is the finer kind ("Printer", "NAS", "Router").
	DeviceType Fact `json:"device_type,omitzero"`
	Serial     Fact `json:"serial,omitzero"`
}

// CategoryValue returns the category as the domain type, or "" when unknown.
func (f Fingerprint) CategoryValue() firmward.Category {
	return firmward.Category(f.Category.Value)
}
