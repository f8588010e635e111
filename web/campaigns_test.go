package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// campaignEnv is a web UI over a fresh SQLite database with the campaign
// pages on, and an admin token.
func campaignEnv(t *testing.T) (*env, *sqlstore.ReleaseService, *sqlstore.DeliveryService, *sqlstore.CampaignService) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{
		t: t, devices: sqlstore.NewDeviceService(db), tokens: sqlstore.NewTokenService(db), sessions: sqlstore.NewSessionService(db),
		audit: sqlstore.NewAuditService(db), findings: sqlstore.NewFindingService(db),
	}
	releases, delivery, campaigns := sqlstore.NewReleaseService(db), sqlstore.NewDeliveryService(db), sqlstore.NewCampaignService(db)
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		Campaigns: &web.CampaignConfig{Campaigns: campaigns, Releases: releases, Delivery: delivery, Policy: rollout.DefaultPolicy()},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	if _, e.admin, err = e.tokens.CreateToken(t.Context(), "alice", firmward.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	return e, releases, delivery, campaigns
}

// TestCampaignPageLargeLists checks that the campaign page lists only the
// first manual tasks of a large campaign and says how many there are.
func TestCampaignPageLargeLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, releases, _, campaigns := campaignEnv(t)
	opCtx := firmward.WithActor(ctx, firmward.Actor{Kind: "token", ID: 1, Name: "alice"})
	rel := &firmward.Release{Manufacturer: "Acme", Models: []string{"Cam 1"}, Version: "2.0", Artifacts: []firmward.ReleaseArtifact{{Name: "cam.bin", URL: "https://vendor.example/cam.bin"}}}
	if err := releases.CreateRelease(opCtx, rel); err != nil {
		t.Fatal(err)
	}
	rows := make([]firmward.ImportRow, 205)
	for i := range rows {
		rows[i] = firmward.ImportRow{Line: i + 2, Device: firmward.Device{Name: "cam " + itoa(int64(i)), Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0", UpdateMechanism: firmward.UpdateWebAdmin}}
	}
	if _, err := e.devices.ImportDevices(opCtx, rows, firmward.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	c := &firmward.Campaign{Name: "many", ReleaseID: rel.ID}
	if err := campaigns.CreateCampaign(opCtx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.ChangeCampaign(opCtx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	runner := &rollout.Runner{Campaigns: campaigns, Releases: releases, Devices: e.devices, Policy: rollout.DefaultPolicy()}
	for range 5 {
		if _, err := runner.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	b.signIn(e.admin)
	p := b.get("/campaigns/" + itoa(c.ID))
	wantContains(t, p.body, "Manual tasks", "The first 200 of 205 devices with a task", "--state task")
	if n := strings.Count(p.body, "Update cam "); n != 200 {
		t.Errorf("%d tasks listed, want the first 200", n)
	}
}

// TestCampaignPages shows the campaign list and page (waves, failures
// with the device's log, tasks) and drives approve, start, pause and
// resume through the buttons, each for the right role.
func TestCampaignPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, releases, delivery, campaigns := campaignEnv(t)
	var operator string
	var err error
	if _, operator, err = e.tokens.CreateToken(ctx, "olga", firmward.RoleOperator); err != nil {
		t.Fatal(err)
	}
	opCtx := firmward.WithActor(ctx, firmward.Actor{Kind: "token", ID: 2, Name: "olga"})
	rel := &firmward.Release{Manufacturer: "Acme", Models: []string{"Cam 1"}, Version: "2.0", Artifacts: []firmward.ReleaseArtifact{{Name: "cam.bin", URL: "https://vendor.example/cam.bin"}}}
	if err := releases.CreateRelease(opCtx, rel); err != nil {
		t.Fatal(err)
	}
	cam := e.addDevice(firmward.Device{Name: "porch cam", Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0", UpdateMechanism: firmward.UpdateAgent})
	e.addDevice(firmward.Device{Name: "old cam", Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0", UpdateMechanism: firmward.UpdateNone})
	c := &firmward.Campaign{Name: "cams", ReleaseID: rel.ID, RequireApproval: true}
	if err := campaigns.CreateCampaign(opCtx, c); err != nil {
		t.Fatal(err)
	}
	path := "/campaigns/" + itoa(c.ID)

	op := e.browser()
	op.signIn(operator)
	wantContains(t, op.get("/campaigns").body, "cams", "draft", "needed")
	p := op.get(path)
	wantContains(t, p.body, "approval needed", "Start", "staging")
	wantNotContains(t, p.body, ">Approve<")
	if p = op.post(path+"/approve", url.Values{"csrf": {op.csrf}}); p.status != http.StatusForbidden {
		t.Fatalf("operator approve: %d", p.status)
	}
	op.post(path+"/start", url.Values{"csrf": {op.csrf}})
	wantContains(t, op.get(path).body, "Not done", "needs an approval")

	admin := e.browser()
	admin.signIn(e.admin)
	wantContains(t, admin.get(path).body, ">Approve<")
	if p = admin.post(path+"/approve", url.Values{"csrf": {admin.csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("admin approve: %d %s", p.status, p.body)
	}
	op.get(path)
	if p = op.post(path+"/start", url.Values{"csrf": {op.csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d", p.status)
	}
	runner := &rollout.Runner{Campaigns: campaigns, Releases: releases, Devices: e.devices, Policy: rollout.DefaultPolicy()}
	for range 3 {
		if _, err := runner.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	members, err := campaigns.CampaignMembers(ctx, c.ID)
	if err != nil || len(members) != 2 {
		t.Fatalf("members = %v, %v", members, err)
	}
	var actionID int64
	for _, m := range members {
		if m.DeviceID == cam.ID {
			actionID = m.ActionID
		}
	}
	if _, err := delivery.AddFeedback(ctx, cam.ID, actionID, &firmward.ActionFeedback{Execution: firmward.ExecClosed, Finished: firmward.ResultFailure, Details: []string{"flash write error at 0x4000"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	p = op.get(path)
	wantContains(t, p.body, "paused", "Failures", "porch cam", "flash write error at 0x4000", "Isolate or replace old cam", "<progress", "Resume")
	if p = op.post(path+"/resume", url.Values{"csrf": {op.csrf}, "reason": {"known bad unit"}}); p.status != http.StatusSeeOther {
		t.Fatalf("resume: %d", p.status)
	}
	wantContains(t, op.get(path).body, "resume done", "running", "known bad unit")
	if !strings.Contains(op.get("/campaigns").body, "Campaigns") {
		t.Fatal("no nav entry")
	}
}
