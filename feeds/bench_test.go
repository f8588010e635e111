package feeds

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	firmward "github.com/firmward/firmward"
)

func BenchmarkParseNVD11All(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(dataDir, "nvd/feeds-1.1/*.json.gz"))
	if len(files) == 0 {
		b.Skip("no NVD 1.1 feeds under " + dataDir)
	}
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // sample the heap while parsing
		defer close(done)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			default:
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			runtimeSleep()
		}
	}()
	cves := 0
	for b.Loop() {
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				b.Fatal(err)
			}
			err = ParseNVD11(fh, func(*firmward.Vulnerability) error { cves++; return nil })
			_ = fh.Close()
			if err != nil {
				b.Fatalf("%s: %v", f, err)
			}
		}
	}
	close(stop)
	<-done
	b.ReportMetric(float64(cves)/b.Elapsed().Seconds(), "CVE/s")
	b.ReportMetric(float64(cves)/float64(b.N), "CVEs/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func BenchmarkParseEPSS(b *testing.B) {
	path := dataFile(b, "epss/epss_scores-2026-08-16.csv.gz")
	rows := 0
	for b.Loop() {
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		err = ParseEPSS(fh, func(firmward.EPSSScore) error { rows++; return nil })
		_ = fh.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func runtimeSleep() { time.Sleep(20 * time.Millisecond) }
