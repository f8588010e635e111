-- firmward schema, SQLite. Times are Unix microseconds (INTEGER).
-- Keep in step with ../postgres/0001_init.sql.

-- devices: one row per device. The lists (macs, ips, tags) are kept here as
-- space-separated text, so that a page of devices is one query, and in the
-- side tables below, which index them. manufacturer_lc, site_lc and search
-- are lower-cased copies (Unicode-aware, computed by the store) for the
-- case-insensitive filters and the free-text search.
CREATE TABLE devices (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	name             TEXT    NOT NULL,
	manufacturer     TEXT    NOT NULL DEFAULT '',
	manufacturer_lc  TEXT    NOT NULL DEFAULT '',
	model            TEXT    NOT NULL DEFAULT '',
	hardware_version TEXT    NOT NULL DEFAULT '',
	firmware_version TEXT    NOT NULL DEFAULT '',
	serial           TEXT    NOT NULL DEFAULT '',
	category         TEXT    NOT NULL,
	criticality      TEXT    NOT NULL,
	exposure         TEXT    NOT NULL,
	update_mechanism TEXT    NOT NULL DEFAULT '',
	auto_update      TEXT    NOT NULL,
	macs             TEXT    NOT NULL DEFAULT '',
	ips              TEXT    NOT NULL DEFAULT '',
	site             TEXT    NOT NULL DEFAULT '',
	site_lc          TEXT    NOT NULL DEFAULT '',
	location         TEXT    NOT NULL DEFAULT '',
	owner            TEXT    NOT NULL DEFAULT '',
	segment          TEXT    NOT NULL DEFAULT '',
	cpe              TEXT    NOT NULL DEFAULT '',
	eol_date         TEXT    NOT NULL DEFAULT '',
	purchase_date    TEXT    NOT NULL DEFAULT '',
	replacement_cost REAL    NOT NULL DEFAULT 0,
	notes            TEXT    NOT NULL DEFAULT '',
	tags             TEXT    NOT NULL DEFAULT '',
	source           TEXT    NOT NULL,
	first_seen       INTEGER,
	last_seen        INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	search           TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Indexes for the filters, each ending in id so that a filtered page in id
-- order is a range scan that stops after the page. exposure (3 values) and
-- update_mechanism (7) have none: in a fleet each value is common enough
-- that the scan in id order fills a page within a thousand rows or so, and
-- each index costs 5-10% of bulk import speed.
CREATE INDEX devices_category ON devices (category, id);
CREATE INDEX devices_criticality ON devices (criticality, id);
CREATE INDEX devices_manufacturer ON devices (manufacturer_lc, id);
CREATE INDEX devices_site ON devices (site_lc, id);
CREATE INDEX devices_missing_firmware ON devices (id) WHERE firmware_version = '';

-- Side tables that index the lists of devices: a MAC belongs to at most one
-- device; tags and IPs are looked up by value. The store keeps them in step
-- with devices.macs/ips/tags in the same transaction, and removes rows by
-- their key (value, device_id) using those lists, so they need neither an
-- index on device_id nor a foreign key (whose per-row trigger checks made
-- these inserts about three times slower on PostgreSQL).
CREATE TABLE device_macs (
	mac       TEXT    NOT NULL PRIMARY KEY,
	device_id INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE device_ips (
	ip        TEXT    NOT NULL,
	device_id INTEGER NOT NULL,
	PRIMARY KEY (ip, device_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_tags (
	tag       TEXT    NOT NULL,
	device_id INTEGER NOT NULL,
	PRIMARY KEY (tag, device_id)
) STRICT, WITHOUT ROWID;

-- Device counts for the dashboard (DeviceStats), kept up to date by every
-- device change in its transaction, so that the dashboard does not scan a
-- million devices. dimension is category, criticality, exposure,
-- update_mechanism ('' = unknown) or missing_firmware (value '').
CREATE TABLE device_counts (
	dimension TEXT   NOT NULL,
	value     TEXT   NOT NULL,
	n         INTEGER NOT NULL,
	PRIMARY KEY (dimension, value)
) STRICT, WITHOUT ROWID;

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT    NOT NULL,
	role         TEXT    NOT NULL,
	prefix       TEXT    NOT NULL,
	secret_hash  TEXT    NOT NULL UNIQUE,
	created_by   TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
) STRICT;

-- Web sessions: only the SHA-256 of the cookie secret is kept.
CREATE TABLE sessions (
	secret_hash TEXT    NOT NULL PRIMARY KEY,
	token_id    INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The audit trail, a hash chain in seq order (see firmward.AuditEvent).
-- changes is the JSON of []firmward.FieldChange.
CREATE TABLE audit_events (
	seq         INTEGER NOT NULL PRIMARY KEY,
	occurred_at INTEGER NOT NULL,
	actor       TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	object_type TEXT    NOT NULL,
	object_id   TEXT    NOT NULL,
	changes     TEXT    NOT NULL,
	prev_hash   TEXT    NOT NULL,
	hash        TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_events_object ON audit_events (object_type, object_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);

-- The newest event of the chain. Appending reads and updates this one row
-- in the same transaction, which keeps the chain linear; comparing it with
-- the last stored event shows when the newest events were deleted.
CREATE TABLE audit_head (
	id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT    NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
