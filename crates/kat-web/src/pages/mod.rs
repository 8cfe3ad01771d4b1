//! Server-rendered pages. Every page handler takes a [`Staff`] (or is the login page),
//! so an anonymous visitor is sent to sign in before any handler runs; each use case
//! then checks the role's permission itself.

mod access;
mod account;
mod admin;
pub use admin::parse_audit_filter;
mod course;
mod dose_order;
mod dosing;
mod dosing_live;
mod floor;
mod gate;
mod home;
mod intake;
mod login;
mod measures;
mod patients;
mod plan;
mod policy_form;
mod therapy;

use crate::AppState;
use crate::middleware::{Principal, RequestMeta, SessionExpired};
use crate::view::url_encode;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kat_app::{Actor, Ctx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::dashboard))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/login/code", get(login::code_form).post(login::code_submit))
        .route("/account/password", get(account::form).post(account::submit))
        .route("/account/mfa", get(account::mfa_form).post(account::mfa_confirm))
        .route("/account/mfa/recovery-codes", post(account::mfa_recovery_codes))
        .route("/patients", get(patients::list).post(patients::create))
        .route("/patients/new", get(patients::new_form))
        .route("/patients/{id}", get(patients::show).post(patients::update))
        .route("/patients/{id}/edit", get(patients::edit_form))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}/active", post(admin::set_active))
        .route("/admin/users/{id}/password", get(admin::reset_password_form).post(admin::reset_password))
        .route("/admin/users/{id}/mfa-reset", post(admin::reset_mfa))
        .route("/admin/users/{id}/medical-director", post(admin::set_medical_director))
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/break-glass", get(access::queue))
        .route("/admin/break-glass/{id}/review", post(access::review))
        .route("/patients/{id}/break-glass", post(access::break_glass))
        .route("/patients/{id}/intake", get(intake::form))
        .route("/patients/{id}/intake/history", get(intake::history))
        .route("/patients/{id}/intake/{section}", post(intake::save))
        .route("/patients/{id}/eligibility", get(intake::eligibility))
        .route("/patients/{id}/eligibility/decision", post(intake::sign))
        .route("/safety/same-day", get(intake::same_day))
        .route("/safety/same-day/{flag}", post(intake::dispose))
        .route("/admin/policy", get(intake::policy).post(intake::save_policy))
        .route("/eligibility/rules", get(intake::rules))
        .merge(measures::router())
        .merge(dosing::router())
        .merge(course::router())
        .merge(dose_order::router())
        .merge(dosing_live::router())
        .merge(plan::router())
        .merge(gate::router())
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
        .route("/s/{token}", get(therapy::patient_plan_landing).post(therapy::patient_plan))
}

/// A signed-in staff member making a page request.
pub struct Staff {
    pub principal: Principal,
    pub ctx: Ctx,
    pub meta: RequestMeta,
    /// The page asked for (path and query) when it was a GET: where break-glass returns.
    pub here: Option<String>,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let meta = parts.extensions.get::<RequestMeta>().cloned().expect("authenticate middleware runs first");
        let Some(mut principal) = parts.extensions.get::<Principal>().cloned() else {
            let next = parts.uri.path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_else(|| "/".into());
            // A form post cannot be replayed after sign-in; return to its page instead.
            let next = if parts.method == axum::http::Method::GET { next } else { "/".into() };
            let expired = if parts.extensions.get::<SessionExpired>().is_some() { "&expired=1" } else { "" };
            return Err(Redirect::to(&format!("/login?next={}{expired}", url_encode(&next))).into_response());
        };
        if principal.user.role.is_clinical() {
            // The same-day review banner (RCI-011, SUI-003) on every clinical staff page.
            principal.same_day_open = kat_app::intake::open_flag_count(state.store.as_ref())
                .await
                .map_err(|_| axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response())?;
        }
        let ctx = Ctx::new(
            Actor::User(principal.user.clone()),
            meta.remote_addr.clone(),
            meta.request_id.clone(),
            state.clock.now(),
            &state.config.time_zone,
        )
        .with_events(state.live.sink())
        .with_access(state.config.access)
        .with_throttle(state.config.sign_in);
        // The safety banner on every staff page (SUI-003); a failure must not hide it
        // silently, so it shows as "unknown" (-1).
        principal.open_safety_alerts =
            kat_app::measures::count_open_alerts(state.store.as_ref(), &ctx).await.unwrap_or(-1);
        let here = (parts.method == axum::http::Method::GET)
            .then(|| parts.uri.path_and_query().map(|pq| pq.as_str().to_string()))
            .flatten();
        Ok(Staff { principal, ctx, meta, here })
    }
}

impl Staff {
    /// Wraps a use-case error for a page, keeping the request id.
    pub fn fail(&self, error: kat_app::AppError) -> crate::error::PageError {
        let login_next = match &error {
            kat_app::AppError::BreakGlassRequired(_) => self.here.clone(),
            _ => None,
        };
        crate::error::PageError { error, request_id: self.meta.request_id.clone(), login_next }
    }
}
