package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/firmward/firmward"
)

// TestFindingsEndToEnd imports real feed files, assesses a vulnerable TP-Link
// Archer AX21, works the finding through the API and fixes it by updating
// the device's firmware.
func TestFindingsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	op, viewer := e.client(firmward.RoleOperator), e.client(firmward.RoleViewer)
	for name, rel := range map[string]string{
		"kev.json":           "kev/known_exploited_vulnerabilities.json",
		"CVE-2023-1389.json": "nvd/api-2.0/fkie-transcribed/CVE-2023-1389.json",
	} {
		if _, err := op.ImportFeed(ctx, name, bytes.NewReader(sharedData(t, rel))); err != nil {
			t.Fatalf("importing %s: %v", name, err)
		}
	}
	router, err := op.CreateDevice(ctx, &firmward.Device{
		Name: "office router", Manufacturer: "TP-Link", Model: "Archer AX21", HardwareVersion: "V3",
		FirmwareVersion: "1.1.3 Build 20221201 rel.62108", Exposure: firmward.ExposureInternetFacing,
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := op.CreateDevice(ctx, &firmward.Device{Name: "widget", Manufacturer: "Acme", Model: "Widget 9000"})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := viewer.RunAssessment(ctx, nil); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("viewer assessment: %v, want forbidden", err)
	}
	res, err := op.RunAssessment(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened < 1 || res.Devices != 2 || res.DevicesWithFindings != 1 || res.CVEs != 1 { // only CVE-2023-1389 has a record; KEV-only entries are not matched
		t.Errorf("first assessment: %+v", res)
	}

	list, err := viewer.ListFindings(ctx, FindingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var f *firmward.Finding
	for _, x := range list.Findings {
		if x.CVE == "CVE-2023-1389" && x.DeviceID == router.ID {
			f = x
		}
	}
	if f == nil {
		t.Fatalf("no CVE-2023-1389 finding for the Archer AX21: %+v", list.Findings)
	}
	if !f.KEV || f.Decision == "" || f.Status != firmward.FindingOpen || f.DueDate == nil || f.Evidence.Reason == "" {
		t.Errorf("CVE-2023-1389 finding: %+v", f)
	}

	filters := []struct {
		name string
		q    FindingQuery
		want bool // the finding is listed
	}{
		{"kev", FindingQuery{KEV: true}, true},
		{"overdue (KEV due 2023)", FindingQuery{Overdue: true}, true},
		{"device", FindingQuery{DeviceID: router.ID}, true},
		{"other device", FindingQuery{DeviceID: other.ID}, false},
		{"cve", FindingQuery{CVE: "cve-2023-1389"}, true},
		{"decision", FindingQuery{Decision: f.Decision}, true},
		{"manufacturer", FindingQuery{Manufacturer: "tp-link"}, true},
		{"other manufacturer", FindingQuery{Manufacturer: "Acme"}, false},
		{"fixed", FindingQuery{Status: "fixed"}, false},
		{"all", FindingQuery{Status: "all"}, true},
	}
	for _, tt := range filters {
		got, err := viewer.ListFindings(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		listed := false
		for _, x := range got.Findings {
			listed = listed || x.ID == f.ID
		}
		if listed != tt.want {
			t.Errorf("%s: finding listed %v, want %v (%d findings)", tt.name, listed, tt.want, len(got.Findings))
		}
	}
	for _, q := range []string{"status=closed", "kev=maybe", "device=x", "cve=1389", "decision=Soon", "cursor=abc", "limit=0", "colour=red"} {
		if r := e.do(t, "GET", "/api/v1/findings?"+q, firmward.RoleViewer, ""); r.status != http.StatusBadRequest {
			t.Errorf("GET /api/v1/findings?%s: status %d, want 400: %s", q, r.status, r.body)
		}
	}

	got, err := viewer.GetFinding(ctx, f.ID)
	if err != nil || got.CVE != f.CVE {
		t.Errorf("GetFinding: %v %+v", err, got)
	}
	if _, err := viewer.GetFinding(ctx, 999999); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("unknown finding: %v, want not_found", err)
	}

	mitigated := firmward.FindingUpdate{Status: firmward.FindingMitigated, Note: "WAN management disabled; port 80 blocked at the edge"}
	if _, err := viewer.UpdateFinding(ctx, f.ID, mitigated); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("viewer PATCH: %v, want forbidden", err)
	}
	if _, err := op.UpdateFinding(ctx, f.ID, firmward.FindingUpdate{Status: firmward.FindingMitigated}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("mitigated without a note: %v, want invalid", err)
	}
	upd, err := op.UpdateFinding(ctx, f.ID, mitigated)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Status != firmward.FindingMitigated || upd.Note != mitigated.Note {
		t.Errorf("after PATCH: %+v", upd)
	}
	events, _, err := viewer.ListAudit(ctx, AuditQuery{ObjectType: "finding", ObjectID: strconv.FormatInt(f.ID, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != firmward.ActionFindingSet || events[0].Actor == "" {
		t.Errorf("audit of the PATCH: %+v", events)
	}

	fixed := "1.1.4 Build 20230219 rel.60034"
	if _, err := op.UpdateDevice(ctx, router.ID, firmward.DeviceUpdate{FirmwareVersion: &fixed}); err != nil {
		t.Fatal(err)
	}
	res, err = op.RunAssessment(ctx, &AssessRequest{Devices: []int64{router.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fixed < 1 || res.Devices != 1 {
		t.Errorf("assessment of the router after its firmware update: %+v, want 1 device, CVE-2023-1389 fixed", res)
	}
	for name, body := range map[string]string{
		"bad cve":      `{"cves":["CVE-1"]}`,
		"bad device":   `{"devices":[0]}`,
		"unknown key":  `{"device":[1]}`,
		"not an array": `{"cves":"CVE-2023-1389"}`,
	} {
		resp := e.do(t, http.MethodPost, "/api/v1/findings/assess", firmward.RoleOperator, body, "Content-Type", "application/json")
		if resp.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, resp.status, resp.body)
		}
	}
	res, err = op.RunAssessment(ctx, &AssessRequest{CVEs: []string{"cve-2023-1389"}})
	if err != nil || res.Devices != 1 || res.Opened+res.Fixed != 0 {
		t.Errorf("re-matching CVE-2023-1389 only: %+v %v, want the router alone, nothing changed", res, err)
	}
	if got, err := viewer.GetFinding(ctx, f.ID); err != nil || got.Status != firmward.FindingFixed || got.FixedAt == nil {
		t.Errorf("after updating to %s: %v %+v, want fixed", fixed, err, got)
	}
	if _, err := op.UpdateFinding(ctx, f.ID, firmward.FindingUpdate{Status: firmward.FindingOpen}); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Errorf("PATCH of a fixed finding: %v, want conflict", err)
	}
	open, err := viewer.ListFindings(ctx, FindingQuery{DeviceID: router.ID})
	if err != nil || len(open.Findings) != 0 {
		t.Errorf("open findings of the updated router: %v %+v", err, open)
	}
}

func TestFindingsPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	op := e.client(firmward.RoleOperator)
	if _, err := op.ImportFeed(ctx, "CVE-2023-1389.json", bytes.NewReader(sharedData(t, "nvd/api-2.0/fkie-transcribed/CVE-2023-1389.json"))); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.mustCreate(t, firmward.Device{
			Name: "router " + strconv.Itoa(i), Manufacturer: "TP-Link", Model: "Archer AX21", FirmwareVersion: "1.1.3 Build 20221201 rel.62108",
		})
	}
	if _, err := op.RunAssessment(ctx, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	q := FindingQuery{Limit: 2}
	for page := 0; ; page++ {
		list, err := op.ListFindings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range list.Findings {
			if seen[f.ID] {
				t.Errorf("finding %d on two pages", f.ID)
			}
			seen[f.ID] = true
		}
		if list.NextCursor == "" || page > 5 {
			break
		}
		q.Cursor = list.NextCursor
	}
	if len(seen) != 3 {
		t.Errorf("paging saw %d findings, want 3", len(seen))
	}
}
