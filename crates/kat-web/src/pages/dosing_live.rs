//! The live streams of the session screen and the floor board (server-sent events; see
//! `crate::live` for the mechanism, its audit rule and its sign-in checks). Each sends
//! only what changed: the session screen a new vitals row, its summary or its alarm
//! panel; the floor board one tile and the tiles' order.

use super::Staff;
use super::dosing::{parse_session, render_live};
use super::floor::{AlarmPanel, FloorLive, SummaryFragment, TileFragment, VitalRowFragment, html, tile_id, tile_view};
use crate::AppState;
use crate::error::PageError;
use crate::live::{self, Changes, LiveScreen, fragment};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event;
use axum::routing::get;
use kat_app::dosing as uc;
use kat_app::events::DomainEvent;
use kat_app::live::{self as uc_live, Tile};
use kat_app::{AppError, Ctx};
use kat_core::ids::{DosingSessionId, VitalId};
use std::collections::{HashMap, HashSet};

pub fn router() -> Router<AppState> {
    Router::new().route("/sessions/{id}/stream", get(session_stream)).route("/floor/stream", get(floor_stream))
}

/// Forbidden or gone ends the stream; anything else (storage) is retried.
fn failed(e: &AppError) -> Changes {
    match e {
        AppError::Forbidden | AppError::BreakGlassRequired(_) | AppError::NotFound(_) | AppError::Unauthenticated => {
            Changes::Gone
        }
        AppError::Internal(msg) => {
            tracing::error!(error = %msg, "live render failed");
            Changes::Gone
        }
        _ => Changes::Retry,
    }
}

/// The session screen: follows its own session's events.
struct SessionScreen {
    id: DosingSessionId,
    /// The versions of the whole part, the summary and the alarm panel the screen holds,
    /// and the rows it has.
    full: String,
    summary: String,
    alarms: String,
    rows: HashSet<VitalId>,
}

impl SessionScreen {
    /// The whole live part again (a session that ended, or a reading older than the
    /// newest ones): sent when it differs from what the screen holds.
    async fn full(&mut self, state: &AppState, ctx: &Ctx) -> Changes {
        let v = match uc::session_live(state.store.as_ref(), ctx, &state.config.dosing, self.id).await {
            Ok(v) => v,
            Err(e) => return failed(&e),
        };
        let r = match render_live(&v, ctx.now, &state.config.time_zone, &state.config.dosing.alarms) {
            Ok(r) => r,
            Err(e) => return failed(&e),
        };
        let version = live::version(&r.html);
        self.summary = live::version(&r.summary);
        self.alarms = live::version(&r.alarms);
        self.rows = r.rows.into_iter().collect();
        if version == self.full {
            return Changes::Send(Vec::new());
        }
        self.full = version;
        Changes::Send(vec![live::update(&r.html)])
    }
}

impl LiveScreen for SessionScreen {
    fn follows(&self, event: &DomainEvent) -> bool {
        event.session() == self.id
    }

    async fn changes(&mut self, state: &AppState, ctx: &Ctx, events: &[DomainEvent], _full: bool) -> Changes {
        let tz = &state.config.time_zone;
        let (tile, alarms) =
            match uc_live::session_live_part(state.store.as_ref(), ctx, &state.config.dosing, self.id).await {
                Ok(Some(part)) => part,
                Ok(None) => return self.full(state, ctx).await,
                Err(e) => return failed(&e),
            };
        // A reading told but older than the newest ones (a late entry): the whole part.
        let newest: HashSet<VitalId> = tile.readings.iter().map(|(id, _)| *id).collect();
        let missed = events.iter().any(|e| {
            matches!(e, DomainEvent::VitalRecorded { vital, .. } if !newest.contains(vital) && !self.rows.contains(vital))
        });
        if missed {
            return self.full(state, ctx).await;
        }
        let mut out = Vec::new();
        let view = tile_view(&tile, ctx.now, tz);
        let parts = (html(&SummaryFragment::new(&view, &tile)), html(&AlarmPanel::new(self.id, &alarms, tz)));
        let (summary, panel) = match parts {
            (Ok(s), Ok(p)) => (s, p),
            (Err(e), _) | (_, Err(e)) => return failed(&e),
        };
        // New rows, oldest first (each is put in its place by the time taken).
        for (id, reading) in tile.readings.iter().rev() {
            if self.rows.insert(*id) {
                match html(&VitalRowFragment::new(*id, reading, tz, &state.config.dosing.alarms)) {
                    Ok(row) => out.push(fragment("vital", &row)),
                    Err(e) => return failed(&e),
                }
            }
        }
        if live::version(&summary) != self.summary {
            self.summary = live::version(&summary);
            out.push(fragment("summary", &summary));
        }
        if live::version(&panel) != self.alarms {
            self.alarms = live::version(&panel);
            out.push(fragment("alarms", &panel));
        }
        if !out.is_empty() {
            // The whole part is no longer what the screen was first sent.
            self.full.clear();
        }
        Changes::Send(out)
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
    state.live.relay_ready().await;
    let events = state.live.subscribe();
    let v = uc::session(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    let r = render_live(&v, staff.ctx.now, &state.config.time_zone, &state.config.dosing.alarms)
        .map_err(|e| staff.fail(e))?;
    let screen = SessionScreen {
        id,
        full: live::version(&r.html),
        summary: live::version(&r.summary),
        alarms: live::version(&r.alarms),
        rows: r.rows.into_iter().collect(),
    };
    Ok(live::stream(state, live::session_secret(&headers), events, live::update(&r.html), screen))
}

/// The floor board: follows every session's events.
struct FloorScreen {
    /// Sessions already audited as shown on this screen.
    seen: HashSet<DosingSessionId>,
    /// Each tile the screen holds: its version and its place in the order.
    tiles: HashMap<DosingSessionId, (String, SortKey)>,
    /// The order last sent.
    order: Vec<DosingSessionId>,
}

type SortKey =
    (std::cmp::Reverse<Option<kat_core::monitoring::alarms::Severity>>, bool, jiff::Timestamp, DosingSessionId);

impl FloorScreen {
    /// Sends `tile` if it differs from the screen's.
    fn put(&mut self, t: &Tile, ctx: &Ctx, state: &AppState, out: &mut Vec<Event>) -> Result<(), AppError> {
        let view = tile_view(t, ctx.now, &state.config.time_zone);
        let h = html(&TileFragment { t: &view })?;
        let version = live::version(&h);
        let key = t.sort_key(ctx.now);
        if self.tiles.get(&t.session).map(|(v, _)| v) != Some(&version) {
            out.push(fragment("tile", &h));
        }
        self.tiles.insert(t.session, (version, key));
        Ok(())
    }

    fn order(&self) -> Vec<DosingSessionId> {
        let mut list: Vec<(&SortKey, DosingSessionId)> = self.tiles.iter().map(|(id, (_, k))| (k, *id)).collect();
        list.sort();
        list.into_iter().map(|(_, id)| id).collect()
    }
}

impl LiveScreen for FloorScreen {
    fn follows(&self, _event: &DomainEvent) -> bool {
        true
    }

    async fn changes(&mut self, state: &AppState, ctx: &Ctx, events: &[DomainEvent], full: bool) -> Changes {
        let mut out = Vec::new();
        let config = &state.config.dosing;
        if full {
            let tiles = match uc_live::floor_board_live(state.store.as_ref(), ctx, config, &mut self.seen).await {
                Ok(t) => t,
                Err(e) => return failed(&e),
            };
            let shown: HashSet<DosingSessionId> = tiles.iter().map(|t| t.session).collect();
            self.tiles.retain(|id, _| shown.contains(id));
            for t in &tiles {
                if let Err(e) = self.put(t, ctx, state, &mut out) {
                    return failed(&e);
                }
            }
        } else {
            let mut sessions: Vec<DosingSessionId> = events.iter().map(|e| e.session()).collect();
            sessions.dedup();
            let mut done = HashSet::new();
            for id in sessions {
                if !done.insert(id) {
                    continue;
                }
                match uc_live::floor_tile_live(state.store.as_ref(), ctx, config, id, &mut self.seen).await {
                    Ok(Some(t)) => {
                        if let Err(e) = self.put(&t, ctx, state, &mut out) {
                            return failed(&e);
                        }
                    }
                    Ok(None) => {
                        self.tiles.remove(&id);
                    }
                    Err(e) => return failed(&e),
                }
            }
        }
        let order = self.order();
        if order != self.order {
            let ids: Vec<String> = order.iter().map(|id| tile_id(&id.to_string())).collect();
            out.push(Event::default().event("order").data(ids.join(" ")));
            self.order = order;
        }
        Changes::Send(out)
    }
}

/// `GET /floor/stream`: the floor board's live part, as server-sent events. Each session
/// is audited the first time this screen shows it.
pub async fn floor_stream(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    state.live.relay_ready().await;
    let events = state.live.subscribe();
    let tiles = uc_live::floor_board(state.store.as_ref(), &staff.ctx, &state.config.dosing)
        .await
        .map_err(|e| staff.fail(e))?;
    let mut screen = FloorScreen {
        seen: tiles.iter().map(|t| t.session).collect(),
        tiles: HashMap::new(),
        order: tiles.iter().map(|t| t.session).collect(),
    };
    let mut rendered = Vec::new();
    for t in &tiles {
        let view = tile_view(t, staff.ctx.now, &state.config.time_zone);
        let h = html(&TileFragment { t: &view }).map_err(|e| staff.fail(e))?;
        screen.tiles.insert(t.session, (live::version(&h), t.sort_key(staff.ctx.now)));
        rendered.push(h);
    }
    let first = html(&FloorLive { tiles: rendered }).map_err(|e| staff.fail(e))?;
    Ok(live::stream(state, live::session_secret(&headers), events, live::update(&first), screen))
}
