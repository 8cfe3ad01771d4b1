//! The audit log: what is recorded, its filters, and that the database keeps it
//! append-only.

use crate::support::{ada, audit, create_patient, expect_problem, problem_fields, staff_with_token};
use jiff::{SignedDuration, Timestamp};
use kat_core::role::Role;
use kat_it::{Db, Options, app_or_skip, on_both_databases};
use serde_json::{Value, json};

async fn patient_activity_is_audited(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, admin) = staff_with_token(&app, "boss", Role::Admin).await;
    let (desk, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let p = create_patient(&app, &token, &ada()).await;
    let other = create_patient(
        &app,
        &token,
        &json!({"given_name": "Bo", "family_name": "Ng", "birth_date": "1990-01-02", "sex_at_birth": "male"}),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let http = reqwest::Client::new();
    let r = http.get(app.url(&format!("/api/v1/patients/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(app.url("/api/v1/patients?q=quinn")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .patch(app.url(&format!("/api/v1/patients/{id}")))
        .bearer_auth(&token)
        .header("x-request-id", "my-own-request-id")
        .json(&json!({"phone": "+1 555 010 7777"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("x-request-id").unwrap(), "my-own-request-id");

    // A list that showed both patients.
    let r = http.get(app.url("/api/v1/patients?q=")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let entries = audit(&app, &admin, &format!("?patient={id}")).await;
    let about_patient: Vec<&Value> = entries.iter().filter(|e| e["resource_type"] == "patient").collect();
    let actions: Vec<&str> = about_patient.iter().map(|e| e["action"].as_str().unwrap()).collect();
    // Newest first; each list view that showed the patient is found too.
    assert_eq!(actions, ["list", "update", "list", "read", "create"], "{entries:#?}");
    for e in &about_patient {
        assert_eq!(e["actor"], "desk");
        assert_eq!(e["user_id"], desk.id.to_string());
        assert_eq!(e["remote_addr"], "127.0.0.1");
        assert_eq!(e["outcome"], "allowed");
        assert!(!e["request_id"].as_str().expect("request_id").is_empty());
        e["at"].as_str().unwrap().parse::<Timestamp>().expect("at is a timestamp");
        if e["action"] == "list" {
            // One entry per list view, naming every patient it showed.
            assert!(e["patient_id"].is_null() && e["resource_id"].is_null(), "{e:#?}");
        } else {
            assert_eq!(e["patient_id"], id);
            assert_eq!(e["resource_id"], id);
            assert!(e.get("shown_patients").is_none(), "{e:#?}");
        }
    }
    assert_eq!(about_patient[1]["request_id"], "my-own-request-id");
    assert_eq!(about_patient[2]["shown_patients"], json!([id]), "the search for quinn showed Ada only");
    let mut both = vec![id.to_string(), other["id"].as_str().unwrap().to_string()];
    both.sort();
    assert_eq!(about_patient[0]["shown_patients"], json!(both), "the empty search showed both");
    // Every entry is about this patient or showed this patient; the other patient's
    // creation is not here.
    assert!(
        entries.iter().all(|e| e["patient_id"] == id
            || e["shown_patients"].as_array().is_some_and(|a| a.iter().any(|p| p == id))),
        "{entries:#?}"
    );
    let others = audit(&app, &admin, &format!("?patient={}", other["id"].as_str().unwrap())).await;
    let other_actions: Vec<&str> =
        others.iter().filter(|e| e["resource_type"] == "patient").map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(other_actions, ["list", "create"], "{others:#?}");

    // The admin's audit page shows the patients a list view showed.
    let client = app.client();
    app.add_staff("auditor", Role::Admin).await;
    app.login(&client, "auditor").await;
    let page = client.get(app.url(&format!("/admin/audit?patient={id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("2 shown"), "{page}");
    assert!(page.contains(&format!("/patients/{}", other["id"].as_str().unwrap())), "{page}");
    app.stop().await;
}
on_both_databases!(patient_activity_is_audited, patient_activity_is_audited);

async fn audit_filters_by_user_and_clinic_days(db: Db) {
    // 23:59 UTC on 10 March; the clinic's zone is UTC (the default).
    let start: Timestamp = "2026-03-10T23:59:00Z".parse().unwrap();
    let app = app_or_skip!(db, Options { manual_clock: Some(start), ..Options::default() });
    let (_, _, admin) = staff_with_token(&app, "boss", Role::Admin).await;
    let (desk, _, desk_token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let (nurse, _, nurse_token) = staff_with_token(&app, "nina", Role::Nurse).await;
    let p = create_patient(&app, &desk_token, &ada()).await; // on the 10th, by desk
    let id = p["id"].as_str().unwrap();
    app.advance(SignedDuration::from_mins(2)); // now the 11th
    let r = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}")))
        .bearer_auth(&nurse_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let patient_actions = |entries: Vec<Value>| -> Vec<String> {
        entries
            .into_iter()
            .filter(|e| e["resource_type"] == "patient")
            .map(|e| format!("{}:{}", e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(patient_actions(audit(&app, &admin, &format!("?user={}", desk.id)).await), ["desk:create"]);
    assert_eq!(patient_actions(audit(&app, &admin, &format!("?user={}", nurse.id)).await), ["nina:read"]);
    let by_desk = audit(&app, &admin, &format!("?user={}", desk.id)).await;
    assert!(by_desk.iter().all(|e| e["user_id"] == desk.id.to_string()), "{by_desk:#?}");

    // `to` is inclusive of its whole day; `from` starts at midnight.
    assert_eq!(patient_actions(audit(&app, &admin, "?to=2026-03-10").await), ["desk:create"]);
    assert_eq!(patient_actions(audit(&app, &admin, "?from=2026-03-11").await), ["nina:read"]);
    assert_eq!(
        patient_actions(audit(&app, &admin, "?from=2026-03-10&to=2026-03-11").await),
        ["nina:read", "desk:create"]
    );
    assert_eq!(patient_actions(audit(&app, &admin, "?from=2026-03-10&to=2026-03-10").await), ["desk:create"]);
    assert!(audit(&app, &admin, "?to=2026-03-09").await.is_empty());
    assert!(audit(&app, &admin, "?from=2026-03-12").await.is_empty());
    assert_eq!(
        patient_actions(audit(&app, &admin, &format!("?user={}&patient={id}&from=2026-03-11", nurse.id)).await),
        ["nina:read"]
    );
    // `limit` and `before` page through the log.
    let two = audit(&app, &admin, "?limit=2").await;
    assert_eq!(two.len(), 2);
    let older = audit(&app, &admin, &format!("?before={}&limit=500", two[1]["seq"])).await;
    assert!(older.iter().all(|e| e["seq"].as_i64() < two[1]["seq"].as_i64()));
    assert!(!older.is_empty());

    // Invalid filters are named.
    for (query, field) in [
        ("?user=someone", "user"),
        ("?patient=42", "patient"),
        ("?from=2026-13-01", "from"),
        ("?to=10/03/2026", "to"),
        ("?from=2026-03-11&to=2026-03-10", "to"),
    ] {
        let r = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/audit{query}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let p = expect_problem(r, 422).await;
        assert_eq!(problem_fields(&p), [field], "{query}: {p}");
    }
    let r =
        reqwest::Client::new().get(app.url("/api/v1/audit?user=x&from=nope")).bearer_auth(&admin).send().await.unwrap();
    let p = expect_problem(r, 422).await;
    assert_eq!(problem_fields(&p), ["user", "from"], "{p}");
    app.stop().await;
}
on_both_databases!(audit_filters_by_user_and_clinic_days, audit_filters_by_user_and_clinic_days);

async fn the_database_refuses_to_change_the_audit_log(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, admin) = staff_with_token(&app, "boss", Role::Admin).await;
    let before = audit(&app, &admin, "").await;
    assert!(!before.is_empty());
    let statements =
        ["UPDATE audit_log SET outcome = 'allowed', actor_label = 'someone else'", "DELETE FROM audit_log"];
    match db {
        Db::Sqlite => {
            use sqlx::Connection;
            let path = app.sqlite_path.clone().expect("sqlite path");
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
            for sql in statements {
                let err = sqlx::query(sql).execute(&mut conn).await.expect_err(sql);
                assert!(err.to_string().contains("append-only"), "{sql}: {err}");
            }
            conn.close().await.unwrap();
        }
        Db::Postgres => {
            use sqlx::Connection;
            let url = app.postgres_url().expect("postgres url").to_string();
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            for sql in statements.into_iter().chain(["TRUNCATE audit_log"]) {
                let err = sqlx::query(sql).execute(&mut conn).await.expect_err(sql);
                assert!(err.to_string().contains("append-only"), "{sql}: {err}");
            }
            conn.close().await.unwrap();
        }
    }
    let after = audit(&app, &admin, "").await;
    // Everything still there, unchanged (the new entries are the audit reads).
    for e in &before {
        assert!(after.contains(e), "{e} survived unchanged");
    }
    app.stop().await;
}
on_both_databases!(the_database_refuses_to_change_the_audit_log, the_database_refuses_to_change_the_audit_log);
