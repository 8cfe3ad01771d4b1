//! Access by relationship and break-glass (issue 12 item 1), over HTTP on both
//! databases, under the default policy (records scoped to the care team): a clinician on
//! the team works as before; one off it is refused with the break-glass offer (audited as
//! a denial), breaks the glass with a reason, works until the grant ends, and the use is
//! audited and reviewed by an admin; a nurse opens the record of a patient dosing today;
//! front desk and admins keep their role's access; the clinic may open every record.

use crate::dosing::{get, iv_session_running_for, make_eligible, manual, post, send};
use crate::support::{ada, audit, create_patient, expect_problem, staff_with_token};
use jiff::SignedDuration;
use kat_core::role::Role;
use kat_it::{Db, Options, TestApp, app_or_skip, on_both_databases};
use serde_json::{Value, json};

fn scoped() -> Options {
    Options { scoped_access: true, ..manual() }
}

async fn status(app: &TestApp, path: &str, token: &str) -> u16 {
    send(app, reqwest::Method::GET, path, token, None).await.status().as_u16()
}

async fn team(app: &TestApp, token: &str, patient: &str, members: Value) -> reqwest::Response {
    send(app, reqwest::Method::PUT, &format!("/api/v1/patients/{patient}/care-team"), token, Some(members)).await
}

async fn care_team_and_break_glass(db: Db) {
    let app = app_or_skip!(db, scoped());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let (_, _, pia) = staff_with_token(&app, "pia", Role::Prescriber).await;
    let (_, _, pete) = staff_with_token(&app, "pete", Role::Prescriber).await;
    let (_, _, theo) = staff_with_token(&app, "theo", Role::Therapist).await;
    let (_, _, nia) = staff_with_token(&app, "nia", Role::Nurse).await;
    let (_, _, desk) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let id = create_patient(&app, &desk, &ada()).await["id"].as_str().unwrap().to_string();
    let notes = format!("/api/v1/patients/{id}/therapy-notes");

    // Before any team, nobody's record: a prescriber may set the first team.
    assert_eq!(status(&app, &notes, &pia).await, 403);
    let r = team(&app, &pia, &id, json!([{"care_role": "prescriber", "user": "pia"}])).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    make_eligible(&app, &pia, &id).await;
    assert_eq!(status(&app, &notes, &pia).await, 200, "on the team");
    // Another prescriber cannot add himself to a team that exists.
    let p =
        expect_problem(team(&app, &pete, &id, json!([{"care_role": "prescriber", "user": "pete"}])).await, 403).await;
    assert_eq!(p["title"], "Break-glass required");

    // Off the team: refused with the offer, every clinical role, and the refusal audited.
    for token in [&theo, &nia, &pete] {
        let p = expect_problem(send(&app, reqwest::Method::GET, &notes, token, None).await, 403).await;
        assert_eq!(p["title"], "Break-glass required");
        assert!(p["detail"].as_str().unwrap().contains(&format!("/api/v1/patients/{id}/break-glass")));
    }
    assert_eq!(status(&app, &format!("/api/v1/patients/{id}/intake"), &theo).await, 403);
    let entries = audit(&app, &admin, &format!("?patient={id}")).await;
    let denied = entries.iter().filter(|e| e["outcome"] == "denied" && e["actor"] == "theo").count();
    assert!(denied >= 2, "each refusal is audited: {denied}");
    // Demographics stay open to every role; the front desk keeps its work.
    assert_eq!(status(&app, &format!("/api/v1/patients/{id}"), &theo).await, 200);
    assert_eq!(status(&app, &format!("/api/v1/patients/{id}"), &desk).await, 200);

    // Breaking the glass: a reason of at least 10 characters, per-field error otherwise.
    let bg = format!("/api/v1/patients/{id}/break-glass");
    let p = expect_problem(post(&app, &bg, &theo, json!({"reason": "  too shrt "})).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "reason");
    assert_eq!(status(&app, &notes, &theo).await, 403, "a refused reason grants nothing");
    let p = expect_problem(post(&app, &bg, &desk, json!({"reason": "covering the front desk"})).await, 403).await;
    assert_eq!(p["title"], "Forbidden", "the front desk has no clinical record to open");
    // The clinician confirms who they are at that moment (issue 12 item 2).
    let p =
        expect_problem(post(&app, &bg, &theo, json!({"reason": "Covering for Dana, patient in crisis"})).await, 422)
            .await;
    assert_eq!(p["errors"][0]["field"], "reauth_code", "{p}");
    assert_eq!(status(&app, &notes, &theo).await, 403, "an unconfirmed break-glass grants nothing");
    let r = post(
        &app,
        &bg,
        &theo,
        json!({"reason": "Covering for Dana, patient in crisis", "reauth_code": kat_it::password_of("theo")}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let grant: Value = r.json().await.unwrap();
    assert_eq!(status(&app, &notes, &theo).await, 200, "open under break-glass");
    assert_eq!(status(&app, &notes, &nia).await, 403, "for the one who broke it only");
    let entries = audit(&app, &admin, &format!("?patient={id}")).await;
    let of = |kind: &str| entries.iter().filter(|e| e["resource_type"] == kind && e["actor"] == "theo").count();
    assert_eq!(of("break_glass"), 1);
    assert_eq!(of("break_glass_access"), 1, "each use under break-glass is marked");

    // It lasts the configured time (60 minutes by default), not a second more.
    app.advance(SignedDuration::from_mins(59));
    assert_eq!(status(&app, &notes, &theo).await, 200);
    app.advance(SignedDuration::from_mins(1));
    assert_eq!(status(&app, &notes, &theo).await, 403, "ended at {}", grant["expires_at"]);

    // The admins' queue shows it with the reason; a review needs a finding, once.
    let client = app.client();
    app.login(&client, "admin").await;
    let page = client.get(app.url("/admin/break-glass")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Covering for Dana, patient in crisis"), "{page}");
    let review = app.url(&format!("/admin/break-glass/{}/review", grant["id"].as_str().unwrap()));
    let origin = app.base_url.clone();
    let r = client.post(&review).header("origin", &origin).form(&[("note", " ")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Finding:"));
    let r =
        client.post(&review).header("origin", &origin).form(&[("note", "Justified: on call")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let page = client.get(app.url("/admin/break-glass")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Nothing to review"), "{page}");
    let page = client.get(app.url("/admin/break-glass?all=1")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Justified: on call"));
    let r = client.post(&review).header("origin", &origin).form(&[("note", "again")]).send().await.unwrap();
    assert_eq!(r.status(), 409, "a review is written once");
    // Nobody else reads the queue.
    assert_eq!(status(&app, "/admin/break-glass", &theo).await, 403, "not an admin");
    let c2 = app.client();
    app.login(&c2, "pia").await;
    assert_eq!(c2.get(app.url("/admin/break-glass")).send().await.unwrap().status(), 403);
}
on_both_databases!(care_team_scopes_records_and_break_glass_opens_them, care_team_and_break_glass);

async fn break_glass_page(db: Db) {
    let app = app_or_skip!(db, scoped());
    let (_, _, pia) = staff_with_token(&app, "pia", Role::Prescriber).await;
    app.add_staff("theo", Role::Therapist).await;
    let id = create_patient(&app, &pia, &ada()).await["id"].as_str().unwrap().to_string();
    assert_eq!(team(&app, &pia, &id, json!([{"care_role": "prescriber", "user": "pia"}])).await.status(), 200);
    let client = app.client();
    app.login(&client, "theo").await;
    let origin = app.base_url.clone();
    let here = format!("/patients/{id}/therapy");
    // The record's page offers break-glass, not the record.
    let r = client.get(app.url(&here)).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("Not on this patient's care team"));
    assert!(html.contains(&format!("action=\"/patients/{id}/break-glass\"")));
    assert!(html.contains(&format!("value=\"{here}\"")), "returns to the page asked for");
    // A missing reason is named and kept out of the record.
    let bg = app.url(&format!("/patients/{id}/break-glass"));
    let r = client.post(&bg).header("origin", &origin).form(&[("reason", "x"), ("next", &here)]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("at least 10 characters"));
    assert_eq!(client.get(app.url(&here)).send().await.unwrap().status(), 403);
    // An outside address is not followed.
    let r = client
        .post(&bg)
        .header("origin", &origin)
        .form(&[
            ("reason", "Patient in crisis, on call tonight"),
            ("next", "//evil.example/"),
            ("reauth_code", &kat_it::password_of("theo")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/patients/{id}"));
    assert_eq!(client.get(app.url(&here)).send().await.unwrap().status(), 200);
}
on_both_databases!(break_glass_from_the_page_returns_to_the_record, break_glass_page);

async fn nurse_dosing_today(db: Db) {
    let app = app_or_skip!(db, scoped());
    let (_, _, pia) = staff_with_token(&app, "pia", Role::Prescriber).await;
    let (_, _, nia) = staff_with_token(&app, "nia", Role::Nurse).await;
    let (_, _, theo) = staff_with_token(&app, "theo", Role::Therapist).await;
    let id = create_patient(&app, &pia, &ada()).await["id"].as_str().unwrap().to_string();
    assert_eq!(team(&app, &pia, &id, json!([{"care_role": "prescriber", "user": "pia"}])).await.status(), 200);
    make_eligible(&app, &pia, &id).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    assert_eq!(status(&app, &plans, &nia).await, 403, "no dosing yet");
    let sid = iv_session_running_for(&app, &pia, &id).await;
    // A session under way today opens the record to the nurses on the floor, not to others.
    assert_eq!(status(&app, &plans, &nia).await, 200);
    assert_eq!(status(&app, &format!("/api/v1/sessions/{sid}"), &nia).await, 200);
    let r = post(
        &app,
        &format!("/api/v1/sessions/{sid}/vitals"),
        &nia,
        json!({"systolic": 128, "diastolic": 80, "heart_rate": 80, "spo2": 98, "respiratory_rate": 14}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(status(&app, &format!("/api/v1/sessions/{sid}"), &theo).await, 403);
    let _ = get(&app, &plans, &pia).await;
}
on_both_databases!(a_nurse_opens_the_record_of_a_patient_dosing_today, nurse_dosing_today);

async fn open_to_all(db: Db) {
    let mut options = scoped();
    options.config.access.scope = kat_core::access::RecordScope::AllClinicians;
    let app = app_or_skip!(db, options);
    let (_, _, pia) = staff_with_token(&app, "pia", Role::Prescriber).await;
    let (_, _, theo) = staff_with_token(&app, "theo", Role::Therapist).await;
    let id = create_patient(&app, &pia, &ada()).await["id"].as_str().unwrap().to_string();
    assert_eq!(team(&app, &pia, &id, json!([{"care_role": "prescriber", "user": "pia"}])).await.status(), 200);
    assert_eq!(status(&app, &format!("/api/v1/patients/{id}/therapy-notes"), &theo).await, 200);
}
on_both_databases!(the_clinic_may_open_every_record_to_every_clinician, open_to_all);

async fn identity_after_plan(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let (_, _, pia) = staff_with_token(&app, "pia", Role::Prescriber).await;
    let (_, _, desk) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let patch = |token: &str, id: &str, body: Value| {
        let (token, id) = (token.to_string(), id.to_string());
        let app = &app;
        async move { send(app, reqwest::Method::PATCH, &format!("/api/v1/patients/{id}"), &token, Some(body)).await }
    };
    // Without a plan the front desk corrects a birth date as before.
    let free = create_patient(&app, &desk, &ada()).await["id"].as_str().unwrap().to_string();
    assert_eq!(patch(&desk, &free, json!({"birth_date": "1984-03-08"})).await.status(), 200);

    let id = create_patient(&app, &desk, &ada()).await["id"].as_str().unwrap().to_string();
    make_eligible(&app, &pia, &id).await;
    let r =
        post(&app, &format!("/api/v1/patients/{id}/treatment-plans"), &pia, crate::dosing::iv_plan(&app, "0.5")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // Once a plan exists: the front desk still edits contact details…
    assert_eq!(patch(&desk, &id, json!({"phone": "+1 555 010 0199"})).await.status(), 200);
    // …but not the birth date or sex at birth, each named, and the attempt is audited.
    let p =
        expect_problem(patch(&desk, &id, json!({"birth_date": "1984-03-09", "sex_at_birth": "male"})).await, 422).await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["birth_date", "sex_at_birth"]);
    let entries = audit(&app, &admin, &format!("?patient={id}")).await;
    assert!(entries.iter().any(|e| e["resource_type"] == "patient_identity" && e["outcome"] == "denied"));
    assert_eq!(get(&app, &format!("/api/v1/patients/{id}"), &desk).await["birth_date"], "1984-03-07", "unchanged");
    // A clinician changes them with a reason of 10 characters or more.
    let p =
        expect_problem(patch(&pia, &id, json!({"birth_date": "1984-03-09", "change_reason": "typo"})).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "change_reason");
    let r = patch(&pia, &id, json!({"birth_date": "1984-03-09", "change_reason": "Passport shows the 9th"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(get(&app, &format!("/api/v1/patients/{id}"), &desk).await["birth_date"], "1984-03-09");
    let entries = audit(&app, &admin, &format!("?patient={id}")).await;
    assert!(entries.iter().any(|e| e["resource_type"] == "patient_identity" && e["outcome"] == "allowed"));
    let mut tx = app.store.begin_read().await.unwrap();
    let changes = tx.identity_changes(id.parse().unwrap()).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].fields.as_str(), changes[0].reason.as_str()), ("birth_date", "Passport shows the 9th"));
}
on_both_databases!(birth_date_and_sex_change_only_by_a_clinician_with_a_reason_once_planned, identity_after_plan);

async fn director_with_reason(db: Db) {
    let app = app_or_skip!(db, manual());
    app.add_staff("boss", Role::Admin).await;
    app.add_staff("other", Role::Admin).await;
    let pia = app.add_staff("pia", Role::Prescriber).await;
    let client = app.client();
    app.login(&client, "boss").await;
    let origin = app.base_url.clone();
    let url = app.url(&format!("/admin/users/{}/medical-director", pia.id));
    // A grant needs a reason, named when missing; nothing changes without one.
    let r =
        client.post(&url).header("origin", &origin).form(&[("active", "true"), ("reason", "")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Medical director: say why"));
    assert!(!kat_app::intake::is_medical_director(app.store.as_ref(), pia.id).await.unwrap());
    let r = client
        .post(&url)
        .header("origin", &origin)
        .form(&[
            ("active", "true"),
            ("reason", "Board appointed Dr Pia as of today"),
            ("reauth_code", &app.next_code("boss").await.unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(kat_app::intake::is_medical_director(app.store.as_ref(), pia.id).await.unwrap());
    // Every admin sees who made the change and why.
    let c2 = app.client();
    app.login(&c2, "other").await;
    let page = c2.get(app.url("/admin/users")).send().await.unwrap().text().await.unwrap();
    let section = page.split("Medical-director changes").nth(1).expect("the section");
    assert!(section.contains("Board appointed Dr Pia as of today"), "{section}");
    assert!(section.contains("boss") && section.contains("pia") && section.contains("Marked"));
}
on_both_databases!(the_medical_director_flag_changes_with_a_reason_every_admin_sees, director_with_reason);
