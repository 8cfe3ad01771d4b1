//! The live streams of the session screen and the floor board (server-sent events; see
//! `crate::live` for the mechanism, its audit rule and its sign-in checks).

use super::Staff;
use super::dosing::{FloorLive, LivePart, live_view, parse_session};
use crate::AppState;
use crate::error::PageError;
use crate::live::{self, Rendered};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use kat_app::AppError;
use kat_app::dosing as uc;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

pub fn router() -> Router<AppState> {
    Router::new().route("/sessions/{id}/stream", get(session_stream)).route("/floor/stream", get(floor_stream))
}

/// Forbidden or gone ends the stream; anything else (storage) is retried.
fn failed(e: &AppError) -> Rendered {
    match e {
        AppError::Forbidden | AppError::NotFound(_) | AppError::Unauthenticated => Rendered::Gone,
        _ => Rendered::Retry,
    }
}

fn html<T: Template>(t: &T) -> Rendered {
    match t.render() {
        Ok(h) => Rendered::Html(h),
        Err(e) => {
            tracing::error!(error = %e, "live template failed");
            Rendered::Gone
        }
    }
}

/// `GET /sessions/{id}/stream`: the session screen's live part, as server-sent events.
/// Opening it is the audited read of the session.
pub async fn session_stream(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let v = uc::session(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    let first = LivePart { live: live_view(&v, staff.ctx.now, &state.config.time_zone) }
        .render()
        .map_err(|e| staff.fail(AppError::Internal(e.to_string())))?;
    Ok(live::stream(state, live::session_secret(&headers), first, move |state, ctx| async move {
        match uc::session_live(state.store.as_ref(), &ctx, &state.config.dosing, id).await {
            Ok(v) => html(&LivePart { live: live_view(&v, ctx.now, &state.config.time_zone) }),
            Err(e) => failed(&e),
        }
    }))
}

/// `GET /floor/stream`: the floor board's live part, as server-sent events. Each session
/// is audited the first time this screen shows it.
pub async fn floor_stream(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let list =
        uc::floor_board(state.store.as_ref(), &staff.ctx, &state.config.dosing).await.map_err(|e| staff.fail(e))?;
    let seen: HashSet<_> = list.iter().map(|v| v.session.id).collect();
    let tz = state.config.time_zone.clone();
    let first = FloorLive { sessions: list.iter().map(|v| live_view(v, staff.ctx.now, &tz)).collect() }
        .render()
        .map_err(|e| staff.fail(AppError::Internal(e.to_string())))?;
    let seen = Arc::new(Mutex::new(seen));
    Ok(live::stream(state, live::session_secret(&headers), first, move |state, ctx| {
        let seen = seen.clone();
        async move {
            let mut shown = seen.lock().map(|s| s.clone()).unwrap_or_default();
            let result = uc::floor_board_live(state.store.as_ref(), &ctx, &state.config.dosing, &mut shown).await;
            if let Ok(mut s) = seen.lock() {
                *s = shown;
            }
            match result {
                Ok(list) => html(&FloorLive {
                    sessions: list.iter().map(|v| live_view(v, ctx.now, &state.config.time_zone)).collect(),
                }),
                Err(e) => failed(&e),
            }
        }
    }))
}
