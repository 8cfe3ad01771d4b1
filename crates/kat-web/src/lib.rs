//! The HTTP layer of kat: server-rendered pages (askama + vendored htmx), the JSON API
//! under `/api/v1` with its OpenAPI description, sign-in, CSRF protection and security
//! headers. Only this crate knows HTTP; the use cases live in [`kat_app`].

mod api;
pub mod clock;
pub mod config;
mod error;
pub mod live;
mod middleware;
mod pages;
mod view;

use axum::Router;
use axum::routing::get;
use clock::Clock;
use config::WebConfig;
use kat_store::Store;
use std::sync::Arc;
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use api::openapi_document;

/// Everything a request handler may use.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<WebConfig>,
    pub clock: Arc<dyn Clock>,
    /// The domain events of the live screens (session screen, floor board); every
    /// request's use cases tell theirs to it (`Ctx::events`).
    pub live: live::LiveHub,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: WebConfig, clock: Arc<dyn Clock>) -> Self {
        Self { store, config: Arc::new(config), clock, live: live::LiveHub::new() }
    }
}

/// The largest request body accepted (forms and JSON are small).
pub(crate) const BODY_LIMIT: usize = 256 * 1024;

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    let (api_router, _) = api::router().split_for_parts();
    let mut csrf = CsrfLayer::new().with_rejection_response(error::csrf_rejection);
    for origin in &state.config.trusted_origins {
        csrf = csrf.add_trusted_origin(origin).unwrap_or_else(|e| panic!("trusted origin {origin} is invalid: {e:?}"));
    }
    Router::new()
        .merge(pages::router())
        .merge(api_router)
        .route("/healthz", get(api::health))
        .route("/api/openapi.json", get(api::openapi_json))
        .route("/static/{*path}", get(view::static_file))
        // The request log names the matched route template, never the path's values.
        .route_layer(axum::middleware::from_fn(middleware::record_route))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(csrf)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // Outside the body-limit layer: an API body declared too long answers a problem.
        .layer(axum::middleware::from_fn(middleware::api_body_limit))
        // Outside the CSRF and body-limit layers, so their refusals carry the headers too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::from_fn(middleware::trace))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Outermost: a client's malformed or overlong request id is dropped, so the
        // server's own is used instead.
        .layer(axum::middleware::from_fn(middleware::drop_malformed_request_id))
        .with_state(state)
}
