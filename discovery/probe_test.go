package discovery

import (
	"context"
	"crypto/md5" //nolint:gosec // the favicon hash recog uses
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var loopback = netip.MustParsePrefix("127.0.0.0/8")

func addrPort(t *testing.T, hostport string) (netip.Addr, int) {
	t.Helper()
	ap := netip.MustParseAddrPort(hostport)
	return ap.Addr(), int(ap.Port())
}

func TestHTTPProbe(t *testing.T) {
	t.Parallel()
	icon := []byte("\x00\x00\x01\x00icon")
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Reolink")
		switch r.URL.Path {
		case "/static/fav.ico":
			_, _ = w.Write(icon)
		case "/":
			_, _ = io.WriteString(w, `<html><head><TITLE> Reolink &amp; co </TITLE><link rel="shortcut icon" href="/static/fav.ico"></head>`+
				`<body><input type=password></body></html>`+strings.Repeat(" ", 2*maxHTTPBody))
		default:
			http.NotFound(w, r)
		}
	})
	p := newProber(newLimiter(-1, time.Now), loopback, 2*time.Second)
	sum := md5.Sum(icon) //nolint:gosec // as above
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(mux)
		defer srv.Close()
		ip, port := addrPort(t, srv.Listener.Addr().String())
		out := Port{Port: port, Service: "http"}
		p.httpProbe(context.Background(), ip, port, &out)
		if out.HTTPServer != "Reolink" || out.Title != "Reolink & co" || out.HTTPStatus != 200 || !out.ClearTextAuth {
			t.Errorf("port = %+v", out)
		}
		if out.FaviconMD5 != hex.EncodeToString(sum[:]) {
			t.Errorf("favicon %q, want the md5 of the linked icon", out.FaviconMD5)
		}
	})
	t.Run("https", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewTLSServer(mux)
		defer srv.Close()
		ip, port := addrPort(t, srv.Listener.Addr().String())
		out := Port{Port: port, Service: "https"}
		p.httpProbe(context.Background(), ip, port, &out)
		if out.TLSSubject == "" || !strings.Contains(out.TLSSubject, "O=Acme Co") || out.ClearTextAuth {
			t.Errorf("port = %+v, want the test certificate's subject and no clear-text flag over TLS", out)
		}
	})
}

func TestProberStaysInsideTheNetwork(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	p := newProber(newLimiter(-1, time.Now), loopback, time.Second)
	if _, err := p.get(context.Background(), srv.URL, 1024); err == nil || !strings.Contains(err.Error(), "outside the scanned network") {
		t.Errorf("redirect out of the network: %v", err)
	}
	if _, err := fetchDescription(context.Background(), p, SSDPResponse{Location: "http://192.0.2.1:5000/d.xml"}); err == nil {
		t.Error("a UPnP location outside the network was fetched")
	}
}

func TestSlowHostsAreBounded(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() { // accepts and never answers
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer func() { _ = c.Close() }()
		}
	}()
	ip, port := addrPort(t, l.Addr().String())
	p := newProber(newLimiter(-1, time.Now), loopback, 300*time.Millisecond)
	began := time.Now()
	out := Port{Port: port, Service: "http"}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	p.httpProbe(ctx, ip, port, &out)
	_ = p.banner(ctx, ip, port)
	_ = p.rtspServer(ctx, ip, port)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("a silent host held the probes for %s", took)
	}
	if out.HTTPServer != "" || out.Title != "" {
		t.Errorf("silent host gave %+v", out)
	}
}

func TestBannerAndRTSP(t *testing.T) {
	t.Parallel()
	serve := func(reply string) (netip.Addr, int) {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				if strings.HasPrefix(reply, "RTSP") {
					buf := make([]byte, 512)
					_, _ = c.Read(buf)
				}
				_, _ = io.WriteString(c, reply)
				_ = c.Close()
			}
		}()
		return addrPort(t, l.Addr().String())
	}
	p := newProber(newLimiter(-1, time.Now), loopback, time.Second)
	ip, port := serve("SSH-2.0-dropbear_2020.81\r\n")
	if got := p.banner(context.Background(), ip, port); got != "SSH-2.0-dropbear_2020.81" {
		t.Errorf("ssh banner %q", got)
	}
	ip, port = serve("RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hikvision/2.0\r\nPublic: OPTIONS\r\n\r\n")
	if got := p.rtspServer(context.Background(), ip, port); got != "Hikvision/2.0" {
		t.Errorf("rtsp server %q", got)
	}
	ip, port = serve(strings.Repeat("x", 4*maxBanner))
	if got := p.banner(context.Background(), ip, port); len(got) > maxBanner {
		t.Errorf("banner of %d bytes, over the %d limit", len(got), maxBanner)
	}
}
