//! Sign in and sign out.

use crate::AppState;
use crate::middleware::{Principal, RequestMeta, session_cookie};
use crate::view::{Layout, render};
use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kat_app::{Actor, AppError, Ctx, auth};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    username: String,
    error: Option<String>,
    expired: bool,
    signed_out: bool,
    /// The idle timeout in words ("15 minutes").
    idle_text: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    expired: Option<String>,
    signed_out: Option<String>,
}

/// "15 minutes", "1 hour", "90 seconds": whole units only, the largest that fits.
fn duration_in_words(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let (n, unit) = if secs >= 3600 && secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else if secs >= 60 && secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Whether `next` is a path on this server (never another site: no open redirect).
pub(crate) fn is_local_path(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.contains('\\')
}

/// Only local paths may be a redirect target after sign-in.
fn safe_next(next: &str) -> String {
    if is_local_path(next) { next.to_string() } else { "/".to_string() }
}

fn page(
    state: &AppState,
    next: String,
    username: String,
    error: Option<String>,
    expired: bool,
    signed_out: bool,
) -> LoginPage {
    LoginPage {
        layout: Layout::new(state, None, "login"),
        next,
        username,
        error,
        expired,
        signed_out,
        idle_text: duration_in_words(state.config.idle_timeout),
    }
}

pub async fn form(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    Query(q): Query<LoginQuery>,
) -> Response {
    if principal.is_some() {
        return Redirect::to(&safe_next(&q.next)).into_response();
    }
    render(&page(&state, safe_next(&q.next), String::new(), None, q.expired.is_some(), q.signed_out.is_some()))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    Form(f): Form<LoginForm>,
) -> Response {
    let ctx = Ctx::new(
        Actor::Anonymous,
        meta.remote_addr.clone(),
        meta.request_id.clone(),
        state.clock.now(),
        &state.config.time_zone,
    )
    .with_throttle(state.config.sign_in);
    match auth::login(state.store.as_ref(), &ctx, &state.config.sign_in, &f.username, &f.password).await {
        Ok((_, auth::SignInStep::Code(challenge))) => {
            // The password was right; the code comes next. The challenge grants nothing
            // and has a cookie of its own, sent only to the code page.
            let mut r = Redirect::to(&format!("{CODE_PATH}?next={}", crate::view::url_encode(&safe_next(&f.next))))
                .into_response();
            r.headers_mut().append(header::SET_COOKIE, challenge_cookie(&state, &meta, Some(&challenge)));
            r
        }
        Ok((user, auth::SignInStep::Session(secret))) => {
            // A fresh session id at every sign-in: a session id planted before sign-in
            // is worthless afterwards. After an admin's reset, straight to choosing a
            // password of one's own; a role that must use two-step sign-in and has not set
            // it up (else the code would have been asked), straight to setting it up.
            let to = if user.must_change_password {
                crate::middleware::CHANGE_PASSWORD_PATH.to_string()
            } else if state.config.mfa.requires(user.role) {
                crate::middleware::MFA_PATH.to_string()
            } else {
                safe_next(&f.next)
            };
            let mut r = Redirect::to(&to).into_response();
            r.headers_mut().append(header::SET_COOKIE, session_cookie(&state, &meta, Some(&secret)));
            r
        }
        Err(AppError::Unauthenticated) => {
            let p = page(
                &state,
                safe_next(&f.next),
                f.username.clone(),
                Some("The username or password is not right, or the account is disabled.".into()),
                false,
                false,
            );
            (StatusCode::UNAUTHORIZED, render(&p)).into_response()
        }
        Err(AppError::TooManyAttempts { until }) => {
            let at = crate::view::local_time_precise(until, &state.config.time_zone);
            let p = page(
                &state,
                safe_next(&f.next),
                f.username.clone(),
                Some(format!(
                    "Too many failed sign-ins from this account or this computer. Try again after {at}, or ask an administrator to unlock the account."
                )),
                false,
                false,
            );
            let mut r = (StatusCode::TOO_MANY_REQUESTS, render(&p)).into_response();
            r.headers_mut().insert(header::RETRY_AFTER, crate::error::retry_after(until, ctx.now));
            r
        }
        Err(e) => {
            crate::error::PageError { error: e, request_id: meta.request_id.clone(), login_next: None }.into_response()
        }
    }
}

/// The second step of sign-in: the code from the authenticator app.
pub const CODE_PATH: &str = "/login/code";
const CHALLENGE_COOKIE: &str = "kat_sign_in_challenge";

/// The half-done sign-in's cookie: HttpOnly, only sent to the code page, gone after the
/// challenge's lifetime.
fn challenge_cookie(state: &AppState, meta: &RequestMeta, secret: Option<&str>) -> header::HeaderValue {
    let secure = match state.config.cookie_secure {
        crate::config::CookieSecure::Always => true,
        crate::config::CookieSecure::Never => false,
        crate::config::CookieSecure::Auto => meta.tls,
    };
    let mut cookie = match secret {
        Some(s) => format!(
            "{CHALLENGE_COOKIE}={s}; Path={CODE_PATH}; HttpOnly; SameSite=Strict; Max-Age={}",
            kat_app::mfa::CHALLENGE_LIFETIME.as_secs()
        ),
        None => format!("{CHALLENGE_COOKIE}=; Path={CODE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    if secure {
        cookie.push_str("; Secure");
    }
    header::HeaderValue::from_str(&cookie).expect("cookie is ASCII")
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    layout: Layout,
    next: String,
    error: Option<String>,
}

fn code_page(state: &AppState, next: String, error: Option<String>) -> CodePage {
    CodePage { layout: Layout::new(state, None, "login"), next, error }
}

pub async fn code_form(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    principal: Option<Extension<Principal>>,
    Query(q): Query<LoginQuery>,
) -> Response {
    if principal.is_some() {
        return Redirect::to(&safe_next(&q.next)).into_response();
    }
    if crate::middleware::cookie_value(&headers, CHALLENGE_COOKIE).is_none_or(|c| c.is_empty()) {
        return Redirect::to("/login").into_response();
    }
    render(&code_page(&state, safe_next(&q.next), None))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

pub async fn code_submit(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: axum::http::HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let ctx = Ctx::new(
        Actor::Anonymous,
        meta.remote_addr.clone(),
        meta.request_id.clone(),
        state.clock.now(),
        &state.config.time_zone,
    )
    .with_throttle(state.config.sign_in);
    let challenge = crate::middleware::cookie_value(&headers, CHALLENGE_COOKIE).unwrap_or_default();
    let result = if challenge.is_empty() {
        Err(AppError::Unauthenticated)
    } else {
        kat_app::mfa::complete_sign_in(state.store.as_ref(), &ctx, &state.config.sign_in, &challenge, &f.code).await
    };
    match result {
        Ok((user, secret)) => {
            let to = if user.must_change_password {
                crate::middleware::CHANGE_PASSWORD_PATH.to_string()
            } else {
                safe_next(&f.next)
            };
            let mut r = Redirect::to(&to).into_response();
            r.headers_mut().append(header::SET_COOKIE, session_cookie(&state, &meta, Some(&secret)));
            r.headers_mut().append(header::SET_COOKIE, challenge_cookie(&state, &meta, None));
            r
        }
        Err(AppError::Invalid(errors)) => {
            let message = errors
                .iter()
                .next()
                .map(|e| format!("The code {}.", e.message))
                .unwrap_or_else(|| "The code is not right.".into());
            let p = code_page(&state, safe_next(&f.next), Some(message));
            (StatusCode::UNAUTHORIZED, render(&p)).into_response()
        }
        Err(AppError::Unauthenticated) => {
            let p = page(
                &state,
                safe_next(&f.next),
                String::new(),
                Some("The sign-in took too long or has ended. Please sign in again.".into()),
                false,
                false,
            );
            let mut r = (StatusCode::UNAUTHORIZED, render(&p)).into_response();
            r.headers_mut().append(header::SET_COOKIE, challenge_cookie(&state, &meta, None));
            r
        }
        Err(AppError::TooManyAttempts { until }) => {
            let at = crate::view::local_time_precise(until, &state.config.time_zone);
            let p = code_page(
                &state,
                safe_next(&f.next),
                Some(format!(
                    "Too many failed sign-ins from this account or this computer. Try again after {at}, or ask an administrator to unlock the account."
                )),
            );
            let mut r = (StatusCode::TOO_MANY_REQUESTS, render(&p)).into_response();
            r.headers_mut().insert(header::RETRY_AFTER, crate::error::retry_after(until, ctx.now));
            r
        }
        Err(e) => {
            crate::error::PageError { error: e, request_id: meta.request_id.clone(), login_next: None }.into_response()
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    principal: Option<Extension<Principal>>,
) -> Response {
    if let Some(Extension(p)) = principal
        && let auth::Credential::Session { id_hash } = &p.credential
    {
        let ctx = Ctx::new(
            Actor::User(p.user.clone()),
            meta.remote_addr.clone(),
            meta.request_id.clone(),
            state.clock.now(),
            &state.config.time_zone,
        );
        if let Err(e) = auth::logout(state.store.as_ref(), &ctx, id_hash).await {
            return crate::error::PageError { error: e, request_id: meta.request_id.clone(), login_next: None }
                .into_response();
        }
    }
    let mut r = Redirect::to("/login?signed_out=1").into_response();
    r.headers_mut().append(header::SET_COOKIE, session_cookie(&state, &meta, None));
    r
}

#[cfg(test)]
mod tests {
    use super::duration_in_words;
    use jiff::SignedDuration;

    #[test]
    fn idle_timeout_in_words() {
        assert_eq!(duration_in_words(SignedDuration::from_mins(15)), "15 minutes");
        assert_eq!(duration_in_words(SignedDuration::from_mins(1)), "1 minute");
        assert_eq!(duration_in_words(SignedDuration::from_hours(2)), "2 hours");
        assert_eq!(duration_in_words(SignedDuration::from_mins(90)), "90 minutes");
        assert_eq!(duration_in_words(SignedDuration::from_secs(2)), "2 seconds");
        assert_eq!(duration_in_words(SignedDuration::from_secs(90)), "90 seconds");
    }
}
