package discovery

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// UPnPDevice is a UPnP device description: who made the device, its model,
// serial number and firmware version, and the gateway's port mappings.
type UPnPDevice struct {
	Location         string        `json:"location"`
	Server           string        `json:"server,omitempty"`
	DeviceType       string        `json:"device_type,omitempty"`
	FriendlyName     string        `json:"friendly_name,omitempty"`
	Manufacturer     string        `json:"manufacturer,omitempty"`
	ManufacturerURL  string        `json:"manufacturer_url,omitempty"`
	ModelName        string        `json:"model_name,omitempty"`
	ModelNumber      string        `json:"model_number,omitempty"`
	ModelDescription string        `json:"model_description,omitempty"`
	SerialNumber     string        `json:"serial_number,omitempty"`
	UDN              string        `json:"udn,omitempty"`
	PresentationURL  string        `json:"presentation_url,omitempty"`
	FirmwareVersion  string        `json:"firmware_version,omitempty"`
	Services         []UPnPService `json:"services,omitempty"`
	// PortMappings are an Internet gateway's forwarded ports.
	PortMappings []PortMapping `json:"port_mappings,omitempty"`
}

// UPnPService is one service of a device or of its embedded devices.
type UPnPService struct {
	ServiceType string `json:"service_type"`
	ControlURL  string `json:"control_url,omitempty"`
}

// PortMapping is one entry of an Internet gateway's port mapping table: a
// port of the internet side forwarded to a host inside.
type PortMapping struct {
	RemoteHost     string `json:"remote_host,omitempty"`
	ExternalPort   int    `json:"external_port"`
	Protocol       string `json:"protocol"`
	InternalPort   int    `json:"internal_port"`
	InternalClient string `json:"internal_client"`
	Enabled        bool   `json:"enabled"`
	Description    string `json:"description,omitempty"`
}

// IsGateway says the device is an Internet gateway with a WAN connection
// service, whose port mappings can be read.
func (d UPnPDevice) IsGateway() bool {
	return d.wanService() != nil
}

func (d UPnPDevice) wanService() *UPnPService {
	for i, s := range d.Services {
		if strings.Contains(s.ServiceType, ":WANIPConnection:") || strings.Contains(s.ServiceType, ":WANPPPConnection:") {
			return &d.Services[i]
		}
	}
	return nil
}

type xmlDescription struct {
	URLBase string    `xml:"URLBase"`
	Device  xmlDevice `xml:"device"`
}

type xmlDevice struct {
	DeviceType       string `xml:"deviceType"`
	FriendlyName     string `xml:"friendlyName"`
	Manufacturer     string `xml:"manufacturer"`
	ManufacturerURL  string `xml:"manufacturerURL"`
	ModelName        string `xml:"modelName"`
	ModelNumber      string `xml:"modelNumber"`
	ModelDescription string `xml:"modelDescription"`
	SerialNumber     string `xml:"serialNumber"`
	UDN              string `xml:"UDN"`
	PresentationURL  string `xml:"presentationURL"`
	// Vendors put the firmware version under one of these names.
	FirmwareVersion  string `xml:"firmwareVersion"`
	FirmwareVersion2 string `xml:"FirmwareVersion"`
	SoftwareVersion  string `xml:"softwareVersion"`
	FWVersion        string `xml:"fwVersion"`
	SWVersion        string `xml:"swVersion"`
	Services         []struct {
		ServiceType string `xml:"serviceType"`
		ControlURL  string `xml:"controlURL"`
	} `xml:"serviceList>service"`
	Devices []xmlDevice `xml:"deviceList>device"`
}

// ParseDeviceDescription reads a UPnP device description document (at most
// 256 KiB; a longer one is refused). Services of embedded devices are
// listed with the root device's; control URLs are made absolute against
// URLBase or location.
func ParseDeviceDescription(b []byte, location string) (UPnPDevice, error) {
	if len(b) > maxDescription {
		return UPnPDevice{}, fmt.Errorf("upnp: description larger than %d bytes", maxDescription)
	}
	var x xmlDescription
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&x); err != nil {
		return UPnPDevice{}, fmt.Errorf("upnp: description is not UPnP device XML: %w", err)
	}
	xd := x.Device
	d := UPnPDevice{
		Location:         location,
		DeviceType:       clean(xd.DeviceType),
		FriendlyName:     clean(xd.FriendlyName),
		Manufacturer:     clean(xd.Manufacturer),
		ManufacturerURL:  clean(xd.ManufacturerURL),
		ModelName:        clean(xd.ModelName),
		ModelNumber:      clean(xd.ModelNumber),
		ModelDescription: clean(xd.ModelDescription),
		SerialNumber:     clean(xd.SerialNumber),
		UDN:              clean(xd.UDN),
		PresentationURL:  clean(xd.PresentationURL),
		FirmwareVersion:  clean(firstNonEmpty(xd.FirmwareVersion, xd.FirmwareVersion2, xd.SoftwareVersion, xd.FWVersion, xd.SWVersion)),
	}
	if d.Manufacturer == "" && d.ModelName == "" && d.DeviceType == "" {
		return d, errors.New("upnp: description names no device type, manufacturer or model")
	}
	base := firstNonEmpty(clean(x.URLBase), location)
	var walk func(xd *xmlDevice, depth int)
	walk = func(xd *xmlDevice, depth int) {
		if depth > 8 {
			return
		}
		for _, s := range xd.Services {
			if len(d.Services) >= 64 {
				return
			}
			d.Services = append(d.Services, UPnPService{ServiceType: clean(s.ServiceType), ControlURL: resolveURL(base, clean(s.ControlURL))})
		}
		for i := range xd.Devices {
			walk(&xd.Devices[i], depth+1)
		}
	}
	walk(&xd, 0)
	return d, nil
}

type xmlEnvelope struct {
	Body struct {
		Entry *struct {
			RemoteHost     string `xml:"NewRemoteHost"`
			ExternalPort   string `xml:"NewExternalPort"`
			Protocol       string `xml:"NewProtocol"`
			InternalPort   string `xml:"NewInternalPort"`
			InternalClient string `xml:"NewInternalClient"`
			Enabled        string `xml:"NewEnabled"`
			Description    string `xml:"NewPortMappingDescription"`
		} `xml:"GetGenericPortMappingEntryResponse"`
		Fault *struct {
			Code string `xml:"detail>UPnPError>errorCode"`
			Desc string `xml:"detail>UPnPError>errorDescription"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

// errNoMoreMappings is a gateway's answer past the end of its table.
var errNoMoreMappings = errors.New("upnp: no more port mappings")

// ParsePortMappingEntry reads a gateway's answer to
// GetGenericPortMappingEntry (at most 64 KiB). A SOAP fault (error 713, the
// end of the table, or any other) gives errNoMoreMappings wrapped with the
// fault's code.
func ParsePortMappingEntry(b []byte) (PortMapping, error) {
	if len(b) > maxSOAPReply {
		return PortMapping{}, fmt.Errorf("upnp: SOAP answer larger than %d bytes", maxSOAPReply)
	}
	var env xmlEnvelope
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&env); err != nil {
		return PortMapping{}, fmt.Errorf("upnp: SOAP answer is not XML: %w", err)
	}
	if f := env.Body.Fault; f != nil {
		return PortMapping{}, fmt.Errorf("%w (UPnP error %s %s)", errNoMoreMappings, clean(f.Code), clean(f.Desc))
	}
	e := env.Body.Entry
	if e == nil {
		return PortMapping{}, errors.New("upnp: SOAP answer holds no port mapping entry")
	}
	ext, err1 := strconv.Atoi(clean(e.ExternalPort))
	in, err2 := strconv.Atoi(clean(e.InternalPort))
	if err1 != nil || err2 != nil || ext < 0 || ext > 65535 || in < 0 || in > 65535 {
		return PortMapping{}, fmt.Errorf("upnp: port mapping with bad ports %q -> %q", cutText(e.ExternalPort, 20), cutText(e.InternalPort, 20))
	}
	return PortMapping{
		RemoteHost: clean(e.RemoteHost), ExternalPort: ext, Protocol: strings.ToUpper(clean(e.Protocol)),
		InternalPort: in, InternalClient: clean(e.InternalClient), Enabled: clean(e.Enabled) == "1" || strings.EqualFold(clean(e.Enabled), "true"),
		Description: clean(e.Description),
	}, nil
}

// portMappingRequest is the SOAP body asking a gateway for entry index.
func portMappingRequest(serviceType string, index int) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0"?>`+
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">`+
		`<s:Body><u:GetGenericPortMappingEntry xmlns:u="%s"><NewPortMappingIndex>%d</NewPortMappingIndex></u:GetGenericPortMappingEntry></s:Body></s:Envelope>`,
		xmlEscape(serviceType), index)
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// clean trims a field and cuts it at 256 bytes, dropping control characters.
func clean(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 256 {
		s = s[:256]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// resolveURL makes ref absolute against base; it returns "" for a ref that
// is not http(s) after resolution.
func resolveURL(base, ref string) string {
	if ref == "" {
		return ""
	}
	b, err := url.Parse(base)
	if err != nil {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	u := b.ResolveReference(r)
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}
