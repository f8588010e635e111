package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/ingest"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// scanAt is when the fake scanner's host answers.
var scanAt = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

// fakeScan stands in for the network scanner, an adapter the web UI may
// not import (the real one is tested in the discovery lab): one camera.
func fakeScan(_ context.Context, req firmward.ScanRequest) (*firmward.ScanReport, error) {
	return &firmward.ScanReport{CIDR: req.CIDR, StartedAt: scanAt, FinishedAt: scanAt, Scanned: 254, Hosts: []firmward.Observation{{
		Time: scanAt, IP: "10.9.0.21", MAC: "ac:cc:8e:00:00:21", MACVendor: "Axis Communications AB", Ports: []int{80, 554},
		Hints: []string{"An admin page asks for a password over plain HTTP"},
		Fields: []firmward.ObservedField{
			{Field: firmward.FieldManufacturer, Value: "Axis", Confidence: 0.95, Evidence: []firmward.ScanEvidence{{Source: "http:80 server", Observed: "AXIS P3225-LV"}}},
			{Field: firmward.FieldModel, Value: "P3225-LV", Confidence: 0.9, Evidence: []firmward.ScanEvidence{{Source: "upnp description", Observed: "P3225-LV Mk II"}}},
			{Field: firmward.FieldCategory, Value: "camera", Confidence: 0.9},
		},
	}}}, nil
}

// scanEnv is the web UI with discovery over a real SQLite store.
type scanEnv struct {
	*env
	runner *ingest.Runner
}

func newScanEnv(t *testing.T) *scanEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{
		t: t, devices: sqlstore.NewDeviceService(db), tokens: sqlstore.NewTokenService(db),
		sessions: sqlstore.NewSessionService(db), audit: sqlstore.NewAuditService(db), findings: sqlstore.NewFindingService(db),
	}
	alerts := sqlstore.NewAlertService(db)
	in := ingest.New(ingest.Services{Devices: e.devices, Discovery: sqlstore.NewDiscoveryService(db), Alerts: alerts}, ingest.Options{})
	runner := ingest.NewRunner(ctx, ingest.RunnerConfig{Scan: fakeScan, Ingester: in})
	t.Cleanup(runner.Wait)
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		Scans: runner, Alerts: alerts,
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
	return &scanEnv{env: e, runner: runner}
}

var scanLinkRE = regexp.MustCompile(`^/scans/(\d+)$`)

func TestScansPage(t *testing.T) {
	t.Parallel()
	e := newScanEnv(t)
	b := e.browser()
	b.signIn(e.admin)

	p := b.get("/scans")
	wantContains(t, p.body, "Scan a network", `name="cidr"`, "No new devices waiting", "No conflicts", "No scans yet", `href="/scans" aria-current="page"`)

	// A refused request shows the form again with the reason.
	p = b.post("/scans", url.Values{"csrf": {b.csrf}, "cidr": {"10.0.0.0/8"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("a /8: status %d", p.status)
	}
	wantContains(t, p.body, "wider than /16", `value="10.0.0.0/8"`)

	p = b.post("/scans", url.Values{"csrf": {b.csrf}, "cidr": {"10.9.0.0/24"}, "site": {"home"}, "communities": {"public, s3cret"}})
	m := scanLinkRE.FindStringSubmatch(p.location())
	if p.status != http.StatusSeeOther || m == nil {
		t.Fatalf("start: status %d, location %q: %s", p.status, p.location(), p.body)
	}
	e.runner.Wait()
	p = b.get(p.location())
	wantContains(t, p.body, "Scanning 10.9.0.0/24", "10.9.0.21", "Axis Communications AB", "P3225-LV", "(90.0%)", "new", "plain HTTP")

	p = b.get("/scans")
	wantContains(t, p.body, "New device seen: Axis P3225-LV at 10.9.0.21", "Mark seen", `href="/scans/`+m[1]+`"`, "web · token:")
	list, _, err := e.devices.FindDevices(context.Background(), firmward.DeviceFilter{})
	if err != nil || len(list) != 1 || list[0].Source != firmward.SourceScan || list[0].Category != firmward.CategoryCamera {
		t.Fatalf("devices %+v, %v", list, err)
	}
	cam := list[0]

	// Viewers see, but cannot start, acknowledge or resolve.
	v := e.browser()
	v.signIn(e.viewer)
	p = v.get("/scans")
	wantContains(t, p.body, "New device seen")
	wantNotContains(t, p.body, `name="cidr"`, "Mark seen")
	if p := v.post("/scans", url.Values{"csrf": {v.csrf}, "cidr": {"10.9.0.0/24"}}); p.status != http.StatusForbidden {
		t.Errorf("viewer starting a scan: status %d", p.status)
	}

	// Mark the new device seen.
	ack := regexp.MustCompile(`action="(/alerts/\d+/ack)"`).FindStringSubmatch(b.get("/scans").body)
	if ack == nil {
		t.Fatal("no ack form")
	}
	if p := b.post(ack[1], url.Values{"csrf": {"bad"}}); p.status != http.StatusForbidden {
		t.Errorf("ack without CSRF: status %d", p.status)
	}
	if p := b.post(ack[1], url.Values{"csrf": {b.csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("ack: status %d", p.status)
	}
	wantContains(t, b.get("/scans").body, "Marked as seen", "No new devices waiting")

	// A person names the model; the next scan proposes its own: review.
	model := "P3225-LV Mk II (lobby)"
	if _, err := e.devices.UpdateDevice(context.Background(), cam.ID, firmward.DeviceUpdate{Model: &model}); err != nil {
		t.Fatal(err)
	}
	rep, _ := fakeScan(context.Background(), firmward.ScanRequest{CIDR: "10.9.0.0/24"})
	if run, err := e.runner.Import(context.Background(), "home", rep); err != nil || run.Conflicts != 1 {
		t.Fatalf("second scan: %+v, %v", run, err)
	}
	p = b.get("/scans")
	wantContains(t, p.body, "Conflicts to review", "P3225-LV Mk II (lobby)", "upnp description")
	accept := regexp.MustCompile(`action="(/conflicts/\d+/accept)"`).FindStringSubmatch(p.body)
	if accept == nil {
		t.Fatal("no accept form")
	}
	if p := v.post(accept[1], url.Values{"csrf": {v.csrf}}); p.status != http.StatusForbidden {
		t.Errorf("viewer accepting: status %d", p.status)
	}
	if p := b.post(accept[1], url.Values{"csrf": {b.csrf}}, "Origin", "https://evil.example"); p.status != http.StatusForbidden {
		t.Errorf("cross-origin accept: status %d", p.status)
	}
	if d, _ := e.devices.FindDeviceByID(context.Background(), cam.ID); d.Model != model {
		t.Fatalf("refused requests changed the model to %q", d.Model)
	}
	if p := b.post(accept[1], url.Values{"csrf": {b.csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("accept: status %d: %s", p.status, p.body)
	}
	if d, _ := e.devices.FindDeviceByID(context.Background(), cam.ID); d.Model != "P3225-LV" {
		t.Errorf("accepted model %q", d.Model)
	}
	wantContains(t, b.get("/scans").body, "model is now", "No conflicts")
	if p := b.post(accept[1], url.Values{"csrf": {b.csrf}}); p.status != http.StatusSeeOther {
		t.Errorf("accepting twice: status %d", p.status)
	}
	wantContains(t, b.get("/scans").body, "already accepted")
	if p := b.get("/scans/999"); p.status != http.StatusNotFound {
		t.Errorf("unknown scan: status %d", p.status)
	}
}

func TestScansPageWithoutDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	if p := b.get("/scans"); p.status != http.StatusNotFound {
		t.Errorf("status %d", p.status)
	} else {
		wantContains(t, p.body, "without network discovery")
	}
}
