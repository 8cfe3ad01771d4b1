//! Page forms, CSRF protection, and the role check on every page route.

use crate::support::{ada, create_patient, location, patient_count, session_set_cookie, staff_with_token};
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases, password_of};
use serde_json::{Value, json};

fn valid_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("given_name", "Ada"),
        ("family_name", "Quinn"),
        ("birth_date", "1984-03-07"),
        ("sex_at_birth", "female"),
        ("phone", "+1 555 010 7777"),
    ]
}

/// A signed-in client (cookie jar) for a new account of this role.
async fn signed_in(app: &TestApp, username: &str, role: Role) -> reqwest::Client {
    app.add_staff(username, role).await;
    let client = app.client();
    let r = app.login(&client, username).await;
    assert_eq!(r.status(), 303, "login");
    client
}

async fn cross_site_posts_are_refused(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "api", Role::FrontDesk).await;
    let client = signed_in(&app, "desk", Role::FrontDesk).await;

    let attacks: [(&str, &str); 3] =
        [("sec-fetch-site", "cross-site"), ("origin", "https://evil.example"), ("sec-fetch-site", "same-site")];
    for (name, value) in attacks {
        let r = client.post(app.url("/patients")).header(name, value).form(&valid_form()).send().await.unwrap();
        assert_eq!(r.status(), 403, "{name}: {value}");
        assert_eq!(r.headers().get("content-type").unwrap(), "application/problem+json");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["title"], "Cross-site request refused");
    }
    // A foreign Origin even with a same-origin looking Referer.
    let r = client
        .post(app.url("/patients"))
        .header("origin", "http://127.0.0.1.evil.example")
        .header("referer", app.url("/patients/new"))
        .form(&valid_form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(patient_count(&app, &token).await, 0, "nothing saved");

    // Cross-site logout is refused and the session survives.
    let r = client.post(app.url("/logout")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = client.post(app.url("/logout")).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 200, "still signed in");

    // A cross-site login (login CSRF) is refused too.
    let r = app
        .client()
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "desk"), ("password", password_of("desk").as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(session_set_cookie(&r).is_none());

    // The same origin passes.
    let r = client.post(app.url("/patients")).header("origin", &app.base_url).form(&valid_form()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = client
        .post(app.url("/patients"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", &app.base_url)
        .form(&valid_form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(patient_count(&app, &token).await, 2);

    // An API client with a bearer token and no Origin passes.
    let r =
        reqwest::Client::new().post(app.url("/api/v1/patients")).bearer_auth(&token).json(&ada()).send().await.unwrap();
    assert_eq!(r.status(), 201);
    // But a browser-driven cross-site API write does not.
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .header("sec-fetch-site", "cross-site")
        .json(&ada())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(patient_count(&app, &token).await, 3);
    app.stop().await;
}
on_both_databases!(cross_site_posts_are_refused, cross_site_posts_are_refused);

async fn register_form_shows_errors_or_redirects(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "api", Role::FrontDesk).await;
    let client = signed_in(&app, "desk", Role::FrontDesk).await;
    let new_form = client.get(app.url("/patients/new")).send().await.unwrap();
    assert_eq!(new_form.status(), 200);
    assert!(new_form.text().await.unwrap().contains("Register a patient"));

    let bad = [
        ("given_name", ""),
        ("family_name", "O'Brien-Zed"),
        ("birth_date", "1984-13-01"),
        ("sex_at_birth", "female"),
        ("phone", "call me"),
        ("email", "typed@example.org"),
    ];
    let r = client.post(app.url("/patients")).header("origin", &app.base_url).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Nothing has been saved yet"), "{page}");
    // One message per bad field, next to it.
    assert!(page.contains("id=\"given_name-error\""), "{page}");
    assert!(page.contains("Given name is required"), "{page}");
    assert!(page.contains("id=\"birth_date-error\""), "{page}");
    assert!(page.contains("is not a date"), "{page}");
    assert!(page.contains("id=\"phone-error\""), "{page}");
    assert!(!page.contains("id=\"email-error\""), "{page}");
    assert!(!page.contains("id=\"family_name-error\""), "{page}");
    // What was typed is kept (escaped).
    assert!(page.contains("value=\"O&#39;Brien-Zed\"") || page.contains("value=\"O&#x27;Brien-Zed\""), "{page}");
    assert!(page.contains("value=\"typed@example.org\""), "{page}");
    assert!(page.contains("value=\"call me\""), "{page}");
    assert!(page.contains("value=\"1984-13-01\""), "{page}");
    assert!(page.contains("<option value=\"female\" selected"), "{page}");
    assert_eq!(patient_count(&app, &token).await, 0, "nothing saved");

    let r = client.post(app.url("/patients")).header("origin", &app.base_url).form(&valid_form()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let list: Vec<Value> = reqwest::Client::new()
        .get(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(to, format!("/patients/{}?saved=1", list[0]["id"].as_str().unwrap()));
    let shown = client.get(app.url(&to)).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await.unwrap();
    assert!(shown.contains("KAT-000001"), "{shown}");
    assert!(shown.contains("Ada Quinn"), "{shown}");
    app.stop().await;
}
on_both_databases!(register_form_shows_errors_or_redirects, register_form_shows_errors_or_redirects);

async fn edit_form_detects_concurrent_edits(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "api", Role::Nurse).await;
    let p = create_patient(&app, &token, &ada()).await;
    let id = p["id"].as_str().unwrap().to_string();
    let client = signed_in(&app, "nina", Role::Nurse).await;

    // The edit form carries the version it was opened at.
    let form = client.get(app.url(&format!("/patients/{id}/edit"))).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("name=\"version\" value=\"1\""), "{form}");

    // Someone else saves first.
    let r = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/patients/{id}")))
        .bearer_auth(&token)
        .json(&json!({"phone": "+1 555 010 0000", "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let mut edit = valid_form();
    edit.retain(|(k, _)| *k != "phone");
    edit.push(("version", "1"));
    edit.retain(|(k, _)| *k != "family_name");
    edit.push(("family_name", "Quinn-Stale"));
    let r = client
        .post(app.url(&format!("/patients/{id}")))
        .header("origin", &app.base_url)
        .form(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(page.contains("changed by someone else since you opened it"), "{page}");
    assert!(page.contains("value=\"Quinn-Stale\""), "the typed values are kept: {page}");
    let now: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["family_name"], "Quinn");
    assert_eq!(now["phone"], "+1 555 010 0000");
    assert_eq!(now["version"], 2);

    // With the current version it saves.
    let edit = [
        ("given_name", "Ada"),
        ("family_name", "Quinn-Fresh"),
        ("birth_date", "1984-03-07"),
        ("sex_at_birth", "female"),
        ("version", "2"),
    ];
    let r = client
        .post(app.url(&format!("/patients/{id}")))
        .header("origin", &app.base_url)
        .form(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/patients/{id}?saved=1"));
    let now: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["family_name"], "Quinn-Fresh");
    assert_eq!(now["phone"], Value::Null, "a field left empty in the form is cleared");
    assert_eq!(now["version"], 3);

    // An invalid edit re-renders with 422 and saves nothing.
    let bad = [
        ("given_name", "Ada"),
        ("family_name", ""),
        ("birth_date", "1984-03-07"),
        ("sex_at_birth", "female"),
        ("version", "3"),
    ];
    let r = client
        .post(app.url(&format!("/patients/{id}")))
        .header("origin", &app.base_url)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Family name is required"));
    app.stop().await;
}
on_both_databases!(edit_form_detects_concurrent_edits, edit_form_detects_concurrent_edits);

async fn every_page_requires_sign_in_and_admin_pages_an_admin(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, token) = staff_with_token(&app, "api", Role::FrontDesk).await;
    let p = create_patient(&app, &token, &ada()).await;
    let id = p["id"].as_str().unwrap();
    let pages = [
        "/".to_string(),
        "/patients".to_string(),
        "/patients/new".to_string(),
        format!("/patients/{id}"),
        format!("/patients/{id}/edit"),
        "/admin/users".to_string(),
        "/admin/audit".to_string(),
    ];
    let anon = app.client();
    for path in &pages {
        let r = anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        let loc = location(&r);
        assert_eq!(loc, format!("/login?next={}", path), "{path}");
    }
    // Anonymous form posts are sent to sign in too, and save nothing.
    let posts = [
        ("/patients".to_string(), valid_form()),
        (format!("/patients/{id}"), valid_form()),
        (
            "/admin/users".to_string(),
            vec![("username", "intruder"), ("role", "admin"), ("password", "long-enough-password")],
        ),
        (format!("/admin/users/{}/active", uuid::Uuid::now_v7()), vec![("active", "false")]),
        (format!("/admin/tokens/{}/revoke", uuid::Uuid::now_v7()), vec![]),
    ];
    for (path, form) in &posts {
        let r = anon.post(app.url(path)).header("origin", &app.base_url).form(form).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), "/login?next=/", "{path}");
    }
    assert_eq!(patient_count(&app, &token).await, 1);
    assert!(kat_app::users::find(app.store.as_ref(), "intruder").await.unwrap().is_none());

    // A nurse sees the clinical pages but not the admin ones.
    let nurse = signed_in(&app, "nina", Role::Nurse).await;
    for path in &pages[..5] {
        assert_eq!(nurse.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
    }
    for path in ["/admin/users", "/admin/audit"] {
        let r = nurse.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        assert!(r.text().await.unwrap().contains("Your role does not allow this"));
    }
    let r = nurse
        .post(app.url("/admin/users"))
        .header("origin", &app.base_url)
        .form(&[("username", "intruder"), ("role", "admin"), ("password", "long-enough-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(kat_app::users::find(app.store.as_ref(), "intruder").await.unwrap().is_none());

    // An admin sees them.
    let admin = signed_in(&app, "boss", Role::Admin).await;
    for path in ["/admin/users", "/admin/audit"] {
        assert_eq!(admin.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
    }
    // Unknown pages and ids are 404 pages, not errors.
    assert_eq!(nurse.get(app.url("/patients/not-a-uuid")).send().await.unwrap().status(), 404);
    assert_eq!(nurse.get(app.url(&format!("/patients/{}", uuid::Uuid::now_v7()))).send().await.unwrap().status(), 404);
    assert_eq!(nurse.get(app.url("/no-such-page")).send().await.unwrap().status(), 404);
    app.stop().await;
}
on_both_databases!(
    every_page_requires_sign_in_and_admin_pages_an_admin,
    every_page_requires_sign_in_and_admin_pages_an_admin
);
