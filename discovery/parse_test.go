package discovery

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseSSDPResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     SSDPResponse
		err      string
	}{
		{
			name: "answer",
			in:   "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://10.0.0.1:5000/rootDesc.xml\r\nSERVER: Linux UPnP/1.0 Orbi/7.2\r\nST: upnp:rootdevice\r\nUSN: uuid:1::upnp:rootdevice\r\n\r\n",
			want: SSDPResponse{Location: "http://10.0.0.1:5000/rootDesc.xml", Server: "Linux UPnP/1.0 Orbi/7.2", ST: "upnp:rootdevice", USN: "uuid:1::upnp:rootdevice"},
		},
		{
			name: "notify, lower-case headers, no final blank line",
			in:   "NOTIFY * HTTP/1.1\r\nlocation: http://10.0.0.2/d.xml\r\nnt: urn:schemas-upnp-org:device:MediaServer:1\r\n",
			want: SSDPResponse{Location: "http://10.0.0.2/d.xml", ST: "urn:schemas-upnp-org:device:MediaServer:1"},
		},
		{name: "a search, not an answer", in: "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n", err: "not an answer"},
		{name: "no location", in: "HTTP/1.1 200 OK\r\nST: x\r\n\r\n", err: "without LOCATION"},
		{name: "empty", in: "", err: "status line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSSDPResponse([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseSSDPResponseCutsOversizedReplies(t *testing.T) {
	t.Parallel()
	in := "HTTP/1.1 200 OK\r\nX-PAD: " + strings.Repeat("a", 2*maxSSDPReply) + "\r\nLOCATION: http://10.0.0.1/\r\n\r\n"
	if _, err := ParseSSDPResponse([]byte(in)); err == nil {
		t.Error("a LOCATION past the 8 KiB limit was read")
	}
}

const descriptionXML = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <URLBase>http://10.0.0.1:5000/</URLBase>
  <device>
    <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
    <friendlyName>Orbi</friendlyName>
    <manufacturer>NETGEAR, Inc.</manufacturer>
    <modelName>RBR750</modelName>
    <modelNumber>RBR750</modelNumber>
    <serialNumber> 6LA1234567890 </serialNumber>
    <softwareVersion>V7.2.6.21</softwareVersion>
    <UDN>uuid:1</UDN>
    <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
      <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
        <serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>ctl/IPConn</controlURL></service></serviceList>
      </device></deviceList>
    </device></deviceList>
  </device>
</root>`

func TestParseDeviceDescription(t *testing.T) {
	t.Parallel()
	d, err := ParseDeviceDescription([]byte(descriptionXML), "http://10.0.0.1:5000/rootDesc.xml")
	if err != nil {
		t.Fatal(err)
	}
	if d.Manufacturer != "NETGEAR, Inc." || d.ModelName != "RBR750" || d.SerialNumber != "6LA1234567890" || d.FirmwareVersion != "V7.2.6.21" {
		t.Errorf("device = %+v", d)
	}
	if !d.IsGateway() || d.Services[0].ControlURL != "http://10.0.0.1:5000/ctl/IPConn" {
		t.Errorf("services = %+v, want the WANIPConnection of the embedded device with an absolute control URL", d.Services)
	}
	for _, bad := range []string{"", "<html>hi</html>", "<root><device></device></root>", strings.Repeat("<a>", maxDescription)} {
		if _, err := ParseDeviceDescription([]byte(bad), ""); err == nil {
			t.Errorf("ParseDeviceDescription(%q) succeeded", cutText(bad, 40))
		}
	}
}

func TestParsePortMappingEntry(t *testing.T) {
	t.Parallel()
	ok := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetGenericPortMappingEntryResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">
<NewRemoteHost></NewRemoteHost><NewExternalPort>8443</NewExternalPort><NewProtocol>tcp</NewProtocol><NewInternalPort>443</NewInternalPort>
<NewInternalClient>10.0.0.5</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>cam</NewPortMappingDescription></u:GetGenericPortMappingEntryResponse></s:Body></s:Envelope>`
	m, err := ParsePortMappingEntry([]byte(ok))
	want := PortMapping{ExternalPort: 8443, Protocol: "TCP", InternalPort: 443, InternalClient: "10.0.0.5", Enabled: true, Description: "cam"}
	if err != nil || m != want {
		t.Errorf("got %+v, %v; want %+v", m, err, want)
	}
	fault := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><detail><UPnPError><errorCode>713</errorCode><errorDescription>SpecifiedArrayIndexInvalid</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`
	if _, err := ParsePortMappingEntry([]byte(fault)); !errors.Is(err, errNoMoreMappings) || !strings.Contains(err.Error(), "713") {
		t.Errorf("fault: %v", err)
	}
	bad := strings.Replace(ok, "8443", "99999", 1)
	if _, err := ParsePortMappingEntry([]byte(bad)); err == nil {
		t.Error("port 99999 accepted")
	}
}

// mdnsAnswer builds an mDNS answer as a Shelly plug sends it.
func mdnsAnswer(t testing.TB) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.Response, m.Authoritative = true, true
	hdr := func(name string, typ uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: 120}
	}
	inst := "shellyplus1pm-a8032ab12345._shelly._tcp.local."
	m.Answer = []dns.RR{
		&dns.PTR{Hdr: hdr(servicesEnum, dns.TypePTR), Ptr: "_shelly._tcp.local."},
		&dns.PTR{Hdr: hdr("_shelly._tcp.local.", dns.TypePTR), Ptr: inst},
	}
	m.Extra = []dns.RR{
		&dns.SRV{Hdr: hdr(inst, dns.TypeSRV), Target: "shellyplus1pm-a8032ab12345.local.", Port: 80},
		&dns.TXT{Hdr: hdr(inst, dns.TypeTXT), Txt: []string{"gen=2", "app=Plus1PM", "ver=1.0.8"}},
		&dns.A{Hdr: hdr("shellyplus1pm-a8032ab12345.local.", dns.TypeA), A: []byte{10, 0, 0, 14}},
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMDNS(t *testing.T) {
	t.Parallel()
	r, err := ParseMDNS(mdnsAnswer(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Types) != 1 || r.Types[0] != "_shelly._tcp.local." {
		t.Errorf("types = %v", r.Types)
	}
	s := r.Services["shellyplus1pm-a8032ab12345._shelly._tcp.local."]
	if s == nil || s.Type != "_shelly._tcp" || s.Port != 80 || len(s.TXT) != 3 {
		t.Fatalf("service = %+v", s)
	}
	if got := s.txtString(); got != "service=_shelly._tcp;app=Plus1PM;gen=2;ver=1.0.8" {
		t.Errorf("txtString = %q", got)
	}
	if !maps.EqualFunc(r.Hosts, map[string][]string{"shellyplus1pm-a8032ab12345.local.": {"10.0.0.14"}}, func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }) {
		t.Errorf("hosts = %v", r.Hosts)
	}
	q, err := mdnsQuery(7, dns.TypePTR, servicesEnum)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseMDNS(q); err == nil {
		t.Error("a query was taken for an answer")
	}
	if _, err := ParseMDNS([]byte{1, 2, 3}); err == nil {
		t.Error("garbage parsed")
	}
}

func TestSNMPRoundTrip(t *testing.T) {
	t.Parallel()
	req, err := snmpGet("public", 4242, []string{oidSysDescr, oidSysObjectID})
	if err != nil {
		t.Fatal(err)
	}
	// Turn the request into the answer an agent would send: GetResponse tag,
	// values in place of NULL.
	resp := encodeResponse(t, 4242, map[string][]byte{
		oidSysDescr:    tlv(tagOctetString, []byte("Siemens, SIMATIC S7-1200")),
		oidSysObjectID: tlv(tagOID, mustOID(t, "1.3.6.1.4.1.4329.6.1.2513.311")),
	})
	got, err := ParseSNMPResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != 4242 || got.Values[oidSysDescr] != "Siemens, SIMATIC S7-1200" || got.Values[oidSysObjectID] != "1.3.6.1.4.1.4329.6.1.2513.311" {
		t.Errorf("got %+v", got)
	}
	if _, err := ParseSNMPResponse(req); err == nil {
		t.Error("a GetRequest was taken for a response")
	}
	for i := range resp {
		_, _ = ParseSNMPResponse(resp[:i]) // every truncation fails cleanly
	}
}

func mustOID(t testing.TB, s string) []byte {
	t.Helper()
	b, err := encodeOID(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodeResponse(t testing.TB, id int32, values map[string][]byte) []byte {
	t.Helper()
	var binds []byte
	for _, oid := range []string{oidSysDescr, oidSysObjectID, oidSysName} {
		if v, ok := values[oid]; ok {
			binds = append(binds, tlv(tagSequence, append(tlv(tagOID, mustOID(t, oid)), v...))...)
		}
	}
	pdu := append(tlv(tagInteger, encodeInt(int64(id))), tlv(tagInteger, []byte{0})...)
	pdu = append(pdu, tlv(tagInteger, []byte{0})...)
	pdu = append(pdu, tlv(tagSequence, binds)...)
	msg := append(tlv(tagInteger, []byte{1}), tlv(tagOctetString, []byte("public"))...)
	msg = append(msg, tlv(tagGetResponse, pdu)...)
	return tlv(tagSequence, msg)
}

func TestEncodeInt(t *testing.T) {
	t.Parallel()
	for _, v := range []int64{0, 1, 127, 128, 255, 256, -1, -128, -129, 1 << 30, -(1 << 31)} {
		got, err := decodeInt(encodeInt(v))
		if err != nil || got != v {
			t.Errorf("%d → % x → %d, %v", v, encodeInt(v), got, err)
		}
	}
}

func FuzzParseSSDPResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nLOCATION: http://10.0.0.1:5000/rootDesc.xml\r\nST: upnp:rootdevice\r\n\r\n"))
	f.Add([]byte("NOTIFY * HTTP/1.1\r\nLOCATION: x\r\nNT: y\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\n\x00: \xff\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseSSDPResponse(b); err == nil && r.Location == "" {
			t.Error("success without a location")
		}
	})
}

func FuzzParseDeviceDescription(f *testing.F) {
	f.Add([]byte(descriptionXML))
	f.Add([]byte(`<root><device><deviceType>x</deviceType><deviceList><device><deviceList><device/></deviceList></device></deviceList></device></root>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><root><device><manufacturer>&#xff;</manufacturer></device></root>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDeviceDescription(b, "http://10.0.0.1/d.xml")
		if err != nil {
			return
		}
		for _, s := range d.Services {
			if s.ControlURL != "" && !strings.HasPrefix(s.ControlURL, "http") {
				t.Errorf("control URL %q", s.ControlURL)
			}
		}
		if len(d.Manufacturer) > 256 || len(d.ModelName) > 256 {
			t.Error("field longer than 256 bytes")
		}
	})
}

func FuzzParsePortMappingEntry(f *testing.F) {
	f.Add([]byte(`<Envelope><Body><GetGenericPortMappingEntryResponse><NewExternalPort>1</NewExternalPort><NewInternalPort>2</NewInternalPort></GetGenericPortMappingEntryResponse></Body></Envelope>`))
	f.Add([]byte(`<Envelope><Body><Fault><detail><UPnPError><errorCode>713</errorCode></UPnPError></detail></Fault></Body></Envelope>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParsePortMappingEntry(b)
		if err == nil && (m.ExternalPort < 0 || m.ExternalPort > 65535 || m.InternalPort < 0 || m.InternalPort > 65535) {
			t.Errorf("ports out of range: %+v", m)
		}
	})
}

func FuzzParseMDNS(f *testing.F) {
	f.Add(mdnsAnswer(f))
	f.Add([]byte{0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseMDNS(b)
		if err != nil {
			return
		}
		if len(r.Services) > 64 || len(r.Types) > 64 {
			t.Errorf("%d services, %d types: limits not applied", len(r.Services), len(r.Types))
		}
		for _, s := range r.Services {
			_ = s.txtString()
		}
	})
}

func FuzzParseSNMPResponse(f *testing.F) {
	f.Add(encodeResponse(f, 1, map[string][]byte{oidSysDescr: tlv(tagOctetString, []byte("x")), oidSysName: tlv(0x43, []byte{1, 2})}))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Add(bytes.Repeat([]byte{0x30, 0x81, 0x7f}, 10))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseSNMPResponse(b)
		if err == nil && len(r.Values) > 64 {
			t.Errorf("%d values", len(r.Values))
		}
	})
}
