package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc3576"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
	"github.com/firmward/firmward/nacwebhook"
	"github.com/firmward/firmward/sqlstore"
)

const (
	labNASSecret     = "nas-coa-secret-42"
	labWebhookSecret = "webhook-secret-0123456789"
)

// lifecycleClock is the store's settable clock.
type lifecycleClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *lifecycleClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lifecycleClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// coaNAS is a NAS on 127.0.0.1 that ACKs every Disconnect-Request and
// remembers the Calling-Station-Ids it was asked about.
type coaNAS struct {
	addr string
	mu   sync.Mutex // guards got and nak
	got  []string
	nak  bool // answer Disconnect-NAK with Error-Cause 503 (Session-Context-Not-Found)
}

func startCoANAS(t *testing.T) *coaNAS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nas := &coaNAS{addr: conn.LocalAddr().String()}
	srv := &layeh.PacketServer{
		SecretSource: layeh.StaticSecretSource([]byte(labNASSecret)),
		Handler: layeh.HandlerFunc(func(w layeh.ResponseWriter, r *layeh.Request) {
			if r.Code != layeh.CodeDisconnectRequest {
				_ = w.Write(r.Response(layeh.CodeDisconnectNAK))
				return
			}
			nas.mu.Lock()
			nas.got = append(nas.got, rfc2865.CallingStationID_GetString(r.Packet))
			nak := nas.nak
			nas.mu.Unlock()
			if nak {
				resp := r.Response(layeh.CodeDisconnectNAK)
				_ = rfc3576.ErrorCause_Set(resp, rfc3576.ErrorCause_Value_SessionContextNotFound)
				_ = w.Write(resp)
				return
			}
			_ = w.Write(r.Response(layeh.CodeDisconnectACK))
		}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, layeh.ErrServerShutdown) {
			t.Errorf("NAS: %v", err)
		}
	})
	return nas
}

func (n *coaNAS) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	got := n.got
	n.got = nil
	return got
}

// hookReceiver verifies and keeps webhook bodies.
type hookReceiver struct {
	mu  sync.Mutex // guards got
	got []nacwebhook.Event
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !nacwebhook.Verify(labWebhookSecret, body, r.Header.Get(nacwebhook.SignatureHeader)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var e nacwebhook.Event
	if err := json.Unmarshal(body, &e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, e)
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.got {
		out = append(out, e.Type+" "+e.MAC+" "+e.Status)
	}
	h.got = nil
	return out
}

type lifecycleLab struct {
	clk      *lifecycleClock
	db       *sqlstore.DB
	devices  *sqlstore.DeviceService
	findings *sqlstore.FindingService
	rt       *nacRuntime
	nas      *coaNAS
	hook     *hookReceiver
	camera   int64
	pump     int64
}

func newLifecycleLab(t *testing.T) *lifecycleLab {
	t.Helper()
	ctx := firmward.WithActor(t.Context(), firmward.Actor{Kind: "token", ID: 1, Name: "test"})
	clk := &lifecycleClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "firmward.db"), sqlstore.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	lab := &lifecycleLab{
		clk: clk, db: db, devices: sqlstore.NewDeviceService(db), findings: sqlstore.NewFindingService(db),
		nas: startCoANAS(t), hook: &hookReceiver{},
	}
	hookSrv := httptest.NewServer(lab.hook)
	t.Cleanup(hookSrv.Close)
	f := defaultNACFlags()
	f.WebhookURL, f.WebhookSecret = hookSrv.URL, labWebhookSecret
	f.CoATimeout, f.CoARetries = 2*time.Second, 0
	if lab.rt, err = newNACRuntime(f, dir, db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, cat firmward.Category, crit firmward.Criticality, mac string) int64 {
		d := &firmward.Device{
			Name: name, Manufacturer: "Hikvision", Model: "DS-2CD2042WD", Category: cat, Criticality: crit,
			Exposure: firmward.ExposureInternal, MACs: []string{mac}, IPs: []string{"10.0.0.7"}, Site: "hq",
		}
		if err := lab.devices.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	lab.camera = mk("garage camera", firmward.CategoryCamera, firmward.CriticalityMedium, "3c:d9:2b:00:00:66")
	lab.pump = mk("infusion pump", firmward.CategoryMedical, firmward.CriticalitySafetyCritical, "3c:d9:2b:00:00:77")
	mk("lobby camera", firmward.CategoryCamera, firmward.CriticalityMedium, "3c:d9:2b:00:00:13")
	for _, id := range []int64{lab.camera, lab.pump} {
		lab.setFinding(t, id, true)
	}
	p := nac.EnterprisePolicy("hq")
	p.Mode = nac.ModeEnforce
	if err := lab.rt.store.SetSitePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := lab.rt.store.SetNASSecret(ctx, firmward.NASSecret{NAS: "sw-floor-2", Addr: lab.nas.addr, Secret: labNASSecret}); err != nil {
		t.Fatal(err)
	}
	// Both devices authenticated through the switch (what post-auth records).
	for _, mac := range []string{"3c:d9:2b:00:00:66", "3c:d9:2b:00:00:77"} {
		err := lab.rt.store.RecordNASSession(ctx, firmward.NASSession{
			MAC: mac, NASIdentifier: "sw-floor-2", Event: "authenticated", At: clk.Now(),
			CallingStation: strings.ToUpper(strings.ReplaceAll(mac, ":", "-")),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return lab
}

// setFinding gives a device one overdue KEV finding (open) or none (the
// finding becomes fixed).
func (l *lifecycleLab) setFinding(t *testing.T, id int64, open bool) {
	t.Helper()
	var found []firmward.Finding
	if open {
		due := l.clk.Now().AddDate(0, 0, -3)
		found = append(found, firmward.Finding{
			CVE: "CVE-2017-7921", Certain: true, Decision: firmward.DecisionImmediate, KEV: true, DueDate: &due,
			Evidence: firmward.Evidence{Source: "nvd", Reason: "firmware in the vulnerable range"},
		})
	}
	if _, err := l.findings.SyncDeviceFindings(t.Context(), id, found); err != nil {
		t.Fatal(err)
	}
}

func TestNACLifecycle(t *testing.T) {
	t.Parallel()
	lab := newLifecycleLab(t)
	ctx := firmward.WithActor(t.Context(), firmward.Actor{Kind: "token", ID: 1, Name: "alice"})
	store := lab.rt.store

	pass := func(name string, wantNAS, wantHook []string) {
		t.Helper()
		if _, err := lab.rt.rec.All(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := lab.nas.take(); strings.Join(got, ",") != strings.Join(wantNAS, ",") {
			t.Errorf("%s: NAS got Disconnects for %v, want %v", name, got, wantNAS)
		}
		if got := lab.hook.take(); strings.Join(got, ",") != strings.Join(wantHook, ",") {
			t.Errorf("%s: webhook got %v, want %v", name, got, wantHook)
		}
	}
	state := func(id int64) *firmward.NACState {
		t.Helper()
		st, err := store.NACState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	pass("first pass: the camera enters quarantine, the pump waits for approval",
		[]string{"3C-D9-2B-00-00-66"}, []string{"quarantine 3c:d9:2b:00:00:66 open"})
	if st := state(lab.camera); !st.Enforced {
		t.Errorf("camera state %+v", st)
	}
	if st := state(lab.pump); st.Quarantined || !st.NeedsApproval {
		t.Errorf("pump state %+v, want waiting for approval", st)
	}
	pass("steady: nothing new", nil, nil)

	if _, err := store.Approve(ctx, lab.pump, "biomed: spare pump in service"); err != nil {
		t.Fatal(err)
	}
	pass("approved pump enters quarantine", []string{"3C-D9-2B-00-00-77"}, []string{"quarantine 3c:d9:2b:00:00:77 open"})

	if _, err := store.Exempt(ctx, lab.camera, firmward.NACExemption{Reason: "vendor patch on Friday", Owner: "bob", Until: lab.clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pass("exempt camera released", []string{"3C-D9-2B-00-00-66"}, []string{"release 3c:d9:2b:00:00:66 closed"})
	lab.clk.Add(2 * time.Hour)
	pass("exemption over: back in quarantine", []string{"3C-D9-2B-00-00-66"}, []string{"quarantine 3c:d9:2b:00:00:66 open"})

	lab.setFinding(t, lab.camera, false)
	pass("remediated: released automatically", []string{"3C-D9-2B-00-00-66"}, []string{"release 3c:d9:2b:00:00:66 closed"})
	if st := state(lab.camera); st.Quarantined || st.Enforced {
		t.Errorf("camera after the fix %+v", st)
	}

	hist, err := store.NACEvents(ctx, lab.camera, 100)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range hist {
		kinds[e.Kind+"/"+e.Outcome]++
	}
	if kinds["coa/ack"] != 4 || kinds["webhook/ok"] != 4 || kinds["quarantine/"] != 2 || kinds["release/"] != 2 || kinds["exempt/"] != 1 {
		t.Errorf("camera history %v", kinds)
	}
	report, err := sqlstore.NewAuditService(lab.db).VerifyAudit(ctx)
	if err != nil || !report.OK {
		t.Errorf("audit chain: %+v %v", report, err)
	}
	evs, _, err := sqlstore.NewAuditService(lab.db).FindAuditEvents(ctx, firmward.AuditFilter{Action: firmward.ActionNACCoA, Limit: 100})
	if err != nil || len(evs) != 5 {
		t.Errorf("%d nac.coa audit events (%v), want 5", len(evs), err)
	}
}

func TestNACCoAWithoutSession(t *testing.T) {
	t.Parallel()
	lab := newLifecycleLab(t)
	ctx := t.Context()
	if _, err := lab.db.SQL().ExecContext(ctx, "DELETE FROM nas_sessions"); err != nil {
		t.Fatal(err)
	}
	// The pump's session ended (Accounting Stop); the camera has none.
	if err := lab.rt.store.RecordNASSession(ctx, firmward.NASSession{MAC: "3c:d9:2b:00:00:77", NASIdentifier: "sw-floor-2", Event: "Stop", At: lab.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.rt.store.Approve(ctx, lab.pump, "approved"); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.rt.rec.Reconcile(ctx, lab.camera, lab.pump); err != nil {
		t.Fatal(err)
	}
	if got := lab.nas.take(); len(got) != 0 {
		t.Errorf("Disconnects without a live session: %v", got)
	}
	for id, want := range map[int64]string{lab.camera: "no RADIUS session seen", lab.pump: "has ended (Accounting Stop)"} {
		hist, err := lab.rt.store.NACEvents(ctx, id, 10)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range hist {
			if e.Kind == firmward.NACEventCoA && e.Outcome == "skipped" && strings.Contains(e.Message, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("device %d: history %+v lacks the skipped CoA (%q)", id, hist, want)
		}
	}
}

// TestNACReconcilerRun drives the goroutine with a hand-made ticker: no
// sleeping, the test waits on each pass.
func TestNACReconcilerRun(t *testing.T) {
	t.Parallel()
	lab := newLifecycleLab(t)
	passes := make(chan nac.PassResult, 4)
	rec := nac.NewReconciler(nac.ReconcilerConfig{Store: lab.rt.store, OnPass: func(r nac.PassResult) { passes <- r }})
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); rec.Run(ctx, tick) }()
	defer func() { cancel(); <-done }()

	wait := func(name string) nac.PassResult {
		t.Helper()
		select {
		case r := <-passes:
			return r
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no pass", name)
		}
		return nac.PassResult{}
	}
	// The lobby camera has no finding: compliant whatever the policy, it
	// is not evaluated.
	if r := wait("start"); r.Evaluated != 2 || len(r.Transitions) != 2 {
		t.Errorf("start pass %+v, want 2 devices and 2 transitions", r)
	}
	lab.setFinding(t, lab.camera, false)
	rec.Notify(lab.camera)
	if r := wait("notify"); r.Evaluated != 1 || len(r.Transitions) != 1 || r.Transitions[0].Kind != nac.TransitionRelease {
		t.Errorf("notified pass %+v, want the camera released", r)
	}
	lab.setFinding(t, lab.camera, true)
	tick <- lab.clk.Now()
	if r := wait("tick"); r.Evaluated != 2 || len(r.Transitions) != 1 || r.Transitions[0].Kind != nac.TransitionQuarantine {
		t.Errorf("tick pass %+v, want the camera quarantined again", r)
	}
	// A policy change (monitor mode) asks for a whole pass: the camera
	// leaves the enforced quarantine (the pump, never approved, was not in
	// it).
	p, err := lab.rt.store.SitePolicy(ctx, "hq")
	if err != nil {
		t.Fatal(err)
	}
	p.Mode = nac.ModeMonitor
	if err := lab.rt.store.SetSitePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	rec.NotifyAll()
	if r := wait("policy"); r.Evaluated != 2 || len(r.Transitions) != 1 || !r.Transitions[0].Network || r.Transitions[0].Kind != nac.TransitionRelease ||
		r.Transitions[0].Decision.DeviceID != lab.camera || !r.Transitions[0].Decision.Quarantine {
		t.Errorf("policy pass %+v, want the camera released on the network (still reported as would-quarantine)", r)
	}
}

// TestNACServeAndCLI runs `firmward serve` with the RADIUS endpoint
// mounted (secret from the environment twin) and drives the nac commands.
func TestNACServeAndCLI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	const secret = "radius-rest-secret-0123456789"
	s := startServer(t, data, map[string]string{"FIRMWARD_RADIUS_SECRET": secret})
	if info, err := os.Stat(filepath.Join(data, nacKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("NAS secret key file: %v %v", info, err)
	}
	add := s.run(t, "device", "add", "--name", "lobby camera", "--category", "camera", "--mac", "3c:d9:2b:00:00:13", "--site", "hq", "--json")
	if add.code != 0 {
		t.Fatalf("device add: %s %s", add.stdout, add.stderr)
	}
	var dev firmward.Device
	if err := json.Unmarshal([]byte(add.stdout), &dev); err != nil {
		t.Fatal(err)
	}

	// FreeRADIUS's authorize call: a compliant camera gets the iot VLAN
	// of the default (monitor) policy; a wrong secret is refused.
	body := `{"User-Name":{"type":"string","value":["3cd92b000013"]},"Calling-Station-Id":{"type":"string","value":["3C-D9-2B-00-00-13"]}}`
	for _, c := range []struct {
		secret string
		status int
		want   string
	}{{secret, http.StatusOK, `"reply:Tunnel-Private-Group-Id":"30"`}, {"wrong-secret-0123456789", http.StatusForbidden, "forbidden"}} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/nac/radius/authorize", strings.NewReader(body))
		req.Header.Set("X-Firmward-Radius-Secret", c.secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.want) {
			t.Errorf("authorize with %q: %d %s", c.secret, resp.StatusCode, b)
		}
	}

	// Accounting from the switch is persisted: CoA will know where the
	// device is.
	acct := `{"User-Name":{"type":"string","value":["3cd92b000013"]},"Calling-Station-Id":{"type":"string","value":["3C-D9-2B-00-00-13"]},` +
		`"NAS-IP-Address":{"type":"ipaddr","value":["192.0.2.10"]},"NAS-Identifier":{"type":"string","value":["sw-floor-2"]},` +
		`"Acct-Session-Id":{"type":"string","value":["0000001A"]},"Acct-Status-Type":{"type":"integer","value":["Start"]}}`
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/nac/radius/accounting", strings.NewReader(acct))
	req.Header.Set("X-Firmward-Radius-Secret", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("accounting: %d", resp.StatusCode)
	}
	db, err := sqlstore.Open(t.Context(), filepath.Join(data, "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	peek, err := sqlstore.NewNACService(db, sqlstore.NACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sess, err := peek.LastNASSession(t.Context(), "3c:d9:2b:00:00:13"); err != nil || sess.NASIP != "192.0.2.10" || sess.AcctSessionID != "0000001A" || sess.Event != "Start" {
		t.Errorf("persisted session %+v %v", sess, err)
	}

	id := strconv.FormatInt(dev.ID, 10)
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"nac", "quarantine", id, "--reason", "tampered with"}, "would be quarantined (monitor mode)"},
		{[]string{"nac", "status"}, "would-quarantine"},
		{[]string{"nac", "nft"}, "type ether_addr"}, // monitor mode: nothing enforced, the sets are empty
		{[]string{"nac", "nft", "--format", "uci"}, "config ipset"},
		{[]string{"nac", "release", id, "--reason", "checked"}, "compliant"},
		{[]string{"nac", "exempt", id, "--reason", "r", "--owner", "bob", "--until", "72h"}, "compliant"},
	} {
		r := s.run(t, step.args...)
		if r.code != 0 || !strings.Contains(r.stdout, step.want) {
			t.Errorf("%v: exit %d, want %q in:\n%s%s", step.args, r.code, step.want, r.stdout, r.stderr)
		}
	}
	if r := s.run(t, "nac", "nft"); strings.Contains(r.stdout, "3c:d9:2b:00:00:13") {
		t.Errorf("monitor mode put the device in the sets:\n%s", r.stdout)
	}
	if r := s.run(t, "nac", "exempt", id, "--reason", "r", "--owner", "o", "--until", "soon"); r.code != exitUsage {
		t.Errorf("bad --until: exit %d %s", r.code, r.stderr)
	}
	if r := s.run(t, "nac", "approve", "999999", "--reason", "x"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("approve unknown: exit %d %s", r.code, r.stderr)
	}

	// NAS secrets: from standard input, never shown again.
	set := runApp(&app{stdin: strings.NewReader("coa-secret-for-sw1\n"), getenv: mapEnv(nil)},
		[]string{"--server", s.URL, "--token", s.Token, "nac", "nas", "set", "sw1", "--addr", "127.0.0.1:3799"})
	if set.code != 0 || !strings.Contains(set.stdout, "stored the CoA secret of NAS sw1") {
		t.Errorf("nas set: %d %s %s", set.code, set.stdout, set.stderr)
	}
	if r := s.run(t, "nac", "nas", "set", "sw2"); r.code != exitUsage {
		t.Errorf("nas set without a secret: exit %d %s", r.code, r.stderr)
	}
	if r := s.run(t, "nac", "nas"); r.code != 0 || !strings.Contains(r.stdout, "127.0.0.1:3799") || strings.Contains(r.stdout, "coa-secret") {
		t.Errorf("nas list: %d %s", r.code, r.stdout)
	}
	if r := s.run(t, "nac", "nas", "rm", "sw1"); r.code != 0 {
		t.Errorf("nas rm: %d %s", r.code, r.stderr)
	}
	if r := s.run(t, "nac", "nas", "rm", "sw1"); r.code == 0 || !strings.Contains(r.stderr, "no secret stored") {
		t.Errorf("nas rm twice: %d %s", r.code, r.stderr)
	}
}

// TestNACCoANAK: a NAS that refuses the Disconnect; the NAK and its
// Error-Cause are recorded and audited, and the quarantine stands.
func TestNACCoANAK(t *testing.T) {
	t.Parallel()
	lab := newLifecycleLab(t)
	lab.nas.mu.Lock()
	lab.nas.nak = true
	lab.nas.mu.Unlock()
	ctx := t.Context()
	if _, err := lab.rt.rec.Reconcile(ctx, lab.camera); err != nil {
		t.Fatal(err)
	}
	if got := lab.nas.take(); len(got) != 1 {
		t.Fatalf("NAS got %v", got)
	}
	hist, err := lab.rt.store.NACEvents(ctx, lab.camera, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range hist {
		if e.Kind == firmward.NACEventCoA && e.Outcome == "nak" && strings.Contains(e.Message, "Error-Cause") && strings.Contains(e.Message, "503") {
			found = true
		}
	}
	if !found {
		t.Errorf("history %+v lacks the NAK", hist)
	}
	if st, err := lab.rt.store.NACState(ctx, lab.camera); err != nil || !st.Enforced {
		t.Errorf("camera %+v %v: a NAK must not undo the quarantine", st, err)
	}
}

// TestNACAlerts shows each transition raising a quarantine alert once,
// and a protected device's needs-approval asking a person to decide.
func TestNACAlerts(t *testing.T) {
	t.Parallel()
	lab := newLifecycleLab(t)
	ctx := t.Context()
	for range 2 { // the second pass changes nothing and raises nothing
		if _, err := lab.rt.rec.Reconcile(ctx, lab.camera, lab.pump); err != nil {
			t.Fatal(err)
		}
	}
	alerts, _, err := sqlstore.NewAlertService(lab.db).FindAlerts(ctx, firmward.AlertFilter{Kind: firmward.AlertQuarantine, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64][]string{}
	for _, a := range alerts {
		got[a.DeviceID] = append(got[a.DeviceID], a.Details["event"])
	}
	if want := []string{string(nac.TransitionQuarantine)}; !slices.Equal(got[lab.camera], want) {
		t.Errorf("camera alerts %v, want %v", got[lab.camera], want)
	}
	if want := []string{string(nac.TransitionNeedsApproval)}; !slices.Equal(got[lab.pump], want) {
		t.Errorf("pump alerts %v, want %v", got[lab.pump], want)
	}
	for _, a := range alerts {
		if a.DeviceID == lab.pump && (!strings.Contains(a.Subject, "approve") || a.Severity != firmward.SeverityHigh) {
			t.Errorf("the pump's alert does not ask for approval: %+v", a)
		}
	}
}
