//! A whole IV session in a browser: the prescriber drafts and signs the plan on the
//! treatment-plan page; the nurse starts the session from the patient's dosing-sessions
//! page, runs the pre-dose gate on its page and starts the infusion on the session page;
//! a high BP posted by a device over the API appears on the open session screen without
//! a reload (server-sent events), the nurse acknowledges it from the floor board with
//! the action taken, and after the infusion and the observation time the patient is
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

/// Sets a form control's value the way a user's choice would (date and datetime inputs
/// and selects have locale-dependent typing; the value is what the form posts).
async fn set(b: &Browser, id: &str, value: &str) {
    let script = format!(
        "var e = document.getElementById({id:?}); if (!e) {{ return false; }} e.value = {value:?}; e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value === {value:?};"
    );
    assert_eq!(b.js(&script).await, Value::Bool(true), "#{id} = {value}");
}

/// Polls `done` for up to ten seconds.
async fn until<F: std::future::Future<Output = bool>>(done: impl Fn() -> F) {
    for _ in 0..100 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page did not save within ten seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iv_session_from_gate_to_discharge_with_a_high_bp_alarm() {
    kat_e2e::e2e_or_skip!();
    let start: jiff::Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
    let app = spawn_app(Db::Sqlite, Options { manual_clock: Some(start), ..Options::default() }).await.expect("app");
    let pt = app.token("pres.api", Role::Prescriber).await;
    let nt = app.token("nurse.api", Role::Nurse).await;
    app.add_staff("pres.e2e", Role::Prescriber).await;
    app.add_staff("nurse.e2e", Role::Nurse).await;
    let post = reqwest::Method::POST;
    // Registration, intake and eligibility (their own browser tests exist) over the API.
    let p = call(
        &app,
        post.clone(),
        "/api/v1/patients",
        &pt,
        json!({"given_name": "Jordan", "family_name": "Example", "birth_date": "1985-02-02", "sex_at_birth": "male"}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let today = start.to_zoned(TimeZone::UTC).date();
    let answers: Map<String, Value> =
        example_complete_answers(today).iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    call(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/patients/{id}/intake"),
        &pt,
        json!({"answers": answers, "complete": true}),
    )
    .await;
    let e = call(&app, reqwest::Method::GET, &format!("/api/v1/patients/{id}/eligibility"), &pt, json!(null)).await;
    call(
        &app,
        post.clone(),
        &format!("/api/v1/patients/{id}/eligibility/decision"),
        &pt,
        json!({"evaluation_id": e["evaluation_id"], "decision": "accept"}),
    )
    .await;

    // The prescriber drafts the plan on its page: the dose and pump rate show; signs it.
    let b = Browser::start("dosing_iv_session").await;
    b.login(&app, "pres.e2e").await;
    b.goto(&app.url(&format!("/patients/{id}"))).await;
    b.click(&format!("a[href='/patients/{id}/treatment-plan']")).await;
    b.wait_for_text("New draft plan").await;
    b.fill("#indication", "Treatment-resistant depression").await;
    set(&b, "route", "iv_infusion").await;
    set(&b, "protocol", "iv_single_standard").await;
    b.fill("#product", "Ketamine HCl 50 mg/mL vial").await;
    b.fill("#course_sessions", "6").await;
    b.fill("#endpoint", "PHQ-9 response (50% reduction) or remission").await;
    b.fill("#reassessment", "After session 3 and 6").await;
    set(&b, "dose_style", "per_kg").await;
    set(&b, "kap_style", "psychedelic").await;
    b.fill("#dose_mg_per_kg", "0.5").await;
    b.fill("#weight_kg", "80").await;
    set(&b, "weight_measured_on", &today.to_string()).await;
    b.fill("#concentration_mg_per_ml", "50").await;
    b.fill("#infusion_minutes", "40").await;
    set(&b, "first_session", &today.to_string()).await;
    b.fill("#interval_days", "3").await;
    b.screenshot("1-plan-form").await;
    b.click("form[action$='/treatment-plan'] button[type=submit]").await;
    b.wait_for_text("Draft: not signed").await;
    b.wait_for_text("40 mg").await;
    b.click("form[action$='/sign'] button[type=submit]").await;
    b.wait_for_text("Signed ").await;
    b.screenshot("2-plan-signed").await;

    // The nurse starts today's session from the dosing-sessions page and runs the gate.
    b.click("form[action='/logout'] button").await;
    b.wait_for_path("/login").await;
    b.login(&app, "nurse.e2e").await;
    b.goto(&app.url(&format!("/patients/{id}"))).await;
    b.click(&format!("a[href='/patients/{id}/dosing']")).await;
    b.wait_for_text("(today)").await;
    b.screenshot("3-dosing-sessions").await;
    b.click("form[action$='/sessions'] button[type=submit]").await;
    b.wait_for_text("Drug interactions, rerun on the current medication list").await;
    let now = app.now();
    let local = |d: SignedDuration| (now - d).to_zoned(TimeZone::UTC).datetime().strftime("%Y-%m-%dT%H:%M").to_string();
    set(&b, "last_solid_at", &local(SignedDuration::from_hours(10))).await;
    set(&b, "last_solid_kind", "fatty_or_meat").await;
    set(&b, "last_clear_liquid_at", &local(SignedDuration::from_hours(3))).await;
    b.fill("#systolic", "122").await;
    b.fill("#diastolic", "78").await;
    b.fill("#heart_rate", "70").await;
    for (field, value) in [
        ("hypertensive_symptoms", "no"),
        ("new_irregular_rhythm", "no"),
        ("escort_confirmed", "yes"),
        ("no_driving_instruction_given", "yes"),
        ("intoxicated_or_in_withdrawal", "no"),
        ("substance_use", "none_within_window"),
        ("childbearing_potential", "no"),
        ("medication_changes_reviewed", "yes"),
        ("new_psychotic_or_manic_symptoms", "no"),
        ("suicide_screen", "negative"),
    ] {
        set(&b, field, value).await;
    }
    b.wait_for_text("80 kg measured on").await;
    b.screenshot("4-gate-form").await;
    b.click("form[action$='/gate'] button[type=submit]").await;
    b.wait_for_text("Gate passed").await;
    let sid = b.path().await.trim_start_matches("/sessions/").to_string();

    // The infusion starts on the session page.
    b.wait_for_text("diluted to 1.6 mL, 2.4 mL/h over 40 min").await;
    set(&b, "kind", "infusion_start").await;
    b.fill("#administered_by", "RN Example").await;
    b.fill("#monitored_by", "RN Example").await;
    b.fill("#product", "Ketamine HCl 50 mg/mL").await;
    b.fill("#concentration_mg_per_ml", "50").await;
    b.fill("#lot", "L-77").await;
    set(&b, "expiry", "2099-01-01").await;
    b.fill("#dose_mg", "40").await;
    b.fill("#rate_ml_per_h", "2.4").await;
    b.click("form[action$='/administrations'] button[type=submit]").await;
    b.wait_for_text("Live: ").await;
    b.screenshot("5-session-started").await;

    // A device posts a high BP over the API: the open screen shows the alarm, no reload.
    b.js("window.katNoReload = true; return true;").await;
    call(
        &app,
        post.clone(),
        &format!("/api/v1/sessions/{sid}/vitals"),
        &nt,
        json!({"systolic": 186, "diastolic": 104, "heart_rate": 92, "spo2": 97, "device_id": "monitor-1"}),
    )
    .await;
    b.wait_for_text("Intervene now").await;
    b.wait_for_text("Do now: Pause or stop the infusion").await;
    assert_eq!(b.js("return window.katNoReload === true;").await, Value::Bool(true), "the page was not reloaded");
    b.screenshot("6-high-bp-alarm-live").await;
    // "Record intervention" next to the open alarm: the form with that alarm chosen (INT-005).
    b.click("#session-live a[href*='#intervention']").await;
    b.fill("#int_action", "Infusion paused").await;
    b.click("form[action$='/interventions'] button[type=submit]").await;
    b.wait_for_text("Response: is required (INT-005)").await;
    b.fill("#int_response", "BP 158/92 after 5 min").await;
    b.click("form[action$='/interventions'] button[type=submit]").await;
    b.wait_for_text("BP 158/92 after 5 min").await;
    b.js("document.getElementById('interventions-h').scrollIntoView()").await;
    b.screenshot("6b-intervention-recorded").await;
    let body = b.body_text().await;
    assert!(body.contains("BP 186/104 (ALM-002)") && body.contains("Infusion paused"), "{body}");

    b.goto(&app.url("/floor")).await;
    b.wait_for_text("ALM-002").await;
    b.screenshot("7-floor-board-alarm").await;
    b.click(".tile-ack summary").await;
    b.fill(".tile-ack input[name='action']", "Infusion paused; BP 158/92 after 5 min; prescriber informed").await;
    b.click(".tile-ack form button[type=submit]").await;
    b.wait_for_path("/floor").await;
    b.wait_for_text("Live: ").await;
    assert!(!b.body_text().await.contains("ALM-002"), "acknowledged alarms leave the floor board");
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Acknowledged").await;
    b.screenshot("8-alarm-acknowledged").await;

    // The infusion ends; after 60 minutes of observation with normal vitals, discharge.
    app.advance(SignedDuration::from_mins(40));
    call(&app, post.clone(), &format!("/api/v1/sessions/{sid}/administrations"), &nt, json!({"kind": "infusion_stop"}))
        .await;
    app.advance(SignedDuration::from_mins(61));
    call(&app, post.clone(), &format!("/api/v1/sessions/{sid}/vitals"), &nt, json!({"systolic": 126, "diastolic": 80, "heart_rate": 74, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5})).await;
    call(
        &app,
        post.clone(),
        &format!("/api/v1/sessions/{sid}/discharge"),
        &nt,
        json!({"aldrete_total": 10, "moaas": 5,
        "dissociation_resolved": true, "able_to_walk_safely": true, "active_nausea": false, "suicidal_crisis": false,
        "escort_present": true, "written_instructions_given": true, "clinician_judges_stable": true}),
    )
    .await;
    b.login(&app, "nurse.e2e").await;
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Discharged").await;
    b.screenshot("9-discharged").await;
    b.finish().await;
    app.stop().await;
}

/// The demo esketamine session yields a complete Spravato REMS Patient Monitoring Form,
/// listed with its 7-day deadline and marked submitted from the worklist. Then a new
/// esketamine session: the nurse rates the MOAA/S on its own and the CADSS-6 on the
/// session page (an incomplete CADSS-6 is refused with the item named), and the REMS
/// form answers sedation and dissociation from those ratings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esketamine_session_yields_a_complete_rems_form() {
    kat_e2e::e2e_or_skip!();
    let start: jiff::Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
    let app = spawn_app(Db::Sqlite, Options { manual_clock: Some(start), ..Options::default() }).await.expect("app");
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

    // A new esketamine session, set up over the API up to the second device.
    let pt = app.token("pres.rems", Role::Prescriber).await;
    let post = reqwest::Method::POST;
    let p = call(
        &app,
        post.clone(),
        "/api/v1/patients",
        &pt,
        json!({"given_name": "Robin", "family_name": "Sample", "birth_date": "1979-06-06", "sex_at_birth": "female"}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let answers: Map<String, Value> =
        example_complete_answers(today).iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    call(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/patients/{id}/intake"),
        &pt,
        json!({"answers": answers, "complete": true}),
    )
    .await;
    let e = call(&app, reqwest::Method::GET, &format!("/api/v1/patients/{id}/eligibility"), &pt, json!(null)).await;
    let reasons: Map<String, Value> = e["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "prescriber_review")
        .map(|f| (f["rule"].as_str().unwrap().to_string(), json!("reviewed")))
        .collect();
    call(
        &app,
        post.clone(),
        &format!("/api/v1/patients/{id}/eligibility/decision"),
        &pt,
        json!({"evaluation_id": e["evaluation_id"], "decision": "accept", "reasons": reasons}),
    )
    .await;
    let plan = call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans"), &pt, json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
        "product": "Spravato 28 mg device", "course_sessions": 8, "endpoint": "Response at week 4",
        "reassessment": "End of induction (DOSE-IN-005)", "maintenance": "Weekly weeks 5-8",
        "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "with_oral_antidepressant", "dose_mg": 56, "first_session": today.to_string(), "interval_days": 3})).await;
    let plan_id = plan["id"].as_str().unwrap();
    call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await;
    let s =
        call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({}))
            .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let api = format!("/api/v1/sessions/{sid}");
    let now = app.now();
    call(&app, post.clone(), &format!("{api}/gate"), &pt, json!({"checklist": {
        "route": "intranasal_esketamine", "dose_is_weight_based": false,
        "last_solid": {"at": (now - SignedDuration::from_hours(10)).to_string(), "kind": "fatty_or_meat"},
        "last_clear_liquid": (now - SignedDuration::from_hours(3)).to_string(),
        "blood_pressure": {"systolic": 126, "diastolic": 80}, "hypertensive_symptoms": false, "heart_rate": 72,
        "new_irregular_rhythm": false, "escort_confirmed": true, "no_driving_instruction_given": true,
        "intoxicated_or_in_withdrawal": false, "substance_use": "none_within_window", "childbearing_potential": false,
        "medication_changes_reviewed": true, "new_psychotic_or_manic_symptoms": false, "suicide_screen": "negative",
        "weight_measured_on": today.to_string(), "rems_patient_enrolled": true, "rems_setting_certified": true,
        "prescriber_onsite": true, "pulse_oximeter_available": true, "nasal_medication": "none_today", "nasal_congestion": false}})).await;
    let device = json!({"kind": "device", "administered_by": "patient (supervised)", "monitored_by": "RN Sample",
        "product": "Spravato 28 mg", "lot": "SPV-E2E", "expiry": "2099-01-01", "dose_mg": 28});
    call(&app, post.clone(), &format!("{api}/administrations"), &pt, device.clone()).await;
    app.advance(SignedDuration::from_mins(5));
    call(&app, post.clone(), &format!("{api}/administrations"), &pt, device).await;
    app.advance(SignedDuration::from_mins(35));
    call(
        &app,
        post.clone(),
        &format!("{api}/vitals"),
        &pt,
        json!({"systolic": 138, "diastolic": 86, "heart_rate": 80, "spo2": 97}),
    )
    .await;

    // 40 minutes after the first device, on the page: the MOAA/S alone, then the CADSS-6.
    b.login(&app, "nurse.rems").await;
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Dissociation: CADSS-6").await;
    b.click("#sed_moaas option[value='4']").await;
    b.click("form[action$='/moaas'] button[type=submit]").await;
    until(|| async {
        call(&app, reqwest::Method::GET, &api, &pt, json!(null)).await["vitals"].as_array().unwrap().len() == 2
    })
    .await;
    b.wait_for_text("No CADSS-6 rated yet").await;
    b.click("#cadss_time_point option[value='peak_40']").await;
    for (item, value) in [("1", "2"), ("2", "1"), ("6", "1"), ("7", "2"), ("15", "1")] {
        b.click(&format!("input[name='item_{item}'][value='{value}']")).await;
    }
    b.click("form[action$='/cadss6'] button[type=submit]").await;
    b.wait_for_text("CADSS item 22 is not answered").await;
    b.js("document.getElementById('item_22-error').scrollIntoView({block: 'center'})").await;
    b.screenshot("4-cadss6-item-missing").await;
    assert!(
        b.find("input[name='item_15'][value='1']").await.prop("checked").await.unwrap().is_some_and(|c| c == "true"),
        "the typed answers are kept"
    );
    b.click("input[name='item_22'][value='0']").await;
    b.click("form[action$='/cadss6'] button[type=submit]").await;
    until(|| async { !b.body_text().await.contains("No CADSS-6 rated yet") }).await;
    b.js("document.getElementById('ratings-h').scrollIntoView()").await;
    b.screenshot("5-cadss6-rated").await;
    let body = b.body_text().await;
    assert!(body.contains("40 min") && !body.contains("No CADSS-6 rated yet"), "{body}");

    // Observation to 2 hours, then discharge over the API; the REMS form is complete.
    app.advance(SignedDuration::from_mins(85));
    call(&app, post.clone(), &format!("{api}/vitals"), &pt, json!({"systolic": 124, "diastolic": 80, "heart_rate": 72, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5})).await;
    call(&app, post.clone(), &format!("{api}/discharge"), &pt, json!({"aldrete_total": 10, "moaas": 5,
        "dissociation_resolved": true, "able_to_walk_safely": true, "active_nausea": false, "suicidal_crisis": false,
        "escort_present": true, "written_instructions_given": true, "clinician_judges_stable": true, "rems_ready_to_leave_minutes": 90})).await;
    b.login(&app, "nurse.rems").await;
    b.goto(&app.url(&format!("/sessions/{sid}/rems"))).await;
    b.wait_for_text("SPRAVATO REMS Patient Monitoring Form").await;
    let body = b.body_text().await;
    assert!(!body.contains("The session record lacks"), "{body}");
    assert!(body.contains("Dissociation (CADSS-6 above the pre-dose rating) Yes (CADSS-6 7/24 at 40 min)"), "{body}");
    assert!(body.contains("Sedation (MOAA/S below 5)") && !body.contains("not recorded"), "{body}");
    b.js("document.querySelector('table.rems tr:last-child').scrollIntoView({block: 'center'})").await;
    b.screenshot("6-rems-form-dissociation").await;
    b.finish().await;
    app.stop().await;
}

/// Titration in the browser: after an inadequate but tolerated 56 mg esketamine session,
/// the prescriber judges it on the next session's dose page, sees the suggestion (84 mg,
/// DOSE-IN-002) and orders it; the session page shows the dose in force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prescriber_titrates_the_next_esketamine_dose() {
    kat_e2e::e2e_or_skip!();
    let start: jiff::Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
    let app = spawn_app(Db::Sqlite, Options { manual_clock: Some(start), ..Options::default() }).await.expect("app");
    let pt = app.token("pres.api", Role::Prescriber).await;
    app.add_staff("pres.titrate", Role::Prescriber).await;
    let post = reqwest::Method::POST;
    let p = call(
        &app,
        post.clone(),
        "/api/v1/patients",
        &pt,
        json!({"given_name": "Robin", "family_name": "Example", "birth_date": "1979-05-05", "sex_at_birth": "female"}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let today = start.to_zoned(TimeZone::UTC).date();
    let answers: Map<String, Value> =
        example_complete_answers(today).iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    call(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/patients/{id}/intake"),
        &pt,
        json!({"answers": answers, "complete": true}),
    )
    .await;
    let e = call(&app, reqwest::Method::GET, &format!("/api/v1/patients/{id}/eligibility"), &pt, json!(null)).await;
    call(
        &app,
        post.clone(),
        &format!("/api/v1/patients/{id}/eligibility/decision"),
        &pt,
        json!({"evaluation_id": e["evaluation_id"], "decision": "accept"}),
    )
    .await;
    let plan = call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans"), &pt, json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd", "product": "Spravato 28 mg device",
        "course_sessions": 8, "endpoint": "Response at week 4", "reassessment": "End of induction", "maintenance": "Weekly",
        "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "with_oral_antidepressant", "dose_mg": 56, "first_session": today.to_string(), "interval_days": 3})).await;
    let plan_id = plan["id"].as_str().unwrap().to_string();
    call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await;
    let gate = |now: jiff::Timestamp| {
        json!({"checklist": {
        "route": "intranasal_esketamine", "dose_is_weight_based": false,
        "last_solid": {"at": (now - SignedDuration::from_hours(10)).to_string(), "kind": "fatty_or_meat"},
        "last_clear_liquid": (now - SignedDuration::from_hours(3)).to_string(),
        "blood_pressure": {"systolic": 122, "diastolic": 78}, "hypertensive_symptoms": false, "heart_rate": 70,
        "new_irregular_rhythm": false, "escort_confirmed": true, "no_driving_instruction_given": true,
        "intoxicated_or_in_withdrawal": false, "substance_use": "none_within_window", "childbearing_potential": false,
        "medication_changes_reviewed": true, "new_psychotic_or_manic_symptoms": false, "suicide_screen": "negative",
        "rems_patient_enrolled": true, "rems_setting_certified": true, "prescriber_onsite": true, "pulse_oximeter_available": true,
        "nasal_medication": "none_today", "nasal_congestion": false}})
    };
    let s1 =
        call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({}))
            .await;
    let s1 = s1["id"].as_str().unwrap().to_string();
    call(&app, post.clone(), &format!("/api/v1/sessions/{s1}/gate"), &pt, gate(app.now())).await;
    let dev = json!({"kind": "device", "administered_by": "patient (supervised)", "monitored_by": "Dr P",
        "product": "Spravato 28 mg", "lot": "SPV1", "expiry": "2099-01-01", "dose_mg": 28});
    for _ in 0..2 {
        call(&app, post.clone(), &format!("/api/v1/sessions/{s1}/administrations"), &pt, dev.clone()).await;
        app.advance(SignedDuration::from_mins(6));
    }
    // The label's 2 hours after the last device (DC-001 [V]) pass; no override shortens them.
    app.advance(SignedDuration::from_hours(2));
    call(
        &app,
        post.clone(),
        &format!("/api/v1/sessions/{s1}/discharge"),
        &pt,
        json!({"override_reason": "test: observed elsewhere"}),
    )
    .await;
    app.advance(SignedDuration::from_hours(72));
    let s2 =
        call(&app, post.clone(), &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({}))
            .await;
    let s2 = s2["id"].as_str().unwrap().to_string();

    let b = Browser::start("dosing_titration").await;
    b.login(&app, "pres.titrate").await;
    b.goto(&app.url(&format!("/sessions/{s2}"))).await;
    b.wait_for_text("56 mg (the plan's dose); 0 mg given so far").await;
    b.click(&format!("a[href='/sessions/{s2}/dose']")).await;
    b.wait_for_text("Previous dose of the course").await;
    b.wait_for_text(&format!("56 mg on {today}")).await;
    set(&b, "tolerability", "tolerated").await;
    set(&b, "efficacy", "inadequate").await;
    b.click("button[value='suggest']").await;
    b.wait_for_text("increase: 84 mg (DOSE-IN-002)").await;
    b.fill("#reason", "Inadequate response at 56 mg; tolerated").await;
    b.screenshot("1-suggestion").await;
    b.click("button[value='order']").await;
    b.wait_for_text("84 mg (ordered for this session); 0 mg given so far").await;
    b.screenshot("2-session-dose-in-force").await;
    b.finish().await;
    app.stop().await;
}
