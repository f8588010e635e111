package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// newNACEnv is newEnv with the quarantine page, an operator token, a
// camera with an overdue KEV finding and a safety-critical pump with the
// same, on site hq in enforce mode.
func newNACEnv(t *testing.T) (e *env, store *sqlstore.NACService, operator string, cam, pump int64, reconciled *[]int64) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e = &env{
		t: t, devices: sqlstore.NewDeviceService(db), tokens: sqlstore.NewTokenService(db), sessions: sqlstore.NewSessionService(db),
		audit: sqlstore.NewAuditService(db), findings: sqlstore.NewFindingService(db),
	}
	if store, err = sqlstore.NewNACService(db, sqlstore.NACOptions{SecretKey: bytes.Repeat([]byte{3}, 32)}); err != nil {
		t.Fatal(err)
	}
	rec := nac.NewReconciler(nac.ReconcilerConfig{Store: store})
	reconciled = new([]int64)
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		NAC: &web.NACConfig{Store: store, Reconcile: func(ctx context.Context, ids ...int64) error {
			*reconciled = append(*reconciled, ids...)
			_, err := rec.Reconcile(ctx, ids...)
			return err
		}},
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
	if _, operator, err = e.tokens.CreateToken(ctx, "olga", firmward.RoleOperator); err != nil {
		t.Fatal(err)
	}
	cam = e.addDevice(firmward.Device{Name: "garage camera", Category: firmward.CategoryCamera, MACs: []string{"02:00:00:00:00:01"}, IPs: []string{"10.0.0.21"}, Site: "hq"}).ID
	pump = e.addDevice(firmward.Device{Name: "infusion pump", Category: firmward.CategoryMedical, Criticality: firmward.CriticalitySafetyCritical, MACs: []string{"02:00:00:00:00:02"}, Site: "hq"}).ID
	due := time.Now().AddDate(0, 0, -3)
	for _, id := range []int64{cam, pump} {
		f := firmward.Finding{
			CVE: "CVE-2017-7921", Certain: true, Decision: firmward.DecisionImmediate, KEV: true, DueDate: &due,
			Evidence: firmward.Evidence{Source: "nvd", Reason: "test"},
		}
		if _, err := e.findings.SyncDeviceFindings(ctx, id, []firmward.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	p := nac.EnterprisePolicy("hq")
	p.Mode = nac.ModeEnforce
	if err := store.SetSitePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.All(ctx); err != nil {
		t.Fatal(err)
	}
	return e, store, operator, cam, pump, reconciled
}

func TestNACPage(t *testing.T) {
	t.Parallel()
	e, store, operator, cam, pump, reconciled := newNACEnv(t)
	ctx := context.Background()

	viewer := e.browser()
	viewer.signIn(e.viewer)
	p := viewer.get("/nac")
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	wantContains(t, p.body, "Quarantine</a>", "garage camera", "infusion pump", "quarantined", "needs-approval",
		"CVE-2017-7921", "a person must approve", "Site settings", "enforce mode")
	wantNotContains(t, p.body, `action="/nac/devices/`, `action="/nac/sites"`) // a viewer gets no buttons
	if got := p.header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") {
		t.Errorf("CSP %q", got)
	}
	if r := viewer.post("/nac/quarantine", url.Values{"csrf": {viewer.csrf}, "id": {itoa(cam)}, "reason": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("viewer quarantined: %d", r.status)
	}

	op := e.browser()
	op.signIn(operator)
	p = op.get("/nac")
	wantContains(t, p.body, `action="/nac/devices/`+itoa(cam)+`/exempt"`, `action="/nac/quarantine"`)
	wantNotContains(t, p.body, `/approve"`, `action="/nac/sites"`) // approval and settings are for admins
	if r := op.post("/nac/devices/"+itoa(pump)+"/approve", url.Values{"csrf": {op.csrf}, "reason": {"ok"}}); r.status != http.StatusForbidden {
		t.Errorf("operator approved: %d", r.status)
	}
	if r := op.post("/nac/devices/"+itoa(cam)+"/exempt", url.Values{"reason": {"patch"}, "owner": {"bob"}, "until": {"2099-01-01"}}); r.status != http.StatusForbidden {
		t.Errorf("without CSRF: %d", r.status)
	}
	r := op.post("/nac/devices/"+itoa(cam)+"/exempt", url.Values{
		"csrf": {op.csrf}, "reason": {"vendor patch Friday"}, "owner": {"bob"},
		"until": {time.Now().AddDate(0, 0, 3).Format(time.DateOnly)},
	})
	if r.status != http.StatusSeeOther || r.location() != "/nac" {
		t.Fatalf("exempt: %d %s", r.status, r.body)
	}
	p = op.get("/nac")
	wantContains(t, p.body, "exempt until", "vendor patch Friday", "exempt</span>")
	if st, _ := store.NACState(ctx, cam); st.Exemption == nil || st.Exemption.Owner != "bob" || st.Enforced {
		t.Errorf("camera state after the exemption: %+v", st)
	}
	r = op.post("/nac/devices/"+itoa(cam)+"/exempt", url.Values{"csrf": {op.csrf}, "reason": {"x"}, "owner": {"bob"}, "until": {"2001-01-01"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("past exemption: %d", r.status)
	}
	wantContains(t, op.get("/nac").body, "Not done: ", "must be in the future")

	admin := e.browser()
	admin.signIn(e.admin)
	wantContains(t, admin.get("/nac").body, `/approve"`, `action="/nac/sites"`)
	if r := admin.post("/nac/devices/"+itoa(pump)+"/approve", url.Values{"csrf": {admin.csrf}, "reason": {"biomed: spare pump"}}); r.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	if st, _ := store.NACState(ctx, pump); st.Approval == nil || !st.Enforced {
		t.Errorf("pump after approval: %+v", st)
	}
	form := url.Values{
		"csrf": {admin.csrf}, "site": {"hq"}, "mode": {"monitor"}, "quarantine_vlan": {"666"}, "unknown_action": {"reject"},
		"overdue": {"on"}, "overdue_level": {"Immediate"}, "overdue_kev": {"on"}, "vlans": {"iot=30\ndefault=10\nmedical=40\n"},
		"subnets": {"default=10.0.0.0/24\niot=10.30.0.0/24\n"},
	}
	if r := admin.post("/nac/sites", form); r.status != http.StatusSeeOther {
		t.Fatalf("site settings: %d %s", r.status, r.body)
	}
	pol, err := store.SitePolicy(ctx, "hq")
	if err != nil || pol.Mode != nac.ModeMonitor || pol.Unknown.Action != nac.UnknownReject || pol.Rules.KEVInternetFacing || pol.Subnets["iot"] != "10.30.0.0/24" {
		t.Errorf("stored policy %+v %v", pol, err)
	}
	form.Set("vlans", "iot")
	admin.post("/nac/sites", form)
	wantContains(t, admin.get("/nac").body, "Not saved: VLAN lines must read segment=VLAN")

	// The pump is now reported as what monitor mode would do; the camera
	// (exempt, on the default network) is a segment violation.
	if _, err := nac.NewReconciler(nac.ReconcilerConfig{Store: store}).All(ctx); err != nil {
		t.Fatal(err)
	}
	p = admin.get("/nac")
	wantContains(t, p.body, "would-quarantine", "enforce mode would move it to quarantine VLAN 666", "Segment violations", "10.0.0.21")
	if r := op.post("/nac/quarantine", url.Values{"csrf": {op.csrf}, "id": {"999999"}, "reason": {"x"}}); r.status != http.StatusSeeOther {
		t.Errorf("unknown device: %d", r.status)
	}
	wantContains(t, op.get("/nac").body, "Not done: ", "not found")
	if len(*reconciled) < 2 {
		t.Errorf("reconciled %v: each action should tell the network", *reconciled)
	}
}

func TestNACPageDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.viewer)
	if p := b.get("/nac"); p.status != http.StatusNotFound || !strings.Contains(p.body, "without network access control") {
		t.Errorf("status %d", p.status)
	}
}
