package discovery_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The lab's fake devices are this test binary started again, inside a
// device's network namespace, with FIRMWARD_LAB_ROLE set.
const labRoleEnv = "FIRMWARD_LAB_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(labRoleEnv); role != "" {
		if err := runLabDevice(role, os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "lab device:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runLabDevice serves one fake device until SIGTERM. It prints "ready" on
// stdout once every socket listens.
func runLabDevice(role string, args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if len(args) < 1 {
		return fmt.Errorf("usage: %s=%s IP [GATEWAY-CLIENT]", labRoleEnv, role)
	}
	ip := args[0]
	switch role {
	case "printer":
		return servePrinter(ctx, ip)
	case "router":
		client := ip
		if len(args) > 1 {
			client = args[1]
		}
		return serveRouter(ctx, ip, client)
	}
	return fmt.Errorf("unknown lab role %q", role)
}

func listen(ctx context.Context, network, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return l, nil
}

// servePrinter is an HP Color LaserJet: its embedded web server (Server
// header, title, favicon, a password form over plain HTTP) and telnet.
func servePrinter(ctx context.Context, ip string) error {
	web, err := listen(ctx, "tcp4", net.JoinHostPort(ip, "80"))
	if err != nil {
		return err
	}
	tel, err := listen(ctx, "tcp4", net.JoinHostPort(ip, "23"))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "HP HTTP Server; HP Color LaserJet Pro MFP M479fdw - W1A80A; Serial Number: VNB3R12345; Built: Fri Apr 09, 2021 02:36:29AM {002_2114A}")
		if r.URL.Path == "/favicon.ico" {
			w.Header().Set("Content-Type", "image/x-icon")
			_, _ = w.Write([]byte("\x00\x00\x01\x00lab-printer-icon"))
			return
		}
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `<!DOCTYPE html><html><head><title>HP Color LaserJet Pro MFP M479fdw</title></head>`+
			`<body><form method="post" action="/login"><input name="user"><input type="password" name="pw"></form></body></html>`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * 1e9}
	go func() { _ = srv.Serve(web) }()
	go func() {
		for {
			c, err := tel.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("\xff\xfb\x01\xff\xfb\x03HP JetDirect\r\n\r\nPassword: "))
			_ = c.Close()
		}
	}()
	fmt.Println("ready")
	<-ctx.Done()
	_ = tel.Close()
	return srv.Close()
}

// serveRouter is a Netgear Orbi acting as a UPnP Internet gateway: it
// answers SSDP M-SEARCH (joined on the lab interface only), serves its
// device description and one port mapping (to client:443).
func serveRouter(ctx context.Context, ip, client string) error {
	ifi, err := interfaceWith(ip)
	if err != nil {
		return err
	}
	web, err := listen(ctx, "tcp4", net.JoinHostPort(ip, "5000"))
	if err != nil {
		return err
	}
	group := &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}
	ssdp, err := net.ListenMulticastUDP("udp4", ifi, group)
	if err != nil {
		return fmt.Errorf("joining SSDP on %s: %w", ifi.Name, err)
	}
	location := "http://" + net.JoinHostPort(ip, "5000") + "/rootDesc.xml"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rootDesc.xml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		_, _ = io.WriteString(w, routerDescription)
	})
	mux.HandleFunc("POST /ctl/IPConn", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if !strings.Contains(r.Header.Get("SOAPAction"), "GetGenericPortMappingEntry") {
			http.Error(w, "unsupported", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		if strings.Contains(string(body), "<NewPortMappingIndex>0</NewPortMappingIndex>") {
			_, _ = fmt.Fprintf(w, portMappingAnswer, client)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, soapFault713)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * 1e9}
	go func() { _ = srv.Serve(web) }()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := ssdp.ReadFromUDP(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			if !strings.HasPrefix(msg, "M-SEARCH") || !strings.Contains(msg, "ssdp:discover") {
				continue
			}
			for _, st := range []string{"upnp:rootdevice", "urn:schemas-upnp-org:device:InternetGatewayDevice:1"} {
				reply := "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: " + location +
					"\r\nSERVER: Linux/4.1 UPnP/1.0 Orbi/7.2\r\nST: " + st +
					"\r\nUSN: uuid:824ff22b-8c7d-41c5-a131-3894ed000012::" + st + "\r\nContent-Length: 0\r\n\r\n"
				_, _ = ssdp.WriteToUDP([]byte(reply), from)
			}
		}
	}()
	fmt.Println("ready " + strconv.Itoa(ifi.Index))
	<-ctx.Done()
	_ = ssdp.Close()
	return srv.Close()
}

func interfaceWith(ip string) (*net.Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for i := range ifs {
		addrs, _ := ifs[i].Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.String() == ip {
				return &ifs[i], nil
			}
		}
	}
	return nil, fmt.Errorf("no interface has %s", ip)
}

const routerDescription = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
    <friendlyName>Orbi RBR750 (Gateway)</friendlyName>
    <manufacturer>NETGEAR, Inc.</manufacturer>
    <manufacturerURL>https://www.netgear.com</manufacturerURL>
    <modelDescription>NETGEAR Orbi AX4200 Tri-band Mesh WiFi 6 Router</modelDescription>
    <modelName>RBR750</modelName>
    <modelNumber>RBR750</modelNumber>
    <serialNumber>6LA1234567890</serialNumber>
    <firmwareVersion>V7.2.6.21</firmwareVersion>
    <UDN>uuid:824ff22b-8c7d-41c5-a131-3894ed000012</UDN>
    <deviceList>
      <device>
        <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
        <deviceList>
          <device>
            <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
            <serviceList>
              <service>
                <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
                <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
                <controlURL>/ctl/IPConn</controlURL>
                <eventSubURL>/evt/IPConn</eventSubURL>
                <SCPDURL>/WANIPCn.xml</SCPDURL>
              </service>
            </serviceList>
          </device>
        </deviceList>
      </device>
    </deviceList>
    <presentationURL>http://10.0.0.1/</presentationURL>
  </device>
</root>`

const portMappingAnswer = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>
<u:GetGenericPortMappingEntryResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">
<NewRemoteHost></NewRemoteHost><NewExternalPort>8443</NewExternalPort><NewProtocol>TCP</NewProtocol>
<NewInternalPort>80</NewInternalPort><NewInternalClient>%s</NewInternalClient><NewEnabled>1</NewEnabled>
<NewPortMappingDescription>printer remote access</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration>
</u:GetGenericPortMappingEntryResponse></s:Body></s:Envelope>`

const soapFault713 = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>
<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>
<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>713</errorCode><errorDescription>SpecifiedArrayIndexInvalid</errorDescription></UPnPError>
</detail></s:Fault></s:Body></s:Envelope>`
