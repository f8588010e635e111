package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/rollout"
)

// TestCampaignConformance checks campaigns, the runner's transactions and
// tasks on both databases.
func TestCampaignConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			fn   func(t *testing.T, b backend)
		}{
			{"CampaignCreate", testCampaignCreate},
			{"CampaignApproval", testCampaignApproval},
			{"CampaignRun", testCampaignRun},
			{"CampaignExactlyOnce", testCampaignExactlyOnce},
			{"CampaignCancel", testCampaignCancel},
			{"CampaignProgress", testCampaignProgress},
			{"CampaignDynamicScan", testCampaignDynamicScan},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, b)
			})
		}
	})
}

var approverCtx = firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 3, Name: "bob", Role: firmward.RoleOperator})

// campaignFixture is a release for Acme Cam 1 released long ago and a
// clock the test moves.
type campaignFixture struct {
	db  *DB
	dsn string
	rel *firmward.Release
	now time.Time
	mu  sync.Mutex
}

func (f *campaignFixture) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func newCampaignFixture(t *testing.T, b backend) *campaignFixture {
	t.Helper()
	f := &campaignFixture{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	f.dsn = b.newDSN(t)
	f.db = openDSN(t, f.dsn, Options{Now: f.Now})
	f.rel = sampleRelease()
	if err := NewReleaseService(f.db).CreateRelease(operatorCtx, f.rel); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *campaignFixture) device(t *testing.T, name string, mech firmward.UpdateMechanism, tags ...string) int64 {
	t.Helper()
	d := &firmward.Device{Name: name, Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0", UpdateMechanism: mech, Tags: tags}
	if err := NewDeviceService(f.db).CreateDevice(operatorCtx, d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func (f *campaignFixture) runner(db *DB) *rollout.Runner {
	return &rollout.Runner{Campaigns: NewCampaignService(db), Releases: NewReleaseService(db), Devices: NewDeviceService(db), Policy: rollout.DefaultPolicy(), Now: f.Now}
}

func (f *campaignFixture) create(t *testing.T, c *firmward.Campaign) *firmward.Campaign {
	t.Helper()
	c.ReleaseID = f.rel.ID
	if err := NewCampaignService(f.db).CreateCampaign(operatorCtx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func testCampaignCreate(t *testing.T, b backend) {
	f := newCampaignFixture(t, b)
	cs := NewCampaignService(f.db)
	for _, tc := range []struct {
		name  string
		c     firmward.Campaign
		field string
	}{
		{"no name", firmward.Campaign{ReleaseID: f.rel.ID}, "name"},
		{"bad type", firmward.Campaign{Name: "x", ReleaseID: f.rel.ID, Type: "skip"}, "type"},
		{"bad wave", firmward.Campaign{Name: "x", ReleaseID: f.rel.ID, Waves: []firmward.WaveSpec{{Percent: 10, Count: 3}}}, "waves[0]"},
		{"bad zone", firmward.Campaign{Name: "x", ReleaseID: f.rel.ID, Window: &firmward.MaintenanceSchedule{Cron: "0 2 * * *", DurationMinutes: 60, TimeZone: "Nowhere/City"}}, "maintenance_window.time_zone"},
		{"dynamic list", firmward.Campaign{Name: "x", ReleaseID: f.rel.ID, Dynamic: true, Target: firmward.CampaignTarget{DeviceIDs: []int64{1}}}, "dynamic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cs.CreateCampaign(operatorCtx, &tc.c)
			wantCode(t, err, firmward.EINVALID)
			if d := firmward.ErrorDetails(err); len(d) == 0 || d[0].Field != tc.field {
				t.Fatalf("details = %+v, want field %s", d, tc.field)
			}
		})
	}
	wantCode(t, cs.CreateCampaign(operatorCtx, &firmward.Campaign{Name: "x", ReleaseID: 999}), firmward.ENOTFOUND)
	c := f.create(t, &firmward.Campaign{
		Name: "spring", Window: &firmward.MaintenanceSchedule{Cron: "0 2 * * *", DurationMinutes: 90, TimeZone: "Europe/Berlin"},
		Waves: []firmward.WaveSpec{{Percent: 10}, {Percent: 90, SuccessThreshold: 95, ErrorThreshold: 5, OnError: firmward.OnErrorAbort}},
	})
	got, err := cs.FindCampaignByID(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != firmward.CampaignDraft || got.CurrentWave != -1 || got.Window == nil || got.Window.DurationMinutes != 90 || len(got.Waves) != 2 ||
		got.Waves[1].OnError != firmward.OnErrorAbort || got.Staging.SuccessThreshold != 100 || got.CreatedBy != "token:2(ops)" || got.CreatorKey != "token:2" {
		t.Fatalf("read back %+v", got)
	}
	list, next, err := cs.FindCampaigns(context.Background(), firmward.CampaignFilter{Status: firmward.CampaignDraft})
	if err != nil || len(list) != 1 || next != 0 {
		t.Fatalf("FindCampaigns = %v, %d, %v", list, next, err)
	}
	if _, _, err := NewReleaseService(f.db).WithdrawRelease(operatorCtx, f.rel.ID, "recall"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, cs.CreateCampaign(operatorCtx, &firmward.Campaign{Name: "late", ReleaseID: f.rel.ID}), firmward.ECONFLICT)
	if evs := auditEvents(t, f.db); !hasAudit(evs, firmward.ActionCampaignCreate) {
		t.Fatal("campaign.create not audited")
	}
}

func hasAudit(evs []*firmward.AuditEvent, action string) bool {
	for _, e := range evs {
		if e.Action == action {
			return true
		}
	}
	return false
}

func testCampaignApproval(t *testing.T, b backend) {
	f := newCampaignFixture(t, b)
	cs := NewCampaignService(f.db)
	c := f.create(t, &firmward.Campaign{Name: "routers", RequireApproval: true})
	_, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, "")
	wantCode(t, err, firmward.ECONFLICT)
	_, err = cs.ApproveCampaign(operatorCtx, c.ID)
	wantCode(t, err, firmward.EFORBIDDEN)
	got, err := cs.ApproveCampaign(approverCtx, c.ID)
	if err != nil || got.ApprovedBy != "token:3(bob)" || got.CreatedBy != "token:2(ops)" || got.ApprovedAt == nil {
		t.Fatalf("approve = %+v, %v", got, err)
	}
	_, err = cs.ApproveCampaign(approverCtx, c.ID)
	wantCode(t, err, firmward.ECONFLICT)
	if got, err = cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, ""); err != nil || got.Status != firmward.CampaignRunning {
		t.Fatalf("start = %+v, %v", got, err)
	}
	_, err = cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpResume, "")
	wantCode(t, err, firmward.ECONFLICT)
	if !hasAudit(auditEvents(t, f.db), firmward.ActionCampaignApprove) {
		t.Fatal("campaign.approve not audited")
	}
}

// testCampaignRun drives a campaign through the runner: the staging ring,
// then the wave; a device reports through the delivery service; a task
// closes when the device's version is edited.
func testCampaignRun(t *testing.T, b backend) {
	f := newCampaignFixture(t, b)
	ctx := context.Background()
	cs, ds, ts := NewCampaignService(f.db), NewDeliveryService(f.db), NewTaskService(f.db)
	stage := f.device(t, "stage", firmward.UpdateAgent, "staging")
	prod := f.device(t, "prod", firmward.UpdateDDI)
	web := f.device(t, "web", firmward.UpdateWebAdmin)
	c := f.create(t, &firmward.Campaign{Name: "all", ActionTimeoutSeconds: 3600, TaskAssignee: "alice"})
	if _, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	r := f.runner(f.db)
	tick := func() {
		t.Helper()
		for range 5 {
			n, err := r.Tick(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	tick()
	members, err := cs.CampaignMembers(ctx, c.ID)
	if err != nil || len(members) != 3 {
		t.Fatalf("members = %v, %v", members, err)
	}
	byDev := map[int64]*firmward.CampaignMember{}
	for _, m := range members {
		byDev[m.DeviceID] = m
	}
	if byDev[stage].Wave != 0 || byDev[stage].Action == nil || byDev[prod].Wave != 1 || byDev[prod].Action != nil || byDev[prod].Device.Name != "prod" {
		t.Fatalf("after the first ticks: stage %+v prod %+v", byDev[stage], byDev[prod])
	}
	if _, err := ds.AddFeedback(ctx, stage, byDev[stage].ActionID, &firmward.ActionFeedback{Execution: firmward.ExecClosed, Finished: firmward.ResultSuccess}); err != nil {
		t.Fatal(err)
	}
	tick()
	if members, err = cs.CampaignMembers(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		byDev[m.DeviceID] = m
	}
	if byDev[prod].Action == nil || byDev[prod].Action.CampaignID != c.ID || byDev[web].Task == nil || byDev[web].Task.Assignee != "alice" {
		t.Fatalf("wave 1: prod %+v web %+v", byDev[prod], byDev[web])
	}
	task := byDev[web].Task
	_, err = ts.CloseTask(operatorCtx, task.ID, "done")
	wantCode(t, err, firmward.ECONFLICT)
	if list, _, err := ts.FindTasks(ctx, firmward.TaskFilter{Assignee: "alice", Status: firmward.TaskOpen}); err != nil || len(list) != 1 {
		t.Fatalf("FindTasks = %v, %v", list, err)
	}
	if got, err := ts.AssignTask(operatorCtx, task.ID, "carol", nil); err != nil || got.Assignee != "carol" {
		t.Fatalf("AssignTask = %+v, %v", got, err)
	}
	// The DDI device stays silent: an hour later its action times out and
	// the campaign pauses (one failure of one).
	f.mu.Lock()
	f.now = f.now.Add(time.Hour)
	f.mu.Unlock()
	tick()
	got, err := cs.FindCampaignByID(ctx, c.ID)
	if err != nil || got.Status != firmward.CampaignPaused {
		t.Fatalf("after the timeout: %+v, %v", got, err)
	}
	a, err := ds.FindActionByID(ctx, byDev[prod].ActionID)
	if err != nil || a.Status != firmward.ActionFinished || a.Result != firmward.ResultFailure {
		t.Fatalf("timed-out action = %+v, %v", a, err)
	}
	fb, err := ds.ActionFeedback(ctx, a.ID)
	if err != nil || len(fb) != 1 || len(fb[0].Details) != 1 {
		t.Fatalf("feedback = %v, %v", fb, err)
	}
	// Resuming accepts the failure: the campaign finishes.
	if got, err = cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpResume, "known bad unit"); err != nil || got.AcceptedFailures != 1 || got.OverrideWave != 1 {
		t.Fatalf("resume = %+v, %v", got, err)
	}
	tick()
	if got, _ = cs.FindCampaignByID(ctx, c.ID); got.Status != firmward.CampaignFinished {
		t.Fatalf("status %s (%s), want finished", got.Status, got.StatusReason)
	}
	// The task closes by hand once the device's version is edited.
	v := "2.0.1"
	if _, err := NewDeviceService(f.db).UpdateDevice(operatorCtx, web, firmward.DeviceUpdate{FirmwareVersion: &v}); err != nil {
		t.Fatal(err)
	}
	closed, err := ts.CloseTask(operatorCtx, task.ID, "")
	if err != nil || closed.Status != firmward.TaskClosed || closed.ObservedVersion != "2.0.1" || closed.ClosedAt == nil {
		t.Fatalf("CloseTask = %+v, %v", closed, err)
	}
	evs := auditEvents(t, f.db)
	for _, want := range []string{firmward.ActionCampaignJoin, firmward.ActionCampaignWave, firmward.ActionTaskCreate, firmward.ActionTaskAssign, firmward.ActionTaskClose, firmward.ActionCampaignStatus} {
		if !hasAudit(evs, want) {
			t.Errorf("%s not audited", want)
		}
	}
}

// testCampaignExactlyOnce runs three runners on three connection pools to
// one database at once, while devices report success, through a staging
// ring and two waves: every device gets one action, each audited once,
// each wave starts once, and the campaign finishes; a step on a stale
// version changes nothing.
func testCampaignExactlyOnce(t *testing.T, b backend) {
	f := newCampaignFixture(t, b)
	ctx := context.Background()
	const n = 60
	for i := range n {
		var tags []string
		if i < 3 {
			tags = []string{"staging"}
		}
		f.device(t, "d", firmward.UpdateAgent, tags...)
	}
	c := f.create(t, &firmward.Campaign{Name: "race", Waves: []firmward.WaveSpec{{Percent: 20, SuccessThreshold: 100}, {Percent: 80, SuccessThreshold: 100}}})
	cs, ds := NewCampaignService(f.db), NewDeliveryService(f.db)
	if _, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	stale, err := cs.FindCampaignByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	runners := []*rollout.Runner{f.runner(f.db), f.runner(openDSN(t, f.dsn, Options{Now: f.Now})), f.runner(openDSN(t, f.dsn, Options{Now: f.Now}))}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, r := range runners {
		wg.Go(func() {
			for range 2000 {
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
				if _, err := r.Tick(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// The devices: report success on every scheduled action until the
	// campaign ends (bounded).
	for range 400 {
		acts, _, err := ds.FindActions(ctx, firmward.ActionFilter{Status: firmward.ActionScheduled, Limit: firmward.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if _, err := ds.AddFeedback(ctx, a.DeviceID, a.ID, &firmward.ActionFeedback{Execution: firmward.ExecClosed, Finished: firmward.ResultSuccess}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := cs.FindCampaignByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Final() {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := cs.FindCampaignByID(ctx, c.ID)
	if err != nil || got.Status != firmward.CampaignFinished {
		t.Fatalf("campaign = %+v, %v", got, err)
	}
	if k := count(t, f.db, "actions"); k != n {
		t.Fatalf("%d actions for %d devices", k, n)
	}
	var perDevice int
	if err := f.db.SQL().QueryRowContext(ctx, "SELECT COUNT(DISTINCT device_id) FROM actions").Scan(&perDevice); err != nil || perDevice != n {
		t.Fatalf("%d devices with actions, %v", perDevice, err)
	}
	counts := map[string]int{}
	for _, e := range auditEvents(t, f.db) {
		counts[e.Action]++
	}
	if counts[firmward.ActionActionCreate] != n || counts[firmward.ActionCampaignWave] != 3 {
		t.Fatalf("audit counts %v: want %d action.create and 3 campaign.wave", counts, n)
	}
	_, err = cs.ApplyCampaignStep(ctx, c.ID, stale.Version, []firmward.CampaignDecision{{Kind: firmward.DecidePause, Reason: "stale"}})
	wantCode(t, err, firmward.ECONFLICT)
	if again, _ := cs.FindCampaignByID(ctx, c.ID); again.Status != firmward.CampaignFinished {
		t.Fatalf("a stale step changed the campaign: %s", again.Status)
	}
}

func testCampaignCancel(t *testing.T, b backend) {
	f := newCampaignFixture(t, b)
	ctx := context.Background()
	cs := NewCampaignService(f.db)
	f.device(t, "a", firmward.UpdateAgent)
	f.device(t, "b", firmward.UpdateTechnician)
	c := f.create(t, &firmward.Campaign{Name: "stop"})
	if _, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	r := f.runner(f.db)
	for range 3 {
		if _, err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpCancel, "")
	if err != nil || got.Status != firmward.CampaignCanceled || got.FinishedAt == nil {
		t.Fatalf("cancel = %+v, %v", got, err)
	}
	members, err := cs.CampaignMembers(ctx, c.ID)
	if err != nil || len(members) != 2 {
		t.Fatalf("members = %v, %v", members, err)
	}
	for _, m := range members {
		if m.Action != nil && m.Action.Status != firmward.ActionCanceled {
			t.Errorf("action of device %d is %s", m.DeviceID, m.Action.Status)
		}
		if m.Task != nil && m.Task.Status != firmward.TaskCanceled {
			t.Errorf("task of device %d is %s", m.DeviceID, m.Task.Status)
		}
		if m.Action == nil && m.Task == nil {
			t.Errorf("device %d got neither action nor task", m.DeviceID)
		}
	}
	_, err = cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpPause, "")
	wantCode(t, err, firmward.ECONFLICT)
}

// testCampaignProgress checks the counts and the narrow member read the
// runner steps on against the full member list, at each stage of a
// campaign run with one create per transaction.
func testCampaignProgress(t *testing.T, b backend) {
	f := newCampaignFixture(t, b)
	ctx := context.Background()
	cs, ds := NewCampaignService(f.db), NewDeliveryService(f.db)
	var pushed []int64
	for i := range 2 {
		pushed = append(pushed, f.device(t, fmt.Sprintf("stage-%d", i), firmward.UpdateAgent, "staging"))
	}
	for i := range 6 {
		pushed = append(pushed, f.device(t, fmt.Sprintf("prod-%d", i), firmward.UpdateDDI))
	}
	f.device(t, "web", firmward.UpdateWebAdmin)
	f.device(t, "old", firmward.UpdateNone)
	c := f.create(t, &firmward.Campaign{
		Name: "all", ActionTimeoutSeconds: 3600,
		Waves:   []firmward.WaveSpec{{Percent: 50, SuccessThreshold: 50, ErrorThreshold: 100}, {Percent: 50, SuccessThreshold: 50, ErrorThreshold: 100}},
		Staging: firmward.WaveSpec{SuccessThreshold: 50, ErrorThreshold: 100},
	})
	if _, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	r := f.runner(f.db)
	r.MaxCreates = 1
	check := func(stage string) *firmward.Campaign {
		t.Helper()
		got, err := cs.FindCampaignByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		all, err := cs.CampaignMembers(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := cs.CampaignProgress(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := rollout.Waves(got, all); !slices.Equal(p.Waves, want) {
			t.Errorf("%s: CampaignProgress waves\n%+v\nwant (counted from the members)\n%+v", stage, p.Waves, want)
		}
		var cats []firmward.Category
		for _, m := range all {
			if !slices.Contains(cats, m.Device.Category) {
				cats = append(cats, m.Device.Category)
			}
		}
		slices.Sort(cats)
		if !slices.Equal(p.Categories, cats) {
			t.Errorf("%s: categories %v, want %v", stage, p.Categories, cats)
		}
		for _, state := range append(firmward.MemberStates, "") {
			var want, have []int64
			for _, m := range all {
				pushed := m.Device == nil || rollout.Pushable(m.Device.UpdateMechanism)
				a := m.Action
				var is firmward.MemberState
				switch {
				case !pushed:
					is = firmward.MemberTask
				case a == nil || a.Status.Open():
					is = firmward.MemberOpen
				case a.Status == firmward.ActionFinished && a.Result == firmward.ResultSuccess:
					is = firmward.MemberSucceeded
				default:
					is = firmward.MemberFailed
				}
				if state == "" || is == state {
					want = append(want, m.DeviceID)
				}
			}
			for after, pages := int64(0), 0; ; pages++ {
				page, next, err := cs.FindCampaignMembers(ctx, c.ID, firmward.CampaignMemberFilter{State: state, After: after, Limit: 2})
				if err != nil || pages > 20 {
					t.Fatalf("%s: FindCampaignMembers(%q) = %v, %v (page %d)", stage, state, page, err, pages)
				}
				for _, m := range page {
					have = append(have, m.DeviceID)
				}
				if next == 0 {
					break
				}
				after = next
			}
			slices.Sort(want)
			if !slices.Equal(have, want) {
				t.Errorf("%s: FindCampaignMembers(%q) = %v, want %v", stage, state, have, want)
			}
		}
		wave, now := max(got.CurrentWave, 0), f.Now()
		var want []int64
		for _, m := range all {
			a := m.Action
			due := a != nil && m.Wave <= wave && a.Status.Open() && !a.CreatedAt.After(now.Add(-time.Hour))
			if (m.Wave == wave && m.ActionID == 0 && m.TaskID == 0) || (m.Task != nil && m.Task.Status == firmward.TaskOpen) || due {
				want = append(want, m.DeviceID)
			}
		}
		sm, err := cs.StepMembers(ctx, c.ID, wave, now)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range sm {
			if m.Device == nil || (m.ActionID != 0) != (m.Action != nil) || (m.TaskID != 0) != (m.Task != nil) {
				t.Errorf("%s: StepMembers member %+v lacks its device, action or task", stage, m)
			}
			ids = append(ids, m.DeviceID)
		}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("%s: StepMembers(wave %d) = %v, want %v", stage, wave, ids, want)
		}
		return got
	}
	tick := func() {
		t.Helper()
		for range 10 {
			n, err := r.Tick(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
		t.Fatal("the runner does not settle")
	}
	check("draft")
	_, _, err := cs.FindCampaignMembers(ctx, c.ID, firmward.CampaignMemberFilter{State: "broken"})
	wantCode(t, err, firmward.EINVALID)
	_, _, err = cs.FindCampaignMembers(ctx, c.ID+100, firmward.CampaignMemberFilter{})
	wantCode(t, err, firmward.ENOTFOUND)
	tick()
	got := check("staging started")
	members, err := cs.CampaignMembers(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var stagingActions int
	for _, m := range members {
		if m.Wave == 0 && m.Action != nil {
			stagingActions++
		}
	}
	// Start, planning, the staging ring and its two actions, one create
	// per transaction: at least four versions on.
	if stagingActions != 2 || got.Version < c.Version+4 {
		t.Fatalf("after one tick: %d staging actions, version %d (was %d)", stagingActions, got.Version, c.Version)
	}
	byDev := map[int64]*firmward.CampaignMember{}
	for _, m := range members {
		byDev[m.DeviceID] = m
	}
	if _, err := ds.AddFeedback(ctx, pushed[0], byDev[pushed[0]].ActionID, &firmward.ActionFeedback{Execution: firmward.ExecClosed, Finished: firmward.ResultSuccess}); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.AddFeedback(ctx, pushed[1], byDev[pushed[1]].ActionID, &firmward.ActionFeedback{Execution: firmward.ExecProceeding, Finished: "none"}); err != nil {
		t.Fatal(err)
	}
	check("staging reported")
	tick()
	got = check("wave 1")
	if got.CurrentWave != 1 {
		t.Fatalf("current wave %d, want 1", got.CurrentWave)
	}
	if members, err = cs.CampaignMembers(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	reported := 0
	for _, m := range members {
		if m.Wave == 1 && m.Action != nil && reported < 3 {
			reported++
			if _, err := ds.AddFeedback(ctx, m.DeviceID, m.ActionID, &firmward.ActionFeedback{Execution: firmward.ExecClosed, Finished: firmward.ResultSuccess}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tick()
	got = check("wave 2")
	tasks := 0
	if members, err = cs.CampaignMembers(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Task != nil && m.Task.Status == firmward.TaskOpen {
			tasks++
		}
	}
	if got.CurrentWave != 2 || tasks != 2 {
		t.Fatalf("after wave 1 reported: current wave %d, %d open tasks; want wave 2 with 2", got.CurrentWave, tasks)
	}
	f.mu.Lock()
	f.now = f.now.Add(2 * time.Hour) // every open action is now due
	f.mu.Unlock()
	check("two hours later")
	tick()
	check("after the timeouts")
}

// recordingDevices records what FindDevices was asked and how many
// devices it gave.
type recordingDevices struct {
	firmward.DeviceService
	mu    sync.Mutex
	calls []struct {
		since time.Time
		n     int
	}
}

func (r *recordingDevices) FindDevices(ctx context.Context, f firmward.DeviceFilter) ([]*firmward.Device, int64, error) {
	page, next, err := r.DeviceService.FindDevices(ctx, f)
	r.mu.Lock()
	r.calls = append(r.calls, struct {
		since time.Time
		n     int
	}{f.UpdatedSince, len(page)})
	r.mu.Unlock()
	return page, next, err
}

// last returns the filter time and size of the last FindDevices and
// forgets the calls.
func (r *recordingDevices) last(t *testing.T) (time.Time, int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		t.Fatal("the runner read no candidates")
	}
	c := r.calls[len(r.calls)-1]
	r.calls = nil
	return c.since, c.n
}

// testCampaignDynamicScan checks that a running dynamic campaign reads
// only the devices changed since its last read, all of them every
// RescanEvery, and that a newcomer joins either way.
func testCampaignDynamicScan(t *testing.T, b backend) {
	f := newCampaignFixture(t, b)
	ctx := context.Background()
	cs := NewCampaignService(f.db)
	f.device(t, "a", firmward.UpdateDDI)
	f.device(t, "b", firmward.UpdateDDI)
	c := f.create(t, &firmward.Campaign{
		Name: "dyn", Dynamic: true, Target: firmward.CampaignTarget{Manufacturer: "Acme"},
		Waves: []firmward.WaveSpec{{Percent: 100, SuccessThreshold: 100, ErrorThreshold: 100}},
	})
	if _, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	rec := &recordingDevices{DeviceService: NewDeviceService(f.db)}
	r := f.runner(f.db)
	r.Devices = rec
	tick := func() {
		t.Helper()
		for range 5 {
			if n, err := r.Tick(ctx); err != nil {
				t.Fatal(err)
			} else if n == 0 {
				return
			}
		}
	}
	advance := func(d time.Duration) {
		f.mu.Lock()
		f.now = f.now.Add(d)
		f.mu.Unlock()
	}
	members := func() int {
		t.Helper()
		ids, err := cs.CampaignDeviceIDs(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	tick()
	if members() != 2 {
		t.Fatalf("%d members after planning, want 2", members())
	}
	advance(5 * time.Minute)
	f.device(t, "c", firmward.UpdateDDI)
	tick()
	if members() != 3 {
		t.Fatalf("%d members after a device came, want 3", members())
	}
	advance(time.Minute)
	tick()
	since, n := rec.last(t)
	if since.IsZero() || n != 1 {
		t.Fatalf("a quiet tick read %d devices changed since %v, want only the newcomer (changed since the last read less a minute)", n, since)
	}
	advance(rollout.DefaultRescanEvery)
	tick()
	if since, n = rec.last(t); !since.IsZero() || n != 3 {
		t.Fatalf("after RescanEvery the runner read %d devices changed since %v, want all 3", n, since)
	}
}
