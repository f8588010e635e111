package radius_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	firmward "github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
	"github.com/firmward/firmward/radius"
	"github.com/firmward/firmward/sqlstore"
)

// benchDirectory holds n devices of mixed categories; every tenth has an
// overdue Immediate finding.
func benchDirectory(n int) (*memDirectory, []string) {
	dir := testDirectory()
	dir.devices = map[string]*firmward.Device{}
	dir.findings = map[int64][]*firmward.Finding{}
	due := testNow.AddDate(0, 0, -1)
	macs := make([]string, 0, n)
	for i := range n {
		mac := fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
		id := int64(i + 1)
		dir.devices[mac] = &firmward.Device{ID: id, Category: firmward.Categories[i%len(firmward.Categories)], Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternal}
		fs := []*firmward.Finding{{CVE: "CVE-2025-0001", Status: firmward.FindingOpen, Decision: firmward.DecisionScheduled, DueDate: &due}}
		if i%10 == 0 {
			fs = append(fs, &firmward.Finding{CVE: "CVE-2025-0002", Status: firmward.FindingOpen, Decision: firmward.DecisionImmediate, DueDate: &due})
		}
		dir.findings[id] = fs
		macs = append(macs, mac)
	}
	return dir, macs
}

// mabBody is what FreeRADIUS 3.2 sends for a MAB request.
func mabBody(mac string) []byte {
	hex := strings.ReplaceAll(mac, ":", "")
	return fmt.Appendf(nil, `{"User-Name":{"type":"string","value":["%s"]},"User-Password":{"type":"string","value":["%s"]},`+
		`"NAS-IP-Address":{"type":"ipaddr","value":["192.0.2.10"]},"NAS-Port":{"type":"integer","value":[10112]},`+
		`"Service-Type":{"type":"integer","value":["Call-Check"]},"Called-Station-Id":{"type":"string","value":["00-11-22-33-44-55"]},`+
		`"Calling-Station-Id":{"type":"string","value":["%s"]},"NAS-Port-Type":{"type":"integer","value":["Ethernet"]},`+
		`"Event-Timestamp":{"type":"date","value":["Nov 25 2026 01:00:00 UTC"]}}`, hex, hex, strings.ToUpper(strings.ReplaceAll(mac, ":", "-")))
}

// BenchmarkAuthorizeHandler measures one authorize call in process (parse,
// decide over 10,000 devices, answer), without the network.
func BenchmarkAuthorizeHandler(b *testing.B) {
	dir, macs := benchDirectory(10_000)
	h := newTestHandler(b, dir, nac.Unknown{Action: nac.UnknownVLAN, VLAN: "99"}, nil)
	bodies := make([][]byte, 256)
	for i := range bodies {
		bodies[i] = mabBody(macs[i*37%len(macs)])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, radius.PathAuthorize, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set(radius.SecretHeader, testSecret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}

// BenchmarkRadiusAuthorize is the load test of the issue: the authorize
// endpoint over loopback HTTP at a paced 1,000 requests/s (open loop: each
// request is due 1 ms after the previous one whether or not earlier ones
// have answered; latency counts from the moment it was due, so a stall is
// not hidden), 5,000 requests per run, keep-alive connections as rlm_rest
// keeps them. Reports p50, p99 and max latency and the achieved rate.
//
//	go test ./radius -run '^$' -bench RadiusAuthorize -benchtime 1x
func BenchmarkRadiusAuthorize(b *testing.B) {
	dir, macs := benchDirectory(10_000)
	h := newTestHandler(b, dir, nac.Unknown{Action: nac.UnknownVLAN, VLAN: "99"}, nil)
	pacedLoad(b, h, macs)
}

// BenchmarkRadiusAuthorizeStore is BenchmarkRadiusAuthorize against the
// server's own Directory, sqlstore.NACService over a SQLite file holding
// 10,000 devices with findings and a stored site policy: per request an
// indexed MAC lookup, the device, its open findings, its NAC state and
// the site's policy.
//
//	go test ./radius -run '^$' -bench RadiusAuthorizeStore -benchtime 1x
func BenchmarkRadiusAuthorizeStore(b *testing.B) {
	store, macs := benchStore(b, 10_000)
	h := newTestHandler(b, store, nac.Unknown{Action: nac.UnknownVLAN, VLAN: "99"}, nil)
	pacedLoad(b, h, macs)
}

// BenchmarkAuthorizeHandlerStore is BenchmarkAuthorizeHandler over the
// SQLite-backed Directory.
func BenchmarkAuthorizeHandlerStore(b *testing.B) {
	store, macs := benchStore(b, 10_000)
	h := newTestHandler(b, store, nac.Unknown{Action: nac.UnknownVLAN, VLAN: "99"}, nil)
	bodies := make([][]byte, 256)
	for i := range bodies {
		bodies[i] = mabBody(macs[i*37%len(macs)])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, radius.PathAuthorize, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set(radius.SecretHeader, testSecret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}

// benchStore imports n devices of mixed categories on site hq into a new
// SQLite store (every tenth with an overdue Immediate finding, all with a
// Scheduled one), stores an enforcing policy for hq and returns the store
// and the MACs.
func benchStore(b *testing.B, n int) (*sqlstore.NACService, []string) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	rows := make([]firmward.ImportRow, n)
	macs := make([]string, n)
	for i := range n {
		macs[i] = fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
		rows[i] = firmward.ImportRow{Line: i + 2, Device: firmward.Device{
			Name: fmt.Sprintf("device %d", i), Manufacturer: "Acme", Model: "X1", Category: firmward.Categories[i%len(firmward.Categories)],
			Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternal, MACs: []string{macs[i]}, Site: "hq",
		}}
	}
	res, err := sqlstore.NewDeviceService(db).ImportDevices(ctx, rows, firmward.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	due := time.Now().AddDate(0, 0, -1).UTC()
	batch := make([]firmward.DeviceFindings, 0, n)
	for i, id := range res.IDs {
		fs := []firmward.Finding{{CVE: "CVE-2025-0001", Certain: true, Decision: firmward.DecisionScheduled, DueDate: &due, Evidence: firmward.Evidence{Source: "nvd", Reason: "bench"}}}
		if i%10 == 0 {
			fs = append(fs, firmward.Finding{CVE: "CVE-2025-0002", Certain: true, Decision: firmward.DecisionImmediate, DueDate: &due, Evidence: firmward.Evidence{Source: "nvd", Reason: "bench"}})
		}
		batch = append(batch, firmward.DeviceFindings{DeviceID: id, Found: fs})
	}
	if _, err := sqlstore.NewFindingService(db).SyncFindings(ctx, batch); err != nil {
		b.Fatal(err)
	}
	store, err := sqlstore.NewNACService(db, sqlstore.NACOptions{})
	if err != nil {
		b.Fatal(err)
	}
	p := nac.EnterprisePolicy("hq")
	p.Mode = nac.ModeEnforce
	if err := store.SetSitePolicy(ctx, p); err != nil {
		b.Fatal(err)
	}
	return store, macs
}

// pacedLoad sends the load to h over loopback HTTP and reports
// the latency percentiles.
func pacedLoad(b *testing.B, h http.Handler, macs []string) {
	b.Helper()
	const (
		count = 5000
		rate  = 1000 // per second
	)
	srv := httptest.NewServer(h)
	defer srv.Close()
	bodies := make([][]byte, count)
	for i := range bodies {
		mac := macs[(i*7919)%len(macs)]
		if i%20 == 0 {
			mac = fmt.Sprintf("06:00:00:00:%02x:%02x", i>>8&0xff, i&0xff) // unknown
		}
		bodies[i] = mabBody(mac)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}, Timeout: 5 * time.Second}
	url := srv.URL + radius.PathAuthorize
	for b.Loop() {
		lat := make([]time.Duration, count)
		errs := make(chan error, count)
		jobs := make(chan int, count)
		var wg sync.WaitGroup
		start := time.Now()
		due := func(i int) time.Time { return start.Add(time.Duration(i) * time.Second / rate) }
		for range 64 {
			wg.Go(func() {
				for i := range jobs {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i]))
					req.Header.Set(radius.SecretHeader, testSecret)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						errs <- err
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					lat[i] = time.Since(due(i))
					if resp.StatusCode != http.StatusOK {
						errs <- fmt.Errorf("request %d: status %d", i, resp.StatusCode)
					}
				}
			})
		}
		for i := range count {
			time.Sleep(time.Until(due(i)))
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		elapsed := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }
		b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(count)/elapsed.Seconds(), "req/s")
		if p99 := pct(0.99); p99 >= 10*time.Millisecond {
			// Not a failure: on a shared machine other load decides the
			// tail; docs/BENCHMARKS.md records measured figures.
			b.Logf("p99 %s: goal (< 10 ms) not met on this run", p99)
		}
	}
}
