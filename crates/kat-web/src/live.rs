//! Live screens: the dosing-session screen and the clinic floor board update without
//! reloading, over server-sent events, following the use cases' domain events.
//!
//! How it works:
//! - The use cases tell typed [`DomainEvent`]s after they commit, through the
//!   [`EventSink`] of their context; every request's context carries [`LiveHub::sink`]
//!   (the `Staff` and `Caller` extractors set it), so no write is missed and nothing is
//!   told about a write that failed.
//! - [`LiveHub`] broadcasts each event to the open streams of this process, and (on
//!   PostgreSQL) relays it to the other kat processes on the same database with `NOTIFY`
//!   ([`kat_store::Store::notify`]): the payload is the event as compact JSON of ids,
//!   with this process's id to ignore its own. [`spawn_relay`] `LISTEN`s and feeds the
//!   others' events to this hub. On SQLite (one server per database file) events stay in
//!   the process.
//! - A stream is a [`LiveScreen`]: it says which events concern it (the session screen:
//!   its session; the floor board: every session) and, for those, renders only what
//!   changed as named events: `tile` (one floor-board tile), `order` (the tiles' order),
//!   `vital` (one new row of the vitals table), `summary` and `alarms` (the session
//!   screen's summary and alarm panel), `update` (a whole live part, when the screen
//!   opens or a session ends). Each fragment is one element with an `id` that the page's
//!   script (`kat.js`) replaces or inserts. The stream remembers the version of each
//!   fragment the screen holds and sends a fragment only when its version changed.
//! - On a steady [`TICK`] a stream renders everything again and sends what changed (the
//!   safety net: a lost notification, an event of a kind the screen does not follow, the
//!   next-check timer turning "due", ages of readings).
//! - The stream is one read: opening it is audited like loading the page; its updates
//!   are not audited again, except that the floor board audits each session that newly
//!   appears on it (every patient a user is shown is in the audit log once per screen).
//! - Each wake-up re-checks the sign-in with the same rule as a page request (idle and
//!   absolute timeouts, account active); events that arrive together are handled in one
//!   wake-up. When the sign-in ends, the stream sends `event: expired` and closes; the
//!   page reloads to the sign-in form.
//! - At shutdown [`LiveHub::close`] ends every stream and the relay, so a graceful
//!   shutdown does not wait on screens that never disconnect.

use crate::AppState;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use kat_app::auth::{self, Resolved};
use kat_app::events::{DomainEvent, EventPublisher, EventSink};
use kat_app::{Actor, Ctx};
use kat_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

/// How often an open stream renders everything again and re-checks the sign-in without
/// an event.
pub const TICK: Duration = Duration::from_secs(15);

/// How long a stream that is opening waits for this server to be listening to the other
/// processes' events (PostgreSQL), so that nothing told after it opened is missed.
const RELAY_READY_WAIT: Duration = Duration::from_secs(5);

/// The events of the live screens in this process.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Inner>,
}

struct Inner {
    events: broadcast::Sender<DomainEvent>,
    closed: watch::Sender<bool>,
    /// This process, named in what it relays so it can ignore its own notifications.
    origin: Uuid,
    /// Events to `NOTIFY` to the other processes (set by [`spawn_relay`]).
    outgoing: OnceLock<mpsc::UnboundedSender<DomainEvent>>,
    /// Whether this process hears the other processes' events yet (or never will).
    listening: watch::Sender<bool>,
}

impl EventPublisher for Inner {
    fn publish(&self, event: &DomainEvent) {
        // No receiver (no open screen) is not an error.
        let _ = self.events.send(event.clone());
        if let Some(out) = self.outgoing.get() {
            let _ = out.send(event.clone());
        }
    }
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

/// What crosses processes: the event and who told it (ids only, never patient data).
#[derive(Serialize, Deserialize)]
struct Envelope {
    from: Uuid,
    event: DomainEvent,
}

impl LiveHub {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(1024);
        let (closed, _) = watch::channel(false);
        let (listening, _) = watch::channel(false);
        Self { inner: Arc::new(Inner { events, closed, origin: Uuid::now_v7(), outgoing: OnceLock::new(), listening }) }
    }

    /// The sink a request's use cases tell their events to.
    pub fn sink(&self) -> EventSink {
        EventSink::new(self.inner.clone())
    }

    /// Tells this process's screens (and, with a relay, the other processes) an event.
    pub fn publish(&self, event: &DomainEvent) {
        self.inner.publish(event);
    }

    /// Tells this process's screens only (an event another process told).
    fn deliver(&self, event: DomainEvent) {
        let _ = self.inner.events.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.inner.events.subscribe()
    }

    /// Ends every open stream and the relay (server shutdown).
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    fn is_closed(&self) -> bool {
        *self.inner.closed.borrow()
    }

    /// Waits (boundedly) until this process hears the other processes' events.
    pub async fn relay_ready(&self) {
        let mut rx = self.inner.listening.subscribe();
        let _ = tokio::time::timeout(RELAY_READY_WAIT, rx.wait_for(|ready| *ready)).await;
    }
}

/// Relays events between the kat processes sharing `store`'s database: every event this
/// hub publishes is `NOTIFY`ed, and what the others notify is fed to this hub (its own
/// ignored). Without a channel between processes (SQLite), does nothing. Ends when the
/// hub is closed.
pub fn spawn_relay(hub: &LiveHub, store: Arc<dyn Store>) {
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<DomainEvent>();
    if hub.inner.outgoing.set(out_tx).is_err() {
        return; // already relaying
    }
    let hub = hub.clone();
    tokio::spawn(async move {
        let mut listener = match store.listen().await {
            Ok(Some(l)) => l,
            Ok(None) => {
                // In-process only: nothing to relay.
                hub.inner.listening.send_replace(true);
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "live events: cannot listen to other processes; this server's screens follow its own writes and the periodic refresh");
                hub.inner.listening.send_replace(true);
                return;
            }
        };
        hub.inner.listening.send_replace(true);
        let outgoing = {
            let (hub, store) = (hub.clone(), store.clone());
            tokio::spawn(async move {
                let mut closed = hub.inner.closed.subscribe();
                loop {
                    tokio::select! {
                        ev = out_rx.recv() => {
                            let Some(event) = ev else { return };
                            let payload = match serde_json::to_string(&Envelope { from: hub.inner.origin, event }) {
                                Ok(p) => p,
                                Err(_) => continue,
                            };
                            if let Err(e) = store.notify(&payload).await {
                                tracing::warn!(error = %e, "live events: notify failed");
                            }
                        }
                        _ = until_closed(&mut closed) => return,
                    }
                }
            })
        };
        let mut closed = hub.inner.closed.subscribe();
        loop {
            tokio::select! {
                r = listener.recv() => match r {
                    Ok(payload) => match serde_json::from_str::<Envelope>(&payload) {
                        Ok(env) if env.from != hub.inner.origin => hub.deliver(env.event),
                        Ok(_) => {}
                        Err(_) => tracing::warn!("live events: an unreadable notification was ignored"),
                    },
                    Err(e) => {
                        if hub.is_closed() {
                            break;
                        }
                        tracing::warn!(error = %e, "live events: listening failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                _ = until_closed(&mut closed) => break,
            }
        }
        drop(listener);
        outgoing.abort();
    });
}

async fn until_closed(closed: &mut watch::Receiver<bool>) {
    let _ = closed.wait_for(|c| *c).await;
}

/// The session cookie's secret, for re-checking the sign-in on each wake-up.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<String> {
    crate::middleware::session_secret(headers)
}

/// What a screen sends after a wake-up.
pub enum Changes {
    /// These events, in order (none when nothing changed).
    Send(Vec<Event>),
    /// The thing shown is gone or no longer readable: close the stream.
    Gone,
    /// The render failed for a passing reason (the database was busy): keep the stream
    /// and try again on the next event or tick.
    Retry,
}

/// One kind of live screen.
pub trait LiveScreen: Send + 'static {
    /// Whether this screen shows what `event` is about.
    fn follows(&self, event: &DomainEvent) -> bool;
    /// What changed after `events` (oldest first), or after everything may have changed
    /// (`full`: a tick, or events were missed), for the signed-in user's `ctx`.
    fn changes(
        &mut self,
        state: &AppState,
        ctx: &Ctx,
        events: &[DomainEvent],
        full: bool,
    ) -> impl Future<Output = Changes> + Send;
}

struct Run<S> {
    state: AppState,
    secret: Option<String>,
    screen: S,
    events: broadcast::Receiver<DomainEvent>,
    closed: watch::Receiver<bool>,
    tick: tokio::time::Interval,
    pending: VecDeque<Event>,
    done: bool,
}

/// A server-sent-event response that sends `first` (the whole live part, `update`),
/// then what changed after each event the screen follows and on each [`TICK`], until the
/// sign-in ends, the thing shown is gone, or the server shuts down. Subscribe (`events`)
/// before loading `first`, so that nothing told in between is lost.
pub fn stream<S: LiveScreen>(
    state: AppState,
    secret: Option<String>,
    events: broadcast::Receiver<DomainEvent>,
    first: Event,
    screen: S,
) -> Response {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let run = Run {
        closed: state.live.inner.closed.subscribe(),
        events,
        state,
        secret,
        screen,
        tick,
        pending: VecDeque::from([first]),
        done: false,
    };
    Sse::new(sse_events(run)).keep_alive(KeepAlive::default()).into_response()
}

/// A short fingerprint of a rendered fragment. A page carries the version of its live
/// part, a stream remembers the version of each fragment the screen holds, and only a
/// changed fragment is sent or replaced (an unchanged re-render on a tick does not
/// disturb someone typing in it).
pub fn version(html: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(html.as_bytes())[..8])
}

/// A named fragment event (`tile`, `vital`, `summary`, …), its id the fragment's version.
pub fn fragment(name: &'static str, html: &str) -> Event {
    Event::default().event(name).id(version(html)).data(html)
}

/// The whole live part (`update`).
pub fn update(html: &str) -> Event {
    fragment("update", html)
}

fn expired() -> Event {
    Event::default().event("expired").data("signed out")
}

fn sse_events<S: LiveScreen>(run: Run<S>) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    futures::stream::unfold(run, |mut run| async move {
        loop {
            if let Some(ev) = run.pending.pop_front() {
                return Some((Ok(ev), run));
            }
            if run.done || *run.closed.borrow() {
                return None;
            }
            let mut heard = Vec::new();
            let mut full = false;
            tokio::select! {
                r = run.events.recv() => match r {
                    Ok(e) => heard.push(e),
                    // A lagging receiver missed events: render everything.
                    Err(broadcast::error::RecvError::Lagged(_)) => full = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = run.tick.tick() => full = true,
                _ = run.closed.changed() => return None,
            }
            // Events that arrived together are handled in one wake-up.
            loop {
                match run.events.try_recv() {
                    Ok(e) => heard.push(e),
                    Err(broadcast::error::TryRecvError::Lagged(_)) => full = true,
                    Err(_) => break,
                }
            }
            heard.retain(|e| run.screen.follows(e));
            if heard.is_empty() && !full {
                continue;
            }
            let now = run.state.clock.now();
            let Some(ctx) = signed_in(&run.state, run.secret.as_deref(), now).await else {
                run.done = true;
                return Some((Ok(expired()), run));
            };
            match run.screen.changes(&run.state, &ctx, &heard, full).await {
                Changes::Send(events) => run.pending.extend(events),
                Changes::Retry => run.pending.push_back(Event::default().comment("retry")),
                Changes::Gone => {
                    run.done = true;
                    return Some((Ok(expired()), run));
                }
            }
        }
    })
}

/// The signed-in user's context now, or `None` when the sign-in has ended. The re-check
/// is not activity: it never keeps the sign-in alive, so a screen left alone ends at
/// the idle timeout and the page goes to sign-in (issue 12 item 9).
async fn signed_in(state: &AppState, secret: Option<&str>, now: jiff::Timestamp) -> Option<Ctx> {
    let secret = secret?;
    let anon = Ctx::new(Actor::Anonymous, "live".into(), None, now, &state.config.time_zone);
    let resolved = auth::resolve_session(
        state.store.as_ref(),
        &anon,
        secret,
        state.config.idle_timeout,
        state.config.absolute_timeout,
        auth::Activity::Background,
    )
    .await;
    match resolved {
        Ok(Resolved::User(user, _)) => Some(
            Ctx::new(Actor::User(user), "live".into(), None, now, &state.config.time_zone)
                .with_access(state.config.access),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kat_core::ids::{DosingSessionId, PatientId, VitalId};

    fn vital() -> DomainEvent {
        DomainEvent::VitalRecorded {
            session: DosingSessionId::from_uuid(Uuid::nil()),
            patient: PatientId::from_uuid(Uuid::nil()),
            vital: VitalId::from_uuid(Uuid::nil()),
        }
    }

    #[test]
    fn the_version_follows_the_content() {
        assert_eq!(version("<p>a</p>"), version("<p>a</p>"));
        assert_ne!(version("<p>a</p>"), version("<p>b</p>"));
        assert_eq!(version("").len(), 16);
    }

    #[tokio::test]
    async fn an_event_told_through_a_sink_reaches_every_subscriber_and_close_is_seen() {
        let hub = LiveHub::new();
        let mut a = hub.subscribe();
        let mut b = hub.subscribe();
        let mut closed = hub.inner.closed.subscribe();
        hub.sink().emit(vital());
        assert_eq!(a.recv().await.unwrap(), vital());
        assert_eq!(b.recv().await.unwrap(), vital());
        assert!(!*closed.borrow());
        hub.close();
        closed.changed().await.unwrap();
        assert!(*closed.borrow());
    }

    #[test]
    fn what_crosses_processes_is_ids_only() {
        let env = Envelope { from: Uuid::nil(), event: vital() };
        let json = serde_json::to_string(&env).unwrap();
        assert_eq!(
            json,
            r#"{"from":"00000000-0000-0000-0000-000000000000","event":{"type":"vital_recorded","session":"00000000-0000-0000-0000-000000000000","patient":"00000000-0000-0000-0000-000000000000","vital":"00000000-0000-0000-0000-000000000000"}}"#
        );
        assert!(json.len() < 8000, "within PostgreSQL's NOTIFY payload limit");
    }
}
