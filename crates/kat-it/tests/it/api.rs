use kat_core::role::Role;
use kat_it::{Db, app_or_skip, on_both_databases};
use serde_json::{Value, json};

async fn create_read_search_patch(db: Db) {
    let app = app_or_skip!(db);
    let token = app.token("registrar", Role::FrontDesk).await;
    let http = reqwest::Client::new();
    let created = http
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Ada", "family_name": "Quinn", "birth_date": "1984-03-07", "sex_at_birth": "female"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let p: Value = created.json().await.unwrap();
    assert_eq!(p["mrn"], "KAT-000001");
    let id = p["id"].as_str().unwrap().to_string();
    let read: Value = http.get(app.url(&format!("/api/v1/patients/{id}"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["given_name"], "Ada");
    let found: Value = http.get(app.url("/api/v1/patients?q=quin")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let patched = http
        .patch(app.url(&format!("/api/v1/patients/{id}")))
        .bearer_auth(&token)
        .json(&json!({"phone": "+1 555 010 7777", "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["phone"], "+1 555 010 7777");
    assert_eq!(patched["version"], 2);
    app.stop().await;
}
on_both_databases!(patients_round_trip, create_read_search_patch);
