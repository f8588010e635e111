package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
	"github.com/firmward/firmward/vuln"
)

// Runner moves running campaigns on: each Tick reads every running or
// paused campaign, takes a Step and applies its decisions in one
// transaction on the version it read. Two runners on one database take
// each decision once: the second finds the version moved and skips.
//
// A step reads the counts of every wave and only the members it acts on
// (CampaignService.CampaignProgress and StepMembers), and applies at most
// MaxCreates new actions and tasks per transaction: a wave of 25,000
// devices starts in several short transactions, one after the other
// within the same Tick, so that devices' reports are not held up behind
// one long write.
type Runner struct {
	Campaigns firmward.CampaignService
	Releases  firmward.ReleaseService
	Devices   firmward.DeviceService
	Policy    Policy
	Now       func() time.Time
	Logger    *slog.Logger
	// MaxCreates bounds the actions and tasks one transaction creates;
	// zero is DefaultMaxCreates.
	MaxCreates int
	// RescanEvery is how often a running dynamic campaign reads every
	// device its target matches; in between it reads only the devices
	// created or changed since its last read (less ScanOverlap, for the
	// clocks of other replicas). Zero is DefaultRescanEvery.
	RescanEvery time.Duration

	mu      sync.Mutex
	scanned map[int64]scanMark // campaign → its last reads of candidates
}

// scanMark is when a dynamic campaign's candidates were last read, and
// last read whole.
type scanMark struct{ last, full time.Time }

// Defaults of Runner.
const (
	DefaultRescanEvery = 10 * time.Minute
	// ScanOverlap is how far before its last read a dynamic campaign
	// reads changed devices again: devices are stamped by the clock of
	// the replica that changed them.
	ScanOverlap = time.Minute
)

// DefaultMaxCreates is Runner.MaxCreates when unset.
const DefaultMaxCreates = 2000

// Tick takes one step for every active campaign and returns how many
// decisions were applied. A campaign whose step fails is logged and the
// others go on; the first error is returned.
func (r *Runner) Tick(ctx context.Context) (int, error) {
	var active []*firmward.Campaign
	for _, st := range []firmward.CampaignStatus{firmward.CampaignRunning, firmward.CampaignPaused} {
		for after := int64(0); ; {
			page, next, err := r.Campaigns.FindCampaigns(ctx, firmward.CampaignFilter{Status: st, After: after, Limit: firmward.MaxPageSize})
			if err != nil {
				return 0, fmt.Errorf("listing campaigns: %w", err)
			}
			active = append(active, page...)
			if next == 0 {
				break
			}
			after = next
		}
	}
	n := 0
	var first error
	for _, c := range active {
		k, err := r.StepCampaign(ctx, c)
		n += k
		if err != nil {
			r.logger().Error("campaign step failed", "campaign", c.ID, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return n, first
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// StepCampaign takes steps for c and applies them until a step is applied
// whole; a step another runner took first (ECONFLICT) ends it.
func (r *Runner) StepCampaign(ctx context.Context, c *firmward.Campaign) (int, error) {
	n := 0
	for {
		st, err := r.State(ctx, c)
		if err != nil {
			return n, err
		}
		ds, more := r.bound(Step(*st, r.now(), r.Policy))
		if len(ds) == 0 {
			return n, nil
		}
		next, err := r.Campaigns.ApplyCampaignStep(ctx, c.ID, c.Version, ds)
		if err != nil {
			if firmward.ErrorCode(err) == firmward.ECONFLICT {
				r.logger().Debug("campaign moved on meanwhile", "campaign", c.ID, "version", c.Version)
				return n, nil
			}
			return n, fmt.Errorf("applying the step of campaign %d: %w", c.ID, err)
		}
		n += len(ds)
		logDecisions(r.logger(), c.ID, ds)
		if !more {
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		c = next
	}
}

// bound cuts ds before its (MaxCreates+1)th create decision; more reports
// a cut. What is cut is taken again by the next step: every decision holds
// by itself, and the order (a wave started before its actions) is kept.
func (r *Runner) bound(ds []firmward.CampaignDecision) (_ []firmward.CampaignDecision, more bool) {
	limit := r.MaxCreates
	if limit <= 0 {
		limit = DefaultMaxCreates
	}
	n := 0
	for i, d := range ds {
		if d.Kind != firmward.DecideCreateAction && d.Kind != firmward.DecideCreateTask {
			continue
		}
		if n++; n > limit {
			return ds[:i], true
		}
	}
	return ds, false
}

// logDecisions logs a step: each decision, except that creates beyond a
// few are counted rather than listed.
func logDecisions(l *slog.Logger, id int64, ds []firmward.CampaignDecision) {
	creates := 0
	for _, d := range ds {
		if d.Kind == firmward.DecideCreateAction || d.Kind == firmward.DecideCreateTask {
			if creates++; creates > 10 {
				continue
			}
		}
		l.Info("campaign decision", "campaign", id, "decision", d.String())
	}
	if creates > 10 {
		l.Info("campaign decisions", "campaign", id, "created", creates)
	}
}

// State reads what Step needs about c.
func (r *Runner) State(ctx context.Context, c *firmward.Campaign) (*State, error) {
	rel, err := r.Releases.FindReleaseByID(ctx, c.ReleaseID)
	if err != nil {
		return nil, fmt.Errorf("reading release of campaign %d: %w", c.ID, err)
	}
	st := &State{Campaign: c, Release: rel}
	if st.Progress, err = r.Campaigns.CampaignProgress(ctx, c.ID); err != nil {
		return nil, err
	}
	if st.Members, err = r.Campaigns.StepMembers(ctx, c.ID, max(c.CurrentWave, 0), r.now()); err != nil {
		return nil, err
	}
	if c.Dynamic {
		if st.Joined, err = r.Campaigns.CampaignDeviceIDs(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	if c.Status == firmward.CampaignRunning && (!c.Planned || c.Dynamic) {
		// A planned dynamic campaign needs the newcomers only: devices
		// changed since its last read, and all of them now and then.
		since, start := time.Time{}, r.now()
		if c.Planned {
			since = r.scanSince(c.ID, start)
		}
		if st.Candidates, err = candidates(ctx, r.Devices, &c.Target, since); err != nil {
			return nil, err
		}
		r.markScanned(c.ID, start, since.IsZero())
	}
	return st, nil
}

// scanSince is the time from which a dynamic campaign reads changed
// devices at now; the zero time means every device.
func (r *Runner) scanSince(id int64, now time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.scanned[id]
	every := r.RescanEvery
	if every <= 0 {
		every = DefaultRescanEvery
	}
	if !ok || now.Sub(m.full) >= every {
		return time.Time{}
	}
	return m.last.Add(-ScanOverlap)
}

// markScanned records a read of campaign id's candidates begun at start.
func (r *Runner) markScanned(id int64, start time.Time, full bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scanned == nil {
		r.scanned = map[int64]scanMark{}
	}
	m := r.scanned[id]
	m.last = start
	if full {
		m.full = start
	}
	r.scanned[id] = m
}

// Candidates reads the devices matching t (the store narrows by category,
// site, manufacturer and first tag; Matches checks the rest).
func Candidates(ctx context.Context, devices firmward.DeviceService, t *firmward.CampaignTarget) ([]*firmward.Device, error) {
	return candidates(ctx, devices, t, time.Time{})
}

// candidates is Candidates limited to devices changed since since (the
// zero time: all).
func candidates(ctx context.Context, devices firmward.DeviceService, t *firmward.CampaignTarget, since time.Time) ([]*firmward.Device, error) {
	var out []*firmward.Device
	if len(t.DeviceIDs) > 0 {
		for _, id := range t.DeviceIDs {
			d, err := devices.FindDeviceByID(ctx, id)
			if firmward.ErrorCode(err) == firmward.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("reading device %d: %w", id, err)
			}
			if t.Matches(d) {
				out = append(out, d)
			}
		}
		return out, nil
	}
	f := firmward.DeviceFilter{Category: t.Category, Site: t.Site, Manufacturer: t.Manufacturer, UpdatedSince: since, Limit: firmward.MaxPageSize}
	if len(t.Tags) > 0 {
		f.Tag = t.Tags[0]
	}
	for {
		page, next, err := devices.FindDevices(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reading target devices: %w", err)
		}
		for _, d := range page {
			if t.Matches(d) {
				out = append(out, d)
			}
		}
		if next == 0 {
			return out, nil
		}
		f.After = next
	}
}

// Run ticks every interval until ctx ends.
func (r *Runner) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx); err != nil && !errors.Is(err, context.Canceled) {
			r.logger().Error("campaign runner", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CampaignReport is the status of a campaign: its waves' counts and when its soak
// period ends.
type CampaignReport struct {
	Campaign  *firmward.Campaign         `json:"campaign"`
	Release   *firmward.Release          `json:"release"`
	Waves     []WaveStats                `json:"waves"`
	SoakUntil *time.Time                 `json:"soak_until,omitempty"`
	SoakFor   firmward.Category          `json:"soak_for,omitempty"`
	Members   []*firmward.CampaignMember `json:"members,omitempty"`
}

// Summarize builds the CampaignReport of a campaign.
func Summarize(c *firmward.Campaign, rel *firmward.Release, members []*firmward.CampaignMember, pol Policy) *CampaignReport {
	var cats []firmward.Category
	for _, m := range members {
		if m.Device != nil {
			cats = append(cats, m.Device.Category)
		}
	}
	if c.Target.Category != "" {
		cats = append(cats, c.Target.Category)
	}
	rep := &CampaignReport{Campaign: c, Release: rel, Waves: Waves(c, members), Members: members}
	if until, cat := pol.SoakUntil(rel.ReleaseDate, cats); !until.IsZero() {
		rep.SoakUntil, rep.SoakFor = &until, cat
	}
	return rep
}

// SummarizeProgress builds the CampaignReport of a campaign from the
// counts the store made (no members listed).
func SummarizeProgress(c *firmward.Campaign, rel *firmward.Release, p *firmward.CampaignProgress, pol Policy) *CampaignReport {
	cats := slices.Clone(p.Categories)
	if c.Target.Category != "" {
		cats = append(cats, c.Target.Category)
	}
	rep := &CampaignReport{Campaign: c, Release: rel, Waves: progressWaves(c, p, nil)}
	if until, cat := pol.SoakUntil(rel.ReleaseDate, cats); !until.IsZero() {
		rep.SoakUntil, rep.SoakFor = &until, cat
	}
	return rep
}

// PreviousRelease returns the release a rollback of rel goes back to: the
// newest release of the same manufacturer, older than rel, not withdrawn,
// for at least one of rel's models; nil when there is none.
func PreviousRelease(rel *firmward.Release, catalog []*firmward.Release) *firmward.Release {
	var best *firmward.Release
	for _, r := range catalog {
		if r.ID == rel.ID || r.Withdrawn || !lifecycle.SameManufacturer(r.Manufacturer, rel.Manufacturer) ||
			vuln.CompareVersions(r.Version, rel.Version) >= 0 {
			continue
		}
		shared := false
		for _, m := range r.Models {
			shared = shared || slices.ContainsFunc(rel.Models, func(x string) bool { return strings.EqualFold(x, m) })
		}
		if shared && (best == nil || vuln.CompareVersions(r.Version, best.Version) > 0) {
			best = r
		}
	}
	return best
}

// RollbackTargets returns the devices of a campaign that may run its
// release: those whose action finished with success or is still under
// way.
func RollbackTargets(members []*firmward.CampaignMember) []int64 {
	var out []int64
	for _, m := range members {
		if a := m.Action; a != nil && (a.Status == firmward.ActionRunning || a.Status == firmward.ActionCanceling ||
			(a.Status == firmward.ActionFinished && a.Result == firmward.ResultSuccess)) {
			out = append(out, m.DeviceID)
		}
	}
	return out
}
