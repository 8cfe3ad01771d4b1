//! `/api/v1` for measurement-based care: responses, self-report links, safety alerts.

use super::{ApiJson, ApiObject, ApiPath, Caller, schemas};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use kat_app::AppError;
use kat_app::measures as uc;
use kat_core::FieldErrors;
use kat_core::ids::{AlertId, PatientId};
use kat_core::instruments::Instrument;
use kat_core::measures::AcknowledgeForm;
use kat_store::measures::{ResponseRecord, SafetyAlert};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A stored rating-scale response with what was computed from it.
#[derive(Serialize, ToSchema)]
pub struct ResponseDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    patient_id: String,
    /// `phq9`, `gad7`, `pcl5` or `cssrs_screener`.
    instrument: String,
    /// Answers in item order; `null` = not answered (never imputed).
    answers: Vec<Option<u8>>,
    /// `self_report` or `clinician`.
    source: String,
    #[schema(format = Uuid)]
    entered_by: Option<String>,
    #[schema(format = DateTime)]
    collected_at: String,
    /// Only for complete responses.
    total: Option<u8>,
    band: Option<String>,
    complete: bool,
    /// `suicidal_ideation`, `safety_item_missing`, `cssrs_high_risk`, `risk_behaviour_review`.
    flags: Vec<String>,
    /// Ids of the urgent safety alerts this response raised (on creation only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alerts: Vec<String>,
}

impl ResponseDto {
    fn new(r: &ResponseRecord, alerts: &[SafetyAlert]) -> Self {
        Self {
            id: r.id.to_string(),
            patient_id: r.patient_id.to_string(),
            instrument: r.response.instrument().as_str().into(),
            answers: r.response.answers().to_vec(),
            source: r.source.as_str().into(),
            entered_by: r.entered_by.map(|u| u.to_string()),
            collected_at: r.collected_at.to_string(),
            total: r.total,
            band: r.band.clone(),
            complete: r.complete,
            flags: r.flags.clone(),
            alerts: alerts.iter().map(|a| a.id.to_string()).collect(),
        }
    }
}

/// Answers entered by a clinician on the patient's behalf.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Documents the body; the handler parses it field by field.
pub struct ResponseInput {
    #[schema(value_type = schemas::EnterableInstrument, example = "phq9")]
    instrument: String,
    /// In item order: integers, or `null` for unanswered (the response is then
    /// incomplete); as many as the instrument has items (see [`schemas::answers_rule`]).
    answers: Vec<Option<u8>>,
    /// When the answers were given (default: now); not in the future.
    #[schema(format = DateTime)]
    collected_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkDto {
    #[schema(format = Uuid)]
    id: String,
    /// The one-time token; shown only in this answer. The patient opens `/r/{token}`.
    token: String,
    path: String,
    instruments: Vec<String>,
    #[schema(format = DateTime)]
    expires_at: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The questionnaires to send (repeats count once).
    #[schema(value_type = Vec<schemas::SelfReportInstrument>, min_items = 1)]
    instruments: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    patient_id: String,
    #[schema(format = Uuid)]
    response_id: String,
    /// `suicidal_ideation` or `cssrs_high_risk`.
    kind: String,
    #[schema(format = DateTime)]
    raised_at: String,
    #[schema(format = DateTime)]
    acknowledged_at: Option<String>,
    action: Option<String>,
    note: Option<String>,
}

impl From<&SafetyAlert> for AlertDto {
    fn from(a: &SafetyAlert) -> Self {
        Self {
            id: a.id.to_string(),
            patient_id: a.patient_id.to_string(),
            response_id: a.response_id.to_string(),
            kind: a.kind.as_str().into(),
            raised_at: a.raised_at.to_string(),
            acknowledged_at: a.acknowledged_at.map(|t| t.to_string()),
            action: a.action.map(|x| x.as_str().into()),
            note: a.note.clone(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeInput {
    /// What was done; `other` needs a `note`.
    #[schema(value_type = schemas::SafetyAlertAction)]
    action: String,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

fn invalid(field: &str, msg: &str) -> AppError {
    AppError::Invalid(FieldErrors::single(field, msg))
}

fn patient(caller: &Caller, raw: &str) -> Result<PatientId, ApiError> {
    raw.parse().map_err(|_| caller.fail(AppError::NotFound("patient")))
}

fn instrument(raw: &str) -> Option<Instrument> {
    Instrument::ALL.into_iter().find(|i| i.as_str() == raw)
}

/// Record answers entered by a clinician. Incomplete answers are stored incomplete
/// (no total). PHQ-9 item 9 ≥ 1 or C-SSRS high risk raises an urgent safety alert.
#[utoipa::path(
    operation_id = "record_response",
    post,
    path = "/api/v1/patients/{id}/responses",
    tag = "measures",
    params(("id" = String, Path, description = "The patient's id")),
    request_body = ResponseInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = ResponseDto),
        (status = 403, description = "The role may not enter answers", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An answer is invalid; one entry per item (`item_<label>`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(map): ApiObject,
) -> Result<Response, ApiError> {
    let id = patient(&caller, &raw)?;
    let mut errors = FieldErrors::new();
    let inst = match map.get("instrument").and_then(Value::as_str).map(instrument) {
        Some(Some(i)) => Some(i),
        _ => {
            errors.add("instrument", "must be one of phq9, gad7, pcl5, cssrs_screener");
            None
        }
    };
    let answers: Option<Vec<Option<String>>> = match map.get("answers") {
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for (n, v) in a.iter().enumerate() {
                match v {
                    Value::Null => out.push(None),
                    Value::Number(x) => out.push(Some(super::number_text(x))),
                    _ => errors.add(format!("answers[{n}]"), "must be a whole number or null"),
                }
            }
            Some(out)
        }
        _ => {
            errors.add("answers", "must be an array of whole numbers or null");
            None
        }
    };
    let collected_at = match map.get("collected_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match s.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add("collected_at", "must be an RFC 3339 time");
                None
            }
        },
        Some(_) => {
            errors.add("collected_at", "must be an RFC 3339 time");
            None
        }
    };
    for k in map.keys() {
        if !["instrument", "answers", "collected_at"].contains(&k.as_str()) {
            errors.add(k.clone(), "is not a known field");
        }
    }
    if !errors.is_empty() {
        return Err(caller.fail(AppError::Invalid(errors)));
    }
    let (inst, answers) = (inst.expect("checked"), answers.expect("checked"));
    let r = uc::record_response(
        state.store.as_ref(),
        &caller.ctx,
        &state.config.measures,
        id,
        inst,
        &answers,
        collected_at,
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(ResponseDto::new(&r.record, &r.alerts))).into_response())
}

/// A patient's responses, oldest first.
#[utoipa::path(
    operation_id = "list_responses",
    get,
    path = "/api/v1/patients/{id}/responses",
    tag = "measures",
    params(("id" = String, Path, description = "The patient's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<ResponseDto>),
        (status = 403, description = "The role may not read responses", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Vec<ResponseDto>>, ApiError> {
    let id = patient(&caller, &raw)?;
    let found = uc::list_responses(state.store.as_ref(), &caller.ctx, id, None).await.map_err(|e| caller.fail(e))?;
    Ok(Json(found.iter().map(|r| ResponseDto::new(r, &[])).collect()))
}

/// Create a one-time self-report link (valid for the clinic's configured time).
#[utoipa::path(
    operation_id = "create_self_report_link",
    post,
    path = "/api/v1/patients/{id}/self-report-links",
    tag = "measures",
    params(("id" = String, Path, description = "The patient's id")),
    request_body = LinkInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = LinkDto),
        (status = 403, description = "The role may not send links", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or non-self-report instrument", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(input): ApiJson<LinkInput>,
) -> Result<Response, ApiError> {
    let id = patient(&caller, &raw)?;
    let list = input
        .instruments
        .iter()
        .map(|name| instrument(name))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| caller.fail(invalid("instruments", "must name known questionnaires")))?;
    let (link, token) = uc::create_link(state.store.as_ref(), &caller.ctx, &state.config.measures, id, &list)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::CREATED,
        Json(LinkDto {
            id: link.id.to_string(),
            path: format!("/r/{token}"),
            token,
            instruments: link.instruments.iter().map(|i| i.as_str().to_string()).collect(),
            expires_at: link.expires_at.to_string(),
        }),
    )
        .into_response())
}

/// Unacknowledged urgent safety alerts, oldest first.
#[utoipa::path(
    operation_id = "list_safety_alerts",
    get,
    path = "/api/v1/alerts",
    tag = "measures",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<AlertDto>),
        (status = 403, description = "The role does not handle safety alerts", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn alerts(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<AlertDto>>, ApiError> {
    let found = uc::open_alerts(state.store.as_ref(), &caller.ctx).await.map_err(|e| caller.fail(e))?;
    Ok(Json(found.iter().map(|(a, _)| AlertDto::from(a)).collect()))
}

/// Acknowledge an alert with the action taken.
#[utoipa::path(
    operation_id = "acknowledge_safety_alert",
    post,
    path = "/api/v1/alerts/{id}/acknowledge",
    tag = "measures",
    params(("id" = String, Path, description = "The alert's id")),
    request_body = AcknowledgeInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = AlertDto),
        (status = 403, description = "The role does not handle safety alerts", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already acknowledged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The action is missing or unknown, or `other` without a note", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(input): ApiJson<AcknowledgeInput>,
) -> Result<Json<AlertDto>, ApiError> {
    let id: AlertId = raw.parse().map_err(|_| caller.fail(AppError::NotFound("safety alert")))?;
    let form = AcknowledgeForm { action: input.action, note: input.note.unwrap_or_default() };
    let a = uc::acknowledge(state.store.as_ref(), &caller.ctx, id, &form).await.map_err(|e| caller.fail(e))?;
    Ok(Json(AlertDto::from(&a)))
}
