//! Live screens over server-sent events, driven by the use cases' domain events: a vital
//! sign posted over the API (a bedside monitor's route) reaches the session screen as
//! one new row (not the whole screen) with its summary and alarm panel, and the floor
//! board as one tile; opening a stream is one audited read, its updates are not audited
//! again; a sign-out ends the stream. On PostgreSQL, two servers on one database: an
//! alarm posted to one shows on the other's floor board (LISTEN/NOTIFY).

use crate::dosing::{manual, post, running_iv_session};
use crate::support::staff_with_token;
use kat_core::audit::{AuditAction, AuditFilter};
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use serde_json::json;
use std::time::Duration;

/// Reads `text/event-stream` events from a streaming response.
pub(crate) struct Events {
    response: reqwest::Response,
    buffer: String,
    /// The `id:` of the last event read (the fragment's version).
    last_id: String,
}

impl Events {
    pub(crate) async fn open(client: &reqwest::Client, url: String) -> Self {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self { response, buffer: String::new(), last_id: String::new() }
    }

    /// The next event with a name (comments and keep-alives skipped): `(event, data)`.
    pub(crate) async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        self.last_id = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                    }
                }
                if !event.is_empty() {
                    return (event, data.join("\n"));
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .expect("the stream is still open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Waits for an event named `name` whose data contains `needle`; other events are
    /// skipped.
    pub(crate) async fn named(&mut self, name: &str, needle: &str) -> String {
        loop {
            let (event, data) = self.next().await;
            assert_ne!(event, "expired", "the stream ended");
            if event == name && data.contains(needle) {
                return data;
            }
        }
    }
}

/// An insta snapshot of a live fragment, ids, versions and clock times redacted.
fn snapshot(name: &str, html: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[id]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[date time]");
    settings.add_filter(r"\b\d{2}:\d{2}\b", "[time]");
    settings.add_filter(r#"data-sort="\d+""#, r#"data-sort="[taken at]""#);
    settings.bind(|| insta::assert_snapshot!(name, html));
}

async fn session_reads_by(app: &TestApp, user: kat_core::ids::UserId) -> usize {
    let mut tx = app.store.begin().await.unwrap();
    let entries = tx
        .query_audit(&AuditFilter {
            user_id: Some(user),
            patient_id: None,
            from: None,
            to: None,
            before_seq: None,
            limit: 1000,
        })
        .await
        .unwrap();
    entries
        .iter()
        .filter(|e| {
            e.entry.resource_type == "dosing_session" && matches!(e.entry.action, AuditAction::Read | AuditAction::List)
        })
        .count()
}

async fn streams_send_only_what_changed(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.live", Role::Prescriber).await;
    let nurse = app.add_staff("nurse.live", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let web = app.client();
    app.login(&web, "nurse.live").await;

    let page = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    let shown = page
        .split("data-live-version=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("the page's live version")
        .to_string();
    let mut screen = Events::open(&web, app.url(&format!("/sessions/{sid}/stream"))).await;
    let first = screen.named("update", "Vitals").await;
    assert!(first.contains("No readings yet") && first.contains("id=\"vitals-body\""), "{first}");
    assert_eq!(screen.last_id, shown, "nothing changed since the page was loaded: the same version, not applied again");
    let board_page = web.get(app.url("/floor")).send().await.unwrap().text().await.unwrap();
    assert!(board_page.contains(&format!("id=\"tile-{sid}\"")), "one tile per session");
    let mut board = Events::open(&web, app.url("/floor/stream")).await;
    board.named("update", &format!("id=\"tile-{sid}\"")).await;
    let reads_after_opening = session_reads_by(&app, nurse.id).await;
    assert_eq!(reads_after_opening, 4, "one audited read per page (session, floor) and per stream opened");

    // A reading posted over the API (a machine feed's route) reaches both screens, as
    // the new row, the summary and the alarm panel; the board as the session's tile.
    let r = post(
        &app,
        &format!("/api/v1/sessions/{sid}/vitals"),
        &pt,
        json!({"systolic": 185, "diastolic": 100, "heart_rate": 90, "spo2": 97}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let row = screen.named("vital", "185/100").await;
    assert!(row.starts_with("<tr id=\"vital-") && row.trim_end().ends_with("</tr>"), "one row: {row}");
    assert!(!row.contains("<thead") && !row.contains("ALM-002"), "not the whole screen: {row}");
    snapshot("live_vital_row", &row);
    let summary = screen.named("summary", "185/100").await;
    assert!(summary.starts_with("<div id=\"session-summary\"") && summary.contains("mmHg"), "{summary}");
    let panel = screen.named("alarms", "ALM-002").await;
    assert!(panel.starts_with("<section id=\"alarm-panel\"") && panel.contains("sev-intervene"), "{panel}");
    assert!(!panel.contains("vitals-body"), "the panel alone: {panel}");
    snapshot("live_alarm_panel", &panel);
    snapshot("live_session_summary", &summary);
    let tile = board.named("tile", "ALM-002").await;
    assert!(tile.starts_with(&format!("<article id=\"tile-{sid}\"")), "{tile}");
    assert!(tile.contains("sev-intervene") && tile.contains("data-urgent") && tile.contains("185/100"), "{tile}");
    assert!(!tile.contains("floor-tiles"), "the tile alone, not the board: {tile}");
    snapshot("live_floor_tile", &tile);

    // A second reading: its row; the updates were not audited as new reads.
    let r = post(
        &app,
        &format!("/api/v1/sessions/{sid}/vitals"),
        &pt,
        json!({"systolic": 150, "diastolic": 90, "heart_rate": 88, "spo2": 98}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let row = screen.named("vital", "150/90").await;
    assert!(!row.contains("185/100"), "only the new row is sent: {row}");
    board.named("tile", "150/90").await;
    assert_eq!(
        session_reads_by(&app, nurse.id).await,
        reads_after_opening,
        "updates of an open stream are not new audited reads"
    );

    // Acknowledged on the page: the panel says so, the tile loses its alarm.
    let view = crate::dosing::get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await;
    let alarm = view["alarms"][0]["id"].as_str().unwrap().to_string();
    let r = web
        .post(app.url(&format!("/session-alarms/{alarm}/acknowledge")))
        .header("origin", &app.base_url)
        .form(&[("action", "Infusion paused"), ("session", &sid), ("back", "floor")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    screen.named("alarms", "Infusion paused").await;
    let tile = board.named("tile", "sev-none").await;
    assert!(!tile.contains("ALM-002") && !tile.contains("data-urgent"), "{tile}");

    // A refused role cannot open the streams at all.
    app.add_staff("desk.live", Role::FrontDesk).await;
    let desk = app.client();
    app.login(&desk, "desk.live").await;
    assert_eq!(desk.get(app.url(&format!("/sessions/{sid}/stream"))).send().await.unwrap().status(), 403);
    assert_eq!(desk.get(app.url("/floor/stream")).send().await.unwrap().status(), 403);

    // Signing out ends the stream with `expired` at its next event.
    let r = web.post(app.url("/logout")).header("origin", &app.base_url).send().await.unwrap();
    assert!(r.status().is_redirection() || r.status().is_success(), "{}", r.status());
    let r = post(&app, &format!("/api/v1/sessions/{sid}/vitals"), &pt, json!({"systolic": 140, "diastolic": 85})).await;
    assert_eq!(r.status(), 201);
    let (event, _) = screen.next().await;
    assert_eq!(event, "expired");
    app.stop().await;
}
on_both_databases!(live_streams_send_only_what_changed, streams_send_only_what_changed);

/// An open live screen is not activity (issue 12 item 9): updates it receives do not keep
/// the sign-in alive, so a board left alone past the idle timeout ends with `expired`.
async fn live_screens_obey_the_idle_timeout(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.idle", Role::Prescriber).await;
    app.add_staff("nurse.idle", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let web = app.client();
    app.login(&web, "nurse.idle").await;
    let mut board = Events::open(&web, app.url("/floor/stream")).await;
    board.named("update", &format!("id=\"tile-{sid}\"")).await;
    let vital = |systolic: u16| {
        let (app, pt, sid) = (&app, &pt, &sid);
        async move {
            let body = json!({"systolic": systolic, "diastolic": 80, "heart_rate": 70, "spo2": 98});
            assert_eq!(post(app, &format!("/api/v1/sessions/{sid}/vitals"), pt, body).await.status(), 201);
        }
    };
    // Ten minutes in, an update arrives (the screen re-checks the sign-in, which is still
    // good)…
    app.advance(jiff::SignedDuration::from_mins(10));
    vital(121).await;
    board.named("tile", "121/80").await;
    // …and sixteen minutes after the last request the next one ends it: the update of
    // minute 10 did not count as activity (the idle timeout is 15 minutes).
    app.advance(jiff::SignedDuration::from_mins(6));
    vital(122).await;
    let (event, _) = board.next().await;
    assert_eq!(event, "expired");
    app.stop().await;
}
on_both_databases!(live_screens_end_at_the_idle_timeout_when_left_alone, live_screens_obey_the_idle_timeout);

/// Two kat servers on one PostgreSQL database: the floor board open on B shows an alarm
/// posted to A within a bounded wait (the latency target itself is `kat bench`'s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_floor_board_across_two_servers_on_postgres() {
    let a = app_or_skip!(Db::Postgres, manual());
    let b = a.spawn_beside(manual()).await.expect("a second server on the same database");
    let (_, _, pt) = staff_with_token(&a, "pres.two", Role::Prescriber).await;
    b.add_staff("nurse.two", Role::Nurse).await;
    let sid = running_iv_session(&a, &pt).await;
    let web = b.client();
    b.login(&web, "nurse.two").await;
    let mut board = Events::open(&web, b.url("/floor/stream")).await;
    board.named("update", &format!("id=\"tile-{sid}\"")).await;

    let r = post(
        &a,
        &format!("/api/v1/sessions/{sid}/vitals"),
        &pt,
        json!({"systolic": 120, "diastolic": 80, "heart_rate": 80, "spo2": 86}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let tile = tokio::time::timeout(Duration::from_secs(5), board.named("tile", "ALM-001"))
        .await
        .expect("B's floor board shows the alarm posted to A within 5 s");
    assert!(tile.contains(&format!("id=\"tile-{sid}\"")) && tile.contains("86"), "{tile}");
    b.stop().await;
    a.stop().await;
}
