//! The signed-in staff member's own account: changing their password (issue 12 item 4).

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{FieldView, Layout, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kat_app::{AppError, auth};
use kat_core::FieldErrors;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    layout: Layout,
    fields: Vec<FieldView>,
    must_change: bool,
    changed: bool,
    problem: Option<String>,
}

fn page(state: &AppState, staff: &Staff, errors: &FieldErrors, changed: bool, problem: Option<String>) -> PasswordPage {
    PasswordPage {
        layout: Layout::new(state, Some(&staff.principal), "account"),
        fields: vec![
            FieldView::text("current_password", "Current password", "", errors)
                .kind("password")
                .autocomplete("current-password"),
            FieldView::text("new_password", "New password", "", errors)
                .kind("password")
                .hint("at least 12 characters, not a common one")
                .autocomplete("new-password"),
            FieldView::text("confirm_password", "New password again", "", errors)
                .kind("password")
                .autocomplete("new-password"),
        ],
        must_change: staff.principal.user.must_change_password,
        changed,
        problem,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordQuery {
    changed: Option<String>,
}

pub async fn form(State(state): State<AppState>, staff: Staff, Query(q): Query<PasswordQuery>) -> Response {
    let changed = q.changed.is_some() && !staff.principal.user.must_change_password;
    render(&page(&state, &staff, &FieldErrors::new(), changed, None))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let keep = match &staff.principal.credential {
        auth::Credential::Session { id_hash } => Some(id_hash.as_str()),
        auth::Credential::Token { .. } => None,
    };
    let input = auth::PasswordChange {
        current_password: &f.current_password,
        new_password: &f.new_password,
        confirm_password: &f.confirm_password,
    };
    match auth::change_own_password(state.store.as_ref(), &staff.ctx, &state.config.sign_in, keep, &input).await {
        Ok(_) => Ok(Redirect::to("/account/password?changed=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            let p = page(
                &state,
                &staff,
                &errors,
                false,
                Some("The password was not changed; see the marked fields.".into()),
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(AppError::TooManyAttempts { until }) => {
            let at = crate::view::local_time_precise(until, &state.config.time_zone);
            let p = page(
                &state,
                &staff,
                &FieldErrors::new(),
                false,
                Some(format!(
                    "Too many wrong passwords from this account or this computer. Try again after {at}, or ask an administrator."
                )),
            );
            let mut r = (StatusCode::TOO_MANY_REQUESTS, render(&p)).into_response();
            r.headers_mut().insert(header::RETRY_AFTER, crate::error::retry_after(until, staff.ctx.now));
            Ok(r)
        }
        Err(e) => Err(staff.fail(e)),
    }
}
