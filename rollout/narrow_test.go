package rollout

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// narrowState is what the Runner hands Step: the counts of every wave and
// only the members the store's StepMembers returns, filtered here by its
// documented contract.
func narrowState(full State, now time.Time) State {
	c := full.Campaign
	st := full
	var cats []firmward.Category
	for _, m := range full.Members {
		if m.Device != nil && !slices.Contains(cats, m.Device.Category) {
			cats = append(cats, m.Device.Category)
		}
		st.Joined = append(st.Joined, m.DeviceID)
	}
	st.Progress = &firmward.CampaignProgress{Waves: Waves(c, full.Members), Categories: cats}
	wave := max(c.CurrentWave, 0)
	st.Members = nil
	for _, m := range full.Members {
		a := m.Action
		due := false
		if a != nil && m.Wave <= wave && a.Status.Open() {
			from := a.CreatedAt
			if a.Window != nil && a.Window.Start.After(from) {
				from = a.Window.Start
			}
			timeout := time.Duration(c.ActionTimeoutSeconds) * time.Second
			due = (timeout > 0 && !from.After(now.Add(-timeout))) ||
				(a.Status == firmward.ActionScheduled && a.Window != nil && !a.Window.End.After(now))
		}
		if (m.Wave == wave && m.ActionID == 0 && m.TaskID == 0) || (m.Task != nil && m.Task.Status == firmward.TaskOpen) || due {
			st.Members = append(st.Members, m)
		}
	}
	return st
}

// TestNarrowStepSameOutcome runs random campaigns to their end twice, once
// stepping over every member and once as the Runner does (wave counts and
// the members a step acts on): every device ends with the same action or
// task and the campaign with the same status and waves.
func TestNarrowStepSameOutcome(t *testing.T) {
	for seed := range uint64(60) {
		full := runRandomCampaign(t, seed, false)
		narrow := runRandomCampaign(t, seed, true)
		if full != narrow {
			t.Fatalf("seed %d: stepping over every member and stepping narrowly end differently:\nfull:\n%s\nnarrow:\n%s", seed, full, narrow)
		}
	}
}

// runRandomCampaign plays one random campaign and describes how it ended.
func runRandomCampaign(t *testing.T, seed uint64, narrow bool) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var waves []firmward.WaveSpec
	for range 1 + rng.IntN(4) {
		w := firmward.WaveSpec{SuccessThreshold: 50 + rng.IntN(51), ErrorThreshold: rng.IntN(40)}
		if rng.IntN(2) == 0 {
			w.Percent = 10 + rng.IntN(50)
		} else {
			w.Count = 1 + rng.IntN(8)
		}
		if rng.IntN(3) == 0 {
			w.OnError = firmward.OnErrorAbort
		}
		waves = append(waves, w)
	}
	c := campaign(waves...)
	c.Dynamic = rng.IntN(4) == 0
	mechs := []firmward.UpdateMechanism{firmward.UpdateDDI, firmward.UpdateAgent, firmward.UpdateDDI, firmward.UpdateWebAdmin, firmward.UpdateNone}
	var devs []*firmward.Device
	outcome := map[int64]int{} // 0 success, 1 failure, 2 silent
	for i := range 5 + rng.IntN(40) {
		var tags []string
		if rng.IntN(6) == 0 {
			tags = []string{StagingTag}
		}
		d := device(int64(i+1), mechs[rng.IntN(len(mechs))], tags...)
		devs = append(devs, d)
		outcome[d.ID] = []int{0, 0, 0, 0, 1, 2}[rng.IntN(6)]
	}
	late := devs[len(devs)-rng.IntN(3):] // a dynamic campaign sees these later
	if c.Dynamic {
		devs = devs[:len(devs)-len(late)]
	}
	s := newSim(c, devs...)
	for round := range 60 {
		if c.Dynamic && round == 4 {
			s.st.Candidates = append(s.st.Candidates, late...)
		}
		for range 50 {
			st := s.st
			if narrow {
				st = narrowState(s.st, s.now)
			}
			ds := Step(st, s.now, s.pol)
			if len(ds) == 0 {
				break
			}
			s.apply(ds)
		}
		if c.Status.Final() {
			break
		}
		if c.Status == firmward.CampaignPaused && round%5 == 4 {
			s.resume()
		}
		for _, m := range s.st.Members {
			if a := m.Action; a != nil && a.Status.Open() && outcome[m.DeviceID] != 2 {
				s.report(m.DeviceID, []string{firmward.ResultSuccess, firmward.ResultFailure}[outcome[m.DeviceID]])
			}
			if m.Task != nil && m.Task.Status == firmward.TaskOpen && m.Task.Kind == firmward.TaskUpdate && m.DeviceID%2 == 0 {
				m.Device.FirmwareVersion = m.Task.TargetVersion
			}
		}
		s.now = s.now.Add(20 * time.Minute)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %s (%s), wave %d\n", c.Status, c.StatusReason, c.CurrentWave)
	for _, m := range s.st.Members {
		fmt.Fprintf(&b, "device %d wave %d:", m.DeviceID, m.Wave)
		if a := m.Action; a != nil {
			fmt.Fprintf(&b, " action %s %s", a.Status, a.Result)
		}
		if k := m.Task; k != nil {
			fmt.Fprintf(&b, " task %s %s", k.Kind, k.Status)
		}
		b.WriteByte('\n')
	}
	starts := 0
	for _, d := range s.applied {
		if d.Kind == firmward.DecideStartWave {
			starts++
		}
	}
	fmt.Fprintf(&b, "%d wave starts\n", starts)
	return b.String()
}
