//! The dosing session page and what a nurse does from it (issue 11 items 9, 4, 5), on
//! both databases: the transfer to emergency care (a separate exit, not a discharge),
//! the record completed after discharge as late entries (the administrations locked),
//! the next check that follows an open ALM-002 alarm's recheck, and the vitals marked
//! by the alarm thresholds.

use crate::dosing::{dose_event, get, manual, post, running_iv_session};
use crate::dosing_rems_api::{audited, dose_and_monitor, esketamine_plan, open_session};
use crate::support::{expect_problem, problem_fields, staff_with_token};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kat_core::ids::DosingSessionId;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use kat_store::dosing::SessionEventKind;
use serde_json::{Value, json};

/// The clinic-local `YYYY-MM-DDTHH:MM` a datetime-local input sends (the test clinic's
/// zone is UTC).
fn local(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC).strftime("%Y-%m-%dT%H:%M").to_string()
}

async fn page(app: &TestApp, web: &reqwest::Client, sid: &str) -> String {
    web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap()
}

async fn form(app: &TestApp, web: &reqwest::Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    web.post(app.url(path)).header("origin", &app.base_url).form(fields).send().await.unwrap()
}

/// Late flags of the session's readings and events, as stored.
async fn late_flags(app: &TestApp, sid: &str) -> (Vec<bool>, Vec<(SessionEventKind, bool)>) {
    let id: DosingSessionId = sid.parse().unwrap();
    let mut tx = app.store.begin_read().await.unwrap();
    let vitals = tx.vitals_for_session(id).await.unwrap().iter().map(|v| v.late).collect();
    let events = tx.session_events_for_session(id).await.unwrap().iter().map(|e| (e.kind, e.late)).collect();
    drop(tx);
    (vitals, events)
}

const ALL_MET: &str = r#"{"aldrete_total": 10, "pre_sedation_aldrete": 10, "moaas": 5, "dissociation_resolved": true,
    "able_to_walk_safely": true, "active_nausea": false, "suicidal_crisis": false, "escort_present": true,
    "written_instructions_given": true, "clinician_judges_stable": true}"#;

async fn transfer(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.tr", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    let web = app.client();
    app.login(&web, "nurse.tr").await;
    let html = page(&app, &web, &sid).await;
    assert!(html.contains(&format!(r#"action="/sessions/{sid}/transfer""#)), "the exit is offered: {html}");
    // The page: the reason and the confirmation are both required, each named in words.
    let r = form(&app, &web, &format!("/sessions/{sid}/transfer"), &[("reason", " ")]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Transfer: reason: the reason for the transfer is required"), "{html}");
    assert!(html.contains("Transfer: confirmation: tick the box"), "{html}");
    // The API names the field.
    let p = expect_problem(post(&app, &format!("{s}/transfer"), &pt, json!({"reason": ""})).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["reason"], "{p}");
    let p = expect_problem(post(&app, &format!("{s}/transfer"), &pt, json!({"reason": "x", "at": "soon"})).await, 422)
        .await;
    assert_eq!(problem_fields(&p), vec!["at"], "{p}");
    app.advance(SignedDuration::from_mins(5));
    let transferred_at = app.now();
    let r = form(
        &app,
        &web,
        &format!("/sessions/{sid}/transfer"),
        &[("reason", "Chest pain and BP 210/120: ambulance to the ED"), ("confirm", "on")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let detail = get(&app, &s, &pt).await;
    assert_eq!(detail["session"]["transferred_at"], json!(transferred_at.to_string()), "{detail}");
    assert_eq!(detail["session"]["discharged_at"], Value::Null, "a transfer is no discharge");
    assert_eq!(detail["next_check_at"], Value::Null, "no further checks here");
    // A separate exit: no second transfer, no discharge, no further dosing.
    expect_problem(post(&app, &format!("{s}/transfer"), &pt, json!({"reason": "again"})).await, 409).await;
    let all_met: Value = serde_json::from_str(ALL_MET).unwrap();
    expect_problem(post(&app, &format!("{s}/discharge"), &pt, all_met).await, 409).await;
    expect_problem(post(&app, &format!("{s}/administrations"), &pt, dose_event("infusion_rate_change")).await, 409)
        .await;
    // The record is completed by late entries dated before the transfer.
    app.advance(SignedDuration::from_mins(1));
    let p =
        expect_problem(post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 150, "diastolic": 90})).await, 422)
            .await;
    assert_eq!(problem_fields(&p), vec!["at"], "the time taken is required after the close: {p}");
    let after = (transferred_at + SignedDuration::from_secs(30)).to_string();
    let p = expect_problem(
        post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 150, "diastolic": 90, "at": after})).await,
        422,
    )
    .await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("transferred to emergency care"), "{p}");
    let before = (transferred_at - SignedDuration::from_mins(1)).to_string();
    let r = post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 150, "diastolic": 90, "at": before})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = post(
        &app,
        &format!("{s}/adverse-events"),
        &pt,
        json!({"term": "Hypertension", "grade": 3,
        "onset": before, "serious": "hospitalization", "relatedness": "possible", "action_taken": "Transferred",
        "outcome": "unknown"}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let (vitals, events) = late_flags(&app, &sid).await;
    assert_eq!(vitals.last(), Some(&true), "charted after the transfer: a late entry");
    assert!(events.contains(&(SessionEventKind::EmergencyTransfer, false)), "{events:?}");
    assert!(events.contains(&(SessionEventKind::AdverseEvent, true)), "{events:?}");
    // The page says so prominently and offers no dosing, discharge or second transfer.
    let web = app.client();
    app.login(&web, "nurse.tr").await;
    let html = page(&app, &web, &sid).await;
    assert!(html.contains(r#"class="closed-banner transferred" role="alert""#), "{html}");
    assert!(html.contains("Transferred to emergency care at") && html.contains("ambulance to the ED"), "{html}");
    for gone in ["/administrations\"", "/discharge\"", "/transfer\"", "/moaas\""] {
        assert!(!html.contains(&format!("action=\"/sessions/{sid}{gone}")), "{gone} still offered: {html}");
    }
    assert!(html.contains("Complete the record") && html.contains("Save late reading"), "{html}");
    assert!(html.contains("Vitals reading: late entry: taken at"), "{html}");
    assert!(html.contains("Adverse event: late entry: taken at"), "{html}");
    // The floor board's tile leaves.
    let floor = web.get(app.url("/floor")).send().await.unwrap().text().await.unwrap();
    assert!(!floor.contains(&format!("tile-{sid}")), "{floor}");
    // Audited against the patient.
    let patient = detail["session"]["patient_id"].as_str().unwrap();
    let log = audited(&app, patient).await;
    assert!(log.contains(&"create:emergency_transfer:allowed".to_string()), "{log:?}");
    app.stop().await;
}
on_both_databases!(a_transfer_to_emergency_care_ends_the_session_by_its_own_exit, transfer);

async fn after_discharge(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.late", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    app.advance(SignedDuration::from_mins(40));
    assert_eq!(post(&app, &format!("{s}/administrations"), &pt, json!({"kind": "infusion_stop"})).await.status(), 201);
    app.advance(SignedDuration::from_mins(61));
    let good = json!({"systolic": 122, "diastolic": 78, "heart_rate": 70, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5});
    assert_eq!(post(&app, &format!("{s}/vitals"), &pt, good).await.status(), 201);
    let all_met: Value = serde_json::from_str(ALL_MET).unwrap();
    let r = post(&app, &format!("{s}/discharge"), &pt, all_met).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let discharged_at = app.now();
    // The next day's call.
    app.advance(SignedDuration::from_hours(20));
    // The administrations stay locked: the API refuses with a conflict.
    let p =
        expect_problem(post(&app, &format!("{s}/administrations"), &pt, dose_event("infusion_start")).await, 409).await;
    assert!(p["detail"].as_str().unwrap_or_default().contains("discharged"), "{p}");
    let web = app.client();
    app.login(&web, "nurse.late").await;
    let html = page(&app, &web, &sid).await;
    assert!(html.contains("Discharged at") && html.contains("The administrations are locked"), "{html}");
    assert!(!html.contains(&format!(r#"action="/sessions/{sid}/administrations""#)), "{html}");
    assert!(!html.contains(&format!(r#"action="/sessions/{sid}/discharge""#)), "{html}");
    for offered in ["/vitals", "/interventions", "/adverse-events"] {
        assert!(html.contains(&format!(r#"action="/sessions/{sid}{offered}""#)), "{offered}: {html}");
    }
    // A late reading needs the time it was taken, before the discharge.
    let path = format!("/sessions/{sid}/vitals");
    let r = form(&app, &web, &path, &[("systolic", "130"), ("diastolic", "84")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Taken at: the time the reading was taken is required"));
    let later = local(discharged_at + SignedDuration::from_mins(2));
    let r = form(&app, &web, &path, &[("systolic", "130"), ("diastolic", "84"), ("at", &later)]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Taken at: the session was discharged"));
    let taken = local(discharged_at - SignedDuration::from_mins(5));
    let r = form(&app, &web, &path, &[("systolic", "130"), ("diastolic", "84"), ("at", &taken)]).await;
    assert_eq!(r.status(), 303);
    // The adverse event surfaced at the call; an intervention charted late.
    let onset = (discharged_at + SignedDuration::from_hours(3)).to_string();
    let r = post(
        &app,
        &format!("{s}/adverse-events"),
        &pt,
        json!({"term": "Headache", "grade": 1, "onset": onset,
        "relatedness": "possible", "action_taken": "Paracetamol at home", "outcome": "recovering"}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = form(
        &app,
        &web,
        &format!("/sessions/{sid}/interventions"),
        &[
            ("trigger_value", "patient anxious at 60 min"),
            ("action", "reassurance, dimmed lights"),
            ("response", "settled"),
            ("at", &local(discharged_at - SignedDuration::from_mins(30))),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (vitals, events) = late_flags(&app, &sid).await;
    assert_eq!(vitals.iter().filter(|l| **l).count(), 1, "the one reading charted after discharge: {vitals:?}");
    assert!(events.contains(&(SessionEventKind::AdverseEvent, true)), "{events:?}");
    assert!(events.contains(&(SessionEventKind::Intervention, true)), "{events:?}");
    let html = page(&app, &web, &sid).await;
    for late in ["Vitals reading: late entry", "Adverse event: late entry", "Intervention: late entry"] {
        assert!(html.contains(late), "{late}: {html}");
    }
    assert!(html.contains("by nurse.late"), "who charted it: {html}");
    let patient = get(&app, &s, &pt).await["session"]["patient_id"].as_str().unwrap().to_string();
    let log = audited(&app, &patient).await;
    for e in ["create:session_vitals:allowed", "create:adverse_event:allowed", "create:intervention:allowed"] {
        assert!(log.contains(&e.to_string()), "{e}: {log:?}");
    }
    app.stop().await;
}
on_both_databases!(
    after_discharge_the_record_is_completed_by_late_entries_and_administrations_stay_locked,
    after_discharge
);

async fn next_check_and_marks(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.nc", Role::Nurse).await;
    // The infusion started now: the schedule checks every 10 minutes (MON-KET-003).
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    let start = app.now();
    let at = |m: i64| (start + SignedDuration::from_mins(m)).to_string();
    assert_eq!(get(&app, &s, &pt).await["next_check_at"], json!(at(0)), "due at the start of the infusion");
    let normal = json!({"systolic": 128, "diastolic": 80, "heart_rate": 76, "spo2": 97});
    assert_eq!(post(&app, &format!("{s}/vitals"), &pt, normal).await.status(), 201);
    assert_eq!(get(&app, &s, &pt).await["next_check_at"], json!(at(10)), "the schedule's");
    // BP 185/100 at 2 min: ALM-002 asks for a recheck in 5 min, before the schedule's 10.
    app.advance(SignedDuration::from_mins(2));
    let r = post(
        &app,
        &format!("{s}/vitals"),
        &pt,
        json!({"systolic": 185, "diastolic": 100, "heart_rate": 90, "spo2": 88, "on_supplemental_o2": "no"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(get(&app, &s, &pt).await["next_check_at"], json!(at(7)), "the recheck is tighter");
    // A recheck at 6 min (still high, its own alarm) moves the recheck to 11: the
    // schedule's 10 is now the tighter.
    app.advance(SignedDuration::from_mins(4));
    assert_eq!(post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 170, "diastolic": 95})).await.status(), 201);
    assert_eq!(get(&app, &s, &pt).await["next_check_at"], json!(at(10)), "the schedule is tighter");
    // The floor tile and the page say the same, by the one rule.
    let web = app.client();
    app.login(&web, "nurse.nc").await;
    let floor = web.get(app.url("/floor")).send().await.unwrap().text().await.unwrap();
    let html = page(&app, &web, &sid).await;
    let ten = (start + SignedDuration::from_mins(10)).to_zoned(TimeZone::UTC).strftime("%H:%M").to_string();
    for screen in [&floor, &html] {
        assert!(screen.contains(&format!("Next check at {ten}")), "{screen}");
    }
    // The first reading's alarms acknowledged: the second's (notify tier) still asks for
    // its recheck at 11, after the schedule's 10.
    for a in v["alarms"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        let r =
            post(&app, &format!("/api/v1/session-alarms/{id}/acknowledge"), &pt, json!({"action": "rechecked"})).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(get(&app, &s, &pt).await["next_check_at"], json!(at(10)));
    // The vitals table marks each value out of range, in words too.
    assert!(html.contains(r#"<td class="vital-high" title="high">185/100 <span aria-hidden="true">▲</span><span class="sr-label"> (high)</span></td>"#), "{html}");
    assert!(html.contains(r#"<td class="vital-low" title="low">88 <span aria-hidden="true">▼</span>"#), "{html}");
    assert!(html.contains(r#"<td class="vital-high" title="high">170/95"#), "160/100 tier: 170 is high: {html}");
    assert!(html.contains("<td>90</td>"), "HR 90 is not marked: {html}");
    // This patient's open alarms come before the vitals, large, with the action.
    let alarms = html.find("This patient&#39;s alarms").or_else(|| html.find("This patient's alarms")).unwrap();
    assert!(alarms < html.find(r#"id="vitals-h""#).unwrap(), "alarms first");
    assert!(html.contains(r#"class="session-alarm open sev-intervene""#), "{html}");
    assert!(html.contains("role=\"img\"") && html.contains("<title id=\"session-chart-title\">Trend of the last 3 readings: systolic 128 to 170 mmHg, diastolic 80 to 95 mmHg"), "{html}");
    app.stop().await;
}
on_both_databases!(the_next_check_follows_an_open_alm_002_recheck_and_values_are_marked, next_check_and_marks);

async fn esketamine_transfer_rems(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.esk", Role::Nurse).await;
    let (patient, plan) = esketamine_plan(&app, &pt).await;
    let sid = open_session(&app, &pt, &patient, &plan).await;
    let s = format!("/api/v1/sessions/{sid}");
    dose_and_monitor(&app, &pt, &sid).await;
    let web = app.client();
    app.login(&web, "nurse.esk").await;
    let html = page(&app, &web, &sid).await;
    assert!(html.contains("BP at about 40 minutes (MON-SPV-002)</strong>: done: 138/86 mmHg"), "{html}");
    assert!(html.contains("Ready to leave (REMS: without the 2-hour minimum)</strong>: missing"), "{html}");
    // A medical emergency at 60 minutes: the separate exit, no 2-hour wait (DC-001 is
    // for discharge).
    app.advance(SignedDuration::from_mins(20));
    let r = post(&app, &format!("{s}/transfer"), &pt, json!({"reason": "Seizure: ambulance to the ED"})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let form = get(&app, &format!("{s}/rems"), &pt).await;
    let missing: Vec<&str> = form["missing"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert!(missing.contains(&"when the patient would have been ready to leave"), "{missing:?}");
    assert!(!missing.iter().any(|m| m.contains("not discharged")), "a transfer completes monitoring: {missing:?}");
    // The REMS fields, completed afterwards: a late entry; refused as anything but minutes.
    // (The clock's jump ended the idle page session: sign in again.)
    let web = app.client();
    app.login(&web, "nurse.esk").await;
    let p = expect_problem(
        post(&app, &format!("{s}/rems/fields"), &pt, json!({"ready_to_leave_minutes": "soon"})).await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&p), vec!["ready_to_leave_minutes"]);
    let r = form_post(&app, &web, &format!("/sessions/{sid}/rems/fields"), &[("ready_to_leave_minutes", "x")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("REMS: ready to leave after (minutes): whole minutes"));
    let r = form_post(&app, &web, &format!("/sessions/{sid}/rems/fields"), &[("ready_to_leave_minutes", "95")]).await;
    assert_eq!(r.status(), 303);
    let form = get(&app, &format!("{s}/rems"), &pt).await;
    assert_eq!(form["ready_to_leave_minutes"], json!(95), "{form}");
    let (_, events) = late_flags(&app, &sid).await;
    assert!(events.contains(&(SessionEventKind::RemsFields, true)), "{events:?}");
    let html = page(&app, &web, &sid).await;
    assert!(
        html.contains("Ready to leave (REMS: without the 2-hour minimum)</strong>: done: ready after 95 min"),
        "{html}"
    );
    assert!(html.contains("REMS form fields: late entry"), "{html}");
    app.stop().await;
}
on_both_databases!(
    an_esketamine_transfer_closes_the_rems_form_and_its_fields_are_completed_late,
    esketamine_transfer_rems
);

async fn form_post(app: &TestApp, web: &reqwest::Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    form(app, web, path, fields).await
}

async fn intervention_stop_keeps_the_tile(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.int", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    let r = post(
        &app,
        &format!("{s}/interventions"),
        &pt,
        json!({"trigger_value": "BP 190/115", "action": "infusion stopped",
        "response": "BP 160/95 after 10 min", "session_stopped": "yes"}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // Dosing has ended, but the patient is still observed: the tile stays, saying so,
    // and the session page still offers the discharge and the transfer.
    let web = app.client();
    app.login(&web, "nurse.int").await;
    let floor = web.get(app.url("/floor")).send().await.unwrap().text().await.unwrap();
    assert!(floor.contains(&format!("tile-{sid}")), "{floor}");
    assert!(floor.contains("Dosing stopped (INT-005) · observing"), "{floor}");
    let html = page(&app, &web, &sid).await;
    for offered in ["/discharge", "/transfer"] {
        assert!(html.contains(&format!(r#"action="/sessions/{sid}{offered}""#)), "{offered}: {html}");
    }
    app.stop().await;
}
on_both_databases!(
    an_intervention_that_stops_dosing_keeps_the_floor_tile_until_discharge,
    intervention_stop_keeps_the_tile
);
