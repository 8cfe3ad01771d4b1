//! Health, security headers and the OpenAPI document.

use crate::support::staff_with_token;
use kat_core::role::Role;
use kat_it::{Db, app_or_skip, on_both_databases};
use serde_json::Value;

async fn health_names_the_database(db: Db) {
    let app = app_or_skip!(db);
    let r = reqwest::Client::new().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h: Value = r.json().await.unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        h["database"],
        match db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        }
    );
    assert!(h["migration_level"].as_i64().unwrap() >= 1, "{h}");
    app.stop().await;
}
on_both_databases!(health_names_the_database, health_names_the_database);

fn assert_security_headers(what: &str, r: &reqwest::Response) {
    let h = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let csp = h("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
    assert_eq!(h("x-frame-options").as_deref(), Some("DENY"), "{what}");
    assert!(h("x-request-id").is_some_and(|v| !v.is_empty()), "{what}: no request id");
}

async fn every_response_has_security_headers(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let anon = app.client();
    let http = reqwest::Client::new();
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("health", anon.get(app.url("/healthz"))),
        ("login page", anon.get(app.url("/login"))),
        ("redirect to login", anon.get(app.url("/"))),
        ("static file", anon.get(app.url("/static/kat.css"))),
        ("missing static file", anon.get(app.url("/static/nope.js"))),
        ("404 page", anon.get(app.url("/nowhere"))),
        ("404 api", http.get(app.url("/api/v1/nowhere")).bearer_auth(&token)),
        ("openapi", anon.get(app.url("/api/openapi.json"))),
        ("api 200", http.get(app.url("/api/v1/patients")).bearer_auth(&token)),
        ("api 401", http.get(app.url("/api/v1/patients"))),
        ("api 403", http.get(app.url("/api/v1/audit")).bearer_auth(&token)),
        ("api 422", http.post(app.url("/api/v1/patients")).bearer_auth(&token).json(&serde_json::json!({}))),
        (
            "failed login",
            anon.post(app.url("/login")).header("origin", &app.base_url).form(&[("username", "x"), ("password", "y")]),
        ),
        ("csrf 403", anon.post(app.url("/logout")).header("origin", "https://evil.example")),
    ];
    for (what, req) in cases {
        let r = req.send().await.unwrap();
        assert_security_headers(&format!("{what} ({})", r.status()), &r);
    }
    // Pages with patient data are never cached.
    let r = http.get(app.url("/api/v1/patients")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    app.stop().await;
}
on_both_databases!(every_response_has_security_headers, every_response_has_security_headers);

#[tokio::test]
async fn openapi_document_is_stable_and_every_operation_is_secured() {
    // The document does not depend on the database.
    let app = kat_it::spawn_app(Db::Sqlite, kat_it::Options::default()).await.expect("sqlite app");
    let r = reqwest::Client::new().get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    let doc: Value = r.json().await.unwrap();
    app.stop().await;

    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    let mut operations = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path} is outside /api/v1");
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let security = op["security"].as_array().unwrap_or_else(|| panic!("{method} {path}: no security"));
            assert!(security.iter().any(|s| s.get("bearer").is_some()), "{method} {path}: {security:?}");
            // The shared statuses (api::contract): every operation may refuse credentials
            // (401) and the caller (403); an id in the path may name nothing (404); a body
            // may be too large (413) or invalid (422), and so may a query.
            let responses = op["responses"].as_object().unwrap();
            let declares = |status: &str| responses.contains_key(status);
            for status in ["401", "403"] {
                assert!(declares(status), "{method} {path} does not declare {status}");
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                assert!(declares("404"), "{method} {path} does not declare 404");
            }
            if params.iter().any(|p| p["in"] == "query") {
                assert!(declares("422"), "{method} {path} does not declare 422");
            }
            if op.get("requestBody").is_some() {
                for status in ["413", "422"] {
                    assert!(declares(status), "{method} {path} does not declare {status}");
                }
            }
            for (status, response) in responses {
                assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
                if status.starts_with('4') {
                    assert!(
                        response["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status} is not a problem document"
                    );
                }
            }
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
        }
    }
    // Registry 4, audit 1, intake and eligibility 4, measures and alerts 5, therapy 18
    // (break-glass included),
    // dosing 22 (plans 3, session 5, vitals and alarms 2, adverse events, interventions,
    // CADSS-6, dose order, floor board, REMS form, worklist, fields and submitted 4, gate
    // interactions, dose suggestion, transfer to emergency care).
    assert_eq!(operations, 14 + 18 + 22, "every documented operation was checked");
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op.get("operationId").and_then(Value::as_str))
        .collect();
    assert_eq!(ids.len(), operations, "every operation has an operationId");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), operations, "operationIds are unique (OpenAPI requires it)");
    // The same document as the library builds.
    let built = serde_json::to_value(kat_web::openapi_document()).unwrap();
    assert_eq!(built, doc);

    insta::assert_json_snapshot!("openapi", doc, { ".info.version" => "[version]" });
}
