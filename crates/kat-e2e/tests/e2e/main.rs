//! Real-browser journeys (headless Debian chromium through chromedriver). They run when
//! `KAT_E2E=1`; `KAT_CHROMIUM` and `KAT_CHROMEDRIVER` override the binaries' paths.
//! Screenshots go to `<target>/e2e-screenshots/`: look at them.

use fantoccini::{Client, ClientBuilder, Locator};
use kat_it::{Db, Options, spawn_app};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn enabled() -> bool {
    std::env::var("KAT_E2E").is_ok_and(|v| v == "1")
}

fn shots_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("e2e-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// chromedriver on a free port, killed (this process only) when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bin = std::env::var("KAT_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url }
}

async fn browser(d: &Driver, width: u32, height: u32) -> Client {
    let chromium = std::env::var("KAT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={width},{height}")],
            "mobileEmulation": {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0}}
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new()).capabilities(caps).connect(&d.url).await.expect("webdriver session")
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots_dir().join(name), png).expect("write screenshot");
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
    if !enabled() {
        eprintln!("*** SKIPPED browser test: set KAT_E2E=1 ***");
        return;
    }
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

    let d = driver().await;
    // The patient, on a 390x844 phone.
    let phone = browser(&d, 390, 844).await;
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
    phone.close().await.unwrap();

    // The clinician at the desk.
    app.add_staff("nurse.desk", kat_core_role_nurse()).await;
    let desk = browser(&d, 1280, 900).await;
    desk.goto(&app.url("/login")).await.unwrap();
    desk.find(Locator::Id("username")).await.unwrap().send_keys("nurse.desk").await.unwrap();
    desk.find(Locator::Id("password")).await.unwrap().send_keys("nurse.desk-password").await.unwrap();
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
    desk.close().await.unwrap();
    drop(d);
    app.stop().await;
}

fn kat_core_role_nurse() -> kat_core::role::Role {
    kat_core::role::Role::Nurse
}
