package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/assess"
	"github.com/firmward/firmward/httpapi"
)

func TestVulnsCommands(t *testing.T) {
	t.Parallel()
	data := filepath.Join("..", "..", "..", "shared", "data")
	kev := filepath.Join(data, "kev", "known_exploited_vulnerabilities.json")
	nvd := filepath.Join(data, "nvd", "api-2.0", "fkie-transcribed", "CVE-2023-1389.json")
	for _, p := range []string{kev, nvd} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("real data absent: %v", err)
		}
	}
	s := startServer(t, t.TempDir(), nil)

	out := s.ok(t, "vulns")
	mustContain(t, "vulns on an empty server", out, "No findings", "vulns assess")

	s.ok(t, "feeds", "import", kev, nvd)
	var d firmward.Device
	s.okJSON(t, &d, "device", "add", "--name", "office router", "--manufacturer", "TP-Link", "--model", "Archer AX21",
		"--hardware-version", "V3", "--firmware-version", "1.1.3 Build 20221201 rel.62108", "--exposure", "internet-facing")
	id := strconv.FormatInt(d.ID, 10)

	out = s.ok(t, "vulns", "assess")
	mustContain(t, "vulns assess", out, "CVEs           1\n", "Devices", "Opened", "firmward vulns") // KEV-only entries are not matched on their own

	out = s.ok(t, "vulns")
	mustContain(t, "vulns", out, "PRIORITY", "DECISION", "CVE", "DEVICE", "KEV", "EPSS", "CVSS", "DUE", "STATUS", "CVE-2023-1389", "yes", "open", "--status all")
	out = s.ok(t, "vulns", "--kev", "--overdue", "--device", id)
	mustContain(t, "vulns --kev --overdue --device", out, "CVE-2023-1389")
	var list httpapi.FindingList
	s.okJSON(t, &list, "vulns", "--device", id)
	if len(list.Findings) != 1 || list.Findings[0].CVE != "CVE-2023-1389" || !list.Findings[0].KEV {
		t.Fatalf("vulns --device %s --json: %+v", id, list)
	}
	decision := list.Findings[0].Decision
	out = s.ok(t, "vulns", "--decision", decision, "--limit", "1")
	mustContain(t, "vulns --decision", out, "CVE-2023-1389")

	// vulns show still reaches its own command.
	out = s.ok(t, "vulns", "show", "CVE-2023-1389")
	mustContain(t, "vulns show", out, "CVE-2023-1389", "Configurations")

	// The server re-matches an edited device by itself, without vulns
	// assess.
	s.ok(t, "device", "edit", id, "--firmware-version", "1.1.4 Build 20230219 rel.60034")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.ok(t, "vulns", "--status", "fixed"), "CVE-2023-1389") {
		if time.Now().After(deadline) {
			t.Fatal("the server did not re-match the edited device within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var res assess.RunResult
	s.okJSON(t, &res, "vulns", "assess", "--device", id)
	if res.Devices != 1 || res.Opened+res.Fixed != 0 {
		t.Errorf("vulns assess --device %s after the server re-matched it: %+v, want 1 device and no change", id, res)
	}
	r0 := s.fails(t, 2, "vulns", "assess", "--device", "router")
	mustContain(t, "vulns assess --device router", r0.stderr, "device ID")
	out = s.ok(t, "vulns", "--status", "fixed")
	mustContain(t, "vulns --status fixed", out, "CVE-2023-1389", "fixed")
	mustContain(t, "vulns after the fix", s.ok(t, "vulns"), "No findings")

	r := s.fails(t, 1, "vulns", "--status", "closed")
	mustContain(t, "stderr", r.stderr, "status")
	r = s.fails(t, 2, "vulns", "extra")
	mustContain(t, "stderr", r.stderr, `unexpected argument "extra"`)
}

func TestVulnsHelp(t *testing.T) {
	t.Parallel()
	r := cli(t, nil, false, "vulns", "-h")
	if r.code != 0 {
		t.Fatalf("vulns -h: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "vulns -h", r.stdout, "Usage: firmward vulns", "--kev", "--overdue", "--decision", "--status", "--limit")
	r = cli(t, nil, false, "vulns", "assess", "-h")
	mustContain(t, "vulns assess -h", r.stdout, "Usage: firmward vulns assess")
	r = cli(t, nil, false, "help")
	mustContain(t, "help", r.stdout, "vulns assess", "feeds import")
	r = cli(t, nil, false, "vulns", "help")
	if r.code != 0 {
		t.Fatalf("vulns help: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "vulns help", r.stdout, "vulns show", "vulns assess", "list findings")
}
