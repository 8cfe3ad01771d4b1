//! Across sessions and plans in a browser (kat issue 11 items 1 and 7): a Spravato plan
//! that overlaps the patient's IV plan shows the overlap and is signed with a reason; a
//! second session the same day asks the prescriber for a reason on the dosing page and
//! shows the override on the floor board tile; the gate page shows a finding accepted at
//! eligibility as such and leads with the finding that blocks.

use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::role::Role;
use kat_e2e::Browser;
use kat_it::{Db, Options, TestApp, spawn_app};
use serde_json::{Map, Value, json};

async fn call(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
    let r = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

fn passing_gate(now: jiff::Timestamp) -> Value {
    json!({"checklist": {
        "route": "iv_infusion", "dose_is_weight_based": true,
        "last_solid": {"at": (now - SignedDuration::from_hours(10)).to_string(), "kind": "fatty_or_meat"},
        "last_clear_liquid": (now - SignedDuration::from_hours(3)).to_string(),
        "blood_pressure": {"systolic": 120, "diastolic": 80}, "hypertensive_symptoms": false, "heart_rate": 72,
        "new_irregular_rhythm": false, "escort_confirmed": true, "no_driving_instruction_given": true,
        "intoxicated_or_in_withdrawal": false, "substance_use": "none_within_window", "childbearing_potential": false,
        "medication_changes_reviewed": true, "new_psychotic_or_manic_symptoms": false, "suicide_screen": "negative"
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_dose_same_day_overlapping_plan_and_the_gate_carry_over() {
    kat_e2e::e2e_or_skip!();
    let start: jiff::Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
    let app = spawn_app(Db::Sqlite, Options { manual_clock: Some(start), ..Options::default() }).await.expect("app");
    let pt = app.token("pres.api", Role::Prescriber).await;
    app.add_staff("pres.e2e", Role::Prescriber).await;
    let post = reqwest::Method::POST;
    // A patient on diazepam 20 mg/day (DDI-004 above the cap), accepted at eligibility
    // with a reason; an IV plan signed; today's first session given and discharged.
    let p = call(
        &app,
        post.clone(),
        "/api/v1/patients",
        &pt,
        json!({"given_name": "Robin", "family_name": "Example", "birth_date": "1980-05-05", "sex_at_birth": "female"}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let today = start.to_zoned(TimeZone::UTC).date();
    let mut a = example_complete_answers(today);
    a.set("med2_name", "diazepam").unwrap();
    a.set("med2_dose_mg", "20").unwrap();
    let answers: Map<String, Value> = a.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    let intake = format!("/api/v1/patients/{id}/intake");
    call(&app, reqwest::Method::PUT, &intake, &pt, json!({"answers": answers, "complete": true})).await;
    let e = call(&app, reqwest::Method::GET, &format!("/api/v1/patients/{id}/eligibility"), &pt, json!(null)).await;
    let reasons: Map<String, Value> = e["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "prescriber_review")
        .map(|f| (f["rule"].as_str().unwrap().to_string(), json!("Taper agreed; dose stable for a year")))
        .collect();
    call(
        &app,
        post.clone(),
        &format!("/api/v1/patients/{id}/eligibility/decision"),
        &pt,
        json!({"evaluation_id": e["evaluation_id"], "decision": "accept", "reasons": reasons}),
    )
    .await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    let iv = call(&app, post.clone(), &plans, &pt, json!({
        "indication": "Treatment-resistant depression", "route": "iv_infusion", "protocol": "iv_single_standard",
        "product": "Ketamine HCl 50 mg/mL vial", "course_sessions": 6, "endpoint": "PHQ-9 response",
        "reassessment": "After session 3 and 6", "maintenance": "By interval plan", "dose_style": "per_kg",
        "kap_style": "psychedelic", "dose_mg_per_kg": "0.5", "weight_kg": 80, "weight_measured_on": today.to_string(),
        "concentration_mg_per_ml": 50, "infusion_minutes": 40, "first_session": today.to_string(), "interval_days": 3
    }))
    .await;
    let iv = iv["id"].as_str().unwrap().to_string();
    call(&app, post.clone(), &format!("{plans}/{iv}/sign"), &pt, json!({})).await;
    let s1 = call(&app, post.clone(), &format!("{plans}/{iv}/sessions"), &pt, json!({})).await;
    let s1 = s1["id"].as_str().unwrap().to_string();
    call(&app, post.clone(), &format!("/api/v1/sessions/{s1}/gate"), &pt, passing_gate(app.now())).await;
    let admin = format!("/api/v1/sessions/{s1}/administrations");
    call(
        &app,
        post.clone(),
        &admin,
        &pt,
        json!({"kind": "infusion_start", "administered_by": "RN A",
        "monitored_by": "RN B", "product": "Ketamine HCl 50 mg/mL", "concentration_mg_per_ml": 50, "lot": "L1",
        "expiry": "2099-12-31", "dose_mg": 40, "rate_ml_per_h": 2.4}),
    )
    .await;
    app.advance(SignedDuration::from_mins(40));
    call(&app, post.clone(), &admin, &pt, json!({"kind": "infusion_stop"})).await;
    app.advance(SignedDuration::from_mins(61));
    call(
        &app,
        post.clone(),
        &format!("/api/v1/sessions/{s1}/discharge"),
        &pt,
        json!({"aldrete_total": 10,
        "moaas": 5, "dissociation_resolved": true, "able_to_walk_safely": true, "active_nausea": false,
        "suicidal_crisis": false, "escort_present": true, "written_instructions_given": true,
        "clinician_judges_stable": true, "override_reason": "e2e: no observation readings charted"}),
    )
    .await;
    // A Spravato plan drafted to start the same day.
    let spv = call(
        &app,
        post.clone(),
        &plans,
        &pt,
        json!({
            "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
            "product": "Spravato 28 mg device", "course_sessions": 14, "endpoint": "Response at week 4",
            "reassessment": "End of induction", "maintenance": "Weekly from week 9", "dose_style": "fixed",
            "kap_style": "psycholytic", "esketamine_regimen": "monotherapy", "dose_mg": 56,
            "first_session": today.to_string()
        }),
    )
    .await;
    let spv = spv["id"].as_str().unwrap().to_string();

    // The plan page shows the overlap; signing asks for the reason, then keeps it.
    let b = Browser::start("dose_day").await;
    b.login(&app, "pres.e2e").await;
    b.goto(&app.url(&format!("/patients/{id}/treatment-plan"))).await;
    b.wait_for_text("Overlaps another active ketamine or esketamine plan").await;
    b.screenshot("1-plan-overlap").await;
    b.click(&format!("form[action$='/{spv}/sign'] button[type=submit]")).await;
    b.wait_for_text("Overlap reason: another active").await;
    b.screenshot("2-plan-overlap-reason-required").await;
    b.fill(&format!("#overlap_reason-{spv}"), "IV course stops today; Spravato from the next session on").await;
    b.click(&format!("form[action$='/{spv}/sign'] button[type=submit]")).await;
    b.wait_for_text("Signed over an overlapping plan").await;
    b.screenshot("3-plan-signed-over-overlap").await;

    // Later the same day: the dosing page asks the prescriber why a second dose.
    app.advance(SignedDuration::from_hours(2));
    b.login(&app, "pres.e2e").await; // two idle hours ended the sign-in
    b.goto(&app.url(&format!("/patients/{id}/dosing"))).await;
    b.wait_for_text("Already dosed today").await;
    b.screenshot("4-already-dosed-today").await;
    b.fill(&format!("#override_reason-{iv}"), "Rescue dose agreed with the medical director").await;
    b.click(&format!("form[action$='/{iv}/sessions'] button[type=submit]")).await;
    b.wait_for_text("Pre-dose gate").await;
    // The gate page: DDI-004 accepted at eligibility, no new override needed.
    b.wait_for_text("Accepted at eligibility").await;
    b.wait_for_text("accepted at eligibility on 2026-03-10").await;
    b.js("document.getElementById('interactions').scrollIntoView(); return true").await;
    b.screenshot("5-gate-accepted-at-eligibility").await;
    // An incomplete checklist with the escort missing: the page leads with what blocks.
    b.click("form[action$='/gate'] button[type=submit]").await;
    b.wait_for_text("Defer: do not dose now").await;
    let lead = b.text(".gate-blocker").await;
    assert!(lead.trim_start_matches(|c: char| !c.is_alphabetic()).starts_with("Defer: "), "{lead}");
    b.js("window.scrollTo(0, 0); return true").await; // kat.js focused the first invalid field
    b.screenshot("6-gate-leads-with-the-blocker").await;

    // Through the gate: the floor board tile says it is a second dose today, and why.
    let sessions = app.url(&format!("/patients/{id}/dosing"));
    b.goto(&sessions).await;
    let html = b.js("return document.body.innerHTML").await;
    let s2 = html
        .as_str()
        .unwrap()
        .split("/sessions/")
        .filter_map(|t| t.split(['"', '/']).next())
        .find(|t| t.len() == 36 && *t != s1)
        .expect("the second session's link")
        .to_string();
    call(&app, post.clone(), &format!("/api/v1/sessions/{s2}/gate"), &pt, passing_gate(app.now())).await;
    b.goto(&app.url("/floor")).await;
    b.wait_for_text("Second dose today — override by").await;
    b.screenshot("7-floor-tile-second-dose").await;
    b.goto(&app.url(&format!("/sessions/{s1}"))).await;
    b.wait_for_text("A later session was opened over this one").await;
    b.screenshot("8-first-session-names-the-second").await;
    b.finish().await;
    app.stop().await;
}
