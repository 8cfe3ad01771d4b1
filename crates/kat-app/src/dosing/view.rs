//! The session screen's view, the patient's sessions and the floor board: read in read
//! transactions, audited before they are returned.

use super::dose_order::DoseOrder;
use super::events::EmergencyTransfer;
use super::plan::PlanView;
use super::state::state_of;
use super::{audit_reads, entry, internal, read_session};
use crate::config::DosingConfig;
use crate::{AppError, AppResult, Ctx, require};
use jiff::Timestamp;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::dosing::Route;
use kat_core::dosing::course::DoseDayOverride;
use kat_core::dosing::session::{DosingSession, EndCause, GateOutcome};
use kat_core::dosing::units::Minutes;
use kat_core::ids::{DosingSessionId, PatientId, UserId};
use kat_core::monitoring::{
    AlarmKind, CheckKind, DischargeDecision, MonitoringSchedule, Reading, ScheduledCheck, SessionTimes, recheck,
    tighter,
};
use kat_core::role::Permission;
use kat_store::dosing::{
    AdministrationRecord, AlarmRecord, DosingSessionRecord, SessionEventKind, SessionEventRecord, VitalRecord,
};
use kat_store::{Store, Tx};
use std::collections::{HashMap, HashSet};

// ---------------------------------------------------------------------------------------
// Session view and floor board
// ---------------------------------------------------------------------------------------

/// An entry charted after the fact (issue 11 items 2 and 5): what it is, when it
/// happened, and who recorded it when.
#[derive(Debug, Clone, PartialEq)]
pub struct LateEntryView {
    /// `administration`, `reading`, `adverse_event`, `intervention`, `cadss6`,
    /// `emergency_transfer`, `rems_fields`.
    pub what: &'static str,
    pub at: Timestamp,
    pub recorded_at: Timestamp,
    /// The recorder's display name.
    pub recorded_by: String,
}

/// The session's exit to emergency care (issue 11 item 4).
#[derive(Debug, Clone, PartialEq)]
pub struct TransferView {
    pub at: Timestamp,
    pub reason: String,
    pub recorded_by: String,
}

/// Everything the session screen shows.
#[derive(Debug)]
pub struct SessionView {
    /// The patient's name and MRN, for the screen.
    pub patient_label: String,
    pub session: DosingSessionRecord,
    /// The session's state (the machine's), as of the read.
    pub state: DosingSession,
    /// When the view was read (what a running infusion has delivered is as of then).
    pub at: Timestamp,
    pub plan: PlanView,
    pub administrations: Vec<AdministrationRecord>,
    pub vitals: Vec<(VitalRecord, Reading)>,
    pub alarms: Vec<AlarmRecord>,
    /// Adverse events, interventions, ratings and other session records, by time.
    pub events: Vec<SessionEventRecord>,
    /// Dose orders for this session, oldest first; the latest is in force.
    pub orders: Vec<DoseOrder>,
    pub next_check: Option<ScheduledCheck>,
    pub discharge: Option<DischargeDecision>,
    /// Entries charted after the fact, by the time they happened.
    pub late_entries: Vec<LateEntryView>,
    /// The transfer to emergency care that ended the session, if any.
    pub transfer: Option<TransferView>,
    /// Later sessions of the patient opened by a prescriber's override of one dose day
    /// that name this one (issue 11 item 1); read for the session screen only.
    pub later_overrides: Vec<(DosingSessionId, DoseDayOverride)>,
}

impl SessionView {
    pub fn route(&self) -> Route {
        self.session.route
    }
    /// The dose in force for this session: the latest order, else the plan's dose.
    pub fn ordered_mg(&self) -> f64 {
        self.state.dose_in_force().value()
    }
    /// What this session has delivered (issue 11 item 3): doses and devices as given, an
    /// IV infusion by its pump (start, pauses, rate changes and stop), as of the read.
    pub fn given_mg(&self) -> f64 {
        (self.state.delivered_mg(self.at).value() * 100.0).round() / 100.0
    }
    /// When dosing started and ended.
    pub fn times(&self) -> Option<SessionTimes> {
        self.state.times()
    }
    pub fn open_alarms(&self) -> impl Iterator<Item = &AlarmRecord> {
        self.alarms.iter().filter(|a| a.acknowledged_at.is_none())
    }
    /// The prescriber's override of one dose day this session was opened with, if any.
    pub fn dose_day_override(&self) -> Option<DoseDayOverride> {
        self.session.dose_day_override.as_deref().and_then(|j| serde_json::from_str(j).ok())
    }
}

/// The name to show for who recorded something.
async fn names(tx: &mut Box<dyn Tx>, ids: impl IntoIterator<Item = UserId>) -> AppResult<HashMap<UserId, String>> {
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(id) {
            let name = tx.user_by_id(id).await?.map(|u| u.display_name).unwrap_or_else(|| "unknown user".into());
            slot.insert(name);
        }
    }
    Ok(out)
}

/// Every row a session's view is made of, as read (by [`load_view`] for one session, or
/// in bulk for a list of them).
pub(crate) struct SessionParts {
    pub session: DosingSessionRecord,
    pub plan: kat_store::dosing::TreatmentPlanRecord,
    pub state: DosingSession,
    pub patient: kat_core::patient::Patient,
    pub administrations: Vec<AdministrationRecord>,
    pub vitals: Vec<VitalRecord>,
    pub alarms: Vec<AlarmRecord>,
    pub events: Vec<SessionEventRecord>,
    pub orders: Vec<kat_store::dosing::DoseOrderRecord>,
}

impl SessionParts {
    /// Who recorded the entries the view names (late entries, a transfer).
    pub(crate) fn recorders(&self) -> Vec<UserId> {
        let mut ids: Vec<UserId> = Vec::new();
        ids.extend(self.administrations.iter().filter(|a| a.late).map(|a| a.recorded_by));
        ids.extend(self.vitals.iter().filter(|v| v.late).filter_map(|v| v.recorded_by));
        ids.extend(
            self.events
                .iter()
                .filter(|e| e.late || e.kind == SessionEventKind::EmergencyTransfer)
                .map(|e| e.recorded_by),
        );
        ids
    }
}

pub(crate) async fn load_view(
    tx: &mut Box<dyn Tx>,
    config: &DosingConfig,
    session: DosingSessionRecord,
    now: Timestamp,
) -> AppResult<SessionView> {
    let plan = tx.treatment_plan_by_id(session.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let state = state_of(tx, &session).await?;
    let parts = SessionParts {
        plan,
        state,
        administrations: tx.administrations_for_session(session.id).await?,
        vitals: tx.vitals_for_session(session.id).await?,
        alarms: tx.alarms_for_session(session.id).await?,
        patient: tx.patient_by_id(session.patient_id).await?.ok_or(AppError::NotFound("patient"))?,
        events: tx.session_events_for_session(session.id).await?,
        orders: tx.dose_orders_for_session(session.id).await?,
        session,
    };
    let who = names(tx, parts.recorders()).await?;
    assemble_view(parts, &who, config, now)
}

/// A session's view from its rows; `who` names the users the view shows (missing: "unknown user").
pub(crate) fn assemble_view(
    parts: SessionParts,
    who: &HashMap<UserId, String>,
    config: &DosingConfig,
    now: Timestamp,
) -> AppResult<SessionView> {
    let SessionParts { session, plan, state, patient, administrations, vitals, alarms, events, orders } = parts;
    let plan = PlanView::from_record(plan)?;
    let vitals: Vec<(VitalRecord, Reading)> = vitals.into_iter().map(|v| (v.clone(), v.reading)).collect();
    let patient_label = format!("{} · {}", patient.demographics.full_name(), patient.mrn);
    let orders = orders
        .iter()
        .map(|o| serde_json::from_str(&o.content).map_err(internal))
        .collect::<AppResult<Vec<DoseOrder>>>()?;
    let mut late: Vec<(&'static str, Timestamp, Timestamp, UserId)> = Vec::new();
    late.extend(
        administrations.iter().filter(|a| a.late).map(|a| ("administration", a.at(), a.recorded_at, a.recorded_by)),
    );
    late.extend(
        vitals
            .iter()
            .filter(|(v, _)| v.late)
            .filter_map(|(v, _)| v.recorded_by.map(|by| ("reading", v.taken_at, v.recorded_at, by))),
    );
    let event_name = |k: SessionEventKind| match k {
        SessionEventKind::AdverseEvent => "adverse_event",
        SessionEventKind::Intervention => "intervention",
        SessionEventKind::Cadss6 => "cadss6",
        SessionEventKind::RemsSubmitted => "rems_submitted",
        SessionEventKind::EmergencyTransfer => "emergency_transfer",
        SessionEventKind::RemsFields => "rems_fields",
    };
    late.extend(events.iter().filter(|e| e.late).map(|e| (event_name(e.kind), e.at, e.recorded_at, e.recorded_by)));
    late.sort_by_key(|l| (l.1, l.2));
    let transfer_event = events.iter().find(|e| e.kind == SessionEventKind::EmergencyTransfer);
    let name = |id: &UserId| who.get(id).cloned().unwrap_or_else(|| "unknown user".into());
    let mut late_entries = Vec::with_capacity(late.len());
    for (what, at, recorded_at, by) in &late {
        late_entries.push(LateEntryView { what, at: *at, recorded_at: *recorded_at, recorded_by: name(by) });
    }
    let transfer = match transfer_event {
        Some(e) => {
            let t: EmergencyTransfer = serde_json::from_str(&e.content).map_err(internal)?;
            Some(TransferView { at: e.at, reason: t.reason, recorded_by: name(&e.recorded_by) })
        }
        None => None,
    };
    let mut view = SessionView {
        patient_label,
        session,
        state,
        at: now,
        plan,
        administrations,
        vitals,
        alarms,
        events,
        orders,
        next_check: None,
        discharge: None,
        late_entries,
        transfer,
        later_overrides: Vec::new(),
    };
    view.next_check = next_check(&view, config, now);
    Ok(view)
}

/// The session's next check (the one rule for the session screen and the floor tile):
/// the tighter of the monitoring schedule's next check (MON-KET-003, MON-SPV-002;
/// overdue when a scheduled check passed with no reading since, otherwise the next one
/// after the latest reading) and each open alarm's recheck (ALM-002, the one rule with a
/// recheck interval: due that interval after the newest reading of its measure since
/// the alarm). None once the session is closed (discharged or transferred to emergency
/// care). The view may hold only the newest readings (a floor tile's).
pub fn next_check(v: &SessionView, config: &DosingConfig, now: Timestamp) -> Option<ScheduledCheck> {
    if v.state.closed_at().is_some() {
        return None;
    }
    let last_done = v.vitals.iter().map(|(r, _)| r.taken_at).max().max(v.state.vitals().last_at());
    let scheduled = v.times().and_then(|times| {
        let route = v.route();
        let schedule =
            MonitoringSchedule::for_session(route, times, config.discharge.min_observation(route), &config.monitoring);
        schedule.overdue(last_done, now).or_else(|| {
            let after = last_done.map_or(now, |t| t.max(now) + jiff::SignedDuration::from_secs(1));
            schedule.next_check_due(after)
        })
    });
    v.open_alarms().filter_map(|a| open_recheck(a, &v.vitals)).fold(scheduled, |next, r| tighter(next, Some(r)))
}

/// An open alarm's recheck, when its rule has an interval (ALM-002: the alarm's
/// `recheck_in`, stored with it).
fn open_recheck(a: &AlarmRecord, vitals: &[(VitalRecord, Reading)]) -> Option<ScheduledCheck> {
    let content: serde_json::Value = serde_json::from_str(&a.content).ok()?;
    let every = u32::try_from(content["recheck_in"].as_u64()?).ok()?;
    let raised_at = content["at"].as_str().and_then(|t| t.parse::<Timestamp>().ok()).unwrap_or(a.raised_at);
    let (check, measured): (CheckKind, fn(&Reading) -> bool) = match a.kind {
        AlarmKind::BloodPressure => (CheckKind::BloodPressure, |r| r.blood_pressure.is_some()),
        AlarmKind::HeartRate => (CheckKind::HeartRate, |r| r.heart_rate.is_some()),
        AlarmKind::Oxygenation => (CheckKind::SpO2, |r| r.spo2.is_some()),
        AlarmKind::Respiration => (CheckKind::RespiratoryRate, |r| r.respiratory_rate.is_some()),
        AlarmKind::Sedation => (CheckKind::Sedation, |r| r.moaas.is_some()),
        AlarmKind::Psychological => return None,
    };
    let newest = vitals.iter().filter(|(_, r)| measured(r)).map(|(rec, _)| rec.taken_at).max();
    Some(recheck(a.rule.clone(), check, raised_at, Minutes::new(every), newest))
}

/// The session screen (audited read).
pub async fn session(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<SessionView> {
    let (mut tx, s) = read_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "dosing_session",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut view = load_view(&mut tx, config, s, ctx.now).await?;
    // Issue 11 item 1: a later session opened over this one's dose day says so here too.
    for other in tx.dosing_sessions_for_patient(view.session.patient_id).await? {
        let Some(o) = other.dose_day_override.as_deref().and_then(|j| serde_json::from_str::<DoseDayOverride>(j).ok())
        else {
            continue;
        };
        if o.conflicts.iter().any(|c| c.session == session) {
            view.later_overrides.push((other.id, o));
        }
    }
    drop(tx);
    audit_reads(store, &[entry(ctx, AuditAction::Read, "dosing_session", session, &view.session)]).await?;
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
    let mut tx = store.begin_read().await?;
    let list = tx.dosing_sessions_for_patient(patient).await?;
    drop(tx);
    audit_reads(store, &[ctx.audit(AuditAction::List, "dosing_session", None, Some(patient), AuditOutcome::Allowed)])
        .await?;
    Ok(list)
}

/// The floor board: every session in progress (not discharged, not deferred at the
/// gate), and sessions transferred to emergency care today, with their unacknowledged
/// alarms and next check; one `list` audit entry per patient shown.
pub async fn floor_board(store: &dyn Store, ctx: &Ctx, config: &DosingConfig) -> AppResult<Vec<SessionView>> {
    require(store, ctx, Permission::DosingSessionRead, "dosing_session", None, None, AuditAction::List).await?;
    floor_board_views(store, ctx, config, None).await
}

/// When the session ended by a transfer to emergency care, if it did.
pub fn transferred(s: &DosingSessionRecord) -> Option<Timestamp> {
    s.state.as_ref().and_then(|st| st.ending()).filter(|e| e.cause == EndCause::EmergencyTransfer).map(|e| e.at)
}

/// A session in progress: open, not deferred at the gate (a deferral ends the day) and
/// not transferred to emergency care.
pub fn in_progress(s: &DosingSessionRecord) -> bool {
    s.discharged_at.is_none() && s.gate_outcome != Some(GateOutcome::Defer) && transferred(s).is_none()
}

/// On the floor board: in progress, or transferred to emergency care on the clinic's
/// today (shown as such until the day ends).
fn on_the_board(s: &DosingSessionRecord, ctx: &Ctx) -> bool {
    match transferred(s) {
        Some(at) => s.discharged_at.is_none() && at.to_zoned(ctx.tz.clone()).date() == ctx.today,
        None => in_progress(s),
    }
}

async fn floor_board_views(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    mut seen: Option<&mut HashSet<DosingSessionId>>,
) -> AppResult<Vec<SessionView>> {
    let mut tx = store.begin_read().await?;
    let open = tx.open_dosing_sessions().await?;
    let mut out = Vec::new();
    let mut audit = Vec::new();
    for s in open.into_iter().filter(|s| on_the_board(s, ctx)) {
        let view = load_view(&mut tx, config, s, ctx.now).await?;
        // On a live board, only a session newly shown is audited (see `crate::live`).
        let new = match seen.as_deref_mut() {
            Some(seen) => seen.insert(view.session.id),
            None => true,
        };
        if new {
            audit.push(entry(ctx, AuditAction::List, "dosing_session", view.session.id, &view.session));
        }
        out.push(view);
    }
    drop(tx);
    audit_reads(store, &audit).await?;
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
    let mut tx = store.begin_read().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    crate::access::preview_allowed(&mut tx, ctx, Permission::DosingSessionRead, s.patient_id).await?;
    load_view(&mut tx, config, s, ctx.now).await
}
