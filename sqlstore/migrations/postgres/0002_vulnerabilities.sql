-- Vulnerability intelligence, PostgreSQL. Keep in step with
-- ../sqlite/0002_vulnerabilities.sql, which explains each table.

CREATE TABLE vuln_records (
	cve           TEXT   NOT NULL,
	source        TEXT   NOT NULL,
	last_modified BIGINT NOT NULL,
	data          TEXT   NOT NULL,
	PRIMARY KEY (cve, source)
);

CREATE TABLE kev (
	cve        TEXT    NOT NULL PRIMARY KEY,
	data       TEXT    NOT NULL,
	date_added TEXT    NOT NULL,
	due_date   TEXT    NOT NULL,
	ransomware BOOLEAN NOT NULL
);

CREATE TABLE epss (
	cve           TEXT             NOT NULL PRIMARY KEY,
	score         DOUBLE PRECISION NOT NULL,
	percentile    DOUBLE PRECISION NOT NULL,
	score_date    TEXT             NOT NULL,
	model_version TEXT             NOT NULL
);
