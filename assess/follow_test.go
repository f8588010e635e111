package assess_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/assess"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/sqlstore"
)

// routerOSUpTo returns an edit of CVE-2018-14847 that makes it concern
// RouterOS up to end (excluded), modified later than the stored record.
func routerOSUpTo(end string, later time.Duration) func(*firmward.VulnerabilityRecord) {
	return func(r *firmward.VulnerabilityRecord) {
		r.LastModified = r.LastModified.Add(later)
		r.EachMatch(func(m *firmward.CPEMatch) {
			m.VersionEndIncluding, m.VersionEndExcluding = "", end
		})
	}
}

// importVia imports CVE-2018-14847, edited, through vulns (a watched
// service or a plain one), and returns the result.
func importVia(t *testing.T, vulns firmward.VulnerabilityService, edit func(*firmward.VulnerabilityRecord)) *firmward.FeedImportResult {
	t.Helper()
	e := &runEnv{src: assess.Sources{Vulns: vulns}}
	return e.importRecords(t, edit, "CVE-2018-14847")
}

// TestEngineCatchUp runs two engines over one SQLite file opened twice, as
// two serve replicas would: a feed imported through replica A reaches
// replica B's index with one CatchUp, and so does an import by a third
// process (the feeds import command).
func TestEngineCatchUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newRunEnv(t)
	b := openRunEnv(t, a.path, sqlstore.Options{})
	cli := openRunEnv(t, a.path, sqlstore.Options{})
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	opts := assess.RunOptions{Policy: risk.DefaultPolicy(), Now: func() time.Time { return now }}
	engA := assess.NewEngine(a.src, opts, nil)
	engB := assess.NewEngine(b.src, opts, nil)
	for _, eng := range []*assess.Engine{engA, engB} {
		if _, err := eng.Full(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mikrotik := a.deviceNamed(t, "core router") // RouterOS 6.49.8: CVE-2018-14847 ends at 6.42
	if f := a.findingsOf(t, mikrotik.ID)["CVE-2018-14847"]; f != nil {
		t.Fatalf("CVE-2018-14847 on RouterOS 6.49.8 before the feed: %+v", f)
	}
	// newRouter creates another RouterOS 6.49.8 device through B and
	// re-matches it there, as B's watched device service would.
	routers := []int64{mikrotik.ID}
	newRouter := func(t *testing.T) *firmward.Finding {
		t.Helper()
		d := &firmward.Device{Name: fmt.Sprintf("branch router %d", len(routers)), Manufacturer: "MikroTik", Model: "RB4011", FirmwareVersion: "6.49.8"}
		if err := b.devices.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		routers = append(routers, d.ID)
		if _, err := engB.Devices(ctx, []int64{d.ID}); err != nil {
			t.Fatal(err)
		}
		return b.findingsOf(t, d.ID)["CVE-2018-14847"]
	}

	// A feed through A widens CVE-2018-14847 to every RouterOS 6.
	watchedA := assess.WatchVulnerabilities(a.src.Vulns, engA)
	imp := importVia(t, watchedA, routerOSUpTo("7.0", 24*time.Hour))
	if len(imp.ChangedCVEs) != 1 || imp.FirstChange == 0 {
		t.Fatalf("import through A: %+v", imp)
	}
	if f := newRouter(t); f != nil {
		t.Fatalf("B matched a new router against data it has not read yet: %+v", f)
	}
	res, err := engB.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.CVEs != 1 || res.Opened != 2 {
		t.Errorf("B's catch-up: %+v, want 1 CVE, opened on both RouterOS 6.49.8 devices", res)
	}
	if f := b.findingsOf(t, mikrotik.ID)["CVE-2018-14847"]; f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("CVE-2018-14847 on the core router after B caught up: %+v", f)
	}
	// B's index has the new record: a device changed through B now
	// matches it.
	if f := newRouter(t); f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("a new router matched by B after it caught up: %+v, want CVE-2018-14847 open", f)
	}
	// Nothing new: B reads nothing; A skips its own import (queued when
	// it committed), and re-matching it there rewrites nothing B wrote.
	if res, err := engB.CatchUp(ctx); err != nil || res.CVEs != 0 {
		t.Errorf("B's second catch-up: %+v, %v, want nothing", res, err)
	}
	if res, err := engA.CatchUp(ctx); err != nil || res.CVEs != 0 {
		t.Errorf("A's catch-up after its own import: %+v, %v, want it skipped", res, err)
	}
	if res, err := engA.Vulnerabilities(ctx, imp.ChangedCVEs); err != nil || res.Opened+res.Updated+res.Fixed != 0 {
		t.Errorf("A re-matching its own import after B: %+v, %v, want no finding written", res, err)
	}

	// The feeds import command, a third process, narrows it again: both
	// replicas catch up. Each re-matches the devices it knows (an engine
	// learns of devices at its Full and as they change through it): A the
	// core router, B the two routers created through it.
	importVia(t, cli.src.Vulns, routerOSUpTo("6.43", 48*time.Hour))
	resA, err := engA.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resA.CVEs != 1 || resA.Fixed != 1 {
		t.Errorf("A's catch-up after the command's import: %+v, want the core router's finding fixed", resA)
	}
	resB, err := engB.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resB.CVEs != 1 || resB.Fixed != 2 || resB.Opened+resB.Updated != 0 {
		t.Errorf("B's catch-up after A's: %+v, want the branch routers' findings fixed and nothing else written", resB)
	}
	for _, d := range routers {
		if f := a.findingsOf(t, d)["CVE-2018-14847"]; f == nil || f.Status != firmward.FindingFixed {
			t.Errorf("CVE-2018-14847 on device %d after both caught up: %+v, want fixed", d, f)
		}
	}
	if f := newRouter(t); f != nil {
		t.Errorf("a new router matched by B after the narrowing: %+v, want no finding", f)
	}
}

// TestEngineCatchUpPruned shows that an engine that missed pruned changes
// re-reads everything.
func TestEngineCatchUpPruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	clock := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	a := newRunEnvOpts(t, sqlstore.Options{Now: now})
	eng := assess.NewEngine(a.src, assess.RunOptions{Policy: risk.DefaultPolicy(), Now: now}, nil)
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	importVia(t, a.src.Vulns, routerOSUpTo("7.0", 24*time.Hour))
	mu.Lock()
	clock = clock.Add(sqlstore.ChangeRetention + time.Hour)
	mu.Unlock()
	importVia(t, a.src.Vulns, routerOSUpTo("7.1", 48*time.Hour)) // prunes the first
	res, err := eng.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.CVEs != 3 || res.Devices != 3 {
		t.Errorf("catch-up past the pruned horizon: %+v, want a full run (3 CVEs, 3 devices)", res)
	}
	mikrotik := a.deviceNamed(t, "core router")
	if f := a.findingsOf(t, mikrotik.ID)["CVE-2018-14847"]; f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("CVE-2018-14847 on RouterOS 6.49.8 after the full run: %+v", f)
	}
	if res, err := eng.CatchUp(ctx); err != nil || res.CVEs != 0 {
		t.Errorf("catch-up after the full run: %+v, %v, want nothing", res, err)
	}
}

// TestEngineFollowQueued shows that the worker runs a queued catch-up and
// that Wait waits for it.
func TestEngineFollowQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newRunEnv(t)
	b := openRunEnv(t, a.path, sqlstore.Options{})
	eng := assess.NewEngine(b.src, assess.RunOptions{Policy: risk.DefaultPolicy()}, nil)
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); eng.Start(runCtx, 0) }()
	t.Cleanup(func() { cancel(); <-done })

	importVia(t, a.src.Vulns, routerOSUpTo("7.0", 24*time.Hour))
	eng.NotifyCatchUp()
	waitCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if err := eng.Wait(waitCtx); err != nil {
		t.Fatal(err)
	}
	mikrotik := a.deviceNamed(t, "core router")
	if f := a.findingsOf(t, mikrotik.ID)["CVE-2018-14847"]; f == nil || f.Status != firmward.FindingOpen {
		t.Errorf("CVE-2018-14847 after the queued catch-up: %+v", f)
	}
}
