//! A session's dose order (titration), on both databases: prescribers only and only
//! before dosing starts (use case and trigger); a dose different from the plan's needs a
//! reason; administrations are refused beyond the dose in force; esketamine 84 mg is
//! judged on the course so far (a hard limit on day 1, allowed after 56 mg), with the
//! core's suggestion from the previous dose and how it went. The esketamine regimen is
//! recorded per plan (IND-002).

use crate::dosing::{dose_event, eligible_patient, get, iv_plan, manual, passing_gate, post};
use crate::support::{expect_problem, problem_fields, staff_with_token};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use serde_json::{Value, json};

async fn open_session(app: &TestApp, pt: &str, id: &str, plan_id: &str) -> String {
    let s: Value = post(app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), pt, json!({}))
        .await
        .json()
        .await
        .unwrap();
    s["id"].as_str().unwrap().to_string()
}

async fn iv_order(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.order", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.order", Role::Nurse).await;
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
    let sid = open_session(&app, &pt, &id, plan_id).await;
    let order = format!("/api/v1/sessions/{sid}/dose-order");

    // A nurse may not order; a different dose needs its reason; nothing is saved.
    assert_eq!(post(&app, &order, &nt, json!({"dose": "0.6", "reason": "x"})).await.status(), 403);
    let p = expect_problem(post(&app, &order, &pt, json!({"dose": "0.6"})).await, 422).await;
    assert_eq!(problem_fields(&p), ["reason"], "{p}");
    let p = expect_problem(post(&app, &order, &pt, json!({"dose": "lots", "reason": "x"})).await, 422).await;
    assert_eq!(problem_fields(&p), ["dose"], "{p}");
    assert_eq!(get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["ordered_mg"], 40.0);
    // 0.6 mg/kg × 80 kg with a reason: 48 mg in force.
    let r = post(&app, &order, &pt, json!({"dose": "0.6", "reason": "Partial response at 0.5 mg/kg, well tolerated"}))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let o: Value = r.json().await.unwrap();
    assert_eq!((o["mg"].as_f64(), o["mg_per_kg"].as_f64(), o["plan_mg"].as_f64()), (Some(48.0), Some(0.6), Some(40.0)));
    // Above the IV warning limit (0.75 mg/kg, DOSE-IV-002) a reason to pass the warning is needed.
    let p = expect_problem(post(&app, &order, &pt, json!({"dose": "0.8", "reason": "x"})).await, 422).await;
    assert_eq!(problem_fields(&p), ["warning_reason"], "{p}");

    // Administrations: beyond the dose in force is refused, at the boundary allowed.
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{sid}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await.status(),
        200
    );
    let mut start = dose_event("infusion_start");
    start["dose_mg"] = json!(48.5);
    let p =
        expect_problem(post(&app, &format!("/api/v1/sessions/{sid}/administrations"), &nt, start.clone()).await, 422)
            .await;
    assert_eq!(problem_fields(&p), ["dose_mg"], "{p}");
    assert!(p.to_string().contains("DOSE-GEN-002") && p.to_string().contains("48 mg ordered"), "{p}");
    start["dose_mg"] = json!(48);
    assert_eq!(post(&app, &format!("/api/v1/sessions/{sid}/administrations"), &nt, start).await.status(), 201);
    // Given is what the pump delivered (issue 11 item 3): nothing at the start; 2.4 mL/h of
    // the 50 mg/mL stock diluted 1:1 (25 mg/mL) is 1 mg a minute.
    let view = get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await;
    assert_eq!((view["ordered_mg"].as_f64(), view["given_mg"].as_f64()), (Some(48.0), Some(0.0)));
    app.advance(SignedDuration::from_mins(10));
    let view = get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await;
    assert_eq!(view["given_mg"].as_f64(), Some(10.0), "{view}");
    // Once dosing has started, no new order.
    let r = post(&app, &order, &pt, json!({"dose": "0.5"})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["orders"].as_array().unwrap().len(), 1);
    app.stop().await;
}
on_both_databases!(iv_dose_order_caps_what_is_given, iv_order);

async fn esketamine_titration(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.esk", Role::Prescriber).await;
    app.add_staff("pres.web", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let mut body = json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
        "product": "Spravato 28 mg device", "course_sessions": 8, "endpoint": "Response at week 4",
        "reassessment": "End of induction (DOSE-IN-005)", "maintenance": "Weekly weeks 5-8",
        "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "with_oral_antidepressant", "dose_mg": 56, "first_session": today.to_string(), "interval_days": 3
    });
    // IND-002: the regimen is recorded; MDSI only with an oral antidepressant.
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    let mut missing = body.clone();
    missing["esketamine_regimen"] = json!("");
    assert_eq!(
        problem_fields(&expect_problem(post(&app, &plans, &pt, missing).await, 422).await),
        ["esketamine_regimen"]
    );
    let mut mdsi_alone = body.clone();
    mdsi_alone["protocol"] = json!("spravato_mdsi");
    mdsi_alone["dose_mg"] = json!(84);
    mdsi_alone["esketamine_regimen"] = json!("monotherapy");
    let p = expect_problem(post(&app, &plans, &pt, mdsi_alone).await, 422).await;
    assert!(p.to_string().contains("IND-002") && problem_fields(&p).contains(&"esketamine_regimen".to_string()), "{p}");
    body["esketamine_regimen"] = json!("monotherapy");
    let plan: Value = post(&app, &plans, &pt, body).await.json().await.unwrap();
    assert_eq!(plan["content"]["esketamine_regimen"], "monotherapy", "{plan:#}");
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await.status(),
        200
    );

    // Day 1: 84 mg is beyond the label (DOSE-IN-002): only a medical director may override.
    let s1 = open_session(&app, &pt, &id, plan_id).await;
    let p = expect_problem(
        post(&app, &format!("/api/v1/sessions/{s1}/dose-order"), &pt, json!({"dose": "84", "reason": "x"})).await,
        422,
    )
    .await;
    assert!(problem_fields(&p).contains(&"override_reason".to_string()), "{p}");
    // The plan's 56 mg: two devices, and a third is refused.
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{s1}/gate"), &pt, passing_gate(&app, "intranasal_esketamine", 120))
            .await
            .status(),
        200
    );
    let dev = json!({"kind": "device", "administered_by": "patient (supervised)", "monitored_by": "Dr P",
        "product": "Spravato 28 mg", "lot": "SPV1", "expiry": "2099-01-01", "dose_mg": 28});
    for _ in 0..2 {
        assert_eq!(post(&app, &format!("/api/v1/sessions/{s1}/administrations"), &pt, dev.clone()).await.status(), 201);
        app.advance(SignedDuration::from_mins(6));
    }
    let p = expect_problem(post(&app, &format!("/api/v1/sessions/{s1}/administrations"), &pt, dev.clone()).await, 422)
        .await;
    assert!(p.to_string().contains("56 mg ordered"), "a third device on 56 mg: {p}");
    // The label's 2 hours after the last device (DC-001 [V]) before any discharge.
    app.advance(SignedDuration::from_mins(120));
    let r = post(
        &app,
        &format!("/api/v1/sessions/{s1}/discharge"),
        &pt,
        json!({"override_reason": "test: observation elsewhere"}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Three days later: the page shows the previous dose and suggests 84 mg after an
    // inadequate but tolerated 56 mg (DOSE-IN-002); the prescriber orders it.
    app.advance(SignedDuration::from_hours(72));
    let s2 = open_session(&app, &pt, &id, plan_id).await;
    let web = app.client();
    app.login(&web, "pres.web").await;
    let html = web.get(app.url(&format!("/sessions/{s2}/dose"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("56 mg on {today}")), "{html}");
    let form = [("action", "suggest"), ("tolerability", "tolerated"), ("efficacy", "inadequate")];
    let r = web
        .post(app.url(&format!("/sessions/{s2}/dose")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("increase: 84 mg (DOSE-IN-002)") && html.contains("value=\"84\""), "{html}");
    // Without the judgement of the previous dose, no order.
    let r = web
        .post(app.url(&format!("/sessions/{s2}/dose")))
        .header("origin", &app.base_url)
        .form(&[("dose", "84"), ("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("tolerability-error"));
    let order = [
        ("action", "order"),
        ("tolerability", "tolerated"),
        ("efficacy", "inadequate"),
        ("dose", "84"),
        ("reason", "Inadequate response at 56 mg"),
    ];
    let r = web
        .post(app.url(&format!("/sessions/{s2}/dose")))
        .header("origin", &app.base_url)
        .form(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let view = get(&app, &format!("/api/v1/sessions/{s2}"), &pt).await;
    assert_eq!(view["ordered_mg"], 84.0);
    assert_eq!(view["orders"][0]["suggestion"]["action"], "increase");
    assert_eq!(view["orders"][0]["previous"]["mg"], 56.0);
    let html = web.get(app.url(&format!("/sessions/{s2}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("84 mg (ordered for this session); 0 mg given so far"), "{html}");
    // Three devices now fit the order.
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{s2}/gate"), &pt, passing_gate(&app, "intranasal_esketamine", 120))
            .await
            .status(),
        200
    );
    for _ in 0..3 {
        assert_eq!(post(&app, &format!("/api/v1/sessions/{s2}/administrations"), &pt, dev.clone()).await.status(), 201);
        app.advance(SignedDuration::from_mins(6));
    }
    app.stop().await;
}
on_both_databases!(esketamine_titration_follows_the_course, esketamine_titration);

/// Administrations follow the route's steps, never run faster than the ordered
/// infusion (DOSE-IV-003), wait for an alarm that says pause or stop to be acknowledged
/// (§4.4), and end when an intervention stops the session (INT-005).
async fn administration_guards(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.guard", Role::Prescriber).await;
    let (_, _, nt) = staff_with_token(&app, "nurse.guard", Role::Nurse).await;
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
    let sid = open_session(&app, &pt, &id, plan_id).await;
    let s = format!("/api/v1/sessions/{sid}");
    assert_eq!(post(&app, &format!("{s}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await.status(), 200);
    let admin = |kind: &str, rate: f64| {
        let mut a = dose_event(kind);
        a["rate_ml_per_h"] = json!(rate);
        a
    };
    // IV takes infusion steps only; a pause before a start is refused.
    let p = expect_problem(post(&app, &format!("{s}/administrations"), &nt, admin("dose", 2.4)).await, 422).await;
    assert_eq!(problem_fields(&p), ["kind"], "{p}");
    let p =
        expect_problem(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_pause", 2.4)).await, 422).await;
    assert!(p.to_string().contains("not been started"), "{p}");
    // 40 mg over 40 min from 50 mg/mL diluted 1:1: 2.4 mL/h ordered; 2.41 is refused.
    let p = expect_problem(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_start", 2.41)).await, 422)
        .await;
    assert_eq!(problem_fields(&p), ["rate_ml_per_h"], "{p}");
    assert!(p.to_string().contains("DOSE-IV-003"), "{p}");
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_start", 2.4)).await.status(), 201);
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_pause", 0.0)).await.status(), 201);
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_resume", 1.2)).await.status(), 201);
    // A BP at 165/95 (ALM-002 notify tier: recheck every 5 min, tell the prescriber) does
    // not hold dosing; one at 185/105 (the intervene tier) does, until acknowledged.
    let r = post(
        &app,
        &format!("{s}/vitals"),
        &nt,
        json!({"systolic": 165, "diastolic": 95, "heart_rate": 84, "spo2": 98}),
    )
    .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        post(&app, &format!("{s}/administrations"), &nt, admin("infusion_rate_change", 1.5)).await.status(),
        201
    );
    let notify = get(&app, &s, &pt).await["alarms"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/session-alarms/{notify}/acknowledge"),
            &nt,
            json!({"action": "Prescriber told; 5-min checks"})
        )
        .await
        .status(),
        200
    );
    let r = post(
        &app,
        &format!("{s}/vitals"),
        &nt,
        json!({"systolic": 185, "diastolic": 105, "heart_rate": 88, "spo2": 97}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let p =
        expect_problem(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_rate_change", 2.0)).await, 409)
            .await;
    assert!(p.to_string().contains("ALM-002"), "{p}");
    let alarm =
        get(&app, &s, &pt).await["alarms"].as_array().unwrap().iter().find(|a| a["acknowledged_at"].is_null()).unwrap()
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/session-alarms/{alarm}/acknowledge"),
            &nt,
            json!({"action": "Paused; 150/90 after 5 min"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        post(&app, &format!("{s}/administrations"), &nt, admin("infusion_rate_change", 2.0)).await.status(),
        201
    );
    // An intervention that stops the session ends its dosing; the stop itself is allowed.
    let r = post(&app, &format!("{s}/interventions"), &nt, json!({"trigger_value": "severe distress", "action": "infusion stopped", "response": "settled", "session_stopped": "yes"})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let p = expect_problem(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_resume", 1.0)).await, 409)
        .await;
    assert!(p.to_string().contains("INT-005"), "{p}");
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_stop", 0.0)).await.status(), 201);
    let p =
        expect_problem(post(&app, &format!("{s}/administrations"), &nt, admin("infusion_pause", 0.0)).await, 422).await;
    assert!(p.to_string().contains("has been stopped"), "{p}");
    app.stop().await;
}
on_both_databases!(administrations_follow_route_rate_alarms_and_stops, administration_guards);

/// Esketamine is given device by device: a plain "dose" is refused, and an esketamine
/// plan cannot be written per kg (DOSE-IN-001).
async fn esketamine_steps(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres.dev", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let mut body = json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
        "product": "Spravato 28 mg device", "course_sessions": 8, "endpoint": "Response at week 4",
        "reassessment": "End of induction", "maintenance": "Weekly", "dose_style": "per_kg", "dose_mg_per_kg": 0.8,
        "weight_kg": 70, "weight_measured_on": today.to_string(), "kap_style": "psycholytic",
        "esketamine_regimen": "with_oral_antidepressant", "first_session": today.to_string(), "interval_days": 3
    });
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    let p = expect_problem(post(&app, &plans, &pt, body.clone()).await, 422).await;
    assert!(problem_fields(&p).contains(&"dose_style".to_string()), "{p}");
    body["dose_style"] = json!("fixed");
    body["dose_mg"] = json!(56);
    let plan: Value = post(&app, &plans, &pt, body).await.json().await.unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(post(&app, &format!("{plans}/{plan_id}/sign"), &pt, json!({})).await.status(), 200);
    let sid = open_session(&app, &pt, &id, plan_id).await;
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{sid}/gate"), &pt, passing_gate(&app, "intranasal_esketamine", 120))
            .await
            .status(),
        200
    );
    let mut dose = dose_event("dose");
    dose["dose_mg"] = json!(56);
    let p = expect_problem(post(&app, &format!("/api/v1/sessions/{sid}/administrations"), &pt, dose).await, 422).await;
    assert_eq!(problem_fields(&p), ["kind"], "{p}");
    assert!(p.to_string().contains("device"), "{p}");
    app.stop().await;
}
on_both_databases!(esketamine_is_given_device_by_device, esketamine_steps);
