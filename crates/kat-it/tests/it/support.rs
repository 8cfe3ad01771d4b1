//! Small helpers shared by the test modules.

use jiff::tz::TimeZone;
use kat_app::{Ctx, auth};
use kat_core::role::Role;
use kat_core::user::User;
use kat_it::TestApp;
use kat_store::ApiTokenRecord;
use serde_json::{Value, json};

/// A context acting as the server's operator, at the app's current time.
pub fn cli_ctx(app: &TestApp) -> Ctx {
    Ctx::cli(app.now(), &TimeZone::UTC)
}

/// A staff account of this role and a bearer token for it (with its record).
pub async fn staff_with_token(app: &TestApp, username: &str, role: Role) -> (User, ApiTokenRecord, String) {
    let user = app.add_staff(username, role).await;
    let (record, secret) = auth::create_token(app.store.as_ref(), &cli_ctx(app), &user, "test").await.expect("token");
    (user, record, secret)
}

pub fn ada() -> Value {
    json!({"given_name": "Ada", "family_name": "Quinn", "birth_date": "1984-03-07", "sex_at_birth": "female"})
}

/// Registers a patient over the API; returns the created document.
pub async fn create_patient(app: &TestApp, token: &str, body: &Value) -> Value {
    let r =
        reqwest::Client::new().post(app.url("/api/v1/patients")).bearer_auth(token).json(body).send().await.unwrap();
    assert_eq!(r.status(), 201, "create patient");
    r.json().await.unwrap()
}

/// How many patients an empty search lists (the registry is small in tests).
pub async fn patient_count(app: &TestApp, token: &str) -> usize {
    let r = reqwest::Client::new().get(app.url("/api/v1/patients?q=")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Vec<Value>>().await.unwrap().len()
}

/// The audit log as the API shows it to an admin, with an optional query string.
pub async fn audit(app: &TestApp, admin_token: &str, query: &str) -> Vec<Value> {
    let r = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/audit{query}")))
        .bearer_auth(admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "audit query {query}");
    r.json().await.unwrap()
}

/// The field names of a problem document's `errors`, in order.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

/// Asserts a 422 problem+json response and returns its body.
pub async fn expect_problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    body
}

/// The `kat_session` cookie value from a response's `Set-Cookie`, with the whole header.
pub fn session_set_cookie(r: &reqwest::Response) -> Option<(String, String)> {
    r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        // Plain http: `kat_session`; behind HTTPS: `__Host-kat_session`.
        let rest = v.strip_prefix("kat_session=").or_else(|| v.strip_prefix("__Host-kat_session="))?;
        Some((rest.split(';').next().unwrap_or_default().to_string(), v.to_string()))
    })
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Every audit entry about the patient (and every list view that showed the patient),
/// read from the store, newest first.
pub async fn audit_of_patient(app: &TestApp, patient: &str) -> Vec<kat_core::audit::AuditEntry> {
    let mut tx = app.store.begin_read().await.unwrap();
    let entries = tx
        .query_audit(&kat_core::audit::AuditFilter {
            patient_id: Some(patient.parse().unwrap()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    entries
}
