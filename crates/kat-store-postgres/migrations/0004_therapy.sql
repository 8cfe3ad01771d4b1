-- Therapy: care team, planned sessions, therapy notes (draft -> signed, locked) with
-- addenda, private process notes and their named readers, safety plan versions and
-- their one-time patient links. Constraint names match the SQLite schema.

CREATE TABLE care_team_members (
    patient_id UUID        NOT NULL CONSTRAINT care_team_members_patient_id_fkey REFERENCES patients (id),
    user_id    UUID        NOT NULL CONSTRAINT care_team_members_user_id_fkey REFERENCES users (id),
    care_role  TEXT        NOT NULL CONSTRAINT care_team_members_care_role_check
               CHECK (care_role IN ('prescriber', 'therapist', 'nurse')),
    added_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT care_team_members_pkey PRIMARY KEY (patient_id, user_id)
);
CREATE INDEX care_team_members_user_id_idx ON care_team_members (user_id);

CREATE TABLE planned_sessions (
    id                UUID        NOT NULL CONSTRAINT planned_sessions_pkey PRIMARY KEY,
    patient_id        UUID        NOT NULL CONSTRAINT planned_sessions_patient_id_fkey REFERENCES patients (id),
    kind              TEXT        NOT NULL CONSTRAINT planned_sessions_kind_check
                      CHECK (kind IN ('preparation', 'dosing', 'modality_therapy', 'integration', 'reassessment')),
    due_date          DATE        NOT NULL,
    window_end        DATE,
    sequence          BIGINT      NOT NULL,
    dose              BIGINT,
    rule              TEXT        NOT NULL,
    completed_by_note UUID,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX planned_sessions_patient_id_idx ON planned_sessions (patient_id);
CREATE INDEX planned_sessions_due_date_idx ON planned_sessions (due_date);

CREATE TABLE therapy_notes (
    id                 UUID        NOT NULL CONSTRAINT therapy_notes_pkey PRIMARY KEY,
    patient_id         UUID        NOT NULL CONSTRAINT therapy_notes_patient_id_fkey REFERENCES patients (id),
    kind               TEXT        NOT NULL CONSTRAINT therapy_notes_kind_check
                       CHECK (kind IN ('preparation', 'dosing_session', 'integration', 'follow_up')),
    author_id          UUID        NOT NULL CONSTRAINT therapy_notes_author_id_fkey REFERENCES users (id),
    planned_session_id UUID        CONSTRAINT therapy_notes_planned_session_id_fkey REFERENCES planned_sessions (id),
    content            TEXT        NOT NULL,
    signed_by          UUID        CONSTRAINT therapy_notes_signed_by_fkey REFERENCES users (id),
    signed_at          TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    version            BIGINT      NOT NULL CONSTRAINT therapy_notes_version_check CHECK (version >= 1),
    CONSTRAINT therapy_notes_signature_check CHECK ((signed_by IS NULL) = (signed_at IS NULL))
);
CREATE INDEX therapy_notes_patient_id_idx ON therapy_notes (patient_id);
CREATE INDEX therapy_notes_author_id_idx ON therapy_notes (author_id);

ALTER TABLE planned_sessions ADD CONSTRAINT planned_sessions_completed_by_note_fkey
    FOREIGN KEY (completed_by_note) REFERENCES therapy_notes (id);

-- A signed note is locked: the database itself refuses to change or remove it.
CREATE FUNCTION therapy_notes_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'therapy_notes_locked: therapy notes are never deleted';
    END IF;
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'therapy_notes_locked: a signed therapy note cannot be changed';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER therapy_notes_locked BEFORE UPDATE ON therapy_notes
    FOR EACH ROW EXECUTE FUNCTION therapy_notes_locked();
CREATE TRIGGER therapy_notes_no_delete BEFORE DELETE ON therapy_notes
    FOR EACH ROW EXECUTE FUNCTION therapy_notes_locked();

CREATE FUNCTION therapy_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TABLE therapy_note_addenda (
    id         UUID        NOT NULL CONSTRAINT therapy_note_addenda_pkey PRIMARY KEY,
    note_id    UUID        NOT NULL CONSTRAINT therapy_note_addenda_note_id_fkey REFERENCES therapy_notes (id),
    patient_id UUID        NOT NULL CONSTRAINT therapy_note_addenda_patient_id_fkey REFERENCES patients (id),
    author_id  UUID        NOT NULL CONSTRAINT therapy_note_addenda_author_id_fkey REFERENCES users (id),
    at         TIMESTAMPTZ NOT NULL,
    reason     TEXT        NOT NULL,
    body       TEXT        NOT NULL
);
CREATE INDEX therapy_note_addenda_patient_id_idx ON therapy_note_addenda (patient_id);
CREATE TRIGGER therapy_note_addenda_no_update BEFORE UPDATE ON therapy_note_addenda
    FOR EACH ROW EXECUTE FUNCTION therapy_append_only();
CREATE TRIGGER therapy_note_addenda_no_delete BEFORE DELETE ON therapy_note_addenda
    FOR EACH ROW EXECUTE FUNCTION therapy_append_only();

CREATE TABLE process_notes (
    id         UUID        NOT NULL CONSTRAINT process_notes_pkey PRIMARY KEY,
    patient_id UUID        NOT NULL CONSTRAINT process_notes_patient_id_fkey REFERENCES patients (id),
    author_id  UUID        NOT NULL CONSTRAINT process_notes_author_id_fkey REFERENCES users (id),
    body       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX process_notes_patient_id_idx ON process_notes (patient_id);

CREATE TABLE process_note_readers (
    note_id UUID NOT NULL CONSTRAINT process_note_readers_note_id_fkey REFERENCES process_notes (id),
    user_id UUID NOT NULL CONSTRAINT process_note_readers_user_id_fkey REFERENCES users (id),
    CONSTRAINT process_note_readers_pkey PRIMARY KEY (note_id, user_id)
);

CREATE TABLE safety_plans (
    id         UUID        NOT NULL CONSTRAINT safety_plans_pkey PRIMARY KEY,
    patient_id UUID        NOT NULL CONSTRAINT safety_plans_patient_id_fkey REFERENCES patients (id),
    version    BIGINT      NOT NULL CONSTRAINT safety_plans_version_check CHECK (version >= 1),
    content    TEXT        NOT NULL,
    author_id  UUID        NOT NULL CONSTRAINT safety_plans_author_id_fkey REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT safety_plans_patient_version_key UNIQUE (patient_id, version)
);
CREATE TRIGGER safety_plans_no_update BEFORE UPDATE ON safety_plans
    FOR EACH ROW EXECUTE FUNCTION therapy_append_only();
CREATE TRIGGER safety_plans_no_delete BEFORE DELETE ON safety_plans
    FOR EACH ROW EXECUTE FUNCTION therapy_append_only();

CREATE TABLE safety_plan_links (
    token_hash TEXT        NOT NULL CONSTRAINT safety_plan_links_pkey PRIMARY KEY,
    patient_id UUID        NOT NULL CONSTRAINT safety_plan_links_patient_id_fkey REFERENCES patients (id),
    plan_id    UUID        NOT NULL CONSTRAINT safety_plan_links_plan_id_fkey REFERENCES safety_plans (id),
    created_by UUID        NOT NULL CONSTRAINT safety_plan_links_created_by_fkey REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
