//! Monitoring: vital-sign readings, the pre-dose gate, the monitoring schedule, alarms
//! and discharge (clinical.md §3 and §4).
//!
//! A session runs through these in order: [`gate::evaluate_gate`] before dosing (§3),
//! [`schedule::MonitoringSchedule`] for what is due when (MON-KET-003, MON-SPV-002),
//! [`alarms::evaluate_reading`] on every reading from a device or a nurse (§4.3), and
//! [`discharge::discharge_decision`] at the end (§4.5). Every threshold the spec tags
//! \[U\] or \[P\] is a policy value with the spec's default.

pub mod adverse;
pub mod alarms;
pub mod discharge;
pub mod gate;
pub mod schedule;
pub mod vitals;

pub use crate::dosing::rule::RuleId;
pub use alarms::{
    Alarm, AlarmKind, AlarmPolicy, AlarmValue, Deviation, InterventionEvent, OutOfRange, Severity, evaluate_reading,
    out_of_range,
};
pub use discharge::{
    Criterion, DischargeDecision, DischargeInput, DischargePolicy, UnmetCriterion, current_values, discharge_decision,
};
pub use gate::{
    AcceptedAtEligibility, BpGatePolicy, BpPolicyName, EligibilityAcceptances, FastingPolicy, GateChecklist,
    GateDecision, GateFinding, GateItem, GateLevel, GatePolicy, HrGatePolicy, InteractionAction, InteractionFinding,
    carry_over, evaluate_gate, interaction_findings,
};
pub use schedule::{CheckKind, MonitoringSchedule, SchedulePolicy, ScheduledCheck, SessionTimes, recheck, tighter};
pub use vitals::{
    Baseline, BloodPressure, ClinicalSigns, Diastolic, HeartRate, Moaas, Reading, ReadingSource, RespiratoryRate, SpO2,
    Systolic,
};
