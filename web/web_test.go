package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// env is a web UI over a real SQLite store, served on 127.0.0.1.
type env struct {
	t        *testing.T
	srv      *httptest.Server
	devices  firmward.DeviceService
	tokens   firmward.TokenService
	sessions firmward.SessionService
	audit    firmward.AuditService
	findings firmward.FindingService
	admin    string // secrets of tokens with these roles
	viewer   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	e := &env{
		t:        t,
		devices:  sqlstore.NewDeviceService(db),
		tokens:   sqlstore.NewTokenService(db),
		sessions: sqlstore.NewSessionService(db),
		audit:    sqlstore.NewAuditService(db),
		findings: sqlstore.NewFindingService(db),
	}
	h, err := web.New(web.Config{
		Devices:  e.devices,
		Tokens:   e.tokens,
		Sessions: e.sessions,
		Audit:    e.audit,
		Findings: e.findings,
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
	return e
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string // of the last page that had a form
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its body read.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close() //nolint:errcheck // read to the end
	if err != nil {
		b.e.t.Fatal(err)
	}
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	if resp.StatusCode >= 500 {
		b.e.t.Errorf("%s %s: status %d: %s", req.Method, req.URL, resp.StatusCode, body)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a url-encoded form with extra headers.
func (b *browser) post(path string, form url.Values, header ...string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// postFile sends the import form with a file.
func (b *browser) postFile(path string, fields map[string]string, fileName, content string) page {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			b.e.t.Fatal(err)
		}
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			b.e.t.Fatal(err)
		}
		if _, err := io.WriteString(fw, content); err != nil {
			b.e.t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		b.e.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// signIn signs in with secret and checks that it worked.
func (b *browser) signIn(secret string) {
	b.e.t.Helper()
	b.get("/login")
	p := b.post("/login", url.Values{"csrf": {b.csrf}, "token": {secret}, "next": {"/"}})
	if p.status != http.StatusSeeOther || p.location() != "/" {
		b.e.t.Fatalf("sign-in: status %d, location %q: %s", p.status, p.location(), p.body)
	}
	b.get("/") // fetch the session's CSRF token
}

func (e *env) countDevices() int {
	e.t.Helper()
	st, err := e.devices.DeviceStats(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return int(st.Total)
}

func (e *env) addDevice(d firmward.Device) *firmward.Device {
	e.t.Helper()
	if err := e.devices.CreateDevice(context.Background(), &d); err != nil {
		e.t.Fatal(err)
	}
	return &d
}

func wantContains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
}

func wantNotContains(t *testing.T, body string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(body, w) {
			t.Errorf("page contains %q", w)
		}
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("success", func(t *testing.T) {
		b := e.browser()
		login := b.get("/login?next=" + url.QueryEscape("/devices?q=cam"))
		wantContains(t, login.body, `name="next" value="/devices?q=cam"`)
		p := b.post("/login", url.Values{"csrf": {b.csrf}, "token": {e.admin}, "next": {"/devices?q=cam"}})
		if p.status != http.StatusSeeOther || p.location() != "/devices?q=cam" {
			t.Fatalf("status %d location %q", p.status, p.location())
		}
		var cookie string
		for _, c := range p.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "firmward_session=") {
				cookie = c
			}
		}
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Errorf("session cookie %q lacks %s", cookie, attr)
			}
		}
		dash := b.get("/")
		if dash.status != http.StatusOK {
			t.Fatalf("dashboard: %d", dash.status)
		}
		wantContains(t, dash.body, "alice", "admin", "Sign out")
		events, _, err := e.audit.FindAuditEvents(context.Background(), firmward.AuditFilter{Action: firmward.ActionSessionStart})
		if err != nil || len(events) == 0 {
			t.Fatalf("no session.start event: %v", err)
		}
		if !strings.Contains(events[0].Actor, "alice") || events[0].ObjectType != "token" {
			t.Errorf("session.start event %+v", events[0])
		}

		// Signing out ends the session.
		out := b.post("/logout", url.Values{"csrf": {b.csrf}})
		if out.status != http.StatusSeeOther || out.location() != "/login" {
			t.Fatalf("logout: status %d location %q", out.status, out.location())
		}
		if p := b.get("/devices"); p.status != http.StatusSeeOther {
			t.Errorf("after sign-out: status %d, want a redirect", p.status)
		}
		if p := b.get("/login"); !strings.Contains(p.body, "You are signed out") {
			t.Error("no signed-out message")
		}
		events, _, _ = e.audit.FindAuditEvents(context.Background(), firmward.AuditFilter{Action: firmward.ActionSessionEnd})
		if len(events) != 1 {
			t.Errorf("%d session.end events, want 1", len(events))
		}
	})

	for name, secret := range map[string]string{"wrong": "fwt_nope", "empty": ""} {
		t.Run(name, func(t *testing.T) {
			b := e.browser()
			b.get("/login")
			p := b.post("/login", url.Values{"csrf": {b.csrf}, "token": {secret}})
			if p.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", p.status)
			}
			wantContains(t, p.body, `role="alert"`)
			if strings.Contains(strings.Join(p.header.Values("Set-Cookie"), ";"), "firmward_session=fws") {
				t.Error("a session cookie was set")
			}
			if p := b.get("/"); p.status != http.StatusSeeOther {
				t.Errorf("dashboard after failed sign-in: %d", p.status)
			}
		})
	}

	t.Run("login form without its cookie", func(t *testing.T) {
		b := e.browser()
		b.get("/login")
		other := e.browser() // no double-submit cookie
		p := other.post("/login", url.Values{"csrf": {b.csrf}, "token": {e.admin}})
		if p.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", p.status)
		}
	})

	t.Run("foreign origin", func(t *testing.T) {
		b := e.browser()
		b.get("/login")
		p := b.post("/login", url.Values{"csrf": {b.csrf}, "token": {e.admin}}, "Origin", "https://evil.example")
		if p.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", p.status)
		}
	})
}

func TestRedirectsWhenSignedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	for _, path := range []string{"/", "/devices", "/devices/1", "/devices/new", "/devices/1/edit", "/import", "/logout"} {
		p := b.get(path)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login") {
			t.Errorf("GET %s: status %d location %q", path, p.status, p.location())
		}
	}
	if p := b.get("/devices?q=x"); p.location() != "/login?next=%2Fdevices%3Fq%3Dx" {
		t.Errorf("location %q", p.location())
	}
	// POSTs without a session change nothing.
	if p := b.post("/devices", url.Values{"name": {"x"}}); p.status != http.StatusSeeOther || p.location() != "/login" {
		t.Errorf("POST /devices: status %d location %q", p.status, p.location())
	}
	if n := e.countDevices(); n != 0 {
		t.Errorf("%d devices", n)
	}
	// The sign-in page itself and assets need no session.
	if p := b.get("/login"); p.status != http.StatusOK {
		t.Errorf("/login: %d", p.status)
	}

	// next must stay on this site.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "devices"} {
		b := e.browser()
		b.get("/login?next=" + url.QueryEscape(next))
		p := b.post("/login", url.Values{"csrf": {b.csrf}, "token": {e.admin}, "next": {next}})
		if p.location() != "/" {
			t.Errorf("next %q: location %q, want /", next, p.location())
		}
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.addDevice(firmward.Device{Name: "Router"})
	b := e.browser()
	b.signIn(e.admin)
	good := b.csrf
	devicePath := "/devices/" + itoa(d.ID)

	cases := []struct {
		name   string
		path   string
		form   url.Values
		header []string
	}{
		{"create without token", "/devices", url.Values{"name": {"Evil"}}, nil},
		{"create with wrong token", "/devices", url.Values{"name": {"Evil"}, "csrf": {"AAAA" + good[4:]}}, nil},
		{"create from foreign origin", "/devices", url.Values{"name": {"Evil"}, "csrf": {good}}, []string{"Origin", "https://evil.example"}},
		{"create with null origin", "/devices", url.Values{"name": {"Evil"}, "csrf": {good}}, []string{"Origin", "null"}},
		{"create with foreign referer", "/devices", url.Values{"name": {"Evil"}, "csrf": {good}}, []string{"Referer", "https://evil.example/form"}},
		{"create cross-site fetch", "/devices", url.Values{"name": {"Evil"}, "csrf": {good}}, []string{"Sec-Fetch-Site", "cross-site"}},
		{"update without token", devicePath, url.Values{"name": {"Evil"}}, nil},
		{"delete with wrong token", devicePath + "/delete", url.Values{"csrf": {"x"}}, nil},
		{"delete from foreign origin", devicePath + "/delete", url.Values{"csrf": {good}}, []string{"Origin", "http://evil.example"}},
		{"logout without token", "/logout", url.Values{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.post(c.path, c.form, c.header...)
			if p.status != http.StatusForbidden {
				t.Errorf("status %d, want 403", p.status)
			}
			wantContains(t, p.body, "nothing was changed")
		})
	}
	// The import form too, as multipart.
	p := b.postFile("/import", map[string]string{"csrf": "bad"}, "a.csv", "name\nEvil\n")
	if p.status != http.StatusForbidden {
		t.Errorf("import with bad token: status %d", p.status)
	}
	if n := e.countDevices(); n != 1 {
		t.Errorf("%d devices, want 1", n)
	}
	got, err := e.devices.FindDeviceByID(context.Background(), d.ID)
	if err != nil || got.Name != "Router" {
		t.Errorf("device changed: %+v %v", got, err)
	}
	// Still signed in, and a same-origin form works.
	p = b.post("/devices", url.Values{"csrf": {good}, "name": {"Camera"}}, "Origin", e.srv.URL)
	if p.status != http.StatusSeeOther {
		t.Errorf("same-origin create: status %d: %s", p.status, p.body)
	}
}

func TestViewerCannotChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.addDevice(firmward.Device{Name: "Router"})
	b := e.browser()
	b.signIn(e.viewer)
	for _, path := range []string{"/", "/devices", "/devices/" + itoa(d.ID)} {
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.status)
		}
		wantNotContains(t, p.body, `href="/devices/new"`, `href="/import"`, "/edit", "/delete")
	}
	for _, path := range []string{"/devices/new", "/devices/" + itoa(d.ID) + "/edit", "/devices/" + itoa(d.ID) + "/delete"} {
		if p := b.get(path); p.status != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", path, p.status)
		}
	}
	for _, path := range []string{"/devices", "/devices/" + itoa(d.ID), "/devices/" + itoa(d.ID) + "/delete"} {
		p := b.post(path, url.Values{"csrf": {b.csrf}, "name": {"Changed"}})
		if p.status != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", path, p.status)
		}
		wantContains(t, p.body, "viewer")
	}
	if p := b.postFile("/import", map[string]string{"csrf": b.csrf}, "a.csv", "name\nX\n"); p.status != http.StatusForbidden {
		t.Errorf("POST /import: %d, want 403", p.status)
	}
	got, _ := e.devices.FindDeviceByID(context.Background(), d.ID)
	if n := e.countDevices(); n != 1 || got.Name != "Router" {
		t.Errorf("%d devices, name %q", n, got.Name)
	}
	// A viewer may still sign out.
	if p := b.post("/logout", url.Values{"csrf": {b.csrf}}); p.status != http.StatusSeeOther {
		t.Errorf("logout: %d", p.status)
	}
}

func TestAddDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	form := b.get("/devices/new")
	wantContains(t, form.body, `name="name"`, `name="macs"`, `name="eol_date"`, `name="update_mechanism"`, `name="tags"`, `name="notes"`)

	bad := url.Values{
		"csrf":             {b.csrf},
		"name":             {"Garage camera"},
		"manufacturer":     {"Reolink"},
		"macs":             {"aa:bb:cc:dd:ee:ff\nzz:zz"},
		"ips":              {"192.168.1.300"},
		"eol_date":         {"2027-13-01"},
		"replacement_cost": {"lots"},
		"category":         {"camera"},
		"notes":            {"kept <as> typed"},
	}
	p := b.post("/devices", bad)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", p.status)
	}
	wantContains(t, p.body,
		"The device was not saved",
		`id="e-macs"`, "“zz:zz” is not a MAC address",
		`id="e-ips"`, `id="e-eol_date"`, `id="e-replacement_cost"`,
		`value="Garage camera"`, `value="Reolink"`, "aa:bb:cc:dd:ee:ff\nzz:zz</textarea>",
		`value="2027-13-01"`, `value="lots"`, "kept &lt;as&gt; typed",
		`<option value="camera" selected>`,
	)
	if n := e.countDevices(); n != 0 {
		t.Fatalf("%d devices after a refused form", n)
	}

	// Name required, shown on the name field.
	p = b.post("/devices", url.Values{"csrf": {b.csrf}, "name": {"  "}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.status)
	}
	wantContains(t, p.body, `id="e-name"`, "Name is required")

	good := url.Values{
		"csrf": {b.csrf}, "name": {"Garage camera"}, "manufacturer": {"Reolink"}, "model": {"RLC-510A"},
		"firmware_version": {"v3.0.0.2356"}, "category": {"camera"}, "criticality": {"high"},
		"exposure": {"segmented"}, "update_mechanism": {"web-admin"}, "auto_update": {"no"},
		"macs": {"AA-BB-CC-DD-EE-FF"}, "ips": {"192.168.1.30; 192.168.1.31"}, "tags": {"garage; outdoor"},
		"eol_date": {"2027-12-31"}, "replacement_cost": {"89.90"}, "site": {"Home"}, "location": {"Garage"},
	}
	p = b.post("/devices", good)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/devices/") {
		t.Fatalf("status %d location %q: %s", p.status, p.location(), p.body)
	}
	show := b.get(p.location())
	wantContains(t, show.body, "Added Garage camera.", "Garage camera", "aa:bb:cc:dd:ee:ff", "192.168.1.31",
		"#outdoor", "31 Dec 2027", "89.90", "device.create", "token:1(alice)")
	devs, _, _ := e.devices.FindDevices(context.Background(), firmward.DeviceFilter{})
	if len(devs) != 1 || devs[0].Source != firmward.SourceManual || devs[0].Criticality != firmward.CriticalityHigh {
		t.Fatalf("stored %+v", devs)
	}

	// A MAC of another device is a conflict shown on the macs field.
	dup := url.Values{"csrf": {b.csrf}, "name": {"Other"}, "macs": {"aa:bb:cc:dd:ee:ff"}}
	p = b.post("/devices", dup)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate MAC: status %d", p.status)
	}
	wantContains(t, p.body, `id="e-macs"`, "already used by device", `value="Other"`)
	if n := e.countDevices(); n != 1 {
		t.Errorf("%d devices", n)
	}
}

func TestEditAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.addDevice(firmward.Device{Name: "Thermostat", MACs: []string{"00:11:22:33:44:55"}, Tags: []string{"hall"}})
	other := e.addDevice(firmward.Device{Name: "TV", MACs: []string{"00:11:22:33:44:66"}})
	b := e.browser()
	b.signIn(e.admin)
	id := itoa(d.ID)

	edit := b.get("/devices/" + id + "/edit")
	wantContains(t, edit.body, `value="Thermostat"`, "00:11:22:33:44:55</textarea>", `value="hall"`)

	form := url.Values{"csrf": {b.csrf}, "name": {"Hall thermostat"}, "macs": {"00:11:22:33:44:66"}, "firmware_version": {"2.1"}}
	p := b.post("/devices/"+id, form)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("conflicting edit: %d", p.status)
	}
	wantContains(t, p.body, `id="e-macs"`, "TV", `value="Hall thermostat"`)

	form.Set("macs", "00:11:22:33:44:55")
	p = b.post("/devices/"+id, form)
	if p.status != http.StatusSeeOther || p.location() != "/devices/"+id {
		t.Fatalf("edit: %d %q", p.status, p.location())
	}
	show := b.get("/devices/" + id)
	wantContains(t, show.body, "Saved the changes to Hall thermostat.", "device.update", "2.1")
	got, _ := e.devices.FindDeviceByID(context.Background(), d.ID)
	if got.Name != "Hall thermostat" || got.FirmwareVersion != "2.1" || len(got.Tags) != 0 {
		t.Errorf("stored %+v", got)
	}

	confirm := b.get("/devices/" + id + "/delete")
	wantContains(t, confirm.body, "Delete Hall thermostat?", `action="/devices/`+id+`/delete"`)
	p = b.post("/devices/"+id+"/delete", url.Values{"csrf": {b.csrf}})
	if p.status != http.StatusSeeOther || p.location() != "/devices" {
		t.Fatalf("delete: %d %q", p.status, p.location())
	}
	if _, err := e.devices.FindDeviceByID(context.Background(), d.ID); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("device still there: %v", err)
	}
	if p := b.get("/devices/" + id); p.status != http.StatusNotFound {
		t.Errorf("deleted device page: %d", p.status)
	}
	if p := b.post("/devices/"+id, form); p.status != http.StatusNotFound {
		t.Errorf("edit of a deleted device: %d", p.status)
	}
	if _, err := e.devices.FindDeviceByID(context.Background(), other.ID); err != nil {
		t.Error(err)
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	imp := b.get("/import")
	wantContains(t, imp.body, `enctype="multipart/form-data"`, "<code>update_mechanism</code>", "<code>eol_date</code>", `name="dry_run"`)

	const bad = "name,manufacturer,category,mac,eol_date\n" +
		"Kitchen plug,Shelly,consumer-smart-home,aa:bb:cc:00:00:01,\n" +
		"Door lock,Nuki,lokc,aa:bb:cc:00:00:02,2030-01-01\n" +
		"Camera,Reolink,camera,aa:bb:cc:00:00:03,\n"
	p := b.postFile("/import", map[string]string{"csrf": b.csrf}, "home.csv", bad)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", p.status)
	}
	wantContains(t, p.body, "Nothing was imported", `<table class="report">`, "<td class=\"num\">3</td>", "lokc", "must be one of",
		"home.csv", "Door lock,Nuki,lokc") // the file is put back into the box
	if n := e.countDevices(); n != 0 {
		t.Fatalf("%d devices after a refused import", n)
	}

	// An unknown column is refused by name.
	p = b.postFile("/import", map[string]string{"csrf": b.csrf, "csv": "name,colour\nX,red\n"}, "", "")
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown column: %d", p.status)
	}
	wantContains(t, p.body, "colour", "unknown column")

	// Nothing to import.
	if p := b.postFile("/import", map[string]string{"csrf": b.csrf}, "", ""); p.status != http.StatusUnprocessableEntity {
		t.Errorf("empty import: %d", p.status)
	}

	fixed := strings.Replace(bad, "lokc", "lock", 1)
	p = b.postFile("/import", map[string]string{"csrf": b.csrf, "dry_run": "1", "csv": fixed}, "", "")
	if p.status != http.StatusOK {
		t.Fatalf("dry run: %d", p.status)
	}
	wantContains(t, p.body, "Dry run", "would create 3 devices", "Door lock,Nuki,lock")
	if n := e.countDevices(); n != 0 {
		t.Fatalf("%d devices after a dry run", n)
	}

	p = b.postFile("/import", map[string]string{"csrf": b.csrf, "csv": fixed}, "", "")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/devices") {
		t.Fatalf("import: %d %q: %s", p.status, p.location(), p.body)
	}
	list := b.get(p.location())
	wantContains(t, list.body, "Imported 3 devices.", "Kitchen plug", "Door lock", "Camera")
	if n := e.countDevices(); n != 3 {
		t.Errorf("%d devices, want 3", n)
	}

	// Importing the same MACs again conflicts, and nothing is stored.
	p = b.postFile("/import", map[string]string{"csrf": b.csrf}, "again.csv", fixed)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("re-import: %d", p.status)
	}
	wantContains(t, p.body, "Nothing was imported", "already")
	if n := e.countDevices(); n != 3 {
		t.Errorf("%d devices, want 3", n)
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)

	empty := b.get("/")
	wantContains(t, empty.body, "Start your inventory", "firmward seed home", `href="/devices/new"`, `href="/import"`)

	for _, d := range []firmward.Device{
		{Name: "Cam 1", Category: "camera", Criticality: "high", Exposure: "internet-facing", FirmwareVersion: "1.0", UpdateMechanism: "web-admin"},
		{Name: "Cam 2", Category: "camera", Criticality: "high", Exposure: "internal", UpdateMechanism: "vendor-cloud"},
		{Name: "Lock", Category: "lock", Criticality: "safety-critical", Exposure: "segmented", FirmwareVersion: "3"},
		{Name: "Router", Category: "network-infrastructure", Criticality: "high", Exposure: "internet-facing", FirmwareVersion: "7.1", UpdateMechanism: "web-admin"},
	} {
		e.addDevice(d)
	}
	p := b.get("/")
	wantContains(t, p.body,
		`role="img"`,
		`aria-label="Devices by category: Consumer smart home 0, Network infrastructure 1, Camera 2, Lock 1,`,
		`aria-label="Devices by criticality: Low 0, Medium 0, High 3, Safety-critical 1"`,
		`aria-label="Devices by exposure: Internal 1, Segmented 1, Internet-facing 2"`,
		`aria-label="Devices by update mechanism: firmward agent 0, hawkBit (DDI) client 0, Vendor app or cloud 1, Web admin page 2, Technician on site 0, None: cannot be updated 0, Unknown 1"`,
		"<title>Camera: 2 devices</title>",
		"<title>High: 3 devices</title>",
		"Unknown = unprotected",
	)
	// Bars are labelled with their counts.
	if !regexp.MustCompile(`class="chart-count[^"]*"[^>]*>3</text>`).MatchString(p.body) {
		t.Error("no bar labelled 3")
	}
	// Cam 2 lacks a firmware version, Lock an update mechanism.
	unknown := p.body[strings.Index(p.body, "Unknown = unprotected"):strings.Index(p.body, `class="charts"`)]
	wantContains(t, unknown, "No firmware version", "Cam 2", "No update mechanism", "Lock")
	wantNotContains(t, unknown, "Router", "Cam 1")
	wantContains(t, p.body, `href="/devices?missing=firmware_version"`)
	if strings.Contains(p.body, "Start your inventory") {
		t.Error("empty state shown with devices")
	}
}

func TestDeviceList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 5 {
		e.addDevice(firmward.Device{Name: "Sensor " + itoa(int64(i)), Category: "sensor", Site: "Lab", Tags: []string{"batch"}})
	}
	e.addDevice(firmward.Device{Name: "Front camera", Category: "camera", Manufacturer: "Axis"})
	b := e.browser()
	b.signIn(e.viewer)

	p := b.get("/devices?category=camera")
	wantContains(t, p.body, "Front camera", `<option value="camera" selected>`, "Clear filters")
	wantNotContains(t, p.body, "Sensor 1")

	p = b.get("/devices?q=sensor&limit=2")
	wantContains(t, p.body, "Sensor 0", "Sensor 1", "Devices 1–2", "Next page")
	next := regexp.MustCompile(`href="(/devices\?[^"]*after=[^"]*)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatal("no next-page link")
	}
	p = b.get(html.UnescapeString(next[1]))
	wantContains(t, p.body, "Sensor 2", "Sensor 3", "Devices 3–4", "First page")
	wantNotContains(t, p.body, "Sensor 1<")

	p = b.get("/devices?missing=firmware_version&site=lab&tag=batch&manufacturer=")
	wantContains(t, p.body, "Sensor 4")
	wantNotContains(t, p.body, "Front camera")

	p = b.get("/devices?q=nothing-like-this")
	wantContains(t, p.body, "No devices match these filters")
	p = b.get("/devices?missing=bogus")
	wantContains(t, p.body, `role="alert"`)
}

// TestEveryPageRenders fetches every page, in every state, as each role.
func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eol := time.Now().AddDate(-1, 0, 0).Format(firmward.DateLayout)
	seen := time.Now().Add(-3 * time.Hour)
	d := e.addDevice(firmward.Device{
		Name: "Everything", Manufacturer: "Acme", Model: "X1", HardwareVersion: "rev B", FirmwareVersion: "1.2.3",
		Serial: "SN1", Category: "industrial", Criticality: "safety-critical", Exposure: "internet-facing",
		UpdateMechanism: "technician", AutoUpdate: "no", MACs: []string{"02:00:00:00:00:01"}, IPs: []string{"10.0.0.1", "fe80::1"},
		Site: "Plant", Location: "Hall 2", Owner: "OT team", Segment: "OT", CPE: "cpe:2.3:h:acme:x1:-:*:*:*:*:*:*:*",
		EOLDate: eol, PurchaseDate: "2019-05-01", ReplacementCost: 12500, Notes: "line 1\nline 2 <b>", Tags: []string{"plc"},
		FirstSeen: &seen, LastSeen: &seen,
	})
	id := itoa(d.ID)
	for _, role := range []struct {
		name, secret string
		editor       bool
	}{{"admin", e.admin, true}, {"viewer", e.viewer, false}} {
		t.Run(role.name, func(t *testing.T) {
			b := e.browser()
			if p := b.get("/login"); p.status != http.StatusOK {
				t.Errorf("/login: %d", p.status)
			}
			b.signIn(role.secret)
			pages := map[string]int{
				"/": 200, "/devices": 200, "/devices/" + id: 200, "/risk": 200, "/logout": 200, "/import": 403,
				"/devices/new": 403, "/devices/" + id + "/edit": 403, "/devices/" + id + "/delete": 403,
				"/devices/999": 404, "/devices/abc": 404, "/nowhere": 404, "/devices/1/x": 404,
			}
			if role.editor {
				pages["/devices/new"], pages["/devices/"+id+"/edit"], pages["/devices/"+id+"/delete"], pages["/import"] = 200, 200, 200, 200
			}
			for path, want := range pages {
				p := b.get(path)
				if p.status != want {
					t.Errorf("GET %s: %d, want %d", path, p.status, want)
				}
				if !strings.HasPrefix(p.body, "<!doctype html>") || !strings.HasSuffix(strings.TrimSpace(p.body), "</html>") {
					t.Errorf("GET %s: not a whole page: %.200s", path, p.body)
				}
				if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
					t.Errorf("GET %s: CSP %q", path, csp)
				}
				if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<script") {
					t.Errorf("GET %s: inline style or script", path)
				}
			}
			show := b.get("/devices/" + id)
			wantContains(t, show.body, "End of support passed", "Hall 2", "fe80::1", "12500", "line 1\nline 2 &lt;b&gt;", "3 hours ago", "1 May 2019")
		})
	}
	// 404 for signed-out visitors, without the navigation.
	p := e.browser().get("/nowhere")
	if p.status != http.StatusNotFound || strings.Contains(p.body, "Sign out") {
		t.Errorf("signed-out 404: %d", p.status)
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	login := b.get("/login")
	m := regexp.MustCompile(`href="(/static/[0-9a-f]{16}/style\.css)"`).FindStringSubmatch(login.body)
	if m == nil {
		t.Fatal("no hashed stylesheet link")
	}
	p := b.get(m[1])
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") ||
		!strings.Contains(p.header.Get("Cache-Control"), "immutable") || !strings.Contains(p.body, ".topbar") {
		t.Errorf("stylesheet: %d %q %q", p.status, p.header.Get("Content-Type"), p.header.Get("Cache-Control"))
	}
	old := b.get("/static/0000000000000000/style.css")
	if old.status != http.StatusOK || strings.Contains(old.header.Get("Cache-Control"), "immutable") {
		t.Errorf("old hash: %d %q", old.status, old.header.Get("Cache-Control"))
	}
	if p := b.get("/static/0000000000000000/nothing.js"); p.status != http.StatusNotFound {
		t.Errorf("unknown asset: %d", p.status)
	}
}

func TestImportTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	big := "name\n" + strings.Repeat("Some device with a long name\n", (33<<20)/29)
	p := b.postFile("/import", map[string]string{"csrf": b.csrf}, "big.csv", big)
	if p.status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", p.status)
	}
	if n := e.countDevices(); n != 0 {
		t.Errorf("%d devices", n)
	}
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, err := web.New(web.Config{Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings, SecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	if c := rec.Header().Get("Set-Cookie"); !strings.Contains(c, "; Secure") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("cookie %q is not Secure and HttpOnly", c)
	}
}

func TestNewRequiresServices(t *testing.T) {
	t.Parallel()
	if _, err := web.New(web.Config{}); err == nil {
		t.Error("New with no services succeeded")
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
