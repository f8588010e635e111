package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/sqlstore"
)

// defaultCampaignInterval is how often the campaign runner takes a step.
const defaultCampaignInterval = 10 * time.Second

// campaignRuntime is the campaign runner of serve: it moves running
// campaigns on every interval. Each step is applied on the campaign's
// version it read, so replicas sharing a database take each decision once.
type campaignRuntime struct {
	campaigns *sqlstore.CampaignService
	tasks     *sqlstore.TaskService
	policy    rollout.Policy
	runner    *rollout.Runner
	cancel    context.CancelFunc
	done      chan struct{}
}

func newCampaignRuntime(db *sqlstore.DB, releases firmward.ReleaseService, devices firmward.DeviceService, logger *slog.Logger) *campaignRuntime {
	rt := &campaignRuntime{campaigns: sqlstore.NewCampaignService(db), tasks: sqlstore.NewTaskService(db), policy: rollout.DefaultPolicy()}
	rt.runner = &rollout.Runner{
		Campaigns: rt.campaigns, Releases: releases, Devices: devices, Policy: rt.policy, Now: time.Now,
		Logger: logger.With(slog.String("component", "rollout")),
	}
	return rt
}

// start runs the runner every interval (0: never) until close.
func (rt *campaignRuntime) start(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rt.cancel, rt.done = cancel, make(chan struct{})
	ctx = firmward.WithActor(ctx, firmward.Actor{Kind: "system", Name: "rollout"})
	go func() {
		defer close(rt.done)
		rt.runner.Run(ctx, interval)
	}()
}

// close stops the runner and waits for its step in progress.
func (rt *campaignRuntime) close() {
	if rt == nil || rt.cancel == nil {
		return
	}
	rt.cancel()
	<-rt.done
}
