package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/jobs"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/sqlstore"
)

// defaultCampaignInterval is how often the campaign runner takes a step.
const defaultCampaignInterval = 10 * time.Second

// campaignStopTimeout bounds how long close waits for a tick in progress
// before cancelling it.
const campaignStopTimeout = 10 * time.Second

// campaignRuntime is the campaign runner of serve: it moves running
// campaigns on every interval.
//
// On PostgreSQL, where several replicas may share the database, the ticks
// are River jobs (package jobs): only River's elected leader enqueues them
// and one tick exists at a time, so each runs on one replica. On SQLite one
// process owns the file and an in-process ticker runs them. Either way each
// step is applied on the campaign's version it read, a second guard against
// a decision taken twice.
type campaignRuntime struct {
	campaigns *sqlstore.CampaignService
	tasks     *sqlstore.TaskService
	policy    rollout.Policy
	runner    *rollout.Runner
	logger    *slog.Logger // the runner's
	jobsLog   *slog.Logger // River's, on PostgreSQL
	// dsn is the PostgreSQL URL of the database; "" on SQLite.
	dsn string

	queue  *jobs.Queue        // on PostgreSQL, once started
	cancel context.CancelFunc // on SQLite, once started
	done   chan struct{}
}

// newCampaignRuntime builds the runner over db; dsn is the URL db was
// opened with.
func newCampaignRuntime(db *sqlstore.DB, dsn string, releases firmward.ReleaseService, devices firmward.DeviceService, logger *slog.Logger) *campaignRuntime {
	rt := &campaignRuntime{
		campaigns: sqlstore.NewCampaignService(db), tasks: sqlstore.NewTaskService(db), policy: rollout.DefaultPolicy(),
		logger: logger.With(slog.String("component", "rollout")), jobsLog: logger.With(slog.String("component", "jobs")),
	}
	if db.Dialect() == sqlstore.DialectPostgres {
		rt.dsn = dsn
	}
	rt.runner = &rollout.Runner{
		Campaigns: rt.campaigns, Releases: releases, Devices: devices, Policy: rt.policy, Now: time.Now,
		Logger: rt.logger,
	}
	return rt
}

// rolloutActor is who the runner's changes are audited as.
func rolloutActor() firmward.Actor { return firmward.Actor{Kind: "system", Name: "rollout"} }

// tick takes one runner step as the rollout actor.
func (rt *campaignRuntime) tick(ctx context.Context) error {
	_, err := rt.runner.Tick(firmward.WithActor(ctx, rolloutActor()))
	return err
}

// start runs the runner every interval (0: never) until close. On
// PostgreSQL it fails when River's tables cannot be migrated or its client
// cannot start; after that, failed ticks are only logged.
func (rt *campaignRuntime) start(ctx context.Context, interval time.Duration, replicaID string) error {
	if interval <= 0 {
		rt.logger.Info("campaign runner off", slog.String("coordination", "none"))
		return nil
	}
	if rt.dsn != "" {
		q, err := jobs.Start(ctx, jobs.Config{
			DSN: rt.dsn, ID: replicaID, CampaignInterval: interval, CampaignTick: rt.tick,
			Logger: rt.jobsLog,
		})
		if err != nil {
			return err
		}
		rt.queue = q
		rt.logger.Info("campaign runner started", slog.String("coordination", "river"),
			slog.String("client", q.ID()), slog.String("interval", interval.String()))
		return nil
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rt.cancel, rt.done = cancel, make(chan struct{})
	ctx = firmward.WithActor(ctx, rolloutActor())
	go func() {
		defer close(rt.done)
		rt.runner.Run(ctx, interval)
	}()
	rt.logger.Info("campaign runner started", slog.String("coordination", "in-process ticker"),
		slog.String("interval", interval.String()))
	return nil
}

// close stops the runner and waits for its step in progress (on
// PostgreSQL, up to campaignStopTimeout before cancelling it).
func (rt *campaignRuntime) close() {
	if rt == nil {
		return
	}
	if rt.queue != nil {
		if err := rt.queue.Stop(campaignStopTimeout); err != nil {
			rt.logger.Error("stopping the campaign job queue", slog.Any("err", err))
		}
		rt.queue = nil
	}
	if rt.cancel != nil {
		rt.cancel()
		<-rt.done
		rt.cancel = nil
	}
}
