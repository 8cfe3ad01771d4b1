//! Admin pages: staff accounts, API tokens, the audit log.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{FieldView, FieldsetView, Layout, local_time, local_time_precise, render, url_encode};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use kat_app::{AppError, audit_log, auth, users};
use kat_core::FieldErrors;
use kat_core::audit::{AuditFilter, MAX_AUDIT_PAGE};
use kat_core::ids::{PatientId, TokenId, UserId};
use kat_core::patient::parse_iso_date;
use kat_core::role::Role;
use kat_core::user::AccountKind;
use serde::Deserialize;
use std::collections::HashMap;

struct UserRowView {
    id: String,
    username: String,
    display_name: String,
    role: &'static str,
    kind: &'static str,
    active: bool,
    medical_director: bool,
    /// A person with a password an admin may reset (not an API client).
    staff: bool,
    must_change_password: bool,
}

struct TokenRowView {
    id: String,
    label: String,
    account: String,
    created: String,
    last_used: String,
    revoked: bool,
}

/// A grant or removal of the medical-director flag, shown to every admin.
struct DirectorChangeView {
    at: String,
    account: String,
    by: String,
    granted: bool,
    reason: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRowView>,
    director_changes: Vec<DirectorChangeView>,
    tokens: Vec<TokenRowView>,
    fieldsets: Vec<FieldsetView>,
    message: Option<String>,
    problem: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    password: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UsersQuery {
    added: Option<String>,
    updated: Option<String>,
    revoked: Option<String>,
    reset: Option<String>,
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    form: &NewUserForm,
    errors: &FieldErrors,
    message: Option<String>,
    problem: Option<String>,
) -> Result<UsersPage, PageError> {
    let all = users::list(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let tokens = auth::list_tokens(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let names: HashMap<UserId, String> = all.iter().map(|u| (u.id, u.username.to_string())).collect();
    let tz = &state.config.time_zone;
    let director_changes = kat_app::intake::medical_director_changes(state.store.as_ref(), &staff.ctx, 20)
        .await
        .map_err(|e| staff.fail(e))?
        .into_iter()
        .map(|c| DirectorChangeView {
            at: local_time(c.at, tz),
            account: names.get(&c.user_id).cloned().unwrap_or_default(),
            by: c.changed_by.and_then(|b| names.get(&b).cloned()).unwrap_or_else(|| "kat command line".into()),
            granted: c.granted,
            reason: c.reason,
        })
        .collect();
    let roles: Vec<(&'static str, &'static str)> = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    let mut directors = std::collections::HashSet::new();
    for u in &all {
        if kat_app::intake::is_medical_director(state.store.as_ref(), u.id).await.map_err(|e| staff.fail(e))? {
            directors.insert(u.id);
        }
    }
    Ok(UsersPage {
        layout: Layout::new(state, Some(&staff.principal), "users"),
        users: all
            .iter()
            .map(|u| UserRowView {
                id: u.id.to_string(),
                username: u.username.to_string(),
                display_name: u.display_name.clone(),
                role: u.role.label(),
                kind: match u.kind {
                    AccountKind::Staff => "Staff",
                    AccountKind::ApiClient => "API client",
                },
                active: u.active,
                medical_director: directors.contains(&u.id),
                staff: u.kind == AccountKind::Staff,
                must_change_password: u.must_change_password,
            })
            .collect(),
        director_changes,
        tokens: tokens
            .iter()
            .map(|t| TokenRowView {
                id: t.id.to_string(),
                label: t.label.clone(),
                account: names.get(&t.user_id).cloned().unwrap_or_default(),
                created: local_time(t.created_at, tz),
                last_used: t.last_used_at.map(|x| local_time(x, tz)).unwrap_or_else(|| "never".into()),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
        fieldsets: vec![FieldsetView {
            legend: "New account",
            fields: vec![
                FieldView::text("username", "Username", &form.username, errors)
                    .hint("lower-case letters, digits, . _ -")
                    .autocomplete("off"),
                FieldView::text("display_name", "Full name", &form.display_name, errors),
                FieldView::text("role", "Role", &form.role, errors).options(roles),
                FieldView::text("password", "Initial password", "", errors)
                    .kind("password")
                    .hint("at least 12 characters; ask them to keep it private")
                    .autocomplete("new-password"),
            ],
        }],
        message,
        problem,
    })
}

pub async fn users(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<UsersQuery>,
) -> Result<Response, PageError> {
    let message = if q.added.is_some() {
        Some("Account added.".to_string())
    } else if q.updated.is_some() {
        Some("Account updated.".to_string())
    } else if q.reset.is_some() {
        Some("Password reset: the account must choose its own at its next sign-in.".to_string())
    } else if q.revoked.is_some() {
        Some("Token revoked.".to_string())
    } else {
        None
    };
    let page = users_page(&state, &staff, &NewUserForm::default(), &FieldErrors::new(), message, None).await?;
    Ok(render(&page))
}

pub async fn create_user(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    let input = users::NewAccount {
        username: &form.username,
        display_name: &form.display_name,
        role: &form.role,
        kind: AccountKind::Staff,
        password: Some(&form.password),
    };
    match users::create(state.store.as_ref(), &staff.ctx, &input).await {
        Ok(_) => Ok(Redirect::to("/admin/users?added=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = users_page(
                &state,
                &staff,
                &form,
                &errors,
                None,
                Some("The account was not added; see the marked fields.".into()),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(f): Form<ActiveForm>,
) -> Result<Response, PageError> {
    let id: UserId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("user")))?;
    match users::set_active(state.store.as_ref(), &staff.ctx, id, f.active == "true").await {
        Ok(_) => Ok(Redirect::to("/admin/users?updated=1").into_response()),
        Err(AppError::Conflict(message)) => {
            let page =
                users_page(&state, &staff, &NewUserForm::default(), &FieldErrors::new(), None, Some(message)).await?;
            Ok((StatusCode::CONFLICT, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

#[derive(Template)]
#[template(path = "admin/reset_password.html")]
struct ResetPasswordPage {
    layout: Layout,
    id: String,
    username: String,
    display_name: String,
    fields: Vec<FieldView>,
    problem: Option<String>,
}

async fn reset_page(
    state: &AppState,
    staff: &Staff,
    id: UserId,
    errors: &FieldErrors,
    problem: Option<String>,
) -> Result<ResetPasswordPage, PageError> {
    let all = users::list(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let user = all
        .into_iter()
        .find(|u| u.id == id && u.kind == AccountKind::Staff)
        .ok_or_else(|| staff.fail(AppError::NotFound("user")))?;
    Ok(ResetPasswordPage {
        layout: Layout::new(state, Some(&staff.principal), "users"),
        id: user.id.to_string(),
        username: user.username.to_string(),
        display_name: user.display_name.clone(),
        fields: vec![
            FieldView::text("password", "Temporary password", "", errors)
                .kind("password")
                .hint("at least 12 characters, not a common one; they change it at next sign-in")
                .autocomplete("new-password"),
        ],
        problem,
    })
}

pub async fn reset_password_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: UserId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("user")))?;
    Ok(render(&reset_page(&state, &staff, id, &FieldErrors::new(), None).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetPasswordForm {
    password: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(f): Form<ResetPasswordForm>,
) -> Result<Response, PageError> {
    let id: UserId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("user")))?;
    match users::reset_password(state.store.as_ref(), &staff.ctx, id, &f.password).await {
        Ok(_) => Ok(Redirect::to("/admin/users?reset=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            let problem = Some("The password was not reset; see the marked field.".to_string());
            let page = reset_page(&state, &staff, id, &errors, problem).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

/// Turns off an account's two-step sign-in (a lost phone); audited.
pub async fn reset_mfa(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: UserId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("user")))?;
    kat_app::mfa::reset(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    Ok(Redirect::to("/admin/users?mfa_reset=1").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DirectorForm {
    active: String,
    reason: String,
    /// The admin's authenticator code (issue 12 item 8; kat_app::reauth).
    reauth_code: String,
}

pub async fn set_medical_director(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(f): Form<DirectorForm>,
) -> Result<Response, PageError> {
    let id: UserId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("user")))?;
    let reauth = kat_app::reauth::Reauth { code: &f.reauth_code, password: "" };
    match kat_app::intake::set_medical_director(
        state.store.as_ref(),
        &staff.ctx,
        id,
        f.active == "true",
        &f.reason,
        reauth,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/admin/users?updated=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            let problem = errors
                .for_field("reason")
                .map(|m| format!("Medical director: {m}"))
                .or_else(|| errors.for_field(kat_app::reauth::CODE_FIELD).map(|m| format!("Medical director: {m}")));
            let page = users_page(&state, &staff, &NewUserForm::default(), &FieldErrors::new(), None, problem).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: TokenId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("API token")))?;
    auth::revoke_token(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    Ok(Redirect::to("/admin/users?revoked=1").into_response())
}

struct AuditRowView {
    at: String,
    actor: String,
    action: &'static str,
    resource: String,
    patient: Option<String>,
    patient_label: String,
    /// A list view's patients: (id, short label).
    shown: Vec<(String, String)>,
    remote_addr: String,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditRowView>,
    user_options: Vec<(String, String)>,
    filter_user: String,
    filter_patient: String,
    filter_from: String,
    filter_to: String,
    problem: Option<String>,
    older_href: Option<String>,
    anonymous: Vec<AnonymousRowView>,
    anonymous_more_href: Option<String>,
}

/// One client address's anonymous failures in one window (issue 12 item 3).
struct AnonymousRowView {
    source: String,
    window: String,
    failures: i64,
    last: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    user: String,
    patient: String,
    from: String,
    to: String,
    before: Option<i64>,
    /// The page of the anonymous failures table.
    anonymous_page: Option<u32>,
}

const ANONYMOUS_PAGE_SIZE: u32 = 10;

/// Turns the audit filter's text into a filter; dates are days in the clinic's zone.
pub fn parse_audit_filter(
    tz: &jiff::tz::TimeZone,
    user: &str,
    patient: &str,
    from: &str,
    to: &str,
    before: Option<i64>,
    limit: u32,
) -> Result<AuditFilter, FieldErrors> {
    let mut errors = FieldErrors::new();
    let user_id = if user.trim().is_empty() {
        None
    } else {
        errors.take("user", user.parse::<UserId>().map_err(|_| "is not a user id"))
    };
    let patient_id = if patient.trim().is_empty() {
        None
    } else {
        errors.take("patient", patient.parse::<PatientId>().map_err(|_| "is not a patient id"))
    };
    let day = |field: &str, raw: &str, errors: &mut FieldErrors| -> Option<Date> {
        if raw.trim().is_empty() {
            return None;
        }
        errors.take(field, parse_iso_date(raw.trim()).ok_or("is not a date (YYYY-MM-DD)"))
    };
    let from_day = day("from", from, &mut errors);
    let to_day = day("to", to, &mut errors);
    if let (Some(f), Some(t)) = (from_day, to_day)
        && t < f
    {
        errors.add("to", "is before the start date");
    }
    let start_of = |d: Date| d.to_zoned(tz.clone()).map(|z| z.timestamp()).ok();
    errors.into_result(|| AuditFilter {
        user_id,
        patient_id,
        from: from_day.and_then(start_of),
        // "To" is inclusive for people: up to the start of the next day.
        to: to_day.and_then(|d| d.tomorrow().ok()).and_then(start_of),
        before_seq: before,
        limit: limit.clamp(1, MAX_AUDIT_PAGE),
    })
}

const AUDIT_PAGE_SIZE: u32 = 100;

pub async fn audit(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let tz = &state.config.time_zone;
    let (filter, problem) = match parse_audit_filter(tz, &q.user, &q.patient, &q.from, &q.to, q.before, AUDIT_PAGE_SIZE)
    {
        Ok(f) => (f, None),
        Err(e) => (AuditFilter { limit: AUDIT_PAGE_SIZE, ..Default::default() }, Some(format!("Filter ignored: {e}"))),
    };
    let entries = audit_log::query(state.store.as_ref(), &staff.ctx, &filter).await.map_err(|e| staff.fail(e))?;
    let all_users = users::list(state.store.as_ref(), &staff.ctx).await.map_err(|e| staff.fail(e))?;
    let anonymous_page =
        kat_core::page::PageRequest::new(q.anonymous_page, None, ANONYMOUS_PAGE_SIZE, ANONYMOUS_PAGE_SIZE);
    let anonymous = audit_log::anonymous_failures(state.store.as_ref(), &staff.ctx, anonymous_page)
        .await
        .map_err(|e| staff.fail(e))?;
    let anonymous_more_href =
        anonymous.has_next.then(|| format!("/admin/audit?anonymous_page={}#anonymous", anonymous_page.page() + 1));
    let older_href = if entries.len() as u32 == AUDIT_PAGE_SIZE {
        entries.last().map(|last| {
            format!(
                "/admin/audit?user={}&patient={}&from={}&to={}&before={}",
                url_encode(&q.user),
                url_encode(&q.patient),
                url_encode(&q.from),
                url_encode(&q.to),
                last.entry.seq
            )
        })
    } else {
        None
    };
    let rows = entries
        .iter()
        .map(|logged| {
            let en = &logged.entry.entry;
            let short = |p: String| {
                let label = format!("…{}", &p[28..]);
                (p, label)
            };
            AuditRowView {
                at: local_time_precise(en.at, tz),
                actor: en.actor.label.clone(),
                action: en.action.as_str(),
                resource: match &en.resource_id {
                    Some(id) => format!("{} {}", en.resource_type, id),
                    None => en.resource_type.clone(),
                },
                patient: en.patient_id.map(|p| p.to_string()),
                patient_label: en.patient_id.map(|p| format!("…{}", &p.to_string()[28..])).unwrap_or_default(),
                shown: logged.shown_patients.iter().map(|p| short(p.to_string())).collect(),
                remote_addr: en.remote_addr.clone(),
                outcome: en.outcome.as_str(),
            }
        })
        .collect();
    Ok(render(&AuditPage {
        layout: Layout::new(&state, Some(&staff.principal), "audit"),
        entries: rows,
        user_options: all_users.iter().map(|u| (u.id.to_string(), u.username.to_string())).collect(),
        filter_user: q.user,
        filter_patient: q.patient,
        filter_from: q.from,
        filter_to: q.to,
        problem,
        older_href,
        anonymous: anonymous
            .items
            .iter()
            .map(|w| AnonymousRowView {
                source: w.source.clone(),
                window: local_time_precise(w.window_start, tz),
                failures: w.failures,
                last: local_time_precise(w.last_at, tz),
            })
            .collect(),
        anonymous_more_href,
    }))
}
