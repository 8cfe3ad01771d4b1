//! The REMS form, its worklist and "mark submitted", the gate's interaction findings and
//! the dose suggestion over the JSON API, on both databases: each read is audited, a
//! refusal names its reason, and a REMS form is marked submitted only when complete and
//! discharged, and only once.

use crate::dosing::{eligible_patient, get, manual, passing_gate, post, send};
use crate::support::{expect_problem, problem_fields, staff_with_token};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_core::audit::AuditFilter;
use kat_core::ids::{DosingSessionId, PatientId};
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use serde_json::{Value, json};

/// A signed esketamine plan for a new eligible patient; returns (patient, plan).
pub(crate) async fn esketamine_plan(app: &TestApp, pt: &str) -> (String, String) {
    let id = eligible_patient(app, pt).await;
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let r = post(app, &format!("/api/v1/patients/{id}/treatment-plans"), pt, json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
        "product": "Spravato 28 mg device", "course_sessions": 8, "endpoint": "Response at week 4",
        "reassessment": "End of induction (DOSE-IN-005)", "maintenance": "Weekly weeks 5-8",
        "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "with_oral_antidepressant", "dose_mg": 56, "first_session": today.to_string(), "interval_days": 3
    })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let plan: Value = r.json().await.unwrap();
    let plan_id = plan["id"].as_str().unwrap().to_string();
    assert_eq!(
        post(app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), pt, json!({})).await.status(),
        200
    );
    (id, plan_id)
}

pub(crate) async fn open_session(app: &TestApp, pt: &str, patient: &str, plan: &str) -> String {
    let r = post(app, &format!("/api/v1/patients/{patient}/treatment-plans/{plan}/sessions"), pt, json!({})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let session: Value = r.json().await.unwrap();
    session["id"].as_str().unwrap().to_string()
}

/// Gate passed, two devices 5 minutes apart, BP and MOAA/S at 40 minutes, a CADSS-6 at
/// the peak.
pub(crate) async fn dose_and_monitor(app: &TestApp, pt: &str, sid: &str) {
    let s = format!("/api/v1/sessions/{sid}");
    let r = post(app, &format!("{s}/gate"), pt, passing_gate(app, "intranasal_esketamine", 130)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let dev = json!({"kind": "device", "administered_by": "patient (supervised)", "monitored_by": "Dr P",
        "product": "Spravato 28 mg", "lot": "SPV1", "expiry": "2099-01-01", "dose_mg": 28});
    assert_eq!(post(app, &format!("{s}/administrations"), pt, dev.clone()).await.status(), 201);
    app.advance(SignedDuration::from_mins(5));
    assert_eq!(post(app, &format!("{s}/administrations"), pt, dev).await.status(), 201);
    app.advance(SignedDuration::from_mins(35));
    assert_eq!(
        post(app, &format!("{s}/vitals"), pt, json!({"systolic": 138, "diastolic": 86, "moaas": 5})).await.status(),
        201
    );
    let r = post(app, &format!("{s}/cadss6"), pt, json!({"time_point": "peak_40", "item_1": 1, "item_2": 0, "item_6": 0, "item_7": 0, "item_15": 0, "item_22": 0})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

pub(crate) async fn audited(app: &TestApp, patient: &str) -> Vec<String> {
    let mut tx = app.store.begin().await.unwrap();
    let entries = tx
        .query_audit(&AuditFilter {
            user_id: None,
            patient_id: Some(patient.parse::<PatientId>().unwrap()),
            from: None,
            to: None,
            before_seq: None,
            limit: 1000,
        })
        .await
        .unwrap();
    entries
        .iter()
        .map(|e| format!("{:?}:{}:{:?}", e.entry.action, e.entry.resource_type, e.entry.outcome).to_lowercase())
        .collect()
}

async fn rems_submitted_events(app: &TestApp, sid: &str) -> usize {
    let mut tx = app.store.begin().await.unwrap();
    let events = tx.session_events_for_session(sid.parse::<DosingSessionId>().unwrap()).await.unwrap();
    events.iter().filter(|e| e.kind == kat_store::dosing::SessionEventKind::RemsSubmitted).count()
}

async fn rems_api(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let (_, _, desk) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let (_, _, therapist) = staff_with_token(&app, "ther", Role::Therapist).await;
    let (patient, plan) = esketamine_plan(&app, &pt).await;
    let sid = open_session(&app, &pt, &patient, &plan).await;
    let s = format!("/api/v1/sessions/{sid}");

    // The gate's interaction findings, before the gate: an array of {rule, action, message}.
    let findings = get(&app, &format!("{s}/gate/interactions"), &pt).await;
    for f in findings.as_array().unwrap() {
        assert!(f["rule"].is_string() && f["message"].is_string(), "{f}");
        assert!(["monitor", "override", "block"].contains(&f["action"].as_str().unwrap()), "{f}");
    }
    expect_problem(send(&app, reqwest::Method::GET, &format!("{s}/gate/interactions"), &desk, None).await, 403).await;
    expect_problem(send(&app, reqwest::Method::GET, &format!("{s}/gate/interactions"), "not-a-token", None).await, 401)
        .await;

    // The first session has no previous dose, so no suggestion; a bad judgement is named.
    let d = get(&app, &format!("{s}/dose-suggestion?tolerability=tolerated&efficacy=inadequate"), &pt).await;
    assert_eq!(d["previous"], Value::Null, "{d}");
    assert_eq!(d["suggestion"], Value::Null, "{d}");
    let p = expect_problem(
        send(&app, reqwest::Method::GET, &format!("{s}/dose-suggestion?tolerability=fine"), &pt, None).await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&p), vec!["tolerability"], "{p}");
    expect_problem(send(&app, reqwest::Method::GET, &format!("{s}/dose-suggestion"), &desk, None).await, 403).await;

    dose_and_monitor(&app, &pt, &sid).await;

    // Not discharged: the form is incomplete and "mark submitted" is refused, naming why;
    // nothing is recorded.
    let form = get(&app, &format!("{s}/rems"), &pt).await;
    assert_eq!(form["complete"], false, "{form}");
    assert_eq!(form["dose_mg"], 56);
    assert_eq!(form["birth_date"], "1984-03-07", "{form}");
    assert_eq!(form["sex"], "Female", "{form}");
    let classes: Vec<&str> =
        form["concomitant_classes"].as_array().unwrap().iter().map(|c| c["class"].as_str().unwrap()).collect();
    assert_eq!(
        classes,
        [
            "benzodiazepines",
            "non_benzodiazepine_sedative_hypnotics",
            "psychostimulants",
            "maois",
            "opioids",
            "other_sedatives"
        ],
        "{form}"
    );
    assert!(
        form["to_fill_on_form"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("telephone")),
        "{form}"
    );
    assert!(
        form["missing"].as_array().unwrap().iter().any(|m| m.as_str().unwrap().contains("not discharged")),
        "{form}"
    );
    let p = expect_problem(post(&app, &format!("{s}/rems/submitted"), &pt, json!({})).await, 409).await;
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("not discharged") && detail.contains("ready to leave"), "{p}");
    assert_eq!(rems_submitted_events(&app, &sid).await, 0);
    let list = get(&app, "/api/v1/rems-forms", &pt).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["session_id"], sid.as_str());
    assert_eq!(list[0]["patient_id"], patient.as_str());
    assert_eq!(list[0]["complete"], false);
    assert_eq!(list[0]["submitted"], Value::Null);
    assert!(list[0]["due"].as_str().unwrap().starts_with("2026-03-17"), "{list}");
    expect_problem(send(&app, reqwest::Method::GET, "/api/v1/rems-forms", &desk, None).await, 403).await;
    expect_problem(send(&app, reqwest::Method::GET, &format!("{s}/rems"), &desk, None).await, 403).await;

    // Discharged after 2 h with every criterion: complete; a therapist may read but not
    // mark it; the nurse's team marks it once, a second time is refused.
    app.advance(SignedDuration::from_mins(90));
    assert_eq!(post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 128, "diastolic": 80, "heart_rate": 70, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5})).await.status(), 201);
    let r = post(
        &app,
        &format!("{s}/discharge"),
        &pt,
        json!({
            "aldrete_total": 10, "moaas": 5, "dissociation_resolved": true, "able_to_walk_safely": true,
            "active_nausea": false, "suicidal_crisis": false, "escort_present": true,
            "written_instructions_given": true, "clinician_judges_stable": true, "rems_ready_to_leave_minutes": 90
        }),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let form = get(&app, &format!("{s}/rems"), &pt).await;
    assert_eq!(form["missing"], json!([]), "{form}");
    assert_eq!(form["complete"], true, "{form}");
    // The whole form, as an integration reads it (the same on both databases).
    insta::assert_json_snapshot!("rems_form_complete", form, {
        ".session_id" => "[id]",
        ".patient_id" => "[id]",
    });
    assert_eq!(form["discharged"], true);
    expect_problem(post(&app, &format!("{s}/rems/submitted"), &therapist, json!({})).await, 403).await;
    assert_eq!(rems_submitted_events(&app, &sid).await, 0);
    // Two submissions at the same moment: one is recorded, the other refused.
    let url = format!("{s}/rems/submitted");
    let (a, b) = tokio::join!(post(&app, &url, &pt, json!({})), post(&app, &url, &pt, json!({})));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let marked: Value = if a.status() == 200 { a.json().await.unwrap() } else { b.json().await.unwrap() };
    assert!(marked["submitted"].is_string(), "{marked}");
    let p = expect_problem(post(&app, &format!("{s}/rems/submitted"), &pt, json!({})).await, 409).await;
    assert!(p["detail"].as_str().unwrap_or_default().contains("already"), "{p}");
    assert_eq!(rems_submitted_events(&app, &sid).await, 1);
    let list = get(&app, "/api/v1/rems-forms", &pt).await;
    assert_eq!(list[0]["complete"], true);
    assert!(list[0]["submitted"].is_string(), "{list}");

    // The next session: the previous dose is 56 mg and the core suggests the next step
    // (DOSE-IN-002).
    app.advance(SignedDuration::from_hours(72));
    let sid2 = open_session(&app, &pt, &patient, &plan).await;
    // The REMS list comes a page at a time, newest session first, the next page linked.
    let r = send(&app, reqwest::Method::GET, "/api/v1/rems-forms?limit=1", &pt, None).await;
    assert_eq!(r.status(), 200);
    let link = r.headers().get("link").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(link.contains("page=2&limit=1") && link.contains("rel=\"next\""), "{link}");
    let first: Value = r.json().await.unwrap();
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(first[0]["session_id"], sid2.as_str(), "newest first");
    let second = get(&app, "/api/v1/rems-forms?limit=1&page=2", &pt).await;
    assert_eq!(second[0]["session_id"], sid.as_str());
    let past = get(&app, "/api/v1/rems-forms?limit=1&page=3", &pt).await;
    assert_eq!(past, json!([]));
    let d =
        get(&app, &format!("/api/v1/sessions/{sid2}/dose-suggestion?tolerability=tolerated&efficacy=inadequate"), &pt)
            .await;
    assert_eq!(d["previous"]["mg"], 56.0, "{d}");
    assert!(d["suggestion"]["rule"].is_string(), "{d}");
    let d = get(&app, &format!("/api/v1/sessions/{sid2}/dose-suggestion"), &pt).await;
    assert_eq!(d["previous"]["mg"], 56.0, "{d}");
    assert_eq!(d["suggestion"], Value::Null, "{d}");

    // Every read is audited, and each refusal.
    let kinds = audited(&app, &patient).await;
    for k in [
        "read:rems_form:allowed",
        "list:rems_form:allowed",
        "create:rems_submitted:allowed",
        "read:gate_interactions:allowed",
        "read:dose_suggestion:allowed",
        "create:rems_submitted:denied",
        "read:gate_interactions:denied",
        "read:dose_suggestion:denied",
        "read:rems_form:denied",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} audited: {kinds:?}");
    }
    // A benzodiazepine added to the intake after the session does not rewrite its form:
    // the classes are those of the intake at the session's gate.
    let s = format!("/api/v1/sessions/{sid}");
    let form = get(&app, &format!("{s}/rems"), &pt).await;
    let benzo = |f: &Value| f["concomitant_classes"][0]["current_use"].as_bool();
    assert_eq!(benzo(&form), Some(false), "{form}");
    let intake = get(&app, &format!("/api/v1/patients/{}/intake", form["patient_id"].as_str().unwrap()), &pt).await;
    let mut answers = intake["answers"].clone();
    answers["med2_name"] = json!("alprazolam");
    answers["med2_dose_mg"] = json!("1");
    let r = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/patients/{}/intake", form["patient_id"].as_str().unwrap()),
        &pt,
        Some(json!({"answers": answers, "complete": true})),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(benzo(&get(&app, &format!("{s}/rems"), &pt).await), Some(false));
    app.stop().await;
}
on_both_databases!(rems_form_worklist_submission_interactions_and_dose_suggestion_by_api, rems_api);
