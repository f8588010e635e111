// Package httpapi is firmward's REST management API: the routes under
// /api/v1 (devices, import and export, statistics, tokens, audit trail, the
// OpenAPI document), /healthz and /metrics, and the Client that the CLI uses
// to talk to a server.
//
// Every route is described once, in the table behind Server.Routes; that
// table drives registration, the minimum role each route needs, the OpenAPI
// document and the tests. Errors always have the shape
//
//	{"error":{"code":"invalid","message":"…","details":[{"line":4,"field":"mac","reason":"…"}]}}
//
// with the HTTP status that errorStatus gives the code. A request answered
// with a 4xx status changes nothing.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/assess"
	"github.com/firmward/firmward/ingest"
	"github.com/firmward/firmward/lifecycle"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/vuln"
	"github.com/prometheus/client_golang/prometheus"
)

// Body limits.
const (
	// MaxJSONBodyBytes bounds every JSON request body.
	MaxJSONBodyBytes = 1 << 20
	// DefaultMaxImportBytes bounds an import upload when Config.MaxBodyBytes
	// is zero.
	DefaultMaxImportBytes = 64 << 20
)

// readyTimeout bounds one readiness check of /healthz.
const readyTimeout = 5 * time.Second

// Config is what a Server needs. Devices, Tokens and Audit are required;
// the rest have defaults.
type Config struct {
	Devices firmward.DeviceService
	Tokens  firmward.TokenService
	Audit   firmward.AuditService
	Vulns   firmward.VulnerabilityService
	// Findings stores the findings of assessment (POST
	// /api/v1/findings/assess runs it over Devices and Vulns).
	Findings firmward.FindingService
	// Engine re-matches devices and CVEs for POST /api/v1/findings/assess;
	// nil uses a new Engine over Devices, Vulns and Findings with the
	// default policy. A server passes the Engine whose worker it runs, so
	// that the index is loaded once.
	Engine *assess.Engine
	// Catalog returns the products of the imported data, from which
	// /api/v1/devices/{id}/cpe proposes CPE names; it is called on every
	// such request, so it should cache. Nil proposes from the vendor alias
	// table only.
	Catalog func(context.Context) (*vuln.Catalog, error)

	// Logger receives one line per request and the details of internal
	// errors; nil discards.
	Logger *slog.Logger
	// Registry receives the HTTP metrics (and the Go and process collectors
	// unless already there) and is what /metrics serves; nil uses a new
	// registry of the server's own.
	Registry *prometheus.Registry
	// Ready reports whether the server can serve (database reachable, …);
	// /healthz answers 503 while it returns an error. Nil means always ready.
	Ready func(context.Context) error
	// MaxBodyBytes bounds import uploads; zero means DefaultMaxImportBytes.
	MaxBodyBytes int64
	// MaxFeedBytes bounds feed uploads; zero means DefaultMaxFeedBytes.
	MaxFeedBytes int64
	// NAC enables the network access control routes; nil answers them 404.
	NAC *NACConfig

	// Releases, Delivery and Artifacts serve the release catalog, device
	// actions and device tokens (/api/v1/releases, /actions, /artifacts);
	// without them those routes answer 500.
	Releases  firmward.ReleaseService
	Delivery  firmward.DeliveryService
	Artifacts *artifact.Store
	// Campaigns and Tasks serve /api/v1/campaigns and /api/v1/tasks (with
	// Releases); RolloutPolicy is the soak and approval policy their
	// status and creation apply. Without them those routes answer 500.
	Campaigns     firmward.CampaignService
	Tasks         firmward.TaskService
	RolloutPolicy rollout.Policy
	// EnrollmentKey, when set, lets devices enroll themselves (POST
	// /api/v1/enroll with "Authorization: EnrollmentKey KEY").
	EnrollmentKey string

	// Scans runs scans (its scanner is injected by the wiring, since the
	// scanner is an adapter), imports CLI scan reports and keeps runs,
	// observations, conflicts and schedules (/api/v1/scans, /conflicts,
	// /sites/{site}/scan-schedule); Alerts serves /api/v1/alerts. Without
	// them those routes answer 500.
	Scans  *ingest.Runner
	Alerts firmward.AlertService

	// Notify keeps notification channels, recipients and deliveries
	// (/api/v1/notify/…; 404 without it); NotifyTester sends
	// POST /api/v1/notify/test.
	Notify       firmward.NotifyService
	NotifyTester firmward.NotifyTester

	// EOL and Checks serve the lifecycle routes (/api/v1/eol,
	// /open-firmware, /lifecycle/orphans, /checks, /vendors and the
	// device's lifecycle, operational value and checks); without them
	// those routes answer 404. FirmwareDates (optional) tells firmware
	// release dates; Lifecycle tunes the orphan rule; Now is the clock
	// (nil: time.Now).
	EOL           firmward.EOLService
	Checks        firmward.CheckService
	FirmwareDates lifecycle.FirmwareDates
	Lifecycle     lifecycle.Policy
	Now           func() time.Time

	// ReportPDF prints a compliance report's HTML page to PDF (the wiring
	// passes reportpdf's Chromium renderer when Chromium is installed);
	// nil answers format=pdf with 400.
	ReportPDF func(ctx context.Context, html io.Reader, w io.Writer) error
}

// Route is one route of the API: Pattern is a net/http ServeMux path
// pattern, Role the weakest role allowed to call it ("" for public routes).
type Route struct {
	Method  string
	Pattern string
	Role    firmward.Role
	Summary string
}

// Server is the HTTP side of firmward: it routes, authenticates, limits,
// logs and measures every request, including those of handlers added with
// Mount.
type Server struct {
	devices   firmward.DeviceService
	tokens    firmward.TokenService
	audit     firmward.AuditService
	vulns     firmward.VulnerabilityService
	findings  firmward.FindingService
	catalog   func(context.Context) (*vuln.Catalog, error)
	engine    *assess.Engine
	logger    *slog.Logger
	registry  *prometheus.Registry
	ready     func(context.Context) error
	maxImport int64
	maxFeed   int64

	releases  firmward.ReleaseService
	delivery  firmward.DeliveryService
	artifacts *artifact.Store
	enrollKey string

	campaigns     firmward.CampaignService
	tasks         firmward.TaskService
	rolloutPolicy rollout.Policy

	scans  *ingest.Runner
	alerts firmward.AlertService

	notify       firmward.NotifyService
	notifyTester firmward.NotifyTester

	eol             firmward.EOLService
	checks          firmward.CheckService
	firmwareDates   lifecycle.FirmwareDates
	lifecyclePolicy lifecycle.Policy
	now             func() time.Time

	routes  []route
	mux     *recordingMux  // every route, the API fallback and mounted handlers
	probe   *http.ServeMux // API routes only; tells a 405 from a 404
	metrics *httpMetrics
	// metricsHandler serves /metrics from registry.
	metricsHandler http.Handler
	openapi        []byte // rendered once: the document depends only on the route table

	nac *NACConfig // nil: NAC routes answer 404

	reportPDF func(ctx context.Context, html io.Reader, w io.Writer) error // nil: no PDF reports

	// mounts lists the patterns given to Mount.
	mounts []string

	handler http.Handler
}

// NewServer returns a server with every route of Routes registered. It
// panics when cfg lacks one of its services, which is a wiring mistake.
func NewServer(cfg Config) *Server {
	if cfg.Devices == nil || cfg.Tokens == nil || cfg.Audit == nil || cfg.Vulns == nil || cfg.Findings == nil {
		panic("httpapi.NewServer: Config needs Devices, Tokens, Audit, Vulns and Findings")
	}
	s := &Server{
		devices:      cfg.Devices,
		tokens:       cfg.Tokens,
		audit:        cfg.Audit,
		vulns:        cfg.Vulns,
		findings:     cfg.Findings,
		catalog:      cfg.Catalog,
		nac:          cfg.NAC,
		engine:       cfg.Engine,
		maxFeed:      cfg.MaxFeedBytes,
		logger:       cfg.Logger,
		registry:     cfg.Registry,
		ready:        cfg.Ready,
		maxImport:    cfg.MaxBodyBytes,
		releases:     cfg.Releases,
		delivery:     cfg.Delivery,
		artifacts:    cfg.Artifacts,
		enrollKey:    cfg.EnrollmentKey,
		scans:        cfg.Scans,
		alerts:       cfg.Alerts,
		notify:       cfg.Notify,
		notifyTester: cfg.NotifyTester,
		mux:          &recordingMux{ServeMux: http.NewServeMux()},

		eol:             cfg.EOL,
		checks:          cfg.Checks,
		firmwareDates:   cfg.FirmwareDates,
		lifecyclePolicy: cfg.Lifecycle,
		now:             cfg.Now,
		probe:           http.NewServeMux(),

		campaigns:     cfg.Campaigns,
		tasks:         cfg.Tasks,
		rolloutPolicy: cfg.RolloutPolicy,
		reportPDF:     cfg.ReportPDF,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.engine == nil {
		s.engine = assess.NewEngine(assess.Sources{Vulns: s.vulns, Devices: s.devices, Findings: s.findings},
			assess.RunOptions{Policy: risk.DefaultPolicy()}, s.logger)
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.maxImport <= 0 {
		s.maxImport = DefaultMaxImportBytes
	}
	if s.maxFeed <= 0 {
		s.maxFeed = DefaultMaxFeedBytes
	}
	s.metrics = newHTTPMetrics(s.registry)
	s.metricsHandler = s.newMetricsHandler()

	s.routes = s.routeTable()
	for _, rt := range s.routes {
		pattern := rt.Method + " " + rt.Pattern
		s.handle(pattern, s.authorize(rt.Role, rt.handler))
		if strings.HasPrefix(rt.Pattern, apiPrefix) {
			s.probe.Handle(pattern, http.NotFoundHandler())
		}
	}
	// Everything else under /api/v1/ is a JSON 404 or 405, never the web UI.
	s.handle(apiPrefix+"/", http.HandlerFunc(s.apiFallback))
	s.openapi = s.renderOpenAPI()

	s.handler = s.instrument(securityHeaders(s.mux))
	return s
}

// Mount adds h to the server under a ServeMux pattern; the web UI is mounted
// at "/". Mounted handlers are logged and measured like the API (their
// route label is pattern) and get the same security headers, but no
// authentication: h does its own. Use a pattern without a method: "GET /"
// would conflict with the API's own fallback under /api/v1/. Call Mount
// before serving.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mounts = append(s.mounts, pattern)
	s.handle(pattern, h)
}

// Handler returns the handler to serve.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns every route the server registers, in table order.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.Route
	}
	return out
}

// handle registers h on the main mux behind a wrapper that records the
// matched pattern for logs and metrics.
func (s *Server) handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		info.setRoute(r.Pattern)
		h.ServeHTTP(w, r)
		// A mounted handler with its own ServeMux may have narrowed the
		// pattern (it sets r.Pattern on the request it was given).
		info.setRoute(r.Pattern)
	}))
}

// recordingMux is a ServeMux that remembers every pattern registered on it,
// so that a test can hold them against the route table.
type recordingMux struct {
	*http.ServeMux
	patterns []string
}

func (m *recordingMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// apiFallback answers requests under /api/v1/ that no route matched: 405
// with an Allow header when the path exists for other methods, 404 else.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.probe.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, &firmward.Error{
			Code:    codeMethodNotAllowed,
			Message: "method " + r.Method + " is not allowed on " + r.URL.Path + "; use " + strings.Join(allow, ", "),
		})
		return
	}
	s.writeError(w, r, firmward.Errorf(firmward.ENOTFOUND, "no API route %s %s; GET %s/openapi.json lists them", r.Method, r.URL.Path, apiPrefix))
}

// securityHeaders sets headers that are right for every response. API and
// operational responses also get a CSP that forbids everything and no-store
// caching; mounted handlers (the web UI) set their own CSP.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if isOwnPath(r.URL.Path) {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// isOwnPath reports whether path is served by this package rather than a
// mounted handler.
func isOwnPath(path string) bool {
	return path == "/healthz" || path == "/metrics" || path == apiPrefix || strings.HasPrefix(path, apiPrefix+"/")
}
