package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// lifecycleEnv is an env whose UI has the lifecycle services.
type lifecycleEnv struct {
	*env
	eol    *sqlstore.EOLService
	checks *sqlstore.CheckService
}

func newLifecycleEnv(t *testing.T) *lifecycleEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &lifecycleEnv{
		env: &env{
			t: t, devices: sqlstore.NewDeviceService(db), tokens: sqlstore.NewTokenService(db),
			sessions: sqlstore.NewSessionService(db), audit: sqlstore.NewAuditService(db), findings: sqlstore.NewFindingService(db),
		},
		eol: sqlstore.NewEOLService(db), checks: sqlstore.NewCheckService(db),
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		EOL: e.eol, Checks: e.checks, Vulns: sqlstore.NewVulnerabilityService(db), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	if _, e.admin, err = e.tokens.CreateToken(ctx, "alice", firmward.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, e.viewer, err = e.tokens.CreateToken(ctx, "victor", firmward.RoleViewer); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestHealthCheckWalkThrough(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	router := e.addDevice(firmward.Device{Name: "Main router", Manufacturer: "TP-Link", Model: "Archer AX21", Category: firmward.CategoryNetworkInfrastructure, FirmwareVersion: "1.0"})
	bulb := e.addDevice(firmward.Device{Name: "Bulb", Manufacturer: "Philips Hue", Model: "A19", Category: firmward.CategoryConsumerSmartHome})
	b := e.browser()
	b.signIn(e.admin)

	p := b.get("/checks")
	wantContains(t, p.body, "Due now (2)", "Start the walk-through", "Main router", "monthly: default for network-infrastructure", "quarterly: default")

	p = b.get("/checks/" + itoa(router.ID))
	wantContains(t, p.body, "tplinkwifi.net", "Turn automatic updates on", "Step 4.", `name="auto_update"`, "1 more device due after this one")

	// Without the version the check is recorded but stays due.
	p = b.post("/checks/"+itoa(router.ID), url.Values{"csrf": {b.csrf}, "admin_found": {"yes"}, "auto_update": {"yes"}}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther || p.location() != "/checks/"+itoa(router.ID) {
		t.Fatalf("partial check: %d %q: %s", p.status, p.location(), p.body)
	}
	p = b.get(p.location())
	wantContains(t, p.body, "stays due", "incomplete")

	// A bad answer is shown on the form, nothing stored.
	p = b.post("/checks/"+itoa(router.ID), url.Values{"csrf": {b.csrf}, "auto_update": {"maybe"}, "firmware_version": {"1.1"}}, "Origin", e.srv.URL)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad answer: %d", p.status)
	}
	wantContains(t, p.body, "Must be one of yes, no, unknown, not-available", `value="1.1"`)

	// The full answers complete the check, update the device and lead to
	// the next due device.
	p = b.post("/checks/"+itoa(router.ID), url.Values{
		"csrf": {b.csrf}, "admin_found": {"yes"}, "auto_update": {"yes"}, "default_password_changed": {"yes"}, "firmware_version": {"1.2"},
	}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther || p.location() != "/checks/"+itoa(bulb.ID) {
		t.Fatalf("complete check: %d %q", p.status, p.location())
	}
	got, err := e.devices.FindDeviceByID(context.Background(), router.ID)
	if err != nil || got.FirmwareVersion != "1.2" || got.AutoUpdate != firmward.AutoUpdateYes {
		t.Errorf("device after the check: %+v, %v", got, err)
	}
	p = b.get("/checks")
	wantContains(t, p.body, "Due now (1)", "Up to date (1)")

	// Cadence policy from the page: quarterly plugs become monthly.
	p = b.post("/checks/cadences", url.Values{"csrf": {b.csrf}, "category": {"consumer-smart-home"}, "months": {"1"}}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("set cadence: %d: %s", p.status, p.body)
	}
	p = b.get("/checks")
	wantContains(t, p.body, "every month: policy for consumer-smart-home devices", "1 month<")
	if p := b.post("/checks/cadences", url.Values{"csrf": {b.csrf}, "months": {"99"}}, "Origin", e.srv.URL); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "1 to 60") {
		t.Errorf("bad cadence: %d", p.status)
	}
	p = b.post("/checks/cadences", url.Values{"csrf": {b.csrf}, "category": {"consumer-smart-home"}, "action": {"remove"}}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("remove cadence: %d", p.status)
	}
	if rules, _ := e.checks.FindCheckCadences(context.Background()); len(rules) != 0 {
		t.Errorf("rules after remove: %+v", rules)
	}

	evs, _, err := e.audit.FindAuditEvents(context.Background(), firmward.AuditFilter{Action: firmward.ActionHealthCheck, Limit: 10})
	if err != nil || len(evs) != 2 || !strings.HasSuffix(evs[0].Actor, "(alice)") {
		t.Fatalf("check events: %+v, %v", evs, err)
	}
	answers := map[string]string{}
	for _, c := range evs[1].Changes {
		answers[c.Field] = c.New
	}
	if answers["auto_update"] != "yes" || answers["default_password_changed"] != "yes" || answers["firmware_version"] != "1.2" || answers["complete"] != "true" {
		t.Errorf("audited answers %v", answers)
	}

	// A viewer may look, not record; a forged form changes nothing.
	v := e.browser()
	v.signIn(e.viewer)
	p = v.get("/checks/" + itoa(bulb.ID))
	wantContains(t, p.body, "needs the operator role")
	wantNotContains(t, p.body, `name="auto_update"`)
	if p := v.post("/checks/"+itoa(bulb.ID), url.Values{"csrf": {v.csrf}, "auto_update": {"yes"}, "firmware_version": {"2"}}, "Origin", e.srv.URL); p.status != http.StatusForbidden {
		t.Errorf("viewer post: %d", p.status)
	}
	if p := b.post("/checks/"+itoa(bulb.ID), url.Values{"csrf": {"forged"}, "auto_update": {"yes"}, "firmware_version": {"2"}}, "Origin", e.srv.URL); p.status != http.StatusForbidden {
		t.Errorf("forged post: %d", p.status)
	}
	if hist, _ := e.checks.FindHealthChecks(context.Background(), bulb.ID); len(hist) != 0 {
		t.Errorf("refused posts stored checks: %+v", hist)
	}
}

func TestLifecycleAndVendorPages(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := context.Background()
	cam := e.addDevice(firmward.Device{
		Name: "Porch camera", Manufacturer: "Wyze", Model: "Cam v2", Category: firmward.CategoryCamera,
		Criticality: firmward.CriticalityMedium, PurchaseDate: "2019-05-01", ReplacementCost: 30, Owner: "bob", AutoUpdate: firmward.AutoUpdateNo,
	})
	e.addDevice(firmward.Device{Name: "Plug", Manufacturer: "TP-Link", Model: "HS103", Category: firmward.CategoryConsumerSmartHome})
	if err := e.eol.SetEOL(ctx, &firmward.EOLEntry{Manufacturer: "Wyze", Model: "Cam v2", ReleaseDate: "2018-02-01", EndOfSupport: "2025-02-01", Source: "vendor notice"}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.admin)
	p := b.get("/lifecycle")
	wantContains(t, p.body, "Porch camera", "orphaned", "support ended on 2025-02-01", "medium assumed", "Ask its owner (bob)")
	wantNotContains(t, p.body, ">Plug<")

	p = b.post("/lifecycle/"+itoa(cam.ID)+"/value", url.Values{"csrf": {b.csrf}, "value": {"low"}}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("set value: %d: %s", p.status, p.body)
	}
	p = b.get("/lifecycle")
	wantContains(t, p.body, "Operational value of device", `<option value="low" selected>`)
	if p := b.post("/lifecycle/"+itoa(cam.ID)+"/value", url.Values{"csrf": {b.csrf}, "value": {"priceless"}}, "Origin", e.srv.URL); p.status != http.StatusUnprocessableEntity {
		t.Errorf("bad value: %d", p.status)
	}

	p = b.get("/vendors?category=camera")
	wantContains(t, p.body, "Before you buy", "Wyze", "7.0 years", "(n=1)", "0.0% of devices")
	wantNotContains(t, p.body, "TP-Link")
	p = b.get("/vendors?category=toaster")
	wantContains(t, p.body, "is not a category", "TP-Link", "Wyze")
}
