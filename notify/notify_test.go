package notify_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/notify"
)

func newDispatcher(t *testing.T, e *env, c *clock, owner string, mut func(*notify.Config)) *notify.Dispatcher {
	t.Helper()
	cfg := notify.Config{
		Store: e.store, Alerts: e.alerts, Findings: e.findings, Devices: e.devices, Checks: e.checks,
		Owner: owner, Now: c.Now, Hostname: "firmward.test", SendTimeout: 5 * time.Second,
	}
	if mut != nil {
		mut(&cfg)
	}
	d, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tick(t *testing.T, d *notify.Dispatcher) {
	t.Helper()
	if err := d.Tick(context.Background()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

func mustChannel(t *testing.T, e *env, ch *firmward.NotifyChannel) *firmward.NotifyChannel {
	t.Helper()
	ch.Enabled = true
	if err := e.store.CreateChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

func mustRecipient(t *testing.T, e *env, r *firmward.NotifyRecipient) *firmward.NotifyRecipient {
	t.Helper()
	r.Enabled = true
	if err := e.store.CreateRecipient(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func deliveries(t *testing.T, e *env) []*firmward.NotifyDelivery {
	t.Helper()
	list, _, err := e.store.FindDeliveries(context.Background(), firmward.NotifyDeliveryFilter{Limit: firmward.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestEmailOverSTARTTLS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	e := openEnv(t, backends[0].dsn(t), c)
	srv, pool := startSMTP(t, true)
	ch := mustChannel(t, e, &firmward.NotifyChannel{
		Name: "mail", Type: firmward.ChannelEmail, SMTPHost: srv.host(), SMTPPort: srv.port(),
		SMTPUser: "firmward", Secret: "p4ss word", From: "Firmward <firmward@example.test>",
	})
	if ch.HasSecret != true || ch.Secret != "" {
		t.Fatalf("created channel: has_secret %v, secret %q", ch.HasSecret, ch.Secret)
	}
	mustRecipient(t, e, &firmward.NotifyRecipient{Name: "Ann", ChannelID: ch.ID, Address: "ann@example.test", Kinds: []string{firmward.AlertDeviceNew}})
	d := newDispatcher(t, e, c, "a", func(cfg *notify.Config) { cfg.SMTPTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12} })
	tick(t, d) // the first round sets the marks: older alerts are not sent
	raise(t, e, firmward.AlertDeviceNew, firmward.SeverityMedium, "New device seen: Caméra 10.0.0.7")
	raise(t, e, firmward.AlertKEVNew, firmward.SeverityCritical, "not wanted by Ann")
	tick(t, d)

	msgs := srv.received()
	if len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.User != "firmward" || m.Pass != "p4ss word" {
		t.Errorf("session: tls %v, user %q, pass %q; want STARTTLS and AUTH PLAIN with the channel's secret", m.TLS, m.User, m.Pass)
	}
	if m.From != "firmward@example.test" || m.To != "ann@example.test" {
		t.Errorf("envelope %s -> %s", m.From, m.To)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Subject":                   "[firmward] New device seen: Caméra 10.0.0.7",
		"From":                      `"Firmward" <firmward@example.test>`,
		"To":                        "<ann@example.test>",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"X-Firmward-Kind":           "device.new",
	} {
		got := m.Msg.Header.Get(name)
		if name == "Subject" {
			got = subject
		}
		if got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if !strings.HasSuffix(m.Msg.Header.Get("Message-Id"), "@firmward.test>") || m.Msg.Header.Get("Date") == "" {
		t.Errorf("Message-ID %q, Date %q", m.Msg.Header.Get("Message-Id"), m.Msg.Header.Get("Date"))
	}
	if !strings.Contains(m.Body, "Kind: device.new") || !strings.Contains(m.Body, "Severity: medium") {
		t.Errorf("body:\n%s", m.Body)
	}
	list := deliveries(t, e)
	if len(list) != 1 || list[0].Status != firmward.DeliverySent || list[0].Attempts != 1 || list[0].SentAt == nil {
		t.Fatalf("deliveries: %+v", list)
	}
	at, err := e.store.FindAttempts(ctx, list[0].ID)
	if err != nil || len(at) != 1 || at[0].Outcome != "sent" || at[0].Recipient != "ann@example.test" || at[0].ChannelType != firmward.ChannelEmail {
		t.Fatalf("attempts %+v, %v", at, err)
	}
	// Another round sends nothing again.
	tick(t, d)
	if n := len(srv.received()); n != 1 {
		t.Errorf("after another round: %d messages", n)
	}
}

func TestSMTPFailuresRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	e := openEnv(t, backends[0].dsn(t), c)
	srv, _ := startSMTP(t, false)
	ch := mustChannel(t, e, &firmward.NotifyChannel{
		Name: "relay", Type: firmward.ChannelEmail, SMTPHost: srv.host(), SMTPPort: srv.port(), SMTPMode: firmward.SMTPNone,
		From: "firmward@example.test",
	})
	mustRecipient(t, e, &firmward.NotifyRecipient{Name: "ops", ChannelID: ch.ID, Address: "ops@example.test"})
	d := newDispatcher(t, e, c, "a", nil)
	tick(t, d)
	srv.failNext("451 4.3.0 mailbox busy, try later", "421 4.3.2 shutting down")
	raise(t, e, firmward.AlertQuarantine, firmward.SeverityHigh, "cam quarantined")

	steps := []struct {
		advance  time.Duration
		attempts int
		status   string
		next     time.Duration // after the attempt, from its time
	}{
		{0, 1, firmward.DeliveryPending, time.Minute},
		{30 * time.Second, 1, firmward.DeliveryPending, 0}, // not due yet: nothing happens
		{30 * time.Second, 2, firmward.DeliveryPending, 2 * time.Minute},
		{2 * time.Minute, 3, firmward.DeliverySent, 0},
	}
	for i, st := range steps {
		c.Add(st.advance)
		tick(t, d)
		list := deliveries(t, e)
		if len(list) != 1 {
			t.Fatalf("step %d: %d deliveries", i, len(list))
		}
		dl := list[0]
		if dl.Attempts != st.attempts || dl.Status != st.status {
			t.Fatalf("step %d: attempts %d status %s (err %q), want %d %s", i, dl.Attempts, dl.Status, dl.LastError, st.attempts, st.status)
		}
		if st.next > 0 && !dl.NextAttemptAt.Equal(c.Now().Add(st.next)) {
			t.Errorf("step %d: next attempt %s, want %s", i, dl.NextAttemptAt, c.Now().Add(st.next))
		}
	}
	at, err := e.store.FindAttempts(ctx, deliveries(t, e)[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, a := range at {
		outcomes = append(outcomes, a.Outcome+":"+a.Error)
	}
	if len(at) != 3 || at[0].Outcome != "retry" || !strings.Contains(at[0].Error, "451 4.3.0 mailbox busy") ||
		!strings.Contains(at[1].Error, "421") || at[2].Outcome != "sent" || at[2].Error != "" {
		t.Errorf("attempts: %q", outcomes)
	}
	if n := len(srv.received()); n != 1 {
		t.Errorf("%d messages received", n)
	}

	// A refusal for good (5xx) is not retried.
	srv.failNext("550 5.7.1 relaying denied")
	raise(t, e, firmward.AlertQuarantine, firmward.SeverityHigh, "hub quarantined")
	tick(t, d)
	list := deliveries(t, e)
	if list[0].Status != firmward.DeliveryFailed || list[0].Attempts != 1 || !strings.Contains(list[0].LastError, "550 5.7.1 relaying denied") {
		t.Errorf("refused delivery: %+v", list[0])
	}
}

func TestWebhookSignedAndNtfy(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := openEnv(t, backends[0].dsn(t), c)
	var mu sync.Mutex
	var hooks []error
	var payloads []notify.Payload
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := notify.VerifyWebhook([]byte("hook-secret"), r.Header.Get(notify.TimestampHeader), r.Header.Get(notify.SignatureHeader), body, c.Now(), 5*time.Minute)
		var p notify.Payload
		if jerr := json.Unmarshal(body, &p); jerr != nil && err == nil {
			err = jerr
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get(notify.DeliveryHeader) != p.Delivery {
			t.Errorf("webhook headers %v", r.Header)
		}
		// A tampered body or an old timestamp is refused.
		if notify.VerifyWebhook([]byte("hook-secret"), r.Header.Get(notify.TimestampHeader), r.Header.Get(notify.SignatureHeader), append(body, ' '), c.Now(), 5*time.Minute) == nil {
			t.Error("a changed body passed verification")
		}
		if notify.VerifyWebhook([]byte("hook-secret"), r.Header.Get(notify.TimestampHeader), r.Header.Get(notify.SignatureHeader), body, c.Now().Add(10*time.Minute), 5*time.Minute) == nil {
			t.Error("a replay 10 minutes later passed verification")
		}
		mu.Lock()
		hooks, payloads = append(hooks, err), append(payloads, p)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	type ntfyReq struct {
		path   string
		header http.Header
		body   string
	}
	var pushes []ntfyReq
	ntfy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		pushes = append(pushes, ntfyReq{r.URL.Path, r.Header.Clone(), string(body)})
		mu.Unlock()
	}))
	t.Cleanup(ntfy.Close)

	wh := mustChannel(t, e, &firmward.NotifyChannel{Name: "hook", Type: firmward.ChannelWebhook, URL: hook.URL + "/in", Secret: "hook-secret"})
	nt := mustChannel(t, e, &firmward.NotifyChannel{Name: "push", Type: firmward.ChannelNtfy, URL: ntfy.URL, Topic: "home-alerts", Secret: "tk_abc"})
	mustRecipient(t, e, &firmward.NotifyRecipient{Name: "soc", ChannelID: wh.ID})
	mustRecipient(t, e, &firmward.NotifyRecipient{Name: "phone", ChannelID: nt.ID, MinSeverity: firmward.SeverityHigh})
	d := newDispatcher(t, e, c, "a", nil)
	tick(t, d)
	kev := raise(t, e, firmward.AlertKEVNew, firmward.SeverityCritical, "CVE-2024-3400 affects router")
	raise(t, e, firmward.AlertDeviceNew, firmward.SeverityInfo, "new plug")
	tick(t, d)

	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != 2 {
		t.Fatalf("webhook got %d posts, want 2", len(hooks))
	}
	for i, err := range hooks {
		if err != nil {
			t.Errorf("webhook %d: %v", i, err)
		}
	}
	if payloads[0].Alert == nil || payloads[0].Alert.ID != kev.ID || payloads[0].Kind != firmward.AlertKEVNew || payloads[0].Delivery != "alert:"+itoa(kev.ID) {
		t.Errorf("webhook payload %+v", payloads[0])
	}
	if len(pushes) != 1 { // the info alert is below the phone's minimum
		t.Fatalf("ntfy got %d pushes, want 1", len(pushes))
	}
	p := pushes[0]
	title, _ := new(mime.WordDecoder).DecodeHeader(p.header.Get("Title"))
	if p.path != "/home-alerts" || title != "[firmward] CVE-2024-3400 affects router" || p.header.Get("Priority") != "5" ||
		p.header.Get("Tags") != "kev_new,critical,warning" || p.header.Get("Authorization") != "Bearer tk_abc" ||
		!strings.Contains(p.body, "CVE-2024-3400 affects router") {
		t.Errorf("ntfy push: %s %v %q", p.path, p.header, p.body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestExactlyOnceAcrossReplicas runs two dispatchers on one database, as
// two `firmward serve` replicas would, and checks that each alert reaches
// the webhook exactly once.
func TestExactlyOnceAcrossReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		c := newClock()
		dsn := b.dsn(t)
		e1, e2 := openEnv(t, dsn, c), openEnv(t, dsn, c)
		var mu sync.Mutex
		got := map[string]int{}
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.Header.Get(notify.DeliveryHeader)]++
			mu.Unlock()
		}))
		t.Cleanup(hook.Close)
		wh := mustChannel(t, e1, &firmward.NotifyChannel{Name: "hook", Type: firmward.ChannelWebhook, URL: hook.URL})
		mustRecipient(t, e1, &firmward.NotifyRecipient{Name: "a", ChannelID: wh.ID})
		mustRecipient(t, e1, &firmward.NotifyRecipient{Name: "b", ChannelID: wh.ID})
		d1 := newDispatcher(t, e1, c, "replica-1", func(cfg *notify.Config) { cfg.Batch = 3 })
		d2 := newDispatcher(t, e2, c, "replica-2", func(cfg *notify.Config) { cfg.Batch = 3 })
		tick(t, d1)
		const n = 20
		for i := range n {
			raise(t, e1, firmward.AlertDeviceNew, firmward.SeverityInfo, "device "+itoa(int64(i)))
		}
		var wg sync.WaitGroup
		for _, d := range []*notify.Dispatcher{d1, d2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					if err := d.Tick(context.Background()); err != nil {
						t.Errorf("Tick: %v", err)
					}
				}
			}()
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for key, k := range got {
			total += k
			if k != 2 { // one per recipient, both on the same URL
				t.Errorf("%s received %d times, want 2 (one per recipient)", key, k)
			}
		}
		if len(got) != n || total != 2*n {
			t.Errorf("%d alerts, %d posts; want %d and %d", len(got), total, n, 2*n)
		}
		owners := map[string]int{}
		for _, dl := range deliveries(t, e1) {
			if dl.Status != firmward.DeliverySent || dl.Attempts != 1 {
				t.Errorf("delivery %d: %s after %d attempts", dl.ID, dl.Status, dl.Attempts)
			}
			at, err := e1.store.FindAttempts(context.Background(), dl.ID)
			if err != nil || len(at) != 1 {
				t.Errorf("delivery %d: %d attempts recorded (%v)", dl.ID, len(at), err)
			}
			owners[dl.Key]++
		}
		if len(owners) != n {
			t.Errorf("%d distinct keys, want %d", len(owners), n)
		}
	})
}

// TestNothingLostAcrossRestart: a replica dies holding a lease and with
// retries pending; a dispatcher created anew on a new connection sends
// them once the lease and the backoff run out.
func TestNothingLostAcrossRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		dsn := b.dsn(t)
		e1 := openEnv(t, dsn, c)
		var mu sync.Mutex
		fail := true
		got := map[string]int{}
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			got[r.Header.Get(notify.DeliveryHeader)]++
		}))
		t.Cleanup(hook.Close)
		wh := mustChannel(t, e1, &firmward.NotifyChannel{Name: "hook", Type: firmward.ChannelWebhook, URL: hook.URL})
		mustRecipient(t, e1, &firmward.NotifyRecipient{Name: "a", ChannelID: wh.ID})
		d1 := newDispatcher(t, e1, c, "old", nil)
		tick(t, d1)
		a1 := raise(t, e1, firmward.AlertDeviceNew, firmward.SeverityInfo, "first")
		tick(t, d1) // a1: attempt 1 fails (503), retry in 1 min
		a2 := raise(t, e1, firmward.AlertDeviceNew, firmward.SeverityInfo, "second")
		if _, err := d1.PlanAlerts(ctx); err != nil {
			t.Fatal(err)
		}
		// The old replica claims a2 and dies before sending it.
		claimed, err := e1.store.ClaimDeliveries(ctx, "old", c.Now(), notify.DefaultLease, 10)
		if err != nil || len(claimed) != 1 || claimed[0].AlertID != a2.ID {
			t.Fatalf("claim: %+v, %v", claimed, err)
		}
		if err := e1.db.Close(); err != nil {
			t.Fatal(err)
		}

		e2 := openEnv(t, dsn, c)
		d2 := newDispatcher(t, e2, c, "new", nil)
		mu.Lock()
		fail = false
		mu.Unlock()
		tick(t, d2) // a1 waits for its backoff, a2 for the dead replica's lease
		if len(got) != 0 {
			t.Fatalf("sent before the backoff and lease ran out: %v", got)
		}
		c.Add(notify.DefaultLease + time.Second)
		tick(t, d2)
		tick(t, d2)
		for _, a := range []*firmward.Alert{a1, a2} {
			if k := got["alert:"+itoa(a.ID)]; k != 1 {
				t.Errorf("alert %d delivered %d times after the restart, want 1", a.ID, k)
			}
		}
		for _, dl := range deliveries(t, e2) {
			if dl.Status != firmward.DeliverySent {
				t.Errorf("delivery %d is %s", dl.ID, dl.Status)
			}
		}
		// The dead replica's late report is refused, and recorded.
		err = e2.store.CompleteDelivery(ctx, "old", claimed[0].ID, c.Now(), firmward.NotifyResult{Outcome: firmward.DeliverySent})
		if firmward.ErrorCode(err) != firmward.ECONFLICT {
			t.Errorf("late completion by the old owner: %v, want a conflict", err)
		}
	})
}

func TestMaxAttemptsThenFailed(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := openEnv(t, backends[0].dsn(t), c)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(hook.Close)
	wh := mustChannel(t, e, &firmward.NotifyChannel{Name: "hook", Type: firmward.ChannelWebhook, URL: hook.URL})
	mustRecipient(t, e, &firmward.NotifyRecipient{Name: "a", ChannelID: wh.ID})
	d := newDispatcher(t, e, c, "a", func(cfg *notify.Config) { cfg.MaxAttempts = 3 })
	tick(t, d)
	raise(t, e, firmward.AlertDeviceNew, firmward.SeverityInfo, "x")
	for range 5 {
		tick(t, d)
		c.Add(time.Hour)
	}
	dl := deliveries(t, e)[0]
	if dl.Status != firmward.DeliveryFailed || dl.Attempts != 3 || !strings.Contains(dl.LastError, "500 Internal Server Error: boom") {
		t.Errorf("delivery: %s after %d attempts, error %q", dl.Status, dl.Attempts, dl.LastError)
	}
}

func TestQuietHoursAndDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock() // 10:00 UTC
	e := openEnv(t, backends[0].dsn(t), c)
	var mu sync.Mutex
	var got []notify.Payload
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.Payload
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	wh := mustChannel(t, e, &firmward.NotifyChannel{Name: "hook", Type: firmward.ChannelWebhook, URL: hook.URL})
	// Quiet 09:00–12:00 UTC: immediate alerts wait until noon.
	mustRecipient(t, e, &firmward.NotifyRecipient{
		Name: "quiet", ChannelID: wh.ID, QuietStart: "09:00", QuietEnd: "12:00", DigestHour: 23,
		Kinds: []string{firmward.AlertDeviceNew},
	})
	// A digest recipient at 18:00 Paris time (17:00 UTC in March).
	mustRecipient(t, e, &firmward.NotifyRecipient{Name: "daily", ChannelID: wh.ID, Mode: firmward.NotifyDigest, DigestHour: 18, TimeZone: "Europe/Paris"})
	dev := &firmward.Device{Name: "front door lock", Category: firmward.CategoryLock}
	if err := e.devices.CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	due := c.Now().Add(-48 * time.Hour)
	if _, err := e.findings.SyncDeviceFindings(ctx, dev.ID, []firmward.Finding{{
		CVE: "CVE-2024-0001", Certain: true, KEV: true, Priority: 90, DueDate: &due,
		Evidence: firmward.Evidence{Source: "nvd", Reason: "test"},
	}}); err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(t, e, c, "a", nil)
	tick(t, d) // sets the marks (the KEV already open is not alerted)
	raise(t, e, firmward.AlertDeviceNew, firmward.SeverityInfo, "new plug")
	tick(t, d)
	if len(got) != 0 {
		t.Fatalf("sent during quiet hours: %+v", got)
	}
	c.Add(2 * time.Hour) // 12:00
	tick(t, d)
	if len(got) != 1 || got[0].Subject != "new plug" {
		t.Fatalf("after quiet hours: %+v", got)
	}
	c.Add(5 * time.Hour) // 17:00 UTC = 18:00 Paris
	tick(t, d)
	tick(t, d)
	if len(got) != 2 || got[1].Digest == nil {
		t.Fatalf("digest: %+v", got)
	}
	dg := got[1].Digest
	if dg.Date != "2026-03-02" || dg.OverdueTotal != 1 || dg.Overdue[0].CVE != "CVE-2024-0001" || !dg.Overdue[0].KEV ||
		dg.DueChecksTotal != 1 || dg.DueChecks[0].Name != "front door lock" || len(dg.Alerts) != 1 || dg.Alerts[0].Subject != "new plug" {
		t.Errorf("digest %+v", dg)
	}
	if !strings.Contains(got[1].Text, "Health checks due: 1") || !strings.Contains(got[1].Text, "CVE-2024-0001 on device") {
		t.Errorf("digest text:\n%s", got[1].Text)
	}
	// A new dispatcher (restart) does not send today's digest again.
	d2 := newDispatcher(t, e, c, "b", nil)
	tick(t, d2)
	if len(got) != 2 {
		t.Errorf("digest sent again after a restart: %d posts", len(got))
	}
}

func TestKEVAlertsRaisedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	e := openEnv(t, backends[0].dsn(t), c)
	dev := &firmward.Device{Name: "edge router", Site: "hq"}
	if err := e.devices.CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(t, e, c, "a", nil)
	tick(t, d) // sets the KEV mark
	c.Add(time.Minute)
	if _, err := e.findings.SyncDeviceFindings(ctx, dev.ID, []firmward.Finding{
		{CVE: "CVE-2024-3400", Certain: true, KEV: true, Priority: 95, Evidence: firmward.Evidence{Source: "nvd", Reason: "t"}},
		{CVE: "CVE-2024-0002", Certain: true, Priority: 10, Evidence: firmward.Evidence{Source: "nvd", Reason: "t"}},
	}); err != nil {
		t.Fatal(err)
	}
	c.Add(notify.DefaultKEVEvery)
	n, err := d.RaiseKEV(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RaiseKEV = %d, %v; want 1", n, err)
	}
	if n, err := d.RaiseKEV(ctx); err != nil || n != 0 {
		t.Errorf("again: %d, %v", n, err)
	}
	list, _, err := e.alerts.FindAlerts(ctx, firmward.AlertFilter{Kind: firmward.AlertKEVNew})
	if err != nil || len(list) != 1 {
		t.Fatalf("alerts %+v, %v", list, err)
	}
	a := list[0]
	if a.DeviceID != dev.ID || a.Site != "hq" || a.Severity != firmward.SeverityCritical || a.Details["cve"] != "CVE-2024-3400" ||
		a.Subject != "CVE-2024-3400 is exploited in the wild and affects edge router" {
		t.Errorf("alert %+v", a)
	}
}

func TestSendTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	e := openEnv(t, backends[0].dsn(t), c)
	srv, _ := startSMTP(t, false)
	ch := mustChannel(t, e, &firmward.NotifyChannel{
		Name: "m", Type: firmward.ChannelEmail, SMTPHost: srv.host(), SMTPPort: srv.port(),
		SMTPMode: firmward.SMTPNone, From: "fw@example.test",
	})
	d := newDispatcher(t, e, c, "a", nil)
	if _, err := d.SendTest(ctx, ch.ID, ""); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("test without an address: %v", err)
	}
	dl, err := d.SendTest(ctx, ch.ID, "me@example.test")
	if err != nil || dl.Status != firmward.DeliverySent || len(srv.received()) != 1 {
		t.Fatalf("test: %+v, %v", dl, err)
	}
	// A refusal comes back as a failed delivery with the server's words.
	srv.failNext("554 5.7.1 no thanks")
	dl, err = d.SendTest(ctx, ch.ID, "me@example.test")
	if err != nil || dl.Status != firmward.DeliveryFailed || !strings.Contains(dl.LastError, "554 5.7.1 no thanks") {
		t.Fatalf("refused test: %+v, %v", dl, err)
	}
	// Unreachable: nothing listens on the port any more.
	ch2 := mustChannel(t, e, &firmward.NotifyChannel{Name: "gone", Type: firmward.ChannelWebhook, URL: "http://127.0.0.1:1/x"})
	dl, err = d.SendTest(ctx, ch2.ID, "")
	if err != nil || dl.Status != firmward.DeliveryFailed || !strings.Contains(dl.LastError, "127.0.0.1:1") {
		t.Fatalf("unreachable: %+v, %v", dl, err)
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	good := []byte(`{"kind":"device.new"}`)
	f.Add("1700000000", notify.Sign([]byte("k"), now, good), good)
	f.Add("1699999800", notify.Sign([]byte("k"), now.Add(-200*time.Second), good), good)
	f.Add("", "", []byte{})
	f.Add("-99999999999999999999", "sha256=zz", []byte("x"))
	f.Add("+1700000000", "sha256="+strings.Repeat("0", 64), []byte("{}"))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		err := notify.VerifyWebhook([]byte("k"), ts, sig, body, now, 5*time.Minute)
		if err != nil {
			return
		}
		// Only the signature of a timestamp within the tolerance passes.
		sec, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil {
			t.Fatalf("accepted timestamp %q", ts)
		}
		at := time.Unix(sec, 0)
		if d := now.Sub(at); d > 5*time.Minute || d < -5*time.Minute {
			t.Fatalf("accepted a timestamp %s away", d)
		}
		if sig != notify.Sign([]byte("k"), at, body) {
			t.Fatalf("accepted signature %q", sig)
		}
	})
}
