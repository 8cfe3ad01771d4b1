//! Snapshots of what kat sends (issue 10 item 9): a problem+json body, the REMS form as
//! JSON (in `dosing_rems_api`), and the measures chart's SVG. Each runs on both
//! databases against the same snapshot, so a difference between the adapters fails too.

use crate::dosing::manual;
use crate::support::{ada, create_patient, staff_with_token};
use kat_core::role::Role;
use kat_it::{Db, app_or_skip, on_both_databases};
use serde_json::{Value, json};

async fn problem_json(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, desk) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&desk)
        .json(&json!({"given_name": "", "family_name": "Quinn", "birth_date": "1984-13-40", "sex_at_birth": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("problem_json_invalid_patient", body, {
        ".instance" => "[instance]",
        ".request_id" => "[request id]",
    });
    app.stop().await;
}
on_both_databases!(a_422_problem_json_body, problem_json);

/// The chart of three PHQ-9 totals a week apart, as the patient page embeds it.
async fn measures_chart_svg(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, nurse) = staff_with_token(&app, "nurse", Role::Nurse).await;
    app.add_staff("nurse.page", Role::Nurse).await;
    let p = create_patient(&app, &nurse, &ada()).await;
    let id = p["id"].as_str().unwrap().to_string();
    for (weeks_ago, item) in [(2, 3), (1, 2), (0, 1)] {
        let answers: Vec<u8> = vec![item; 8].into_iter().chain([0]).collect();
        let taken = app.now() - jiff::SignedDuration::from_hours(24 * 7 * weeks_ago);
        let r = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/patients/{id}/responses")))
            .bearer_auth(&nurse)
            .json(&json!({"instrument": "phq9", "answers": answers, "collected_at": taken.to_string()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let web = app.client();
    app.login(&web, "nurse.page").await;
    let html = web.get(app.url(&format!("/patients/{id}"))).send().await.unwrap().text().await.unwrap();
    let start = html.find("<svg class=\"chart\"").expect("the chart is on the page");
    let end = html[start..].find("</svg>").expect("the chart ends") + start + "</svg>".len();
    insta::assert_snapshot!("measures_chart_phq9_svg", &html[start..end]);
    app.stop().await;
}
on_both_databases!(the_measures_chart_svg, measures_chart_svg);
