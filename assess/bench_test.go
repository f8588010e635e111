package assess

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feeds"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/seed"
)

// loadFullIndex builds an Index of every NVD 1.1 feed of the shared data
// (2002–2018, 2023, modified, recent: about 143,000 CVEs) with their KEV
// entries and EPSS scores. It skips when the feeds are absent.
func loadFullIndex(b *testing.B) (*Index, time.Duration) {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "nvd/feeds-1.1/*.json.gz"))
	if len(files) == 0 {
		b.Skip("no NVD 1.1 feeds under " + dataDir)
	}
	start := time.Now()
	kev := make(map[string]*firmward.KEVEntry)
	if fh, err := os.Open(filepath.Join(dataDir, "kev/known_exploited_vulnerabilities.json")); err == nil {
		err = feeds.ParseKEV(fh, func(e *firmward.KEVEntry) error { kev[e.CVE] = e; return nil })
		_ = fh.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	epss := make(map[string]*firmward.EPSSScore)
	if fh, err := os.Open(filepath.Join(dataDir, "epss/epss_scores-2026-08-16.csv.gz")); err == nil {
		err = feeds.ParseEPSS(fh, func(s firmward.EPSSScore) error { epss[s.CVE] = &s; return nil })
		_ = fh.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	x := NewIndex()
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		format, r, err := feeds.Open(fh)
		if err != nil || format != feeds.FormatNVD11 {
			b.Fatalf("%s: format %q: %v", f, format, err)
		}
		err = feeds.ParseNVD11(r, func(v *firmward.Vulnerability) error {
			x.Add(&firmward.VulnerabilityRecord{Vulnerability: *v, KEV: kev[v.ID], EPSS: epss[v.ID]})
			return nil
		})
		_ = fh.Close()
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
	}
	return x, time.Since(start)
}

// explicitProducts are real firmware CPEs of the NVD data with versions
// seen in the field, for devices whose CPE a person has set.
var explicitProducts = []struct{ cpe, hw string }{
	{"cpe:2.3:o:tp-link:archer_ax21_firmware:%s:*:*:*:*:*:*:*", "1.1.2|1.1.3|1.1.4"},
	{"cpe:2.3:o:tp-link:archer_c7_firmware:%s:*:*:*:*:*:*:*", "3.15.3|3.13.33|1.1.0"},
	{"cpe:2.3:o:tp-link:tl-wr886n_firmware:%s:*:*:*:*:*:*:*", "7.0_1.1.0|6.0_2.3.4"},
	{"cpe:2.3:o:tp-link:tl-wdr4300_firmware:%s:*:*:*:*:*:*:*", "3.14.3"},
	{"cpe:2.3:o:netgear:r7000_firmware:%s:*:*:*:*:*:*:*", "1.0.7.2_1.1.93|1.0.9.10|1.0.11.116_10.2.100"},
	{"cpe:2.3:o:netgear:r6400_firmware:%s:*:*:*:*:*:*:*", "1.0.1.20|1.0.1.46"},
	{"cpe:2.3:o:netgear:r8000_firmware:%s:*:*:*:*:*:*:*", "1.0.3.46|1.0.4.4"},
	{"cpe:2.3:o:netgear:wndr4300_firmware:%s:*:*:*:*:*:*:*", "1.0.2.88"},
	{"cpe:2.3:o:mikrotik:routeros:%s:*:*:*:*:*:*:*", "6.40.1|6.42|6.48.6|6.49.7|7.8"},
	{"cpe:2.3:o:dlink:dir-850l_firmware:%s:*:*:*:*:*:*:*", "1.14b07|2.06"},
	{"cpe:2.3:o:dlink:dsr-1000n_firmware:%s:*:*:*:*:*:*:*", "1.09.b61|2.11"},
	{"cpe:2.3:o:zyxel:gs1900-10hp_firmware:%s:*:*:*:*:*:*:*", "2.40"},
	{"cpe:2.3:o:qnap:qts:%s:*:*:*:*:*:*:*", "4.3.6.0895|5.0.1.2131"},
	{"cpe:2.3:o:asus:rt-ax88u_firmware:%s:*:*:*:*:*:*:*", "3.0.0.4.388_24198|3.0.0.4.386_51255"},
	{"cpe:2.3:o:hikvision:ds-2cd2142fwd-i_firmware:%s:*:*:*:*:*:*:*", "5.4.5|5.5.0"},
}

// fleet returns n devices: the seed's home inventory, enterprise sites of
// 2,000 devices (named by manufacturer and model, so proposals are
// exercised) for 60%, and devices with explicit CPEs of real routers,
// switches, NAS and cameras for the rest.
func fleet(n int) []firmward.Device {
	rnd := rand.New(rand.NewPCG(1, 2))
	out := seed.Home()
	for site := 0; len(out) < n*6/10; site++ {
		out = append(out, seed.Enterprise(min(2000, n*6/10-len(out)), fmt.Sprintf("Site %d", site), rnd)...)
	}
	exposures := []firmward.Exposure{firmward.ExposureInternetFacing, firmward.ExposureInternal, firmward.ExposureSegmented}
	for len(out) < n {
		p := explicitProducts[rnd.IntN(len(explicitProducts))]
		versions := splitBar(p.hw)
		out = append(out, firmward.Device{
			Name:        fmt.Sprintf("dev-%d", len(out)),
			CPE:         fmt.Sprintf(p.cpe, versions[rnd.IntN(len(versions))]),
			Exposure:    exposures[rnd.IntN(len(exposures))],
			Criticality: firmward.CriticalityMedium,
		})
	}
	for i := range out {
		out[i].ID = int64(i + 1)
	}
	return out[:n]
}

func splitBar(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '|' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// assessFleet assesses devs on every CPU and returns the number of
// findings and of devices with at least one.
func assessFleet(a *Assessor, devs []firmward.Device) (findings, affected int64) {
	var next atomic.Int64
	var nf, na atomic.Int64
	var wg sync.WaitGroup
	const chunk = 256
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var f, d int64
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(devs) {
					break
				}
				for i := lo; i < min(lo+chunk, len(devs)); i++ {
					if r := a.Device(&devs[i]); len(r.Findings) > 0 {
						f += int64(len(r.Findings))
						d++
					}
				}
			}
			nf.Add(f)
			na.Add(d)
		})
	}
	wg.Wait()
	return nf.Load(), na.Load()
}

// BenchmarkFleet loads the whole NVD set and assesses 100,000 devices,
// with Devices (memos of proposals and matches per distinct device
// configuration) and with Device on a worker pool (every device from
// scratch). Run it once:
//
//	go test -run '^$' -bench Fleet -benchtime 1x ./assess/
func BenchmarkFleet(b *testing.B) {
	x, load := loadFullIndex(b)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap := float64(ms.HeapAlloc) / (1 << 20)
	const n = 100_000
	devs := fleet(n)
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	a := &Assessor{Index: x, Policy: risk.DefaultPolicy(), Now: func() time.Time { return now }}
	report := func(b *testing.B, findings, affected int64) {
		perOp := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(load.Seconds(), "load-s")
		b.ReportMetric(heap, "heap-MiB")
		b.ReportMetric(float64(x.Len()), "CVEs")
		b.ReportMetric(perOp, "s/fleet")
		b.ReportMetric(n/perOp, "devices/s")
		b.ReportMetric(float64(findings), "findings")
		b.ReportMetric(float64(affected), "affected-devices")
	}
	b.Run("Devices", func(b *testing.B) {
		var findings, affected int64
		for b.Loop() {
			findings, affected = 0, 0
			for _, r := range a.Devices(devs) {
				if len(r.Findings) > 0 {
					findings += int64(len(r.Findings))
					affected++
				}
			}
		}
		report(b, findings, affected)
	})
	b.Run("Device", func(b *testing.B) {
		var findings, affected int64
		for b.Loop() {
			findings, affected = assessFleet(a, devs)
		}
		report(b, findings, affected)
	})
}
