package agentapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/sqlstore"
)

type env struct {
	t        *testing.T
	db       *sqlstore.DB
	releases *sqlstore.ReleaseService
	delivery *sqlstore.DeliveryService
	devices  *sqlstore.DeviceService
	store    *artifact.Store
	srv      *httptest.Server
	now      time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlstore.Open(context.Background(), filepath.Join(dir, "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := artifact.Open(filepath.Join(dir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, db: db, releases: sqlstore.NewReleaseService(db), delivery: sqlstore.NewDeliveryService(db),
		devices: sqlstore.NewDeviceService(db), store: store, now: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC),
	}
	h, err := New(Config{
		Releases: e.releases, Delivery: e.delivery, Devices: e.devices, Artifacts: store,
		PollInterval: 30 * time.Second, Now: func() time.Time { return e.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) device(name string) (int64, string) {
	e.t.Helper()
	d := &firmward.Device{Name: name, Manufacturer: "Acme", Model: "S", FirmwareVersion: "1.0"}
	if err := e.devices.CreateDevice(context.Background(), d); err != nil {
		e.t.Fatal(err)
	}
	_, secret, err := e.delivery.CreateDeviceToken(context.Background(), d.ID, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return d.ID, secret
}

func (e *env) deploy(dev int64, version, content string) (*firmward.Release, *firmward.Action) {
	e.t.Helper()
	sums, err := e.store.Put(context.Background(), strings.NewReader(content), "")
	if err != nil {
		e.t.Fatal(err)
	}
	r := &firmward.Release{
		Manufacturer: "Acme", Models: []string{"S"}, Version: version,
		Artifacts: []firmward.ReleaseArtifact{{Name: "fw.bin", SHA256: sums.SHA256, SHA1: sums.SHA1, MD5: sums.MD5, Size: sums.Size}},
	}
	if err := e.releases.CreateRelease(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
	acts, err := e.delivery.CreateActions(context.Background(), firmward.DeployRequest{ReleaseID: r.ID, DeviceIDs: []int64{dev}})
	if err != nil {
		e.t.Fatal(err)
	}
	return r, acts[0]
}

func (e *env) do(method, path, token, body string, hdr ...string) (int, []byte) {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + path
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *env) feedbackRows() int {
	var n int
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM action_feedback").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestAgentFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev, tok := e.device("sensor")
	code, body := e.do("POST", "/agent/v1/poll", tok, `{"firmware_version":"1.0","uptime_seconds":120}`)
	var pr PollResponse
	if err := json.Unmarshal(body, &pr); code != 200 || err != nil || pr.PollSeconds != 30 || pr.Action != nil {
		t.Fatalf("idle poll = %d %s", code, body)
	}
	rel, act := e.deploy(dev, "1.1", "new firmware")
	code, body = e.do("POST", "/agent/v1/poll", tok, `{"firmware_version":"1.0","hardware_version":"rev2","attributes":{"kernel":"6.1"}}`)
	pr = PollResponse{}
	if err := json.Unmarshal(body, &pr); code != 200 || err != nil || pr.Action == nil || pr.Action.ID != act.ID ||
		!pr.Action.InstallAllowed || pr.Action.Version != "1.1" || len(pr.Action.Artifacts) != 1 {
		t.Fatalf("poll with an action = %d %s", code, body)
	}
	art := pr.Action.Artifacts[0]
	if art.SHA256 != rel.Artifacts[0].SHA256 || !strings.HasSuffix(art.URL, "/agent/v1/releases/"+strconv.FormatInt(rel.ID, 10)+"/artifacts/fw.bin") {
		t.Fatalf("artifact = %+v", art)
	}
	code, body = e.do("GET", art.URL, tok, "", "Range", "bytes=4-11")
	if code != http.StatusPartialContent || string(body) != "firmware" {
		t.Fatalf("range download = %d %q", code, body)
	}
	attrs, _ := e.delivery.DeviceAttributes(context.Background(), dev)
	if attrs["kernel"] != "6.1" || attrs["hardware_version"] != "rev2" {
		t.Fatalf("attributes = %v", attrs)
	}
	if d, _ := e.devices.FindDeviceByID(context.Background(), dev); d.HardwareVersion != "rev2" {
		t.Fatalf("hardware version not recorded: %+v", d)
	}

	fbURL := "/agent/v1/actions/" + strconv.FormatInt(act.ID, 10) + "/feedback"
	for _, st := range []struct {
		name, body string
		code       int
		status     firmward.ActionStatus
	}{
		{"downloading", `{"execution":"download","progress":{"cnt":1,"of":3}}`, 200, firmward.ActionRunning},
		{"unknown field", `{"execution":"proceeding","extra":1}`, 400, firmward.ActionRunning},
		{"bad execution", `{"execution":"done"}`, 400, firmward.ActionRunning},
		{"bad progress", `{"execution":"proceeding","progress":{"cnt":4,"of":3}}`, 400, firmward.ActionRunning},
		{"not json", `execution=closed`, 400, firmward.ActionRunning},
		{"installed", `{"execution":"closed","finished":"success","details":["installed, health check passed"]}`, 200, firmward.ActionFinished},
		{"after close", `{"execution":"closed","finished":"failure"}`, 409, firmward.ActionFinished},
	} {
		t.Run(st.name, func(t *testing.T) {
			before := e.feedbackRows()
			code, body := e.do("POST", fbURL, tok, st.body)
			if code != st.code {
				t.Fatalf("%d, want %d: %s", code, st.code, body)
			}
			if code >= 400 && e.feedbackRows() != before {
				t.Fatal("a refused feedback was stored")
			}
			if a, _ := e.delivery.FindActionByID(context.Background(), act.ID); a.Status != st.status {
				t.Fatalf("action %s, want %s", a.Status, st.status)
			}
		})
	}
	// The agent reports the new version on its next poll.
	e.do("POST", "/agent/v1/poll", tok, `{"firmware_version":"1.1"}`)
	if d, _ := e.devices.FindDeviceByID(context.Background(), dev); d.FirmwareVersion != "1.1" {
		t.Fatalf("firmware version after install = %q", d.FirmwareVersion)
	}
}

func TestAgentIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	devA, tokA := e.device("a")
	devB, _ := e.device("b")
	_, _ = e.deploy(devA, "1.1", "A's image")
	relB, actB := e.deploy(devB, "1.2", "B's secret image")
	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"B's action feedback", "POST", "/agent/v1/actions/" + strconv.FormatInt(actB.ID, 10) + "/feedback", tokA, `{"execution":"closed","finished":"failure"}`, 404},
		{"B's artifact", "GET", "/agent/v1/releases/" + strconv.FormatInt(relB.ID, 10) + "/artifacts/fw.bin", tokA, "", 404},
		{"traversal", "GET", "/agent/v1/releases/" + strconv.FormatInt(relB.ID, 10) + "/artifacts/..%2F..%2Fetc%2Fpasswd", tokA, "", 400},
		{"no token", "POST", "/agent/v1/poll", "", "{}", 401},
		{"API token", "POST", "/agent/v1/poll", "fwt_notadevice", "{}", 401},
		{"wrong token", "POST", "/agent/v1/poll", "fwd_wrong", "{}", 401},
		{"oversized", "POST", "/agent/v1/poll", tokA, `{"attributes":{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.do(tc.method, tc.path, tc.token, tc.body)
			if code != tc.want || strings.Contains(string(body), "secret image") {
				t.Fatalf("%d, want %d: %s", code, tc.want, body)
			}
		})
	}
	if a, _ := e.delivery.FindActionByID(context.Background(), actB.ID); a.Status != firmward.ActionScheduled {
		t.Fatalf("B's action changed: %s", a.Status)
	}
	if e.feedbackRows() != 0 {
		t.Fatal("refused feedback stored")
	}
}

func TestAgentCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev, tok := e.device("a")
	_, act := e.deploy(dev, "2", "img")
	if code, body := e.do("POST", "/agent/v1/actions/"+strconv.FormatInt(act.ID, 10)+"/feedback", tok, `{"execution":"proceeding"}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if _, err := e.delivery.CancelAction(context.Background(), act.ID); err != nil {
		t.Fatal(err)
	}
	_, body := e.do("POST", "/agent/v1/poll", tok, "")
	var pr PollResponse
	if err := json.Unmarshal(body, &pr); err != nil || pr.Action == nil || !pr.Action.Cancel {
		t.Fatalf("poll while canceling: %s", body)
	}
	code, _ := e.do("POST", "/agent/v1/actions/"+strconv.FormatInt(act.ID, 10)+"/feedback", tok, `{"execution":"canceled"}`)
	if a, _ := e.delivery.FindActionByID(context.Background(), act.ID); code != 200 || a.Status != firmward.ActionCanceled {
		t.Fatalf("cancel confirmation: %d, %s", code, a.Status)
	}
}

func FuzzParseFeedback(f *testing.F) {
	for _, s := range []string{
		`{"execution":"proceeding","progress":{"cnt":1,"of":2}}`,
		`{"execution":"closed","finished":"success","code":0,"details":["ok"]}`,
		`{"execution":"closed","finished":"maybe"}`,
		`{"execution":"proceeding","extra":true}`,
		`{}`, `[]`, ``, `{"execution":"download"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fb, err := parseFeedback(body)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("code %q: %v", firmward.ErrorCode(err), err)
			}
			return
		}
		if err := fb.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}
