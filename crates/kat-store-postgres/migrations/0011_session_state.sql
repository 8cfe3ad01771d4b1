-- The dosing session's state beside its row (issue 10 item 4): the core's DosingSession
-- as JSON, written and read only through kat_store::dosing, so that a reading is decided
-- without re-reading the session's history. NULL for a session recorded before this
-- migration: kat rebuilds it once from the history and saves it.
ALTER TABLE dosing_sessions ADD COLUMN state TEXT;

-- Late entries (issue 11 items 2 and 5): an entry charted well after its time, or after
-- the discharge, is kept and marked. Readings and session events already have their
-- recorded_at; administrations get theirs (NULL for older rows: recorded at their time).
ALTER TABLE dose_administrations ADD COLUMN recorded_at TIMESTAMPTZ;
ALTER TABLE dose_administrations ADD COLUMN late BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE session_vitals ADD COLUMN late BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE session_events ADD COLUMN late BOOLEAN NOT NULL DEFAULT FALSE;

-- Session events gain two kinds: a transfer to emergency care (issue 11 item 4, a
-- separate exit from discharge) and REMS form fields completed by hand.
ALTER TABLE session_events DROP CONSTRAINT session_events_kind_check;
ALTER TABLE session_events ADD CONSTRAINT session_events_kind_check
    CHECK (kind IN ('adverse_event', 'intervention', 'cadss6', 'rems_submitted', 'emergency_transfer', 'rems_fields'));
