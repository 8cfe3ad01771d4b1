//! Discharge (§4.5): the criteria checked by the core, one error per unmet criterion.

use super::administrations::AdministrationInput;
use super::plan::opt;
use super::view::load_view;
use super::vitals::baseline;
use super::{internal, permitted_session, user_id};
use crate::config::DosingConfig;
use crate::{AppError, AppResult, Ctx};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::dosing::Route;
use kat_core::ids::DosingSessionId;
use kat_core::monitoring::{DischargeInput, Moaas, Reading, current_values, discharge_decision};
use kat_core::role::Permission;
use kat_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// What staff assess at discharge (DC-003, DC-004), and an optional prescriber override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DischargeInputForm {
    pub aldrete_total: Option<u8>,
    pub pre_sedation_aldrete: Option<u8>,
    pub moaas: Option<u8>,
    pub dissociation_resolved: Option<bool>,
    pub able_to_walk_safely: Option<bool>,
    pub active_nausea: Option<bool>,
    pub suicidal_crisis: Option<bool>,
    pub escort_present: Option<bool>,
    pub written_instructions_given: Option<bool>,
    pub clinician_judges_stable: Option<bool>,
    /// A prescriber's reason to discharge although criteria are unmet.
    pub override_reason: Option<String>,
    /// Spravato REMS question: without the 2-hour minimum, when would the patient have
    /// been ready to leave (minutes from the start of administration)?
    pub rems_ready_to_leave_minutes: Option<u32>,
}

/// The stored discharge (`dosing_sessions.discharge`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDischarge {
    pub decision: serde_json::Value,
    pub ready: bool,
    pub override_reason: Option<String>,
    #[serde(default)]
    pub rems_ready_to_leave_minutes: Option<u32>,
}

/// The discharge form's field that answers a criterion (for the error's place).
fn criterion_field(c: kat_core::monitoring::Criterion) -> &'static str {
    use kat_core::monitoring::Criterion as C;
    match c {
        C::MinimumObservation => "observation",
        C::AldreteScore => "aldrete_total",
        C::Alertness => "moaas",
        C::VitalsNearBaseline | C::Oxygenation => "vitals",
        C::Dissociation => "dissociation_resolved",
        C::Ambulation => "able_to_walk_safely",
        C::Nausea => "active_nausea",
        C::SuicidalCrisis => "suicidal_crisis",
        C::Escort => "escort_present",
        C::WrittenInstructions => "written_instructions_given",
        C::ClinicalStability => "clinician_judges_stable",
    }
}

/// Discharges the patient: refused until every §4.5 criterion holds (DC-001..004), or a
/// prescriber overrides with a reason. An open alarm also refuses it.
pub async fn discharge(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &DischargeInputForm,
) -> AppResult<StoredDischarge> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "dosing_session",
        Some(session.to_string()),
        AuditAction::Update,
    )
    .await?;
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    let view = load_view(&mut tx, config, s, ctx.now).await?;
    let mut e = FieldErrors::default();
    let stopped = view
        .administrations
        .iter()
        .any(|a| serde_json::from_str::<AdministrationInput>(&a.content).is_ok_and(|i| i.kind == "infusion_stop"));
    if view.route() == Route::IvInfusion && !stopped {
        return Err(AppError::Conflict("the infusion stop is not recorded".into()));
    }
    let Some(times) = view.times() else {
        return Err(AppError::Conflict(
            "no completed administration is recorded (an IV infusion needs its stop)".into(),
        ));
    };
    let moaas = match input.moaas.map(|m| Moaas::new(u16::from(m))) {
        Some(Ok(m)) => Some(m),
        Some(Err(err)) => {
            e.add("moaas", err.0);
            None
        }
        None => None,
    };
    if input.aldrete_total.is_some_and(|a| a > 10) {
        e.add("aldrete_total", "0 to 10");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let earlier: Vec<Reading> = view.vitals.iter().map(|(_, r)| r.clone()).collect();
    // Each vital's latest value since the end of dosing (a MOAA/S-only entry does not
    // hide the blood pressure; a pre-dose reading is never current).
    let (latest, previous_bp) = current_values(&earlier, times.dose_end);
    let di = DischargeInput {
        route: view.route(),
        times,
        aldrete_total: input.aldrete_total,
        pre_sedation_aldrete: input.pre_sedation_aldrete,
        moaas,
        latest,
        previous_bp,
        baseline: baseline(&view.session, &earlier),
        dissociation_resolved: input.dissociation_resolved,
        able_to_walk_safely: input.able_to_walk_safely,
        active_nausea: input.active_nausea,
        suicidal_crisis: input.suicidal_crisis,
        escort_present: input.escort_present,
        written_instructions_given: input.written_instructions_given,
        clinician_judges_stable: input.clinician_judges_stable,
    };
    let decision = discharge_decision(&di, ctx.now, &config.discharge);
    let ready = decision.is_ready() && view.open_alarms().next().is_none();
    let override_reason = input.override_reason.as_deref().and_then(opt).map(String::from);
    if !ready {
        // One error per unmet criterion, on the field that answers it.
        let mut why = FieldErrors::default();
        for u in decision.unmet() {
            why.add(criterion_field(u.criterion), format!("{} ({})", u.message, u.rule.as_str()));
        }
        if let Some(a) = view.open_alarms().next() {
            why.add("alarms", format!("an alarm ({}) is not acknowledged", a.rule));
        }
        match &override_reason {
            Some(_) if ctx.allows(Permission::DischargeOverride) => {}
            Some(_) => {
                why.add("override_reason", "only a prescriber may override the discharge criteria");
                return Err(why.into());
            }
            None => return Err(why.into()),
        }
    }
    let stored = StoredDischarge {
        decision: serde_json::to_value(&decision).map_err(internal)?,
        ready,
        override_reason: if ready { None } else { override_reason },
        rems_ready_to_leave_minutes: input.rems_ready_to_leave_minutes,
    };
    tx.record_discharge(session, &serde_json::to_string(&stored).map_err(internal)?, by, ctx.now).await.map_err(
        |err| match err {
            StoreError::Conflict { .. } => AppError::Conflict("the session is already discharged".into()),
            other => other.into(),
        },
    )?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "dosing_session_discharge",
        Some(session.to_string()),
        Some(view.session.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    // TEMPORARY (wip-live): events until wip-session emits them; drop this commit then.
    ctx.events.emit(crate::events::DomainEvent::SessionDischarged { session, patient: view.session.patient_id });
    Ok(stored)
}
