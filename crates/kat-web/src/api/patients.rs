//! `/api/v1/patients`: the registry over JSON.

use super::{ApiObject, ApiPath, ApiQuery, Caller, Paged, page_href, schemas};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::view::Pager;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kat_app::{AppError, patients};
use kat_core::FieldErrors;
use kat_core::ids::PatientId;
use kat_core::patient::{DemographicsForm, Patient};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// A registered patient.
#[derive(Serialize, ToSchema)]
pub struct PatientDto {
    #[schema(format = Uuid)]
    id: String,
    /// Medical record number, assigned by kat.
    #[schema(example = "KAT-000042")]
    mrn: String,
    given_name: String,
    family_name: String,
    #[schema(format = Date, example = "1984-03-07")]
    birth_date: String,
    #[schema(value_type = schemas::Sex)]
    sex_at_birth: String,
    gender_identity: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    emergency_contact_name: Option<String>,
    emergency_contact_relationship: Option<String>,
    emergency_contact_phone: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// Increases with every edit; send it back with PATCH to detect concurrent edits.
    version: i64,
}

impl From<&Patient> for PatientDto {
    fn from(p: &Patient) -> Self {
        let d = &p.demographics;
        let f = DemographicsForm::from(d);
        let opt = |s: String| if s.is_empty() { None } else { Some(s) };
        Self {
            id: p.id.to_string(),
            mrn: p.mrn.to_string(),
            given_name: f.given_name,
            family_name: f.family_name,
            birth_date: f.birth_date,
            sex_at_birth: f.sex_at_birth,
            gender_identity: opt(f.gender_identity),
            phone: opt(f.phone),
            email: opt(f.email),
            address: opt(f.address),
            emergency_contact_name: opt(f.emergency_contact_name),
            emergency_contact_relationship: opt(f.emergency_contact_relationship),
            emergency_contact_phone: opt(f.emergency_contact_phone),
            created_at: p.created_at.to_string(),
            updated_at: p.updated_at.to_string(),
            version: p.version,
        }
    }
}

/// Demographics to register. `given_name`, `family_name`, `birth_date` (YYYY-MM-DD,
/// from 1900 to today) and `sex_at_birth` are required; the rest are optional strings
/// (empty or `null` means not given). An emergency contact phone needs the contact's name.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Documents the body; the handler parses it field by field.
pub struct PatientInput {
    #[schema(example = "Ada", min_length = 1, max_length = 100, extensions(("x-single-line" = json!(true))))]
    given_name: String,
    #[schema(example = "Quinn", min_length = 1, max_length = 100, extensions(("x-single-line" = json!(true))))]
    family_name: String,
    #[schema(format = Date, example = "1984-03-07")]
    birth_date: String,
    #[schema(value_type = schemas::Sex, example = "female")]
    sex_at_birth: String,
    #[schema(max_length = 100, extensions(("x-single-line" = json!(true))))]
    gender_identity: Option<String>,
    #[schema(pattern = r"^([ +\-().]*[0-9]){7,15}[ +\-().]*$|^$")]
    phone: Option<String>,
    #[schema(
        max_length = 254,
        pattern = r"^[^\s\u0000-\u001f\u007f-\u009f@]+@[^\s\u0000-\u001f\u007f-\u009f@.]([^\s\u0000-\u001f\u007f-\u009f@]*\.)+[^\s\u0000-\u001f\u007f-\u009f@.]$|^$"
    )]
    email: Option<String>,
    #[schema(max_length = 500)]
    address: Option<String>,
    #[schema(max_length = 100, extensions(("x-single-line" = json!(true))))]
    emergency_contact_name: Option<String>,
    #[schema(max_length = 60, extensions(("x-single-line" = json!(true))))]
    emergency_contact_relationship: Option<String>,
    #[schema(pattern = r"^([ +\-().]*[0-9]){7,15}[ +\-().]*$|^$")]
    emergency_contact_phone: Option<String>,
}

/// A JSON merge patch of demographics: fields present are changed, `null` clears an
/// optional field, absent fields stay. `version`, if sent, must be the current one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Documents the body; the handler parses it field by field.
pub struct PatientPatch {
    version: Option<i64>,
    #[schema(min_length = 1, max_length = 100, nullable = false, extensions(("x-single-line" = json!(true))))]
    given_name: Option<String>,
    #[schema(min_length = 1, max_length = 100, nullable = false, extensions(("x-single-line" = json!(true))))]
    family_name: Option<String>,
    #[schema(format = Date, nullable = false)]
    birth_date: Option<String>,
    #[schema(value_type = schemas::Sex)]
    sex_at_birth: Option<String>,
    #[schema(max_length = 100, extensions(("x-single-line" = json!(true))))]
    gender_identity: Option<String>,
    #[schema(pattern = r"^([ +\-().]*[0-9]){7,15}[ +\-().]*$|^$")]
    phone: Option<String>,
    #[schema(
        max_length = 254,
        pattern = r"^[^\s\u0000-\u001f\u007f-\u009f@]+@[^\s\u0000-\u001f\u007f-\u009f@.]([^\s\u0000-\u001f\u007f-\u009f@]*\.)+[^\s\u0000-\u001f\u007f-\u009f@.]$|^$"
    )]
    email: Option<String>,
    #[schema(max_length = 500)]
    address: Option<String>,
    #[schema(max_length = 100, extensions(("x-single-line" = json!(true))))]
    emergency_contact_name: Option<String>,
    #[schema(max_length = 60, extensions(("x-single-line" = json!(true))))]
    emergency_contact_relationship: Option<String>,
    #[schema(pattern = r"^([ +\-().]*[0-9]){7,15}[ +\-().]*$|^$")]
    emergency_contact_phone: Option<String>,
    /// Why the birth date or sex at birth changes: required (10 to 500 characters) once the
    /// patient has a treatment plan, when only a clinician may change them.
    #[schema(max_length = 500)]
    change_reason: Option<String>,
}

/// Copies the known string fields of `map` into `form`, naming every field that is
/// unknown or of the wrong type. `null` empties a field.
fn apply_fields(
    map: &Map<String, Value>,
    form: &mut DemographicsForm,
    allowed_extra: &[&str],
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    for (key, value) in map {
        if allowed_extra.contains(&key.as_str()) {
            continue;
        }
        let Some(slot) = form.field_mut(key) else {
            errors.add(key.clone(), "is not a known field");
            continue;
        };
        match value {
            Value::String(s) => *slot = s.clone(),
            Value::Null => slot.clear(),
            _ => errors.add(key.clone(), "must be a string"),
        }
    }
    errors.into_result(|| ())
}

fn created(p: &Patient) -> Response {
    let mut r = (StatusCode::CREATED, Json(PatientDto::from(p))).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/patients/{}", p.id)) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

/// Register a patient.
#[utoipa::path(
    operation_id = "register_patient",
    post,
    path = "/api/v1/patients",
    tag = "patients",
    request_body = PatientInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered; the MRN is assigned", body = PatientDto),
        (status = 403, description = "The role may not register patients", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid; one entry per field", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiObject(map): ApiObject,
) -> Result<Response, ApiError> {
    let mut form = DemographicsForm::default();
    apply_fields(&map, &mut form, &[]).map_err(|e| caller.fail(e.into()))?;
    let p = patients::register(state.store.as_ref(), &caller.ctx, &form).await.map_err(|e| caller.fail(e))?;
    Ok(created(&p))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to match: name fragments, a date of birth (YYYY-MM-DD) or an MRN. Empty
    /// lists patients.
    #[serde(default)]
    q: String,
    /// At most this many per page (1–50, default 50); more is taken as the most, 0 as 1.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// Which page (from 1, default 1; 0 is taken as 1). The `Link` header names the previous and next pages.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    page: Option<u32>,
}

/// Search the registry.
#[utoipa::path(
    operation_id = "search_patients",
    get,
    path = "/api/v1/patients",
    tag = "patients",
    params(SearchParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the matching patients, by family then given name", body = Vec<PatientDto>,
            headers(("link" = String, description = "RFC 8288 links to the previous (`rel=\"prev\"`) and next (`rel=\"next\"`) pages, when there are any"))),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Paged<PatientDto>, ApiError> {
    let page = patients::search_page(params.page, params.limit);
    let found =
        patients::search(state.store.as_ref(), &caller.ctx, &params.q, page).await.map_err(|e| caller.fail(e))?;
    let pager = Pager::new(&found, |n| page_href("/api/v1/patients", &[("q", &params.q)], n, page.size()));
    Ok(Paged(pager, found.items.iter().map(PatientDto::from).collect()))
}

fn parse_id(caller: &Caller, raw: &str) -> Result<PatientId, ApiError> {
    raw.parse().map_err(|_| caller.fail(AppError::NotFound("patient")))
}

/// Read one patient.
#[utoipa::path(
    operation_id = "read_patient",
    get,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    params(("id" = String, Path, description = "The patient's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PatientDto),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<PatientDto>, ApiError> {
    let id = parse_id(&caller, &raw)?;
    let p = patients::get(state.store.as_ref(), &caller.ctx, id).await.map_err(|e| caller.fail(e))?;
    Ok(Json(PatientDto::from(&p)))
}

/// Edit demographics (JSON merge patch).
#[utoipa::path(
    operation_id = "edit_patient",
    patch,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    params(("id" = String, Path, description = "The patient's id")),
    request_body(content = PatientPatch, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PatientDto),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`version` is no longer current", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(map): ApiObject,
) -> Result<Json<PatientDto>, ApiError> {
    let id = parse_id(&caller, &raw)?;
    let version =
        match map.get("version") {
            None | Some(Value::Null) => None,
            Some(v) => Some(super::whole_number(v).ok_or_else(|| {
                caller.fail(AppError::Invalid(FieldErrors::single("version", "must be a whole number")))
            })?),
        };
    let reason = match map.get("change_reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) => Some(r.as_str()),
        Some(_) => return Err(caller.fail(AppError::Invalid(FieldErrors::single("change_reason", "must be a string")))),
    };
    let p = patients::update(state.store.as_ref(), &caller.ctx, id, version, reason, |form| {
        apply_fields(&map, form, &["version", "change_reason"])
    })
    .await
    .map_err(|e| caller.fail(e))?;
    Ok(Json(PatientDto::from(&p)))
}
