-- Dosing safe across sessions and plans (issue 11 item 1). A session opened on a day the
-- patient already had one (or sooner than the clinic's minimum interval) carries the
-- prescriber's override: the reason, who, and the sessions it names, as JSON
-- (kat_core::dosing::course::DoseDayOverride). A plan signed while another active plan
-- overlaps carries the prescriber's reason and the overlapping plans, as JSON
-- (kat_core::dosing::course::PlanOverlapOverride), written by the signing UPDATE itself.
-- NULL when no override was needed.
ALTER TABLE dosing_sessions ADD COLUMN dose_day_override TEXT;
ALTER TABLE treatment_plans ADD COLUMN overlap_override TEXT;
