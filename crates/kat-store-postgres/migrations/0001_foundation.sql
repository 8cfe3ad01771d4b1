-- Foundation: clinic facts, accounts, sessions, API tokens, the patient registry and
-- the append-only audit log. Constraint names match the SQLite schema.

CREATE TABLE clinic_meta (
    key   TEXT NOT NULL CONSTRAINT clinic_meta_pkey PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            UUID        NOT NULL CONSTRAINT users_pkey PRIMARY KEY,
    username      TEXT        NOT NULL CONSTRAINT users_username_key UNIQUE,
    display_name  TEXT        NOT NULL,
    role          TEXT        NOT NULL CONSTRAINT users_role_check
                  CHECK (role IN ('admin', 'prescriber', 'nurse', 'therapist', 'front_desk')),
    kind          TEXT        NOT NULL CONSTRAINT users_kind_check CHECK (kind IN ('staff', 'api_client')),
    password_hash TEXT,
    active        BOOLEAN     NOT NULL DEFAULT TRUE CONSTRAINT users_active_check CHECK (active IS NOT NULL),
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT        NOT NULL CONSTRAINT sessions_pkey PRIMARY KEY,
    user_id      UUID        NOT NULL CONSTRAINT sessions_user_id_fkey REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    remote_addr  TEXT        NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id           UUID        NOT NULL CONSTRAINT api_tokens_pkey PRIMARY KEY,
    user_id      UUID        NOT NULL CONSTRAINT api_tokens_user_id_fkey REFERENCES users (id),
    label        TEXT        NOT NULL,
    token_hash   TEXT        NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

CREATE SEQUENCE patients_mrn_seq_seq AS BIGINT START WITH 1;

CREATE TABLE patients (
    id                             UUID        NOT NULL CONSTRAINT patients_pkey PRIMARY KEY,
    mrn_seq                        BIGINT      NOT NULL CONSTRAINT patients_mrn_seq_key UNIQUE,
    mrn                            TEXT        NOT NULL CONSTRAINT patients_mrn_key UNIQUE,
    given_name                     TEXT        NOT NULL,
    family_name                    TEXT        NOT NULL,
    birth_date                     DATE        NOT NULL,
    sex_at_birth                   TEXT        NOT NULL CONSTRAINT patients_sex_at_birth_check
                                   CHECK (sex_at_birth IN ('female', 'male', 'intersex', 'unknown')),
    gender_identity                TEXT,
    phone                          TEXT,
    email                          TEXT,
    address                        TEXT,
    emergency_contact_name         TEXT,
    emergency_contact_relationship TEXT,
    emergency_contact_phone        TEXT,
    created_at                     TIMESTAMPTZ NOT NULL,
    updated_at                     TIMESTAMPTZ NOT NULL,
    version                        BIGINT      NOT NULL CONSTRAINT patients_version_check CHECK (version >= 1)
);
CREATE INDEX patients_family_name_idx ON patients (family_name);
CREATE INDEX patients_birth_date_idx ON patients (birth_date);

CREATE TABLE audit_log (
    seq           BIGINT      GENERATED ALWAYS AS IDENTITY CONSTRAINT audit_log_pkey PRIMARY KEY,
    id            UUID        NOT NULL CONSTRAINT audit_log_id_key UNIQUE,
    at            TIMESTAMPTZ NOT NULL,
    actor_user_id UUID,
    actor_label   TEXT        NOT NULL,
    action        TEXT        NOT NULL,
    resource_type TEXT        NOT NULL,
    resource_id   TEXT,
    patient_id    UUID,
    remote_addr   TEXT        NOT NULL,
    outcome       TEXT        NOT NULL CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('allowed', 'denied')),
    request_id    TEXT
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_patient_id_idx ON audit_log (patient_id);
CREATE INDEX audit_log_actor_user_id_idx ON audit_log (actor_user_id);

-- The audit log is append-only: the database itself refuses to change or remove an entry.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
