//! Lists come a page at a time: the API's `page`/`limit` and `Link` header, the pages'
//! previous/next links.

use crate::support::{create_patient, staff_with_token};
use kat_core::role::Role;
use kat_it::{Db, app_or_skip, on_both_databases};
use serde_json::{Value, json};

fn link(r: &reqwest::Response) -> String {
    r.headers().get("link").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn patient_search_is_paged(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    for family in ["Able", "Baker", "Cole"] {
        create_patient(
            &app,
            &token,
            &json!({"given_name": "Ada", "family_name": family, "birth_date": "1984-03-07", "sex_at_birth": "female"}),
        )
        .await;
    }
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = app.url(&path);
        let token = token.clone();
        async move { http.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let families =
        |v: Vec<Value>| -> Vec<String> { v.iter().map(|p| p["family_name"].as_str().unwrap().to_string()).collect() };

    let r = get("/api/v1/patients?q=ada&limit=2".into()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(link(&r), r#"</api/v1/patients?q=ada&page=2&limit=2>; rel="next""#);
    assert_eq!(families(r.json().await.unwrap()), ["Able", "Baker"]);
    let r = get("/api/v1/patients?q=ada&page=2&limit=2".into()).await;
    assert_eq!(link(&r), r#"</api/v1/patients?q=ada&page=1&limit=2>; rel="prev""#);
    assert_eq!(families(r.json().await.unwrap()), ["Cole"]);
    // One page only: no Link header; a page past the end is empty, not an error.
    let r = get("/api/v1/patients?q=ada".into()).await;
    assert!(r.headers().get("link").is_none());
    assert_eq!(families(r.json().await.unwrap()).len(), 3);
    let r = get("/api/v1/patients?q=ada&page=9&limit=2".into()).await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Vec<Value>>().await.unwrap().is_empty());
    // The page size has a maximum: a bigger limit is clamped to it.
    let r = get("/api/v1/patients?limit=1000".into()).await;
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 3);
    // Worklist and timeline take the same parameters.
    let r = get("/api/v1/worklist?page=2&limit=5".into()).await;
    assert_eq!(r.status(), 200);

    // The page: previous and next links.
    app.add_staff("nina", Role::Nurse).await;
    let client = app.client();
    app.login(&client, "nina").await;
    let page = |path: &str| {
        let client = client.clone();
        let url = app.url(path);
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let one = page("/patients?q=ada").await;
    assert!(!one.contains("Next page"), "{one}");
    // 51 patients: two pages of at most 50.
    for i in 0..48 {
        create_patient(
            &app,
            &token,
            &json!({"given_name": "Zed", "family_name": format!("Zulu{i:02}"), "birth_date": "1990-01-02", "sex_at_birth": "male"}),
        )
        .await;
    }
    let first = page("/patients").await;
    assert!(first.contains(r#"rel="next" href="/patients?q=&#38;page=2""#), "{first}");
    assert!(!first.contains("Previous page"));
    let second = page("/patients?page=2").await;
    assert!(second.contains(r#"rel="prev" href="/patients?q=&#38;page=1""#), "{second}");
    assert!(second.contains("Zulu47") && !second.contains("Next page"), "{second}");
    app.stop().await;
}
on_both_databases!(patient_search_is_paged, patient_search_is_paged);
