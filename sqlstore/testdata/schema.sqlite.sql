-- SQLite schema built by the migrations (sqlite_master). Generated: go test -run SchemaGolden -update

CREATE TABLE action_feedback (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	action_id    INTEGER NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
	occurred_at  INTEGER NOT NULL,
	execution    TEXT    NOT NULL,
	finished     TEXT    NOT NULL,
	progress_cnt INTEGER NOT NULL DEFAULT 0,
	progress_of  INTEGER NOT NULL DEFAULT 0,
	code         INTEGER,
	details      TEXT    NOT NULL DEFAULT '[]',
	cancel       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX action_feedback_action ON action_feedback (action_id, id);

CREATE TABLE actions (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	device_id        INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	release_id       INTEGER NOT NULL REFERENCES releases (id),
	campaign_id      INTEGER NOT NULL DEFAULT 0,
	type             TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	result           TEXT    NOT NULL DEFAULT '',
	window_start     INTEGER,
	window_end       INTEGER,
	progress_cnt     INTEGER NOT NULL DEFAULT 0,
	progress_of      INTEGER NOT NULL DEFAULT 0,
	created_by       TEXT    NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	last_feedback_at INTEGER
) STRICT;

CREATE INDEX actions_campaign ON actions (campaign_id, id) WHERE campaign_id <> 0;

CREATE INDEX actions_device ON actions (device_id, id);

CREATE INDEX actions_open ON actions (device_id, id) WHERE status IN ('scheduled', 'running', 'canceling');

CREATE INDEX actions_release ON actions (release_id, id);

CREATE TABLE alerts (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT    NOT NULL,
	severity        TEXT    NOT NULL,
	subject         TEXT    NOT NULL,
	device_id       INTEGER NOT NULL DEFAULT 0,
	site            TEXT    NOT NULL DEFAULT '',
	details         TEXT    NOT NULL DEFAULT '{}',
	dedupe_key      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	acknowledged_by TEXT    NOT NULL DEFAULT '',
	acknowledged_at INTEGER,
	UNIQUE (dedupe_key)
) STRICT;

CREATE INDEX alerts_device ON alerts (device_id, id);

CREATE INDEX alerts_kind ON alerts (kind, id);

CREATE INDEX alerts_unacked ON alerts (id) WHERE acknowledged_at IS NULL;

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

CREATE TABLE campaign_devices (
	campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	device_id   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	wave        INTEGER NOT NULL,
	joined_at   INTEGER NOT NULL,
	action_id   INTEGER NOT NULL DEFAULT 0,
	task_id     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (campaign_id, device_id)
) STRICT;

CREATE TABLE campaigns (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	name              TEXT    NOT NULL,
	kind              TEXT    NOT NULL,
	release_id        INTEGER NOT NULL REFERENCES releases (id),
	rollback_of       INTEGER NOT NULL DEFAULT 0,
	spec              TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	status_reason     TEXT    NOT NULL DEFAULT '',
	planned           INTEGER NOT NULL DEFAULT 0,
	current_wave      INTEGER NOT NULL DEFAULT -1,
	wave_started_at   INTEGER,
	accepted_failures INTEGER NOT NULL DEFAULT 0,
	override_wave     INTEGER NOT NULL DEFAULT -1,
	require_approval  INTEGER NOT NULL DEFAULT 0,
	created_by        TEXT    NOT NULL,
	creator_key       TEXT    NOT NULL,
	approved_by       TEXT    NOT NULL DEFAULT '',
	approved_at       INTEGER,
	started_at        INTEGER,
	finished_at       INTEGER,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	version           INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE INDEX campaigns_status ON campaigns (status, id);

CREATE TABLE check_cadences (
	site_key   TEXT    NOT NULL,
	category   TEXT    NOT NULL,
	site       TEXT    NOT NULL,
	months     INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (site_key, category)
) STRICT, WITHOUT ROWID;

CREATE TABLE conflicts (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	device_id      INTEGER NOT NULL,
	run_id         INTEGER NOT NULL DEFAULT 0,
	observation_id INTEGER NOT NULL DEFAULT 0,
	field          TEXT    NOT NULL,
	current_value  TEXT    NOT NULL DEFAULT '',
	proposed       TEXT    NOT NULL,
	confidence     REAL    NOT NULL DEFAULT 0,
	evidence       TEXT    NOT NULL DEFAULT '[]',
	status         TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	resolved_by    TEXT    NOT NULL DEFAULT '',
	resolved_at    INTEGER
) STRICT;

CREATE INDEX conflicts_device ON conflicts (device_id, field, status);

CREATE INDEX conflicts_status ON conflicts (status, id);

CREATE TABLE device_attributes (
	device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	name      TEXT    NOT NULL,
	value     TEXT    NOT NULL,
	PRIMARY KEY (device_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_counts (
	dimension TEXT   NOT NULL,
	value     TEXT   NOT NULL,
	n         INTEGER NOT NULL,
	PRIMARY KEY (dimension, value)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_credentials (
	device_id     INTEGER NOT NULL PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	controller_id TEXT    NOT NULL UNIQUE,
	secret_hash   TEXT    NOT NULL UNIQUE,
	prefix        TEXT    NOT NULL,
	created_by    TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	last_seen_at  INTEGER
) STRICT;

CREATE TABLE device_ips (
	ip        TEXT    NOT NULL,
	device_id INTEGER NOT NULL,
	PRIMARY KEY (ip, device_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_macs (
	mac       TEXT    NOT NULL PRIMARY KEY,
	device_id INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE device_scan_values (
	device_id  INTEGER NOT NULL,
	field      TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (device_id, field)
) STRICT;

CREATE TABLE device_tags (
	tag       TEXT    NOT NULL,
	device_id INTEGER NOT NULL,
	PRIMARY KEY (tag, device_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_values (
	device_id  INTEGER NOT NULL PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	value      TEXT    NOT NULL,
	note       TEXT    NOT NULL DEFAULT '',
	updated_by TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

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

CREATE TABLE eol (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	manufacturer     TEXT    NOT NULL,
	model            TEXT    NOT NULL DEFAULT '',
	manufacturer_key TEXT    NOT NULL,
	model_key        TEXT    NOT NULL,
	release_date     TEXT    NOT NULL DEFAULT '',
	end_of_support   TEXT    NOT NULL,
	source           TEXT    NOT NULL DEFAULT '',
	updated_at       INTEGER NOT NULL,
	UNIQUE (manufacturer_key, model_key)
) STRICT;

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

CREATE TABLE health_checks (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	device_id        INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	source           TEXT    NOT NULL,
	actor            TEXT    NOT NULL,
	time             INTEGER NOT NULL,
	firmware_version TEXT    NOT NULL DEFAULT '',
	auto_update      TEXT    NOT NULL,
	default_password TEXT    NOT NULL,
	admin_found      TEXT    NOT NULL,
	note             TEXT    NOT NULL DEFAULT '',
	complete         INTEGER NOT NULL
) STRICT;

CREATE INDEX health_checks_device ON health_checks (device_id, complete, time);

CREATE TABLE kev (
	cve        TEXT    NOT NULL PRIMARY KEY,
	data       TEXT    NOT NULL,
	date_added TEXT    NOT NULL,
	due_date   TEXT    NOT NULL,
	ransomware INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE lifecycle_settings (
	name  TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE nac_events (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	device_id INTEGER NOT NULL,
	time      INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	actor     TEXT    NOT NULL,
	enforced  INTEGER NOT NULL DEFAULT 0,
	outcome   TEXT    NOT NULL DEFAULT '',
	message   TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX nac_events_device ON nac_events (device_id, id);

CREATE TABLE nac_policies (
	site                 TEXT    NOT NULL PRIMARY KEY,
	mode                 TEXT    NOT NULL,
	quarantine_vlan      TEXT    NOT NULL DEFAULT '',
	default_segment      TEXT    NOT NULL DEFAULT '',
	unknown_action       TEXT    NOT NULL,
	unknown_vlan         TEXT    NOT NULL DEFAULT '',
	rules                TEXT    NOT NULL,
	segments             TEXT    NOT NULL,
	vlans                TEXT    NOT NULL,
	protected_categories TEXT    NOT NULL,
	subnets              TEXT    NOT NULL,
	updated_at           INTEGER NOT NULL
) STRICT;

CREATE TABLE nac_states (
	device_id       INTEGER NOT NULL PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	manual_reason   TEXT,
	manual_by       TEXT    NOT NULL DEFAULT '',
	manual_at       INTEGER,
	approval_reason TEXT,
	approval_by     TEXT    NOT NULL DEFAULT '',
	approval_at     INTEGER,
	reviewed        INTEGER NOT NULL DEFAULT 0,
	exempt_reason   TEXT,
	exempt_owner    TEXT    NOT NULL DEFAULT '',
	exempt_until    INTEGER,
	exempt_by       TEXT    NOT NULL DEFAULT '',
	exempt_at       INTEGER,
	quarantined     INTEGER NOT NULL DEFAULT 0,
	enforced        INTEGER NOT NULL DEFAULT 0,
	needs_approval  INTEGER NOT NULL DEFAULT 0,
	reasons         TEXT    NOT NULL DEFAULT '',
	changed_at      INTEGER,
	updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX nac_states_active ON nac_states (device_id)
	WHERE quarantined OR needs_approval OR manual_reason IS NOT NULL
		OR approval_reason IS NOT NULL OR exempt_reason IS NOT NULL;

CREATE TABLE nas_secrets (
	nas        TEXT    NOT NULL PRIMARY KEY,
	addr       TEXT    NOT NULL DEFAULT '',
	secret     TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE nas_sessions (
	mac             TEXT    NOT NULL PRIMARY KEY,
	user_name       TEXT    NOT NULL DEFAULT '',
	nas_ip          TEXT    NOT NULL DEFAULT '',
	nas_identifier  TEXT    NOT NULL DEFAULT '',
	nas_port        TEXT    NOT NULL DEFAULT '',
	nas_port_id     TEXT    NOT NULL DEFAULT '',
	called_station  TEXT    NOT NULL DEFAULT '',
	calling_station TEXT    NOT NULL DEFAULT '',
	acct_session_id TEXT    NOT NULL DEFAULT '',
	framed_ip       TEXT    NOT NULL DEFAULT '',
	event           TEXT    NOT NULL,
	at              INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

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

CREATE TABLE notify_cursors (
	name            TEXT    PRIMARY KEY,
	position        INTEGER NOT NULL
) STRICT;

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

CREATE TABLE observations (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id     INTEGER NOT NULL,
	device_id  INTEGER NOT NULL DEFAULT 0,
	time       INTEGER NOT NULL,
	source     TEXT    NOT NULL,
	ip         TEXT    NOT NULL DEFAULT '',
	mac        TEXT    NOT NULL DEFAULT '',
	mac_vendor TEXT    NOT NULL DEFAULT '',
	hostname   TEXT    NOT NULL DEFAULT '',
	ports      TEXT    NOT NULL DEFAULT '',
	fields     TEXT    NOT NULL DEFAULT '[]',
	hints      TEXT    NOT NULL DEFAULT '',
	outcome    TEXT    NOT NULL DEFAULT '',
	notes      TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX observations_device ON observations (device_id, id);

CREATE INDEX observations_run ON observations (run_id, id);

CREATE TABLE open_firmware (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	firmware         TEXT    NOT NULL,
	manufacturer     TEXT    NOT NULL,
	model            TEXT    NOT NULL,
	hardware_version TEXT    NOT NULL DEFAULT '',
	url              TEXT    NOT NULL DEFAULT '',
	entry_key        TEXT    NOT NULL UNIQUE,
	updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE release_artifacts (
	release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
	position   INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	sha256     TEXT    NOT NULL DEFAULT '',
	sha1       TEXT    NOT NULL DEFAULT '',
	md5        TEXT    NOT NULL DEFAULT '',
	size       INTEGER NOT NULL DEFAULT 0,
	url        TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (release_id, name)
) STRICT;

CREATE INDEX release_artifacts_sha256 ON release_artifacts (sha256);

CREATE TABLE releases (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	manufacturer      TEXT    NOT NULL,
	manufacturer_lc   TEXT    NOT NULL,
	models            TEXT    NOT NULL,
	hardware_versions TEXT    NOT NULL DEFAULT '',
	version           TEXT    NOT NULL,
	release_date      TEXT    NOT NULL DEFAULT '',
	channel           TEXT    NOT NULL,
	notes             TEXT    NOT NULL DEFAULT '',
	fixes_cves        TEXT    NOT NULL DEFAULT '',
	min_from_version  TEXT    NOT NULL DEFAULT '',
	withdrawn_at      INTEGER,
	withdraw_reason   TEXT    NOT NULL DEFAULT '',
	created_by        TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	UNIQUE (manufacturer_lc, version)
) STRICT;

CREATE TABLE scan_runs (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	site            TEXT    NOT NULL DEFAULT '',
	cidr            TEXT    NOT NULL,
	interface       TEXT    NOT NULL DEFAULT '',
	trigger         TEXT    NOT NULL,
	actor           TEXT    NOT NULL,
	status          TEXT    NOT NULL,
	started_at      INTEGER NOT NULL,
	finished_at     INTEGER,
	raw             INTEGER NOT NULL DEFAULT 0,
	scanned         INTEGER NOT NULL DEFAULT 0,
	hosts           INTEGER NOT NULL DEFAULT 0,
	new_devices     INTEGER NOT NULL DEFAULT 0,
	updated_devices INTEGER NOT NULL DEFAULT 0,
	conflicts       INTEGER NOT NULL DEFAULT 0,
	notes           TEXT    NOT NULL DEFAULT '',
	error           TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX scan_runs_site ON scan_runs (site, id);

CREATE TABLE scan_schedules (
	site             TEXT    PRIMARY KEY,
	subnets          TEXT    NOT NULL,
	interface        TEXT    NOT NULL DEFAULT '',
	interval_seconds INTEGER NOT NULL,
	communities      TEXT    NOT NULL DEFAULT '',
	enabled          INTEGER NOT NULL,
	last_run_at      INTEGER,
	updated_at       INTEGER NOT NULL
) STRICT;

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

CREATE TABLE tasks (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	campaign_id      INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	device_id        INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	release_id       INTEGER NOT NULL REFERENCES releases (id),
	kind             TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	title            TEXT    NOT NULL,
	instructions     TEXT    NOT NULL DEFAULT '',
	target_version   TEXT    NOT NULL DEFAULT '',
	assignee         TEXT    NOT NULL DEFAULT '',
	due_at           INTEGER NOT NULL,
	created_by       TEXT    NOT NULL,
	created_at       INTEGER NOT NULL,
	closed_at        INTEGER,
	closed_by        TEXT    NOT NULL DEFAULT '',
	close_note       TEXT    NOT NULL DEFAULT '',
	observed_version TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX tasks_campaign ON tasks (campaign_id, id);

CREATE INDEX tasks_device ON tasks (device_id, id);

CREATE INDEX tasks_open ON tasks (assignee, id) WHERE status = 'open';

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

CREATE TABLE vuln_changes (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	cve        TEXT    NOT NULL,
	changed_at INTEGER NOT NULL
) STRICT;

CREATE INDEX vuln_changes_changed_at ON vuln_changes (changed_at);

CREATE TABLE vuln_changes_pruned (
	id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
) STRICT;

CREATE TABLE vuln_records (
	cve           TEXT    NOT NULL,
	source        TEXT    NOT NULL,
	last_modified INTEGER NOT NULL,
	data          TEXT    NOT NULL,
	PRIMARY KEY (cve, source)
) STRICT;

