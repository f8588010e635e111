package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/sqlstore"
)

func newTestNotify(t testing.TB, db *sqlstore.DB) *sqlstore.NotifyService {
	t.Helper()
	s, err := sqlstore.NewNotifyService(db, sqlstore.NotifyOptions{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testNotifyTester stands in for the dispatcher (another adapter): it
// answers a test request with a delivery naming the channel and address.
type testNotifyTester struct{}

func (testNotifyTester) SendTest(_ context.Context, channelID int64, address string) (*firmward.NotifyDelivery, error) {
	if channelID == 404 {
		return nil, firmward.Errorf(firmward.ENOTFOUND, "notification channel %d not found", channelID)
	}
	return &firmward.NotifyDelivery{ID: 1, Key: "test:x", Kind: "test", ChannelID: channelID, Address: address, Status: firmward.DeliverySent, Attempts: 1}, nil
}

func TestNotifyAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	admin, op := e.client(firmward.RoleAdmin), e.client(firmward.RoleOperator)

	ch, err := admin.CreateChannel(ctx, &firmward.NotifyChannel{Name: "hook", Type: firmward.ChannelWebhook, URL: "https://hooks.example.test/in", Secret: "s3cr3t-value", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if ch.ID == 0 || !ch.HasSecret || ch.Secret != "" {
		t.Fatalf("created %+v", ch)
	}
	// The secret never comes back, in any response.
	for _, path := range []string{"/api/v1/notify/channels", "/api/v1/notify/channels/1"} {
		res := e.do(t, http.MethodGet, path, firmward.RoleOperator, "")
		if res.status != http.StatusOK || strings.Contains(string(res.body), "s3cr3t") || !strings.Contains(string(res.body), `"has_secret":true`) {
			t.Errorf("GET %s: %d %s", path, res.status, res.body)
		}
	}
	// Operators may not change channels; bad input is a 400 with details.
	if _, err := op.CreateChannel(ctx, &firmward.NotifyChannel{Name: "x", Type: firmward.ChannelNtfy, URL: "https://ntfy.sh", Topic: "t"}); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("operator creating a channel: %v", err)
	}
	_, err = admin.CreateChannel(ctx, &firmward.NotifyChannel{Name: "x", Type: firmward.ChannelNtfy, URL: "gopher://x"})
	if firmward.ErrorCode(err) != firmward.EINVALID || len(firmward.ErrorDetails(err)) != 2 {
		t.Errorf("bad channel: %v %+v", err, firmward.ErrorDetails(err))
	}
	ch.Name, ch.Secret = "soc hook", ""
	if ch, err = admin.UpdateChannel(ctx, ch); err != nil || ch.Name != "soc hook" || !ch.HasSecret {
		t.Fatalf("update: %+v %v", ch, err)
	}

	r, err := op.CreateRecipient(ctx, &firmward.NotifyRecipient{Name: "SOC", ChannelID: ch.ID, Kinds: []string{"kev.new"}, Mode: "digest", Enabled: true})
	if err != nil || r.Mode != firmward.NotifyDigest || r.TimeZone != "UTC" {
		t.Fatalf("recipient %+v %v", r, err)
	}
	r.QuietStart, r.QuietEnd = "22:00", "07:00"
	if r, err = op.UpdateRecipient(ctx, r); err != nil || r.QuietEnd != "07:00" {
		t.Fatalf("update recipient %+v %v", r, err)
	}
	if list, err := op.ListRecipients(ctx); err != nil || len(list) != 1 {
		t.Fatalf("recipients %v %v", list, err)
	}
	d, err := op.SendTestNotification(ctx, ch.ID, "")
	if err != nil || d.Status != firmward.DeliverySent || d.ChannelID != ch.ID {
		t.Fatalf("test %+v %v", d, err)
	}
	if _, err := op.SendTestNotification(ctx, 404, ""); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("test to a missing channel: %v", err)
	}
	if res := e.do(t, http.MethodPost, "/api/v1/notify/test", firmward.RoleOperator, `{}`); res.status != http.StatusBadRequest {
		t.Errorf("test without a channel: %d %s", res.status, res.body)
	}
	if list, next, err := op.ListDeliveries(ctx, firmward.DeliveryPending, 0, "", 10); err != nil || len(list) != 0 || next != "" {
		t.Errorf("deliveries %v %q %v", list, next, err)
	}
	if res := e.do(t, http.MethodGet, "/api/v1/notify/deliveries?status=lost", firmward.RoleOperator, ""); res.status != http.StatusBadRequest {
		t.Errorf("bad status filter: %d", res.status)
	}
	if _, err := op.GetDelivery(ctx, 99); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("missing delivery: %v", err)
	}
	if err := op.DeleteRecipient(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := admin.DeleteChannel(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	// Every change audited.
	evs, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{ObjectType: "notify_channel"})
	if err != nil || len(evs) != 3 {
		t.Errorf("channel audit events: %d %v", len(evs), err)
	}
	evs, _, err = e.audit.FindAuditEvents(ctx, firmward.AuditFilter{ObjectType: "notify_recipient"})
	if err != nil || len(evs) != 3 {
		t.Errorf("recipient audit events: %d %v", len(evs), err)
	}
}
