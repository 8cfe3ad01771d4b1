//! Intake and eligibility pages: the intake form in sections, the eligibility summary
//! with the prescriber's sign-off, the same-day review list, the policy page and the
//! rule catalogue.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{Layout, local_time, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kat_app::AppError;
use kat_app::intake::{self, IntakeState, SignInput, StoredFinding};
use kat_core::FieldErrors;
use kat_core::eligibility::answers::{IntakeAnswers, Kind, Question, SECTIONS, section};
use kat_core::eligibility::medication::{DiazepamEquivalent, KnownDrug};
use kat_core::eligibility::{Coverage, RULES, TrdStatus, assess_trd};
use kat_core::ids::PatientId;
use kat_core::role::Permission;
use serde::Deserialize;
use std::collections::BTreeMap;

fn patient_id(raw: &str) -> Result<PatientId, AppError> {
    raw.parse::<PatientId>().map_err(|_| AppError::NotFound("patient"))
}

/// One input of the intake form.
pub struct QView {
    pub name: String,
    pub label: &'static str,
    pub hint: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(&'static str, &'static str)>,
    pub error: Option<String>,
}

impl QView {
    fn new(q: &Question, name: String, answers: &IntakeAnswers, errors: &FieldErrors) -> Self {
        let (kind, options): (&'static str, Vec<(&'static str, &'static str)>) = match q.kind {
            Kind::YesNo => ("select", vec![("yes", "Yes"), ("no", "No")]),
            Kind::Choice(o) => ("select", o.to_vec()),
            Kind::Check => ("check", vec![]),
            Kind::Date => ("date", vec![]),
            Kind::Number => ("number", vec![]),
            Kind::Text | Kind::BloodPressure => ("text", vec![]),
            Kind::Lines => ("textarea", vec![]),
            Kind::Phone => ("tel", vec![]),
        };
        Self {
            error: errors.for_field(&name).map(str::to_string),
            value: answers.get(&name).to_string(),
            name,
            label: q.label,
            hint: q.hint,
            kind,
            options,
        }
    }
}

pub struct SectionLink {
    pub id: &'static str,
    pub title: &'static str,
    pub current: bool,
}

pub struct Computed {
    pub label: &'static str,
    pub value: String,
    pub rule: &'static str,
}

#[derive(Template)]
#[template(path = "intake/form.html")]
struct FormPage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    mrn: String,
    sections: Vec<SectionLink>,
    section_id: &'static str,
    section_title: &'static str,
    section_rules: &'static str,
    questions: Vec<QView>,
    row_headers: Vec<&'static str>,
    rows: Vec<Vec<QView>>,
    /// Medication rows: the interaction classes kat applies to each drug (DDI-001–010).
    row_classes: Vec<String>,
    next_section: Option<&'static str>,
    /// (field, label, message)
    errors: Vec<(String, String, String)>,
    saved: bool,
    status: String,
    version: String,
    computed: Vec<Computed>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FormQuery {
    section: String,
    saved: Option<String>,
}

fn status_label(s: &str) -> &'static str {
    match s {
        "excluded" => "Excluded (hard stop)",
        "incomplete" => "Incomplete",
        "needs_review" => "Needs prescriber review",
        "eligible" => "Eligible",
        _ => "Not yet screened",
    }
}

fn computed(answers: &IntakeAnswers, state: &IntakeState) -> Vec<Computed> {
    let mut out = Vec::new();
    let Ok(intake) = answers.parse(Some(state.patient.demographics.birth_date)) else { return out };
    let trd = match intake.prior_antidepressant_trials.as_deref() {
        Some(trials) => {
            let a = assess_trd(trials, &state.policy.policy);
            let s = match a.status {
                TrdStatus::Met => "met",
                TrdStatus::NotMet => "not met",
                TrdStatus::Undetermined => "undetermined",
            };
            format!(
                "{s}: {} adequate failed trial(s) in the current episode, {} undetermined",
                a.adequate_failed_trials, a.undetermined_trials
            )
        }
        None => "not yet answered".into(),
    };
    out.push(Computed { label: "Treatment resistance", value: trd, rule: "IND-005" });
    let dz = match intake.medications.as_deref() {
        Some(meds) => match kat_core::eligibility::medication::diazepam_equivalent(
            meds,
            &state.policy.policy.benzodiazepine_equivalents,
        ) {
            DiazepamEquivalent::NoBenzodiazepine => "no benzodiazepine".into(),
            DiazepamEquivalent::Computed { mg_per_day } => format!("{mg_per_day:.1} mg/day"),
            DiazepamEquivalent::Uncomputable { partial_mg_per_day, missing_dose, no_factor } => format!(
                "cannot be computed (at least {partial_mg_per_day:.1} mg/day; dose missing: {}; no conversion factor: {})",
                if missing_dose.is_empty() { "none".into() } else { missing_dose.join(", ") },
                if no_factor.is_empty() { "none".into() } else { no_factor.join(", ") }
            ),
        },
        None => "not yet answered".into(),
    };
    out.push(Computed { label: "Diazepam equivalent", value: dz, rule: "DDI-004" });
    let bmi = intake
        .vitals
        .bmi()
        .map(|b| format!("{:.1} kg/m²", b.get()))
        .unwrap_or_else(|| "needs weight and height".into());
    out.push(Computed { label: "BMI", value: bmi, rule: "PRE-003" });
    out
}

/// The interaction classes of medication row `i` as kat reads them: a drug it knows
/// by name brings its own classes; another drug has the class chosen on the row.
fn medication_classes(answers: &IntakeAnswers, i: usize) -> String {
    let name = answers.get(&format!("med{i}_name")).trim();
    if name.is_empty() {
        return String::new();
    }
    match KnownDrug::from_name(name) {
        Some(d) if d.classes().is_empty() => "none relevant to ketamine".into(),
        Some(d) => d.classes().iter().map(|c| c.label()).collect::<Vec<_>>().join(", "),
        None if answers.get(&format!("med{i}_class")).trim().is_empty() => "not known to kat: choose its class".into(),
        None => "as chosen (not known to kat)".into(),
    }
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    st: &IntakeState,
    section_id: &str,
    answers: &IntakeAnswers,
    errors: &FieldErrors,
    saved: bool,
) -> Result<FormPage, AppError> {
    let sec = section(section_id).ok_or(AppError::NotFound("intake section"))?;
    let idx = SECTIONS.iter().position(|s| s.id == sec.id).unwrap_or(0);
    let questions: Vec<QView> =
        sec.questions.iter().map(|q| QView::new(q, q.name.to_string(), answers, errors)).collect();
    let (row_headers, rows) = match &sec.rows {
        Some(g) => (
            g.columns.iter().map(|c| c.label).collect(),
            (1..=g.rows)
                .map(|i| {
                    g.columns
                        .iter()
                        .map(|c| QView::new(c, format!("{}{i}_{}", g.prefix, c.name), answers, errors))
                        .collect()
                })
                .collect(),
        ),
        None => (vec![], vec![]),
    };
    let rows: Vec<Vec<QView>> = rows;
    let row_classes = match &sec.rows {
        Some(g) if sec.id == "medications" => (1..=g.rows).map(|i| medication_classes(answers, i)).collect(),
        _ => Vec::new(),
    };
    let label_of = |field: &str| -> String {
        if let Some(q) = questions.iter().find(|q| q.name == field) {
            return q.label.to_string();
        }
        for (i, row) in rows.iter().enumerate() {
            if let Some(q) = row.iter().find(|q| q.name == field) {
                return format!("Row {}: {}", i + 1, q.label);
            }
        }
        field.to_string()
    };
    let error_list = errors.iter().map(|e| (e.field.clone(), label_of(&e.field), e.message.clone())).collect();
    Ok(FormPage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        patient_id: st.patient.id.to_string(),
        patient_name: st.patient.demographics.sort_name(),
        mrn: st.patient.mrn.to_string(),
        sections: SECTIONS.iter().map(|s| SectionLink { id: s.id, title: s.title, current: s.id == sec.id }).collect(),
        section_id: sec.id,
        section_title: sec.title,
        section_rules: sec.rules,
        questions,
        row_headers,
        rows,
        row_classes,
        next_section: SECTIONS.get(idx + 1).map(|s| s.id),
        errors: error_list,
        saved,
        status: status_label(st.evaluation.as_ref().map(|(e, _)| e.status.as_str()).unwrap_or("")).into(),
        version: st
            .intake
            .as_ref()
            .map(|i| format!("version {}{}", i.version, if i.complete { ", marked complete" } else { ", draft" }))
            .unwrap_or_else(|| "nothing saved yet".into()),
        computed: computed(answers, st),
    })
}

pub async fn form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<FormQuery>,
) -> Result<Response, PageError> {
    let id = patient_id(&id).map_err(|e| staff.fail(e))?;
    let st = intake::state(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    let answers = st.intake.as_ref().map(|i| i.answers.clone()).unwrap_or_default();
    let sid = if q.section.is_empty() { SECTIONS[0].id } else { q.section.as_str() };
    let page = form_page(&state, &staff, &st, sid, &answers, &FieldErrors::new(), q.saved.is_some())
        .map_err(|e| staff.fail(e))?;
    Ok(render(&page))
}

pub struct HistoryRow {
    pub version: i64,
    pub saved_at: String,
    pub saved_by: String,
    pub section: String,
    pub complete: bool,
}

#[derive(Template)]
#[template(path = "intake/history.html")]
struct HistoryPage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    mrn: String,
    rows: Vec<HistoryRow>,
}

/// Every saved version of the intake: who saved which section when (audited read).
pub async fn history(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = patient_id(&id).map_err(|e| staff.fail(e))?;
    let st = intake::state(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    let versions = intake::history(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    let names = kat_app::therapy::staff_names(state.store.as_ref()).await.map_err(|e| staff.fail(e))?;
    let rows = versions
        .into_iter()
        .map(|v| HistoryRow {
            version: v.version,
            saved_at: local_time(v.saved_at, &state.config.time_zone),
            saved_by: v
                .saved_by
                .map(|u| names.iter().find(|(id, _)| *id == u).map(|(_, n)| n.clone()).unwrap_or_else(|| u.to_string()))
                .unwrap_or_else(|| "kat".into()),
            section: section(&v.section).map(|s| s.title.to_string()).unwrap_or(v.section),
            complete: v.complete,
        })
        .collect();
    Ok(render(&HistoryPage {
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        patient_id: st.patient.id.to_string(),
        patient_name: st.patient.demographics.sort_name(),
        mrn: st.patient.mrn.to_string(),
        rows,
    }))
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, sid)): Path<(String, String)>,
    Form(mut body): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let id = patient_id(&id).map_err(|e| staff.fail(e))?;
    let action = body.remove("action").unwrap_or_default();
    let complete = action == "complete";
    match intake::save_section(state.store.as_ref(), &staff.ctx, id, &sid, &body, complete).await {
        Ok(_) => {
            let next = match action.as_str() {
                "next" => SECTIONS
                    .iter()
                    .position(|s| s.id == sid)
                    .and_then(|i| SECTIONS.get(i + 1))
                    .map(|s| s.id)
                    .unwrap_or(sid.as_str())
                    .to_string(),
                _ => sid.clone(),
            };
            if complete {
                return Ok(Redirect::to(&format!("/patients/{id}/eligibility")).into_response());
            }
            Ok(Redirect::to(&format!("/patients/{id}/intake?section={next}&saved=1")).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let st = intake::state(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
            // Re-show what was typed: the stored answers with this section replaced.
            let mut shown = st.intake.as_ref().map(|i| i.answers.clone()).unwrap_or_default();
            for (k, v) in &body {
                let _ = shown.set(k, v);
            }
            if let Some(sec) = section(&sid) {
                for n in sec.names() {
                    if !body.contains_key(&n) {
                        let _ = shown.set(&n, "");
                    }
                }
            }
            let page = form_page(&state, &staff, &st, &sid, &shown, &errors, false).map_err(|e| staff.fail(e))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

pub struct FindingView {
    pub rule: String,
    pub message: String,
    pub data: Vec<(String, String)>,
    pub reason: String,
    pub reason_error: Option<String>,
}

pub struct LevelGroup {
    pub key: &'static str,
    pub title: &'static str,
    pub icon: &'static str,
    pub findings: Vec<FindingView>,
}

#[derive(Template)]
#[template(path = "intake/eligibility.html")]
struct EligibilityPage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    mrn: String,
    has_evaluation: bool,
    status_key: String,
    status: String,
    evaluated_at: String,
    intake_version: i64,
    policy_version: i64,
    groups: Vec<LevelGroup>,
    missing: Vec<(String, String)>,
    same_day: bool,
    decision: Option<String>,
    decision_stale: bool,
    /// A signed decision is in force (not stale): the page leads with it and keeps the
    /// sign form folded away.
    decided: bool,
    /// The headline: the decision when one is in force, else the screen's status.
    headline: String,
    /// Its style: `accepted` / `declined`, else the screen status key.
    headline_key: String,
    can_sign: bool,
    is_medical_director: bool,
    evaluation_id: String,
    review_rules: Vec<FindingView>,
    errors: Vec<(String, String)>,
    chosen: String,
    override_reason: String,
    conflict: Option<String>,
}

fn group(findings: &[StoredFinding], reasons: &BTreeMap<String, String>, errors: &FieldErrors) -> Vec<LevelGroup> {
    [
        ("hard_stop", "Hard stops", "✖"),
        ("prescriber_review", "Prescriber review", "⚠"),
        ("information", "Information", "ℹ"),
    ]
    .into_iter()
    .map(|(key, title, icon)| LevelGroup {
        key,
        title,
        icon,
        findings: findings.iter().filter(|f| f.level == key).map(|f| finding_view(f, reasons, errors)).collect(),
    })
    .collect()
}

fn finding_view(f: &StoredFinding, reasons: &BTreeMap<String, String>, errors: &FieldErrors) -> FindingView {
    FindingView {
        rule: f.rule_id.clone(),
        message: f.message.clone(),
        data: f.data.iter().map(|d| (d.label.clone(), d.value.clone())).collect(),
        reason: reasons.get(&f.rule_id).cloned().unwrap_or_default(),
        reason_error: errors.for_field(&format!("reasons.{}", f.rule_id)).map(str::to_string),
    }
}

fn eligibility_page(
    state: &AppState,
    staff: &Staff,
    st: &IntakeState,
    input: &SignInput,
    errors: &FieldErrors,
    conflict: Option<String>,
) -> EligibilityPage {
    let tz = &state.config.time_zone;
    let (findings, missing, same_day) = match &st.evaluation {
        Some((_, s)) => (
            s.findings.clone(),
            s.missing.iter().map(|m| (m.field.clone(), m.rule_ids.join(", "))).collect(),
            s.same_day_review.is_some(),
        ),
        None => (vec![], vec![], false),
    };
    let mut seen = Vec::new();
    let review_rules = findings
        .iter()
        .filter(|f| f.level == "prescriber_review")
        .filter(|f| {
            let new = !seen.contains(&f.rule_id);
            seen.push(f.rule_id.clone());
            new
        })
        .map(|f| finding_view(f, &input.reasons, errors))
        .collect();
    EligibilityPage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        patient_id: st.patient.id.to_string(),
        patient_name: st.patient.demographics.sort_name(),
        mrn: st.patient.mrn.to_string(),
        has_evaluation: st.evaluation.is_some(),
        status_key: st.evaluation.as_ref().map(|(e, _)| e.status.clone()).unwrap_or_default(),
        status: status_label(st.evaluation.as_ref().map(|(e, _)| e.status.as_str()).unwrap_or("")).into(),
        evaluated_at: st.evaluation.as_ref().map(|(e, _)| local_time(e.evaluated_at, tz)).unwrap_or_default(),
        intake_version: st.evaluation.as_ref().map(|(e, _)| e.intake_version).unwrap_or(0),
        policy_version: st.evaluation.as_ref().map(|(e, _)| e.policy_version).unwrap_or(0),
        groups: group(&findings, &input.reasons, errors),
        missing,
        same_day: same_day || st.open_flag.is_some(),
        decision: st.decision.as_ref().map(|d| {
            format!(
                "{} on {}{}",
                if d.decision == "accept" { "Accepted" } else { "Declined" },
                local_time(d.signed_at, tz),
                if d.override_reason.is_some() { " with a medical-director override of a hard stop" } else { "" }
            )
        }),
        decision_stale: st.decision.as_ref().is_some_and(|d| d.stale),
        decided: st.decision.as_ref().is_some_and(|d| !d.stale),
        headline: match st.decision.as_ref().filter(|d| !d.stale) {
            Some(d) if d.decision == "accept" => "Accepted for treatment by the prescriber".into(),
            Some(_) => "Declined by the prescriber".into(),
            None => status_label(st.evaluation.as_ref().map(|(e, _)| e.status.as_str()).unwrap_or("")).into(),
        },
        headline_key: match st.decision.as_ref().filter(|d| !d.stale) {
            Some(d) if d.decision == "accept" => "accepted".into(),
            Some(_) => "declined".into(),
            None => st.evaluation.as_ref().map(|(e, _)| e.status.clone()).unwrap_or_default(),
        },
        can_sign: staff.principal.user.role.allows(Permission::EligibilitySign),
        is_medical_director: st.signer_is_medical_director,
        evaluation_id: st.evaluation.as_ref().map(|(e, _)| e.id.to_string()).unwrap_or_default(),
        review_rules,
        errors: errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect(),
        chosen: input.decision.clone(),
        override_reason: input.override_reason.clone(),
        conflict,
    }
}

pub async fn eligibility(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = patient_id(&id).map_err(|e| staff.fail(e))?;
    let st = intake::state(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    Ok(render(&eligibility_page(&state, &staff, &st, &SignInput::default(), &FieldErrors::new(), None)))
}

pub async fn sign(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(body): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let id = patient_id(&id).map_err(|e| staff.fail(e))?;
    let input = SignInput {
        evaluation_id: body.get("evaluation_id").cloned().unwrap_or_default(),
        decision: body.get("decision").cloned().unwrap_or_default(),
        reasons: body
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("reason_").map(|r| (r.to_string(), v.clone())))
            .collect(),
        override_reason: body.get("override_reason").cloned().unwrap_or_default(),
        reauth_code: body.get("reauth_code").cloned().unwrap_or_default(),
        reauth_password: String::new(),
    };
    match intake::sign(state.store.as_ref(), &staff.ctx, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{id}/eligibility")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let st = intake::state(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&eligibility_page(&state, &staff, &st, &input, &errors, None)),
            )
                .into_response())
        }
        Err(AppError::Conflict(message)) => {
            let st = intake::state(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
            Ok((
                StatusCode::CONFLICT,
                render(&eligibility_page(
                    &state,
                    &staff,
                    &st,
                    &SignInput::default(),
                    &FieldErrors::new(),
                    Some(message),
                )),
            )
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

pub struct FlagView {
    pub id: String,
    pub patient_id: String,
    pub name: String,
    pub mrn: String,
    pub raised_at: String,
    pub reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "intake/same_day.html")]
struct SameDayPage {
    layout: Layout,
    flags: Vec<FlagView>,
    error: Option<String>,
}

pub async fn same_day(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    same_day_page(&state, &staff, None, StatusCode::OK).await
}

async fn same_day_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let flags = intake::open_flags(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    let flags = flags
        .into_iter()
        .map(|f| FlagView {
            id: f.flag.id.to_string(),
            patient_id: f.patient.id.to_string(),
            name: f.patient.demographics.sort_name(),
            mrn: f.patient.mrn.to_string(),
            raised_at: local_time(f.flag.raised_at, tz),
            reasons: f.reasons,
        })
        .collect();
    let mut layout = Layout::new(state, Some(&staff.principal), "same_day");
    // The list below already shows every open review.
    layout.same_day_open = 0;
    Ok((code, render(&SameDayPage { layout, flags, error })).into_response())
}

pub async fn dispose(
    State(state): State<AppState>,
    staff: Staff,
    Path(flag): Path<String>,
    Form(body): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let text = body.get("disposition").cloned().unwrap_or_default();
    match intake::dispose_flag(state.store.as_ref(), &staff.ctx, &flag, &text).await {
        Ok(()) => Ok(Redirect::to("/safety/same-day").into_response()),
        Err(AppError::Invalid(e)) => {
            let msg = e.iter().map(|f| format!("Disposition {}", f.message)).collect::<Vec<_>>().join("; ");
            same_day_page(&state, &staff, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(staff.fail(e)),
    }
}

#[derive(Template)]
#[template(path = "intake/policy.html")]
struct PolicyPage {
    layout: Layout,
    version: i64,
    label: String,
    created_at: String,
    sections: Vec<super::policy_form::SectionView>,
    /// Every error, for the summary above the form.
    errors: Vec<String>,
    saved: bool,
    can_edit: bool,
    history: Vec<PolicyHistoryRow>,
}

pub struct PolicyHistoryRow {
    pub version: i64,
    pub label: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn policy_page(
    state: &AppState,
    staff: &Staff,
    typed: Option<&[(String, String)]>,
    errors: &FieldErrors,
    saved: bool,
) -> Result<PolicyPage, PageError> {
    let p = intake::policy(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let history = intake::policy_history(state.store.as_ref(), &staff.ctx)
        .await
        .map_err(|e| staff.fail(e))?
        .into_iter()
        .map(|h| PolicyHistoryRow {
            version: h.version,
            label: h.label,
            created_at: local_time(h.created_at, &state.config.time_zone),
            created_by: h.created_by.unwrap_or_else(|| "kat (specification defaults)".into()),
        })
        .collect();
    Ok(PolicyPage {
        layout: Layout::new(state, Some(&staff.principal), "policy"),
        version: p.version,
        label: p.policy.version.to_string(),
        created_at: local_time(p.created_at, &state.config.time_zone),
        sections: super::policy_form::sections(&p.policy, typed, errors),
        errors: errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
        saved,
        can_edit: staff.principal.user.role.allows(Permission::PolicyManage),
        history,
    })
}

pub async fn policy(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let page = policy_page(&state, &staff, None, &FieldErrors::new(), q.saved.is_some()).await?;
    Ok(render(&page))
}

/// Saves the policy form as a new version; on an invalid value the form comes back
/// (422) with each field's message and nothing is saved.
pub async fn save_policy(
    State(state): State<AppState>,
    staff: Staff,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let result =
        intake::save_policy_with(state.store.as_ref(), &staff.ctx, |current| super::policy_form::parse(current, &body))
            .await;
    match result {
        Ok(_) => Ok(Redirect::to("/admin/policy?saved=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = policy_page(&state, &staff, Some(&body), &errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

pub struct RuleView {
    pub id: &'static str,
    pub title: &'static str,
    pub tag: &'static str,
    pub evaluated: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "intake/rules.html")]
struct RulesPage {
    layout: Layout,
    rules: Vec<RuleView>,
}

/// The §1 rule catalogue: which rules the screen evaluates, and why the rest cannot be.
pub async fn rules(State(state): State<AppState>, staff: Staff) -> Response {
    let rules = RULES
        .iter()
        .map(|r| match r.coverage {
            Coverage::Evaluated { limits, .. } => RuleView {
                id: r.id,
                title: r.title,
                tag: r.tag,
                evaluated: true,
                note: limits.unwrap_or("").to_string(),
            },
            Coverage::NotFromIntake { reason } => {
                RuleView { id: r.id, title: r.title, tag: r.tag, evaluated: false, note: reason.to_string() }
            }
        })
        .collect();
    render(&RulesPage { layout: Layout::new(&state, Some(&staff.principal), "rules"), rules })
}
