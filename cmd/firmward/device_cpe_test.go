package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/vuln"
)

func TestDeviceCPECommand(t *testing.T) {
	t.Parallel()
	nvd := filepath.Join("..", "..", "..", "shared", "data", "nvd", "api-2.0", "fkie-transcribed", "CVE-2023-1389.json")
	if _, err := os.Stat(nvd); err != nil {
		t.Skipf("real data absent: %v", err)
	}
	s := startServer(t, t.TempDir(), nil)
	var d firmward.Device
	s.okJSON(t, &d, "device", "add", "--name", "office router", "--manufacturer", "TP-Link", "--model", "Archer AX21",
		"--hardware-version", "V3", "--firmware-version", "1.1.3 Build 20221201 rel.62108")
	id := strconv.FormatInt(d.ID, 10)

	// Before any feed: the alias table only, an empty catalog.
	var before httpapi.DeviceCPE
	s.okJSON(t, &before, "device", "cpe", id)
	if before.CatalogProducts != 0 || before.Proposal.Firmware.CPE == "" {
		t.Fatalf("before import: %+v", before)
	}

	// After importing CVE-2023-1389 (Archer AX21), the server's catalog is
	// rebuilt and knows the product.
	s.ok(t, "feeds", "import", nvd)
	out := s.ok(t, "device", "cpe", id)
	mustContain(t, "device cpe", out, "PART", "CONFIDENCE", "WHY", "firmware", "hardware",
		"cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:", "cpe:2.3:h:tp-link:archer_ax21:", "--confirm")
	var got httpapi.DeviceCPE
	s.okJSON(t, &got, "device", "cpe", id)
	if got.CatalogProducts == 0 || got.Proposal.Firmware.Confidence < 0.9 {
		t.Fatalf("after import: %+v", got)
	}

	out = s.ok(t, "device", "cpe", id, "--confirm", "--reason", "label checked")
	mustContain(t, "device cpe --confirm", out, "confirmed", got.Proposal.Firmware.CPE, "vulns assess")
	var shown firmward.Device
	s.okJSON(t, &shown, "device", "show", id)
	if shown.CPE != got.Proposal.Firmware.CPE {
		t.Errorf("cpe after --confirm = %q", shown.CPE)
	}

	own := "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:build_20221201:*:*:*:*:*:*"
	var res httpapi.CPEResult
	s.okJSON(t, &res, "device", "cpe", id, "--set", own)
	if res.Choice.Choice != vuln.ChoiceOverride || res.Device.CPE != own || res.Choice.Previous != got.Proposal.Firmware.CPE {
		t.Errorf("--set own: %+v", res.Choice)
	}
	out = s.ok(t, "device", "cpe", id)
	mustContain(t, "device cpe with a cpe", out, own, "--clear")

	out = s.ok(t, "device", "cpe", id, "--clear")
	mustContain(t, "device cpe --clear", out, "cleared")

	// The audit trail has the three choices.
	var trail httpapi.AuditList
	s.okJSON(t, &trail, "audit", "list", "--action", firmward.ActionDeviceCPEConfirm)
	var choices []string
	reason := ""
	for _, ev := range trail.Events {
		for _, c := range ev.Changes {
			switch c.Field {
			case "choice":
				choices = append(choices, c.New)
			case "reason":
				reason += c.New
			}
		}
	}
	if strings.Join(choices, ",") != "cleared,override,confirmed" || reason != "label checked" {
		t.Errorf("audit trail choices %v, reason %q; want cleared, override, confirmed (newest first) and the reason", choices, reason)
	}

	r := s.fails(t, 1, "device", "cpe", id, "--set", "archer ax21")
	mustContain(t, "stderr", r.stderr, "cpe", "CPE 2.3")
	r = s.fails(t, 2, "device", "cpe", id, "--confirm", "--clear")
	mustContain(t, "stderr", r.stderr, "at most one")
	r = s.fails(t, 1, "device", "cpe", "99")
	mustContain(t, "stderr", r.stderr, "firmward device list")
}
