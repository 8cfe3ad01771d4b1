//! The JSON API seen from a browser without a token.

use crate::support::app;
use kat_e2e::{Browser, Options, e2e_or_skip};

#[tokio::test]
async fn api_without_token() {
    e2e_or_skip!();
    let app = app(Options::default()).await;
    let b = Browser::start("api_without_token").await;
    b.goto(&app.url("/api/v1/patients")).await;
    // The API never redirects to the login page; it answers with problem JSON.
    assert_eq!(b.path().await, "/api/v1/patients");
    let body = b.body_text().await;
    assert!(body.contains("Authentication required"), "browser shows: {body}");
    let problem: serde_json::Value = serde_json::from_str(body.trim()).expect("the page is JSON");
    assert_eq!(problem["status"], 401, "problem: {problem}");
    b.screenshot("problem").await;

    let r = reqwest::get(app.url("/api/v1/patients")).await.expect("request");
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(ct.starts_with("application/problem+json"), "content type: {ct}");
    b.finish().await;
    app.stop().await;
}
