//! Opening a dosing session and its pre-dose gate (§3), with the interaction check.

use super::plan::{PlanContent, accepted_decision, opt};
use super::view::in_progress;
use super::{internal, parse_route, permitted_session, route_str, user_id};
use crate::config::DosingConfig;
use crate::{AppError, AppResult, Ctx, require};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::{DosingSessionId, PatientId, TreatmentPlanId};
use kat_core::monitoring::{
    GateChecklist, GateDecision, InteractionAction, InteractionFinding, evaluate_gate, interaction_findings,
};
use kat_core::patient::parse_iso_date;
use kat_core::role::Permission;
use kat_store::dosing::DosingSessionRecord;
use kat_store::{Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Dosing session
// ---------------------------------------------------------------------------------------

/// Opens a dosing session on a signed plan (nurses, prescribers).
pub async fn open_session(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    plan: TreatmentPlanId,
) -> AppResult<DosingSessionRecord> {
    require(store, ctx, Permission::DosingSessionRun, "dosing_session", None, Some(patient), AuditAction::Create)
        .await?;
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    let plan = tx
        .treatment_plan_by_id(plan)
        .await?
        .filter(|p| p.patient_id == patient)
        .ok_or(AppError::NotFound("treatment plan"))?;
    if plan.signed_at.is_none() {
        return Err(AppError::Conflict("the treatment plan is not signed; a prescriber must sign it first".into()));
    }
    accepted_decision(&mut tx, patient).await?;
    // One patient, one session in progress: a second would split the vitals and alarms.
    if tx.dosing_sessions_for_patient(patient).await?.iter().any(in_progress) {
        return Err(AppError::Conflict(
            "a dosing session of this patient is already in progress; discharge it (or defer it at the gate) first"
                .into(),
        ));
    }
    let content: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let record = DosingSessionRecord {
        id: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        plan_id: plan.id,
        route: route_str(content.route),
        opened_by: by,
        opened_at: ctx.now,
        gate_outcome: None,
        gate: None,
        gate_by: None,
        gate_at: None,
        discharge: None,
        discharged_by: None,
        discharged_at: None,
    };
    tx.insert_dosing_session(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "dosing_session",
        Some(record.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    // TEMPORARY (wip-live): events until wip-session emits them; drop this commit then.
    ctx.events.emit(crate::events::DomainEvent::SessionOpened { session: record.id, patient: record.patient_id });
    Ok(record)
}

/// What staff send for the gate: the §3 checklist and, when the core does not say
/// proceed, the override or deferral.
#[derive(Debug, Clone, Deserialize)]
pub struct GateInput {
    pub checklist: GateChecklist,
    /// A prescriber's documented reason to proceed despite findings that need one.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// Why the session is deferred (required to defer).
    #[serde(default)]
    pub defer_reason: Option<String>,
    /// A new date for a deferred session (YYYY-MM-DD).
    #[serde(default)]
    pub reschedule_to: Option<String>,
}

/// The stored gate (`dosing_sessions.gate`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGate {
    pub checklist: serde_json::Value,
    pub decision: serde_json::Value,
    pub outcome: String,
    pub override_reason: Option<String>,
    pub defer_reason: Option<String>,
    pub reschedule_to: Option<String>,
}

/// DAY-004: the interaction rules (§1.4) rerun on the patient's current intake under the
/// policy in force, as gate findings; plus a finding that needs the prescriber when the
/// intake changed since the eligibility decision or since its last screen (a medication
/// change not yet reviewed). Read inside the caller's transaction; writes nothing.
async fn rerun_interactions(tx: &mut Box<dyn Tx>, ctx: &Ctx, patient: PatientId) -> AppResult<Vec<InteractionFinding>> {
    let mut out = Vec::new();
    let Some(intake) = tx.latest_intake(patient).await? else {
        return Ok(out);
    };
    let birth = tx.patient_by_id(patient).await?.map(|p| p.demographics.birth_date);
    match intake.answers.parse(birth) {
        Ok(parsed) => {
            let policy = tx.current_policy().await?.map(|p| p.policy).unwrap_or_default();
            out.extend(interaction_findings(&kat_core::eligibility::evaluate(&parsed, &policy, ctx.today).findings));
        }
        Err(_) => out.push(InteractionFinding {
            rule: "DAY-004".into(),
            action: InteractionAction::Override,
            message:
                "The current intake is incomplete, so the interaction rules could not be rerun: review the medications."
                    .into(),
        }),
    }
    let stale = tx.latest_decision(patient).await?.is_some_and(|d| d.stale);
    let unscreened = tx.latest_evaluation(patient).await?.is_none_or(|e| e.intake_version < intake.version);
    if stale || unscreened {
        out.push(InteractionFinding {
            rule: "DAY-004".into(),
            action: InteractionAction::Override,
            message: "The intake (medications) changed since the prescriber's eligibility decision: the prescriber re-signs eligibility, or overrides here with a reason.".into(),
        });
    }
    Ok(out)
}

/// The gate's interaction findings for a session, for the gate page to show before the
/// checklist is sent (no audit: the page's session read is the audited one).
pub async fn gate_interactions(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
) -> AppResult<Vec<InteractionFinding>> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    rerun_interactions(&mut tx, ctx, s.patient_id).await
}

/// Runs the pre-dose gate (§3) and records its outcome: `proceed` when the core says so,
/// `override` only by a prescriber with a reason, otherwise `defer` with a reason. The
/// interaction rules rerun on the current intake (DAY-004) and their findings join
/// whatever interactions the caller sent.
pub async fn record_gate(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &GateInput,
) -> AppResult<StoredGate> {
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
    let route = parse_route(&s.route).ok_or_else(|| internal("stored route"))?;
    let mut e = FieldErrors::default();
    if input.checklist.route != route {
        e.add("checklist.route", "must be the route of the plan");
    }
    let mut checklist = input.checklist.clone();
    {
        let mut tx = store.begin().await?;
        for f in rerun_interactions(&mut tx, ctx, s.patient_id).await? {
            if !checklist.interactions.contains(&f) {
                checklist.interactions.push(f);
            }
        }
        // DAY-008: whether the dose is weight-based, and the weight's date, are the plan's
        // (the weight the dose was computed from), not what the caller says.
        let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
        let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
        checklist.dose_is_weight_based = plan.dose_style == "per_kg";
        if checklist.dose_is_weight_based {
            checklist.weight_measured_on = plan.dose.weight_measured_on.as_deref().and_then(parse_iso_date);
        }
    }
    let decision = evaluate_gate(&checklist, ctx.now, ctx.today, &config.gate);
    let override_reason = input.override_reason.as_deref().and_then(opt).map(String::from);
    let defer_reason = input.defer_reason.as_deref().and_then(opt).map(String::from);
    let reschedule_to = match input.reschedule_to.as_deref().and_then(opt) {
        None => None,
        Some(raw) => match parse_iso_date(raw) {
            Some(d) => Some(d.to_string()),
            None => {
                e.add("reschedule_to", "a date (YYYY-MM-DD)");
                None
            }
        },
    };
    let outcome = if defer_reason.is_some() {
        "defer"
    } else {
        match &decision {
            GateDecision::Proceed { .. } => "proceed",
            GateDecision::NeedsOverride { .. } => match &override_reason {
                Some(_) if ctx.allows(Permission::DischargeOverride) => "override",
                Some(_) => {
                    e.add("override_reason", "only a prescriber may override the gate");
                    ""
                }
                None => {
                    e.add(
                        "override_reason",
                        "the gate needs a prescriber's documented override to proceed, or defer with a reason",
                    );
                    ""
                }
            },
            GateDecision::Defer { .. } => {
                e.add("defer_reason", "the gate says defer; give the reason (and a new date)");
                ""
            }
        }
    };
    if !e.is_empty() {
        return Err(e.into());
    }
    let stored = StoredGate {
        checklist: serde_json::to_value(&checklist).map_err(internal)?,
        decision: serde_json::to_value(&decision).map_err(internal)?,
        outcome: outcome.into(),
        override_reason: (outcome == "override").then_some(override_reason).flatten(),
        defer_reason,
        reschedule_to,
    };
    let mut tx = store.begin().await?;
    tx.record_gate(session, outcome, &serde_json::to_string(&stored).map_err(internal)?, by, ctx.now).await.map_err(
        |err| match err {
            StoreError::Conflict { .. } => {
                AppError::Conflict("the gate of this session is already passed, or it is discharged".into())
            }
            other => other.into(),
        },
    )?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "dosing_session_gate",
        Some(session.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    // TEMPORARY (wip-live): events until wip-session emits them; drop this commit then.
    ctx.events.emit(crate::events::DomainEvent::GateRecorded {
        session,
        patient: s.patient_id,
        passed: outcome != "defer",
    });
    Ok(stored)
}

/// The gate's interaction findings for a session (DAY-004) as a read of its own, for the
/// API: permission checked (a refusal is audited), one `read` audit entry.
pub async fn gate_interactions_read(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
) -> AppResult<Vec<InteractionFinding>> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "gate_interactions",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin().await?;
    let findings = rerun_interactions(&mut tx, ctx, s.patient_id).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Read,
        "gate_interactions",
        Some(session.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(findings)
}
