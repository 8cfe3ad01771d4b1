//! Use cases of intake and eligibility screening (clinical.md §1, SUI-003).
//!
//! * Saving intake answers (a section from the form, or the whole intake from the API)
//!   stores a **new version** and evaluates it at once under the current policy.
//! * Changing the policy stores a new policy version and re-evaluates every patient
//!   with an intake.
//! * Every evaluation records the intake and policy version it used. A signed decision
//!   whose evaluation is no longer the latest (the intake or the policy changed) is
//!   marked **stale** until a prescriber signs again.
//! * An evaluation that raises the core's same-day review (RCI-011, SUI-003) opens a
//!   same-day flag, unless the patient already has an open one; it stays open until a
//!   clinician records the disposition.
//!
//! Each function is one transaction including its audit entries.

use super::{AppError, AppResult, Ctx, audit_list_view, audit_reads, require};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::eligibility::answers::{IntakeAnswers, section};
use kat_core::eligibility::{EligibilityPolicy, Evaluation, Level, PolicyVersion, Status, evaluate};
use kat_core::ids::{PatientId, UserId};
use kat_core::patient::Patient;
use kat_core::role::Permission;
use kat_store::intake::{DecisionRecord, EvaluationRecord, IntakeVersionRecord, PolicyRecord, SameDayFlagRecord};
use kat_store::{Store, Tx};
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A finding as stored with its evaluation.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredFinding {
    pub rule_id: String,
    pub level: String,
    pub message: String,
    #[serde(default)]
    pub data: Vec<StoredDatum>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoredDatum {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoredMissing {
    pub field: String,
    pub rule_ids: Vec<String>,
}

/// The stored evaluation, read back from its JSON.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredEvaluation {
    pub status: String,
    pub findings: Vec<StoredFinding>,
    pub missing: Vec<StoredMissing>,
    pub same_day_review: Option<serde_json::Value>,
}

impl StoredEvaluation {
    pub fn parse(json: &str) -> AppResult<Self> {
        serde_json::from_str(json).map_err(|e| AppError::Internal(format!("stored evaluation unreadable: {e}")))
    }

    /// Rule ids of the prescriber-review findings (each needs a reason to accept).
    pub fn review_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> =
            self.findings.iter().filter(|f| f.level == "prescriber_review").map(|f| f.rule_id.clone()).collect();
        rules.dedup();
        rules
    }
}

/// Everything the intake pages and API show for one patient.
pub struct IntakeState {
    pub patient: Patient,
    pub intake: Option<IntakeVersionRecord>,
    pub evaluation: Option<(EvaluationRecord, StoredEvaluation)>,
    pub decision: Option<DecisionRecord>,
    pub open_flag: Option<SameDayFlagRecord>,
    pub policy: PolicyRecord,
    pub signer_is_medical_director: bool,
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Excluded => "excluded",
        Status::Incomplete => "incomplete",
        Status::NeedsReview => "needs_review",
        Status::Eligible => "eligible",
    }
}

/// The policy in force, seeding version 1 with the spec's defaults on first use.
async fn policy_in_force(tx: &mut Box<dyn Tx>, ctx: &Ctx) -> AppResult<PolicyRecord> {
    if let Some(p) = tx.current_policy().await? {
        return Ok(p);
    }
    let policy =
        EligibilityPolicy { version: PolicyVersion::parse("v1").expect("valid"), ..EligibilityPolicy::default() };
    Ok(tx.insert_policy(&policy, ctx.now, None).await?)
}

/// A read transaction in which the policy in force exists. The first read of a new
/// clinic seeds it (`policy_in_force`, in a write transaction of its own, once); every
/// later read only reads.
async fn begin_read_with_policy(store: &dyn Store, ctx: &Ctx) -> AppResult<(Box<dyn Tx>, PolicyRecord)> {
    let mut tx = store.begin_read().await?;
    if let Some(p) = tx.current_policy().await? {
        return Ok((tx, p));
    }
    drop(tx);
    let mut seed = store.begin().await?;
    let policy = policy_in_force(&mut seed, ctx).await?;
    seed.commit().await?;
    Ok((store.begin_read().await?, policy))
}

fn user_id(ctx: &Ctx) -> Option<UserId> {
    match &ctx.actor {
        super::Actor::User(u) => Some(u.id),
        _ => None,
    }
}

/// Evaluates an intake version under a policy version and records it; marks an
/// older signed decision stale and opens a same-day flag when needed.
async fn evaluate_and_record(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    patient: &Patient,
    intake: &IntakeVersionRecord,
    policy: &PolicyRecord,
) -> AppResult<EvaluationRecord> {
    let parsed = intake
        .answers
        .parse(Some(patient.demographics.birth_date))
        .map_err(|e| AppError::Internal(format!("stored intake no longer parses: {} fields", e.iter().count())))?;
    let evaluation: Evaluation = evaluate(&parsed, &policy.policy, ctx.today);
    let record = EvaluationRecord {
        id: Uuid::now_v7(),
        patient_id: patient.id,
        intake_version: intake.version,
        policy_version: policy.version,
        status: status_str(evaluation.status).into(),
        result_json: serde_json::to_string(&evaluation).map_err(|e| AppError::Internal(e.to_string()))?,
        evaluated_at: ctx.now,
    };
    tx.insert_evaluation(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "eligibility_evaluation",
        Some(record.id.to_string()),
        Some(patient.id),
        AuditOutcome::Allowed,
    ))
    .await?;
    if let Some(decision) = tx.latest_decision(patient.id).await?
        && !decision.stale
    {
        let signed = tx.evaluation_by_id(decision.evaluation_id).await?;
        let same_basis =
            signed.is_some_and(|s| s.intake_version == intake.version && s.policy_version == policy.version);
        if !same_basis && tx.mark_decisions_stale(patient.id).await? > 0 {
            tx.append_audit(&ctx.audit(
                AuditAction::Update,
                "eligibility_decision",
                Some(decision.id.to_string()),
                Some(patient.id),
                AuditOutcome::Allowed,
            ))
            .await?;
        }
    }
    if let Some(review) = &evaluation.same_day_review {
        let already = tx.open_same_day_flags().await?.iter().any(|f| f.patient_id == patient.id);
        if !already {
            let flag = SameDayFlagRecord {
                id: Uuid::now_v7(),
                patient_id: patient.id,
                evaluation_id: record.id,
                reasons_json: serde_json::to_string(&review.reasons).map_err(|e| AppError::Internal(e.to_string()))?,
                raised_at: ctx.now,
                disposition: None,
                disposed_by: None,
                disposed_at: None,
            };
            tx.insert_same_day_flag(&flag).await?;
            tx.append_audit(&ctx.audit(
                AuditAction::Create,
                "same_day_review",
                Some(flag.id.to_string()),
                Some(patient.id),
                AuditOutcome::Allowed,
            ))
            .await?;
        }
    }
    Ok(record)
}

async fn save(
    store: &dyn Store,
    ctx: &Ctx,
    patient_id: PatientId,
    section_id: &str,
    complete: bool,
    change: impl FnOnce(&mut IntakeAnswers) -> Result<(), FieldErrors>,
) -> AppResult<IntakeVersionRecord> {
    require(
        store,
        ctx,
        Permission::IntakeWrite,
        "intake",
        Some(patient_id.to_string()),
        Some(patient_id),
        AuditAction::Update,
    )
    .await?;
    let mut tx = store.begin().await?;
    let patient = tx.patient_by_id(patient_id).await?.ok_or(AppError::NotFound("patient"))?;
    let mut answers = tx.latest_intake(patient_id).await?.map(|r| r.answers).unwrap_or_default();
    change(&mut answers)?;
    answers.parse(Some(patient.demographics.birth_date))?;
    let saved = tx.insert_intake_version(patient_id, &answers, complete, section_id, ctx.now, user_id(ctx)).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "intake",
        Some(format!("{patient_id}/v{}", saved.version)),
        Some(patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    let policy = policy_in_force(&mut tx, ctx).await?;
    evaluate_and_record(&mut tx, ctx, &patient, &saved, &policy).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Saves one section of the form as a new intake version (a draft unless `complete`).
pub async fn save_section(
    store: &dyn Store,
    ctx: &Ctx,
    patient_id: PatientId,
    section_id: &str,
    submitted: &BTreeMap<String, String>,
    complete: bool,
) -> AppResult<IntakeVersionRecord> {
    let sec = section(section_id).ok_or(AppError::NotFound("intake section"))?;
    save(store, ctx, patient_id, section_id, complete, |a| a.replace_section(sec, submitted)).await
}

/// Replaces the whole intake (the API's PUT) as a new version.
pub async fn replace(
    store: &dyn Store,
    ctx: &Ctx,
    patient_id: PatientId,
    submitted: &BTreeMap<String, String>,
    complete: bool,
) -> AppResult<IntakeVersionRecord> {
    save(store, ctx, patient_id, "all", complete, |a| {
        let mut fresh = IntakeAnswers::new();
        let mut errors = FieldErrors::new();
        for (k, v) in submitted {
            if let Err(e) = fresh.set(k, v) {
                errors.add(k.clone(), e);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        *a = fresh;
        Ok(())
    })
    .await
}

/// The patient's intake, latest evaluation, decision and open flag (audited read).
pub async fn state(store: &dyn Store, ctx: &Ctx, patient_id: PatientId) -> AppResult<IntakeState> {
    require(
        store,
        ctx,
        Permission::IntakeRead,
        "intake",
        Some(patient_id.to_string()),
        Some(patient_id),
        AuditAction::Read,
    )
    .await?;
    let (mut tx, policy) = begin_read_with_policy(store, ctx).await?;
    let patient = tx.patient_by_id(patient_id).await?.ok_or(AppError::NotFound("patient"))?;
    let intake = tx.latest_intake(patient_id).await?;
    let evaluation = match tx.latest_evaluation(patient_id).await? {
        Some(e) => {
            let parsed = StoredEvaluation::parse(&e.result_json)?;
            Some((e, parsed))
        }
        None => None,
    };
    let decision = tx.latest_decision(patient_id).await?;
    let open_flag = tx.open_same_day_flags().await?.into_iter().find(|f| f.patient_id == patient_id);
    let signer_is_medical_director = match user_id(ctx) {
        Some(id) => tx.is_medical_director(id).await?,
        None => false,
    };
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(
            AuditAction::Read,
            "intake",
            Some(patient_id.to_string()),
            Some(patient_id),
            AuditOutcome::Allowed,
        )],
    )
    .await?;
    Ok(IntakeState { patient, intake, evaluation, decision, open_flag, policy, signer_is_medical_director })
}

/// Every saved version of the patient's intake, newest first (audited read).
pub async fn history(store: &dyn Store, ctx: &Ctx, patient_id: PatientId) -> AppResult<Vec<IntakeVersionRecord>> {
    require(
        store,
        ctx,
        Permission::IntakeRead,
        "intake",
        Some(patient_id.to_string()),
        Some(patient_id),
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin_read().await?;
    let list = tx.intake_history(patient_id).await?;
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(
            AuditAction::Read,
            "intake_history",
            Some(patient_id.to_string()),
            Some(patient_id),
            AuditOutcome::Allowed,
        )],
    )
    .await?;
    Ok(list)
}

/// What a prescriber signs.
#[derive(Debug, Clone, Default)]
pub struct SignInput {
    /// The evaluation the prescriber saw; must still be the latest.
    pub evaluation_id: String,
    /// `accept` or `decline`.
    pub decision: String,
    /// Rule id → written reason, for each prescriber-review finding (accepting).
    pub reasons: BTreeMap<String, String>,
    /// A medical director's reason to accept despite a hard stop.
    pub override_reason: String,
    /// The override is confirmed at that moment (issue 12 item 2): the authenticator
    /// code, or the password of an account without two-step sign-in.
    pub reauth_code: String,
    pub reauth_password: String,
}

/// Signs the eligibility decision on the latest evaluation.
///
/// Accepting needs a written reason for every prescriber-review finding; accepting
/// despite a hard stop needs a medical director and an override reason (recorded and
/// audited separately); an incomplete screen cannot be accepted.
pub async fn sign(store: &dyn Store, ctx: &Ctx, patient_id: PatientId, input: &SignInput) -> AppResult<DecisionRecord> {
    require(
        store,
        ctx,
        Permission::EligibilitySign,
        "eligibility_decision",
        None,
        Some(patient_id),
        AuditAction::Create,
    )
    .await?;
    let signer = user_id(ctx).ok_or(AppError::Forbidden)?;
    let mut errors = FieldErrors::new();
    let accept = match input.decision.as_str() {
        "accept" => true,
        "decline" => false,
        _ => {
            errors.add("decision", "must be accept or decline");
            false
        }
    };
    let reauth = crate::reauth::precheck(
        store,
        ctx,
        crate::reauth::Reauth { code: &input.reauth_code, password: &input.reauth_password },
    )
    .await?;
    let mut tx = store.begin().await?;
    let (evaluation, stored) = match tx.latest_evaluation(patient_id).await? {
        Some(e) => {
            let s = StoredEvaluation::parse(&e.result_json)?;
            (e, s)
        }
        None => return Err(AppError::Conflict("there is no evaluation to sign yet: save the intake first".into())),
    };
    if evaluation.id.to_string() != input.evaluation_id.trim() {
        return Err(AppError::Conflict(
            "the evaluation changed since you opened it (the intake or the policy was updated); review it again".into(),
        ));
    }
    let control = |t: &str| t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    for (rule, reason) in &input.reasons {
        if control(reason) {
            errors.add(format!("reasons.{rule}"), "contains control characters");
        }
    }
    if control(&input.override_reason) {
        errors.add("override_reason", "contains control characters");
    }
    let mut reasons = BTreeMap::new();
    let mut override_reason = None;
    if accept {
        match stored.status.as_str() {
            "incomplete" => errors
                .add("decision", "cannot be accept while the screen is incomplete; answer the missing questions first"),
            "excluded" => {
                let reason = input.override_reason.trim();
                if !tx.is_medical_director(signer).await? {
                    errors.add("override_reason", "a hard stop can be overridden only by a medical director");
                } else if reason.is_empty() {
                    errors.add("override_reason", "is required to accept despite a hard stop");
                } else {
                    reauth
                        .settle(tx.as_mut(), ctx, "the override of a hard stop", Some(patient_id), &mut errors)
                        .await?;
                    override_reason = Some(reason.to_string());
                }
            }
            _ => {}
        }
        for rule in stored.review_rules() {
            match input.reasons.get(&rule).map(|r| r.trim()).filter(|r| !r.is_empty()) {
                Some(r) => {
                    reasons.insert(rule, r.to_string());
                }
                None => errors
                    .add(format!("reasons.{rule}"), format!("a written reason is required to accept despite {rule}")),
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let record = DecisionRecord {
        id: Uuid::now_v7(),
        patient_id,
        evaluation_id: evaluation.id,
        decision: if accept { "accept" } else { "decline" }.into(),
        reasons_json: serde_json::to_string(&reasons).map_err(|e| AppError::Internal(e.to_string()))?,
        override_by: override_reason.as_ref().map(|_| signer),
        override_reason,
        signed_by: signer,
        signed_at: ctx.now,
        stale: false,
    };
    tx.insert_decision(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "eligibility_decision",
        Some(record.id.to_string()),
        Some(patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    if record.override_reason.is_some() {
        tx.append_audit(&ctx.audit(
            AuditAction::Create,
            "eligibility_override",
            Some(record.id.to_string()),
            Some(patient_id),
            AuditOutcome::Allowed,
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(record)
}

/// An open same-day review with the patient it concerns.
pub struct OpenFlag {
    pub flag: SameDayFlagRecord,
    pub patient: Patient,
    pub reasons: Vec<String>,
}

/// How many same-day reviews are open. Carries no patient data (the banner's count).
pub async fn open_flag_count(store: &dyn Store) -> AppResult<i64> {
    let mut tx = store.begin_read().await?;
    Ok(tx.count_open_same_day_flags().await?)
}

/// The open same-day reviews, oldest first, in two queries; the view is audited as one
/// entry naming every patient shown. (Not paginated: an urgent review is never left off
/// the list.)
pub async fn open_flags(store: &dyn Store, ctx: &Ctx) -> AppResult<Vec<OpenFlag>> {
    require(store, ctx, Permission::IntakeRead, "same_day_review", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    let flags = tx.open_same_day_flags().await?;
    let mut ids: Vec<PatientId> = flags.iter().map(|f| f.patient_id).collect();
    ids.sort();
    ids.dedup();
    let patients = tx.patients_by_ids(&ids).await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for flag in flags {
        let patient =
            patients.iter().find(|p| p.id == flag.patient_id).cloned().ok_or(AppError::NotFound("patient"))?;
        let reasons = serde_json::from_str(&flag.reasons_json).unwrap_or_default();
        out.push(OpenFlag { flag, patient, reasons });
    }
    audit_list_view(store, ctx, "same_day_review", &ids).await?;
    Ok(out)
}

/// Records the disposition of a same-day review (who, when, what).
pub async fn dispose_flag(store: &dyn Store, ctx: &Ctx, flag_id: &str, disposition: &str) -> AppResult<()> {
    let id = Uuid::parse_str(flag_id.trim()).map_err(|_| AppError::NotFound("same-day review"))?;
    require(
        store,
        ctx,
        Permission::SafetyAlertAcknowledge,
        "same_day_review",
        Some(id.to_string()),
        None,
        AuditAction::Update,
    )
    .await?;
    let text = disposition.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(FieldErrors::single("disposition", "is required (at most 2000 characters)").into());
    }
    let by = user_id(ctx).ok_or(AppError::Forbidden)?;
    let mut tx = store.begin().await?;
    let patient_id = tx.open_same_day_flags().await?.into_iter().find(|f| f.id == id).map(|f| f.patient_id);
    tx.dispose_same_day_flag(id, text, by, ctx.now).await.map_err(|e| match e {
        kat_store::StoreError::StaleVersion => AppError::Conflict("this review already has a disposition".into()),
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "same_day_review",
        Some(id.to_string()),
        patient_id,
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The policy in force (admins and clinicians).
pub async fn policy(store: &dyn Store, ctx: &Ctx) -> AppResult<PolicyRecord> {
    if !ctx.allows(Permission::PolicyManage) {
        require(store, ctx, Permission::IntakeRead, "eligibility_policy", None, None, AuditAction::Read).await?;
    }
    let (tx, p) = begin_read_with_policy(store, ctx).await?;
    tx.commit().await?;
    Ok(p)
}

/// Saves a new policy version from its JSON text and re-evaluates every intake.
pub async fn update_policy(store: &dyn Store, ctx: &Ctx, policy_json: &str) -> AppResult<PolicyRecord> {
    save_policy_with(store, ctx, |_| {
        serde_json::from_str::<EligibilityPolicy>(policy_json)
            .map_err(|e| FieldErrors::single("policy", format!("is not a valid policy: {e}")))
    })
    .await
}

/// Saves the next policy version, built from the one in force by `build` (the policy
/// form's parser, or the JSON API's), and re-evaluates every intake. The permission is
/// checked first; a `build` or `validate()` error comes back per field and nothing is
/// saved.
pub async fn save_policy_with(
    store: &dyn Store,
    ctx: &Ctx,
    build: impl FnOnce(&EligibilityPolicy) -> Result<EligibilityPolicy, FieldErrors> + Send,
) -> AppResult<PolicyRecord> {
    require(store, ctx, Permission::PolicyManage, "eligibility_policy", None, None, AuditAction::Update).await?;
    let mut tx = store.begin().await?;
    let current = policy_in_force(&mut tx, ctx).await?;
    let mut policy = build(&current.policy)?;
    policy.validate()?;
    policy.version = PolicyVersion::parse(&format!("v{}", current.version + 1)).expect("valid");
    let saved = tx.insert_policy(&policy, ctx.now, user_id(ctx)).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "eligibility_policy",
        Some(saved.version.to_string()),
        None,
        AuditOutcome::Allowed,
    ))
    .await?;
    for pid in tx.patients_with_intake().await? {
        let patient = tx.patient_by_id(pid).await?.ok_or(AppError::NotFound("patient"))?;
        if let Some(intake) = tx.latest_intake(pid).await? {
            evaluate_and_record(&mut tx, ctx, &patient, &intake, &saved).await?;
        }
    }
    tx.commit().await?;
    Ok(saved)
}

/// One past policy version, for the policy page's history.
#[derive(Debug, Clone)]
pub struct PolicyVersionInfo {
    pub version: i64,
    pub label: String,
    pub created_at: jiff::Timestamp,
    /// The staff member who saved it; `None` for the seeded specification defaults.
    pub created_by: Option<String>,
}

/// Every policy version, newest first, with who saved it and when (no patient data).
pub async fn policy_history(store: &dyn Store, ctx: &Ctx) -> AppResult<Vec<PolicyVersionInfo>> {
    if !ctx.allows(Permission::PolicyManage) {
        require(store, ctx, Permission::IntakeRead, "eligibility_policy", None, None, AuditAction::Read).await?;
    }
    let mut tx = store.begin_read().await?;
    let records = tx.policy_history().await?;
    let staff = tx.list_users().await?;
    tx.commit().await?;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let created_by = r.created_by.map(|id| {
            staff.iter().find(|u| u.id == id).map(|u| u.display_name.to_string()).unwrap_or_else(|| id.to_string())
        });
        out.push(PolicyVersionInfo {
            version: r.version,
            label: r.policy.version.to_string(),
            created_at: r.created_at,
            created_by,
        });
    }
    Ok(out)
}

/// Marks an account as medical director (or not); admins only.
pub async fn set_medical_director(
    store: &dyn Store,
    ctx: &Ctx,
    user: UserId,
    yes: bool,
    reason: &str,
    reauth: crate::reauth::Reauth<'_>,
) -> AppResult<()> {
    require(store, ctx, Permission::UserManage, "user", Some(user.to_string()), None, AuditAction::Update).await?;
    // Separation of duties (issue 12 item 8): the flag lets its holder override hard
    // stops, so every change says why, and every admin sees it on the Staff page.
    let reason = kat_core::access::StatedReason::parse(
        "reason",
        "say why this account becomes or stops being the medical director",
        reason,
    )?;
    // The flag lets its holder override hard stops: the admin confirms with the code of
    // two-step sign-in, which they must have (issue 12 item 8).
    let what = if yes { "granting the medical-director flag" } else { "removing the medical-director flag" };
    let confirmed = crate::reauth::require_confirmed(store, ctx, reauth, what, true).await?;
    let mut tx = store.begin().await?;
    tx.user_by_id(user).await?.ok_or(AppError::NotFound("user"))?;
    confirmed.settle_now(tx.as_mut(), ctx, what, None).await?;
    tx.set_medical_director(user, yes).await?;
    tx.insert_medical_director_change(&kat_store::MedicalDirectorChange {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        changed_by: match &ctx.actor {
            crate::Actor::User(u) => Some(u.id),
            _ => None,
        },
        at: ctx.now,
        granted: yes,
        reason: reason.as_str().to_string(),
    })
    .await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "user_medical_director",
        Some(user.to_string()),
        None,
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The latest changes of the medical-director flag, for every admin to see.
pub async fn medical_director_changes(
    store: &dyn Store,
    ctx: &Ctx,
    limit: u32,
) -> AppResult<Vec<kat_store::MedicalDirectorChange>> {
    require(store, ctx, Permission::UserManage, "user_medical_director", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    Ok(tx.medical_director_changes(limit).await?)
}

/// Whether the account is a medical director (no patient data).
pub async fn is_medical_director(store: &dyn Store, user: UserId) -> AppResult<bool> {
    let mut tx = store.begin_read().await?;
    Ok(tx.is_medical_director(user).await?)
}

/// Level keys in display order.
pub const LEVELS: [(Level, &str); 3] = [
    (Level::HardStop, "hard_stop"),
    (Level::PrescriberReview, "prescriber_review"),
    (Level::Information, "information"),
];
