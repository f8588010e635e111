package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// Benchmarks. Typical runs:
//
//	go test ./sqlstore -run '^$' -bench Import100k -benchtime 3x
//	go test ./sqlstore -run '^$' -bench ListFiltered -benchtime 2000x
//	go test ./sqlstore -run '^$' -bench DeviceStats -benchtime 5x
//
// BenchmarkListFiltered builds its dataset of FIRMWARD_BENCH_DEVICES devices
// (default 1,000,000) once per database and keeps it between runs: a SQLite
// file under $TMPDIR/firmward-bench and a PostgreSQL schema named
// fwbench_…; both names change when the schema or the generator does.

// benchGenVersion changes whenever benchDevice does, to rebuild datasets.
const benchGenVersion = 1

var (
	benchManufacturers = []string{
		"Axis", "Hikvision", "Philips", "Ubiquiti", "Cisco", "Siemens", "Schneider Electric",
		"Honeywell", "Bosch", "Netgear", "TP-Link", "AVM", "Sonos", "Yale", "Nuki", "Shelly", "Tuya", "Xiaomi",
		"Moxa", "Rockwell", "ABB", "GE Healthcare", "Dräger", "Zebra", "HP", "Brother", "Aruba", "Juniper",
		"Fortinet", "MikroTik", "Dahua", "Hanwha", "Mobotix", "Lutron", "ecobee", "Google", "Amazon", "Apple",
		"Samsung", "LG", "Phoenix Contact", "Wago", "Beckhoff", "Advantech", "Digi", "Sierra Wireless", "Teltonika",
		"Ruckus", "Meraki", "Other",
	}
	benchTags = []string{
		"pci", "guest", "cctv", "hvac", "ot", "iot", "prod", "lab", "legacy", "vip", "floor-1",
		"floor-2", "floor-3", "outdoor", "wifi", "poe", "battery", "cloud", "vendor-managed", "critical-path",
		"retired-soon", "pilot", "eu", "us", "apac", "building-a", "building-b", "building-c", "kiosk", "rare-tag",
	}
	benchOwners = []string{"facilities", "it-ops", "security", "ot-engineering", "clinical", "retail", "hr", "finance"}
)

// benchSite names site k of the generated inventory.
func benchSite(k int) string { return fmt.Sprintf("Site-%03d", k) }

// benchDevice returns the i-th device of the generated inventory: a skewed
// mix like a real fleet (few safety-critical devices, some unknowns).
func benchDevice(i int) firmward.Device {
	r := rand.New(rand.NewPCG(uint64(i), benchGenVersion))
	pick := func(weights ...int) int {
		total := 0
		for _, w := range weights {
			total += w
		}
		n := r.IntN(total)
		for k, w := range weights {
			if n < w {
				return k
			}
			n -= w
		}
		return 0
	}
	manu := benchManufacturers[r.IntN(len(benchManufacturers))]
	d := firmward.Device{
		Name:            fmt.Sprintf("%s-%07d", strings.ToLower(strings.Fields(manu)[0]), i),
		Manufacturer:    manu,
		Model:           fmt.Sprintf("M%d-%c", r.IntN(400), 'A'+rune(r.IntN(26))),
		HardwareVersion: fmt.Sprintf("rev%d", r.IntN(5)),
		Serial:          fmt.Sprintf("SN%010d", uint32(i)*2654435761),
		Category:        firmward.Categories[pick(20, 8, 15, 4, 3, 10, 30, 3, 7)],
		Criticality:     firmward.Criticalities[pick(40, 40, 18, 2)],
		Exposure:        firmward.Exposures[pick(70, 22, 8)],
		UpdateMechanism: []firmward.UpdateMechanism{"", "agent", "ddi", "vendor-cloud", "web-admin", "technician", "none"}[pick(15, 10, 5, 35, 20, 10, 5)],
		MACs:            []string{fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", byte(i>>32), byte(i>>24), byte(i>>16), byte(i>>8), byte(i))},
		IPs:             []string{fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i))},
		Site:            benchSite(r.IntN(200)),
		Location:        fmt.Sprintf("Building %c, room %d", 'A'+rune(r.IntN(6)), r.IntN(500)),
		Owner:           benchOwners[r.IntN(len(benchOwners))],
		ReplacementCost: float64(r.IntN(2000)),
	}
	if r.IntN(10) != 0 {
		d.FirmwareVersion = fmt.Sprintf("%d.%d.%d", r.IntN(10), r.IntN(30), r.IntN(300))
	}
	for range r.IntN(4) {
		t := benchTags[r.IntN(len(benchTags)-1)]
		if !slices.Contains(d.Tags, t) {
			d.Tags = append(d.Tags, t)
		}
	}
	if r.IntN(1000) == 0 {
		d.Tags = append(d.Tags, "rare-tag")
	}
	if r.IntN(20) == 0 {
		d.Notes = "Replaced after the " + strconv.Itoa(2015+r.IntN(10)) + " incident; check the PSU."
	}
	return d
}

func benchRows(n int) []firmward.ImportRow {
	rows := make([]firmward.ImportRow, n)
	for i := range rows {
		rows[i] = firmward.ImportRow{Line: i + 2, Device: benchDevice(i)}
	}
	return rows
}

// BenchmarkImport100k imports 100,000 devices (one transaction, one audit
// event per device) into an empty database.
func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			var total time.Duration
			var imported int
			for b.Loop() {
				b.StopTimer()
				db := be.open(b, Options{})
				rows := benchRows(n)
				b.StartTimer()
				start := time.Now()
				res, err := NewDeviceService(db).ImportDevices(ctx, rows, firmward.ImportOptions{})
				total += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				imported += res.Created
				b.StopTimer()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(imported)/total.Seconds(), "rows/s")
		})
	}
}

// benchDeviceCount is FIRMWARD_BENCH_DEVICES or 1,000,000.
func benchDeviceCount(b *testing.B) int {
	if s := os.Getenv("FIRMWARD_BENCH_DEVICES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("FIRMWARD_BENCH_DEVICES=%q: want a positive number", s)
		}
		return n
	}
	return 1_000_000
}

// benchDatasetName names a cached dataset: it changes with the migrations,
// the generator and the size.
func benchDatasetName(n int) string {
	h := sha256.New()
	_ = fs.WalkDir(migrationFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(migrationFS, path)
			h.Write(b)
		}
		return nil
	})
	_, _ = fmt.Fprintf(h, "gen%d", benchGenVersion)
	return fmt.Sprintf("fwbench_%d_%s", n, hex.EncodeToString(h.Sum(nil))[:10])
}

// openBenchDataset opens the cached dataset of n devices on be, building it
// first when missing.
func openBenchDataset(b *testing.B, be backend, n int) *DB {
	ctx := context.Background()
	name := benchDatasetName(n)
	var dsn string
	switch be.name {
	case DialectSQLite:
		dir := filepath.Join(os.TempDir(), "firmward-bench")
		dsn = filepath.Join(dir, name+".db")
	case DialectPostgres:
		admin, base := postgresAdmin(b)
		if _, err := admin.Exec("CREATE SCHEMA IF NOT EXISTS " + name); err != nil {
			b.Fatal(err)
		}
		dsn = withParam(base, "search_path", name)
	}
	db := openDSN(b, dsn, Options{})
	var have int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM devices").Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == n {
		return db
	}
	if have != 0 {
		b.Fatalf("dataset %s holds %d devices, want %d: remove it (%s)", name, have, n, dsn)
	}
	start := time.Now()
	if err := buildBenchDataset(ctx, db, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s dataset of %d devices in %v (%s)", be.name, n, time.Since(start).Round(time.Millisecond), dsn)
	return db
}

// buildBenchDataset bulk-inserts n generated devices, with their MACs, IPs
// and tags, in one transaction, without audit events, then refreshes the
// planner statistics.
func buildBenchDataset(ctx context.Context, db *DB, n int) error {
	const chunk = 50_000
	err := db.write(ctx, func(tx conn) error {
		ids, err := allocateDeviceIDs(ctx, tx, n)
		if err != nil {
			return err
		}
		now := db.nowUTC()
		for start := 0; start < n; start += chunk {
			devs := make([]*firmward.Device, 0, chunk)
			for i := start; i < min(start+chunk, n); i++ {
				d := benchDevice(i)
				if err := d.Normalize(); err != nil {
					return err
				}
				d.ID, d.Source, d.CreatedAt, d.UpdatedAt = ids[i], firmward.SourceImport, now, now
				devs = append(devs, &d)
			}
			if err := insertDevices(ctx, tx, devs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = db.SQL().ExecContext(ctx, "ANALYZE")
	return err
}

// benchQuery is one kind of page request of BenchmarkListFiltered.
type benchQuery struct {
	kind string
	f    firmward.DeviceFilter
}

// benchQueries returns the request mix: every indexed filter with common
// and rare values, deep cursor pages, and free-text search.
func benchQueries(n int) []benchQuery {
	r := rand.New(rand.NewPCG(1, 2))
	deep := func() int64 { return int64(n/2 + r.IntN(n/2)) }
	var qs []benchQuery
	for range 4 {
		for _, c := range firmward.Categories {
			qs = append(qs, benchQuery{"category", firmward.DeviceFilter{Category: c}})
		}
		for range 5 {
			qs = append(qs, benchQuery{"site", firmward.DeviceFilter{Site: strings.ToLower(benchSite(r.IntN(200)))}})
		}
		for _, t := range []string{"pci", "ot", "building-c", "rare-tag"} {
			qs = append(qs, benchQuery{"tag", firmward.DeviceFilter{Tag: t}})
		}
		for _, c := range firmward.Criticalities {
			qs = append(qs, benchQuery{"criticality", firmward.DeviceFilter{Criticality: c}})
			qs = append(qs, benchQuery{"criticality+exposure", firmward.DeviceFilter{Criticality: c, Exposure: firmward.ExposureInternetFacing}})
		}
		qs = append(qs,
			benchQuery{"manufacturer", firmward.DeviceFilter{Manufacturer: "dräger"}},
			benchQuery{"missing", firmward.DeviceFilter{Missing: "firmware_version"}},
			benchQuery{"missing", firmward.DeviceFilter{Missing: "update_mechanism", Category: firmward.CategoryMedical}},
			benchQuery{"deep-page", firmward.DeviceFilter{After: deep()}},
			benchQuery{"deep-page", firmward.DeviceFilter{After: deep(), Category: firmward.CategoryLock}},
			benchQuery{"deep-page", firmward.DeviceFilter{After: deep(), Tag: "rare-tag"}},
			benchQuery{"deep-page", firmward.DeviceFilter{After: deep(), Criticality: firmward.CriticalitySafetyCritical, Exposure: firmward.ExposureInternetFacing}},
		)
	}
	qs = append(qs,
		benchQuery{"query-common", firmward.DeviceFilter{Query: "building b"}},
		benchQuery{"query-common", firmward.DeviceFilter{Query: "psu"}},
		benchQuery{"query-rare", firmward.DeviceFilter{Query: fmt.Sprintf("02:00:00:%02x:%02x", byte(n/3>>8), byte(n/3))}},
		benchQuery{"query-rare", firmward.DeviceFilter{Query: "no such device anywhere"}},
	)
	return qs
}

// BenchmarkListFiltered lists one page of 50 devices out of
// FIRMWARD_BENCH_DEVICES with a mix of filters and reports latency
// percentiles: p50-ms/p99-ms over the indexed filters (category, site,
// tag, criticality, criticality+exposure, manufacturer, missing, deep
// cursor pages) and, apart, over free-text search, which scans.
func BenchmarkListFiltered(b *testing.B) {
	n := benchDeviceCount(b)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := openBenchDataset(b, be, n)
			svc := NewDeviceService(db)
			ctx := context.Background()
			qs := benchQueries(n)
			lat := map[string][]time.Duration{}
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				i++
				start := time.Now()
				list, _, err := svc.FindDevices(ctx, q.f)
				d := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if len(list) == 0 && q.kind != "query-rare" {
					b.Fatalf("%s %+v: empty page", q.kind, q.f)
				}
				lat[q.kind] = append(lat[q.kind], d)
			}
			var indexed, text []time.Duration
			kinds := make([]string, 0, len(lat))
			for k := range lat {
				kinds = append(kinds, k)
			}
			slices.Sort(kinds)
			// Two kinds a line: go test shows only ten lines of a
			// benchmark's log.
			var report strings.Builder
			for i, k := range kinds {
				ds := lat[k]
				if strings.HasPrefix(k, "query") {
					text = append(text, ds...)
				} else {
					indexed = append(indexed, ds...)
				}
				sep := "   "
				if i%2 == 1 || i == len(kinds)-1 {
					sep = "\n"
				}
				fmt.Fprintf(&report, "%-20s n=%4d p50=%6.2fms p99=%6.2fms max=%6.2fms%s", k, len(ds), pct(ds, 50), pct(ds, 99), pct(ds, 100), sep)
			}
			b.Log("per kind of request:\n" + report.String())
			b.ReportMetric(pct(indexed, 50), "p50-ms")
			b.ReportMetric(pct(indexed, 99), "p99-ms")
			if len(text) > 0 {
				b.ReportMetric(pct(text, 50), "text-p50-ms")
				b.ReportMetric(pct(text, 99), "text-p99-ms")
			}
		})
	}
}

// pct returns the p-th percentile of ds in milliseconds.
func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(float64(len(s))*p/100+0.5) - 1
	k = max(0, min(k, len(s)-1))
	return float64(s[k]) / float64(time.Millisecond)
}

// BenchmarkDeviceStats counts the FIRMWARD_BENCH_DEVICES devices of the
// BenchmarkListFiltered dataset for the dashboard.
func BenchmarkDeviceStats(b *testing.B) {
	n := benchDeviceCount(b)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			svc := NewDeviceService(openBenchDataset(b, be, n))
			for b.Loop() {
				st, err := svc.DeviceStats(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if st.Total != int64(n) {
					b.Fatalf("total %d, want %d", st.Total, n)
				}
			}
		})
	}
}
