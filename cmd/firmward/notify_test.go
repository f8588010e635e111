package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/notify"
)

// TestNotifyCommands drives `firmward notify …` against `firmward serve`,
// and checks that the server's dispatcher sends a new-device alert to a
// signed webhook on its own.
func TestNotifyCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var mu sync.Mutex
	var got []notify.Payload
	var verr []error
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := notify.VerifyWebhook([]byte("cli-secret"), r.Header.Get(notify.TimestampHeader), r.Header.Get(notify.SignatureHeader), body, time.Now(), time.Minute)
		var p notify.Payload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got, verr = append(got, p), append(verr, err)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	data := filepath.Join(dir, "data")
	s := startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--notify-interval", "50ms")
	if fi, err := os.Stat(filepath.Join(data, notifyKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", fi, err)
	}

	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("cli-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.fails(t, 1, "notify", "add", "--name", "x", "--type", "webhook", "--url", "ftp://nope")
	mustContain(t, "bad channel", r.stderr, "url", "http:// or https://")
	var ch firmward.NotifyChannel
	s.okJSON(t, &ch, "notify", "add", "--name", "soc", "--type", "webhook", "--url", hook.URL+"/in", "--secret-file", secretFile)
	if !ch.HasSecret || ch.ID == 0 {
		t.Fatalf("channel %+v", ch)
	}
	id := strconv.FormatInt(ch.ID, 10)
	out := s.ok(t, "notify", "channels")
	mustContain(t, "notify channels", out, "soc", "webhook", hook.URL+"/in", "set")
	// Quiet hours that do not hold this test's alert: two hours from now.
	quiet := time.Now().UTC().Add(2*time.Hour).Format("15:04") + "-" + time.Now().UTC().Add(3*time.Hour).Format("15:04")
	mustContain(t, "notify subscribe", s.ok(t, "notify", "subscribe", "--channel", id, "--name", "SOC team", "--kinds", "device.new,kev.new", "--quiet", quiet),
		"added recipient")
	mustContain(t, "notify recipients", s.ok(t, "notify", "recipients"), "SOC team", "device.new,kev.new", quiet)
	mustContain(t, "notify test", s.ok(t, "notify", "test", id), "sent: test message")

	// An unreachable channel: the test fails with the reason, exit 1.
	var dead firmward.NotifyChannel
	s.okJSON(t, &dead, "notify", "add", "--name", "dead", "--type", "ntfy", "--url", "http://127.0.0.1:1", "--topic", "x")
	r = s.fails(t, 1, "notify", "test", strconv.FormatInt(dead.ID, 10))
	mustContain(t, "failed test", r.stderr, "failed", "127.0.0.1:1")

	// A scan finds a new device: the server raises device.new, and its
	// dispatcher sends it to the webhook within a few rounds.
	c := httpapi.NewClient(s.URL, s.Token)
	now := time.Now().UTC()
	if _, err := c.ImportScan(context.Background(), "home", &firmward.ScanReport{
		CIDR: "192.0.2.0/24", StartedAt: now, FinishedAt: now, Scanned: 1,
		Hosts: []firmward.Observation{{Time: now, Source: "scan", IP: "192.0.2.7", MAC: "3c:d9:2b:00:00:13", Hostname: "doorbell"}},
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, p := range got {
			if p.Kind == firmward.AlertDeviceNew {
				n++
			}
		}
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no device.new webhook within 15 s; deliveries:\n%s", s.ok(t, "notify", "deliveries"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	for i, err := range verr {
		if err != nil {
			t.Errorf("webhook %d: %v", i, err)
		}
	}
	mu.Unlock()
	out = s.ok(t, "notify", "deliveries")
	mustContain(t, "notify deliveries", out, "device.new", "sent", "test", "failed")
	var list []firmward.NotifyDelivery
	s.okJSON(t, &list, "notify", "deliveries", "--status", "failed")
	if len(list) != 1 {
		t.Fatalf("failed deliveries: %+v", list)
	}
	out = s.ok(t, "notify", "deliveries", "--id", strconv.FormatInt(list[0].ID, 10))
	mustContain(t, "notify deliveries --id", out, "OUTCOME", "failed", "127.0.0.1:1")
	mustContain(t, "notify rm", s.ok(t, "notify", "rm", id), "removed channel")
}
