package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/agentapi"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/sqlstore"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testAgent is a small firmward-agent: it polls the agent API with its
// firmware version and reports a result for the action it is offered.
type testAgent struct {
	t       *testing.T
	base    string
	secret  string
	version string
}

func (a *testAgent) post(path string, in, out any) int {
	a.t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			a.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// poll returns the action offered, or nil.
func (a *testAgent) poll() *agentapi.Action {
	a.t.Helper()
	var out agentapi.PollResponse
	if code := a.post(agentapi.Prefix+"poll", agentapi.PollRequest{FirmwareVersion: a.version, UptimeSeconds: 60}, &out); code != http.StatusOK {
		a.t.Fatalf("poll: HTTP %d", code)
	}
	return out.Action
}

// install polls, and when offered an action reports progress and then
// result; on success the agent runs the new version. It reports whether
// there was an action.
func (a *testAgent) install(result string) bool {
	a.t.Helper()
	act := a.poll()
	if act == nil {
		return false
	}
	path := agentapi.Prefix + "actions/" + strconv.FormatInt(act.ID, 10) + "/feedback"
	if code := a.post(path, agentapi.Feedback{Execution: firmward.ExecProceeding, Details: []string{"downloading"}}, nil); code != http.StatusOK {
		a.t.Fatalf("progress feedback: HTTP %d", code)
	}
	if code := a.post(path, agentapi.Feedback{Execution: firmward.ExecClosed, Finished: result, Details: []string{"install " + result}}, nil); code != http.StatusOK {
		a.t.Fatalf("final feedback: HTTP %d", code)
	}
	if result == firmward.ResultSuccess {
		a.version = act.Version
		a.poll() // reports the new version
	}
	return true
}

// TestCampaignAgentEndToEnd runs a campaign with a staging ring and two
// waves over devices that talk to the agent API on loopback, with the
// runner on an injected clock: wave 2 starts only once wave 1 meets its
// threshold, and failures beyond wave 2's error threshold pause it.
func TestCampaignAgentEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 1, Name: "admin", Role: firmward.RoleAdmin})
	clock := &testClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "firmward.db"), sqlstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := artifact.Open(filepath.Join(dir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sums, err := store.Put(ctx, strings.NewReader(strings.Repeat("image", 1000)), "")
	if err != nil {
		t.Fatal(err)
	}
	devices, releases, delivery, campaigns := sqlstore.NewDeviceService(db), sqlstore.NewReleaseService(db), sqlstore.NewDeliveryService(db), sqlstore.NewCampaignService(db)
	rel := &firmward.Release{
		Manufacturer: "Acme", Models: []string{"Cam 1"}, Version: "2.0", ReleaseDate: "2026-02-01",
		Artifacts: []firmward.ReleaseArtifact{{Name: "cam.swu", SHA256: sums.SHA256, SHA1: sums.SHA1, MD5: sums.MD5, Size: sums.Size}},
	}
	if err := releases.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	api, err := agentapi.New(agentapi.Config{Releases: releases, Delivery: delivery, Devices: devices, Artifacts: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	// One staging device, then wave 1 (2 devices) and wave 2 (4 devices).
	agents := map[string]*testAgent{}
	ids := map[string]int64{}
	for i, name := range []string{"stage", "w1a", "w1b", "w2a", "w2b", "w2c", "w2d"} {
		d := &firmward.Device{Name: name, Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0", UpdateMechanism: firmward.UpdateAgent, Category: firmward.CategoryCamera}
		if i == 0 {
			d.Tags = []string{"staging"}
		}
		if err := devices.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		_, secret, err := delivery.CreateDeviceToken(ctx, d.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		agents[name], ids[name] = &testAgent{t: t, base: srv.URL, secret: secret, version: "1.0"}, d.ID
	}
	c := &firmward.Campaign{
		Name: "cams", ReleaseID: rel.ID, Target: firmward.CampaignTarget{Manufacturer: "acme", Model: "Cam 1"}, ActionTimeoutSeconds: 3600,
		Waves: []firmward.WaveSpec{
			{Count: 2, SuccessThreshold: 100, ErrorThreshold: 50},
			{Percent: 100, SuccessThreshold: 75, ErrorThreshold: 25, OnError: firmward.OnErrorPause},
		},
	}
	if err := campaigns.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.ChangeCampaign(ctx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	runner := &rollout.Runner{Campaigns: campaigns, Releases: releases, Devices: devices, Policy: rollout.DefaultPolicy(), Now: clock.Now}
	tick := func() *firmward.Campaign {
		t.Helper()
		for range 5 {
			n, err := runner.Tick(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		got, err := campaigns.FindCampaignByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	offered := func(names ...string) {
		t.Helper()
		for name, a := range agents {
			want := false
			for _, n := range names {
				want = want || n == name
			}
			if got := a.poll() != nil; got != want {
				t.Fatalf("device %s offered an action: %v, want %v", name, got, want)
			}
		}
	}

	if got := tick(); got.CurrentWave != 0 || got.Status != firmward.CampaignRunning {
		t.Fatalf("after start: wave %d, %s", got.CurrentWave, got.Status)
	}
	offered("stage")
	agents["stage"].install(firmward.ResultSuccess)
	clock.advance(time.Minute)
	if got := tick(); got.CurrentWave != 1 {
		t.Fatalf("after the staging ring: wave %d", got.CurrentWave)
	}
	offered("w1a", "w1b")
	agents["w1a"].install(firmward.ResultSuccess)
	clock.advance(time.Minute)
	if got := tick(); got.CurrentWave != 1 {
		t.Fatal("wave 2 started with wave 1 at 1 of 2 (threshold 100%)")
	}
	offered("w1b")
	agents["w1b"].install(firmward.ResultSuccess)
	clock.advance(time.Minute)
	if got := tick(); got.CurrentWave != 2 {
		t.Fatalf("wave 1 done, yet wave %d", got.CurrentWave)
	}
	offered("w2a", "w2b", "w2c", "w2d")
	agents["w2a"].install(firmward.ResultSuccess)
	agents["w2b"].install(firmward.ResultFailure)
	clock.advance(time.Minute)
	if got := tick(); got.Status != firmward.CampaignRunning {
		t.Fatalf("one failure of four (threshold 25%%) paused: %s", got.StatusReason)
	}
	agents["w2c"].install(firmward.ResultFailure)
	clock.advance(time.Minute)
	got := tick()
	if got.Status != firmward.CampaignPaused || !strings.Contains(got.StatusReason, "2 of 4 failed") {
		t.Fatalf("two failures of four: %s (%s)", got.Status, got.StatusReason)
	}
	// Paused: the last device keeps its action (it was started), and the
	// updated devices run 2.0 as their agents reported.
	if d, err := devices.FindDeviceByID(ctx, ids["w1a"]); err != nil || d.FirmwareVersion != "2.0" {
		t.Fatalf("w1a = %+v, %v", d, err)
	}
	members, err := campaigns.CampaignMembers(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	rep := rollout.Summarize(got, rel, members, rollout.DefaultPolicy())
	want := []rollout.WaveStats{
		{Wave: 0, Devices: 1, Succeeded: 1},
		{Wave: 1, Devices: 2, Succeeded: 2},
		{Wave: 2, Devices: 4, Succeeded: 1, Failed: 2, Open: 1},
	}
	if fmt.Sprint(rep.Waves) != fmt.Sprint(want) {
		t.Fatalf("waves = %+v, want %+v", rep.Waves, want)
	}
	// The operator resumes, accepting the two failures; the last device
	// stays silent and times out an hour later: a third failure pauses
	// again (3 - 2 accepted = 1 of 4 is within 25 %, so it finishes).
	if _, err := campaigns.ChangeCampaign(ctx, c.ID, firmward.OpResume, "two known bad units"); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Hour)
	got = tick()
	if got.Status != firmward.CampaignFinished {
		t.Fatalf("after the timeout: %s (%s)", got.Status, got.StatusReason)
	}
	if a := agents["w2d"].poll(); a != nil {
		t.Fatalf("timed-out action still offered: %+v", a)
	}
}

// TestCampaignCLI drives campaigns and tasks through the CLI against
// `firmward serve` with a fast runner: approval by another token, the
// status with wave bars, a task for a web-admin device that closes when
// its version is edited, and a one-step rollback.
func TestCampaignCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--campaign-interval", "20ms")

	var old, rel firmward.Release
	s.okJSON(t, &old, "release", "add", "--manufacturer", "Acme", "--model", "Router 1", "--version", "1.0", "--url", "https://vendor.example/fw/r-1.0.bin", "--release-date", "2020-01-01")
	s.okJSON(t, &rel, "release", "add", "--manufacturer", "Acme", "--model", "Router 1", "--version", "2.0", "--url", "https://vendor.example/fw/r-2.0.bin", "--release-date", "2020-06-01")
	var web, agent firmward.Device
	s.okJSON(t, &web, "device", "add", "--name", "edge", "--manufacturer", "Acme", "--model", "Router 1", "--firmware-version", "1.0",
		"--category", "network-infrastructure", "--update-mechanism", "web-admin", "--ip", "192.0.2.1")
	s.okJSON(t, &agent, "device", "add", "--name", "core", "--manufacturer", "Acme", "--model", "Router 1", "--firmware-version", "1.0",
		"--category", "network-infrastructure", "--update-mechanism", "agent")

	s.fails(t, exitUsage, "campaign", "create", "--name", "x")
	var c firmward.Campaign
	s.okJSON(t, &c, "campaign", "create", "--name", "routers", "--release", strconv.FormatInt(rel.ID, 10), "--category", "network-infrastructure",
		"--wave", "50%", "--assignee", "alice", "--window-cron", "0 2 * * *", "--window-duration", "2h", "--window-tz", "Europe/Berlin")
	if !c.RequireApproval || c.Status != firmward.CampaignDraft {
		t.Fatalf("network infrastructure campaign = %+v", c)
	}
	id := strconv.FormatInt(c.ID, 10)
	r := s.fails(t, exitFailure, "campaign", "start", id)
	mustContain(t, "start unapproved", r.stderr, "approval")
	r = s.fails(t, exitFailure, "campaign", "approve", id)
	mustContain(t, "self-approval", r.stderr, "another token")

	var tok struct {
		Secret string `json:"secret"`
	}
	s.okJSON(t, &tok, "token", "create", "--name", "bob", "--role", "admin")
	r = cli(t, nil, false, "--server", s.URL, "--token", tok.Secret, "campaign", "approve", id)
	if r.code != 0 {
		t.Fatalf("approve: %d %s", r.code, r.stderr)
	}
	mustContain(t, "approve", r.stdout, "approved by token:", "(bob)")
	mustContain(t, "start", s.ok(t, "campaign", "start", id), "running")

	// The runner plans and starts the waves: the agent device gets an
	// action inside the Berlin window, the web-admin one a task.
	var tasks httpapi.TaskList
	deadline := time.Now().Add(20 * time.Second)
	for len(tasks.Tasks) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		s.okJSON(t, &tasks, "task", "list", "--campaign", id)
	}
	if len(tasks.Tasks) != 1 || tasks.Tasks[0].DeviceID != web.ID || tasks.Tasks[0].Assignee != "alice" {
		t.Fatalf("tasks = %+v", tasks.Tasks)
	}
	task := strconv.FormatInt(tasks.Tasks[0].ID, 10)
	mustContain(t, "task list", s.ok(t, "task", "list", "--assignee", "alice"), "Update edge to Acme 2.0", "https://192.0.2.1/", "r-2.0.bin")
	mustContain(t, "status", s.ok(t, "campaign", "status", id, "--members"), "routers", "approved:", "staging", "wave 1", "[", "devices", "tasks 1 (1 open)", "Europe/Berlin")
	mustContain(t, "assign", s.ok(t, "task", "assign", task, "--to", "carol", "--due", "2030-01-31"), "carol", "2030-01-31")
	r = s.fails(t, exitFailure, "task", "close", task)
	mustContain(t, "early close", r.stderr, "not 2.0 yet")
	// The version is edited: the runner closes the task by itself.
	s.ok(t, "device", "edit", strconv.FormatInt(web.ID, 10), "--firmware-version", "2.0")
	for time.Now().Before(deadline) {
		s.okJSON(t, &tasks, "task", "list", "--campaign", id)
		if tasks.Tasks[0].Status == firmward.TaskClosed {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if tasks.Tasks[0].Status != firmward.TaskClosed || tasks.Tasks[0].ObservedVersion != "2.0" {
		t.Fatalf("task after the edit = %+v", tasks.Tasks[0])
	}
	// Nothing was installed by the agent device yet: nothing to roll back.
	r = s.fails(t, exitFailure, "campaign", "rollback", id)
	mustContain(t, "rollback", r.stderr, "nothing to roll back")
	// The agent device installs 2.0 through the agent API; then a one-step
	// rollback cancels the campaign and offers it 1.0.
	var dt httpapi.DeviceTokenCreated
	s.okJSON(t, &dt, "device", "token", strconv.FormatInt(agent.ID, 10))
	core := &testAgent{t: t, base: s.URL, secret: dt.Secret, version: "1.0"}
	var act *agentapi.Action
	for act == nil && time.Now().Before(deadline) {
		if act = core.poll(); act == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if act == nil || act.Version != "2.0" || act.InstallAllowed && act.MaintenanceWindow == nil {
		t.Fatalf("core was offered %+v", act)
	}
	core.install(firmward.ResultSuccess)
	var rb firmward.Campaign
	s.okJSON(t, &rb, "campaign", "rollback", id)
	if rb.Kind != firmward.CampaignRollback || rb.RollbackOf != c.ID || rb.ReleaseID != old.ID || rb.Status != firmward.CampaignRunning ||
		len(rb.Target.DeviceIDs) != 1 || rb.Target.DeviceIDs[0] != agent.ID {
		t.Fatalf("rollback campaign = %+v", rb)
	}
	act = nil
	for act == nil && time.Now().Before(deadline) {
		if act = core.poll(); act == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if act == nil || act.Version != "1.0" || act.Type != firmward.ActionForced {
		t.Fatalf("after the rollback core was offered %+v", act)
	}
	// The campaign is final: canceled by the rollback, or finished by the
	// runner first (its one pushed device succeeded).
	s.fails(t, exitFailure, "campaign", "cancel", id)
	var after httpapi.CampaignReport
	s.okJSON(t, &after, "campaign", "status", id)
	if !after.Campaign.Status.Final() {
		t.Fatalf("rolled-back campaign is %s", after.Campaign.Status)
	}
	mustContain(t, "list", s.ok(t, "campaign", "list"), "routers", "(bob)", "rollback of routers", "running")
	// Members page by page from the server, by state.
	var tasked []*firmward.CampaignMember
	s.okJSON(t, &tasked, "campaign", "members", id, "--state", "task")
	if len(tasked) != 1 || tasked[0].DeviceID != web.ID || tasked[0].Task == nil {
		t.Fatalf("campaign members --state task = %+v, want the web-admin device with its task", tasked)
	}
	var everyone []*firmward.CampaignMember
	s.okJSON(t, &everyone, "campaign", "members", id)
	if len(everyone) != 2 {
		t.Fatalf("campaign members = %d devices, want 2", len(everyone))
	}
	mustContain(t, "members", s.ok(t, "campaign", "members", id, "--state", "failed"), "no devices in state failed")
	s.fails(t, exitUsage, "campaign", "members", id, "--state", "broken")
	mustContain(t, "audit", s.ok(t, "audit", "list", "--object-type", "campaign"), "campaign.create", "campaign.approve", "campaign.status")
}
