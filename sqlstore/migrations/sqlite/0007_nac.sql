-- Network access control (issue 6), SQLite. Keep in step with
-- ../postgres/0007_nac.sql.

-- nac_policies: one row per site whose NAC policy a person set (sites
-- without a row use nac.EnterprisePolicy in monitor mode). The scalar
-- settings are columns; rules, segments (category -> segment), vlans
-- (segment -> VLAN), protected_categories and subnets (segment -> prefix)
-- are JSON.
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

-- nac_states: per device, what people decided (manual quarantine,
-- approval of a protected device's quarantine, review, exemption with
-- reason, owner and end) and what firmward last decided and acted on
-- (quarantined, enforced, needs_approval, reasons). A row goes with its
-- device.
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

-- The status list reads the devices with something going on.
CREATE INDEX nac_states_active ON nac_states (device_id)
	WHERE quarantined OR needs_approval OR manual_reason IS NOT NULL
		OR approval_reason IS NOT NULL OR exempt_reason IS NOT NULL;

-- nac_events: the history of each device's quarantine (transitions,
-- manual steps, CoA and webhook outcomes). Kept when the device goes, like
-- the audit trail.
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

-- nas_sessions: where each MAC last authenticated or accounted (RADIUS
-- post-auth and accounting), so that CoA reaches the right NAS.
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

-- nas_secrets: the RFC 5176 shared secret of each NAS (keyed by
-- NAS-IP-Address or NAS-Identifier), sealed with AES-256-GCM under the
-- server's key (DATA/nac-secrets.key, not in the database): secret is
-- base64(nonce || ciphertext), the NAS name being the additional data, so
-- that a database dump alone does not reveal the secrets and a sealed
-- secret cannot be moved to another NAS.
CREATE TABLE nas_secrets (
	nas        TEXT    NOT NULL PRIMARY KEY,
	addr       TEXT    NOT NULL DEFAULT '',
	secret     TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
