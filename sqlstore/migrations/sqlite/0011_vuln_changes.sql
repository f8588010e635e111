-- The change log of vulnerability records, SQLite. Keep in step with
-- ../postgres/0011_vuln_changes.sql. Times are Unix microseconds.

-- vuln_changes: one row per CVE that a feed import added or changed (its
-- record, KEV entry or EPSS score), appended in the import's transaction,
-- so that every process matching devices (each serve replica, whoever
-- imported) can re-read what changed since the seq it last saw.
-- AUTOINCREMENT: a seq is never reused, even after pruning. Rows older
-- than a week are pruned by imports; changed_at's index finds them.
CREATE TABLE vuln_changes (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	cve        TEXT    NOT NULL,
	changed_at INTEGER NOT NULL
) STRICT;

CREATE INDEX vuln_changes_changed_at ON vuln_changes (changed_at);

-- vuln_changes_pruned: the newest seq pruned (one row): a reader that last
-- saw an older seq has missed changes and must re-read every record.
CREATE TABLE vuln_changes_pruned (
	id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
) STRICT;

INSERT INTO vuln_changes_pruned (id, seq) VALUES (1, 0);
