package firmward

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChannelType is how a notification channel reaches people.
type ChannelType string

// Channel types.
const (
	ChannelEmail   ChannelType = "email"   // SMTP, STARTTLS when offered
	ChannelWebhook ChannelType = "webhook" // JSON POST signed with HMAC-SHA256
	ChannelNtfy    ChannelType = "ntfy"    // ntfy-compatible push: POST URL/topic
)

// ChannelTypes lists every channel type.
var ChannelTypes = []ChannelType{ChannelEmail, ChannelWebhook, ChannelNtfy}

// SMTP transport security of an e-mail channel.
const (
	SMTPStartTLS        = "starttls"         // upgrade with STARTTLS when the server offers it (default)
	SMTPRequireStartTLS = "require-starttls" // refuse to send unless the server offers STARTTLS
	SMTPTLS             = "tls"              // implicit TLS from the first byte (port 465)
	SMTPNone            = "none"             // never upgrade (loopback relays)
)

// SMTPModes lists the SMTP transport security modes.
var SMTPModes = []string{SMTPStartTLS, SMTPRequireStartTLS, SMTPTLS, SMTPNone}

// Notification audit actions: every change of the configuration.
const (
	ActionNotifyChannelCreate   = "notify.channel.create"
	ActionNotifyChannelUpdate   = "notify.channel.update"
	ActionNotifyChannelDelete   = "notify.channel.delete"
	ActionNotifyRecipientCreate = "notify.recipient.create"
	ActionNotifyRecipientUpdate = "notify.recipient.update"
	ActionNotifyRecipientDelete = "notify.recipient.delete"
)

// NotifyChannel is one way of sending: an SMTP relay, a webhook URL or an
// ntfy server. Secret is the SMTP password, the webhook's HMAC key or the
// ntfy access token: it is write-only (stores seal it and never return
// it; HasSecret says whether one is set). An update with an empty Secret
// keeps the stored one; ClearSecret removes it.
type NotifyChannel struct {
	ID      int64       `json:"id"`
	Name    string      `json:"name"`
	Type    ChannelType `json:"type"`
	Enabled bool        `json:"enabled"`
	// E-mail.
	SMTPHost string `json:"smtp_host,omitempty"`
	SMTPPort int    `json:"smtp_port,omitempty"`
	SMTPUser string `json:"smtp_user,omitempty"`
	SMTPMode string `json:"smtp_mode,omitempty"`
	From     string `json:"from,omitempty"`
	// Webhook and ntfy.
	URL   string `json:"url,omitempty"`
	Topic string `json:"topic,omitempty"` // ntfy topic, appended to URL

	Secret      string    `json:"secret,omitempty"` // input only
	ClearSecret bool      `json:"clear_secret,omitempty"`
	HasSecret   bool      `json:"has_secret"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// MaxNotifySecret bounds a channel secret.
const MaxNotifySecret = 1000

// Normalize canonicalises c and checks it: a name, a known type, and the
// fields its type needs (host and sender for e-mail; an http(s) URL for
// webhook and ntfy, plus a topic for ntfy). EINVALID names each bad field.
func (c *NotifyChannel) Normalize() error {
	v := &validator{}
	c.Name = v.text("name", c.Name, 100)
	if c.Name == "" {
		v.add("name", "", "is required")
	}
	c.Type = enum(v, "type", c.Type, ChannelTypes, "")
	if c.Type == "" {
		v.add("type", "", "is required: email, webhook or ntfy")
	}
	if len(c.Secret) > MaxNotifySecret || strings.ContainsAny(c.Secret, "\x00\r\n") {
		v.add("secret", "", fmt.Sprintf("must be one line of at most %d bytes", MaxNotifySecret))
	}
	c.SMTPHost = v.text("smtp_host", c.SMTPHost, 253)
	c.SMTPUser = v.text("smtp_user", c.SMTPUser, 200)
	c.From = v.text("from", c.From, 300)
	c.URL = v.text("url", c.URL, 2000)
	c.Topic = v.text("topic", c.Topic, 64)
	switch c.Type {
	case ChannelEmail:
		if c.SMTPHost == "" || strings.ContainsAny(c.SMTPHost, " /:@\r\n") {
			v.add("smtp_host", c.SMTPHost, "must be a host name or address (no port: use smtp_port)")
		}
		if c.SMTPPort == 0 {
			c.SMTPPort = 587
			if c.SMTPMode == SMTPTLS {
				c.SMTPPort = 465
			}
		}
		if c.SMTPPort < 1 || c.SMTPPort > 65535 {
			v.add("smtp_port", strconv.Itoa(c.SMTPPort), "must be a port number 1-65535")
		}
		if c.SMTPMode = strings.ToLower(strings.TrimSpace(c.SMTPMode)); c.SMTPMode == "" {
			c.SMTPMode = SMTPStartTLS
		}
		if !slices.Contains(SMTPModes, c.SMTPMode) {
			v.add("smtp_mode", c.SMTPMode, "must be one of "+strings.Join(SMTPModes, ", "))
		}
		if strings.ContainsAny(c.SMTPUser, "\r\n") {
			v.add("smtp_user", "", "must be one line")
		}
		if a, err := mail.ParseAddress(c.From); err != nil {
			v.add("from", c.From, "must be an e-mail address")
		} else {
			c.From = a.String()
		}
		c.URL, c.Topic = "", ""
	case ChannelWebhook, ChannelNtfy:
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			v.add("url", c.URL, "must be an http:// or https:// URL without credentials")
		}
		if c.Type == ChannelNtfy {
			if c.Topic == "" || strings.ContainsAny(c.Topic, "/?#% ") {
				v.add("topic", c.Topic, "is required: letters, digits, - and _")
			}
		} else {
			c.Topic = ""
		}
		c.SMTPHost, c.SMTPPort, c.SMTPUser, c.SMTPMode, c.From = "", 0, "", "", ""
	}
	return v.err("invalid notification channel")
}

// Notification modes of a recipient.
const (
	NotifyImmediate = "immediate" // each alert as it comes (digest kinds still daily)
	NotifyDigest    = "digest"    // everything once a day
)

// DigestKinds are the kinds that are only ever sent in the daily digest:
// they describe a state (what is due, what is overdue), not an event.
var DigestKinds = []string{AlertCheckDue, AlertSLAOverdue}

// NotifyKinds lists the alert kinds a recipient can choose from.
var NotifyKinds = []string{AlertDeviceNew, AlertKEVNew, AlertQuarantine, AlertSLAOverdue, AlertTaskAssigned, AlertCheckDue, AlertComplianceReport}

// NotifyRecipient is who gets what through which channel: the kinds
// (empty: all), the lowest severity of immediate alerts, immediate or
// daily digest (sent at DigestHour in TimeZone), and optional quiet hours
// (HH:MM to HH:MM in TimeZone; immediate alerts wait until they end).
// Address is the e-mail address of an e-mail channel; webhook and ntfy
// channels have one destination and leave it empty.
type NotifyRecipient struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	ChannelID   int64     `json:"channel_id"`
	Address     string    `json:"address,omitempty"`
	Kinds       []string  `json:"kinds"`
	MinSeverity Severity  `json:"min_severity"`
	Mode        string    `json:"mode"`
	DigestHour  int       `json:"digest_hour"`
	QuietStart  string    `json:"quiet_start,omitempty"`
	QuietEnd    string    `json:"quiet_end,omitempty"`
	TimeZone    string    `json:"time_zone"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// DefaultDigestHour is when daily digests go out, local time.
const DefaultDigestHour = 8

// Normalize canonicalises r and checks it (the channel's existence and
// type are the store's business). EINVALID names each bad field.
func (r *NotifyRecipient) Normalize() error {
	v := &validator{}
	r.Name = v.text("name", r.Name, 100)
	if r.Name == "" {
		v.add("name", "", "is required")
	}
	if r.ChannelID <= 0 {
		v.add("channel_id", "", "is required")
	}
	r.Address = v.text("address", r.Address, 300)
	if r.Address != "" {
		if a, err := mail.ParseAddress(r.Address); err != nil {
			v.add("address", r.Address, "must be an e-mail address")
		} else {
			r.Address = a.Address
		}
	}
	r.Kinds = v.list("kinds", r.Kinds, len(NotifyKinds), func(s string) (string, error) {
		s = strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(NotifyKinds, s) {
			return "", fmt.Errorf("must be one of %s", strings.Join(NotifyKinds, ", "))
		}
		return s, nil
	})
	r.MinSeverity = enum(v, "min_severity", r.MinSeverity, Severities, SeverityInfo)
	r.Mode = strings.ToLower(strings.TrimSpace(r.Mode))
	switch r.Mode {
	case "":
		r.Mode = NotifyImmediate
	case NotifyImmediate, NotifyDigest:
	default:
		v.add("mode", r.Mode, "must be immediate or digest")
	}
	if r.DigestHour < 0 || r.DigestHour > 23 {
		v.add("digest_hour", strconv.Itoa(r.DigestHour), "must be an hour 0-23")
	}
	r.QuietStart, r.QuietEnd = strings.TrimSpace(r.QuietStart), strings.TrimSpace(r.QuietEnd)
	if (r.QuietStart == "") != (r.QuietEnd == "") {
		v.add("quiet_end", r.QuietEnd, "quiet hours need both a start and an end")
	}
	for _, f := range []struct{ name, val string }{{"quiet_start", r.QuietStart}, {"quiet_end", r.QuietEnd}} {
		if _, ok := ClockMinutes(f.val); f.val != "" && !ok {
			v.add(f.name, f.val, "must be a time HH:MM")
		}
	}
	if r.TimeZone = strings.TrimSpace(r.TimeZone); r.TimeZone == "" {
		r.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(r.TimeZone); err != nil || len(r.TimeZone) > 64 {
		v.add("time_zone", r.TimeZone, "must be an IANA time zone such as Europe/Paris")
	}
	return v.err("invalid notification recipient")
}

// Wants reports whether r receives alerts of kind.
func (r *NotifyRecipient) Wants(kind string) bool {
	return r.Enabled && (len(r.Kinds) == 0 || slices.Contains(r.Kinds, kind))
}

// ClockMinutes parses "HH:MM" into minutes after midnight.
func ClockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// QuietUntil returns when the quiet hours that contain now end, or now
// itself when r has no quiet hours or now is outside them. A window whose
// end is before its start spans midnight (22:00–07:00).
func (r *NotifyRecipient) QuietUntil(now time.Time) time.Time {
	start, ok1 := ClockMinutes(r.QuietStart)
	end, ok2 := ClockMinutes(r.QuietEnd)
	if !ok1 || !ok2 || start == end {
		return now
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	m := local.Hour()*60 + local.Minute()
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	at := func(day, minutes int) time.Time {
		return midnight.AddDate(0, 0, day).Add(time.Duration(minutes) * time.Minute)
	}
	switch {
	case start < end && m >= start && m < end:
		return at(0, end)
	case start > end && m >= start:
		return at(1, end)
	case start > end && m < end:
		return at(0, end)
	}
	return now
}

// Delivery states.
const (
	DeliveryPending = "pending" // waiting for its (next) attempt
	DeliverySent    = "sent"
	DeliveryFailed  = "failed" // attempts exhausted or refused for good
)

// DeliveryStatuses lists the delivery states.
var DeliveryStatuses = []string{DeliveryPending, DeliverySent, DeliveryFailed}

// NotifyDelivery is one message to one recipient through one channel.
// (Key, ChannelID, RecipientID) is unique, so an alert or a digest is
// never queued twice, whichever replica plans it. Key is "alert:ID",
// "digest:DATE" or "test:RANDOM"; RecipientID is 0 for test messages.
// A replica sending it holds a lease (ClaimedBy until ClaimedUntil).
type NotifyDelivery struct {
	ID            int64      `json:"id"`
	Key           string     `json:"key"`
	AlertID       int64      `json:"alert_id,omitempty"`
	Kind          string     `json:"kind"`
	Severity      Severity   `json:"severity"`
	ChannelID     int64      `json:"channel_id"`
	RecipientID   int64      `json:"recipient_id"`
	Address       string     `json:"address,omitempty"`
	Subject       string     `json:"subject"`
	Body          string     `json:"body"`
	Payload       string     `json:"-"` // JSON sent to webhooks
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error,omitempty"`
	ClaimedBy     string     `json:"claimed_by,omitempty"`
	ClaimedUntil  *time.Time `json:"claimed_until,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// NotifyAttempt records one try at sending a delivery.
type NotifyAttempt struct {
	ID          int64       `json:"id"`
	DeliveryID  int64       `json:"delivery_id"`
	Time        time.Time   `json:"time"`
	ChannelID   int64       `json:"channel_id"`
	ChannelType ChannelType `json:"channel_type"`
	Recipient   string      `json:"recipient"`
	Attempt     int         `json:"attempt"`
	Outcome     string      `json:"outcome"` // sent, retry or failed
	Error       string      `json:"error,omitempty"`
}

// NotifyResult is what a sender reports after an attempt: the outcome
// (DeliverySent, DeliveryPending to retry at Next, DeliveryFailed) and the
// error text.
type NotifyResult struct {
	Outcome string
	Next    time.Time
	Error   string
	Channel *NotifyChannel
}

// NotifyDeliveryFilter selects deliveries, newest first.
type NotifyDeliveryFilter struct {
	Status    string
	ChannelID int64
	AlertID   int64
	After     int64
	Limit     int
}

// NotifyService keeps channels, recipients, the delivery queue and the
// log of attempts. Configuration changes are audited. Errors are *Error
// values: EINVALID, ENOTFOUND, ECONFLICT.
type NotifyService interface {
	CreateChannel(ctx context.Context, c *NotifyChannel) error
	UpdateChannel(ctx context.Context, c *NotifyChannel) error
	DeleteChannel(ctx context.Context, id int64) error
	FindChannelByID(ctx context.Context, id int64) (*NotifyChannel, error)
	FindChannels(ctx context.Context) ([]*NotifyChannel, error)
	// ChannelSecret returns the channel's secret in clear, for the
	// dispatcher only ("" when none).
	ChannelSecret(ctx context.Context, id int64) (string, error)

	CreateRecipient(ctx context.Context, r *NotifyRecipient) error
	UpdateRecipient(ctx context.Context, r *NotifyRecipient) error
	DeleteRecipient(ctx context.Context, id int64) error
	FindRecipientByID(ctx context.Context, id int64) (*NotifyRecipient, error)
	FindRecipients(ctx context.Context) ([]*NotifyRecipient, error)

	// EnqueueDeliveries stores new deliveries (pending) and skips those
	// whose (Key, ChannelID, RecipientID) exists; it returns how many it
	// stored.
	EnqueueDeliveries(ctx context.Context, ds []*NotifyDelivery) (int, error)
	// DeliveryExists reports whether that delivery was queued already.
	DeliveryExists(ctx context.Context, key string, channelID, recipientID int64) (bool, error)
	// ClaimDeliveries leases up to limit pending deliveries due at now
	// that no one else holds, to owner until now+lease.
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*NotifyDelivery, error)
	// ClaimDelivery leases one pending delivery to owner when no one
	// holds it, whether due or not, and reports whether it did.
	ClaimDelivery(ctx context.Context, owner string, id int64, now time.Time, lease time.Duration) (bool, error)
	// CompleteDelivery records an attempt of a delivery owner holds and
	// releases it: sent, pending again (retry at res.Next) or failed.
	// ECONFLICT when owner no longer holds the lease.
	CompleteDelivery(ctx context.Context, owner string, id int64, now time.Time, res NotifyResult) error
	FindDeliveryByID(ctx context.Context, id int64) (*NotifyDelivery, error)
	FindDeliveries(ctx context.Context, f NotifyDeliveryFilter) ([]*NotifyDelivery, int64, error)
	FindAttempts(ctx context.Context, deliveryID int64) ([]*NotifyAttempt, error)

	// AlertsAfter returns up to limit alerts with an id above after,
	// oldest first; AlertsCreated those created in [from, to).
	AlertsAfter(ctx context.Context, after int64, limit int) ([]*Alert, error)
	AlertsCreated(ctx context.Context, from, to time.Time, limit int) ([]*Alert, error)
	// Cursor reads a named position (ok false when never set);
	// AdvanceCursor moves it from old to pos and reports false when
	// another process moved it first. InitCursor sets it when unset.
	Cursor(ctx context.Context, name string) (int64, bool, error)
	InitCursor(ctx context.Context, name string, pos int64) error
	AdvanceCursor(ctx context.Context, name string, old, pos int64) (bool, error)
}

// NotifyTester sends a test message through one channel now (address:
// the e-mail recipient of an e-mail channel) and returns the recorded
// delivery, sent or failed.
type NotifyTester interface {
	SendTest(ctx context.Context, channelID int64, address string) (*NotifyDelivery, error)
}

// QuarantineAlert is the alert of a quarantine event (NACEvent kinds such
// as quarantine, release, approval): the NAC reconciler raises it through
// AlertService.RaiseAlert and notification channels send it. deviceName
// and site describe the device; the event's ID keys it, so raising the
// same event twice sends once.
func QuarantineAlert(ev *NACEvent, deviceName, site string) *Alert {
	sev := SeverityHigh
	if !strings.Contains(ev.Kind, "quarantine") {
		sev = SeverityMedium
	}
	mode := "monitor mode: not enforced"
	if ev.Enforced {
		mode = "enforced"
	}
	subject := fmt.Sprintf("%s: %s (%s)", deviceName, ev.Kind, mode)
	if ev.Message != "" {
		subject += " — " + ev.Message
	}
	if len(subject) > MaxAlertSubject {
		subject = subject[:MaxAlertSubject]
	}
	details := map[string]string{"event": ev.Kind, "actor": ev.Actor, "enforced": strconv.FormatBool(ev.Enforced)}
	if ev.Outcome != "" {
		details["outcome"] = ev.Outcome
	}
	key := fmt.Sprintf("%s:nac-event:%d", AlertQuarantine, ev.ID)
	if ev.ID == 0 {
		key = fmt.Sprintf("%s:device:%d:%s:%d", AlertQuarantine, ev.DeviceID, ev.Kind, ev.Time.UnixMicro())
	}
	return &Alert{
		Kind: AlertQuarantine, Severity: sev, Subject: subject, DeviceID: ev.DeviceID, Site: site,
		Details: details, DedupeKey: key,
	}
}

// TaskAssignedAlert is the alert telling assignee that a task was given
// to them (tasks are future work; the kind is supported already).
func TaskAssignedAlert(taskID, deviceID int64, assignee, title string) *Alert {
	return &Alert{
		Kind: AlertTaskAssigned, Severity: SeverityMedium, Subject: fmt.Sprintf("Task for %s: %s", assignee, title),
		DeviceID: deviceID, Details: map[string]string{"assignee": assignee, "task": strconv.FormatInt(taskID, 10)},
		DedupeKey: fmt.Sprintf("%s:task:%d:%s", AlertTaskAssigned, taskID, assignee),
	}
}
