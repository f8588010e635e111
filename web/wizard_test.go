package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// wizardEnv is an env whose UI has settings, lifecycle and notify
// services, as `firmward serve` wires them (no scanner).
type wizardEnv struct {
	*env
	settings *sqlstore.SettingsService
	notify   *sqlstore.NotifyService
}

func newWizardEnv(t *testing.T) *wizardEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	notify, err := sqlstore.NewNotifyService(db, sqlstore.NotifyOptions{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	e := &wizardEnv{
		env: &env{
			t: t, devices: sqlstore.NewDeviceService(db), tokens: sqlstore.NewTokenService(db),
			sessions: sqlstore.NewSessionService(db), audit: sqlstore.NewAuditService(db), findings: sqlstore.NewFindingService(db),
		},
		settings: sqlstore.NewSettingsService(db),
		notify:   notify,
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		EOL: sqlstore.NewEOLService(db), Checks: sqlstore.NewCheckService(db), Vulns: sqlstore.NewVulnerabilityService(db),
		Notify: notify, Settings: e.settings, Now: func() time.Time { return now },
		LocalAddrs: func() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("192.168.1.7/24")} },
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

func wantStatus(t *testing.T, what string, p page, status int, location string) {
	t.Helper()
	if p.status != status || (location != "" && p.location() != location) {
		t.Fatalf("%s: status %d location %q, want %d %q\n%s", what, p.status, p.location(), status, location, p.body)
	}
}

func TestWizard(t *testing.T) {
	t.Parallel()
	e := newWizardEnv(t)
	ctx := context.Background()

	viewer := e.browser()
	viewer.signIn(e.viewer)
	wantNotContains(t, viewer.get("/").body, "Start the setup")
	wantStatus(t, "viewer GET /setup", viewer.get("/setup"), http.StatusForbidden, "")
	wantStatus(t, "viewer POST /setup/mode", viewer.post("/setup/mode", url.Values{"csrf": {viewer.csrf}, "mode": {"home"}}), http.StatusForbidden, "")

	b := e.browser()
	b.signIn(e.admin)
	wantContains(t, b.get("/").body, "Set up firmward in three steps", `href="/setup"`)
	wantContains(t, b.get("/setup").body, "Where will you use firmward?", "Step 1 of 3")

	// Step 1.
	wantStatus(t, "bad mode", b.post("/setup/mode", url.Values{"csrf": {b.csrf}, "mode": {"castle"}}), http.StatusUnprocessableEntity, "")
	wantStatus(t, "no CSRF", b.post("/setup/mode", url.Values{"mode": {"home"}}), http.StatusForbidden, "")
	wantStatus(t, "mode", b.post("/setup/mode", url.Values{"csrf": {b.csrf}, "mode": {"home"}}), http.StatusSeeOther, "/setup?step=devices")
	if m, err := e.settings.Setting(ctx, firmward.SettingSetupMode); err != nil || m != firmward.SetupModeHome {
		t.Fatalf("mode = %q, %v", m, err)
	}

	// Step 2: the catalog is there; this server cannot scan, and a scan
	// request is refused without starting anything.
	p := b.get("/setup?step=devices")
	wantContains(t, p.body, "Step 2 of 3", "TP-Link Archer AX21", "Wyze Cam v3", "cannot scan the network")
	wantNotContains(t, p.body, "Wyze Wyze")
	wantStatus(t, "scan", b.post("/setup/scan", url.Values{"csrf": {b.csrf}, "cidr": {"192.168.1.0/24"}}), http.StatusUnprocessableEntity, "")

	// Nothing ticked, or an unknown model: refused, nothing added.
	wantStatus(t, "nothing ticked", b.post("/setup/catalog", url.Values{"csrf": {b.csrf}}), http.StatusUnprocessableEntity, "")
	p = b.post("/setup/catalog", url.Values{"csrf": {b.csrf}, "pick": {"TP-Link/Archer AX21", "Acme/Nothing"}})
	wantStatus(t, "unknown model", p, http.StatusUnprocessableEntity, "")
	wantContains(t, p.body, "is not in the catalog")
	if n := e.countDevices(); n != 0 {
		t.Fatalf("%d devices after refused picks", n)
	}
	// The router with its firmware, the Wyze camera without.
	form := url.Values{"csrf": {b.csrf}, "pick": {"TP-Link/Archer AX21", "Wyze/Wyze Cam v3"}}
	form.Set("fw-0", "1.1.3 Build 20221201 rel.62108")
	wantStatus(t, "catalog", b.post("/setup/catalog", form), http.StatusSeeOther, "/setup?step=devices")
	devs, _, err := e.devices.FindDevices(ctx, firmward.DeviceFilter{})
	if err != nil || len(devs) != 2 {
		t.Fatalf("devices = %d, %v", len(devs), err)
	}
	router := devs[0]
	if router.Model != "Archer AX21" || router.FirmwareVersion != "1.1.3 Build 20221201 rel.62108" || router.Site != "Home" ||
		router.Exposure != firmward.ExposureInternetFacing || len(router.MACs) != 0 || len(router.IPs) != 0 ||
		router.CPE != "cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*" {
		t.Errorf("router = %+v", router)
	}
	if devs[1].FirmwareVersion != "" || devs[1].AutoUpdate != firmward.AutoUpdateNo {
		t.Errorf("camera = %+v", devs[1])
	}

	// Typing a device: a missing name is refused and the form keeps what
	// was typed.
	p = b.post("/setup/device", url.Values{"csrf": {b.csrf}, "manufacturer": {"Sonos"}, "model": {"One SL"}})
	wantStatus(t, "nameless device", p, http.StatusUnprocessableEntity, "")
	wantContains(t, p.body, `value="Sonos"`)
	wantStatus(t, "typed device", b.post("/setup/device", url.Values{
		"csrf": {b.csrf}, "name": {"Kitchen speaker"}, "manufacturer": {"Sonos"},
		"model": {"One SL"}, "category": {"consumer-smart-home"},
	}), http.StatusSeeOther, "/setup?step=devices")
	wantContains(t, b.get("/setup?step=devices").body, "Kitchen speaker", "firmware 1.1.3 Build 20221201 rel.62108")

	// Step 3: a webhook without URL is refused; a good one finishes setup.
	p = b.post("/setup/channel", url.Values{"csrf": {b.csrf}, "type": {"webhook"}, "name": {"Hook"}, "url": {"ftp://x"}, "secret": {"s3cret-value"}})
	wantStatus(t, "bad channel", p, http.StatusUnprocessableEntity, "")
	wantContains(t, p.body, "url: must be", `<option value="webhook" selected>`, `value="Hook"`, `value="ftp://x"`)
	wantNotContains(t, p.body, "s3cret-value")
	wantStatus(t, "channel", b.post("/setup/channel", url.Values{
		"csrf": {b.csrf}, "type": {"webhook"}, "name": {"Home"},
		"url": {"http://127.0.0.1:9/hook"}, "secret": {"a-long-webhook-secret"},
	}), http.StatusSeeOther, "/")
	chs, err := e.notify.FindChannels(ctx)
	if err != nil || len(chs) != 1 || chs[0].Name != "Home" || chs[0].Type != firmward.ChannelWebhook {
		t.Fatalf("channels = %v, %v", chs, err)
	}
	if _, err := e.settings.Setting(ctx, firmward.SettingSetupDone); err != nil {
		t.Fatalf("setup not marked done: %v", err)
	}

	// The wizard is closed; the home dashboard lists what to do.
	wantStatus(t, "closed wizard", b.get("/setup"), http.StatusSeeOther, "/")
	wantStatus(t, "closed wizard POST", b.post("/setup/mode", url.Values{"csrf": {b.csrf}, "mode": {"organisation"}}), http.StatusSeeOther, "/")
	p = b.get("/")
	wantNotContains(t, p.body, "Start the setup", "Update the router")
	wantContains(t, p.body, "Do this now", "Turn on automatic updates for the camera “Living room camera” (Wyze Cam v3)", "to the guest Wi-Fi")

	// A KEV finding on the router puts its update first, with the fix.
	if _, err := e.findings.SyncDeviceFindings(ctx, router.ID, []firmward.Finding{{
		CVE: "CVE-2023-1389", Certain: true, KEV: true, Decision: firmward.DecisionImmediate, Priority: 90, FixedIn: "1.1.4",
		Evidence: firmward.Evidence{Source: "nvd", Reason: "test"},
	}}); err != nil {
		t.Fatal(err)
	}
	p = b.get("/")
	first := strings.Index(p.body, "Update the router “Main router” (TP-Link Archer AX21) to firmware 1.1.4 or newer")
	auto := strings.Index(p.body, "Turn on automatic updates")
	if first < 0 || auto < 0 || first > auto {
		t.Errorf("router update at %d, auto-update at %d: want the router first\n%s", first, auto, p.body)
	}
	wantContains(t, p.body, "CVE-2023-1389 on it is being exploited by attackers now", "faces the internet", `href="/devices/`)
}

func TestWizardSkipAndOlderInstalls(t *testing.T) {
	t.Parallel()
	t.Run("skip at step 1", func(t *testing.T) {
		t.Parallel()
		e := newWizardEnv(t)
		b := e.browser()
		b.signIn(e.admin)
		b.get("/setup")
		wantStatus(t, "skip", b.post("/setup/finish", url.Values{"csrf": {b.csrf}, "skip": {"1"}}), http.StatusSeeOther, "/")
		if m, err := e.settings.Setting(context.Background(), firmward.SettingSetupMode); err != nil || m != firmward.SetupModeOrganisation {
			t.Errorf("mode after skipping = %q, %v", m, err)
		}
		p := b.get("/")
		wantContains(t, p.body, "Setup skipped")
		wantNotContains(t, p.body, "Start the setup", "Do this now")
	})
	t.Run("an inventory without setup is not sent through it", func(t *testing.T) {
		t.Parallel()
		e := newWizardEnv(t)
		e.addDevice(firmward.Device{Name: "Old camera", Category: firmward.CategoryCamera})
		b := e.browser()
		b.signIn(e.admin)
		wantNotContains(t, b.get("/").body, "Start the setup", "Do this now")
		wantStatus(t, "GET /setup", b.get("/setup"), http.StatusSeeOther, "/")
	})
	t.Run("no settings service, no wizard", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		b := e.browser()
		b.signIn(e.admin)
		wantNotContains(t, b.get("/").body, "Start the setup")
		wantStatus(t, "GET /setup", b.get("/setup"), http.StatusNotFound, "")
	})
}
