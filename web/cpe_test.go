package web_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
	"github.com/firmward/firmward/web"
)

// withCatalog serves e's UI again with Config.Catalog set to catalog.
func (e *env) withCatalog(catalog func(context.Context) (*vuln.Catalog, error)) {
	e.t.Helper()
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		Catalog: catalog,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv.Close()
	e.srv = httptest.NewServer(h)
	e.t.Cleanup(e.srv.Close)
}

// archerCatalog holds TP-Link's Archer AX21 and AX20 as NVD names them.
func archerCatalog(t *testing.T) *vuln.Catalog {
	cat := vuln.NewCatalog()
	for _, s := range []string{
		"cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*",
		"cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*",
		"cpe:2.3:o:tp-link:archer_ax21_v2_firmware:*:*:*:*:*:*:*:*",
	} {
		if err := cat.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	return cat
}

// cpeChoices returns the "choice" changes of the device's
// device.cpe_confirm events, oldest first.
func (e *env) cpeChoices(id int64) []map[string]string {
	e.t.Helper()
	evs, _, err := e.audit.FindAuditEvents(context.Background(), firmward.AuditFilter{
		Action: firmward.ActionDeviceCPEConfirm, ObjectType: "device", ObjectID: itoa(id),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]string
	for _, ev := range evs {
		m := map[string]string{"actor": ev.Actor}
		for _, c := range ev.Changes {
			m[c.Field] = c.New
			if c.Field == "cpe" {
				m["old"] = c.Old
			}
		}
		out = append(out, m)
	}
	return out
}

func TestDeviceCPEPanel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cat := archerCatalog(t)
	e.withCatalog(func(context.Context) (*vuln.Catalog, error) { return cat, nil })
	d := e.addDevice(firmward.Device{Name: "Router", Manufacturer: "TP-Link", Model: "Archer AX21", FirmwareVersion: "1.1.3 Build 20221201"})
	page := "/devices/" + itoa(d.ID)
	path := page + "/cpe"
	fw := "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:*:*:*:*:*:*:*"
	ctx := context.Background()
	cpe := func() string {
		t.Helper()
		got, err := e.devices.FindDeviceByID(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.CPE
	}

	// A viewer sees the proposal but no form, and may not post.
	v := e.browser()
	v.signIn(e.viewer)
	p := v.get(page)
	wantContains(t, p.body, `id="h-cpe"`, "matching uses firmward's proposal", fw, "95%", "the model is the product")
	wantNotContains(t, p.body, `action="`+path+`"`)
	if p := v.post(path, url.Values{"csrf": {v.csrf}, "choice": {fw}, "action": {"confirm"}}); p.status != http.StatusForbidden {
		t.Errorf("viewer: status %d", p.status)
	}

	b := e.browser()
	b.signIn(e.admin)
	p = b.get(page)
	wantContains(t, p.body, `action="`+path+`"`, `name="choice" value="`+fw+`" checked`, `value="own"`, `name="reason"`,
		`value="confirm"`, "cpe:2.3:h:tp-link:archer_ax21:")
	wantNotContains(t, p.body, `value="clear"`, "style=", "<script")
	// Without the CSRF token nothing happens.
	if p := b.post(path, url.Values{"choice": {fw}, "action": {"confirm"}}); p.status != http.StatusForbidden || cpe() != "" {
		t.Errorf("no CSRF: status %d, cpe %q", p.status, cpe())
	}

	// Refused choices show the page again with the error and change nothing.
	for _, c := range []struct {
		name string
		form url.Values
		want string
	}{
		{"own name not a CPE", url.Values{"choice": {"own"}, "own": {"archer ax21"}}, "Is not a CPE 2.3 name"},
		{"own name empty", url.Values{"choice": {"own"}, "own": {""}}, "Choose one of the proposed names or type your own"},
		{"nothing chosen", url.Values{}, "Choose one of the proposed names"},
		{"reason too long", url.Values{"choice": {fw}, "reason": {strings.Repeat("x", vuln.MaxChoiceReason+1)}}, "Is longer than"},
	} {
		c.form.Set("csrf", b.csrf)
		c.form.Set("action", "confirm")
		p := b.post(path, c.form)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", c.name, p.status)
		}
		wantContains(t, p.body, c.want, `class="field-error"`)
		if got := cpe(); got != "" {
			t.Errorf("%s: cpe became %q", c.name, got)
		}
	}
	if n := len(e.cpeChoices(d.ID)); n != 0 {
		t.Errorf("%d choices recorded by refused forms", n)
	}
	// The typed name comes back in the form.
	p = b.post(path, url.Values{"csrf": {b.csrf}, "action": {"confirm"}, "choice": {"own"}, "own": {"archer ax21"}})
	wantContains(t, p.body, `value="archer ax21"`, `id="cpe-own" name="choice" value="own" checked`)

	// Confirm the proposal, then override it, then clear it.
	p = b.post(path, url.Values{"csrf": {b.csrf}, "action": {"confirm"}, "choice": {fw}, "reason": {"label checked"}})
	if p.status != http.StatusSeeOther || p.location() != page+"#cpe" || cpe() != fw {
		t.Fatalf("confirm: status %d, location %q, cpe %q: %s", p.status, p.location(), cpe(), p.body)
	}
	p = b.get(page)
	wantContains(t, p.body, "CPE name set (Confirmed)", "Matching uses this device's own CPE name", `value="clear"`, "CPE name chosen")

	own := "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:build_20221201:*:*:*:*:*:*"
	b.post(path, url.Values{"csrf": {b.csrf}, "action": {"confirm"}, "choice": {"own"}, "own": {own}})
	if got := cpe(); got != own {
		t.Errorf("override: cpe %q", got)
	}
	p = b.get(page)
	wantContains(t, p.body, `id="cpe-own" name="choice" value="own" checked`, `value="`+html.EscapeString(own)+`"`)

	b.post(path, url.Values{"csrf": {b.csrf}, "action": {"clear"}, "choice": {"own"}, "own": {own}, "reason": {"wrong"}})
	if got := cpe(); got != "" {
		t.Errorf("clear: cpe %q", got)
	}

	choices := e.cpeChoices(d.ID)
	if len(choices) != 3 {
		t.Fatalf("choices = %+v, want 3", choices)
	}
	want := []map[string]string{
		{"choice": vuln.ChoiceConfirmed, "old": "", "cpe": fw, "proposed": fw, "proposed_confidence": "0.95", "chosen_confidence": "0.95", "reason": "label checked"},
		{"choice": vuln.ChoiceOverride, "old": fw, "cpe": own, "proposed": fw, "proposed_confidence": "0.95"},
		{"choice": vuln.ChoiceCleared, "old": own, "cpe": "", "proposed": fw, "reason": "wrong"},
	}
	for i, w := range want {
		for k, v := range w {
			if choices[i][k] != v {
				t.Errorf("choice %d: %s = %q, want %q", i, k, choices[i][k], v)
			}
		}
		if !strings.HasPrefix(choices[i]["actor"], "token:") {
			t.Errorf("choice %d: actor %q", i, choices[i]["actor"])
		}
	}
	if _, ok := choices[1]["chosen_confidence"]; ok {
		t.Error("an override has no chosen confidence")
	}
	// Each change of the cpe is also an ordinary device edit.
	updates, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{Action: firmward.ActionDeviceUpdate, ObjectID: itoa(d.ID)})
	if err != nil || len(updates) != 3 {
		t.Errorf("%d device.update events, want 3 (%v)", len(updates), err)
	}
	if p := b.post("/devices/99999/cpe", url.Values{"csrf": {b.csrf}, "action": {"clear"}}); p.status != http.StatusNotFound {
		t.Errorf("unknown device: status %d", p.status)
	}
}

func TestDeviceCPECatalogUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withCatalog(func(context.Context) (*vuln.Catalog, error) { return nil, errors.New("database gone") })
	d := e.addDevice(firmward.Device{Name: "Cam", Manufacturer: "Axis", Model: "P3245-V"})
	b := e.browser()
	b.signIn(e.viewer)
	p := b.get("/devices/" + itoa(d.ID))
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	wantContains(t, p.body, "could not be read", "cpe:2.3:o:axis:")
	wantNotContains(t, p.body, "database gone")
}
