-- Measurement-based care: rating-scale responses with their computed scores, one-time
-- self-report links (only the SHA-256 of the token), urgent safety alerts and
-- per-patient measurement-plan anchors. Constraint names match the SQLite schema.

CREATE TABLE measurement_plans (
    patient_id            UUID    NOT NULL CONSTRAINT measurement_plans_pkey PRIMARY KEY
                          CONSTRAINT measurement_plans_patient_id_fkey REFERENCES patients (id),
    baseline_date         DATE    NOT NULL,
    dose_dates            TEXT    NOT NULL DEFAULT '',
    end_of_induction_date DATE,
    include_pcl5          BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by            UUID    CONSTRAINT measurement_plans_updated_by_fkey REFERENCES users (id),
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE self_report_links (
    id          UUID    NOT NULL CONSTRAINT self_report_links_pkey PRIMARY KEY,
    patient_id  UUID    NOT NULL CONSTRAINT self_report_links_patient_id_fkey REFERENCES patients (id),
    token_hash  TEXT    NOT NULL CONSTRAINT self_report_links_token_hash_key UNIQUE,
    instruments TEXT    NOT NULL CONSTRAINT self_report_links_instruments_check CHECK (instruments <> ''),
    created_by  UUID    CONSTRAINT self_report_links_created_by_fkey REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    CONSTRAINT self_report_links_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX self_report_links_patient_id_idx ON self_report_links (patient_id);

CREATE TABLE measure_responses (
    id             UUID    NOT NULL CONSTRAINT measure_responses_pkey PRIMARY KEY,
    patient_id     UUID    NOT NULL CONSTRAINT measure_responses_patient_id_fkey REFERENCES patients (id),
    instrument     TEXT    NOT NULL,
    answers        TEXT    NOT NULL,
    source         TEXT    NOT NULL CONSTRAINT measure_responses_source_check CHECK (source IN ('self_report', 'clinician')),
    entered_by     UUID    CONSTRAINT measure_responses_entered_by_fkey REFERENCES users (id),
    link_id        UUID    CONSTRAINT measure_responses_link_id_fkey REFERENCES self_report_links (id),
    collected_at   TIMESTAMPTZ NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    total          INTEGER,
    band           TEXT,
    complete       BOOLEAN NOT NULL,
    flags          TEXT    NOT NULL DEFAULT '',
    scoring_policy TEXT    NOT NULL,
    -- An incomplete response never carries a total.
    CONSTRAINT measure_responses_total_check CHECK (complete OR total IS NULL),
    CONSTRAINT measure_responses_self_report_link_check CHECK (source <> 'self_report' OR link_id IS NOT NULL)
);
CREATE INDEX measure_responses_patient_idx ON measure_responses (patient_id, instrument, collected_at);

CREATE TABLE safety_alerts (
    id              UUID    NOT NULL CONSTRAINT safety_alerts_pkey PRIMARY KEY,
    patient_id      UUID    NOT NULL CONSTRAINT safety_alerts_patient_id_fkey REFERENCES patients (id),
    response_id     UUID    NOT NULL CONSTRAINT safety_alerts_response_id_fkey REFERENCES measure_responses (id),
    kind            TEXT    NOT NULL CONSTRAINT safety_alerts_kind_check CHECK (kind IN ('suicidal_ideation', 'cssrs_high_risk')),
    raised_at       TIMESTAMPTZ NOT NULL,
    acknowledged_by UUID    CONSTRAINT safety_alerts_acknowledged_by_fkey REFERENCES users (id),
    acknowledged_at TIMESTAMPTZ,
    action          TEXT    CONSTRAINT safety_alerts_action_check CHECK (action IN ('safety_plan_reviewed',
                    'crisis_resources_given', 'same_day_assessment_booked', 'emergency_services_called', 'other')),
    note            TEXT,
    CONSTRAINT safety_alerts_response_kind_key UNIQUE (response_id, kind),
    -- Acknowledged means: when and which action, together.
    CONSTRAINT safety_alerts_ack_check CHECK ((acknowledged_at IS NULL) = (action IS NULL))
);
CREATE INDEX safety_alerts_open_idx ON safety_alerts (acknowledged_at, raised_at);
CREATE INDEX safety_alerts_patient_id_idx ON safety_alerts (patient_id);
