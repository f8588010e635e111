package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/firmward/firmward"
)

// DefaultMaxRunning is how many scans a Runner runs at once by default.
const DefaultMaxRunning = 2

// RunnerConfig is what a Runner needs. Scan may be nil (a server without
// a scanner still imports reports sent by CLI scans).
type RunnerConfig struct {
	Scan     firmward.ScanFunc
	Ingester *Ingester
	// MaxRunning bounds the scans running at once (DefaultMaxRunning when
	// zero); more are refused with ECONFLICT.
	MaxRunning int
	Now        func() time.Time
	Logger     *slog.Logger
}

// Runner runs scans in the background and ingests their reports. Its
// zero value is not usable; call NewRunner.
type Runner struct {
	scan firmward.ScanFunc
	in   *Ingester
	max  int
	now  func() time.Time
	log  *slog.Logger
	base context.Context

	wg sync.WaitGroup
	// mu guards running.
	mu sync.Mutex
	// running holds the CIDRs (with interface) being scanned.
	running map[string]bool
}

// NewRunner returns a Runner whose background scans run under base:
// cancelling it stops them (a shutdown); Wait waits for them.
func NewRunner(base context.Context, cfg RunnerConfig) *Runner {
	r := &Runner{scan: cfg.Scan, in: cfg.Ingester, max: cfg.MaxRunning, now: cfg.Now, log: cfg.Logger, base: base, running: map[string]bool{}}
	if r.max <= 0 {
		r.max = DefaultMaxRunning
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// Discovery returns the discovery store.
func (r *Runner) Discovery() firmward.DiscoveryService { return r.in.Discovery() }

// Ingester returns the Ingester the Runner writes with.
func (r *Runner) Ingester() *Ingester { return r.in }

// CanScan reports whether the Runner has a scanner.
func (r *Runner) CanScan() bool { return r.scan != nil }

// Start validates req, stores a running scan run and scans in the
// background, under the Runner's base context with the actor of ctx; it
// returns the stored run at once. EINVALID for a bad request or when there
// is no scanner, ECONFLICT when the same network is being scanned or too
// many scans run.
func (r *Runner) Start(ctx context.Context, req firmward.ScanRequest, trigger string) (*firmward.ScanRun, error) {
	if r.scan == nil {
		return nil, firmward.Errorf(firmward.EINVALID, "%v; run `firmward scan --import` where the network is instead", errNoScanner)
	}
	if err := req.Normalize(); err != nil {
		return nil, err
	}
	key := req.CIDR + "%" + req.Interface
	r.mu.Lock()
	switch {
	case r.running[key]:
		r.mu.Unlock()
		return nil, firmward.Errorf(firmward.ECONFLICT, "%s is being scanned already", req.CIDR)
	case len(r.running) >= r.max:
		r.mu.Unlock()
		return nil, firmward.Errorf(firmward.ECONFLICT, "%d scans are running already; try again when one has finished", len(r.running))
	}
	r.running[key] = true
	r.mu.Unlock()
	release := func() {
		r.mu.Lock()
		delete(r.running, key)
		r.mu.Unlock()
	}
	run := &firmward.ScanRun{
		Site: req.Site, CIDR: req.CIDR, Interface: req.Interface, Trigger: trigger,
		Actor: firmward.ActorFrom(ctx).String(), StartedAt: r.now().UTC(),
	}
	if err := r.in.svc.Discovery.CreateScanRun(ctx, run); err != nil {
		release()
		return nil, err
	}
	out := *run
	bg := firmward.WithActor(r.base, firmward.ActorFrom(ctx))
	r.wg.Go(func() {
		defer release()
		r.execute(bg, run, req)
	})
	return &out, nil
}

// execute scans, ingests and finishes run.
func (r *Runner) execute(ctx context.Context, run *firmward.ScanRun, req firmward.ScanRequest) {
	r.log.Info("scan started", "run", run.ID, "cidr", req.CIDR, "site", req.Site, "trigger", run.Trigger)
	rep, err := r.scan(ctx, req)
	if err == nil {
		err = r.in.Ingest(ctx, run, rep)
	}
	r.finish(ctx, run, err)
}

// finish stores the end of run; the write outlives a cancelled ctx so
// that a shutdown does not leave runs "running".
func (r *Runner) finish(ctx context.Context, run *firmward.ScanRun, err error) {
	now := r.now().UTC()
	run.FinishedAt = &now
	run.Status = firmward.ScanDone
	if run.Trigger == firmward.TriggerImport {
		run.Status = firmward.ScanImported
	}
	if err != nil {
		run.Status, run.Error = firmward.ScanFailed, err.Error()
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if ferr := r.in.svc.Discovery.FinishScanRun(wctx, run); ferr != nil {
		r.log.Error("storing the end of a scan", "run", run.ID, "err", ferr)
	}
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelWarn
	}
	r.log.Log(ctx, lvl, "scan finished", "run", run.ID, "status", run.Status, "hosts", run.Hosts,
		"new", run.New, "updated", run.Updated, "conflicts", run.Conflicts, "err", run.Error)
}

// Import ingests a report made elsewhere (a CLI scan) synchronously and
// returns the finished run (status imported, or failed).
func (r *Runner) Import(ctx context.Context, site string, rep *firmward.ScanReport) (*firmward.ScanRun, error) {
	if rep == nil {
		return nil, firmward.Errorf(firmward.EINVALID, "a scan report is required")
	}
	req := firmward.ScanRequest{CIDR: rep.CIDR, Interface: rep.Interface, Site: site}
	if err := req.Normalize(); err != nil {
		return nil, err
	}
	if len(rep.Hosts) > 1<<16 {
		return nil, firmward.Errorf(firmward.EINVALID, "a scan report holds at most 65536 hosts, not %d", len(rep.Hosts))
	}
	started := rep.StartedAt
	if started.IsZero() {
		started = r.now()
	}
	run := &firmward.ScanRun{
		Site: req.Site, CIDR: req.CIDR, Interface: req.Interface, Trigger: firmward.TriggerImport,
		Actor: firmward.ActorFrom(ctx).String(), StartedAt: started.UTC(),
	}
	if err := r.in.svc.Discovery.CreateScanRun(ctx, run); err != nil {
		return nil, err
	}
	err := r.in.Ingest(ctx, run, rep)
	r.finish(ctx, run, err)
	if err != nil {
		return run, fmt.Errorf("importing scan report: %w", err)
	}
	return run, nil
}

// Wait waits for the background scans to end.
func (r *Runner) Wait() { r.wg.Wait() }

// Scheduler starts the scans of each site's schedule when they are due.
type Scheduler struct {
	disc  firmward.DiscoveryService
	start func(ctx context.Context, req firmward.ScanRequest, trigger string) (*firmward.ScanRun, error)
	now   func() time.Time
	log   *slog.Logger
}

// SchedulerActor is who scheduled scans run as.
var SchedulerActor = firmward.Actor{Kind: "system", Name: "scan-schedule"}

// NewScheduler returns a Scheduler starting scans with r.Start.
func NewScheduler(r *Runner, now func() time.Time, log *slog.Logger) *Scheduler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{disc: r.Discovery(), start: r.Start, now: now, log: log}
}

// Tick starts the scans of every due schedule (one per subnet) and records
// the schedule as run, and returns the runs started. A subnet that cannot
// start (being scanned already, too many scans) is logged and waits for the
// next interval.
func (s *Scheduler) Tick(ctx context.Context) ([]*firmward.ScanRun, error) {
	scheds, err := s.disc.FindScanSchedules(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ctx = firmward.WithActor(ctx, SchedulerActor)
	var started []*firmward.ScanRun
	for _, sc := range scheds {
		if !sc.Due(now) {
			continue
		}
		if err := s.disc.MarkScheduleRun(ctx, sc.Site, now); err != nil {
			return started, err
		}
		for _, subnet := range sc.Subnets {
			req := firmward.ScanRequest{
				CIDR: subnet, Interface: sc.Interface, Site: sc.Site,
				Options: firmward.ScanOptions{Communities: sc.Communities},
			}
			run, err := s.start(ctx, req, firmward.TriggerSchedule)
			if err != nil {
				s.log.Warn("scheduled scan not started", "site", sc.Site, "cidr", subnet, "err", err)
				continue
			}
			started = append(started, run)
		}
	}
	return started, nil
}

// Run calls Tick every interval until ctx ends.
func (s *Scheduler) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scan schedules", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Describe returns a one-line summary of a run for logs and the CLI.
func Describe(run *firmward.ScanRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scan %d of %s: %s, %d hosts, %d new, %d updated, %d conflicts", run.ID, run.CIDR, run.Status,
		run.Hosts, run.New, run.Updated, run.Conflicts)
	if run.Error != "" {
		b.WriteString(" (" + run.Error + ")")
	}
	return b.String()
}
