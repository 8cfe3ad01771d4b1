-- Separation of duties (issue 12 item 8): every grant or removal of the medical-director
-- flag (who may override hard stops) with who did it and why, shown to every admin.
CREATE TABLE medical_director_changes (
    id         UUID NOT NULL CONSTRAINT medical_director_changes_pkey PRIMARY KEY,
    user_id    UUID NOT NULL CONSTRAINT medical_director_changes_user_id_fkey REFERENCES users (id),
    changed_by UUID CONSTRAINT medical_director_changes_changed_by_fkey REFERENCES users (id),
    at         TIMESTAMPTZ NOT NULL,
    granted    BOOLEAN NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX medical_director_changes_user_id_idx ON medical_director_changes (user_id);
CREATE INDEX medical_director_changes_changed_by_idx ON medical_director_changes (changed_by);
CREATE INDEX medical_director_changes_at_idx ON medical_director_changes (at);
