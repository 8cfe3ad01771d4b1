-- Break-glass access (issue 12 item 1; kat_core::access): a clinician off a patient's
-- care team opens the record for a limited time by giving a reason; admins review each
-- use. A grant is never deleted; its review is written once.
CREATE TABLE break_glass_grants (
    id          UUID    NOT NULL CONSTRAINT break_glass_grants_pkey PRIMARY KEY,
    user_id     UUID    NOT NULL CONSTRAINT break_glass_grants_user_id_fkey REFERENCES users (id),
    patient_id  UUID    NOT NULL CONSTRAINT break_glass_grants_patient_id_fkey REFERENCES patients (id),
    reason      TEXT    NOT NULL,
    granted_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    reviewed_by UUID    CONSTRAINT break_glass_grants_reviewed_by_fkey REFERENCES users (id),
    reviewed_at TIMESTAMPTZ,
    review_note TEXT,
    CONSTRAINT break_glass_grants_expiry_check CHECK (expires_at > granted_at)
);
CREATE INDEX break_glass_grants_user_patient_idx ON break_glass_grants (user_id, patient_id, expires_at);
CREATE INDEX break_glass_grants_patient_id_idx ON break_glass_grants (patient_id);
CREATE INDEX break_glass_grants_review_idx ON break_glass_grants (reviewed_at, granted_at);
CREATE INDEX break_glass_grants_reviewed_by_idx ON break_glass_grants (reviewed_by);
