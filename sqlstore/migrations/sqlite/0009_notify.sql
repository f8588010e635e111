-- Notifications (issue 7, requirement 2): channels, recipients and their
-- preferences, the delivery queue and the log of every attempt. Keep in
-- step with ../postgres/0009_notify.sql. Times are Unix microseconds;
-- lists are text, one item per line.

-- notify_channels: SMTP relays, webhooks, ntfy servers. secret_sealed is
-- the SMTP password / webhook HMAC key / ntfy token sealed with
-- AES-256-GCM under a key kept outside the database (DATA/notify-secrets.key),
-- base64 of nonce || ciphertext; '' when there is none.
CREATE TABLE notify_channels (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	name           TEXT    NOT NULL,
	type           TEXT    NOT NULL,
	enabled        INTEGER NOT NULL DEFAULT 1,
	smtp_host      TEXT    NOT NULL DEFAULT '',
	smtp_port      INTEGER NOT NULL DEFAULT 0,
	smtp_user      TEXT    NOT NULL DEFAULT '',
	smtp_mode      TEXT    NOT NULL DEFAULT '',
	mail_from      TEXT    NOT NULL DEFAULT '',
	url            TEXT    NOT NULL DEFAULT '',
	topic          TEXT    NOT NULL DEFAULT '',
	secret_sealed  TEXT    NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	UNIQUE (name)
) STRICT;

-- notify_recipients: who gets which kinds through which channel,
-- immediately or in a daily digest, with optional quiet hours.
CREATE TABLE notify_recipients (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	name           TEXT    NOT NULL,
	channel_id     INTEGER NOT NULL REFERENCES notify_channels (id) ON DELETE CASCADE,
	address        TEXT    NOT NULL DEFAULT '',
	kinds          TEXT    NOT NULL DEFAULT '',
	min_severity   TEXT    NOT NULL,
	mode           TEXT    NOT NULL,
	digest_hour    INTEGER NOT NULL,
	quiet_start    TEXT    NOT NULL DEFAULT '',
	quiet_end      TEXT    NOT NULL DEFAULT '',
	time_zone      TEXT    NOT NULL,
	enabled        INTEGER NOT NULL DEFAULT 1,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX notify_recipients_channel ON notify_recipients (channel_id);

-- notify_deliveries: one message to one recipient through one channel.
-- The unique key makes planning idempotent across restarts and replicas;
-- claimed_by/claimed_until is the lease of the replica sending it.
-- Channels and recipients may be deleted; their deliveries stay as a log.
CREATE TABLE notify_deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	dedupe_key      TEXT    NOT NULL,
	alert_id        INTEGER NOT NULL DEFAULT 0,
	kind            TEXT    NOT NULL,
	severity        TEXT    NOT NULL,
	channel_id      INTEGER NOT NULL,
	recipient_id    INTEGER NOT NULL DEFAULT 0,
	address         TEXT    NOT NULL DEFAULT '',
	subject         TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	payload         TEXT    NOT NULL DEFAULT '{}',
	status          TEXT    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	claimed_by      TEXT    NOT NULL DEFAULT '',
	claimed_until   INTEGER,
	sent_at         INTEGER,
	created_at      INTEGER NOT NULL,
	UNIQUE (dedupe_key, channel_id, recipient_id)
) STRICT;

CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notify_deliveries_status ON notify_deliveries (status, id);

-- notify_attempts: every try at sending, with its outcome and error.
CREATE TABLE notify_attempts (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id     INTEGER NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
	time            INTEGER NOT NULL,
	channel_id      INTEGER NOT NULL,
	channel_type    TEXT    NOT NULL,
	recipient       TEXT    NOT NULL,
	attempt         INTEGER NOT NULL,
	outcome         TEXT    NOT NULL,
	error           TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX notify_attempts_delivery ON notify_attempts (delivery_id, id);

-- notify_cursors: named positions of the planner (the last alert id
-- planned, the last KEV finding change looked at).
CREATE TABLE notify_cursors (
	name            TEXT    PRIMARY KEY,
	position        INTEGER NOT NULL
) STRICT;
