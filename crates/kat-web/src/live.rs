//! Live screens: the dosing-session screen and the clinic floor board update without
//! reloading, over server-sent events (issue 5, "Live").
//!
//! How it works:
//! - [`LiveHub`] is an in-process broadcast of "dosing data changed". The
//!   [`publish_dosing_writes`] middleware publishes after every successful write to a
//!   dosing session (page form or API, nurse entry or a machine feed: they share the
//!   routes), so no use case can forget to.
//! - A live stream (`text/event-stream`) sends the rendered live part of the screen
//!   (`event: update`) when it opens, after each change, and on a steady tick (so the
//!   next-check timer turns "due" on time, and writes made by another kat process
//!   sharing the PostgreSQL database still show within one tick).
//! - The stream is one read: opening it is audited like loading the page; its updates
//!   are not audited again, except that the floor board audits each session that newly
//!   appears on it (every patient a user is shown is in the audit log once per screen).
//! - On every tick the sign-in session is checked again with the same rule as a page
//!   request (idle and absolute timeouts, account active). An open live screen counts as
//!   use, like the page polling it replaced; the absolute timeout still ends it. When the
//!   sign-in ends, the stream sends `event: expired` and closes; the page reloads to the
//!   sign-in form.
//! - At shutdown [`LiveHub::close`] ends every stream, so a graceful shutdown does not
//!   wait on screens that never disconnect.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use kat_app::auth::{self, Resolved};
use kat_app::{Actor, Ctx};
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often an open stream re-renders and re-checks the sign-in without a change.
pub const TICK: Duration = Duration::from_secs(15);

/// The in-process change feed of dosing data.
#[derive(Clone)]
pub struct LiveHub {
    changes: broadcast::Sender<()>,
    closed: watch::Sender<bool>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    pub fn new() -> Self {
        let (changes, _) = broadcast::channel(64);
        let (closed, _) = watch::channel(false);
        Self { changes, closed }
    }

    /// Tells every open live screen that dosing data changed.
    pub fn publish(&self) {
        // No receiver (no open screen) is not an error.
        let _ = self.changes.send(());
    }

    /// Ends every open stream (server shutdown).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// Whether a successful request to `path` with `method` wrote dosing data.
fn writes_dosing(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    path.starts_with("/sessions/")
        || path.starts_with("/session-alarms/")
        || (path.starts_with("/patients/") && path.contains("/sessions"))
}

/// Publishes a change after every successful write to a dosing session (see the module
/// documentation).
pub async fn publish_dosing_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let writes = writes_dosing(req.method(), req.uri().path());
    let response = next.run(req).await;
    let s = response.status();
    if writes && (s.is_success() || s.is_redirection()) {
        state.live.publish();
    }
    response
}

/// The session cookie's secret, for re-checking the sign-in on each tick.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<String> {
    crate::middleware::cookie_value(headers, crate::middleware::SESSION_COOKIE).filter(|s| !s.is_empty())
}

/// What one render of a live part gives.
pub enum Rendered {
    Html(String),
    /// The thing shown is gone or no longer readable: close the stream.
    Gone,
    /// This render failed for a passing reason (the database was busy): keep the stream
    /// and try again on the next change or tick.
    Retry,
}

struct Run<R> {
    state: AppState,
    secret: Option<String>,
    render: R,
    changes: broadcast::Receiver<()>,
    closed: watch::Receiver<bool>,
    tick: tokio::time::Interval,
    pending: Option<Event>,
    done: bool,
}

/// A server-sent-event response that sends `first`, then a fresh render of the live part
/// after each change and on each [`TICK`], until the sign-in ends, the thing shown is
/// gone, or the server shuts down. `render` is called with a context for the signed-in
/// user at the current time.
pub fn stream<R, F>(state: AppState, secret: Option<String>, first: String, render: R) -> Response
where
    R: FnMut(AppState, Ctx) -> F + Send + 'static,
    F: Future<Output = Rendered> + Send + 'static,
{
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let run = Run {
        changes: state.live.changes.subscribe(),
        closed: state.live.closed.subscribe(),
        state,
        secret,
        render,
        tick,
        pending: Some(update(first)),
        done: false,
    };
    Sse::new(events(run)).keep_alive(KeepAlive::default()).into_response()
}

/// A short fingerprint of a rendered live part. The page carries the version it was
/// rendered with and every update its own, so the screen only replaces what changed
/// (an unchanged re-render on a tick does not disturb someone clicking in it).
pub fn version(html: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(html.as_bytes())[..8])
}

fn update(html: String) -> Event {
    Event::default().event("update").id(version(&html)).data(html)
}

fn expired() -> Event {
    Event::default().event("expired").data("signed out")
}

fn events<R, F>(run: Run<R>) -> impl Stream<Item = Result<Event, Infallible>> + Send
where
    R: FnMut(AppState, Ctx) -> F + Send + 'static,
    F: Future<Output = Rendered> + Send + 'static,
{
    futures::stream::unfold(run, |mut run| async move {
        if let Some(ev) = run.pending.take() {
            return Some((Ok(ev), run));
        }
        if run.done || *run.closed.borrow() {
            return None;
        }
        tokio::select! {
            r = run.changes.recv() => match r {
                // A lagging receiver missed some changes: one render covers them all.
                Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            _ = run.tick.tick() => {}
            _ = run.closed.changed() => return None,
        }
        let now = run.state.clock.now();
        let ctx = match signed_in(&run.state, run.secret.as_deref(), now).await {
            Some(ctx) => ctx,
            None => {
                run.done = true;
                return Some((Ok(expired()), run));
            }
        };
        match (run.render)(run.state.clone(), ctx).await {
            Rendered::Html(html) => Some((Ok(update(html)), run)),
            Rendered::Retry => Some((Ok(Event::default().comment("retry")), run)),
            Rendered::Gone => {
                run.done = true;
                Some((Ok(expired()), run))
            }
        }
    })
}

/// The signed-in user's context now, or `None` when the sign-in has ended. The session
/// is resolved (and so kept alive, within the absolute timeout) exactly as a page
/// request would resolve it.
async fn signed_in(state: &AppState, secret: Option<&str>, now: jiff::Timestamp) -> Option<Ctx> {
    let secret = secret?;
    let anon = Ctx::new(Actor::Anonymous, "live".into(), None, now, &state.config.time_zone);
    let resolved = auth::resolve_session(
        state.store.as_ref(),
        &anon,
        secret,
        state.config.idle_timeout,
        state.config.absolute_timeout,
    )
    .await;
    match resolved {
        Ok(Resolved::User(user, _)) => {
            Some(Ctx::new(Actor::User(user), "live".into(), None, now, &state.config.time_zone))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dosing_writes_are_recognised_by_path_and_method() {
        assert!(writes_dosing(&Method::POST, "/sessions/abc/vitals"));
        assert!(writes_dosing(&Method::POST, "/api/v1/sessions/abc/vitals"));
        assert!(writes_dosing(&Method::POST, "/session-alarms/abc/acknowledge"));
        assert!(writes_dosing(&Method::POST, "/api/v1/patients/p/plans/x/sessions"));
        assert!(!writes_dosing(&Method::GET, "/sessions/abc"));
        assert!(!writes_dosing(&Method::POST, "/patients/p/intake"));
        assert!(!writes_dosing(&Method::POST, "/api/v1/measures"));
    }

    #[test]
    fn the_version_follows_the_content() {
        assert_eq!(version("<p>a</p>"), version("<p>a</p>"));
        assert_ne!(version("<p>a</p>"), version("<p>b</p>"));
        assert_eq!(version("").len(), 16);
    }

    #[tokio::test]
    async fn a_publish_reaches_every_subscriber_and_close_is_seen() {
        let hub = LiveHub::new();
        let mut a = hub.changes.subscribe();
        let mut b = hub.changes.subscribe();
        let mut closed = hub.closed.subscribe();
        hub.publish();
        assert!(a.recv().await.is_ok());
        assert!(b.recv().await.is_ok());
        assert!(!*closed.borrow());
        hub.close();
        closed.changed().await.unwrap();
        assert!(*closed.borrow());
    }
}
