package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// TestServerScanAndImport drives the real scanner through the server: an
// HTTP admin page on 127.0.0.2:8080 (loopback, the only network a test
// outside a namespace may probe) is scanned by POST /api/v1/scans, joins
// the inventory with source scan and a device.new alert; then `firmward
// scan --import` sends a CLI scan of the same address, which finds the
// same device again.
func TestServerScanAndImport(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.2:8080")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2:8080 for the device: %v", err)
	}
	dev := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Server", "lighttpd/1.4.59")
		_, _ = w.Write([]byte("<html><head><title>Lab device</title></head><body>hello</body></html>"))
	})}
	go func() { _ = dev.Serve(ln) }()
	t.Cleanup(func() { _ = dev.Close() })

	s := startServer(t, t.TempDir(), nil)
	c := httpapi.NewClient(s.URL, s.Token)
	ctx := context.Background()
	run, err := c.StartScan(ctx, firmward.ScanRequest{
		CIDR: "127.0.0.2/32", Site: "lab",
		Options: firmward.ScanOptions{NoRaw: true, TimeoutMS: 2000},
	})
	if err != nil {
		t.Fatal(err)
	}
	var detail *httpapi.ScanDetail
	for deadline := time.Now().Add(60 * time.Second); ; {
		if detail, err = c.GetScan(ctx, run.ID, ""); err != nil {
			t.Fatal(err)
		}
		if detail.Run.Status != firmward.ScanRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scan is still running after 60 s: %+v", detail.Run)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if detail.Run.Status != firmward.ScanDone || detail.Run.New != 1 || len(detail.Hosts) != 1 {
		t.Fatalf("server scan %+v, hosts %+v\nlog:\n%s", detail.Run, detail.Hosts, s.Stderr)
	}
	h := detail.Hosts[0]
	d, err := c.GetDevice(ctx, h.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != firmward.SourceScan || d.Site != "lab" || d.IPs[0] != "127.0.0.2" || d.LastSeen == nil {
		t.Errorf("device %+v", d)
	}
	alerts, err := c.ListAlerts(ctx, httpapi.AlertQuery{Kind: firmward.AlertDeviceNew})
	if err != nil || len(alerts.Alerts) != 1 || alerts.Alerts[0].DeviceID != d.ID {
		t.Errorf("alerts %+v, %v", alerts, err)
	}

	r := s.run(t, "scan", "--cidr", "127.0.0.2/32", "--no-raw", "--listen", "200ms", "--timeout", "2s", "--import", "--site", "lab")
	if r.code != exitOK || !strings.Contains(r.stderr, "imported as scan") || !strings.Contains(r.stderr, "0 new devices") {
		t.Fatalf("scan --import: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	list, err := c.ListScans(ctx, "lab", firmward.ScanImported, "", 0)
	if err != nil || len(list.Runs) != 1 || list.Runs[0].Hosts != 1 || list.Runs[0].Trigger != firmward.TriggerImport {
		t.Fatalf("imported runs %+v, %v", list, err)
	}
	again, err := c.GetScan(ctx, list.Runs[0].ID, "")
	if err != nil || len(again.Hosts) != 1 || again.Hosts[0].DeviceID != d.ID {
		t.Errorf("the imported scan found device %+v, want %d (%v)", again, d.ID, err)
	}
	devices, _, err := c.ListDevices(ctx, httpapi.DeviceQuery{})
	if err != nil || len(devices) != 1 {
		t.Errorf("%d devices after two scans of one host (%v)", len(devices), err)
	}

	// Without a server, --import fails after printing the results.
	r = cli(t, map[string]string{"FIRMWARD_SERVER": "http://127.0.0.1:1", "FIRMWARD_TOKEN": "fwt_x"}, false,
		"scan", "--cidr", "127.0.0.2/32", "--no-raw", "--listen", "100ms", "--timeout", "1s", "--import")
	if r.code == exitOK || !strings.Contains(r.stdout, "127.0.0.2/32") || !strings.Contains(r.stderr, "sending the scan to the server") {
		t.Errorf("import to nowhere: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if err := dev.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Error(err)
	}
}
