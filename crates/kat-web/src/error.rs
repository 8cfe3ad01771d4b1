//! Errors as people and programs see them.
//!
//! The API answers `application/problem+json` (RFC 9457) with one entry per bad field;
//! pages show a short explanation. A 5xx never carries internals: the cause is logged
//! with the request id, and the user sees only that id.

use crate::view::{self, ErrorPage};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kat_app::AppError;
use kat_core::FieldErrors;
use serde::Serialize;
use tower_http::csrf::ProtectionError;
use utoipa::ToSchema;

/// One rejected field in a problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's name as the request spelled it.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

fn field_problems(errors: &FieldErrors) -> Vec<FieldProblem> {
    errors.iter().map(|e| FieldProblem { field: e.field.clone(), message: e.message.clone() }).collect()
}

/// An error from an API route.
pub struct ApiError {
    pub error: AppError,
    pub request_id: Option<String>,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self { error, request_id: None }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e).into()
    }
}

pub fn problem(
    status: StatusCode,
    title: &str,
    detail: Option<String>,
    errors: Vec<FieldProblem>,
    request_id: Option<String>,
) -> Response {
    let body = Problem {
        type_: "about:blank".into(),
        title: title.into(),
        status: status.as_u16(),
        detail,
        request_id,
        errors,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let rid = self.request_id;
        match self.error {
            AppError::Invalid(errors) => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid input",
                Some(errors.to_string()),
                field_problems(&errors),
                rid,
            ),
            AppError::Unauthenticated => {
                let mut r = problem(
                    StatusCode::UNAUTHORIZED,
                    "Authentication required",
                    Some("send `Authorization: Bearer <token>` (see `kat token create`)".into()),
                    vec![],
                    rid,
                );
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"kat\""));
                r
            }
            AppError::Forbidden => {
                problem(StatusCode::FORBIDDEN, "Forbidden", Some("your role does not allow this".into()), vec![], rid)
            }
            AppError::BreakGlassRequired(patient) => problem(
                StatusCode::FORBIDDEN,
                "Break-glass required",
                Some(format!(
                    "you are not on this patient's care team; to open the record anyway, POST a reason to \
                     /api/v1/patients/{patient}/break-glass (audited, reviewed by an admin)"
                )),
                vec![],
                rid,
            ),
            AppError::NotFound(what) => {
                problem(StatusCode::NOT_FOUND, "Not found", Some(format!("{what} not found")), vec![], rid)
            }
            AppError::Conflict(detail) => problem(StatusCode::CONFLICT, "Conflict", Some(detail), vec![], rid),
            AppError::TooManyAttempts { until } => {
                let mut r = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    Some(format!("try again at {until}")),
                    vec![],
                    rid,
                );
                r.headers_mut().insert(header::RETRY_AFTER, retry_after(until, jiff::Timestamp::now()));
                r
            }
            other => {
                tracing::error!(request_id = rid.as_deref().unwrap_or("-"), error = %other, "internal error");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    Some("something went wrong on the server; quote the request id to your administrator".into()),
                    vec![],
                    rid,
                )
            }
        }
    }
}

/// An error from a page route.
pub struct PageError {
    pub error: AppError,
    pub request_id: Option<String>,
    /// Where to send someone who is not signed in.
    pub login_next: Option<String>,
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        Self { error, request_id: None, login_next: None }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let rid = self.request_id;
        if let AppError::BreakGlassRequired(patient) = self.error {
            let page = crate::view::BreakGlassPage {
                patient: patient.to_string(),
                next: self.login_next.unwrap_or_else(|| format!("/patients/{patient}")),
                request_id: rid,
                reason: String::new(),
                error: None,
                reauth_error: None,
            };
            return (StatusCode::FORBIDDEN, view::render(&page)).into_response();
        }
        let (status, title, message) = match self.error {
            AppError::Unauthenticated => {
                let next = self.login_next.unwrap_or_else(|| "/".into());
                return Redirect::to(&format!("/login?next={}", view::url_encode(&next))).into_response();
            }
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role does not allow this page or action. The attempt has been recorded.".to_string(),
            ),
            AppError::NotFound(what) => (StatusCode::NOT_FOUND, "Not found", format!("That {what} does not exist.")),
            AppError::Conflict(detail) => (StatusCode::CONFLICT, "Could not save", detail),
            AppError::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid input", errors.to_string()),
            AppError::TooManyAttempts { until } => {
                (StatusCode::TOO_MANY_REQUESTS, "Too many attempts", format!("Please try again after {until}."))
            }
            other => {
                tracing::error!(request_id = rid.as_deref().unwrap_or("-"), error = %other, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not complete this request. Nothing was saved. Please tell your administrator the request id below.".to_string(),
                )
            }
        };
        let page = ErrorPage { title, message, request_id: rid };
        (status, view::render(&page)).into_response()
    }
}

pub fn internal_page(request_id: Option<&str>) -> Response {
    PageError {
        error: AppError::Internal("see log".into()),
        request_id: request_id.map(str::to_string),
        login_next: None,
    }
    .into_response()
}

pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return problem(StatusCode::NOT_FOUND, "Not found", Some("no such API route".into()), vec![], None);
    }
    PageError::from(AppError::NotFound("page")).into_response()
}

/// A cross-site form post or API call (CSRF): refused with a readable message.
pub fn csrf_rejection(_e: ProtectionError) -> Response<axum::body::Body> {
    problem(
        StatusCode::FORBIDDEN,
        "Cross-site request refused",
        Some("state-changing requests must come from kat's own pages or an API client".into()),
        vec![],
        None,
    )
}

/// A `Retry-After` value: whole seconds from `now` until `until`, rounded up (at least 1).
pub fn retry_after(until: jiff::Timestamp, now: jiff::Timestamp) -> HeaderValue {
    let d = until.duration_since(now);
    let secs = (d.as_secs() + i64::from(d.subsec_nanos() > 0)).max(1);
    HeaderValue::from_str(&secs.to_string()).unwrap_or(HeaderValue::from_static("1"))
}
