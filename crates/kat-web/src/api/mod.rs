//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/openapi.json`, which is generated from these handlers.
//!
//! Callers authenticate with `Authorization: Bearer <token>` (`kat token create`), or
//! with a signed-in page session. Errors are `application/problem+json`.

mod audit;
mod contract;
mod dosing;
mod dosing_types;
mod extract;
mod intake;
mod measures;
mod patients;
mod schemas;
mod therapy;

use crate::AppState;
use crate::error::ApiError;
use crate::middleware::{Principal, RequestMeta};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
pub(crate) use extract::too_large;
use extract::{ApiJson, ApiJsonOrEmpty, ApiObject, ApiPath, ApiQuery, number_text, whole_number};
use kat_app::{Actor, AppError, Ctx};
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kat API",
        description = "The JSON API of kat, a clinical platform for ketamine-assisted therapy programs. \
                       Every call is audited. Times are RFC 3339 in UTC; dates are YYYY-MM-DD.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "patients", description = "The patient registry"),
        (name = "audit", description = "The append-only audit log (admins)"),
        (name = "intake", description = "Intake answers, eligibility screening (clinical.md §1) and the prescriber's decision"),
        (name = "measures", description = "Rating-scale responses, self-report links and urgent safety alerts"),
        (name = "therapy", description = "Psychotherapy: notes, process notes, safety plan, care team, program, timeline, worklist"),
        (name = "dosing", description = "Treatment plans and dosing sessions: pre-dose gate, administrations, vitals and alarms, discharge (clinical.md §2-§4)")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    // The operations on a patient's clinical record (clinical.md's record permissions):
    // a clinician off the patient's care team is refused without a break-glass grant.
    let mut record = OpenApiRouter::new()
        .routes(routes!(intake::read, intake::put))
        .routes(routes!(intake::eligibility))
        .routes(routes!(intake::decide))
        .routes(routes!(measures::record, measures::list))
        .routes(routes!(measures::acknowledge))
        .routes(routes!(therapy::list_notes, therapy::create_note))
        .routes(routes!(therapy::read_note, therapy::update_note))
        .routes(routes!(therapy::sign_note))
        .routes(routes!(therapy::add_addendum))
        .routes(routes!(therapy::list_process_notes, therapy::create_process_note))
        .routes(routes!(therapy::read_process_note))
        .routes(routes!(therapy::safety_plans, therapy::new_safety_plan))
        .routes(routes!(therapy::set_care_team))
        .routes(routes!(therapy::plan_program))
        .routes(routes!(therapy::timeline))
        .routes(routes!(dosing::create_plan, dosing::list_plans))
        .routes(routes!(dosing::sign_plan))
        .routes(routes!(dosing::open_session))
        .routes(routes!(dosing::read_session))
        .routes(routes!(dosing::gate))
        .routes(routes!(dosing::administer))
        .routes(routes!(dosing::vitals))
        .routes(routes!(dosing::acknowledge))
        .routes(routes!(dosing::discharge))
        .routes(routes!(dosing::adverse_event))
        .routes(routes!(dosing::intervention))
        .routes(routes!(dosing::dose_order))
        .routes(routes!(dosing::cadss6))
        .routes(routes!(dosing::rems_form))
        .routes(routes!(dosing::rems_submitted))
        .routes(routes!(dosing::rems_fields))
        .routes(routes!(dosing::transfer))
        .routes(routes!(dosing::gate_interactions))
        .routes(routes!(dosing::dose_suggestion));
    contract::on_patient_record(record.get_openapi_mut());
    // Demographics, the registry, links, lists across patients, the schedule (names and
    // kinds only), the audit log and break-glass itself.
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(patients::search, patients::create))
        .routes(routes!(patients::read, patients::patch))
        .routes(routes!(audit::list))
        .routes(routes!(measures::create_link))
        .routes(routes!(measures::alerts))
        .routes(routes!(therapy::care_team))
        .routes(routes!(therapy::break_glass))
        .routes(routes!(therapy::program))
        .routes(routes!(therapy::worklist))
        .routes(routes!(dosing::floor))
        .routes(routes!(dosing::rems_forms))
        .merge(record)
}

/// The OpenAPI document of every `/api/v1` route.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = router().split_for_parts();
    contract::complete(&mut doc);
    schemas::cross_field_rules(&mut doc);
    contract::text_rules(&mut doc);
    doc.info.version = crate::view::VERSION.to_string();
    doc
}

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    version: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    /// The newest database migration applied.
    migration_level: i64,
}

/// Liveness and version, for monitoring. No authentication; no patient data.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let level = state.store.migration_level().await.map_err(AppError::from)?;
    Ok(Json(Health {
        status: "ok",
        version: crate::view::VERSION,
        database: state.store.backend().as_str(),
        migration_level: level,
    }))
}

/// An authenticated API caller.
pub struct Caller {
    pub ctx: Ctx,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn fail(&self, error: AppError) -> ApiError {
        ApiError { error, request_id: self.meta.request_id.clone() }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let meta = parts.extensions.get::<RequestMeta>().cloned().expect("authenticate middleware runs first");
        let Some(principal) = parts.extensions.get::<Principal>().cloned() else {
            return Err(ApiError { error: AppError::Unauthenticated, request_id: meta.request_id });
        };
        let ctx = Ctx::new(
            Actor::User(principal.user),
            meta.remote_addr.clone(),
            meta.request_id.clone(),
            state.clock.now(),
            &state.config.time_zone,
        )
        .with_events(state.live.sink())
        .with_access(state.config.access)
        .with_throttle(state.config.sign_in);
        Ok(Caller { ctx, meta })
    }
}

/// One page of a JSON list: the items as a JSON array, and the other pages in an RFC 8288
/// `Link` header (`<…>; rel="prev"`, `<…>; rel="next"`), absent on a single page.
pub struct Paged<T>(pub crate::view::Pager, pub Vec<T>);

impl<T: Serialize> axum::response::IntoResponse for Paged<T> {
    fn into_response(self) -> axum::response::Response {
        let mut response = Json(self.1).into_response();
        if let Some(link) = self.0.link_header()
            && let Ok(value) = axum::http::HeaderValue::from_str(&link)
        {
            response.headers_mut().insert(axum::http::header::LINK, value);
        }
        response
    }
}

/// The API's query string of a page (`page`, `limit`) with the caller's other parameters.
pub(crate) fn page_href(path: &str, params: &[(&str, &str)], page: u32, limit: u32) -> String {
    let mut out = format!("{path}?");
    for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("{k}={}&", crate::view::url_encode(v)));
    }
    out.push_str(&format!("page={page}&limit={limit}"));
    out
}
