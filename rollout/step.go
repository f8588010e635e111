// Package rollout is the pure logic of firmware campaigns: which devices a
// campaign targets and in which wave (Plan), and, given the stored state of
// a campaign and the time, what to do next (Step): start waves, create
// actions and manual tasks, fail actions that time out, honour maintenance
// windows, soak periods and approval, pause or abort on errors, close tasks
// whose device reached the target version. Step is deterministic and
// returns each decision once: applied, it no longer holds. The Runner reads
// the state through the root services and applies the decisions with
// CampaignService.ApplyCampaignStep, which refuses a step taken on a stale
// version of the campaign.
package rollout

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
	"github.com/firmward/firmward/vuln"
)

// StagingTag marks the devices of the staging ring.
const StagingTag = "staging"

// Policy is the fleet's rollout policy: the soak period per category (days
// after the vendor's release date before a campaign may start) and the
// categories whose campaigns need an approval.
type Policy struct {
	SoakDays           map[firmward.Category]int
	ApprovalCategories []firmward.Category
}

// DefaultPolicy soaks network infrastructure 7 days and asks an approval
// for it (review, then apply); everything else 0 days, no approval.
func DefaultPolicy() Policy {
	return Policy{
		SoakDays:           map[firmward.Category]int{firmward.CategoryNetworkInfrastructure: 7},
		ApprovalCategories: []firmward.Category{firmward.CategoryNetworkInfrastructure},
	}
}

// SoakUntil is when a release dated releaseDate (YYYY-MM-DD, UTC; "" means
// no soak) may reach devices of these categories: the release date plus
// the longest soak among them. The zero time when nothing holds it back.
func (p Policy) SoakUntil(releaseDate string, cats []firmward.Category) (time.Time, firmward.Category) {
	d, err := time.Parse(time.DateOnly, releaseDate)
	if err != nil {
		return time.Time{}, ""
	}
	days, which := 0, firmward.Category("")
	for _, c := range cats {
		if n := p.SoakDays[c]; n > days {
			days, which = n, c
		}
	}
	if days == 0 {
		return time.Time{}, ""
	}
	return d.AddDate(0, 0, days), which
}

// NeedsApproval reports whether a campaign over devices of these
// categories needs an approval under p.
func (p Policy) NeedsApproval(cats []firmward.Category) bool {
	for _, c := range cats {
		if slices.Contains(p.ApprovalCategories, c) {
			return true
		}
	}
	return false
}

// Pushable reports whether firmward can push to a device of mechanism m
// (agent or DDI); other devices get a task.
func Pushable(m firmward.UpdateMechanism) bool {
	return m == firmward.UpdateAgent || m == firmward.UpdateDDI
}

// Eligible reports whether d is one the campaign of release rel targets:
// it matches the target, the release is for its manufacturer and model,
// and nothing in Skip holds it back.
func Eligible(c *firmward.Campaign, rel *firmward.Release, d *firmward.Device) bool {
	return c.Target.Matches(d) && ForModel(rel, d) && Skip(c, rel, d) == ""
}

// ForModel reports whether rel is for d's manufacturer and model.
func ForModel(rel *firmward.Release, d *firmward.Device) bool {
	return lifecycle.SameManufacturer(rel.Manufacturer, d.Manufacturer) &&
		slices.ContainsFunc(rel.Models, func(m string) bool { return strings.EqualFold(m, d.Model) })
}

// Skip says why a device of rel's model is left out of a campaign, "" when
// it is not: it runs the release's version already, or a newer one (an
// update campaign never downgrades; a rollback campaign does, on purpose);
// its hardware version is known and not one the release lists; or its
// firmware version is known and older than the release's minimum
// from-version (it needs an intermediate update first). What is not known
// does not hold a device back.
func Skip(c *firmward.Campaign, rel *firmward.Release, d *firmward.Device) string {
	if c.Kind != firmward.CampaignRollback && d.FirmwareVersion != "" {
		switch cmp := vuln.CompareVersions(d.FirmwareVersion, rel.Version); {
		case cmp == 0:
			return SkipCurrent
		case cmp > 0:
			return SkipNewer
		}
	}
	if len(rel.HardwareVersions) > 0 && d.HardwareVersion != "" &&
		!slices.ContainsFunc(rel.HardwareVersions, func(h string) bool { return strings.EqualFold(h, d.HardwareVersion) }) {
		return SkipHardware
	}
	if rel.MinFromVersion != "" && d.FirmwareVersion != "" && vuln.CompareVersions(d.FirmwareVersion, rel.MinFromVersion) < 0 {
		return SkipMinFrom
	}
	return ""
}

// Misfit says why release rel should not be deployed by hand to d, ""
// when it fits or what is not known cannot tell: a known manufacturer or
// model the release is not for, or what Skip says of an update (running
// the release's version already is no misfit: a reinstall).
func Misfit(rel *firmward.Release, d *firmward.Device) string {
	if d.Manufacturer != "" && !lifecycle.SameManufacturer(rel.Manufacturer, d.Manufacturer) {
		return "is made by " + d.Manufacturer + "; the release is for " + rel.Manufacturer
	}
	if d.Model != "" && !slices.ContainsFunc(rel.Models, func(m string) bool { return strings.EqualFold(m, d.Model) }) {
		return "is a " + d.Model + "; the release is for " + strings.Join(rel.Models, ", ")
	}
	if why := Skip(&firmward.Campaign{Kind: firmward.CampaignUpdate}, rel, d); why != "" && why != SkipCurrent {
		return "runs " + orUnknown(d.FirmwareVersion) + " on hardware " + orUnknown(d.HardwareVersion) + ": devices that " + why + " are left out"
	}
	return ""
}

// Reasons Skip gives.
const (
	SkipCurrent  = "run the release's version already"
	SkipNewer    = "run a newer version"
	SkipHardware = "have a hardware version the release does not list"
	SkipMinFrom  = "run a version below the release's minimum from-version"
)

// Plan assigns eligible devices to waves: wave 0 holds those tagged
// staging, then each wave of c.Waves takes its percent (rounded up) or
// count of the others in id order; the last wave takes the rest.
func Plan(c *firmward.Campaign, rel *firmward.Release, devices []*firmward.Device) map[int64]int {
	out := map[int64]int{}
	var rest []*firmward.Device
	for _, d := range devices {
		switch {
		case !Eligible(c, rel, d):
		case slices.ContainsFunc(d.Tags, func(t string) bool { return strings.EqualFold(t, StagingTag) }):
			out[d.ID] = 0
		default:
			rest = append(rest, d)
		}
	}
	slices.SortFunc(rest, func(a, b *firmward.Device) int { return int(a.ID - b.ID) })
	total, i := len(rest), 0
	for w, spec := range c.Waves {
		n := spec.Count
		if spec.Percent > 0 {
			n = (spec.Percent*total + 99) / 100
		}
		if w == len(c.Waves)-1 {
			n = len(rest) - i
		}
		for ; n > 0 && i < len(rest); n-- {
			out[rest[i].ID] = w + 1
			i++
		}
	}
	return out
}

// State is what Step needs to know about a campaign: the campaign, its
// release, its members (with their action, task and device), and, while
// the campaign is not planned yet or is dynamic, the devices that may join
// (Candidates; nil otherwise).
//
// Members is either every member, or, when Progress is set, only the
// members the step acts on (CampaignService.StepMembers): Progress then
// gives the counts of every wave and the categories, and Joined the ids of
// every member device (needed by a dynamic campaign only). A campaign of
// 100,000 devices is stepped without reading them all.
type State struct {
	Campaign   *firmward.Campaign
	Release    *firmward.Release
	Members    []*firmward.CampaignMember
	Candidates []*firmward.Device
	Progress   *firmward.CampaignProgress
	Joined     []int64
}

// waveSpec returns the spec of wave w (0 the staging ring).
func waveSpec(c *firmward.Campaign, w int) firmward.WaveSpec {
	if w == 0 {
		return c.Staging
	}
	return c.Waves[w-1]
}

// WaveStats counts the members of one wave.
type WaveStats = firmward.WaveStats

// Waves counts the members of every wave of c (staging ring first).
func Waves(c *firmward.Campaign, members []*firmward.CampaignMember) []WaveStats {
	out := make([]WaveStats, len(c.Waves)+1)
	for i := range out {
		out[i].Wave = i
	}
	for _, m := range members {
		if m.Wave < 0 || m.Wave >= len(out) {
			continue
		}
		s := &out[m.Wave]
		if m.Device != nil && m.ActionID == 0 && m.Action == nil && m.TaskID == 0 && m.Task == nil {
			s.Unassigned++
		}
		if m.Device != nil && !Pushable(m.Device.UpdateMechanism) {
			s.Tasks++
			if m.Task == nil || m.Task.Status == firmward.TaskOpen {
				s.TasksOpen++
			}
			continue
		}
		s.Devices++
		switch {
		case m.Action == nil || m.Action.Status.Open():
			s.Open++
		case m.Action.Status == firmward.ActionFinished && m.Action.Result == firmward.ResultSuccess:
			s.Succeeded++
		default:
			s.Failed++
		}
	}
	return out
}

// Step returns what to do next with the campaign in st at now. It changes
// nothing; the decisions, once applied, no longer hold, so the next Step
// over the new state does not repeat them.
func Step(st State, now time.Time, pol Policy) []firmward.CampaignDecision {
	c, rel := st.Campaign, st.Release
	var out []firmward.CampaignDecision
	if c.Status != firmward.CampaignRunning && c.Status != firmward.CampaignPaused {
		return nil
	}
	// Tasks close whenever their device reaches the target, paused or not.
	for _, m := range st.Members {
		if t := m.Task; t != nil && t.Status == firmward.TaskOpen && t.Kind == firmward.TaskUpdate && m.Device != nil &&
			Reached(m.Device.FirmwareVersion, t.TargetVersion) {
			out = append(out, firmward.CampaignDecision{Kind: firmward.DecideCloseTask, TaskID: t.ID, DeviceID: m.DeviceID, Version: m.Device.FirmwareVersion})
		}
	}
	if c.Status == firmward.CampaignPaused {
		return out
	}
	if rel.Withdrawn {
		return append(out, firmward.CampaignDecision{Kind: firmward.DecidePause, Reason: fmt.Sprintf("release %d was withdrawn", rel.ID)})
	}
	members := map[int64]*firmward.CampaignMember{}
	for _, m := range st.Members {
		members[m.DeviceID] = m
	}
	var joined map[int64]bool // with Progress: every member, loaded or not
	if st.Progress != nil {
		joined = make(map[int64]bool, len(st.Joined))
		for _, id := range st.Joined {
			joined[id] = true
		}
	}
	if !c.Planned {
		plan := Plan(c, rel, st.Candidates)
		var cats []firmward.Category
		for _, d := range st.Candidates {
			if _, ok := plan[d.ID]; ok {
				cats = append(cats, d.Category)
			}
		}
		if c.ApprovedBy == "" && c.Kind != firmward.CampaignRollback && pol.NeedsApproval(cats) {
			return append(out, firmward.CampaignDecision{Kind: firmward.DecideRequireApprove, Reason: "the campaign reaches categories that need an approval"})
		}
		ids := make([]int64, 0, len(plan))
		for id := range plan {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			out = append(out, firmward.CampaignDecision{Kind: firmward.DecideJoin, DeviceID: id, Wave: plan[id]})
		}
		return append(out, firmward.CampaignDecision{Kind: firmward.DecidePlanned, Reason: planReason(c, rel, st.Candidates, len(ids))})
	}
	var cats []firmward.Category
	if st.Progress != nil {
		cats = st.Progress.Categories
	} else {
		for _, m := range st.Members {
			if m.Device != nil {
				cats = append(cats, m.Device.Category)
			}
		}
	}
	if until, _ := pol.SoakUntil(rel.ReleaseDate, cats); now.Before(until) {
		return out // soaking: nothing starts yet
	}
	wave := c.CurrentWave
	if wave < 0 {
		wave = 0
		out = append(out, firmward.CampaignDecision{Kind: firmward.DecideStartWave, Wave: 0})
	}
	// Dynamic campaigns: newly matching devices join the current wave.
	var joiners []*firmward.CampaignMember
	if c.Dynamic {
		var ids []int64
		for _, d := range st.Candidates {
			if _, ok := members[d.ID]; !ok && !joined[d.ID] && Eligible(c, rel, d) {
				ids = append(ids, d.ID)
				m := &firmward.CampaignMember{CampaignID: c.ID, DeviceID: d.ID, Wave: wave, Device: d}
				members[d.ID] = m
				joiners = append(joiners, m)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			out = append(out, firmward.CampaignDecision{Kind: firmward.DecideJoin, DeviceID: id, Wave: wave})
		}
	}
	var window *firmward.MaintenanceWindow
	if c.Window != nil && c.Type != firmward.ActionDownloadOnly {
		w, ok, err := Window(c.Window, now)
		if err != nil || !ok {
			return append(out, firmward.CampaignDecision{Kind: firmward.DecidePause, Reason: "the maintenance window never opens"})
		}
		window = w
	}
	ordered := make([]*firmward.CampaignMember, 0, len(members))
	for _, m := range members {
		ordered = append(ordered, m)
	}
	slices.SortFunc(ordered, func(a, b *firmward.CampaignMember) int {
		if a.Wave != b.Wave {
			return a.Wave - b.Wave
		}
		return int(a.DeviceID - b.DeviceID)
	})
	all := Waves(c, ordered)
	if st.Progress != nil {
		all = progressWaves(c, st.Progress, joiners)
	}
	timedOut := map[int64]bool{}
	for {
		ds := memberDecisions(c, rel, ordered, wave, window, now, timedOut)
		out = append(out, ds...)
		stats := all[wave]
		if stats.Unassigned > countCreates(ds) {
			// Members of this wave not read in this step (Progress) get
			// their action or task at the next one; the wave waits.
			return out
		}
		stats.Failed += countTimedOut(ordered, wave, timedOut)
		stats.Open -= countTimedOut(ordered, wave, timedOut)
		spec := waveSpec(c, wave)
		failed := stats.Failed
		if c.OverrideWave == wave {
			failed -= c.AcceptedFailures
		}
		if stats.Devices > 0 && failed > 0 && failed*100 > spec.ErrorThreshold*stats.Devices {
			kind := firmward.DecidePause
			if spec.OnError == firmward.OnErrorAbort {
				kind = firmward.DecideAbort
			}
			return append(out, firmward.CampaignDecision{Kind: kind, Wave: wave, Reason: fmt.Sprintf("wave %d: %d of %d failed (error threshold %d%%)", wave, stats.Failed, stats.Devices, spec.ErrorThreshold)})
		}
		done := stats.Devices == 0 || stats.Succeeded*100 >= spec.SuccessThreshold*stats.Devices
		if !done && stats.Open == 0 {
			if c.OverrideWave == wave {
				done = true
			} else {
				return append(out, firmward.CampaignDecision{Kind: firmward.DecidePause, Wave: wave, Reason: fmt.Sprintf("wave %d: only %d of %d succeeded (success threshold %d%%)", wave, stats.Succeeded, stats.Devices, spec.SuccessThreshold)})
			}
		}
		if !done {
			return out
		}
		if wave == len(c.Waves) {
			if c.Dynamic {
				return out
			}
			for _, s := range all {
				if s.Open > countTimedOutAll(ordered, timedOut, s.Wave) {
					return out // the last stragglers of earlier waves
				}
			}
			return append(out, firmward.CampaignDecision{Kind: firmward.DecideFinish, Reason: "every wave is done"})
		}
		wave++
		out = append(out, firmward.CampaignDecision{Kind: firmward.DecideStartWave, Wave: wave})
	}
}

// planReason says how many devices a plan took and how many of the
// release's model it left out, and why.
func planReason(c *firmward.Campaign, rel *firmward.Release, candidates []*firmward.Device, planned int) string {
	skipped := map[string]int{}
	for _, d := range candidates {
		if c.Target.Matches(d) && ForModel(rel, d) {
			if why := Skip(c, rel, d); why != "" {
				skipped[why]++
			}
		}
	}
	reason := fmt.Sprintf("%d devices", planned)
	if planned == 1 {
		reason = "1 device"
	}
	var parts []string
	for _, why := range []string{SkipCurrent, SkipNewer, SkipHardware, SkipMinFrom} {
		if n := skipped[why]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, why))
		}
	}
	if len(parts) > 0 {
		reason += "; left out: " + strings.Join(parts, ", ")
	}
	return reason
}

// progressWaves is the counts of p (which must have one entry per wave)
// with the joiners of this step added, unassigned.
func progressWaves(c *firmward.Campaign, p *firmward.CampaignProgress, joiners []*firmward.CampaignMember) []WaveStats {
	out := make([]WaveStats, len(c.Waves)+1)
	for i := range out {
		out[i].Wave = i
	}
	for _, s := range p.Waves {
		if s.Wave >= 0 && s.Wave < len(out) {
			out[s.Wave] = s
		}
	}
	for _, s := range Waves(c, joiners) {
		o := &out[s.Wave]
		o.Devices += s.Devices
		o.Tasks += s.Tasks
		o.Open += s.Open
		o.TasksOpen += s.TasksOpen
		o.Unassigned += s.Unassigned
	}
	return out
}

// countCreates counts the actions and tasks ds creates.
func countCreates(ds []firmward.CampaignDecision) int {
	n := 0
	for _, d := range ds {
		if d.Kind == firmward.DecideCreateAction || d.Kind == firmward.DecideCreateTask {
			n++
		}
	}
	return n
}

func countTimedOut(ms []*firmward.CampaignMember, wave int, timedOut map[int64]bool) int {
	return countTimedOutAll(ms, timedOut, wave)
}

func countTimedOutAll(ms []*firmward.CampaignMember, timedOut map[int64]bool, wave int) int {
	n := 0
	for _, m := range ms {
		if m.Wave == wave && m.Action != nil && timedOut[m.Action.ID] { // negative keys are re-windowed actions
			n++
		}
	}
	return n
}

// memberDecisions gives the members of waves up to wave their action or
// task, and fails or re-windows their open actions. timedOut collects
// the actions failed.
func memberDecisions(c *firmward.Campaign, rel *firmward.Release, ms []*firmward.CampaignMember, wave int, window *firmward.MaintenanceWindow, now time.Time, timedOut map[int64]bool) []firmward.CampaignDecision {
	var out []firmward.CampaignDecision
	for _, m := range ms {
		if m.Wave != wave {
			continue // earlier waves were handled when they ran; their open actions below
		}
		switch {
		case m.Device == nil:
		case Pushable(m.Device.UpdateMechanism) && m.ActionID == 0 && m.Action == nil:
			out = append(out, firmward.CampaignDecision{Kind: firmward.DecideCreateAction, DeviceID: m.DeviceID, Window: window})
		case !Pushable(m.Device.UpdateMechanism) && m.TaskID == 0 && m.Task == nil:
			out = append(out, firmward.CampaignDecision{Kind: firmward.DecideCreateTask, DeviceID: m.DeviceID, Task: NewTask(c, rel, m.Device, now)})
		}
	}
	for _, m := range ms {
		a := m.Action
		if m.Wave > wave || a == nil || !a.Status.Open() || timedOut[a.ID] || timedOut[-a.ID] {
			continue
		}
		from := a.CreatedAt
		if a.Window != nil && a.Window.Start.After(from) {
			from = a.Window.Start
		}
		switch {
		case c.ActionTimeoutSeconds > 0 && !now.Before(from.Add(time.Duration(c.ActionTimeoutSeconds)*time.Second)) && a.Status != firmward.ActionCanceling:
			timedOut[a.ID] = true
			out = append(out, firmward.CampaignDecision{
				Kind: firmward.DecideTimeoutAction, ActionID: a.ID, DeviceID: m.DeviceID,
				Reason: fmt.Sprintf("no result within %s", time.Duration(c.ActionTimeoutSeconds)*time.Second),
			})
		case a.Status == firmward.ActionScheduled && a.Window != nil && window != nil && !now.Before(a.Window.End) && window.Start.After(a.Window.Start):
			timedOut[-a.ID] = true // re-windowed: not again in this step
			out = append(out, firmward.CampaignDecision{Kind: firmward.DecideRewindowAction, ActionID: a.ID, DeviceID: m.DeviceID, Window: window})
		}
	}
	return out
}

// Reached reports whether a device running version have has reached
// target.
func Reached(have, target string) bool {
	return have != "" && target != "" && vuln.CompareVersions(have, target) >= 0
}

// NewTask writes the task a campaign gives device d that firmward cannot
// push to: where to log in (the manufacturer's hint), which version and
// file, what to check; or, for a device with no update mechanism, to
// isolate or replace it. The assignee is the campaign's, else the device's
// owner; the task is due TaskDueDays from now.
func NewTask(c *firmward.Campaign, rel *firmward.Release, d *firmward.Device, now time.Time) *firmward.Task {
	h := lifecycle.HintFor(d.Manufacturer)
	assignee := c.TaskAssignee
	if assignee == "" {
		assignee = d.Owner
	}
	t := &firmward.Task{
		CampaignID: c.ID, DeviceID: d.ID, ReleaseID: rel.ID, Kind: firmward.TaskUpdate, Status: firmward.TaskOpen,
		TargetVersion: rel.Version, Assignee: assignee, DueAt: now.AddDate(0, 0, c.TaskDueDays).UTC(),
	}
	where := d.Name
	if d.Location != "" {
		where += " at " + d.Location
	}
	if d.Site != "" {
		where += " (site " + d.Site + ")"
	}
	if d.UpdateMechanism == firmward.UpdateNone {
		t.Kind, t.TargetVersion = firmward.TaskIsolate, ""
		t.Title = fmt.Sprintf("Isolate or replace %s: it cannot be updated to %s %s", d.Name, rel.Manufacturer, rel.Version)
		t.Instructions = []string{
			"Device: " + where + ".",
			"It has no way to install firmware, and release " + rel.Version + " fixes " + fixes(rel) + ".",
			"Move it to an isolated network segment (no internet, only the hosts it must talk to), or replace it with a model that can be updated.",
			"Close this task with a note saying which you did; record a new segment or the replacement in the inventory.",
		}
		return t
	}
	t.Title = fmt.Sprintf("Update %s to %s %s", d.Name, rel.Manufacturer, rel.Version)
	login := h.Admin
	switch d.UpdateMechanism {
	case firmward.UpdateVendorCloud:
		login = "The vendor's app or cloud console. " + h.Admin
	case firmward.UpdateWebAdmin:
		if len(d.IPs) > 0 {
			login = "The device's web page: https://" + d.IPs[0] + "/ (try http:// if it has no TLS). " + h.Admin
		}
	case firmward.UpdateTechnician:
		login = "On site: a technician with physical access. " + h.Admin
	}
	t.Instructions = []string{
		"Device: " + where + ", now running " + orUnknown(d.FirmwareVersion) + ".",
		"Where to log in: " + login,
		"Install version " + rel.Version + " (fixes " + fixes(rel) + ").",
	}
	if rel.MinFromVersion != "" {
		t.Instructions = append(t.Instructions, "It installs over version "+rel.MinFromVersion+" or later only: if the device runs an older one, update it to "+rel.MinFromVersion+" first.")
	}
	if len(rel.HardwareVersions) > 0 {
		t.Instructions = append(t.Instructions, "It is for hardware "+strings.Join(rel.HardwareVersions, ", ")+" only: check the label or the device's status page first.")
	}
	for _, a := range rel.Artifacts {
		line := "File: " + a.Name
		if a.URL != "" {
			line += " from " + a.URL
		}
		if a.SHA256 != "" {
			line += ", sha256 " + a.SHA256
		}
		t.Instructions = append(t.Instructions, line)
	}
	t.Instructions = append(t.Instructions,
		"Check: "+h.Version+" It must show "+rel.Version+" or later.",
		"The task closes when firmward sees the new version (agent, scan, or an edit of the device's firmware version).")
	return t
}

func fixes(rel *firmward.Release) string {
	if len(rel.FixesCVEs) == 0 {
		return "no listed CVE"
	}
	return strings.Join(rel.FixesCVEs, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown version"
	}
	return s
}
