//! Treatment plans and dosing sessions over HTTP, on both databases: a plan needs an
//! accepted, current eligibility decision and a prescriber's signature; no administration
//! before the pre-dose gate (use case and store); every alarm-worthy value raises its
//! alarm exactly once and it stays until acknowledged; discharge refused before the
//! minimum observation time without a prescriber override; roles and audit.

use crate::support::{ada, create_patient, expect_problem, problem_fields, staff_with_token};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_core::audit::AuditFilter;
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId};
use kat_core::role::Role;
use kat_it::{Db, Options, TestApp, app_or_skip, on_both_databases};
use kat_store::dosing::{AdministrationRecord, dosing_constraints};
use serde_json::{Map, Value, json};

pub(crate) fn manual() -> Options {
    Options { manual_clock: Some("2026-03-10T14:00:00Z".parse().unwrap()), ..Options::default() }
}

pub(crate) async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

pub(crate) async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    send(app, reqwest::Method::POST, path, token, Some(body)).await
}

pub(crate) async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    let r = send(app, reqwest::Method::GET, path, token, None).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

/// A patient with a complete intake and a signed acceptance.
pub(crate) async fn eligible_patient(app: &TestApp, prescriber: &str) -> String {
    let p = create_patient(app, prescriber, &ada()).await;
    let id = p["id"].as_str().unwrap().to_string();
    make_eligible(app, prescriber, &id).await;
    id
}

/// Records a complete intake and a signed acceptance for patient `id`.
pub(crate) async fn make_eligible(app: &TestApp, prescriber: &str, id: &str) {
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let a = example_complete_answers(today);
    let answers: Map<String, Value> = a.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    let r = send(
        app,
        reqwest::Method::PUT,
        &format!("/api/v1/patients/{id}/intake"),
        prescriber,
        Some(json!({"answers": answers, "complete": true})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let e = get(app, &format!("/api/v1/patients/{id}/eligibility"), prescriber).await;
    let reasons: Map<String, Value> = e["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "prescriber_review")
        .map(|f| (f["rule"].as_str().unwrap().to_string(), json!("reviewed")))
        .collect();
    let r = post(
        app,
        &format!("/api/v1/patients/{id}/eligibility/decision"),
        prescriber,
        json!({"evaluation_id": e["evaluation_id"], "decision": "accept", "reasons": reasons}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

pub(crate) fn iv_plan(app: &TestApp, mg_per_kg: &str) -> Value {
    let today = app.now().to_zoned(TimeZone::UTC).date();
    json!({
        "indication": "Treatment-resistant depression",
        "route": "iv_infusion",
        "protocol": "iv_single_standard",
        "product": "Ketamine HCl 50 mg/mL vial",
        "course_sessions": 6,
        "endpoint": "PHQ-9 response (50% reduction) or remission",
        "reassessment": "Face-to-face review after session 3 and 6",
        "maintenance": "Booster by interval plan after reassessment",
        "dose_style": "per_kg",
        "kap_style": "psychedelic",
        "dose_mg_per_kg": mg_per_kg,
        "weight_kg": 80,
        "weight_measured_on": today.to_string(),
        "concentration_mg_per_ml": 50,
        "infusion_minutes": 40,
        "first_session": today.to_string(),
        "interval_days": 3
    })
}

pub(crate) fn passing_gate(app: &TestApp, route: &str, systolic: u16) -> Value {
    let now = app.now();
    let today = now.to_zoned(TimeZone::UTC).date();
    let esk = route == "intranasal_esketamine";
    let mut c = json!({
        "route": route,
        "dose_is_weight_based": !esk,
        "last_solid": {"at": (now - SignedDuration::from_hours(10)).to_string(), "kind": "fatty_or_meat"},
        "last_clear_liquid": (now - SignedDuration::from_hours(3)).to_string(),
        "blood_pressure": {"systolic": systolic, "diastolic": 80},
        "hypertensive_symptoms": false,
        "heart_rate": 72,
        "new_irregular_rhythm": false,
        "escort_confirmed": true,
        "no_driving_instruction_given": true,
        "intoxicated_or_in_withdrawal": false,
        "substance_use": "none_within_window",
        "childbearing_potential": false,
        "medication_changes_reviewed": true,
        "new_psychotic_or_manic_symptoms": false,
        "suicide_screen": "negative",
        "weight_measured_on": today.to_string()
    });
    if esk {
        for k in ["rems_patient_enrolled", "rems_setting_certified", "prescriber_onsite", "pulse_oximeter_available"] {
            c[k] = json!(true);
        }
        c["nasal_medication"] = json!("none_today");
        c["nasal_congestion"] = json!(false);
    }
    json!({"checklist": c})
}

pub(crate) fn dose_event(kind: &str) -> Value {
    json!({
        "kind": kind, "administered_by": "RN Nurse", "monitored_by": "RN Nurse",
        "product": "Ketamine HCl 50 mg/mL", "concentration_mg_per_ml": 50, "lot": "L123",
        "expiry": "2099-12-31", "dose_mg": 40, "rate_ml_per_h": 2.4
    })
}

async fn whole_iv_session(db: Db) {
    let app = app_or_skip!(db, manual());
    let (prescriber, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let (_nurse, _, nt) = staff_with_token(&app, "nurse", Role::Nurse).await;
    let (_, _, tt) = staff_with_token(&app, "ther", Role::Therapist).await;
    let (_, _, ft) = staff_with_token(&app, "desk", Role::FrontDesk).await;

    // No eligibility decision yet: no plan.
    let p = create_patient(&app, &pt, &ada()).await;
    let unscreened = p["id"].as_str().unwrap();
    let r = post(&app, &format!("/api/v1/patients/{unscreened}/treatment-plans"), &pt, iv_plan(&app, "0.5")).await;
    expect_problem(r, 409).await;

    let id = eligible_patient(&app, &pt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    // Only prescribers plan.
    expect_problem(post(&app, &plans, &nt, iv_plan(&app, "0.5")).await, 403).await;
    // Per-field errors.
    let p = expect_problem(post(&app, &plans, &pt, json!({"route": "iv_infusion"})).await, 422).await;
    let fields = problem_fields(&p);
    for f in ["indication", "protocol", "endpoint", "course_sessions", "dose_style", "kap_style"] {
        assert!(fields.contains(&f.to_string()), "{f}: {p}");
    }
    // A warning (above 0.75 mg/kg, DOSE-IV-002) needs a reason.
    let p = expect_problem(post(&app, &plans, &pt, iv_plan(&app, "0.9")).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["warning_reason"], "{p}");
    // A hard limit (above 1.0 mg/kg) needs a medical director.
    let mut hard = iv_plan(&app, "1.2");
    hard["warning_reason"] = json!("x");
    hard["override_reason"] = json!("x");
    let p = expect_problem(post(&app, &plans, &pt, hard).await, 422).await;
    assert!(problem_fields(&p).contains(&"override_reason".to_string()), "{p}");

    let r = post(&app, &plans, &pt, iv_plan(&app, "0.5")).await;
    assert_eq!(r.status(), 201);
    let plan: Value = r.json().await.unwrap();
    assert_eq!(plan["signed"], false);
    let dose = &plan["content"]["dose"];
    assert_eq!(dose["mg"], 40.0, "{plan}");
    assert_eq!(dose["mg_per_kg"], 0.5);
    assert_eq!(dose["stock_ml"], 0.8);
    assert_eq!(dose["diluted_ml"], 1.6);
    assert_eq!(dose["rate_ml_per_h"], 2.4);
    assert_eq!(plan["content"]["schedule"].as_array().unwrap().len(), 6);
    let plan_id = plan["id"].as_str().unwrap();

    // A session needs a signed plan; only prescribers sign.
    let open = format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions");
    expect_problem(post(&app, &open, &nt, json!({})).await, 409).await;
    expect_problem(post(&app, &format!("{plans}/{plan_id}/sign"), &nt, json!({})).await, 403).await;
    let r = post(&app, &format!("{plans}/{plan_id}/sign"), &pt, json!({})).await;
    assert_eq!(r.status(), 200);
    expect_problem(post(&app, &format!("{plans}/{plan_id}/sign"), &pt, json!({})).await, 409).await;

    // Therapists read but do not run sessions.
    expect_problem(post(&app, &open, &tt, json!({})).await, 403).await;
    let r = post(&app, &open, &nt, json!({})).await;
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    let sid = session["id"].as_str().unwrap().to_string();
    let s = format!("/api/v1/sessions/{sid}");

    // No administration before the gate: the use case refuses…
    expect_problem(post(&app, &format!("{s}/administrations"), &nt, dose_event("infusion_start")).await, 409).await;
    // …and so does the store, whatever the caller.
    let mut tx = app.store.begin().await.unwrap();
    let err = tx
        .insert_administration(&AdministrationRecord {
            id: AdministrationId::from_uuid(uuid::Uuid::now_v7()),
            session_id: sid.parse::<DosingSessionId>().unwrap(),
            administration: kat_core::dosing::session::Administration::new(
                app.now(),
                kat_core::dosing::session::Step::InfusionStop,
                None,
                None,
                None,
            )
            .unwrap(),
            recorded_by: prescriber.id,
            recorded_at: app.now(),
            late: false,
        })
        .await
        .unwrap_err();
    assert!(err.is_conflict_on(dosing_constraints::DOSE_ADMINISTRATIONS_GATE_PASSED), "{err:?}");
    drop(tx);

    // A raised pre-dose BP (150/80, BP-006 caution tier) needs a prescriber's override.
    let p =
        expect_problem(post(&app, &format!("{s}/gate"), &nt, passing_gate(&app, "iv_infusion", 150)).await, 422).await;
    assert!(problem_fields(&p).contains(&"override_reason".to_string()), "{p}");
    let r = post(&app, &format!("{s}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Passed: it cannot be run again.
    expect_problem(post(&app, &format!("{s}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await, 409).await;

    // Administration: lot and expiry are required.
    let mut bad = dose_event("infusion_start");
    bad["lot"] = json!("");
    bad["expiry"] = json!("2001-01-01");
    let p = expect_problem(post(&app, &format!("{s}/administrations"), &nt, bad).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["lot", "expiry"]);
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, dose_event("infusion_start")).await.status(), 201);

    // Vitals from a device: 182/95 raises ALM-002 exactly once.
    app.advance(SignedDuration::from_mins(10));
    let r = post(
        &app,
        &format!("{s}/vitals"),
        &nt,
        json!({"systolic": 182, "diastolic": 95, "heart_rate": 88, "spo2": 97, "device_id": "monitor-3"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let alarms = v["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 1, "{v}");
    assert_eq!(alarms[0]["rule"], "ALM-002");
    assert!(!alarms[0]["action"].as_str().unwrap().is_empty());
    let alarm_id = alarms[0]["id"].as_str().unwrap().to_string();
    // A normal reading raises nothing; the alarm stays.
    let r = post(
        &app,
        &format!("{s}/vitals"),
        &nt,
        json!({"systolic": 130, "diastolic": 80, "heart_rate": 80, "spo2": 98}),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["alarms"].as_array().unwrap().len(), 0);
    // Invalid values: per-field errors.
    let p =
        expect_problem(post(&app, &format!("{s}/vitals"), &nt, json!({"spo2": 140, "heart_rate": "fast"})).await, 422)
            .await;
    assert_eq!(problem_fields(&p), vec!["heart_rate", "spo2"]);

    let view = get(&app, &s, &tt).await;
    assert_eq!(view["alarms"].as_array().unwrap().len(), 1);
    assert!(view["next_check_at"].is_string(), "{view}");
    let board = get(&app, "/api/v1/floor-board", &nt).await;
    assert_eq!(board[0]["alarms"][0]["id"], alarm_id.as_str());
    let r = send(&app, reqwest::Method::GET, "/api/v1/floor-board", &ft, None).await;
    assert_eq!(r.status(), 403);

    // Acknowledge: the action is required; once only.
    let ack = format!("/api/v1/session-alarms/{alarm_id}/acknowledge");
    expect_problem(post(&app, &ack, &nt, json!({"action": " "})).await, 422).await;
    let r = post(&app, &ack, &nt, json!({"action": "Infusion paused, BP rechecked in 5 min: 150/88"})).await;
    assert_eq!(r.status(), 200);
    expect_problem(post(&app, &ack, &nt, json!({"action": "again"})).await, 409).await;

    // Infusion ends at 40 min; discharge before 60 min of observation is refused.
    app.advance(SignedDuration::from_mins(30));
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, json!({"kind": "infusion_stop"})).await.status(), 201);
    let all_met = json!({"aldrete_total": 10, "moaas": 5, "dissociation_resolved": true, "able_to_walk_safely": true,
        "active_nausea": false, "suicidal_crisis": false, "escort_present": true, "written_instructions_given": true,
        "clinician_judges_stable": true});
    let p = expect_problem(post(&app, &format!("{s}/discharge"), &nt, all_met.clone()).await, 422).await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("DC-002"), "{p}");
    // One error per unmet criterion, on the field that answers it.
    assert_eq!(problem_fields(&p)[0], "observation", "{p}");
    assert!(!problem_fields(&p).contains(&"override_reason".to_string()), "a refusal is not an override error: {p}");
    // A nurse cannot override; a prescriber can, with a reason.
    let mut over = all_met.clone();
    over["override_reason"] = json!("Transport leaving; stable, escort present");
    expect_problem(post(&app, &format!("{s}/discharge"), &nt, over.clone()).await, 422).await;
    // After the minimum time with a normal reading, the nurse discharges without override.
    app.advance(SignedDuration::from_mins(61));
    let r = post(&app, &format!("{s}/vitals"), &nt, json!({"systolic": 124, "diastolic": 80, "heart_rate": 74, "spo2": 98, "respiratory_rate": 14, "moaas": 5, "on_supplemental_o2": "no"})).await;
    assert_eq!(r.status(), 201);
    let r = post(&app, &format!("{s}/discharge"), &nt, all_met.clone()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    expect_problem(post(&app, &format!("{s}/discharge"), &pt, over).await, 409).await;
    // Discharged: no more administrations.
    expect_problem(post(&app, &format!("{s}/administrations"), &nt, dose_event("infusion_start")).await, 409).await;

    // Every step is audited against the patient, refusals included.
    let mut tx = app.store.begin().await.unwrap();
    let entries = tx
        .query_audit(&AuditFilter {
            user_id: None,
            patient_id: Some(id.parse::<PatientId>().unwrap()),
            from: None,
            to: None,
            before_seq: None,
            limit: 1000,
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.entry.resource_type.as_str()).collect();
    for k in [
        "treatment_plan",
        "dosing_session",
        "dosing_session_gate",
        "dose_administration",
        "session_vitals",
        "session_alarm",
        "dosing_session_discharge",
    ] {
        assert!(kinds.contains(&k), "{k} audited: {kinds:?}");
    }
    assert!(entries.iter().any(|e| e.entry.outcome == kat_core::audit::AuditOutcome::Denied));
    drop(tx);
    app.stop().await;
}
on_both_databases!(whole_iv_session_from_plan_to_discharge, whole_iv_session);

async fn prescriber_override_and_esketamine_devices(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let r = post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt, json!({
        "indication": "TRD", "route": "intranasal_esketamine", "protocol": "spravato_trd",
        "product": "Spravato 28 mg device", "course_sessions": 8, "endpoint": "Response at week 4",
        "reassessment": "End of induction (DOSE-IN-005)", "maintenance": "Weekly weeks 5-8",
        "dose_style": "fixed", "kap_style": "psycholytic", "esketamine_regimen": "with_oral_antidepressant", "dose_mg": 56, "first_session": today.to_string(), "interval_days": 3
    })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let plan: Value = r.json().await.unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), &pt, json!({})).await.status(),
        200
    );
    let session: Value =
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({}))
            .await
            .json()
            .await
            .unwrap();
    let s = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    // 150/80 needs an override; the prescriber gives one.
    let mut g = passing_gate(&app, "intranasal_esketamine", 150);
    g["override_reason"] = json!("Known controlled hypertension; rechecked after rest");
    let r = post(&app, &format!("{s}/gate"), &pt, g).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let gate: Value = r.json().await.unwrap();
    assert_eq!(gate["outcome"], "override");
    // Devices 5 minutes apart (DOSE-IN-001).
    let dev = json!({"kind": "device", "administered_by": "patient (supervised)", "monitored_by": "Dr P",
        "product": "Spravato 28 mg", "lot": "SPV1", "expiry": "2099-01-01", "dose_mg": 28});
    assert_eq!(post(&app, &format!("{s}/administrations"), &pt, dev.clone()).await.status(), 201);
    app.advance(SignedDuration::from_mins(2));
    let p = expect_problem(post(&app, &format!("{s}/administrations"), &pt, dev.clone()).await, 422).await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("DOSE-IN-001"), "{p}");
    app.advance(SignedDuration::from_mins(3));
    assert_eq!(post(&app, &format!("{s}/administrations"), &pt, dev).await.status(), 201);
    // BP 40 minutes after the first device (for the REMS form).
    app.advance(SignedDuration::from_mins(35));
    assert_eq!(
        post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 138, "diastolic": 86, "moaas": 5})).await.status(),
        201
    );
    // Without a CADSS-6 after the first device the form's dissociation answer is missing.
    let ctx = crate::support::cli_ctx(&app);
    let sid_typed: DosingSessionId = session["id"].as_str().unwrap().parse().unwrap();
    let form = kat_app::dosing::rems(app.store.as_ref(), &ctx, &Default::default(), sid_typed).await.unwrap();
    assert_eq!(form.dissociation, None);
    assert!(!form.pulse_oximetry_checked, "no SpO2 read since the first device");
    assert_eq!(
        post(&app, &format!("{s}/vitals"), &pt, json!({"spo2": 97, "on_supplemental_o2": "no"})).await.status(),
        201
    );
    assert!(form.missing.iter().any(|m| m.contains("CADSS-6")), "{:?}", form.missing);
    // Rated at the peak (MON-KET-005): 3 above the pre-dose 0, so Yes.
    let r = post(&app, &format!("{s}/cadss6"), &pt, json!({"time_point": "peak_40", "item_1": 1, "item_2": 1, "item_6": 0, "item_7": 1, "item_15": 0, "item_22": 0})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let form =
        kat_app::dosing::rems(app.store.as_ref(), &crate::support::cli_ctx(&app), &Default::default(), sid_typed)
            .await
            .unwrap();
    assert_eq!(form.dissociation, Some(true));
    assert!(form.pulse_oximetry_checked);
    assert!(form.sedation_rated);
    // Discharge before 2 h after the last device is refused even with a prescriber's
    // override (DC-001 [V], issue 11 item 4).
    app.advance(SignedDuration::from_mins(5));
    let overridden = json!({"override_reason": "Escort must leave; patient stable", "rems_ready_to_leave_minutes": 90});
    let p = expect_problem(post(&app, &format!("{s}/discharge"), &pt, overridden.clone()).await, 422).await;
    assert_eq!(problem_fields(&p), ["observation"], "{p}");
    assert!(p.to_string().contains("DC-001") && p.to_string().contains("cannot be overridden"), "{p}");
    // From 2 h after the last device (5 min after the first) the other criteria, not yet
    // confirmed, are the prescriber's to override, which is recorded.
    app.advance(SignedDuration::from_mins(80) - SignedDuration::from_micros(1));
    let p = expect_problem(post(&app, &format!("{s}/discharge"), &pt, overridden.clone()).await, 422).await;
    assert_eq!(problem_fields(&p), ["observation"], "a microsecond before: {p}");
    app.advance(SignedDuration::from_micros(1));
    let r = post(&app, &format!("{s}/discharge"), &pt, overridden).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["ready"], false);
    assert!(d["override_reason"].is_string());

    // The REMS Patient Monitoring Form is filled from the record, due in 7 days.
    app.add_staff("nurse.rems", Role::Nurse).await;
    let web = app.client();
    app.login(&web, "nurse.rems").await;
    let sid = session["id"].as_str().unwrap();
    let html = web.get(app.url(&format!("/sessions/{sid}/rems"))).send().await.unwrap().text().await.unwrap();
    for expected in ["56 mg", "SPV1", "150/80", "138/86", "125 min", "90 min", "Dr P", "Yes (CADSS-6 3/24 at 40 min)"] {
        assert!(html.contains(expected), "{expected}: {html}");
    }
    assert!(!html.contains("The session record lacks"), "complete: {html}");
    let list = web.get(app.url("/rems")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Complete") && list.contains("2026-03-17"), "{list}");
    let r = web
        .post(app.url(&format!("/sessions/{sid}/rems/submitted")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let list = web.get(app.url("/rems")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Submitted"), "{list}");
    let r = web
        .post(app.url(&format!("/sessions/{sid}/rems/submitted")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // After discharge a CADSS-6 may still be documented, but only for a time before it.
    let items = json!({"time_point": "before_discharge", "item_1": 0, "item_2": 0, "item_6": 0, "item_7": 0, "item_15": 0, "item_22": 0});
    app.advance(SignedDuration::from_mins(10));
    let p = expect_problem(post(&app, &format!("{s}/cadss6"), &pt, items.clone()).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["at"], "{p}");
    let mut late = items;
    late["at"] = json!((app.now() - SignedDuration::from_mins(12)).to_string());
    assert_eq!(post(&app, &format!("{s}/cadss6"), &pt, late).await.status(), 201);
    app.stop().await;
}
on_both_databases!(
    esketamine_gate_override_device_spacing_and_discharge_override,
    prescriber_override_and_esketamine_devices
);

/// A signed IV plan, an open session with its gate passed and the infusion started;
/// returns the session id.
pub(crate) async fn running_iv_session(app: &TestApp, pt: &str) -> String {
    let id = eligible_patient(app, pt).await;
    iv_session_running_for(app, pt, &id).await
}

/// Plans, signs, opens, gates and starts an IV infusion for the eligible patient `id`.
pub(crate) async fn iv_session_running_for(app: &TestApp, pt: &str, id: &str) -> String {
    let plan: Value = post(app, &format!("/api/v1/patients/{id}/treatment-plans"), pt, iv_plan(app, "0.5"))
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(
        post(app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sign"), pt, json!({})).await.status(),
        200
    );
    let session: Value = post(app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), pt, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let sid = session["id"].as_str().unwrap().to_string();
    assert_eq!(
        post(app, &format!("/api/v1/sessions/{sid}/gate"), pt, passing_gate(app, "iv_infusion", 120)).await.status(),
        200
    );
    assert_eq!(
        post(app, &format!("/api/v1/sessions/{sid}/administrations"), pt, dose_event("infusion_start")).await.status(),
        201
    );
    sid
}

async fn session_and_floor_pages(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.floor", Role::Nurse).await;
    app.add_staff("desk.floor", Role::FrontDesk).await;
    let sid = running_iv_session(&app, &pt).await;
    let web = app.client();
    app.login(&web, "nurse.floor").await;
    let page = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("40 mg (0.5 mg/kg × 80 kg"), "{html}");
    assert!(html.contains("Next check at") || html.contains("Check due now"), "the timer shows");
    assert!(html.contains(&format!("data-live-stream=\"/sessions/{sid}/stream\"")), "the live part is streamed");
    assert!(!html.contains("style="), "no inline styles (CSP)");

    // The nurse enters a high BP on the page: the alarm shows with its action.
    let r = web
        .post(app.url(&format!("/sessions/{sid}/vitals")))
        .header("origin", &app.base_url)
        .form(&[("systolic", "185"), ("diastolic", "100"), ("heart_rate", "90"), ("spo2", "97")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let live = web.get(app.url(&format!("/sessions/{sid}/live"))).send().await.unwrap().text().await.unwrap();
    assert!(
        live.contains("sev-intervene") && live.contains("ALM-002") && live.contains("Pause or stop the infusion"),
        "{live}"
    );
    // A bad value re-renders the form with the message and saves nothing.
    let r = web
        .post(app.url(&format!("/sessions/{sid}/vitals")))
        .header("origin", &app.base_url)
        .form(&[("spo2", "140")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("spo2"));
    let board = web.get(app.url("/floor/live")).send().await.unwrap().text().await.unwrap();
    assert!(board.contains("ALM-002"), "{board}");
    let view = get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await;
    let alarm = view["alarms"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(view["alarms"].as_array().unwrap().len(), 1);

    // Acknowledged from the floor board, it leaves the board and stays on the session.
    let r = web
        .post(app.url(&format!("/session-alarms/{alarm}/acknowledge")))
        .header("origin", &app.base_url)
        .form(&[("action", "Infusion paused; recheck 160/95"), ("session", &sid), ("back", "floor")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let board = web.get(app.url("/floor/live")).send().await.unwrap().text().await.unwrap();
    assert!(!board.contains("ALM-002"), "{board}");
    let live = web.get(app.url(&format!("/sessions/{sid}/live"))).send().await.unwrap().text().await.unwrap();
    assert!(live.contains("Acknowledged") && live.contains("Infusion paused"), "{live}");

    // The front desk may not see the floor board.
    let desk = app.client();
    app.login(&desk, "desk.floor").await;
    assert_eq!(desk.get(app.url("/floor")).send().await.unwrap().status(), 403);
    app.stop().await;
}
on_both_databases!(session_page_and_floor_board_show_and_acknowledge_alarms, session_and_floor_pages);

async fn demo_dosing(db: Db) {
    let app = app_or_skip!(db);
    kat::demo::seed(app.store.as_ref(), app.now(), &TimeZone::UTC).await.unwrap();
    let mut tx = app.store.begin().await.unwrap();
    let open = tx.open_dosing_sessions().await.unwrap();
    assert_eq!(open.len(), 1, "one session in progress");
    assert_eq!(open[0].route, kat_core::dosing::Route::IvInfusion);
    let alarms = tx.unacknowledged_alarms().await.unwrap();
    assert!(alarms.iter().any(|a| a.rule == "ALM-002" && a.session_id == open[0].id), "{alarms:?}");
    let mut routes = Vec::new();
    for p in tx.patients_with_intake().await.unwrap() {
        for s in tx.dosing_sessions_for_patient(p).await.unwrap() {
            if s.discharged_at.is_some() {
                routes.push(kat_store::dosing::route_str(s.route));
            }
        }
    }
    routes.sort();
    assert_eq!(
        routes,
        [
            "intramuscular",
            "intranasal_esketamine",
            "intranasal_racemic",
            "iv_infusion",
            "subcutaneous",
            "sublingual_oral"
        ]
    );
    // Every route of the core has a completed demo session.
    assert_eq!(routes.len(), kat_core::dosing::Route::ALL.len());
    drop(tx);
    // The demo esketamine session yields a complete REMS form.
    let page = kat_core::page::PageRequest::first(kat_app::dosing::REMS_PAGE);
    let forms =
        kat_app::dosing::rems_worklist(app.store.as_ref(), &crate::support::cli_ctx(&app), &Default::default(), page)
            .await
            .unwrap();
    assert!(!forms.has_next);
    let forms = forms.items;
    assert_eq!(forms.len(), 1);
    assert!(forms[0].missing.is_empty(), "{:?}", forms[0].missing);
    assert_eq!(forms[0].dose_mg, 56);
    app.stop().await;
}
on_both_databases!(demo_has_completed_sessions_of_every_route_and_one_in_progress, demo_dosing);

async fn adverse_events_and_interventions(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let (_, _, tt) = staff_with_token(&app, "ther", Role::Therapist).await;
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    app.advance(SignedDuration::from_mins(12));
    let v: Value =
        post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 190, "diastolic": 112})).await.json().await.unwrap();
    let alarm = v["alarms"][0]["id"].as_str().unwrap().to_string();
    // INT-005: the intervention names its trigger, action, drug, response.
    let p =
        expect_problem(post(&app, &format!("{s}/interventions"), &pt, json!({"drug_name": "labetalol"})).await, 422)
            .await;
    assert_eq!(problem_fields(&p), vec!["trigger_value", "action", "response", "drug_name"], "{p}");
    let r = post(&app, &format!("{s}/interventions"), &pt, json!({"alarm_id": alarm, "action": "Infusion stopped",
        "drug_name": "labetalol", "drug_dose_mg": 10, "drug_route": "IV", "response": "BP 150/90 after 10 min", "session_stopped": "yes"})).await;
    assert_eq!(r.status(), 201);
    let i: Value = r.json().await.unwrap();
    assert_eq!(i["event"]["trigger_rule"], "ALM-002");
    assert_eq!(i["event"]["session_stopped"], true);
    // §5: CTCAE term and grade with the rest.
    let p = expect_problem(
        post(&app, &format!("{s}/adverse-events"), &pt, json!({"term": "Hypertension", "grade": 7})).await,
        422,
    )
    .await;
    assert!(
        problem_fields(&p).contains(&"grade".to_string()) && problem_fields(&p).contains(&"relatedness".to_string()),
        "{p}"
    );
    let onset = (app.now() - SignedDuration::from_mins(2)).to_string();
    let r = post(&app, &format!("{s}/adverse-events"), &pt, json!({"term": "Hypertension", "catalogue": "AE-007", "grade": 2,
        "onset": onset, "relatedness": "probable", "action_taken": "Infusion stopped; labetalol 10 mg IV", "outcome": "recovering"})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    expect_problem(post(&app, &format!("{s}/adverse-events"), &tt, json!({})).await, 403).await;
    let view = get(&app, &s, &tt).await;
    let kinds: Vec<&str> = view["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["adverse_event", "intervention"], "by time: the onset came first; {view}");
    app.stop().await;
}
on_both_databases!(adverse_events_and_interventions_are_recorded_with_their_fields, adverse_events_and_interventions);

async fn discharge_from_the_page(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.dc", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let web = app.client();
    app.login(&web, "nurse.dc").await;
    let form = [
        ("aldrete_total", "10"),
        ("moaas", "5"),
        ("dissociation_resolved", "on"),
        ("able_to_walk_safely", "on"),
        ("no_active_nausea", "on"),
        ("no_suicidal_crisis", "on"),
        ("escort_present", "on"),
        ("written_instructions_given", "on"),
        ("clinician_judges_stable", "on"),
    ];
    // The infusion is still running: refused, the page says why.
    let r = web
        .post(app.url(&format!("/sessions/{sid}/discharge")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("infusion stop is not recorded"));
    app.advance(SignedDuration::from_mins(40));
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{sid}/administrations"), &pt, json!({"kind": "infusion_stop"}))
            .await
            .status(),
        201
    );
    // Before 60 minutes of observation (DC-002): refused with the rule named. (The clock
    // jump ended the idle page session: sign in again.)
    let web = app.client();
    app.login(&web, "nurse.dc").await;
    let r = web
        .post(app.url(&format!("/sessions/{sid}/discharge")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("DC-002"));
    // Boxes left unticked are "not yet confirmed": the page never asserts a finding the
    // nurse did not record (issue: "The patient is in a suicidal crisis" for an empty box).
    let unticked: Vec<(&str, &str)> =
        form.iter().copied().filter(|(k, _)| !matches!(*k, "no_suicidal_crisis" | "no_active_nausea")).collect();
    let r = web
        .post(app.url(&format!("/sessions/{sid}/discharge")))
        .header("origin", &app.base_url)
        .form(&unticked)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("No suicidal crisis (SUI-003): not yet confirmed."), "{html}");
    assert!(html.contains("No active nausea: not yet confirmed."), "{html}");
    assert!(!html.contains("is in a suicidal crisis") && !html.contains("has active nausea"), "{html}");
    app.advance(SignedDuration::from_mins(61));
    assert_eq!(post(&app, &format!("/api/v1/sessions/{sid}/vitals"), &pt, json!({"systolic": 122, "diastolic": 78, "heart_rate": 70, "spo2": 98, "on_supplemental_o2": "no", "respiratory_rate": 14, "moaas": 5})).await.status(), 201);
    let web = app.client();
    app.login(&web, "nurse.dc").await;
    let r = web
        .post(app.url(&format!("/sessions/{sid}/discharge")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Discharged"), "{html}");
    app.stop().await;
}
on_both_databases!(discharge_from_the_session_page_refused_then_allowed, discharge_from_the_page);

/// The plan form's fields as the page posts them.
pub(crate) fn plan_form(app: &TestApp, mg_per_kg: &str) -> Vec<(String, String)> {
    iv_plan(app, mg_per_kg)
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map(String::from).unwrap_or_else(|| v.to_string())))
        .collect()
}

async fn treatment_plan_page(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("pres.plan", Role::Prescriber).await;
    app.add_staff("nurse.plan", Role::Nurse).await;
    let id = eligible_patient(&app, &pt).await;
    let web = app.client();
    app.login(&web, "pres.plan").await;
    let patient = web.get(app.url(&format!("/patients/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(patient.contains(&format!("/patients/{id}/treatment-plan")), "the patient page links to the plan");
    let page = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("iv_single_standard") && !html.contains("style="), "{html}");

    // Invalid: 422 naming the field, the typed values kept, nothing saved.
    let mut bad = plan_form(&app, "0.5");
    bad.retain(|(k, _)| k != "indication");
    bad.push(("weight_kg".into(), "eighty".into()));
    bad.retain(|(k, v)| k != "weight_kg" || v == "eighty");
    let r = web
        .post(app.url(&format!("/patients/{id}/treatment-plan")))
        .header("origin", &app.base_url)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("indication-error") && html.contains("weight_kg-error"), "{html}");
    // The summary names the fields in words, never by their keys (issue 11 item 10).
    assert!(html.contains("<li>Weight (kg):") && !html.contains("<li>weight_kg:"), "{html}");
    assert!(html.contains("value=\"eighty\""), "the typed value is kept");
    assert!(get(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt).await.as_array().unwrap().is_empty());

    // Valid: the draft shows its computed dose and session dates.
    let r = web
        .post(app.url(&format!("/patients/{id}/treatment-plan")))
        .header("origin", &app.base_url)
        .form(&plan_form(&app, "0.5"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("40 mg") && html.contains("0.5 mg/kg") && html.contains("Draft: not signed"), "{html}");
    assert!(html.contains("Pump rate") && html.contains("Session dates"), "{html}");
    let plans = get(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt).await;
    let plan_id = plans[0]["id"].as_str().unwrap().to_string();
    assert!(
        html.contains(&plans[0]["content"]["schedule"][1].as_str().unwrap().to_string()),
        "the generated dates show"
    );

    // A nurse sees the plan but may not sign it.
    let nurse = app.client();
    app.login(&nurse, "nurse.plan").await;
    let html =
        nurse.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("40 mg") && !html.contains("/sign\""), "{html}");
    let r = nurse
        .post(app.url(&format!("/patients/{id}/treatment-plan/{plan_id}/sign")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The prescriber signs.
    let r = web
        .post(app.url(&format!("/patients/{id}/treatment-plan/{plan_id}/sign")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = web.get(app.url(&format!("/patients/{id}/treatment-plan"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Signed "), "{html}");
    assert_eq!(get(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pt).await[0]["signed"], true);
    app.stop().await;
}
on_both_databases!(treatment_plan_page_drafts_shows_the_dose_and_signs, treatment_plan_page);

async fn gate_page(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.gate", Role::Nurse).await;
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
    let session: Value =
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans/{plan_id}/sessions"), &pt, json!({}))
            .await
            .json()
            .await
            .unwrap();
    let sid = session["id"].as_str().unwrap().to_string();
    let web = app.client();
    app.login(&web, "nurse.gate").await;
    let gate_link = format!("/sessions/{sid}/gate\"");
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&gate_link), "the session page links to the gate: {html}");
    assert!(!html.contains("/administrations\""), "no administration form before the gate");
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("last_solid_at") && html.contains("suicide_screen") && !html.contains("style="), "{html}");
    assert!(!html.contains("rems_patient_enrolled"), "the REMS items are for esketamine only");

    // A bad value: 422 naming the field, the typed value kept, nothing saved.
    let r = web
        .post(app.url(&format!("/sessions/{sid}/gate")))
        .header("origin", &app.base_url)
        .form(&[("systolic", "high"), ("diastolic", "80")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("systolic-error") && html.contains("value=\"high\""), "{html}");
    assert!(get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["session"]["gate_outcome"].is_null());

    // Hypertensive and nothing else answered: the findings show with their rule IDs; to
    // go on, defer with a reason or override.
    let now = app.now();
    let local = |d: SignedDuration| (now - d).to_zoned(TimeZone::UTC).datetime().strftime("%Y-%m-%dT%H:%M").to_string();
    let today = now.to_zoned(TimeZone::UTC).date().to_string();
    let high = [("systolic", "190"), ("diastolic", "110")];
    let r = web
        .post(app.url(&format!("/sessions/{sid}/gate")))
        .header("origin", &app.base_url)
        .form(&high)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("BP-") && html.contains("sev-") && html.contains("defer_reason"), "{html}");

    // Deferral with a reason and a new date.
    let mut deferral: Vec<(&str, String)> = high.iter().map(|(k, v)| (*k, v.to_string())).collect();
    deferral.push(("defer_reason", "BP 190/110; GP review of antihypertensives".into()));
    deferral.push(("reschedule_to", "2026-03-17".into()));
    let r = web
        .post(app.url(&format!("/sessions/{sid}/gate")))
        .header("origin", &app.base_url)
        .form(&deferral)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Deferred") && html.contains("GP review") && html.contains("2026-03-17"), "{html}");
    assert_eq!(get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["session"]["gate_outcome"], "defer");
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&gate_link), "still linked while not passed");

    // The checklist passes: proceed, and the session page no longer links to the gate.
    let pass: Vec<(&str, String)> = vec![
        ("last_solid_at", local(SignedDuration::from_hours(10))),
        ("last_solid_kind", "fatty_or_meat".into()),
        ("last_clear_liquid_at", local(SignedDuration::from_hours(3))),
        ("systolic", "120".into()),
        ("diastolic", "80".into()),
        ("hypertensive_symptoms", "no".into()),
        ("heart_rate", "72".into()),
        ("new_irregular_rhythm", "no".into()),
        ("escort_confirmed", "yes".into()),
        ("no_driving_instruction_given", "yes".into()),
        ("intoxicated_or_in_withdrawal", "no".into()),
        ("substance_use", "none_within_window".into()),
        ("childbearing_potential", "no".into()),
        ("medication_changes_reviewed", "yes".into()),
        ("new_psychotic_or_manic_symptoms", "no".into()),
        ("suicide_screen", "negative".into()),
        ("weight_measured_on", today),
    ];
    let r = web
        .post(app.url(&format!("/sessions/{sid}/gate")))
        .header("origin", &app.base_url)
        .form(&pass)
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_eq!(status, 303, "{}", r.text().await.unwrap());
    assert_eq!(get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["session"]["gate_outcome"], "proceed");
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains(&gate_link) && html.contains("Gate passed"), "{html}");
    let html = web.get(app.url(&format!("/sessions/{sid}/gate"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Gate passed") && !html.contains("Run the gate"), "{html}");
    app.stop().await;
}
on_both_databases!(gate_page_defers_with_reason_then_proceeds_and_session_links_until_passed, gate_page);

async fn administration_and_adverse_event_forms(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.adm", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let web = app.client();
    app.login(&web, "nurse.adm").await;
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains(&format!("/sessions/{sid}/administrations"))
            && html.contains("infusion_pause")
            && !html.contains("value=\"device\""),
        "{html}"
    );
    assert!(!html.contains("style="));
    let at = |path: &str| app.url(&format!("/sessions/{sid}/{path}"));
    // A rate change without the rate: 422 naming the field, the typed values kept.
    let r = web
        .post(at("administrations"))
        .header("origin", &app.base_url)
        .form(&[("kind", "infusion_rate_change"), ("administered_by", "RN Nurse"), ("monitored_by", "RN Nurse")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("rate_ml_per_h-error") && html.contains("value=\"RN Nurse\""), "{html}");
    assert_eq!(
        get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await["administrations"].as_array().unwrap().len(),
        1
    );
    for kind in ["infusion_pause", "infusion_stop"] {
        let r = web
            .post(at("administrations"))
            .header("origin", &app.base_url)
            .form(&[("kind", kind)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{kind}");
    }
    let view = get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await;
    let kinds: Vec<&str> =
        view["administrations"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["infusion_start", "infusion_pause", "infusion_stop"]);

    // Adverse event: missing grade and relatedness are named; then recorded.
    let r = web
        .post(at("adverse-events"))
        .header("origin", &app.base_url)
        .form(&[("term", "Nausea")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("grade-error") && html.contains("relatedness-error") && html.contains("value=\"Nausea\""),
        "{html}"
    );
    let onset = (app.now() - SignedDuration::from_mins(5))
        .to_zoned(TimeZone::UTC)
        .datetime()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let r = web
        .post(at("adverse-events"))
        .header("origin", &app.base_url)
        .form(&[
            ("term", "Nausea"),
            ("catalogue", "AE-003"),
            ("grade", "1"),
            ("onset", &onset),
            ("relatedness", "probable"),
            ("action_taken", "Ondansetron 4 mg"),
            ("outcome", "recovering"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let view = get(&app, &format!("/api/v1/sessions/{sid}"), &pt).await;
    assert_eq!(view["events"][0]["kind"], "adverse_event", "{view}");
    app.stop().await;
}
on_both_databases!(administration_and_adverse_event_forms_on_the_session_page, administration_and_adverse_event_forms);

/// The CADSS-6 items 1, 2, 6, 7, 15 and 22 in that order, as form fields.
fn cadss6_items(values: [&'static str; 6]) -> Vec<(&'static str, &'static str)> {
    ["item_1", "item_2", "item_6", "item_7", "item_15", "item_22"]
        .into_iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

async fn cadss6_by_api_and_page(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let (_, _, tt) = staff_with_token(&app, "ther", Role::Therapist).await;
    app.add_staff("nurse.cadss", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    app.advance(SignedDuration::from_mins(40));

    // Incomplete over the API: every missing item named, nothing saved, never scored.
    let p = expect_problem(
        post(
            &app,
            &format!("{s}/cadss6"),
            &pt,
            json!({"time_point": "peak_40", "item_1": 2, "item_2": 1, "item_6": 3, "item_7": 0}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&p), vec!["item_15", "item_22"], "{p}");
    assert!(p.to_string().contains("CADSS item 15"), "{p}");
    let p = expect_problem(
        post(
            &app,
            &format!("{s}/cadss6"),
            &pt,
            json!({"item_1": 5, "item_2": 1, "item_6": 3, "item_7": 0, "item_15": 4, "item_22": 1}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&p), vec!["time_point", "item_1"], "{p}");
    assert!(get(&app, &s, &pt).await["cadss6"].as_array().unwrap().is_empty());
    // Only those who run the session rate it.
    expect_problem(post(&app, &format!("{s}/cadss6"), &tt, json!({})).await, 403).await;

    // Complete: scored by the core (2+1+3+0+4+1 = 11), 40 minutes after the start.
    let r = post(&app, &format!("{s}/cadss6"), &pt, json!({"time_point": "peak_40", "item_1": 2, "item_2": 1, "item_6": 3, "item_7": 0, "item_15": 4, "item_22": 1})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["rating"]["total"], 11, "{c}");
    assert_eq!(c["rating"]["minutes_after_start"], 40, "{c}");
    assert_eq!(c["rating"]["time_point"], "peak_40");

    // The page form: construct labels only (no item wording ships), the licence notice.
    let web = app.client();
    app.login(&web, "nurse.cadss").await;
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains(&format!("/sessions/{sid}/cadss6"))
            && html.contains("name=\"item_22\"")
            && html.contains("CADSS item 15"),
        "{html}"
    );
    assert!(html.contains("Construct labels only") && html.contains("Bremner"), "{html}");
    assert!(html.contains("Peak, about 40 min") && html.contains("<td>11</td>"), "the API rating is listed: {html}");
    // Incomplete on the page: 422, item 22 named next to its fieldset, typed answers kept.
    let mut form = cadss6_items(["0", "1", "1", "0", "2", ""]);
    form.push(("time_point", "before_discharge"));
    let r = web
        .post(app.url(&format!("/sessions/{sid}/cadss6")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"item_22-error\"") && html.contains("CADSS item 22 is not answered"), "{html}");
    assert!(
        html.contains("aria-describedby=\"item_22-error\"") && html.contains("value=\"before_discharge\" selected"),
        "{html}"
    );
    assert!(!html.contains("item_15-error"));
    assert_eq!(get(&app, &s, &pt).await["cadss6"].as_array().unwrap().len(), 1, "nothing saved");
    // Complete on the page: saved, listed with the nurse's name.
    let mut form = cadss6_items(["0", "1", "1", "0", "2", "0"]);
    form.push(("time_point", "before_discharge"));
    let r = web
        .post(app.url(&format!("/sessions/{sid}/cadss6")))
        .header("origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let view = get(&app, &s, &pt).await;
    let totals: Vec<u64> = view["cadss6"].as_array().unwrap().iter().map(|r| r["total"].as_u64().unwrap()).collect();
    assert_eq!(totals, [11, 4], "{view}");
    assert!(view["events"].as_array().unwrap().iter().all(|e| e["kind"] == "cadss6"));
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Before discharge") && html.contains("<td>4</td>"), "{html}");

    // Audited against the patient.
    let patient = view["session"]["patient_id"].as_str().unwrap().parse::<PatientId>().unwrap();
    let mut tx = app.store.begin().await.unwrap();
    let entries = tx
        .query_audit(&AuditFilter {
            user_id: None,
            patient_id: Some(patient),
            from: None,
            to: None,
            before_seq: None,
            limit: 1000,
        })
        .await
        .unwrap();
    let cadss: Vec<_> = entries.iter().filter(|e| e.entry.resource_type == "cadss6").map(|e| e.entry.outcome).collect();
    use kat_core::audit::AuditOutcome::{Allowed, Denied};
    assert_eq!(cadss.iter().filter(|o| **o == Allowed).count(), 2, "the two saved ratings: {cadss:?}");
    assert_eq!(cadss.iter().filter(|o| **o == Denied).count(), 1, "the therapist's refusal: {cadss:?}");
    drop(tx);
    app.stop().await;
}
on_both_databases!(cadss6_rated_by_api_and_page_incomplete_refused_complete_scored, cadss6_by_api_and_page);

async fn moaas_alone_from_the_page(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.sed", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    let web = app.client();
    app.login(&web, "nurse.sed").await;
    let at = app.url(&format!("/sessions/{sid}/moaas"));
    // Nothing chosen: the field is named, nothing saved.
    let r = web.post(at.clone()).header("origin", &app.base_url).form(&[("moaas", "")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"sed_moaas-error\""));
    let r = web.post(at.clone()).header("origin", &app.base_url).form(&[("moaas", "7")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(get(&app, &s, &pt).await["vitals"].as_array().unwrap().is_empty());
    // 4: a reading, no alarm (MON-SPV-005 flags ≤ 3).
    let r = web.post(at.clone()).header("origin", &app.base_url).form(&[("moaas", "4")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let view = get(&app, &s, &pt).await;
    assert_eq!(view["vitals"].as_array().unwrap().len(), 1);
    assert!(view["alarms"].as_array().unwrap().is_empty(), "{view}");
    // 3: exactly one alarm, the MON-SPV-005 continuous observation.
    let r = web.post(at.clone()).header("origin", &app.base_url).form(&[("moaas", "3")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let view = get(&app, &s, &pt).await;
    let alarms = view["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 1, "{view}");
    assert_eq!(alarms[0]["rule"], "MON-SPV-005");
    let live = web.get(app.url(&format!("/sessions/{sid}/live"))).send().await.unwrap().text().await.unwrap();
    assert!(live.contains("MOAA/S 3") && live.contains("MON-SPV-005"), "{live}");
    app.stop().await;
}
on_both_databases!(moaas_rated_alone_on_the_page_three_raises_one_alarm_four_none, moaas_alone_from_the_page);

async fn intervention_from_the_page(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("nurse.int", Role::Nurse).await;
    let sid = running_iv_session(&app, &pt).await;
    let s = format!("/api/v1/sessions/{sid}");
    app.advance(SignedDuration::from_mins(12));
    let v: Value =
        post(&app, &format!("{s}/vitals"), &pt, json!({"systolic": 190, "diastolic": 112})).await.json().await.unwrap();
    let alarm = v["alarms"][0]["id"].as_str().unwrap().to_string();
    let web = app.client();
    app.login(&web, "nurse.int").await;
    // "Record intervention" next to the open alarm preselects it.
    let live = web.get(app.url(&format!("/sessions/{sid}/live"))).send().await.unwrap().text().await.unwrap();
    assert!(live.contains(&format!("/sessions/{sid}?alarm={alarm}#intervention")), "{live}");
    let html = web.get(app.url(&format!("/sessions/{sid}?alarm={alarm}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("<option value=\"{alarm}\" selected>")), "{html}");
    assert!(html.contains("<label for=\"int_action\">"));
    // The action missing: 422 with the field named, what was typed kept, nothing saved.
    let r = web
        .post(app.url(&format!("/sessions/{sid}/interventions")))
        .header("origin", &app.base_url)
        .form(&[("alarm_id", alarm.as_str()), ("response", "BP 150/90 after 10 min"), ("session_stopped", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"int_action-error\"") && html.contains("aria-describedby=\"int_action-error\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"BP 150/90 after 10 min\"") && html.contains("<option value=\"yes\" selected>"),
        "{html}"
    );
    assert!(get(&app, &s, &pt).await["events"].as_array().unwrap().is_empty());
    // Valid: listed on the page with the alarm's rule.
    let r = web
        .post(app.url(&format!("/sessions/{sid}/interventions")))
        .header("origin", &app.base_url)
        .form(&[
            ("alarm_id", alarm.as_str()),
            ("action", "Infusion stopped"),
            ("drug_name", "labetalol"),
            ("drug_dose_mg", "10"),
            ("drug_route", "IV"),
            ("response", "BP 150/90 after 10 min"),
            ("session_stopped", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = web.get(app.url(&format!("/sessions/{sid}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("<td>Infusion stopped</td>")
            && html.contains("<td>BP 190/112 (ALM-002)</td>")
            && html.contains("labetalol 10 mg IV"),
        "{html}"
    );
    let view = get(&app, &s, &pt).await;
    assert_eq!(view["events"][0]["kind"], "intervention");
    assert_eq!(view["events"][0]["event"]["session_stopped"], true);
    app.stop().await;
}
on_both_databases!(intervention_from_the_page_missing_action_named_then_listed, intervention_from_the_page);

/// Issue 11 item 12: plans scheduled Sundays and 25 December. Generated dates move to the
/// clinic's next open day (default calendar: Sundays, 1 Jan and 25 Dec closed); a date
/// chosen by hand on a closed day is refused naming the field.
async fn plan_dates_skip_closed_days(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    // Every 3 days from Tuesday 2026-03-10: the 6th-day date, Sunday 22 March, moves to
    // Monday 23 March; the others are open days and stay.
    let r = post(&app, &plans, &pt, iv_plan(&app, "0.5")).await;
    assert_eq!(r.status(), 201);
    let plan: Value = r.json().await.unwrap();
    let dates: Vec<&str> =
        plan["content"]["schedule"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(dates, ["2026-03-10", "2026-03-13", "2026-03-16", "2026-03-19", "2026-03-23", "2026-03-25"]);
    // By hand: Sunday 15 March is refused, Saturday 14 March is fine.
    let mut by_hand = iv_plan(&app, "0.5");
    by_hand["schedule"] = json!("2026-03-10, 2026-03-15");
    let p = expect_problem(post(&app, &plans, &pt, by_hand.clone()).await, 422).await;
    assert_eq!(problem_fields(&p), vec!["schedule"], "{p}");
    assert!(p.to_string().contains("2026-03-15 is a Sunday, a day the clinic is closed"), "{p}");
    by_hand["schedule"] = json!("2026-03-10, 2026-03-14");
    assert_eq!(post(&app, &plans, &pt, by_hand).await.status(), 201);
    app.stop().await;
}
on_both_databases!(plan_dates_skip_the_clinics_closed_days, plan_dates_skip_closed_days);

/// Issue 11 item 10: after signing, the eligibility page still said "Needs prescriber
/// review" and showed the sign form. It now leads with the decision and folds the form.
async fn eligibility_page_leads_with_the_decision(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, pt) = staff_with_token(&app, "pres", Role::Prescriber).await;
    app.add_staff("pres.page", Role::Prescriber).await;
    let id = eligible_patient(&app, &pt).await;
    let web = app.client();
    app.login(&web, "pres.page").await;
    let html = web.get(app.url(&format!("/patients/{id}/eligibility"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("status-badge status-accepted\">Accepted for treatment by the prescriber<"), "{html}");
    assert!(html.contains("<details><summary>Sign a new decision"), "{html}");
    assert!(!html.contains("No prescriber decision yet"));
    app.stop().await;
}
on_both_databases!(the_eligibility_page_leads_with_the_signed_decision, eligibility_page_leads_with_the_decision);
