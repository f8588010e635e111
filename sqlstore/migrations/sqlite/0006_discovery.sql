-- Discovery, SQLite: scan runs, observations, conflicts awaiting review,
-- the device fields a scan wrote, scan schedules and alerts. Keep in step
-- with ../postgres/0006_discovery.sql. Times are Unix microseconds; lists
-- are text, one item per line; structured values are JSON.

-- scan_runs: one scan (started by the API, the web UI, a schedule, or a
-- report imported from a CLI scan) and what it did to the inventory.
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

-- observations: what one run saw of one host. fields is the JSON of
-- []firmward.ObservedField (value, confidence, evidence per field); ports
-- is the open TCP ports, space-separated. device_id is the device the host
-- was matched to or created as (0 when ingesting failed). No foreign keys:
-- observations outlive a deleted device as history.
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

CREATE INDEX observations_run ON observations (run_id, id);
CREATE INDEX observations_device ON observations (device_id, id);

-- device_scan_values: the value a scan last wrote into a device field.
-- A non-empty field whose value differs from the one recorded here was
-- entered by a person, and a scan proposes a conflict instead of
-- overwriting it.
CREATE TABLE device_scan_values (
	device_id  INTEGER NOT NULL,
	field      TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (device_id, field)
) STRICT;

-- conflicts: a value a scan proposes that differs from a person's; status
-- open, accepted or rejected. evidence is the JSON of
-- []firmward.ScanEvidence.
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

CREATE INDEX conflicts_status ON conflicts (status, id);
CREATE INDEX conflicts_device ON conflicts (device_id, field, status);

-- scan_schedules: a site's recurring scan. subnets and communities are
-- lists, one item per line.
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

-- alerts: things a person should see. dedupe_key makes raising
-- idempotent. details is a JSON object of strings.
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

CREATE INDEX alerts_kind ON alerts (kind, id);
CREATE INDEX alerts_device ON alerts (device_id, id);
CREATE INDEX alerts_unacked ON alerts (id) WHERE acknowledged_at IS NULL;
