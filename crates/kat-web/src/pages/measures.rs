//! Measurement-based-care pages: the measures section of a patient, entering answers,
//! self-report links, the patient's self-report page (`/r/{token}`, no sign-in),
//! safety alerts and their acknowledgement, and the due/overdue worklist.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::middleware::RequestMeta;
use crate::view::{Layout, Pager, local_time, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use jiff::Timestamp;
use kat_app::measures::{self as uc, LinkState, PatientMeasures, Submitted};
use kat_app::{Actor, AppError, Ctx};
use kat_core::FieldErrors;
use kat_core::ids::{AlertId, PatientId};
use kat_core::instruments::outcome::Threshold;
use kat_core::instruments::{Instrument, ItemTextOverrides, TextLicence};
use kat_core::measures::{AcknowledgeForm, AlertAction, DueStatus, PlanForm, point_label};
use kat_core::page::PageRequest;
use kat_core::role::Permission;
use kat_store::measures::{ResponseRecord, SafetyAlert};
use serde::Deserialize;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/measures", post(record))
        .route("/patients/{id}/measures/new", get(enter_form))
        .route("/patients/{id}/measures/link", post(create_link))
        .route("/patients/{id}/measures/plan", get(plan_form).post(save_plan))
        .route("/alerts", get(alerts))
        .route("/alerts/{id}", get(alert_form).post(acknowledge))
        .route("/measures/worklist", get(worklist))
        .route("/r/{token}", get(self_report_form).post(self_report_submit))
}

fn instrument_name(i: Instrument) -> &'static str {
    i.def().abbreviation
}

fn parse_instrument(raw: &str) -> Option<Instrument> {
    Instrument::ALL.into_iter().find(|i| i.as_str() == raw.trim())
}

fn band_label(band: &str) -> String {
    let s = band.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

// ---------------------------------------------------------------------------------
// The measures section on the patient page

pub struct ResponseView {
    pub when: String,
    pub instrument: &'static str,
    pub total: String,
    pub band: String,
    pub complete: bool,
    pub missing: String,
    pub source: &'static str,
    pub flags: Vec<String>,
}

pub struct OutcomeView {
    pub instrument: &'static str,
    pub baseline: String,
    pub latest: String,
    pub change: String,
    pub percent: String,
    pub response: String,
    pub response_def: String,
    pub remission: String,
    pub remission_def: String,
    pub mcid: String,
    pub mcid_def: String,
    pub relapse: String,
    pub relapse_def: String,
}

pub struct DueView {
    pub instrument: &'static str,
    pub point: String,
    pub due_on: String,
    pub overdue: bool,
}

pub struct AlertRowView {
    pub id: String,
    pub kind: &'static str,
    pub raised: String,
    pub open: bool,
    pub action: String,
}

/// What `patients/show.html` includes for the measures section.
pub struct MeasuresSection {
    pub patient_id: String,
    pub can_read: bool,
    pub can_enter: bool,
    pub can_send_link: bool,
    pub charts: Vec<String>,
    pub latest: Vec<ResponseView>,
    pub history: Vec<ResponseView>,
    pub outcomes: Vec<OutcomeView>,
    pub due: Vec<DueView>,
    pub alerts: Vec<AlertRowView>,
    pub plan: String,
    pub enterable: Vec<(&'static str, &'static str)>,
    pub self_reportable: Vec<(&'static str, &'static str, bool)>,
}

pub(super) fn response_view(r: &ResponseRecord, tz: &jiff::tz::TimeZone) -> ResponseView {
    let missing = match r.response.completeness() {
        kat_core::instruments::Completeness::Complete => String::new(),
        kat_core::instruments::Completeness::Incomplete { missing } => missing.join(", "),
    };
    ResponseView {
        when: local_time(r.collected_at, tz),
        instrument: instrument_name(r.response.instrument()),
        total: r.total.map(|t| t.to_string()).unwrap_or_else(|| "—".into()),
        band: r
            .band
            .as_deref()
            .map(band_label)
            .unwrap_or_else(|| if r.complete { "—".into() } else { "Incomplete: not scored".into() }),
        complete: r.complete,
        missing,
        source: r.source.label(),
        flags: r
            .flags
            .iter()
            .map(|f| match f.as_str() {
                "suicidal_ideation" => "Item 9 above 0: suicide-risk review (SUI-001)".to_string(),
                "safety_item_missing" => "Safety item unanswered: ask it again; not counted as 0".to_string(),
                "cssrs_high_risk" => "C-SSRS high risk (SUI-003)".to_string(),
                "risk_behaviour_review" => "PCL-5 item 16: review risk behaviour (local policy)".to_string(),
                other => other.to_string(),
            })
            .collect(),
    }
}

fn yes_no(met: bool) -> String {
    if met { "Yes".into() } else { "No".into() }
}

pub fn section(state: &AppState, staff: &Staff, patient: PatientId, m: Option<&PatientMeasures>) -> MeasuresSection {
    let role = staff.principal.user.role;
    let tz = &state.config.time_zone;
    let mut s = MeasuresSection {
        patient_id: patient.to_string(),
        can_read: role.allows(Permission::MeasureRead),
        can_enter: role.allows(Permission::MeasureEnter),
        can_send_link: role.allows(Permission::MeasureLinkSend),
        charts: Vec::new(),
        latest: Vec::new(),
        history: Vec::new(),
        outcomes: Vec::new(),
        due: Vec::new(),
        alerts: Vec::new(),
        plan: String::new(),
        enterable: uc::ENTERABLE.iter().map(|i| (i.as_str(), instrument_name(*i))).collect(),
        self_reportable: uc::SELF_REPORTABLE
            .iter()
            .map(|i| (i.as_str(), instrument_name(*i), matches!(i, Instrument::Phq9 | Instrument::Gad7)))
            .collect(),
    };
    let Some(m) = m else { return s };
    for series in &m.series {
        if let Some(last) = series.responses.last() {
            s.latest.push(response_view(last, tz));
        }
        for r in series.responses.iter().rev() {
            s.history.push(response_view(r, tz));
        }
        if let Some(o) = &series.outcome {
            let def = |d: &kat_core::instruments::outcome::Definition| format!("{} ({})", d.describe(), d.source);
            s.outcomes.push(OutcomeView {
                instrument: instrument_name(series.instrument),
                baseline: format!("{} ({})", o.baseline.total, local_time(o.baseline.at, tz)),
                latest: format!("{} ({})", o.latest.total, local_time(o.latest.at, tz)),
                change: format!("{:+}", o.points),
                percent: o.percent.map(|p| format!("{p:+.0}%")).unwrap_or_else(|| "— (baseline 0)".into()),
                response: yes_no(o.response.met),
                response_def: def(&o.response.definition),
                remission: o.remission.as_ref().map(|r| yes_no(r.met)).unwrap_or_else(|| "Not defined".into()),
                remission_def: o.remission.as_ref().map(|r| def(&r.definition)).unwrap_or_else(|| "The spec defines no remission for this scale".into()),
                mcid: o.mcid.as_ref().map(|r| yes_no(r.met)).unwrap_or_else(|| "Not defined".into()),
                mcid_def: o.mcid.as_ref().map(|r| def(&r.definition)).unwrap_or_default(),
                relapse: match o.relapse.status {
                    kat_core::instruments::outcome::RelapseStatus::NoPriorResponse => "No response yet".into(),
                    kat_core::instruments::outcome::RelapseStatus::NoRelapse => "No".into(),
                    kat_core::instruments::outcome::RelapseStatus::Unconfirmed { since } => {
                        format!("Possible since {}: re-assess to confirm", local_time(since, tz))
                    }
                    kat_core::instruments::outcome::RelapseStatus::Relapse { at, .. } => {
                        format!("Relapse ({})", local_time(at, tz))
                    }
                },
                relapse_def: {
                    let d = &o.relapse.definition;
                    let moderate = d.moderate_at_least.map(|m| format!(" or total ≥ {m}")).unwrap_or_default();
                    format!(
                        "{} {}: after a response, loss of response ({}){moderate}, confirmed on 2 assessments ≥ {} days apart",
                        d.rule,
                        d.evidence,
                        d.response.describe(),
                        d.confirm_min_days_apart
                    )
                },
            });
        }
        if let Some(svg) = chart::render(state, series.instrument, &series.responses, series.outcome.as_ref(), &m.doses)
        {
            s.charts.push(svg);
        }
    }
    s.due = m
        .due
        .iter()
        .map(|d| DueView {
            instrument: instrument_name(d.instrument),
            point: point_label(&d.point),
            due_on: d.due_on.to_string(),
            overdue: d.status == DueStatus::Overdue,
        })
        .collect();
    s.alerts = m.alerts.iter().map(|a| alert_row(a, tz)).collect();
    s.plan = match &m.plan {
        None => "No measurement plan yet: set the baseline date to start the OUT-002 schedule.".into(),
        Some(p) => {
            let a = &p.anchors;
            format!(
                "Baseline {} · doses: {} · end of induction: {} · PCL-5: {}",
                a.baseline,
                if a.dose_dates.is_empty() {
                    "none yet".to_string()
                } else {
                    a.dose_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
                },
                a.end_of_induction.map(|d| d.to_string()).unwrap_or_else(|| "not set".into()),
                if a.include_pcl5 { "included" } else { "not indicated" },
            )
        }
    };
    s
}

fn alert_row(a: &SafetyAlert, tz: &jiff::tz::TimeZone) -> AlertRowView {
    AlertRowView {
        id: a.id.to_string(),
        kind: a.kind.label(),
        raised: local_time(a.raised_at, tz),
        open: a.acknowledged_at.is_none(),
        action: match (a.action, a.acknowledged_at) {
            (Some(x), Some(at)) => format!("{} ({})", x.label(), local_time(at, tz)),
            _ => String::new(),
        },
    }
}

/// Loads the section for the patient page (only what the role may see).
pub async fn load_section(state: &AppState, staff: &Staff, patient: PatientId) -> Result<MeasuresSection, PageError> {
    let role = staff.principal.user.role;
    let m = if role.allows(Permission::MeasureRead) {
        Some(
            uc::patient_overview(
                state.store.as_ref(),
                &staff.ctx,
                &state.config.measures,
                &state.config.time_zone,
                patient,
            )
            .await
            .map_err(|e| staff.fail(e))?,
        )
    } else {
        None
    };
    Ok(section(state, staff, patient, m.as_ref()))
}

fn parse_patient(staff: &Staff, raw: &str) -> Result<PatientId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("patient")))
}

// ---------------------------------------------------------------------------------
// Entering answers (clinician)

pub struct OptionView {
    pub value: String,
    pub label: &'static str,
    pub checked: bool,
}

pub struct ItemView {
    pub name: String,
    pub number: &'static str,
    pub text: String,
    pub options: Vec<OptionView>,
    pub error: Option<String>,
    pub optional: bool,
}

pub struct InstrumentView {
    pub key: &'static str,
    pub name: &'static str,
    pub stem: String,
    pub note: &'static str,
    pub copyright: &'static str,
    pub items: Vec<ItemView>,
}

pub(crate) fn instrument_view(
    instrument: Instrument,
    texts: &ItemTextOverrides,
    prefix: &str,
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> InstrumentView {
    let def = instrument.def();
    // Licensed wording loaded by the clinic replaces the construct labels (instruments.md §1).
    let licensed = def.items.iter().any(|item| texts.item_text(instrument, item) != item.text.as_str());
    let items = def
        .items
        .iter()
        .map(|item| {
            let name = format!("{prefix}{}", item.label);
            let current = values.get(&name).cloned().unwrap_or_default();
            let options: Vec<OptionView> = if item.options.is_empty() {
                match item.answer {
                    kat_core::instruments::AnswerKind::YesNo => vec![
                        OptionView { value: "1".into(), label: "Yes", checked: current == "1" },
                        OptionView { value: "0".into(), label: "No", checked: current == "0" },
                    ],
                    kat_core::instruments::AnswerKind::Ordinal { min, max } => (min..=max)
                        .map(|v| OptionView { value: v.to_string(), label: "", checked: current == v.to_string() })
                        .collect(),
                }
            } else {
                item.options
                    .iter()
                    .map(|o| OptionView {
                        value: o.value.to_string(),
                        label: o.display,
                        checked: current == o.value.to_string(),
                    })
                    .collect()
            };
            ItemView {
                error: errors.for_field(&name).map(str::to_string),
                name,
                number: item.label,
                text: texts.item_text(instrument, item).to_string(),
                options,
                optional: !item.required,
            }
        })
        .collect();
    InstrumentView {
        key: instrument.as_str(),
        name: def.name,
        stem: texts.stem(instrument).unwrap_or("").to_string(),
        note: match def.text_licence {
            TextLicence::Verbatim => "",
            TextLicence::ConstructLabelsOnly if licensed => {
                "Licensed wording loaded by your clinic (measures.cssrs_text_file), shown under the clinic's licence; kat itself ships construct labels only."
            }
            TextLicence::ConstructLabelsOnly => {
                "Construct labels only: ask the licensed questions from your clinic's licensed form (the wording cannot ship here)."
            }
            TextLicence::Paraphrased => "Paraphrased anchors.",
        },
        copyright: def.copyright,
        items,
    }
}

#[derive(Template)]
#[template(path = "measures/enter.html")]
struct EnterPage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    form: InstrumentView,
    has_errors: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct EnterQuery {
    instrument: String,
}

async fn patient_name(state: &AppState, staff: &Staff, id: PatientId) -> Result<String, PageError> {
    let p = kat_app::patients::get(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    Ok(format!("{} · {}", p.demographics.full_name(), p.mrn))
}

pub async fn enter_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<EnterQuery>,
) -> Result<Response, PageError> {
    let id = parse_patient(&staff, &raw)?;
    if !staff.principal.user.role.allows(Permission::MeasureEnter) {
        kat_app::record_denial(
            state.store.as_ref(),
            &staff.ctx,
            kat_core::audit::AuditAction::Create,
            "measure_response",
            None,
            Some(id),
        )
        .await
        .map_err(|e| staff.fail(e))?;
        return Err(staff.fail(AppError::Forbidden));
    }
    let instrument = parse_instrument(&q.instrument).filter(|i| uc::ENTERABLE.contains(i)).unwrap_or(Instrument::Phq9);
    let name = patient_name(&state, &staff, id).await?;
    Ok(render(&EnterPage {
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        patient_id: id.to_string(),
        patient_name: name,
        form: instrument_view(
            instrument,
            &state.config.measures.item_texts,
            "item_",
            &HashMap::new(),
            &FieldErrors::new(),
        ),
        has_errors: false,
    }))
}

fn answers_from(instrument: Instrument, prefix: &str, form: &HashMap<String, String>) -> Vec<Option<String>> {
    instrument
        .def()
        .items
        .iter()
        .map(|item| form.get(&format!("{prefix}{}", item.label)).filter(|v| !v.trim().is_empty()).cloned())
        .collect()
}

pub async fn record(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let id = parse_patient(&staff, &raw)?;
    let instrument = form
        .get("instrument")
        .and_then(|s| parse_instrument(s))
        .ok_or_else(|| staff.fail(AppError::Invalid(FieldErrors::single("instrument", "is unknown"))))?;
    let answers = answers_from(instrument, "item_", &form);
    match uc::record_response(state.store.as_ref(), &staff.ctx, &state.config.measures, id, instrument, &answers, None)
        .await
    {
        Ok(r) => {
            let flag = if r.alerts.is_empty() { "" } else { "&alert=1" };
            let saved = if r.record.complete { "complete" } else { "incomplete" };
            Ok(Redirect::to(&format!("/patients/{id}?measure={saved}{flag}#measures")).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let name = patient_name(&state, &staff, id).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&EnterPage {
                    layout: Layout::new(&state, Some(&staff.principal), "patients"),
                    patient_id: id.to_string(),
                    patient_name: name,
                    form: instrument_view(instrument, &state.config.measures.item_texts, "item_", &form, &errors),
                    has_errors: true,
                }),
            )
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

// ---------------------------------------------------------------------------------
// Self-report links

#[derive(Template)]
#[template(path = "measures/link_created.html")]
struct LinkCreatedPage {
    layout: Layout,
    patient_id: String,
    url: String,
    expires: String,
    instruments: String,
}

pub async fn create_link(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    headers: axum::http::HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = parse_patient(&staff, &raw)?;
    let mut instruments = Vec::new();
    for (k, v) in &form {
        if k == "instrument" {
            match parse_instrument(v) {
                Some(i) => instruments.push(i),
                None => {
                    return Err(
                        staff.fail(AppError::Invalid(FieldErrors::single("instruments", "unknown questionnaire")))
                    );
                }
            }
        }
    }
    let (link, token) = uc::create_link(state.store.as_ref(), &staff.ctx, &state.config.measures, id, &instruments)
        .await
        .map_err(|e| staff.fail(e))?;
    // The link is built from the address staff used to reach kat (a reverse proxy
    // must pass the public Host).
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let origin = format!("{}://{host}", if staff.meta.tls { "https" } else { "http" });
    Ok(render(&LinkCreatedPage {
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        patient_id: id.to_string(),
        url: format!("{origin}/r/{token}"),
        expires: local_time(link.expires_at, &state.config.time_zone),
        instruments: link.instruments.iter().map(|i| instrument_name(*i)).collect::<Vec<_>>().join(", "),
    }))
}

#[derive(Template)]
#[template(path = "measures/self_report.html")]
struct SelfReportPage {
    layout: Layout,
    token: String,
    forms: Vec<InstrumentView>,
    has_errors: bool,
    /// Unanswered questions the patient is asked to confirm before sending.
    skipped: Vec<SkippedView>,
    /// PHQ-9 question 9 (thoughts of self-harm) is among them: asked about on its own.
    skipped_phq9_item9: bool,
    crisis_text: String,
}

/// One questionnaire's unanswered questions, for the confirmation notice.
struct SkippedView {
    name: &'static str,
    numbers: String,
}

#[derive(Template)]
#[template(path = "measures/self_report_done.html")]
struct SelfReportDone {
    layout: Layout,
    title: &'static str,
    message: &'static str,
    thanks: bool,
    crisis_text: String,
}

fn anonymous_ctx(state: &AppState, meta: &RequestMeta) -> Ctx {
    Ctx::new(
        Actor::Anonymous,
        meta.remote_addr.clone(),
        meta.request_id.clone(),
        state.clock.now(),
        &state.config.time_zone,
    )
    .with_throttle(state.config.sign_in)
}

fn closed_page(state: &AppState, s: &LinkState) -> Response {
    let (title, message) = match s {
        LinkState::Used => (
            "This questionnaire has already been sent",
            "Thank you: your answers from this link were received. Each link works once. If you need to change an answer, please tell your care team.",
        ),
        LinkState::Expired => (
            "This link has expired",
            "For your privacy, questionnaire links stop working after a while. Please ask the clinic for a new link.",
        ),
        _ => {
            ("This link does not work", "Please check that you copied the whole link, or ask the clinic for a new one.")
        }
    };
    (
        StatusCode::GONE,
        render(&SelfReportDone {
            layout: Layout::new(state, None, "self_report"),
            title,
            message,
            thanks: false,
            crisis_text: state.config.measures.crisis_text.clone(),
        }),
    )
        .into_response()
}

fn internal(e: AppError, meta: &RequestMeta) -> PageError {
    PageError { error: e, request_id: meta.request_id.clone(), login_next: None }
}

pub async fn self_report_form(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let ctx = anonymous_ctx(&state, &meta);
    match uc::open_link(state.store.as_ref(), &ctx, &token).await.map_err(|e| internal(e, &meta))? {
        LinkState::Open(link) => Ok(render(&SelfReportPage {
            layout: Layout::new(&state, None, "self_report"),
            token,
            forms: link
                .instruments
                .iter()
                .map(|i| {
                    instrument_view(
                        *i,
                        &state.config.measures.item_texts,
                        &format!("{}_", i.as_str()),
                        &HashMap::new(),
                        &FieldErrors::new(),
                    )
                })
                .collect(),
            has_errors: false,
            skipped: Vec::new(),
            skipped_phq9_item9: false,
            crisis_text: state.config.measures.crisis_text.clone(),
        })),
        other => Ok(closed_page(&state, &other)),
    }
}

pub async fn self_report_submit(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let ctx = anonymous_ctx(&state, &meta);
    let answers: uc::SelfReportAnswers =
        uc::SELF_REPORTABLE.iter().map(|i| (*i, answers_from(*i, &format!("{}_", i.as_str()), &form))).collect();
    let confirmed = form.get("confirm_skipped").is_some_and(|v| v == "yes");
    match uc::submit_self_report(state.store.as_ref(), &ctx, &state.config.measures, &token, &answers, confirmed).await
    {
        Ok(Submitted::Saved(_)) => Ok(render(&SelfReportDone {
            layout: Layout::new(&state, None, "self_report"),
            title: "Thank you: your answers were sent",
            message: "Your care team will look at them before your next visit. You can close this page.",
            thanks: true,
            crisis_text: state.config.measures.crisis_text.clone(),
        })),
        Ok(Submitted::Closed(s)) => Ok(closed_page(&state, &s)),
        Ok(Submitted::ConfirmSkipped(skipped)) => {
            // The unanswered questions are marked on the form, which keeps every answer
            // given; nothing was saved and the link is still open.
            let mut marks = FieldErrors::new();
            for (instrument, labels) in &skipped {
                for label in labels {
                    marks.add(format!("{}_{label}", instrument.as_str()), "is not answered yet");
                }
            }
            let views = skipped
                .iter()
                .map(|(i, labels)| SkippedView { name: instrument_name(*i), numbers: labels.join(", ") })
                .collect();
            let item9 = skipped.iter().any(|(i, labels)| *i == Instrument::Phq9 && labels.contains(&"9"));
            reopen(&state, &meta, token, &form, &marks, StatusCode::OK, views, item9).await
        }
        Err(AppError::Invalid(errors)) => {
            reopen(&state, &meta, token, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), false).await
        }
        Err(e) => Err(internal(e, &meta)),
    }
}

/// The self-report form again, with the patient's answers kept and `marks` on items.
#[allow(clippy::too_many_arguments)]
async fn reopen(
    state: &AppState,
    meta: &RequestMeta,
    token: String,
    form: &HashMap<String, String>,
    marks: &FieldErrors,
    status: StatusCode,
    skipped: Vec<SkippedView>,
    skipped_phq9_item9: bool,
) -> Result<Response, PageError> {
    let ctx = anonymous_ctx(state, meta);
    match uc::open_link(state.store.as_ref(), &ctx, &token).await.map_err(|e| internal(e, meta))? {
        LinkState::Open(link) => Ok((
            status,
            render(&SelfReportPage {
                layout: Layout::new(state, None, "self_report"),
                token,
                forms: link
                    .instruments
                    .iter()
                    .map(|i| {
                        instrument_view(*i, &state.config.measures.item_texts, &format!("{}_", i.as_str()), form, marks)
                    })
                    .collect(),
                has_errors: skipped.is_empty(),
                skipped,
                skipped_phq9_item9,
                crisis_text: state.config.measures.crisis_text.clone(),
            }),
        )
            .into_response()),
        other => Ok(closed_page(state, &other)),
    }
}

// ---------------------------------------------------------------------------------
// Safety alerts

pub struct OpenAlertView {
    pub id: String,
    pub patient_id: String,
    pub patient: String,
    pub kind: &'static str,
    pub guidance: &'static str,
    pub raised: String,
}

#[derive(Template)]
#[template(path = "measures/alerts.html")]
struct AlertsPage {
    layout: Layout,
    alerts: Vec<OpenAlertView>,
    done: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn alerts(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let found = uc::open_alerts(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    Ok(render(&AlertsPage {
        layout: Layout::new(&state, Some(&staff.principal), "alerts"),
        alerts: found
            .iter()
            .map(|(a, p)| OpenAlertView {
                id: a.id.to_string(),
                patient_id: p.id.to_string(),
                patient: format!("{} · {}", p.demographics.full_name(), p.mrn),
                kind: a.kind.label(),
                guidance: a.kind.guidance(),
                raised: local_time(a.raised_at, tz),
            })
            .collect(),
        done: q.done.is_some(),
    }))
}

#[derive(Template)]
#[template(path = "measures/acknowledge.html")]
struct AcknowledgePage {
    layout: Layout,
    id: String,
    patient_id: String,
    patient: String,
    kind: &'static str,
    guidance: &'static str,
    rule: &'static str,
    raised: String,
    response: ResponseView,
    acknowledged: String,
    actions: Vec<(&'static str, &'static str, bool)>,
    note: String,
    action_error: Option<String>,
    note_error: Option<String>,
    conflict: Option<String>,
}

async fn ack_page(
    state: &AppState,
    staff: &Staff,
    id: AlertId,
    form: &AcknowledgeForm,
    errors: &FieldErrors,
    conflict: Option<String>,
) -> Result<AcknowledgePage, PageError> {
    let (a, p, r) = uc::get_alert(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    Ok(AcknowledgePage {
        layout: Layout::new(state, Some(&staff.principal), "alerts"),
        id: a.id.to_string(),
        patient_id: p.id.to_string(),
        patient: format!("{} · {}", p.demographics.full_name(), p.mrn),
        kind: a.kind.label(),
        guidance: a.kind.guidance(),
        rule: a.kind.rule(),
        raised: local_time(a.raised_at, tz),
        response: response_view(&r, tz),
        acknowledged: alert_row(&a, tz).action,
        actions: AlertAction::ALL.iter().map(|x| (x.as_str(), x.label(), form.action == x.as_str())).collect(),
        note: form.note.clone(),
        action_error: errors.for_field("action").map(str::to_string),
        note_error: errors.for_field("note").map(str::to_string),
        conflict,
    })
}

fn parse_alert(staff: &Staff, raw: &str) -> Result<AlertId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("safety alert")))
}

pub async fn alert_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_alert(&staff, &raw)?;
    Ok(render(&ack_page(&state, &staff, id, &AcknowledgeForm::default(), &FieldErrors::new(), None).await?))
}

pub async fn acknowledge(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<AcknowledgeForm>,
) -> Result<Response, PageError> {
    let id = parse_alert(&staff, &raw)?;
    match uc::acknowledge(state.store.as_ref(), &staff.ctx, id, &form).await {
        Ok(_) => Ok(Redirect::to("/alerts?done=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&ack_page(&state, &staff, id, &form, &errors, None).await?))
                .into_response())
        }
        Err(AppError::Conflict(m)) => Ok((
            StatusCode::CONFLICT,
            render(&ack_page(&state, &staff, id, &form, &FieldErrors::new(), Some(m)).await?),
        )
            .into_response()),
        Err(e) => Err(staff.fail(e)),
    }
}

// ---------------------------------------------------------------------------------
// Plan anchors

#[derive(Template)]
#[template(path = "measures/plan.html")]
struct PlanPage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    form: PlanForm,
    errors: Vec<(String, String)>,
    baseline_error: Option<String>,
    dose_error: Option<String>,
    end_error: Option<String>,
}

fn plan_page(
    state: &AppState,
    staff: &Staff,
    id: PatientId,
    name: String,
    form: PlanForm,
    errors: &FieldErrors,
) -> PlanPage {
    PlanPage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        patient_id: id.to_string(),
        patient_name: name,
        form,
        errors: errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect(),
        baseline_error: errors.for_field("baseline").map(str::to_string),
        dose_error: errors.for_field("dose_dates").map(str::to_string),
        end_error: errors.for_field("end_of_induction").map(str::to_string),
    }
}

pub async fn plan_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_patient(&staff, &raw)?;
    let m = uc::patient_overview(state.store.as_ref(), &staff.ctx, &state.config.measures, &state.config.time_zone, id)
        .await
        .map_err(|e| staff.fail(e))?;
    let form = m
        .plan
        .map(|p| PlanForm::from_anchors(&p.anchors))
        .unwrap_or_else(|| PlanForm { baseline: staff.ctx.today.to_string(), ..Default::default() });
    let name = patient_name(&state, &staff, id).await?;
    Ok(render(&plan_page(&state, &staff, id, name, form, &FieldErrors::new())))
}

pub async fn save_plan(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<PlanForm>,
) -> Result<Response, PageError> {
    let id = parse_patient(&staff, &raw)?;
    match uc::save_plan(state.store.as_ref(), &staff.ctx, id, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{id}?measure=plan#measures")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let name = patient_name(&state, &staff, id).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&plan_page(&state, &staff, id, name, form, &errors)))
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

// ---------------------------------------------------------------------------------
// Worklist

pub struct WorkRow {
    pub patient_id: String,
    pub patient: String,
    pub items: Vec<DueView>,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "measures/worklist.html")]
struct WorklistPage {
    layout: Layout,
    rows: Vec<WorkRow>,
    today: String,
    pager: Pager,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    page: Option<u32>,
}

pub async fn worklist(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let page = PageRequest::new(q.page, None, uc::WORKLIST_PAGE, uc::WORKLIST_PAGE);
    let found = uc::worklist(state.store.as_ref(), &staff.ctx, &state.config.measures, &state.config.time_zone, page)
        .await
        .map_err(|e| staff.fail(e))?;
    Ok(render(&WorklistPage {
        layout: Layout::new(&state, Some(&staff.principal), "measures_due"),
        today: staff.ctx.today.to_string(),
        pager: Pager::new(&found, |n| format!("/measures/worklist?page={n}")),
        rows: found
            .items
            .iter()
            .map(|(p, due)| WorkRow {
                patient_id: p.id.to_string(),
                patient: format!("{} · {}", p.demographics.full_name(), p.mrn),
                overdue: due.iter().any(|d| d.status == DueStatus::Overdue),
                items: due
                    .iter()
                    .map(|d| DueView {
                        instrument: instrument_name(d.instrument),
                        point: point_label(&d.point),
                        due_on: d.due_on.to_string(),
                        overdue: d.status == DueStatus::Overdue,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------
// The chart

pub mod chart {
    //! A small server-rendered SVG line chart: severity bands shaded, response and
    //! remission thresholds drawn, one point per complete response. Only presentation
    //! attributes (no `style=`), so it passes the strict CSP; every text is escaped.

    use super::*;
    use kat_core::measures::OutcomeSummary;
    use std::fmt::Write;

    pub fn escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        out
    }

    /// (from, to inclusive, label, fill) per band.
    fn bands(state: &AppState, instrument: Instrument) -> Vec<(u8, u8, String, &'static str)> {
        const F: [&str; 5] = ["#e7f4ea", "#f6f7dc", "#fdf0d5", "#fbe0c8", "#f8d4d4"];
        match instrument {
            Instrument::Phq9 => vec![
                (0, 4, "Minimal".into(), F[0]),
                (5, 9, "Mild".into(), F[1]),
                (10, 14, "Moderate".into(), F[2]),
                (15, 19, "Mod. severe".into(), F[3]),
                (20, 27, "Severe".into(), F[4]),
            ],
            Instrument::Gad7 => vec![
                (0, 4, "Minimal".into(), F[0]),
                (5, 9, "Mild".into(), F[1]),
                (10, 14, "Moderate".into(), F[2]),
                (15, 21, "Severe".into(), F[4]),
            ],
            Instrument::Pcl5 => {
                let cut = state.config.measures.scoring.pcl5_cutoff.value();
                vec![(0, cut - 1, "Below cut-off".into(), F[0]), (cut, 80, format!("Probable PTSD (≥ {cut})"), F[4])]
            }
            _ => Vec::new(),
        }
    }

    /// `doses`: when each dose was given, drawn as marked vertical lines on the time axis
    /// (only those between the first and the last point, so the axis stays the scores').
    pub fn render(
        state: &AppState,
        instrument: Instrument,
        responses: &[ResponseRecord],
        outcome: Option<&OutcomeSummary>,
        doses: &[Timestamp],
    ) -> Option<String> {
        let max = kat_core::instruments::OutcomeScale::from_instrument(instrument)?.max_total();
        let points: Vec<(Timestamp, u8)> =
            responses.iter().filter(|r| r.complete).filter_map(|r| r.total.map(|t| (r.collected_at, t))).collect();
        if points.is_empty() {
            return None;
        }
        let (w, h, left, right, top, bottom) = (640.0_f64, 260.0_f64, 44.0, 150.0, 12.0, 30.0);
        let pw = w - left - right;
        let ph = h - top - bottom;
        let t0 = points.first()?.0.as_second() as f64;
        let t1 = points.last()?.0.as_second() as f64;
        let doses: Vec<Timestamp> =
            doses.iter().copied().filter(|d| d.as_second() as f64 >= t0 && d.as_second() as f64 <= t1).collect();
        let span = (t1 - t0).max(86_400.0);
        let x = |t: Timestamp| left + (t.as_second() as f64 - t0) / span * pw;
        let y = |v: f64| top + ph - v / f64::from(max) * ph;
        let name = instrument_name(instrument);
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="chart-{k}-title" xmlns="http://www.w3.org/2000/svg"><title id="chart-{k}-title">{t}</title>"#,
            k = instrument.as_str(),
            t = escape(&format!("{name} totals over time ({} complete responses)", points.len())),
        );
        for (lo, hi, label, fill) in bands(state, instrument) {
            let (y_top, y_bot) = (y(f64::from(hi) + 1.0).max(top), y(f64::from(lo)));
            let _ = write!(
                s,
                r##"<rect x="{left}" y="{y_top:.1}" width="{pw}" height="{:.1}" fill="{fill}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#444">{}</text>"##,
                y_bot - y_top,
                left + pw + 6.0,
                (y_top + y_bot) / 2.0 + 4.0,
                escape(&label)
            );
        }
        // Axes and ticks.
        let _ = write!(s, "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{:.1}\" stroke=\"#555\"/>", top + ph);
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#555\"/>",
            top + ph,
            left + pw,
            top + ph
        );
        let step = if max > 30 { 20 } else { 5 };
        for v in (0..=max).step_by(step) {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{v}</text>",
                left - 6.0,
                y(f64::from(v)) + 4.0
            );
        }
        let tz = &state.config.time_zone;
        let first = points.first()?.0;
        let last = points.last()?.0;
        let day = |t: Timestamp| t.to_zoned(tz.clone()).date().to_string();
        let _ = write!(
            s,
            "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\">{}</text>",
            h - 8.0,
            escape(&day(first))
        );
        if last != first {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{}</text>",
                left + pw,
                h - 8.0,
                escape(&day(last))
            );
        }
        // Thresholds from the definitions in force.
        if let Some(o) = outcome {
            let mut line = |v: f64, label: String, colour: &str, right: bool| {
                if v >= 0.0 && v <= f64::from(max) {
                    let yy = y(v);
                    let _ = write!(
                        s,
                        "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"{}\" fill=\"{colour}\">{}</text>",
                        left + pw,
                        if right { left + pw - 4.0 } else { left + 4.0 },
                        yy - 3.0,
                        if right { "end" } else { "start" },
                        escape(&label)
                    );
                }
            };
            let b = f64::from(o.baseline.total);
            match o.response.definition.threshold {
                Threshold::ReductionPercentAtLeast(p) => line(
                    b * (100.0 - f64::from(p)) / 100.0,
                    format!("Response ({}): ≤ {:.1}", o.response.definition.rule, b * (100.0 - f64::from(p)) / 100.0),
                    "#1f5fa8",
                    false,
                ),
                Threshold::DropAtLeast(n) => line(
                    b - f64::from(n),
                    format!("Response ({}): ≤ {}", o.response.definition.rule, b - f64::from(n)),
                    "#1f5fa8",
                    false,
                ),
                _ => {}
            }
            if let Some(r) = &o.remission {
                match r.definition.threshold {
                    Threshold::TotalBelow(n) => {
                        line(f64::from(n) - 0.5, format!("Remission ({}): < {n}", r.definition.rule), "#17703a", true)
                    }
                    Threshold::TotalAtMost(n) => {
                        line(f64::from(n) + 0.5, format!("Remission ({}): ≤ {n}", r.definition.rule), "#17703a", true)
                    }
                    _ => {}
                }
            }
        }
        // Dose days: a dashed vertical line with a marker and a text label (not colour alone).
        for (i, d) in doses.iter().enumerate() {
            let xx = x(*d);
            let _ = write!(
                s,
                "<g class=\"dose-mark\"><title>{}</title><line x1=\"{xx:.1}\" y1=\"{top}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#6a3d9a\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/><text x=\"{xx:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#6a3d9a\">▼D{}</text></g>",
                escape(&format!("Dose {} on {}", i + 1, day(*d))),
                top + ph,
                top + 9.0,
                i + 1
            );
        }
        if !doses.is_empty() {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#6a3d9a\">▼D = dose day</text>",
                left + pw,
                h - 18.0
            );
        }
        // The series.
        let path: Vec<String> = points.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(f64::from(*v)))).collect();
        let _ = write!(s, "<polyline points=\"{}\" fill=\"none\" stroke=\"#222\" stroke-width=\"2\"/>", path.join(" "));
        for (t, v) in &points {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#222\"><title>{}</title></circle>",
                x(*t),
                y(f64::from(*v)),
                escape(&format!("{} {name} {v}", day(*t)))
            );
        }
        s.push_str("</svg>");
        Some(s)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn escape_handles_markup() {
            assert_eq!(super::escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        }
    }
}
