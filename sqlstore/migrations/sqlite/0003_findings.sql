-- Findings, SQLite. Keep in step with ../postgres/0003_findings.sql.

-- findings: one row per device and CVE that matching found (see
-- firmward.Finding). Matching writes certain … fixed_in and last_seen; a
-- person writes status (other than fixed), note, accepted_until and
-- vex_justification. evidence is the JSON of firmward.Evidence. Dates
-- without a time (kev_due_date, accepted_until) are YYYY-MM-DD text; times
-- are Unix microseconds. priority is larger for more urgent findings.
--
-- No foreign key to devices: DeleteDevice deletes a device's findings in
-- its transaction, and a sync locks the device row first; a key's per-row
-- check would only slow down the sync of a fleet.
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

-- The finding lists, most urgent first: by status (open by default), and
-- within the KEV, decision and CVE filters; each ends in id, the tie-break
-- of the keyset cursor. UNIQUE (device_id, cve) serves the per-device
-- reads of a sync, the per-device filter and the delete of a device.
CREATE INDEX findings_status_priority ON findings (status, priority DESC, id);
CREATE INDEX findings_kev ON findings (kev, status, priority DESC, id);
CREATE INDEX findings_decision ON findings (decision, status, priority DESC, id);
CREATE INDEX findings_cve ON findings (cve, status);
