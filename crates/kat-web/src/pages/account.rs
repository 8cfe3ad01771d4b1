//! The signed-in staff member's own account: changing their password (issue 12 item 4)
//! and two-step sign-in (issue 12 item 2).

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

#[derive(Template)]
#[template(path = "account/mfa.html")]
struct MfaPage {
    layout: Layout,
    enrolled: bool,
    /// The role must enrol (the account reaches nothing else until it has).
    required: bool,
    unused_recovery_codes: i64,
    secret: String,
    /// Inline SVG markup of the QR code (made by kat_core::mfa::qr_svg from the URI).
    qr_svg: String,
    error: Option<String>,
    /// Shown once, right after enrolling or making new ones.
    recovery_codes: Vec<String>,
    /// The codes shown are a new set replacing the old.
    regenerated: bool,
}

async fn mfa_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    recovery_codes: Vec<String>,
) -> Result<MfaPage, PageError> {
    let status = kat_app::mfa::own_status(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let (secret, qr_svg) = if status.enrolled {
        (String::new(), String::new())
    } else {
        let e = kat_app::mfa::begin_enrolment(state.store.as_ref(), &staff.ctx, &state.config.clinic_name)
            .await
            .map_err(|e| staff.fail(e))?;
        (e.secret_base32, e.qr_svg)
    };
    Ok(MfaPage {
        layout: Layout::new(state, Some(&staff.principal), "mfa"),
        enrolled: status.enrolled,
        required: state.config.mfa.requires(staff.principal.user.role),
        unused_recovery_codes: status.unused_recovery_codes,
        secret,
        qr_svg,
        error,
        recovery_codes,
        regenerated: false,
    })
}

pub async fn mfa_form(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    Ok(render(&mfa_page(&state, &staff, None, Vec::new()).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MfaConfirmForm {
    code: String,
}

pub async fn mfa_confirm(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<MfaConfirmForm>,
) -> Result<Response, PageError> {
    match kat_app::mfa::confirm_enrolment(state.store.as_ref(), &staff.ctx, &f.code).await {
        Ok(codes) => Ok(render(&mfa_page(&state, &staff, None, codes).await?)),
        Err(AppError::Invalid(errors)) => {
            let message = errors.iter().next().map(|e| format!("The code {}.", e.message));
            let p = mfa_page(&state, &staff, message, Vec::new()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RecoveryCodesForm {
    reauth_code: String,
}

/// Makes a new set of recovery codes, confirmed with a code from the app (the old ones
/// stop working); shows them once.
pub async fn mfa_recovery_codes(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<RecoveryCodesForm>,
) -> Result<Response, PageError> {
    match kat_app::mfa::regenerate_recovery_codes(state.store.as_ref(), &staff.ctx, &f.reauth_code).await {
        Ok(codes) => {
            let mut p = mfa_page(&state, &staff, None, codes).await?;
            p.regenerated = true;
            Ok(render(&p))
        }
        Err(AppError::Invalid(errors)) => {
            let message = errors.iter().next().map(|e| format!("The code: {}.", e.message));
            let p = mfa_page(&state, &staff, message, Vec::new()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}
