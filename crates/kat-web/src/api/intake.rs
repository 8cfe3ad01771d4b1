//! `/api/v1/patients/{id}/intake` and `/eligibility`: intake answers, the screen's
//! result and the prescriber's decision over JSON.

use super::{ApiJson, ApiPath, Caller, schemas};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kat_app::AppError;
use kat_app::intake::{self, IntakeState, SignInput};
use kat_core::ids::PatientId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

fn patient_id(raw: &str) -> Result<PatientId, AppError> {
    raw.parse::<PatientId>().map_err(|_| AppError::NotFound("patient"))
}

/// The latest saved intake version.
#[derive(Serialize, ToSchema)]
pub struct IntakeDto {
    /// 0 when nothing has been saved yet.
    version: i64,
    /// Marked complete by the clinician (otherwise a draft).
    complete: bool,
    #[schema(format = DateTime)]
    saved_at: Option<String>,
    /// Question name → answer text (see the intake form for the names; blank answers
    /// are omitted). Yes/no questions take `yes`/`no`, dates `YYYY-MM-DD`.
    answers: BTreeMap<String, String>,
}

/// A whole intake to save as the next version (replaces every answer).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeInput {
    #[schema(value_type = schemas::IntakeAnswerMap)]
    answers: BTreeMap<String, String>,
    #[serde(default)]
    complete: bool,
}

/// One finding of the screen.
#[derive(Serialize, ToSchema)]
pub struct FindingDto {
    /// The clinical.md rule id, e.g. `CI-002`.
    #[schema(example = "RCI-004")]
    rule: String,
    /// `hard_stop`, `prescriber_review` or `information`.
    level: String,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct MissingDto {
    /// The intake field path.
    field: String,
    rules: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionDto {
    /// `accept` or `decline`.
    decision: String,
    #[schema(format = DateTime)]
    signed_at: String,
    /// True when a later evaluation (new intake or policy) replaced the signed one.
    stale: bool,
    /// A medical director accepted despite a hard stop.
    hard_stop_override: bool,
}

/// The latest eligibility evaluation.
#[derive(Serialize, ToSchema)]
pub struct EligibilityDto {
    /// `excluded`, `incomplete`, `needs_review`, `eligible`, or `not_screened`.
    status: String,
    #[schema(format = Uuid)]
    evaluation_id: Option<String>,
    #[schema(format = DateTime)]
    evaluated_at: Option<String>,
    intake_version: Option<i64>,
    policy_version: Option<i64>,
    findings: Vec<FindingDto>,
    missing: Vec<MissingDto>,
    /// A same-day clinician review is required and not yet disposed (RCI-011, SUI-003).
    same_day_review: bool,
    decision: Option<DecisionDto>,
}

/// A prescriber's decision on the latest evaluation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// The evaluation the prescriber reviewed; must still be the latest.
    #[schema(format = Uuid)]
    evaluation_id: String,
    #[schema(value_type = schemas::EligibilityDecision)]
    decision: String,
    /// Rule id → written reason, one per prescriber-review finding, to accept.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, schemas::ReasonText>)]
    reasons: BTreeMap<String, String>,
    /// Medical directors only: the reason to accept despite a hard stop.
    #[serde(default)]
    #[schema(max_length = 500)]
    override_reason: String,
    /// Confirms the override of a hard stop at this moment (issue 12 item 2): the 6-digit code of the
    /// caller's authenticator app, or, for an account without two-step sign-in, its
    /// password (or send that in `reauth_password`). Never logged.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reauth_code: String,
    /// The password of an account without two-step sign-in, instead of `reauth_code`.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reauth_password: String,
}

fn intake_dto(st: &IntakeState) -> IntakeDto {
    match &st.intake {
        Some(i) => IntakeDto {
            version: i.version,
            complete: i.complete,
            saved_at: Some(i.saved_at.to_string()),
            answers: i.answers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        },
        None => IntakeDto { version: 0, complete: false, saved_at: None, answers: BTreeMap::new() },
    }
}

/// Read a patient's intake (latest version).
#[utoipa::path(
    operation_id = "read_intake",
    get,
    path = "/api/v1/patients/{id}/intake",
    tag = "intake",
    params(("id" = String, Path, description = "Patient id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest intake version", body = IntakeDto),
        (status = 403, description = "The role may not read intakes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IntakeDto>, ApiError> {
    let id = patient_id(&id).map_err(|e| caller.fail(e))?;
    let st = intake::state(state.store.as_ref(), &caller.ctx, id).await.map_err(|e| caller.fail(e))?;
    Ok(Json(intake_dto(&st)))
}

/// Save a whole intake as a new version; it is evaluated at once.
#[utoipa::path(
    operation_id = "save_intake",
    put,
    path = "/api/v1/patients/{id}/intake",
    tag = "intake",
    params(("id" = String, Path, description = "Patient id")),
    request_body = IntakeInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Saved as the next version", body = IntakeDto),
        (status = 403, description = "The role may not write intakes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An answer is invalid; one entry per field", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<IntakeInput>,
) -> Result<Json<IntakeDto>, ApiError> {
    let id = patient_id(&id).map_err(|e| caller.fail(e))?;
    intake::replace(state.store.as_ref(), &caller.ctx, id, &input.answers, input.complete)
        .await
        .map_err(|e| caller.fail(e))?;
    let st = intake::state(state.store.as_ref(), &caller.ctx, id).await.map_err(|e| caller.fail(e))?;
    Ok(Json(intake_dto(&st)))
}

fn eligibility_dto(st: &IntakeState) -> EligibilityDto {
    let (status, findings, missing, same_day) = match &st.evaluation {
        Some((e, s)) => (
            e.status.clone(),
            s.findings
                .iter()
                .map(|f| FindingDto { rule: f.rule_id.clone(), level: f.level.clone(), message: f.message.clone() })
                .collect(),
            s.missing.iter().map(|m| MissingDto { field: m.field.clone(), rules: m.rule_ids.clone() }).collect(),
            s.same_day_review.is_some(),
        ),
        None => ("not_screened".into(), vec![], vec![], false),
    };
    EligibilityDto {
        status,
        evaluation_id: st.evaluation.as_ref().map(|(e, _)| e.id.to_string()),
        evaluated_at: st.evaluation.as_ref().map(|(e, _)| e.evaluated_at.to_string()),
        intake_version: st.evaluation.as_ref().map(|(e, _)| e.intake_version),
        policy_version: st.evaluation.as_ref().map(|(e, _)| e.policy_version),
        findings,
        missing,
        same_day_review: same_day && st.open_flag.is_some(),
        decision: st.decision.as_ref().map(|d| DecisionDto {
            decision: d.decision.clone(),
            signed_at: d.signed_at.to_string(),
            stale: d.stale,
            hard_stop_override: d.override_reason.is_some(),
        }),
    }
}

/// The latest eligibility evaluation of a patient.
#[utoipa::path(
    operation_id = "read_eligibility",
    get,
    path = "/api/v1/patients/{id}/eligibility",
    tag = "intake",
    params(("id" = String, Path, description = "Patient id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Status, findings and decision", body = EligibilityDto),
        (status = 403, description = "The role may not read intakes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn eligibility(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EligibilityDto>, ApiError> {
    let id = patient_id(&id).map_err(|e| caller.fail(e))?;
    let st = intake::state(state.store.as_ref(), &caller.ctx, id).await.map_err(|e| caller.fail(e))?;
    Ok(Json(eligibility_dto(&st)))
}

/// Sign the eligibility decision on the latest evaluation (prescribers).
#[utoipa::path(
    operation_id = "sign_eligibility_decision",
    post,
    path = "/api/v1/patients/{id}/eligibility/decision",
    tag = "intake",
    params(("id" = String, Path, description = "Patient id")),
    request_body = DecisionInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Signed", body = EligibilityDto),
        (status = 403, description = "Only prescribers sign", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The evaluation changed since it was reviewed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A reason or override is missing; one entry per field (`reasons.<rule>`); an override is confirmed with `reauth_code`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong confirmations (`reauth_code`): the sign-in throttle applies (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Response, ApiError> {
    let id = patient_id(&id).map_err(|e| caller.fail(e))?;
    let sign = SignInput {
        evaluation_id: input.evaluation_id,
        decision: input.decision,
        reasons: input.reasons,
        override_reason: input.override_reason,
        reauth_code: input.reauth_code,
        reauth_password: input.reauth_password,
    };
    intake::sign(state.store.as_ref(), &caller.ctx, id, &sign).await.map_err(|e| caller.fail(e))?;
    let st = intake::state(state.store.as_ref(), &caller.ctx, id).await.map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(eligibility_dto(&st))).into_response())
}
