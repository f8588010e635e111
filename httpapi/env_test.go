package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/reportpdf"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
)

// env is one server on a fresh SQLite database, served on 127.0.0.1, with
// a token of each role.
type env struct {
	db      *sqlstore.DB
	devices firmward.DeviceService
	tokens  firmward.TokenService
	audit   firmward.AuditService
	vulns   firmward.VulnerabilityService
	finds   firmward.FindingService
	srv     *Server
	ts      *httptest.Server
	logs    *lockedBuffer

	mu       sync.Mutex
	notReady error // what Ready returns

	secret map[firmward.Role]string
}

// envOptions change newEnv.
type envOptions struct {
	maxBody int64
	maxFeed int64
	mount   map[string]http.Handler
}

func newEnv(t testing.TB, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatalf("opening the database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{
		db:      db,
		devices: sqlstore.NewDeviceService(db),
		tokens:  sqlstore.NewTokenService(db),
		audit:   sqlstore.NewAuditService(db),
		vulns:   sqlstore.NewVulnerabilityService(db),
		finds:   sqlstore.NewFindingService(db),
		logs:    &lockedBuffer{},
		secret:  map[firmward.Role]string{},
	}
	e.srv = NewServer(Config{
		Devices:       e.devices,
		Tokens:        e.tokens,
		Audit:         e.audit,
		Vulns:         e.vulns,
		Findings:      e.finds,
		MaxFeedBytes:  o.maxFeed,
		Logger:        slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry:      prometheus.NewRegistry(),
		Ready:         e.ready,
		MaxBodyBytes:  o.maxBody,
		Releases:      sqlstore.NewReleaseService(db),
		Delivery:      sqlstore.NewDeliveryService(db),
		Campaigns:     sqlstore.NewCampaignService(db),
		Tasks:         sqlstore.NewTaskService(db),
		RolloutPolicy: rollout.DefaultPolicy(),
		Artifacts:     e.artifacts(t),
		EnrollmentKey: testEnrollmentKey,
		EOL:           sqlstore.NewEOLService(db),
		Checks:        sqlstore.NewCheckService(db),
		Scans:         newTestRunner(t, db),
		Alerts:        sqlstore.NewAlertService(db),
		Notify:        newTestNotify(t, db),
		NotifyTester:  &testNotifyTester{},
		ReportPDF:     reportpdf.New(reportpdf.Config{Timeout: 45 * time.Second}).PDF,
	})
	for pattern, h := range o.mount {
		e.srv.Mount(pattern, h)
	}
	e.ts = httptest.NewServer(e.srv.Handler()) // listens on 127.0.0.1
	t.Cleanup(e.ts.Close)
	for _, role := range firmward.Roles {
		_, secret, err := e.tokens.CreateToken(ctx, "test-"+string(role), role)
		if err != nil {
			t.Fatalf("creating the %s token: %v", role, err)
		}
		e.secret[role] = secret
	}
	return e
}

func (e *env) ready(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.notReady
}

func (e *env) setNotReady(err error) {
	e.mu.Lock()
	e.notReady = err
	e.mu.Unlock()
}

// client returns an API client with the token of role ("" for none).
func (e *env) client(role firmward.Role) *Client {
	return NewClient(e.ts.URL, e.secret[role])
}

// response is a finished raw request.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes the error shape, failing the test when the body is not
// exactly that.
func (r response) apiError(t testing.TB) errorPayload {
	t.Helper()
	var body errorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("status %d: body is not the error shape: %v\n%s", r.status, err, r.body)
	}
	if body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("status %d: error without code or message: %s", r.status, r.body)
	}
	if got, want := r.status, errorStatus(body.Error.Code); got != want {
		t.Errorf("status %d with code %q, which maps to %d", got, body.Error.Code, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q", ct)
	}
	return body.Error
}

// do sends a raw request with the token of role ("" for none; use
// withSecret for another value).
func (e *env) do(t testing.TB, method, path string, role firmward.Role, body string, header ...string) response {
	t.Helper()
	return e.doSecret(t, method, path, e.secret[role], strings.NewReader(body), header...)
}

func (e *env) doSecret(t testing.TB, method, path, secret string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// state is what a refused request must leave as it was.
type state struct {
	devices   int64
	auditSeq  int64
	auditHash string
}

func (e *env) state(t testing.TB) state {
	t.Helper()
	ctx := context.Background()
	st, err := e.devices.DeviceStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{Newest: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := state{devices: st.Total}
	if len(events) > 0 {
		s.auditSeq, s.auditHash = events[0].Seq, events[0].Hash
	}
	return s
}

// mustCreate stores a device through the service.
func (e *env) mustCreate(t testing.TB, d firmward.Device) *firmward.Device {
	t.Helper()
	if err := e.devices.CreateDevice(context.Background(), &d); err != nil {
		t.Fatalf("creating %q: %v", d.Name, err)
	}
	return &d
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
