// Package bench holds benchmarks that drive the built firmward binary as a
// user would: a real `firmward serve` process over a large inventory.
//
// Run with `make bench` (see docs/BENCHMARKS.md). The number of devices is
// FIRMWARD_BENCH_DEVICES (default 1,000,000); PostgreSQL runs when
// FIRMWARD_TEST_POSTGRES (or the default local server) is reachable.
package bench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for schema set-up

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/inventory"
	"github.com/firmward/firmward/sqlstore"
)

func benchDevices() int {
	if s := os.Getenv("FIRMWARD_BENCH_DEVICES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 1_000_000
}

func postgresURL() string {
	if s := os.Getenv("FIRMWARD_TEST_POSTGRES"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	manufacturers = []string{"Axis", "Hikvision", "Bosch", "Cisco", "Aruba", "HP", "Xerox", "Honeywell", "Siemens", "Rockwell Automation", "BD", "Baxter", "HID Global", "Schneider Electric"}
	floors        = []string{"lobby", "ground", "floor-1", "floor-2", "floor-3", "roof", "basement", "ward-a", "ward-b", "plant"}
)

// device returns the i-th device of a deterministic synthetic inventory.
func device(i int, r *rand.Rand) firmward.Device {
	m := manufacturers[r.IntN(len(manufacturers))]
	cat := firmward.Categories[r.IntN(len(firmward.Categories))]
	d := firmward.Device{
		Name:            fmt.Sprintf("%s-%07d", strings.ToLower(strings.Fields(m)[0]), i),
		Manufacturer:    m,
		Model:           fmt.Sprintf("M%d", r.IntN(40)),
		FirmwareVersion: fmt.Sprintf("%d.%d.%d", r.IntN(9), r.IntN(20), r.IntN(100)),
		Serial:          fmt.Sprintf("SN%09d", i),
		Category:        cat,
		Criticality:     firmward.Criticalities[r.IntN(len(firmward.Criticalities))],
		Exposure:        firmward.Exposures[r.IntN(len(firmward.Exposures))],
		UpdateMechanism: firmward.UpdateMechanisms[r.IntN(len(firmward.UpdateMechanisms))],
		MACs:            []string{fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i))},
		IPs:             []string{fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i))},
		Site:            fmt.Sprintf("site-%02d", i%50),
		Location:        floors[r.IntN(len(floors))],
		Owner:           "facilities",
		Tags:            []string{floors[r.IntN(len(floors))]},
	}
	if r.IntN(20) == 0 {
		d.FirmwareVersion = ""
	}
	return d
}

// fill imports n devices in chunks.
func fill(b *testing.B, dsn string, n int) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	svc := sqlstore.NewDeviceService(db)
	r := rand.New(rand.NewPCG(1, 2))
	const chunk = 50_000
	start := time.Now()
	for lo := 0; lo < n; lo += chunk {
		rows := make([]firmward.ImportRow, 0, chunk)
		for i := lo; i < min(lo+chunk, n); i++ {
			rows = append(rows, firmward.ImportRow{Line: i + 2, Device: device(i, r)})
		}
		if _, err := svc.ImportDevices(ctx, rows, firmward.ImportOptions{}); err != nil {
			b.Fatalf("import at %d: %v", lo, err)
		}
	}
	b.Logf("stored %d devices in %s", n, time.Since(start).Round(time.Millisecond))
}

func buildBinary(b *testing.B) string {
	b.Helper()
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "firmward")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/firmward")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type server struct {
	cmd   *exec.Cmd
	base  string
	token string
}

func startServer(b *testing.B, bin, data, dsn string) *server {
	b.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "warn"}
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "firmward listening on "); ok {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
			if err != nil {
				b.Fatal(err)
			}
			return &server{cmd: cmd, base: addr, token: strings.TrimSpace(string(tok))}
		}
	}
	b.Fatal("firmward serve exited before listening")
	return nil
}

func (s *server) get(b *testing.B, path string, into any) time.Duration {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if into != nil {
		err = json.NewDecoder(resp.Body).Decode(into)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	took := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return took
}

// memory returns VmRSS and VmHWM of a process in MiB.
func memory(b *testing.B, pid int) (rss, hwm float64) {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

func percentile(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return float64(s[i].Microseconds()) / 1000
}

// BenchmarkServer measures one `firmward serve` process over a stored
// inventory of FIRMWARD_BENCH_DEVICES devices: latency of filtered list
// queries through the REST API (p50/p99 in ms), the dashboard counts, a
// streamed CSV export of everything, and the server's resident memory
// (RSS after the work, and its high-water mark).
func BenchmarkServer(b *testing.B) {
	n := benchDevices()
	bin := buildBinary(b)
	b.Run("sqlite", func(b *testing.B) {
		data := b.TempDir()
		fill(b, filepath.Join(data, "firmward.db"), n)
		runServerBench(b, startServer(b, bin, data, ""))
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := freshSchema(b)
		fill(b, dsn, n)
		runServerBench(b, startServer(b, bin, b.TempDir(), dsn))
	})
}

func freshSchema(b *testing.B) string {
	b.Helper()
	admin, err := sql.Open("pgx", postgresURL())
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("PostgreSQL unreachable at %s: %v", postgresURL(), err)
		}
		b.Skipf("PostgreSQL unreachable (%v): set FIRMWARD_TEST_POSTGRES to run this part", err)
	}
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		_ = admin.Close()
	})
	u, _ := url.Parse(postgresURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func runServerBench(b *testing.B, s *server) {
	queries := []string{
		"category=camera", "site=site-07", "tag=floor-3", "criticality=high&exposure=internet-facing",
		"manufacturer=axis", "update_mechanism=ddi&site=site-42", "missing=firmware_version",
		"category=medical&criticality=safety-critical&limit=200",
	}
	// Free-text search is a substring scan: a common term fills a page at
	// once, a rare one reads the whole table. Measured apart.
	textQueries := []string{"q=lobby", "q=sn000123"}
	// A deep cursor: walk far into one filter's pages first.
	var page struct {
		Next string `json:"next_cursor"`
	}
	for range 20 {
		s.get(b, "/api/v1/devices?category=sensor&limit=1000&cursor="+url.QueryEscape(page.Next), &page)
	}
	queries = append(queries, "category=sensor&cursor="+url.QueryEscape(page.Next))

	var lat, text []time.Duration
	var stats time.Duration
	slowest := make([]time.Duration, len(queries))
	for b.Loop() {
		for range 20 {
			for i, q := range queries {
				took := s.get(b, "/api/v1/devices?"+q, nil)
				lat = append(lat, took)
				slowest[i] = max(slowest[i], took)
			}
		}
		for _, q := range textQueries {
			text = append(text, s.get(b, "/api/v1/devices?"+q, nil))
		}
		stats += s.get(b, "/api/v1/stats/devices", nil)
	}
	for i, q := range queries {
		b.Logf("slowest %-60s %s", q, slowest[i].Round(time.Microsecond))
	}
	b.ReportMetric(percentile(lat, 0.50), "list-p50-ms")
	b.ReportMetric(percentile(lat, 0.99), "list-p99-ms")
	b.ReportMetric(percentile(text, 1), "text-search-max-ms")
	b.ReportMetric(float64(stats.Microseconds())/1000/float64(b.N), "stats-ms")
	rss, _ := memory(b, s.cmd.Process.Pid)
	b.ReportMetric(rss, "rss-after-queries-MiB")

	start := time.Now()
	s.get(b, "/api/v1/devices/export?format=csv", nil)
	b.ReportMetric(time.Since(start).Seconds(), "export-all-s")
	rss, hwm := memory(b, s.cmd.Process.Pid)
	b.ReportMetric(rss, "rss-MiB")
	b.ReportMetric(hwm, "rss-peak-MiB")
}

// BenchmarkImportCSV measures `POST /api/v1/devices/import` of a
// 100,000-row CSV file against a running server: parsing, validation,
// duplicate-MAC checks, storage and one audit event per device, as a user
// importing an inventory experiences it. Each iteration imports into an
// empty database.
func BenchmarkImportCSV(b *testing.B) {
	const rows = 100_000
	bin := buildBinary(b)
	var csvFile strings.Builder
	w := inventory.NewCSVWriter(&csvFile)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range rows {
		d := device(i, r)
		if err := w.Write(&d); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	body := csvFile.String()
	b.Logf("CSV of %d rows: %.1f MiB", rows, float64(len(body))/(1<<20))
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				dsn := ""
				if dialect == "postgres" {
					dsn = freshSchema(b)
				}
				s := startServer(b, bin, b.TempDir(), dsn)
				b.StartTimer()
				start := time.Now()
				s.post(b, "/api/v1/devices/import?format=csv", "text/csv", body)
				took += time.Since(start)
				b.StopTimer()
				_ = s.cmd.Process.Kill()
				_ = s.cmd.Wait()
				b.StartTimer()
			}
			b.ReportMetric(float64(rows*b.N)/took.Seconds(), "rows/s")
		})
	}
}

func (s *server) post(b *testing.B, path, contentType, body string) {
	b.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("POST %s: %d %s", path, resp.StatusCode, msg)
	}
}
