//! Dosing safe across sessions and plans (kat issue 11 items 1 and 7), on both
//! databases: one dose day per patient in the clinic's time zone (a second session the
//! same local day is refused, a nurse cannot override, a prescriber can with a reason
//! shown on both sessions and the floor board, the next local day is clear, a session
//! deferred at the gate is no dose day); a plan that overlaps another active plan is
//! signed only with a reason, shown on the plan; at the gate the blocking finding leads,
//! the plan's weight date answers DAY-008 up to the clinic's maximum age, and a finding
//! accepted at eligibility carries over unless the intake changed since.

use crate::dosing::{dose_event, eligible_patient, get, iv_plan, manual, passing_gate, post, send};
use crate::support::{ada, create_patient, expect_problem, problem_fields, staff_with_token};
use jiff::SignedDuration;
use jiff::tz::{TimeZone, offset};
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::role::Role;
use kat_it::{Db, Options, TestApp, app_or_skip, on_both_databases};
use serde_json::{Map, Value, json};

/// The clinic five hours behind UTC: the test clock's 14:00 UTC is 09:00 there.
fn clinic_minus_5() -> Options {
    let mut o = manual();
    o.config.time_zone = TimeZone::fixed(offset(-5));
    o
}

/// Moves the test clock to an instant (UTC).
fn advance_to(app: &TestApp, at: &str) {
    let at: jiff::Timestamp = at.parse().unwrap();
    app.advance(at.duration_since(app.now()));
}

async fn signed_plan(app: &TestApp, pt: &str, id: &str, body: Value) -> String {
    let plan: Value =
        post(app, &format!("/api/v1/patients/{id}/treatment-plans"), pt, body).await.json().await.unwrap();
    let plan_id = plan["id"].as_str().unwrap().to_string();
    // A reason in case another plan of the patient overlaps (kept only if one does).
    let body = json!({"overlap_reason": "test: a later plan of the same patient"});
    let r = post(app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), pt, body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    plan_id
}

/// Passes the gate, gives the infusion (started and stopped a minute later) and
/// discharges with a prescriber's override (no observation time in a test).
async fn gate_and_discharge(app: &TestApp, pt: &str, sid: &str) {
    let r = post(app, &format!("/api/v1/sessions/{sid}/gate"), pt, passing_gate(app, "iv_infusion", 120)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let admin = format!("/api/v1/sessions/{sid}/administrations");
    assert_eq!(post(app, &admin, pt, dose_event("infusion_start")).await.status(), 201);
    app.advance(SignedDuration::from_mins(1));
    assert_eq!(post(app, &admin, pt, json!({"kind": "infusion_stop"})).await.status(), 201);
    let body = json!({"aldrete_total": 10, "moaas": 5, "dissociation_resolved": true, "able_to_walk_safely": true,
        "active_nausea": false, "suicidal_crisis": false, "escort_present": true, "written_instructions_given": true,
        "clinician_judges_stable": true, "override_reason": "test: no dose charted"});
    let r = post(app, &format!("/api/v1/sessions/{sid}/discharge"), pt, body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn one_dose_day(db: Db) {
    let app = app_or_skip!(db, clinic_minus_5());
    let (pres, _, pt) = staff_with_token(&app, "pres.day", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.day", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let plan_id = signed_plan(&app, &pt, &id, iv_plan(&app, "0.5")).await;
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");

    // 09:00 local on 10 March: the first session, given and discharged.
    let r = post(&app, &open, &nt, json!({})).await;
    assert_eq!(r.status(), 201);
    let s1: Value = r.json().await.unwrap();
    assert_eq!(s1["dose_day_override"], Value::Null);
    let s1 = s1["id"].as_str().unwrap().to_string();
    gate_and_discharge(&app, &pt, &s1).await;

    // 19:00 local, already 11 March in UTC: the same clinic day. Refused, naming the
    // other session in words, on the field that would answer it.
    advance_to(&app, "2026-03-11T00:00:00Z");
    let p = expect_problem(post(&app, &open, &nt, json!({})).await, 422).await;
    assert_eq!(problem_fields(&p), ["override_reason"], "{p}");
    let msg = p["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("IV infusion (racemic ketamine) session on 2026-03-10"), "{p}");
    // A nurse cannot override; nothing is saved (else the prescriber's below would find
    // one in progress).
    let p = expect_problem(post(&app, &open, &nt, json!({"override_reason": "patient asks"})).await, 422).await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("Only a prescriber"), "{p}");
    // A blank reason is no reason.
    expect_problem(post(&app, &open, &pt, json!({"override_reason": "  "})).await, 422).await;
    // A prescriber overrides with a reason: stored with the new session.
    let r = post(&app, &open, &pt, json!({"override_reason": "Rescue dose agreed with the team"})).await;
    assert_eq!(r.status(), 201);
    let s2: Value = r.json().await.unwrap();
    let summary = format!("Second dose today — override by {}: Rescue dose agreed with the team", pres.display_name);
    assert_eq!(s2["dose_day_override"], summary.as_str(), "{s2:#}");
    let s2 = s2["id"].as_str().unwrap().to_string();
    // The second is still open: a third needs a prescriber's reason too, naming it, and
    // a nurse cannot give one (nothing is saved either way).
    let p = expect_problem(post(&app, &open, &pt, json!({})).await, 422).await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("still open (not discharged)"), "{p}");
    expect_problem(post(&app, &open, &nt, json!({"override_reason": "again"})).await, 422).await;

    // Shown on both sessions' pages, the course page and the floor board tile.
    let web = app.client();
    app.login(&web, "nurse.day").await;
    let page = |path: String| {
        let web = web.clone();
        let url = app.url(&path);
        async move { web.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page(format!("/sessions/{s2}")).await;
    assert!(html.contains(&summary), "{html}");
    let html = page(format!("/sessions/{s1}")).await;
    assert!(
        html.contains("A later session was opened over this one") && html.contains(&format!("/sessions/{s2}")),
        "{html}"
    );
    assert!(html.contains(&summary), "{html}");
    let html = page("/floor".into()).await;
    assert!(html.contains("tile-doseday") && html.contains(&summary), "{html}");
    let html = page(format!("/patients/{id}/dosing")).await;
    assert!(html.contains(&summary), "{html}");
    gate_and_discharge(&app, &pt, &s2).await;
    // The course page tells the nurse a prescriber is needed; it asks the prescriber why.
    let html = page(format!("/patients/{id}/dosing")).await;
    assert!(html.contains("Already dosed today") && html.contains("only a prescriber may start another"), "{html}");
    assert!(!html.contains("name=\"override_reason\""), "{html}");
    let pres_web = app.client();
    app.login(&pres_web, "pres.day").await;
    let start = format!("/patients/{id}/treatment-plan/{plan_id}/sessions");
    let r = pres_web.post(app.url(&start)).header("origin", &app.base_url).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("name=\"override_reason\"") && html.contains("session on 2026-03-10"), "{html}");

    // 23:59 local: still the same day; 00:00 local on 11 March: a new dose day.
    advance_to(&app, "2026-03-11T04:59:00Z");
    expect_problem(post(&app, &open, &nt, json!({})).await, 422).await;
    app.advance(SignedDuration::from_mins(1));
    let r = post(&app, &open, &nt, json!({})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let s3: Value = r.json().await.unwrap();
    assert_eq!(s3["dose_day_override"], Value::Null);
    app.stop().await;
}
on_both_databases!(one_dose_day_per_patient_in_the_clinic_time_zone, one_dose_day);

/// Two opens at the same moment, neither with a reason: the patient's row is held to the
/// insert, so the second sees the first (still open) and is refused for want of a
/// prescriber's reason; never two sessions.
async fn simultaneous_opens(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.race", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.race", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let plan_id = signed_plan(&app, &pt, &id, iv_plan(&app, "0.5")).await;
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
    for _ in 0..3 {
        let (a, b) = tokio::join!(post(&app, &open, &nt, json!({})), post(&app, &open, &pt, json!({})));
        let mut got = [a.status().as_u16(), b.status().as_u16()];
        got.sort();
        assert_eq!(got, [201, 422]);
        // End the day's session by deferring it (no dose), then race again.
        let sessions = get(&app, &format!("/api/v1/patients/{id}/timeline?kind=dosing_session"), &pt).await;
        let open_now: Vec<&Value> = sessions
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["detail"].as_str().unwrap_or_default().contains("in progress"))
            .collect();
        assert_eq!(open_now.len(), 1, "{sessions:#}");
        let sid = open_now[0]["href"].as_str().unwrap().trim_start_matches("/sessions/").to_string();
        let mut defer = passing_gate(&app, "iv_infusion", 120);
        defer["defer_reason"] = json!("race round over");
        assert_eq!(post(&app, &format!("/api/v1/sessions/{sid}/gate"), &pt, defer).await.status(), 200);
    }
    app.stop().await;
}
on_both_databases!(two_simultaneous_opens_give_one_session, simultaneous_opens);

/// A session deferred at the gate gave nothing: the same day, another opens without an
/// override (the patient came back once the reason was fixed).
async fn deferred_is_no_dose_day(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.defer", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.defer", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let plan_id = signed_plan(&app, &pt, &id, iv_plan(&app, "0.5")).await;
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
    let s: Value = post(&app, &open, &nt, json!({})).await.json().await.unwrap();
    let mut defer = passing_gate(&app, "iv_infusion", 120);
    defer["defer_reason"] = json!("ate an hour ago");
    let r = post(&app, &format!("/api/v1/sessions/{}/gate", s["id"].as_str().unwrap()), &nt, defer).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    app.advance(SignedDuration::from_hours(2));
    let r = post(&app, &open, &nt, json!({})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    app.stop().await;
}
on_both_databases!(a_session_deferred_at_the_gate_is_no_dose_day, deferred_is_no_dose_day);

/// The clinic's minimum interval (`[dosing.course] min_interval_hours`, off by default:
/// the reference gives none), here 48 h: the next day needs a prescriber's reason, 48 h
/// after the first opened is clear.
async fn clinic_min_interval(db: Db) {
    let mut o = manual();
    o.config.dosing.course.min_interval_hours = Some(48);
    let app = app_or_skip!(db, o);
    let (_, _, pt) = staff_with_token(&app, "pres.interval", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.interval", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let plan_id = signed_plan(&app, &pt, &id, iv_plan(&app, "0.5")).await;
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
    let s1: Value = post(&app, &open, &nt, json!({})).await.json().await.unwrap();
    gate_and_discharge(&app, &pt, s1["id"].as_str().unwrap()).await;
    // 47 h 59 min after the first was opened: too soon.
    advance_to(&app, "2026-03-12T13:59:00Z");
    let p = expect_problem(post(&app, &open, &nt, json!({})).await, 422).await;
    assert_eq!(problem_fields(&p), ["override_reason"], "{p}");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("less than the clinic's 48 hours"), "{p}");
    // 48 h: clear.
    advance_to(&app, "2026-03-12T14:00:00Z");
    let r = post(&app, &open, &nt, json!({})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    app.stop().await;
}
on_both_databases!(the_clinic_minimum_interval_needs_a_prescriber_until_it_has_passed, clinic_min_interval);

async fn overlapping_plans(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.overlap", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let iv = signed_plan(&app, &pt, &id, iv_plan(&app, "0.5")).await;
    // A Spravato plan starting the same day (the finding behind issue 11 item 1).
    let spv = json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
        "product": "Spravato 28 mg device", "course_sessions": 14, "endpoint": "Response at week 4",
        "reassessment": "End of induction (DOSE-IN-005)", "maintenance": "Weekly or every 2 weeks from week 9",
        "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "monotherapy",
        "dose_mg": 56, "first_session": "2026-03-10"
    });
    let r = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, spv).await;
    let status = r.status();
    let plan: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{plan:#}");
    let spv = plan["id"].as_str().unwrap().to_string();
    let sign = format!("/api/v1/patients/{id}/treatment-plans/{spv}/sign");
    // Without a reason: refused, naming the IV plan and the shared day; nothing signed.
    let p = expect_problem(post(&app, &sign, &pt, json!({})).await, 422).await;
    assert_eq!(problem_fields(&p), ["overlap_reason"], "{p}");
    let msg = p["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("IV infusion (racemic ketamine) plan, 2026-03-10 to"), "{p}");
    assert!(msg.contains("sessions on the same day: 2026-03-10"), "{p}");
    // The page shows the overlap and asks for the reason.
    let web = app.client();
    app.login(&web, "pres.overlap").await;
    let html = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Overlaps another active ketamine or esketamine plan"), "{html}");
    assert!(html.contains("name=\"overlap_reason\""), "{html}");
    let r = web
        .post(app.url(&format!("/patients/{id}/treatment-plan/{spv}/sign")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Overlap reason: another active"));
    let plans = get(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt).await;
    assert!(plans.as_array().unwrap().iter().any(|p| p["id"] == spv.as_str() && p["signed"] == false), "{plans:#}");
    // With a reason: signed, the reason and the overlap kept and shown.
    let r = post(&app, &sign, &pt, json!({"overlap_reason": "IV course ends after day 1; Spravato continues"})).await;
    assert_eq!(r.status(), 200);
    let signed: Value = r.json().await.unwrap();
    assert_eq!(signed["overlap_reason"], "IV course ends after day 1; Spravato continues", "{signed:#}");
    assert!(signed["overlaps"][0].as_str().unwrap().contains("IV infusion"), "{signed:#}");
    let html = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Signed over an overlapping plan") && html.contains("Spravato continues"), "{html}");
    // The IV plan itself was signed first, without an overlap.
    assert!(plans.as_array().unwrap().iter().any(|p| p["id"] == iv.as_str() && p["overlap_reason"].is_null()));
    app.stop().await;
}
on_both_databases!(a_plan_overlapping_another_is_signed_only_with_a_reason, overlapping_plans);

/// A patient taking diazepam 20 mg/day (DDI-004 above the 8 mg cap: prescriber review),
/// accepted at eligibility with a reason.
async fn benzodiazepine_patient(app: &TestApp, pt: &str) -> String {
    let p = create_patient(app, pt, &ada()).await;
    let id = p["id"].as_str().unwrap().to_string();
    put_intake(app, pt, &id, "20").await;
    let e = get(app, &format!("/api/v1/patients/{id}/eligibility"), pt).await;
    let reasons: Map<String, Value> = e["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "prescriber_review")
        .map(|f| (f["rule"].as_str().unwrap().to_string(), json!("Taper agreed; dose stable")))
        .collect();
    assert!(reasons.contains_key("DDI-004"), "{e:#}");
    let r = post(
        app,
        &format!("/api/v1/patients/{id}/eligibility/decision"),
        pt,
        json!({"evaluation_id": e["evaluation_id"], "decision": "accept", "reasons": reasons}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    id
}

async fn put_intake(app: &TestApp, pt: &str, id: &str, diazepam_mg: &str) {
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let mut a = example_complete_answers(today);
    a.set("med2_name", "diazepam").unwrap();
    a.set("med2_dose_mg", diazepam_mg).unwrap();
    let answers: Map<String, Value> = a.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    let r = send(
        app,
        reqwest::Method::PUT,
        &format!("/api/v1/patients/{id}/intake"),
        pt,
        Some(json!({"answers": answers, "complete": true})),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn gate_carry_over(db: Db) {
    let app = app_or_skip!(db, manual());
    let (pres, _, pt) = staff_with_token(&app, "pres.carry", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.carry", Role::Nurse).await;
    let id = benzodiazepine_patient(&app, &pt).await;
    let plan_id = signed_plan(&app, &pt, &id, iv_plan(&app, "0.5")).await;
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
    let sid =
        post(&app, &open, &nt, json!({})).await.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // The rerun DDI-004 carries the acceptance: the nurse passes the gate, no override.
    let found = get(&app, &format!("/api/v1/sessions/{sid}/gate/interactions"), &nt).await;
    let ddi4 = found.as_array().unwrap().iter().find(|f| f["rule"] == "DDI-004").expect("DDI-004 rerun").clone();
    assert_eq!(ddi4["accepted"]["reason"], "Taper agreed; dose stable", "{found:#}");
    assert_eq!(ddi4["accepted"]["by"], pres.display_name.as_str(), "{found:#}");
    assert_eq!(ddi4["accepted"]["on"], "2026-03-10", "{found:#}");
    let web = app.client();
    app.login(&web, "nurse.carry").await;
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    let words = format!("accepted at eligibility on 2026-03-10 by {}: Taper agreed; dose stable", pres.display_name);
    assert!(html.contains(&words) && html.contains("Accepted at eligibility"), "{html}");
    // A caller cannot forge an acceptance for a finding of its own.
    let mut forged = passing_gate(&app, "iv_infusion", 120);
    forged["checklist"]["interactions"] = json!([{"rule": "DDI-003", "action": "override", "message": "MAOI",
        "accepted": {"on": "2026-03-01", "by": "nobody", "reason": "forged"}}]);
    let p = expect_problem(post(&app, &format!("/api/v1/sessions/{sid}/gate"), &nt, forged).await, 422).await;
    assert_eq!(problem_fields(&p), ["override_reason"], "{p}");
    let r = post(&app, &format!("/api/v1/sessions/{sid}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["outcome"], "proceed", "{g:#}");
    app.stop().await;
}
on_both_databases!(a_finding_accepted_at_eligibility_carries_to_the_gate, gate_carry_over);

async fn gate_no_carry_after_intake_change(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.nocarry", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.nocarry", Role::Nurse).await;
    let id = benzodiazepine_patient(&app, &pt).await;
    let plan_id = signed_plan(&app, &pt, &id, iv_plan(&app, "0.5")).await;
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
    let sid =
        post(&app, &open, &nt, json!({})).await.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    // The dose went up after the decision: the acceptance no longer carries.
    app.advance(SignedDuration::from_mins(5));
    put_intake(&app, &pt, &id, "30").await;
    let found = get(&app, &format!("/api/v1/sessions/{sid}/gate/interactions"), &nt).await;
    let ddi4 = found.as_array().unwrap().iter().find(|f| f["rule"] == "DDI-004").expect("DDI-004 rerun");
    assert!(ddi4.get("accepted").is_none_or(Value::is_null), "{found:#}");
    // The gate needs the prescriber again, and the page leads with what blocks.
    let p = expect_problem(
        post(&app, &format!("/api/v1/sessions/{sid}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&p), ["override_reason"], "{p}");
    let mut over = passing_gate(&app, "iv_infusion", 120);
    over["override_reason"] = json!("Reviewed the new dose with the patient");
    let r = post(&app, &format!("/api/v1/sessions/{sid}/gate"), &pt, over).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["outcome"], "override");
    app.stop().await;
}
on_both_databases!(no_carry_over_once_the_intake_changed, gate_no_carry_after_intake_change);

/// Issue 11 item 7's DAY-008 complaint: the gate page said the weight date was not
/// answered while the plan had it. The plan's weight date answers DAY-008 on the page's
/// decision too, up to the clinic's maximum age (boundary), and the blocking finding
/// leads the page.
async fn weight_date_from_the_plan(db: Db) {
    let mut o = manual();
    o.config.dosing.gate.weight_max_age_days = Some(28);
    let app = app_or_skip!(db, o);
    let (_, _, pt) = staff_with_token(&app, "pres.weight", Role::Prescriber).await;
    app.add_staff("nurse.weight", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let web = app.client();
    app.login(&web, "nurse.weight").await;
    // Weighed 28 days ago (the limit) and 29 days ago (one too many).
    let mut run = Vec::new();
    for (days, plan_weight_on) in [(28, "2026-02-10"), (29, "2026-02-09")] {
        let mut body = iv_plan(&app, "0.5");
        body["weight_measured_on"] = json!(plan_weight_on);
        let plan_id = signed_plan(&app, &pt, &id, body).await;
        let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
        let r = post(&app, &open, &pt, json!({})).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let sid = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        // The page's form leaves the weight date blank (it is the plan's) and says "no"
        // to the escort: the escort leads, the weight is answered by the plan.
        let form = [
            ("last_solid_at", "2026-03-10T04:00"),
            ("last_solid_kind", "fatty_or_meat"),
            ("last_clear_liquid_at", "2026-03-10T11:00"),
            ("systolic", "120"),
            ("diastolic", "80"),
            ("hypertensive_symptoms", "no"),
            ("heart_rate", "72"),
            ("new_irregular_rhythm", "no"),
            ("escort_confirmed", "no"),
            ("no_driving_instruction_given", "yes"),
            ("intoxicated_or_in_withdrawal", "no"),
            ("substance_use", "none_within_window"),
            ("childbearing_potential", "no"),
            ("medication_changes_reviewed", "yes"),
            ("new_psychotic_or_manic_symptoms", "no"),
            ("suicide_screen", "negative"),
        ];
        let r = web
            .post(app.url(&format!("/sessions/{sid}/gate")))
            .header("origin", &app.base_url)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("gate-blocker"), "{html}");
        let blocker = html.split("gate-blocker").nth(1).unwrap().split("</div>").next().unwrap().to_string();
        assert!(blocker.contains("DAY-002"), "the escort leads: {blocker}");
        assert!(!html.contains("Date the dosing weight was measured: not answered"), "{html}");
        run.push((days, html.contains("re-weigh before dosing")));
        // Discharge-free end for the next round: defer it.
        let mut defer = passing_gate(&app, "iv_infusion", 120);
        defer["defer_reason"] = json!("test round over");
        assert_eq!(post(&app, &format!("/api/v1/sessions/{sid}/gate"), &pt, defer).await.status(), 200);
    }
    assert_eq!(run, vec![(28, false), (29, true)], "the clinic's 28 days, at the boundary");
    app.stop().await;
}
on_both_databases!(the_plan_weight_date_answers_day_008_up_to_the_clinic_limit, weight_date_from_the_plan);
