//! The dosing session page a nurse trusts (issue 11 items 9, 4, 5, 13), in a browser:
//! the page during an alarm (this patient's alarm first and large, the clinic-wide
//! banner as one line, marked vitals, the trend chart, the next check following the
//! ALM-002 recheck), a refused discharge naming what is not yet confirmed, and a REMS
//! form completed after discharge. Screenshots at 1366×900 and 390×844.

use crate::floor::{call, eligible_patient, post, running_session, shot_at};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_core::role::Role;
use kat_e2e::Browser;
use kat_it::{Db, Options, TestApp, spawn_app};
use serde_json::json;

async fn app_at_two_pm() -> TestApp {
    let start: jiff::Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
    spawn_app(Db::Sqlite, Options { manual_clock: Some(start), ..Options::default() }).await.expect("app")
}

/// Scrolls the element into view at the top, then takes both screenshots.
async fn shots(b: &Browser, css: &str, step: &str) {
    for (w, h, size) in [(1366, 900, "1366x900"), (390, 844, "390x844")] {
        b.client.set_window_size(w, h).await.expect("window size");
        b.js(&format!("document.querySelector({css:?}).scrollIntoView({{block: 'start'}}); return true;")).await;
        shot_at(b, w, h, &format!("{step}-{size}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_page_during_an_alarm() {
    kat_e2e::e2e_or_skip!();
    let app = app_at_two_pm().await;
    let pt = app.token("pres.page", Role::Prescriber).await;
    let nt = app.token("nurse.api", Role::Nurse).await;
    app.add_staff("nurse.page", Role::Nurse).await;
    let sid = running_session(&app, &pt, "Jordan", "Lindqvist").await;
    // Another patient's safety alert (PHQ-9 item 9): a clinic-wide banner.
    let other = eligible_patient(&app, &pt, "Maya", "Okafor").await;
    post(
        &app,
        &format!("/api/v1/patients/{other}/responses"),
        &nt,
        json!({"instrument": "phq9", "answers": [2,2,2,2,2,1,1,1,1]}),
    )
    .await;
    let api = format!("/api/v1/sessions/{sid}/vitals");
    for (sys, dia, hr, spo2) in [(126, 80, 74, 98), (138, 86, 80, 97), (152, 92, 88, 95)] {
        post(&app, &api, &nt, json!({"systolic": sys, "diastolic": dia, "heart_rate": hr, "spo2": spo2, "respiratory_rate": 14, "moaas": 4})).await;
        app.advance(SignedDuration::from_mins(4));
    }
    post(&app, &api, &nt, json!({"systolic": 186, "diastolic": 112, "heart_rate": 96, "spo2": 91, "on_supplemental_o2": "no", "respiratory_rate": 12, "moaas": 4})).await;
    app.advance(SignedDuration::from_mins(1));

    let b = Browser::start("session_page_alarm").await;
    b.login(&app, "nurse.page").await;
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Live: ").await;
    // This patient's open alarms come first, in colour, icon and words, with the action.
    let first = b.js("return document.querySelector('#session-live').firstElementChild.id;").await;
    assert_eq!(first, json!("alarm-panel"));
    let alarm = b.text("#alarm-panel .open-alarms").await;
    assert!(alarm.contains("Intervene now") && alarm.contains("BP 186/112") && alarm.contains("Do now:"), "{alarm}");
    assert!(alarm.contains("Record intervention"), "{alarm}");
    // The clinic-wide banner is one line here.
    let line = b.text(".clinic-banner-line").await;
    assert!(line.contains("Clinic-wide") && line.contains("1 safety alert"), "{line}");
    assert_eq!(b.js("return document.querySelectorAll('.safety-banner').length;").await, json!(0));
    let height = b.js("return document.querySelector('.clinic-banner-line').getBoundingClientRect().height;").await;
    assert!(height.as_f64().unwrap() < 40.0, "one line: {height}");
    // Marked vitals, decided by the alarm thresholds.
    let high = b.text("#vitals-body td.vital-high").await;
    assert!(high.contains("186/112") && high.contains("▲"), "{high}");
    let low = b.text("#vitals-body td.vital-low").await;
    assert!(low.contains("91") && low.contains("▼"), "{low}");
    // The trend chart and its words; the next check follows the recheck; time since dose.
    let chart = b.text("#session-summary figcaption").await;
    assert!(chart.contains("systolic 126 to 186 mmHg") && chart.contains("heart rate 74 to 96 /min"), "{chart}");
    let next = b.text("#session-summary .next-check").await;
    // The alarm's reading at 14:12: its recheck at 14:17 is tighter than the schedule's 14:20.
    assert!(next.contains("Next check at 14:17") && next.contains("ALM-002 recheck"), "{next}");
    assert!(b.text("#session-summary").await.contains("13 min since the first dose"));
    let log = b.text(".admin-log").await;
    assert!(log.contains("Infusion started") && log.contains("L123") && log.contains("2.4 mL/h"), "{log}");
    shots(&b, "body", "1-alarm").await;
    shots(&b, "#session-summary", "2-summary-and-trend").await;
    shots(&b, "#vitals-h", "3-vitals").await;
    shots(&b, "#admin-log-h", "4-administration-log").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_discharge_lists_what_is_not_yet_confirmed() {
    kat_e2e::e2e_or_skip!();
    let app = app_at_two_pm().await;
    let pt = app.token("pres.dc", Role::Prescriber).await;
    app.add_staff("nurse.dc", Role::Nurse).await;
    let sid = running_session(&app, &pt, "Ada", "Quinn").await;
    app.advance(SignedDuration::from_mins(40));
    post(&app, &format!("/api/v1/sessions/{sid}/administrations"), &pt, json!({"kind": "infusion_stop"})).await;
    app.advance(SignedDuration::from_mins(65));
    post(&app, &format!("/api/v1/sessions/{sid}/vitals"), &pt, json!({"systolic": 124, "diastolic": 80, "heart_rate": 72, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5})).await;

    let b = Browser::start("session_page_discharge_refused").await;
    b.login(&app, "nurse.dc").await;
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Discharge (§4.5)").await;
    b.fill("#aldrete_total", "10").await;
    b.fill("#dc_moaas", "5").await;
    for name in ["dissociation_resolved", "able_to_walk_safely", "escort_present", "clinician_judges_stable"] {
        b.click(&format!("input[name='{name}']")).await;
    }
    b.click("form[action$='/discharge'] button[type=submit]").await;
    b.wait_for_text("Not saved:").await;
    let errors = b.text(".notice.error").await;
    for unconfirmed in ["No active nausea: not yet confirmed", "No suicidal crisis (SUI-003): not yet confirmed"] {
        assert!(errors.contains(unconfirmed), "{unconfirmed}: {errors}");
    }
    assert!(errors.contains("not yet confirmed") && !errors.contains("is in a suicidal crisis"), "{errors}");
    // Still open: the transfer exit is there, with its own confirmation.
    b.find("form#transfer button.danger").await;
    shots(&b, ".notice.error", "1-refused").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rems_form_completed_after_discharge() {
    kat_e2e::e2e_or_skip!();
    let app = app_at_two_pm().await;
    let pt = app.token("pres.rems", Role::Prescriber).await;
    app.add_staff("nurse.rems", Role::Nurse).await;
    let id = eligible_patient(&app, &pt, "Robin", "Sample").await;
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let plan = post(
        &app,
        &format!("/api/v1/patients/{id}/treatment-plans"),
        &pt,
        json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
        "product": "Spravato 28 mg device", "course_sessions": 8, "endpoint": "Response at week 4",
        "reassessment": "End of induction (DOSE-IN-005)", "maintenance": "Weekly weeks 5-8",
        "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "with_oral_antidepressant",
        "dose_mg": 56, "first_session": today.to_string(), "interval_days": 3}),
    )
    .await;
    let plan_id = plan["id"].as_str().unwrap();
    post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await;
    let s = post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({})).await;
    let sid = s["id"].as_str().unwrap().to_string();
    let api = format!("/api/v1/sessions/{sid}");
    let now = app.now();
    post(&app, &format!("{api}/gate"), &pt, json!({"checklist": {
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
    post(&app, &format!("{api}/administrations"), &pt, device.clone()).await;
    app.advance(SignedDuration::from_mins(5));
    post(&app, &format!("{api}/administrations"), &pt, device).await;
    app.advance(SignedDuration::from_mins(35));
    post(
        &app,
        &format!("{api}/vitals"),
        &pt,
        json!({"systolic": 138, "diastolic": 86, "heart_rate": 80, "spo2": 97, "moaas": 4}),
    )
    .await;
    post(&app, &format!("{api}/cadss6"), &pt, json!({"time_point": "peak_40", "item_1": 1, "item_2": 0, "item_6": 0, "item_7": 0, "item_15": 0, "item_22": 0})).await;
    app.advance(SignedDuration::from_mins(85));
    post(&app, &format!("{api}/vitals"), &pt, json!({"systolic": 124, "diastolic": 80, "heart_rate": 72, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5})).await;
    // Discharged without the "ready to leave" answer: the REMS form names it.
    call(
        &app,
        reqwest::Method::POST,
        &format!("{api}/discharge"),
        &pt,
        json!({"aldrete_total": 10, "moaas": 5,
        "dissociation_resolved": true, "able_to_walk_safely": true, "active_nausea": false, "suicidal_crisis": false,
        "escort_present": true, "written_instructions_given": true, "clinician_judges_stable": true}),
    )
    .await;
    // The next day.
    app.advance(SignedDuration::from_hours(20));

    let b = Browser::start("session_page_rems_after_discharge").await;
    b.login(&app, "nurse.rems").await;
    b.goto(&app.url(&format!("/sessions/{sid}"))).await;
    b.wait_for_text("Complete the record").await;
    assert!(b.text(".closed-banner.discharged").await.contains("The administrations are locked"));
    assert_eq!(b.js("return document.querySelectorAll(\"form[action$='/administrations']\").length;").await, json!(0));
    let checks = b.text(".check-list").await;
    assert!(checks.contains("BP at about 40 minutes (MON-SPV-002): done: 138/86 mmHg"), "{checks}");
    assert!(checks.contains("Ready to leave (REMS: without the 2-hour minimum): missing"), "{checks}");
    let rems = b.text("#rems").await;
    assert!(rems.contains("when the patient would have been ready to leave"), "{rems}");
    shots(&b, "#rems", "1-rems-missing").await;
    b.fill("#rems_ready_to_leave_minutes", "95").await;
    b.click("form[action$='/rems/fields'] button[type=submit]").await;
    b.wait_for_text("REMS form fields: late entry").await;
    let checks = b.text(".check-list").await;
    assert!(checks.contains("ready after 95 min"), "{checks}");
    b.click("form[action*='/rems/submitted'] button[type=submit]").await;
    b.wait_for_text("Marked submitted").await;
    assert!(b.text(".late-list").await.contains("REMS form marked submitted: late entry"));
    shots(&b, "#rems", "2-rems-submitted").await;
    shots(&b, "#late-h", "3-late-entries").await;
    b.finish().await;
    app.stop().await;
}
