//! Access to a patient's clinical record by relationship, and break-glass (issue 12
//! item 1). The rule is the core's ([`kat_core::access::decide`]); this module reads the
//! relationship (care team, today's dosing, break-glass grants) and keeps the grants and
//! their review.

use jiff::Timestamp;
use kat_core::access::{Access, Basis, Relation, StatedReason, decide, is_record_permission};
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::{PatientId, UserId};
use kat_core::page::{Page, PageRequest};
use kat_core::role::{Permission, Role};
use kat_store::dosing::DosingSessionRecord;
use kat_store::{BreakGlassGrant, Store, Tx};
use uuid::Uuid;

use crate::dosing::PlanView;
use crate::{Actor, AppError, AppResult, Ctx, record_denial, require};

/// The relationship of `user` to `patient` now, read in `tx`. A nurse working on a
/// session under way (`on_session`) is known to be dosing the patient today without a
/// read, so recording a vital costs nothing more; today's dosing is otherwise read only
/// for nurses off the team (the one role it opens records to).
pub(crate) async fn relation(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    role: Role,
    user: UserId,
    patient: PatientId,
    on_session: Option<&DosingSessionRecord>,
) -> AppResult<Relation> {
    let local = |t: Timestamp| t.to_zoned(ctx.tz.clone()).date();
    if role == Role::Nurse && on_session.is_some_and(|s| s.discharged_at.is_none() || local(s.opened_at) == ctx.today) {
        return Ok(Relation { doses_today: true, ..Relation::default() });
    }
    let team = tx.team_relation(patient, user).await?;
    let mut rel = Relation { on_care_team: team.on_team, team_empty: team.team_empty, ..Relation::default() };
    if rel.on_care_team {
        return Ok(rel);
    }
    if role == Role::Nurse {
        rel.doses_today = doses_today(tx, ctx, patient).await?;
    }
    rel.break_glass_until = tx.break_glass_until(user, patient, ctx.now).await?;
    Ok(rel)
}

/// Whether the patient has a dosing session today: opened today, still open, or a dose
/// booked today in a signed plan (after the deferrals recorded at the gate).
async fn doses_today(tx: &mut Box<dyn Tx>, ctx: &Ctx, patient: PatientId) -> AppResult<bool> {
    let internal = |e: jiff::Error| AppError::Internal(e.to_string());
    let from = ctx.today.to_zoned(ctx.tz.clone()).map_err(internal)?.timestamp();
    let to = ctx.today.tomorrow().map_err(internal)?.to_zoned(ctx.tz.clone()).map_err(internal)?.timestamp();
    if tx.has_session_between(patient, from, to).await? {
        return Ok(true);
    }
    let plans: Vec<PlanView> = tx
        .treatment_plans_for_patient(patient)
        .await?
        .into_iter()
        .filter(|p| p.signed_at.is_some())
        .map(PlanView::from_record)
        .collect::<AppResult<_>>()?;
    if plans.is_empty() {
        return Ok(false);
    }
    let deferred: Vec<_> = tx
        .dosing_sessions_for_patient(patient)
        .await?
        .into_iter()
        .filter(|s| s.gate_outcome == Some(kat_core::dosing::session::GateOutcome::Defer))
        .collect();
    Ok(!crate::today::dosing_rows(&plans, &deferred, &[], ctx.today, &ctx.tz).is_empty())
}

/// Checks, in `tx`, that the actor may use `permission` on this patient's record. The
/// role was checked before. `Ok(Some(until))` when the access rests on break-glass.
pub(crate) async fn check_in(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    permission: Permission,
    patient: PatientId,
    on_session: Option<&DosingSessionRecord>,
) -> AppResult<Result<Option<Timestamp>, ()>> {
    let Actor::User(u) = &ctx.actor else { return Ok(Ok(None)) };
    if !u.role.is_clinical() || !is_record_permission(permission) {
        return Ok(Ok(None));
    }
    if ctx.access.scope == kat_core::access::RecordScope::AllClinicians {
        return Ok(Ok(None));
    }
    let rel = relation(tx, ctx, u.role, u.id, patient, on_session).await?;
    Ok(match decide(u.role, permission, &rel, &ctx.access, ctx.now) {
        Access::Allowed(Basis::BreakGlass { until }) => Ok(Some(until)),
        Access::Allowed(_) => Ok(None),
        Access::BreakGlassNeeded => Err(()),
    })
}

/// After [`check_in`] said no: the refusal audited (its own transaction) and the error
/// that sends the user to the break-glass screen.
pub(crate) async fn refuse(
    store: &dyn Store,
    ctx: &Ctx,
    action: AuditAction,
    resource_type: &str,
    resource_id: Option<String>,
    patient: PatientId,
) -> AppError {
    if let Err(e) = record_denial(store, ctx, action, resource_type, resource_id, Some(patient)).await {
        return e;
    }
    AppError::BreakGlassRequired(patient)
}

/// The audit entry that marks a use of the record under break-glass.
pub(crate) fn break_glass_entry(ctx: &Ctx, action: AuditAction, patient: PatientId) -> kat_core::audit::NewAuditEntry {
    ctx.audit(action, "break_glass_access", None, Some(patient), AuditOutcome::Allowed)
}

/// Checks the relationship for a use case that names its patient (the role is checked
/// first, by [`require`]): a read transaction of its own, then a refusal audited, or an
/// access under break-glass marked in the audit log.
pub(crate) async fn check(
    store: &dyn Store,
    ctx: &Ctx,
    permission: Permission,
    resource_type: &str,
    resource_id: Option<String>,
    patient: PatientId,
    action: AuditAction,
) -> AppResult<()> {
    let mut tx = store.begin_read().await?;
    let verdict = check_in(&mut tx, ctx, permission, patient, None).await?;
    tx.commit().await?;
    match verdict {
        Ok(None) => Ok(()),
        Ok(Some(_)) => crate::audit_reads(store, &[break_glass_entry(ctx, action, patient)]).await,
        Err(()) => Err(refuse(store, ctx, action, resource_type, resource_id, patient).await),
    }
}

/// What the break-glass screen shows: whether the user could break the glass at all.
pub fn may_break_glass(ctx: &Ctx) -> bool {
    matches!(&ctx.actor, Actor::User(u) if u.active && u.role.is_clinical())
}

/// Breaks the glass: a clinician off the patient's care team opens the record for the
/// clinic's configured time, giving a reason. Audited as a `break_glass` create; every
/// use under it is audited as `break_glass_access`; admins review it on their queue.
/// The clinician confirms at that moment who they are (issue 12 item 2; see
/// [`crate::reauth`]): the authenticator code, or the password without two-step sign-in.
pub async fn break_glass(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    reason: &str,
    reauth: crate::reauth::Reauth<'_>,
) -> AppResult<BreakGlassGrant> {
    let Actor::User(u) = &ctx.actor else {
        record_denial(store, ctx, AuditAction::Create, "break_glass", None, Some(patient)).await?;
        return Err(AppError::Unauthenticated);
    };
    if !may_break_glass(ctx) {
        record_denial(store, ctx, AuditAction::Create, "break_glass", None, Some(patient)).await?;
        return Err(AppError::Forbidden);
    }
    let reason = StatedReason::parse("reason", "say why you need this record; it is reviewed by an admin", reason)?;
    let confirmed = crate::reauth::require_confirmed(store, ctx, reauth, "breaking the glass", false).await?;
    let mut tx = store.begin().await?;
    tx.patient_by_id(patient).await?.ok_or(AppError::NotFound("patient"))?;
    confirmed.settle_now(tx.as_mut(), ctx, "breaking the glass", Some(patient)).await?;
    let grant = BreakGlassGrant {
        id: Uuid::now_v7(),
        user_id: u.id,
        patient_id: patient,
        reason: reason.as_str().to_string(),
        granted_at: ctx.now,
        expires_at: ctx.now + ctx.access.break_glass,
        reviewed_by: None,
        reviewed_at: None,
        review_note: None,
    };
    tx.insert_break_glass(&grant).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "break_glass",
        Some(grant.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(grant)
}

/// One page of the admins' review queue (grants not yet reviewed first asked for with
/// `unreviewed_only`), audited as one list view naming every patient shown.
pub async fn break_glass_queue(
    store: &dyn Store,
    ctx: &Ctx,
    unreviewed_only: bool,
    page: PageRequest,
) -> AppResult<Page<(BreakGlassGrant, Option<kat_core::user::User>)>> {
    require(store, ctx, Permission::AuditRead, "break_glass", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    let grants = page.from_probe(tx.break_glass_grants(unreviewed_only, page.offset(), page.size() + 1).await?);
    let mut users = std::collections::HashMap::new();
    for u in tx.list_users().await? {
        users.insert(u.id, u);
    }
    tx.commit().await?;
    let shown: Vec<PatientId> = grants.items.iter().map(|g| g.patient_id).collect();
    crate::audit_list_view(store, ctx, "break_glass", &shown).await?;
    Ok(grants.map(|g| {
        let u = users.get(&g.user_id).cloned();
        (g, u)
    }))
}

/// An admin records the review of a break-glass use (a note is required: what was found).
pub async fn review_break_glass(store: &dyn Store, ctx: &Ctx, id: Uuid, note: &str) -> AppResult<()> {
    require(store, ctx, Permission::AuditRead, "break_glass", Some(id.to_string()), None, AuditAction::Update).await?;
    let note = note.trim();
    if note.is_empty() || note.chars().count() > kat_core::access::REASON_MAX_CHARS {
        return Err(kat_core::FieldErrors::single("note", "write what the review found (1 to 500 characters)").into());
    }
    let Actor::User(admin) = &ctx.actor else { return Err(AppError::Forbidden) };
    let mut tx = store.begin().await?;
    let grant = tx.break_glass_by_id(id).await?.ok_or(AppError::NotFound("break-glass use"))?;
    if !tx.review_break_glass(id, admin.id, ctx.now, note).await? {
        return Err(AppError::Conflict("this break-glass use was already reviewed".into()));
    }
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "break_glass",
        Some(id.to_string()),
        Some(grant.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// For a preview that reads a record without showing or saving it (gate and dose-order
/// previews, the plan draft): refused without audit unless the relationship allows it.
pub(crate) async fn preview_allowed(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    permission: Permission,
    patient: PatientId,
) -> AppResult<()> {
    match check_in(tx, ctx, permission, patient, None).await? {
        Ok(_) => Ok(()),
        Err(()) => Err(AppError::BreakGlassRequired(patient)),
    }
}
