-- Lifecycle (issue 7), SQLite. Keep in step with ../postgres/0008_lifecycle.sql.

-- eol: end-of-support dates per manufacturer and model (firmward.EOLEntry).
-- model '' is every model of the manufacturer. manufacturer_key and
-- model_key are the names lower-cased by Go, the identity of an entry.
-- Dates are YYYY-MM-DD text ('' for unknown); updated_at Unix microseconds.
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

-- open_firmware: models an open firmware (OpenWrt, …) supports; a
-- user-edited list seeded once (lifecycle_settings 'open_firmware_seeded').
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

-- lifecycle_settings: one-time markers of the lifecycle services.
CREATE TABLE lifecycle_settings (
	name  TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- device_values: the owner's operational value of a device.
CREATE TABLE device_values (
	device_id  INTEGER NOT NULL PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	value      TEXT    NOT NULL,
	note       TEXT    NOT NULL DEFAULT '',
	updated_by TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- check_cadences: health-check cadence rules; site_key is the site
-- lower-cased ('' every site), category '' every category.
CREATE TABLE check_cadences (
	site_key   TEXT    NOT NULL,
	category   TEXT    NOT NULL,
	site       TEXT    NOT NULL,
	months     INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (site_key, category)
) STRICT, WITHOUT ROWID;

-- health_checks: every recorded check (firmward.HealthCheck); answers are
-- yes/no/unknown/not-available; complete when the firmware version and the
-- automatic-update setting were confirmed.
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
