//! Registry pages: search, register, view, edit.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{FieldView, FieldsetView, Layout, Pager, local_time, render, url_encode};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kat_app::{AppError, patients};
use kat_core::FieldErrors;
use kat_core::ids::PatientId;
use kat_core::patient::{DemographicsForm, Patient, SexAtBirth};
use kat_core::role::{Permission, Role};
use serde::Deserialize;

/// A patient as one row of a list.
pub struct PatientRow {
    id: String,
    name: String,
    birth_date: String,
    age: i16,
    sex: &'static str,
    mrn: String,
}

impl PatientRow {
    fn new(p: &Patient, today: jiff::civil::Date) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.demographics.sort_name(),
            birth_date: p.demographics.birth_date.to_string(),
            age: p.demographics.birth_date.age_on(today),
            sex: p.demographics.sex_at_birth.label(),
            mrn: p.mrn.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "patients/list.html")]
struct ListPage {
    layout: Layout,
    q: String,
    patients: Vec<PatientRow>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "patients/results_fragment.html")]
struct ResultsFragment {
    q: String,
    patients: Vec<PatientRow>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    page: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let page = patients::search_page(query.page, None);
    let found = patients::search(state.store.as_ref(), &staff.ctx, &query.q, page).await.map_err(|e| staff.fail(e))?;
    let q = url_encode(&query.q);
    let pager = Pager::new(&found, |n| format!("/patients?q={q}&page={n}"));
    let rows: Vec<PatientRow> = found.items.iter().map(|p| PatientRow::new(p, staff.ctx.today)).collect();
    // htmx asks for just the results while the user types.
    if headers.get("hx-request").is_some() && headers.get("hx-boosted").is_none() {
        return Ok(render(&ResultsFragment { q: query.q, patients: rows, pager }));
    }
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        q: query.q,
        patients: rows,
        pager,
    }))
}

#[derive(Template)]
#[template(path = "patients/form.html")]
struct FormPage {
    layout: Layout,
    heading: String,
    action: String,
    submit_label: &'static str,
    cancel_href: String,
    version: Option<i64>,
    fieldsets: Vec<FieldsetView>,
    has_errors: bool,
    conflict: Option<String>,
}

fn fieldsets(form: &DemographicsForm, errors: &FieldErrors) -> Vec<FieldsetView> {
    let sexes: Vec<(&'static str, &'static str)> = SexAtBirth::ALL.iter().map(|s| (s.as_str(), s.label())).collect();
    vec![
        FieldsetView {
            legend: "Identity",
            fields: vec![
                FieldView::text("given_name", "Given name", &form.given_name, errors).required(),
                FieldView::text("family_name", "Family name", &form.family_name, errors).required(),
                FieldView::text("birth_date", "Date of birth", &form.birth_date, errors).kind("date").required(),
                FieldView::text("sex_at_birth", "Sex at birth", &form.sex_at_birth, errors).options(sexes).required(),
                FieldView::text("gender_identity", "Gender identity", &form.gender_identity, errors)
                    .hint("In the patient's own words; optional"),
            ],
        },
        FieldsetView {
            legend: "Contact",
            fields: vec![
                FieldView::text("phone", "Phone", &form.phone, errors).kind("tel"),
                FieldView::text("email", "E-mail", &form.email, errors).kind("email"),
                FieldView::text("address", "Address", &form.address, errors).kind("textarea"),
            ],
        },
        FieldsetView {
            legend: "Emergency contact",
            fields: vec![
                FieldView::text("emergency_contact_name", "Name", &form.emergency_contact_name, errors),
                FieldView::text(
                    "emergency_contact_relationship",
                    "Relationship",
                    &form.emergency_contact_relationship,
                    errors,
                ),
                FieldView::text("emergency_contact_phone", "Phone", &form.emergency_contact_phone, errors).kind("tel"),
            ],
        },
    ]
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    existing: Option<(&PatientId, i64)>,
    form: &DemographicsForm,
    errors: &FieldErrors,
    conflict: Option<String>,
    change_reason: &str,
) -> FormPage {
    let (heading, action, submit_label, cancel_href, version) = match existing {
        Some((id, v)) => (
            format!("Edit {} {}", form.given_name, form.family_name),
            format!("/patients/{id}"),
            "Save changes",
            format!("/patients/{id}"),
            Some(v),
        ),
        None => (
            "Register a patient".to_string(),
            "/patients".to_string(),
            "Register patient",
            "/patients".to_string(),
            None,
        ),
    };
    FormPage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        heading,
        action,
        submit_label,
        cancel_href,
        version,
        fieldsets: {
            let mut sets = fieldsets(form, errors);
            if existing.is_some() {
                sets.push(FieldsetView {
                    legend: "Reason for a change of birth date or sex at birth",
                    fields: vec![
                        FieldView::text("change_reason", "Reason", change_reason, errors).kind("textarea").hint(
                            "required once the patient has a treatment plan, when only a clinician may change them \
                             (they feed dose checks and the REMS form)",
                        ),
                    ],
                });
            }
            sets
        },
        has_errors: !errors.is_empty(),
        conflict,
    }
}

pub async fn new_form(State(state): State<AppState>, staff: Staff) -> Response {
    render(&form_page(&state, &staff, None, &DemographicsForm::default(), &FieldErrors::new(), None, ""))
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<DemographicsForm>,
) -> Result<Response, PageError> {
    match patients::register(state.store.as_ref(), &staff.ctx, &form).await {
        Ok(p) => Ok(Redirect::to(&format!("/patients/{}?saved=1", p.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&form_page(&state, &staff, None, &form, &errors, None, "")))
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

#[derive(Template)]
#[template(path = "patients/show.html")]
struct ShowPage {
    layout: Layout,
    saved: bool,
    id: String,
    name: String,
    mrn: String,
    birth_date: String,
    age: i16,
    sex: &'static str,
    gender_identity: String,
    phone: String,
    email: String,
    address: String,
    emergency_contact: String,
    created_at: String,
    updated_at: String,
    version: i64,
    can_audit: bool,
    can_intake: bool,
    can_plan: bool,
    can_dose: bool,
    m: super::measures::MeasuresSection,
    measure_saved: Option<String>,
    measure_alert: bool,
}

fn parse_id(staff: &Staff, raw: &str) -> Result<PatientId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("patient")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    saved: Option<String>,
    measure: Option<String>,
    alert: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw_id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let id = parse_id(&staff, &raw_id)?;
    let p = patients::get(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    let d = &p.demographics;
    let or_dash = |s: Option<&str>| s.map(str::to_string).unwrap_or_else(|| "—".into());
    let contact = {
        let c = &d.emergency_contact;
        let parts: Vec<&str> = [
            c.name.as_ref().map(|t| t.as_str()),
            c.relationship.as_ref().map(|t| t.as_str()),
            c.phone.as_ref().map(|t| t.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() { "—".to_string() } else { parts.join(" · ") }
    };
    let tz = &state.config.time_zone;
    let m = super::measures::load_section(&state, &staff, p.id).await?;
    Ok(render(&ShowPage {
        m,
        measure_saved: q.measure,
        measure_alert: q.alert.is_some(),
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        saved: q.saved.is_some(),
        id: p.id.to_string(),
        name: d.full_name(),
        mrn: p.mrn.to_string(),
        birth_date: d.birth_date.to_string(),
        age: d.birth_date.age_on(staff.ctx.today),
        sex: d.sex_at_birth.label(),
        gender_identity: or_dash(d.gender_identity.as_ref().map(|t| t.as_str())),
        phone: or_dash(d.phone.as_ref().map(|t| t.as_str())),
        email: or_dash(d.email.as_ref().map(|t| t.as_str())),
        address: or_dash(d.address.as_ref().map(|t| t.as_str())),
        emergency_contact: contact,
        created_at: local_time(p.created_at, tz),
        updated_at: local_time(p.updated_at, tz),
        version: p.version,
        can_audit: staff.principal.user.role == Role::Admin && staff.principal.user.role.allows(Permission::AuditRead),
        can_intake: staff.principal.user.role.allows(Permission::IntakeRead),
        can_plan: staff.principal.user.role.allows(Permission::TreatmentPlanWrite),
        can_dose: staff.principal.user.role.allows(Permission::DosingSessionRead),
    }))
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw_id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&staff, &raw_id)?;
    let p = patients::get(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    let form = DemographicsForm::from(&p.demographics);
    Ok(render(&form_page(&state, &staff, Some((&p.id, p.version)), &form, &FieldErrors::new(), None, "")))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(flatten)]
    form: DemographicsForm,
    /// The version the form was opened at (text: flattened form fields arrive as text).
    version: Option<String>,
    /// Why the birth date or sex at birth changes (needed once a plan exists).
    change_reason: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw_id): Path<String>,
    Form(input): Form<EditForm>,
) -> Result<Response, PageError> {
    let id = parse_id(&staff, &raw_id)?;
    let submitted = input.form.clone();
    let expected = input.version.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
    let reason = input.change_reason.as_deref().filter(|r| !r.trim().is_empty());
    let result = patients::update(state.store.as_ref(), &staff.ctx, id, expected, reason, |form| {
        *form = submitted;
        Ok(())
    })
    .await;
    let version = expected.unwrap_or(1);
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/patients/{}?saved=1", p.id)).into_response()),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&form_page(
                &state,
                &staff,
                Some((&id, version)),
                &input.form,
                &errors,
                None,
                input.change_reason.as_deref().unwrap_or(""),
            )),
        )
            .into_response()),
        Err(AppError::Conflict(message)) => Ok((
            StatusCode::CONFLICT,
            render(&form_page(
                &state,
                &staff,
                Some((&id, version)),
                &input.form,
                &FieldErrors::new(),
                Some(message),
                input.change_reason.as_deref().unwrap_or(""),
            )),
        )
            .into_response()),
        Err(e) => Err(staff.fail(e)),
    }
}
