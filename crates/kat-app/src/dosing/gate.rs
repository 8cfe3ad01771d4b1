//! Opening a dosing session and its pre-dose gate (§3), with the interaction check.

use super::plan::{PlanContent, accepted_decision, opt};
use super::state::open_state;
use super::view::in_progress;
use super::{audit_reads, entry, hold, read_session, refused, user_id};
use crate::config::DosingConfig;
use crate::events::DomainEvent;
use crate::{AppError, AppResult, Ctx, require};
use kat_core::FieldErrors;
use kat_core::audit::AuditAction;
use kat_core::dosing::course::{DoseDay, DoseDayOverride, OtherSession, Standing, check_dose_day};
use kat_core::dosing::session::{GateOutcome, Reason, Refusal};
use kat_core::ids::{DosingSessionId, PatientId, TreatmentPlanId};
use kat_core::monitoring::{
    EligibilityAcceptances, GateChecklist, GateDecision, InteractionAction, InteractionFinding, carry_over,
    evaluate_gate, interaction_findings,
};
use kat_core::patient::parse_iso_date;
use kat_core::role::Permission;
use kat_store::Store;
use kat_store::dosing::DosingSessionRecord;
use kat_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Dosing session
// ---------------------------------------------------------------------------------------

/// What staff send to open a session: a prescriber's reason when the patient already
/// had a dose that day (issue 11 item 1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpenSessionInput {
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// The patient's other sessions as the one-dose-day check needs them: the clinic's date
/// each was opened on, and whether it is in progress, ended or deferred at the gate
/// (nothing given: not a dose day).
pub fn other_sessions(sessions: &[DosingSessionRecord], tz: &jiff::tz::TimeZone) -> Vec<OtherSession> {
    sessions
        .iter()
        .map(|s| OtherSession {
            id: s.id,
            route: s.route,
            opened_at: s.opened_at,
            on: s.opened_at.to_zoned(tz.clone()).date(),
            standing: if in_progress(s) {
                Standing::InProgress
            } else if s.gate_outcome == Some(GateOutcome::Defer) {
                Standing::DeferredAtGate
            } else {
                Standing::Ended
            },
        })
        .collect()
}

/// Opens a dosing session on a signed plan (nurses, prescribers), with the machine's
/// first state. One dose day per patient (issue 11 item 1): a session still open, a
/// dose already given that clinic day (or within the clinic's `[dosing.course]
/// min_interval_hours`) needs a prescriber's reason, stored with the new session;
/// decided in the same transaction as the insert.
pub async fn open_session(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    patient: PatientId,
    plan: TreatmentPlanId,
    input: &OpenSessionInput,
) -> AppResult<DosingSessionRecord> {
    require(store, ctx, Permission::DosingSessionRun, "dosing_session", None, Some(patient), AuditAction::Create)
        .await?;
    let by = user_id(ctx)?;
    let override_reason = match input.override_reason.as_deref().and_then(opt) {
        None => None,
        Some(raw) => Some(Reason::parse(raw).map_err(|m| FieldErrors::single("override_reason", m))?),
    };
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
    // Held to the insert: a second open at the same moment waits, then sees this one.
    tx.lock_patient_for_dosing(patient).await?;
    let others = other_sessions(&tx.dosing_sessions_for_patient(patient).await?, &ctx.tz);
    let dose_day_override = match check_dose_day(&others, ctx.today, ctx.now, &config.course) {
        DoseDay::Clear => None,
        DoseDay::NeedsOverride(conflicts) => {
            let named: Vec<String> = conflicts.iter().map(|c| c.to_string()).collect();
            let named = named.join("; ");
            let Some(reason) = override_reason else {
                return Err(FieldErrors::single(
                    "override_reason",
                    format!(
                        "this patient already had a dose or has a session open: {named}. One dose day per patient: a prescriber may open another with a reason"
                    ),
                )
                .into());
            };
            if !ctx.allows(Permission::DischargeOverride) {
                return Err(FieldErrors::single(
                    "override_reason",
                    format!(
                        "this patient already had a dose or has a session open: {named}. Only a prescriber may override one dose day"
                    ),
                )
                .into());
            }
            let by_name = match &ctx.actor {
                crate::Actor::User(u) => u.display_name.clone(),
                _ => return Err(AppError::Forbidden),
            };
            let o = DoseDayOverride { reason: reason.as_str().to_string(), by, by_name, conflicts };
            Some(serde_json::to_string(&o).map_err(super::internal)?)
        }
    };
    let content: PlanContent = serde_json::from_str(&plan.content).map_err(super::internal)?;
    let state = open_state(&content, ctx.now)?;
    let record = DosingSessionRecord {
        id: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        plan_id: plan.id,
        route: content.route,
        opened_by: by,
        opened_at: ctx.now,
        gate_outcome: None,
        gate: None,
        gate_by: None,
        gate_at: None,
        discharge: None,
        discharged_by: None,
        discharged_at: None,
        state: Some(state),
        dose_day_override,
    };
    tx.insert_dosing_session(&record).await?;
    tx.append_audit(&entry(ctx, AuditAction::Create, "dosing_session", record.id, &record)).await?;
    tx.commit().await?;
    ctx.events.emit(DomainEvent::SessionOpened { session: record.id, patient });
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
    pub outcome: GateOutcome,
    pub override_reason: Option<String>,
    pub defer_reason: Option<String>,
    pub reschedule_to: Option<String>,
}

/// DAY-004: the interaction rules (§1.4) rerun on the patient's current intake under the
/// policy in force, as gate findings; plus a finding that needs the prescriber when the
/// intake changed since the eligibility decision or since its last screen (a medication
/// change not yet reviewed). A finding the prescriber accepted with a reason at the
/// current eligibility decision carries over when the intake has not changed since
/// (issue 11 item 7, `carry_over`). Read inside the caller's transaction; writes nothing.
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
        Err(_) => out.push(InteractionFinding::new(
            "DAY-004",
            InteractionAction::Override,
            "The current intake is incomplete, so the interaction rules could not be rerun: review the medications.",
        )),
    }
    let decision = tx.latest_decision(patient).await?;
    let latest_evaluation = tx.latest_evaluation(patient).await?;
    let stale = decision.as_ref().is_some_and(|d| d.stale);
    let unscreened = latest_evaluation.as_ref().is_none_or(|e| e.intake_version < intake.version);
    // The intake the decision was signed on, against the current one.
    let decided_on_intake = match &decision {
        Some(d) => tx.evaluation_by_id(d.evaluation_id).await?.map(|e| e.intake_version),
        None => None,
    };
    let intake_changed = stale || unscreened || decided_on_intake != Some(intake.version);
    let accepted = match decision.filter(|d| d.decision == "accept") {
        Some(d) => {
            let by = tx.user_by_id(d.signed_by).await?.map(|u| u.display_name).unwrap_or_else(|| "unknown user".into());
            Some(EligibilityAcceptances {
                on: d.signed_at.to_zoned(ctx.tz.clone()).date(),
                by,
                reasons: serde_json::from_str(&d.reasons_json).unwrap_or_default(),
                intake_changed,
            })
        }
        None => None,
    };
    carry_over(&mut out, accepted.as_ref());
    if stale || unscreened {
        out.push(InteractionFinding::new(
            "DAY-004",
            InteractionAction::Override,
            "The intake (medications) changed since the prescriber's eligibility decision: the prescriber re-signs eligibility, or overrides here with a reason.",
        ));
    }
    Ok(out)
}

/// The checklist the gate decides on: the caller's answers, the interaction rules rerun
/// on the current intake (DAY-004, with what carries over from eligibility) and, for
/// DAY-008, whether the dose is weight-based and the weight's date, both the plan's (the
/// weight the dose was computed from), not what the caller says. The one preparation
/// for recording the gate and for showing what it would decide.
async fn prepare_checklist(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    session: &DosingSessionRecord,
    given: &GateChecklist,
) -> AppResult<GateChecklist> {
    let mut checklist = given.clone();
    // Interactions are the rerun's: a stale copy the caller sent back (with or without a
    // carried acceptance) is replaced by the current one.
    // Only the rerun may carry an acceptance from eligibility; the caller's never does.
    for i in &mut checklist.interactions {
        i.accepted = None;
    }
    let rerun = rerun_interactions(tx, ctx, session.patient_id).await?;
    checklist.interactions.retain(|i| !rerun.iter().any(|r| r.rule == i.rule && r.message == i.message));
    checklist.interactions.extend(rerun);
    let plan = tx.treatment_plan_by_id(session.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(super::internal)?;
    checklist.dose_is_weight_based = plan.dose_style == "per_kg";
    if checklist.dose_is_weight_based {
        checklist.weight_measured_on = plan.dose.weight_measured_on.as_deref().and_then(parse_iso_date);
    }
    Ok(checklist)
}

/// What the gate would decide on these answers now (the gate page shows it beside a
/// refusal), from the same checklist [`record_gate`] decides on; reads only, no audit
/// (the page's session read is the audited one).
pub async fn gate_preview(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &GateInput,
) -> AppResult<GateDecision> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin_read().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    crate::access::preview_allowed(&mut tx, ctx, Permission::DosingSessionRead, s.patient_id).await?;
    let checklist = prepare_checklist(&mut tx, ctx, &s, &input.checklist).await?;
    drop(tx);
    Ok(evaluate_gate(&checklist, ctx.now, ctx.today, &config.gate))
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
    let mut tx = store.begin_read().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    crate::access::preview_allowed(&mut tx, ctx, Permission::DosingSessionRead, s.patient_id).await?;
    rerun_interactions(&mut tx, ctx, s.patient_id).await
}

/// Runs the pre-dose gate (§3) and records its outcome through the session's machine:
/// `proceed` when the core says so, `override` only by a prescriber with a reason,
/// otherwise `defer` with a reason. The interaction rules rerun on the current intake
/// (DAY-004) and their findings join whatever interactions the caller sent. A deferred
/// gate may be run again.
pub async fn record_gate(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &GateInput,
) -> AppResult<StoredGate> {
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
    if input.checklist.route != h.session.route {
        e.add("checklist.route", "must be the route of the plan");
    }
    let checklist = prepare_checklist(&mut h.tx, ctx, &h.session, &input.checklist).await?;
    let reason = |field: &str, raw: Option<&str>, e: &mut FieldErrors| -> Option<Reason> {
        let raw = raw.and_then(opt)?;
        e.take(field, Reason::parse(raw))
    };
    let override_reason = reason("override_reason", input.override_reason.as_deref(), &mut e);
    let defer_reason = reason("defer_reason", input.defer_reason.as_deref(), &mut e);
    let reschedule_to = match input.reschedule_to.as_deref().and_then(opt) {
        None => None,
        Some(raw) => match parse_iso_date(raw) {
            Some(d) => Some(d),
            None => {
                e.add("reschedule_to", "a date (YYYY-MM-DD)");
                None
            }
        },
    };
    if !e.is_empty() {
        return Err(e.into());
    }
    let prescriber = ctx.allows(Permission::DischargeOverride);
    let transition = match defer_reason {
        Some(why) => h.state.defer(&checklist, why, reschedule_to, ctx.now, ctx.today, &config.gate),
        None => h.state.pass_gate(
            &checklist,
            override_reason.clone().filter(|_| prescriber),
            ctx.now,
            ctx.today,
            &config.gate,
        ),
    };
    let t = match transition {
        Ok(t) => t,
        Err(err) if err.refusal == Refusal::GateNeedsOverride && override_reason.is_some() => {
            return Err(FieldErrors::single("override_reason", "only a prescriber may override the gate").into());
        }
        Err(err) => return Err(refused(err)),
    };
    let stored = StoredGate {
        checklist: serde_json::to_value(&checklist).map_err(super::internal)?,
        decision: serde_json::to_value(&t.record.decision).map_err(super::internal)?,
        outcome: t.record.outcome,
        override_reason: t.record.override_reason.as_ref().map(|r| r.as_str().to_string()),
        defer_reason: t.record.defer_reason.as_ref().map(|r| r.as_str().to_string()),
        reschedule_to: t.record.reschedule_to.map(|d| d.to_string()),
    };
    let json = serde_json::to_string(&stored).map_err(super::internal)?;
    h.tx.record_gate(session, t.record.outcome, &json, h.by, ctx.now).await.map_err(|err| match err {
        StoreError::Conflict { .. } => {
            AppError::Conflict("the gate of this session is already passed, or it is discharged".into())
        }
        other => other.into(),
    })?;
    let audit = vec![entry(ctx, AuditAction::Update, "dosing_session_gate", session, &h.session)];
    let event = DomainEvent::GateRecorded { session, patient: h.session.patient_id, passed: t.record.outcome.passed() };
    h.finish(ctx, Some(&t.session), audit, vec![event]).await?;
    Ok(stored)
}

/// The gate's interaction findings for a session (DAY-004) as a read of its own, for the
/// API: permission checked (a refusal is audited), one `read` audit entry.
pub async fn gate_interactions_read(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
) -> AppResult<Vec<InteractionFinding>> {
    let (mut tx, s) = read_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "gate_interactions",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let findings = rerun_interactions(&mut tx, ctx, s.patient_id).await?;
    drop(tx);
    audit_reads(store, &[entry(ctx, AuditAction::Read, "gate_interactions", session, &s)]).await?;
    Ok(findings)
}
