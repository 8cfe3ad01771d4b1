-- A list view is audited as one entry naming every patient it showed (issue 10 item 7):
-- the entry in audit_log, and here one row per patient shown, so that the log queried by
-- patient still finds every list that showed that patient. Append-only like the log.
-- No foreign keys, like audit_log itself (whose patient_id and actor_user_id have none):
-- rows are written only with their entry, in its transaction (append_audit_listing),
-- and a reference to audit_log would make its append-only triggers no longer the only
-- thing that refuses a TRUNCATE.
CREATE TABLE audit_entry_patients (
    audit_id   BLOB NOT NULL,
    patient_id BLOB NOT NULL,
    CONSTRAINT audit_entry_patients_pkey PRIMARY KEY (audit_id, patient_id)
) WITHOUT ROWID;
-- The log by patient: the entries that showed a patient.
CREATE INDEX audit_entry_patients_patient_idx ON audit_entry_patients (patient_id, audit_id);

CREATE TRIGGER audit_entry_patients_no_update BEFORE UPDATE ON audit_entry_patients
BEGIN
    SELECT RAISE(ABORT, 'audit_entry_patients is append-only');
END;
CREATE TRIGGER audit_entry_patients_no_delete BEFORE DELETE ON audit_entry_patients
BEGIN
    SELECT RAISE(ABORT, 'audit_entry_patients is append-only');
END;
