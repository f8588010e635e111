-- PostgreSQL schema built by the migrations (information_schema, pg_catalog). Generated: go test -run SchemaGolden -update

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

TABLE device_counts
    dimension text NOT NULL
    value text NOT NULL
    n bigint NOT NULL

TABLE device_ips
    ip text NOT NULL
    device_id bigint NOT NULL

TABLE device_macs
    mac text NOT NULL
    device_id bigint NOT NULL

TABLE device_tags
    tag text NOT NULL
    device_id bigint NOT NULL

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

TABLE kev
    cve text NOT NULL
    data text NOT NULL
    date_added text NOT NULL
    due_date text NOT NULL
    ransomware boolean NOT NULL

TABLE schema_migrations
    version bigint NOT NULL
    applied_at bigint NOT NULL

TABLE sessions
    secret_hash text NOT NULL
    token_id bigint NOT NULL
    created_at bigint NOT NULL
    expires_at bigint NOT NULL

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

TABLE vuln_records
    cve text NOT NULL
    source text NOT NULL
    last_modified bigint NOT NULL
    data text NOT NULL

CONSTRAINT audit_events.audit_events_pkey PRIMARY KEY (seq)
CONSTRAINT audit_head.audit_head_id_check CHECK ((id = 1))
CONSTRAINT audit_head.audit_head_pkey PRIMARY KEY (id)
CONSTRAINT device_counts.device_counts_pkey PRIMARY KEY (dimension, value)
CONSTRAINT device_ips.device_ips_pkey PRIMARY KEY (ip, device_id)
CONSTRAINT device_macs.device_macs_pkey PRIMARY KEY (mac)
CONSTRAINT device_tags.device_tags_pkey PRIMARY KEY (tag, device_id)
CONSTRAINT devices.devices_pkey PRIMARY KEY (id)
CONSTRAINT epss.epss_pkey PRIMARY KEY (cve)
CONSTRAINT findings.findings_device_id_cve_key UNIQUE (device_id, cve)
CONSTRAINT findings.findings_pkey PRIMARY KEY (id)
CONSTRAINT kev.kev_pkey PRIMARY KEY (cve)
CONSTRAINT schema_migrations.schema_migrations_pkey PRIMARY KEY (version)
CONSTRAINT sessions.sessions_pkey PRIMARY KEY (secret_hash)
CONSTRAINT sessions.sessions_token_id_fkey FOREIGN KEY (token_id) REFERENCES tokens(id) ON DELETE CASCADE
CONSTRAINT tokens.tokens_pkey PRIMARY KEY (id)
CONSTRAINT tokens.tokens_secret_hash_key UNIQUE (secret_hash)
CONSTRAINT vuln_records.vuln_records_pkey PRIMARY KEY (cve, source)

CREATE INDEX audit_events_action ON audit_events USING btree (action, seq);
CREATE INDEX audit_events_actor ON audit_events USING btree (actor, seq);
CREATE INDEX audit_events_object ON audit_events USING btree (object_type, object_id, seq);
CREATE UNIQUE INDEX audit_events_pkey ON audit_events USING btree (seq);
CREATE UNIQUE INDEX audit_head_pkey ON audit_head USING btree (id);
CREATE UNIQUE INDEX device_counts_pkey ON device_counts USING btree (dimension, value);
CREATE UNIQUE INDEX device_ips_pkey ON device_ips USING btree (ip, device_id);
CREATE UNIQUE INDEX device_macs_pkey ON device_macs USING btree (mac);
CREATE UNIQUE INDEX device_tags_pkey ON device_tags USING btree (tag, device_id);
CREATE INDEX devices_category ON devices USING btree (category, id);
CREATE INDEX devices_criticality ON devices USING btree (criticality, id);
CREATE INDEX devices_manufacturer ON devices USING btree (manufacturer_lc, id);
CREATE INDEX devices_missing_firmware ON devices USING btree (id) WHERE (firmware_version = ''::text);
CREATE UNIQUE INDEX devices_pkey ON devices USING btree (id);
CREATE INDEX devices_site ON devices USING btree (site_lc, id);
CREATE UNIQUE INDEX epss_pkey ON epss USING btree (cve);
CREATE INDEX finding_periods_finding ON finding_periods USING btree (finding_id, opened_at);
CREATE INDEX findings_cve ON findings USING btree (cve, status);
CREATE INDEX findings_decision ON findings USING btree (decision, status, priority DESC, id);
CREATE UNIQUE INDEX findings_device_id_cve_key ON findings USING btree (device_id, cve);
CREATE INDEX findings_kev ON findings USING btree (kev, status, priority DESC, id);
CREATE INDEX findings_open_stats ON findings USING btree (status, decision, kev, device_id);
CREATE UNIQUE INDEX findings_pkey ON findings USING btree (id);
CREATE INDEX findings_status_priority ON findings USING btree (status, priority DESC, id);
CREATE UNIQUE INDEX kev_pkey ON kev USING btree (cve);
CREATE UNIQUE INDEX schema_migrations_pkey ON schema_migrations USING btree (version);
CREATE INDEX sessions_expires ON sessions USING btree (expires_at);
CREATE UNIQUE INDEX sessions_pkey ON sessions USING btree (secret_hash);
CREATE INDEX sessions_token ON sessions USING btree (token_id);
CREATE UNIQUE INDEX tokens_pkey ON tokens USING btree (id);
CREATE UNIQUE INDEX tokens_secret_hash_key ON tokens USING btree (secret_hash);
CREATE UNIQUE INDEX vuln_records_pkey ON vuln_records USING btree (cve, source);
