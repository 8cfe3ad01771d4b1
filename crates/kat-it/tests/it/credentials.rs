//! Credentials (issue 12 item 4), over HTTP on both databases: changing one's own
//! password (re-authenticating with the current one, which counts as a sign-in for the
//! throttle), an admin's reset that forces a change at the next sign-in, and the
//! password rules wherever a password is set.

use crate::dosing::manual;
use crate::support::{audit, location, staff_with_token};
use jiff::SignedDuration;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases, password_of};

const STRONG: &str = "lantern orbit tulip gravel";
const STRONG_TWO: &str = "copper kettle meadow finch";

async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = app.client();
    assert_eq!(app.login(&client, username).await.status(), 303, "{username} signs in");
    client
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(path)).header("origin", &app.base_url).form(form).send().await.unwrap()
}

async fn change(app: &TestApp, client: &reqwest::Client, current: &str, new: &str, confirm: &str) -> reqwest::Response {
    post(
        app,
        client,
        "/account/password",
        &[("current_password", current), ("new_password", new), ("confirm_password", confirm)],
    )
    .await
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.get(app.url(path)).send().await.unwrap()
}

async fn sign_in_with(app: &TestApp, username: &str, password: &str) -> (reqwest::Client, reqwest::Response) {
    let client = app.client();
    let r = post(app, &client, "/login", &[("username", username), ("password", password), ("next", "/")]).await;
    (client, r)
}

/// The field error a page shows for `field`, if any.
fn field_error(html: &str, field: &str) -> Option<String> {
    let marker = format!("id=\"{field}-error\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find("</div>")? + start;
    Some(html[start..end].to_string())
}

async fn change_own(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    app.add_staff("nina", Role::Nurse).await;
    let old = password_of("nina");
    let here = signed_in(&app, "nina").await;
    let elsewhere = signed_in(&app, "nina").await;

    // The page is linked from every page's header, and has the three labelled fields.
    let home = get(&app, &here, "/").await.text().await.unwrap();
    assert!(home.contains("href=\"/account/password\""), "the header links to the page");
    let page = get(&app, &here, "/account/password").await.text().await.unwrap();
    for field in ["current_password", "new_password", "confirm_password"] {
        assert!(page.contains(&format!("<label for=\"{field}\"")), "{field} is labelled");
    }

    // Each rule at its boundary, a per-field error naming the field; nothing changes.
    let r = change(&app, &here, &old, "aaaaaaaaaaaa", "aaaaaaaaaaaa").await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "new_password").unwrap().contains("too easy to guess"), "{html}");
    assert!(field_error(&html, "current_password").is_none());
    let r = change(&app, &here, &old, "password1234", "password1234").await;
    assert!(field_error(&r.text().await.unwrap(), "new_password").unwrap().contains("too easy to guess"));
    let r = change(&app, &here, &old, "nina-nina-2026", "nina-nina-2026").await;
    assert!(field_error(&r.text().await.unwrap(), "new_password").is_some(), "built from the username");
    let r = change(&app, &here, &old, "vq8#Lm2!zRt", "vq8#Lm2!zRt").await;
    assert!(field_error(&r.text().await.unwrap(), "new_password").unwrap().contains("at least 12"), "11 characters");
    let r = change(&app, &here, &old, STRONG, "lantern orbit tulip grave").await;
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "confirm_password").unwrap().contains("does not match"));
    assert!(field_error(&html, "new_password").is_none(), "{html}");

    // A wrong current password is refused on its field, and is a failed sign-in: three
    // are answered at once, the fourth try (even a right one) waits.
    for _ in 0..3 {
        let r = change(&app, &here, "not-my-password", STRONG, STRONG).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "current_password").unwrap().contains("not your current password"));
    }
    let r = change(&app, &here, &old, STRONG, STRONG).await;
    assert_eq!(r.status(), 429, "throttled like a sign-in");
    assert_eq!(r.headers()["retry-after"], "2");
    app.advance(SignedDuration::from_secs(2));
    assert_eq!(get(&app, &elsewhere, "/").await.status(), 200, "nothing changed yet");

    // Exactly 12 characters and strong: changed.
    let twelve = "vq8#Lm2!zRt4";
    let r = change(&app, &here, &old, twelve, twelve).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/password?changed=1");
    // This sign-in goes on; the other has ended.
    assert_eq!(get(&app, &here, "/").await.status(), 200);
    let r = get(&app, &elsewhere, "/").await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    // The old password no longer signs in; the new one does.
    app.advance(SignedDuration::from_secs(61));
    assert_eq!(sign_in_with(&app, "nina", &old).await.1.status(), 401);
    assert_eq!(sign_in_with(&app, "nina", twelve).await.1.status(), 303);

    // Audited: one allowed change, the refused ones denied, the wrong passwords as
    // failed sign-ins.
    let entries = audit(&app, &admin, "").await;
    let changes: Vec<&str> = entries
        .iter()
        .filter(|e| e["resource_type"] == "password" && e["action"] == "update")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(changes.iter().filter(|o| **o == "allowed").count(), 1, "{changes:?}");
    assert_eq!(changes.iter().filter(|o| **o == "denied").count(), 8, "{changes:?}");
    assert!(entries.iter().filter(|e| e["action"] == "login_failed").count() >= 3);
    app.stop().await;
}
on_both_databases!(staff_change_their_own_password_re_authenticating, change_own);

async fn admin_reset(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin_token) = staff_with_token(&app, "admin", Role::Admin).await;
    let nina = app.add_staff("nina", Role::Nurse).await;
    let admin = signed_in(&app, "admin").await;
    let before = signed_in(&app, "nina").await;
    let reset_path = format!("/admin/users/{}/password", nina.id);

    // The Staff page links to the reset; someone else may not reset.
    let users = get(&app, &admin, "/admin/users").await.text().await.unwrap();
    assert!(users.contains(&format!("href=\"{reset_path}\"")));
    let desk = app.add_staff("desk", Role::FrontDesk).await;
    let desk_client = signed_in(&app, "desk").await;
    assert_eq!(post(&app, &desk_client, &reset_path, &[("password", STRONG)]).await.status(), 403);

    // A weak temporary password is refused on its field, and nothing happens.
    for weak in ["aaaaaaaaaaaa", "password1234"] {
        let r = post(&app, &admin, &reset_path, &[("password", weak)]).await;
        assert_eq!(r.status(), 422);
        assert!(field_error(&r.text().await.unwrap(), "password").unwrap().contains("too easy to guess"));
    }
    assert_eq!(get(&app, &before, "/").await.status(), 200, "a refused reset ends no session");

    // The reset ends her sessions.
    let r = post(&app, &admin, &reset_path, &[("password", STRONG)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/admin/users?reset=1");
    let r = get(&app, &before, "/").await;
    assert!(location(&r).starts_with("/login"), "{}", location(&r));

    // Her next sign-in goes to the change-password page, and nothing else is open.
    let (nina_client, r) = sign_in_with(&app, "nina", STRONG).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/password");
    for path in ["/", "/patients", "/worklist", "/admin/users"] {
        let r = get(&app, &nina_client, path).await;
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), "/account/password", "{path}");
    }
    let r = post(&app, &nina_client, "/patients", &[("given_name", "Ada")]).await;
    assert_eq!(location(&r), "/account/password", "a form post is refused too");
    let r = nina_client.get(app.url("/api/v1/patients?q=ada")).send().await.unwrap();
    assert_eq!(r.status(), 403, "the API with her session");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = nina_client.get(app.url("/worklist")).header("hx-request", "true").send().await.unwrap();
    assert_eq!(r.headers()["hx-redirect"], "/account/password", "htmx goes to the page");
    assert_eq!(get(&app, &nina_client, "/static/kat.css").await.status(), 200);
    let page = get(&app, &nina_client, "/account/password").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("An administrator set a temporary password"));
    assert!(!page.contains("href=\"/patients\""), "no navigation while the change is due");

    // Choosing her own opens everything again; the temporary one no longer works.
    let r = change(&app, &nina_client, STRONG, STRONG_TWO, STRONG_TWO).await;
    assert_eq!(r.status(), 303);
    assert_eq!(get(&app, &nina_client, "/").await.status(), 200);
    assert_eq!(sign_in_with(&app, "nina", STRONG).await.1.status(), 401);
    let (_, r) = sign_in_with(&app, "nina", STRONG_TWO).await;
    assert_eq!(location(&r), "/", "no change due any more");

    // Signing out is open while a change is due.
    post(&app, &admin, &reset_path, &[("password", STRONG)]).await;
    let (c, _) = sign_in_with(&app, "nina", STRONG).await;
    let r = post(&app, &c, "/logout", &[]).await;
    assert_eq!(location(&r), "/login?signed_out=1");

    // An API client has no password to reset.
    let ctx = crate::support::cli_ctx(&app);
    let client_account = kat_app::users::create(
        app.store.as_ref(),
        &ctx,
        &kat_app::users::NewAccount {
            username: "robot",
            display_name: "",
            role: "front_desk",
            kind: kat_core::user::AccountKind::ApiClient,
            password: None,
        },
    )
    .await
    .unwrap();
    let r = post(&app, &admin, &format!("/admin/users/{}/password", client_account.id), &[("password", STRONG)]).await;
    assert_eq!(r.status(), 409, "an API client has no password");

    // Audited: two resets of her password by the admin.
    let resets = audit(&app, &admin_token, "")
        .await
        .into_iter()
        .filter(|e| e["resource_type"] == "password" && e["resource_id"] == nina.id.to_string())
        .filter(|e| e["actor"] == "admin" && e["outcome"] == "allowed")
        .count();
    assert_eq!(resets, 2);
    let _ = desk;
    app.stop().await;
}
on_both_databases!(an_admin_reset_forces_a_change_at_next_sign_in, admin_reset);

async fn rules_on_add(db: Db) {
    let app = app_or_skip!(db, manual());
    app.add_staff("admin", Role::Admin).await;
    let admin = signed_in(&app, "admin").await;
    for weak in ["aaaaaaaaaaaa", "password1234", "newbie-newbie-1"] {
        let r = post(
            &app,
            &admin,
            "/admin/users",
            &[("username", "newbie"), ("display_name", "New Bie"), ("role", "nurse"), ("password", weak)],
        )
        .await;
        assert_eq!(r.status(), 422, "{weak}");
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "password").is_some(), "{weak}: {html}");
    }
    let r = post(
        &app,
        &admin,
        "/admin/users",
        &[("username", "newbie"), ("display_name", "New Bie"), ("role", "nurse"), ("password", STRONG)],
    )
    .await;
    assert_eq!(r.status(), 303);
    app.stop().await;
}
on_both_databases!(a_new_account_s_password_follows_the_rules, rules_on_add);
