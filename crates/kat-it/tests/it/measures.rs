//! Measurement-based care over HTTP: responses scored through the API and the pages,
//! incomplete responses, safety alerts, self-report links (expiry, single use), role
//! checks and audit entries.

use jiff::SignedDuration;
use kat_core::audit::{AuditAction, AuditFilter, AuditOutcome};
use kat_core::ids::PatientId;
use kat_core::role::Role;
use kat_it::{Db, Options, TestApp, app_or_skip, on_both_databases};
use serde_json::{Value, json};

async fn new_patient(app: &TestApp, token: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(token)
        .json(
            &json!({"given_name": "Ada", "family_name": "Quinn", "birth_date": "1984-03-07", "sex_at_birth": "female"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["id"].as_str().unwrap().to_string()
}

async fn audit_of(app: &TestApp, patient: &str) -> Vec<(AuditAction, String, AuditOutcome)> {
    let mut tx = app.store.begin().await.unwrap();
    let filter =
        AuditFilter { patient_id: Some(patient.parse::<PatientId>().unwrap()), limit: 500, ..Default::default() };
    tx.query_audit(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.entry.action, e.entry.resource_type, e.entry.outcome))
        .collect()
}

async fn api_scores_alerts_and_roles(db: Db) {
    let app = app_or_skip!(db);
    let nurse = app.token("nurse.api", Role::Nurse).await;
    let desk = app.token("desk.api", Role::FrontDesk).await;
    let http = reqwest::Client::new();
    let id = new_patient(&app, &nurse).await;
    let url = app.url(&format!("/api/v1/patients/{id}/responses"));

    // Complete PHQ-9 with item 9 = 1: scored, one alert.
    let r = http
        .post(&url)
        .bearer_auth(&nurse)
        .json(&json!({"instrument": "phq9", "answers": [2,2,2,2,2,1,1,1,1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["total"], 14);
    assert_eq!(body["band"], "moderate");
    assert_eq!(body["complete"], true);
    assert_eq!(body["source"], "clinician");
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1, "raised exactly once");

    // Item 9 missing: incomplete, no total, flagged, never counted as 0 and no alert.
    let r = http
        .post(&url)
        .bearer_auth(&nurse)
        .json(&json!({"instrument": "phq9", "answers": [0,0,0,0,0,0,0,0,null]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["complete"], false);
    assert_eq!(body["total"], Value::Null);
    assert_eq!(body["band"], Value::Null);
    assert!(body["flags"].as_array().unwrap().contains(&json!("safety_item_missing")));
    assert!(body.get("alerts").is_none());

    // Out of range: 422 problem+json naming the item.
    let r = http
        .post(&url)
        .bearer_auth(&nurse)
        .json(&json!({"instrument": "phq9", "answers": [4,0,0,0,0,0,0,0,0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "item_1");

    // The front desk may send a link but not read answers.
    let r = http.get(&url).bearer_auth(&desk).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(app.url(&format!("/api/v1/patients/{id}/self-report-links")))
        .bearer_auth(&desk)
        .json(&json!({"instruments": ["phq9", "gad7"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let link: Value = r.json().await.unwrap();
    assert_eq!(link["token"].as_str().unwrap().len(), 64, "256-bit token");
    assert_eq!(http.get(app.url("/api/v1/alerts")).bearer_auth(&desk).send().await.unwrap().status(), 403);
    let list: Value = http.get(&url).bearer_auth(&nurse).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // The alert stays open until acknowledged with an action.
    let alerts: Value =
        http.get(app.url("/api/v1/alerts")).bearer_auth(&nurse).send().await.unwrap().json().await.unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    let alert_id = alerts[0]["id"].as_str().unwrap().to_string();
    let ack = app.url(&format!("/api/v1/alerts/{alert_id}/acknowledge"));
    let r = http.post(&ack).bearer_auth(&nurse).json(&json!({"note": "called"})).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "action");
    let r = http.post(&ack).bearer_auth(&nurse).json(&json!({"action": "other"})).send().await.unwrap();
    assert_eq!(r.status(), 422, "other needs a note");
    let r = http
        .post(&ack)
        .bearer_auth(&nurse)
        .json(&json!({"action": "safety_plan_reviewed", "note": "spoke by phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["action"], "safety_plan_reviewed");
    let r =
        http.post(&ack).bearer_auth(&nurse).json(&json!({"action": "other", "note": "again"})).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let alerts: Value =
        http.get(app.url("/api/v1/alerts")).bearer_auth(&nurse).send().await.unwrap().json().await.unwrap();
    assert!(alerts.as_array().unwrap().is_empty());

    let audit = audit_of(&app, &id).await;
    let has = |a: AuditAction, t: &str, o: AuditOutcome| audit.iter().any(|e| e.0 == a && e.1 == t && e.2 == o);
    assert!(has(AuditAction::Create, "measure_response", AuditOutcome::Allowed));
    assert!(has(AuditAction::Create, "safety_alert", AuditOutcome::Allowed));
    assert!(has(AuditAction::Update, "safety_alert", AuditOutcome::Allowed));
    assert!(has(AuditAction::Read, "measure_response", AuditOutcome::Allowed));
    assert!(has(AuditAction::Read, "measure_response", AuditOutcome::Denied), "the front desk's refusal is audited");
    assert!(has(AuditAction::Create, "self_report_link", AuditOutcome::Allowed));
    app.stop().await;
}
on_both_databases!(measures_api_scores_alerts_and_roles, api_scores_alerts_and_roles);

fn phq9_form(item9: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = (1..=8).map(|i| (format!("phq9_{i}"), "1".to_string())).collect();
    f.push(("phq9_9".into(), item9.into()));
    f
}

async fn self_report_links(db: Db) {
    let start: jiff::Timestamp = "2026-03-02T14:00:00Z".parse().unwrap();
    let app = app_or_skip!(db, Options { manual_clock: Some(start), ..Default::default() });
    let nurse = app.token("nurse.link", Role::Nurse).await;
    let http = app.client();
    let id = new_patient(&app, &nurse).await;
    let make = || async {
        let l: Value = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/patients/{id}/self-report-links")))
            .bearer_auth(&nurse)
            .json(&json!({"instruments": ["phq9"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        l["path"].as_str().unwrap().to_string()
    };
    let path = make().await;
    let page = http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Little interest or pleasure in doing things"));
    assert!(!html.contains("Sign out"), "no staff chrome on the patient's page");

    // Submits once (no sign-in; same-origin form post).
    let r = http.post(app.url(&path)).header("origin", &app.base_url).form(&phq9_form("2")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("988"), "crisis resources on the confirmation page");
    let r = http.post(app.url(&path)).header("origin", &app.base_url).form(&phq9_form("0")).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("already been sent"));
    assert_eq!(http.get(app.url(&path)).send().await.unwrap().status(), 410);

    let stored: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}/responses")))
        .bearer_auth(&nurse)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored.as_array().unwrap().len(), 1, "the reused link saved nothing");
    assert_eq!(stored[0]["source"], "self_report");
    assert_eq!(stored[0]["total"], 10);
    let mut tx = app.store.begin().await.unwrap();
    assert_eq!(tx.count_open_alerts().await.unwrap(), 1, "item 9 = 2 raised the alert");
    drop(tx);

    // Issue 11 item 11: a PHQ-9 with only item 1 answered is not sent at once: the page
    // asks to confirm the skipped questions (item 9 on its own), keeps the answer given
    // and spends nothing; confirmed, it is stored as incomplete and never scored.
    let path3 = make().await;
    let only_first = [("phq9_1", "2")];
    let r = http.post(app.url(&path3)).header("origin", &app.base_url).form(&only_first).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Some questions are not answered yet"), "{html}");
    assert!(html.contains("PHQ-9: questions 2, 3, 4, 5, 6, 7, 8, 9"), "{html}");
    assert!(html.contains("PHQ-9 question 9</strong> asks"), "item 9 has its own prompt");
    assert!(html.contains("name=\"confirm_skipped\" value=\"yes\""));
    assert!(html.contains("name=\"phq9_1\" value=\"2\" checked"), "the answer given is kept");
    assert_eq!(http.get(app.url(&path3)).send().await.unwrap().status(), 200, "the link is still open");
    let confirmed = [("phq9_1", "2"), ("confirm_skipped", "yes")];
    let r = http.post(app.url(&path3)).header("origin", &app.base_url).form(&confirmed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("your answers were sent"));
    let stored: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}/responses")))
        .bearer_auth(&nurse)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let incomplete = stored.as_array().unwrap().iter().find(|r| r["complete"] == false).expect("stored incomplete");
    assert!(incomplete["total"].is_null(), "an incomplete response has no total: {incomplete}");

    // A bad answer re-renders the page and spends nothing.
    let path2 = make().await;
    let r = http.post(app.url(&path2)).header("origin", &app.base_url).form(&phq9_form("7")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Item 9 must be between 0 and 3"));
    // Expiry (default 72 h, a policy key).
    app.advance(SignedDuration::from_hours(72));
    let r = http.get(app.url(&path2)).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("expired"));
    let r = http.post(app.url(&path2)).header("origin", &app.base_url).form(&phq9_form("0")).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(http.get(app.url("/r/not-a-token")).send().await.unwrap().status(), 410);
    app.stop().await;
}
on_both_databases!(measures_self_report_link_expiry_and_single_use, self_report_links);

async fn pages_enter_banner_and_acknowledge(db: Db) {
    let app = app_or_skip!(db);
    let registrar = app.token("desk.pages", Role::FrontDesk).await;
    app.add_staff("nurse.pages", Role::Nurse).await;
    app.add_staff("desk.two", Role::FrontDesk).await;
    let id = new_patient(&app, &registrar).await;
    let nurse = app.client();
    app.login(&nurse, "nurse.pages").await;
    let form = app.url(&format!("/patients/{id}/measures/new?instrument=phq9"));
    let html = nurse.get(&form).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("type=\"radio\" name=\"item_9\""));
    assert!(!html.contains("style="), "CSP: no inline styles");

    // Incomplete save from the page.
    let mut fields: Vec<(String, String)> = vec![("instrument".into(), "phq9".into())];
    fields.extend((1..=8).map(|i| (format!("item_{i}"), "3".to_string())));
    let post = app.url(&format!("/patients/{id}/measures"));
    let r = nurse.post(&post).header("origin", &app.base_url).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().contains("measure=incomplete"));
    // Complete with item 9 = 1 raises the banner on every staff page for clinicians.
    fields.push(("item_9".into(), "1".into()));
    let r = nurse.post(&post).header("origin", &app.base_url).form(&fields).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("alert=1"));
    let home = nurse.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("1 urgent safety alert not yet acknowledged"));
    let patients = nurse.get(app.url("/patients")).send().await.unwrap().text().await.unwrap();
    assert!(patients.contains("safety-banner"));
    let desk = app.client();
    app.login(&desk, "desk.two").await;
    let desk_home = desk.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!desk_home.contains("safety-banner"), "not for the front desk");
    let desk_patient = desk.get(app.url(&format!("/patients/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(!desk_patient.contains("Latest scores"), "the front desk does not see answers");
    assert!(desk_patient.contains("Create one-time link"));

    // The patient page: scores, outcome definitions, chart.
    let show = nurse.get(app.url(&format!("/patients/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(show.contains("<svg class=\"chart\""));
    assert!(show.contains("Latest scores"));
    assert!(!show.contains("style="));

    // Acknowledge: the action is required.
    let alerts = nurse.get(app.url("/alerts")).send().await.unwrap().text().await.unwrap();
    let start = alerts.find("href=\"/alerts/").unwrap() + "href=\"".len();
    let href = &alerts[start..start + alerts[start..].find('"').unwrap()];
    let r = nurse.post(app.url(href)).header("origin", &app.base_url).form(&[("note", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("choose what was done"));
    let r = nurse
        .post(app.url(href))
        .header("origin", &app.base_url)
        .form(&[("action", "crisis_resources_given"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let home = nurse.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("safety-banner"));
    app.stop().await;
}
on_both_databases!(measures_pages_enter_banner_and_acknowledge, pages_enter_banner_and_acknowledge);

/// The demo clinic shows response, remission and relapse with their definitions and
/// has exactly one open safety alert.
async fn demo_clinic_measures(db: Db) {
    let app = app_or_skip!(db);
    let now = app.now();
    kat::demo::seed(app.store.as_ref(), now, &jiff::tz::TimeZone::UTC).await.unwrap();
    let mut tx = app.store.begin().await.unwrap();
    assert_eq!(tx.count_open_alerts().await.unwrap(), 1);
    assert_eq!(tx.list_plans().await.unwrap().len(), 4);
    drop(tx);
    let nurse = app.client();
    let r = nurse
        .post(app.url("/login"))
        .header("origin", &app.base_url)
        .form(&[("username", "nurse"), ("password", kat::demo::DEMO_ACCOUNTS[2].3), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let list = nurse.get(app.url("/patients?q=Lindqvist")).send().await.unwrap().text().await.unwrap();
    let start = list.find("href=\"/patients/0").or_else(|| list.find("href=\"/patients/")).unwrap() + "href=\"".len();
    let href = list[start..start + list[start..].find('"').unwrap()].to_string();
    let avery = nurse.get(app.url(&href)).send().await.unwrap().text().await.unwrap();
    assert!(avery.contains("Remission: Yes"), "Avery remitted");
    assert!(avery.contains("RESP-003"));
    assert!(avery.contains("<svg class=\"chart\""));
    let list = nurse.get(app.url("/patients?q=Okafor")).send().await.unwrap().text().await.unwrap();
    let start = list.find("href=\"/patients/0").or_else(|| list.find("href=\"/patients/")).unwrap() + "href=\"".len();
    let href = list[start..start + list[start..].find('"').unwrap()].to_string();
    let marcus = nurse.get(app.url(&href)).send().await.unwrap().text().await.unwrap();
    assert!(marcus.contains("Relapse: Relapse"), "Marcus relapsed (REL-003)");
    let worklist = nurse.get(app.url("/measures/worklist")).send().await.unwrap();
    assert_eq!(worklist.status(), 200);
    app.stop().await;
}
on_both_databases!(measures_demo_clinic, demo_clinic_measures);

/// A clinic's licensed C-SSRS text (`measures.cssrs_text_file`) replaces the construct
/// labels on the clinician entry form, with the licence notice; without it the labels show.
async fn licensed_cssrs_text_on_the_form(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cssrs.toml");
    std::fs::write(&file, "stem = \"Licensed stem wording\"\n\"1\" = \"Licensed wording of item one\"\n\"6b\" = \"Licensed wording of item six b\"\n").unwrap();
    let mut settings = kat::settings::Settings::default();
    settings.measures.cssrs_text_file = file.to_str().unwrap().to_string();
    let config = settings.web_config(false).unwrap();
    let app = app_or_skip!(db, Options { config, ..Default::default() });
    let registrar = app.token("desk.cssrs", Role::FrontDesk).await;
    app.add_staff("nurse.cssrs", Role::Nurse).await;
    let id = new_patient(&app, &registrar).await;
    let nurse = app.client();
    app.login(&nurse, "nurse.cssrs").await;
    let html = nurse
        .get(app.url(&format!("/patients/{id}/measures/new?instrument=cssrs_screener")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Licensed wording of item one"), "{html}");
    assert!(html.contains("Licensed wording of item six b"));
    assert!(html.contains("Licensed stem wording"));
    assert!(html.contains("Licensed wording loaded by your clinic"));
    assert!(html.contains(kat_core::instruments::Instrument::CssrsScreener.def().copyright.split('.').next().unwrap()));
    let label2 = kat_core::instruments::Instrument::CssrsScreener.def().items[1].text.as_str();
    assert!(html.contains(label2), "item 2 keeps its construct label");
    let label1 = kat_core::instruments::Instrument::CssrsScreener.def().items[0].text.as_str();
    assert!(!html.contains(&format!("</span> {label1}")), "item 1's label is replaced");
    app.stop().await;

    // Without a file: construct labels and the licence warning, as before.
    let app = app_or_skip!(db);
    let registrar = app.token("desk.cssrs", Role::FrontDesk).await;
    app.add_staff("nurse.cssrs", Role::Nurse).await;
    let id = new_patient(&app, &registrar).await;
    let nurse = app.client();
    app.login(&nurse, "nurse.cssrs").await;
    let html = nurse
        .get(app.url(&format!("/patients/{id}/measures/new?instrument=cssrs_screener")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(label1));
    assert!(html.contains("Construct labels only"));
    assert!(!html.contains("Licensed wording"));
    app.stop().await;
}
on_both_databases!(measures_licensed_cssrs_text_on_the_form, licensed_cssrs_text_on_the_form);

/// `[measures.outcome]` from the configuration reaches scoring: with the PCL-5 cut-off
/// at 31 a total of 32 is "probable PTSD"; with the default 33 it is below the cut-off.
async fn configured_pcl5_cutoff_is_used(db: Db) {
    let answers = json!({"instrument": "pcl5", "answers": [2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,0,0,0,0]});
    for (cutoff, band) in [(31, "probable_ptsd"), (33, "below_cutoff")] {
        let mut settings = kat::settings::Settings::default();
        settings.measures.outcome.pcl5_cutoff = cutoff;
        let config = settings.web_config(false).unwrap();
        let app = app_or_skip!(db, Options { config, ..Default::default() });
        let nurse = app.token("nurse.pcl5", Role::Nurse).await;
        let id = new_patient(&app, &nurse).await;
        let r = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/patients/{id}/responses")))
            .bearer_auth(&nurse)
            .json(&answers)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["total"], 32);
        assert_eq!(body["band"], band, "cut-off {cutoff}");
        app.stop().await;
    }
}
on_both_databases!(measures_configured_pcl5_cutoff_is_used, configured_pcl5_cutoff_is_used);
