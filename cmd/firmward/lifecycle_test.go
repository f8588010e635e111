package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

func TestLifecycleCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"), nil)

	// The open-firmware list starts seeded with OpenWrt models.
	out := s.ok(t, "eol", "openfw")
	mustContain(t, "eol openfw", out, "OpenWrt", "Netgear", "R7800", "Aruba", "AP-303H")

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("manufacturer,model,end_of_support\nWyze,Cam v2,2025-02-01\nAcme,X,31/12/2024\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.fails(t, 1, "eol", "import", bad)
	mustContain(t, "bad eol import", r.stderr, "1 problem;", "LINE", "3 ", "end_of_support", "YYYY-MM-DD", "nothing was imported")
	mustContain(t, "eol list after a bad import", s.ok(t, "eol", "list"), "No end-of-support dates")

	good := filepath.Join(dir, "eol.csv")
	if err := os.WriteFile(good, []byte("manufacturer,model,release_date,end_of_support,source\nWyze,Cam v2,2018-02-01,2025-02-01,vendor notice\nNetgear,,,2031-01-01,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "eol import", s.ok(t, "eol", "import", good), "2 created")
	out = s.ok(t, "eol", "list")
	mustContain(t, "eol list", out, "Wyze", "Cam v2", "2025-02-01", "(every model)")
	// list --csv reads back as the same table.
	csvOut := s.ok(t, "eol", "list", "--csv")
	again := filepath.Join(dir, "again.csv")
	if err := os.WriteFile(again, []byte(csvOut), 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "eol import of the export", s.ok(t, "eol", "import", again), "0 created, 0 updated, 2 unchanged")

	var e firmward.EOLEntry
	s.okJSON(t, &e, "eol", "set", "--manufacturer", "Acme", "--model", "Hub", "--end-of-support", "2020-01-01")
	mustContain(t, "eol rm", s.ok(t, "eol", "rm", strconv.FormatInt(e.ID, 10)), "deleted")
	r = s.fails(t, 1, "eol", "set", "--manufacturer", "Acme")
	mustContain(t, "eol set without a date", r.stderr, "end_of_support")

	var cam firmward.Device
	s.okJSON(t, &cam, "device", "add", "--name", "Porch camera", "--manufacturer", "Wyze", "--model", "Cam v2", "--category", "camera",
		"--purchase-date", "2019-05-01", "--replacement-cost", "30")
	id := strconv.FormatInt(cam.ID, 10)
	out = s.ok(t, "eol", "orphans")
	mustContain(t, "eol orphans", out, "Porch camera", "orphaned", "support ended on 2025-02-01", "recommendation: ISOLATE (SEGMENT)", "medium assumed", "Ask its owner")
	s.ok(t, "eol", "value", id, "low", "--note", "we never look at it")
	var rep httpapi.OrphanReport
	s.okJSON(t, &rep, "eol", "orphans")
	if len(rep.Assessments) != 1 || rep.Assessments[0].OperationalValue != firmward.ValueLow {
		t.Errorf("orphans --json: %+v", rep)
	}
	s.fails(t, 1, "eol", "value", id, "priceless")

	out = s.ok(t, "checks", "--due")
	mustContain(t, "checks --due", out, "Porch camera", "monthly", "never", "DUE", "1 due")
	out = s.ok(t, "checks", "record", id, "--firmware-version", "4.9.8", "--auto-update", "yes", "--default-password-changed", "yes")
	mustContain(t, "checks record", out, "recorded", "next one due", "firmware_version", "4.9.8")
	mustContain(t, "checks --due after the check", s.ok(t, "checks", "--due"), "No health checks due")
	out = s.ok(t, "checks", "cadence", "--category", "camera", "--months", "2")
	mustContain(t, "checks cadence", out, "camera", "every 2 months", "Defaults")
	var cl httpapi.CheckList
	s.okJSON(t, &cl, "checks")
	if len(cl.Checks) != 1 || cl.Checks[0].Months != 2 || cl.Due != 0 {
		t.Errorf("checks --json: %+v", cl)
	}
	s.ok(t, "checks", "cadence", "--category", "camera", "--rm")
	s.fails(t, 1, "checks", "record", id, "--auto-update", "sometimes")

	out = s.ok(t, "vendors", "--category", "camera")
	mustContain(t, "vendors", out, "RANK", "Wyze", "7.0 (n=1)", "100% (n=1)")
	var vr httpapi.VendorReport
	s.okJSON(t, &vr, "vendors")
	if len(vr.Vendors) != 1 || vr.Vendors[0].Manufacturer != "Wyze" {
		t.Errorf("vendors --json: %+v", vr)
	}
	r = s.fails(t, 1, "vendors", "--category", "toaster")
	mustContain(t, "vendors --category toaster", r.stderr, "category")

	// Every change is in the audit trail.
	out = s.ok(t, "audit", "list", "--limit", "1000")
	for _, a := range []string{"eol.set", "eol.delete", "open_firmware.seed", "device.operational_value", "check.record", "check.cadence"} {
		if !strings.Contains(out, a) {
			t.Errorf("audit list lacks %s", a)
		}
	}
}
