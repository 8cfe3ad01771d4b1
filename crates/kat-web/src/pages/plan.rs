//! The treatment plan page on a patient: the plan form (drafted by a prescriber; errors
//! re-render the form with the typed values, 422), the patient's plans with their
//! computed dose and session dates, and the Sign button for prescribers.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{FieldView, FieldsetView, Layout, local_time, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kat_app::AppError;
use kat_app::dosing::{self as uc, PlanInput, PlanView};
use kat_core::FieldErrors;
use kat_core::dosing::{LIBRARY, Route, WeightBasis, WeightPolicy};
use kat_core::ids::{PatientId, TreatmentPlanId};
use kat_core::role::Permission;
use std::sync::LazyLock;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/treatment-plan", get(show).post(create))
        .route("/patients/{id}/treatment-plan/{plan}/sign", post(sign))
}

fn key<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// Route choices (key, label), computed once.
static ROUTE_OPTIONS: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| Route::ALL.iter().map(|r| (&*key(r).leak(), r.label())).collect());

/// The core library's protocols (key, "route: name"), computed once.
static PROTOCOL_OPTIONS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    LIBRARY.iter().map(|p| (&*key(&p.id).leak(), &*format!("{}: {}", p.route.label(), p.name).leak())).collect()
});

pub struct PlanRow {
    pub id: String,
    pub signed: Option<String>,
    pub heading: String,
    pub dose: Vec<(&'static str, String)>,
    pub findings: Vec<String>,
    pub schedule: String,
    /// Unsigned: the other active plans that overlap it (issue 11 item 1), in words.
    pub overlaps: Vec<String>,
    /// Signed over an overlap: the prescriber's reason and the plans it overlapped.
    pub overlap_override: Option<(String, Vec<String>)>,
    /// The refusal of the last attempt to sign it (the overlap reason), if any.
    pub sign_error: Option<String>,
    pub overlap_reason: String,
}

fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    format!("{r}")
}

fn plan_row(p: &PlanView, all: &[PlanView], today: jiff::civil::Date, tz: &jiff::tz::TimeZone) -> PlanRow {
    let c = &p.content;
    let d = &c.dose;
    let mut dose = vec![("Dose", format!("{} mg", num(d.mg)))];
    if let Some(k) = &c.kap_style {
        dose.push(("KAP dose style (PSY-004)", k.clone()));
    }
    if let Some(r) = &c.esketamine_regimen {
        dose.push(("Esketamine regimen (IND-002)", r.replace('_', " ")));
    }
    if let Some(v) = d.mg_per_kg {
        dose.push(("mg/kg", format!("{} mg/kg", num(v))));
    }
    if let Some(w) = d.weight_kg {
        // DOSE-GEN-002 / DOSE-IV-005: the weight used, its basis and measurement date.
        let basis = d.weight_basis.clone().unwrap_or_default();
        let mut text = format!("{} kg, {basis} weight", num(w));
        if let Some(m) = d.measured_weight_kg.filter(|_| basis != "actual") {
            text.push_str(&format!(" (measured {} kg)", num(m)));
        }
        text.push_str(&format!(", measured on {}", d.weight_measured_on.clone().unwrap_or_default()));
        if let Some(h) = d.height_cm {
            text.push_str(&format!("; height {} cm", num(h)));
        }
        if let Some(b) = d.bmi {
            text.push_str(&format!(", BMI {}", num(b)));
        }
        if let Some(chosen) = d.weight_basis_chosen.as_ref().filter(|c| **c != basis) {
            text.push_str(&format!(
                "; {chosen} weight was chosen but did not apply (BMI not above the clinic's threshold, or not below the actual weight; DOSE-IV-005)"
            ));
        }
        dose.push(("Weight", text));
    }
    if let (Some(ml), Some(conc)) = (d.stock_ml, d.concentration_mg_per_ml) {
        dose.push(("Volume", format!("{} mL of {} mg/mL", num(ml), num(conc))));
    }
    if let Some(v) = d.diluted_ml {
        dose.push(("Diluted volume", format!("{} mL (DOSE-IV-004)", num(v))));
    }
    if let (Some(rate), Some(min)) = (d.rate_ml_per_h, d.infusion_minutes) {
        dose.push(("Pump rate", format!("{} mL/h over {min} min", num(rate))));
    }
    if let Some(r) = &c.warning_reason {
        dose.push(("Warning reason", r.clone()));
    }
    if let Some(r) = &c.override_reason {
        dose.push(("Medical director override", r.clone()));
    }
    PlanRow {
        id: p.record.id.to_string(),
        signed: p.record.signed_at.map(|t| local_time(t, tz)),
        heading: format!("{} · {} · {} · {} sessions", c.indication, c.protocol_name, c.product, c.course_sessions),
        dose,
        findings: c
            .dose_findings
            .iter()
            .map(|f| {
                format!("{}: {}", f["rule"].as_str().unwrap_or_default(), f["message"].as_str().unwrap_or_default())
            })
            .collect(),
        schedule: c.schedule.join(", "),
        overlaps: if p.signed() {
            Vec::new()
        } else {
            uc::plan_overlaps(p, all, today).iter().map(|o| o.to_string()).collect()
        },
        overlap_override: p.overlap_override().map(|o| (o.reason, o.overlaps.iter().map(|x| x.to_string()).collect())),
        sign_error: None,
        overlap_reason: String::new(),
    }
}

/// The weight-basis choices the clinic's policy makes available (DOSE-IV-005).
fn basis_options(policy: &WeightPolicy) -> Vec<(&'static str, &'static str)> {
    uc::available_weight_bases(policy)
        .into_iter()
        .map(|b| match b {
            WeightBasis::Actual => ("actual", "actual (measured) weight"),
            WeightBasis::Ideal => ("ideal", "ideal weight (clinic formula)"),
            WeightBasis::Adjusted => ("adjusted", "adjusted weight (clinic formula and factor)"),
        })
        .collect()
}

fn fieldsets(f: &PlanInput, e: &FieldErrors, weight: &WeightPolicy) -> Vec<FieldsetView> {
    let t = FieldView::text;
    let basis_hint = if weight.ideal_formula.is_some() {
        "DOSE-IV-005: applies above the clinic's BMI threshold and needs the height; sex at birth is taken from the patient's record. Empty: the clinic's default"
    } else {
        "DOSE-IV-005: only actual weight; the clinic has not configured an ideal-weight formula"
    };
    vec![
        FieldsetView {
            legend: "Course (DOSE-GEN-001)",
            fields: vec![
                t("indication", "Indication", &f.indication, e).required(),
                t("route", "Route", &f.route, e).options(ROUTE_OPTIONS.clone()).required(),
                t("protocol", "Protocol", &f.protocol, e)
                    .options(PROTOCOL_OPTIONS.clone())
                    .hint("From the core library; it must match the route")
                    .required(),
                t("product", "Product", &f.product, e).hint("For example Ketamine HCl 50 mg/mL vial").required(),
                t("course_sessions", "Course length (sessions)", &f.course_sessions, e).required(),
                t("endpoint", "Therapeutic endpoint", &f.endpoint, e).required(),
                t("reassessment", "Face-to-face reassessment", &f.reassessment, e).required(),
                t("maintenance", "After the course", &f.maintenance, e),
                t("kap_style", "KAP dose style (PSY-004)", &f.kap_style, e)
                    .options(vec![
                        ("psycholytic", "psycholytic: lower dose, talk therapy during the session"),
                        ("psychedelic", "psychedelic: higher dose, inner experience; therapy before and after"),
                    ])
                    .required(),
                t("esketamine_regimen", "Esketamine regimen (IND-002)", &f.esketamine_regimen, e)
                    .options(vec![
                        ("monotherapy", "monotherapy (TRD only)"),
                        ("with_oral_antidepressant", "with an oral antidepressant"),
                    ])
                    .hint("Esketamine only; MDSI is always with an oral antidepressant"),
            ],
        },
        FieldsetView {
            legend: "Dose (DOSE-GEN-002)",
            fields: vec![
                t("dose_style", "Dose written as", &f.dose_style, e)
                    .options(vec![("per_kg", "per kg of body weight"), ("fixed", "fixed dose")])
                    .required(),
                t("dose_mg_per_kg", "Dose (mg/kg)", &f.dose_mg_per_kg, e).hint("When per kg"),
                t("dose_mg", "Dose (mg)", &f.dose_mg, e).hint("When fixed"),
                t("weight_kg", "Body weight (kg)", &f.weight_kg, e),
                t("weight_measured_on", "Weight measured on", &f.weight_measured_on, e).kind("date"),
                t("weight_basis", "Dosing weight basis", &f.weight_basis, e)
                    .options(basis_options(weight))
                    .hint(basis_hint),
                t("height_cm", "Height (cm)", &f.height_cm, e).hint("For BMI and ideal weight"),
                t("concentration_mg_per_ml", "Concentration (mg/mL)", &f.concentration_mg_per_ml, e),
                t("infusion_minutes", "Infusion minutes (IV)", &f.infusion_minutes, e).hint("DOSE-IV-001: 40"),
            ],
        },
        FieldsetView {
            legend: "Schedule",
            fields: vec![
                t("first_session", "First session", &f.first_session, e).kind("date"),
                t("interval_days", "Days between sessions", &f.interval_days, e)
                    .hint("Empty: from the protocol's phases; a number: every that many days"),
                t("schedule", "Adjusted dates", &f.schedule, e)
                    .hint("Optional, comma-separated; replaces the generated dates"),
            ],
        },
        FieldsetView {
            legend: "When the dose check asks",
            fields: vec![
                t("warning_reason", "Warning reason", &f.warning_reason, e)
                    .kind("textarea")
                    .hint("Required when the dose check warns"),
                t("override_reason", "Medical director override reason", &f.override_reason, e)
                    .kind("textarea")
                    .hint("Required, from a medical director, above a hard limit"),
                // Never echoed back: the field is empty on every render.
                t("reauth_code", "Confirm the override", "", e)
                    .kind("password")
                    .hint("The 6-digit code from your authenticator app, or your password without two-step sign-in"),
            ],
        },
    ]
}

#[derive(Template)]
#[template(path = "dosing/plan.html")]
struct PlanPage {
    layout: Layout,
    patient_id: String,
    plans: Vec<PlanRow>,
    can_write: bool,
    can_sign: bool,
    has_errors: bool,
    errors: Vec<(String, String)>,
    fieldsets: Vec<FieldsetView>,
}

fn parse_patient(staff: &Staff, raw: &str) -> Result<PatientId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("patient")))
}

async fn page(
    state: &AppState,
    staff: &Staff,
    patient: PatientId,
    form: &PlanInput,
    errors: &FieldErrors,
    sign: Option<(TreatmentPlanId, &str, &FieldErrors)>,
) -> Result<PlanPage, PageError> {
    let plans = uc::plans(state.store.as_ref(), &staff.ctx, patient).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    let role = staff.principal.user.role;
    Ok(PlanPage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        patient_id: patient.to_string(),
        plans: plans
            .iter()
            .rev()
            .map(|p| {
                let mut row = plan_row(p, &plans, staff.ctx.today, tz);
                if sign.is_some_and(|(id, _, _)| id == p.record.id) {
                    let (_, reason, errors) = sign.expect("checked");
                    row.sign_error = errors.for_field("overlap_reason").map(String::from);
                    row.overlap_reason = reason.to_string();
                }
                row
            })
            .collect(),
        can_write: role.allows(Permission::TreatmentPlanWrite),
        can_sign: role.allows(Permission::TreatmentPlanSign),
        has_errors: !errors.is_empty(),
        errors: errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect(),
        fieldsets: fieldsets(form, errors, &state.config.dosing.policy.weight),
    })
}

pub async fn show(State(state): State<AppState>, staff: Staff, Path(raw): Path<String>) -> Result<Response, PageError> {
    let patient = parse_patient(&staff, &raw)?;
    // The form starts from the intake's indication, weight and height (issue 11 item 12).
    let draft = uc::plan_draft(state.store.as_ref(), &staff.ctx, patient).await.map_err(|e| staff.fail(e))?;
    Ok(render(&page(&state, &staff, patient, &draft.input, &FieldErrors::new(), None).await?))
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<PlanInput>,
) -> Result<Response, PageError> {
    let patient = parse_patient(&staff, &raw)?;
    match uc::create_plan(state.store.as_ref(), &staff.ctx, &state.config.dosing, patient, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{patient}/treatment-plan")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let p = page(&state, &staff, patient, &form, &errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

/// Signs a plan; an overlap with another active plan re-renders the page (422) with the
/// overlapping plans and the reason field on that plan.
pub async fn sign(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_plan)): Path<(String, String)>,
    form: Result<Form<uc::SignPlanInput>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    // The button posts no field unless a reason is asked for: no body is no reason.
    let input = form.map(|Form(f)| f).unwrap_or_default();
    let patient = parse_patient(&staff, &raw)?;
    let plan: TreatmentPlanId = raw_plan.parse().map_err(|_| staff.fail(AppError::NotFound("treatment plan")))?;
    match uc::sign_plan(state.store.as_ref(), &staff.ctx, patient, plan, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{patient}/treatment-plan")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let form = PlanInput { dose_style: "per_kg".into(), infusion_minutes: "40".into(), ..PlanInput::default() };
            let reason = input.overlap_reason.as_deref().unwrap_or_default();
            let p = page(&state, &staff, patient, &form, &FieldErrors::new(), Some((plan, reason, &errors))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}
