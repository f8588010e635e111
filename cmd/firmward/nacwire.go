package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/nac"
	"github.com/firmward/firmward/nacwebhook"
	"github.com/firmward/firmward/radius"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// nacKeyFile holds the key that seals NAS shared secrets in the database.
const nacKeyFile = "nac-secrets.key"

// nacFlags are serve's network access control settings.
type nacFlags struct {
	RadiusSecret  string        // rlm_rest shared secret; "" leaves /nac/radius/ unmounted
	Interval      time.Duration // re-evaluate every device this often
	WebhookURL    string
	WebhookSecret string
	CoATimeout    time.Duration
	CoARetries    int
}

func defaultNACFlags() nacFlags {
	return nacFlags{Interval: time.Minute, CoATimeout: 3 * time.Second, CoARetries: 2}
}

// register adds the flags to serve's flag set (each has its FIRMWARD_*
// environment twin, like every flag).
func (f *nacFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.RadiusSecret, "radius-secret", f.RadiusSecret, "shared `secret` FreeRADIUS sends in the X-Firmward-Radius-Secret header (at least 16 bytes); mounts the rlm_rest endpoint /nac/radius/ (prefer the environment twin FIRMWARD_RADIUS_SECRET)")
	fs.DurationVar(&f.Interval, "nac-interval", f.Interval, "re-evaluate every device's quarantine this often (findings fixed, exemptions ended); changes made through the API take effect at once")
	fs.StringVar(&f.WebhookURL, "nac-webhook-url", f.WebhookURL, "POST each quarantine and release, signed, to this `URL` (PacketFence-style security event)")
	fs.StringVar(&f.WebhookSecret, "nac-webhook-secret", f.WebhookSecret, "HMAC-SHA256 `key` for the webhook's X-Firmward-Signature (at least 16 bytes)")
	fs.DurationVar(&f.CoATimeout, "coa-timeout", f.CoATimeout, "how long each RFC 5176 Disconnect/CoA attempt waits for the NAS")
	fs.IntVar(&f.CoARetries, "coa-retries", f.CoARetries, "how many more times a Disconnect/CoA is sent after a timeout")
}

// nacRuntime is serve's NAC: the store, the reconciler and its goroutine,
// and the RADIUS endpoint.
type nacRuntime struct {
	store  *sqlstore.NACService
	rec    *nac.Reconciler
	radius *radius.Handler // nil without --radius-secret
	every  time.Duration
	logger *slog.Logger

	stop context.CancelFunc
	done chan struct{}
}

// newNACRuntime opens the NAC store (creating DATA/nac-secrets.key on
// first start) and builds the reconciler and, with a secret, the RADIUS
// endpoint.
func newNACRuntime(f nacFlags, dataDir string, db *sqlstore.DB, logger *slog.Logger) (*nacRuntime, error) {
	logger = logger.With(slog.String("component", "nac"))
	key, err := loadNACKey(filepath.Join(dataDir, nacKeyFile))
	if err != nil {
		return nil, err
	}
	store, err := sqlstore.NewNACService(db, sqlstore.NACOptions{SecretKey: key})
	if err != nil {
		return nil, err
	}
	rt := &nacRuntime{store: store, every: f.Interval, logger: logger}
	cfg := nac.ReconcilerConfig{
		Store: store, Logger: logger,
		Actuator: &coaActuator{store: store, timeout: f.CoATimeout, retries: f.CoARetries, logger: logger},
		// Every transition becomes a quarantine alert, which the
		// notification channels send (a protected device's needs a person).
		Alerts: sqlstore.NewAlertService(db),
	}
	if f.WebhookURL != "" {
		sender, err := nacwebhook.New(nacwebhook.Config{URL: f.WebhookURL, Secret: f.WebhookSecret, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("--nac-webhook-url: %w", err)
		}
		cfg.Notifier = &webhookNotifier{store: store, sender: sender, now: time.Now}
	}
	rt.rec = nac.NewReconciler(cfg)
	if f.RadiusSecret != "" {
		rt.radius, err = radius.NewHandler(radius.Config{
			Secret: f.RadiusSecret, Directory: store, Sessions: radiusSessions{store}, Logger: logger,
		})
		if err != nil {
			return nil, fmt.Errorf("--radius-secret: %w", err)
		}
	}
	return rt, nil
}

// loadNACKey reads the 32-byte key (hex) or creates it with mode 0600.
func loadNACKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the server's own data directory
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("making the NAS secret key: %w", err)
		}
		if err := writePrivateFile(path, []byte(hex.EncodeToString(key)+"\n")); err != nil {
			return nil, fmt.Errorf("saving the NAS secret key to %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the NAS secret key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s is not a 32-byte hex key; restore it from a backup (NAS secrets stored with it cannot be read without it)", path)
	}
	return key, nil
}

// api returns the httpapi NAC configuration.
func (rt *nacRuntime) api() *httpapi.NACConfig {
	return &httpapi.NACConfig{Store: rt.store, Reconcile: func(ctx context.Context, ids ...int64) error {
		_, err := rt.rec.Reconcile(ctx, ids...)
		return err
	}, PolicyChanged: rt.rec.NotifyAll}
}

// web returns the web UI's NAC configuration.
func (rt *nacRuntime) web() *web.NACConfig {
	api := rt.api()
	return &web.NACConfig{Store: api.Store, Reconcile: api.Reconcile, PolicyChanged: api.PolicyChanged}
}

// mount adds the rlm_rest endpoint when it is configured.
func (rt *nacRuntime) mount(api *httpapi.Server) {
	if rt.radius != nil {
		api.Mount("/nac/radius/", rt.radius)
	}
}

// watch wraps devices so that created, edited and imported devices are
// re-evaluated soon.
func (rt *nacRuntime) watch(devices firmward.DeviceService) firmward.DeviceService {
	return nacWatchedDevices{DeviceService: devices, rec: rt.rec}
}

// start runs the reconciler until close: every device at start and every
// interval, changed devices as they come.
func (rt *nacRuntime) start(ctx context.Context) {
	ctx, rt.stop = context.WithCancel(context.WithoutCancel(ctx))
	rt.done = make(chan struct{})
	var tick <-chan time.Time
	var ticker *time.Ticker
	if rt.every > 0 {
		ticker = time.NewTicker(rt.every)
		tick = ticker.C
	}
	go func() {
		defer close(rt.done)
		if ticker != nil {
			defer ticker.Stop()
		}
		rt.rec.Run(ctx, tick)
	}()
}

func (rt *nacRuntime) close() {
	if rt != nil && rt.stop != nil {
		rt.stop()
		<-rt.done
		rt.stop = nil
	}
}

// nacWatchedDevices notifies the reconciler of device changes.
type nacWatchedDevices struct {
	firmward.DeviceService
	rec *nac.Reconciler
}

func (w nacWatchedDevices) CreateDevice(ctx context.Context, d *firmward.Device) error {
	err := w.DeviceService.CreateDevice(ctx, d)
	if err == nil {
		w.rec.Notify(d.ID)
	}
	return err
}

func (w nacWatchedDevices) UpdateDevice(ctx context.Context, id int64, u firmward.DeviceUpdate) (*firmward.Device, error) {
	d, err := w.DeviceService.UpdateDevice(ctx, id, u)
	if err == nil {
		w.rec.Notify(id)
	}
	return d, err
}

func (w nacWatchedDevices) ImportDevices(ctx context.Context, rows []firmward.ImportRow, opts firmward.ImportOptions) (*firmward.ImportResult, error) {
	res, err := w.DeviceService.ImportDevices(ctx, rows, opts)
	if err == nil && res != nil {
		w.rec.Notify(res.IDs...)
	}
	return res, err
}

// radiusSessions persists the RADIUS endpoint's sessions.
type radiusSessions struct{ store *sqlstore.NACService }

func (s radiusSessions) RecordSession(ctx context.Context, r radius.Session) error {
	return s.store.RecordNASSession(ctx, nasSessionOf(r))
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func nasSessionOf(r radius.Session) firmward.NASSession {
	return firmward.NASSession{
		MAC: r.MAC, UserName: r.UserName, NASIP: addrText(r.NASIP), NASIdentifier: r.NASIdentifier, NASPort: r.NASPort,
		NASPortID: r.NASPortID, CalledStation: r.CalledStation, CallingStation: r.CallingStation,
		AcctSessionID: r.AcctSessionID, FramedIP: addrText(r.FramedIP), Event: r.Event, At: r.At,
	}
}

func radiusSessionOf(s firmward.NASSession) radius.Session {
	ip, _ := netip.ParseAddr(s.NASIP)
	framed, _ := netip.ParseAddr(s.FramedIP)
	return radius.Session{
		MAC: s.MAC, UserName: s.UserName, NASIP: ip, NASIdentifier: s.NASIdentifier, NASPort: s.NASPort,
		NASPortID: s.NASPortID, CalledStation: s.CalledStation, CallingStation: s.CallingStation,
		AcctSessionID: s.AcctSessionID, FramedIP: framed, Event: s.Event, At: s.At,
	}
}

// coaActuator sends a Disconnect-Request for each MAC of a device whose
// enforced quarantine changed, to the NAS of its last RADIUS session, and
// records every outcome in the device's NAC history (audited). The device
// then re-authenticates and gets its new VLAN from the authorize endpoint.
type coaActuator struct {
	store   *sqlstore.NACService
	timeout time.Duration
	retries int
	logger  *slog.Logger
}

// coaRecorder records one device's CoA results.
type coaRecorder struct {
	store    *sqlstore.NACService
	deviceID int64
}

func (r coaRecorder) RecordCoA(ctx context.Context, res radius.CoAResult) error {
	msg := fmt.Sprintf("%s for %s to NAS %s: %s after %d attempt(s) in %s", res.Kind, res.MAC, orDash(res.NAS), res.Outcome, res.Attempts, res.Took.Round(time.Millisecond))
	if res.Cause != "" {
		msg += fmt.Sprintf(", Error-Cause %s (%d)", res.Cause, res.ErrorCause)
	}
	if res.Message != "" {
		msg += ": " + res.Message
	}
	return r.store.RecordNACEvent(ctx, firmward.NACEvent{
		DeviceID: r.deviceID, Kind: firmward.NACEventCoA, Actor: "firmward", Enforced: true, Outcome: string(res.Outcome), Message: msg,
	})
}

func (a *coaActuator) Act(ctx context.Context, ev nac.Evaluation, t nac.Transition) error {
	secrets, err := a.store.NASSecrets(ctx, true)
	if err != nil {
		return err
	}
	nas := make(map[string]radius.NAS, len(secrets))
	for _, s := range secrets {
		nas[s.NAS] = radius.NAS{Addr: s.Addr, Secret: []byte(s.Secret)}
	}
	retries := a.retries
	if retries == 0 {
		retries = -1 // radius treats 0 as its default
	}
	client, err := radius.NewCoAClient(radius.CoAConfig{
		NAS: nas, Timeout: a.timeout, Retries: retries, Logger: a.logger,
		Recorder: coaRecorder{store: a.store, deviceID: ev.Device.ID},
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, mac := range ev.Device.MACs {
		s, err := a.store.LastNASSession(ctx, mac)
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			err = a.store.RecordNACEvent(ctx, firmward.NACEvent{
				DeviceID: ev.Device.ID, Kind: firmward.NACEventCoA, Actor: "firmward", Enforced: true, Outcome: "skipped",
				Message: "no RADIUS session seen for " + mac + ": it gets the new answer when it next authenticates",
			})
			errs = append(errs, err)
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if s.Event == "Stop" {
			errs = append(errs, a.store.RecordNACEvent(ctx, firmward.NACEvent{
				DeviceID: ev.Device.ID, Kind: firmward.NACEventCoA, Actor: "firmward", Enforced: true, Outcome: "skipped",
				Message: "the last session of " + mac + " on NAS " + orDash(strings.TrimSpace(s.NASIdentifier+" "+s.NASIP)) + " has ended (Accounting Stop): it gets the new answer when it next authenticates",
			}))
			continue
		}
		_, err = client.Send(ctx, radius.CoARequest{
			Kind: radius.KindDisconnect, Session: radiusSessionOf(s), Reason: string(t.Kind) + ": " + t.Decision.Summary(),
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// webhookNotifier mirrors transitions to the webhook and records the
// outcome.
type webhookNotifier struct {
	store  *sqlstore.NACService
	sender *nacwebhook.Sender
	now    func() time.Time
}

func (n *webhookNotifier) Notify(ctx context.Context, ev nac.Evaluation, t nac.Transition) error {
	d := ev.Device
	reasons := make([]string, 0, len(t.Decision.Reasons))
	for _, r := range t.Decision.Reasons {
		reasons = append(reasons, r.Message)
	}
	e := nacwebhook.Event{
		Type: string(t.Kind), DeviceID: d.ID, DeviceName: d.Name, MACs: d.MACs, IPs: d.IPs, Site: t.Decision.Site,
		Mode: string(t.Decision.Mode), Enforced: t.Decision.Enforced, VLAN: t.Decision.VLAN, Reasons: reasons,
		Notes: t.Decision.Summary(), Time: n.now().UTC(),
	}
	if len(d.MACs) > 0 {
		e.MAC = d.MACs[0]
	}
	res, err := n.sender.Send(ctx, e)
	outcome, msg := "ok", fmt.Sprintf("%s delivered (HTTP %d, %d attempt(s))", t.Kind, res.Status, res.Attempts)
	if err != nil {
		outcome, msg = "error", err.Error()
	}
	return errors.Join(err, n.store.RecordNACEvent(ctx, firmward.NACEvent{
		DeviceID: d.ID, Kind: firmward.NACEventWebhook, Actor: "firmward", Enforced: t.Decision.Enforced, Outcome: outcome, Message: msg,
	}))
}
