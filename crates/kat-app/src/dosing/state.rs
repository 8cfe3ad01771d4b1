//! The session's state beside its row: what the signed plan gives the machine, and the
//! state rebuilt from a stored history for sessions recorded before it was kept.

use super::dose_order::DoseOrder;
use super::events::EmergencyTransfer;
use super::gate::StoredGate;
use super::internal;
use super::plan::PlanContent;
use crate::{AppError, AppResult};
use kat_core::FieldErrors;
use kat_core::dosing::session::{DosingSession, EndCause, Ending, InfusionPlan, SessionPlan};
use kat_core::dosing::{Mg, MgPerMl, Minutes, Route};
use kat_core::monitoring::{GateChecklist, InterventionEvent};
use kat_store::Tx;
use kat_store::dosing::{DosingSessionRecord, SessionEventKind};
use std::collections::HashMap;

/// What the signed plan gives a session: route, dose and, for an IV infusion, its stock
/// and duration (DOSE-IV-004, DOSE-IV-003).
pub(crate) fn session_plan(plan: &PlanContent) -> AppResult<SessionPlan> {
    let dose = Mg::new(plan.dose.mg).map_err(|e| internal(e.0))?;
    let infusion = match (plan.route, plan.dose.concentration_mg_per_ml, plan.dose.infusion_minutes) {
        (Route::IvInfusion, Some(stock), Some(minutes)) => Some(InfusionPlan {
            stock: MgPerMl::new(stock).map_err(|e| internal(e.0))?,
            minutes: Minutes::new(minutes),
        }),
        _ => None,
    };
    Ok(SessionPlan { route: plan.route, dose, infusion })
}

/// Opens the machine on the plan at `at`; an IV plan without its stock or duration
/// cannot run a session.
pub(crate) fn open_state(plan: &PlanContent, at: jiff::Timestamp) -> AppResult<DosingSession> {
    DosingSession::open(session_plan(plan)?, at).map_err(|e| AppError::from(FieldErrors::single(e.field, e.message)))
}

/// The session's state: the stored one, else rebuilt from its history (read-only: not
/// saved; the next write use case saves it).
pub async fn state_of(tx: &mut Box<dyn Tx>, s: &DosingSessionRecord) -> AppResult<DosingSession> {
    match &s.state {
        Some(state) => Ok(state.clone()),
        None => rebuild_state(tx, s).await,
    }
}

/// Rebuilds a session's state from its stored history (for a session recorded before
/// the state was kept beside it, migration 0011): the plan, the dose order in force, the
/// gate, the administrations, readings (with the alarms each raised that are still
/// open), the ends (an intervention that stopped the session, a transfer) and the
/// discharge, each replayed through the machine in the order recorded. It reads every
/// row of the session once; a use case does it once and saves the result.
pub async fn rebuild_state(tx: &mut Box<dyn Tx>, s: &DosingSessionRecord) -> AppResult<DosingSession> {
    let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let mut state = open_state(&plan, s.opened_at)?;
    if let Some(order) = tx.dose_orders_for_session(s.id).await?.last() {
        let order: DoseOrder = serde_json::from_str(&order.content).map_err(internal)?;
        state = state.replay_order(Mg::new(order.mg).map_err(|e| internal(e.0))?);
    }
    if let (Some(outcome), Some(at)) = (s.gate_outcome, s.gate_at) {
        let stored: StoredGate =
            serde_json::from_str(s.gate.as_deref().unwrap_or_default()).map_err(|e| internal(format!("gate: {e}")))?;
        let checklist: GateChecklist = serde_json::from_value(stored.checklist).map_err(internal)?;
        state = state.replay_gate(&checklist, at, outcome);
    }
    // Recorded order: the ids are time-ordered (UUID v7).
    let mut administrations = tx.administrations_for_session(s.id).await?;
    administrations.sort_by_key(|a| a.id.as_uuid());
    for a in &administrations {
        state = state.replay_administration(&a.administration);
    }
    let mut open: HashMap<_, Vec<_>> = HashMap::new();
    for a in tx.alarms_for_session(s.id).await? {
        if a.acknowledged_at.is_none() {
            open.entry(a.vital_id).or_default().push(a);
        }
    }
    let mut vitals = tx.vitals_for_session(s.id).await?;
    vitals.sort_by_key(|v| v.id.as_uuid());
    for v in &vitals {
        let mut raised = open.remove(&v.id).unwrap_or_default();
        raised.sort_by_key(|a| a.id.as_uuid());
        let raised: Vec<_> = raised.iter().map(|a| a.open_alarm()).collect();
        state = state.replay_reading(&v.reading, &raised);
    }
    let mut events = tx.session_events_for_session(s.id).await?;
    events.sort_by_key(|e| e.id);
    for e in &events {
        match e.kind {
            SessionEventKind::Intervention => {
                let ev: InterventionEvent = serde_json::from_str(&e.content).map_err(internal)?;
                if ev.session_stopped {
                    state = state.replay_end(Ending { at: e.at, cause: EndCause::Intervention });
                }
            }
            SessionEventKind::EmergencyTransfer => {
                let _: EmergencyTransfer = serde_json::from_str(&e.content).map_err(internal)?;
                state = state.replay_end(Ending { at: e.at, cause: EndCause::EmergencyTransfer });
            }
            _ => {}
        }
    }
    if let Some(at) = s.discharged_at {
        state = state.replay_discharge(at);
    }
    Ok(state)
}
