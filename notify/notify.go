// Package notify sends reminders and alerts: e-mail over SMTP (STARTTLS
// when offered), signed JSON webhooks and ntfy-compatible push.
//
// A Dispatcher plans and sends. Planning turns new alerts into one
// delivery per interested recipient (immediate), builds the daily digest
// of each recipient (due health checks, overdue SLAs, and the alerts of
// the day for digest recipients), and raises kev.new alerts for findings
// that became known-exploited. Deliveries are unique per (alert or digest
// key, channel, recipient) in the store, so planning is idempotent across
// restarts and replicas; sending claims a delivery with a lease, so two
// replicas never send the same one. A failed attempt is retried with
// exponential backoff up to MaxAttempts; every attempt is recorded.
package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// Defaults of Config.
const (
	DefaultLease       = 6 * time.Minute
	DefaultMaxAttempts = 8
	DefaultBackoff     = time.Minute
	DefaultMaxBackoff  = 6 * time.Hour
	DefaultSendTimeout = 30 * time.Second
	DefaultBatch       = 10
	DefaultKEVEvery    = 5 * time.Minute
)

// Cursor names in the store.
const (
	cursorAlerts = "alerts" // the last alert id planned
	cursorKEV    = "kev"    // findings updated after this (Unix µs) are looked at
)

// Config configures a Dispatcher. Store is required; Findings, Alerts,
// Devices and Checks feed the KEV alerts and the digests and may be nil
// (that part is then skipped).
type Config struct {
	Store    firmward.NotifyService
	Alerts   firmward.AlertService   // raises kev.new; its newest alert is where planning starts on a fresh database
	Findings firmward.FindingService // KEV and overdue SLAs
	Devices  firmward.DeviceService  // device names; due checks
	Checks   firmward.CheckService   // due checks

	Owner       string           // this replica's name in leases; default host-pid-random
	Now         func() time.Time // default time.Now
	Logger      *slog.Logger
	HTTPClient  *http.Client  // webhook and ntfy; default: a client with SendTimeout
	SMTPTLS     *tls.Config   // roots for SMTP STARTTLS/TLS; nil: the system's
	Hostname    string        // EHLO and Message-ID host; default os.Hostname
	Lease       time.Duration // how long a claimed batch is held; at least (Batch+1)×SendTimeout
	MaxAttempts int
	Backoff     time.Duration // first retry delay; doubles each attempt
	MaxBackoff  time.Duration
	SendTimeout time.Duration
	Batch       int
	KEVEvery    time.Duration // how often findings are scanned for new KEVs
	BaseURL     string        // of the web UI, for links in messages ("" leaves them out)
}

// Dispatcher plans and sends notifications. Tick does one round; Run
// calls Tick on every value of a channel (the caller owns the ticker).
// It is safe for one goroutine; SendTest may run beside it.
type Dispatcher struct {
	cfg    Config
	send   sender
	log    *slog.Logger
	now    func() time.Time
	kevAt  time.Time              // last KEV scan (only touched by Tick)
	digest map[string]time.Time   // recipient/day keys looked at (only touched by Tick)
	base   atomic.Pointer[string] // Config.BaseURL, or what SetBaseURL set
}

// SetBaseURL sets the URL of the web UI that messages link to (see
// Config.BaseURL), for a server that knows its address only once it
// listens.
func (d *Dispatcher) SetBaseURL(u string) { d.base.Store(&u) }

func (d *Dispatcher) baseURL() string {
	if p := d.base.Load(); p != nil {
		return *p
	}
	return d.cfg.BaseURL
}

// New returns a Dispatcher. An error when Store is missing.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil {
		return nil, errors.New("notify: a store is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	// A batch is sent one by one under one lease: it must outlast the
	// slowest batch, or another replica would take over and send again.
	if minLease := time.Duration(cfg.Batch+1) * cfg.SendTimeout; cfg.Lease < minLease {
		cfg.Lease = minLease
	}
	if cfg.KEVEvery <= 0 {
		cfg.KEVEvery = DefaultKEVEvery
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
		if cfg.Hostname == "" {
			cfg.Hostname = "firmward.invalid"
		}
	}
	if cfg.Owner == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.Owner = cfg.Hostname + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.SendTimeout}
	}
	return &Dispatcher{
		cfg: cfg, log: cfg.Logger, now: cfg.Now, digest: map[string]time.Time{},
		send: sender{client: cfg.HTTPClient, tlsConfig: cfg.SMTPTLS, timeout: cfg.SendTimeout, hostname: cfg.Hostname},
	}, nil
}

// Owner returns the name this dispatcher claims deliveries under.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// Run calls Tick on every value of tick until ctx ends; errors are logged.
func (d *Dispatcher) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		if err := d.Tick(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("notification round failed", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// Tick does one round: new KEV alerts (every KEVEvery), planning of new
// alerts and due digests, then sending every due delivery. The first
// failing step's error is returned after the others ran.
func (d *Dispatcher) Tick(ctx context.Context) error {
	var errs []error
	if d.cfg.Alerts != nil && d.cfg.Findings != nil && !d.now().Before(d.kevAt.Add(d.cfg.KEVEvery)) {
		if _, err := d.RaiseKEV(ctx); err != nil {
			errs = append(errs, err)
		} else {
			d.kevAt = d.now()
		}
	}
	if _, err := d.PlanAlerts(ctx); err != nil {
		errs = append(errs, err)
	}
	if _, err := d.PlanDigests(ctx); err != nil {
		errs = append(errs, err)
	}
	if _, err := d.SendDue(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// --- KEV ---

// RaiseKEV raises a kev.new alert for every open KEV finding changed
// since the last look (the first look only sets the mark: what is known
// at installation is in the digest, not a flood of alerts). The alert is
// keyed by finding, so each finding alerts once, whichever replica looks.
// It returns how many alerts were new.
func (d *Dispatcher) RaiseKEV(ctx context.Context) (int, error) {
	store := d.cfg.Store
	start := d.now().UTC()
	mark, ok, err := store.Cursor(ctx, cursorKEV)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, store.InitCursor(ctx, cursorKEV, start.UnixMicro())
	}
	since := time.UnixMicro(mark).UTC()
	names := map[int64]*firmward.Device{}
	raised := 0
	f := firmward.FindingFilter{KEV: true, Status: firmward.FindingOpen, Limit: firmward.MaxPageSize}
	for {
		list, next, err := d.cfg.Findings.FindFindings(ctx, f)
		if err != nil {
			return raised, fmt.Errorf("listing KEV findings: %w", err)
		}
		for _, fi := range list {
			if !fi.UpdatedAt.After(since) {
				continue
			}
			a := d.kevAlert(ctx, fi, names)
			created, err := d.cfg.Alerts.RaiseAlert(ctx, a)
			if err != nil {
				return raised, fmt.Errorf("raising the KEV alert of finding %d: %w", fi.ID, err)
			}
			if created {
				raised++
			}
		}
		if next == "" {
			break
		}
		f.After = next
	}
	// Findings written while we looked may carry an earlier time: look a
	// minute back next time (the alerts are idempotent).
	newMark := start.Add(-time.Minute).UnixMicro()
	if newMark > mark {
		if _, err := store.AdvanceCursor(ctx, cursorKEV, mark, newMark); err != nil {
			return raised, err
		}
	}
	return raised, nil
}

func (d *Dispatcher) kevAlert(ctx context.Context, fi *firmward.Finding, names map[int64]*firmward.Device) *firmward.Alert {
	name := "device " + strconv.FormatInt(fi.DeviceID, 10)
	site := ""
	if d.cfg.Devices != nil {
		dev, ok := names[fi.DeviceID]
		if !ok {
			dev, _ = d.cfg.Devices.FindDeviceByID(ctx, fi.DeviceID)
			names[fi.DeviceID] = dev
		}
		if dev != nil {
			name, site = dev.Name, dev.Site
		}
	}
	details := map[string]string{"cve": fi.CVE, "finding": strconv.FormatInt(fi.ID, 10)}
	if fi.KEVDueDate != "" {
		details["kev_due_date"] = fi.KEVDueDate
	}
	if fi.DueDate != nil {
		details["due_date"] = fi.DueDate.Format(firmward.DateLayout)
	}
	return &firmward.Alert{
		Kind: firmward.AlertKEVNew, Severity: firmward.SeverityCritical,
		Subject:  fmt.Sprintf("%s is exploited in the wild and affects %s", fi.CVE, name),
		DeviceID: fi.DeviceID, Site: site, Details: details,
		DedupeKey: firmward.AlertKEVNew + ":finding:" + strconv.FormatInt(fi.ID, 10),
	}
}

// --- planning ---

// severityRank orders severities, info lowest.
func severityRank(s firmward.Severity) int { return slices.Index(firmward.Severities, s) }

// PlanAlerts queues one delivery per alert raised since the last round
// and per enabled recipient in immediate mode that wants its kind and
// severity (digest kinds wait for the digest). Quiet hours push the
// first attempt to their end. The first round only sets the mark. It
// returns the number of deliveries queued.
func (d *Dispatcher) PlanAlerts(ctx context.Context) (int, error) {
	store := d.cfg.Store
	mark, ok, err := store.Cursor(ctx, cursorAlerts)
	if err != nil {
		return 0, err
	}
	if !ok {
		latest, err := d.latestAlertID(ctx)
		if err != nil {
			return 0, err
		}
		return 0, store.InitCursor(ctx, cursorAlerts, latest)
	}
	recipients, channels, err := d.audience(ctx)
	if err != nil {
		return 0, err
	}
	queued := 0
	for {
		alerts, err := store.AlertsAfter(ctx, mark, 500)
		if err != nil {
			return queued, err
		}
		if len(alerts) == 0 {
			return queued, nil
		}
		var batch []*firmward.NotifyDelivery
		now := d.now().UTC()
		for _, a := range alerts {
			if slices.Contains(firmward.DigestKinds, a.Kind) {
				continue
			}
			for _, r := range recipients {
				ch := channels[r.ChannelID]
				if ch == nil || r.Mode != firmward.NotifyImmediate || !r.Wants(a.Kind) || severityRank(a.Severity) < severityRank(r.MinSeverity) {
					continue
				}
				batch = append(batch, d.alertDelivery(a, r, r.QuietUntil(now)))
			}
		}
		n, err := store.EnqueueDeliveries(ctx, batch)
		queued += n
		if err != nil {
			return queued, err
		}
		last := alerts[len(alerts)-1].ID
		moved, err := store.AdvanceCursor(ctx, cursorAlerts, mark, last)
		if err != nil {
			return queued, err
		}
		if !moved { // another replica planned these; start over from its mark
			if mark, _, err = store.Cursor(ctx, cursorAlerts); err != nil {
				return queued, err
			}
			continue
		}
		mark = last
	}
}

func (d *Dispatcher) latestAlertID(ctx context.Context) (int64, error) {
	if d.cfg.Alerts == nil {
		return 0, nil
	}
	list, _, err := d.cfg.Alerts.FindAlerts(ctx, firmward.AlertFilter{Limit: 1})
	if err != nil || len(list) == 0 {
		return 0, err
	}
	return list[0].ID, nil
}

// audience returns the enabled recipients and their enabled channels.
func (d *Dispatcher) audience(ctx context.Context) ([]*firmward.NotifyRecipient, map[int64]*firmward.NotifyChannel, error) {
	rs, err := d.cfg.Store.FindRecipients(ctx)
	if err != nil {
		return nil, nil, err
	}
	chs, err := d.cfg.Store.FindChannels(ctx)
	if err != nil {
		return nil, nil, err
	}
	channels := map[int64]*firmward.NotifyChannel{}
	for _, c := range chs {
		if c.Enabled {
			channels[c.ID] = c
		}
	}
	out := rs[:0]
	for _, r := range rs {
		if r.Enabled && channels[r.ChannelID] != nil {
			out = append(out, r)
		}
	}
	return out, channels, nil
}

// Payload is the JSON body of a webhook.
type Payload struct {
	Delivery string            `json:"delivery"` // stable across retries: deduplicate on it
	Kind     string            `json:"kind"`
	Severity firmward.Severity `json:"severity"`
	Subject  string            `json:"subject"`
	Text     string            `json:"text"`
	Alert    *firmward.Alert   `json:"alert,omitempty"`
	Digest   *Digest           `json:"digest,omitempty"`
	Test     bool              `json:"test,omitempty"`
}

func (d *Dispatcher) alertDelivery(a *firmward.Alert, r *firmward.NotifyRecipient, at time.Time) *firmward.NotifyDelivery {
	key := "alert:" + strconv.FormatInt(a.ID, 10)
	body := alertText(a, d.baseURL())
	p, _ := json.Marshal(Payload{Delivery: key, Kind: a.Kind, Severity: a.Severity, Subject: a.Subject, Text: body, Alert: a})
	return &firmward.NotifyDelivery{
		Key: key, AlertID: a.ID, Kind: a.Kind, Severity: a.Severity, ChannelID: r.ChannelID, RecipientID: r.ID,
		Address: r.Address, Subject: "[firmward] " + a.Subject, Body: body, Payload: string(p), NextAttemptAt: at,
	}
}

// alertText is the plain-text body of one alert.
func alertText(a *firmward.Alert, baseURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nKind: %s\nSeverity: %s\n", a.Subject, a.Kind, a.Severity)
	if a.Site != "" {
		fmt.Fprintf(&b, "Site: %s\n", a.Site)
	}
	if a.DeviceID > 0 {
		fmt.Fprintf(&b, "Device: %d\n", a.DeviceID)
		if baseURL != "" {
			fmt.Fprintf(&b, "%s/devices/%d\n", strings.TrimSuffix(baseURL, "/"), a.DeviceID)
		}
	}
	keys := make([]string, 0, len(a.Details))
	for k := range a.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := a.Details[k]
		if baseURL != "" && strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
			v = strings.TrimSuffix(baseURL, "/") + v // a link into the web UI or the API
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	fmt.Fprintf(&b, "\nRaised %s (alert %d).\n", a.CreatedAt.UTC().Format(time.RFC3339), a.ID)
	return b.String()
}

// --- digests ---

// Digest is the daily summary of one recipient.
type Digest struct {
	Date           string            `json:"date"`
	DueChecks      []DueCheck        `json:"due_checks,omitempty"`
	DueChecksTotal int               `json:"due_checks_total"`
	Overdue        []OverdueFinding  `json:"overdue,omitempty"`
	OverdueTotal   int               `json:"overdue_total"`
	Alerts         []*firmward.Alert `json:"alerts,omitempty"`
}

// DueCheck is a device whose health check is due.
type DueCheck struct {
	DeviceID int64     `json:"device_id"`
	Name     string    `json:"name"`
	Site     string    `json:"site,omitempty"`
	DueDate  time.Time `json:"due_date"`
}

// OverdueFinding is a finding past its SLA due date.
type OverdueFinding struct {
	FindingID int64     `json:"finding_id"`
	DeviceID  int64     `json:"device_id"`
	CVE       string    `json:"cve"`
	KEV       bool      `json:"kev"`
	DueDate   time.Time `json:"due_date"`
}

// digestListed bounds the items listed in a digest (totals say the rest).
const digestListed = 25

// fleetState is what every digest of one round shares, read once.
type fleetState struct {
	checks       []DueCheck
	checksTotal  int
	overdue      []OverdueFinding
	overdueTotal int
}

// PlanDigests queues the digest of every enabled recipient whose digest
// hour has come today (its time zone) and who has none for today yet.
// A digest with nothing in it is not sent. It returns how many it queued.
func (d *Dispatcher) PlanDigests(ctx context.Context) (int, error) {
	recipients, _, err := d.audience(ctx)
	if err != nil {
		return 0, err
	}
	now := d.now().UTC()
	var fleet *fleetState
	queued := 0
	for _, r := range recipients {
		loc, err := time.LoadLocation(r.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		local := now.In(loc)
		if local.Hour() < r.DigestHour {
			continue
		}
		day := local.Format(firmward.DateLayout)
		key := "digest:" + day
		seen := strconv.FormatInt(r.ID, 10) + "/" + day
		if _, ok := d.digest[seen]; ok {
			continue
		}
		exists, err := d.cfg.Store.DeliveryExists(ctx, key, r.ChannelID, r.ID)
		if err != nil {
			return queued, err
		}
		if exists {
			d.digest[seen] = now
			continue
		}
		if fleet == nil {
			if fleet, err = d.readFleet(ctx, now); err != nil {
				return queued, err
			}
		}
		end := time.Date(local.Year(), local.Month(), local.Day(), r.DigestHour, 0, 0, 0, loc)
		dg, err := d.buildDigest(ctx, r, fleet, day, end.AddDate(0, 0, -1), end)
		if err != nil {
			return queued, err
		}
		d.digest[seen] = now
		if dg == nil {
			continue
		}
		body := digestText(dg, d.baseURL())
		subject := fmt.Sprintf("[firmward] Daily digest %s: %d checks due, %d overdue, %d alerts", day, dg.DueChecksTotal, dg.OverdueTotal, len(dg.Alerts))
		p, _ := json.Marshal(Payload{Delivery: key, Kind: "digest", Severity: firmward.SeverityInfo, Subject: subject, Text: body, Digest: dg})
		n, err := d.cfg.Store.EnqueueDeliveries(ctx, []*firmward.NotifyDelivery{{
			Key: key, Kind: "digest", Severity: firmward.SeverityInfo, ChannelID: r.ChannelID, RecipientID: r.ID,
			Address: r.Address, Subject: subject, Body: body, Payload: string(p), NextAttemptAt: now,
		}})
		queued += n
		if err != nil {
			return queued, err
		}
	}
	// Forget what is older than two days.
	for k, t := range d.digest {
		if now.Sub(t) > 48*time.Hour {
			delete(d.digest, k)
		}
	}
	return queued, nil
}

func (d *Dispatcher) readFleet(ctx context.Context, now time.Time) (*fleetState, error) {
	fs := &fleetState{}
	if d.cfg.Findings != nil {
		f := firmward.FindingFilter{Overdue: true, Now: now, Status: firmward.FindingOpen, Limit: firmward.MaxPageSize}
		for {
			list, next, err := d.cfg.Findings.FindFindings(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("listing overdue findings: %w", err)
			}
			for _, fi := range list {
				fs.overdueTotal++
				if len(fs.overdue) < digestListed && fi.DueDate != nil {
					fs.overdue = append(fs.overdue, OverdueFinding{FindingID: fi.ID, DeviceID: fi.DeviceID, CVE: fi.CVE, KEV: fi.KEV, DueDate: *fi.DueDate})
				}
			}
			if next == "" {
				break
			}
			f.After = next
		}
	}
	if d.cfg.Devices != nil && d.cfg.Checks != nil {
		rules, err := d.cfg.Checks.FindCheckCadences(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading check cadences: %w", err)
		}
		last, err := d.cfg.Checks.LastHealthChecks(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading health checks: %w", err)
		}
		var after int64
		for {
			devs, next, err := d.cfg.Devices.FindDevices(ctx, firmward.DeviceFilter{After: after, Limit: firmward.MaxPageSize})
			if err != nil {
				return nil, fmt.Errorf("listing devices: %w", err)
			}
			for _, st := range lifecycle.Statuses(rules, devs, last, now) {
				if !st.Due {
					continue
				}
				fs.checksTotal++
				if len(fs.checks) < digestListed {
					fs.checks = append(fs.checks, DueCheck{DeviceID: st.DeviceID, Name: st.Name, Site: st.Site, DueDate: st.DueDate})
				}
			}
			if next == 0 {
				break
			}
			after = next
		}
	}
	return fs, nil
}

// buildDigest returns r's digest, or nil when there is nothing to say.
func (d *Dispatcher) buildDigest(ctx context.Context, r *firmward.NotifyRecipient, fs *fleetState, day string, from, to time.Time) (*Digest, error) {
	dg := &Digest{Date: day}
	if r.Wants(firmward.AlertCheckDue) {
		dg.DueChecks, dg.DueChecksTotal = fs.checks, fs.checksTotal
	}
	if r.Wants(firmward.AlertSLAOverdue) {
		dg.Overdue, dg.OverdueTotal = fs.overdue, fs.overdueTotal
	}
	if r.Mode == firmward.NotifyDigest {
		alerts, err := d.cfg.Store.AlertsCreated(ctx, from, to, firmward.MaxPageSize)
		if err != nil {
			return nil, err
		}
		for _, a := range alerts {
			if !slices.Contains(firmward.DigestKinds, a.Kind) && r.Wants(a.Kind) && severityRank(a.Severity) >= severityRank(r.MinSeverity) {
				dg.Alerts = append(dg.Alerts, a)
			}
		}
	}
	if dg.DueChecksTotal == 0 && dg.OverdueTotal == 0 && len(dg.Alerts) == 0 {
		return nil, nil //nolint:nilnil // nothing to send is not an error
	}
	return dg, nil
}

func digestText(dg *Digest, baseURL string) string {
	var b strings.Builder
	base := strings.TrimSuffix(baseURL, "/")
	fmt.Fprintf(&b, "firmward daily digest, %s\n", dg.Date)
	if dg.DueChecksTotal > 0 {
		fmt.Fprintf(&b, "\nHealth checks due: %d\n", dg.DueChecksTotal)
		for _, c := range dg.DueChecks {
			fmt.Fprintf(&b, "- %s (device %d%s), due since %s\n", c.Name, c.DeviceID, siteText(c.Site), c.DueDate.Format(firmward.DateLayout))
		}
		if more := dg.DueChecksTotal - len(dg.DueChecks); more > 0 {
			fmt.Fprintf(&b, "- and %d more\n", more)
		}
		if base != "" {
			fmt.Fprintf(&b, "Walk through them: %s/checks\n", base)
		}
	}
	if dg.OverdueTotal > 0 {
		fmt.Fprintf(&b, "\nFindings past their SLA due date: %d\n", dg.OverdueTotal)
		for _, f := range dg.Overdue {
			kev := ""
			if f.KEV {
				kev = ", KEV"
			}
			fmt.Fprintf(&b, "- %s on device %d%s, due %s\n", f.CVE, f.DeviceID, kev, f.DueDate.Format(firmward.DateLayout))
		}
		if more := dg.OverdueTotal - len(dg.Overdue); more > 0 {
			fmt.Fprintf(&b, "- and %d more\n", more)
		}
		if base != "" {
			fmt.Fprintf(&b, "See them: %s/risk\n", base)
		}
	}
	if len(dg.Alerts) > 0 {
		fmt.Fprintf(&b, "\nAlerts since the last digest: %d\n", len(dg.Alerts))
		for _, a := range dg.Alerts {
			fmt.Fprintf(&b, "- [%s] %s: %s\n", a.Severity, a.Kind, a.Subject)
		}
	}
	return b.String()
}

func siteText(site string) string {
	if site == "" {
		return ""
	}
	return ", site " + site
}

// --- sending ---

// SendDue claims the due deliveries in batches and sends them, until none
// is left. It returns how many it attempted.
func (d *Dispatcher) SendDue(ctx context.Context) (int, error) {
	n := 0
	for range 1000 { // bounded: 1000 batches per round at most
		claimed, err := d.cfg.Store.ClaimDeliveries(ctx, d.cfg.Owner, d.now(), d.cfg.Lease, d.cfg.Batch)
		if err != nil {
			return n, err
		}
		if len(claimed) == 0 {
			return n, nil
		}
		for _, dl := range claimed {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			if dl.ClaimedUntil != nil && d.now().Add(d.cfg.SendTimeout).After(*dl.ClaimedUntil) {
				// Too little of the lease is left to finish: let it run out
				// and be claimed again rather than risk a second send.
				continue
			}
			d.attempt(ctx, dl)
			n++
		}
	}
	return n, nil
}

// backoff is the delay before attempt number attempts+1.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	wait := d.cfg.Backoff
	for i := 1; i < attempts && wait < d.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, d.cfg.MaxBackoff)
}

// attempt sends one claimed delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, dl *firmward.NotifyDelivery) {
	res := firmward.NotifyResult{Outcome: firmward.DeliverySent}
	ch, err := d.cfg.Store.FindChannelByID(ctx, dl.ChannelID)
	var secret string
	switch {
	case firmward.ErrorCode(err) == firmward.ENOTFOUND:
		err = permanent(fmt.Errorf("channel %d was deleted", dl.ChannelID))
	case err == nil && !ch.Enabled && dl.RecipientID != 0:
		err = permanent(fmt.Errorf("channel %d (%s) is disabled", ch.ID, ch.Name))
	case err == nil:
		res.Channel = ch
		if secret, err = d.cfg.Store.ChannelSecret(ctx, ch.ID); err == nil {
			err = d.send.send(ctx, ch, secret, dl, d.now())
		}
	}
	now := d.now()
	if err != nil {
		res.Error = err.Error()
		switch {
		case isPermanent(err) || dl.Attempts+1 >= d.cfg.MaxAttempts:
			res.Outcome = firmward.DeliveryFailed
		default:
			res.Outcome = firmward.DeliveryPending
			res.Next = now.Add(d.backoff(dl.Attempts + 1))
		}
	}
	log := d.log.With(slog.Int64("delivery", dl.ID), slog.String("key", dl.Key), slog.Int64("channel", dl.ChannelID), slog.Int("attempt", dl.Attempts+1))
	if cerr := d.cfg.Store.CompleteDelivery(ctx, d.cfg.Owner, dl.ID, now, res); cerr != nil {
		log.Warn("recording a notification attempt", slog.Any("err", cerr))
	}
	switch res.Outcome {
	case firmward.DeliverySent:
		log.Info("notification sent")
	case firmward.DeliveryPending:
		log.Warn("notification failed; will retry", slog.Time("next", res.Next), slog.String("err", res.Error))
	default:
		log.Error("notification failed for good", slog.String("err", res.Error))
	}
}

// SendTest queues a test message to channel channelID (address: the
// e-mail recipient of an e-mail channel), sends it now and returns the
// delivery as recorded (sent, or failed with its error; a test is not
// retried).
func (d *Dispatcher) SendTest(ctx context.Context, channelID int64, address string) (*firmward.NotifyDelivery, error) {
	ch, err := d.cfg.Store.FindChannelByID(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if ch.Type == firmward.ChannelEmail && strings.TrimSpace(address) == "" {
		return nil, &firmward.Error{
			Code: firmward.EINVALID, Message: "a test e-mail needs an address",
			Details: []firmward.ErrorDetail{{Field: "address", Reason: "is required for an e-mail channel"}},
		}
	}
	if ch.Type != firmward.ChannelEmail {
		address = ""
	}
	now := d.now().UTC()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	key := "test:" + hex.EncodeToString(b)
	subject := "[firmward] Test message from channel " + ch.Name
	body := fmt.Sprintf("This is a test message from firmward, sent %s through the %s channel %q.\nIf you read it, the channel works.\n",
		now.Format(time.RFC3339), ch.Type, ch.Name)
	p, _ := json.Marshal(Payload{Delivery: key, Kind: "test", Severity: firmward.SeverityInfo, Subject: subject, Text: body, Test: true})
	dl := &firmward.NotifyDelivery{
		Key: key, Kind: "test", Severity: firmward.SeverityInfo, ChannelID: ch.ID, Address: strings.TrimSpace(address),
		Subject: subject, Body: body, Payload: string(p), NextAttemptAt: now,
	}
	if _, err := d.cfg.Store.EnqueueDeliveries(ctx, []*firmward.NotifyDelivery{dl}); err != nil {
		return nil, err
	}
	claimed, err := d.cfg.Store.ClaimDelivery(ctx, d.cfg.Owner, dl.ID, d.now(), d.cfg.Lease)
	if err != nil {
		return nil, err
	}
	if claimed { // else a round of this or another replica took it and sends it
		res := firmward.NotifyResult{Outcome: firmward.DeliverySent, Channel: ch}
		secret, err := d.cfg.Store.ChannelSecret(ctx, ch.ID)
		if err == nil {
			err = d.send.send(ctx, ch, secret, dl, d.now())
		}
		if err != nil {
			res.Outcome, res.Error = firmward.DeliveryFailed, err.Error()
		}
		if err := d.cfg.Store.CompleteDelivery(ctx, d.cfg.Owner, dl.ID, d.now(), res); err != nil {
			return nil, err
		}
	}
	return d.cfg.Store.FindDeliveryByID(ctx, dl.ID)
}
