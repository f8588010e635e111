package assess

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feeds"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/sqlstore"
)

// importFeedFile imports one feed file of the shared data into vulns as
// one feed import, and returns what changed.
func importFeedFile(b *testing.B, vulns firmward.VulnerabilityService, path string) *firmward.FeedImportResult {
	b.Helper()
	ctx := context.Background()
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = fh.Close() }()
	format, r, err := feeds.Open(fh)
	if err != nil {
		b.Fatal(err)
	}
	imp, err := vulns.BeginFeedImport(ctx, filepath.Base(path), string(format))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = imp.Rollback() }()
	if err := feeds.Stage(ctx, format, r, imp); err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	res, err := imp.Commit(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkEngine measures the matching a server does, end to end with a
// real SQLite store: the whole NVD 1.1 set (every yearly feed, KEV, EPSS)
// and 100,000 devices (the fleet of BenchmarkFleet) are stored; then
// Engine.Full (read every record into the index, match every device,
// store every finding), a second Full over unchanged data, and the import
// of NVD's "modified" feed (by another process, as far as the Engine
// knows) followed by Engine.CatchUp, which reads the changed CVEs from the
// store's change log and re-matches them with Engine.Vulnerabilities; then
// a CatchUp with nothing new (what a replica pays every --assess-follow). The database is cached under the temporary directory
// (firmward-bench/engine-*.db) so that only the first run pays for the
// imports. Run it once:
//
//	go test ./assess -run '^$' -bench Engine -benchtime 1x
func BenchmarkEngine(b *testing.B) {
	years, _ := filepath.Glob(filepath.Join(dataDir, "nvd/feeds-1.1/nvdcve-1.1-20*.json.gz"))
	modified := filepath.Join(dataDir, "nvd/feeds-1.1/nvdcve-1.1-modified.json.gz")
	if len(years) == 0 {
		b.Skip("no NVD 1.1 feeds under " + dataDir)
	}
	const n = 100_000
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), "firmward-bench")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	cached := filepath.Join(dir, "engine-100000.db")
	if _, err := os.Stat(cached); err != nil {
		db, err := sqlstore.Open(ctx, cached, sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		vulns := sqlstore.NewVulnerabilityService(db)
		start := time.Now()
		for _, f := range append(years, filepath.Join(dataDir, "kev/known_exploited_vulnerabilities.json"), filepath.Join(dataDir, "epss/epss_scores-2026-08-16.csv.gz")) {
			importFeedFile(b, vulns, f)
		}
		b.Logf("imported %d yearly feeds, KEV and EPSS in %s", len(years), time.Since(start).Round(time.Millisecond))
		devs := fleet(n)
		rows := make([]firmward.ImportRow, len(devs))
		for i, d := range devs {
			d.ID, d.MACs = 0, nil // seeded MACs repeat across generated sites
			rows[i] = firmward.ImportRow{Line: i + 2, Device: d}
		}
		if _, err := sqlstore.NewDeviceService(db).ImportDevices(ctx, rows, firmward.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	// Work on a copy, so that every run starts from the same state.
	copyFile(b, cached, cached+".work")
	db, err := sqlstore.Open(ctx, cached+".work", sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close(); _ = os.Remove(cached + ".work") }()
	vulns := sqlstore.NewVulnerabilityService(db)
	src := Sources{Vulns: vulns, Devices: sqlstore.NewDeviceService(db), Findings: sqlstore.NewFindingService(db), Changes: vulns}
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	e := NewEngine(src, RunOptions{Policy: risk.DefaultPolicy(), Now: func() time.Time { return now }}, nil)

	var full, again, incr *RunResult
	var tFull, tAgain, tIncr, tIdle time.Duration
	var changed int
	var heap float64
	for b.Loop() {
		start := time.Now()
		if full, err = e.Full(ctx); err != nil {
			b.Fatal(err)
		}
		tFull = time.Since(start)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = float64(ms.HeapAlloc) / (1 << 20)

		start = time.Now()
		if again, err = e.Full(ctx); err != nil {
			b.Fatal(err)
		}
		tAgain = time.Since(start)

		imp := importFeedFile(b, vulns, modified)
		changed = len(imp.ChangedCVEs)
		start = time.Now()
		if incr, err = e.CatchUp(ctx); err != nil {
			b.Fatal(err)
		}
		tIncr = time.Since(start)
		start = time.Now()
		idle, err := e.CatchUp(ctx)
		if err != nil {
			b.Fatal(err)
		}
		tIdle = time.Since(start)
		if idle.CVEs != 0 {
			b.Errorf("a catch-up with nothing new re-matched %d CVEs", idle.CVEs)
		}
	}
	b.ReportMetric(tFull.Seconds(), "full-s")
	b.ReportMetric(tAgain.Seconds(), "again-s")
	b.ReportMetric(tIncr.Seconds(), "modified-s")
	b.ReportMetric(float64(tIdle.Microseconds())/1000, "idle-catchup-ms")
	b.ReportMetric(heap, "heap-MiB")
	b.ReportMetric(float64(full.Opened), "findings")
	b.ReportMetric(float64(full.DevicesWithFindings), "affected-devices")
	b.Logf("full: %+v in %s", *full, tFull.Round(time.Millisecond))
	b.Logf("again: %+v in %s", *again, tAgain.Round(time.Millisecond))
	b.Logf("modified feed, by catch-up: %d CVEs changed; re-matched %d of them with a source record on %d of %d devices: %+v in %s",
		changed, incr.CVEs, incr.Devices, n, *incr, tIncr.Round(time.Millisecond))
	if incr.Devices >= n {
		b.Errorf("the modified feed re-matched every device")
	}
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}
