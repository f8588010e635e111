package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
	"github.com/firmward/firmward/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
)

// newNACEnv is newEnv with the NAC routes enabled over the same database,
// with a reconciler (no CoA or webhook) behind them.
func newNACEnv(t *testing.T) (*env, *sqlstore.NACService, *atomic.Int32) {
	t.Helper()
	e := newEnv(t)
	store, err := sqlstore.NewNACService(e.db, sqlstore.NACOptions{SecretKey: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	rec := nac.NewReconciler(nac.ReconcilerConfig{Store: store})
	policyChanges := new(atomic.Int32)
	e.srv = NewServer(Config{
		Devices: e.devices, Tokens: e.tokens, Audit: e.audit, Vulns: e.vulns, Findings: e.finds, Registry: prometheus.NewRegistry(),
		NAC: &NACConfig{Store: store, Reconcile: func(ctx context.Context, ids ...int64) error {
			_, err := rec.Reconcile(ctx, ids...)
			return err
		}, PolicyChanged: func() { policyChanges.Add(1) }},
	})
	e.ts.Close()
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	return e, store, policyChanges
}

func TestNACRoutes(t *testing.T) {
	t.Parallel()
	e, store, policyChanges := newNACEnv(t)
	ctx := t.Context()
	cam := e.mustCreate(t, firmward.Device{
		Name: "garage camera", Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium,
		MACs: []string{"02:00:00:00:00:01"}, IPs: []string{"10.0.0.21"}, Site: "hq",
	})
	pump := e.mustCreate(t, firmward.Device{
		Name: "infusion pump", Category: firmward.CategoryMedical, Criticality: firmward.CriticalitySafetyCritical,
		MACs: []string{"02:00:00:00:00:02"}, Site: "hq",
	})
	due := time.Now().AddDate(0, 0, -3)
	for _, id := range []int64{cam.ID, pump.ID} {
		f := firmward.Finding{
			CVE: "CVE-2017-7921", Certain: true, Decision: firmward.DecisionImmediate, KEV: true, DueDate: &due,
			Evidence: firmward.Evidence{Source: "nvd", Reason: "test"},
		}
		if _, err := e.finds.SyncDeviceFindings(ctx, id, []firmward.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	admin, operator, viewer := e.client(firmward.RoleAdmin), e.client(firmward.RoleOperator), e.client(firmward.RoleViewer)

	// The site policy: default monitor, then enforce with subnets (admin only).
	p, err := viewer.SiteNAC(ctx, "hq")
	if err != nil || p.Mode != nac.ModeMonitor {
		t.Fatalf("default policy %+v %v", p, err)
	}
	p.Mode = nac.ModeEnforce
	p.Subnets = map[string]string{nac.SegmentIoT: "10.30.0.0/24", nac.SegmentDefault: "10.0.0.0/24"}
	if _, err := operator.SetSiteNAC(ctx, *p); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("operator set the policy: %v", err)
	}
	if _, err := admin.SetSiteNAC(ctx, *p); err != nil {
		t.Fatal(err)
	}
	if n := policyChanges.Load(); n != 1 {
		t.Errorf("%d whole passes asked for after the policy change, want 1", n)
	}
	bad := *p
	bad.Mode = "loud"
	if _, err := admin.SetSiteNAC(ctx, bad); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("bad policy: %v", err)
	}
	if r := e.do(t, http.MethodPut, "/api/v1/sites/hq/nac", firmward.RoleAdmin, `{"site":"other","mode":"monitor"}`); r.status != http.StatusBadRequest {
		t.Errorf("mismatched site: %d %s", r.status, r.body)
	}

	// Quarantine by hand, release, exempt, approve.
	res, err := operator.NACAction(ctx, "quarantine", cam.ID, NACActionRequest{Reason: "tampered with"})
	if err != nil || !res.Decision.Enforced || res.State.Manual == nil || !res.State.Enforced {
		t.Fatalf("quarantine: %+v %v", res, err)
	}
	res, err = operator.NACAction(ctx, "release", cam.ID, NACActionRequest{Reason: "checked"})
	if err != nil || !res.Decision.Enforced || !strings.Contains(res.Warning, "automatic rule still holds") {
		t.Errorf("release with the rule still holding: %+v %v", res, err)
	}
	if _, err := operator.NACAction(ctx, "release", cam.ID, NACActionRequest{}); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Errorf("second release: %v", err)
	}
	if _, err := operator.NACAction(ctx, "quarantine", 999999, NACActionRequest{Reason: "x"}); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := operator.NACAction(ctx, "quarantine", cam.ID, NACActionRequest{}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("no reason: %v", err)
	}
	if _, err := operator.NACAction(ctx, "approve", pump.ID, NACActionRequest{Reason: "ok"}); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("operator approved: %v", err)
	}
	res, err = admin.NACAction(ctx, "approve", pump.ID, NACActionRequest{Reason: "biomed approved"})
	if err != nil || !res.Decision.Enforced {
		t.Errorf("approve: %+v %v", res, err)
	}
	res, err = operator.NACAction(ctx, "exempt", cam.ID, NACActionRequest{Reason: "patch Friday", Owner: "bob", Until: time.Now().Add(time.Hour)})
	if err != nil || res.Decision.Quarantine || res.Decision.Exempt == "" || res.State.Enforced {
		t.Errorf("exempt: %+v %v", res, err)
	}

	st, err := viewer.NACStatus(ctx, "hq")
	if err != nil {
		t.Fatal(err)
	}
	if st.Quarantined != 1 || st.Exempt != 1 || len(st.Devices) != 2 || len(st.Policies) != 1 || len(st.Events) == 0 {
		t.Errorf("status %+v", st)
	}
	if len(st.Violations) != 1 || st.Violations[0].DeviceID != cam.ID || st.Violations[0].Actual != nac.SegmentDefault {
		t.Errorf("violations %+v, want the camera on the default network", st.Violations)
	}

	var out bytes.Buffer
	if err := viewer.NFT(ctx, "", "", []string{"10.0.0.1"}, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "elements = { 02:00:00:00:00:02 }") || strings.Contains(s, "02:00:00:00:00:01") ||
		!strings.Contains(s, "10.0.0.1/32") {
		t.Errorf("nft (pump quarantined, camera exempt):\n%s", s)
	}
	out.Reset()
	if err := viewer.NFT(ctx, "uci", "", nil, &out); err != nil || !strings.Contains(out.String(), "list entry '02:00:00:00:00:02'") {
		t.Errorf("uci (%v):\n%s", err, out.String())
	}
	if r := e.do(t, http.MethodGet, "/api/v1/nac/nft?allow=nonsense", firmward.RoleViewer, ""); r.status != http.StatusBadRequest {
		t.Errorf("bad allow: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodGet, "/api/v1/nac/nft?format=pdf", firmward.RoleViewer, ""); r.status != http.StatusBadRequest {
		t.Errorf("bad format: %d %s", r.status, r.body)
	}
	if _, err := store.NACState(ctx, cam.ID); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.audit.VerifyAudit(ctx); err != nil || !rep.OK {
		t.Errorf("audit: %+v %v", rep, err)
	}
}

func TestNACRoutesDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(t, http.MethodGet, "/api/v1/nac/status", firmward.RoleViewer, "")
	if r.status != http.StatusNotFound || !strings.Contains(r.apiError(t).Message, "not enabled") {
		t.Errorf("status %d %s", r.status, r.body)
	}
}
