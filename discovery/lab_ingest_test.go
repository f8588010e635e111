package discovery_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/sqlstore"
)

// TestLabIngest runs the whole chain on the lab: `firmward serve` and
// `firmward scan --import` inside the scanner's namespace (so that the
// server's loopback is private to the lab), a printer (HTTP admin page)
// and a PLC (Debian's snmpd). The scan's results must join the server's
// SQLite inventory as devices with source scan and raise a device.new
// alert each; a person's later edit must survive a second scan as a
// conflict for review.
func TestLabIngest(t *testing.T) {
	tools := labTools(t)
	bin := buildFirmward(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, tools)
	scanNS, _ := l.node("scan", 2, "02:00:5e:10:00:02")
	prnNS, prnIP := l.node("prn", 11, "04:0e:3c:12:34:56")
	plcNS, plcIP := l.node("plc", 13, "ec:1c:5d:00:00:13")
	dir := t.TempDir()
	l.start(prnNS, "ready", []string{labRoleEnv + "=printer"}, self, prnIP)
	snmpConf := filepath.Join(dir, "snmpd.conf")
	writeFile(t, snmpConf, fmt.Sprintf(`agentAddress udp:%s:161
rocommunity public %s.0/24
sysDescr Siemens, SIMATIC S7-1200, CPU 1214C DC/DC/DC, 6ES7 214-1AG40-0XB0, HW: 5, FW: V4.4.0, S C-H4TS12345678
sysObjectID .1.3.6.1.4.1.4329.6.1.2513.311
sysName plc-line-3
`, plcIP, l.subnet))
	l.start(plcNS, "NET-SNMP version", []string{"SNMP_PERSISTENT_DIR=" + filepath.Join(dir, "snmp")},
		tools["snmpd"], "-f", "-C", "-c", snmpConf, "-Lo", "-p", filepath.Join(dir, "snmpd.pid"))

	// The server, on the scanner namespace's own loopback.
	data := filepath.Join(dir, "data")
	const server = "http://127.0.0.1:18080"
	l.start(scanNS, "firmward listening on", []string{"FIRMWARD_LOG_LEVEL=warn"}, bin, "serve", "--addr", "127.0.0.1:18080", "--data", data)
	tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	cidr := l.subnet + ".0/24"
	scanImport := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, tools["ip"], "netns", "exec", scanNS, bin, "scan", "--cidr", cidr,
			"--recog", recogDir, "--oui", "/usr/share/ieee-data/oui.csv", "--listen", "2s", "--timeout", "3s",
			"--import", "--site", "lab", "--server", server, "--token", strings.TrimSpace(string(tok)))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("firmward scan --import: %v\n%s", err, out)
		}
		return string(out)
	}
	out := scanImport()
	if !strings.Contains(out, "imported as scan") {
		t.Fatalf("no import summary:\n%s", out)
	}

	// Read the server's inventory (SQLite in WAL mode takes a second
	// process).
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(data, "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	devices := sqlstore.NewDeviceService(db)
	list, _, err := devices.FindDevices(ctx, firmward.DeviceFilter{Site: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	byIP := map[string]*firmward.Device{}
	for _, d := range list {
		if d.Source != firmward.SourceScan {
			t.Errorf("device %d has source %q, want scan", d.ID, d.Source)
		}
		for _, ip := range d.IPs {
			byIP[ip] = d
		}
	}
	prn, plc := byIP[prnIP], byIP[plcIP]
	if len(list) != 2 || prn == nil || plc == nil {
		t.Fatalf("devices after the scan: %d, by IP %v\n%s", len(list), byIP, out)
	}
	if prn.Manufacturer != "HP" || prn.FirmwareVersion != "002_2114A" || prn.MACs[0] != "04:0e:3c:12:34:56" {
		t.Errorf("printer %+v", prn)
	}
	if plc.Manufacturer != "Siemens" || plc.FirmwareVersion != "4.4.0" || plc.Category != firmward.CategoryIndustrial || plc.Serial != "S C-H4TS12345678" {
		t.Errorf("PLC %+v", plc)
	}
	alerts, _, err := sqlstore.NewAlertService(db).FindAlerts(ctx, firmward.AlertFilter{Kind: firmward.AlertDeviceNew})
	if err != nil || len(alerts) != 2 {
		t.Fatalf("device.new alerts %+v, %v", alerts, err)
	}

	// A person corrects the PLC's model; the next scan keeps it and opens
	// a conflict, and creates nothing new.
	model := "S7-1214C (line 3)"
	if _, err := devices.UpdateDevice(ctx, plc.ID, firmward.DeviceUpdate{Model: &model}); err != nil {
		t.Fatal(err)
	}
	out = scanImport()
	if !strings.Contains(out, "0 new devices") || !strings.Contains(out, "1 conflicts") {
		t.Errorf("second scan:\n%s", out)
	}
	if d, err := devices.FindDeviceByID(ctx, plc.ID); err != nil || d.Model != model {
		t.Errorf("the person's model became %q (%v)", d.Model, err)
	}
	cs, _, err := sqlstore.NewDiscoveryService(db).FindConflicts(ctx, firmward.ConflictFilter{DeviceID: plc.ID})
	if err != nil || len(cs) != 1 || cs[0].Field != firmward.FieldModel || cs[0].Current != model {
		t.Errorf("conflicts %+v, %v", cs, err)
	}
}
