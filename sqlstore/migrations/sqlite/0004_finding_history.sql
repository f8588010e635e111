-- Finding history, SQLite. Keep in step with ../postgres/0004_finding_history.sql.

-- finding_periods: when each finding was open and with which due date, for
-- the "overdue over time" chart (FindingService.FindingStats). One row per
-- stretch of time a finding was open with one due date: opened_at is when
-- it opened, reopened or got a new due date while open; closed_at is when
-- that stretch ended (the finding left the open status, or its due date
-- changed), NULL while it lasts. Times are the finding's updated_at, which
-- every write of a status or due date sets; Unix microseconds.
--
-- The triggers below keep the table, so that the code writing findings
-- does not need to know it exists. A finding's periods go with it when it
-- is deleted (its device was deleted).
CREATE TABLE finding_periods (
	finding_id INTEGER NOT NULL,
	opened_at  INTEGER NOT NULL,
	closed_at  INTEGER,
	due_date   INTEGER
) STRICT;

CREATE INDEX finding_periods_finding ON finding_periods (finding_id, opened_at);

-- What was there before this migration: an open finding has been open
-- since first_seen; a fixed one was open until fixed_at; for the statuses a
-- person sets (mitigated, risk-accepted, not-affected), the time of the
-- last change is the best record of when it left open.
INSERT INTO finding_periods (finding_id, opened_at, closed_at, due_date)
SELECT id, first_seen,
	CASE status WHEN 'open' THEN NULL WHEN 'fixed' THEN coalesce(fixed_at, updated_at) ELSE updated_at END,
	due_date
FROM findings;

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

CREATE TRIGGER findings_period_delete AFTER DELETE ON findings
BEGIN
	DELETE FROM finding_periods WHERE finding_id = OLD.id;
END;

-- FindingStats counts open findings by decision, KEV and device without
-- reading the table: this index covers those queries.
CREATE INDEX findings_open_stats ON findings (status, decision, kev, device_id);
