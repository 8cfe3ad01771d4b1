-- Intake and eligibility: versioned intake answers, versioned clinic policy,
-- evaluations, prescriber decisions, same-day review flags, and the medical-director
-- flag on accounts. Times are INTEGER microseconds (UTC). Constraint names match the
-- PostgreSQL schema.

ALTER TABLE users ADD COLUMN medical_director INTEGER NOT NULL DEFAULT 0
    CONSTRAINT users_medical_director_check CHECK (medical_director IN (0, 1));

CREATE TABLE intake_versions (
    patient_id   BLOB    NOT NULL CONSTRAINT intake_versions_patient_id_fkey REFERENCES patients (id),
    version      INTEGER NOT NULL CONSTRAINT intake_versions_version_check CHECK (version >= 1),
    answers_json TEXT    NOT NULL,
    complete     INTEGER NOT NULL CONSTRAINT intake_versions_complete_check CHECK (complete IN (0, 1)),
    section      TEXT    NOT NULL,
    saved_at     INTEGER NOT NULL,
    saved_by     BLOB    CONSTRAINT intake_versions_saved_by_fkey REFERENCES users (id),
    CONSTRAINT intake_versions_pkey PRIMARY KEY (patient_id, version)
);

CREATE TABLE eligibility_policies (
    version     INTEGER NOT NULL CONSTRAINT eligibility_policies_pkey PRIMARY KEY,
    policy_json TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  BLOB    CONSTRAINT eligibility_policies_created_by_fkey REFERENCES users (id)
);

CREATE TABLE eligibility_evaluations (
    id             BLOB    NOT NULL CONSTRAINT eligibility_evaluations_pkey PRIMARY KEY,
    patient_id     BLOB    NOT NULL,
    intake_version INTEGER NOT NULL,
    policy_version INTEGER NOT NULL CONSTRAINT eligibility_evaluations_policy_fkey REFERENCES eligibility_policies (version),
    status         TEXT    NOT NULL CONSTRAINT eligibility_evaluations_status_check
                   CHECK (status IN ('excluded', 'incomplete', 'needs_review', 'eligible')),
    result_json    TEXT    NOT NULL,
    evaluated_at   INTEGER NOT NULL,
    CONSTRAINT eligibility_evaluations_intake_fkey FOREIGN KEY (patient_id, intake_version)
        REFERENCES intake_versions (patient_id, version)
);
CREATE INDEX eligibility_evaluations_patient_idx ON eligibility_evaluations (patient_id, evaluated_at);

CREATE TABLE eligibility_decisions (
    id              BLOB    NOT NULL CONSTRAINT eligibility_decisions_pkey PRIMARY KEY,
    patient_id      BLOB    NOT NULL CONSTRAINT eligibility_decisions_patient_id_fkey REFERENCES patients (id),
    evaluation_id   BLOB    NOT NULL CONSTRAINT eligibility_decisions_evaluation_fkey REFERENCES eligibility_evaluations (id),
    decision        TEXT    NOT NULL CONSTRAINT eligibility_decisions_decision_check CHECK (decision IN ('accept', 'decline')),
    reasons_json    TEXT    NOT NULL,
    override_reason TEXT,
    override_by     BLOB    CONSTRAINT eligibility_decisions_override_by_fkey REFERENCES users (id),
    signed_by       BLOB    NOT NULL CONSTRAINT eligibility_decisions_signed_by_fkey REFERENCES users (id),
    signed_at       INTEGER NOT NULL,
    stale           INTEGER NOT NULL DEFAULT 0 CONSTRAINT eligibility_decisions_stale_check CHECK (stale IN (0, 1)),
    CONSTRAINT eligibility_decisions_override_check CHECK ((override_reason IS NULL) = (override_by IS NULL))
);
CREATE INDEX eligibility_decisions_patient_idx ON eligibility_decisions (patient_id, signed_at);

CREATE TABLE same_day_reviews (
    id            BLOB    NOT NULL CONSTRAINT same_day_reviews_pkey PRIMARY KEY,
    patient_id    BLOB    NOT NULL CONSTRAINT same_day_reviews_patient_id_fkey REFERENCES patients (id),
    evaluation_id BLOB    NOT NULL CONSTRAINT same_day_reviews_evaluation_fkey REFERENCES eligibility_evaluations (id),
    reasons_json  TEXT    NOT NULL,
    raised_at     INTEGER NOT NULL,
    disposition   TEXT,
    disposed_by   BLOB    CONSTRAINT same_day_reviews_disposed_by_fkey REFERENCES users (id),
    disposed_at   INTEGER,
    CONSTRAINT same_day_reviews_disposition_check
        CHECK ((disposition IS NULL) = (disposed_by IS NULL) AND (disposition IS NULL) = (disposed_at IS NULL))
);
CREATE INDEX same_day_reviews_open_idx ON same_day_reviews (raised_at) WHERE disposition IS NULL;
