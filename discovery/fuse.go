package discovery

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/recog"
)

// Confidence given to values read from a device's own self-description.
const (
	confUPnPField = 0.9  // a UPnP description field (manufacturer, modelName…)
	confOUIRaw    = 0.3  // the IEEE organisation name, when no rule knows it
	maxConfidence = 0.99 // nothing is ever certain
)

// candidate is one value one observation gave for one field.
type candidate struct {
	value string
	conf  float64
	ev    Evidence
}

// facts collects candidates per field.
type facts struct {
	manufacturer, model, firmware, deviceType, serial []candidate
}

// Fuse identifies a host from everything observed of it: recog rules (the
// set given, usually recog's own directory plus recog.Builtin) read the
// strings the probes collected, the UPnP description fields count as they
// are, and the MAC vendor counts weakly. Values agreeing across observations
// reinforce each other; disagreeing ones are kept as Others.
func Fuse(h *Host, rules *recog.Set) Fingerprint {
	var f facts
	match := func(key, s, source string) {
		for _, m := range rules.Match(key, s) {
			f.addMatch(m, Evidence{Source: source, Observed: cutText(s, 200), Rule: m.File + ": " + m.Description})
		}
	}
	if h.MACVendor != "" {
		ms := rules.Match("mac.vendor", h.MACVendor)
		for _, m := range ms {
			f.addMatch(m, Evidence{Source: "oui", Observed: h.MAC + " " + h.MACVendor, Rule: m.File + ": " + m.Description})
		}
		if len(ms) == 0 {
			f.manufacturer = append(f.manufacturer, candidate{vendorName(h.MACVendor), confOUIRaw, Evidence{Source: "oui", Observed: h.MAC + " " + h.MACVendor}})
		}
	}
	for _, p := range h.Ports {
		src := fmt.Sprintf("%s:%d", p.Service, p.Port)
		if p.HTTPServer != "" {
			key := "http_header.server"
			if p.Service == "rtsp" {
				key = "rtsp_header.server"
			}
			match(key, p.HTTPServer, src+" server header")
		}
		match("html_title", p.Title, src+" html title")
		match("favicon.md5", p.FaviconMD5, src+" favicon md5")
		match("x509.subject", p.TLSSubject, src+" tls subject")
		match("x509.issuer", p.TLSIssuer, src+" tls issuer")
		if b, ok := strings.CutPrefix(p.Banner, "SSH-2.0-"); ok {
			match("ssh.banner", b, src+" banner")
		}
	}
	if s := h.SNMP; s != nil {
		match("snmp.sys_description", s.SysDescr, "snmp sysDescr")
		match("snmp.sys_object_id", s.SysObjectID, "snmp sysObjectID")
	}
	for _, d := range h.UPnP {
		src := "upnp description " + d.Location
		add := func(list *[]candidate, v, field string) {
			if v != "" {
				*list = append(*list, candidate{v, confUPnPField, Evidence{Source: src, Observed: field + "=" + v}})
			}
		}
		add(&f.manufacturer, vendorName(d.Manufacturer), "manufacturer")
		add(&f.model, d.ModelName, "modelName")
		add(&f.serial, d.SerialNumber, "serialNumber")
		add(&f.firmware, d.FirmwareVersion, "firmwareVersion")
		match("upnp.device", d.DeviceType+";"+d.Manufacturer+";"+d.ModelName, src)
		if d.Server != "" {
			match("http_header.server", d.Server, "ssdp server header")
		}
	}
	for _, s := range h.MDNS {
		match("mdns.service_txt", s.txtString(), "mdns "+s.Type)
		if s.Type == "_device-info._tcp" {
			for _, t := range s.TXT {
				match("mdns.device-info.txt", t, "mdns "+s.Type)
			}
		}
	}
	fp := Fingerprint{
		Manufacturer: decide(f.manufacturer, vendorKey),
		Model:        decide(f.model, plainKey),
		Firmware:     decide(f.firmware, plainKey),
		DeviceType:   decide(f.deviceType, plainKey),
		Serial:       decide(f.serial, plainKey),
	}
	if c, ok := categoryOf(fp.DeviceType.Value); ok {
		fp.Category = Fact{Value: string(c), Confidence: fp.DeviceType.Confidence, Evidence: fp.DeviceType.Evidence}
	}
	return fp
}

// addMatch turns the params of one recog match into candidates.
func (f *facts) addMatch(m recog.Match, ev Evidence) {
	p, c := m.Params, m.Certainty
	device := firstNonEmpty(p["hw.device"], p["os.device"])
	if hk := homeKitDevice(p["hw.homekit_category"]); hk != "" {
		device = hk
	}
	embedded := p["hw.vendor"] != "" || p["hw.product"] != "" || p["hw.model"] != "" || device != ""
	add := func(list *[]candidate, v string, conf float64) {
		if v = clean(v); v != "" && !strings.Contains(v, "{") {
			*list = append(*list, candidate{v, conf, ev})
		}
	}
	switch {
	case p["hw.vendor"] != "":
		add(&f.manufacturer, vendorName(p["hw.vendor"]), c)
	case p["os.vendor"] != "" && embedded:
		add(&f.manufacturer, vendorName(p["os.vendor"]), c*0.7)
	}
	switch {
	case p["hw.product"] != "":
		add(&f.model, p["hw.product"], c)
	case p["hw.model"] != "":
		add(&f.model, p["hw.model"], c*0.9)
	case p["os.product"] != "" && embedded:
		add(&f.model, p["os.product"], c*0.5)
	}
	if embedded {
		add(&f.firmware, firstNonEmpty(p["hw.firmware"], p["os.version"]), c)
	}
	add(&f.deviceType, device, c)
	add(&f.serial, p["hw.serial_number"], c)
}

// decide picks the best-supported value: candidates with the same key add up
// (1 − Π(1 − c)); the strongest wins, a longer value breaking ties.
func decide(cands []candidate, key func(string) string) Fact {
	if len(cands) == 0 {
		return Fact{}
	}
	type group struct {
		value string
		best  float64
		miss  float64 // Π(1 − c)
		ev    []Evidence
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, c := range cands {
		k := key(c.value)
		g, ok := byKey[k]
		if !ok {
			g = &group{value: c.value, miss: 1}
			byKey[k] = g
			groups = append(groups, g)
		}
		if c.conf > g.best || (c.conf == g.best && len(c.value) > len(g.value)) {
			g.best, g.value = c.conf, c.value
		}
		g.miss *= 1 - min(c.conf, maxConfidence)
		if !slices.Contains(g.ev, c.ev) {
			g.ev = append(g.ev, c.ev)
		}
	}
	conf := func(g *group) float64 { return min(maxConfidence, round2(1-g.miss)) }
	slices.SortStableFunc(groups, func(a, b *group) int {
		if c := cmp.Compare(conf(b), conf(a)); c != 0 {
			return c
		}
		return cmp.Compare(len(b.value), len(a.value))
	})
	out := Fact{Value: groups[0].value, Confidence: conf(groups[0]), Evidence: groups[0].ev}
	for _, g := range groups[1:] {
		out.Others = append(out.Others, Alternative{Value: g.value, Confidence: conf(g), Evidence: g.ev})
	}
	return out
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

func plainKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// vendorKey compares makers without case, punctuation or company suffixes:
// "NETGEAR, Inc." and "Netgear" are one maker.
func vendorKey(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(vendorName(s), func(r rune) bool {
		return r == ' ' || r == ',' || r == '.' || r == '-'
	}), ""))
}

var companySuffixes = []string{
	"co., ltd.", "co.,ltd.", "co. ltd.", "co.,ltd", "co., ltd", "corporation", "corp.", "corp", "incorporated", "inc.", "inc",
	"limited", "ltd.", "ltd", "gmbh", "ag", "ab", "b.v.", "bv", "s.a.", "sa", "llc", "eood", "ad",
}

// vendorName cleans a maker's name as registries and descriptions spell it:
// "NETGEAR, Inc." → "NETGEAR", "Synology Incorporated" → "Synology".
func vendorName(s string) string {
	s = clean(s)
	for changed := true; changed; {
		changed = false
		low := strings.ToLower(s)
		for _, suf := range companySuffixes {
			if strings.HasSuffix(low, " "+suf) || strings.HasSuffix(low, ","+suf) {
				s = strings.TrimRight(strings.TrimSpace(s[:len(s)-len(suf)]), ", ")
				changed = s != ""
				break
			}
		}
	}
	return s
}

// homeKitDevice names the HomeKit accessory category ci.
func homeKitDevice(ci string) string {
	return map[string]string{
		"2": "Smart Home Hub", "5": "Light", "6": "Lock", "9": "Thermostat",
		"10": "Sensor", "17": "IP Camera", "18": "Video Doorbell",
	}[ci]
}

// categoryOf maps a device type (recog's hw.device vocabulary and firmware's
// own rules) to a firmward category.
func categoryOf(deviceType string) (firmward.Category, bool) {
	t := strings.ToLower(deviceType)
	switch {
	case t == "":
		return "", false
	case containsAny(t, "camera", "doorbell", "nvr", "dvr", "video"):
		return firmward.CategoryCamera, true
	case containsAny(t, "lock", "access control", "badge"):
		return firmward.CategoryLock, true
	case containsAny(t, "plc", "industrial", "building controller", "hmi", "scada", "rtu"):
		return firmward.CategoryIndustrial, true
	case containsAny(t, "infusion", "medical", "patient"):
		return firmward.CategoryMedical, true
	case containsAny(t, "sensor", "radar", "data logger"):
		return firmward.CategorySensor, true
	case containsAny(t, "router", "switch", "wap", "access point", "firewall", "gateway", "mesh", "modem", "network"):
		return firmward.CategoryNetworkInfrastructure, true
	case containsAny(t, "hub", "plug", "light", "thermostat", "speaker", "homekit", "smart", "tv", "media player", "bridge", "vacuum"):
		return firmward.CategoryConsumerSmartHome, true
	case containsAny(t, "printer", "multifunction", "nas", "storage", "media server"):
		return firmward.CategoryOther, true
	}
	return firmward.CategoryOther, true
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
