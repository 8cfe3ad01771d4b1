-- Separation of duties (issue 12 item 8): once a patient has a treatment plan, a change
-- of birth date or sex at birth (they feed dose checks and the REMS form) is made by a
-- clinician with a reason, kept here beside the audit entry.
CREATE TABLE patient_identity_changes (
    id         BLOB NOT NULL CONSTRAINT patient_identity_changes_pkey PRIMARY KEY,
    patient_id BLOB NOT NULL CONSTRAINT patient_identity_changes_patient_id_fkey REFERENCES patients (id),
    changed_by BLOB NOT NULL CONSTRAINT patient_identity_changes_changed_by_fkey REFERENCES users (id),
    at         INTEGER NOT NULL,
    fields     TEXT NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX patient_identity_changes_patient_id_idx ON patient_identity_changes (patient_id);
CREATE INDEX patient_identity_changes_changed_by_idx ON patient_identity_changes (changed_by);
