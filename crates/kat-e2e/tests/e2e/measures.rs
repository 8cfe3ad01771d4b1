//! A patient fills a PHQ-9 on a phone through a one-time link, answers item 9 above 0,
//! and the urgent alert reaches the clinician's dashboard.

use fantoccini::{Client, Locator};
use kat_e2e::Browser;
use kat_it::{Db, Options, password_of, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let dir = kat_e2e::screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

/// Waits until the page source contains `text` (a click does not wait for navigation).
async fn wait_for_text(c: &Client, text: &str) -> String {
    for _ in 0..50 {
        let s = c.source().await.unwrap();
        if s.contains(text) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page never showed {text:?}");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_fills_phq9_on_a_phone_and_the_alert_reaches_the_clinician() {
    kat_e2e::e2e_or_skip!();
    let app = spawn_app(Db::Sqlite, Options::default()).await.expect("app");
    let token = app.token("nurse.e2e", kat_core_role_nurse()).await;
    let http = reqwest::Client::new();
    let p: Value = http
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Robin", "family_name": "Example", "birth_date": "1990-05-01", "sex_at_birth": "female"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    let link: Value = http
        .post(app.url(&format!("/api/v1/patients/{id}/self-report-links")))
        .bearer_auth(&token)
        .json(&json!({"instruments": ["phq9"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = link["path"].as_str().unwrap().to_string();

    // The patient, on a 390x844 phone.
    let phone_browser = Browser::start("self_report_phone").await;
    phone_browser.client.set_window_size(390, 844).await.expect("phone-sized window");
    let phone = phone_browser.client.clone();
    phone.goto(&app.url(&path)).await.unwrap();
    shot(&phone, "self_report_phone_top.png").await;
    for item in 1..=8 {
        click(&phone, &format!("input[name='phq9_{item}'][value='1']")).await;
    }
    // Changes an answer before sending.
    click(&phone, "input[name='phq9_1'][value='3']").await;
    click(&phone, "input[name='phq9_1'][value='2']").await;
    click(&phone, "input[name='phq9_9'][value='1']").await;
    shot(&phone, "self_report_phone_answered.png").await;
    click(&phone, "button[type='submit']").await;
    let done = wait_for_text(&phone, "your answers were sent").await;
    assert!(done.contains("988"), "crisis resources shown");
    shot(&phone, "self_report_phone_done.png").await;
    // The link is spent.
    phone.goto(&app.url(&path)).await.unwrap();
    assert!(phone.source().await.unwrap().contains("already been sent"));
    shot(&phone, "self_report_phone_reused.png").await;

    // Issue 11 item 11: a second link, only question 1 answered. The page asks to confirm
    // the skipped questions (question 9 on its own) before anything is sent.
    let link2: Value = http
        .post(app.url(&format!("/api/v1/patients/{id}/self-report-links")))
        .bearer_auth(&token)
        .json(&json!({"instruments": ["phq9"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path2 = link2["path"].as_str().unwrap().to_string();
    phone.goto(&app.url(&path2)).await.unwrap();
    click(&phone, "input[name='phq9_1'][value='1']").await;
    click(&phone, "button[type='submit']:not([name])").await;
    let asked = wait_for_text(&phone, "Some questions are not answered yet").await;
    assert!(asked.contains("PHQ-9 question 9"), "question 9 asked about on its own");
    shot(&phone, "self_report_phone_incomplete_390x844.png").await;
    phone.set_window_size(1366, 900).await.expect("laptop-sized window");
    shot(&phone, "self_report_incomplete_1366x900.png").await;
    click(&phone, "button[name='confirm_skipped']").await;
    wait_for_text(&phone, "your answers were sent").await;
    phone_browser.finish().await;

    // The clinician at the desk.
    app.add_staff("nurse.desk", kat_core_role_nurse()).await;
    let desk_browser = Browser::start("clinician_desk").await;
    let desk = desk_browser.client.clone();
    desk.goto(&app.url("/login")).await.unwrap();
    desk.find(Locator::Id("username")).await.unwrap().send_keys("nurse.desk").await.unwrap();
    desk.find(Locator::Id("password")).await.unwrap().send_keys(&password_of("nurse.desk")).await.unwrap();
    click(&desk, "form button[type='submit']").await;
    wait_for_text(&desk, "Sign out").await;
    let banner = desk.find(Locator::Css(".safety-banner")).await.expect("alert banner on the dashboard");
    assert!(banner.text().await.unwrap().contains("1 urgent safety alert"));
    shot(&desk, "dashboard_alert_banner.png").await;
    click(&desk, ".safety-banner a").await;
    wait_for_text(&desk, "What to do").await;
    shot(&desk, "alerts_list.png").await;
    click(&desk, "a.button[href^='/alerts/']").await;
    wait_for_text(&desk, "What was done?").await;
    shot(&desk, "alert_acknowledge_form.png").await;
    desk.goto(&app.url(&format!("/patients/{id}#measures"))).await.unwrap();
    shot(&desk, "patient_measures.png").await;
    desk_browser.finish().await;
    app.stop().await;
}

fn kat_core_role_nurse() -> kat_core::role::Role {
    kat_core::role::Role::Nurse
}
