//! Discharge (§4.5): the criteria checked by the core, one error per unmet criterion.

use super::plan::opt;
use super::{entry, hold, internal, refused};
use crate::config::DosingConfig;
use crate::events::DomainEvent;
use crate::{AppError, AppResult, Ctx};
use kat_core::FieldErrors;
use kat_core::audit::AuditAction;
use kat_core::dosing::session::{DischargeAssessment, Reason, Refusal};
use kat_core::ids::DosingSessionId;
use kat_core::monitoring::Moaas;
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

/// Discharges the patient through the session's machine: refused until every §4.5
/// criterion holds (DC-001..004) with no alarm open, or a prescriber overrides with a
/// reason; an esketamine session never before the label's 2 hours after the last device
/// (DC-001 \[V\]), override or not.
pub async fn discharge(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &DischargeInputForm,
) -> AppResult<StoredDischarge> {
    let mut h = hold(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "dosing_session",
        Some(session.to_string()),
        AuditAction::Update,
    )
    .await?;
    let mut e = FieldErrors::default();
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
    if input.pre_sedation_aldrete.is_some_and(|a| a > 10) {
        e.add("pre_sedation_aldrete", "0 to 10");
    }
    let override_reason = match input.override_reason.as_deref().and_then(opt) {
        Some(raw) => e.take("override_reason", Reason::parse(raw)),
        None => None,
    };
    if !e.is_empty() {
        return Err(e.into());
    }
    let assessment = DischargeAssessment {
        aldrete_total: input.aldrete_total,
        pre_sedation_aldrete: input.pre_sedation_aldrete,
        moaas,
        dissociation_resolved: input.dissociation_resolved,
        able_to_walk_safely: input.able_to_walk_safely,
        active_nausea: input.active_nausea,
        suicidal_crisis: input.suicidal_crisis,
        escort_present: input.escort_present,
        written_instructions_given: input.written_instructions_given,
        clinician_judges_stable: input.clinician_judges_stable,
    };
    let prescriber = ctx.allows(Permission::DischargeOverride);
    let given = override_reason.clone().filter(|_| prescriber);
    let t = match h.state.discharge(&assessment, given, ctx.now, &config.discharge) {
        Ok(t) => t,
        Err(err) => match &err.refusal {
            Refusal::DischargeNotReady { unmet, open_alarms } => {
                // One error per unmet criterion, on the field that answers it.
                let mut why = FieldErrors::default();
                for u in unmet {
                    why.add(criterion_field(u.criterion), format!("{} ({})", u.message, u.rule.as_str()));
                }
                if let Some(rule) = open_alarms.first() {
                    why.add("alarms", format!("an alarm ({rule}) is not acknowledged"));
                }
                if override_reason.is_some() && !prescriber {
                    why.add("override_reason", "only a prescriber may override the discharge criteria");
                }
                return Err(why.into());
            }
            _ => return Err(refused(err)),
        },
    };
    let stored = StoredDischarge {
        decision: serde_json::to_value(&t.record.decision).map_err(internal)?,
        ready: t.record.ready,
        override_reason: t.record.override_reason.as_ref().map(|r| r.as_str().to_string()),
        rems_ready_to_leave_minutes: input.rems_ready_to_leave_minutes,
    };
    let json = serde_json::to_string(&stored).map_err(internal)?;
    h.tx.record_discharge(session, &json, h.by, ctx.now).await.map_err(|err| match err {
        StoreError::Conflict { .. } => AppError::Conflict("the session is already discharged".into()),
        other => other.into(),
    })?;
    let audit = vec![entry(ctx, AuditAction::Update, "dosing_session_discharge", session, &h.session)];
    let event = DomainEvent::SessionDischarged { session, patient: h.session.patient_id };
    h.finish(ctx, Some(&t.session), audit, vec![event]).await?;
    Ok(stored)
}
