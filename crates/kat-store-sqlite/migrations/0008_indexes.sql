-- Indexes: every foreign key gets an index that starts with its columns (checked by a
-- test in each adapter), and every list query an index that serves its filter and, where
-- a list grows with a session or the clinic, its order. Open lists (alarms not yet
-- acknowledged, sessions not yet discharged) get partial indexes that hold only the open
-- rows. The same text in both schemas.

-- Foreign keys to accounts (who did what) and between records.
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);
CREATE INDEX intake_versions_saved_by_idx ON intake_versions (saved_by);
CREATE INDEX eligibility_policies_created_by_idx ON eligibility_policies (created_by);
CREATE INDEX eligibility_evaluations_intake_idx ON eligibility_evaluations (patient_id, intake_version);
CREATE INDEX eligibility_evaluations_policy_version_idx ON eligibility_evaluations (policy_version);
CREATE INDEX eligibility_decisions_evaluation_id_idx ON eligibility_decisions (evaluation_id);
CREATE INDEX eligibility_decisions_override_by_idx ON eligibility_decisions (override_by);
CREATE INDEX eligibility_decisions_signed_by_idx ON eligibility_decisions (signed_by);
CREATE INDEX same_day_reviews_patient_id_idx ON same_day_reviews (patient_id);
CREATE INDEX same_day_reviews_evaluation_id_idx ON same_day_reviews (evaluation_id);
CREATE INDEX same_day_reviews_disposed_by_idx ON same_day_reviews (disposed_by);
CREATE INDEX measurement_plans_updated_by_idx ON measurement_plans (updated_by);
CREATE INDEX self_report_links_created_by_idx ON self_report_links (created_by);
CREATE INDEX measure_responses_entered_by_idx ON measure_responses (entered_by);
CREATE INDEX measure_responses_link_id_idx ON measure_responses (link_id);
CREATE INDEX safety_alerts_acknowledged_by_idx ON safety_alerts (acknowledged_by);
-- Also the therapy worklist's pending sessions due by a date (completed_by_note IS NULL).
CREATE INDEX planned_sessions_completed_by_note_idx ON planned_sessions (completed_by_note, due_date);
CREATE INDEX therapy_notes_planned_session_id_idx ON therapy_notes (planned_session_id);
CREATE INDEX therapy_notes_signed_by_idx ON therapy_notes (signed_by);
CREATE INDEX therapy_note_addenda_note_id_idx ON therapy_note_addenda (note_id);
CREATE INDEX therapy_note_addenda_author_id_idx ON therapy_note_addenda (author_id);
CREATE INDEX process_notes_author_id_idx ON process_notes (author_id);
CREATE INDEX process_note_readers_user_id_idx ON process_note_readers (user_id);
CREATE INDEX safety_plans_author_id_idx ON safety_plans (author_id);
CREATE INDEX safety_plan_links_patient_id_idx ON safety_plan_links (patient_id);
CREATE INDEX safety_plan_links_plan_id_idx ON safety_plan_links (plan_id);
CREATE INDEX safety_plan_links_created_by_idx ON safety_plan_links (created_by);
CREATE INDEX treatment_plans_decision_id_idx ON treatment_plans (decision_id);
CREATE INDEX treatment_plans_created_by_idx ON treatment_plans (created_by);
CREATE INDEX treatment_plans_signed_by_idx ON treatment_plans (signed_by);
CREATE INDEX dosing_sessions_plan_id_idx ON dosing_sessions (plan_id);
CREATE INDEX dosing_sessions_opened_by_idx ON dosing_sessions (opened_by);
CREATE INDEX dosing_sessions_gate_by_idx ON dosing_sessions (gate_by);
CREATE INDEX dosing_sessions_discharged_by_idx ON dosing_sessions (discharged_by);
CREATE INDEX dose_administrations_recorded_by_idx ON dose_administrations (recorded_by);
CREATE INDEX session_vitals_recorded_by_idx ON session_vitals (recorded_by);
CREATE INDEX session_alarms_acknowledged_by_idx ON session_alarms (acknowledged_by);
CREATE INDEX session_events_recorded_by_idx ON session_events (recorded_by);
CREATE INDEX session_dose_orders_ordered_by_idx ON session_dose_orders (ordered_by);

-- A session's lists, in the order they are read, ties by id (they grow with the
-- session): each replaces the index on session_id alone, which it also serves.
CREATE INDEX session_vitals_session_taken_idx ON session_vitals (session_id, taken_at, id);
DROP INDEX session_vitals_session_id_idx;
CREATE INDEX session_alarms_session_raised_idx ON session_alarms (session_id, raised_at, id);
DROP INDEX session_alarms_session_id_idx;
CREATE INDEX dose_administrations_session_at_idx ON dose_administrations (session_id, at, id);
DROP INDEX dose_administrations_session_id_idx;
CREATE INDEX session_events_session_at_idx ON session_events (session_id, at, id);
DROP INDEX session_events_session_id_idx;
CREATE INDEX session_dose_orders_session_ordered_idx ON session_dose_orders (session_id, ordered_at, id);
DROP INDEX session_dose_orders_session_id_idx;

-- Clinic-wide open lists: the floor board's alarms and sessions (the therapy worklist's
-- pending sessions use planned_sessions_completed_by_note_idx above).
CREATE INDEX session_alarms_unacknowledged_idx ON session_alarms (raised_at, id) WHERE acknowledged_at IS NULL;
CREATE INDEX dosing_sessions_open_idx ON dosing_sessions (opened_at, id) WHERE discharged_at IS NULL;
CREATE INDEX dosing_sessions_route_idx ON dosing_sessions (route, opened_at, id);
DROP INDEX planned_sessions_due_date_idx;

-- Audit filters by actor or patient, newest first (PostgreSQL's index does not carry seq
-- as SQLite's rowid index does).
CREATE INDEX audit_log_patient_seq_idx ON audit_log (patient_id, seq);
DROP INDEX audit_log_patient_id_idx;
CREATE INDEX audit_log_actor_seq_idx ON audit_log (actor_user_id, seq);
DROP INDEX audit_log_actor_user_id_idx;
