//! The clinic's day (issue 11 item 12): today's dosing sessions, planned and under way,
//! the therapy sessions due and the measures due, on one page for the front desk and the
//! nurses.
//!
//! One read transaction in a fixed number of queries whatever the number of patients
//! (the dosing day's three, the therapy sessions due, the measures' two, the patients
//! shown), then one list-view audit entry naming every patient shown. It shows where a
//! patient stands in the day, never a clinical finding: no scores, vitals or gate
//! findings, so the front desk may read it ([`Permission::ScheduleRead`]).

use crate::config::MeasuresConfig;
use crate::dosing::{PlanView, deferral_of};
use crate::{AppResult, Ctx, audit_list_view, require};
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::audit::AuditAction;
use kat_core::dosing::Route;
use kat_core::dosing::schedule::{Deferral, effective_schedule};
use kat_core::dosing::session::{GateOutcome, Phase};
use kat_core::ids::{DosingSessionId, PatientId, TreatmentPlanId};
use kat_core::measures::DueMeasure;
use kat_core::page::{Page, PageRequest};
use kat_core::patient::{Patient, parse_iso_date};
use kat_core::role::Permission;
use kat_core::therapy::schedule::PlannedSession;
use kat_store::Store;
use kat_store::dosing::DosingSessionRecord;

/// The most dosing rows one page of the day shows (also its default size).
pub const TODAY_PAGE: u32 = 100;
/// The most therapy sessions and patients with measures due the day shows; the full
/// lists are the worklists.
pub const TODAY_SHOWN: usize = 25;

/// Where a patient's dose of the day stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DayStatus {
    /// A dose is planned today; no session is open yet.
    Planned,
    /// The session is open; the pre-dose gate is not recorded yet.
    Arrived,
    /// Gate passed, dosing or observation.
    InProgress,
    /// Discharged.
    Discharged,
    /// Deferred at the gate: no dose today.
    Deferred,
    /// Stopped by an intervention or transferred to emergency care.
    Ended,
}

impl DayStatus {
    /// In words, as the page and the API show it.
    pub fn label(self) -> &'static str {
        match self {
            DayStatus::Planned => "Planned",
            DayStatus::Arrived => "Arrived, gate not done",
            DayStatus::InProgress => "In progress",
            DayStatus::Discharged => "Discharged",
            DayStatus::Deferred => "Deferred, no dose today",
            DayStatus::Ended => "Ended early",
        }
    }
    /// A stable key for styles and machine readers.
    pub fn key(self) -> &'static str {
        match self {
            DayStatus::Planned => "planned",
            DayStatus::Arrived => "arrived",
            DayStatus::InProgress => "in_progress",
            DayStatus::Discharged => "discharged",
            DayStatus::Deferred => "deferred",
            DayStatus::Ended => "ended",
        }
    }
}

/// A session's status in the day: from its typed state where it has one, from its
/// columns for a session stored before the state was kept.
pub fn session_status(s: &DosingSessionRecord) -> DayStatus {
    match s.state.as_ref().map(|st| st.phase()) {
        Some(Phase::Opened) => DayStatus::Arrived,
        Some(Phase::Deferred) => DayStatus::Deferred,
        Some(Phase::GatePassed | Phase::Dosing | Phase::Observing) => DayStatus::InProgress,
        Some(Phase::Discharged) => DayStatus::Discharged,
        Some(Phase::Ended) => DayStatus::Ended,
        None if s.discharged_at.is_some() => DayStatus::Discharged,
        None => match s.gate_outcome {
            None => DayStatus::Arrived,
            Some(GateOutcome::Defer) => DayStatus::Deferred,
            Some(_) => DayStatus::InProgress,
        },
    }
}

/// Whether a plan with these planned dates has a dose booked on `day` once its
/// deferrals (in the order they happened) have moved its doses.
pub fn dose_booked_on(planned: &[Date], deferrals: &[Deferral], day: Date) -> bool {
    effective_schedule(planned, deferrals).iter().any(|d| d.current == Some(day))
}

/// One line of the day's dosing.
#[derive(Debug, Clone)]
pub struct DosingRow {
    pub patient: PatientId,
    pub plan: TreatmentPlanId,
    pub route: Route,
    pub status: DayStatus,
    /// The session, once one is open.
    pub session: Option<DosingSessionId>,
    pub opened_at: Option<Timestamp>,
    pub discharged_at: Option<Timestamp>,
    /// Opened on an earlier day and still not discharged.
    pub from_earlier_day: bool,
}

/// A therapy session due today or overdue.
#[derive(Debug, Clone)]
pub struct TherapyRow {
    pub session: PlannedSession,
    pub overdue: bool,
}

/// The day, for the Today page.
#[derive(Debug, Clone)]
pub struct Today {
    pub date: Date,
    /// One page of the day's dosing: under way first, then planned, then done.
    pub dosing: Page<DosingRow>,
    /// The first [`TODAY_SHOWN`] therapy sessions due today or overdue, by due date.
    pub therapy: Vec<TherapyRow>,
    pub therapy_total: usize,
    /// The first [`TODAY_SHOWN`] patients with measures due or overdue, most urgent first.
    pub measures: Vec<(PatientId, Vec<DueMeasure>)>,
    pub measures_total: usize,
    /// Every patient the page names.
    pub patients: Vec<Patient>,
}

impl Today {
    pub fn patient(&self, id: PatientId) -> Option<&Patient> {
        self.patients.iter().find(|p| p.id == id)
    }
}

/// How the day's rows are ordered: what needs hands now first.
fn rank(s: DayStatus) -> u8 {
    match s {
        DayStatus::InProgress => 0,
        DayStatus::Arrived => 1,
        DayStatus::Planned => 2,
        DayStatus::Discharged => 3,
        DayStatus::Ended => 4,
        DayStatus::Deferred => 5,
    }
}

/// The day's dosing rows from what [`kat_store::lists::DosingDay`] read: each of the
/// day's sessions (and an earlier one not yet discharged), and each signed plan with a
/// dose booked today that has no session opened today.
pub fn dosing_rows(
    plans: &[PlanView],
    deferred: &[DosingSessionRecord],
    sessions: &[DosingSessionRecord],
    day: Date,
    tz: &jiff::tz::TimeZone,
) -> Vec<DosingRow> {
    let local = |t: Timestamp| t.to_zoned(tz.clone()).date();
    let mut rows: Vec<DosingRow> = sessions
        .iter()
        .map(|s| DosingRow {
            patient: s.patient_id,
            plan: s.plan_id,
            route: s.route,
            status: session_status(s),
            session: Some(s.id),
            opened_at: Some(s.opened_at),
            discharged_at: s.discharged_at,
            from_earlier_day: local(s.opened_at) < day,
        })
        .collect();
    for plan in plans {
        let opened_today = sessions.iter().any(|s| s.plan_id == plan.record.id && local(s.opened_at) == day);
        if opened_today {
            continue;
        }
        let planned: Vec<Date> = plan.content.schedule.iter().filter_map(|d| parse_iso_date(d)).collect();
        let deferrals: Vec<Deferral> =
            deferred.iter().filter(|s| s.plan_id == plan.record.id).filter_map(|s| deferral_of(s, tz)).collect();
        if dose_booked_on(&planned, &deferrals, day) {
            rows.push(DosingRow {
                patient: plan.record.patient_id,
                plan: plan.record.id,
                route: plan.content.route,
                status: DayStatus::Planned,
                session: None,
                opened_at: None,
                discharged_at: None,
                from_earlier_day: false,
            });
        }
    }
    rows.sort_by_key(|r| (rank(r.status), r.opened_at, r.patient));
    rows
}

/// The clinic's day for the signed-in user: one page of the day's dosing, the therapy
/// sessions due today or overdue, and the measures due (also for the front desk, who
/// sends the links: instruments and due dates, never scores).
pub async fn today(store: &dyn Store, ctx: &Ctx, measures: &MeasuresConfig, page: PageRequest) -> AppResult<Today> {
    require(store, ctx, Permission::ScheduleRead, "today", None, None, AuditAction::List).await?;
    let tz = &ctx.tz;
    let day = ctx.today;
    let internal = |e: jiff::Error| crate::AppError::Internal(e.to_string());
    let from = day.to_zoned(tz.clone()).map_err(internal)?.timestamp();
    let to = day.tomorrow().map_err(internal)?.to_zoned(tz.clone()).map_err(internal)?.timestamp();
    let mut tx = store.begin_read().await?;
    let read = tx.dosing_day(from, to).await?;
    let plans: Vec<PlanView> = read.plans.into_iter().map(PlanView::from_record).collect::<AppResult<_>>()?;
    let dosing = page.slice(dosing_rows(&plans, &read.deferred, &read.sessions, day, tz));
    let therapy: Vec<TherapyRow> = tx
        .pending_sessions_due_by(day, None)
        .await?
        .into_iter()
        .map(|session| TherapyRow { overdue: session.due < day, session })
        .collect();
    let therapy_total = therapy.len();
    let therapy: Vec<TherapyRow> = therapy.into_iter().take(TODAY_SHOWN).collect();
    let measures = crate::measures::due_list(&mut tx, ctx, measures, tz).await?;
    let measures_total = measures.len();
    let measures: Vec<_> = measures.into_iter().take(TODAY_SHOWN).collect();
    let mut ids: Vec<PatientId> = dosing.items.iter().map(|r| r.patient).collect();
    ids.extend(therapy.iter().map(|t| t.session.patient_id));
    ids.extend(measures.iter().map(|(p, _)| *p));
    ids.sort();
    ids.dedup();
    let patients = tx.patients_by_ids(&ids).await?;
    tx.commit().await?;
    audit_list_view(store, ctx, "today", &ids).await?;
    Ok(Today { date: day, dosing, therapy, therapy_total, measures, measures_total, patients })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_dose_moved_by_a_deferral_is_booked_on_its_new_day_not_its_old_one() {
        let planned = [date(2026, 12, 1), date(2026, 12, 4)];
        assert!(dose_booked_on(&planned, &[], date(2026, 12, 1)));
        assert!(!dose_booked_on(&planned, &[], date(2026, 12, 2)), "no dose planned that day");
        let moved = [Deferral { on: date(2026, 12, 1), to: Some(date(2026, 12, 2)) }];
        assert!(!dose_booked_on(&planned, &moved, date(2026, 12, 1)), "deferred away");
        assert!(dose_booked_on(&planned, &moved, date(2026, 12, 2)), "booked on the new date");
        let dropped = [Deferral { on: date(2026, 12, 1), to: None }];
        assert!(!dose_booked_on(&planned, &dropped, date(2026, 12, 1)));
        assert!(dose_booked_on(&planned, &dropped, date(2026, 12, 4)), "the next dose stays");
    }

    #[test]
    fn statuses_read_in_words_and_keys() {
        for s in [
            DayStatus::Planned,
            DayStatus::Arrived,
            DayStatus::InProgress,
            DayStatus::Discharged,
            DayStatus::Deferred,
            DayStatus::Ended,
        ] {
            assert!(!s.label().is_empty() && !s.key().contains(' '));
        }
        assert!(rank(DayStatus::InProgress) < rank(DayStatus::Planned));
        assert!(rank(DayStatus::Planned) < rank(DayStatus::Discharged));
    }
}
