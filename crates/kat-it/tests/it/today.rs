//! The clinic's day on the start page (issue 11 item 12), on both databases: a signed
//! plan's dose of the day is "Planned" until its session opens, a running session is "In
//! progress", a session deferred at the gate moves its plan's dose to the new date; the
//! front desk sees where each patient stands without links into the clinical record; the
//! view is one audit entry naming every patient shown.

use crate::dosing::{eligible_patient, get, iv_plan, manual, passing_gate, post, running_iv_session};
use crate::support::{audit_of_patient, staff_with_token};
use jiff::SignedDuration;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use serde_json::{Value, json};

/// The start page's row (`<tr …>…</tr>`) naming this MRN.
fn row_of<'a>(html: &'a str, mrn: &str) -> &'a str {
    html.split("<tr").find(|r| r.contains(mrn)).unwrap_or_else(|| panic!("no row for {mrn} in {html}"))
}

async fn mrn(app: &TestApp, token: &str, patient: &str) -> String {
    get(app, &format!("/api/v1/patients/{patient}"), token).await["mrn"].as_str().unwrap().to_string()
}

async fn signed_plan(app: &TestApp, pt: &str, patient: &str) -> String {
    let plan: Value = post(app, &format!("/api/v1/patients/{patient}/treatment-plans"), pt, iv_plan(app, "0.5"))
        .await
        .json()
        .await
        .unwrap();
    let id = plan["id"].as_str().unwrap().to_string();
    let r = post(app, &format!("/api/v1/patients/{patient}/treatment-plans/{id}/sign"), pt, json!({})).await;
    assert_eq!(r.status(), 200);
    id
}

async fn start_page(app: &TestApp, username: &str) -> String {
    let web = app.client();
    app.login(&web, username).await;
    let r = web.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

async fn the_day(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("desk.today", Role::FrontDesk).await;
    app.add_staff("nurse.today", Role::Nurse).await;
    app.add_staff("admin.today", Role::Admin).await;

    // A: a signed plan whose first dose is today, no session yet.
    let a = eligible_patient(&app, &pt).await;
    signed_plan(&app, &pt, &a).await;
    // B: a session in progress.
    let sid = running_iv_session(&app, &pt).await;
    let b =
        get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["session"]["patient_id"].as_str().unwrap().to_string();
    // C: opened today and deferred at the gate to the day after tomorrow.
    let c = eligible_patient(&app, &pt).await;
    let plan_c = signed_plan(&app, &pt, &c).await;
    let s: Value = post(&app, &format!("/api/v1/patients/{c}/treatment-plans/{plan_c}/sessions"), &pt, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let deferred = s["id"].as_str().unwrap().to_string();
    let later = (app.now() + SignedDuration::from_hours(48)).to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut gate = passing_gate(&app, "iv_infusion", 185);
    gate["checklist"]["blood_pressure"] = json!({"systolic": 185, "diastolic": 112});
    gate["reschedule_to"] = json!(later.to_string());
    gate["defer_reason"] = json!("BP 185/112 after a recheck");
    let r = post(&app, &format!("/api/v1/sessions/{deferred}/gate"), &pt, gate).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let view = get(&app, &format!("/api/v1/sessions/{deferred}"), &pt).await;
    assert_eq!(view["session"]["gate_outcome"], "defer", "{view}");
    let (ma, mb, mc) = (mrn(&app, &pt, &a).await, mrn(&app, &pt, &b).await, mrn(&app, &pt, &c).await);

    let desk = start_page(&app, "desk.today").await;
    assert!(desk.contains("id=\"today-dosing\""), "{desk}");
    assert!(row_of(&desk, &ma).contains("Planned"));
    assert!(row_of(&desk, &mb).contains("In progress"));
    assert!(row_of(&desk, &mc).contains("Deferred, no dose today"));
    assert!(!desk.contains(&format!("/sessions/{sid}")), "the front desk gets no link into the session");

    let nurse = start_page(&app, "nurse.today").await;
    assert!(row_of(&nurse, &mb).contains(&format!("href=\"/sessions/{sid}\"")));
    assert!(row_of(&nurse, &ma).contains(&format!("href=\"/patients/{a}/dosing\"")));
    // The admin runs no day: no day's lists.
    assert!(!start_page(&app, "admin.today").await.contains("id=\"today-dosing\""));

    // One audit entry of the view names each patient shown.
    for p in [&a, &b, &c] {
        let entries = audit_of_patient(&app, p).await;
        assert!(entries.iter().any(|e| e.entry.resource_type == "today"), "today's view names {p}");
    }

    // Two days on: A's next dose (every 3 days) is not due, C's deferred dose is.
    app.advance(SignedDuration::from_hours(48));
    let desk = start_page(&app, "desk.today").await;
    assert!(!desk.contains(&ma), "A has no dose booked that day");
    assert!(row_of(&desk, &mc).contains("Planned"), "C's deferred dose moved to this day");
    assert!(row_of(&desk, &mb).contains("In progress") && row_of(&desk, &mb).contains("an earlier day"));
    app.stop().await;
}
on_both_databases!(the_day_lists_planned_running_and_deferred_doses, the_day);

async fn plan_form_from_intake(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("pres.form", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let web = app.client();
    app.login(&web, "pres.form").await;
    let html = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    // The intake of `eligible_patient` ticks treatment-resistant depression and weighs 70 kg.
    assert!(html.contains("value=\"Treatment-resistant depression\""), "{html}");
    assert!(html.contains("name=\"weight_kg\"") && html.contains("value=\"70\""), "{html}");
    // The weighing's date is the prescriber's to enter (DAY-008), not taken from the intake.
    let date = html.split("name=\"weight_measured_on\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(date.contains("value=\"\"") || !date.contains("value="), "{date}");
    app.stop().await;
}
on_both_databases!(the_plan_form_starts_from_the_intake, plan_form_from_intake);
