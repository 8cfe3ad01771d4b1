//! `/api/v1/audit`: the audit log for admins.

use super::Caller;
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Query, State};
use kat_app::audit_log::Logged;
use kat_app::{AppError, audit_log};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One audit entry.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryDto {
    /// Position in the log (strictly increasing); page with `before`.
    seq: i64,
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    at: String,
    #[schema(format = Uuid)]
    user_id: Option<String>,
    /// Username, `anonymous`, `unknown user` or `kat cli`.
    actor: String,
    /// `create`, `read`, `list`, `update`, `delete`, `login`, `login_failed`, `logout`, `session_expired`.
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    #[schema(format = Uuid)]
    patient_id: Option<String>,
    remote_addr: String,
    /// `allowed` or `denied`.
    outcome: String,
    request_id: Option<String>,
    /// For a list view (`list`): every patient it showed. Filtering by `patient` finds
    /// the list views that showed that patient.
    #[schema(value_type = Vec<String>)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    shown_patients: Vec<String>,
}

impl From<&Logged> for AuditEntryDto {
    fn from(logged: &Logged) -> Self {
        let e = &logged.entry;
        let en = &e.entry;
        Self {
            seq: e.seq,
            id: e.id.to_string(),
            at: en.at.to_string(),
            user_id: en.actor.user_id.map(|u| u.to_string()),
            actor: en.actor.label.clone(),
            action: en.action.as_str().into(),
            resource_type: en.resource_type.clone(),
            resource_id: en.resource_id.clone(),
            patient_id: en.patient_id.map(|p| p.to_string()),
            remote_addr: en.remote_addr.clone(),
            outcome: en.outcome.as_str().into(),
            request_id: en.request_id.clone(),
            shown_patients: logged.shown_patients.iter().map(|p| p.to_string()).collect(),
        }
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuditParams {
    /// Only entries by this user id.
    user: String,
    /// Only entries about this patient id, and list views that showed the patient.
    patient: String,
    /// From this date (YYYY-MM-DD, clinic time zone), inclusive.
    from: String,
    /// Up to this date (YYYY-MM-DD, clinic time zone), inclusive.
    to: String,
    /// Only entries older than this `seq` (paging).
    before: Option<i64>,
    /// At most this many (1–500, default 100).
    limit: Option<u32>,
}

/// Read the audit log, newest first.
#[utoipa::path(
    operation_id = "list_audit_entries",
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<AuditEntryDto>),
        (status = 401, description = "No valid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins read the audit log", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<AuditParams>,
) -> Result<Json<Vec<AuditEntryDto>>, ApiError> {
    let filter = crate::pages::parse_audit_filter(
        &state.config.time_zone,
        &p.user,
        &p.patient,
        &p.from,
        &p.to,
        p.before,
        p.limit.unwrap_or(100),
    )
    .map_err(|e| caller.fail(AppError::Invalid(e)))?;
    let entries = audit_log::query(state.store.as_ref(), &caller.ctx, &filter).await.map_err(|e| caller.fail(e))?;
    Ok(Json(entries.iter().map(AuditEntryDto::from).collect()))
}
