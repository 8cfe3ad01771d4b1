//! `/api/v1/audit`: the audit log for admins.

use super::{ApiQuery, Caller};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use kat_app::audit_log::Logged;
use kat_app::{AppError, audit_log};
use kat_core::FieldErrors;
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
    #[param(format = Uuid)]
    user: Option<String>,
    /// Only entries about this patient id, and list views that showed the patient.
    #[param(format = Uuid)]
    patient: Option<String>,
    /// From this date (YYYY-MM-DD, clinic time zone), inclusive.
    #[param(format = Date)]
    from: Option<String>,
    /// Up to this date (YYYY-MM-DD, clinic time zone), inclusive; not before `from`.
    #[param(format = Date)]
    to: Option<String>,
    /// Only entries older than this `seq` (paging).
    before: Option<i64>,
    /// At most this many (1–500, default 100); more is taken as 500, 0 as 1.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
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
        (status = 403, description = "Only admins read the audit log", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<Vec<AuditEntryDto>>, ApiError> {
    // The role first: a caller who may not read the log learns nothing of its filters.
    audit_log::require_read(state.store.as_ref(), &caller.ctx, p.patient.as_deref().and_then(|id| id.parse().ok()))
        .await
        .map_err(|e| caller.fail(e))?;
    // A filter given empty is refused, not read as no filter (leave it out instead).
    let mut errors = FieldErrors::new();
    for (name, value) in [("user", &p.user), ("patient", &p.patient), ("from", &p.from), ("to", &p.to)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            errors.add(name, "is empty: leave the parameter out to not filter by it");
        }
    }
    if !errors.is_empty() {
        return Err(caller.fail(AppError::Invalid(errors)));
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let filter = crate::pages::parse_audit_filter(
        &state.config.time_zone,
        &text(&p.user),
        &text(&p.patient),
        &text(&p.from),
        &text(&p.to),
        p.before,
        p.limit.unwrap_or(100),
    )
    .map_err(|e| caller.fail(AppError::Invalid(e)))?;
    let entries = audit_log::query(state.store.as_ref(), &caller.ctx, &filter).await.map_err(|e| caller.fail(e))?;
    Ok(Json(entries.iter().map(AuditEntryDto::from).collect()))
}
