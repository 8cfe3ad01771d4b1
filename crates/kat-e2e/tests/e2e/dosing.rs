//! A whole IV session in a browser: plan, gate and infusion set up over the API (those
//! pages are not built yet), then the nurse enters a high BP on the session screen, sees
//! the alarm with its recommended action, acknowledges it from the floor board with the
//! action taken, and after the infusion and the observation time the patient is
//! discharged; the session screen says so.

use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::role::Role;
use kat_e2e::Browser;
use kat_it::{Db, Options, TestApp, spawn_app};
use serde_json::{Map, Value, json};

async fn call(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
    let r = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iv_session_from_gate_to_discharge_with_a_high_bp_alarm() {
    kat_e2e::e2e_or_skip!();
    let start: jiff::Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
    let app = spawn_app(Db::Sqlite, Options { manual_clock: Some(start), ..Options::default() }).await.expect("app");
    let pt = app.token("pres.e2e", Role::Prescriber).await;
    let nt = app.token("nurse.api", Role::Nurse).await;
    app.add_staff("nurse.e2e", Role::Nurse).await;
    let post = reqwest::Method::POST;
    let p = call(&app, post.clone(), "/api/v1/patients", &pt, json!({"given_name": "Jordan", "family_name": "Example", "birth_date": "1985-02-02", "sex_at_birth": "male"})).await;
    let id = p["id"].as_str().unwrap().to_string();
    let today = start.to_zoned(TimeZone::UTC).date();
    let answers: Map<String, Value> = example_complete_answers(today).iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    call(&app, reqwest::Method::PUT, &format!("/api/v1/patients/{id}/intake"), &pt, json!({"answers": answers, "complete": true})).await;
    let e = call(&app, reqwest::Method::GET, &format!("/api/v1/patients/{id}/eligibility"), &pt, json!(null)).await;
    call(&app, post.clone(), &format!("/api/v1/patients/{id}/eligibility/decision"), &pt, json!({"evaluation_id": e["evaluation_id"], "decision": "accept"})).await;
    let plan = call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans"), &pt, json!({
        "indication": "Treatment-resistant depression", "route": "iv_infusion", "protocol": "iv_single_standard",
        "product": "Ketamine HCl 50 mg/mL vial", "course_sessions": 6, "endpoint": "PHQ-9 response",
        "reassessment": "After session 3 and 6", "maintenance": "Booster plan", "dose_style": "per_kg",
        "dose_mg_per_kg": 0.5, "weight_kg": 80, "weight_measured_on": today.to_string(), "concentration_mg_per_ml": 50,
        "infusion_minutes": 40, "first_session": today.to_string(), "interval_days": 3
    })).await;
    let plan_id = plan["id"].as_str().unwrap();
    call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await;
    let s = call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &nt, json!({})).await;
    let sid = s["id"].as_str().unwrap().to_string();
    let now = app.now();
    call(&app, post.clone(), &format!("/api/v1/sessions/{sid}/gate"), &nt, json!({"checklist": {
        "route": "iv_infusion", "dose_is_weight_based": true,
        "last_solid": {"at": (now - SignedDuration::from_hours(10)).to_string(), "kind": "fatty_or_meat"},
        "last_clear_liquid": (now - SignedDuration::from_hours(3)).to_string(),
        "blood_pressure": {"systolic": 122, "diastolic": 78}, "hypertensive_symptoms": false, "heart_rate": 70,
        "new_irregular_rhythm": false, "escort_confirmed": true, "no_driving_instruction_given": true,
        "intoxicated_or_in_withdrawal": false, "substance_use": "none_within_window", "childbearing_potential": false,
        "medication_changes_reviewed": true, "new_psychotic_or_manic_symptoms": false, "suicide_screen": "negative",
        "weight_measured_on": today.to_string()}})).await;
    call(&app, post.clone(), &format!("/api/v1/sessions/{sid}/administrations"), &nt, json!({
        "kind": "infusion_start", "administered_by": "RN Example", "monitored_by": "RN Example", "product": "Ketamine HCl 50 mg/mL",
        "concentration_mg_per_ml": 50, "lot": "L-77", "expiry": "2099-01-01", "dose_mg": 40, "rate_ml_per_h": 2.4})).await;

    let b = Browser::start("dosing_iv_session").await;
    b.login(&app, "nurse.e2e").await;
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Dosing session: Jordan Example").await;
    b.wait_for_text("diluted to 1.6 mL, 2.4 mL/h over 40 min").await;
    b.screenshot("1-session-started").await;
    b.fill("#systolic", "186").await;
    b.fill("#diastolic", "104").await;
    b.fill("#heart_rate", "92").await;
    b.fill("#spo2", "97").await;
    b.click("form[action$='/vitals'] button[type=submit]").await;
    b.wait_for_text("Intervene now").await;
    b.wait_for_text("Recommended: Pause or stop the infusion").await;
    b.screenshot("2-high-bp-alarm").await;

    b.goto(&app.url("/floor")).await;
    b.wait_for_text("ALM-002").await;
    b.screenshot("3-floor-board-alarm").await;
    b.fill("input[name='action']", "Infusion paused; BP 158/92 after 5 min; prescriber informed").await;
    b.click(".floor-session form button[type=submit]").await;
    b.wait_for_path("/floor").await;
    b.wait_for_text("Updates every 5 seconds").await;
    assert!(!b.body_text().await.contains("ALM-002"), "acknowledged alarms leave the floor board");
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Acknowledged").await;
    b.screenshot("4-alarm-acknowledged").await;

    // The infusion ends; after 60 minutes of observation with normal vitals, discharge.
    app.advance(SignedDuration::from_mins(40));
    call(&app, post.clone(), &format!("/api/v1/sessions/{sid}/administrations"), &nt, json!({"kind": "infusion_stop"})).await;
    app.advance(SignedDuration::from_mins(61));
    call(&app, post.clone(), &format!("/api/v1/sessions/{sid}/vitals"), &nt, json!({"systolic": 126, "diastolic": 80, "heart_rate": 74, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5})).await;
    call(&app, post.clone(), &format!("/api/v1/sessions/{sid}/discharge"), &nt, json!({"aldrete_total": 10, "moaas": 5,
        "dissociation_resolved": true, "able_to_walk_safely": true, "active_nausea": false, "suicidal_crisis": false,
        "escort_present": true, "written_instructions_given": true, "clinician_judges_stable": true})).await;
    b.login(&app, "nurse.e2e").await;
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Discharged").await;
    b.screenshot("5-discharged").await;
    b.finish().await;
    app.stop().await;
}

/// The demo esketamine session yields a complete Spravato REMS Patient Monitoring Form,
/// listed with its 7-day deadline and marked submitted from the worklist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esketamine_session_yields_a_complete_rems_form() {
    kat_e2e::e2e_or_skip!();
    let app = spawn_app(Db::Sqlite, Options::default()).await.expect("app");
    kat::demo::seed(app.store.as_ref(), app.now(), &TimeZone::UTC).await.expect("demo");
    app.add_staff("nurse.rems", Role::Nurse).await;
    let b = Browser::start("dosing_rems_form").await;
    b.login(&app, "nurse.rems").await;
    b.goto(&app.url("/rems")).await;
    b.wait_for_text("Spravato REMS Patient Monitoring Forms").await;
    b.wait_for_text("Complete").await;
    b.screenshot("1-worklist").await;
    b.click("table a[href$='/rems']").await;
    b.wait_for_text("SPRAVATO REMS Patient Monitoring Form").await;
    let body = b.body_text().await;
    assert!(!body.contains("The session record lacks"), "{body}");
    assert!(body.contains("56 mg") && body.contains("DEMO-LOT-24A"), "{body}");
    b.screenshot("2-form").await;
    b.goto(&app.url("/rems")).await;
    b.click("form[action$='/rems/submitted'] button").await;
    b.wait_for_text("Submitted").await;
    b.screenshot("3-submitted").await;
    b.finish().await;
    app.stop().await;
}
