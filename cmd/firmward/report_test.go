package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/notify"
	"github.com/firmward/firmward/report"
	"github.com/firmward/firmward/sqlstore"
)

// TestReportCommand downloads the compliance report with `firmward report`
// from `firmward serve`, and sees the server raise the previous month's
// report for delivery on its own.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--notify-interval", "50ms")
	c := httpapi.NewClient(s.URL, s.Token)
	ctx := context.Background()
	if _, err := c.CreateDevice(ctx, &firmward.Device{Name: "hq-router", Site: "hq", Owner: "it-team", Manufacturer: "Acme"}); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	from := time.Now().UTC().AddDate(0, 0, -6).Format(time.DateOnly)

	csvFile := filepath.Join(dir, "r.csv")
	mustContain(t, "report csv", s.ok(t, "report", "--site", "hq", "--from", from, "--to", today, "--format", "csv", "-o", csvFile), "Wrote "+csvFile)
	b, err := os.ReadFile(csvFile) //nolint:gosec // the test's own file
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) < 5 || recs[0][0] != "section" {
		t.Fatalf("CSV %v: %s", err, b)
	}
	mustContain(t, "report csv", string(b), "devices without overdue finding", "audit,chain")

	mustContain(t, "report html", s.ok(t, "report", "--format", "html", "-o", "-"), "firmward compliance report", "whole fleet", "Audit chain verified")

	var out struct {
		File  string `json:"file"`
		Bytes int    `json:"bytes"`
	}
	htmlFile := filepath.Join(dir, "r.html")
	s.okJSON(t, &out, "report", "--site", "hq", "--from", from, "--to", today, "--format", "html", "--output", htmlFile)
	if fi, err := os.Stat(htmlFile); err != nil || out.File != htmlFile || int64(out.Bytes) != fi.Size() || out.Bytes == 0 {
		t.Errorf("report --json = %+v (%v)", out, err)
	}

	if _, err := exec.LookPath("chromium"); err == nil {
		pdf := filepath.Join(dir, "r.pdf")
		s.ok(t, "report", "--from", from, "--to", today, "--format", "pdf", "-o", pdf)
		if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) { //nolint:gosec // the test's own file
			t.Errorf("PDF: %v, %q", err, b[:min(8, len(b))])
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("chromium is required under CI=true")
	}

	for _, tc := range []struct {
		name string
		code int
		args []string
		want string
	}{
		{"bad format", 2, []string{"report", "--format", "docx"}, `--format "docx"`},
		{"one date", 2, []string{"report", "--from", "2025-01-01"}, "both --from and --to"},
		{"bad date", 1, []string{"report", "--from", "2025-01-01", "--to", "soon"}, "not a date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.fails(t, tc.code, tc.args...)
			mustContain(t, tc.name, r.stderr, tc.want)
		})
	}

	// The monthly job raised last month's fleet report at start.
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := c.ListAlerts(ctx, httpapi.AlertQuery{Kind: firmward.AlertComplianceReport})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Alerts) == 1 {
			want := report.PreviousMonth("", time.Now()).From.Format("2006-01")
			if a := list.Alerts[0]; !strings.Contains(a.DedupeKey, want) || a.Details["audit chain"] == "" {
				t.Errorf("monthly alert = %+v", a)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no monthly report alert within 10 s: %+v", list.Alerts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMonthlyReportDelivery hands the monthly report to the notification
// dispatcher, which sends it to a signed webhook on loopback, once.
func TestMonthlyReportDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlstore.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key := bytes.Repeat([]byte{7}, 32)
	store, err := sqlstore.NewNotifyService(db, sqlstore.NotifyOptions{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []notify.Payload
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.VerifyWebhook([]byte("hook-secret"), r.Header.Get(notify.TimestampHeader), r.Header.Get(notify.SignatureHeader), body, now, time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		var p notify.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	actx := firmward.WithActor(ctx, firmward.Actor{Kind: "token", ID: 1, Name: "admin", Role: firmward.RoleAdmin})
	ch := &firmward.NotifyChannel{Name: "compliance", Type: firmward.ChannelWebhook, Enabled: true, URL: hook.URL, Secret: "hook-secret"}
	if err := store.CreateChannel(actx, ch); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateRecipient(actx, &firmward.NotifyRecipient{
		Name: "auditors", ChannelID: ch.ID, Kinds: []string{firmward.AlertComplianceReport},
		Mode: firmward.NotifyImmediate, Enabled: true, TimeZone: "UTC",
	}); err != nil {
		t.Fatal(err)
	}
	devices, findings, alerts := sqlstore.NewDeviceService(db), sqlstore.NewFindingService(db), sqlstore.NewAlertService(db)
	d, err := notify.New(notify.Config{Store: store, Alerts: alerts, Findings: findings, Devices: devices, Checks: sqlstore.NewCheckService(db), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	d.SetBaseURL("https://firmward.example:8080/") // links in messages are absolute
	if err := d.Tick(ctx); err != nil {            // the first round marks where alerts start
		t.Fatal(err)
	}
	m := &report.Monthly{Sources: report.Sources{Devices: devices, Findings: findings, Audit: sqlstore.NewAuditService(db), Now: clock}, Alerts: alerts}
	for range 2 {
		if _, err := m.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d webhook deliveries, want 1: %+v", len(got), got)
	}
	p := got[0]
	if p.Kind != firmward.AlertComplianceReport || !strings.Contains(p.Subject, "June 2025") ||
		!strings.Contains(p.Text, "https://firmward.example:8080/api/v1/reports/compliance?format=pdf&from=2025-06-01&to=2025-06-30") || !strings.Contains(p.Text, "audit chain: verified") {
		t.Errorf("payload = %+v", p)
	}
}
