//! The floor board as a central station, in a browser: three IV sessions in progress,
//! one in emergency (SpO2 85 % on oxygen), one with a high BP (intervene), one calm.
//! Tiles are ordered by severity, the page title counts the open alarms, the chime is
//! switched on with a tap, and a new alarm posted over the API recolours and reorders
//! the board without a reload. Screenshots at 1920×1080 (a wall screen), 1366×900 and
//! 390×844 (a phone).

use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::role::Role;
use kat_e2e::Browser;
use kat_it::{Db, Options, TestApp, spawn_app};
use serde_json::{Map, Value, json};

pub(crate) async fn call(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
    let r = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

pub(crate) async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    call(app, reqwest::Method::POST, path, token, body).await
}

/// A patient with a complete intake and an accepted eligibility decision.
pub(crate) async fn eligible_patient(app: &TestApp, pt: &str, given: &str, family: &str) -> String {
    let p = post(
        app,
        "/api/v1/patients",
        pt,
        json!({"given_name": given, "family_name": family, "birth_date": "1980-05-05", "sex_at_birth": "female"}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let now = app.now();
    let today = now.to_zoned(TimeZone::UTC).date();
    let answers: Map<String, Value> =
        example_complete_answers(today).iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    call(
        app,
        reqwest::Method::PUT,
        &format!("/api/v1/patients/{id}/intake"),
        pt,
        json!({"answers": answers, "complete": true}),
    )
    .await;
    let e = call(app, reqwest::Method::GET, &format!("/api/v1/patients/{id}/eligibility"), pt, json!(null)).await;
    let reasons: Map<String, Value> = e["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "prescriber_review")
        .map(|f| (f["rule"].as_str().unwrap().to_string(), json!("reviewed")))
        .collect();
    post(
        app,
        &format!("/api/v1/patients/{id}/eligibility/decision"),
        pt,
        json!({"evaluation_id": e["evaluation_id"], "decision": "accept", "reasons": reasons}),
    )
    .await;
    id
}

/// A patient with a signed IV plan and a session whose infusion has started.
pub(crate) async fn running_session(app: &TestApp, pt: &str, given: &str, family: &str) -> String {
    let id = eligible_patient(app, pt, given, family).await;
    let now = app.now();
    let today = now.to_zoned(TimeZone::UTC).date();
    let plan = post(
        app,
        &format!("/api/v1/patients/{id}/treatment-plans"),
        pt,
        json!({
            "indication": "Treatment-resistant depression", "route": "iv_infusion",
            "protocol": "iv_single_standard", "product": "Ketamine HCl 50 mg/mL vial", "course_sessions": 6,
            "endpoint": "PHQ-9 response", "reassessment": "After session 3 and 6", "maintenance": "By interval",
            "dose_style": "per_kg", "kap_style": "psychedelic", "dose_mg_per_kg": "0.5", "weight_kg": 80,
            "weight_measured_on": today.to_string(), "concentration_mg_per_ml": 50, "infusion_minutes": 40,
            "first_session": today.to_string(), "interval_days": 3
        }),
    )
    .await;
    let plan_id = plan["id"].as_str().unwrap();
    post(app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), pt, json!({})).await;
    let s = post(app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), pt, json!({})).await;
    let sid = s["id"].as_str().unwrap().to_string();
    let gate = json!({"checklist": {
        "route": "iv_infusion", "dose_is_weight_based": true,
        "last_solid": {"at": (now - SignedDuration::from_hours(10)).to_string(), "kind": "fatty_or_meat"},
        "last_clear_liquid": (now - SignedDuration::from_hours(3)).to_string(),
        "blood_pressure": {"systolic": 124, "diastolic": 80}, "hypertensive_symptoms": false, "heart_rate": 72,
        "new_irregular_rhythm": false, "escort_confirmed": true, "no_driving_instruction_given": true,
        "intoxicated_or_in_withdrawal": false, "substance_use": "none_within_window", "childbearing_potential": false,
        "medication_changes_reviewed": true, "new_psychotic_or_manic_symptoms": false, "suicide_screen": "negative",
        "weight_measured_on": today.to_string()
    }});
    post(app, &format!("/api/v1/sessions/{sid}/gate"), pt, gate).await;
    post(
        app,
        &format!("/api/v1/sessions/{sid}/administrations"),
        pt,
        json!({"kind": "infusion_start", "administered_by": "RN Nurse", "monitored_by": "RN Nurse",
            "product": "Ketamine HCl 50 mg/mL", "concentration_mg_per_ml": 50, "lot": "L123",
            "expiry": "2099-12-31", "dose_mg": 40, "rate_ml_per_h": 2.4}),
    )
    .await;
    sid
}

async fn vitals(app: &TestApp, nt: &str, sid: &str, body: Value) {
    post(app, &format!("/api/v1/sessions/{sid}/vitals"), nt, body).await;
}

/// Sets the browser's viewport to `w`×`h` CSS pixels (the window is grown by what the
/// browser keeps for itself) and takes a screenshot.
pub(crate) async fn shot_at(b: &Browser, w: u32, h: u32, step: &str) {
    b.client.set_window_size(w, h).await.expect("window size");
    let inner = b.js("return [window.innerWidth, window.innerHeight];").await;
    let (iw, ih) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
    if (iw, ih) != (w, h) {
        b.client.set_window_size(w + (w - iw.min(w)), h + (h - ih.min(h))).await.expect("window size");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let inner = b.js("return [window.innerWidth, window.innerHeight];").await;
    assert_eq!(inner, json!([w, h]), "the viewport for {step}");
    b.screenshot(step).await;
}

async fn first_tile_class(b: &Browser) -> String {
    b.js("return document.querySelector('#floor-tiles').firstElementChild.className;").await.as_str().unwrap().into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floor_board_central_station_three_sessions_one_in_emergency() {
    kat_e2e::e2e_or_skip!();
    let start: jiff::Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
    let app = spawn_app(Db::Sqlite, Options { manual_clock: Some(start), ..Options::default() }).await.expect("app");
    let pt = app.token("pres.floor", Role::Prescriber).await;
    let nt = app.token("nurse.api", Role::Nurse).await;
    app.add_staff("nurse.floor", Role::Nurse).await;
    let calm = running_session(&app, &pt, "Maya", "Okafor").await;
    let high_bp = running_session(&app, &pt, "Jordan", "Lindqvist").await;
    let emergency = running_session(&app, &pt, "Ada", "Quinn").await;
    // Readings every five minutes: a trend on each tile.
    for (i, (sys, spo2)) in [(124, 98), (128, 97), (131, 96)].into_iter().enumerate() {
        app.advance(SignedDuration::from_mins(5));
        vitals(&app, &nt, &calm, json!({"systolic": sys, "diastolic": 78, "heart_rate": 72, "spo2": spo2, "respiratory_rate": 14, "moaas": 5})).await;
        vitals(&app, &nt, &high_bp, json!({"systolic": 150 + 12 * i, "diastolic": 92, "heart_rate": 88, "spo2": 97, "respiratory_rate": 16, "moaas": 4})).await;
        vitals(&app, &nt, &emergency, json!({"systolic": 118, "diastolic": 76, "heart_rate": 96, "spo2": 95 - 2 * i, "respiratory_rate": 12, "moaas": 4})).await;
    }
    app.advance(SignedDuration::from_mins(4));
    vitals(&app, &nt, &high_bp, json!({"systolic": 186, "diastolic": 104, "heart_rate": 92, "spo2": 97})).await;
    vitals(&app, &nt, &emergency, json!({"systolic": 112, "diastolic": 70, "heart_rate": 118, "spo2": 85, "on_supplemental_o2": "yes", "respiratory_rate": 9, "moaas": 3})).await;
    app.advance(SignedDuration::from_mins(1));

    let b = Browser::start("floor_central_station").await;
    b.login(&app, "nurse.floor").await;
    b.goto(&app.url("/floor")).await;
    b.wait_for_text("Live: ").await;
    // Most severe first: the emergency, then the high BP, then the calm session.
    let order = b
        .js("return Array.from(document.querySelectorAll('#floor-tiles > .tile')).map(function (t) { return t.id; });")
        .await;
    assert_eq!(order, json!([format!("tile-{emergency}"), format!("tile-{high_bp}"), format!("tile-{calm}")]));
    assert!(first_tile_class(&b).await.contains("sev-emergency"));
    let tile = b.text(&format!("#tile-{emergency}")).await;
    assert!(
        tile.contains("EMERGENCY")
            && tile.contains("SpO2 85%")
            && tile.contains("Ada Quinn")
            && tile.contains("KAT-000003"),
        "{tile}"
    );
    assert!(tile.contains("mmHg") && tile.contains("ago") && tile.contains("since the first dose"), "{tile}");
    let icon = b.text(&format!("#tile-{emergency} .tile-alarm-icon")).await;
    assert_eq!(icon, "✖", "colour, icon and words");
    assert!(
        b.find(&format!("#tile-{calm} svg.trend"))
            .await
            .attr("aria-label")
            .await
            .unwrap()
            .unwrap()
            .contains("systolic 124 to 131")
    );
    let title = b.js("return document.title;").await;
    assert!(title.as_str().unwrap().starts_with('(') && title.as_str().unwrap().contains("alarm"), "{title}");

    // The chime is switched on per screen (a tap: browsers play sound only after one).
    b.click("[data-chime-toggle]").await;
    assert_eq!(b.find("[data-chime-toggle]").await.attr("aria-pressed").await.unwrap().as_deref(), Some("true"));

    shot_at(&b, 1920, 1080, "1-wall-1920x1080").await;
    shot_at(&b, 1366, 900, "2-desktop-1366x900").await;
    shot_at(&b, 390, 844, "3-phone-390x844").await;
    shot_at(&b, 1920, 1080, "4-wall-again").await;

    // A new alarm on the calm session, posted over the API: recoloured and moved up
    // without a reload.
    b.js("window.katNoReload = true; return true;").await;
    let before = b.js("return document.title;").await;
    vitals(&app, &nt, &calm, json!({"systolic": 128, "diastolic": 80, "heart_rate": 70, "spo2": 97, "moaas": 0})).await;
    b.wait_for_text("MOAA/S 0").await;
    // Two emergencies: the one whose check is due comes first; the high BP goes last.
    let expected = json!([format!("tile-{emergency}"), format!("tile-{calm}"), format!("tile-{high_bp}")]);
    let mut order = Value::Null;
    for _ in 0..50 {
        order = b
            .js("return Array.from(document.querySelectorAll('#floor-tiles > .tile')).map(function (t) { return t.id; });")
            .await;
        if order == expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(order, expected, "the newly alarmed session moved up, the emergency stays first");
    assert_eq!(b.js("return window.katNoReload === true;").await, Value::Bool(true), "no reload");
    assert_ne!(b.js("return document.title;").await, before, "the title counts the new alarm");
    shot_at(&b, 1920, 1080, "5-new-alarm-live").await;
    b.finish().await;
    app.stop().await;
}
