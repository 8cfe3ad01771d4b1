//! The clinic's dosing policy (`[dosing]` in kat.toml, `WebConfig::dosing`) reaches the
//! use cases: an app started with non-default values judges doses, vitals, the gate, the
//! discharge and the dosing weight by them, on both databases. Each test compares with an
//! app on the spec defaults, so a policy that was silently ignored fails (the BP gate
//! preset is compared with the default by the three-tier test in `dosing.rs`).

use crate::dosing::{dose_event, eligible_patient, get, iv_plan, manual, passing_gate, plan_form, post};
use crate::support::{expect_problem, problem_fields, staff_with_token};
use jiff::SignedDuration;
use kat_app::config::DosingConfig;
use kat_core::dosing::Minutes;
use kat_core::dosing::weight::IdealWeightFormula;
use kat_core::dosing::{MgPerKg, WeightPolicy};
use kat_core::monitoring::{AlarmPolicy, BpGatePolicy, BpPolicyName, DischargePolicy, GatePolicy};
use kat_core::role::Role;
use kat_it::{Db, Options, TestApp, app_or_skip, on_both_databases};
use kat_web::config::WebConfig;
use serde_json::{Value, json};

fn with_policy(dosing: DosingConfig) -> Options {
    Options { config: WebConfig { dosing, ..WebConfig::default() }, ..manual() }
}

/// A signed IV plan at 0.5 mg/kg and an open session on it; returns the session's API path.
async fn open_session(app: &TestApp, pt: &str) -> String {
    let id = eligible_patient(app, pt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    let r = post(app, &plans, pt, iv_plan(app, "0.5")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let plan: Value = r.json().await.unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(post(app, &format!("{plans}/{plan_id}/sign"), pt, json!({})).await.status(), 200);
    let session: Value = post(app, &format!("{plans}/{plan_id}/sessions"), pt, json!({})).await.json().await.unwrap();
    format!("/api/v1/sessions/{}", session["id"].as_str().unwrap())
}

/// The rules of the alarms raised by one SpO2 reading (room air).
async fn spo2_alarms(app: &TestApp, s: &str, pt: &str, spo2: u16) -> Vec<String> {
    let r = post(app, &format!("{s}/vitals"), pt, json!({"spo2": spo2, "on_supplemental_o2": "no"})).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["alarms"].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap().to_string()).collect()
}

async fn spo2_alarm_threshold(db: Db) {
    // ALM-001 with the clinic's spo2_below = 95: 95 is not below it (the boundary), 94 is.
    let alarms = AlarmPolicy { spo2_below: 95, ..AlarmPolicy::default() };
    alarms.validate().unwrap();
    let app = app_or_skip!(db, with_policy(DosingConfig { alarms, ..DosingConfig::default() }));
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let s = open_session(&app, &pt).await;
    assert_eq!(spo2_alarms(&app, &s, &pt, 95).await, Vec::<String>::new(), "95 is not below 95");
    assert_eq!(spo2_alarms(&app, &s, &pt, 94).await, vec!["ALM-001"], "94 is below the clinic's 95");
    let view = get(&app, &s, &pt).await;
    assert_eq!(view["alarms"][0]["rule"], "ALM-001", "{view}");
    app.stop().await;

    // The spec default (92) raises nothing at 94.
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let s = open_session(&app, &pt).await;
    assert_eq!(spo2_alarms(&app, &s, &pt, 94).await, Vec::<String>::new(), "the default alarms below 92");
    app.stop().await;
}
on_both_databases!(spo2_alarm_follows_the_clinic_policy, spo2_alarm_threshold);

async fn iv_limits(db: Db) {
    // DOSE-IV-002 with the clinic's warning at 0.4 and hard limit at 0.6 mg/kg.
    let policy = kat_core::dosing::DosingPolicy {
        iv_warn_above: MgPerKg::new(0.4).unwrap(),
        iv_hard_above: MgPerKg::new(0.6).unwrap(),
        ..Default::default()
    };
    let app = app_or_skip!(db, with_policy(DosingConfig { policy, ..DosingConfig::default() }));
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    // 0.4 is not above the warning: no reason needed.
    assert_eq!(post(&app, &plans, &pt, iv_plan(&app, "0.4")).await.status(), 201);
    // 0.5 (the standard dose, fine by default) now needs a reason…
    let p = expect_problem(post(&app, &plans, &pt, iv_plan(&app, "0.5")).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["warning_reason"], "{p}");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("0.4"), "the clinic's limit is named: {p}");
    let mut with_reason = iv_plan(&app, "0.5");
    with_reason["warning_reason"] = json!("Partial response at 0.4 mg/kg");
    let r = post(&app, &plans, &pt, with_reason).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let plan: Value = r.json().await.unwrap();
    assert_eq!(plan["content"]["dose_level"], "warning");
    assert_eq!(plan["content"]["warning_reason"], "Partial response at 0.4 mg/kg");
    // …and 0.7 passes the clinic's hard limit (a medical director's override).
    let mut hard = iv_plan(&app, "0.7");
    hard["warning_reason"] = json!("x");
    let p = expect_problem(post(&app, &plans, &pt, hard).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["override_reason"], "{p}");
    app.stop().await;

    // By default 0.5 mg/kg needs nothing.
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let r = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, iv_plan(&app, "0.5")).await;
    assert_eq!(r.status(), 201);
    let plan: Value = r.json().await.unwrap();
    assert_eq!(plan["content"]["dose_level"], "ok");
    app.stop().await;
}
on_both_databases!(iv_dose_limits_follow_the_clinic_policy, iv_limits);

async fn bp_gate_preset(db: Db) {
    // BP-003 (Swiss label, defer above 180/100) instead of the BP-006 three tiers: a
    // pre-dose 150/80 proceeds without an override.
    let gate = GatePolicy { bp: BpGatePolicy::preset(BpPolicyName::SwissLabel), ..GatePolicy::default() };
    let app = app_or_skip!(db, with_policy(DosingConfig { gate, ..DosingConfig::default() }));
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let s = open_session(&app, &pt).await;
    let r = post(&app, &format!("{s}/gate"), &pt, passing_gate(&app, "iv_infusion", 150)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["outcome"], "proceed");
    app.stop().await;
}
on_both_databases!(bp_gate_follows_the_clinic_preset, bp_gate_preset);

/// Runs an IV session to 70 minutes after the infusion stop, every criterion met; the
/// status of the discharge request.
async fn discharge_70_minutes_after_the_infusion(app: &TestApp, pt: &str) -> u16 {
    let s = open_session(app, pt).await;
    assert_eq!(post(app, &format!("{s}/gate"), pt, passing_gate(app, "iv_infusion", 120)).await.status(), 200);
    assert_eq!(post(app, &format!("{s}/administrations"), pt, dose_event("infusion_start")).await.status(), 201);
    app.advance(SignedDuration::from_mins(40));
    assert_eq!(post(app, &format!("{s}/administrations"), pt, json!({"kind": "infusion_stop"})).await.status(), 201);
    app.advance(SignedDuration::from_mins(70));
    let r = post(app, &format!("{s}/vitals"), pt, json!({"systolic": 124, "diastolic": 80, "heart_rate": 74, "spo2": 98, "respiratory_rate": 14, "moaas": 5, "on_supplemental_o2": "no"})).await;
    assert_eq!(r.status(), 201);
    let all_met = json!({"aldrete_total": 10, "moaas": 5, "dissociation_resolved": true, "able_to_walk_safely": true,
        "active_nausea": false, "suicidal_crisis": false, "escort_present": true, "written_instructions_given": true,
        "clinician_judges_stable": true});
    let r = post(app, &format!("{s}/discharge"), pt, all_met).await;
    let status = r.status().as_u16();
    if status == 422 {
        let p: Value = r.json().await.unwrap();
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("DC-002"), "{p}");
    }
    status
}

async fn iv_observation(db: Db) {
    // DC-002 with the clinic's 90 minutes after an IV infusion: 70 minutes is too early.
    let discharge = DischargePolicy { iv_min: Minutes::new(90), ..DischargePolicy::default() };
    let app = app_or_skip!(db, with_policy(DosingConfig { discharge, ..DosingConfig::default() }));
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    assert_eq!(discharge_70_minutes_after_the_infusion(&app, &pt).await, 422);
    app.stop().await;
    // The default 60 minutes allows it.
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    assert_eq!(discharge_70_minutes_after_the_infusion(&app, &pt).await, 200);
    app.stop().await;
}
on_both_databases!(iv_observation_time_follows_the_clinic_policy, iv_observation);

/// An IV plan on a measured weight of 110 kg with a basis and a height.
fn weighted_plan(app: &TestApp, basis: &str, height: &str) -> Value {
    let mut plan = iv_plan(app, "0.5");
    plan["weight_kg"] = json!(110);
    plan["weight_basis"] = json!(basis);
    plan["height_cm"] = json!(height);
    plan
}

async fn weight_basis(db: Db) {
    // Not configured (the default): ideal and adjusted weight are refused on the field.
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("pres.web", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    for basis in ["ideal", "adjusted"] {
        let p = expect_problem(post(&app, &plans, &pt, weighted_plan(&app, basis, "170")).await, 422).await;
        assert_eq!(problem_fields(&p), vec!["weight_basis"], "{p}");
        assert!(
            p["errors"][0]["message"].as_str().unwrap().contains("has not configured an ideal-weight formula"),
            "{p}"
        );
    }
    let p = expect_problem(post(&app, &plans, &pt, weighted_plan(&app, "lean", "170")).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["weight_basis"], "{p}");
    assert!(get(&app, &plans, &pt).await.as_array().unwrap().is_empty(), "nothing saved");
    // The form offers actual weight only, and says why.
    let web = app.client();
    app.login(&web, "pres.web").await;
    let html = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"actual\"") && !html.contains("value=\"ideal\""), "{html}");
    assert!(html.contains("has not configured an ideal-weight formula"), "{html}");
    let mut form = plan_form(&app, "0.5");
    form.push(("weight_basis".into(), "ideal".into()));
    let r = web
        .post(app.url(&format!("/patients/{id}/treatment-plan")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("weight_basis-error") && html.contains("has not configured"), "{html}");
    app.stop().await;

    // Configured: Devine ideal weight (no adjustment factor), applied above BMI 30.
    let policy = kat_core::dosing::DosingPolicy {
        weight: WeightPolicy { ideal_formula: Some(IdealWeightFormula::devine()), ..WeightPolicy::default() },
        ..Default::default()
    };
    let app = app_or_skip!(db, with_policy(DosingConfig { policy, ..DosingConfig::default() }));
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("pres.web", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await; // Ada: female at birth
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    // The formula needs the height.
    let p = expect_problem(post(&app, &plans, &pt, weighted_plan(&app, "ideal", "")).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["height_cm"], "{p}");
    // Adjusted needs a factor the clinic has not set.
    let p = expect_problem(post(&app, &plans, &pt, weighted_plan(&app, "adjusted", "170")).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["weight_basis"], "{p}");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("adjustment factor"), "{p}");

    let r = post(&app, &plans, &pt, weighted_plan(&app, "ideal", "170")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let plan: Value = r.json().await.unwrap();
    let d = &plan["content"]["dose"];
    // By hand: BMI = 110 / 1.70² = 38.06 (> 30, so ideal weight applies). Devine, female:
    // 45.5 kg + 2.3 kg per inch over 60 in; 170 cm = 66.93 in, 6.93 in over →
    // 45.5 + 2.3 × 17.6 / 2.54 = 45.5 + 15.937 = 61.437 kg. 0.5 mg/kg × 61.437 = 30.72 mg.
    assert_eq!(d["weight_basis"], "ideal", "{d}");
    assert_eq!(d["weight_basis_chosen"], "ideal");
    assert_eq!(d["weight_kg"], 61.44, "{d}");
    assert_eq!(d["mg"], 30.72, "{d}");
    assert_eq!(d["mg_per_kg"], 0.5);
    assert_eq!(d["measured_weight_kg"], 110.0);
    assert_eq!(d["height_cm"], 170.0);
    assert_eq!(d["bmi"], 38.1);
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    assert_eq!(d["weight_measured_on"], today.as_str());
    // Below the BMI threshold the chosen basis does not apply: actual weight, recorded so.
    let mut lean = weighted_plan(&app, "ideal", "200");
    lean["weight_kg"] = json!(80); // BMI 20
    let plan: Value = post(&app, &plans, &pt, lean).await.json().await.unwrap();
    let d = &plan["content"]["dose"];
    assert_eq!(
        (d["weight_basis"].as_str(), d["weight_basis_chosen"].as_str(), d["mg"].as_f64()),
        (Some("actual"), Some("ideal"), Some(40.0)),
        "{d}"
    );

    // The form now offers ideal (not adjusted), and the plan shows the basis and date.
    let web = app.client();
    app.login(&web, "pres.web").await;
    let html = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"ideal\"") && !html.contains("value=\"adjusted\""), "{html}");
    assert!(
        html.contains("61.44 kg, ideal weight (measured 110 kg), measured on ") && html.contains("BMI 38.1"),
        "{html}"
    );
    assert!(html.contains(&today));
    app.stop().await;
}
on_both_databases!(dosing_weight_basis_follows_the_clinic_policy, weight_basis);
