//! Use cases of measurement-based care: record a response (clinician on the patient's
//! behalf, or the patient through a one-time link), safety alerts and their
//! acknowledgement, self-report links, outcomes and the due/overdue worklist.
//!
//! Both ways in go through [`score_and_store`], the one function that scores a response
//! and raises its alerts in the caller's transaction. Every read and write is audited.

use super::{Actor, AppError, AppResult, Ctx, audit_list_view, audit_reads, require};
use crate::auth::hash_secret;
use crate::config::MeasuresConfig;
use jiff::Timestamp;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome, NewAuditEntry};
use kat_core::ids::{AlertId, LinkId, PatientId, ResponseId, UserId};
use kat_core::instruments::outcome::DatedTotal;
use kat_core::instruments::{Completeness, Instrument, Response, Score};
use kat_core::measures::{
    AcknowledgeForm, DueMeasure, OutcomeSummary, PlanForm, ResponseSource, alerts_for, due_measures, outcome_summary,
};
use kat_core::page::{Page, PageRequest};
use kat_core::patient::Patient;
use kat_core::role::Permission;
use kat_store::lists::CompletedMeasure;
use kat_store::measures::{MeasurementPlan, ResponseRecord, SafetyAlert, SelfReportLink};
use kat_store::{Store, Tx};
use uuid::Uuid;

/// The instruments a patient may be sent or a clinician may enter here. C-SSRS is
/// entered by clinicians only (licensed wording is not shipped, instruments.md §1);
/// session scales (CADSS, MOAA/S, Aldrete) belong to the dosing session.
pub const ENTERABLE: [Instrument; 4] =
    [Instrument::Phq9, Instrument::Gad7, Instrument::Pcl5, Instrument::CssrsScreener];
/// What a self-report link may contain.
pub const SELF_REPORTABLE: [Instrument; 3] = [Instrument::Phq9, Instrument::Gad7, Instrument::Pcl5];

/// A stored response, its score and the alerts it raised.
#[derive(Debug)]
pub struct Recorded {
    pub record: ResponseRecord,
    pub score: Score,
    pub alerts: Vec<SafetyAlert>,
}

/// Audit entry for a patient's measure resource.
fn entry(ctx: &Ctx, action: AuditAction, kind: &str, id: String, patient: PatientId) -> NewAuditEntry {
    ctx.audit(action, kind, Some(id), Some(patient), AuditOutcome::Allowed)
}

/// The one scoring path: scores `response`, stores it with its computed total, band,
/// completeness and flags and the policy used, and raises one urgent alert per safety
/// flag (PHQ-9 item 9 ≥ 1, C-SSRS high risk), all in `tx`, with audit entries.
#[allow(clippy::too_many_arguments)]
pub async fn score_and_store(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    patient: PatientId,
    response: Response,
    source: ResponseSource,
    entered_by: Option<UserId>,
    link_id: Option<LinkId>,
    collected_at: Timestamp,
) -> AppResult<Recorded> {
    let score = response.score(&cfg.scoring);
    let complete = score.completeness().is_complete();
    let record = ResponseRecord {
        id: ResponseId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        source,
        entered_by,
        link_id,
        collected_at,
        recorded_at: ctx.now,
        // Never a total for an incomplete response (instruments.md §2.3).
        total: if complete { score.total() } else { None },
        band: if complete { score.band().map(str::to_string) } else { None },
        complete,
        flags: score.flags().iter().map(|f| f.as_str().to_string()).collect(),
        scoring_policy: serde_json::to_string(&cfg.scoring).map_err(|e| AppError::Internal(e.to_string()))?,
        response,
    };
    tx.insert_response(&record).await?;
    tx.append_audit(&entry(ctx, AuditAction::Create, "measure_response", record.id.to_string(), patient)).await?;
    let mut alerts = Vec::new();
    for kind in alerts_for(&score) {
        let alert = SafetyAlert {
            id: AlertId::from_uuid(Uuid::now_v7()),
            patient_id: patient,
            response_id: record.id,
            kind,
            raised_at: ctx.now,
            acknowledged_by: None,
            acknowledged_at: None,
            action: None,
            note: None,
        };
        tx.insert_alert(&alert).await?;
        tx.append_audit(&entry(ctx, AuditAction::Create, "safety_alert", alert.id.to_string(), patient)).await?;
        alerts.push(alert);
    }
    Ok(Recorded { record, score, alerts })
}

fn user_id(ctx: &Ctx) -> Option<UserId> {
    match &ctx.actor {
        Actor::User(u) => Some(u.id),
        _ => None,
    }
}

async fn patient_exists(tx: &mut Box<dyn Tx>, id: PatientId) -> AppResult<Patient> {
    tx.patient_by_id(id).await?.ok_or(AppError::NotFound("patient"))
}

/// Parses answers given as text in item order; errors are named `item_<label>`.
pub fn parse_answers(instrument: Instrument, raw: &[Option<String>]) -> Result<Response, FieldErrors> {
    let refs: Vec<Option<&str>> = raw.iter().map(|o| o.as_deref()).collect();
    Response::parse(instrument, &refs).map_err(FieldErrors::from)
}

/// A clinician enters answers on the patient's behalf (recorded as `clinician`, with
/// who entered them). Blank answers are allowed: the response is stored incomplete.
pub async fn record_response(
    store: &dyn Store,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    patient: PatientId,
    instrument: Instrument,
    raw: &[Option<String>],
    collected_at: Option<Timestamp>,
) -> AppResult<Recorded> {
    require(store, ctx, Permission::MeasureEnter, "measure_response", None, Some(patient), AuditAction::Create).await?;
    let mut errors = FieldErrors::new();
    if !ENTERABLE.contains(&instrument) {
        errors.add("instrument", "cannot be entered here");
    }
    let collected_at = collected_at.unwrap_or(ctx.now);
    if collected_at > ctx.now {
        errors.add("collected_at", "must not be in the future");
    }
    let response = match parse_answers(instrument, raw) {
        Ok(r) => Some(r),
        Err(e) => {
            for fe in e.iter() {
                errors.add(fe.field.clone(), fe.message.clone());
            }
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let response = response.expect("no errors");
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    let recorded = score_and_store(
        &mut tx,
        ctx,
        cfg,
        patient,
        response,
        ResponseSource::Clinician,
        user_id(ctx),
        None,
        collected_at,
    )
    .await?;
    tx.commit().await?;
    Ok(recorded)
}

/// A patient's responses (optionally of one instrument), oldest first; audited as one
/// read of each response shown.
pub async fn list_responses(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    instrument: Option<Instrument>,
) -> AppResult<Vec<ResponseRecord>> {
    require(store, ctx, Permission::MeasureRead, "measure_response", None, Some(patient), AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    patient_exists(&mut tx, patient).await?;
    let found = tx.responses_for_patient(patient, instrument).await?;
    tx.commit().await?;
    let entries: Vec<NewAuditEntry> =
        found.iter().map(|r| entry(ctx, AuditAction::Read, "measure_response", r.id.to_string(), patient)).collect();
    audit_reads(store, &entries).await?;
    Ok(found)
}

/// The responses collected on `day` (the clinic's civil date), for the pre-dose gate's
/// "pre-dose measures" (OUT-002: before each dose PHQ-9 or QIDS-SR and the C-SSRS
/// screener; DAY-006); audited as one read of each response shown.
pub async fn responses_on_day(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    day: jiff::civil::Date,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Vec<ResponseRecord>> {
    require(store, ctx, Permission::MeasureRead, "measure_response", None, Some(patient), AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    let found: Vec<ResponseRecord> = tx
        .responses_for_patient(patient, None)
        .await?
        .into_iter()
        .filter(|r| r.collected_at.to_zoned(tz.clone()).date() == day)
        .collect();
    tx.commit().await?;
    let entries: Vec<NewAuditEntry> =
        found.iter().map(|r| entry(ctx, AuditAction::Read, "measure_response", r.id.to_string(), patient)).collect();
    audit_reads(store, &entries).await?;
    Ok(found)
}

/// A new one-time link and its secret token (shown once; only its SHA-256 is kept).
pub async fn create_link(
    store: &dyn Store,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    patient: PatientId,
    instruments: &[Instrument],
) -> AppResult<(SelfReportLink, String)> {
    require(store, ctx, Permission::MeasureLinkSend, "self_report_link", None, Some(patient), AuditAction::Create)
        .await?;
    let mut list: Vec<Instrument> = Vec::new();
    for i in instruments {
        if !list.contains(i) {
            list.push(*i);
        }
    }
    if list.is_empty() {
        return Err(FieldErrors::single("instruments", "choose at least one questionnaire").into());
    }
    if list.iter().any(|i| !SELF_REPORTABLE.contains(i)) {
        return Err(FieldErrors::single("instruments", "only PHQ-9, GAD-7 and PCL-5 can be self-reported").into());
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = hex::encode(bytes);
    let link = SelfReportLink {
        id: LinkId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        token_hash: hash_secret(&token),
        instruments: list,
        created_by: user_id(ctx),
        created_at: ctx.now,
        expires_at: ctx.now.checked_add(cfg.self_report_link_ttl).map_err(|e| AppError::Internal(e.to_string()))?,
        used_at: None,
    };
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    tx.insert_link(&link).await?;
    tx.append_audit(&entry(ctx, AuditAction::Create, "self_report_link", link.id.to_string(), patient)).await?;
    tx.commit().await?;
    Ok((link, token))
}

/// What a visitor with a link token finds.
#[derive(Debug)]
pub enum LinkState {
    Open(SelfReportLink),
    Expired,
    Used,
    Unknown,
}

fn link_state(link: Option<SelfReportLink>, now: Timestamp) -> LinkState {
    match link {
        None => LinkState::Unknown,
        Some(l) if l.used_at.is_some() => LinkState::Used,
        Some(l) if now >= l.expires_at => LinkState::Expired,
        Some(l) => LinkState::Open(l),
    }
}

/// Audit entries made by a link holder name the link, not "anonymous".
fn link_ctx(ctx: &Ctx) -> Ctx {
    let mut c = ctx.clone();
    c.actor = Actor::Anonymous;
    c
}

fn link_entry(ctx: &Ctx, action: AuditAction, link: &SelfReportLink) -> NewAuditEntry {
    let mut e = entry(ctx, action, "self_report_link", link.id.to_string(), link.patient_id);
    e.actor.label = format!("self-report link {}", link.id);
    e
}

/// Opens a link (no sign-in: the token is the credential). An open link is audited as
/// read by its holder.
pub async fn open_link(store: &dyn Store, ctx: &Ctx, token: &str) -> AppResult<LinkState> {
    let counted = crate::auth::link_gate(store, ctx).await?;
    let mut tx = store.begin_read().await?;
    let state = link_state(tx.link_by_hash(&hash_secret(token.trim())).await?, ctx.now);
    tx.commit().await?;
    if matches!(state, LinkState::Unknown) {
        crate::auth::link_failed(store, ctx, &counted).await?;
    }
    if let LinkState::Open(l) = &state {
        audit_reads(store, &[link_entry(&link_ctx(ctx), AuditAction::Read, l)]).await?;
    }
    Ok(state)
}

/// The patient's answers: per instrument, text answers in item order.
pub type SelfReportAnswers = Vec<(Instrument, Vec<Option<String>>)>;

#[derive(Debug)]
pub enum Submitted {
    Saved(Vec<Recorded>),
    /// The link was not open (expired, used, unknown); nothing was saved.
    Closed(LinkState),
    /// Some required items are unanswered and the patient has not yet confirmed sending
    /// them so: nothing was saved and the link stays open. Each instrument with the
    /// labels of its unanswered items.
    ConfirmSkipped(Vec<(Instrument, Vec<&'static str>)>),
}

/// The patient submits a self-report. Every answer of every instrument is parsed first
/// (errors named `<instrument>_<label>`). Unless `confirm_skipped`, a response with
/// unanswered required items is not saved: the patient is asked to confirm them first
/// ([`Submitted::ConfirmSkipped`]; an incomplete response is stored as incomplete and never
/// scored as complete). Then the link is spent and each response goes through
/// [`score_and_store`] in the same transaction.
pub async fn submit_self_report(
    store: &dyn Store,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    token: &str,
    answers: &SelfReportAnswers,
    confirm_skipped: bool,
) -> AppResult<Submitted> {
    let ctx = link_ctx(ctx);
    let counted = crate::auth::link_gate(store, &ctx).await?;
    let mut tx = store.begin().await?;
    let link = match link_state(tx.link_by_hash(&hash_secret(token.trim())).await?, ctx.now) {
        LinkState::Open(l) => l,
        LinkState::Unknown => {
            drop(tx);
            crate::auth::link_failed(store, &ctx, &counted).await?;
            return Ok(Submitted::Closed(LinkState::Unknown));
        }
        other => return Ok(Submitted::Closed(other)),
    };
    let mut errors = FieldErrors::new();
    let mut parsed = Vec::new();
    for instrument in &link.instruments {
        let raw = answers.iter().find(|(i, _)| i == instrument).map(|(_, a)| a.clone()).unwrap_or_default();
        let mut raw = raw;
        raw.resize(instrument.def().items.len(), None);
        match parse_answers(*instrument, &raw) {
            Ok(r) => parsed.push(r),
            Err(e) => {
                for fe in e.iter() {
                    let name = fe.field.strip_prefix("item_").unwrap_or(&fe.field);
                    errors.add(format!("{}_{}", instrument.as_str(), name), fe.message.clone());
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let skipped: Vec<(Instrument, Vec<&'static str>)> = parsed
        .iter()
        .filter_map(|r| match r.completeness() {
            Completeness::Complete => None,
            Completeness::Incomplete { missing } => Some((r.instrument(), missing)),
        })
        .collect();
    if !skipped.is_empty() && !confirm_skipped {
        // Nothing is written: the link stays open for the patient's answer.
        return Ok(Submitted::ConfirmSkipped(skipped));
    }
    if !tx.mark_link_used(link.id, ctx.now).await? {
        return Ok(Submitted::Closed(LinkState::Used));
    }
    let mut saved = Vec::new();
    for response in parsed {
        let mut recorded = score_and_store(
            &mut tx,
            &ctx,
            cfg,
            link.patient_id,
            response,
            ResponseSource::SelfReport,
            None,
            Some(link.id),
            ctx.now,
        )
        .await?;
        recorded.record.entered_by = None;
        saved.push(recorded);
    }
    tx.append_audit(&link_entry(&ctx, AuditAction::Update, &link)).await?;
    tx.commit().await?;
    Ok(Submitted::Saved(saved))
}

/// The number of unacknowledged alerts, for the banner. It names no patient, so it is
/// not audited; the list behind it is.
pub async fn count_open_alerts(store: &dyn Store, ctx: &Ctx) -> AppResult<i64> {
    if !ctx.allows(Permission::SafetyAlertAcknowledge) {
        return Ok(0);
    }
    let mut tx = store.begin_read().await?;
    Ok(tx.count_open_alerts().await?)
}

/// Unacknowledged alerts with their patients, oldest first, in two queries; the view is
/// audited as one entry naming every patient shown. (Not paginated: an urgent alert is
/// never left off the list; there are few, since each is acknowledged the same day.)
pub async fn open_alerts(store: &dyn Store, ctx: &Ctx) -> AppResult<Vec<(SafetyAlert, Patient)>> {
    require(store, ctx, Permission::SafetyAlertAcknowledge, "safety_alert", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    let alerts = tx.open_alerts().await?;
    let mut ids: Vec<PatientId> = alerts.iter().map(|a| a.patient_id).collect();
    ids.sort();
    ids.dedup();
    let patients = tx.patients_by_ids(&ids).await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for a in alerts {
        let p = patients.iter().find(|p| p.id == a.patient_id).cloned().ok_or(AppError::NotFound("patient"))?;
        out.push((a, p));
    }
    audit_list_view(store, ctx, "safety_alert", &ids).await?;
    Ok(out)
}

/// One alert with its patient and the response that raised it.
pub async fn get_alert(store: &dyn Store, ctx: &Ctx, id: AlertId) -> AppResult<(SafetyAlert, Patient, ResponseRecord)> {
    require(
        store,
        ctx,
        Permission::SafetyAlertAcknowledge,
        "safety_alert",
        Some(id.to_string()),
        None,
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin_read().await?;
    let a = tx.alert_by_id(id).await?.ok_or(AppError::NotFound("safety alert"))?;
    let p = patient_exists(&mut tx, a.patient_id).await?;
    let r = tx.response_by_id(a.response_id).await?.ok_or(AppError::NotFound("response"))?;
    tx.commit().await?;
    audit_reads(store, &[entry(ctx, AuditAction::Read, "safety_alert", a.id.to_string(), a.patient_id)]).await?;
    Ok((a, p, r))
}

/// Acknowledges an alert with the action taken (required) and a note.
pub async fn acknowledge(store: &dyn Store, ctx: &Ctx, id: AlertId, form: &AcknowledgeForm) -> AppResult<SafetyAlert> {
    require(
        store,
        ctx,
        Permission::SafetyAlertAcknowledge,
        "safety_alert",
        Some(id.to_string()),
        None,
        AuditAction::Update,
    )
    .await?;
    let ack = form.parse()?;
    let mut tx = store.begin().await?;
    let a = tx.alert_by_id(id).await?.ok_or(AppError::NotFound("safety alert"))?;
    match tx.acknowledge_alert(id, user_id(ctx), ctx.now, ack.action, ack.note.as_deref()).await {
        Ok(()) => {}
        Err(kat_store::StoreError::StaleVersion) => {
            return Err(AppError::Conflict("this alert was already acknowledged".into()));
        }
        Err(e) => return Err(e.into()),
    }
    tx.append_audit(&entry(ctx, AuditAction::Update, "safety_alert", id.to_string(), a.patient_id)).await?;
    let updated = tx.alert_by_id(id).await?.ok_or(AppError::NotFound("safety alert"))?;
    tx.commit().await?;
    Ok(updated)
}

/// Creates or replaces a patient's measurement-plan anchors.
pub async fn save_plan(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    form: &PlanForm,
) -> AppResult<MeasurementPlan> {
    require(
        store,
        ctx,
        Permission::MeasureEnter,
        "measurement_plan",
        Some(patient.to_string()),
        Some(patient),
        AuditAction::Update,
    )
    .await?;
    let anchors = form.parse()?;
    let plan = MeasurementPlan { patient_id: patient, anchors, updated_by: user_id(ctx), updated_at: ctx.now };
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    tx.upsert_plan(&plan).await?;
    tx.append_audit(&entry(ctx, AuditAction::Update, "measurement_plan", patient.to_string(), patient)).await?;
    tx.commit().await?;
    Ok(plan)
}

/// One instrument's series and outcome.
#[derive(Debug)]
pub struct InstrumentSeries {
    pub instrument: Instrument,
    pub responses: Vec<ResponseRecord>,
    pub outcome: Option<OutcomeSummary>,
}

/// Everything the patient page shows about measures.
#[derive(Debug)]
pub struct PatientMeasures {
    pub series: Vec<InstrumentSeries>,
    pub alerts: Vec<SafetyAlert>,
    pub plan: Option<MeasurementPlan>,
    pub due: Vec<DueMeasure>,
    /// When each dose was given (dosing sessions whose gate was passed; the gate time),
    /// for the chart's time axis. Empty for roles that may not read dosing sessions.
    pub doses: Vec<Timestamp>,
}

fn complete_series(responses: &[ResponseRecord]) -> Vec<DatedTotal> {
    let mut out: Vec<DatedTotal> = Vec::new();
    for r in responses.iter().filter(|r| r.complete) {
        if let Some(total) = r.total {
            // The outcome helpers need strictly increasing times.
            if out.last().is_none_or(|l| r.collected_at > l.at) {
                out.push(DatedTotal { at: r.collected_at, total });
            }
        }
    }
    out
}

fn due_for(
    cfg: &MeasuresConfig,
    ctx: &Ctx,
    tz: &jiff::tz::TimeZone,
    plan: &MeasurementPlan,
    responses: &[ResponseRecord],
) -> Vec<DueMeasure> {
    let completed: Vec<(Instrument, Timestamp)> =
        responses.iter().filter(|r| r.complete).map(|r| (r.response.instrument(), r.collected_at)).collect();
    due_measures(&plan.anchors, &cfg.schedule, tz, &completed, ctx.today)
}

/// The measures section of a patient: series with outcomes (with their definitions),
/// alerts, plan and what is due. Audited as one read of the patient's measures.
pub async fn patient_overview(
    store: &dyn Store,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    tz: &jiff::tz::TimeZone,
    patient: PatientId,
) -> AppResult<PatientMeasures> {
    require(
        store,
        ctx,
        Permission::MeasureRead,
        "measures",
        Some(patient.to_string()),
        Some(patient),
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin_read().await?;
    patient_exists(&mut tx, patient).await?;
    let all = tx.responses_for_patient(patient, None).await?;
    let alerts = tx.alerts_for_patient(patient).await?;
    let plan = tx.plan_for_patient(patient).await?;
    let mut audited = vec![entry(ctx, AuditAction::Read, "measures", patient.to_string(), patient)];
    // The dose days, so that the chart shows whether relief followed the doses.
    let doses: Vec<Timestamp> = if ctx.allows(Permission::DosingSessionRead) {
        let sessions = tx.dosing_sessions_for_patient(patient).await?;
        if !sessions.is_empty() {
            audited.push(ctx.audit(AuditAction::List, "dosing_session", None, Some(patient), AuditOutcome::Allowed));
        }
        let mut at: Vec<Timestamp> =
            sessions.iter().filter(|s| s.gate_outcome.is_some_and(|o| o.passed())).filter_map(|s| s.gate_at).collect();
        at.sort();
        at
    } else {
        Vec::new()
    };
    tx.commit().await?;
    audit_reads(store, &audited).await?;
    let mut series = Vec::new();
    for instrument in ENTERABLE {
        let responses: Vec<ResponseRecord> =
            all.iter().filter(|r| r.response.instrument() == instrument).cloned().collect();
        if responses.is_empty() {
            continue;
        }
        // Outcomes compare a later score with the baseline: none from a baseline alone.
        let totals = complete_series(&responses);
        let outcome = if totals.len() >= 2 { outcome_summary(instrument, &totals, &cfg.outcome) } else { None };
        series.push(InstrumentSeries { instrument, responses, outcome });
    }
    let due = plan.as_ref().map(|p| due_for(cfg, ctx, tz, p, &all)).unwrap_or_default();
    Ok(PatientMeasures { series, alerts, plan, due, doses })
}

/// The most patients one page of the measures worklist shows (also its default size).
pub const WORKLIST_PAGE: u32 = 50;

/// Due and overdue measures of every patient with a plan, most urgent first (overdue
/// before due, then by date), in two queries whatever the number of patients.
pub(crate) async fn due_list(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Vec<(PatientId, Vec<DueMeasure>)>> {
    let plans = tx.list_plans().await?;
    let completed = tx.completed_measures_of_planned_patients().await?;
    let mut out = Vec::new();
    for plan in plans {
        // `completed` is ordered by patient: this patient's run of it.
        let from = completed.partition_point(|m| m.patient_id < plan.patient_id);
        let to = completed.partition_point(|m| m.patient_id <= plan.patient_id);
        let done: Vec<(Instrument, Timestamp)> =
            completed[from..to].iter().map(|m: &CompletedMeasure| (m.instrument, m.collected_at)).collect();
        let due = due_measures(&plan.anchors, &cfg.schedule, tz, &done, ctx.today);
        if !due.is_empty() {
            out.push((plan.patient_id, due));
        }
    }
    // Stable: equally urgent patients keep the plans' order (baseline date, patient).
    out.sort_by_key(|(_, due)| due.iter().map(|d| (d.status, d.due_on)).min());
    Ok(out)
}

/// How many patients have measures due and how many of them overdue, for the day's
/// worklist. Names no patient, so it is not audited; the list behind it is.
pub async fn worklist_counts(
    store: &dyn Store,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    tz: &jiff::tz::TimeZone,
) -> AppResult<(usize, usize)> {
    if !ctx.allows(Permission::MeasureRead) {
        return Ok((0, 0));
    }
    let mut tx = store.begin_read().await?;
    let all = due_list(&mut tx, ctx, cfg, tz).await?;
    tx.commit().await?;
    let overdue = all.iter().filter(|(_, d)| d.iter().any(|x| x.status == kat_core::measures::DueStatus::Overdue));
    Ok((all.len(), overdue.count()))
}

/// One page of the due and overdue measures over every patient with a plan, most urgent
/// first, in three queries whatever the number of patients; the view is audited as one
/// entry naming every patient shown.
pub async fn worklist(
    store: &dyn Store,
    ctx: &Ctx,
    cfg: &MeasuresConfig,
    tz: &jiff::tz::TimeZone,
    page: PageRequest,
) -> AppResult<Page<(Patient, Vec<DueMeasure>)>> {
    require(store, ctx, Permission::MeasureRead, "measures", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    let shown = page.slice(due_list(&mut tx, ctx, cfg, tz).await?);
    let ids: Vec<PatientId> = shown.items.iter().map(|(p, _)| *p).collect();
    let patients = tx.patients_by_ids(&ids).await?;
    tx.commit().await?;
    audit_list_view(store, ctx, "measures", &ids).await?;
    let mut out = Vec::with_capacity(shown.items.len());
    for (id, due) in shown.items {
        let p = patients.iter().find(|p| p.id == id).cloned().ok_or(AppError::NotFound("patient"))?;
        out.push((p, due));
    }
    Ok(Page { items: out, page: shown.page, size: shown.size, has_next: shown.has_next })
}
