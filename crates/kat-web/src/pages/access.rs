//! Break-glass (issue 12 item 1): the reason form a clinician off a patient's care team
//! submits to open the record, and the admins' review queue.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{BreakGlassPage, Layout, Pager, local_time, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kat_app::{AppError, access};
use kat_core::ids::PatientId;
use kat_core::page::PageRequest;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BreakGlassForm {
    reason: String,
    next: String,
    /// The authenticator code, or the password without two-step sign-in (kat_app::reauth).
    reauth_code: String,
}

/// Only a path on this server may be returned to; otherwise the patient's page.
fn local_path(next: &str, patient: PatientId) -> String {
    if super::login::is_local_path(next) { next.to_string() } else { format!("/patients/{patient}") }
}

pub async fn break_glass(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<BreakGlassForm>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("patient")))?;
    let next = local_path(&form.next, patient);
    let reauth = kat_app::reauth::Reauth { code: &form.reauth_code, password: "" };
    match access::break_glass(state.store.as_ref(), &staff.ctx, patient, &form.reason, reauth).await {
        Ok(_) => Ok(Redirect::to(&next).into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = BreakGlassPage {
                patient: patient.to_string(),
                next,
                request_id: staff.meta.request_id.clone(),
                reason: form.reason,
                error: errors.for_field("reason").map(str::to_string),
                reauth_error: errors.for_field(kat_app::reauth::CODE_FIELD).map(str::to_string),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

struct GrantRow {
    id: String,
    at: String,
    who: String,
    patient: String,
    patient_short: String,
    reason: String,
    until: String,
    review: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/break_glass.html")]
struct QueuePage {
    layout: Layout,
    rows: Vec<GrantRow>,
    all: bool,
    pager: Pager,
    problem: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    all: Option<String>,
    page: Option<u32>,
}

pub async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    Ok(render(&queue_page(&state, &staff, q.all.is_some(), q.page, None).await?))
}

async fn queue_page(
    state: &AppState,
    staff: &Staff,
    all: bool,
    page: Option<u32>,
    problem: Option<String>,
) -> Result<QueuePage, PageError> {
    let page = PageRequest::new(page, None, 50, 50);
    let grants =
        access::break_glass_queue(state.store.as_ref(), &staff.ctx, !all, page).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    let pager = Pager::new(&grants, |n| format!("/admin/break-glass?page={n}{}", if all { "&all=1" } else { "" }));
    let rows = grants
        .items
        .into_iter()
        .map(|(g, u)| {
            let p = g.patient_id.to_string();
            GrantRow {
                id: g.id.to_string(),
                at: local_time(g.granted_at, tz),
                who: u.map(|u| format!("{} ({})", u.username, u.role.label())).unwrap_or_else(|| "unknown".into()),
                patient_short: p[28..].to_string(),
                patient: p,
                reason: g.reason,
                until: local_time(g.expires_at, tz),
                review: g
                    .reviewed_at
                    .map(|at| format!("{}: {}", local_time(at, tz), g.review_note.unwrap_or_default())),
            }
        })
        .collect();
    Ok(QueuePage { layout: Layout::new(state, Some(&staff.principal), "break_glass"), rows, all, pager, problem })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    note: String,
}

pub async fn review(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    let id: uuid::Uuid = raw.parse().map_err(|_| staff.fail(AppError::NotFound("break-glass use")))?;
    match access::review_break_glass(state.store.as_ref(), &staff.ctx, id, &form.note).await {
        Ok(()) => Ok(Redirect::to("/admin/break-glass").into_response()),
        Err(AppError::Invalid(errors)) => {
            let problem = errors.for_field("note").map(|m| format!("Finding: {m}"));
            let page = queue_page(&state, &staff, false, None, problem).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}
