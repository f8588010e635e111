package assess

import (
	"context"
	"log/slog"
	"time"

	"github.com/firmward/firmward"
)

// NotifyFull queues a full re-match (Full).
func (e *Engine) NotifyFull() { e.notify(true, nil, nil) }

// NotifyDevices queues a re-match of the devices ids (Devices).
func (e *Engine) NotifyDevices(ids ...int64) { e.notify(false, ids, nil) }

// NotifyVulnerabilities queues a re-match of the CVEs ids
// (Vulnerabilities).
func (e *Engine) NotifyVulnerabilities(ids ...string) { e.notify(false, nil, ids) }

func (e *Engine) notify(full bool, devices []int64, cves []string) {
	if !full && len(devices) == 0 && len(cves) == 0 {
		return
	}
	e.qmu.Lock()
	e.full = e.full || full
	for _, id := range devices {
		e.devices[id] = struct{}{}
	}
	for _, id := range cves {
		e.cves[id] = struct{}{}
	}
	e.qmu.Unlock()
	e.kick()
}

// kick wakes the worker up.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Start runs the worker until ctx ends: it takes what Notify queued,
// merged (a queued Full absorbs everything else; otherwise the changed
// CVEs go first, then the devices), runs it and logs the outcome. When
// every is positive it also queues a Full every so often, so that risk
// acceptances that expire reopen and due dates follow policy changes.
// A server calls NotifyFull before Start to match everything at start.
func (e *Engine) Start(ctx context.Context, every time.Duration) {
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			e.qmu.Lock()
			e.busy = false
			e.idle.Broadcast()
			e.qmu.Unlock()
			return
		case <-tick:
			e.NotifyFull()
		case <-e.wake:
			e.drain(ctx)
		}
	}
}

// drain runs queued work until the queue is empty.
func (e *Engine) drain(ctx context.Context) {
	for ctx.Err() == nil {
		e.qmu.Lock()
		full, devices, cves, catchUp := e.full, e.devices, e.cves, e.catchUp
		if !full && len(devices) == 0 && len(cves) == 0 && !catchUp {
			e.busy = false
			e.idle.Broadcast()
			e.qmu.Unlock()
			return
		}
		e.busy = true
		e.full, e.devices, e.cves = false, map[int64]struct{}{}, map[string]struct{}{}
		e.catchUp = false
		e.qmu.Unlock()

		if full { // reads the change log's position too: no catch-up needed
			e.report(ctx, "full", 0)(e.Full(ctx))
			continue
		}
		if catchUp { // logged only when it found something: it runs every few seconds
			if res, err := e.CatchUp(ctx); err != nil || res.CVEs > 0 {
				e.report(ctx, "change log", 0)(res, err)
			}
		}
		if len(cves) > 0 {
			ids := make([]string, 0, len(cves))
			for id := range cves {
				ids = append(ids, id)
			}
			e.report(ctx, "vulnerabilities", len(ids))(e.Vulnerabilities(ctx, ids))
		}
		if len(devices) > 0 {
			ids := make([]int64, 0, len(devices))
			for id := range devices {
				ids = append(ids, id)
			}
			e.report(ctx, "devices", len(ids))(e.Devices(ctx, ids))
		}
	}
}

// report returns a function that logs the outcome of one piece of work.
func (e *Engine) report(ctx context.Context, kind string, n int) func(*RunResult, error) {
	return func(res *RunResult, err error) {
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("re-matching failed; it runs again with the next change or the next full run",
					slog.String("kind", kind), slog.Int("queued", n), slog.Any("err", err))
			}
			return
		}
		e.log.Info("re-matched", slog.String("kind", kind), slog.Int("queued", n),
			slog.Int("cves", res.CVEs), slog.Int("devices", res.Devices),
			slog.Int("opened", res.Opened), slog.Int("fixed", res.Fixed), slog.Int("reopened", res.Reopened),
			slog.Duration("took", res.Duration))
	}
}

// Wait blocks until the worker has nothing queued or running, or ctx
// ends. It is meant for tests and for commands that must see their change
// matched before they answer.
func (e *Engine) Wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		e.qmu.Lock()
		e.idle.Broadcast()
		e.qmu.Unlock()
	})
	defer stop()
	e.qmu.Lock()
	defer e.qmu.Unlock()
	for e.busy || e.full || len(e.devices) > 0 || len(e.cves) > 0 || e.catchUp {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.idle.Wait()
	}
	return nil
}

// WatchDevices returns devices with every successful create, edit and
// import queued on e for re-matching (deletions need nothing: the store
// deletes a device's findings with it).
func WatchDevices(devices firmward.DeviceService, e *Engine) firmward.DeviceService {
	return &watchedDevices{DeviceService: devices, e: e}
}

type watchedDevices struct {
	firmward.DeviceService
	e *Engine
}

func (w *watchedDevices) CreateDevice(ctx context.Context, d *firmward.Device) error {
	if err := w.DeviceService.CreateDevice(ctx, d); err != nil {
		return err
	}
	w.e.NotifyDevices(d.ID)
	return nil
}

func (w *watchedDevices) UpdateDevice(ctx context.Context, id int64, u firmward.DeviceUpdate) (*firmward.Device, error) {
	d, err := w.DeviceService.UpdateDevice(ctx, id, u)
	if err != nil {
		return nil, err
	}
	w.e.NotifyDevices(id)
	return d, nil
}

func (w *watchedDevices) ImportDevices(ctx context.Context, rows []firmward.ImportRow, opts firmward.ImportOptions) (*firmward.ImportResult, error) {
	res, err := w.DeviceService.ImportDevices(ctx, rows, opts)
	if err != nil {
		return nil, err
	}
	if !res.DryRun {
		w.e.NotifyDevices(res.IDs...)
	}
	return res, nil
}

// WatchVulnerabilities returns vulns with the changed CVEs of every
// committed feed import queued on e for re-matching.
func WatchVulnerabilities(vulns firmward.VulnerabilityService, e *Engine) firmward.VulnerabilityService {
	return &watchedVulns{VulnerabilityService: vulns, e: e}
}

type watchedVulns struct {
	firmward.VulnerabilityService
	e *Engine
}

func (w *watchedVulns) BeginFeedImport(ctx context.Context, name, format string) (firmward.FeedImport, error) {
	fi, err := w.VulnerabilityService.BeginFeedImport(ctx, name, format)
	if err != nil {
		return nil, err
	}
	return &watchedImport{FeedImport: fi, e: w.e}, nil
}

type watchedImport struct {
	firmward.FeedImport
	e *Engine
}

func (w *watchedImport) Commit(ctx context.Context) (*firmward.FeedImportResult, error) {
	res, err := w.FeedImport.Commit(ctx)
	if err != nil {
		return nil, err
	}
	w.e.imported(res.FirstChange, res.LastChange, res.ChangedCVEs)
	return res, nil
}
