-- A session's Spravato REMS Patient Monitoring Form is marked submitted at most once
-- (MON-SPV-008): two submissions at the same moment cannot both be recorded.
CREATE UNIQUE INDEX session_events_rems_submitted_once ON session_events (session_id) WHERE kind = 'rems_submitted';
