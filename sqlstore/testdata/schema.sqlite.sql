-- SQLite schema built by the migrations (sqlite_master). Generated: go test -run SchemaGolden -update

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

CREATE INDEX audit_events_action ON audit_events (action, seq);

CREATE INDEX audit_events_actor ON audit_events (actor, seq);

CREATE INDEX audit_events_object ON audit_events (object_type, object_id, seq);

CREATE TABLE audit_head (
	id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT    NOT NULL
) STRICT;

CREATE TABLE device_counts (
	dimension TEXT   NOT NULL,
	value     TEXT   NOT NULL,
	n         INTEGER NOT NULL,
	PRIMARY KEY (dimension, value)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_ips (
	ip        TEXT    NOT NULL,
	device_id INTEGER NOT NULL,
	PRIMARY KEY (ip, device_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_macs (
	mac       TEXT    NOT NULL PRIMARY KEY,
	device_id INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE device_tags (
	tag       TEXT    NOT NULL,
	device_id INTEGER NOT NULL,
	PRIMARY KEY (tag, device_id)
) STRICT, WITHOUT ROWID;

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

CREATE INDEX devices_category ON devices (category, id);

CREATE INDEX devices_criticality ON devices (criticality, id);

CREATE INDEX devices_manufacturer ON devices (manufacturer_lc, id);

CREATE INDEX devices_missing_firmware ON devices (id) WHERE firmware_version = '';

CREATE INDEX devices_site ON devices (site_lc, id);

CREATE TABLE epss (
	cve           TEXT NOT NULL PRIMARY KEY,
	score         REAL NOT NULL,
	percentile    REAL NOT NULL,
	score_date    TEXT NOT NULL,
	model_version TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE finding_periods (
	finding_id INTEGER NOT NULL,
	opened_at  INTEGER NOT NULL,
	closed_at  INTEGER,
	due_date   INTEGER
) STRICT;

CREATE INDEX finding_periods_finding ON finding_periods (finding_id, opened_at);

CREATE TABLE findings (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	device_id         INTEGER NOT NULL,
	cve               TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	certain           INTEGER NOT NULL,
	evidence          TEXT    NOT NULL,
	cvss_score        REAL    NOT NULL DEFAULT 0,
	cvss_vector       TEXT    NOT NULL DEFAULT '',
	kev               INTEGER NOT NULL DEFAULT 0,
	kev_due_date      TEXT    NOT NULL DEFAULT '',
	ransomware        INTEGER NOT NULL DEFAULT 0,
	epss              REAL    NOT NULL DEFAULT 0,
	epss_percentile   REAL    NOT NULL DEFAULT 0,
	decision          TEXT    NOT NULL DEFAULT '',
	decision_why      TEXT    NOT NULL DEFAULT '',
	priority          INTEGER NOT NULL DEFAULT 0,
	due_date          INTEGER,
	fixed_in          TEXT    NOT NULL DEFAULT '',
	note              TEXT    NOT NULL DEFAULT '',
	accepted_until    TEXT    NOT NULL DEFAULT '',
	vex_justification TEXT    NOT NULL DEFAULT '',
	first_seen        INTEGER NOT NULL,
	last_seen         INTEGER NOT NULL,
	fixed_at          INTEGER,
	updated_at        INTEGER NOT NULL,
	UNIQUE (device_id, cve)
) STRICT;

CREATE INDEX findings_cve ON findings (cve, status);

CREATE INDEX findings_decision ON findings (decision, status, priority DESC, id);

CREATE INDEX findings_kev ON findings (kev, status, priority DESC, id);

CREATE INDEX findings_open_stats ON findings (status, decision, kev, device_id);

CREATE TRIGGER findings_period_delete AFTER DELETE ON findings
BEGIN
	DELETE FROM finding_periods WHERE finding_id = OLD.id;
END;

CREATE TRIGGER findings_period_insert AFTER INSERT ON findings
WHEN NEW.status = 'open'
BEGIN
	INSERT INTO finding_periods (finding_id, opened_at, due_date) VALUES (NEW.id, NEW.updated_at, NEW.due_date);
END;

CREATE TRIGGER findings_period_update AFTER UPDATE OF status, due_date ON findings
WHEN (OLD.status = 'open' OR NEW.status = 'open')
	AND (OLD.status IS NOT NEW.status OR OLD.due_date IS NOT NEW.due_date)
BEGIN
	UPDATE finding_periods SET closed_at = NEW.updated_at WHERE finding_id = OLD.id AND closed_at IS NULL;
	INSERT INTO finding_periods (finding_id, opened_at, due_date)
	SELECT NEW.id, NEW.updated_at, NEW.due_date WHERE NEW.status = 'open';
END;

CREATE INDEX findings_status_priority ON findings (status, priority DESC, id);

CREATE TABLE kev (
	cve        TEXT    NOT NULL PRIMARY KEY,
	data       TEXT    NOT NULL,
	date_added TEXT    NOT NULL,
	due_date   TEXT    NOT NULL,
	ransomware INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE schema_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	applied_at BIGINT NOT NULL
);

CREATE TABLE sessions (
	secret_hash TEXT    NOT NULL PRIMARY KEY,
	token_id    INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE INDEX sessions_token ON sessions (token_id);

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

CREATE TABLE vuln_records (
	cve           TEXT    NOT NULL,
	source        TEXT    NOT NULL,
	last_modified INTEGER NOT NULL,
	data          TEXT    NOT NULL,
	PRIMARY KEY (cve, source)
) STRICT;

