-- Campaigns, SQLite: staged rollouts of a release, their members and the
-- manual tasks they create. Keep in step with ../postgres/0010_campaigns.sql.
-- Times are Unix microseconds.

-- campaigns: spec holds the JSON of the target, waves, staging wave and
-- maintenance schedule; version grows with every change, and a rollout
-- step is applied only to the version it was computed on.
CREATE TABLE campaigns (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	name              TEXT    NOT NULL,
	kind              TEXT    NOT NULL,
	release_id        INTEGER NOT NULL REFERENCES releases (id),
	rollback_of       INTEGER NOT NULL DEFAULT 0,
	spec              TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	status_reason     TEXT    NOT NULL DEFAULT '',
	planned           INTEGER NOT NULL DEFAULT 0,
	current_wave      INTEGER NOT NULL DEFAULT -1,
	wave_started_at   INTEGER,
	accepted_failures INTEGER NOT NULL DEFAULT 0,
	override_wave     INTEGER NOT NULL DEFAULT -1,
	require_approval  INTEGER NOT NULL DEFAULT 0,
	created_by        TEXT    NOT NULL,
	creator_key       TEXT    NOT NULL,
	approved_by       TEXT    NOT NULL DEFAULT '',
	approved_at       INTEGER,
	started_at        INTEGER,
	finished_at       INTEGER,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	version           INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX campaigns_status ON campaigns (status, id);

-- tasks: manual work on a device a campaign cannot push to. instructions
-- are lines kept as text, one per line.
CREATE TABLE tasks (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	campaign_id      INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	device_id        INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	release_id       INTEGER NOT NULL REFERENCES releases (id),
	kind             TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	title            TEXT    NOT NULL,
	instructions     TEXT    NOT NULL DEFAULT '',
	target_version   TEXT    NOT NULL DEFAULT '',
	assignee         TEXT    NOT NULL DEFAULT '',
	due_at           INTEGER NOT NULL,
	created_by       TEXT    NOT NULL,
	created_at       INTEGER NOT NULL,
	closed_at        INTEGER,
	closed_by        TEXT    NOT NULL DEFAULT '',
	close_note       TEXT    NOT NULL DEFAULT '',
	observed_version TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX tasks_campaign ON tasks (campaign_id, id);
CREATE INDEX tasks_device ON tasks (device_id, id);
CREATE INDEX tasks_open ON tasks (assignee, id) WHERE status = 'open';

-- campaign_devices: the members of a campaign, their wave, and the action
-- or task they got (0 while none).
CREATE TABLE campaign_devices (
	campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	device_id   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	wave        INTEGER NOT NULL,
	joined_at   INTEGER NOT NULL,
	action_id   INTEGER NOT NULL DEFAULT 0,
	task_id     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (campaign_id, device_id)
) STRICT;
CREATE INDEX actions_campaign ON actions (campaign_id, id) WHERE campaign_id <> 0;
