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
        .json(
            &json!({"given_name": "Ada", "family_name": "Quinn", "birth_date": "1984-03-07", "sex_at_birth": "female"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let p: Value = created.json().await.unwrap();
    assert_eq!(p["mrn"], "KAT-000001");
    let id = p["id"].as_str().unwrap().to_string();
    let read: Value = http
        .get(app.url(&format!("/api/v1/patients/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["given_name"], "Ada");
    let found: Value =
        http.get(app.url("/api/v1/patients?q=quin")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
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

use crate::support::{ada, create_patient, expect_problem, patient_count, problem_fields, staff_with_token};
use kat_it::TestApp;

async fn post_patient(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new().post(app.url("/api/v1/patients")).bearer_auth(token).json(body).send().await.unwrap()
}

async fn create_assigns_sequential_mrns_and_location(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let r = post_patient(&app, &token, &ada()).await;
    assert_eq!(r.status(), 201);
    let loc = r.headers().get("location").expect("Location").to_str().unwrap().to_string();
    let first: Value = r.json().await.unwrap();
    let id = first["id"].as_str().expect("id");
    uuid::Uuid::parse_str(id).expect("id is a uuid");
    assert_eq!(loc, format!("/api/v1/patients/{id}"));
    assert_eq!(first["mrn"], "KAT-000001");
    assert_eq!(first["version"], 1);
    assert_eq!(first["phone"], Value::Null);
    let second = create_patient(
        &app,
        &token,
        &json!({"given_name": "Bo", "family_name": "Ng", "birth_date": "1990-01-02", "sex_at_birth": "m"}),
    )
    .await;
    assert_eq!(second["mrn"], "KAT-000002");
    assert_eq!(second["sex_at_birth"], "male");
    assert_ne!(second["id"], first["id"]);
    // The Location resolves to the same patient.
    let read: Value =
        reqwest::Client::new().get(app.url(&loc)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["mrn"], "KAT-000001");
    app.stop().await;
}
on_both_databases!(create_assigns_sequential_mrns_and_location, create_assigns_sequential_mrns_and_location);

async fn invalid_input_names_every_field_and_saves_nothing(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    create_patient(&app, &token, &ada()).await;
    assert_eq!(patient_count(&app, &token).await, 1);

    // Three bad fields → three entries, each naming its field.
    let r =
        post_patient(&app, &token, &json!({"family_name": "Quinn", "birth_date": "1984-13-01", "sex_at_birth": "x"}))
            .await;
    let p = expect_problem(r, 422).await;
    let mut fields = problem_fields(&p);
    fields.sort();
    assert_eq!(fields, ["birth_date", "given_name", "sex_at_birth"], "{p}");
    assert!(p["errors"].as_array().unwrap().iter().all(|e| !e["message"].as_str().unwrap().is_empty()));

    // An unknown field and a wrong JSON type are named.
    let mut body = ada();
    body["favourite_colour"] = json!("blue");
    body["phone"] = json!(5550100);
    let p = expect_problem(post_patient(&app, &token, &body).await, 422).await;
    let mut fields = problem_fields(&p);
    fields.sort();
    assert_eq!(fields, ["favourite_colour", "phone"], "{p}");
    let msg = |f: &str| {
        p["errors"].as_array().unwrap().iter().find(|e| e["field"] == f).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(msg("favourite_colour").contains("not a known field"));
    assert!(msg("phone").contains("string"));

    // Malformed JSON names `body`.
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"given_name\": \"Ada\",")
        .send()
        .await
        .unwrap();
    let p = expect_problem(r, 422).await;
    assert_eq!(problem_fields(&p), ["body"], "{p}");
    // So does a JSON value that is not an object.
    let p = expect_problem(post_patient(&app, &token, &json!(["Ada"])).await, 422).await;
    assert_eq!(problem_fields(&p), ["body"], "{p}");

    // Nothing was half-saved: still one patient, and the next MRN is the next number.
    assert_eq!(patient_count(&app, &token).await, 1);
    let next = create_patient(
        &app,
        &token,
        &json!({"given_name": "Bo", "family_name": "Ng", "birth_date": "1990-01-02", "sex_at_birth": "male"}),
    )
    .await;
    assert_eq!(next["mrn"], "KAT-000002");
    app.stop().await;
}
on_both_databases!(
    invalid_input_names_every_field_and_saves_nothing,
    invalid_input_names_every_field_and_saves_nothing
);

async fn read_by_id_or_404(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "nurse", Role::Nurse).await;
    let p = create_patient(&app, &token, &ada()).await;
    let http = reqwest::Client::new();
    let ok = http
        .get(app.url(&format!("/api/v1/patients/{}", p["id"].as_str().unwrap())))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body, p);
    for path in [format!("/api/v1/patients/{}", uuid::Uuid::now_v7()), "/api/v1/patients/not-a-uuid".to_string()] {
        let r = http.get(app.url(&path)).bearer_auth(&token).send().await.unwrap();
        expect_problem(r, 404).await;
    }
    app.stop().await;
}
on_both_databases!(read_by_id_or_404, read_by_id_or_404);

async fn search_ids(app: &TestApp, token: &str, q: &str) -> Vec<Value> {
    let r = reqwest::Client::new()
        .get(app.url("/api/v1/patients"))
        .query(&[("q", q)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Vec<Value>>().await.unwrap().into_iter().map(|p| p["id"].clone()).collect()
}

async fn search_by_name_dob_and_mrn(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let ada = create_patient(&app, &token, &ada()).await;
    let bo = create_patient(
        &app,
        &token,
        &json!({"given_name": "Bo", "family_name": "Ng", "birth_date": "1990-01-02", "sex_at_birth": "male"}),
    )
    .await;
    assert_eq!(search_ids(&app, &token, "qui").await, [ada["id"].clone()]);
    assert_eq!(search_ids(&app, &token, "ADA").await, [ada["id"].clone()]);
    assert_eq!(search_ids(&app, &token, "1990-01-02").await, [bo["id"].clone()]);
    assert_eq!(search_ids(&app, &token, "KAT-000002").await, [bo["id"].clone()]);
    assert_eq!(search_ids(&app, &token, "kat-000001").await, [ada["id"].clone()]);
    assert!(search_ids(&app, &token, "zebra").await.is_empty());
    assert!(search_ids(&app, &token, "1984-03-08").await.is_empty());
    assert_eq!(search_ids(&app, &token, "").await.len(), 2);
    app.stop().await;
}
on_both_databases!(search_by_name_dob_and_mrn, search_by_name_dob_and_mrn);

async fn patch_merges_clears_and_detects_stale_versions(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "nurse", Role::Nurse).await;
    let mut body = ada();
    body["phone"] = json!("+1 555 010 7777");
    body["email"] = json!("ada@example.org");
    let p = create_patient(&app, &token, &body).await;
    let url = app.url(&format!("/api/v1/patients/{}", p["id"].as_str().unwrap()));
    let http = reqwest::Client::new();
    let patch = |b: Value| http.patch(&url).bearer_auth(&token).json(&b).send();

    // null clears an optional field; absent fields stay.
    let r = patch(json!({"phone": null, "version": 1})).await.unwrap();
    assert_eq!(r.status(), 200);
    let v2: Value = r.json().await.unwrap();
    assert_eq!(v2["phone"], Value::Null);
    assert_eq!(v2["email"], "ada@example.org");
    assert_eq!(v2["given_name"], "Ada");
    assert_eq!(v2["version"], 2);

    // A required field cannot be cleared; nothing changes.
    let p422 = expect_problem(patch(json!({"given_name": null, "email": "new@example.org"})).await.unwrap(), 422).await;
    assert_eq!(problem_fields(&p422), ["given_name"], "{p422}");
    // A bad version type is named.
    let pv = expect_problem(patch(json!({"version": "two"})).await.unwrap(), 422).await;
    assert_eq!(problem_fields(&pv), ["version"], "{pv}");
    let now: Value = http.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["version"], 2);
    assert_eq!(now["email"], "ada@example.org");

    // A stale version is a conflict and changes nothing.
    let c = expect_problem(patch(json!({"family_name": "Other", "version": 1})).await.unwrap(), 409).await;
    assert!(c["detail"].as_str().unwrap().contains("changed by someone else"), "{c}");
    let now: Value = http.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["family_name"], "Quinn");
    assert_eq!(now["version"], 2);

    // Without a version the patch applies to the current one.
    let r = patch(json!({"family_name": "Quinn-Smith"})).await.unwrap();
    assert_eq!(r.status(), 200);
    let v3: Value = r.json().await.unwrap();
    assert_eq!(v3["family_name"], "Quinn-Smith");
    assert_eq!(v3["version"], 3);

    // Unknown patient.
    let r = http
        .patch(app.url(&format!("/api/v1/patients/{}", uuid::Uuid::now_v7())))
        .bearer_auth(&token)
        .json(&json!({"phone": null}))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404).await;
    app.stop().await;
}
on_both_databases!(patch_merges_clears_and_detects_stale_versions, patch_merges_clears_and_detects_stale_versions);

/// Every refusal of the API's extractors is a problem document with a documented status,
/// naming the field: query strings, paths, bodies that are not JSON, too large, or that
/// hold control characters.
#[tokio::test]
async fn extractor_rejections_are_problems() {
    let app = kat_it::spawn_app(Db::Sqlite, kat_it::Options::default()).await.expect("sqlite app");
    let (_, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let (_, _, admin) = staff_with_token(&app, "root", Role::Admin).await;
    let http = reqwest::Client::new();
    let url = |path: &str| app.url(path);

    let r = http.get(url("/api/v1/patients?limit=ten")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(problem_fields(&expect_problem(r, 422).await), ["limit"]);
    let r = http.get(url("/api/v1/patients?page=-1")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(problem_fields(&expect_problem(r, 422).await), ["page"]);

    // A path segment that is not even UTF-8 names nothing.
    let r = http.get(url("/api/v1/patients/%FF%FE")).bearer_auth(&token).send().await.unwrap();
    expect_problem(r, 404).await;

    let post = |body: &'static str, content_type: &'static str| {
        http.post(url("/api/v1/patients")).bearer_auth(&token).header("content-type", content_type).body(body)
    };
    let r = post("{\"given_name\": ", "application/json").send().await.unwrap();
    assert_eq!(problem_fields(&expect_problem(r, 422).await), ["body"]);
    let r = post("given_name=Ada", "application/x-www-form-urlencoded").send().await.unwrap();
    assert_eq!(problem_fields(&expect_problem(r, 422).await), ["body"]);
    let r = post("[]", "application/json").send().await.unwrap();
    assert_eq!(problem_fields(&expect_problem(r, 422).await), ["body"]);
    let r = post(r#"{"given_name": "Ada\u0007", "family_name": "Quinn"}"#, "application/json").send().await.unwrap();
    assert_eq!(problem_fields(&expect_problem(r, 422).await), ["given_name"]);

    // Over the body limit: 413, whether the length is declared or not.
    let big = format!("{{\"given_name\": \"{}\"}}", "x".repeat(300 * 1024));
    let r = http
        .post(url("/api/v1/patients"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    expect_problem(r, 413).await;

    // An empty filter is refused by name (leave it out instead); a role that may not
    // read the audit log is refused before its filters are read.
    let r = http.get(url("/api/v1/audit?from=")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(problem_fields(&expect_problem(r, 422).await), ["from"]);
    let r = http.get(url("/api/v1/audit?from=nonsense")).bearer_auth(&token).send().await.unwrap();
    expect_problem(r, 403).await;
    app.stop().await;
}
