package reportpdf_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/report"
	"github.com/firmward/firmward/reportpdf"
	"github.com/firmward/firmward/sqlstore"
)

// need skips when a tool is missing, or fails under CI=true.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI=true (Debian packages chromium, poppler-utils): %v", tool, err)
			}
			t.Skipf("%s not installed (Debian packages chromium, poppler-utils); skipping", tool)
		}
	}
}

// buildReport makes a real report over a SQLite store: two devices, one
// finding fixed in time, one overdue, one risk-accepted.
func buildReport(t *testing.T) *report.Report {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pdf.db"), sqlstore.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	actx := firmward.WithActor(ctx, firmward.Actor{Kind: "token", ID: 1, Name: "admin", Role: firmward.RoleAdmin})
	devices, findings := sqlstore.NewDeviceService(db), sqlstore.NewFindingService(db)
	var ids []int64
	for _, name := range []string{"front-door-camera", "office-router"} {
		d := &firmward.Device{Name: name, Site: "hq", Owner: "facilities", Manufacturer: "Acme"}
		if err := devices.CreateDevice(actx, d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	due := func(d int) *time.Time { x := time.Date(2025, 6, d, 0, 0, 0, 0, time.UTC); return &x }
	f := func(cve, decision string, d *time.Time) firmward.Finding {
		return firmward.Finding{
			CVE: cve, Certain: true, Decision: decision, DueDate: d, Priority: 5,
			Evidence: firmward.Evidence{Source: "nvd", Reason: "firmware below the fix"},
		}
	}
	for _, step := range []struct {
		day int
		dev int64
		fs  []firmward.Finding
	}{
		{2, ids[0], []firmward.Finding{f("CVE-2025-1111", firmward.DecisionImmediate, due(5)), f("CVE-2025-2222", firmward.DecisionScheduled, due(20))}},
		{2, ids[1], []firmward.Finding{f("CVE-2025-3333", firmward.DecisionOutOfCycle, due(9))}},
		{4, ids[0], []firmward.Finding{f("CVE-2025-2222", firmward.DecisionScheduled, due(20))}},
	} {
		now = time.Date(2025, 6, step.day, 9, 0, 0, 0, time.UTC)
		if _, err := findings.SyncDeviceFindings(actx, step.dev, step.fs); err != nil {
			t.Fatal(err)
		}
	}
	now = time.Date(2025, 7, 1, 6, 0, 0, 0, time.UTC)
	r, err := report.Build(ctx, report.Sources{Devices: devices, Findings: findings, Audit: sqlstore.NewAuditService(db), Now: clock},
		report.Request{Site: "hq", From: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPDF prints a real report with Chromium, reads its text back with
// pdftotext and rasterises the first page with pdftoppm.
func TestPDF(t *testing.T) {
	need(t, "chromium", "pdftotext", "pdftoppm")
	r := buildReport(t)
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pdfPath := filepath.Join(dir, "report.pdf")
	var pdf bytes.Buffer
	start := time.Now()
	rend := reportpdf.New(reportpdf.Config{Timeout: 45 * time.Second, TempDir: dir})
	if err := rend.PDF(context.Background(), &html, &pdf); err != nil {
		t.Fatal(err)
	}
	t.Logf("PDF: %d bytes in %s", pdf.Len(), time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(pdfPath, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "firmward-pdf-*")); len(left) != 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pdftotext", "-layout", pdfPath, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := regexp.MustCompile(`\s+`).ReplaceAllString(string(out), " ")
	for _, want := range []string{
		"firmward compliance report", "site hq", "2025-06-01 to 2025-06-30",
		"100.0 %", // CVE-2025-1111 fixed June 4, due June 5
		"CVE-2025-2222", "CVE-2025-3333", "Out-of-Cycle", "Audit chain verified",
		r.Audit.HeadHash[:16],
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}

	prefix := filepath.Join(dir, "page")
	if out, err := exec.CommandContext(ctx, "pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", pdfPath, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	img := decodePNG(t, prefix+".png")
	b := img.Bounds()
	// A4 at 50 dpi is 413×585 pixels.
	if b.Dx() < 380 || b.Dx() > 450 || b.Dy() < 550 || b.Dy() > 620 {
		t.Errorf("first page is %dx%d pixels, want about 413x585 (A4 at 50 dpi)", b.Dx(), b.Dy())
	}
	colours := map[[3]uint32]bool{}
	var dark int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
			if r+g+bl < 3*0x8000 {
				dark++
			}
		}
	}
	if len(colours) < 8 || dark < 100 {
		t.Errorf("first page looks blank: %d colours, %d dark samples", len(colours), dark)
	}
	if os.Getenv("FIRMWARD_KEEP_REPORT") != "" {
		t.Logf("kept %s and %s.png", pdfPath, prefix)
	}
	if dst := os.Getenv("FIRMWARD_TEST_RESULTS"); dst != "" {
		_ = os.MkdirAll(dst, 0o750)
		_ = os.WriteFile(filepath.Join(dst, "compliance-report.pdf"), pdf.Bytes(), 0o600)
		if data, err := os.ReadFile(prefix + ".png"); err == nil { //nolint:gosec // a test file
			_ = os.WriteFile(filepath.Join(dst, "compliance-report-page1.png"), data, 0o600)
		}
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path) //nolint:gosec // a file the test made
	if err != nil {
		t.Fatalf("no PNG of the first page: %v", err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return img
}

// TestPDFErrors covers a missing browser, a browser that fails and one
// that hangs (its process group is killed at the timeout).
func TestPDFErrors(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil { //nolint:gosec // an executable test script
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, chromium, want string
		timeout              time.Duration
	}{
		{"missing", filepath.Join(dir, "no-such-chromium"), "not found", time.Second},
		{"fails", script("fails.sh", "echo 'cannot open display' >&2; exit 3"), "cannot open display", 5 * time.Second},
		{"no pdf", script("nopdf.sh", "exit 0"), "wrote no PDF", 5 * time.Second},
		{"hangs", script("hangs.sh", "sleep 30 & sleep 30"), "did not print the PDF within", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rend := reportpdf.New(reportpdf.Config{Chromium: tc.chromium, Timeout: tc.timeout, TempDir: dir})
			start := time.Now()
			err := rend.PDF(context.Background(), strings.NewReader("<p>x</p>"), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if time.Since(start) > 8*time.Second {
				t.Errorf("took %s: the process group was not killed", time.Since(start))
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "firmward-pdf-*")); len(left) != 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
}
