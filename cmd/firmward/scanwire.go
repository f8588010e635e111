package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/discovery"
	"github.com/firmward/firmward/ingest"
	"github.com/firmward/firmward/recog"
	"github.com/firmward/firmward/sqlstore"
)

// scheduleTick is how often the server looks for due scheduled scans.
const scheduleTick = time.Minute

// scanRuntime is the server's discovery: the scanner (the discovery
// adapter, handed to the API and web UI as a firmward.ScanFunc inside an
// ingest.Runner), the ingest into the inventory and the scheduler.
type scanRuntime struct {
	runner    *ingest.Runner
	scheduler *ingest.Scheduler
	alerts    firmward.AlertService
	logger    *slog.Logger

	cancel  context.CancelFunc // ends background scans and the scheduler
	started bool               // the scheduler runs
	done    chan struct{}      // closed when the scheduler has returned
}

// newScanRuntime wires discovery. devices should be the watched device
// service, so that what scans change is re-matched.
func newScanRuntime(db *sqlstore.DB, devices firmward.DeviceService, logger *slog.Logger) (*scanRuntime, error) {
	logger = logger.With(slog.String("component", "discovery"))
	rules, err := recog.Builtin()
	if err != nil {
		return nil, fmt.Errorf("loading firmward's fingerprint rules: %w", err)
	}
	base := discovery.Options{Rules: rules, Logger: logger}
	if oui, err := discovery.LoadOUI(discovery.DefaultOUIPath); err == nil {
		base.OUI = oui
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("loading the IEEE OUI registry: %w", err)
	} else {
		logger.Warn("no IEEE OUI registry: scans will not name MAC vendors (install Debian's ieee-data)", slog.String("path", discovery.DefaultOUIPath))
	}
	alerts := sqlstore.NewAlertService(db)
	in := ingest.New(ingest.Services{Devices: devices, Discovery: sqlstore.NewDiscoveryService(db), Alerts: alerts},
		ingest.Options{Logger: logger})
	ctx, cancel := context.WithCancel(context.Background())
	rt := &scanRuntime{alerts: alerts, logger: logger, cancel: cancel, done: make(chan struct{})}
	rt.runner = ingest.NewRunner(ctx, ingest.RunnerConfig{Scan: discovery.NewScanFunc(base), Ingester: in, Now: time.Now, Logger: logger})
	rt.scheduler = ingest.NewScheduler(rt.runner, time.Now, logger)
	return rt, nil
}

// start runs the scheduler until close.
func (rt *scanRuntime) start(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	prev := rt.cancel
	rt.cancel = func() { cancel(); prev() }
	rt.started = true
	go func() {
		defer close(rt.done)
		rt.scheduler.Run(ctx, scheduleTick)
	}()
}

// close stops the scheduler and the scans in progress (their runs are
// stored as failed) and waits for them.
func (rt *scanRuntime) close() {
	if rt == nil || rt.cancel == nil {
		return
	}
	rt.cancel()
	rt.runner.Wait()
	if rt.started {
		<-rt.done // Run returns as soon as its context ends
	}
	rt.cancel = nil
}
