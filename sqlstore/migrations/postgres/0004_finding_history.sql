-- Finding history, PostgreSQL. Keep in step with
-- ../sqlite/0004_finding_history.sql, which explains the table.

CREATE TABLE finding_periods (
	finding_id BIGINT NOT NULL,
	opened_at  BIGINT NOT NULL,
	closed_at  BIGINT,
	due_date   BIGINT
);

CREATE INDEX finding_periods_finding ON finding_periods (finding_id, opened_at);

INSERT INTO finding_periods (finding_id, opened_at, closed_at, due_date)
SELECT id, first_seen,
	CASE status WHEN 'open' THEN NULL WHEN 'fixed' THEN coalesce(fixed_at, updated_at) ELSE updated_at END,
	due_date
FROM findings;

CREATE FUNCTION finding_periods_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		DELETE FROM finding_periods WHERE finding_id = OLD.id;
		RETURN OLD;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		IF (OLD.status <> 'open' AND NEW.status <> 'open')
			OR (OLD.status = NEW.status AND OLD.due_date IS NOT DISTINCT FROM NEW.due_date) THEN
			RETURN NEW;
		END IF;
		UPDATE finding_periods SET closed_at = NEW.updated_at WHERE finding_id = OLD.id AND closed_at IS NULL;
	END IF;
	IF NEW.status = 'open' THEN
		INSERT INTO finding_periods (finding_id, opened_at, due_date) VALUES (NEW.id, NEW.updated_at, NEW.due_date);
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER findings_periods AFTER INSERT OR UPDATE OF status, due_date OR DELETE ON findings
	FOR EACH ROW EXECUTE FUNCTION finding_periods_track();

-- FindingStats counts open findings by decision, KEV and device without
-- reading the table: this index covers those queries.
CREATE INDEX findings_open_stats ON findings (status, decision, kev, device_id);
