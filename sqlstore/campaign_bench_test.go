package sqlstore

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/rollout"
)

// BenchmarkCampaignStep measures the campaign runner on a campaign of
// FIRMWARD_BENCH_DEVICES (default 100,000) DDI devices in five waves
// (10/20/20/25/25 %): planning and starting wave 1 (plan_s), then a Tick
// with nothing to decide while wave 1's actions are open (tick_ms), and
// the two reads a step makes (progress_ms, step_members_ms).
//
//	go test ./sqlstore -run '^$' -bench CampaignStep -benchtime 20x
func BenchmarkCampaignStep(b *testing.B) {
	n := 100_000
	if s := os.Getenv("FIRMWARD_BENCH_DEVICES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("FIRMWARD_BENCH_DEVICES=%q: want a positive number", s)
		}
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "system", Name: "rollout"})
			db := openDSN(b, be.newDSN(b), Options{})
			rows := make([]firmward.ImportRow, n)
			for i := range rows {
				rows[i] = firmward.ImportRow{Line: i + 2, Device: firmward.Device{
					Name: fmt.Sprintf("cam-%06d", i), Manufacturer: "Acme", Model: "Cam 1", FirmwareVersion: "1.0",
					Category: firmward.CategoryCamera, UpdateMechanism: firmward.UpdateDDI,
				}}
			}
			if _, err := NewDeviceService(db).ImportDevices(operatorCtx, rows, firmward.ImportOptions{}); err != nil {
				b.Fatal(err)
			}
			rel := sampleRelease()
			if err := NewReleaseService(db).CreateRelease(operatorCtx, rel); err != nil {
				b.Fatal(err)
			}
			cs := NewCampaignService(db)
			var waves []firmward.WaveSpec
			for _, pct := range []int{10, 20, 20, 25, 25} {
				waves = append(waves, firmward.WaveSpec{Percent: pct, SuccessThreshold: 95, ErrorThreshold: 5})
			}
			c := &firmward.Campaign{Name: "big", ReleaseID: rel.ID, Waves: waves, ActionTimeoutSeconds: 86400}
			if err := cs.CreateCampaign(operatorCtx, c); err != nil {
				b.Fatal(err)
			}
			if _, err := cs.ChangeCampaign(operatorCtx, c.ID, firmward.OpStart, ""); err != nil {
				b.Fatal(err)
			}
			r := &rollout.Runner{Campaigns: cs, Releases: NewReleaseService(db), Devices: NewDeviceService(db), Policy: rollout.DefaultPolicy()}
			start := time.Now()
			for range 10 {
				t := time.Now()
				k, err := r.Tick(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if os.Getenv("FIRMWARD_BENCH_VERBOSE") != "" {
					b.Logf("tick: %d decisions in %s", k, time.Since(t))
				}
				if k == 0 {
					break
				}
			}
			plan := time.Since(start)
			p, err := cs.CampaignProgress(ctx, c.ID)
			if err != nil {
				b.Fatal(err)
			}
			if w := p.Waves[1]; w.Devices != n/10 || w.Unassigned != 0 || w.Open != n/10 {
				b.Fatalf("wave 1 after planning = %+v, want %d devices with open actions", w, n/10)
			}
			var tick, progress, members time.Duration
			for b.Loop() {
				t := time.Now()
				if k, err := r.Tick(ctx); err != nil || k != 0 {
					b.Fatalf("Tick = %d, %v; want nothing to decide", k, err)
				}
				t0 := time.Now()
				tick += t0.Sub(t)
				if _, err := cs.CampaignProgress(ctx, c.ID); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := cs.StepMembers(ctx, c.ID, 1, time.Now()); err != nil {
					b.Fatal(err)
				}
				progress, members = progress+t1.Sub(t0), members+time.Since(t1)
			}
			b.ReportMetric(plan.Seconds(), "plan_s")
			b.ReportMetric(float64(tick.Microseconds())/1000/float64(b.N), "tick_ms")
			b.ReportMetric(float64(progress.Microseconds())/1000/float64(b.N), "progress_ms")
			b.ReportMetric(float64(members.Microseconds())/1000/float64(b.N), "step_members_ms")
		})
	}
}
