-- The change log of vulnerability records, PostgreSQL. Keep in step with
-- ../sqlite/0011_vuln_changes.sql, which explains each table.

CREATE TABLE vuln_changes (
	seq        BIGSERIAL PRIMARY KEY,
	cve        TEXT   NOT NULL,
	changed_at BIGINT NOT NULL
);

CREATE INDEX vuln_changes_changed_at ON vuln_changes (changed_at);

CREATE TABLE vuln_changes_pruned (
	id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq BIGINT  NOT NULL
);

INSERT INTO vuln_changes_pruned (id, seq) VALUES (1, 0);
