package radius_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	firmward "github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
	"github.com/firmward/firmward/radius"
)

const testSecret = "s3cret-shared-with-freeradius"

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// memDirectory decides with a real nac.Policy over in-memory devices.
type memDirectory struct {
	policy   nac.Policy
	devices  map[string]*firmward.Device // by MAC
	findings map[int64][]*firmward.Finding
	err      error
}

func (d *memDirectory) Decide(_ context.Context, mac string) (nac.Decision, error) {
	if d.err != nil {
		return nac.Decision{}, d.err
	}
	dev, ok := d.devices[mac]
	if !ok {
		return nac.Decision{}, firmward.Errorf(firmward.ENOTFOUND, "no device has MAC %s", mac)
	}
	return d.policy.Evaluate(dev, d.findings[dev.ID], nac.State{}, testNow), nil
}

// testDirectory: a compliant camera (iot, VLAN 30) and a camera with an
// overdue Immediate finding (quarantine VLAN 666), enforce mode.
func testDirectory() *memDirectory {
	p := nac.EnterprisePolicy("hq")
	p.Mode = nac.ModeEnforce
	due := testNow.AddDate(0, 0, -3)
	return &memDirectory{
		policy: p,
		devices: map[string]*firmward.Device{
			"3c:d9:2b:00:00:13": {ID: 1, Name: "lobby camera", Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternal},
			"3c:d9:2b:00:00:66": {ID: 2, Name: "garage camera", Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureInternal},
		},
		findings: map[int64][]*firmward.Finding{
			2: {{DeviceID: 2, CVE: "CVE-2025-1111", Status: firmward.FindingOpen, Decision: firmward.DecisionImmediate, DueDate: &due}},
		},
	}
}

func body(attrs map[string]string) string {
	m := map[string]any{}
	for k, v := range attrs {
		m[k] = map[string]any{"type": "string", "value": []string{v}}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func newTestHandler(t testing.TB, dir radius.Directory, unknown nac.Unknown, sess radius.SessionRecorder) *radius.Handler {
	t.Helper()
	if sess == nil {
		sess = radius.NewSessions(0)
	}
	h, err := radius.NewHandler(radius.Config{Secret: testSecret, Directory: dir, Sessions: sess, Unknown: unknown, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, path, secret, payload string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(radius.SecretHeader, secret)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	guest := nac.Unknown{Action: nac.UnknownVLAN, VLAN: "99"}
	reject := nac.Unknown{Action: nac.UnknownReject}
	tests := []struct {
		name    string
		unknown nac.Unknown
		secret  string
		payload string
		status  int
		vlan    string
		errHas  string
	}{
		{name: "compliant device gets its segment VLAN", unknown: reject, payload: body(map[string]string{"User-Name": "3cd92b000013", "Calling-Station-Id": "3C-D9-2B-00-00-13"}), status: 200, vlan: "30"},
		{name: "quarantined device gets the quarantine VLAN", unknown: reject, payload: body(map[string]string{"User-Name": "3cd92b000066"}), status: 200, vlan: "666"},
		{name: "unknown MAC rejected", unknown: reject, payload: body(map[string]string{"User-Name": "001122334455"}), status: 401},
		{name: "unknown MAC to the guest VLAN", unknown: guest, payload: body(map[string]string{"User-Name": "001122334455"}), status: 200, vlan: "99"},
		{name: "Cisco dotted notation in Calling-Station-Id", unknown: reject, payload: body(map[string]string{"User-Name": "host/laptop", "Calling-Station-Id": "3cd9.2b00.0013"}), status: 200, vlan: "30"},
		{name: "colon notation in User-Name", unknown: reject, payload: body(map[string]string{"User-Name": "3C:D9:2B:00:00:66"}), status: 200, vlan: "666"},
		{name: "Calling-Station-Id wins over User-Name", unknown: reject, payload: body(map[string]string{"User-Name": "3cd92b000066", "Calling-Station-Id": "3c-d9-2b-00-00-13"}), status: 200, vlan: "30"},
		{name: "bad Calling-Station-Id falls back to User-Name", unknown: reject, payload: body(map[string]string{"User-Name": "3cd92b000013", "Calling-Station-Id": "unknown"}), status: 200, vlan: "30"},
		{name: "no secret", unknown: reject, secret: "-", payload: body(map[string]string{"User-Name": "3cd92b000013"}), status: 403, errHas: radius.SecretHeader},
		{name: "wrong secret", unknown: reject, secret: "s3cret-shared-with-freeradiuS", payload: body(map[string]string{"User-Name": "3cd92b000013"}), status: 403, errHas: "wrong"},
		{name: "no MAC anywhere", unknown: reject, payload: body(map[string]string{"User-Name": "alice"}), status: 400, errHas: `no MAC address in the request: Calling-Station-Id is missing; User-Name "alice" is not a MAC address`},
		{name: "MAC with too many digits", unknown: reject, payload: body(map[string]string{"User-Name": "3cd92b00001300"}), status: 400, errHas: "more than 12 hex digits"},
		{name: "User-Name of the wrong type", unknown: reject, payload: `{"User-Name":{"type":"integer","value":[5]}}`, status: 400, errHas: `attribute User-Name has type "integer"; want string`},
		{name: "not JSON", unknown: reject, payload: `User-Name=3cd92b000013`, status: 400, errHas: "body is not JSON"},
		{name: "attribute without value", unknown: reject, payload: `{"User-Name":{"type":"string"}}`, status: 400, errHas: `attribute "User-Name" has no "value"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(t, testDirectory(), tt.unknown, nil)
			secret := testSecret
			if tt.secret == "-" {
				secret = ""
			} else if tt.secret != "" {
				secret = tt.secret
			}
			rec := do(h, radius.PathAuthorize, secret, tt.payload)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			switch {
			case tt.vlan != "":
				var got map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("reply %q: %v", rec.Body, err)
				}
				if want := radius.VLANReply(tt.vlan); !maps.Equal(got, want) {
					t.Errorf("reply %v, want %v", got, want)
				}
			case tt.errHas != "":
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
					t.Fatalf("error body %q: %v", rec.Body, err)
				}
				if !strings.Contains(e.Error.Message, tt.errHas) {
					t.Errorf("message %q does not contain %q", e.Error.Message, tt.errHas)
				}
			case tt.status == 401:
				if got := rec.Body.String(); got != "{}" {
					t.Errorf("reject body %q", got)
				}
			}
		})
	}
}

func TestAuthorizeNoVLAN(t *testing.T) {
	t.Parallel()
	dir := testDirectory()
	delete(dir.policy.VLANs, nac.SegmentIoT)
	rec := do(newTestHandler(t, dir, nac.Unknown{}, nil), radius.PathAuthorize, testSecret, body(map[string]string{"User-Name": "3cd92b000013"}))
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("status %d body %q, want 204 and no body", rec.Code, rec.Body)
	}
}

func TestAuthorizeDirectoryFailure(t *testing.T) {
	t.Parallel()
	dir := testDirectory()
	dir.err = errors.New("database is locked")
	rec := do(newTestHandler(t, dir, nac.Unknown{}, nil), radius.PathAuthorize, testSecret, body(map[string]string{"User-Name": "3cd92b000013"}))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "locked") {
		t.Errorf("internal error leaked to the caller: %s", rec.Body)
	}
}

func TestMethodAndPath(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, testDirectory(), nac.Unknown{}, nil)
	req := httptest.NewRequest(http.MethodGet, radius.PathAuthorize, nil)
	req.Header.Set(radius.SecretHeader, testSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d", rec.Code)
	}
	if rec := do(h, "/nac/radius/other", testSecret, "{}"); rec.Code != http.StatusNotFound {
		t.Errorf("other path: status %d", rec.Code)
	}
	big := `{"User-Name":{"type":"string","value":["` + strings.Repeat("a", radius.MaxBodyBytes) + `"]}}`
	if rec := do(h, radius.PathAuthorize, testSecret, big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: status %d", rec.Code)
	}
}

func TestNewHandlerChecksConfig(t *testing.T) {
	t.Parallel()
	dir, sess := testDirectory(), radius.NewSessions(0)
	tests := []struct {
		name string
		cfg  radius.Config
		want string
	}{
		{"short secret", radius.Config{Secret: "short", Directory: dir, Sessions: sess}, "at least 16 bytes"},
		{"no directory", radius.Config{Secret: testSecret, Sessions: sess}, "Directory"},
		{"no sessions", radius.Config{Secret: testSecret, Directory: dir}, "Sessions"},
		{"guest without VLAN", radius.Config{Secret: testSecret, Directory: dir, Sessions: sess, Unknown: nac.Unknown{Action: nac.UnknownVLAN}}, "unknown-MAC answer"},
		{"bad action", radius.Config{Secret: testSecret, Directory: dir, Sessions: sess, Unknown: nac.Unknown{Action: "drop"}}, "unknown-MAC answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := radius.NewHandler(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestAccountingAndPostAuthRecordTheNAS(t *testing.T) {
	t.Parallel()
	sess := radius.NewSessions(0)
	h := newTestHandler(t, testDirectory(), nac.Unknown{}, sess)

	acct := `{"User-Name":{"type":"string","value":["3cd92b000013"]},
		"Acct-Status-Type":{"type":"integer","value":["Start"]},
		"Acct-Session-Id":{"type":"string","value":["0000001A"]},
		"NAS-IP-Address":{"type":"ipaddr","value":["192.0.2.10"]},
		"NAS-Identifier":{"type":"string","value":["sw-floor-2"]},
		"NAS-Port":{"type":"integer","value":[10112]},
		"Calling-Station-Id":{"type":"string","value":["3C-D9-2B-00-00-13"]},
		"Framed-IP-Address":{"type":"ipaddr","value":["198.51.100.7"]},
		"Event-Timestamp":{"type":"date","value":["Nov 25 2026 12:00:00 UTC"]}}`
	if rec := do(h, radius.PathAccounting, testSecret, acct); rec.Code != http.StatusNoContent {
		t.Fatalf("accounting: %d %s", rec.Code, rec.Body)
	}
	got, err := sess.LastSession(t.Context(), "3c:d9:2b:00:00:13")
	if err != nil {
		t.Fatal(err)
	}
	want := radius.Session{
		MAC: "3c:d9:2b:00:00:13", UserName: "3cd92b000013", NASIP: netip.MustParseAddr("192.0.2.10"), NASIdentifier: "sw-floor-2",
		NASPort: "10112", CallingStation: "3C-D9-2B-00-00-13", AcctSessionID: "0000001A",
		FramedIP: netip.MustParseAddr("198.51.100.7"), Event: "Start", At: testNow,
	}
	if got != want {
		t.Errorf("session\n%+v\nwant\n%+v", got, want)
	}

	post := body(map[string]string{"User-Name": "3cd92b000066", "NAS-Identifier": "ap-7"})
	if rec := do(h, radius.PathPostAuth, testSecret, post); rec.Code != http.StatusNoContent {
		t.Fatalf("post-auth: %d %s", rec.Code, rec.Body)
	}
	if s, err := sess.LastSession(t.Context(), "3c:d9:2b:00:00:66"); err != nil || s.NASIdentifier != "ap-7" || s.Event != "authenticated" {
		t.Errorf("post-auth session %+v, %v", s, err)
	}
	if _, err := sess.LastSession(t.Context(), "00:00:00:00:00:01"); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("unknown MAC: %v", err)
	}

	bad := []struct{ name, path, payload, want string }{
		{"no status type", radius.PathAccounting, body(map[string]string{"User-Name": "3cd92b000013", "NAS-Identifier": "sw"}), "without Acct-Status-Type"},
		{"no NAS", radius.PathPostAuth, body(map[string]string{"User-Name": "3cd92b000013"}), "names no NAS"},
		{"bad NAS address", radius.PathPostAuth, `{"User-Name":{"type":"string","value":["3cd92b000013"]},"NAS-IP-Address":{"type":"ipaddr","value":["300.1.1.1"]}}`, `"300.1.1.1" is not an IPv4 address`},
		{"NAS address of the wrong type", radius.PathPostAuth, `{"User-Name":{"type":"string","value":["3cd92b000013"]},"NAS-IP-Address":{"type":"string","value":["192.0.2.1"]}}`, `has type "string"; want ipaddr`},
	}
	for _, tt := range bad {
		rec := do(h, tt.path, testSecret, tt.payload)
		var e struct{ Error struct{ Message string } }
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != http.StatusBadRequest || !strings.Contains(e.Error.Message, tt.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
}

func TestAccountingOnOff(t *testing.T) {
	t.Parallel()
	sess := radius.NewSessions(0)
	h := newTestHandler(t, testDirectory(), nac.Unknown{}, sess)
	on := `{"Acct-Status-Type":{"type":"integer","value":["Accounting-On"]},"NAS-IP-Address":{"type":"ipaddr","value":["192.0.2.10"]}}`
	if rec := do(h, radius.PathAccounting, testSecret, on); rec.Code != http.StatusNoContent {
		t.Errorf("Accounting-On: %d %s", rec.Code, rec.Body)
	}
	// Only accounting accepts a request without a MAC, and only On/Off.
	if rec := do(h, radius.PathPostAuth, testSecret, on); rec.Code != http.StatusBadRequest {
		t.Errorf("post-auth without MAC: %d", rec.Code)
	}
	start := `{"Acct-Status-Type":{"type":"integer","value":["Start"]},"NAS-IP-Address":{"type":"ipaddr","value":["192.0.2.10"]}}`
	if rec := do(h, radius.PathAccounting, testSecret, start); rec.Code != http.StatusBadRequest {
		t.Errorf("Start without MAC: %d", rec.Code)
	}
}

// A directory that answers unknown MACs with the site policy's own
// decision: in monitor mode a "reject" policy only reports.
func TestAuthorizeUnknownFromPolicy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode   nac.Mode
		status int
	}{{nac.ModeMonitor, http.StatusNoContent}, {nac.ModeEnforce, http.StatusUnauthorized}} {
		p := nac.EnterprisePolicy("hq")
		p.Mode, p.Unknown = tt.mode, nac.Unknown{Action: nac.UnknownReject}
		dir := dirFunc(func(string) (nac.Decision, error) { return p.UnknownDecision(), nil })
		// Config.Unknown (a guest VLAN here) is not used: the directory decided.
		h := newTestHandler(t, dir, nac.Unknown{Action: nac.UnknownVLAN, VLAN: "99"}, nil)
		if rec := do(h, radius.PathAuthorize, testSecret, body(map[string]string{"User-Name": "001122334455"})); rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.mode, rec.Code, tt.status)
		}
	}
}

type dirFunc func(mac string) (nac.Decision, error)

func (f dirFunc) Decide(_ context.Context, mac string) (nac.Decision, error) { return f(mac) }

func TestSessionsFull(t *testing.T) {
	t.Parallel()
	sess := radius.NewSessions(1)
	ctx := t.Context()
	if err := sess.RecordSession(ctx, radius.Session{MAC: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := sess.RecordSession(ctx, radius.Session{MAC: "a", Event: "Stop"}); err != nil {
		t.Fatalf("updating a known MAC: %v", err)
	}
	if err := sess.RecordSession(ctx, radius.Session{MAC: "b"}); firmward.ErrorCode(err) != firmward.ETOOLARGE {
		t.Errorf("full table: %v", err)
	}
	h := newTestHandler(t, testDirectory(), nac.Unknown{}, sess)
	rec := do(h, radius.PathPostAuth, testSecret, body(map[string]string{"User-Name": "3cd92b000013", "NAS-Identifier": "sw"}))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d", rec.Code)
	}
	_, _ = io.Copy(io.Discard, rec.Body)
}
