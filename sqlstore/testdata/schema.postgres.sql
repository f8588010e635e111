-- PostgreSQL schema built by the migrations (information_schema, pg_catalog). Generated: go test -run SchemaGolden -update

TABLE action_feedback
    id bigint NOT NULL IDENTITY
    action_id bigint NOT NULL
    occurred_at bigint NOT NULL
    execution text NOT NULL
    finished text NOT NULL
    progress_cnt bigint NOT NULL DEFAULT 0
    progress_of bigint NOT NULL DEFAULT 0
    code bigint
    details text NOT NULL DEFAULT '[]'::text
    cancel bigint NOT NULL DEFAULT 0

TABLE actions
    id bigint NOT NULL IDENTITY
    device_id bigint NOT NULL
    release_id bigint NOT NULL
    campaign_id bigint NOT NULL DEFAULT 0
    type text NOT NULL
    status text NOT NULL
    result text NOT NULL DEFAULT ''::text
    window_start bigint
    window_end bigint
    progress_cnt bigint NOT NULL DEFAULT 0
    progress_of bigint NOT NULL DEFAULT 0
    created_by text NOT NULL
    created_at bigint NOT NULL
    updated_at bigint NOT NULL
    last_feedback_at bigint

TABLE alerts
    id bigint NOT NULL IDENTITY
    kind text NOT NULL
    severity text NOT NULL
    subject text NOT NULL
    device_id bigint NOT NULL DEFAULT 0
    site text NOT NULL DEFAULT ''::text
    details text NOT NULL DEFAULT '{}'::text
    dedupe_key text NOT NULL
    created_at bigint NOT NULL
    acknowledged_by text NOT NULL DEFAULT ''::text
    acknowledged_at bigint

TABLE audit_events
    seq bigint NOT NULL
    occurred_at bigint NOT NULL
    actor text NOT NULL
    action text NOT NULL
    object_type text NOT NULL
    object_id text NOT NULL
    changes text NOT NULL
    prev_hash text NOT NULL
    hash text NOT NULL

TABLE audit_head
    id integer NOT NULL
    seq bigint NOT NULL
    hash text NOT NULL

TABLE campaign_devices
    campaign_id bigint NOT NULL
    device_id bigint NOT NULL
    wave bigint NOT NULL
    joined_at bigint NOT NULL
    action_id bigint NOT NULL DEFAULT 0
    task_id bigint NOT NULL DEFAULT 0

TABLE campaigns
    id bigint NOT NULL IDENTITY
    name text NOT NULL
    kind text NOT NULL
    release_id bigint NOT NULL
    rollback_of bigint NOT NULL DEFAULT 0
    spec text NOT NULL
    status text NOT NULL
    status_reason text NOT NULL DEFAULT ''::text
    planned bigint NOT NULL DEFAULT 0
    current_wave bigint NOT NULL DEFAULT '-1'::integer
    wave_started_at bigint
    accepted_failures bigint NOT NULL DEFAULT 0
    override_wave bigint NOT NULL DEFAULT '-1'::integer
    require_approval bigint NOT NULL DEFAULT 0
    created_by text NOT NULL
    creator_key text NOT NULL
    approved_by text NOT NULL DEFAULT ''::text
    approved_at bigint
    started_at bigint
    finished_at bigint
    created_at bigint NOT NULL
    updated_at bigint NOT NULL
    version bigint NOT NULL DEFAULT 1

TABLE check_cadences
    site_key text NOT NULL
    category text NOT NULL
    site text NOT NULL
    months integer NOT NULL
    updated_at bigint NOT NULL

TABLE conflicts
    id bigint NOT NULL IDENTITY
    device_id bigint NOT NULL
    run_id bigint NOT NULL DEFAULT 0
    observation_id bigint NOT NULL DEFAULT 0
    field text NOT NULL
    current_value text NOT NULL DEFAULT ''::text
    proposed text NOT NULL
    confidence double precision NOT NULL DEFAULT 0
    evidence text NOT NULL DEFAULT '[]'::text
    status text NOT NULL
    created_at bigint NOT NULL
    resolved_by text NOT NULL DEFAULT ''::text
    resolved_at bigint

TABLE device_attributes
    device_id bigint NOT NULL
    name text NOT NULL
    value text NOT NULL

TABLE device_counts
    dimension text NOT NULL
    value text NOT NULL
    n bigint NOT NULL

TABLE device_credentials
    device_id bigint NOT NULL
    controller_id text NOT NULL
    secret_hash text NOT NULL
    prefix text NOT NULL
    created_by text NOT NULL
    created_at bigint NOT NULL
    last_seen_at bigint

TABLE device_ips
    ip text NOT NULL
    device_id bigint NOT NULL

TABLE device_macs
    mac text NOT NULL
    device_id bigint NOT NULL

TABLE device_scan_values
    device_id bigint NOT NULL
    field text NOT NULL
    value text NOT NULL
    updated_at bigint NOT NULL

TABLE device_tags
    tag text NOT NULL
    device_id bigint NOT NULL

TABLE device_values
    device_id bigint NOT NULL
    value text NOT NULL
    note text NOT NULL DEFAULT ''::text
    updated_by text NOT NULL
    updated_at bigint NOT NULL

TABLE devices
    id bigint NOT NULL IDENTITY
    name text NOT NULL
    manufacturer text NOT NULL DEFAULT ''::text
    manufacturer_lc text NOT NULL DEFAULT ''::text
    model text NOT NULL DEFAULT ''::text
    hardware_version text NOT NULL DEFAULT ''::text
    firmware_version text NOT NULL DEFAULT ''::text
    serial text NOT NULL DEFAULT ''::text
    category text NOT NULL
    criticality text NOT NULL
    exposure text NOT NULL
    update_mechanism text NOT NULL DEFAULT ''::text
    auto_update text NOT NULL
    macs text NOT NULL DEFAULT ''::text
    ips text NOT NULL DEFAULT ''::text
    site text NOT NULL DEFAULT ''::text
    site_lc text NOT NULL DEFAULT ''::text
    location text NOT NULL DEFAULT ''::text
    owner text NOT NULL DEFAULT ''::text
    segment text NOT NULL DEFAULT ''::text
    cpe text NOT NULL DEFAULT ''::text
    eol_date text NOT NULL DEFAULT ''::text
    purchase_date text NOT NULL DEFAULT ''::text
    replacement_cost double precision NOT NULL DEFAULT 0
    notes text NOT NULL DEFAULT ''::text
    tags text NOT NULL DEFAULT ''::text
    source text NOT NULL
    first_seen bigint
    last_seen bigint
    created_at bigint NOT NULL
    updated_at bigint NOT NULL
    search text NOT NULL DEFAULT ''::text

TABLE eol
    id bigint NOT NULL IDENTITY
    manufacturer text NOT NULL
    model text NOT NULL DEFAULT ''::text
    manufacturer_key text NOT NULL
    model_key text NOT NULL
    release_date text NOT NULL DEFAULT ''::text
    end_of_support text NOT NULL
    source text NOT NULL DEFAULT ''::text
    updated_at bigint NOT NULL

TABLE epss
    cve text NOT NULL
    score double precision NOT NULL
    percentile double precision NOT NULL
    score_date text NOT NULL
    model_version text NOT NULL

TABLE finding_periods
    finding_id bigint NOT NULL
    opened_at bigint NOT NULL
    closed_at bigint
    due_date bigint

TABLE findings
    id bigint NOT NULL IDENTITY
    device_id bigint NOT NULL
    cve text NOT NULL
    status text NOT NULL
    certain boolean NOT NULL
    evidence text NOT NULL
    cvss_score double precision NOT NULL DEFAULT 0
    cvss_vector text NOT NULL DEFAULT ''::text
    kev boolean NOT NULL DEFAULT false
    kev_due_date text NOT NULL DEFAULT ''::text
    ransomware boolean NOT NULL DEFAULT false
    epss double precision NOT NULL DEFAULT 0
    epss_percentile double precision NOT NULL DEFAULT 0
    decision text NOT NULL DEFAULT ''::text
    decision_why text NOT NULL DEFAULT ''::text
    priority integer NOT NULL DEFAULT 0
    due_date bigint
    fixed_in text NOT NULL DEFAULT ''::text
    note text NOT NULL DEFAULT ''::text
    accepted_until text NOT NULL DEFAULT ''::text
    vex_justification text NOT NULL DEFAULT ''::text
    first_seen bigint NOT NULL
    last_seen bigint NOT NULL
    fixed_at bigint
    updated_at bigint NOT NULL

TABLE health_checks
    id bigint NOT NULL IDENTITY
    device_id bigint NOT NULL
    source text NOT NULL
    actor text NOT NULL
    time bigint NOT NULL
    firmware_version text NOT NULL DEFAULT ''::text
    auto_update text NOT NULL
    default_password text NOT NULL
    admin_found text NOT NULL
    note text NOT NULL DEFAULT ''::text
    complete boolean NOT NULL

TABLE kev
    cve text NOT NULL
    data text NOT NULL
    date_added text NOT NULL
    due_date text NOT NULL
    ransomware boolean NOT NULL

TABLE lifecycle_settings
    name text NOT NULL
    value text NOT NULL

TABLE nac_events
    id bigint NOT NULL IDENTITY
    device_id bigint NOT NULL
    time bigint NOT NULL
    kind text NOT NULL
    actor text NOT NULL
    enforced boolean NOT NULL DEFAULT false
    outcome text NOT NULL DEFAULT ''::text
    message text NOT NULL DEFAULT ''::text

TABLE nac_policies
    site text NOT NULL
    mode text NOT NULL
    quarantine_vlan text NOT NULL DEFAULT ''::text
    default_segment text NOT NULL DEFAULT ''::text
    unknown_action text NOT NULL
    unknown_vlan text NOT NULL DEFAULT ''::text
    rules text NOT NULL
    segments text NOT NULL
    vlans text NOT NULL
    protected_categories text NOT NULL
    subnets text NOT NULL
    updated_at bigint NOT NULL

TABLE nac_states
    device_id bigint NOT NULL
    manual_reason text
    manual_by text NOT NULL DEFAULT ''::text
    manual_at bigint
    approval_reason text
    approval_by text NOT NULL DEFAULT ''::text
    approval_at bigint
    reviewed boolean NOT NULL DEFAULT false
    exempt_reason text
    exempt_owner text NOT NULL DEFAULT ''::text
    exempt_until bigint
    exempt_by text NOT NULL DEFAULT ''::text
    exempt_at bigint
    quarantined boolean NOT NULL DEFAULT false
    enforced boolean NOT NULL DEFAULT false
    needs_approval boolean NOT NULL DEFAULT false
    reasons text NOT NULL DEFAULT ''::text
    changed_at bigint
    updated_at bigint NOT NULL

TABLE nas_secrets
    nas text NOT NULL
    addr text NOT NULL DEFAULT ''::text
    secret text NOT NULL
    updated_at bigint NOT NULL

TABLE nas_sessions
    mac text NOT NULL
    user_name text NOT NULL DEFAULT ''::text
    nas_ip text NOT NULL DEFAULT ''::text
    nas_identifier text NOT NULL DEFAULT ''::text
    nas_port text NOT NULL DEFAULT ''::text
    nas_port_id text NOT NULL DEFAULT ''::text
    called_station text NOT NULL DEFAULT ''::text
    calling_station text NOT NULL DEFAULT ''::text
    acct_session_id text NOT NULL DEFAULT ''::text
    framed_ip text NOT NULL DEFAULT ''::text
    event text NOT NULL
    at bigint NOT NULL

TABLE notify_attempts
    id bigint NOT NULL IDENTITY
    delivery_id bigint NOT NULL
    time bigint NOT NULL
    channel_id bigint NOT NULL
    channel_type text NOT NULL
    recipient text NOT NULL
    attempt integer NOT NULL
    outcome text NOT NULL
    error text NOT NULL DEFAULT ''::text

TABLE notify_channels
    id bigint NOT NULL IDENTITY
    name text NOT NULL
    type text NOT NULL
    enabled boolean NOT NULL DEFAULT true
    smtp_host text NOT NULL DEFAULT ''::text
    smtp_port integer NOT NULL DEFAULT 0
    smtp_user text NOT NULL DEFAULT ''::text
    smtp_mode text NOT NULL DEFAULT ''::text
    mail_from text NOT NULL DEFAULT ''::text
    url text NOT NULL DEFAULT ''::text
    topic text NOT NULL DEFAULT ''::text
    secret_sealed text NOT NULL DEFAULT ''::text
    created_at bigint NOT NULL
    updated_at bigint NOT NULL

TABLE notify_cursors
    name text NOT NULL
    position bigint NOT NULL

TABLE notify_deliveries
    id bigint NOT NULL IDENTITY
    dedupe_key text NOT NULL
    alert_id bigint NOT NULL DEFAULT 0
    kind text NOT NULL
    severity text NOT NULL
    channel_id bigint NOT NULL
    recipient_id bigint NOT NULL DEFAULT 0
    address text NOT NULL DEFAULT ''::text
    subject text NOT NULL
    body text NOT NULL
    payload text NOT NULL DEFAULT '{}'::text
    status text NOT NULL
    attempts integer NOT NULL DEFAULT 0
    next_attempt_at bigint NOT NULL
    last_error text NOT NULL DEFAULT ''::text
    claimed_by text NOT NULL DEFAULT ''::text
    claimed_until bigint
    sent_at bigint
    created_at bigint NOT NULL

TABLE notify_recipients
    id bigint NOT NULL IDENTITY
    name text NOT NULL
    channel_id bigint NOT NULL
    address text NOT NULL DEFAULT ''::text
    kinds text NOT NULL DEFAULT ''::text
    min_severity text NOT NULL
    mode text NOT NULL
    digest_hour integer NOT NULL
    quiet_start text NOT NULL DEFAULT ''::text
    quiet_end text NOT NULL DEFAULT ''::text
    time_zone text NOT NULL
    enabled boolean NOT NULL DEFAULT true
    created_at bigint NOT NULL
    updated_at bigint NOT NULL

TABLE observations
    id bigint NOT NULL IDENTITY
    run_id bigint NOT NULL
    device_id bigint NOT NULL DEFAULT 0
    time bigint NOT NULL
    source text NOT NULL
    ip text NOT NULL DEFAULT ''::text
    mac text NOT NULL DEFAULT ''::text
    mac_vendor text NOT NULL DEFAULT ''::text
    hostname text NOT NULL DEFAULT ''::text
    ports text NOT NULL DEFAULT ''::text
    fields text NOT NULL DEFAULT '[]'::text
    hints text NOT NULL DEFAULT ''::text
    outcome text NOT NULL DEFAULT ''::text
    notes text NOT NULL DEFAULT ''::text

TABLE open_firmware
    id bigint NOT NULL IDENTITY
    firmware text NOT NULL
    manufacturer text NOT NULL
    model text NOT NULL
    hardware_version text NOT NULL DEFAULT ''::text
    url text NOT NULL DEFAULT ''::text
    entry_key text NOT NULL
    updated_at bigint NOT NULL

TABLE release_artifacts
    release_id bigint NOT NULL
    position bigint NOT NULL
    name text NOT NULL
    sha256 text NOT NULL DEFAULT ''::text
    sha1 text NOT NULL DEFAULT ''::text
    md5 text NOT NULL DEFAULT ''::text
    size bigint NOT NULL DEFAULT 0
    url text NOT NULL DEFAULT ''::text

TABLE releases
    id bigint NOT NULL IDENTITY
    manufacturer text NOT NULL
    manufacturer_lc text NOT NULL
    models text NOT NULL
    hardware_versions text NOT NULL DEFAULT ''::text
    version text NOT NULL
    release_date text NOT NULL DEFAULT ''::text
    channel text NOT NULL
    notes text NOT NULL DEFAULT ''::text
    fixes_cves text NOT NULL DEFAULT ''::text
    min_from_version text NOT NULL DEFAULT ''::text
    withdrawn_at bigint
    withdraw_reason text NOT NULL DEFAULT ''::text
    created_by text NOT NULL
    created_at bigint NOT NULL

TABLE scan_runs
    id bigint NOT NULL IDENTITY
    site text NOT NULL DEFAULT ''::text
    cidr text NOT NULL
    interface text NOT NULL DEFAULT ''::text
    trigger text NOT NULL
    actor text NOT NULL
    status text NOT NULL
    started_at bigint NOT NULL
    finished_at bigint
    raw boolean NOT NULL DEFAULT false
    scanned bigint NOT NULL DEFAULT 0
    hosts bigint NOT NULL DEFAULT 0
    new_devices bigint NOT NULL DEFAULT 0
    updated_devices bigint NOT NULL DEFAULT 0
    conflicts bigint NOT NULL DEFAULT 0
    notes text NOT NULL DEFAULT ''::text
    error text NOT NULL DEFAULT ''::text

TABLE scan_schedules
    site text NOT NULL
    subnets text NOT NULL
    interface text NOT NULL DEFAULT ''::text
    interval_seconds bigint NOT NULL
    communities text NOT NULL DEFAULT ''::text
    enabled boolean NOT NULL
    last_run_at bigint
    updated_at bigint NOT NULL

TABLE schema_migrations
    version bigint NOT NULL
    applied_at bigint NOT NULL

TABLE sessions
    secret_hash text NOT NULL
    token_id bigint NOT NULL
    created_at bigint NOT NULL
    expires_at bigint NOT NULL

TABLE tasks
    id bigint NOT NULL IDENTITY
    campaign_id bigint NOT NULL
    device_id bigint NOT NULL
    release_id bigint NOT NULL
    kind text NOT NULL
    status text NOT NULL
    title text NOT NULL
    instructions text NOT NULL DEFAULT ''::text
    target_version text NOT NULL DEFAULT ''::text
    assignee text NOT NULL DEFAULT ''::text
    due_at bigint NOT NULL
    created_by text NOT NULL
    created_at bigint NOT NULL
    closed_at bigint
    closed_by text NOT NULL DEFAULT ''::text
    close_note text NOT NULL DEFAULT ''::text
    observed_version text NOT NULL DEFAULT ''::text

TABLE tokens
    id bigint NOT NULL IDENTITY
    name text NOT NULL
    role text NOT NULL
    prefix text NOT NULL
    secret_hash text NOT NULL
    created_by text NOT NULL
    created_at bigint NOT NULL
    last_used_at bigint
    revoked_at bigint

TABLE vuln_changes
    seq bigint NOT NULL DEFAULT nextval('vuln_changes_seq_seq'::regclass)
    cve text NOT NULL
    changed_at bigint NOT NULL

TABLE vuln_changes_pruned
    id integer NOT NULL
    seq bigint NOT NULL

TABLE vuln_records
    cve text NOT NULL
    source text NOT NULL
    last_modified bigint NOT NULL
    data text NOT NULL

CONSTRAINT action_feedback.action_feedback_action_id_fkey FOREIGN KEY (action_id) REFERENCES actions(id) ON DELETE CASCADE
CONSTRAINT action_feedback.action_feedback_pkey PRIMARY KEY (id)
CONSTRAINT actions.actions_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT actions.actions_pkey PRIMARY KEY (id)
CONSTRAINT actions.actions_release_id_fkey FOREIGN KEY (release_id) REFERENCES releases(id)
CONSTRAINT alerts.alerts_dedupe_key_key UNIQUE (dedupe_key)
CONSTRAINT alerts.alerts_pkey PRIMARY KEY (id)
CONSTRAINT audit_events.audit_events_pkey PRIMARY KEY (seq)
CONSTRAINT audit_head.audit_head_id_check CHECK ((id = 1))
CONSTRAINT audit_head.audit_head_pkey PRIMARY KEY (id)
CONSTRAINT campaign_devices.campaign_devices_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns(id) ON DELETE CASCADE
CONSTRAINT campaign_devices.campaign_devices_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT campaign_devices.campaign_devices_pkey PRIMARY KEY (campaign_id, device_id)
CONSTRAINT campaigns.campaigns_pkey PRIMARY KEY (id)
CONSTRAINT campaigns.campaigns_release_id_fkey FOREIGN KEY (release_id) REFERENCES releases(id)
CONSTRAINT check_cadences.check_cadences_pkey PRIMARY KEY (site_key, category)
CONSTRAINT conflicts.conflicts_pkey PRIMARY KEY (id)
CONSTRAINT device_attributes.device_attributes_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT device_attributes.device_attributes_pkey PRIMARY KEY (device_id, name)
CONSTRAINT device_counts.device_counts_pkey PRIMARY KEY (dimension, value)
CONSTRAINT device_credentials.device_credentials_controller_id_key UNIQUE (controller_id)
CONSTRAINT device_credentials.device_credentials_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT device_credentials.device_credentials_pkey PRIMARY KEY (device_id)
CONSTRAINT device_credentials.device_credentials_secret_hash_key UNIQUE (secret_hash)
CONSTRAINT device_ips.device_ips_pkey PRIMARY KEY (ip, device_id)
CONSTRAINT device_macs.device_macs_pkey PRIMARY KEY (mac)
CONSTRAINT device_scan_values.device_scan_values_pkey PRIMARY KEY (device_id, field)
CONSTRAINT device_tags.device_tags_pkey PRIMARY KEY (tag, device_id)
CONSTRAINT device_values.device_values_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT device_values.device_values_pkey PRIMARY KEY (device_id)
CONSTRAINT devices.devices_pkey PRIMARY KEY (id)
CONSTRAINT eol.eol_manufacturer_key_model_key_key UNIQUE (manufacturer_key, model_key)
CONSTRAINT eol.eol_pkey PRIMARY KEY (id)
CONSTRAINT epss.epss_pkey PRIMARY KEY (cve)
CONSTRAINT findings.findings_device_id_cve_key UNIQUE (device_id, cve)
CONSTRAINT findings.findings_pkey PRIMARY KEY (id)
CONSTRAINT health_checks.health_checks_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT health_checks.health_checks_pkey PRIMARY KEY (id)
CONSTRAINT kev.kev_pkey PRIMARY KEY (cve)
CONSTRAINT lifecycle_settings.lifecycle_settings_pkey PRIMARY KEY (name)
CONSTRAINT nac_events.nac_events_pkey PRIMARY KEY (id)
CONSTRAINT nac_policies.nac_policies_pkey PRIMARY KEY (site)
CONSTRAINT nac_states.nac_states_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT nac_states.nac_states_pkey PRIMARY KEY (device_id)
CONSTRAINT nas_secrets.nas_secrets_pkey PRIMARY KEY (nas)
CONSTRAINT nas_sessions.nas_sessions_pkey PRIMARY KEY (mac)
CONSTRAINT notify_attempts.notify_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES notify_deliveries(id) ON DELETE CASCADE
CONSTRAINT notify_attempts.notify_attempts_pkey PRIMARY KEY (id)
CONSTRAINT notify_channels.notify_channels_name_key UNIQUE (name)
CONSTRAINT notify_channels.notify_channels_pkey PRIMARY KEY (id)
CONSTRAINT notify_cursors.notify_cursors_pkey PRIMARY KEY (name)
CONSTRAINT notify_deliveries.notify_deliveries_dedupe_key_channel_id_recipient_id_key UNIQUE (dedupe_key, channel_id, recipient_id)
CONSTRAINT notify_deliveries.notify_deliveries_pkey PRIMARY KEY (id)
CONSTRAINT notify_recipients.notify_recipients_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES notify_channels(id) ON DELETE CASCADE
CONSTRAINT notify_recipients.notify_recipients_pkey PRIMARY KEY (id)
CONSTRAINT observations.observations_pkey PRIMARY KEY (id)
CONSTRAINT open_firmware.open_firmware_entry_key_key UNIQUE (entry_key)
CONSTRAINT open_firmware.open_firmware_pkey PRIMARY KEY (id)
CONSTRAINT release_artifacts.release_artifacts_pkey PRIMARY KEY (release_id, name)
CONSTRAINT release_artifacts.release_artifacts_release_id_fkey FOREIGN KEY (release_id) REFERENCES releases(id) ON DELETE CASCADE
CONSTRAINT releases.releases_manufacturer_lc_version_key UNIQUE (manufacturer_lc, version)
CONSTRAINT releases.releases_pkey PRIMARY KEY (id)
CONSTRAINT scan_runs.scan_runs_pkey PRIMARY KEY (id)
CONSTRAINT scan_schedules.scan_schedules_pkey PRIMARY KEY (site)
CONSTRAINT schema_migrations.schema_migrations_pkey PRIMARY KEY (version)
CONSTRAINT sessions.sessions_pkey PRIMARY KEY (secret_hash)
CONSTRAINT sessions.sessions_token_id_fkey FOREIGN KEY (token_id) REFERENCES tokens(id) ON DELETE CASCADE
CONSTRAINT tasks.tasks_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns(id) ON DELETE CASCADE
CONSTRAINT tasks.tasks_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE
CONSTRAINT tasks.tasks_pkey PRIMARY KEY (id)
CONSTRAINT tasks.tasks_release_id_fkey FOREIGN KEY (release_id) REFERENCES releases(id)
CONSTRAINT tokens.tokens_pkey PRIMARY KEY (id)
CONSTRAINT tokens.tokens_secret_hash_key UNIQUE (secret_hash)
CONSTRAINT vuln_changes.vuln_changes_pkey PRIMARY KEY (seq)
CONSTRAINT vuln_changes_pruned.vuln_changes_pruned_id_check CHECK ((id = 1))
CONSTRAINT vuln_changes_pruned.vuln_changes_pruned_pkey PRIMARY KEY (id)
CONSTRAINT vuln_records.vuln_records_pkey PRIMARY KEY (cve, source)

CREATE INDEX action_feedback_action ON action_feedback USING btree (action_id, id);
CREATE UNIQUE INDEX action_feedback_pkey ON action_feedback USING btree (id);
CREATE INDEX actions_campaign ON actions USING btree (campaign_id, id) WHERE (campaign_id <> 0);
CREATE INDEX actions_device ON actions USING btree (device_id, id);
CREATE INDEX actions_open ON actions USING btree (device_id, id) WHERE (status = ANY (ARRAY['scheduled'::text, 'running'::text, 'canceling'::text]));
CREATE UNIQUE INDEX actions_pkey ON actions USING btree (id);
CREATE INDEX actions_release ON actions USING btree (release_id, id);
CREATE UNIQUE INDEX alerts_dedupe_key_key ON alerts USING btree (dedupe_key);
CREATE INDEX alerts_device ON alerts USING btree (device_id, id);
CREATE INDEX alerts_kind ON alerts USING btree (kind, id);
CREATE UNIQUE INDEX alerts_pkey ON alerts USING btree (id);
CREATE INDEX alerts_unacked ON alerts USING btree (id) WHERE (acknowledged_at IS NULL);
CREATE INDEX audit_events_action ON audit_events USING btree (action, seq);
CREATE INDEX audit_events_actor ON audit_events USING btree (actor, seq);
CREATE INDEX audit_events_object ON audit_events USING btree (object_type, object_id, seq);
CREATE UNIQUE INDEX audit_events_pkey ON audit_events USING btree (seq);
CREATE UNIQUE INDEX audit_head_pkey ON audit_head USING btree (id);
CREATE UNIQUE INDEX campaign_devices_pkey ON campaign_devices USING btree (campaign_id, device_id);
CREATE UNIQUE INDEX campaigns_pkey ON campaigns USING btree (id);
CREATE INDEX campaigns_status ON campaigns USING btree (status, id);
CREATE UNIQUE INDEX check_cadences_pkey ON check_cadences USING btree (site_key, category);
CREATE INDEX conflicts_device ON conflicts USING btree (device_id, field, status);
CREATE UNIQUE INDEX conflicts_pkey ON conflicts USING btree (id);
CREATE INDEX conflicts_status ON conflicts USING btree (status, id);
CREATE UNIQUE INDEX device_attributes_pkey ON device_attributes USING btree (device_id, name);
CREATE UNIQUE INDEX device_counts_pkey ON device_counts USING btree (dimension, value);
CREATE UNIQUE INDEX device_credentials_controller_id_key ON device_credentials USING btree (controller_id);
CREATE UNIQUE INDEX device_credentials_pkey ON device_credentials USING btree (device_id);
CREATE UNIQUE INDEX device_credentials_secret_hash_key ON device_credentials USING btree (secret_hash);
CREATE UNIQUE INDEX device_ips_pkey ON device_ips USING btree (ip, device_id);
CREATE UNIQUE INDEX device_macs_pkey ON device_macs USING btree (mac);
CREATE UNIQUE INDEX device_scan_values_pkey ON device_scan_values USING btree (device_id, field);
CREATE UNIQUE INDEX device_tags_pkey ON device_tags USING btree (tag, device_id);
CREATE UNIQUE INDEX device_values_pkey ON device_values USING btree (device_id);
CREATE INDEX devices_category ON devices USING btree (category, id);
CREATE INDEX devices_criticality ON devices USING btree (criticality, id);
CREATE INDEX devices_manufacturer ON devices USING btree (manufacturer_lc, id);
CREATE INDEX devices_missing_firmware ON devices USING btree (id) WHERE (firmware_version = ''::text);
CREATE UNIQUE INDEX devices_pkey ON devices USING btree (id);
CREATE INDEX devices_site ON devices USING btree (site_lc, id);
CREATE UNIQUE INDEX eol_manufacturer_key_model_key_key ON eol USING btree (manufacturer_key, model_key);
CREATE UNIQUE INDEX eol_pkey ON eol USING btree (id);
CREATE UNIQUE INDEX epss_pkey ON epss USING btree (cve);
CREATE INDEX finding_periods_finding ON finding_periods USING btree (finding_id, opened_at);
CREATE INDEX findings_cve ON findings USING btree (cve, status);
CREATE INDEX findings_decision ON findings USING btree (decision, status, priority DESC, id);
CREATE UNIQUE INDEX findings_device_id_cve_key ON findings USING btree (device_id, cve);
CREATE INDEX findings_kev ON findings USING btree (kev, status, priority DESC, id);
CREATE INDEX findings_open_stats ON findings USING btree (status, decision, kev, device_id);
CREATE UNIQUE INDEX findings_pkey ON findings USING btree (id);
CREATE INDEX findings_status_priority ON findings USING btree (status, priority DESC, id);
CREATE INDEX health_checks_device ON health_checks USING btree (device_id, complete, "time");
CREATE UNIQUE INDEX health_checks_pkey ON health_checks USING btree (id);
CREATE UNIQUE INDEX kev_pkey ON kev USING btree (cve);
CREATE UNIQUE INDEX lifecycle_settings_pkey ON lifecycle_settings USING btree (name);
CREATE INDEX nac_events_device ON nac_events USING btree (device_id, id);
CREATE UNIQUE INDEX nac_events_pkey ON nac_events USING btree (id);
CREATE UNIQUE INDEX nac_policies_pkey ON nac_policies USING btree (site);
CREATE INDEX nac_states_active ON nac_states USING btree (device_id) WHERE (quarantined OR needs_approval OR (manual_reason IS NOT NULL) OR (approval_reason IS NOT NULL) OR (exempt_reason IS NOT NULL));
CREATE UNIQUE INDEX nac_states_pkey ON nac_states USING btree (device_id);
CREATE UNIQUE INDEX nas_secrets_pkey ON nas_secrets USING btree (nas);
CREATE UNIQUE INDEX nas_sessions_pkey ON nas_sessions USING btree (mac);
CREATE INDEX notify_attempts_delivery ON notify_attempts USING btree (delivery_id, id);
CREATE UNIQUE INDEX notify_attempts_pkey ON notify_attempts USING btree (id);
CREATE UNIQUE INDEX notify_channels_name_key ON notify_channels USING btree (name);
CREATE UNIQUE INDEX notify_channels_pkey ON notify_channels USING btree (id);
CREATE UNIQUE INDEX notify_cursors_pkey ON notify_cursors USING btree (name);
CREATE UNIQUE INDEX notify_deliveries_dedupe_key_channel_id_recipient_id_key ON notify_deliveries USING btree (dedupe_key, channel_id, recipient_id);
CREATE INDEX notify_deliveries_due ON notify_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);
CREATE UNIQUE INDEX notify_deliveries_pkey ON notify_deliveries USING btree (id);
CREATE INDEX notify_deliveries_status ON notify_deliveries USING btree (status, id);
CREATE INDEX notify_recipients_channel ON notify_recipients USING btree (channel_id);
CREATE UNIQUE INDEX notify_recipients_pkey ON notify_recipients USING btree (id);
CREATE INDEX observations_device ON observations USING btree (device_id, id);
CREATE UNIQUE INDEX observations_pkey ON observations USING btree (id);
CREATE INDEX observations_run ON observations USING btree (run_id, id);
CREATE UNIQUE INDEX open_firmware_entry_key_key ON open_firmware USING btree (entry_key);
CREATE UNIQUE INDEX open_firmware_pkey ON open_firmware USING btree (id);
CREATE UNIQUE INDEX release_artifacts_pkey ON release_artifacts USING btree (release_id, name);
CREATE INDEX release_artifacts_sha256 ON release_artifacts USING btree (sha256);
CREATE UNIQUE INDEX releases_manufacturer_lc_version_key ON releases USING btree (manufacturer_lc, version);
CREATE UNIQUE INDEX releases_pkey ON releases USING btree (id);
CREATE UNIQUE INDEX scan_runs_pkey ON scan_runs USING btree (id);
CREATE INDEX scan_runs_site ON scan_runs USING btree (site, id);
CREATE UNIQUE INDEX scan_schedules_pkey ON scan_schedules USING btree (site);
CREATE UNIQUE INDEX schema_migrations_pkey ON schema_migrations USING btree (version);
CREATE INDEX sessions_expires ON sessions USING btree (expires_at);
CREATE UNIQUE INDEX sessions_pkey ON sessions USING btree (secret_hash);
CREATE INDEX sessions_token ON sessions USING btree (token_id);
CREATE INDEX tasks_campaign ON tasks USING btree (campaign_id, id);
CREATE INDEX tasks_device ON tasks USING btree (device_id, id);
CREATE INDEX tasks_open ON tasks USING btree (assignee, id) WHERE (status = 'open'::text);
CREATE UNIQUE INDEX tasks_pkey ON tasks USING btree (id);
CREATE UNIQUE INDEX tokens_pkey ON tokens USING btree (id);
CREATE UNIQUE INDEX tokens_secret_hash_key ON tokens USING btree (secret_hash);
CREATE INDEX vuln_changes_changed_at ON vuln_changes USING btree (changed_at);
CREATE UNIQUE INDEX vuln_changes_pkey ON vuln_changes USING btree (seq);
CREATE UNIQUE INDEX vuln_changes_pruned_pkey ON vuln_changes_pruned USING btree (id);
CREATE UNIQUE INDEX vuln_records_pkey ON vuln_records USING btree (cve, source);
