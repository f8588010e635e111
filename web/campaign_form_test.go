package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// TestCampaignForm creates a campaign through the form (filter, waves,
// thresholds, maintenance window, mode), with the API's validation; a
// viewer, a forged form and invalid fields are refused and create
// nothing. A running campaign's page reloads itself every 5 s; a draft's
// does not.
func TestCampaignForm(t *testing.T) {
	t.Parallel()
	e := newDeliveryEnv(t)
	ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 2, Name: "olga"})
	rel := &firmward.Release{Manufacturer: "Acme", Models: []string{"Cam 1"}, Version: "2.0", Artifacts: []firmward.ReleaseArtifact{{Name: "cam.bin", URL: "https://vendor.example/cam.bin"}}}
	if err := e.releases.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		cs, _, err := e.campaigns.FindCampaigns(context.Background(), firmward.CampaignFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	form := func(csrf string, extra ...string) url.Values {
		v := url.Values{
			"csrf": {csrf}, "name": {"cams spring"}, "release_id": {itoa(rel.ID)}, "type": {"attempt"},
			"manufacturer": {"Acme"}, "model": {"Cam 1"}, "tags": {"lobby; outdoor"}, "timeout_minutes": {"90"},
			"staging_success": {"100"}, "staging_error": {"0"}, "staging_on_error": {"abort"},
			"wave1_size": {"10"}, "wave1_success": {"95"}, "wave1_error": {"5"}, "wave1_on_error": {"pause"},
			"wave2_size": {"100%"}, "wave2_success": {"90"}, "wave2_error": {"10"}, "wave2_on_error": {"abort"},
			"wave3_size": {""}, "window_cron": {"0 2 * * *"}, "window_minutes": {"120"}, "window_tz": {"Europe/Berlin"},
			"task_assignee": {"field team"}, "task_due_days": {"14"},
		}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}

	viewer := e.browser()
	viewer.signIn(e.viewer)
	wantNotContains(t, viewer.get("/campaigns").body, "New campaign")
	if p := viewer.get("/campaigns/new"); p.status != http.StatusForbidden {
		t.Errorf("viewer form: %d", p.status)
	}
	op := e.browser()
	op.signIn(e.operator)
	wantContains(t, op.get("/campaigns").body, "New campaign")
	wantContains(t, op.get("/campaigns/new?release="+itoa(rel.ID)).body, "Acme 2.0", `name="wave1_size"`, `name="window_cron"`, "selected")

	for _, tc := range []struct {
		name   string
		b      *browser
		form   url.Values
		status int
		want   string
	}{
		{"viewer", viewer, form(viewer.csrf), http.StatusForbidden, "Not allowed"},
		{"forged", op, form("forged"), http.StatusForbidden, "Form refused"},
		{"bad cron", op, form(op.csrf, "window_cron", "every night"), http.StatusUnprocessableEntity, "maintenance window"},
		{"bad wave size", op, form(op.csrf, "wave1_size", "ten"), http.StatusUnprocessableEntity, "wave 1 size"},
		{"bad threshold", op, form(op.csrf, "wave2_error", "150"), http.StatusUnprocessableEntity, "wave 2 error threshold"},
		{"no release", op, form(op.csrf, "release_id", ""), http.StatusUnprocessableEntity, "choose a release"},
		{"unknown release", op, form(op.csrf, "release_id", "999"), http.StatusConflict, "not created"},
		{"list and dynamic", op, form(op.csrf, "device_ids", "1, 2", "dynamic", "1"), http.StatusUnprocessableEntity, "cannot be dynamic"},
		{"bad time zone", op, form(op.csrf, "window_tz", "Mars/Olympus"), http.StatusUnprocessableEntity, "Mars/Olympus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.b.post("/campaigns", tc.form)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			wantContains(t, p.body, tc.want)
			if n := count(); n != 0 {
				t.Errorf("%d campaigns stored", n)
			}
		})
	}
	if p := op.post("/campaigns", form(op.csrf, "window_cron", "nope")); !strings.Contains(p.body, `value="cams spring"`) {
		t.Error("the refused form does not keep what was typed")
	}

	p := op.post("/campaigns", form(op.csrf))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/campaigns/") {
		t.Fatalf("create: %d %q %s", p.status, p.location(), p.body)
	}
	cs, _, err := e.campaigns.FindCampaigns(context.Background(), firmward.CampaignFilter{Limit: 10})
	if err != nil || len(cs) != 1 {
		t.Fatalf("campaigns = %v, %v", cs, err)
	}
	c := cs[0]
	if c.Name != "cams spring" || c.ReleaseID != rel.ID || c.Type != firmward.ActionAttempt || c.Status != firmward.CampaignDraft ||
		c.Target.Manufacturer != "Acme" || c.Target.Model != "Cam 1" || strings.Join(c.Target.Tags, ",") != "lobby,outdoor" ||
		c.ActionTimeoutSeconds != 90*60 || c.TaskAssignee != "field team" || c.TaskDueDays != 14 || !strings.Contains(c.CreatedBy, "olga") {
		t.Errorf("campaign = %+v", c)
	}
	if c.Staging != (firmward.WaveSpec{SuccessThreshold: 100, ErrorThreshold: 0, OnError: "abort"}) ||
		len(c.Waves) != 2 || c.Waves[0] != (firmward.WaveSpec{Count: 10, SuccessThreshold: 95, ErrorThreshold: 5, OnError: "pause"}) ||
		c.Waves[1] != (firmward.WaveSpec{Percent: 100, SuccessThreshold: 90, ErrorThreshold: 10, OnError: "abort"}) {
		t.Errorf("waves = %+v %+v", c.Staging, c.Waves)
	}
	if c.Window == nil || c.Window.Cron != "0 2 * * *" || c.Window.DurationMinutes != 120 || c.Window.TimeZone != "Europe/Berlin" {
		t.Errorf("window = %+v", c.Window)
	}
	page := op.get(p.location())
	wantContains(t, page.body, "created as a draft", "cams spring")
	wantNotContains(t, page.body, `http-equiv="refresh"`)

	// A network-infrastructure target needs an approval, as through the API.
	p = op.post("/campaigns", form(op.csrf, "name", "switches", "category", string(firmward.CategoryNetworkInfrastructure), "model", "", "tags", ""))
	if p.status != http.StatusSeeOther {
		t.Fatalf("switches: %d %s", p.status, p.body)
	}
	wantContains(t, op.get(p.location()).body, "needs an approval")

	// Running: the page reloads itself.
	if _, err := e.campaigns.ChangeCampaign(ctx, c.ID, firmward.OpStart, ""); err != nil {
		t.Fatal(err)
	}
	wantContains(t, op.get("/campaigns/"+itoa(c.ID)).body, `<meta http-equiv="refresh" content="5">`)
}
