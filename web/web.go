// Package web is firmward's user interface: server-rendered HTML pages for
// signing in with an API token, the dashboard, the device inventory, device
// forms, CSV import, each device's vulnerabilities with their status
// forms, the fleet's risk (/risk), the release catalog with its upload form
// (/releases) and the campaigns with their create form (/campaigns).
//
// Pages work without JavaScript. Templates are parsed once by New; the
// stylesheet and icon are embedded and served under content-hashed URLs
// (/static/<hash>/<name>) with long cache lifetimes. Charts are SVG drawn on
// the server. A strict Content-Security-Policy forbids inline scripts and
// styles.
//
// Every page but /login and /static needs a session, started by signing in
// with an API token and kept in the HttpOnly cookie firmward_session. Every
// POST carries a CSRF token derived from the session secret and is refused
// when its Origin or Referer names another host. Viewers may look; changes
// need the operator role.
package web

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/ingest"
	"github.com/firmward/firmward/lifecycle"
	"github.com/firmward/firmward/vuln"
)

// Config is what New needs. Every service is required.
type Config struct {
	Devices  firmward.DeviceService
	Tokens   firmward.TokenService
	Sessions firmward.SessionService
	Audit    firmward.AuditService
	Findings firmward.FindingService
	// Catalog returns the products of the imported data, from which the
	// device page proposes CPE names; it is called for every device page,
	// so it should cache. Nil proposes from the vendor alias table only.
	Catalog func(context.Context) (*vuln.Catalog, error)
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SecureCookies marks cookies Secure: set it when users reach the UI
	// over HTTPS.
	SecureCookies bool
	// Scans and Alerts serve the scans page (/scans): runs, the start
	// form, new devices seen and conflicts to review. Optional: without
	// them the page says discovery is not available.
	Scans  *ingest.Runner
	Alerts firmward.AlertService
	// Notify and NotifyTester serve the notification settings page
	// (/settings/notify); without Notify it answers 404.
	Notify       firmward.NotifyService
	NotifyTester firmward.NotifyTester
	// ReportPDF prints a compliance report page to PDF for /reports;
	// nil offers HTML and CSV only.
	ReportPDF func(ctx context.Context, html io.Reader, w io.Writer) error
	// NAC serves the quarantine page (/nac); nil says it is not available.
	NAC *NACConfig
	// Campaigns serves the campaign pages (/campaigns); nil says they are
	// not available.
	Campaigns *CampaignConfig
	// Releases serves the release catalog (/releases) with its upload
	// form; nil says it is not available.
	Releases *ReleaseConfig
	// EOL and Checks serve the lifecycle pages (/checks, /lifecycle,
	// /vendors); Vulns gives the CVEs' publication dates; Lifecycle tunes
	// the orphan rule. Optional: without EOL and Checks those pages
	// answer 404.
	EOL       firmward.EOLService
	Checks    firmward.CheckService
	Vulns     firmward.VulnerabilityService
	Lifecycle lifecycle.Policy
	// Settings keeps the first-run wizard's answers (/setup) and whether
	// the dashboard is a home's; nil turns the wizard off.
	Settings firmward.SettingsService
	// LocalAddrs lists the server's interface addresses, whose /24s the
	// wizard proposes to scan; nil reads the interfaces.
	LocalAddrs func() []netip.Prefix
}

// Names and limits shared by the handlers.
const (
	sessionCookie  = "firmward_session"
	loginCookie    = "firmward_login" // double-submit CSRF token of the sign-in form
	flashCookie    = "firmward_flash"
	sessionTTL     = 12 * time.Hour
	maxFormBytes   = 1 << 20  // ordinary forms
	maxImportBytes = 32 << 20 // CSV upload
)

// Handler serves the web UI. It is safe for concurrent use; it holds no
// state that changes after New.
type Handler struct {
	devices  firmward.DeviceService
	tokens   firmward.TokenService
	sessions firmward.SessionService
	audit    firmward.AuditService
	findings firmward.FindingService
	// catalogFn is Config.Catalog.
	catalogFn func(context.Context) (*vuln.Catalog, error)
	log       *slog.Logger
	now       func() time.Time
	secure    bool
	scans     *ingest.Runner
	alerts    firmward.AlertService
	nac       *NACConfig
	campaigns *CampaignConfig
	releases  *ReleaseConfig

	notify       firmward.NotifyService
	notifyTester firmward.NotifyTester
	reportPDF    func(ctx context.Context, html io.Reader, w io.Writer) error

	eol             firmward.EOLService
	checks          firmward.CheckService
	vulns           firmward.VulnerabilityService
	lifecyclePolicy lifecycle.Policy

	settings   firmward.SettingsService
	localAddrs func() []netip.Prefix

	pages  map[string]*template.Template // page name → layout + page
	assets map[string]asset              // file name → embedded asset
	cop    *http.CrossOriginProtection
	mux    *http.ServeMux
}

// New returns the UI handler, meant to be mounted at "/". It parses every
// template and hashes every asset, so that a broken template fails here
// rather than on a request.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Devices == nil:
		return nil, errors.New("web: Config.Devices is required")
	case cfg.Tokens == nil:
		return nil, errors.New("web: Config.Tokens is required")
	case cfg.Sessions == nil:
		return nil, errors.New("web: Config.Sessions is required")
	case cfg.Audit == nil:
		return nil, errors.New("web: Config.Audit is required")
	case cfg.Findings == nil:
		return nil, errors.New("web: Config.Findings is required")
	}
	h := &Handler{
		devices:      cfg.Devices,
		tokens:       cfg.Tokens,
		sessions:     cfg.Sessions,
		audit:        cfg.Audit,
		findings:     cfg.Findings,
		catalogFn:    cfg.Catalog,
		log:          cfg.Logger,
		now:          cfg.Now,
		secure:       cfg.SecureCookies,
		scans:        cfg.Scans,
		alerts:       cfg.Alerts,
		nac:          cfg.NAC,
		notify:       cfg.Notify,
		notifyTester: cfg.NotifyTester,
		reportPDF:    cfg.ReportPDF,

		eol:             cfg.EOL,
		checks:          cfg.Checks,
		vulns:           cfg.Vulns,
		lifecyclePolicy: cfg.Lifecycle,
		cop:             http.NewCrossOriginProtection(),

		campaigns: cfg.Campaigns,
		releases:  cfg.Releases,

		settings:   cfg.Settings,
		localAddrs: cfg.LocalAddrs,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	var err error
	if h.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if h.pages, err = h.parseTemplates(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.signedIn(h.dashboard))
	m.HandleFunc("GET /login", h.loginPage)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("GET /logout", h.signedIn(h.logoutPage))
	m.HandleFunc("POST /logout", h.post(firmward.RoleViewer, maxFormBytes, h.logout))

	m.HandleFunc("GET /devices", h.signedIn(h.deviceList))
	m.HandleFunc("POST /devices", h.post(firmward.RoleOperator, maxFormBytes, h.createDevice))
	m.HandleFunc("GET /devices/new", h.signedIn(h.editor(h.newDevice)))
	m.HandleFunc("GET /devices/{id}", h.signedIn(h.showDevice))
	m.HandleFunc("POST /devices/{id}", h.post(firmward.RoleOperator, maxFormBytes, h.updateDevice))
	m.HandleFunc("GET /devices/{id}/edit", h.signedIn(h.editor(h.editDevice)))
	m.HandleFunc("GET /devices/{id}/delete", h.signedIn(h.editor(h.confirmDelete)))
	m.HandleFunc("POST /devices/{id}/delete", h.post(firmward.RoleOperator, maxFormBytes, h.deleteDevice))
	m.HandleFunc("POST /devices/{id}/cpe", h.post(firmward.RoleOperator, maxFormBytes, h.setCPE))

	m.HandleFunc("GET /risk", h.signedIn(h.riskPage))
	m.HandleFunc("POST /findings/{id}", h.post(firmward.RoleOperator, maxFormBytes, h.updateFinding))

	m.HandleFunc("GET /import", h.signedIn(h.editor(h.importPage)))
	m.HandleFunc("POST /import", h.post(firmward.RoleOperator, maxImportBytes, h.importDevices))

	m.HandleFunc("GET /scans", h.signedIn(h.scansPage))
	m.HandleFunc("POST /scans", h.post(firmward.RoleOperator, maxFormBytes, h.startScan))
	m.HandleFunc("GET /scans/{id}", h.signedIn(h.scanPage))
	m.HandleFunc("POST /conflicts/{id}/{verb}", h.post(firmward.RoleOperator, maxFormBytes, h.resolveConflict))
	m.HandleFunc("POST /alerts/{id}/ack", h.post(firmward.RoleOperator, maxFormBytes, h.ackAlert))

	m.HandleFunc("GET /releases", h.signedIn(h.releasesPage))
	m.HandleFunc("POST /releases", h.signedIn(h.uploadRelease)) // streamed: checks CSRF and role itself
	m.HandleFunc("GET /releases/new", h.signedIn(h.editor(h.newRelease)))
	m.HandleFunc("GET /releases/{id}", h.signedIn(h.releasePage))
	m.HandleFunc("POST /releases/{id}/withdraw", h.post(firmward.RoleOperator, maxFormBytes, h.withdrawRelease))
	m.HandleFunc("GET /campaigns", h.signedIn(h.campaignsPage))
	m.HandleFunc("POST /campaigns", h.post(firmward.RoleOperator, maxFormBytes, h.createCampaign))
	m.HandleFunc("GET /campaigns/new", h.signedIn(h.editor(h.newCampaign)))
	m.HandleFunc("GET /campaigns/{id}", h.signedIn(h.campaignPage))
	m.HandleFunc("POST /campaigns/{id}/{verb}", h.post(firmward.RoleOperator, maxFormBytes, h.campaignAction))
	m.HandleFunc("GET /nac", h.signedIn(h.nacPage))
	m.HandleFunc("POST /nac/quarantine", h.post(firmward.RoleOperator, maxFormBytes, h.nacQuarantineForm))
	m.HandleFunc("POST /nac/devices/{id}/{verb}", h.post(firmward.RoleOperator, maxFormBytes, h.nacAction))
	m.HandleFunc("POST /nac/sites", h.post(firmward.RoleAdmin, maxFormBytes, h.nacSite))

	m.HandleFunc("GET /checks", h.signedIn(h.checksPage))
	m.HandleFunc("POST /checks/cadences", h.post(firmward.RoleOperator, maxFormBytes, h.setCadence))
	m.HandleFunc("GET /checks/{id}", h.signedIn(h.checkPage))
	m.HandleFunc("POST /checks/{id}", h.post(firmward.RoleOperator, maxFormBytes, h.recordCheck))
	m.HandleFunc("GET /lifecycle", h.signedIn(h.lifecyclePage))
	m.HandleFunc("POST /lifecycle/{id}/value", h.post(firmward.RoleOperator, maxFormBytes, h.setValue))
	m.HandleFunc("GET /vendors", h.signedIn(h.vendorsPage))
	m.HandleFunc("GET /reports", h.signedIn(h.reportsPage))
	m.HandleFunc("GET /reports/download", h.signedIn(h.reportDownload))

	m.HandleFunc("GET /setup", h.signedIn(h.wizardPage))
	m.HandleFunc("POST /setup/mode", h.post(firmward.RoleAdmin, maxFormBytes, h.setupMode))
	m.HandleFunc("POST /setup/scan", h.post(firmward.RoleAdmin, maxFormBytes, h.setupScan))
	m.HandleFunc("POST /setup/catalog", h.post(firmward.RoleAdmin, maxFormBytes, h.setupCatalog))
	m.HandleFunc("POST /setup/device", h.post(firmward.RoleAdmin, maxFormBytes, h.setupDevice))
	m.HandleFunc("POST /setup/channel", h.post(firmward.RoleAdmin, maxFormBytes, h.setupChannel))
	m.HandleFunc("POST /setup/finish", h.post(firmward.RoleAdmin, maxFormBytes, h.setupFinish))

	m.HandleFunc("GET /settings/notify", h.signedIn(h.notifyPage))
	m.HandleFunc("POST /settings/notify/channels", h.post(firmward.RoleAdmin, maxFormBytes, h.addChannel))
	m.HandleFunc("POST /settings/notify/channels/{id}/test", h.post(firmward.RoleOperator, maxFormBytes, h.testChannel))
	m.HandleFunc("POST /settings/notify/channels/{id}/{verb}", h.post(firmward.RoleAdmin, maxFormBytes, h.channelAction))
	m.HandleFunc("POST /settings/notify/recipients", h.post(firmward.RoleOperator, maxFormBytes, h.addRecipient))
	m.HandleFunc("POST /settings/notify/recipients/{id}/delete", h.post(firmward.RoleOperator, maxFormBytes, h.deleteRecipient))
	m.HandleFunc("GET /static/{hash}/{name}", h.static)
	m.HandleFunc("/", h.notFound)
	h.mux = m
}

// ServeHTTP sets the security headers every response carries and routes the
// request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}
