//! Live screens over server-sent events, on both databases: the session screen and the
//! floor board receive a vital sign posted over the API (the route a bedside monitor's
//! feed will take) without reloading; opening a stream is one audited read, its updates
//! are not audited again; a sign-out ends the stream.

use crate::dosing::{manual, post, running_iv_session};
use crate::support::staff_with_token;
use kat_core::audit::{AuditAction, AuditFilter};
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use serde_json::json;
use std::time::Duration;

/// Reads `text/event-stream` events from a streaming response.
struct Events {
    response: reqwest::Response,
    buffer: String,
    /// The `id:` of the last event read (the live part's version).
    last_id: String,
}

impl Events {
    async fn open(client: &reqwest::Client, url: String) -> Self {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self { response, buffer: String::new(), last_id: String::new() }
    }

    /// The next event with a name (comments and keep-alives skipped): `(event, data)`.
    async fn next(&mut self) -> (String, String) {
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

    /// Waits for an `update` whose HTML contains `needle`.
    async fn update_containing(&mut self, needle: &str) -> String {
        loop {
            let (event, data) = self.next().await;
            assert_eq!(event, "update", "{data}");
            if data.contains(needle) {
                return data;
            }
        }
    }
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

async fn streams_update_without_reload(db: Db) {
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
    let first = screen.update_containing("Vitals").await;
    assert!(first.contains("No readings yet"), "{first}");
    assert_eq!(screen.last_id, shown, "nothing changed since the page was loaded: the same version, not applied again");
    let mut board = Events::open(&web, app.url("/floor/stream")).await;
    board.update_containing(&sid).await;
    let reads_after_opening = session_reads_by(&app, nurse.id).await;
    assert_eq!(reads_after_opening, 3, "one audited read for the page and one per stream opened");

    // A reading posted over the API (a machine feed's route) reaches both screens.
    let r = post(
        &app,
        &format!("/api/v1/sessions/{sid}/vitals"),
        &pt,
        json!({"systolic": 185, "diastolic": 100, "heart_rate": 90, "spo2": 97}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let html = screen.update_containing("185/100").await;
    assert_ne!(screen.last_id, shown, "a change is a new version");
    assert!(html.contains("ALM-002") && html.contains("sev-intervene"), "the alarm shows at once: {html}");
    board.update_containing("ALM-002").await;

    // A second reading: updates again, and the updates were not audited as new reads.
    let r = post(
        &app,
        &format!("/api/v1/sessions/{sid}/vitals"),
        &pt,
        json!({"systolic": 150, "diastolic": 90, "heart_rate": 88, "spo2": 98}),
    )
    .await;
    assert_eq!(r.status(), 201);
    screen.update_containing("150/90").await;
    assert_eq!(
        session_reads_by(&app, nurse.id).await,
        reads_after_opening,
        "updates of an open stream are not new audited reads"
    );

    // A write that fails (bad value) publishes nothing new worth showing; a refused
    // role cannot open the stream at all.
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
on_both_databases!(live_streams_update_screens_without_reload, streams_update_without_reload);
