package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/notify"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

func TestNotifySettingsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := sqlstore.NewNotifyService(db, sqlstore.NotifyOptions{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := notify.New(notify.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, r.Header.Get(notify.SignatureHeader)+" "+string(b))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	e := &env{
		t: t, devices: sqlstore.NewDeviceService(db), tokens: sqlstore.NewTokenService(db),
		sessions: sqlstore.NewSessionService(db), audit: sqlstore.NewAuditService(db), findings: sqlstore.NewFindingService(db),
	}
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		Notify: store, NotifyTester: disp,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	if _, e.admin, err = e.tokens.CreateToken(ctx, "alice", firmward.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, e.viewer, err = e.tokens.CreateToken(ctx, "victor", firmward.RoleViewer); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	b.signIn(e.admin)
	p := b.get("/settings/notify")
	wantContains(t, p.body, "Notifications", "No channel yet", "Add a channel", `href="/settings/notify" aria-current="page"`)

	// Without the CSRF token nothing happens.
	if p := b.post("/settings/notify/channels", url.Values{"name": {"hook"}, "type": {"webhook"}, "url": {hook.URL}}, "Origin", e.srv.URL); p.status != http.StatusForbidden {
		t.Errorf("no CSRF: %d", p.status)
	}
	p = b.post("/settings/notify/channels", url.Values{
		"csrf": {b.csrf}, "name": {"soc hook"}, "type": {"webhook"}, "url": {hook.URL},
		"secret": {"very-secret-key"},
	}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("add channel: %d %s", p.status, p.body)
	}
	p = b.get("/settings/notify")
	wantContains(t, p.body, "soc hook", "set (hidden)", "Send a test", "Add a recipient")
	if strings.Contains(p.body, "very-secret-key") {
		t.Error("the page shows the channel secret")
	}
	// Bad input is explained.
	p = b.post("/settings/notify/channels", url.Values{"csrf": {b.csrf}, "name": {"x"}, "type": {"ntfy"}, "url": {"ftp://x"}}, "Origin", e.srv.URL)
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "must be an http") {
		t.Errorf("bad channel: %d", p.status)
	}
	chs, _ := store.FindChannels(ctx)
	id := itoa(chs[0].ID)
	p = b.post("/settings/notify/recipients", url.Values{
		"csrf": {b.csrf}, "name": {"SOC"}, "channel_id": {id}, "kinds": {"kev.new", "quarantine"},
		"min_severity": {"high"}, "mode": {"immediate"}, "digest_hour": {"7"}, "quiet_start": {"22:00"}, "quiet_end": {"07:00"}, "time_zone": {"Europe/Paris"},
	},
		"Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("add recipient: %d %s", p.status, p.body)
	}
	p = b.post("/settings/notify/channels/"+id+"/test", url.Values{"csrf": {b.csrf}}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("test: %d %s", p.status, p.body)
	}
	p = b.get("/settings/notify")
	wantContains(t, p.body, "Test message sent.", "kev.new, quarantine", "22:00–07:00", "Europe/Paris", "[firmward] Test message from channel soc hook", "sent")
	mu.Lock()
	if len(hooks) != 1 || !strings.HasPrefix(hooks[0], "sha256=") || !strings.Contains(hooks[0], `"test":true`) {
		t.Errorf("webhook received %q", hooks)
	}
	mu.Unlock()

	// A viewer sees the page but cannot change anything.
	v := e.browser()
	v.signIn(e.viewer)
	p = v.get("/settings/notify")
	if strings.Contains(p.body, "Add a channel") || strings.Contains(p.body, "Send a test") {
		t.Error("a viewer is offered changes")
	}
	if p := v.post("/settings/notify/channels/"+id+"/delete", url.Values{"csrf": {v.csrf}}, "Origin", e.srv.URL); p.status != http.StatusForbidden {
		t.Errorf("viewer deleting a channel: %d", p.status)
	}
	p = b.post("/settings/notify/channels/"+id+"/delete", url.Values{"csrf": {b.csrf}}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	evs, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{ObjectType: "notify_channel"})
	if err != nil || len(evs) != 2 {
		t.Errorf("audited channel changes: %d, %v", len(evs), err)
	}
}
