package ddi

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/sqlstore"
)

// env is a DDI server over a real SQLite database and artifact store.
type env struct {
	t        testing.TB
	db       *sqlstore.DB
	releases *sqlstore.ReleaseService
	delivery *sqlstore.DeliveryService
	devices  *sqlstore.DeviceService
	store    *artifact.Store
	srv      *httptest.Server
	now      time.Time
}

const gatewaySecret = "gw-secret-0123456789"

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvAt(t, "", sqlstore.Options{})
}

// newEnvAt is newEnv on the database dsn ("": a new SQLite file).
func newEnvAt(t testing.TB, dsn string, opts sqlstore.Options) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if dsn == "" {
		dsn = filepath.Join(dir, "firmward.db")
	}
	db, err := sqlstore.Open(ctx, dsn, opts)
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
		devices: sqlstore.NewDeviceService(db), store: store, now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC),
	}
	h, err := New(Config{
		Releases: e.releases, Delivery: e.delivery, Artifacts: store, GatewayToken: gatewaySecret,
		PollInterval: 90 * time.Second, Now: func() time.Time { return e.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// device registers a device and returns its id and token.
func (e *env) device(name, controller string) (int64, string) {
	e.t.Helper()
	d := &firmward.Device{Name: name, Manufacturer: "Acme", Model: "Cam"}
	if err := e.devices.CreateDevice(context.Background(), d); err != nil {
		e.t.Fatal(err)
	}
	_, secret, err := e.delivery.CreateDeviceToken(context.Background(), d.ID, controller)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.ID, secret
}

// release stores a release with one artifact holding content.
func (e *env) release(version, content string) *firmward.Release {
	e.t.Helper()
	sums, err := e.store.Put(context.Background(), strings.NewReader(content), "")
	if err != nil {
		e.t.Fatal(err)
	}
	r := &firmward.Release{Manufacturer: "Acme", Models: []string{"Cam"}, Version: version, Artifacts: []firmward.ReleaseArtifact{
		{Name: "image " + version + ".swu", SHA256: sums.SHA256, SHA1: sums.SHA1, MD5: sums.MD5, Size: sums.Size},
		{Name: "vendor-recovery.bin", URL: "https://vendor.example/recovery.bin"},
	}}
	if err := e.releases.CreateRelease(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) deploy(rel int64, dev int64, typ firmward.ActionType, w *firmward.MaintenanceWindow) *firmward.Action {
	e.t.Helper()
	acts, err := e.delivery.CreateActions(context.Background(), firmward.DeployRequest{ReleaseID: rel, DeviceIDs: []int64{dev}, Type: typ, Window: w})
	if err != nil {
		e.t.Fatal(err)
	}
	return acts[0]
}

// do sends a request with the Authorization header auth and returns the
// status and body.
func (e *env) do(method, path, auth, body string, hdr ...string) (int, []byte, http.Header) {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + path
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
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
	return resp.StatusCode, b, resp.Header
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

func dig(m any, path ...string) any {
	for _, p := range path {
		switch v := m.(type) {
		case map[string]any:
			m = v[p]
		case []any:
			i, _ := strconv.Atoi(p)
			if i >= len(v) {
				return nil
			}
			m = v[i]
		default:
			return nil
		}
	}
	return m
}

func (e *env) feedbackRows() int {
	var n int
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM action_feedback").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestPollDeployFeedback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev, tok := e.device("cam", "cam-1")
	auth := "TargetToken " + tok
	base := "/DEFAULT/controller/v1/cam-1"

	code, body, _ := e.do("GET", base, auth, "")
	m := decode(t, body)
	if code != 200 || dig(m, "config", "polling", "sleep") != "00:01:30" || dig(m, "_links", "deploymentBase") != nil {
		t.Fatalf("idle poll = %d %s", code, body)
	}
	if href, _ := dig(m, "_links", "configData", "href").(string); !strings.HasSuffix(href, base+"/configData") {
		t.Fatalf("configData link = %v", href)
	}

	rel := e.release("2.0", "firmware image bytes 0123456789")
	act := e.deploy(rel.ID, dev, firmward.ActionForced, nil)
	_, body, _ = e.do("GET", base, auth, "")
	href, _ := dig(decode(t, body), "_links", "deploymentBase", "href").(string)
	if !strings.Contains(href, base+"/deploymentBase/"+strconv.FormatInt(act.ID, 10)) {
		t.Fatalf("deploymentBase link = %q", href)
	}
	code, body, _ = e.do("GET", href, auth, "")
	m = decode(t, body)
	art := dig(m, "deployment", "chunks", "0", "artifacts", "0")
	if code != 200 || dig(m, "id") != strconv.FormatInt(act.ID, 10) || dig(m, "deployment", "update") != "forced" ||
		dig(art, "hashes", "sha256") != rel.Artifacts[0].SHA256 || dig(art, "hashes", "sha1") != rel.Artifacts[0].SHA1 ||
		dig(art, "hashes", "md5") != rel.Artifacts[0].MD5 || dig(art, "size") != float64(rel.Artifacts[0].Size) ||
		dig(m, "deployment", "chunks", "0", "version") != "2.0" {
		t.Fatalf("deploymentBase = %d %s", code, body)
	}
	if n := len(dig(m, "deployment", "chunks", "0", "artifacts").([]any)); n != 1 || strings.Contains(string(body), "vendor.example") {
		t.Fatalf("a vendor URL is offered to a DDI client (it would get the target token): %s", body)
	}
	dl, _ := dig(art, "_links", "download-http", "href").(string)
	if dl == "" || dig(art, "_links", "download", "href") != dl || !strings.Contains(dl, "image%202.0.swu") {
		t.Fatalf("download links = %v", dig(art, "_links"))
	}

	// Range download, HEAD, md5sum.
	code, body, hdr := e.do("GET", dl, auth, "", "Range", "bytes=9-13")
	if code != http.StatusPartialContent || string(body) != "image" || hdr.Get("Content-Range") != "bytes 9-13/31" {
		t.Fatalf("range = %d %q %v", code, body, hdr)
	}
	code, body, hdr = e.do("HEAD", dl, auth, "")
	if code != 200 || len(body) != 0 || hdr.Get("Content-Length") != "31" || hdr.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("HEAD = %d %v", code, hdr)
	}
	code, body, _ = e.do("GET", dl+".MD5SUM", auth, "")
	if code != 200 || !strings.HasPrefix(string(body), rel.Artifacts[0].MD5+"  image 2.0.swu") {
		t.Fatalf("md5sum = %d %q", code, body)
	}
	code, body, _ = e.do("GET", dl, auth, "")
	if code != 200 || string(body) != "firmware image bytes 0123456789" {
		t.Fatalf("download = %d %q", code, body)
	}

	fbURL := base + "/deploymentBase/" + strconv.FormatInt(act.ID, 10) + "/feedback"
	steps := []struct {
		name, body string
		code       int
		status     firmward.ActionStatus
	}{
		{"swupdate body: numeric id and time", `{"id": ` + strconv.FormatInt(act.ID, 10) + `, "time": "20261124T211859", "status": {"result": {"progress": {"cnt": 1, "of": 2}, "finished": "none"}, "execution": "proceeding", "details": ["Downloading"]}}`, 200, firmward.ActionRunning},
		{"rauc body: string id, unknown fields", `{"id": "` + strconv.FormatInt(act.ID, 10) + `", "extra": {"x": 1}, "status": {"execution": "proceeding", "result": {"finished": "none"}, "details": []}}`, 200, firmward.ActionRunning},
		{"no id, timestamp", `{"timestamp": 1700000000000, "status": {"execution": "download", "result": {"finished": "none"}}}`, 200, firmward.ActionRunning},
		{"malformed", `{"status": {"execution": `, 400, firmward.ActionRunning},
		{"id mismatch", `{"id": 99999, "status": {"execution": "closed", "result": {"finished": "success"}}}`, 400, firmward.ActionRunning},
		{"bad execution", `{"status": {"execution": "exploded", "result": {"finished": "success"}}}`, 400, firmward.ActionRunning},
		{"closed without result", `{"status": {"execution": "closed", "result": {"finished": "none"}}}`, 400, firmward.ActionRunning},
		{"trailing data", `{"status": {"execution": "closed", "result": {"finished": "success"}}} {}`, 400, firmward.ActionRunning},
		{"closed success", `{"id": "` + strconv.FormatInt(act.ID, 10) + `", "status": {"execution": "closed", "result": {"finished": "success"}, "code": 0, "details": ["Update Installed."]}}`, 200, firmward.ActionFinished},
		{"after close", `{"status": {"execution": "closed", "result": {"finished": "success"}}}`, 409, firmward.ActionFinished},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := e.feedbackRows()
			code, body, _ := e.do("POST", fbURL, auth, st.body, "Content-Type", "application/json")
			if code != st.code {
				t.Fatalf("status %d, want %d: %s", code, st.code, body)
			}
			if code >= 400 && e.feedbackRows() != before {
				t.Fatal("a refused feedback was stored")
			}
			a, _ := e.delivery.FindActionByID(context.Background(), act.ID)
			if a.Status != st.status {
				t.Fatalf("action %s, want %s", a.Status, st.status)
			}
		})
	}
	a, _ := e.delivery.FindActionByID(context.Background(), act.ID)
	if a.Result != firmward.ResultSuccess || a.ProgressOf != 2 {
		t.Fatalf("action = %+v", a)
	}
	_, body, _ = e.do("GET", base, auth, "")
	if dig(decode(t, body), "_links", "deploymentBase") != nil {
		t.Fatalf("finished action still offered: %s", body)
	}
	code, body, _ = e.do("GET", base+"/installedBase/"+strconv.FormatInt(act.ID, 10), auth, "")
	if code != 200 || dig(decode(t, body), "deployment", "chunks", "0", "version") != "2.0" {
		t.Fatalf("installedBase = %d %s", code, body)
	}
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	devA, tokA := e.device("a", "dev-a")
	devB, tokB := e.device("b", "dev-b")
	relA := e.release("1.0", "for A")
	relB := e.release("1.1", "secret image for B")
	actA := e.deploy(relA.ID, devA, firmward.ActionForced, nil)
	actB := e.deploy(relB.ID, devB, firmward.ActionForced, nil)
	authA := "TargetToken " + tokA
	baseA := "/default/controller/v1/dev-a"
	idB := strconv.FormatInt(actB.ID, 10)
	artB := "/softwaremodules/" + strconv.FormatInt(relB.ID, 10) + "/artifacts/" + url.PathEscape(relB.Artifacts[0].Name)

	tests := []struct {
		name, method, path, auth, body string
		want                           int
	}{
		{"own poll works", "GET", baseA, authA, "", 200},
		{"B's action through A's path", "GET", baseA + "/deploymentBase/" + idB, authA, "", 404},
		{"B's action feedback through A's path", "POST", baseA + "/deploymentBase/" + idB + "/feedback", authA, `{"status":{"execution":"closed","result":{"finished":"failure"}}}`, 404},
		{"B's cancel feedback through A's path", "POST", baseA + "/cancelAction/" + idB + "/feedback", authA, `{"status":{"execution":"closed","result":{"finished":"success"}}}`, 404},
		{"B's installedBase", "GET", baseA + "/installedBase/" + idB, authA, "", 404},
		{"B's artifact through A's path", "GET", baseA + artB, authA, "", 404},
		{"B's artifact HEAD", "HEAD", baseA + artB, authA, "", 404},
		{"A's token on B's path", "GET", "/default/controller/v1/dev-b/deploymentBase/" + idB, authA, "", 403},
		{"A's token on B's artifact path", "GET", "/default/controller/v1/dev-b" + artB, authA, "", 403},
		{"no token", "GET", baseA, "", "", 401},
		{"bearer scheme", "GET", baseA, "Bearer " + tokA, "", 401},
		{"wrong token", "GET", baseA, "TargetToken " + tokA + "x", "", 401},
		{"other tenant", "GET", "/acme/controller/v1/dev-a", authA, "", 404},
		{"bad action id", "GET", baseA + "/deploymentBase/abc", authA, "", 400},
		{"traversal in artifact name", "GET", baseA + "/softwaremodules/" + strconv.FormatInt(relA.ID, 10) + "/artifacts/..%2F..%2Fetc%2Fpasswd", authA, "", 400},
		{"unknown artifact name", "GET", baseA + "/softwaremodules/" + strconv.FormatInt(relA.ID, 10) + "/artifacts/other.bin", authA, "", 404},
		{"gateway token for A", "GET", baseA, "GatewayToken " + gatewaySecret, "", 200},
		{"wrong gateway token", "GET", baseA, "GatewayToken nope", "", 401},
		{"gateway token, unknown controller", "GET", "/default/controller/v1/ghost", "GatewayToken " + gatewaySecret, "", 404},
		{"unknown route", "GET", baseA + "/nothing", authA, "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.feedbackRows()
			code, body, _ := e.do(tc.method, tc.path, tc.auth, tc.body)
			if code != tc.want {
				t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path, code, tc.want, body)
			}
			if strings.Contains(string(body), "secret image") || (code >= 400 && strings.Contains(string(body), relB.Artifacts[0].SHA256)) {
				t.Fatalf("response leaks B's data: %s", body)
			}
			if e.feedbackRows() != before {
				t.Fatal("a refused request stored feedback")
			}
		})
	}
	for _, id := range []int64{actA.ID, actB.ID} {
		if a, _ := e.delivery.FindActionByID(context.Background(), id); a.Status != firmward.ActionScheduled {
			t.Fatalf("action %d changed to %s", id, a.Status)
		}
	}
	// B itself gets its artifact.
	code, body, _ := e.do("GET", "/default/controller/v1/dev-b"+artB, "TargetToken "+tokB, "")
	if code != 200 || string(body) != "secret image for B" {
		t.Fatalf("B's own download = %d %q", code, body)
	}
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev, tok := e.device("a", "a")
	act := e.deploy(e.release("1", "x").ID, dev, firmward.ActionForced, nil)
	big := `{"status":{"execution":"proceeding","result":{"finished":"none"},"details":["` + strings.Repeat("x", MaxBodyBytes) + `"]}}`
	code, _, _ := e.do("POST", "/default/controller/v1/a/deploymentBase/"+strconv.FormatInt(act.ID, 10)+"/feedback", "TargetToken "+tok, big)
	if code != http.StatusRequestEntityTooLarge || e.feedbackRows() != 0 {
		t.Fatalf("oversized feedback = %d, %d rows", code, e.feedbackRows())
	}
	code, _, _ = e.do("PUT", "/default/controller/v1/a/configData", "TargetToken "+tok, `{"data":{"a":"`+strings.Repeat("y", MaxBodyBytes)+`"}}`)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized configData = %d", code)
	}
}

func TestCancelAndWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev, tok := e.device("a", "a")
	auth := "TargetToken " + tok
	base := "/default/controller/v1/a"
	rel := e.release("1", "x")
	win := &firmward.MaintenanceWindow{Start: e.now.Add(time.Hour), End: e.now.Add(2 * time.Hour)}
	act := e.deploy(rel.ID, dev, firmward.ActionAttempt, win)
	id := strconv.FormatInt(act.ID, 10)
	_, body, _ := e.do("GET", base+"/deploymentBase/"+id, auth, "")
	m := decode(t, body)
	if dig(m, "deployment", "maintenanceWindow") != "unavailable" || dig(m, "deployment", "update") != "skip" || dig(m, "deployment", "download") != "attempt" {
		t.Fatalf("outside the window: %s", body)
	}
	e.now = e.now.Add(90 * time.Minute)
	_, body, _ = e.do("GET", base+"/deploymentBase/"+id, auth, "")
	m = decode(t, body)
	if dig(m, "deployment", "maintenanceWindow") != "available" || dig(m, "deployment", "update") != "attempt" {
		t.Fatalf("inside the window: %s", body)
	}
	if code, _, _ := e.do("POST", base+"/deploymentBase/"+id+"/feedback", auth, `{"status":{"execution":"proceeding","result":{"finished":"none"}}}`); code != 200 {
		t.Fatal(code)
	}
	if code, _, _ := e.do("GET", base+"/cancelAction/"+id, auth, ""); code != 404 {
		t.Fatalf("cancelAction before cancel = %d", code)
	}
	if _, err := e.delivery.CancelAction(context.Background(), act.ID); err != nil {
		t.Fatal(err)
	}
	_, body, _ = e.do("GET", base, auth, "")
	href, _ := dig(decode(t, body), "_links", "cancelAction", "href").(string)
	if !strings.HasSuffix(href, "/cancelAction/"+id) {
		t.Fatalf("poll while canceling: %s", body)
	}
	code, body, _ := e.do("GET", href, auth, "")
	if code != 200 || dig(decode(t, body), "cancelAction", "stopId") != id {
		t.Fatalf("cancelAction = %d %s", code, body)
	}
	code, _, _ = e.do("POST", base+"/cancelAction/"+id+"/feedback", auth, `{"id":`+id+`,"time":"20261124T211859","status":{"execution":"closed","result":{"finished":"success"}}}`)
	if a, _ := e.delivery.FindActionByID(context.Background(), act.ID); code != 200 || a.Status != firmward.ActionCanceled {
		t.Fatalf("cancel feedback = %d, action %s", code, a.Status)
	}
}

func TestConfigData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev, tok := e.device("a", "a")
	auth := "TargetToken " + tok
	u := "/default/controller/v1/a/configData"
	steps := []struct {
		name, body string
		code       int
		want       map[string]string
	}{
		{"no mode merges", `{"id":"","time":"20261124T211859","status":{"execution":"closed","result":{"finished":"success"}},"data":{"hw":"rev1","fw":"1.0"}}`, 200, map[string]string{"hw": "rev1", "fw": "1.0"}},
		{"merge", `{"mode":"merge","data":{"fw":"1.1"}}`, 200, map[string]string{"hw": "rev1", "fw": "1.1"}},
		{"remove", `{"mode":"remove","data":{"hw":""}}`, 200, map[string]string{"fw": "1.1"}},
		{"replace", `{"mode":"replace","data":{"serial":"S"}}`, 200, map[string]string{"serial": "S"}},
		{"bad mode", `{"mode":"append","data":{"x":"y"}}`, 400, map[string]string{"serial": "S"}},
		{"no data", `{"mode":"merge"}`, 400, map[string]string{"serial": "S"}},
		{"number value", `{"data":{"x":1}}`, 400, map[string]string{"serial": "S"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			code, body, _ := e.do("PUT", u, auth, st.body)
			if code != st.code {
				t.Fatalf("%d, want %d: %s", code, st.code, body)
			}
			got, _ := e.delivery.DeviceAttributes(context.Background(), dev)
			if len(got) != len(st.want) {
				t.Fatalf("attributes %v, want %v", got, st.want)
			}
			for k, v := range st.want {
				if got[k] != v {
					t.Fatalf("attributes %v, want %v", got, st.want)
				}
			}
		})
	}
	_, body, _ := e.do("GET", "/default/controller/v1/a", auth, "")
	if dig(decode(t, body), "_links", "configData") != nil {
		t.Fatalf("configData still asked for: %s", body)
	}
	code, body, _ := e.do("GET", "/default/controller/v1/a/confirmationBase", auth, "")
	if code != 200 || dig(decode(t, body), "autoConfirm", "active") != true {
		t.Fatalf("confirmationBase = %d %s", code, body)
	}
}

func TestParseDetailsTruncates(t *testing.T) {
	t.Parallel()
	long := make([]string, firmward.MaxFeedbackDetails+10)
	for i := range long {
		long[i] = "line"
	}
	raw, _ := json.Marshal(long)
	got, err := parseDetails(raw)
	if err != nil || len(got) != firmward.MaxFeedbackDetails || got[len(got)-1] != truncatedNote {
		t.Fatalf("many lines: %d, %v", len(got), err)
	}
	raw, _ = json.Marshal([]string{"start", strings.Repeat("z", firmward.MaxFeedbackDetailsLen)})
	got, _ = parseDetails(raw)
	if len(got) != 2 || got[1] != truncatedNote {
		t.Fatalf("long line: %v", len(got))
	}
	got, _ = parseDetails([]byte(`"one string"`))
	if len(got) != 1 || got[0] != "one string" {
		t.Fatalf("string details: %v", got)
	}
	fb := &firmward.ActionFeedback{Execution: "proceeding", Finished: "none", Details: got}
	if err := fb.Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseFeedback(f *testing.F) {
	for _, s := range []string{
		`{"id": 7, "time": "20261124T211859", "status": {"result": {"progress": {"cnt": 1, "of": 2}, "finished": "none"}, "execution": "proceeding", "details": ["Installing"]}}`,
		`{"id": "7", "status": {"execution": "closed", "result": {"finished": "success"}, "code": 200}}`,
		`{"status": {"execution": "closed", "result": {"finished": "failure"}, "details": "one line"}}`,
		`{"id": null, "status": null}`,
		`{"id": -1}`,
		`{"id": "7x", "status": {}}`,
		`[]`,
		``,
		`{"status": {"execution": "CLOSED", "result": {"finished": "SUCCESS", "progress": {"cnt": -1, "of": 0}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fb, err := parseFeedback(body, 7)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("error code %q for %q: %v", firmward.ErrorCode(err), body, err)
			}
			return
		}
		if err := fb.Validate(); err != nil {
			t.Fatalf("parsed feedback does not validate: %v", err)
		}
		if _, err := json.Marshal(fb); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseConfigData(f *testing.F) {
	f.Add([]byte(`{"mode":"merge","data":{"a":"b"}}`))
	f.Add([]byte(`{"data":{}}`))
	f.Add([]byte(`{"data":{"a":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := parseConfigData(body)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("error code %q: %v", firmward.ErrorCode(err), err)
			}
			return
		}
		if c.Data == nil {
			t.Fatal("nil data accepted")
		}
	})
}

// TestPollSleep checks the HH:MM:SS format.
func TestPollSleep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{time.Second, "00:00:01"}, {90 * time.Second, "00:01:30"}, {25 * time.Hour, "25:00:00"}, {1500 * time.Millisecond, "00:00:02"}} {
		if got := pollSleep(tc.d); got != tc.want {
			t.Errorf("pollSleep(%s) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

// BenchmarkBasePoll measures the DDI base poll with nothing pending (the
// common case of a fleet at rest) over loopback HTTP, beside a bare
// net/http handler answering a fixed JSON body in the same run:
//
//   - ddi: one known device, polled again and again (its time of contact
//     moves once a minute, so nothing is written);
//
//   - ddi-10k: FIRMWARD_BENCH_POLL_DEVICES (10,000) distinct devices round
//     robin, the database's clock a minute further on each round, so that
//     every poll records a contact, as in a large fleet polling once a
//     minute or less often;
//
//   - postgres/…: the same two on PostgreSQL (FIRMWARD_TEST_POSTGRES or
//     the local test database, in a new schema), skipped when it is not
//     reachable.
//
//     go test ./ddi -run '^$' -bench BasePoll -benchtime 3s -count 3
func BenchmarkBasePoll(b *testing.B) {
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"config": map[string]any{"polling": map[string]string{"sleep": "00:05:00"}}})
	}))
	b.Cleanup(bare.Close)
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("FIRMWARD_BENCH_POLL_DEVICES")); err == nil && v > 0 {
		n = v
	}
	fleet := newPollFleet(b, "", n)
	fleet.run(b, "ddi", "bare", bare.URL)
	b.Run("postgres", func(b *testing.B) {
		if dsn := benchPostgres(b); dsn != "" {
			newPollFleet(b, dsn, n).run(b, "ddi", "", "")
		}
	})
}

// pollFleet is a DDI server with one device polled alone and n polled in
// turn.
type pollFleet struct {
	e       *env
	one     string   // the token of the lone device
	tokens  []string // the tokens of the fleet, controller ids "fleet-0" …
	polls   atomic.Int64
	devices int64
}

func newPollFleet(b *testing.B, dsn string, n int) *pollFleet {
	f := &pollFleet{devices: int64(n)}
	// Each round over the fleet is a minute later for the database, so
	// that every poll of ddi-10k records a contact.
	f.e = newEnvAt(b, dsn, sqlstore.Options{Now: func() time.Time {
		return time.Now().Add(time.Duration(f.polls.Load()/f.devices) * time.Minute)
	}})
	ctx := context.Background()
	dev, tok := f.e.device("bench", "bench-1")
	f.one = tok
	if err := f.e.delivery.SetDeviceAttributes(ctx, dev, "merge", map[string]string{"hw": "1"}); err != nil {
		b.Fatal(err)
	}
	rows := make([]firmward.ImportRow, n)
	for i := range rows {
		rows[i] = firmward.ImportRow{Line: i + 2, Device: firmward.Device{Name: fmt.Sprintf("fleet %d", i), Manufacturer: "Acme", Model: "Cam"}}
	}
	res, err := f.e.devices.ImportDevices(ctx, rows, firmward.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i, id := range res.IDs {
		_, secret, err := f.e.delivery.CreateDeviceToken(ctx, id, fmt.Sprintf("fleet-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		if err := f.e.delivery.SetDeviceAttributes(ctx, id, "merge", map[string]string{"hw": "1"}); err != nil {
			b.Fatal(err)
		}
		f.tokens = append(f.tokens, secret)
	}
	return f
}

// run runs the sub-benchmarks name (the lone device), name-10k (the
// fleet) and, when bareURL is set, bareName.
func (f *pollFleet) run(b *testing.B, name, bareName, bareURL string) {
	base := f.e.srv.URL + "/default/controller/v1/"
	bench := func(b *testing.B, next func() (url, token string)) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.Cleanup(client.CloseIdleConnections)
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				url, tok := next()
				req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
				req.Header.Set("Authorization", "TargetToken "+tok)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "polls/s")
	}
	b.Run(name, func(b *testing.B) {
		bench(b, func() (string, string) { return base + "bench-1", f.one })
	})
	b.Run(name+"-10k", func(b *testing.B) {
		bench(b, func() (string, string) {
			i := (f.polls.Add(1) - 1) % f.devices
			return base + "fleet-" + strconv.FormatInt(i, 10), f.tokens[i]
		})
	})
	if bareURL != "" {
		b.Run(bareName, func(b *testing.B) {
			bench(b, func() (string, string) { return bareURL + "/", f.one })
		})
	}
}

// benchPostgres returns the DSN of a new PostgreSQL schema, dropped when
// the benchmark ends, or "" when PostgreSQL is not reachable (a failure
// with CI=true).
func benchPostgres(b *testing.B) string {
	dsn := os.Getenv("FIRMWARD_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	admin, err := sql.Open("pgx", dsn+sep+"connect_timeout=5")
	if err == nil {
		err = admin.PingContext(context.Background())
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("PostgreSQL is not reachable at %s: %v", dsn, err)
		}
		b.Logf("PostgreSQL is not reachable at %s (%v): skipping the PostgreSQL poll", dsn, err)
		return ""
	}
	schema := fmt.Sprintf("fwbench_ddi_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			b.Errorf("dropping schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	return dsn + sep + "search_path=" + schema
}

// TestBasePollBody checks the hand-built base poll answer against the
// same document encoded by encoding/json, for every combination of
// action state and attributes, including hosts that need escaping.
func TestBasePollBody(t *testing.T) {
	h := &Handler{cfg: Config{PollInterval: 90 * time.Second}}
	h.idleBody = []byte(`{"config":{"polling":{"sleep":"00:01:30"}}}` + "\n")
	upd := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		next  *firmward.Action
		attrs bool
		base  string
	}{
		{"idle", nil, true, "http://h/default/controller/v1/c"},
		{"no attributes", nil, false, "http://h/default/controller/v1/c"},
		{"scheduled", &firmward.Action{ID: 7, Status: firmward.ActionScheduled, UpdatedAt: upd}, true, "http://h/default/controller/v1/c"},
		{"running, no attributes", &firmward.Action{ID: 8, Status: firmward.ActionRunning, UpdatedAt: upd}, false, "http://h/default/controller/v1/c"},
		{"canceling", &firmward.Action{ID: 9, Status: firmward.ActionCanceling, UpdatedAt: upd}, true, "http://h/default/controller/v1/c"},
		{"canceling, no attributes", &firmward.Action{ID: 9, Status: firmward.ActionCanceling, UpdatedAt: upd}, false, `http://h<&>"\/default/controller/v1/c`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			links := map[string]link{}
			if a := tc.next; a != nil {
				if a.Status == firmward.ActionCanceling {
					links["cancelAction"] = link{tc.base + "/cancelAction/" + strconv.FormatInt(a.ID, 10)}
				} else {
					links["deploymentBase"] = link{tc.base + "/deploymentBase/" + strconv.FormatInt(a.ID, 10) + "?c=" + strconv.FormatInt(a.UpdatedAt.UnixMicro(), 36)}
				}
			}
			if !tc.attrs {
				links["configData"] = link{tc.base + "/configData"}
			}
			doc := map[string]any{"config": map[string]any{"polling": map[string]string{"sleep": "00:01:30"}}}
			if len(links) > 0 {
				doc["_links"] = links
			}
			want, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.handleBase(rec, httptest.NewRequest(http.MethodGet, "/", nil), &device{base: tc.base, poll: &firmward.DevicePoll{Next: tc.next, HasAttributes: tc.attrs}})
			if got := rec.Body.String(); got != string(want)+"\n" {
				t.Errorf("body\n got %s\nwant %s", got, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// BenchmarkArtifactDownload measures artifact downloads by a device over
// loopback HTTP (4 parallel clients, a 32 MiB file each time) beside
// net/http's http.ServeFile of the same file in the same run. With
// FIRMWARD_BENCH_NGINX_DIR and FIRMWARD_BENCH_NGINX_URL set it writes the
// file as firmware.bin into that directory and also downloads it from
// nginx at that URL (see docs/BENCHMARKS.md for the nginx config); the
// benchmark never needs nginx otherwise.
func BenchmarkArtifactDownload(b *testing.B) {
	const size = 32 << 20
	e := newEnv(b)
	content := make([]byte, size)
	for i := range content { // deterministic, not compressible by accident
		content[i] = byte(i*7919 + i>>13)
	}
	rel := e.release("9.9", string(content))
	dev, tok := e.device("bench", "bench-1")
	e.deploy(rel.ID, dev, firmward.ActionForced, nil)
	path, err := e.store.Path(rel.Artifacts[0].SHA256)
	if err != nil {
		b.Fatal(err)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }))
	b.Cleanup(bare.Close)
	cases := []struct{ name, url string }{
		{"ddi", e.srv.URL + "/default/controller/v1/bench-1/softwaremodules/" + strconv.FormatInt(rel.ID, 10) + "/artifacts/" + url.PathEscape(rel.Artifacts[0].Name)},
		{"servefile", bare.URL + "/"},
	}
	if dir, u := os.Getenv("FIRMWARD_BENCH_NGINX_DIR"), os.Getenv("FIRMWARD_BENCH_NGINX_URL"); dir != "" && u != "" {
		if err := os.WriteFile(filepath.Join(dir, "firmware.bin"), content, 0o644); err != nil { //nolint:gosec // a benchmark file nginx must read
			b.Fatal(err)
		}
		cases = append(cases, struct{ name, url string }{"nginx", strings.TrimSuffix(u, "/") + "/firmware.bin"})
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}
			b.SetBytes(size)
			b.SetParallelism(2) // 2 × GOMAXPROCS clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequestWithContext(context.Background(), "GET", tc.url, nil)
					req.Header.Set("Authorization", "TargetToken "+tok)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != 200 || n != size {
						b.Errorf("status %d, %d bytes", resp.StatusCode, n)
						return
					}
				}
			})
		})
	}
}

// TestPollSeesChangesAtOnce pins the freshness bound of the base poll:
// nothing about a device is cached between polls, so a replaced
// (revoked) token is refused on the very next poll and a new action shows
// in the very next poll.
func TestPollSeesChangesAtOnce(t *testing.T) {
	e := newEnv(t)
	dev, old := e.device("cam", "cam-1")
	const path = "/default/controller/v1/cam-1"
	if st, body, _ := e.do("GET", path, "TargetToken "+old, ""); st != http.StatusOK || strings.Contains(string(body), "deploymentBase") {
		t.Fatalf("idle poll: %d %s", st, body)
	}
	a := e.deploy(e.release("1.0", "image").ID, dev, firmward.ActionForced, nil)
	if st, body, _ := e.do("GET", path, "TargetToken "+old, ""); st != http.StatusOK || !strings.Contains(string(body), "/deploymentBase/"+strconv.FormatInt(a.ID, 10)) {
		t.Fatalf("poll after deploying: %d %s", st, body)
	}
	_, fresh, err := e.delivery.CreateDeviceToken(context.Background(), dev, "cam-1")
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := e.do("GET", path, "TargetToken "+old, ""); st != http.StatusUnauthorized {
		t.Fatalf("poll with the replaced token: %d %s", st, body)
	}
	if st, body, _ := e.do("GET", path, "TargetToken "+fresh, ""); st != http.StatusOK {
		t.Fatalf("poll with the new token: %d %s", st, body)
	}
}
