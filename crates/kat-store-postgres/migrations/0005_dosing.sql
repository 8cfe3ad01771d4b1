-- Dosing: treatment plans (draft -> signed by a prescriber), dosing sessions with their
-- pre-dose gate, administration events (refused before the gate is passed, also by a
-- trigger), vital-sign readings and the alarms they raised (acknowledged with the action
-- taken), and the discharge. Constraint names match the SQLite schema.

CREATE TABLE treatment_plans (
    id          UUID        NOT NULL CONSTRAINT treatment_plans_pkey PRIMARY KEY,
    patient_id  UUID        NOT NULL CONSTRAINT treatment_plans_patient_id_fkey REFERENCES patients (id),
    decision_id UUID        NOT NULL CONSTRAINT treatment_plans_decision_id_fkey REFERENCES eligibility_decisions (id),
    content     TEXT        NOT NULL,
    created_by  UUID        NOT NULL CONSTRAINT treatment_plans_created_by_fkey REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    signed_by   UUID        CONSTRAINT treatment_plans_signed_by_fkey REFERENCES users (id),
    signed_at   TIMESTAMPTZ,
    CONSTRAINT treatment_plans_signature_check CHECK ((signed_by IS NULL) = (signed_at IS NULL))
);
CREATE INDEX treatment_plans_patient_id_idx ON treatment_plans (patient_id);

CREATE FUNCTION treatment_plans_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'treatment_plans_locked: treatment plans are never deleted';
    END IF;
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'treatment_plans_locked: a signed treatment plan cannot be changed';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER treatment_plans_locked BEFORE UPDATE ON treatment_plans
    FOR EACH ROW EXECUTE FUNCTION treatment_plans_locked();
CREATE TRIGGER treatment_plans_no_delete BEFORE DELETE ON treatment_plans
    FOR EACH ROW EXECUTE FUNCTION treatment_plans_locked();

CREATE TABLE dosing_sessions (
    id            UUID        NOT NULL CONSTRAINT dosing_sessions_pkey PRIMARY KEY,
    patient_id    UUID        NOT NULL CONSTRAINT dosing_sessions_patient_id_fkey REFERENCES patients (id),
    plan_id       UUID        NOT NULL CONSTRAINT dosing_sessions_plan_id_fkey REFERENCES treatment_plans (id),
    route         TEXT        NOT NULL,
    opened_by     UUID        NOT NULL CONSTRAINT dosing_sessions_opened_by_fkey REFERENCES users (id),
    opened_at     TIMESTAMPTZ NOT NULL,
    gate_outcome  TEXT        CONSTRAINT dosing_sessions_gate_outcome_check
                  CHECK (gate_outcome IN ('proceed', 'override', 'defer')),
    gate          TEXT,
    gate_by       UUID        CONSTRAINT dosing_sessions_gate_by_fkey REFERENCES users (id),
    gate_at       TIMESTAMPTZ,
    discharge     TEXT,
    discharged_by UUID        CONSTRAINT dosing_sessions_discharged_by_fkey REFERENCES users (id),
    discharged_at TIMESTAMPTZ
);
CREATE INDEX dosing_sessions_patient_id_idx ON dosing_sessions (patient_id);

CREATE TABLE dose_administrations (
    id          UUID        NOT NULL CONSTRAINT dose_administrations_pkey PRIMARY KEY,
    session_id  UUID        NOT NULL CONSTRAINT dose_administrations_session_id_fkey REFERENCES dosing_sessions (id),
    content     TEXT        NOT NULL,
    recorded_by UUID        NOT NULL CONSTRAINT dose_administrations_recorded_by_fkey REFERENCES users (id),
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX dose_administrations_session_id_idx ON dose_administrations (session_id);

-- No administration before the pre-dose gate is passed (proceed or documented override).
CREATE FUNCTION dose_administrations_gate_passed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM dosing_sessions s WHERE s.id = NEW.session_id
                   AND s.gate_outcome IN ('proceed', 'override') AND s.discharged_at IS NULL) THEN
        RAISE EXCEPTION 'dose_administrations_gate_passed: no administration before the gate is passed';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER dose_administrations_gate_passed BEFORE INSERT ON dose_administrations
    FOR EACH ROW EXECUTE FUNCTION dose_administrations_gate_passed();

CREATE FUNCTION dosing_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER dose_administrations_append_only BEFORE UPDATE OR DELETE ON dose_administrations
    FOR EACH ROW EXECUTE FUNCTION dosing_append_only();

CREATE TABLE session_vitals (
    id          UUID        NOT NULL CONSTRAINT session_vitals_pkey PRIMARY KEY,
    session_id  UUID        NOT NULL CONSTRAINT session_vitals_session_id_fkey REFERENCES dosing_sessions (id),
    reading     TEXT        NOT NULL,
    taken_at    TIMESTAMPTZ NOT NULL,
    recorded_by UUID        CONSTRAINT session_vitals_recorded_by_fkey REFERENCES users (id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_vitals_session_id_idx ON session_vitals (session_id);
CREATE TRIGGER session_vitals_append_only BEFORE UPDATE OR DELETE ON session_vitals
    FOR EACH ROW EXECUTE FUNCTION dosing_append_only();

CREATE TABLE session_alarms (
    id              UUID        NOT NULL CONSTRAINT session_alarms_pkey PRIMARY KEY,
    session_id      UUID        NOT NULL CONSTRAINT session_alarms_session_id_fkey REFERENCES dosing_sessions (id),
    vital_id        UUID        NOT NULL CONSTRAINT session_alarms_vital_id_fkey REFERENCES session_vitals (id),
    rule            TEXT        NOT NULL,
    kind            TEXT        NOT NULL,
    severity        TEXT        NOT NULL,
    content         TEXT        NOT NULL,
    raised_at       TIMESTAMPTZ NOT NULL,
    acknowledged_by UUID        CONSTRAINT session_alarms_acknowledged_by_fkey REFERENCES users (id),
    acknowledged_at TIMESTAMPTZ,
    action_taken    TEXT,
    CONSTRAINT session_alarms_vital_kind_key UNIQUE (vital_id, kind),
    CONSTRAINT session_alarms_ack_check CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL)
        AND (acknowledged_at IS NULL) = (action_taken IS NULL))
);
CREATE INDEX session_alarms_session_id_idx ON session_alarms (session_id);

-- Adverse events (§5), interventions (INT-005) and session ratings (CADSS-6), as JSON.
CREATE TABLE session_events (
    id          UUID        NOT NULL CONSTRAINT session_events_pkey PRIMARY KEY,
    session_id  UUID        NOT NULL CONSTRAINT session_events_session_id_fkey REFERENCES dosing_sessions (id),
    kind        TEXT        NOT NULL CONSTRAINT session_events_kind_check
                CHECK (kind IN ('adverse_event', 'intervention', 'cadss6', 'rems_submitted')),
    content     TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    recorded_by UUID        NOT NULL CONSTRAINT session_events_recorded_by_fkey REFERENCES users (id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_events_session_id_idx ON session_events (session_id);
CREATE TRIGGER session_events_append_only BEFORE UPDATE OR DELETE ON session_events
    FOR EACH ROW EXECUTE FUNCTION dosing_append_only();
