//! The patient timeline gathers the whole record: registration, intake versions, the
//! eligibility screen, rating-scale responses and safety alerts, in time order, each
//! shown only to roles that may read that part.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::role::Role;
use kat_it::{Db, Options, app_or_skip, on_both_databases};
use serde_json::{Map, Value, json};

async fn timeline_gathers_the_whole_record(db: Db) {
    let start: Timestamp = "2026-03-02T14:00:00Z".parse().unwrap();
    let app = app_or_skip!(db, Options { manual_clock: Some(start), ..Default::default() });
    let nurse = app.token("nurse.tl", Role::Nurse).await;
    let therapist = app.token("therapist.tl", Role::Therapist).await;
    let desk = app.token("desk.tl", Role::FrontDesk).await;
    let http = reqwest::Client::new();
    let p: Value = http
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&desk)
        .json(
            &json!({"given_name": "Tess", "family_name": "Line", "birth_date": "1980-01-01", "sex_at_birth": "female"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = p["id"].as_str().unwrap().to_string();

    app.advance(SignedDuration::from_hours(1));
    let today = app.now().to_zoned(TimeZone::UTC).date();
    let answers: Map<String, Value> =
        example_complete_answers(today).iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    let r = http
        .put(app.url(&format!("/api/v1/patients/{id}/intake")))
        .bearer_auth(&nurse)
        .json(&json!({"answers": answers, "complete": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    app.advance(SignedDuration::from_hours(1));
    let r = http
        .post(app.url(&format!("/api/v1/patients/{id}/responses")))
        .bearer_auth(&nurse)
        .json(&json!({"instrument": "phq9", "answers": [2,2,2,2,2,1,1,1,1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let tl: Value = http
        .get(app.url(&format!("/api/v1/patients/{id}/timeline")))
        .bearer_auth(&therapist)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = tl.as_array().expect("entries");
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["registration", "intake", "eligibility", "measure", "safety_alert"], "{tl:#}");
    let measure = &entries[3];
    assert_eq!(measure["title"], "PHQ-9: 14 (moderate)");
    assert!(measure["detail"].as_str().unwrap().contains("suicidal_ideation"));
    assert_eq!(entries[4]["href"].as_str().unwrap().split('/').nth(1), Some("alerts"));
    assert!(entries[4]["detail"].as_str().unwrap().starts_with("open"));

    // Filtered by kind.
    let only: Value = http
        .get(app.url(&format!("/api/v1/patients/{id}/timeline?kind=measure,safety_alert")))
        .bearer_auth(&therapist)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(only.as_array().unwrap().len(), 2);

    // The page shows the same, with links to each record.
    let client = app.client();
    app.add_staff("reader", Role::Prescriber).await;
    app.login(&client, "reader").await;
    let page = client.get(app.url(&format!("/patients/{id}/timeline"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("PHQ-9: 14 (moderate)"), "{page}");
    assert!(page.contains("Eligibility screened"));
    assert!(page.contains(&format!("/patients/{id}/intake")));

    // The worklist points clinicians at the open alert; the front desk does not see it.
    let worklist = client.get(app.url("/worklist")).send().await.unwrap().text().await.unwrap();
    assert!(worklist.contains("1 urgent safety alert to acknowledge"), "{worklist}");
    assert!(worklist.contains("href=\"/alerts\""));
    let front = app.client();
    app.add_staff("front.tl", Role::FrontDesk).await;
    app.login(&front, "front.tl").await;
    let worklist = front.get(app.url("/worklist")).send().await.unwrap().text().await.unwrap();
    assert!(!worklist.contains("urgent safety alert"), "{worklist}");
    app.stop().await;
}
on_both_databases!(timeline_gathers_the_whole_record, timeline_gathers_the_whole_record);

/// Each page marks exactly one navigation entry as the current page.
async fn one_current_navigation_entry(db: Db) {
    let app = app_or_skip!(db);
    app.add_staff("nav.nurse", Role::Nurse).await;
    let client = app.client();
    app.login(&client, "nav.nurse").await;
    for path in ["/worklist", "/measures/worklist", "/patients", "/"] {
        let page = client.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        let nav = page.split("<nav").nth(1).and_then(|n| n.split("</nav>").next()).unwrap_or("");
        assert_eq!(nav.matches("aria-current=\"page\"").count(), 1, "{path}: {nav}");
    }
    app.stop().await;
}
on_both_databases!(one_current_navigation_entry, one_current_navigation_entry);
