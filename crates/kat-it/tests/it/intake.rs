//! Intake and eligibility over HTTP, on both databases: versions kept, evaluations
//! re-run, decisions going stale, sign-off rules, same-day reviews, roles and audit.

use jiff::tz::TimeZone;
use kat_app::{Ctx, intake, users};
use kat_core::audit::{AuditAction, AuditFilter, AuditOutcome};
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::ids::PatientId;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use serde_json::{Map, Value, json};

async fn register(app: &TestApp, token: &str) -> String {
    let created: Value = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(token)
        .json(&json!({"given_name": "Ida", "family_name": "Intake", "birth_date": "1984-03-07", "sex_at_birth": "female"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

/// The complete example intake with some answers changed, as the API's `answers`.
fn answers(app: &TestApp, changes: &[(&str, &str)]) -> Value {
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let mut a = example_complete_answers(today);
    for (k, v) in changes {
        a.set(k, v).unwrap();
    }
    let map: Map<String, Value> = a.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    Value::Object(map)
}

async fn put_intake(app: &TestApp, token: &str, id: &str, answers: Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(app.url(&format!("/api/v1/patients/{id}/intake")))
        .bearer_auth(token)
        .json(&json!({"answers": answers, "complete": true}))
        .send()
        .await
        .unwrap()
}

async fn eligibility(app: &TestApp, token: &str, id: &str) -> Value {
    let r = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}/eligibility")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The fields of the policy form as the page shows them (inputs, selects, textareas).
async fn policy_form(client: &reqwest::Client, app: &TestApp) -> Vec<(String, String)> {
    let html = client.get(app.url("/admin/policy")).send().await.unwrap().text().await.unwrap();
    let form = &html[html.find("<form method=\"post\" action=\"/admin/policy\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    fn attr(tag: &str, name: &str) -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[start..start + tag[start..].find('"')?].replace("&#x3d;", "=").replace("&#61;", "="))
    }
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..end];
        if tag.starts_with("<input") {
            let checkbox = attr(tag, "type").as_deref() == Some("checkbox");
            if !checkbox || tag.contains(" checked") {
                out.push((attr(tag, "name").unwrap(), attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<select") {
            let block = &rest[..rest.find("</select>").unwrap()];
            let selected = block.split("<option").find(|o| o.contains(" selected")).unwrap();
            out.push((attr(tag, "name").unwrap(), attr(selected, "value").unwrap()));
        } else if tag.starts_with("<textarea") {
            let body = &rest[end + 1..end + 1 + rest[end + 1..].find("</textarea>").unwrap()];
            out.push((attr(tag, "name").unwrap(), body.replace("&#x3d;", "=").replace("&#61;", "=")));
        }
        rest = &rest[1..];
    }
    out
}

fn with(mut form: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    let slot = form.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no field {name}"));
    slot.1 = value.to_string();
    form
}

async fn decide(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/api/v1/patients/{id}/eligibility/decision")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn problem_fields(v: &Value) -> Vec<String> {
    v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn audit_for(app: &TestApp, patient: &str) -> Vec<(String, String, String)> {
    let mut tx = app.store.begin().await.unwrap();
    let entries = tx
        .query_audit(&AuditFilter {
            user_id: None,
            patient_id: Some(patient.parse::<PatientId>().unwrap()),
            from: None,
            to: None,
            before_seq: None,
            limit: 500,
        })
        .await
        .unwrap();
    entries
        .into_iter()
        .map(|e| {
            (e.entry.action.as_str().to_string(), e.entry.resource_type.clone(), e.entry.outcome.as_str().to_string())
        })
        .collect()
}

async fn versions_reruns_and_stale_decisions(db: Db) {
    let app = app_or_skip!(db);
    let token = app.token("prescriber", Role::Prescriber).await;
    let id = register(&app, &token).await;

    // Nothing yet.
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["status"], "not_screened");

    // A complete intake with a review finding (RCI-001: past psychosis).
    assert_eq!(put_intake(&app, &token, &id, answers(&app, &[("psychosis_past", "yes")])).await.status(), 200);
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["status"], "needs_review", "{e}");
    let findings = e["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["rule"].is_string() && f["level"].is_string() && f["message"].is_string()));
    assert!(findings.iter().any(|f| f["rule"] == "RCI-001" && f["level"] == "prescriber_review"), "{e}");
    let review_rules: Vec<String> = findings
        .iter()
        .filter(|f| f["level"] == "prescriber_review")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    let evaluation = e["evaluation_id"].as_str().unwrap().to_string();

    // Accepting despite review findings needs a reason for each: 422 names the finding.
    let r = decide(&app, &token, &id, json!({"evaluation_id": evaluation, "decision": "accept"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert!(problem_fields(&p).contains(&"reasons.RCI-001".to_string()), "{p}");

    let reasons: Map<String, Value> =
        review_rules.iter().map(|r| (r.clone(), json!("single brief episode 2009, stable since"))).collect();
    let r =
        decide(&app, &token, &id, json!({"evaluation_id": evaluation, "decision": "accept", "reasons": reasons})).await;
    assert_eq!(r.status(), 201);
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["decision"]["decision"], "accept");
    assert_eq!(e["decision"]["stale"], false);

    // Signing an evaluation that is no longer the latest is a conflict.
    assert_eq!(
        put_intake(&app, &token, &id, answers(&app, &[("psychosis_past", "yes"), ("heart_rate", "75")])).await.status(),
        200
    );
    let r = decide(&app, &token, &id, json!({"evaluation_id": evaluation, "decision": "decline"})).await;
    assert_eq!(r.status(), 409);

    // The intake change re-ran the screen and made the decision stale; both versions kept.
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["intake_version"], 2);
    assert_eq!(e["decision"]["stale"], true, "{e}");
    {
        let mut tx = app.store.begin().await.unwrap();
        let history = tx.intake_history(id.parse().unwrap()).await.unwrap();
        assert_eq!(history.iter().map(|h| h.version).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(history[1].answers.get("heart_rate"), "72");
        assert_eq!(history[0].answers.get("heart_rate"), "75");
    }

    // Sign again: fresh.
    let evaluation = e["evaluation_id"].as_str().unwrap().to_string();
    let r =
        decide(&app, &token, &id, json!({"evaluation_id": evaluation, "decision": "accept", "reasons": reasons})).await;
    assert_eq!(r.status(), 201);
    assert_eq!(eligibility(&app, &token, &id).await["decision"]["stale"], false);

    // A policy change re-evaluates and makes the decision stale again.
    let admin = app.client();
    app.add_staff("admin", Role::Admin).await;
    app.login(&admin, "admin").await;
    let form = with(policy_form(&admin, &app).await, "minimum_age_years", "21");
    let r = admin.post(app.url("/admin/policy")).header("origin", &app.base_url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["policy_version"], 2);
    assert_eq!(e["decision"]["stale"], true);

    // An invalid policy is refused with the form re-shown.
    let form = with(policy_form(&admin, &app).await, "minimum_age_years", "16");
    let r = admin.post(app.url("/admin/policy")).header("origin", &app.base_url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 422);

    let audit = audit_for(&app, &id).await;
    for (action, resource) in [
        ("update", "intake"),
        ("create", "eligibility_evaluation"),
        ("create", "eligibility_decision"),
        ("update", "eligibility_decision"),
        ("read", "intake"),
    ] {
        assert!(
            audit.iter().any(|(a, r, o)| a == action && r == resource && o == "allowed"),
            "{action} {resource}: {audit:?}"
        );
    }
    app.stop().await;
}
on_both_databases!(intake_versions_reruns_and_stale_decisions, versions_reruns_and_stale_decisions);

/// The policy page is a form: one labelled field per setting with its spec ID and
/// default; an invalid value comes back 422 naming the field and saves nothing; a
/// valid one saves a new version (listed with who saved it) and re-evaluates intakes.
async fn policy_page_is_a_form(db: Db) {
    let app = app_or_skip!(db);
    let token = app.token("prescriber", Role::Prescriber).await;
    let id = register(&app, &token).await;
    assert_eq!(put_intake(&app, &token, &id, answers(&app, &[])).await.status(), 200);
    app.add_staff("admin", Role::Admin).await;
    let admin = app.client();
    app.login(&admin, "admin").await;
    let html = admin.get(app.url("/admin/policy")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("style="), "CSP: no inline styles");
    assert!(!html.contains("<textarea id=\"policy\""), "no JSON textarea");
    assert!(html.contains("<label for=\"bp_tiers-defer-systolic\">"), "a labelled field per setting");
    assert!(html.contains("BP-006 · default: 160"));
    assert!(html.contains("DDI-004 · default: 8.0"));
    assert!(html.contains("IND-011 · default: Prescriber review"));
    let form = policy_form(&admin, &app).await;
    assert!(form.len() > 40, "{form:?}");

    // Not a number: 422, the field named, nothing saved.
    let bad = with(form.clone(), "heart_rate.low", "fifty");
    let r = admin.post(app.url("/admin/policy")).header("origin", &app.base_url).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("heart_rate.low: must be a whole number"), "{page}");
    let blank = with(form.clone(), "heart_rate.high", "");
    let r = admin.post(app.url("/admin/policy")).header("origin", &app.base_url).form(&blank).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("heart_rate.high: is required"));
    assert!(page.contains("id=\"heart_rate-low-error\""));
    assert!(page.contains("value=\"fifty\""), "what was typed comes back");
    // Values that do not hang together (validate): 422 naming the group.
    let bad = with(form.clone(), "bp_tiers.defer.systolic", "190");
    let r = admin.post(app.url("/admin/policy")).header("origin", &app.base_url).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("bp_tiers: tiers must rise"));
    {
        let mut tx = app.store.begin().await.unwrap();
        assert_eq!(tx.current_policy().await.unwrap().unwrap().version, 1, "nothing saved");
    }
    assert_eq!(eligibility(&app, &token, &id).await["policy_version"], 1);

    // The front desk may not save.
    app.add_staff("desk", Role::FrontDesk).await;
    let desk = app.client();
    app.login(&desk, "desk").await;
    let r = desk.post(app.url("/admin/policy")).header("origin", &app.base_url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // Valid: a new version, the intake re-evaluated under it, the change kept.
    let good = with(with(form, "bp_tiers.defer.systolic", "165"), "bipolar_depression", "exclude");
    let r = admin.post(app.url("/admin/policy")).header("origin", &app.base_url).form(&good).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(eligibility(&app, &token, &id).await["policy_version"], 2);
    let ctx = Ctx::cli(app.now(), &TimeZone::UTC);
    let saved = intake::policy(app.store.as_ref(), &ctx).await.unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.policy.bp_tiers.defer.systolic.get(), 165);
    assert_eq!(saved.policy.bipolar_depression, kat_core::eligibility::PolicyAction::Exclude);
    assert_eq!(
        saved.policy.substance,
        kat_core::eligibility::EligibilityPolicy::default().substance,
        "untouched fields kept"
    );
    let html = admin.get(app.url("/admin/policy?saved=1")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Saved as a new policy version"));
    assert!(html.contains("<td>v2</td>") && html.contains("<td>v1</td>"), "past versions listed");
    assert!(html.contains("kat (specification defaults)"));
    assert!(html.contains("value=\"165\""));
    app.stop().await;
}
on_both_databases!(intake_policy_page_is_a_form, policy_page_is_a_form);

async fn hard_stop_needs_a_medical_director_override(db: Db) {
    let app = app_or_skip!(db);
    let token = app.token("prescriber", Role::Prescriber).await;
    let md_token = app.token("director", Role::Prescriber).await;
    let ctx = Ctx::cli(app.now(), &TimeZone::UTC);
    let md = users::find(app.store.as_ref(), "director").await.unwrap().unwrap();
    intake::set_medical_director(
        app.store.as_ref(),
        &ctx,
        md.id,
        true,
        "the clinic's medical director",
        Default::default(),
    )
    .await
    .unwrap();
    let id = register(&app, &token).await;
    put_intake(&app, &token, &id, answers(&app, &[("arteriovenous_malformation", "yes")])).await;
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["status"], "excluded");
    assert!(e["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "CI-002" && f["level"] == "hard_stop"));
    let evaluation = e["evaluation_id"].as_str().unwrap().to_string();

    // A prescriber who is not medical director cannot accept, even with a reason.
    let r =
        decide(&app, &token, &id, json!({"evaluation_id": evaluation, "decision": "accept", "override_reason": "x"}))
            .await;
    assert_eq!(r.status(), 422);
    assert!(problem_fields(&r.json().await.unwrap()).contains(&"override_reason".to_string()));
    // The medical director needs a reason.
    let r = decide(&app, &md_token, &id, json!({"evaluation_id": evaluation, "decision": "accept"})).await;
    assert_eq!(r.status(), 422);
    // Declining needs nothing.
    let r = decide(&app, &token, &id, json!({"evaluation_id": evaluation, "decision": "decline"})).await;
    assert_eq!(r.status(), 201);
    // The override, with a reason, is recorded and audited on its own.
    let r = decide(
        &app,
        &md_token,
        &id,
        json!({"evaluation_id": evaluation, "decision": "accept", "override_reason": "AVM treated surgically 2015; neurosurgery clearance on file",
            "reauth_code": app.next_code("director").await.unwrap()}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["decision"]["hard_stop_override"], true);
    let audit = audit_for(&app, &id).await;
    assert!(audit.iter().any(|(a, r, _)| a == "create" && r == "eligibility_override"));
    app.stop().await;
}
on_both_databases!(intake_hard_stop_needs_medical_director_override, hard_stop_needs_a_medical_director_override);

async fn roles_and_denials(db: Db) {
    let app = app_or_skip!(db);
    let prescriber = app.token("prescriber", Role::Prescriber).await;
    let nurse = app.token("nurse", Role::Nurse).await;
    let desk = app.token("desk", Role::FrontDesk).await;
    let id = register(&app, &prescriber).await;
    // The nurse may enter the intake…
    assert_eq!(put_intake(&app, &nurse, &id, answers(&app, &[])).await.status(), 200);
    let e = eligibility(&app, &nurse, &id).await;
    assert_eq!(e["status"], "eligible", "{e}");
    // …but not sign.
    let r = decide(&app, &nurse, &id, json!({"evaluation_id": e["evaluation_id"], "decision": "accept"})).await;
    assert_eq!(r.status(), 403);
    // Front desk may not read or write the intake.
    let r = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}/intake")))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(put_intake(&app, &desk, &id, answers(&app, &[])).await.status(), 403);
    let audit = audit_for(&app, &id).await;
    assert!(audit.iter().any(|(a, r, o)| a == "create" && r == "eligibility_decision" && o == "denied"), "{audit:?}");
    assert!(audit.iter().any(|(a, r, o)| a == "read" && r == "intake" && o == "denied"), "{audit:?}");
    // An eligible screen can be accepted without reasons.
    let r = decide(&app, &prescriber, &id, json!({"evaluation_id": e["evaluation_id"], "decision": "accept"})).await;
    assert_eq!(r.status(), 201);
    // Invalid answers: 422 with one entry per field, nothing saved.
    let r = put_intake(&app, &prescriber, &id, answers(&app, &[("bp", "80/120"), ("schizophrenia", "maybe")])).await;
    assert_eq!(r.status(), 422);
    let fields = problem_fields(&r.json().await.unwrap());
    assert!(fields.contains(&"bp".to_string()) && fields.contains(&"schizophrenia".to_string()), "{fields:?}");
    let r = put_intake(&app, &prescriber, &id, json!({"no_such_question": "x"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(eligibility(&app, &prescriber, &id).await["intake_version"], 1);
    app.stop().await;
}
on_both_databases!(intake_roles_and_denials, roles_and_denials);

async fn same_day_review_banner_until_disposition(db: Db) {
    let app = app_or_skip!(db);
    let token = app.token("prescriber", Role::Prescriber).await;
    app.add_staff("nurse", Role::Nurse).await;
    app.add_staff("desk", Role::FrontDesk).await;
    let id = register(&app, &token).await;
    put_intake(&app, &token, &id, answers(&app, &[("ideation", "active_with_plan_and_intent")])).await;
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["same_day_review"], true);
    // A second save does not open a second flag.
    put_intake(&app, &token, &id, answers(&app, &[("ideation", "active_with_plan_and_intent"), ("heart_rate", "80")]))
        .await;
    {
        let mut tx = app.store.begin().await.unwrap();
        assert_eq!(tx.count_open_same_day_flags().await.unwrap(), 1);
    }

    let nurse = app.client();
    app.login(&nurse, "nurse").await;
    let home = nurse.get(app.url("/patients")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Same-day suicide-risk review needed"), "banner missing");
    // Front desk is not clinical staff: no banner.
    let desk = app.client();
    app.login(&desk, "desk").await;
    let page = desk.get(app.url("/patients")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("Same-day suicide-risk review needed"));

    let list = nurse.get(app.url("/safety/same-day")).send().await.unwrap().text().await.unwrap();
    let flag_id = list.split("/safety/same-day/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = nurse
        .post(app.url(&format!("/safety/same-day/{flag_id}")))
        .header("origin", &app.base_url)
        .form(&[("disposition", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = nurse
        .post(app.url(&format!("/safety/same-day/{flag_id}")))
        .header("origin", &app.base_url)
        .form(&[("disposition", "Seen by Dr P at 14:10; safety plan activated; dosing deferred; 988 given")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let home = nurse.get(app.url("/patients")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("Same-day suicide-risk review needed"));
    assert_eq!(eligibility(&app, &token, &id).await["same_day_review"], false);
    let audit = audit_for(&app, &id).await;
    assert!(audit.iter().any(|(a, r, _)| a == "create" && r == "same_day_review"));
    assert!(audit.iter().any(|(a, r, _)| a == "update" && r == "same_day_review"));
    let _ = (AuditAction::Read, AuditOutcome::Allowed);
    app.stop().await;
}
on_both_databases!(intake_same_day_review_banner, same_day_review_banner_until_disposition);

async fn form_sections_save_drafts_and_show_errors(db: Db) {
    let app = app_or_skip!(db);
    let token = app.token("prescriber", Role::Prescriber).await;
    app.add_staff("nurse", Role::Nurse).await;
    let id = register(&app, &token).await;
    let nurse = app.client();
    app.login(&nurse, "nurse").await;
    let page = nurse.get(app.url(&format!("/patients/{id}/intake?section=vitals"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let r = nurse
        .post(app.url(&format!("/patients/{id}/intake/vitals")))
        .header("origin", &app.base_url)
        .form(&[("bp", "80/120"), ("weight_kg", "70"), ("action", "draft")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("bp-error"), "field error shown");
    assert!(html.contains("value=\"70\""), "typed values kept");
    let r = nurse
        .post(app.url(&format!("/patients/{id}/intake/vitals")))
        .header("origin", &app.base_url)
        .form(&[("bp", "122/78"), ("weight_kg", "70"), ("height_cm", "175"), ("action", "next")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().contains("section=workup"));
    let page = nurse
        .get(app.url(&format!("/patients/{id}/intake?section=vitals")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("22.9 kg/m²"), "BMI computed");
    let e = eligibility(&app, &token, &id).await;
    assert_eq!(e["status"], "incomplete");
    let rules = nurse.get(app.url("/eligibility/rules")).send().await.unwrap().text().await.unwrap();
    for rule in ["IND-001", "CI-007", "RCI-012", "DDI-010", "PRE-010"] {
        assert!(rules.contains(rule), "{rule}");
    }
    app.stop().await;
}
on_both_databases!(intake_form_sections_and_errors, form_sections_save_drafts_and_show_errors);

async fn demo_clinic_has_every_screening_outcome(db: Db) {
    let app = app_or_skip!(db);
    kat::demo::seed(app.store.as_ref(), app.now(), &TimeZone::UTC).await.unwrap();
    let ctx = Ctx::cli(app.now(), &TimeZone::UTC);
    let mut statuses = Vec::new();
    let mut tx = app.store.begin().await.unwrap();
    for pid in tx.patients_with_intake().await.unwrap() {
        statuses.push(tx.latest_evaluation(pid).await.unwrap().unwrap().status);
    }
    assert_eq!(tx.count_open_same_day_flags().await.unwrap(), 1);
    drop(tx);
    for s in ["eligible", "needs_review", "excluded", "incomplete"] {
        assert!(statuses.iter().any(|x| x == s), "{s}: {statuses:?}");
    }
    let md = users::find(app.store.as_ref(), "prescriber").await.unwrap().unwrap();
    assert!(intake::is_medical_director(app.store.as_ref(), md.id).await.unwrap());
    let _ = ctx;
    app.stop().await;
}
on_both_databases!(intake_demo_clinic_outcomes, demo_clinic_has_every_screening_outcome);

/// The intake history page lists every version with who saved which section when
/// (an audited read), and the medication table shows the interaction classes kat
/// applies to each drug.
async fn history_page_and_medication_classes(db: Db) {
    let app = app_or_skip!(db);
    let token = app.token("prescriber", Role::Prescriber).await;
    app.add_staff("nurse", Role::Nurse).await;
    let id = register(&app, &token).await;
    let nurse = app.client();
    app.login(&nurse, "nurse").await;
    let empty = nurse.get(app.url(&format!("/patients/{id}/intake/history"))).send().await.unwrap();
    assert_eq!(empty.status(), 200);
    assert!(empty.text().await.unwrap().contains("Nothing saved yet"));
    for (section, fields) in [
        ("vitals", vec![("bp", "122/78"), ("action", "draft")]),
        (
            "medications",
            vec![
                ("med1_name", "lorazepam"),
                ("med1_dose_mg", "1"),
                ("med2_name", "sertraline"),
                ("med3_name", "herbal tea"),
                ("action", "draft"),
            ],
        ),
    ] {
        let r = nurse
            .post(app.url(&format!("/patients/{id}/intake/{section}")))
            .header("origin", &app.base_url)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{section}");
    }
    let form = nurse
        .get(app.url(&format!("/patients/{id}/intake?section=medications")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains(&format!("href=\"/patients/{id}/intake/history\"")), "linked from the intake page");
    assert!(form.contains("Interaction class applied"));
    assert!(form.contains("<td class=\"computed-class\">benzodiazepine</td>"), "lorazepam");
    assert!(form.contains("<td class=\"computed-class\">oral antidepressant"), "sertraline");
    assert!(form.contains("<td class=\"computed-class\">not known to kat: choose its class</td>"));
    assert!(!form.contains("style="));
    let html =
        nurse.get(app.url(&format!("/patients/{id}/intake/history"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<td>2</td>") && html.contains("<td>1</td>"), "{html}");
    assert!(html.contains("Current medications") && html.contains("Baseline vitals"));
    assert!(html.contains("<td>nurse</td>"));
    assert!(!html.contains("style="));
    let audit = audit_for(&app, &id).await;
    assert!(audit.iter().any(|(a, r, o)| a == "read" && r == "intake_history" && o == "allowed"), "{audit:?}");
    // The front desk may not read the intake history.
    app.add_staff("desk", Role::FrontDesk).await;
    let desk = app.client();
    app.login(&desk, "desk").await;
    assert_eq!(desk.get(app.url(&format!("/patients/{id}/intake/history"))).send().await.unwrap().status(), 403);
    app.stop().await;
}
on_both_databases!(intake_history_page_and_medication_classes, history_page_and_medication_classes);
