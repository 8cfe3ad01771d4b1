//! Server-rendered pages. Every page handler takes a [`Staff`] (or is the login page),
//! so an anonymous visitor is sent to sign in before any handler runs; each use case
//! then checks the role's permission itself.

mod admin;
pub use admin::parse_audit_filter;
mod home;
mod login;
mod patients;
mod therapy;

use crate::AppState;
use crate::app::{Actor, Ctx};
use crate::middleware::{Principal, RequestMeta, SessionExpired};
use crate::view::url_encode;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::dashboard))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/patients", get(patients::list).post(patients::create))
        .route("/patients/new", get(patients::new_form))
        .route("/patients/{id}", get(patients::show).post(patients::update))
        .route("/patients/{id}/edit", get(patients::edit_form))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}/active", post(admin::set_active))
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/admin/audit", get(admin::audit))
        .route("/worklist", get(therapy::worklist))
        .route("/patients/{id}/therapy", get(therapy::overview))
        .route("/patients/{id}/timeline", get(therapy::timeline))
        .route("/patients/{id}/notes", post(therapy::create_note))
        .route("/patients/{id}/notes/new", get(therapy::new_note))
        .route("/patients/{id}/notes/{note}", get(therapy::show_note).post(therapy::update_note))
        .route("/patients/{id}/notes/{note}/edit", get(therapy::edit_note))
        .route("/patients/{id}/notes/{note}/sign", post(therapy::sign_note))
        .route("/patients/{id}/notes/{note}/addenda", post(therapy::add_addendum))
        .route("/patients/{id}/process-notes", post(therapy::create_process_note))
        .route("/patients/{id}/process-notes/{note}", get(therapy::show_process_note))
        .route("/patients/{id}/care-team", post(therapy::set_care_team))
        .route("/patients/{id}/program", post(therapy::plan_program))
        .route("/patients/{id}/safety-plan", get(therapy::safety_plan).post(therapy::new_plan_version))
        .route("/patients/{id}/safety-plan/link", post(therapy::create_plan_link))
        .route("/s/{token}", get(therapy::patient_plan))
}

/// A signed-in staff member making a page request.
pub struct Staff {
    pub principal: Principal,
    pub ctx: Ctx,
    pub meta: RequestMeta,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let meta = parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .expect("authenticate middleware runs first");
        let Some(principal) = parts.extensions.get::<Principal>().cloned() else {
            let next = parts
                .uri
                .path_and_query()
                .map(|pq| pq.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            // A form post cannot be replayed after sign-in; return to its page instead.
            let next = if parts.method == axum::http::Method::GET { next } else { "/".into() };
            let expired = if parts.extensions.get::<SessionExpired>().is_some() { "&expired=1" } else { "" };
            return Err(Redirect::to(&format!("/login?next={}{expired}", url_encode(&next))).into_response());
        };
        let ctx = Ctx::new(
            Actor::User(principal.user.clone()),
            meta.remote_addr.clone(),
            meta.request_id.clone(),
            state.clock.now(),
            &state.config.time_zone,
        );
        Ok(Staff { principal, ctx, meta })
    }
}

impl Staff {
    /// Wraps a use-case error for a page, keeping the request id.
    pub fn fail(&self, error: crate::app::AppError) -> crate::error::PageError {
        crate::error::PageError {
            error,
            request_id: self.meta.request_id.clone(),
            login_next: None,
        }
    }
}
