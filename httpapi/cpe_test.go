package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
	"github.com/prometheus/client_golang/prometheus"
)

// newCPEEnv is newEnv whose server has a product catalog: TP-Link's Archer
// AX21 (firmware and hardware) and a few neighbours, as NVD names them.
func newCPEEnv(t *testing.T) *env {
	t.Helper()
	cat := vuln.NewCatalog()
	for _, s := range []string{
		"cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*",
		"cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*",
		"cpe:2.3:o:tp-link:archer_ax21_v2_firmware:*:*:*:*:*:*:*:*",
		"cpe:2.3:o:tp-link:archer_ax20_firmware:*:*:*:*:*:*:*:*",
	} {
		if err := cat.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	return newEnvWithCatalog(t, func(context.Context) (*vuln.Catalog, error) { return cat, nil })
}

// newEnvWithCatalog is newEnv with Config.Catalog set.
func newEnvWithCatalog(t *testing.T, catalog func(context.Context) (*vuln.Catalog, error)) *env {
	t.Helper()
	e := newEnv(t)
	e.srv = NewServer(Config{
		Devices: e.devices, Tokens: e.tokens, Audit: e.audit, Vulns: e.vulns, Findings: e.finds,
		Catalog:  catalog,
		Logger:   slog.New(slog.NewTextHandler(e.logs, nil)),
		Registry: prometheus.NewRegistry(),
	})
	e.ts.Close()
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// cpeEvents returns the device.cpe_confirm events of a device, oldest first.
func cpeEvents(t *testing.T, e *env, id int64) []*firmward.AuditEvent {
	t.Helper()
	evs, _, err := e.audit.FindAuditEvents(context.Background(), firmward.AuditFilter{
		Action: firmward.ActionDeviceCPEConfirm, ObjectType: "device", ObjectID: strconv.FormatInt(id, 10), Limit: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func changesOf(ev *firmward.AuditEvent) map[string]firmward.FieldChange {
	out := map[string]firmward.FieldChange{}
	for _, c := range ev.Changes {
		out[c.Field] = c
	}
	return out
}

func TestDeviceCPE(t *testing.T) {
	t.Parallel()
	e := newCPEEnv(t)
	ctx := context.Background()
	d := e.mustCreate(t, firmward.Device{Name: "office router", Manufacturer: "TP-Link", Model: "Archer AX21", FirmwareVersion: "1.1.4 Build 20230219 rel.60034"})
	viewer, operator := e.client(firmward.RoleViewer), e.client(firmward.RoleOperator)

	got, err := viewer.DeviceCPE(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Proposal
	wantFW := "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.4:*:*:*:*:*:*:*"
	if got.CPE != "" || p.Source != vuln.ProposalProposed || p.Firmware.CPE != wantFW || p.Firmware.Confidence < 0.9 ||
		!strings.HasPrefix(p.Hardware.CPE, "cpe:2.3:h:tp-link:archer_ax21:") || len(p.Alternatives) == 0 ||
		got.InUse.Firmware != p.Firmware || got.CatalogProducts != 4 || p.Explanation == "" {
		t.Fatalf("GET cpe = %+v", got)
	}
	alt := p.Alternatives[0]

	tests := []struct {
		name, cpe, choice string
		confidence        float64
	}{
		{"confirm", wantFW, vuln.ChoiceConfirmed, p.Firmware.Confidence},
		{"alternative", alt.CPE, vuln.ChoiceAlternative, alt.Confidence},
		{"override", "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.4:build_20230219:*:*:*:*:*:*", vuln.ChoiceOverride, 0},
		{"confirm again", wantFW, vuln.ChoiceConfirmed, p.Firmware.Confidence},
		{"confirm again unchanged", wantFW, vuln.ChoiceConfirmed, p.Firmware.Confidence},
	}
	prev := ""
	for i, tc := range tests {
		res, err := operator.SetDeviceCPE(ctx, d.ID, tc.cpe, "checked on the device "+tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Choice.Choice != tc.choice || res.Choice.Confidence != tc.confidence || res.Device.CPE != tc.cpe || res.Choice.Previous != prev {
			t.Errorf("%s: result = %+v", tc.name, res.Choice)
		}
		evs := cpeEvents(t, e, d.ID)
		if len(evs) != i+1 {
			t.Fatalf("%s: %d cpe events, want %d", tc.name, len(evs), i+1)
		}
		ev := evs[i]
		ch := changesOf(ev)
		if ev.Actor == "" || !strings.Contains(ev.Actor, "operator") {
			t.Errorf("%s: actor %q", tc.name, ev.Actor)
		}
		if ch["cpe"].Old != prev || ch["cpe"].New != tc.cpe || ch["choice"].New != tc.choice ||
			ch["proposed"].New != wantFW || ch["proposed_confidence"].New != strconv.FormatFloat(p.Firmware.Confidence, 'f', 2, 64) ||
			ch["reason"].New != "checked on the device "+tc.name {
			t.Errorf("%s: event changes = %+v", tc.name, ev.Changes)
		}
		if tc.choice == vuln.ChoiceAlternative && ch["chosen_confidence"].New != strconv.FormatFloat(alt.Confidence, 'f', 2, 64) {
			t.Errorf("%s: chosen_confidence = %q, want %v", tc.name, ch["chosen_confidence"].New, alt.Confidence)
		}
		prev = tc.cpe
	}
	// Every change of the cpe is also an ordinary device edit (4: the
	// last confirmation changed nothing).
	updates, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{Action: firmward.ActionDeviceUpdate, ObjectID: strconv.FormatInt(d.ID, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 4 || updates[0].Changes[0].Field != "cpe" {
		t.Errorf("%d device.update events, want 4 on cpe: %+v", len(updates), updates)
	}
	got, err = viewer.DeviceCPE(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CPE != wantFW || got.InUse.Source != vuln.ProposalDevice || got.Proposal.Source != vuln.ProposalProposed {
		t.Errorf("after confirming: %+v", got)
	}

	// Clearing goes back to proposals.
	res, err := operator.ClearDeviceCPE(ctx, d.ID, "wrong model")
	if err != nil {
		t.Fatal(err)
	}
	if res.Choice.Choice != vuln.ChoiceCleared || res.Device.CPE != "" || res.Choice.Previous != wantFW {
		t.Errorf("clear = %+v", res.Choice)
	}
	evs := cpeEvents(t, e, d.ID)
	if ch := changesOf(evs[len(evs)-1]); ch["choice"].New != vuln.ChoiceCleared || ch["cpe"].Old != wantFW || ch["reason"].New != "wrong model" {
		t.Errorf("clear event = %+v", evs[len(evs)-1].Changes)
	}
	if got, err = viewer.DeviceCPE(ctx, d.ID); err != nil || got.InUse.Source != vuln.ProposalProposed {
		t.Errorf("after clearing: %+v, %v", got, err)
	}
}

func TestDeviceCPERefused(t *testing.T) {
	t.Parallel()
	e := newCPEEnv(t)
	d := e.mustCreate(t, firmward.Device{Name: "cam", Manufacturer: "TP-Link", Model: "Archer AX21"})
	path := "/api/v1/devices/" + strconv.FormatInt(d.ID, 10) + "/cpe"
	tests := []struct {
		name, method, path string
		role               firmward.Role
		body               string
		status             int
		field              string
	}{
		{"not a cpe", "PUT", path, firmward.RoleOperator, `{"cpe":"archer ax21"}`, 400, "cpe"},
		{"bad component", "PUT", path, firmward.RoleOperator, `{"cpe":"cpe:2.3:o:tp-link:archer*ax21:*:*:*:*:*:*:*:*"}`, 400, "cpe"},
		{"application", "PUT", path, firmward.RoleOperator, `{"cpe":"cpe:2.3:a:tp-link:app:*:*:*:*:*:*:*:*"}`, 400, "cpe"},
		{"empty", "PUT", path, firmward.RoleOperator, `{"cpe":" "}`, 400, "cpe"},
		{"unknown field", "PUT", path, firmward.RoleOperator, `{"cpe":"cpe:2.3:o:a:b:*:*:*:*:*:*:*:*","why":"x"}`, 400, "why"},
		{"long reason", "PUT", path, firmward.RoleOperator, `{"cpe":"cpe:2.3:o:a:b:*:*:*:*:*:*:*:*","reason":"` + strings.Repeat("x", vuln.MaxChoiceReason+1) + `"}`, 400, "reason"},
		{"viewer", "PUT", path, firmward.RoleViewer, `{"cpe":"cpe:2.3:o:a:b:*:*:*:*:*:*:*:*"}`, 403, ""},
		{"viewer clears", "DELETE", path, firmward.RoleViewer, "", 403, ""},
		{"unknown query", "DELETE", path + "?why=x", firmward.RoleOperator, "", 400, ""},
		{"no device", "PUT", "/api/v1/devices/999999/cpe", firmward.RoleOperator, `{"cpe":"cpe:2.3:o:a:b:*:*:*:*:*:*:*:*"}`, 404, ""},
		{"no device get", "GET", "/api/v1/devices/999999/cpe", firmward.RoleViewer, "", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.state(t)
			r := e.do(t, tc.method, tc.path, tc.role, tc.body, "Content-Type", "application/json")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			body := r.apiError(t)
			if tc.field != "" {
				if len(body.Details) == 0 || body.Details[0].Field != tc.field || !strings.Contains(body.Message, tc.field) {
					t.Errorf("error %+v does not name field %s", body, tc.field)
				}
			}
			if after := e.state(t); after != before {
				t.Errorf("refused request changed the store: %+v → %+v", before, after)
			}
		})
	}
	if got, err := e.devices.FindDeviceByID(context.Background(), d.ID); err != nil || got.CPE != "" {
		t.Errorf("device after refused requests: %+v, %v", got, err)
	}
}

func TestDeviceCPECatalogError(t *testing.T) {
	t.Parallel()
	e := newEnvWithCatalog(t, func(context.Context) (*vuln.Catalog, error) { return nil, errors.New("database gone") })
	d := e.mustCreate(t, firmward.Device{Name: "cam", Manufacturer: "Axis", Model: "P3245-V"})
	r := e.do(t, "GET", "/api/v1/devices/"+strconv.FormatInt(d.ID, 10)+"/cpe", firmward.RoleViewer, "")
	if r.status != http.StatusInternalServerError || strings.Contains(string(r.body), "database gone") {
		t.Errorf("status %d body %s: want 500 without the internal detail", r.status, r.body)
	}
	// Without a catalog the alias table still proposes.
	e2 := newEnv(t)
	d2 := e2.mustCreate(t, firmward.Device{Name: "cam", Manufacturer: "Axis", Model: "P3245-V"})
	got, err := e2.client(firmward.RoleViewer).DeviceCPE(context.Background(), d2.ID)
	if err != nil || got.Proposal.Firmware.CPE == "" || got.CatalogProducts != 0 {
		t.Errorf("no catalog: %+v, %v", got, err)
	}
}

func TestFindingStatsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	d := e.mustCreate(t, firmward.Device{Name: "router", Manufacturer: "MikroTik", Model: "hAP ac2"})
	past := time.Now().UTC().Add(-48 * time.Hour)
	_, err := e.finds.SyncDeviceFindings(ctx, d.ID, []firmward.Finding{
		{CVE: "CVE-2024-0001", Certain: true, Decision: firmward.DecisionImmediate, DueDate: &past, KEV: true, Evidence: firmward.Evidence{Source: "nvd", Reason: "test"}},
		{CVE: "CVE-2024-0002", Certain: true, Decision: firmward.DecisionDefer, Evidence: firmward.Evidence{Source: "nvd", Reason: "test"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.client(firmward.RoleViewer).FindingStats(ctx, 7, 3)
	if err != nil {
		t.Fatal(err)
	}
	if st.Open != 2 || st.KEV != 1 || st.Overdue != 1 || len(st.OverdueByDay) != 7 || st.OverdueByDay[6].Count != 1 ||
		len(st.Vendors) != 1 || st.Vendors[0] != (firmward.NamedCount{Name: "MikroTik", Count: 2}) || len(st.ByDecision) != 4 {
		t.Errorf("stats = %+v", st)
	}
	for _, q := range []string{"days=0", "days=367", "vendors=x", "limit=3"} {
		r := e.do(t, "GET", "/api/v1/findings/stats?"+q, firmward.RoleViewer, "")
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, r.status)
		}
		r.apiError(t)
	}
}
