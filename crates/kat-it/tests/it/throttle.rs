//! Sign-in throttling and lockout (issue 12 item 3), over HTTP on both databases: per
//! account (whatever the address) and per client address (whatever the name), the first
//! failures are answered at once, the next try waits, and enough failures lock until the
//! lock passes or an admin lifts it; an attempt that comes too soon is not judged (even
//! with the right password) and gets 429 with Retry-After.

use crate::dosing::manual;
use crate::support::{audit, staff_with_token};
use jiff::SignedDuration;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases, password_of};

async fn sign_in(app: &TestApp, from: &str, username: &str, password: &str) -> reqwest::Response {
    app.client()
        .post(app.url("/login"))
        .header("origin", &app.base_url)
        // The test client is on loopback, a trusted proxy by default: the forwarded
        // address is the client's.
        .header("x-forwarded-for", from)
        .form(&[("username", username), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap()
}

async fn throttled(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let nina = app.add_staff("nina", Role::Nurse).await;
    let right = &password_of("nina");

    // Per account: three failures from three addresses are answered at once…
    for i in 1..=3 {
        assert_eq!(sign_in(&app, &format!("203.0.113.{i}"), "nina", "wrong-password-1").await.status(), 401);
    }
    // …the fourth at once, from yet another address and with the right password, waits.
    let r = sign_in(&app, "203.0.113.4", "nina", right).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
    // At the end of the wait it is judged: the right password signs in and clears the count.
    app.advance(SignedDuration::from_secs(2));
    assert_eq!(sign_in(&app, "203.0.113.5", "nina", right).await.status(), 303);
    assert_eq!(sign_in(&app, "203.0.113.6", "nina", "wrong-password-2").await.status(), 401, "counting from zero");
    app.advance(SignedDuration::from_secs(1));

    // Ten failures (each after its wait) lock the account: the right password is refused.
    for i in 1..=9 {
        app.advance(SignedDuration::from_secs(61));
        assert_eq!(sign_in(&app, &format!("198.51.100.{i}"), "nina", "wrong").await.status(), 401, "failure {i}");
    }
    app.advance(SignedDuration::from_secs(61));
    assert_eq!(sign_in(&app, "198.51.100.50", "nina", right).await.status(), 429, "locked");
    let locks = audit(&app, &admin, "").await.into_iter().filter(|e| e["resource_type"] == "sign_in_lock").count();
    assert_eq!(locks, 1, "the lock is audited once");
    // An admin lifts it.
    let ctx = crate::support::cli_ctx(&app);
    assert!(kat_app::auth::unlock_account(app.store.as_ref(), &ctx, &nina).await.unwrap());
    assert_eq!(sign_in(&app, "198.51.100.51", "nina", right).await.status(), 303);

    // Per address: failures with names that are no account throttle that address for
    // every name, and no one else.
    for _ in 0..3 {
        assert_eq!(sign_in(&app, "192.0.2.66", "nobody-here", "guess").await.status(), 401);
    }
    assert_eq!(sign_in(&app, "192.0.2.66", "nina", right).await.status(), 429);
    assert_eq!(sign_in(&app, "192.0.2.67", "nina", right).await.status(), 303);
    // A lock passes by itself: ten failures from the address, then the lock time.
    for _ in 0..7 {
        app.advance(SignedDuration::from_secs(61));
        sign_in(&app, "192.0.2.66", "nobody-here", "guess").await;
    }
    app.advance(SignedDuration::from_secs(61));
    assert_eq!(sign_in(&app, "192.0.2.66", "nina", right).await.status(), 429, "the address is locked");
    app.advance(SignedDuration::from_mins(15));
    assert_eq!(sign_in(&app, "192.0.2.66", "nina", right).await.status(), 303, "the lock has passed");
    app.stop().await;
}
on_both_databases!(sign_in_is_throttled_and_locked_per_account_and_per_address, throttled);

async fn get_from(app: &TestApp, from: &str, path: &str) -> reqwest::Response {
    app.client().get(app.url(path)).header("x-forwarded-for", from).send().await.unwrap()
}

/// One-time links are credentials: an address that keeps presenting unknown ones waits,
/// then is locked, on the self-report and the safety-plan routes alike; other addresses
/// are not affected.
async fn links_throttled(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    for i in 0..3 {
        let r = get_from(&app, "203.0.113.80", &format!("/r/kat_l_guess{i}")).await;
        assert_eq!(r.status(), 410, "an unknown link says so: {i}");
    }
    let r = get_from(&app, "203.0.113.80", "/s/kat_p_guess").await;
    assert_eq!(r.status(), 429, "the fourth try at once waits, on either link route");
    assert!(r.text().await.unwrap().contains("Too many attempts"));
    assert_eq!(get_from(&app, "203.0.113.81", "/r/kat_l_other").await.status(), 410, "another address is free");
    // Ten unknown links lock the address; the lock is audited once, not every guess.
    for _ in 0..7 {
        app.advance(SignedDuration::from_secs(61));
        get_from(&app, "203.0.113.80", "/s/kat_p_guess").await;
    }
    app.advance(SignedDuration::from_secs(61));
    assert_eq!(get_from(&app, "203.0.113.80", "/r/kat_l_guess").await.status(), 429, "locked");
    let locks = audit(&app, &admin, "").await;
    let locks = locks.iter().filter(|e| e["resource_type"] == "sign_in_lock" && e["resource_id"] == "link").count();
    assert_eq!(locks, 1);
    app.advance(SignedDuration::from_mins(15));
    assert_eq!(get_from(&app, "203.0.113.80", "/r/kat_l_guess").await.status(), 410, "the lock has passed");
    app.stop().await;
}
on_both_databases!(unknown_one_time_links_are_throttled_per_address, links_throttled);

/// Anonymous failures (issue 12 item 3): sign-ins under unknown names are audited once per
/// client address and window and only counted after that; another address, or the next
/// window, has its own entry; a failure of a known account, and any refusal that names a
/// patient, is audited every time.
async fn anonymous_windows(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    app.add_staff("nina", Role::Nurse).await;
    let entries_from = |all: &[serde_json::Value], from: &str| {
        all.iter().filter(|e| e["remote_addr"] == from && e["outcome"] == "denied").cloned().collect::<Vec<_>>()
    };
    for _ in 0..3 {
        assert_eq!(sign_in(&app, "203.0.113.90", "nobody-here", "wrong-password-1").await.status(), 401);
    }
    app.advance(SignedDuration::from_secs(2));
    assert_eq!(sign_in(&app, "203.0.113.90", "nobody-else", "wrong-password-1").await.status(), 401);
    assert_eq!(sign_in(&app, "203.0.113.91", "nobody-here", "wrong-password-1").await.status(), 401);
    let all = audit(&app, &admin, "").await;
    let first = entries_from(&all, "203.0.113.90");
    assert_eq!(first.len(), 1, "four anonymous failures, one entry: {first:?}");
    assert_eq!((first[0]["actor"].as_str(), first[0]["action"].as_str()), (Some("unknown user"), Some("login_failed")));
    assert_eq!(entries_from(&all, "203.0.113.91").len(), 1, "another address has its own");
    // A known account's failure is always its own entry.
    assert_eq!(sign_in(&app, "203.0.113.92", "nina", "wrong-password-1").await.status(), 401);
    assert_eq!(sign_in(&app, "203.0.113.92", "nina", "wrong-password-2").await.status(), 401);
    assert_eq!(entries_from(&audit(&app, &admin, "").await, "203.0.113.92").len(), 2);
    // The next window (15 minutes by default) starts a new entry.
    app.advance(SignedDuration::from_mins(15));
    assert_eq!(sign_in(&app, "203.0.113.90", "nobody-here", "wrong-password-1").await.status(), 401);
    assert_eq!(entries_from(&audit(&app, &admin, "").await, "203.0.113.90").len(), 2);
    // The counts are kept, latest window first, and reading them is audited.
    let ctx = crate::support::cli_ctx(&app);
    let windows =
        kat_app::audit_log::anonymous_failures(app.store.as_ref(), &ctx, kat_core::page::PageRequest::first(10))
            .await
            .unwrap();
    let counts: Vec<(&str, i64)> = windows.items.iter().map(|w| (w.source.as_str(), w.failures)).collect();
    assert!(counts.contains(&("203.0.113.90", 4)), "{counts:?}");
    assert!(counts.contains(&("203.0.113.90", 1)), "{counts:?}");
    assert!(counts.contains(&("203.0.113.91", 1)), "{counts:?}");
    assert_eq!(windows.items[0].source, "203.0.113.90", "the latest window first");
    // A refusal that names a patient is never folded into a count.
    let patient = crate::support::create_patient(&app, &desk_token(&app).await, &crate::support::ada()).await;
    let patient: kat_core::ids::PatientId = patient["id"].as_str().unwrap().parse().unwrap();
    let anon =
        kat_app::Ctx::new(kat_app::Actor::Anonymous, "203.0.113.93".into(), None, app.now(), &jiff::tz::TimeZone::UTC);
    for _ in 0..3 {
        kat_app::record_denial(
            app.store.as_ref(),
            &anon,
            kat_core::audit::AuditAction::Read,
            "patient",
            None,
            Some(patient),
        )
        .await
        .unwrap();
        kat_app::record_denial(app.store.as_ref(), &anon, kat_core::audit::AuditAction::Read, "patient", None, None)
            .await
            .unwrap();
    }
    let from_93 = entries_from(&audit(&app, &admin, "").await, "203.0.113.93");
    assert_eq!(from_93.iter().filter(|e| e["patient_id"].is_string()).count(), 3, "each refusal naming a patient");
    assert_eq!(from_93.iter().filter(|e| e["patient_id"].is_null()).count(), 1, "the rest counted");
    app.stop().await;
}
on_both_databases!(anonymous_failures_are_audited_once_per_address_and_window, anonymous_windows);

async fn desk_token(app: &TestApp) -> String {
    staff_with_token(app, "desk", Role::FrontDesk).await.2
}
