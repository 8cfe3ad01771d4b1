//! Registering and finding a patient, and the audit trail those actions leave.

use crate::support::{app, register_patient};
use fantoccini::Locator;
use kat_core::role::Role;
use kat_e2e::{Browser, Options, TestApp, WAIT, e2e_or_skip};
use std::time::{Duration, Instant};

/// Types into the live search box and clicks the row htmx brings in.
async fn search_and_open(b: &Browser, app: &TestApp, patient_path: &str) {
    b.goto(&app.url("/patients")).await;
    // A mark on this page: it survives only if the results come in without a reload.
    b.js("window.__samePage = true;").await;
    b.fill("#q", "lovel").await;
    // htmx swaps only #results after a 300 ms pause (the unfiltered list is there
    // before it, so wait for the caption naming the search), then pushes the address.
    let row = format!("#results a[href='{patient_path}']");
    let deadline = Instant::now() + WAIT;
    loop {
        let caption = b.client.find(Locator::Css("#results caption")).await;
        let caption = match caption {
            Ok(c) => c.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let url = b.client.current_url().await.unwrap();
        if caption.contains("“lovel”") && url.query() == Some("q=lovel") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the live results for \"lovel\" never came (address {url}):\n{}",
            b.body_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        b.js("return window.__samePage === true;").await,
        serde_json::json!(true),
        "the page reloaded: not a live search"
    );
    assert_eq!(b.path().await, "/patients");
    let link = b.find(&row).await;
    assert_eq!(link.text().await.unwrap(), "Lovelace, Ada");
    b.screenshot("search-results").await;
    link.click().await.unwrap();
    b.wait_for_path(patient_path).await;
    b.wait_for_text("KAT-000001").await;
}

#[tokio::test]
async fn create_and_find_patient() {
    e2e_or_skip!();
    let app = app(Options::default()).await;
    app.add_staff("desk", Role::FrontDesk).await;
    let b = Browser::start("create_and_find_patient").await;
    b.login(&app, "desk").await;

    let patient_path = register_patient(&b, &app, true).await;
    b.screenshot("patient-page").await;
    search_and_open(&b, &app, &patient_path).await;
    let facts = b.text("dl.facts").await;
    assert!(facts.contains("1985-12-10") && facts.contains("Female"), "patient facts: {facts:?}");
    b.screenshot("opened-from-search").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test]
async fn audit_shows_browser_actions() {
    e2e_or_skip!();
    let app = app(Options::default()).await;
    app.add_staff("desk", Role::FrontDesk).await;
    app.add_staff("root", Role::Admin).await;
    let b = Browser::start("audit_shows_browser_actions").await;
    b.login(&app, "desk").await;
    let patient_path = register_patient(&b, &app, false).await;
    search_and_open(&b, &app, &patient_path).await;
    b.click("header .who button[type=submit]").await;
    b.wait_for_path("/login").await;

    b.login(&app, "root").await;
    b.goto(&app.url("/admin/audit")).await;
    b.find("table tbody tr").await;
    let rows = b
        .js("return Array.from(document.querySelectorAll('table tbody tr')).map(tr => Array.from(tr.cells).map(td => td.innerText.trim()));")
        .await;
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).expect("rows of cells");
    // Columns: When, Who, Action, Record, Patient, From, Outcome.
    let has = |action: &str| rows.iter().any(|r| r[1] == "desk" && r[2] == action && r[6].contains("allowed"));
    for action in ["create", "read", "list", "login"] {
        assert!(has(action), "no allowed {action:?} entry by desk in the audit log:\n{rows:#?}");
    }
    // The read and create entries name the patient.
    let patient_id = patient_path.trim_start_matches("/patients/");
    assert!(
        rows.iter().any(|r| r[1] == "desk" && r[2] == "create" && r[3].contains(patient_id)),
        "the create entry names the patient record:\n{rows:#?}"
    );
    b.screenshot("audit-log").await;
    b.finish().await;
    app.stop().await;
}
