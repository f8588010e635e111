package discovery

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// Reply size limits: a reply longer than its limit is cut there.
const (
	maxSSDPReply    = 8 << 10   // one SSDP datagram
	maxMDNSReply    = 9000      // one mDNS datagram (RFC 6762 allows 9000 bytes)
	maxSNMPReply    = 8 << 10   // one SNMP datagram
	maxDescription  = 256 << 10 // a UPnP device description
	maxSOAPReply    = 64 << 10  // one UPnP SOAP answer
	maxHTTPBody     = 256 << 10 // an admin page read for its title
	maxFavicon      = 256 << 10 // a favicon
	maxBanner       = 512       // a banner line (SSH, telnet)
	maxPortMappings = 64        // port mapping entries read from one gateway
)

const ssdpAddr = "239.255.255.250:1900"

// SSDPResponse is the answer of a UPnP device to an M-SEARCH.
type SSDPResponse struct {
	Location string
	Server   string
	ST       string
	USN      string
}

// mSearch returns an M-SEARCH request for the search target st that asks
// for an answer within mx seconds.
func mSearch(st string, mx int) []byte {
	return fmt.Appendf(nil, "M-SEARCH * HTTP/1.1\r\nHOST: %s\r\nMAN: \"ssdp:discover\"\r\nMX: %d\r\nST: %s\r\nUSER-AGENT: firmward/1 UPnP/1.1 firmward/1\r\n\r\n", ssdpAddr, mx, st)
}

// ParseSSDPResponse reads an SSDP answer (HTTP/1.1 200 OK over UDP) or a
// NOTIFY announcement. Replies over 8 KiB are cut. It refuses anything else
// and answers without a LOCATION.
func ParseSSDPResponse(b []byte) (SSDPResponse, error) {
	if len(b) > maxSSDPReply {
		b = b[:maxSSDPReply]
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	first, err := r.ReadLine()
	if err != nil {
		return SSDPResponse{}, fmt.Errorf("ssdp: reading the status line: %w", err)
	}
	switch {
	case strings.HasPrefix(first, "HTTP/1.") && strings.Contains(first, " 200"):
	case strings.HasPrefix(first, "NOTIFY * HTTP/1."):
	default:
		return SSDPResponse{}, fmt.Errorf("ssdp: not an answer: %q", cutText(first, 60))
	}
	h, err := r.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return SSDPResponse{}, fmt.Errorf("ssdp: reading headers: %w", err)
	}
	resp := SSDPResponse{
		Location: strings.TrimSpace(h.Get("Location")),
		Server:   strings.TrimSpace(h.Get("Server")),
		ST:       strings.TrimSpace(h.Get("St")),
		USN:      strings.TrimSpace(h.Get("Usn")),
	}
	if resp.ST == "" {
		resp.ST = strings.TrimSpace(h.Get("Nt"))
	}
	if resp.Location == "" {
		return resp, errors.New("ssdp: answer without LOCATION")
	}
	return resp, nil
}

// cutText shortens s to n bytes for a message or a stored field.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
