-- The dosing session's state beside its row (issue 10 item 4): the core's DosingSession
-- as JSON, written and read only through kat_store::dosing, so that a reading is decided
-- without re-reading the session's history. NULL for a session recorded before this
-- migration: kat rebuilds it once from the history and saves it.
ALTER TABLE dosing_sessions ADD COLUMN state TEXT;

-- Late entries (issue 11 items 2 and 5): an entry charted well after its time, or after
-- the discharge, is kept and marked. Readings and session events already have their
-- recorded_at; administrations get theirs (NULL for older rows: recorded at their time).
ALTER TABLE dose_administrations ADD COLUMN recorded_at INTEGER;
ALTER TABLE dose_administrations ADD COLUMN late INTEGER NOT NULL DEFAULT 0
    CONSTRAINT dose_administrations_late_check CHECK (late IN (0, 1));
ALTER TABLE session_vitals ADD COLUMN late INTEGER NOT NULL DEFAULT 0
    CONSTRAINT session_vitals_late_check CHECK (late IN (0, 1));

-- Session events gain two kinds: a transfer to emergency care (issue 11 item 4, a
-- separate exit from discharge) and REMS form fields completed by hand. SQLite cannot
-- change a CHECK, so the table is rebuilt with its indexes and triggers (nothing
-- references it).
DROP TRIGGER session_events_no_change;
DROP TRIGGER session_events_no_delete;
ALTER TABLE session_events RENAME TO session_events_0009;
CREATE TABLE session_events (
    id          BLOB    NOT NULL CONSTRAINT session_events_pkey PRIMARY KEY,
    session_id  BLOB    NOT NULL CONSTRAINT session_events_session_id_fkey REFERENCES dosing_sessions (id),
    kind        TEXT    NOT NULL CONSTRAINT session_events_kind_check
                CHECK (kind IN ('adverse_event', 'intervention', 'cadss6', 'rems_submitted',
                                'emergency_transfer', 'rems_fields')),
    content     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    recorded_by BLOB    NOT NULL CONSTRAINT session_events_recorded_by_fkey REFERENCES users (id),
    recorded_at INTEGER NOT NULL,
    late        INTEGER NOT NULL DEFAULT 0 CONSTRAINT session_events_late_check CHECK (late IN (0, 1))
);
INSERT INTO session_events (id, session_id, kind, content, at, recorded_by, recorded_at)
    SELECT id, session_id, kind, content, at, recorded_by, recorded_at FROM session_events_0009;
DROP TABLE session_events_0009;
CREATE UNIQUE INDEX session_events_rems_submitted_once ON session_events (session_id) WHERE kind = 'rems_submitted';
CREATE INDEX session_events_recorded_by_idx ON session_events (recorded_by);
CREATE INDEX session_events_session_at_idx ON session_events (session_id, at, id);
CREATE TRIGGER session_events_no_change BEFORE UPDATE ON session_events
BEGIN
    SELECT RAISE(ABORT, 'session_events is append-only');
END;
CREATE TRIGGER session_events_no_delete BEFORE DELETE ON session_events
BEGIN
    SELECT RAISE(ABORT, 'session_events is append-only');
END;
