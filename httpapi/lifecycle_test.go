package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

func TestLifecycleAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	op := e.client(firmward.RoleOperator)
	viewer := e.client(firmward.RoleViewer)

	cam, err := op.CreateDevice(ctx, &firmward.Device{
		Name: "Driveway camera", Manufacturer: "Acme", Model: "Cam 1", Category: firmward.CategoryCamera,
		Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternetFacing, FirmwareVersion: "1.0",
		PurchaseDate: "2020-01-01", ReplacementCost: 120, Owner: "alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	plug, err := op.CreateDevice(ctx, &firmward.Device{Name: "Plug", Manufacturer: "Other", Model: "P", Category: firmward.CategoryConsumerSmartHome, AutoUpdate: firmward.AutoUpdateYes})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.finds.SyncDeviceFindings(ctx, cam.ID, []firmward.Finding{{
		CVE: "CVE-2024-0001", Certain: true, KEV: true, EPSS: 0.4, CVSSScore: 9.8, Evidence: firmward.Evidence{Source: "nvd", Reason: "test"},
	}}); err != nil {
		t.Fatal(err)
	}

	// A bad import changes nothing and names line and field.
	_, err = op.ImportEOL(ctx, "csv", strings.NewReader("manufacturer,model,end_of_support\nAcme,Cam 1,2024-02-30\nAcme,,2030-01-01\n,X,2020-01-01\n"))
	if firmward.ErrorCode(err) != firmward.EINVALID {
		t.Fatalf("bad import: %v", err)
	}
	ds := firmward.ErrorDetails(err)
	if len(ds) != 2 || ds[0].Line != 2 || ds[0].Field != "end_of_support" || ds[1].Line != 4 || ds[1].Field != "manufacturer" {
		t.Errorf("details %+v", ds)
	}
	if list, err := viewer.ListEOL(ctx); err != nil || len(list) != 0 {
		t.Fatalf("after a bad import: %+v, %v", list, err)
	}
	res, err := op.ImportEOL(ctx, "json", strings.NewReader(`[{"manufacturer":"Acme","model":"Cam 1","release_date":"2019-01-01","end_of_support":"2024-06-30","source":"vendor notice"}]`))
	if err != nil || res.Created != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}

	// The camera is orphaned; the plug is not listed.
	rep, err := viewer.Orphans(ctx, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.StaleMonths != lifecycle.DefaultStaleMonths || len(rep.Assessments) != 1 {
		t.Fatalf("orphans: %+v", rep)
	}
	a := rep.Assessments[0]
	if a.DeviceID != cam.ID || !a.Orphaned || a.Likelihood != lifecycle.High || a.Recommendation != lifecycle.Replace ||
		a.IsolateHow != lifecycle.IsolateQuarantine || !a.ValueAssumed || !a.Cost.Known {
		t.Errorf("camera assessment: %+v", a)
	}
	// The owner says the camera is of little use: disconnect.
	if _, err := viewer.SetOperationalValue(ctx, cam.ID, firmward.ValueLow, ""); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("viewer set a value: %v", err)
	}
	if _, err := op.SetOperationalValue(ctx, cam.ID, "low", "we never look at it"); err != nil {
		t.Fatal(err)
	}
	got, err := viewer.DeviceLifecycle(ctx, cam.ID)
	if err != nil || got.Recommendation != lifecycle.Disconnect || got.OperationalValue != firmward.ValueLow {
		t.Errorf("after the answer: %+v, %v", got, err)
	}
	if _, err := op.SetOperationalValue(ctx, cam.ID, "huge", ""); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("bad value: %v", err)
	}
	all, err := viewer.Orphans(ctx, true, 6)
	if err != nil || len(all.Assessments) != 2 || all.StaleMonths != 6 {
		t.Errorf("all: %+v, %v", all, err)
	}
	r := e.do(t, http.MethodGet, "/api/v1/lifecycle/orphans?stale_months=0", firmward.RoleViewer, "")
	if r.status != http.StatusBadRequest {
		t.Errorf("stale_months=0: %d", r.status)
	}

	// Open firmware: add, list, remove.
	m, err := op.SetOpenFirmware(ctx, &firmward.OpenFirmwareModel{Firmware: "OpenWrt", Manufacturer: "Acme", Model: "Cam 1", URL: "https://openwrt.org/toh/start"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.SetOperationalValue(ctx, cam.ID, "high", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := viewer.DeviceLifecycle(ctx, cam.ID); got == nil || got.Recommendation != lifecycle.ThirdPartyFW {
		t.Errorf("with open firmware: %+v", got)
	}
	if err := op.DeleteOpenFirmware(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	list, err := viewer.ListOpenFirmware(ctx)
	if err != nil || len(list) != len(lifecycle.SeedOpenFirmware()) {
		t.Fatalf("open firmware after delete: %d entries, %v; want the %d seeded", len(list), err, len(lifecycle.SeedOpenFirmware()))
	}
	for _, x := range list {
		if x.Manufacturer == "Acme" || x.Firmware != "OpenWrt" {
			t.Errorf("unexpected entry %+v", x)
		}
	}

	// Health checks: both due (never checked); the camera monthly.
	cl, err := viewer.ListChecks(ctx, CheckQuery{Due: true})
	if err != nil || cl.Due != 2 || len(cl.Checks) != 2 {
		t.Fatalf("checks: %+v, %v", cl, err)
	}
	for _, st := range cl.Checks {
		if st.DeviceID == cam.ID && st.Months != 1 || st.DeviceID == plug.ID && st.Months != 3 {
			t.Errorf("cadence %+v", st)
		}
	}
	dc, err := op.RecordCheck(ctx, cam.ID, &firmward.HealthCheck{FirmwareVersion: "1.1", AutoUpdate: "yes", DefaultPassword: "yes", AdminFound: "yes"})
	if err != nil {
		t.Fatal(err)
	}
	if dc.Status.Due || dc.Status.Last == nil || len(dc.History) != 1 || dc.Device.FirmwareVersion != "1.1" || dc.Device.AutoUpdate != firmward.AutoUpdateYes {
		t.Errorf("after the check: %+v", dc)
	}
	if !slices.Equal(fieldNamesOf(dc.Changes), []string{"firmware_version", "auto_update"}) {
		t.Errorf("changes %+v", dc.Changes)
	}
	if cl, _ := viewer.ListChecks(ctx, CheckQuery{Due: true}); cl == nil || cl.Due != 1 || cl.Checks[0].DeviceID != plug.ID {
		t.Errorf("due after the check: %+v", cl)
	}
	if _, err := op.RecordCheck(ctx, 99999, &firmward.HealthCheck{}); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := op.SetCadence(ctx, firmward.CheckCadence{Category: firmward.CategoryConsumerSmartHome, Months: 12}); err != nil {
		t.Fatal(err)
	}
	if dc, _ := viewer.DeviceCheck(ctx, plug.ID); dc == nil || dc.Status.Months != 12 || len(dc.Checklist) != 4 {
		t.Errorf("plug check: %+v", dc)
	}
	if err := op.DeleteCadence(ctx, "", firmward.CategoryConsumerSmartHome); err != nil {
		t.Fatal(err)
	}
	if err := op.DeleteCadence(ctx, "", firmward.CategoryConsumerSmartHome); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("second delete: %v", err)
	}

	// Vendors: Acme makes cameras.
	vr, err := viewer.Vendors(ctx, firmward.CategoryCamera)
	if err != nil || len(vr.Vendors) != 1 || vr.Vendors[0].Manufacturer != "Acme" || vr.Vendors[0].KEV != 1 || vr.Vendors[0].SupportYears.N != 1 {
		t.Errorf("vendors: %+v, %v", vr, err)
	}
	r = e.do(t, http.MethodGet, "/api/v1/vendors?category=toaster", firmward.RoleViewer, "")
	if r.status != http.StatusBadRequest {
		t.Errorf("bad category: %d", r.status)
	}

	// Every change above is in the audit trail.
	actions := map[string]int{}
	evs, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{Limit: firmward.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		actions[ev.Action]++
	}
	for _, a := range []string{firmward.ActionEOLSet, firmward.ActionOperationalValue, firmward.ActionOpenFirmwareSet, firmward.ActionOpenFirmwareDelete, firmward.ActionHealthCheck, firmward.ActionCheckCadence} {
		if actions[a] == 0 {
			t.Errorf("no %s event; actions %v", a, actions)
		}
	}
}

func fieldNamesOf(cs []firmward.FieldChange) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Field)
	}
	return out
}
