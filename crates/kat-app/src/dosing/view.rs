//! The session screen's view, the patient's sessions and the floor board.

use super::administrations::AdministrationInput;
use super::dose_order::{DoseOrder, given_mg};
use super::plan::PlanView;
use super::{internal, permitted_session};
use crate::config::DosingConfig;
use crate::{AppError, AppResult, Ctx, require};
use jiff::Timestamp;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::dosing::{Minutes, Route};
use kat_core::ids::{DosingSessionId, PatientId};
use kat_core::monitoring::{DischargeDecision, MonitoringSchedule, Reading, ScheduledCheck, SessionTimes};
use kat_core::role::Permission;
use kat_store::dosing::{AdministrationRecord, AlarmRecord, DosingSessionRecord, SessionEventRecord, VitalRecord};
use kat_store::{Store, Tx};
use std::collections::HashSet;

// ---------------------------------------------------------------------------------------
// Session view and floor board
// ---------------------------------------------------------------------------------------

/// Everything the session screen shows.
#[derive(Debug)]
pub struct SessionView {
    /// The patient's name and MRN, for the screen.
    pub patient_label: String,
    pub session: DosingSessionRecord,
    pub plan: PlanView,
    pub administrations: Vec<AdministrationRecord>,
    pub vitals: Vec<(VitalRecord, Reading)>,
    pub alarms: Vec<AlarmRecord>,
    /// Adverse events and interventions, by time.
    pub events: Vec<SessionEventRecord>,
    /// Dose orders for this session, oldest first; the latest is in force.
    pub orders: Vec<DoseOrder>,
    pub next_check: Option<ScheduledCheck>,
    pub discharge: Option<DischargeDecision>,
}

impl SessionView {
    pub fn route(&self) -> Route {
        self.plan.content.route
    }
    /// The dose in force for this session: the latest order, else the plan's dose.
    pub fn ordered_mg(&self) -> f64 {
        self.orders.last().map_or(self.plan.content.dose.mg, |o| o.mg)
    }
    /// What this session has given so far (doses, devices, infusion starts).
    pub fn given_mg(&self) -> f64 {
        given_mg(&self.administrations)
    }
    /// When dosing started and ended, from the administration events.
    pub fn times(&self) -> Option<SessionTimes> {
        let starts: Vec<(String, Timestamp)> = self
            .administrations
            .iter()
            .filter_map(|a| serde_json::from_str::<AdministrationInput>(&a.content).ok().map(|i| (i.kind, a.at)))
            .collect();
        let first = starts.iter().find(|(k, _)| matches!(k.as_str(), "dose" | "device" | "infusion_start"))?.1;
        let end = match self.route() {
            // Until the stop is recorded, the planned end (start + planned minutes).
            Route::IvInfusion => starts.iter().rev().find(|(k, _)| k == "infusion_stop").map(|x| x.1).or_else(|| {
                let minutes = self.plan.content.dose.infusion_minutes?;
                Some(kat_core::dosing::units::add_minutes(first, Minutes::new(minutes)))
            }),
            Route::IntranasalEsketamine => starts.iter().rev().find(|(k, _)| k == "device").map(|x| x.1),
            _ => Some(first),
        }?;
        Some(SessionTimes { dose_start: first, dose_end: end })
    }
    pub fn open_alarms(&self) -> impl Iterator<Item = &AlarmRecord> {
        self.alarms.iter().filter(|a| a.acknowledged_at.is_none())
    }
}

pub(crate) async fn load_view(
    tx: &mut Box<dyn Tx>,
    config: &DosingConfig,
    session: DosingSessionRecord,
    now: Timestamp,
) -> AppResult<SessionView> {
    let plan = tx.treatment_plan_by_id(session.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan = PlanView::from_record(plan)?;
    let administrations = tx.administrations_for_session(session.id).await?;
    let vitals = tx
        .vitals_for_session(session.id)
        .await?
        .into_iter()
        .filter_map(|v| serde_json::from_str(&v.reading).ok().map(|r| (v, r)))
        .collect();
    let alarms = tx.alarms_for_session(session.id).await?;
    let patient = tx.patient_by_id(session.patient_id).await?.ok_or(AppError::NotFound("patient"))?;
    let patient_label = format!("{} · {}", patient.demographics.full_name(), patient.mrn);
    let events = tx.session_events_for_session(session.id).await?;
    let orders = tx
        .dose_orders_for_session(session.id)
        .await?
        .iter()
        .map(|o| serde_json::from_str(&o.content).map_err(internal))
        .collect::<AppResult<Vec<DoseOrder>>>()?;
    let mut view = SessionView {
        patient_label,
        session,
        plan,
        administrations,
        vitals,
        alarms,
        events,
        orders,
        next_check: None,
        discharge: None,
    };
    if let Some(times) = view.times() {
        let route = view.route();
        let schedule =
            MonitoringSchedule::for_session(route, times, config.discharge.min_observation(route), &config.monitoring);
        // Overdue when a scheduled check passed with no reading since; otherwise the
        // next one after the latest reading (a reading at the due time does it).
        let last_done = view.vitals.iter().map(|(v, _)| v.taken_at).max();
        view.next_check = match schedule.overdue(last_done, now) {
            Some(c) => Some(c),
            None => {
                let after = last_done.map_or(now, |t| t.max(now) + jiff::SignedDuration::from_secs(1));
                schedule.next_check_due(after)
            }
        };
    }
    Ok(view)
}

/// The session screen (audited read).
pub async fn session(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<SessionView> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "dosing_session",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin().await?;
    let view = load_view(&mut tx, config, s, ctx.now).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Read,
        "dosing_session",
        Some(session.to_string()),
        Some(view.session.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// A patient's sessions (audited).
pub async fn sessions_for_patient(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
) -> AppResult<Vec<DosingSessionRecord>> {
    require(store, ctx, Permission::DosingSessionRead, "dosing_session", None, Some(patient), AuditAction::List)
        .await?;
    let mut tx = store.begin().await?;
    let list = tx.dosing_sessions_for_patient(patient).await?;
    tx.append_audit(&ctx.audit(AuditAction::List, "dosing_session", None, Some(patient), AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(list)
}

/// The floor board: every session in progress (not discharged, not deferred at the
/// gate) with its unacknowledged alarms and next check, one `list` audit entry per
/// patient shown.
pub async fn floor_board(store: &dyn Store, ctx: &Ctx, config: &DosingConfig) -> AppResult<Vec<SessionView>> {
    require(store, ctx, Permission::DosingSessionRead, "dosing_session", None, None, AuditAction::List).await?;
    floor_board_views(store, ctx, config, None).await
}

/// A session in progress: open, and not deferred at the gate (a deferral ends the day).
pub(crate) fn in_progress(s: &DosingSessionRecord) -> bool {
    s.discharged_at.is_none() && s.gate_outcome.as_deref() != Some("defer")
}

async fn floor_board_views(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    mut seen: Option<&mut HashSet<DosingSessionId>>,
) -> AppResult<Vec<SessionView>> {
    let mut tx = store.begin().await?;
    let open = tx.open_dosing_sessions().await?;
    let mut out = Vec::new();
    for s in open.into_iter().filter(in_progress) {
        let view = load_view(&mut tx, config, s, ctx.now).await?;
        // On a live board, only a session newly shown is audited (see `crate::live`).
        let new = match seen.as_deref_mut() {
            Some(seen) => seen.insert(view.session.id),
            None => true,
        };
        if new {
            tx.append_audit(&ctx.audit(
                AuditAction::List,
                "dosing_session",
                Some(view.session.id.to_string()),
                Some(view.session.patient_id),
                AuditOutcome::Allowed,
            ))
            .await?;
        }
        out.push(view);
    }
    tx.commit().await?;
    Ok(out)
}

/// The floor board for a live screen (see `crate::live`): the permission is checked
/// again on every refresh; each session is audited the first time this screen shows it
/// (`seen` holds those already audited), not on every refresh.
pub async fn floor_board_live(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    seen: &mut HashSet<DosingSessionId>,
) -> AppResult<Vec<SessionView>> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    floor_board_views(store, ctx, config, Some(seen)).await
}

/// The session screen for a live stream that is already open (see `crate::live`): the
/// permission is checked again, and no audit entry is written, because opening the
/// stream was the audited read ([`session`]).
pub async fn session_live(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<SessionView> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    load_view(&mut tx, config, s, ctx.now).await
}
