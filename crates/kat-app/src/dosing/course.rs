//! The patient's course: plans with their doses after deferrals, and the sessions.

use super::gate::StoredGate;
use super::plan::{PlanView, plans};
use super::view::sessions_for_patient;
use crate::{AppResult, Ctx};
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::ids::PatientId;
use kat_core::patient::parse_iso_date;
use kat_store::Store;
use kat_store::dosing::DosingSessionRecord;

/// A plan with its doses as they stand after deferrals.
#[derive(Debug, Clone)]
pub struct PlanCourse {
    pub plan: PlanView,
    pub doses: Vec<kat_core::dosing::schedule::ScheduledDose>,
}

/// A patient's dosing course: plans with their schedules after deferrals, and sessions,
/// newest first.
#[derive(Debug, Clone)]
pub struct Course {
    pub plans: Vec<PlanCourse>,
    pub sessions: Vec<DosingSessionRecord>,
}

/// The day a session was opened, in the clinic's zone, and the new date of its deferral.
pub(crate) fn deferral_of(
    s: &DosingSessionRecord,
    tz: &jiff::tz::TimeZone,
) -> Option<kat_core::dosing::schedule::Deferral> {
    if s.gate_outcome != Some(kat_core::dosing::session::GateOutcome::Defer) {
        return None;
    }
    let gate: Option<StoredGate> = s.gate.as_deref().and_then(|g| serde_json::from_str(g).ok());
    let to = gate.and_then(|g| g.reschedule_to).and_then(|d| parse_iso_date(&d));
    Some(kat_core::dosing::schedule::Deferral { on: s.opened_at.to_zoned(tz.clone()).date(), to })
}

/// A patient's plans and sessions (one audited read of each), with each plan's session
/// dates after the deferrals recorded at the gate (§3: "defer … and the session
/// rescheduled").
pub async fn course(store: &dyn Store, ctx: &Ctx, patient: PatientId, tz: &jiff::tz::TimeZone) -> AppResult<Course> {
    let plans = plans(store, ctx, patient).await?;
    let mut sessions = sessions_for_patient(store, ctx, patient).await?;
    sessions.sort_by_key(|s| std::cmp::Reverse(s.opened_at));
    let plans = plans
        .into_iter()
        .map(|plan| {
            let planned: Vec<Date> = plan.content.schedule.iter().filter_map(|d| parse_iso_date(d)).collect();
            let mut deferrals: Vec<(Timestamp, kat_core::dosing::schedule::Deferral)> = sessions
                .iter()
                .filter(|s| s.plan_id == plan.record.id)
                .filter_map(|s| deferral_of(s, tz).map(|d| (s.opened_at, d)))
                .collect();
            deferrals.sort_by_key(|(at, _)| *at);
            let deferrals: Vec<_> = deferrals.into_iter().map(|(_, d)| d).collect();
            let doses = kat_core::dosing::schedule::effective_schedule(&planned, &deferrals);
            PlanCourse { plan, doses }
        })
        .collect();
    Ok(Course { plans, sessions })
}
