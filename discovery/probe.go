package discovery

import (
	"bufio"
	"context"
	"crypto/md5" //nolint:gosec // recog identifies favicons by their MD5, not for security
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// serviceOf names the service usually found on an IoT port.
func serviceOf(port int) string {
	switch port {
	case 22:
		return "ssh"
	case 23:
		return "telnet"
	case 80, 5000, 8080, 49152:
		return "http"
	case 443, 8443:
		return "https"
	case 554:
		return "rtsp"
	case 1883:
		return "mqtt"
	case 8883:
		return "mqtts"
	}
	return "tcp"
}

// prober runs the TCP probes of one scan.
type prober struct {
	lim     *limiter
	dialer  *net.Dialer
	client  *http.Client
	prefix  netip.Prefix
	timeout time.Duration
	logger  *slog.Logger
}

func newProber(lim *limiter, prefix netip.Prefix, timeout time.Duration) *prober {
	d := &net.Dialer{Timeout: timeout}
	p := &prober{lim: lim, dialer: d, prefix: prefix, timeout: timeout, logger: slog.New(slog.DiscardHandler)}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := p.allowed(addr); err != nil {
				return nil, err
			}
			if err := lim.wait(ctx); err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, addr)
		},
		// Devices present self-signed certificates: the scan reads who
		// they claim to be, it does not trust them with anything.
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}, //nolint:gosec // fingerprinting only, see above
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  timeout,
		TLSHandshakeTimeout:    timeout,
		MaxResponseHeaderBytes: 32 << 10,
	}
	p.client = &http.Client{
		Transport: tr,
		Timeout:   2 * timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return http.ErrUseLastResponse
			}
			return p.allowed(req.URL.Host)
		},
	}
	return p
}

// allowed refuses any address outside the scanned prefix: a device's reply
// (a redirect, a UPnP location) must not send the scanner elsewhere.
func (p *prober) allowed(hostport string) error {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !p.prefix.Contains(a.Unmap()) {
		return fmt.Errorf("discovery: %s is outside the scanned network %s", hostport, p.prefix)
	}
	return nil
}

// connect tries a TCP connection; open is true when it succeeded, alive when
// the host answered at all (a refused connection counts).
func (p *prober) connect(ctx context.Context, ip netip.Addr, port int) (open, alive bool) {
	if err := p.lim.wait(ctx); err != nil {
		return false, false
	}
	c, err := p.dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(ip, uint16(port)).String()) //nolint:gosec // ports come from a list of valid ports
	if err != nil {
		return false, errors.Is(err, errConnRefused)
	}
	_ = c.Close()
	return true, true
}

// probePort collects what an open port tells: banners, HTTP headers and
// title, favicon hash, TLS certificate.
func (p *prober) probePort(ctx context.Context, ip netip.Addr, port int) Port {
	out := Port{Port: port, Service: serviceOf(port)}
	switch out.Service {
	case "ssh", "telnet":
		out.Banner = p.banner(ctx, ip, port)
		if out.Service == "telnet" || out.Banner == "" {
			break
		}
		if !strings.HasPrefix(out.Banner, "SSH-") {
			out.Service = "tcp"
		}
	case "http", "https":
		p.httpProbe(ctx, ip, port, &out)
	case "rtsp":
		out.HTTPServer = p.rtspServer(ctx, ip, port)
	}
	return out
}

// banner reads what a server says first (SSH, telnet), without telnet
// option negotiation, at most maxBanner bytes.
func (p *prober) banner(ctx context.Context, ip netip.Addr, port int) string {
	if err := p.lim.wait(ctx); err != nil {
		return ""
	}
	c, err := p.dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(ip, uint16(port)).String()) //nolint:gosec // valid port
	if err != nil {
		return ""
	}
	defer func() { _ = c.Close() }()
	_ = c.SetReadDeadline(time.Now().Add(min(p.timeout, 2*time.Second)))
	buf := make([]byte, maxBanner)
	n, _ := io.ReadAtLeast(c, buf, 1)
	return firstLine(stripTelnet(buf[:n]))
}

// stripTelnet removes telnet IAC option negotiation from b.
func stripTelnet(b []byte) string {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == 0xff && i+1 < len(b) {
			switch b[i+1] {
			case 0xfb, 0xfc, 0xfd, 0xfe: // WILL WONT DO DONT + option
				i += 2
			case 0xfa: // subnegotiation until IAC SE
				for i < len(b) && (b[i] != 0xff || i+1 >= len(b) || b[i+1] != 0xf0) {
					i++
				}
				i++
			default:
				i++
			}
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

func firstLine(s string) string {
	s = strings.TrimLeft(s, "\r\n\x00 ")
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return clean(strings.ToValidUTF8(s, "?"))
}

var (
	titleRE    = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	iconRE     = regexp.MustCompile(`(?is)<link[^>]+rel=["']?(?:shortcut )?icon["']?[^>]*>`)
	hrefRE     = regexp.MustCompile(`(?is)href=["']?([^"' >]+)`)
	passwordRE = regexp.MustCompile(`(?i)type=["']?password`)
)

// httpProbe fetches / (and the favicon) over HTTP or HTTPS.
func (p *prober) httpProbe(ctx context.Context, ip netip.Addr, port int, out *Port) {
	scheme := "http"
	if out.Service == "https" {
		scheme = "https"
	}
	base := &url.URL{Scheme: scheme, Host: netip.AddrPortFrom(ip, uint16(port)).String(), Path: "/"} //nolint:gosec // valid port
	resp, err := p.get(ctx, base.String(), maxHTTPBody)
	if err != nil && scheme == "http" && port != 80 {
		// 8080, 5000, 49152 may speak TLS.
		base.Scheme = "https"
		resp, err = p.get(ctx, base.String(), maxHTTPBody)
		if err == nil {
			out.Service = "https"
		}
	}
	if err != nil {
		return
	}
	body := resp.body
	out.HTTPStatus = resp.status
	out.HTTPServer = clean(resp.header.Get("Server"))
	if st := resp.tls; st != nil && len(st.PeerCertificates) > 0 {
		out.TLSSubject = clean(st.PeerCertificates[0].Subject.String())
		out.TLSIssuer = clean(st.PeerCertificates[0].Issuer.String())
	}
	if m := titleRE.FindSubmatch(body); m != nil {
		out.Title = clean(strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " "))
	}
	if resp.url.Scheme == "http" {
		auth := strings.ToLower(resp.header.Get("WWW-Authenticate"))
		out.ClearTextAuth = (resp.status == http.StatusUnauthorized && (strings.HasPrefix(auth, "basic") || strings.HasPrefix(auth, "digest"))) ||
			passwordRE.Match(body)
	}
	icon := "/favicon.ico"
	if l := iconRE.Find(body); l != nil {
		if h := hrefRE.FindSubmatch(l); h != nil {
			icon = html.UnescapeString(string(h[1]))
		}
	}
	iconURL := resolveURL(resp.url.String(), icon)
	if iconURL == "" {
		return
	}
	if r, err := p.get(ctx, iconURL, maxFavicon); err == nil && r.status == http.StatusOK && len(r.body) > 0 {
		sum := md5.Sum(r.body) //nolint:gosec // recog's favicon database is keyed by MD5
		out.FaviconMD5 = hex.EncodeToString(sum[:])
	}
}

// fetched is what a GET brought back.
type fetched struct {
	status int
	header http.Header
	tls    *tls.ConnectionState
	url    *url.URL // after redirects
	body   []byte
}

// get fetches u and reads at most limit bytes of its body.
func (p *prober) get(ctx context.Context, u string, limit int64) (fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{}, fmt.Errorf("discovery: %w", err)
	}
	req.Header.Set("User-Agent", "firmward-scan/1")
	resp, err := p.client.Do(req)
	if err != nil {
		return fetched{}, fmt.Errorf("discovery: GET %s: %w", u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	f := fetched{status: resp.StatusCode, header: resp.Header, tls: resp.TLS, url: resp.Request.URL}
	f.body, err = io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil && len(f.body) == 0 {
		return f, fmt.Errorf("discovery: reading %s: %w", u, err)
	}
	return f, nil
}

// post sends a SOAP request and reads at most limit bytes of the answer,
// whatever its status (SOAP faults come with 500).
func (p *prober) post(ctx context.Context, u, action string, body []byte, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
	req.Header.Set("SOAPAction", strconv.Quote(action))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery: POST %s: %w", u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("discovery: reading %s: %w", u, err)
	}
	return b, nil
}

// rtspServer asks an RTSP server for its options and returns its Server
// header.
func (p *prober) rtspServer(ctx context.Context, ip netip.Addr, port int) string {
	if err := p.lim.wait(ctx); err != nil {
		return ""
	}
	addr := netip.AddrPortFrom(ip, uint16(port)).String() //nolint:gosec // valid port
	c, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return ""
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(min(p.timeout, 2*time.Second)))
	if _, err := fmt.Fprintf(c, "OPTIONS rtsp://%s/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: firmward-scan/1\r\n\r\n", addr); err != nil {
		return ""
	}
	r := bufio.NewReader(io.LimitReader(c, 8<<10))
	for range 32 {
		line, err := r.ReadString('\n')
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "server") {
			return clean(v)
		}
		if err != nil || strings.TrimSpace(line) == "" {
			break
		}
	}
	return ""
}
