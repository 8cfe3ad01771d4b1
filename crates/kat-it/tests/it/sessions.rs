//! Sign-in, the session cookie, sign-out and session timeouts.

use crate::support::{audit, location, session_set_cookie, staff_with_token};
use jiff::{SignedDuration, Timestamp};
use kat_core::role::Role;
use kat_it::{Db, Options, TestApp, app_or_skip, on_both_databases, password_of};
use kat_web::config::WebConfig;

/// A GET with an explicit cookie (no cookie jar), not following redirects.
async fn get_with_cookie(app: &TestApp, path: &str, session: &str) -> reqwest::Response {
    app.client().get(app.url(path)).header("cookie", format!("kat_session={session}")).send().await.unwrap()
}

async fn login_as(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    password: &str,
    proto: Option<&str>,
) -> reqwest::Response {
    let mut req = client.post(app.url("/login")).header("origin", &app.base_url).form(&[
        ("username", username),
        ("password", password),
        ("next", "/patients"),
    ]);
    if let Some(p) = proto {
        req = req.header("x-forwarded-proto", p);
    }
    req.send().await.unwrap()
}

async fn anonymous_home_redirects_to_login(db: Db) {
    let app = app_or_skip!(db);
    let r = app.client().get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // `url_encode` keeps `/` as is (legal in a query string).
    assert_eq!(location(&r), "/login?next=/");
    let r = app.client().get(app.url("/patients?q=ada quinn")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/patients%3Fq%3Dada%2520quinn");
    // The login page itself is public.
    let r = app.client().get(app.url("/login?next=/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Sign in"));
    app.stop().await;
}
on_both_databases!(anonymous_home_redirects_to_login, anonymous_home_redirects_to_login);

async fn login_sets_a_fresh_hardened_cookie(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, admin) = staff_with_token(&app, "boss", Role::Admin).await;
    app.add_staff("nina", Role::Nurse).await;
    let client = app.client();

    // Wrong password: 401 page, no cookie, audited.
    let r = login_as(&app, &client, "nina", "not-the-password", None).await;
    assert_eq!(r.status(), 401);
    assert!(session_set_cookie(&r).is_none());
    let page = r.text().await.unwrap();
    assert!(page.contains("username or password is not right"), "{page}");
    // An unknown user is audited without recording the typed name.
    let r = login_as(&app, &client, "nobody-here", "whatever-password", None).await;
    assert_eq!(r.status(), 401);
    let failed: Vec<_> = audit(&app, &admin, "").await.into_iter().filter(|e| e["action"] == "login_failed").collect();
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert!(failed.iter().all(|e| e["outcome"] == "denied"));
    assert!(failed.iter().any(|e| e["actor"] == "nina" && e["user_id"].is_string()));
    assert!(failed.iter().any(|e| e["actor"] == "unknown user" && e["user_id"].is_null()));
    assert!(!serde_json::to_string(&failed).unwrap().contains("nobody-here"));

    // Right password over plain http: HttpOnly, SameSite=Lax, not Secure; to `next`.
    let r = login_as(&app, &client, "nina", &password_of("nina"), None).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/patients");
    let (first, header) = session_set_cookie(&r).expect("session cookie");
    assert!(first.starts_with("kat_s_") && first.len() > 40, "{first}");
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    assert!(header.contains("Path=/"), "{header}");
    assert!(!header.contains("Secure"), "{header}");
    assert_eq!(get_with_cookie(&app, "/", &first).await.status(), 200);

    // Behind a TLS proxy: Secure; and every sign-in gets a new session id.
    let r = login_as(&app, &client, "nina", &password_of("nina"), Some("https")).await;
    assert_eq!(r.status(), 303);
    let (second, header) = session_set_cookie(&r).expect("session cookie");
    assert!(header.contains("; Secure"), "{header}");
    assert_ne!(first, second);
    let logins =
        audit(&app, &admin, "").await.into_iter().filter(|e| e["action"] == "login" && e["actor"] == "nina").count();
    assert_eq!(logins, 2);

    // An open redirect is refused.
    let r = app
        .client()
        .post(app.url("/login"))
        .header("origin", &app.base_url)
        .form(&[("username", "nina"), ("password", password_of("nina").as_str()), ("next", "//evil.example/x")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/");
    app.stop().await;
}
on_both_databases!(login_sets_a_fresh_hardened_cookie, login_sets_a_fresh_hardened_cookie);

async fn disabled_staff_cannot_sign_in(db: Db) {
    let app = app_or_skip!(db);
    let user = app.add_staff("gone", Role::Therapist).await;
    kat_app::users::set_active(app.store.as_ref(), &crate::support::cli_ctx(&app), user.id, false).await.unwrap();
    let r = app.login(&app.client(), "gone").await;
    assert_eq!(r.status(), 401);
    assert!(session_set_cookie(&r).is_none());
    // An account disabled while signed in loses its open session at the next request.
    let nina = app.add_staff("nina", Role::Nurse).await;
    let r = app.login(&app.client(), "nina").await;
    let (secret, _) = session_set_cookie(&r).expect("cookie");
    assert_eq!(get_with_cookie(&app, "/", &secret).await.status(), 200);
    kat_app::users::set_active(app.store.as_ref(), &crate::support::cli_ctx(&app), nina.id, false).await.unwrap();
    let r = get_with_cookie(&app, "/", &secret).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login?next=/"), "{}", location(&r));
    let r = get_with_cookie(&app, "/api/v1/patients", &secret).await;
    assert_eq!(r.status(), 401);
    app.stop().await;
}
on_both_databases!(disabled_staff_cannot_sign_in, disabled_staff_cannot_sign_in);

async fn logout_ends_the_session(db: Db) {
    let app = app_or_skip!(db);
    app.add_staff("nina", Role::Nurse).await;
    let client = app.client();
    let r = app.login(&client, "nina").await;
    let (secret, _) = session_set_cookie(&r).expect("cookie");
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 200);

    let r = client.post(app.url("/logout")).header("origin", &app.base_url).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?signed_out=1");
    let (cleared, header) = session_set_cookie(&r).expect("cookie removal");
    assert_eq!(cleared, "");
    assert!(header.contains("Max-Age=0"), "{header}");

    // The old cookie, replayed, no longer works.
    let r = get_with_cookie(&app, "/", &secret).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login?next="), "{}", location(&r));
    let r = app
        .client()
        .get(app.url("/api/v1/patients"))
        .header("cookie", format!("kat_session={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}
on_both_databases!(logout_ends_the_session, logout_ends_the_session);

fn start() -> Timestamp {
    "2026-03-10T09:00:00Z".parse().unwrap()
}

async fn idle_sessions_expire(db: Db) {
    let config = WebConfig { idle_timeout: SignedDuration::from_mins(15), ..WebConfig::default() };
    let app = app_or_skip!(db, Options { manual_clock: Some(start()), config, ..Options::default() });
    let (_, _, admin) = staff_with_token(&app, "boss", Role::Admin).await;
    app.add_staff("nina", Role::Nurse).await;
    let r = app.login(&app.client(), "nina").await;
    let (secret, _) = session_set_cookie(&r).expect("cookie");

    // Activity just inside the idle limit keeps the session alive, again and again.
    for _ in 0..3 {
        app.advance(SignedDuration::from_secs(14 * 60 + 59));
        assert_eq!(get_with_cookie(&app, "/", &secret).await.status(), 200);
    }
    // Exactly the limit is still inside it.
    app.advance(SignedDuration::from_mins(15));
    assert_eq!(get_with_cookie(&app, "/patients", &secret).await.status(), 200);

    // More than 15 minutes idle: the next page sends the user to sign in, saying why.
    app.advance(SignedDuration::from_secs(15 * 60 + 1));
    let r = get_with_cookie(&app, "/", &secret).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/&expired=1");
    let (cleared, _) = session_set_cookie(&r).expect("expired cookie is removed");
    assert_eq!(cleared, "");
    let login_page = app.client().get(app.url(&location(&r))).send().await.unwrap().text().await.unwrap();
    assert!(login_page.contains("15 minutes without activity"), "{login_page}");

    let expired: Vec<_> =
        audit(&app, &admin, "").await.into_iter().filter(|e| e["action"] == "session_expired").collect();
    assert_eq!(expired.len(), 1, "{expired:#?}");
    assert_eq!(expired[0]["actor"], "nina");
    assert_eq!(expired[0]["remote_addr"], "127.0.0.1");

    // The session is gone, not merely refused once.
    let r = get_with_cookie(&app, "/", &secret).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/");
    app.stop().await;
}
on_both_databases!(idle_sessions_expire, idle_sessions_expire);

/// The session's stored last-seen time, read past the app.
async fn last_seen(app: &TestApp, secret: &str) -> Timestamp {
    let mut tx = app.store.begin_read().await.unwrap();
    tx.session_by_hash(&kat_app::auth::hash_secret(secret)).await.unwrap().expect("session").last_seen_at
}

async fn last_seen_is_written_once_per_granularity(db: Db) {
    let config = WebConfig { idle_timeout: SignedDuration::from_mins(15), ..WebConfig::default() };
    let app = app_or_skip!(db, Options { manual_clock: Some(start()), config, ..Options::default() });
    app.add_staff("nina", Role::Nurse).await;
    let r = app.login(&app.client(), "nina").await;
    let (secret, _) = session_set_cookie(&r).expect("cookie");
    let granularity = kat_app::auth::LAST_SEEN_GRANULARITY;
    assert_eq!(granularity, SignedDuration::from_secs(60));
    assert_eq!(last_seen(&app, &secret).await, start(), "signing in sets it");

    // Two requests within the granularity: one touch (the first, a minute after sign-in).
    app.advance(granularity);
    let first = app.now();
    assert_eq!(get_with_cookie(&app, "/", &secret).await.status(), 200);
    assert_eq!(last_seen(&app, &secret).await, first, "touched");
    app.advance(SignedDuration::from_secs(59));
    assert_eq!(get_with_cookie(&app, "/patients", &secret).await.status(), 200);
    assert_eq!(last_seen(&app, &secret).await, first, "not written again within the granularity");

    // A request after it: another touch.
    app.advance(SignedDuration::from_secs(1));
    let second = app.now();
    assert_eq!(get_with_cookie(&app, "/", &secret).await.status(), 200);
    assert_eq!(last_seen(&app, &secret).await, second);

    // The idle timeout still ends the session, measured from the last write: a request
    // 59 s after it was not written, so the session ends 15 min after `second`.
    app.advance(SignedDuration::from_secs(59));
    assert_eq!(get_with_cookie(&app, "/", &secret).await.status(), 200);
    app.advance(SignedDuration::from_secs(15 * 60 - 59 + 1));
    let r = get_with_cookie(&app, "/", &secret).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/&expired=1");
    app.stop().await;
}
on_both_databases!(last_seen_is_written_once_per_granularity, last_seen_is_written_once_per_granularity);

async fn token_last_use_is_written_once_per_granularity(db: Db) {
    let app = app_or_skip!(db, Options { manual_clock: Some(start()), ..Options::default() });
    let (_, record, token) = staff_with_token(&app, "nina", Role::Nurse).await;
    let last_used = || async {
        let mut tx = app.store.begin_read().await.unwrap();
        tx.list_tokens().await.unwrap().into_iter().find(|t| t.id == record.id).unwrap().last_used_at
    };
    let call = || async {
        let r = reqwest::Client::new().get(app.url("/api/v1/patients")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
    };
    assert_eq!(last_used().await, None);
    call().await;
    assert_eq!(last_used().await, Some(start()), "the first use is written");
    app.advance(SignedDuration::from_secs(59));
    call().await;
    assert_eq!(last_used().await, Some(start()), "not again within the granularity");
    app.advance(SignedDuration::from_secs(1));
    call().await;
    assert_eq!(last_used().await, Some(start() + SignedDuration::from_secs(60)));
    app.stop().await;
}
on_both_databases!(token_last_use_is_written_once_per_granularity, token_last_use_is_written_once_per_granularity);

async fn sessions_end_after_the_absolute_timeout(db: Db) {
    let config = WebConfig {
        idle_timeout: SignedDuration::from_mins(15),
        absolute_timeout: SignedDuration::from_hours(1),
        ..WebConfig::default()
    };
    let app = app_or_skip!(db, Options { manual_clock: Some(start()), config, ..Options::default() });
    let (_, _, admin) = staff_with_token(&app, "boss", Role::Admin).await;
    app.add_staff("nina", Role::Nurse).await;
    let r = app.login(&app.client(), "nina").await;
    let (secret, _) = session_set_cookie(&r).expect("cookie");
    // Busy all hour: every 10 minutes.
    for _ in 0..6 {
        app.advance(SignedDuration::from_mins(10));
        assert_eq!(get_with_cookie(&app, "/", &secret).await.status(), 200);
    }
    // One hour and a second after sign-in, however busy.
    app.advance(SignedDuration::from_secs(1));
    let r = get_with_cookie(&app, "/", &secret).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/&expired=1");
    let expired = audit(&app, &admin, "").await.into_iter().filter(|e| e["action"] == "session_expired").count();
    assert_eq!(expired, 1);
    // A fresh sign-in works again.
    let r = app.login(&app.client(), "nina").await;
    let (fresh, _) = session_set_cookie(&r).expect("cookie");
    assert_eq!(get_with_cookie(&app, "/", &fresh).await.status(), 200);
    app.stop().await;
}
on_both_databases!(sessions_end_after_the_absolute_timeout, sessions_end_after_the_absolute_timeout);
