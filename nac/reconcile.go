package nac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	firmward "github.com/firmward/firmward"
)

// TransitionKind names a change of a device's quarantine.
type TransitionKind string

// Transition kinds.
const (
	TransitionQuarantine    TransitionKind = "quarantine"
	TransitionRelease       TransitionKind = "release"
	TransitionNeedsApproval TransitionKind = "needs-approval"
)

// Transition is a change between the stored state and a new decision.
// Network says the network must act (the enforced quarantine changed):
// the Actuator sends CoA/Disconnect only then. In monitor mode a
// transition is reported and notified with Network false.
type Transition struct {
	Kind     TransitionKind `json:"kind"`
	Network  bool           `json:"network"`
	Decision Decision       `json:"decision"`
}

// Diff compares the stored state with a new decision and returns the
// transitions it implies, in order: quarantine or release (reported or
// enforced), and needs-approval when a rule newly hits a protected device.
// Pure: no I/O.
func Diff(prev firmward.NACState, d Decision) []Transition {
	var out []Transition
	network := prev.Enforced != d.Enforced
	switch {
	case network && d.Enforced:
		out = append(out, Transition{Kind: TransitionQuarantine, Network: true, Decision: d})
	case network: // enforced before, not now (released, or the site went to monitor mode)
		out = append(out, Transition{Kind: TransitionRelease, Network: true, Decision: d})
	case d.Quarantine && !prev.Quarantined:
		out = append(out, Transition{Kind: TransitionQuarantine, Decision: d})
	case !d.Quarantine && prev.Quarantined:
		out = append(out, Transition{Kind: TransitionRelease, Decision: d})
	}
	if d.NeedsApproval && !prev.NeedsApproval {
		out = append(out, Transition{Kind: TransitionNeedsApproval, Decision: d})
	}
	return out
}

// Actuator tells the network about a transition (RFC 5176 CoA or
// Disconnect to the NAS that last authenticated each MAC) and records the
// outcomes itself.
type Actuator interface {
	Act(ctx context.Context, ev Evaluation, t Transition) error
}

// Notifier mirrors a transition to another system (the PacketFence-style
// webhook) and records the outcome itself.
type Notifier interface {
	Notify(ctx context.Context, ev Evaluation, t Transition) error
}

// AlertRaiser raises an alert once per dedupe key (firmward.AlertService
// does).
type AlertRaiser interface {
	RaiseAlert(ctx context.Context, a *firmward.Alert) (bool, error)
}

// DeviceLister pages through device ids (firmward.DeviceService does).
type DeviceLister interface {
	FindDevices(ctx context.Context, f firmward.DeviceFilter) ([]*firmward.Device, int64, error)
}

// ReconcilerConfig configures a Reconciler. Store is required; Actuator
// and Notifier are optional.
type ReconcilerConfig struct {
	Store    Store
	Actuator Actuator
	Notifier Notifier
	// Alerts, when set, receives a quarantine alert for every transition,
	// needs-approval included (a person must decide), which notification
	// channels then send.
	Alerts AlertRaiser
	// Now stamps the alerts; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// OnPass, when set, is called after each pass of Run (tests wait on
	// it instead of sleeping).
	OnPass func(PassResult)
}

// PassResult counts what one pass did.
type PassResult struct {
	Evaluated   int          `json:"evaluated"`
	Transitions []Transition `json:"transitions,omitempty"`
	Errors      int          `json:"errors"`
}

// Reconciler keeps each device's quarantine in step with its decision:
// it re-evaluates devices (those it is told changed, or all on each tick),
// records every transition (audited), and on each one calls the Actuator
// (when the network must act) and the Notifier. Manual quarantine,
// release, approvals and exemptions take effect through the decision, so
// an exemption's expiry or a remediated finding releases or re-quarantines
// at the next evaluation without any special case.
type Reconciler struct {
	cfg ReconcilerConfig

	mu      sync.Mutex // guards pending and all
	pending map[int64]bool
	all     bool // a whole pass is wanted (a policy changed)
	wake    chan struct{}
}

// NewReconciler returns a reconciler; it panics without Store, which is a
// wiring mistake.
func NewReconciler(cfg ReconcilerConfig) *Reconciler {
	if cfg.Store == nil {
		panic("nac: ReconcilerConfig needs a Store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reconciler{cfg: cfg, pending: map[int64]bool{}, wake: make(chan struct{}, 1)}
}

// Notify queues devices whose inventory record, findings or NAC state
// changed; Run reconciles them soon.
func (r *Reconciler) Notify(ids ...int64) {
	r.mu.Lock()
	for _, id := range ids {
		r.pending[id] = true
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// NotifyAll asks Run for a pass over every device soon (a site policy
// changed: its mode, rules or VLANs).
func (r *Reconciler) NotifyAll() {
	r.mu.Lock()
	r.all = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Reconcile evaluates the given devices now and acts on their
// transitions. A device that no longer exists is skipped. Errors of single
// devices are logged, counted and joined.
func (r *Reconciler) Reconcile(ctx context.Context, ids ...int64) (PassResult, error) {
	var res PassResult
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		ts, err := r.one(ctx, id)
		if err != nil {
			res.Errors++
			r.cfg.Logger.ErrorContext(ctx, "nac: reconciling", "device", id, "err", err)
			errs = append(errs, fmt.Errorf("device %d: %w", id, err))
			continue
		}
		res.Evaluated++
		res.Transitions = append(res.Transitions, ts...)
	}
	return res, errors.Join(errs...)
}

func (r *Reconciler) one(ctx context.Context, id int64) ([]Transition, error) {
	ev, err := r.cfg.Store.Evaluate(ctx, id)
	if firmward.ErrorCode(err) == firmward.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	prev, changed, err := r.cfg.Store.RecordDecision(ctx, ev.Decision)
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, nil
	}
	ts := Diff(prev, ev.Decision)
	var errs []error
	for _, t := range ts {
		r.cfg.Logger.InfoContext(ctx, "nac: "+string(t.Kind), "device", id, "network", t.Network, "site", ev.Decision.Site,
			"mode", ev.Decision.Mode, "decision", ev.Decision.Summary())
		if t.Network && r.cfg.Actuator != nil {
			if err := r.cfg.Actuator.Act(ctx, ev, t); err != nil {
				errs = append(errs, fmt.Errorf("telling the network: %w", err))
			}
		}
		if r.cfg.Notifier != nil && t.Kind != TransitionNeedsApproval {
			if err := r.cfg.Notifier.Notify(ctx, ev, t); err != nil {
				errs = append(errs, fmt.Errorf("notifying: %w", err))
			}
		}
		if r.cfg.Alerts != nil {
			if _, err := r.cfg.Alerts.RaiseAlert(ctx, transitionAlert(ev, t, r.cfg.Now())); err != nil {
				errs = append(errs, fmt.Errorf("raising the alert: %w", err))
			}
		}
	}
	// Outcomes of CoA and webhooks are recorded by those; a failure to
	// reach a NAS does not undo the transition (the next authentication
	// gets the new answer anyway).
	for _, err := range errs {
		r.cfg.Logger.WarnContext(ctx, "nac: transition side effect failed", "device", id, "err", err)
	}
	return ts, nil
}

// All reconciles every device that a rule could quarantine or that has a
// stored state (Store.NACCandidates), a page at a time; the others are
// compliant whatever the policy.
func (r *Reconciler) All(ctx context.Context) (PassResult, error) {
	var total PassResult
	var errs []error
	var after int64
	for {
		ids, next, err := r.cfg.Store.NACCandidates(ctx, after, firmward.MaxPageSize)
		if err != nil {
			return total, fmt.Errorf("listing devices to evaluate: %w", err)
		}
		res, err := r.Reconcile(ctx, ids...)
		total.Evaluated += res.Evaluated
		total.Errors += res.Errors
		total.Transitions = append(total.Transitions, res.Transitions...)
		if err != nil {
			errs = append(errs, err)
		}
		if next == 0 || ctx.Err() != nil {
			break
		}
		after = next
	}
	return total, errors.Join(errs...)
}

// takePending returns and clears the queued ids, and whether a whole
// pass was asked for.
func (r *Reconciler) takePending() ([]int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := r.all
	r.all = false
	ids := make([]int64, 0, len(r.pending))
	for id := range r.pending {
		ids = append(ids, id)
	}
	clear(r.pending)
	slices.Sort(ids)
	return ids, all
}

// Run reconciles every device at start and on each tick, and the devices
// queued with Notify as they come, until ctx ends. The caller owns the
// ticker (a time.Ticker's C in the server, a plain channel in tests).
func (r *Reconciler) Run(ctx context.Context, tick <-chan time.Time) {
	pass := func(res PassResult, err error) {
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.WarnContext(ctx, "nac: reconcile pass had errors", "err", err)
		}
		if r.cfg.OnPass != nil {
			r.cfg.OnPass(res)
		}
	}
	pass(r.All(ctx))
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			r.takePending() // All covers them
			pass(r.All(ctx))
		case <-r.wake:
			switch ids, all := r.takePending(); {
			case all:
				pass(r.All(ctx))
			case len(ids) > 0:
				pass(r.Reconcile(ctx, ids...))
			}
		}
	}
}

// transitionAlert is the quarantine alert of one transition: a
// needs-approval one says what a person must decide.
func transitionAlert(ev Evaluation, t Transition, now time.Time) *firmward.Alert {
	d := ev.Device
	msg := t.Decision.Summary()
	if t.Kind == TransitionNeedsApproval {
		msg = "a rule would quarantine this protected device: an admin must approve or exempt it (" + msg + ")"
	}
	a := firmward.QuarantineAlert(&firmward.NACEvent{
		DeviceID: d.ID, Time: now, Kind: string(t.Kind), Actor: "firmward", Enforced: t.Decision.Enforced, Message: msg,
	}, d.Name, t.Decision.Site)
	if t.Kind == TransitionNeedsApproval {
		a.Severity = firmward.SeverityHigh
	}
	return a
}
