package sqlstore

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestNotifyConformance checks the notification store on both databases.
func TestNotifyConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, tc := range []struct {
			name string
			fn   func(t *testing.T, b backend)
		}{
			{"Channels", testNotifyChannels},
			{"Recipients", testNotifyRecipients},
			{"Queue", testNotifyQueue},
			{"ClaimRace", testNotifyClaimRace},
			{"Cursors", testNotifyCursors},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, b)
			})
		}
	})
}

var notifyTestKey = []byte("0123456789abcdef0123456789abcdef")

func newNotify(t *testing.T, db *DB) *NotifyService {
	t.Helper()
	s, err := NewNotifyService(db, NotifyOptions{SecretKey: notifyTestKey})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testNotifyChannels(t *testing.T, b backend) {
	ctx := context.Background()
	db := b.open(t, Options{Now: newClock().Now})
	s := newNotify(t, db)
	ch := &firmward.NotifyChannel{
		Name: "mail", Type: "Email", SMTPHost: "smtp.example.test", SMTPUser: "fw", Secret: "hunter2",
		From: "fw@example.test", Enabled: true, URL: "ignored",
	}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if ch.Type != firmward.ChannelEmail || ch.SMTPPort != 587 || ch.SMTPMode != firmward.SMTPStartTLS || ch.URL != "" || !ch.HasSecret || ch.Secret != "" {
		t.Errorf("normalised channel %+v", ch)
	}
	// The secret is sealed: the clear text is nowhere in the table.
	var sealed string
	if err := db.SQL().QueryRow("SELECT secret_sealed FROM notify_channels").Scan(&sealed); err != nil || sealed == "" || strings.Contains(sealed, "hunter2") {
		t.Errorf("stored secret %q, %v", sealed, err)
	}
	if got, err := s.ChannelSecret(ctx, ch.ID); err != nil || got != "hunter2" {
		t.Errorf("ChannelSecret = %q, %v", got, err)
	}
	// Another key does not open it.
	other, _ := NewNotifyService(db, NotifyOptions{SecretKey: []byte("ffffffffffffffffffffffffffffffff")})
	if _, err := other.ChannelSecret(ctx, ch.ID); err == nil || !strings.Contains(err.Error(), "notify-secrets.key") {
		t.Errorf("secret under another key: %v", err)
	}
	// Without a key, no secrets at all.
	nokey, _ := NewNotifyService(db, NotifyOptions{})
	wantCode(t, nokey.CreateChannel(ctx, &firmward.NotifyChannel{Name: "x", Type: firmward.ChannelWebhook, URL: "https://h.test", Secret: "s"}), firmward.EINVALID)

	got, err := s.FindChannelByID(ctx, ch.ID)
	if err != nil || got.Secret != "" || !got.HasSecret || got.Name != "mail" || !got.Enabled {
		t.Fatalf("FindChannelByID %+v, %v", got, err)
	}
	// Update: empty secret keeps it; a new one replaces it; clear removes it.
	got.SMTPPort = 2525
	if err := s.UpdateChannel(ctx, got); err != nil || !got.HasSecret {
		t.Fatalf("update: %v %+v", err, got)
	}
	if sec, _ := s.ChannelSecret(ctx, ch.ID); sec != "hunter2" {
		t.Errorf("secret after an update without one: %q", sec)
	}
	got.Secret = "n3w"
	if err := s.UpdateChannel(ctx, got); err != nil {
		t.Fatal(err)
	}
	if sec, _ := s.ChannelSecret(ctx, ch.ID); sec != "n3w" {
		t.Errorf("secret after replacing: %q", sec)
	}
	got.ClearSecret = true
	if err := s.UpdateChannel(ctx, got); err != nil || got.HasSecret {
		t.Fatalf("clear: %v %+v", err, got)
	}
	// Duplicates, bad input, missing rows.
	wantCode(t, s.CreateChannel(ctx, &firmward.NotifyChannel{Name: "mail", Type: firmward.ChannelNtfy, URL: "https://ntfy.sh", Topic: "t"}), firmward.ECONFLICT)
	for name, c := range map[string]*firmward.NotifyChannel{
		"no type":       {Name: "a"},
		"bad url":       {Name: "a", Type: firmward.ChannelWebhook, URL: "ftp://x"},
		"creds in url":  {Name: "a", Type: firmward.ChannelWebhook, URL: "https://u:p@h.test"},
		"no topic":      {Name: "a", Type: firmward.ChannelNtfy, URL: "https://ntfy.sh"},
		"bad from":      {Name: "a", Type: firmward.ChannelEmail, SMTPHost: "h", From: "nobody"},
		"host:port":     {Name: "a", Type: firmward.ChannelEmail, SMTPHost: "h:25", From: "a@b.test"},
		"bad smtp mode": {Name: "a", Type: firmward.ChannelEmail, SMTPHost: "h", From: "a@b.test", SMTPMode: "ssl3"},
		"secret lines":  {Name: "a", Type: firmward.ChannelWebhook, URL: "https://h.test", Secret: "a\nb"},
	} {
		if err := s.CreateChannel(ctx, c); firmward.ErrorCode(err) != firmward.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	_, err = s.FindChannelByID(ctx, 999)
	wantCode(t, err, firmward.ENOTFOUND)
	wantCode(t, s.DeleteChannel(ctx, 999), firmward.ENOTFOUND)

	r := &firmward.NotifyRecipient{Name: "ann", ChannelID: ch.ID, Address: "ann@example.test", Enabled: true}
	if err := s.CreateRecipient(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChannel(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindRecipientByID(ctx, r.ID)
	wantCode(t, err, firmward.ENOTFOUND)

	// Every change audited; the secret never in clear.
	var actions []string
	for _, ev := range auditEvents(t, db) {
		actions = append(actions, ev.Action)
		for _, c := range ev.Changes {
			if strings.Contains(c.Old+c.New, "hunter2") || strings.Contains(c.Old+c.New, "n3w") {
				t.Errorf("audit event %s shows the secret: %+v", ev.Action, c)
			}
		}
	}
	want := []string{
		"notify.channel.create", "notify.channel.update", "notify.channel.update", "notify.channel.update",
		"notify.recipient.create", "notify.channel.delete",
	}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
}

func testNotifyRecipients(t *testing.T, b backend) {
	ctx := context.Background()
	db := b.open(t, Options{Now: newClock().Now})
	s := newNotify(t, db)
	mail := &firmward.NotifyChannel{Name: "mail", Type: firmward.ChannelEmail, SMTPHost: "h", From: "a@b.test"}
	hook := &firmward.NotifyChannel{Name: "hook", Type: firmward.ChannelWebhook, URL: "https://h.test/x"}
	for _, c := range []*firmward.NotifyChannel{mail, hook} {
		if err := s.CreateChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	r := &firmward.NotifyRecipient{
		Name: "Ann", ChannelID: mail.ID, Address: "Ann <ann@example.test>", Kinds: []string{"KEV.new", "kev.new", "quarantine"},
		MinSeverity: "HIGH", Mode: "digest", DigestHour: 7, QuietStart: "22:00", QuietEnd: "07:00", TimeZone: "Europe/Paris", Enabled: true,
	}
	if err := s.CreateRecipient(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindRecipientByID(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != "ann@example.test" || strings.Join(got.Kinds, ",") != "kev.new,quarantine" || got.MinSeverity != firmward.SeverityHigh ||
		got.Mode != firmward.NotifyDigest || got.DigestHour != 7 || got.QuietStart != "22:00" || got.TimeZone != "Europe/Paris" || !got.Enabled {
		t.Errorf("recipient %+v", got)
	}
	for name, bad := range map[string]*firmward.NotifyRecipient{
		"no channel":      {Name: "x", ChannelID: 999},
		"mail no address": {Name: "x", ChannelID: mail.ID},
		"bad kind":        {Name: "x", ChannelID: hook.ID, Kinds: []string{"coffee"}},
		"bad zone":        {Name: "x", ChannelID: hook.ID, TimeZone: "Mars/Olympus"},
		"half quiet":      {Name: "x", ChannelID: hook.ID, QuietStart: "22:00"},
		"bad hour":        {Name: "x", ChannelID: hook.ID, DigestHour: 24},
		"bad mode":        {Name: "x", ChannelID: hook.ID, Mode: "sometimes"},
	} {
		if err := s.CreateRecipient(ctx, bad); firmward.ErrorCode(err) != firmward.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	// A webhook recipient drops the address.
	got.ChannelID, got.Kinds = hook.ID, nil
	if err := s.UpdateRecipient(ctx, got); err != nil || got.Address != "" {
		t.Fatalf("update %v %+v", err, got)
	}
	list, err := s.FindRecipients(ctx)
	if err != nil || len(list) != 1 || len(list[0].Kinds) != 0 {
		t.Fatalf("FindRecipients %+v %v", list, err)
	}
	if err := s.DeleteRecipient(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteRecipient(ctx, r.ID), firmward.ENOTFOUND)
	evs := auditEvents(t, db)
	last := evs[len(evs)-1]
	if last.Action != firmward.ActionNotifyRecipientDelete || evs[len(evs)-2].Action != firmward.ActionNotifyRecipientUpdate {
		t.Errorf("audit tail %s %s", evs[len(evs)-2].Action, last.Action)
	}
}

func testNotifyQueue(t *testing.T, b backend) {
	ctx := context.Background()
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	s := newNotify(t, db)
	now := clk.Now().Truncate(time.Microsecond)
	ds := []*firmward.NotifyDelivery{
		{Key: "alert:1", ChannelID: 1, RecipientID: 1, Kind: "device.new", Subject: "a", Body: "b"},
		{Key: "alert:1", ChannelID: 1, RecipientID: 2, Kind: "device.new", Subject: "a", Body: "b"},
		{Key: "alert:2", ChannelID: 1, RecipientID: 1, Kind: "device.new", Subject: "late", Body: "b", NextAttemptAt: now.Add(time.Hour)},
	}
	if n, err := s.EnqueueDeliveries(ctx, ds); err != nil || n != 3 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	// The same keys again: nothing new.
	again := []*firmward.NotifyDelivery{{Key: "alert:1", ChannelID: 1, RecipientID: 1, Subject: "a", Body: "b"}}
	if n, err := s.EnqueueDeliveries(ctx, again); err != nil || n != 0 || again[0].ID != 0 {
		t.Fatalf("enqueue again: %d %v", n, err)
	}
	if ok, err := s.DeliveryExists(ctx, "alert:1", 1, 2); err != nil || !ok {
		t.Errorf("exists: %v %v", ok, err)
	}
	claimed, err := s.ClaimDeliveries(ctx, "r1", now, time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	if c, err := s.ClaimDeliveries(ctx, "r2", now, time.Minute, 10); err != nil || len(c) != 0 {
		t.Fatalf("second claimer got %d, %v", len(c), err)
	}
	res := firmward.NotifyResult{Outcome: firmward.DeliveryPending, Next: now.Add(5 * time.Minute), Error: "451 busy"}
	if err := s.CompleteDelivery(ctx, "r1", claimed[0].ID, now, res); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.CompleteDelivery(ctx, "r2", claimed[1].ID, now, firmward.NotifyResult{Outcome: firmward.DeliverySent}), firmward.ECONFLICT)
	if err := s.CompleteDelivery(ctx, "r1", claimed[1].ID, now, firmward.NotifyResult{Outcome: firmward.DeliverySent}); err != nil {
		t.Fatal(err)
	}
	d0, err := s.FindDeliveryByID(ctx, claimed[0].ID)
	if err != nil || d0.Status != firmward.DeliveryPending || d0.Attempts != 1 || d0.LastError != "451 busy" || d0.ClaimedBy != "" || !d0.NextAttemptAt.Equal(now.Add(5*time.Minute)) {
		t.Errorf("retried delivery %+v %v", d0, err)
	}
	d1, _ := s.FindDeliveryByID(ctx, claimed[1].ID)
	if d1.Status != firmward.DeliverySent || d1.SentAt == nil {
		t.Errorf("sent delivery %+v", d1)
	}
	at, err := s.FindAttempts(ctx, claimed[1].ID)
	if err != nil || len(at) != 2 || at[0].Outcome != "sent" || at[1].Outcome != "sent" {
		t.Errorf("attempts %+v %v (the refused late report is recorded too)", at, err)
	}
	// Nothing due until the retry time; then r2 may have it.
	if c, _ := s.ClaimDeliveries(ctx, "r2", now.Add(4*time.Minute), time.Minute, 10); len(c) != 0 {
		t.Errorf("claimed before it was due: %+v", c)
	}
	if c, _ := s.ClaimDeliveries(ctx, "r2", now.Add(61*time.Minute), time.Minute, 10); len(c) != 2 {
		t.Errorf("claimed %d when due, want 2", len(c))
	}
	list, next, err := s.FindDeliveries(ctx, firmward.NotifyDeliveryFilter{Status: firmward.DeliverySent})
	if err != nil || len(list) != 1 || next != 0 {
		t.Errorf("FindDeliveries sent: %d %d %v", len(list), next, err)
	}
	wantCode(t, s.CompleteDelivery(ctx, "r1", 999, now, firmward.NotifyResult{Outcome: firmward.DeliverySent}), firmward.ENOTFOUND)
}

// testNotifyClaimRace: many claimers at once never share a delivery.
func testNotifyClaimRace(t *testing.T, b backend) {
	ctx := context.Background()
	clk := newClock()
	db := b.open(t, Options{Now: clk.Now})
	s := newNotify(t, db)
	const n = 60
	var ds []*firmward.NotifyDelivery
	for i := range n {
		ds = append(ds, &firmward.NotifyDelivery{Key: "alert:" + strings.Repeat("x", i+1), ChannelID: 1, RecipientID: 1, Subject: "s", Body: "b"})
	}
	if _, err := s.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := "w" + strings.Repeat("!", w)
			for {
				c, err := s.ClaimDeliveries(ctx, owner, clk.Now(), time.Minute, 5)
				if err != nil {
					t.Error(err)
					return
				}
				if len(c) == 0 {
					return
				}
				mu.Lock()
				for _, d := range c {
					if prev, ok := seen[d.ID]; ok {
						t.Errorf("delivery %d claimed by %s and %s", d.ID, prev, owner)
					}
					seen[d.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d claimed, want %d", len(seen), n)
	}
}

func testNotifyCursors(t *testing.T, b backend) {
	ctx := context.Background()
	db := b.open(t, Options{Now: newClock().Now})
	s := newNotify(t, db)
	if _, ok, err := s.Cursor(ctx, "alerts"); err != nil || ok {
		t.Fatalf("unset cursor: %v %v", ok, err)
	}
	if err := s.InitCursor(ctx, "alerts", 5); err != nil {
		t.Fatal(err)
	}
	if err := s.InitCursor(ctx, "alerts", 9); err != nil {
		t.Fatal(err)
	}
	if pos, ok, _ := s.Cursor(ctx, "alerts"); !ok || pos != 5 {
		t.Errorf("cursor %d %v, want 5 (InitCursor keeps a set one)", pos, ok)
	}
	if moved, err := s.AdvanceCursor(ctx, "alerts", 5, 8); err != nil || !moved {
		t.Errorf("advance: %v %v", moved, err)
	}
	if moved, err := s.AdvanceCursor(ctx, "alerts", 5, 9); err != nil || moved {
		t.Errorf("stale advance moved: %v %v", moved, err)
	}
	a := &firmward.Alert{Kind: "device.new", Subject: "x"}
	if _, err := NewAlertService(db).RaiseAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	if l, err := s.AlertsAfter(ctx, 0, 10); err != nil || len(l) != 1 || l[0].ID != a.ID {
		t.Errorf("AlertsAfter %v %v", l, err)
	}
	if l, err := s.AlertsCreated(ctx, a.CreatedAt, a.CreatedAt.Add(time.Second), 10); err != nil || len(l) != 1 {
		t.Errorf("AlertsCreated %v %v", l, err)
	}
	if l, err := s.AlertsCreated(ctx, a.CreatedAt.Add(time.Second), a.CreatedAt.Add(2*time.Second), 10); err != nil || len(l) != 0 {
		t.Errorf("AlertsCreated later %v %v", l, err)
	}
}
