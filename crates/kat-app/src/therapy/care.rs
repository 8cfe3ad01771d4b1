//! The safety plan and its one-time patient link, the care team, the program of planned
//! sessions, the patient timeline, each role's worklist and staff names.

use super::{patient_exists, user};
use crate::{AppError, AppResult, Ctx, audit_list_view, audit_reads, record_denial, require};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::{PatientId, PlannedSessionId, SafetyPlanId, UserId};
use kat_core::page::{Page, PageRequest};
use kat_core::patient::Patient;
use kat_core::role::Permission;
use kat_core::therapy::care_team::{CareRole, CareTeamMember, parse_care_team};
use kat_core::therapy::note::{Addendum, NoteStatus, TherapyNote};
use kat_core::therapy::safety_plan::{SafetyPlan, SafetyPlanForm};
use kat_core::therapy::schedule::{PlannedSession, TherapyPolicy, generate_program, parse_dose_dates};
use kat_core::therapy::timeline::{TimelineEntry, TimelineKind, TimelineSource, build_timeline};
use kat_core::therapy::worklist::{WorkItem, build_worklist};
use kat_core::user::User;
use kat_store::{PlanLinkRecord, Store, therapy_constraints};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const PLAN: &str = "safety_plan";

/// Every version of the patient's safety plan, newest first.
pub async fn safety_plans(store: &dyn Store, ctx: &Ctx, patient: PatientId) -> AppResult<Vec<SafetyPlan>> {
    require(store, ctx, Permission::TherapyNoteRead, PLAN, None, Some(patient), AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    patient_exists(&mut tx, patient).await?;
    let plans = tx.safety_plans_for_patient(patient).await?;
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(
            AuditAction::Read,
            PLAN,
            plans.first().map(|p| p.id.to_string()),
            Some(patient),
            AuditOutcome::Allowed,
        )],
    )
    .await?;
    Ok(plans)
}

/// Saves a new version of the safety plan.
pub async fn new_safety_plan_version(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    form: &SafetyPlanForm,
) -> AppResult<SafetyPlan> {
    require(store, ctx, Permission::CarePlanWrite, PLAN, None, Some(patient), AuditAction::Create).await?;
    let author = user(ctx)?.id;
    let content = form.parse()?;
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    let latest = tx.safety_plans_for_patient(patient).await?.first().map(|p| p.version).unwrap_or(0);
    let plan = SafetyPlan {
        id: SafetyPlanId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        version: latest + 1,
        content,
        author,
        created_at: ctx.now,
    };
    tx.insert_safety_plan(&plan).await.map_err(|e| {
        if e.is_conflict_on(therapy_constraints::SAFETY_PLANS_VERSION_UNIQUE) {
            AppError::Conflict("someone saved another version at the same time; reload and try again".into())
        } else {
            e.into()
        }
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        PLAN,
        Some(plan.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(plan)
}

/// A one-time link for the patient to read the current plan: the secret (shown once)
/// and when it expires. Only its SHA-256 is stored.
pub async fn create_plan_link(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    ttl: SignedDuration,
) -> AppResult<(String, Timestamp)> {
    require(store, ctx, Permission::CarePlanWrite, "safety_plan_link", None, Some(patient), AuditAction::Create)
        .await?;
    let by = user(ctx)?.id;
    let mut tx = store.begin().await?;
    let plan = tx
        .safety_plans_for_patient(patient)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Conflict("write the safety plan before sending it to the patient".into()))?;
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let secret = hex::encode(bytes);
    let expires_at = ctx.now.checked_add(ttl).map_err(|e| AppError::Internal(e.to_string()))?;
    let link = PlanLinkRecord {
        token_hash: hash_token(&secret),
        patient_id: patient,
        plan_id: plan.id,
        created_by: by,
        created_at: ctx.now,
        expires_at,
        used_at: None,
    };
    tx.insert_plan_link(&link).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "safety_plan_link",
        Some(plan.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok((secret, expires_at))
}

fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// Why a patient's link did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Unknown,
    Used,
    Expired,
}

/// Whether a one-time link would open, without opening it: the landing page behind the
/// link asks the patient to tap before the plan is shown and the link spent, so that a
/// messaging app's link preview (a GET) cannot use it up. Nothing about the patient is
/// read or shown, so nothing is audited here; opening is.
pub async fn check_plan_link(store: &dyn Store, ctx: &Ctx, token: &str) -> AppResult<Result<(), LinkProblem>> {
    let counted = crate::auth::link_gate(store, ctx).await?;
    let mut tx = store.begin_read().await?;
    let link = tx.plan_link_by_hash(&hash_token(token)).await?;
    tx.commit().await?;
    Ok(match link {
        None => {
            crate::auth::link_failed(store, ctx, &counted).await?;
            Err(LinkProblem::Unknown)
        }
        Some(l) if l.used_at.is_some() => Err(LinkProblem::Used),
        Some(l) if l.expires_at <= ctx.now => Err(LinkProblem::Expired),
        Some(_) => Ok(()),
    })
}

/// Opens a one-time link (no sign-in): the plan the link was made for, once. Every
/// attempt is audited; a failed one as a denial.
pub async fn open_plan_link(store: &dyn Store, ctx: &Ctx, token: &str) -> AppResult<Result<SafetyPlan, LinkProblem>> {
    let counted = crate::auth::link_gate(store, ctx).await?;
    let hash = hash_token(token);
    let mut tx = store.begin().await?;
    let Some(link) = tx.plan_link_by_hash(&hash).await? else {
        drop(tx);
        record_denial(store, ctx, AuditAction::Read, "safety_plan_link", None, None).await?;
        crate::auth::link_failed(store, ctx, &counted).await?;
        return Ok(Err(LinkProblem::Unknown));
    };
    if !tx.consume_plan_link(&hash, ctx.now).await? {
        drop(tx);
        record_denial(
            store,
            ctx,
            AuditAction::Read,
            "safety_plan_link",
            Some(link.plan_id.to_string()),
            Some(link.patient_id),
        )
        .await?;
        return Ok(Err(if link.used_at.is_some() { LinkProblem::Used } else { LinkProblem::Expired }));
    }
    let plan = tx.safety_plan_by_id(link.plan_id).await?.ok_or(AppError::NotFound("safety plan"))?;
    tx.append_audit(&ctx.audit(
        AuditAction::Read,
        "safety_plan_link",
        Some(plan.id.to_string()),
        Some(link.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(Ok(plan))
}

/// The care team with each member's account.
pub async fn care_team(store: &dyn Store, ctx: &Ctx, patient: PatientId) -> AppResult<Vec<(CareTeamMember, User)>> {
    require(store, ctx, Permission::PatientRead, "care_team", None, Some(patient), AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    patient_exists(&mut tx, patient).await?;
    let team = tx.care_team(patient).await?;
    let staff = tx.list_users().await?;
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(AuditAction::Read, "care_team", Some(patient.to_string()), Some(patient), AuditOutcome::Allowed)],
    )
    .await?;
    Ok(team.into_iter().filter_map(|m| staff.iter().find(|u| u.id == m.user_id).map(|u| (m, u.clone()))).collect())
}

/// Active staff who can join a care team, by care role (for the form).
pub async fn care_team_candidates(store: &dyn Store, ctx: &Ctx) -> AppResult<Vec<(CareRole, User)>> {
    require(store, ctx, Permission::CareTeamManage, "care_team", None, None, AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    let staff = tx.list_users().await?;
    Ok(CareRole::ALL
        .into_iter()
        .flat_map(|r| staff.iter().filter(move |u| u.active && u.role == r.account_role()).map(move |u| (r, u.clone())))
        .collect())
}

/// Replaces the care team from (care role, account id or username) entries.
pub async fn set_care_team(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    entries: &[(CareRole, String)],
) -> AppResult<Vec<CareTeamMember>> {
    require(
        store,
        ctx,
        Permission::CareTeamManage,
        "care_team",
        Some(patient.to_string()),
        Some(patient),
        AuditAction::Update,
    )
    .await?;
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    let staff = tx.list_users().await?;
    let team = parse_care_team(entries, &staff)?;
    tx.set_care_team(patient, &team, ctx.now).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "care_team",
        Some(patient.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(team)
}

/// (Re)generates the program from planned dose dates; completed sessions stay.
pub async fn plan_program(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    dose_dates: &str,
    policy: &TherapyPolicy,
) -> AppResult<Vec<PlannedSession>> {
    require(store, ctx, Permission::CarePlanWrite, "planned_sessions", None, Some(patient), AuditAction::Create)
        .await?;
    let doses = parse_dose_dates(dose_dates)?;
    let specs = generate_program(policy, &doses).map_err(|e| AppError::Internal(format!("therapy policy: {e}")))?;
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    let sessions: Vec<PlannedSession> = specs
        .into_iter()
        .map(|s| PlannedSession {
            id: PlannedSessionId::from_uuid(Uuid::now_v7()),
            patient_id: patient,
            kind: s.kind,
            due: s.due,
            window_end: s.window_end,
            sequence: s.sequence,
            dose: s.dose,
            rule: s.rule,
            completed_by_note: None,
            created_at: ctx.now,
        })
        .collect();
    tx.replace_pending_sessions(patient, &sessions).await?;
    let all = tx.planned_sessions_for_patient(patient).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "planned_sessions",
        Some(patient.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(all)
}

/// The patient's planned sessions (names and kinds; the front desk may see them).
pub async fn program(store: &dyn Store, ctx: &Ctx, patient: PatientId) -> AppResult<Vec<PlannedSession>> {
    require(store, ctx, Permission::ScheduleRead, "planned_sessions", None, Some(patient), AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    patient_exists(&mut tx, patient).await?;
    let all = tx.planned_sessions_for_patient(patient).await?;
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(
            AuditAction::Read,
            "planned_sessions",
            Some(patient.to_string()),
            Some(patient),
            AuditOutcome::Allowed,
        )],
    )
    .await?;
    Ok(all)
}

/// The parts of the record a timeline is built from, with the shell's time zone.
struct Record<'a> {
    patient: &'a Patient,
    notes: &'a [TherapyNote],
    addenda: &'a [Addendum],
    plans: &'a [SafetyPlan],
    sessions: &'a [PlannedSession],
    tz: &'a TimeZone,
}

impl TimelineSource for Record<'_> {
    fn timeline_entries(&self) -> Vec<TimelineEntry> {
        let p = self.patient.id;
        let at = |t: Timestamp| {
            let z = t.to_zoned(self.tz.clone());
            (z.date(), Some(z.time()))
        };
        let mut out = Vec::new();
        let (date, time) = at(self.patient.created_at);
        out.push(TimelineEntry {
            date,
            time,
            kind: TimelineKind::Registration,
            title: format!("Registered as {}", self.patient.mrn),
            detail: String::new(),
            href: format!("/patients/{p}"),
        });
        for n in self.notes {
            let (date, time) = match (n.content.session_date, n.status) {
                (Some(d), _) => (d, None),
                (None, _) => at(n.created_at),
            };
            let state = match n.status {
                NoteStatus::Draft => "draft",
                NoteStatus::Signed { .. } => "signed",
            };
            out.push(TimelineEntry {
                date,
                time,
                kind: TimelineKind::Note,
                title: format!("{} note ({state})", n.kind.label()),
                detail: n.content.themes.join(", "),
                href: format!("/patients/{p}/notes/{}", n.id),
            });
        }
        for a in self.addenda {
            let (date, time) = at(a.at);
            out.push(TimelineEntry {
                date,
                time,
                kind: TimelineKind::Addendum,
                title: "Addendum".into(),
                detail: a.reason.clone(),
                href: format!("/patients/{p}/notes/{}#addenda", a.note_id),
            });
        }
        for plan in self.plans {
            let (date, time) = at(plan.created_at);
            out.push(TimelineEntry {
                date,
                time,
                kind: TimelineKind::SafetyPlan,
                title: format!("Safety plan version {}", plan.version),
                detail: String::new(),
                href: format!("/patients/{p}/safety-plan?version={}", plan.version),
            });
        }
        for s in self.sessions {
            let state = if s.is_pending() { "planned" } else { "done" };
            out.push(TimelineEntry {
                date: s.due,
                time: None,
                kind: TimelineKind::PlannedSession,
                title: format!("{} {} ({state})", s.kind.label(), s.sequence),
                detail: s.rule.clone(),
                href: match s.completed_by_note {
                    Some(n) => format!("/patients/{p}/notes/{n}"),
                    None => format!("/patients/{p}/therapy#program"),
                },
            });
        }
        out
    }
}

/// The most entries one page of the timeline shows, and its default size.
pub const TIMELINE_PAGE_MAX: u32 = 500;
pub const TIMELINE_PAGE: u32 = 100;

/// One page of the patient timeline, oldest first, optionally only some kinds. A fixed
/// number of queries whatever the length of the record (one per part of it).
pub async fn timeline(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    only: &[TimelineKind],
    tz: &TimeZone,
    page: PageRequest,
) -> AppResult<Page<TimelineEntry>> {
    require(store, ctx, Permission::TherapyNoteRead, "patient_timeline", None, Some(patient), AuditAction::Read)
        .await?;
    let mut tx = store.begin_read().await?;
    let p = patient_exists(&mut tx, patient).await?;
    let notes = tx.therapy_notes_for_patient(patient).await?;
    let addenda = tx.addenda_for_patient(patient).await?;
    let plans = tx.safety_plans_for_patient(patient).await?;
    let sessions = tx.planned_sessions_for_patient(patient).await?;
    // The rest of the clinical record, each part only for roles that may read it.
    let role = user(ctx)?.role;
    let (intake_versions, evaluation, decision) = if role.allows(Permission::IntakeRead) {
        (tx.intake_history(patient).await?, tx.latest_evaluation(patient).await?, tx.latest_decision(patient).await?)
    } else {
        (Vec::new(), None, None)
    };
    let (responses, alerts) = if role.allows(Permission::MeasureRead) {
        (tx.responses_for_patient(patient, None).await?, tx.alerts_for_patient(patient).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    let (dosing_plans, dosing_sessions, adverse_events) = if role.allows(Permission::DosingSessionRead) {
        let sessions = tx.dosing_sessions_for_patient(patient).await?;
        let events = tx.session_events_for_patient(patient, kat_store::dosing::SessionEventKind::AdverseEvent).await?;
        (tx.treatment_plans_for_patient(patient).await?, sessions, events)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(
            AuditAction::Read,
            "patient_timeline",
            Some(patient.to_string()),
            Some(patient),
            AuditOutcome::Allowed,
        )],
    )
    .await?;
    let record = Record { patient: &p, notes: &notes, addenda: &addenda, plans: &plans, sessions: &sessions, tz };
    let clinical = crate::timeline::ClinicalRecord {
        patient,
        intake_versions: &intake_versions,
        evaluation: evaluation.as_ref(),
        decision: decision.as_ref(),
        responses: &responses,
        alerts: &alerts,
        plans: &dosing_plans,
        sessions: &dosing_sessions,
        adverse_events: &adverse_events,
        tz,
    };
    Ok(page.slice(build_timeline(&[&record, &clinical], only)))
}

/// The most items one page of the worklist shows (also its default size).
pub const WORKLIST_PAGE: u32 = 50;

/// One page of the signed-in user's worklist for today, with the patients it names.
/// Clinicians see the patients whose care team they are on and their own unsigned notes;
/// the front desk sees every session due. A fixed number of queries whatever the number
/// of patients; the view is audited as one entry naming every patient shown.
pub async fn worklist(store: &dyn Store, ctx: &Ctx, page: PageRequest) -> AppResult<(Page<WorkItem>, Vec<Patient>)> {
    require(store, ctx, Permission::ScheduleRead, "worklist", None, None, AuditAction::List).await?;
    let me = user(ctx)?.clone();
    let mut tx = store.begin_read().await?;
    let (sessions, drafts) = if me.role.is_clinical() {
        let mine = tx.patients_of_member(me.id).await?;
        let sessions = tx.pending_sessions_due_by(ctx.today, Some(&mine)).await?;
        let drafts = if me.role.allows(Permission::TherapyNoteWrite) {
            tx.draft_notes_by_author(me.id).await?
        } else {
            Vec::new()
        };
        (sessions, drafts)
    } else {
        (tx.pending_sessions_due_by(ctx.today, None).await?, Vec::new())
    };
    let items = page.slice(build_worklist(ctx.today, &sessions, &drafts));
    let mut ids: Vec<PatientId> = items.items.iter().map(|i| i.patient_id).collect();
    ids.sort();
    ids.dedup();
    let patients = tx.patients_by_ids(&ids).await?;
    tx.commit().await?;
    let shown: Vec<PatientId> = patients.iter().map(|p| p.id).collect();
    audit_list_view(store, ctx, "worklist", &shown).await?;
    Ok((items, patients))
}

/// Display names of accounts, for showing authors and readers.
pub async fn staff_names(store: &dyn Store) -> AppResult<Vec<(UserId, String)>> {
    let mut tx = store.begin_read().await?;
    Ok(tx
        .list_users()
        .await?
        .into_iter()
        .map(|u| {
            let name = if u.display_name.is_empty() { u.username.to_string() } else { u.display_name.clone() };
            (u.id, name)
        })
        .collect())
}

/// Active therapists other than `me`, who may be named as process-note readers.
pub async fn other_therapists(store: &dyn Store, me: UserId) -> AppResult<Vec<User>> {
    let mut tx = store.begin_read().await?;
    Ok(tx
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.active && u.role == kat_core::role::Role::Therapist && u.id != me)
        .collect())
}
