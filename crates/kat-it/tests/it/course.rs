//! The dosing-course page, on both databases: a session is started from the page on a
//! signed plan (then the gate), only one session per patient is in progress, a deferral
//! at the gate moves that day's dose to the new date (§3 "defer … rescheduled") and
//! takes the session off the floor board; the plan and sessions are on the patient
//! timeline; roles.

use crate::dosing::{eligible_patient, get, iv_plan, manual, post};
use crate::support::{expect_problem, problem_fields, staff_with_token};
use kat_core::role::Role;
use kat_it::{Db, app_or_skip, on_both_databases};
use serde_json::{Value, json};

async fn course_page(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.course", Role::Prescriber).await;
    app.add_staff("nurse.course", Role::Nurse).await;
    app.add_staff("desk.course", Role::FrontDesk).await;
    let id = eligible_patient(&app, &pt).await;
    let plan: Value = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, iv_plan(&app, "0.5"))
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap().to_string();
    let dates: Vec<String> =
        plan["content"]["schedule"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect();
    assert_eq!(dates[0], "2026-03-10", "the first dose is today (the test clock)");

    let web = app.client();
    app.login(&web, "nurse.course").await;
    let start = format!("/patients/{id}/treatment-plan/{plan_id}/sessions");
    // Not signed: no start button, and starting is refused.
    let html = web.get(app.url(&format!("/patients/{id}/dosing"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Draft: not signed") && !html.contains(&start), "{html}");
    let r = web.post(app.url(&start)).header("origin", &app.base_url).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await.status(),
        200
    );

    // Signed: every planned date shows, today marked; the nurse starts the session.
    let html = web.get(app.url(&format!("/patients/{id}/dosing"))).send().await.unwrap().text().await.unwrap();
    for d in &dates {
        assert!(html.contains(d.as_str()), "{d}: {html}");
    }
    assert!(html.contains("(today)") && html.contains(&start), "{html}");
    let r = web.post(app.url(&start)).header("origin", &app.base_url).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let gate = r.headers()["location"].to_str().unwrap().to_string();
    assert!(gate.starts_with("/sessions/") && gate.ends_with("/gate"), "{gate}");
    let sid = gate.trim_start_matches("/sessions/").trim_end_matches("/gate").to_string();
    // A second session while this one is still open needs a prescriber's reason, on the
    // page and the API.
    let r = web.post(app.url(&start)).header("origin", &app.base_url).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("still open"));
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({})).await.status(),
        422
    );
    assert!(web.get(app.url("/floor/live")).send().await.unwrap().text().await.unwrap().contains(&sid));

    // Deferred at the gate with a new date: today's dose moves there; the session leaves
    // the floor board; a new session may start.
    let form = [
        ("systolic", "190"),
        ("diastolic", "110"),
        ("defer_reason", "BP 190/110 at rest"),
        ("reschedule_to", "2026-03-11"),
    ];
    let r = web
        .post(app.url(&format!("/sessions/{sid}/gate")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/patients/{id}/dosing").as_str());
    let html = web.get(app.url(&format!("/patients/{id}/dosing"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("2026-03-11") && html.contains("Moved from 2026-03-10 (deferred 1×)"), "{html}");
    assert!(html.contains("BP 190/110 at rest; new date 2026-03-11"), "{html}");
    assert!(!html.contains("(today)"), "today's dose moved away: {html}");
    assert!(!web.get(app.url("/floor/live")).send().await.unwrap().text().await.unwrap().contains(&sid));
    assert_eq!(
        get(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt).await[0]["content"]["schedule"][0],
        "2026-03-10",
        "the signed plan is unchanged"
    );
    let r = web.post(app.url(&start)).header("origin", &app.base_url).send().await.unwrap();
    assert_eq!(r.status(), 303);

    // The timeline shows the plan (drafted, signed) and both sessions, the first deferred;
    // filtered by kind.
    let tl = get(&app, &format!("/api/v1/patients/{id}/timeline?kind=treatment_plan,dosing_session"), &pt).await;
    let titles: Vec<(String, String)> = tl
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["title"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(titles.iter().filter(|(k, _)| k == "treatment_plan").count(), 2, "{tl:#}");
    let sessions: Vec<&Value> = tl.as_array().unwrap().iter().filter(|e| e["kind"] == "dosing_session").collect();
    assert_eq!(sessions.len(), 2, "{tl:#}");
    assert!(sessions[0]["title"].as_str().unwrap().starts_with("Dosing session: IV"), "{tl:#}");
    assert_eq!(sessions[0]["detail"], "deferred at the gate");
    assert_eq!(sessions[0]["href"], format!("/sessions/{sid}").as_str());
    assert_eq!(sessions[1]["detail"], "gate not yet run; in progress");

    // The front desk may not see the course.
    let desk = app.client();
    app.login(&desk, "desk.course").await;
    assert_eq!(desk.get(app.url(&format!("/patients/{id}/dosing"))).send().await.unwrap().status(), 403);
    app.stop().await;
}
on_both_databases!(course_page_starts_sessions_and_deferral_moves_the_dose, course_page);

/// The measures chart marks each dose day between the scores (issue 4's chart, issue 5's
/// sessions), so that staff see whether relief followed the doses.
async fn chart_marks_dose_days(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.chart", Role::Prescriber).await;
    app.add_staff("nurse.chart", Role::Nurse).await;
    let phq9 = |answers: [u8; 9]| json!({"instrument": "phq9", "answers": answers});
    let id = eligible_patient(&app, &pt).await;
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/responses"), &pt, phq9([2, 2, 2, 2, 2, 2, 2, 1, 0])).await.status(),
        201
    );
    app.advance(jiff::SignedDuration::from_hours(1));
    let plan: Value = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, iv_plan(&app, "0.5"))
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await.status(),
        200
    );
    // A session deferred at the gate is not a dose; one through the gate is.
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
    let s: Value = post(&app, &open, &pt, json!({})).await.json().await.unwrap();
    let mut defer = crate::dosing::passing_gate(&app, "iv_infusion", 120);
    defer["defer_reason"] = json!("patient unwell today");
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{}/gate", s["id"].as_str().unwrap()), &pt, defer).await.status(),
        200
    );
    app.advance(jiff::SignedDuration::from_hours(1));
    let s: Value = post(&app, &open, &pt, json!({})).await.json().await.unwrap();
    let gate = crate::dosing::passing_gate(&app, "iv_infusion", 120);
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{}/gate", s["id"].as_str().unwrap()), &pt, gate).await.status(),
        200
    );
    app.advance(jiff::SignedDuration::from_hours(24));
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/responses"), &pt, phq9([1, 1, 1, 1, 1, 1, 1, 0, 0])).await.status(),
        201
    );
    let web = app.client();
    app.login(&web, "nurse.chart").await;
    let html = web.get(app.url(&format!("/patients/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<svg class=\"chart\""), "{html}");
    assert_eq!(html.matches("class=\"dose-mark\"").count(), 1, "{html}");
    assert!(html.contains("Dose 1 on 2026-03-10") && html.contains("▼D1"), "{html}");
    app.stop().await;
}
on_both_databases!(measures_chart_marks_dose_days, chart_marks_dose_days);

/// Every route can be planned: intranasal racemic ketamine has a library protocol (the
/// spec's unconfirmed 50 mg RCT dose, DOSE-INR-001), in the clinic only.
async fn intranasal_racemic_plan(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.inr", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let mut plan = iv_plan(&app, "0.5");
    for (k, v) in [
        ("route", "intranasal_racemic"),
        ("protocol", "intranasal_racemic_rct50mg"),
        ("product", "Ketamine HCl (compounded) nasal spray 100 mg/mL"),
        ("dose_style", "fixed"),
        ("dose_mg", "50"),
        ("dose_mg_per_kg", ""),
        ("infusion_minutes", ""),
        ("concentration_mg_per_ml", "100"),
    ] {
        plan[k] = json!(v);
    }
    let r = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, plan).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body:#}");
    assert_eq!(body["content"]["dose"]["mg"], 50.0, "{body:#}");
    assert!(body["content"]["protocol_name"].as_str().unwrap().contains("unconfirmed"), "{body:#}");
    app.stop().await;
}
on_both_databases!(intranasal_racemic_can_be_planned_in_clinic, intranasal_racemic_plan);

/// DAY-004: a medication added to the intake after the session opened reruns the
/// interaction rules at the gate: theophylline (DDI-007, a hard stop by default) makes
/// the gate defer, the gate page names it, and the stored checklist keeps it.
async fn gate_reruns_interactions(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.ddi", Role::Prescriber).await;
    app.add_staff("nurse.ddi", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let plan: Value = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, iv_plan(&app, "0.5"))
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await.status(),
        200
    );
    let s: Value = post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let sid = s["id"].as_str().unwrap().to_string();
    let web = app.client();
    app.login(&web, "nurse.ddi").await;
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("None on the current medication list."), "sertraline alone: {html}");

    // The nurse adds theophylline to the intake (a new version).
    let intake = get(&app, &format!("/api/v1/patients/{id}/intake"), &pt).await;
    let mut answers = intake["answers"].clone();
    answers["med2_name"] = json!("theophylline");
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/patients/{id}/intake")))
        .bearer_auth(&pt)
        .json(&json!({"answers": answers, "complete": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("(DDI-007)") && html.contains("theophylline"), "{html}");
    assert!(html.contains("(DAY-004)"), "the decision is stale: {html}");

    // An otherwise passing checklist may not proceed, even with an override: DDI-007 defers.
    let mut gate = crate::dosing::passing_gate(&app, "iv_infusion", 120);
    gate["override_reason"] = json!("reviewed");
    let r = post(&app, &format!("/api/v1/sessions/{sid}/gate"), &pt, gate.clone()).await;
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert!(problem.to_string().contains("defer_reason"), "{problem:#}");
    gate["defer_reason"] = json!("theophylline started; review with the GP");
    let r = post(&app, &format!("/api/v1/sessions/{sid}/gate"), &pt, gate).await;
    assert_eq!(r.status(), 200);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["outcome"], "defer");
    let rules: Vec<&str> =
        stored["checklist"]["interactions"].as_array().unwrap().iter().map(|i| i["rule"].as_str().unwrap()).collect();
    assert!(
        rules.contains(&"DDI-007") && rules.contains(&"DAY-004"),
        "the stored checklist keeps the rerun findings: {stored:#}"
    );
    assert_eq!(get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["session"]["gate_outcome"], "defer");
    app.stop().await;
}
on_both_databases!(gate_reruns_the_interaction_rules_on_the_current_intake, gate_reruns_interactions);

/// The gate page shows today's pre-dose measures (OUT-002, DAY-006) and says when no
/// suicide-risk screen has been taken today; the responses shown are audited as read.
async fn gate_shows_pre_dose_measures(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.pre", Role::Prescriber).await;
    let nurse = app.add_staff("nurse.pre", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let plan: Value = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, iv_plan(&app, "0.5"))
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await.status(),
        200
    );
    let s: Value = post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let sid = s["id"].as_str().unwrap();
    let web = app.client();
    app.login(&web, "nurse.pre").await;
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("None recorded today.") && html.contains("No suicide-risk screen"), "{html}");
    let r = post(
        &app,
        &format!("/api/v1/patients/{id}/responses"),
        &pt,
        json!({"instrument": "phq9", "answers": [2, 2, 2, 2, 2, 1, 1, 1, 1]}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("PHQ-9: 14") && html.contains("Item 9 above 0"), "{html}");
    assert!(!html.contains("No suicide-risk screen"), "{html}");
    let mut tx = app.store.begin().await.unwrap();
    let read = tx
        .query_audit(&kat_core::audit::AuditFilter {
            user_id: Some(nurse.id),
            patient_id: None,
            from: None,
            to: None,
            before_seq: None,
            limit: 100,
        })
        .await
        .unwrap()
        .iter()
        .filter(|e| e.entry.resource_type == "measure_response")
        .count();
    assert_eq!(read, 1, "the response shown was audited once");
    drop(tx);
    app.stop().await;
}
on_both_databases!(gate_page_shows_the_pre_dose_measures, gate_shows_pre_dose_measures);

/// The session dates generated from the protocol when no interval is given (issue: "the
/// session schedule generated from the protocol, which staff can adjust"): Spravato for
/// TRD twice weekly in weeks 1-4 (DOSE-IN-002), weekly in weeks 5-8 (DOSE-IN-003), then
/// weekly from week 9 (DOSE-IN-004, the prescriber may space it to two weeks); a given
/// interval or list of dates is the staff's adjustment; an individualised protocol needs
/// the interval; a protocol's maximum is not silently exceeded.
async fn schedule_from_protocol(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.sched", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    let trd = |interval: &str, schedule: &str| {
        json!({
            "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
            "product": "Spravato 28 mg device", "course_sessions": 14, "endpoint": "Response at week 4",
            "reassessment": "End of induction (DOSE-IN-005)", "maintenance": "Weekly or every 2 weeks from week 9",
            "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "with_oral_antidepressant",
            "dose_mg": 56, "first_session": "2026-03-10", "interval_days": interval, "schedule": schedule
        })
    };
    let dates = |plan: &Value| -> Vec<String> {
        plan["content"]["schedule"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect()
    };

    let r = post(&app, &plans, &pt, trd("", "")).await;
    assert_eq!(r.status(), 201);
    let plan: Value = r.json().await.unwrap();
    assert_eq!(
        dates(&plan),
        [
            // weeks 1-4: twice weekly (days 0 and 3 of each week)
            "2026-03-10",
            "2026-03-13",
            "2026-03-17",
            "2026-03-20",
            "2026-03-24",
            "2026-03-27",
            "2026-03-31",
            "2026-04-03",
            // weeks 5-8: weekly
            "2026-04-07",
            "2026-04-14",
            "2026-04-21",
            "2026-04-28",
            // week 9 onward: weekly
            "2026-05-05",
            "2026-05-12",
        ]
    );

    // The prescriber's fixed interval, and an explicit list, still replace it.
    let plan: Value = post(&app, &plans, &pt, trd("7", "")).await.json().await.unwrap();
    assert_eq!(dates(&plan)[..3], ["2026-03-10", "2026-03-17", "2026-03-24"]);
    assert_eq!(dates(&plan).len(), 14);
    let plan: Value = post(&app, &plans, &pt, trd("", "2026-03-12, 2026-03-10")).await.json().await.unwrap();
    assert_eq!(dates(&plan), ["2026-03-10", "2026-03-12"]);
    let p = expect_problem(post(&app, &plans, &pt, trd("often", "")).await, 422).await;
    assert_eq!(problem_fields(&p), ["interval_days"], "{p:#}");

    // Individualised (DOSE-INR-001's single dose, repeats by the prescriber's decision):
    // no dates without the interval, named on `interval_days`; with it, planned.
    let mut inr = trd("", "");
    for (k, v) in [
        ("route", "intranasal_racemic"),
        ("protocol", "intranasal_racemic_rct50mg"),
        ("product", "Ketamine HCl nasal spray 100 mg/mL"),
        ("dose_mg", "50"),
    ] {
        inr[k] = json!(v);
    }
    inr["course_sessions"] = json!(3);
    inr["esketamine_regimen"] = json!("");
    let p = expect_problem(post(&app, &plans, &pt, inr.clone()).await, 422).await;
    assert_eq!(problem_fields(&p), ["interval_days"], "{p:#}");
    assert!(p.to_string().contains("this protocol has no fixed frequency; give the days between sessions"), "{p:#}");
    inr["interval_days"] = json!("14");
    let r = post(&app, &plans, &pt, inr).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // More sessions than the protocol plans (MDSI: 8 over 4 weeks, DOSE-IN-006): refused
    // on `course_sessions` rather than cut short; with an interval, the prescriber's call.
    let mut mdsi = trd("", "");
    mdsi["protocol"] = json!("spravato_mdsi");
    mdsi["dose_mg"] = json!(84);
    mdsi["course_sessions"] = json!(10);
    let p = expect_problem(post(&app, &plans, &pt, mdsi.clone()).await, 422).await;
    assert_eq!(problem_fields(&p), ["course_sessions"], "{p:#}");
    assert!(p.to_string().contains("at most 8 sessions"), "{p:#}");
    mdsi["course_sessions"] = json!(8);
    let plan: Value = post(&app, &plans, &pt, mdsi).await.json().await.unwrap();
    assert_eq!(dates(&plan).last().unwrap(), "2026-04-03", "8 sessions twice weekly end in week 4");
    app.stop().await;
}
on_both_databases!(plan_dates_generated_from_the_protocol_phases_unless_adjusted, schedule_from_protocol);
