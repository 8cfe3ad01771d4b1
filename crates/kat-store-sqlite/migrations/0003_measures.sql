-- Measurement-based care: rating-scale responses with their computed scores, one-time
-- self-report links (only the SHA-256 of the token), urgent safety alerts and
-- per-patient measurement-plan anchors. Constraint names match the PostgreSQL schema.

CREATE TABLE measurement_plans (
    patient_id            BLOB    NOT NULL CONSTRAINT measurement_plans_pkey PRIMARY KEY
                          CONSTRAINT measurement_plans_patient_id_fkey REFERENCES patients (id),
    baseline_date         TEXT    NOT NULL,
    dose_dates            TEXT    NOT NULL DEFAULT '',
    end_of_induction_date TEXT,
    include_pcl5          INTEGER NOT NULL DEFAULT 0 CONSTRAINT measurement_plans_include_pcl5_check CHECK (include_pcl5 IN (0, 1)),
    updated_by            BLOB    CONSTRAINT measurement_plans_updated_by_fkey REFERENCES users (id),
    updated_at            INTEGER NOT NULL
);

CREATE TABLE self_report_links (
    id          BLOB    NOT NULL CONSTRAINT self_report_links_pkey PRIMARY KEY,
    patient_id  BLOB    NOT NULL CONSTRAINT self_report_links_patient_id_fkey REFERENCES patients (id),
    token_hash  TEXT    NOT NULL CONSTRAINT self_report_links_token_hash_key UNIQUE,
    instruments TEXT    NOT NULL CONSTRAINT self_report_links_instruments_check CHECK (instruments <> ''),
    created_by  BLOB    CONSTRAINT self_report_links_created_by_fkey REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    CONSTRAINT self_report_links_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX self_report_links_patient_id_idx ON self_report_links (patient_id);

CREATE TABLE measure_responses (
    id             BLOB    NOT NULL CONSTRAINT measure_responses_pkey PRIMARY KEY,
    patient_id     BLOB    NOT NULL CONSTRAINT measure_responses_patient_id_fkey REFERENCES patients (id),
    instrument     TEXT    NOT NULL,
    answers        TEXT    NOT NULL,
    source         TEXT    NOT NULL CONSTRAINT measure_responses_source_check CHECK (source IN ('self_report', 'clinician')),
    entered_by     BLOB    CONSTRAINT measure_responses_entered_by_fkey REFERENCES users (id),
    link_id        BLOB    CONSTRAINT measure_responses_link_id_fkey REFERENCES self_report_links (id),
    collected_at   INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    total          INTEGER,
    band           TEXT,
    complete       INTEGER NOT NULL CONSTRAINT measure_responses_complete_check CHECK (complete IN (0, 1)),
    flags          TEXT    NOT NULL DEFAULT '',
    scoring_policy TEXT    NOT NULL,
    -- An incomplete response never carries a total.
    CONSTRAINT measure_responses_total_check CHECK (complete = 1 OR total IS NULL),
    CONSTRAINT measure_responses_self_report_link_check CHECK (source <> 'self_report' OR link_id IS NOT NULL)
);
CREATE INDEX measure_responses_patient_idx ON measure_responses (patient_id, instrument, collected_at);

CREATE TABLE safety_alerts (
    id              BLOB    NOT NULL CONSTRAINT safety_alerts_pkey PRIMARY KEY,
    patient_id      BLOB    NOT NULL CONSTRAINT safety_alerts_patient_id_fkey REFERENCES patients (id),
    response_id     BLOB    NOT NULL CONSTRAINT safety_alerts_response_id_fkey REFERENCES measure_responses (id),
    kind            TEXT    NOT NULL CONSTRAINT safety_alerts_kind_check CHECK (kind IN ('suicidal_ideation', 'cssrs_high_risk')),
    raised_at       INTEGER NOT NULL,
    acknowledged_by BLOB    CONSTRAINT safety_alerts_acknowledged_by_fkey REFERENCES users (id),
    acknowledged_at INTEGER,
    action          TEXT    CONSTRAINT safety_alerts_action_check CHECK (action IN ('safety_plan_reviewed',
                    'crisis_resources_given', 'same_day_assessment_booked', 'emergency_services_called', 'other')),
    note            TEXT,
    CONSTRAINT safety_alerts_response_kind_key UNIQUE (response_id, kind),
    -- Acknowledged means: when and which action, together.
    CONSTRAINT safety_alerts_ack_check CHECK ((acknowledged_at IS NULL) = (action IS NULL))
);
CREATE INDEX safety_alerts_open_idx ON safety_alerts (acknowledged_at, raised_at);
CREATE INDEX safety_alerts_patient_id_idx ON safety_alerts (patient_id);
