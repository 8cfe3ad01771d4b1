-- Dosing: treatment plans (draft -> signed by a prescriber), dosing sessions with their
-- pre-dose gate, administration events (refused before the gate is passed, also by a
-- trigger), vital-sign readings and the alarms they raised (acknowledged with the action
-- taken), and the discharge. Constraint names match the PostgreSQL schema.

CREATE TABLE treatment_plans (
    id          BLOB    NOT NULL CONSTRAINT treatment_plans_pkey PRIMARY KEY,
    patient_id  BLOB    NOT NULL CONSTRAINT treatment_plans_patient_id_fkey REFERENCES patients (id),
    decision_id BLOB    NOT NULL CONSTRAINT treatment_plans_decision_id_fkey REFERENCES eligibility_decisions (id),
    content     TEXT    NOT NULL,
    created_by  BLOB    NOT NULL CONSTRAINT treatment_plans_created_by_fkey REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    signed_by   BLOB    CONSTRAINT treatment_plans_signed_by_fkey REFERENCES users (id),
    signed_at   INTEGER,
    CONSTRAINT treatment_plans_signature_check CHECK ((signed_by IS NULL) = (signed_at IS NULL))
);
CREATE INDEX treatment_plans_patient_id_idx ON treatment_plans (patient_id);

-- A signed plan is locked.
CREATE TRIGGER treatment_plans_locked BEFORE UPDATE ON treatment_plans
WHEN OLD.signed_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'treatment_plans_locked: a signed treatment plan cannot be changed');
END;
CREATE TRIGGER treatment_plans_no_delete BEFORE DELETE ON treatment_plans
BEGIN
    SELECT RAISE(ABORT, 'treatment_plans_locked: treatment plans are never deleted');
END;

CREATE TABLE dosing_sessions (
    id           BLOB    NOT NULL CONSTRAINT dosing_sessions_pkey PRIMARY KEY,
    patient_id   BLOB    NOT NULL CONSTRAINT dosing_sessions_patient_id_fkey REFERENCES patients (id),
    plan_id      BLOB    NOT NULL CONSTRAINT dosing_sessions_plan_id_fkey REFERENCES treatment_plans (id),
    route        TEXT    NOT NULL,
    opened_by    BLOB    NOT NULL CONSTRAINT dosing_sessions_opened_by_fkey REFERENCES users (id),
    opened_at    INTEGER NOT NULL,
    gate_outcome TEXT    CONSTRAINT dosing_sessions_gate_outcome_check
                 CHECK (gate_outcome IN ('proceed', 'override', 'defer')),
    gate         TEXT,
    gate_by      BLOB    CONSTRAINT dosing_sessions_gate_by_fkey REFERENCES users (id),
    gate_at      INTEGER,
    discharge    TEXT,
    discharged_by BLOB   CONSTRAINT dosing_sessions_discharged_by_fkey REFERENCES users (id),
    discharged_at INTEGER
);
CREATE INDEX dosing_sessions_patient_id_idx ON dosing_sessions (patient_id);

CREATE TABLE dose_administrations (
    id          BLOB    NOT NULL CONSTRAINT dose_administrations_pkey PRIMARY KEY,
    session_id  BLOB    NOT NULL CONSTRAINT dose_administrations_session_id_fkey REFERENCES dosing_sessions (id),
    content     TEXT    NOT NULL,
    recorded_by BLOB    NOT NULL CONSTRAINT dose_administrations_recorded_by_fkey REFERENCES users (id),
    at          INTEGER NOT NULL
);
CREATE INDEX dose_administrations_session_id_idx ON dose_administrations (session_id);

-- No administration before the pre-dose gate is passed (proceed or documented override).
CREATE TRIGGER dose_administrations_gate_passed BEFORE INSERT ON dose_administrations
WHEN NOT EXISTS (SELECT 1 FROM dosing_sessions s WHERE s.id = NEW.session_id
                 AND s.gate_outcome IN ('proceed', 'override') AND s.discharged_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'dose_administrations_gate_passed: no administration before the gate is passed');
END;
CREATE TRIGGER dose_administrations_no_change BEFORE UPDATE ON dose_administrations
BEGIN
    SELECT RAISE(ABORT, 'dose_administrations is append-only');
END;
CREATE TRIGGER dose_administrations_no_delete BEFORE DELETE ON dose_administrations
BEGIN
    SELECT RAISE(ABORT, 'dose_administrations is append-only');
END;

CREATE TABLE session_vitals (
    id          BLOB    NOT NULL CONSTRAINT session_vitals_pkey PRIMARY KEY,
    session_id  BLOB    NOT NULL CONSTRAINT session_vitals_session_id_fkey REFERENCES dosing_sessions (id),
    reading     TEXT    NOT NULL,
    taken_at    INTEGER NOT NULL,
    recorded_by BLOB    CONSTRAINT session_vitals_recorded_by_fkey REFERENCES users (id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX session_vitals_session_id_idx ON session_vitals (session_id);
CREATE TRIGGER session_vitals_no_change BEFORE UPDATE ON session_vitals
BEGIN
    SELECT RAISE(ABORT, 'session_vitals is append-only');
END;
CREATE TRIGGER session_vitals_no_delete BEFORE DELETE ON session_vitals
BEGIN
    SELECT RAISE(ABORT, 'session_vitals is append-only');
END;

CREATE TABLE session_alarms (
    id              BLOB    NOT NULL CONSTRAINT session_alarms_pkey PRIMARY KEY,
    session_id      BLOB    NOT NULL CONSTRAINT session_alarms_session_id_fkey REFERENCES dosing_sessions (id),
    vital_id        BLOB    NOT NULL CONSTRAINT session_alarms_vital_id_fkey REFERENCES session_vitals (id),
    rule            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    content         TEXT    NOT NULL,
    raised_at       INTEGER NOT NULL,
    acknowledged_by BLOB    CONSTRAINT session_alarms_acknowledged_by_fkey REFERENCES users (id),
    acknowledged_at INTEGER,
    action_taken    TEXT,
    CONSTRAINT session_alarms_vital_kind_key UNIQUE (vital_id, kind),
    CONSTRAINT session_alarms_ack_check CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL)
        AND (acknowledged_at IS NULL) = (action_taken IS NULL))
);
CREATE INDEX session_alarms_session_id_idx ON session_alarms (session_id);

-- Adverse events (§5), interventions (INT-005) and session ratings (CADSS-6), as JSON.
CREATE TABLE session_events (
    id          BLOB    NOT NULL CONSTRAINT session_events_pkey PRIMARY KEY,
    session_id  BLOB    NOT NULL CONSTRAINT session_events_session_id_fkey REFERENCES dosing_sessions (id),
    kind        TEXT    NOT NULL CONSTRAINT session_events_kind_check
                CHECK (kind IN ('adverse_event', 'intervention', 'cadss6', 'rems_submitted')),
    content     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    recorded_by BLOB    NOT NULL CONSTRAINT session_events_recorded_by_fkey REFERENCES users (id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX session_events_session_id_idx ON session_events (session_id);
CREATE TRIGGER session_events_no_change BEFORE UPDATE ON session_events
BEGIN
    SELECT RAISE(ABORT, 'session_events is append-only');
END;
CREATE TRIGGER session_events_no_delete BEFORE DELETE ON session_events
BEGIN
    SELECT RAISE(ABORT, 'session_events is append-only');
END;
