//! Two-step sign-in (issue 12 item 2), over HTTP on both databases: an enrolled account
//! types its app's code after the password; the half-done sign-in reaches nothing and
//! expires; a wrong code counts as a failed sign-in; a role the clinic requires to enrol
//! is sent to enrol and reaches nothing else until it has; enrolment with the QR code
//! and a first code; recovery codes work once; an admin's reset. All audited.

use crate::dosing::manual;
use crate::support::{audit, location, staff_with_token};
use jiff::SignedDuration;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases, password_of, totp_secret_of};

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(path)).header("origin", &app.base_url).form(form).send().await.unwrap()
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.get(app.url(path)).send().await.unwrap()
}

async fn password_step(app: &TestApp, client: &reqwest::Client, username: &str) -> reqwest::Response {
    post(app, client, "/login", &[("username", username), ("password", &password_of(username)), ("next", "/patients")])
        .await
}

/// The code the account's app shows `k` steps from now.
fn code_at(app: &TestApp, username: &str, k: i64) -> String {
    totp_secret_of(username).code_at(app.now() + SignedDuration::from_secs(30 * k))
}

async fn enrolled_user_needs_the_code(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    app.add_staff("priya", Role::Prescriber).await;
    let client = app.client();

    // The password alone: no session, only the code page.
    let r = password_step(&app, &client, "priya").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login/code?next=/patients");
    let cookies: Vec<String> =
        r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(cookies.iter().all(|c| !c.starts_with("kat_session=")), "no session yet: {cookies:?}");
    assert!(cookies.iter().any(|c| c.contains("Path=/login/code") && c.contains("HttpOnly")), "{cookies:?}");
    assert_eq!(get(&app, &client, "/login/code").await.status(), 200);

    // Half signed in: no page, no API.
    let r = get(&app, &client, "/patients").await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    assert_eq!(get(&app, &client, "/api/v1/patients").await.status(), 401);

    // A wrong code is refused and is a failed sign-in; a malformed one names the code.
    let r = post(&app, &client, "/login/code", &[("code", &code_at(&app, "priya", 3)), ("next", "/patients")]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("is not the current code"));
    let r = post(&app, &client, "/login/code", &[("code", "12ab"), ("next", "/patients")]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("must be the 6 digits"));
    assert_eq!(get(&app, &client, "/api/v1/patients").await.status(), 401, "still nothing");

    // The code of the previous step (clock drift) signs in, to where it was going.
    let r = post(&app, &client, "/login/code", &[("code", &code_at(&app, "priya", -1)), ("next", "/patients")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/patients");
    assert_eq!(get(&app, &client, "/patients").await.status(), 200);
    assert_eq!(get(&app, &client, "/api/v1/patients").await.status(), 200, "the session reaches the API");

    // The same code again, in another sign-in: refused (a code is accepted once).
    let other = app.client();
    password_step(&app, &other, "priya").await;
    let r = post(&app, &other, "/login/code", &[("code", &code_at(&app, "priya", -1))]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("already been used"));

    let entries = audit(&app, &admin, "").await;
    let priya = |e: &&serde_json::Value| e["actor"] == "priya";
    let of = |action: &str, resource: &str| {
        entries.iter().filter(|e| e["action"] == action && e["resource_type"] == resource).filter(priya).count()
    };
    assert_eq!(of("login", "sign_in_challenge"), 2, "each right password, audited");
    assert_eq!(of("login", "session"), 1, "one sign-in completed");
    assert_eq!(of("login_failed", "session"), 3, "the wrong, malformed and reused codes");
}
on_both_databases!(enrolled_user_needs_the_code, enrolled_user_needs_the_code);

async fn wrong_codes_are_throttled_and_the_challenge_expires(db: Db) {
    let app = app_or_skip!(db, manual());
    app.add_staff("priya", Role::Prescriber).await;
    let client = app.client();
    password_step(&app, &client, "priya").await;
    for _ in 0..3 {
        assert_eq!(post(&app, &client, "/login/code", &[("code", "000000")]).await.status(), 401);
    }
    // The fourth try, even with the right code, waits (the sign-in throttle).
    let r = post(&app, &client, "/login/code", &[("code", &code_at(&app, "priya", 0))]).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    // Past the challenge's lifetime the right code is no use: sign in again.
    app.advance(SignedDuration::from_secs(5 * 60 + 1));
    let r = post(&app, &client, "/login/code", &[("code", &code_at(&app, "priya", 0))]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Please sign in again"));
    assert_eq!(get(&app, &client, "/api/v1/patients").await.status(), 401);
    // From the password again, with the code, it works.
    assert_eq!(app.login(&client, "priya").await.status(), 303);
    assert_eq!(get(&app, &client, "/api/v1/patients").await.status(), 200);
}
on_both_databases!(
    wrong_codes_are_throttled_and_the_challenge_expires,
    wrong_codes_are_throttled_and_the_challenge_expires
);

async fn a_required_role_must_enrol_before_anything_else(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let dana = app.add_staff_unenrolled("dana", Role::Prescriber).await;
    let client = app.client();
    let r = password_step(&app, &client, "dana").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/mfa", "straight to enrolling");
    for path in ["/", "/patients", "/account/password"] {
        let r = get(&app, &client, path).await;
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), "/account/mfa", "{path}");
    }
    let r = client.get(app.url("/patients")).header("hx-request", "true").send().await.unwrap();
    assert_eq!(r.headers()["hx-redirect"], "/account/mfa");
    assert_eq!(get(&app, &client, "/api/v1/patients").await.status(), 403);

    // The enrolment page: an inline SVG QR code and the key as text; reloading keeps it.
    let page = get(&app, &client, "/account/mfa").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("aria-label=\"QR code"), "inline SVG");
    assert!(!html.contains("aria-label=\"Main\""), "no navigation until enrolled");
    let secret_text = between(&html, "<code id=\"mfa-secret\">", "</code>");
    let again = get(&app, &client, "/account/mfa").await.text().await.unwrap();
    assert_eq!(between(&again, "<code id=\"mfa-secret\">", "</code>"), secret_text, "the same pending secret");
    let secret = kat_core::mfa::TotpSecret::from_base32(&secret_text).unwrap();

    // A wrong first code: refused naming the code; the right one turns it on and shows
    // ten recovery codes once.
    let r = post(&app, &client, "/account/mfa", &[("code", "123456")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("The code is not the current code"));
    let r = post(&app, &client, "/account/mfa", &[("code", &secret.code_at(app.now()))]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("shown only now"));
    let codes: Vec<String> =
        html.split("<li><code>").skip(1).map(|s| s.split("</code>").next().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    let html = get(&app, &client, "/account/mfa").await.text().await.unwrap();
    assert!(html.contains("Two-step sign-in is on") && !html.contains(&codes[0]), "not shown again");

    // Now enrolled, everything is open; the next sign-in asks the code.
    let r = get(&app, &client, "/patients").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("aria-label=\"Main\""), "the navigation is back");
    let next = app.client();
    assert!(location(&password_step(&app, &next, "dana").await).starts_with("/login/code"));

    // A recovery code signs in once.
    let r = post(&app, &next, "/login/code", &[("code", &codes[3].to_uppercase())]).await;
    assert_eq!(r.status(), 303, "a recovery code, any case");
    let third = app.client();
    password_step(&app, &third, "dana").await;
    let r = post(&app, &third, "/login/code", &[("code", &codes[3])]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("not one of your unused recovery codes"));
    let entries = audit(&app, &admin, "").await;
    let of = |action: &str, resource: &str, outcome: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["resource_type"] == resource && e["outcome"] == outcome)
            .filter(|e| e["resource_id"] == dana.id.to_string())
            .count()
    };
    assert_eq!(of("create", "mfa", "allowed"), 1, "one secret made");
    assert_eq!(of("update", "mfa", "denied"), 1, "the wrong first code");
    assert_eq!(of("update", "mfa", "allowed"), 1, "enrolled");
    assert_eq!(of("update", "mfa_recovery_code", "allowed"), 1, "a recovery code used");
    let html = get(&app, &next, "/account/mfa").await.text().await.unwrap();
    assert!(html.contains("9 recovery codes left unused"), "{html}");
}
on_both_databases!(a_required_role_must_enrol_before_anything_else, a_required_role_must_enrol_before_anything_else);

fn between(html: &str, start: &str, end: &str) -> String {
    let from = html.find(start).unwrap_or_else(|| panic!("{start} in page")) + start.len();
    html[from..from + html[from..].find(end).unwrap()].to_string()
}

async fn other_roles_may_enrol_and_tokens_are_unaffected(db: Db) {
    let app = app_or_skip!(db, manual());
    app.add_staff("nina", Role::Nurse).await;
    let client = app.client();
    // Optional for a nurse: signed in straight away, the page offers it.
    assert_eq!(app.login(&client, "nina").await.status(), 303);
    assert_eq!(get(&app, &client, "/patients").await.status(), 200);
    let html = get(&app, &client, "/patients").await.text().await.unwrap();
    assert!(html.contains("href=\"/account/mfa\""), "the header links it");
    let html = get(&app, &client, "/account/mfa").await.text().await.unwrap();
    assert!(!html.contains("The clinic asks your role"), "not required");
    // An unenrolled prescriber's API token works (tokens are not sessions).
    let dana = app.add_staff_unenrolled("dana", Role::Prescriber).await;
    let ctx = crate::support::cli_ctx(&app);
    let (_, token) = kat_app::auth::create_token(app.store.as_ref(), &ctx, &dana, "lab").await.unwrap();
    let r = reqwest::Client::new().get(app.url("/api/v1/patients")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
on_both_databases!(other_roles_may_enrol_and_tokens_are_unaffected, other_roles_may_enrol_and_tokens_are_unaffected);

async fn an_admin_resets_two_step_sign_in(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin_token) = staff_with_token(&app, "admin", Role::Admin).await;
    let priya = app.add_staff("priya", Role::Prescriber).await;
    let admin = app.client();
    assert_eq!(app.login(&admin, "admin").await.status(), 303);
    let phone_lost = app.client();
    assert_eq!(app.login(&phone_lost, "priya").await.status(), 303);
    assert_eq!(get(&app, &phone_lost, "/patients").await.status(), 200);

    let users = get(&app, &admin, "/admin/users").await.text().await.unwrap();
    assert!(users.contains(&format!("/admin/users/{}/mfa-reset", priya.id)));
    let r = post(&app, &admin, &format!("/admin/users/{}/mfa-reset", priya.id), &[]).await;
    assert_eq!(r.status(), 303);
    // Her sessions ended; the next sign-in asks no code but sends her to enrol again.
    assert_ne!(get(&app, &phone_lost, "/patients").await.status(), 200);
    let client = app.client();
    let r = password_step(&app, &client, "priya").await;
    assert_eq!(location(&r), "/account/mfa");
    // The old codes are gone with it: a fresh enrolment makes a new secret.
    let mut tx = app.store.begin_read().await.unwrap();
    assert_eq!(tx.unused_recovery_codes(priya.id).await.unwrap(), 0);
    assert!(tx.mfa_of(priya.id).await.unwrap().is_none());
    tx.commit().await.unwrap();
    let entries = audit(&app, &admin_token, "").await;
    let resets = entries
        .iter()
        .filter(|e| e["action"] == "delete" && e["resource_type"] == "mfa" && e["resource_id"] == priya.id.to_string())
        .count();
    assert_eq!(resets, 1, "the reset is audited");

    // A non-admin cannot reset anyone's.
    let nurse = app.client();
    app.add_staff("nina", Role::Nurse).await;
    app.login(&nurse, "nina").await;
    let r = post(&app, &nurse, &format!("/admin/users/{}/mfa-reset", priya.id), &[]).await;
    assert_eq!(r.status(), 403);
}
on_both_databases!(an_admin_resets_two_step_sign_in, an_admin_resets_two_step_sign_in);
