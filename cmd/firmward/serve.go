package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/agentapi"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/assess"
	"github.com/firmward/firmward/ddi"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/lifecycle"
	"github.com/firmward/firmward/report"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// Server timeouts.
const (
	defaultShutdownTimeout = 30 * time.Second
	defaultAssessInterval  = 24 * time.Hour
	defaultAssessFollow    = 30 * time.Second
	readHeaderTimeout      = 10 * time.Second
	idleTimeout            = 2 * time.Minute
	// defaultMaxArtifactBytes bounds one artifact upload (firmware images
	// are rarely above a few hundred MB).
	defaultMaxArtifactBytes = 4 << 30
)

// Main is `firmward serve`: ParseFlags reads the configuration, Run opens
// the database, makes the first admin token if there is none, and starts
// serving; Close shuts down gracefully (requests in flight finish) and
// closes the database.
type Main struct {
	// Configuration, set by ParseFlags.
	Addr            string // listen address; port 0 picks a free port
	PublicURL       string // where people reach the web UI; "" derives it from the listen address
	ReplicaID       string // the job queue's name of this replica; "" derives it from host and port
	DataDir         string // data directory: database, admin-token
	DSN             string // database; "" is DATA/firmward.db
	LogFormat       string // text or json
	LogLevel        string // debug, info, warn, error
	SecureCookies   bool   // mark web cookies Secure (serving over HTTPS)
	ShutdownTimeout time.Duration
	AssessInterval  time.Duration // full re-match every so often; 0: only at start and on changes
	AssessFollow    time.Duration // re-match what other processes imported this often; 0: never
	// Delivery (issue 4): the hawkBit DDI API and device enrollment.
	PollInterval     time.Duration // config.polling.sleep told to DDI devices
	DDIGatewayToken  string        // "" disables GatewayToken authentication
	EnrollmentKey    string        // "" disables POST /api/v1/enroll
	StaleMonths      int           // orphan rule: open findings and no firmware newer than this (lifecycle)
	MaxArtifactBytes int64         // largest artifact upload
	TUFDir           string        // TUF repository that signs releases; "" is DATA/tuf
	NAC              nacFlags      // network access control (issue 6; nacwire.go)
	NotifyInterval   time.Duration // notification rounds: plan and send (notifywire.go); 0: off
	MQTTURL          string        // MQTT broker for agent nudges; "" is off (mqttwire.go)
	CampaignInterval time.Duration // how often the campaign runner steps; 0 is off

	Stdout io.Writer // the admin token and the listening line
	Stderr io.Writer // logs
	Getenv func(string) string

	logger *slog.Logger
	db     *sqlstore.DB
	ln     net.Listener
	srv    *http.Server
	done   chan error // receives Serve's result

	engine     *assess.Engine
	stopEngine context.CancelFunc // ends the engine's worker
	engineDone chan struct{}      // closed when the worker has returned

	stopSigning context.CancelFunc // ends the TUF refresh loop (nil without signing)
	signingDone chan struct{}      // closed when that loop has returned

	nac *nacRuntime // NAC store, reconciler and RADIUS endpoint

	stopNudges func() // ends the MQTT nudge publisher (nil when not started)

	scans *scanRuntime // discovery: scans from the server, ingest, schedules (scanwire.go)

	notify *notifyRuntime // reminders and alerts: channels, dispatcher (notifywire.go)
	// campaigns is the campaign runner (campaignwire.go).
	campaigns *campaignRuntime
	// reports delivers the monthly compliance report (reportwire.go).
	reports *reportRuntime
}

// NewMain returns a Main with the default configuration, writing to stdout
// and stderr and reading environment twins through getenv.
func NewMain(stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{
		Addr:             defaultAddr,
		DataDir:          defaultDataDir,
		LogFormat:        "text",
		LogLevel:         "info",
		ShutdownTimeout:  defaultShutdownTimeout,
		AssessInterval:   defaultAssessInterval,
		AssessFollow:     defaultAssessFollow,
		PollInterval:     ddi.DefaultPollInterval,
		CampaignInterval: defaultCampaignInterval,
		StaleMonths:      lifecycle.DefaultStaleMonths,
		MaxArtifactBytes: defaultMaxArtifactBytes,
		Stdout:           stdout,
		Stderr:           stderr,
		Getenv:           getenv,
		NAC:              defaultNACFlags(),
		NotifyInterval:   defaultNotifyInterval,
	}
}

// ParseFlags reads the flags of `firmward serve` and their environment
// twins. It returns errHelpShown after -h and a usageError for bad flags.
func (m *Main) ParseFlags(_ context.Context, args []string) error {
	const name = "serve"
	fs := newFlags(name)
	fs.StringVar(&m.Addr, "addr", m.Addr, "listen `address` (host:port; port 0 picks a free one)")
	fs.StringVar(&m.ReplicaID, "replica-id", m.ReplicaID, "this replica's `name` in the job queue on PostgreSQL, the same across restarts so that a tick it left when killed is given up at once (default: firmward@HOST:PORT)")
	fs.StringVar(&m.PublicURL, "public-url", m.PublicURL, "the `URL` people reach the web UI at, for links in e-mails, webhooks and reports (default: http://HOST:PORT of --addr, with this machine's name when it listens on every address)")
	fs.StringVar(&m.DataDir, "data", m.DataDir, "data `directory` (database, admin-token)")
	fs.StringVar(&m.DSN, "db", m.DSN, "database: a SQLite file or a postgres:// `URL` (default DATA/firmward.db)")
	fs.StringVar(&m.LogFormat, "log-format", m.LogFormat, "log `format`: text or json")
	fs.StringVar(&m.LogLevel, "log-level", m.LogLevel, "log `level`: debug, info, warn or error")
	fs.BoolVar(&m.SecureCookies, "secure-cookies", m.SecureCookies, "mark web session cookies Secure (when users reach firmward over HTTPS)")
	fs.DurationVar(&m.ShutdownTimeout, "shutdown-timeout", m.ShutdownTimeout, "how long requests in flight may take to finish on shutdown")
	fs.DurationVar(&m.AssessInterval, "assess-interval", m.AssessInterval, "re-match every device against every CVE this often (expired risk acceptances reopen); changes are re-matched as they happen; 0 turns the periodic run off")
	fs.DurationVar(&m.AssessFollow, "assess-follow", m.AssessFollow, "how often to look in the database for CVEs that other replicas or 'firmward feeds import' imported, and re-match them; 0 turns it off")
	m.NAC.register(fs)
	fs.DurationVar(&m.CampaignInterval, "campaign-interval", m.CampaignInterval, "how often the campaign runner moves campaigns on (waves, timeouts, tasks); 0 turns it off")
	fs.DurationVar(&m.NotifyInterval, "notify-interval", m.NotifyInterval, "plan and send notifications (alerts, digests, retries) this often; 0 turns sending off")
	fs.DurationVar(&m.PollInterval, "poll-interval", m.PollInterval, "how often devices (hawkBit DDI and firmward-agent) are told to poll")
	fs.StringVar(&m.DDIGatewayToken, "ddi-gateway-token", m.DDIGatewayToken, "accept this DDI GatewayToken for every registered device (`secret`; empty: off)")
	fs.IntVar(&m.StaleMonths, "stale-months", m.StaleMonths, "a device with open findings is orphaned when no firmware newer than this many `months` is known")
	fs.StringVar(&m.EnrollmentKey, "enrollment-key", m.EnrollmentKey, "pre-shared `key` with which devices enroll themselves (POST /api/v1/enroll; empty: off)")
	fs.StringVar(&m.TUFDir, "tuf-dir", m.TUFDir, "TUF repository `directory` that signs releases (default DATA/tuf; made by firmward keys init)")
	fs.StringVar(&m.MQTTURL, "mqtt-url", m.MQTTURL, "MQTT broker `URL` (tcp://127.0.0.1:1883) on which firmward-agents are nudged when an action reaches them (empty: off)")
	fs.Int64Var(&m.MaxArtifactBytes, "max-artifact-size", m.MaxArtifactBytes, "largest release artifact upload, in `bytes`")
	a := &app{stdout: m.Stdout, stderr: m.Stderr, getenv: m.Getenv}
	if _, err := a.parse(fs, name, args, false, 0, 0); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(m.LogLevel)); err != nil {
		return usageError{cmd: name, msg: fmt.Sprintf("--log-level %q: use debug, info, warn or error", m.LogLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch m.LogFormat {
	case "text":
		m.logger = slog.New(slog.NewTextHandler(m.Stderr, opts))
	case "json":
		m.logger = slog.New(slog.NewJSONHandler(m.Stderr, opts))
	default:
		return usageError{cmd: name, msg: fmt.Sprintf("--log-format %q: use text or json", m.LogFormat)}
	}
	if m.DataDir == "" {
		return usageError{cmd: name, msg: "--data must name a directory"}
	}
	if m.ShutdownTimeout <= 0 {
		m.ShutdownTimeout = defaultShutdownTimeout
	}
	return nil
}

// Run opens the data directory and the database, creates the first admin
// token when no live token exists, listens, prints the listening line and
// serves in the background. Call Close afterwards, also when Run fails.
func (m *Main) Run(ctx context.Context) error {
	if m.logger == nil {
		m.logger = slog.New(slog.NewTextHandler(m.Stderr, nil))
	}
	if m.PublicURL != "" {
		if u, err := url.Parse(m.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q: want an http:// or https:// URL with a host, such as https://firmward.example.org", m.PublicURL)
		}
	}
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}
	dsn := m.DSN
	if dsn == "" {
		dsn = filepath.Join(m.DataDir, "firmward.db")
	}
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Options{Logger: m.logger, Now: time.Now})
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	m.db = db

	devices := sqlstore.NewDeviceService(db)
	tokens := sqlstore.NewTokenService(db)
	sessions := sqlstore.NewSessionService(db)
	audit := sqlstore.NewAuditService(db)

	if err := m.bootstrapToken(ctx, tokens); err != nil {
		return err
	}

	registry := prometheus.NewRegistry()
	if err := registry.Register(collectors.NewDBStatsCollector(db.SQL(), db.Dialect())); err != nil {
		return fmt.Errorf("registering database metrics: %w", err)
	}
	// The engine keeps findings current: it re-matches what devices and
	// feed imports change (through the watched services below), every
	// device at start and every AssessInterval.
	findings := sqlstore.NewFindingService(db)
	vulns := sqlstore.NewVulnerabilityService(db)
	m.engine = assess.NewEngine(assess.Sources{Vulns: vulns, Devices: devices, Findings: findings, Changes: vulns},
		assess.RunOptions{Policy: risk.DefaultPolicy()}, m.logger.With(slog.String("component", "matching")))
	watchedDevices := assess.WatchDevices(devices, m.engine)
	if m.nac, err = newNACRuntime(m.NAC, m.DataDir, db, m.logger); err != nil {
		return fmt.Errorf("starting network access control: %w", err)
	}
	watchedDevices = m.nac.watch(watchedDevices)
	watchedVulns := assess.WatchVulnerabilities(vulns, m.engine)
	if m.scans, err = newScanRuntime(db, watchedDevices, m.logger); err != nil {
		return fmt.Errorf("starting discovery: %w", err)
	}
	catalog := newCatalogCache(vulns, audit, m.logger)
	// Release delivery: the artifact store under DATA/artifacts, the
	// catalog and device actions in the database, and the hawkBit DDI API.
	artifacts, err := artifact.Open(filepath.Join(m.DataDir, "artifacts"), artifact.Options{MaxSize: m.MaxArtifactBytes})
	if err != nil {
		return fmt.Errorf("opening the artifact store: %w", err)
	}
	releases := sqlstore.NewReleaseService(db)
	delivery := sqlstore.NewDeliveryService(db)
	m.campaigns = newCampaignRuntime(db, dsn, releases, watchedDevices, m.logger)
	if m.stopNudges, err = startNudges(ctx, m.MQTTURL, delivery, m.logger); err != nil {
		return err
	}
	// With a TUF repository, new releases are signed and withdrawn ones
	// unsigned; its metadata is served under /tuf/.
	tufDir := m.TUFDir
	if tufDir == "" {
		tufDir = filepath.Join(m.DataDir, "tuf")
	}
	signingLog := m.logger.With(slog.String("component", "signing"))
	repo, err := openSigning(ctx, tufDir, signingLog)
	if err != nil {
		return err
	}
	var releaseCatalog firmward.ReleaseService = releases
	if repo != nil {
		releaseCatalog = &signedReleases{ReleaseService: releases, repo: repo, logger: signingLog}
	}
	ddiAPI, err := ddi.New(ddi.Config{
		Releases: releases, Delivery: delivery, Artifacts: artifacts, GatewayToken: m.DDIGatewayToken,
		PollInterval: m.PollInterval, Logger: m.logger.With(slog.String("component", "ddi")), Now: time.Now,
	})
	if err != nil {
		return fmt.Errorf("starting the DDI API: %w", err)
	}
	agentAPI, err := agentapi.New(agentapi.Config{
		Releases: releases, Delivery: delivery, Devices: watchedDevices, Artifacts: artifacts,
		PollInterval: m.PollInterval, Logger: m.logger.With(slog.String("component", "agentapi")), Now: time.Now,
	})
	if err != nil {
		return fmt.Errorf("starting the agent API: %w", err)
	}
	// Lifecycle (issue 7): end of support, orphans, health checks, vendors.
	// The embedded open-firmware list is added on first use
	// (lifecycle.OpenFirmware).
	eolStore, checkStore := sqlstore.NewEOLService(db), sqlstore.NewCheckService(db)
	lifecyclePolicy := lifecycle.Policy{StaleMonths: m.StaleMonths}
	// Reminders and alerts (issue 7): channels, recipients, the dispatcher.
	if m.notify, err = newNotifyRuntime(m.DataDir, db, devices, findings, checkStore, m.NotifyInterval, m.logger); err != nil {
		return fmt.Errorf("starting notifications: %w", err)
	}
	pdf := reportPDF(m.logger) // nil without Chromium
	api := httpapi.NewServer(httpapi.Config{
		EOL:           eolStore,
		Checks:        checkStore,
		Lifecycle:     lifecyclePolicy,
		Now:           time.Now,
		Devices:       watchedDevices,
		Tokens:        tokens,
		Audit:         audit,
		Catalog:       catalog.Get,
		Vulns:         watchedVulns,
		Findings:      findings,
		Engine:        m.engine,
		Logger:        m.logger,
		Registry:      registry,
		Ready:         db.Ping,
		Releases:      releaseCatalog,
		Delivery:      delivery,
		Artifacts:     artifacts,
		EnrollmentKey: m.EnrollmentKey,
		NAC:           m.nac.api(),
		Campaigns:     m.campaigns.campaigns,
		Tasks:         m.campaigns.tasks,
		RolloutPolicy: m.campaigns.policy,
		Scans:         m.scans.runner,
		Alerts:        m.scans.alerts,
		Notify:        m.notify.notifyStore(),
		NotifyTester:  m.notify.notifyTester(),
		ReportPDF:     pdf,
	})
	m.reports = newReportRuntime(report.Sources{
		Devices: devices, Findings: findings, Audit: audit, NAC: m.nac.reportSource(),
		Campaigns: m.campaigns.campaigns, Now: time.Now,
	}, m.scans.alerts, m.notify != nil && m.NotifyInterval > 0, m.logger)
	settings := sqlstore.NewSettingsService(db)
	ui, err := web.New(web.Config{
		EOL:           eolStore,
		Checks:        checkStore,
		Vulns:         watchedVulns,
		Lifecycle:     lifecyclePolicy,
		Devices:       watchedDevices,
		Tokens:        tokens,
		Sessions:      sessions,
		Audit:         audit,
		Findings:      findings,
		Catalog:       catalog.Get,
		Logger:        m.logger,
		Now:           time.Now,
		SecureCookies: m.SecureCookies,
		NAC:           m.nac.web(),
		Campaigns:     &web.CampaignConfig{Campaigns: m.campaigns.campaigns, Releases: releases, Delivery: delivery, Policy: m.campaigns.policy},
		Releases:      &web.ReleaseConfig{Releases: releaseCatalog, Artifacts: artifacts, MaxUploadBytes: m.MaxArtifactBytes},
		Scans:         m.scans.runner,
		Alerts:        m.scans.alerts,
		Notify:        m.notify.notifyStore(),
		NotifyTester:  m.notify.notifyTester(),
		Settings:      settings,
		ReportPDF:     pdf,
	})
	if err != nil {
		return fmt.Errorf("starting the web UI: %w", err)
	}
	api.Mount("/", ui)
	m.nac.mount(api)
	api.Mount("/{tenant}/controller/v1/", ddiAPI)
	api.Mount(agentapi.Prefix, agentAPI)
	if repo != nil {
		api.Mount("/tuf/{file}", tufMetadataHandler(repo.Config().MetadataDir()))
		signCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		m.stopSigning, m.signingDone = stop, make(chan struct{})
		go func() {
			defer close(m.signingDone)
			refreshSigning(signCtx, repo, signingLog)
		}()
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s (is another firmward or program using it? pick another with --addr): %w", m.Addr, err)
	}
	m.ln = ln
	if m.notify != nil {
		m.notify.dispatcher.SetBaseURL(m.publicURL())
	}
	m.srv = &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	m.done = make(chan error, 1)
	go func() { m.done <- m.srv.Serve(ln) }()

	engineCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopEngine, m.engineDone = stop, make(chan struct{})
	m.engine.NotifyFull()
	m.nac.start(ctx)
	m.scans.start(ctx)
	m.notify.start(ctx)
	m.reports.start(ctx)
	go func() {
		defer close(m.engineDone)
		m.engine.Start(engineCtx, m.AssessInterval)
	}()
	go m.engine.Follow(engineCtx, m.AssessFollow)
	if err := m.campaigns.start(ctx, m.CampaignInterval, m.replicaID()); err != nil {
		return fmt.Errorf("starting the campaign runner: %w", err)
	}

	_, _ = fmt.Fprintf(m.Stdout, "firmward listening on %s\n", m.URL())
	m.printSetupHint(ctx, settings, devices)
	m.logger.Info("serving", slog.String("url", m.URL()), slog.String("database", db.Dialect()), slog.String("data", m.DataDir))
	return nil
}

// URL returns the base URL of the running server, with the bound port.
func (m *Main) URL() string {
	if m.ln == nil {
		return ""
	}
	return "http://" + m.ln.Addr().String()
}

// publicURL is where people reach the web UI: --public-url, else the
// listen address, with this machine's name when it listens on every
// address.
func (m *Main) publicURL() string {
	if m.PublicURL != "" {
		return strings.TrimSuffix(m.PublicURL, "/")
	}
	if m.ln == nil {
		return ""
	}
	host, port, err := net.SplitHostPort(m.ln.Addr().String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// replicaID names this replica in the job queue: --replica-id, else
// firmward@HOST:PORT, which stays the same across restarts of a replica
// (replicas on one host listen on different ports).
func (m *Main) replicaID() string {
	if m.ReplicaID != "" {
		return m.ReplicaID
	}
	host, _ := os.Hostname()
	port := ""
	if m.ln != nil {
		_, port, _ = net.SplitHostPort(m.ln.Addr().String())
	}
	return "firmward@" + net.JoinHostPort(host, port)
}

// Done receives the error that stopped the server when it stops by itself
// (not through Close).
func (m *Main) Done() <-chan error { return m.done }

// bootstrapToken creates the admin token on first start (no live token in
// the database), prints it once and saves it to DATA/admin-token with mode
// 0600. If the file cannot be written, the printed token is the only copy.
func (m *Main) bootstrapToken(ctx context.Context, tokens firmward.TokenService) error {
	n, err := tokens.CountTokens(ctx)
	if err != nil {
		return fmt.Errorf("counting API tokens: %w", err)
	}
	if n > 0 {
		return nil
	}
	tok, secret, err := tokens.CreateToken(ctx, "admin", firmward.RoleAdmin)
	if err != nil {
		return fmt.Errorf("creating the first admin token: %w", err)
	}
	path := filepath.Join(m.DataDir, tokenFileName)
	if err := writePrivateFile(path, []byte(secret+"\n")); err != nil {
		m.logger.Error("cannot save the admin token; copy it from the line above", slog.String("file", path), slog.Any("err", err))
		_, _ = fmt.Fprintf(m.Stdout, "admin token (shown once, NOT saved: %v): %s\n", err, secret)
		return nil
	}
	_, _ = fmt.Fprintf(m.Stdout, "admin token (shown once, also saved to %s): %s\n", path, secret)
	m.logger.Info("created the first admin token", slog.Int64("token", tok.ID), slog.String("file", path))
	return nil
}

// writePrivateFile writes data to path with mode 0600, atomically: a
// temporary file in the same directory renamed over path.
func writePrivateFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }() // fails harmlessly after the rename
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Close stops accepting connections, waits up to ShutdownTimeout for
// requests in flight, then closes the database. It is safe to call after a
// failed or partial Run.
func (m *Main) Close() error {
	var errs []error
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
		defer cancel()
		if err := m.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("requests still running after %s were cut off: %w", m.ShutdownTimeout, err))
			_ = m.srv.Close()
		}
		if err := <-m.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		m.srv = nil
	} else if m.ln != nil {
		_ = m.ln.Close()
	}
	m.nac.close()
	m.scans.close()
	m.notify.close()
	m.reports.close()
	m.campaigns.close()
	if m.stopNudges != nil {
		m.stopNudges()
		m.stopNudges = nil
	}
	if m.stopSigning != nil {
		m.stopSigning()
		<-m.signingDone
		m.stopSigning = nil
	}
	if m.stopEngine != nil {
		m.stopEngine() // a re-match in progress stops; the next start redoes it
		<-m.engineDone
		m.stopEngine = nil
	}
	if m.db != nil {
		if err := m.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the database: %w", err))
		}
		m.db = nil
	}
	return errors.Join(errs...)
}

// runServe runs the server until ctx ends (SIGINT, SIGTERM) or the server
// fails, then shuts it down gracefully.
func runServe(ctx context.Context, a *app, args []string) error {
	m := NewMain(a.stdout, a.stderr, a.getenv)
	if err := m.ParseFlags(ctx, args); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		return errors.Join(err, m.Close())
	}
	var serveErr error
	select {
	case <-ctx.Done():
		m.logger.Info("shutting down: finishing requests in flight", slog.Duration("timeout", m.ShutdownTimeout))
	case serveErr = <-m.done:
		m.done <- serveErr // Close waits for it too
		m.logger.Error("the server stopped", slog.Any("err", serveErr))
	}
	err := m.Close()
	if err == nil && serveErr == nil {
		m.logger.Info("stopped")
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return errors.Join(serveErr, err)
	}
	return err
}
