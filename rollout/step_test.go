package rollout

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

func release() *firmward.Release {
	return &firmward.Release{
		ID: 7, Manufacturer: "Acme", Models: []string{"Cam 1"}, Version: "2.0", ReleaseDate: "2025-03-01",
		FixesCVEs: []string{"CVE-2025-0001"}, Artifacts: []firmward.ReleaseArtifact{{Name: "cam.swu", SHA256: strings.Repeat("ab", 32)}},
	}
}

func device(id int64, mech firmward.UpdateMechanism, tags ...string) *firmward.Device {
	return &firmward.Device{
		ID: id, Name: fmt.Sprintf("cam-%d", id), Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0",
		Category: firmward.CategoryCamera, UpdateMechanism: mech, Tags: tags, Owner: "owner@example.org", IPs: []string{"192.0.2.10"},
	}
}

func campaign(waves ...firmward.WaveSpec) *firmward.Campaign {
	c := &firmward.Campaign{ID: 1, Name: "test", ReleaseID: 7, Waves: waves, Status: firmward.CampaignRunning, ActionTimeoutSeconds: 3600}
	if err := c.Normalize(); err != nil {
		panic(err)
	}
	c.Status, c.CurrentWave, c.OverrideWave, c.Version = firmward.CampaignRunning, -1, -1, 1
	return c
}

// sim applies decisions to an in-memory state as the store does.
type sim struct {
	st      State
	now     time.Time
	pol     Policy
	nextID  int64
	applied []firmward.CampaignDecision
}

func newSim(c *firmward.Campaign, devs ...*firmward.Device) *sim {
	return &sim{st: State{Campaign: c, Release: release(), Candidates: devs}, now: t0, pol: DefaultPolicy(), nextID: 100}
}

func (s *sim) member(dev int64) *firmward.CampaignMember {
	for _, m := range s.st.Members {
		if m.DeviceID == dev {
			return m
		}
	}
	return nil
}

func (s *sim) device(id int64) *firmward.Device {
	for _, d := range s.st.Candidates {
		if d.ID == id {
			return d
		}
	}
	panic(fmt.Sprintf("no device %d", id))
}

// step takes one step, applies it and checks that an immediate second step
// repeats none of it.
func (s *sim) step(t *testing.T) []firmward.CampaignDecision {
	t.Helper()
	ds := Step(s.st, s.now, s.pol)
	s.apply(ds)
	again := Step(s.st, s.now, s.pol)
	for _, d := range again {
		if slices.ContainsFunc(ds, func(x firmward.CampaignDecision) bool { return x.String() == d.String() }) {
			t.Fatalf("decision %s taken twice: %v then %v", d, ds, again)
		}
	}
	return ds
}

// settle steps until nothing more is decided.
func (s *sim) settle(t *testing.T) {
	t.Helper()
	for range 20 {
		if len(s.step(t)) == 0 {
			return
		}
	}
	t.Fatal("the rollout does not settle")
}

func (s *sim) apply(ds []firmward.CampaignDecision) {
	c := s.st.Campaign
	for _, d := range ds {
		s.applied = append(s.applied, d)
		switch d.Kind {
		case firmward.DecideJoin:
			s.st.Members = append(s.st.Members, &firmward.CampaignMember{CampaignID: c.ID, DeviceID: d.DeviceID, Wave: d.Wave, Device: s.device(d.DeviceID)})
		case firmward.DecidePlanned:
			c.Planned = true
		case firmward.DecideStartWave:
			c.CurrentWave = d.Wave
		case firmward.DecideCreateAction:
			s.nextID++
			m := s.member(d.DeviceID)
			m.ActionID = s.nextID
			m.Action = &firmward.Action{ID: s.nextID, DeviceID: d.DeviceID, Status: firmward.ActionScheduled, CreatedAt: s.now, Window: d.Window}
		case firmward.DecideCreateTask:
			s.nextID++
			m := s.member(d.DeviceID)
			d.Task.ID = s.nextID
			m.TaskID, m.Task = s.nextID, d.Task
		case firmward.DecideTimeoutAction:
			for _, m := range s.st.Members {
				if m.ActionID == d.ActionID {
					m.Action.Status, m.Action.Result = firmward.ActionFinished, firmward.ResultFailure
				}
			}
		case firmward.DecideRewindowAction:
			for _, m := range s.st.Members {
				if m.ActionID == d.ActionID {
					m.Action.Window = d.Window
				}
			}
		case firmward.DecideCloseTask:
			for _, m := range s.st.Members {
				if m.TaskID == d.TaskID {
					m.Task.Status = firmward.TaskClosed
				}
			}
		case firmward.DecidePause, firmward.DecideRequireApprove:
			c.Status, c.StatusReason = firmward.CampaignPaused, d.Reason
			if d.Kind == firmward.DecideRequireApprove {
				c.RequireApproval = true
			}
		case firmward.DecideAbort:
			c.Status, c.StatusReason = firmward.CampaignAborted, d.Reason
		case firmward.DecideFinish:
			c.Status = firmward.CampaignFinished
		}
	}
	c.Version++
}

// report sets the result of a device's action.
func (s *sim) report(dev int64, result string) {
	a := s.member(dev).Action
	a.Status, a.Result = firmward.ActionFinished, result
}

// resume does what the store does on resume.
func (s *sim) resume() {
	c := s.st.Campaign
	c.Status = firmward.CampaignRunning
	c.OverrideWave, c.AcceptedFailures = c.CurrentWave, Waves(c, s.st.Members)[c.CurrentWave].Failed
}

func kinds(ds []firmward.CampaignDecision) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return strings.Join(out, "; ")
}

func actionsOf(s *sim) []int64 {
	var out []int64
	for _, m := range s.st.Members {
		if m.Action != nil {
			out = append(out, m.DeviceID)
		}
	}
	slices.Sort(out)
	return out
}

func TestPlan(t *testing.T) {
	other := device(9, firmward.UpdateAgent)
	other.Model = "Door"
	current := device(10, firmward.UpdateAgent)
	current.FirmwareVersion = "2.0"
	devs := []*firmward.Device{
		device(5, firmward.UpdateAgent), device(1, firmward.UpdateAgent, "staging"), device(2, firmward.UpdateAgent),
		device(3, firmward.UpdateAgent), device(4, firmward.UpdateAgent), device(6, firmward.UpdateAgent), other, current,
	}
	for _, tc := range []struct {
		name  string
		waves []firmward.WaveSpec
		want  map[int64]int
	}{
		{"one wave", nil, map[int64]int{1: 0, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}},
		{"percent rounds up, last takes the rest", []firmward.WaveSpec{{Percent: 30}, {Percent: 10}}, map[int64]int{1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2}},
		{"count", []firmward.WaveSpec{{Count: 1}, {Count: 2}, {Count: 1}}, map[int64]int{1: 0, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan(campaign(tc.waves...), release(), devs)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Plan = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStagingThenWaves: the staging ring goes first; wave 2 starts only
// once wave 1 reaches its success threshold; the campaign finishes.
func TestStagingThenWaves(t *testing.T) {
	devs := []*firmward.Device{
		device(1, firmward.UpdateAgent, "staging"), device(2, firmward.UpdateAgent), device(3, firmward.UpdateDDI),
		device(4, firmward.UpdateAgent), device(5, firmward.UpdateAgent),
	}
	s := newSim(campaign(firmward.WaveSpec{Count: 2, SuccessThreshold: 100, ErrorThreshold: 50}, firmward.WaveSpec{Percent: 100, SuccessThreshold: 50, ErrorThreshold: 50}), devs...)
	ds := s.step(t)
	if len(ds) != 6 || ds[5].Kind != firmward.DecidePlanned {
		t.Fatalf("plan = %s", kinds(ds))
	}
	s.settle(t)
	if got := actionsOf(s); !slices.Equal(got, []int64{1}) || s.st.Campaign.CurrentWave != 0 {
		t.Fatalf("after start: actions for %v in wave %d, want the staging device only", got, s.st.Campaign.CurrentWave)
	}
	s.report(1, firmward.ResultSuccess)
	s.settle(t)
	if got := actionsOf(s); !slices.Equal(got, []int64{1, 2, 3}) || s.st.Campaign.CurrentWave != 1 {
		t.Fatalf("after staging: actions for %v in wave %d", got, s.st.Campaign.CurrentWave)
	}
	s.report(2, firmward.ResultSuccess)
	s.settle(t)
	if s.st.Campaign.CurrentWave != 1 {
		t.Fatal("wave 2 started before wave 1 met its 100% threshold")
	}
	s.report(3, firmward.ResultSuccess)
	s.settle(t)
	if got := actionsOf(s); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) || s.st.Campaign.CurrentWave != 2 {
		t.Fatalf("wave 2: actions for %v in wave %d", got, s.st.Campaign.CurrentWave)
	}
	s.report(4, firmward.ResultSuccess) // 50 % reached: done, but device 5 is still open
	s.settle(t)
	if s.st.Campaign.Status != firmward.CampaignRunning {
		t.Fatalf("finished with an open action: %s", s.st.Campaign.Status)
	}
	s.report(5, firmward.ResultSuccess)
	s.settle(t)
	if s.st.Campaign.Status != firmward.CampaignFinished {
		t.Fatalf("status %s, want finished", s.st.Campaign.Status)
	}
}

func TestThresholds(t *testing.T) {
	devs := func() []*firmward.Device {
		return []*firmward.Device{device(1, firmward.UpdateAgent), device(2, firmward.UpdateAgent), device(3, firmward.UpdateAgent), device(4, firmward.UpdateAgent)}
	}
	for _, tc := range []struct {
		name       string
		wave       firmward.WaveSpec
		results    []string // devices 1..n
		wantStatus firmward.CampaignStatus
		wantReason string
	}{
		{
			"error threshold pauses",
			firmward.WaveSpec{Percent: 100, SuccessThreshold: 75, ErrorThreshold: 25, OnError: firmward.OnErrorPause},
			[]string{firmward.ResultFailure, firmward.ResultFailure},
			firmward.CampaignPaused, "2 of 4 failed",
		},
		{
			"error threshold aborts",
			firmward.WaveSpec{Percent: 100, SuccessThreshold: 75, ErrorThreshold: 25, OnError: firmward.OnErrorAbort},
			[]string{firmward.ResultFailure, firmward.ResultFailure},
			firmward.CampaignAborted, "error threshold 25%",
		},
		{
			"one failure within the threshold",
			firmward.WaveSpec{Percent: 100, SuccessThreshold: 75, ErrorThreshold: 25},
			[]string{firmward.ResultFailure, firmward.ResultSuccess, firmward.ResultSuccess, firmward.ResultSuccess},
			firmward.CampaignFinished, "",
		},
		{
			"closed below the success threshold pauses",
			firmward.WaveSpec{Percent: 100, SuccessThreshold: 100, ErrorThreshold: 50},
			[]string{firmward.ResultFailure, firmward.ResultSuccess, firmward.ResultSuccess, firmward.ResultSuccess},
			firmward.CampaignPaused, "only 3 of 4 succeeded",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(campaign(tc.wave), devs()...)
			s.settle(t)
			for i, r := range tc.results {
				s.report(int64(i+1), r)
			}
			s.settle(t)
			c := s.st.Campaign
			if c.Status != tc.wantStatus || !strings.Contains(c.StatusReason, tc.wantReason) {
				t.Fatalf("status %s (%s), want %s (%s)", c.Status, c.StatusReason, tc.wantStatus, tc.wantReason)
			}
		})
	}
}

// TestResumeAcceptsFailures: resuming a paused wave accepts its failures;
// a new failure beyond the threshold pauses again.
func TestResumeAcceptsFailures(t *testing.T) {
	var devs []*firmward.Device
	for i := int64(1); i <= 10; i++ {
		devs = append(devs, device(i, firmward.UpdateAgent))
	}
	s := newSim(campaign(firmward.WaveSpec{Percent: 100, SuccessThreshold: 80, ErrorThreshold: 10}), devs...)
	s.settle(t)
	s.report(1, firmward.ResultFailure)
	s.report(2, firmward.ResultFailure)
	s.settle(t)
	if s.st.Campaign.Status != firmward.CampaignPaused {
		t.Fatalf("status %s, want paused", s.st.Campaign.Status)
	}
	s.resume()
	if ds := s.step(t); len(ds) != 0 {
		t.Fatalf("resumed campaign decided %s", kinds(ds))
	}
	s.report(3, firmward.ResultFailure) // 3 - 2 accepted = 1, not above 10 %
	s.settle(t)
	if s.st.Campaign.Status != firmward.CampaignRunning {
		t.Fatalf("status %s after one new failure", s.st.Campaign.Status)
	}
	s.report(4, firmward.ResultFailure)
	s.report(5, firmward.ResultFailure)
	s.settle(t)
	if s.st.Campaign.Status != firmward.CampaignPaused {
		t.Fatalf("status %s after three new failures", s.st.Campaign.Status)
	}
}

func TestActionTimeout(t *testing.T) {
	s := newSim(campaign(firmward.WaveSpec{Percent: 100, SuccessThreshold: 50, ErrorThreshold: 100}), device(1, firmward.UpdateAgent), device(2, firmward.UpdateAgent))
	s.settle(t)
	s.report(1, firmward.ResultSuccess)
	s.now = t0.Add(59 * time.Minute)
	if ds := s.step(t); len(ds) != 0 {
		t.Fatalf("before the timeout: %s", kinds(ds))
	}
	s.now = t0.Add(time.Hour)
	ds := s.step(t)
	if len(ds) != 2 || ds[0].Kind != firmward.DecideTimeoutAction || ds[0].DeviceID != 2 || ds[1].Kind != firmward.DecideFinish {
		t.Fatalf("at the timeout: %s", kinds(ds))
	}
}

func TestSoakAndApproval(t *testing.T) {
	router := device(1, firmward.UpdateAgent)
	router.Category = firmward.CategoryNetworkInfrastructure
	t.Run("network infrastructure needs an approval", func(t *testing.T) {
		s := newSim(campaign(), router)
		ds := s.step(t)
		if len(ds) != 1 || ds[0].Kind != firmward.DecideRequireApprove || s.st.Campaign.Status != firmward.CampaignPaused {
			t.Fatalf("step = %s", kinds(ds))
		}
	})
	t.Run("soak: nothing before release date + 7 days", func(t *testing.T) {
		c := campaign()
		c.ApprovedBy = "token:3(bob)"
		s := newSim(c, router)
		s.now = time.Date(2025, 3, 7, 23, 59, 0, 0, time.UTC)
		s.settle(t)
		if len(actionsOf(s)) != 0 || c.CurrentWave != -1 {
			t.Fatalf("soaking campaign started: wave %d", c.CurrentWave)
		}
		s.now = time.Date(2025, 3, 8, 0, 0, 0, 0, time.UTC)
		s.settle(t)
		if got := actionsOf(s); !slices.Equal(got, []int64{1}) {
			t.Fatalf("after the soak: actions for %v", got)
		}
	})
	t.Run("configurable per category", func(t *testing.T) {
		s := newSim(campaign(), device(1, firmward.UpdateAgent))
		s.pol.SoakDays[firmward.CategoryCamera] = 30
		s.settle(t)
		if len(actionsOf(s)) != 0 {
			t.Fatal("camera soak of 30 days ignored")
		}
		if until, cat := s.pol.SoakUntil("2025-03-01", []firmward.Category{firmward.CategoryCamera}); cat != firmward.CategoryCamera || !until.Equal(time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("SoakUntil = %s %s", until, cat)
		}
	})
}

func TestMaintenanceWindow(t *testing.T) {
	c := campaign()
	c.Window = &firmward.MaintenanceSchedule{Cron: "0 2 * * *", DurationMinutes: 60, TimeZone: "UTC"}
	c.ActionTimeoutSeconds = 2 * 3600
	s := newSim(c, device(1, firmward.UpdateAgent))
	s.settle(t)
	a := s.member(1).Action
	if a == nil || a.Window == nil || !a.Window.Start.Equal(time.Date(2025, 3, 11, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("action window = %+v", a)
	}
	// The window passes with the device silent: the timeout counts from
	// the window's opening, so it is not failed at 03:00.
	s.now = time.Date(2025, 3, 11, 3, 30, 0, 0, time.UTC)
	ds := s.step(t)
	if len(ds) != 1 || ds[0].Kind != firmward.DecideRewindowAction || !ds[0].Window.Start.Equal(time.Date(2025, 3, 12, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the window: %s", kinds(ds))
	}
	s.now = time.Date(2025, 3, 12, 4, 0, 0, 0, time.UTC)
	if ds := s.step(t); len(ds) != 2 || ds[0].Kind != firmward.DecideTimeoutAction {
		t.Fatalf("two hours after the second window: %s", kinds(ds))
	}
	t.Run("download only ignores the window", func(t *testing.T) {
		c := campaign()
		c.Type = firmward.ActionDownloadOnly
		c.Window = &firmward.MaintenanceSchedule{Cron: "0 2 * * *", DurationMinutes: 60}
		s := newSim(c, device(1, firmward.UpdateAgent))
		s.settle(t)
		if a := s.member(1).Action; a == nil || a.Window != nil {
			t.Fatalf("action = %+v", a)
		}
	})
}

func TestTasks(t *testing.T) {
	web := device(2, firmward.UpdateWebAdmin)
	none := device(3, firmward.UpdateNone)
	tech := device(4, firmward.UpdateTechnician)
	tech.Location = "roof"
	s := newSim(campaign(), device(1, firmward.UpdateAgent), web, none, tech)
	s.st.Campaign.TaskAssignee = "alice"
	s.settle(t)
	if got := actionsOf(s); !slices.Equal(got, []int64{1}) {
		t.Fatalf("actions for %v", got)
	}
	wt, nt, tt := s.member(2).Task, s.member(3).Task, s.member(4).Task
	if wt == nil || wt.Kind != firmward.TaskUpdate || wt.Assignee != "alice" || wt.TargetVersion != "2.0" || !wt.DueAt.Equal(t0.AddDate(0, 0, 14)) ||
		!strings.Contains(strings.Join(wt.Instructions, "\n"), "https://192.0.2.10/") || !strings.Contains(strings.Join(wt.Instructions, "\n"), "cam.swu") {
		t.Fatalf("web-admin task = %+v", wt)
	}
	if nt == nil || nt.Kind != firmward.TaskIsolate || !strings.Contains(nt.Title, "Isolate or replace") {
		t.Fatalf("none task = %+v", nt)
	}
	if tt == nil || !strings.Contains(strings.Join(tt.Instructions, "\n"), "roof") {
		t.Fatalf("technician task = %+v", tt)
	}
	// The pushed device succeeds: the campaign finishes though tasks are open.
	s.report(1, firmward.ResultSuccess)
	s.settle(t)
	if s.st.Campaign.Status != firmward.CampaignFinished {
		t.Fatalf("status %s", s.st.Campaign.Status)
	}
	// Tasks close on the observed version even in a finished campaign?
	// No: only running or paused campaigns move. Check while running.
	s.st.Campaign.Status = firmward.CampaignPaused
	web.FirmwareVersion = "1.9"
	if ds := s.step(t); len(ds) != 0 {
		t.Fatalf("closed at 1.9: %s", kinds(ds))
	}
	web.FirmwareVersion = "2.0.1"
	ds := s.step(t)
	if len(ds) != 1 || ds[0].Kind != firmward.DecideCloseTask || ds[0].TaskID != wt.ID || ds[0].Version != "2.0.1" {
		t.Fatalf("close = %s", kinds(ds))
	}
}

func TestDynamicJoin(t *testing.T) {
	c := campaign()
	c.Dynamic = true
	s := newSim(c, device(1, firmward.UpdateAgent))
	s.settle(t)
	s.report(1, firmward.ResultSuccess)
	s.settle(t)
	if c.Status != firmward.CampaignRunning || c.CurrentWave != 1 {
		t.Fatalf("dynamic campaign: %s wave %d", c.Status, c.CurrentWave)
	}
	s.st.Candidates = append(s.st.Candidates, device(2, firmward.UpdateAgent))
	ds := s.step(t)
	if len(ds) != 2 || ds[0].Kind != firmward.DecideJoin || ds[0].Wave != 1 || ds[1].Kind != firmward.DecideCreateAction || ds[1].DeviceID != 2 {
		t.Fatalf("join = %s", kinds(ds))
	}
}

func TestWithdrawnAndFinal(t *testing.T) {
	s := newSim(campaign(), device(1, firmward.UpdateAgent))
	s.settle(t)
	s.st.Release.Withdrawn = true
	if ds := s.step(t); len(ds) != 1 || ds[0].Kind != firmward.DecidePause {
		t.Fatalf("withdrawn: %s", kinds(ds))
	}
	for _, st := range []firmward.CampaignStatus{firmward.CampaignDraft, firmward.CampaignCanceled, firmward.CampaignFinished, firmward.CampaignAborted} {
		s.st.Campaign.Status = st
		if ds := Step(s.st, s.now, s.pol); ds != nil {
			t.Fatalf("%s campaign decided %s", st, kinds(ds))
		}
	}
}

// TestSkip checks which devices of the release's model a campaign leaves
// out, and that planning says so: never a downgrade in an update campaign,
// never hardware the release does not list, never below its minimum
// from-version; unknown values hold nothing back.
func TestSkip(t *testing.T) {
	rel := release()
	rel.HardwareVersions, rel.MinFromVersion = []string{"rev1", "rev2"}, "1.5"
	dev := func(id int64, version, hw string) *firmward.Device {
		d := device(id, firmward.UpdateDDI)
		d.FirmwareVersion, d.HardwareVersion = version, hw
		return d
	}
	update, rollback := campaign(firmward.WaveSpec{Percent: 100}), campaign(firmward.WaveSpec{Percent: 100})
	rollback.Kind = firmward.CampaignRollback
	for _, tc := range []struct {
		name string
		c    *firmward.Campaign
		d    *firmward.Device
		want string
	}{
		{"older, listed hardware", update, dev(1, "1.8", "REV1"), ""},
		{"unknown version and hardware", update, dev(2, "", ""), ""},
		{"current", update, dev(3, "2.0", "rev1"), SkipCurrent},
		{"newer: no downgrade", update, dev(4, "2.1", "rev1"), SkipNewer},
		{"newer in a rollback", rollback, dev(5, "2.1", "rev1"), ""},
		{"other hardware", update, dev(6, "1.8", "rev3"), SkipHardware},
		{"below the minimum from-version", update, dev(7, "1.4.9", "rev2"), SkipMinFrom},
		{"below the minimum in a rollback too", rollback, dev(8, "1.0", "rev2"), SkipMinFrom},
	} {
		if got := Skip(tc.c, rel, tc.d); got != tc.want {
			t.Errorf("%s: Skip = %q, want %q", tc.name, got, tc.want)
		}
	}
	s := newSim(update, dev(1, "1.8", "rev1"), dev(2, "2.1", ""), dev(3, "1.0", ""), dev(4, "1.9", "rev9"))
	s.st.Release = rel
	ds := s.step(t)
	planned := ds[len(ds)-1]
	if planned.Kind != firmward.DecidePlanned || len(s.st.Members) != 1 ||
		planned.Reason != "1 device; left out: 1 "+SkipNewer+", 1 "+SkipHardware+", 1 "+SkipMinFrom {
		t.Fatalf("plan: %d members, last decision %s", len(s.st.Members), planned)
	}
	task := NewTask(update, rel, dev(9, "", ""), t0)
	if !strings.Contains(strings.Join(task.Instructions, "\n"), "update it to 1.5 first") {
		t.Errorf("task instructions do not tell the minimum from-version:\n%s", strings.Join(task.Instructions, "\n"))
	}
}

// TestMisfit checks a deployment by hand: what is known and does not fit
// is named; what is not known, and a reinstall, pass.
func TestMisfit(t *testing.T) {
	rel := release()
	rel.HardwareVersions, rel.MinFromVersion = []string{"rev1"}, "1.5"
	for _, tc := range []struct {
		name          string
		maker, model  string
		version, hw   string
		wantFit       bool
		wantSubstring string
	}{
		{"fits", "ACME", "cam 1", "1.8", "rev1", true, ""},
		{"nothing known", "", "", "", "", true, ""},
		{"reinstall", "Acme", "Cam 1", "2.0", "rev1", true, ""},
		{"other maker", "Other", "Cam 1", "1.8", "rev1", false, "made by Other"},
		{"other model", "Acme", "Cam 9", "1.8", "rev1", false, "is a Cam 9"},
		{"newer", "Acme", "Cam 1", "3.0", "rev1", false, SkipNewer},
		{"other hardware", "Acme", "Cam 1", "1.8", "rev2", false, SkipHardware},
		{"too old", "Acme", "Cam 1", "1.0", "", false, SkipMinFrom},
	} {
		d := &firmward.Device{Manufacturer: tc.maker, Model: tc.model, FirmwareVersion: tc.version, HardwareVersion: tc.hw}
		got := Misfit(rel, d)
		if (got == "") != tc.wantFit || !strings.Contains(got, tc.wantSubstring) {
			t.Errorf("%s: Misfit = %q", tc.name, got)
		}
	}
}
