-- Delivery, SQLite: the release catalog, device credentials, actions and
-- their feedback log, device attributes. Keep in step with
-- ../postgres/0005_delivery.sql. Times are Unix microseconds.

-- releases: one firmware version of a manufacturer. models,
-- hardware_versions and fixes_cves are lists kept as text, one item per
-- line. manufacturer_lc is the lower-cased manufacturer, for the unique
-- key and the filter.
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

-- release_artifacts: the files of a release in order (position). sha256
-- names the blob in the artifact store; url is set instead for a file the
-- vendor keeps.
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

-- device_credentials: the secret a device authenticates with (only its
-- SHA-256) and the controller id it uses on the DDI API.
CREATE TABLE device_credentials (
	device_id     INTEGER NOT NULL PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	controller_id TEXT    NOT NULL UNIQUE,
	secret_hash   TEXT    NOT NULL UNIQUE,
	prefix        TEXT    NOT NULL,
	created_by    TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	last_seen_at  INTEGER
) STRICT;

-- actions: one release to install on one device. A device works on its
-- oldest open action (status scheduled, running or canceling).
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
CREATE INDEX actions_device ON actions (device_id, id);
CREATE INDEX actions_open ON actions (device_id, id) WHERE status IN ('scheduled', 'running', 'canceling');
CREATE INDEX actions_release ON actions (release_id, id);

-- action_feedback: every report of a device on an action. details is the
-- JSON array of lines.
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

-- device_attributes: what a device reports about itself (DDI configData).
CREATE TABLE device_attributes (
	device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	name      TEXT    NOT NULL,
	value     TEXT    NOT NULL,
	PRIMARY KEY (device_id, name)
) STRICT, WITHOUT ROWID;
