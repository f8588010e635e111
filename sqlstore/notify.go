package sqlstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// NotifyService keeps notification channels, recipients, the delivery
// queue and the log of attempts (migration 0009).
//
// Channel secrets (SMTP password, webhook HMAC key, ntfy token) are sealed
// with AES-256-GCM under a 32-byte key kept outside the database (the
// server keeps it in DATA/notify-secrets.key, mode 0600; every replica
// needs the same file). The channel id is the additional data, so a
// sealed secret copied to another channel does not open. Without a key
// a channel cannot have a secret.
type NotifyService struct {
	db  *DB
	key []byte
}

var _ firmward.NotifyService = (*NotifyService)(nil)

// NotifyOptions configure NewNotifyService.
type NotifyOptions struct {
	// SecretKey (32 bytes) seals channel secrets; nil refuses them.
	SecretKey []byte
}

// NewNotifyService returns the notification store of db. An error when
// the key is not 32 bytes.
func NewNotifyService(db *DB, opts NotifyOptions) (*NotifyService, error) {
	if opts.SecretKey != nil && len(opts.SecretKey) != 32 {
		return nil, fmt.Errorf("sqlstore: the notification secret key must be 32 bytes, not %d", len(opts.SecretKey))
	}
	return &NotifyService{db: db, key: opts.SecretKey}, nil
}

// --- secrets ---

func (s *NotifyService) aead() (cipher.AEAD, error) {
	if s.key == nil {
		return nil, firmward.Errorf(firmward.EINVALID, "no key to seal channel secrets with: the server keeps it in DATA/notify-secrets.key")
	}
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, fmt.Errorf("notification secret key: %w", err)
	}
	return cipher.NewGCM(block)
}

func (s *NotifyService) seal(id int64, secret string) (string, error) {
	if secret == "" {
		return "", nil
	}
	g, err := s.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("making a nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, []byte(secret), []byte(strconv.FormatInt(id, 10)))), nil
}

func (s *NotifyService) open(id int64, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	g, err := s.aead()
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < g.NonceSize() {
		return "", fmt.Errorf("the secret of channel %d is damaged", id)
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(strconv.FormatInt(id, 10)))
	if err != nil {
		return "", fmt.Errorf("the secret of channel %d does not open with DATA/notify-secrets.key (was the key replaced?): %w", id, err)
	}
	return string(plain), nil
}

// --- channels ---

const channelColumns = "id, name, type, enabled, smtp_host, smtp_port, smtp_user, smtp_mode, mail_from, url, topic, secret_sealed <> '', created_at, updated_at"

func scanChannel(sc scanner) (*firmward.NotifyChannel, error) {
	var c firmward.NotifyChannel
	var typ string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &typ, &c.Enabled, &c.SMTPHost, &c.SMTPPort, &c.SMTPUser, &c.SMTPMode, &c.From,
		&c.URL, &c.Topic, &c.HasSecret, &created, &updated); err != nil {
		return nil, err
	}
	c.Type = firmward.ChannelType(typ)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func findChannel(ctx context.Context, c conn, id int64, lock bool) (*firmward.NotifyChannel, error) {
	q := "SELECT " + channelColumns + " FROM notify_channels WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	ch, err := scanChannel(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "notification channel %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading notification channel %d: %w", id, err)
	}
	return ch, nil
}

// channelChanges lists the audited fields of a channel; the secret only
// as set/unset.
func channelChanges(old, c *firmward.NotifyChannel) []firmward.FieldChange {
	if old == nil {
		old = &firmward.NotifyChannel{}
	}
	var out []firmward.FieldChange
	add := func(field, o, n string) {
		if o != n {
			out = append(out, firmward.FieldChange{Field: field, Old: o, New: n})
		}
	}
	port := func(p int) string {
		if p == 0 {
			return ""
		}
		return strconv.Itoa(p)
	}
	add("name", old.Name, c.Name)
	add("type", string(old.Type), string(c.Type))
	add("enabled", strconv.FormatBool(old.Enabled), strconv.FormatBool(c.Enabled))
	add("smtp_host", old.SMTPHost, c.SMTPHost)
	add("smtp_port", port(old.SMTPPort), port(c.SMTPPort))
	add("smtp_user", old.SMTPUser, c.SMTPUser)
	add("smtp_mode", old.SMTPMode, c.SMTPMode)
	add("from", old.From, c.From)
	add("url", old.URL, c.URL)
	add("topic", old.Topic, c.Topic)
	return out
}

func secretChange(had bool, c *firmward.NotifyChannel) []firmward.FieldChange {
	state := func(b bool) string {
		if b {
			return "set"
		}
		return "unset"
	}
	switch {
	case c.Secret != "":
		return []firmward.FieldChange{{Field: "secret", Old: state(had), New: "set (new)"}}
	case c.ClearSecret && had:
		return []firmward.FieldChange{{Field: "secret", Old: "set", New: "unset"}}
	}
	return nil
}

// CreateChannel validates and stores c (audited as notify.channel.create;
// the secret only as "set"). ECONFLICT when the name is taken.
func (s *NotifyService) CreateChannel(ctx context.Context, c *firmward.NotifyChannel) error {
	if err := c.Normalize(); err != nil {
		return err
	}
	if c.Secret != "" {
		if _, err := s.aead(); err != nil {
			return err
		}
	}
	now := s.db.nowUTC()
	err := s.db.write(ctx, func(tx conn) error {
		err := tx.queryRow(ctx, "INSERT INTO notify_channels (name, type, enabled, smtp_host, smtp_port, smtp_user, smtp_mode, mail_from, url, topic, created_at, updated_at) VALUES ("+inList(12)+") RETURNING id",
			c.Name, string(c.Type), c.Enabled, c.SMTPHost, c.SMTPPort, c.SMTPUser, c.SMTPMode, c.From, c.URL, c.Topic, micros(now), micros(now)).Scan(&c.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return firmward.Errorf(firmward.ECONFLICT, "a notification channel named %q exists", c.Name)
			}
			return fmt.Errorf("inserting notification channel: %w", err)
		}
		sealed, err := s.seal(c.ID, c.Secret)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE notify_channels SET secret_sealed = ? WHERE id = ?", sealed, c.ID); err != nil {
			return fmt.Errorf("storing the secret of channel %d: %w", c.ID, err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionNotifyChannelCreate, ObjectType: "notify_channel", ObjectID: strconv.FormatInt(c.ID, 10),
			Changes: append(channelChanges(nil, c), secretChange(false, c)...),
		}})
	})
	if err != nil {
		return err
	}
	c.HasSecret, c.Secret, c.ClearSecret = c.Secret != "", "", false
	c.CreatedAt, c.UpdatedAt = now, now
	return nil
}

// UpdateChannel replaces the settings of channel c.ID (an empty Secret
// keeps the stored one; ClearSecret removes it), audited as
// notify.channel.update with the changed fields. ENOTFOUND, ECONFLICT.
func (s *NotifyService) UpdateChannel(ctx context.Context, c *firmward.NotifyChannel) error {
	if err := c.Normalize(); err != nil {
		return err
	}
	now := s.db.nowUTC()
	return s.db.write(ctx, func(tx conn) error {
		old, err := findChannel(ctx, tx, c.ID, true)
		if err != nil {
			return err
		}
		changes := append(channelChanges(old, c), secretChange(old.HasSecret, c)...)
		hasSecret := old.HasSecret
		if c.Secret != "" || c.ClearSecret {
			sealed, err := s.seal(c.ID, c.Secret)
			if err != nil {
				return err
			}
			if _, err := tx.exec(ctx, "UPDATE notify_channels SET secret_sealed = ? WHERE id = ?", sealed, c.ID); err != nil {
				return fmt.Errorf("storing the secret of channel %d: %w", c.ID, err)
			}
			hasSecret = c.Secret != ""
		}
		_, err = tx.exec(ctx, "UPDATE notify_channels SET name = ?, type = ?, enabled = ?, smtp_host = ?, smtp_port = ?, smtp_user = ?, smtp_mode = ?, mail_from = ?, url = ?, topic = ?, updated_at = ? WHERE id = ?",
			c.Name, string(c.Type), c.Enabled, c.SMTPHost, c.SMTPPort, c.SMTPUser, c.SMTPMode, c.From, c.URL, c.Topic, micros(now), c.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return firmward.Errorf(firmward.ECONFLICT, "a notification channel named %q exists", c.Name)
			}
			return fmt.Errorf("updating notification channel %d: %w", c.ID, err)
		}
		c.HasSecret, c.Secret, c.ClearSecret = hasSecret, "", false
		c.CreatedAt, c.UpdatedAt = old.CreatedAt, now
		if len(changes) == 0 {
			return nil
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionNotifyChannelUpdate, ObjectType: "notify_channel", ObjectID: strconv.FormatInt(c.ID, 10),
			Changes: changes,
		}})
	})
}

// DeleteChannel removes a channel and its recipients (audited as
// notify.channel.delete); its deliveries stay in the log and pending ones
// fail at their next attempt. ENOTFOUND.
func (s *NotifyService) DeleteChannel(ctx context.Context, id int64) error {
	return s.db.write(ctx, func(tx conn) error {
		old, err := findChannel(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM notify_recipients WHERE channel_id = ?", id); err != nil {
			return fmt.Errorf("deleting the recipients of channel %d: %w", id, err)
		}
		if _, err := tx.exec(ctx, "DELETE FROM notify_channels WHERE id = ?", id); err != nil {
			return fmt.Errorf("deleting notification channel %d: %w", id, err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionNotifyChannelDelete, ObjectType: "notify_channel", ObjectID: strconv.FormatInt(id, 10),
			Changes: []firmward.FieldChange{{Field: "name", Old: old.Name}, {Field: "type", Old: string(old.Type)}},
		}})
	})
}

// FindChannelByID returns one channel (without its secret) or ENOTFOUND.
func (s *NotifyService) FindChannelByID(ctx context.Context, id int64) (*firmward.NotifyChannel, error) {
	return findChannel(ctx, s.db.read(), id, false)
}

// FindChannels returns every channel by name, without secrets.
func (s *NotifyService) FindChannels(ctx context.Context) ([]*firmward.NotifyChannel, error) {
	return queryAll(ctx, s.db.read(), "SELECT "+channelColumns+" FROM notify_channels ORDER BY name, id", nil, scanChannel, "notification channels")
}

// ChannelSecret returns the channel's secret in clear ("" when none).
// ENOTFOUND; an error when it cannot be opened with the key.
func (s *NotifyService) ChannelSecret(ctx context.Context, id int64) (string, error) {
	var sealed string
	err := s.db.read().queryRow(ctx, "SELECT secret_sealed FROM notify_channels WHERE id = ?", id).Scan(&sealed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", firmward.Errorf(firmward.ENOTFOUND, "notification channel %d not found", id)
	case err != nil:
		return "", fmt.Errorf("reading the secret of channel %d: %w", id, err)
	}
	return s.open(id, sealed)
}

// queryAll runs q and scans every row.
func queryAll[T any](ctx context.Context, c conn, q string, args []any, scan func(scanner) (*T, error), what string) ([]*T, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	defer func() { _ = rows.Close() }()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	return out, nil
}

// --- recipients ---

const recipientColumns = "id, name, channel_id, address, kinds, min_severity, mode, digest_hour, quiet_start, quiet_end, time_zone, enabled, created_at, updated_at"

func scanRecipient(sc scanner) (*firmward.NotifyRecipient, error) {
	var r firmward.NotifyRecipient
	var kinds, sev string
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.Name, &r.ChannelID, &r.Address, &kinds, &sev, &r.Mode, &r.DigestHour, &r.QuietStart, &r.QuietEnd,
		&r.TimeZone, &r.Enabled, &created, &updated); err != nil {
		return nil, err
	}
	r.Kinds = splitNonEmpty(kinds)
	r.MinSeverity = firmward.Severity(sev)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

func findRecipient(ctx context.Context, c conn, id int64, lock bool) (*firmward.NotifyRecipient, error) {
	q := "SELECT " + recipientColumns + " FROM notify_recipients WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	r, err := scanRecipient(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "notification recipient %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading notification recipient %d: %w", id, err)
	}
	return r, nil
}

func recipientChanges(old, r *firmward.NotifyRecipient) []firmward.FieldChange {
	if old == nil {
		old = &firmward.NotifyRecipient{}
	}
	var out []firmward.FieldChange
	add := func(field, o, n string) {
		if o != n {
			out = append(out, firmward.FieldChange{Field: field, Old: o, New: n})
		}
	}
	id := func(v int64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatInt(v, 10)
	}
	add("name", old.Name, r.Name)
	add("channel_id", id(old.ChannelID), id(r.ChannelID))
	add("address", old.Address, r.Address)
	add("kinds", strings.Join(old.Kinds, ";"), strings.Join(r.Kinds, ";"))
	add("min_severity", string(old.MinSeverity), string(r.MinSeverity))
	add("mode", old.Mode, r.Mode)
	add("digest_hour", id(int64(old.DigestHour)), id(int64(r.DigestHour)))
	add("quiet_start", old.QuietStart, r.QuietStart)
	add("quiet_end", old.QuietEnd, r.QuietEnd)
	add("time_zone", old.TimeZone, r.TimeZone)
	add("enabled", strconv.FormatBool(old.Enabled), strconv.FormatBool(r.Enabled))
	return out
}

// checkRecipientChannel refuses a recipient whose channel is missing, and
// an e-mail recipient without an address.
func checkRecipientChannel(ctx context.Context, tx conn, r *firmward.NotifyRecipient) error {
	ch, err := findChannel(ctx, tx, r.ChannelID, false)
	if err != nil {
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			return &firmward.Error{
				Code: firmward.EINVALID, Message: "invalid notification recipient",
				Details: []firmward.ErrorDetail{{Field: "channel_id", Value: strconv.FormatInt(r.ChannelID, 10), Reason: "no such channel"}},
			}
		}
		return err
	}
	if ch.Type == firmward.ChannelEmail && r.Address == "" {
		return &firmward.Error{
			Code: firmward.EINVALID, Message: "invalid notification recipient",
			Details: []firmward.ErrorDetail{{Field: "address", Reason: "is required for an e-mail channel"}},
		}
	}
	if ch.Type != firmward.ChannelEmail {
		r.Address = ""
	}
	return nil
}

// CreateRecipient validates and stores r (audited as
// notify.recipient.create). EINVALID when its channel does not exist or
// an e-mail recipient has no address.
func (s *NotifyService) CreateRecipient(ctx context.Context, r *firmward.NotifyRecipient) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	now := s.db.nowUTC()
	return s.db.write(ctx, func(tx conn) error {
		if err := checkRecipientChannel(ctx, tx, r); err != nil {
			return err
		}
		err := tx.queryRow(ctx, "INSERT INTO notify_recipients (name, channel_id, address, kinds, min_severity, mode, digest_hour, quiet_start, quiet_end, time_zone, enabled, created_at, updated_at) VALUES ("+inList(13)+") RETURNING id",
			r.Name, r.ChannelID, r.Address, strings.Join(r.Kinds, "\n"), string(r.MinSeverity), r.Mode, r.DigestHour, r.QuietStart, r.QuietEnd,
			r.TimeZone, r.Enabled, micros(now), micros(now)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("inserting notification recipient: %w", err)
		}
		if r.Kinds == nil {
			r.Kinds = []string{}
		}
		r.CreatedAt, r.UpdatedAt = now, now
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionNotifyRecipientCreate, ObjectType: "notify_recipient", ObjectID: strconv.FormatInt(r.ID, 10),
			Changes: recipientChanges(nil, r),
		}})
	})
}

// UpdateRecipient replaces the preferences of recipient r.ID (audited as
// notify.recipient.update with the changed fields). ENOTFOUND, EINVALID.
func (s *NotifyService) UpdateRecipient(ctx context.Context, r *firmward.NotifyRecipient) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	now := s.db.nowUTC()
	return s.db.write(ctx, func(tx conn) error {
		old, err := findRecipient(ctx, tx, r.ID, true)
		if err != nil {
			return err
		}
		if err := checkRecipientChannel(ctx, tx, r); err != nil {
			return err
		}
		_, err = tx.exec(ctx, "UPDATE notify_recipients SET name = ?, channel_id = ?, address = ?, kinds = ?, min_severity = ?, mode = ?, digest_hour = ?, quiet_start = ?, quiet_end = ?, time_zone = ?, enabled = ?, updated_at = ? WHERE id = ?",
			r.Name, r.ChannelID, r.Address, strings.Join(r.Kinds, "\n"), string(r.MinSeverity), r.Mode, r.DigestHour, r.QuietStart, r.QuietEnd,
			r.TimeZone, r.Enabled, micros(now), r.ID)
		if err != nil {
			return fmt.Errorf("updating notification recipient %d: %w", r.ID, err)
		}
		if r.Kinds == nil {
			r.Kinds = []string{}
		}
		r.CreatedAt, r.UpdatedAt = old.CreatedAt, now
		changes := recipientChanges(old, r)
		if len(changes) == 0 {
			return nil
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionNotifyRecipientUpdate, ObjectType: "notify_recipient", ObjectID: strconv.FormatInt(r.ID, 10),
			Changes: changes,
		}})
	})
}

// DeleteRecipient removes a recipient (audited); its deliveries stay in
// the log. ENOTFOUND.
func (s *NotifyService) DeleteRecipient(ctx context.Context, id int64) error {
	return s.db.write(ctx, func(tx conn) error {
		old, err := findRecipient(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM notify_recipients WHERE id = ?", id); err != nil {
			return fmt.Errorf("deleting notification recipient %d: %w", id, err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionNotifyRecipientDelete, ObjectType: "notify_recipient", ObjectID: strconv.FormatInt(id, 10),
			Changes: []firmward.FieldChange{{Field: "name", Old: old.Name}, {Field: "address", Old: old.Address}},
		}})
	})
}

// FindRecipientByID returns one recipient or ENOTFOUND.
func (s *NotifyService) FindRecipientByID(ctx context.Context, id int64) (*firmward.NotifyRecipient, error) {
	return findRecipient(ctx, s.db.read(), id, false)
}

// FindRecipients returns every recipient by name.
func (s *NotifyService) FindRecipients(ctx context.Context) ([]*firmward.NotifyRecipient, error) {
	return queryAll(ctx, s.db.read(), "SELECT "+recipientColumns+" FROM notify_recipients ORDER BY name, id", nil, scanRecipient, "notification recipients")
}

// --- deliveries ---

const deliveryColumns = "id, dedupe_key, alert_id, kind, severity, channel_id, recipient_id, address, subject, body, payload, status, attempts, next_attempt_at, last_error, claimed_by, claimed_until, sent_at, created_at"

func scanDelivery(sc scanner) (*firmward.NotifyDelivery, error) {
	var d firmward.NotifyDelivery
	var sev string
	var next, created int64
	var claimed, sent sql.NullInt64
	if err := sc.Scan(&d.ID, &d.Key, &d.AlertID, &d.Kind, &sev, &d.ChannelID, &d.RecipientID, &d.Address, &d.Subject, &d.Body, &d.Payload,
		&d.Status, &d.Attempts, &next, &d.LastError, &d.ClaimedBy, &claimed, &sent, &created); err != nil {
		return nil, err
	}
	d.Severity = firmward.Severity(sev)
	d.NextAttemptAt, d.CreatedAt = fromMicros(next), fromMicros(created)
	d.ClaimedUntil, d.SentAt = fromNullMicros(claimed), fromNullMicros(sent)
	return &d, nil
}

// maxNotifyBody bounds the stored text of a message.
const maxNotifyBody = 256 << 10

func clipText(s string, n int) string {
	s = storable(s)
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") // drops a rune cut in half
}

// EnqueueDeliveries stores new pending deliveries; one whose (Key,
// ChannelID, RecipientID) exists is skipped (ON CONFLICT DO NOTHING on
// both databases). It fills the ID of those it stored and returns their
// number. A delivery with a zero NextAttemptAt is due now.
func (s *NotifyService) EnqueueDeliveries(ctx context.Context, ds []*firmward.NotifyDelivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	now := s.db.nowUTC()
	n := 0
	err := s.db.write(ctx, func(tx conn) error {
		n = 0
		for _, d := range ds {
			if d.Key == "" || d.ChannelID <= 0 {
				return firmward.Errorf(firmward.EINVALID, "a delivery needs a key and a channel")
			}
			if d.NextAttemptAt.IsZero() {
				d.NextAttemptAt = now
			}
			if d.Payload == "" {
				d.Payload = "{}"
			}
			if d.Severity == "" {
				d.Severity = firmward.SeverityInfo
			}
			d.Status, d.CreatedAt = firmward.DeliveryPending, now
			err := tx.queryRow(ctx, "INSERT INTO notify_deliveries (dedupe_key, alert_id, kind, severity, channel_id, recipient_id, address, subject, body, payload, status, next_attempt_at, created_at) VALUES ("+inList(13)+
				") ON CONFLICT (dedupe_key, channel_id, recipient_id) DO NOTHING RETURNING id",
				clipText(d.Key, 500), d.AlertID, clipText(d.Kind, 100), string(d.Severity), d.ChannelID, d.RecipientID, clipText(d.Address, 300),
				clipText(d.Subject, firmward.MaxAlertSubject), clipText(d.Body, maxNotifyBody), clipText(d.Payload, maxNotifyBody*2), d.Status,
				micros(d.NextAttemptAt.UTC()), micros(now)).Scan(&d.ID)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				d.ID = 0 // queued already
			case err != nil:
				return fmt.Errorf("queueing delivery %s: %w", d.Key, err)
			default:
				n++
			}
		}
		return nil
	})
	return n, err
}

// DeliveryExists reports whether (key, channelID, recipientID) is queued.
func (s *NotifyService) DeliveryExists(ctx context.Context, key string, channelID, recipientID int64) (bool, error) {
	var one int
	err := s.db.read().queryRow(ctx, "SELECT 1 FROM notify_deliveries WHERE dedupe_key = ? AND channel_id = ? AND recipient_id = ?",
		storable(key), channelID, recipientID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking up delivery %s: %w", key, err)
	}
	return true, nil
}

// ClaimDeliveries leases up to limit due pending deliveries to owner
// until now+lease. One UPDATE … RETURNING claims them: on PostgreSQL the
// candidate rows are read FOR UPDATE SKIP LOCKED and the lease condition
// is checked again on the locked row, so two replicas never hold the same
// delivery; SQLite serialises writers. A lease that ran out (a replica
// died while sending) is taken over.
func (s *NotifyService) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*firmward.NotifyDelivery, error) {
	if owner == "" || lease <= 0 {
		return nil, errors.New("claiming deliveries: an owner and a lease are required")
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	nowUS, until := micros(now.UTC()), micros(now.UTC().Add(lease))
	free := "status = 'pending' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
	sub := "SELECT id FROM notify_deliveries WHERE " + free + " ORDER BY next_attempt_at, id LIMIT " + strconv.Itoa(limit)
	if s.db.dialect == postgres {
		sub += " FOR UPDATE SKIP LOCKED"
	}
	var out []*firmward.NotifyDelivery
	err := s.db.write(ctx, func(tx conn) error {
		var err error
		out, err = queryAll(ctx, tx, "UPDATE notify_deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN ("+sub+") AND "+free+" RETURNING "+deliveryColumns,
			[]any{storable(owner), until, nowUS, nowUS, nowUS, nowUS}, scanDelivery, "claimed deliveries")
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ClaimDelivery leases delivery id to owner until now+lease when it is
// pending and no one holds it; it reports whether it did.
func (s *NotifyService) ClaimDelivery(ctx context.Context, owner string, id int64, now time.Time, lease time.Duration) (bool, error) {
	var ok bool
	err := s.db.write(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, "UPDATE notify_deliveries SET claimed_by = ?, claimed_until = ? WHERE id = ? AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < ?)",
			storable(owner), micros(now.UTC().Add(lease)), id, micros(now.UTC()))
		if err != nil {
			return fmt.Errorf("claiming delivery %d: %w", id, err)
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	return ok, err
}

// CompleteDelivery records attempt number Attempts+1 of delivery id and
// releases owner's lease: sent, pending again at res.Next, or failed.
// ECONFLICT when owner no longer holds it (its lease ran out and another
// replica took it over): the attempt is still recorded.
func (s *NotifyService) CompleteDelivery(ctx context.Context, owner string, id int64, now time.Time, res firmward.NotifyResult) error {
	now = now.UTC().Truncate(time.Microsecond)
	switch res.Outcome {
	case firmward.DeliverySent, firmward.DeliveryPending, firmward.DeliveryFailed:
	default:
		return fmt.Errorf("completing delivery %d: unknown outcome %q", id, res.Outcome)
	}
	lost := false
	err := s.db.write(ctx, func(tx conn) error {
		d, err := scanDelivery(tx.queryRow(ctx, "SELECT "+deliveryColumns+" FROM notify_deliveries WHERE id = ?"+tx.db.dialect.forUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return firmward.Errorf(firmward.ENOTFOUND, "delivery %d not found", id)
		} else if err != nil {
			return fmt.Errorf("reading delivery %d: %w", id, err)
		}
		attempt := d.Attempts + 1
		outcome := res.Outcome
		if outcome == firmward.DeliveryPending {
			outcome = "retry"
		}
		var chType string
		var chID int64
		if res.Channel != nil {
			chType, chID = string(res.Channel.Type), res.Channel.ID
		} else {
			chID = d.ChannelID
		}
		recipient := d.Address
		if recipient == "" && res.Channel != nil {
			recipient = res.Channel.URL
			if res.Channel.Topic != "" {
				recipient = strings.TrimSuffix(recipient, "/") + "/" + res.Channel.Topic
			}
		}
		if _, err := tx.exec(ctx, "INSERT INTO notify_attempts (delivery_id, time, channel_id, channel_type, recipient, attempt, outcome, error) VALUES ("+inList(8)+")",
			id, micros(now), chID, chType, clipText(recipient, 2000), attempt, outcome, clipText(res.Error, 4000)); err != nil {
			return fmt.Errorf("recording an attempt of delivery %d: %w", id, err)
		}
		if d.ClaimedBy != owner || d.Status != firmward.DeliveryPending {
			lost = true // keep the attempt on record, change nothing else
			return nil
		}
		next := d.NextAttemptAt
		var sent sql.NullInt64
		switch res.Outcome {
		case firmward.DeliveryPending:
			next = res.Next
		case firmward.DeliverySent:
			sent = sql.NullInt64{Int64: micros(now), Valid: true}
		}
		_, err = tx.exec(ctx, "UPDATE notify_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, claimed_by = '', claimed_until = NULL, sent_at = ? WHERE id = ?",
			res.Outcome, attempt, micros(next.UTC()), clipText(res.Error, 4000), sent, id)
		if err != nil {
			return fmt.Errorf("completing delivery %d: %w", id, err)
		}
		return nil
	})
	if err == nil && lost {
		return firmward.Errorf(firmward.ECONFLICT, "delivery %d is no longer held by %s", id, owner)
	}
	return err
}

// FindDeliveryByID returns one delivery or ENOTFOUND.
func (s *NotifyService) FindDeliveryByID(ctx context.Context, id int64) (*firmward.NotifyDelivery, error) {
	d, err := scanDelivery(s.db.read().queryRow(ctx, "SELECT "+deliveryColumns+" FROM notify_deliveries WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "delivery %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading delivery %d: %w", id, err)
	}
	return d, nil
}

// FindDeliveries returns one page of deliveries, newest first, and the
// next cursor.
func (s *NotifyService) FindDeliveries(ctx context.Context, f firmward.NotifyDeliveryFilter) ([]*firmward.NotifyDelivery, int64, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.ChannelID > 0 {
		where, args = append(where, "channel_id = ?"), append(args, f.ChannelID)
	}
	if f.AlertID > 0 {
		where, args = append(where, "alert_id = ?"), append(args, f.AlertID)
	}
	return page(ctx, s.db.read(), deliveryColumns, "notify_deliveries", where, args, f.After, f.Limit, scanDelivery,
		func(d *firmward.NotifyDelivery) int64 { return d.ID })
}

const attemptColumns = "id, delivery_id, time, channel_id, channel_type, recipient, attempt, outcome, error"

func scanAttempt(sc scanner) (*firmward.NotifyAttempt, error) {
	var a firmward.NotifyAttempt
	var t int64
	var typ string
	if err := sc.Scan(&a.ID, &a.DeliveryID, &t, &a.ChannelID, &typ, &a.Recipient, &a.Attempt, &a.Outcome, &a.Error); err != nil {
		return nil, err
	}
	a.Time, a.ChannelType = fromMicros(t), firmward.ChannelType(typ)
	return &a, nil
}

// FindAttempts returns every attempt of a delivery, oldest first.
func (s *NotifyService) FindAttempts(ctx context.Context, deliveryID int64) ([]*firmward.NotifyAttempt, error) {
	return queryAll(ctx, s.db.read(), "SELECT "+attemptColumns+" FROM notify_attempts WHERE delivery_id = ? ORDER BY id",
		[]any{deliveryID}, scanAttempt, "delivery attempts")
}

// --- planner reads ---

// AlertsAfter returns up to limit alerts with an id above after, oldest
// first.
func (s *NotifyService) AlertsAfter(ctx context.Context, after int64, limit int) ([]*firmward.Alert, error) {
	return queryAll(ctx, s.db.read(), "SELECT "+alertColumns+" FROM alerts WHERE id > ? ORDER BY id LIMIT "+strconv.Itoa(pageSize(limit)),
		[]any{after}, scanAlert, "alerts")
}

// AlertsCreated returns up to limit alerts created in [from, to), oldest
// first.
func (s *NotifyService) AlertsCreated(ctx context.Context, from, to time.Time, limit int) ([]*firmward.Alert, error) {
	return queryAll(ctx, s.db.read(), "SELECT "+alertColumns+" FROM alerts WHERE created_at >= ? AND created_at < ? ORDER BY id LIMIT "+strconv.Itoa(pageSize(limit)),
		[]any{micros(from), micros(to)}, scanAlert, "alerts")
}

// Cursor reads a named position; ok is false when it was never set.
func (s *NotifyService) Cursor(ctx context.Context, name string) (int64, bool, error) {
	var pos int64
	err := s.db.read().queryRow(ctx, "SELECT position FROM notify_cursors WHERE name = ?", name).Scan(&pos)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("reading cursor %s: %w", name, err)
	}
	return pos, true, nil
}

// InitCursor sets a cursor that was never set; a set one stays.
func (s *NotifyService) InitCursor(ctx context.Context, name string, pos int64) error {
	return s.db.write(ctx, func(tx conn) error {
		if _, err := tx.exec(ctx, "INSERT INTO notify_cursors (name, position) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, pos); err != nil {
			return fmt.Errorf("setting cursor %s: %w", name, err)
		}
		return nil
	})
}

// AdvanceCursor moves a cursor from old to pos (compare and set) and
// reports false when it no longer was at old.
func (s *NotifyService) AdvanceCursor(ctx context.Context, name string, old, pos int64) (bool, error) {
	var moved bool
	err := s.db.write(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, "UPDATE notify_cursors SET position = ? WHERE name = ? AND position = ?", pos, name, old)
		if err != nil {
			return fmt.Errorf("moving cursor %s: %w", name, err)
		}
		n, err := res.RowsAffected()
		moved = n == 1
		return err
	})
	return moved, err
}
