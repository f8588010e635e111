-- Vulnerability intelligence, SQLite. Keep in step with
-- ../postgres/0002_vulnerabilities.sql.

-- vuln_records: one record per CVE and source ("nvd", "cve5",
-- "csaf:<advisory>"); data is the JSON of the firmward.Vulnerability as that
-- source describes it, last_modified its own modification time (Unix
-- microseconds): an import replaces a record only with a newer one. A CVE is
-- the merge of its records, read by the primary key's cve prefix, which
-- also serves the import's lookups (source = ? AND cve IN (...)) and paging
-- in CVE order. A rowid table, not WITHOUT ROWID: rows are kilobytes.
CREATE TABLE vuln_records (
	cve           TEXT    NOT NULL,
	source        TEXT    NOT NULL,
	last_modified INTEGER NOT NULL,
	data          TEXT    NOT NULL,
	PRIMARY KEY (cve, source)
) STRICT;

-- kev: the CISA KEV catalog, one entry per CVE; data is the JSON of the
-- firmward.KEVEntry, the other columns copies of its fields for queries.
CREATE TABLE kev (
	cve        TEXT    NOT NULL PRIMARY KEY,
	data       TEXT    NOT NULL,
	date_added TEXT    NOT NULL,
	due_date   TEXT    NOT NULL,
	ransomware INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- epss: FIRST EPSS scores, the latest one per CVE.
CREATE TABLE epss (
	cve           TEXT NOT NULL PRIMARY KEY,
	score         REAL NOT NULL,
	percentile    REAL NOT NULL,
	score_date    TEXT NOT NULL,
	model_version TEXT NOT NULL
) STRICT, WITHOUT ROWID;
