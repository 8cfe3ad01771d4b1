//! Bearer tokens and role checks on the API.

use crate::support::{audit, cli_ctx, expect_problem, staff_with_token};
use kat_app::{auth, users};
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};

async fn get_patients(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(app.url("/api/v1/patients"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn unauthenticated_calls_get_401(db: Db) {
    let app = app_or_skip!(db);
    // No credentials at all.
    let r = get_patients(&app, None).await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers().get("www-authenticate").expect("WWW-Authenticate").to_str().unwrap().to_string();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    expect_problem(r, 401).await;
    // Also for a write.
    let r = reqwest::Client::new().post(app.url("/api/v1/patients")).json(&crate::support::ada()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));

    // A token nobody issued.
    let r = get_patients(&app, Some("kat_t_0000000000000000000000000000000000000000000000000000000000000000")).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    // A malformed Authorization header.
    let r = reqwest::Client::new()
        .get(app.url("/api/v1/patients"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A revoked token stops working at once.
    let (_, record, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    assert_eq!(get_patients(&app, Some(&token)).await.status(), 200);
    auth::revoke_token(app.store.as_ref(), &cli_ctx(&app), record.id).await.unwrap();
    let r = get_patients(&app, Some(&token)).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));

    // A disabled account's token stops working, and enabling the account again does not
    // revive it (issue 12 item 4): the account needs a new token.
    let (user, _, token) = staff_with_token(&app, "nurse", Role::Nurse).await;
    assert_eq!(get_patients(&app, Some(&token)).await.status(), 200);
    users::set_active(app.store.as_ref(), &cli_ctx(&app), user.id, false).await.unwrap();
    assert_eq!(get_patients(&app, Some(&token)).await.status(), 401);
    users::set_active(app.store.as_ref(), &cli_ctx(&app), user.id, true).await.unwrap();
    assert_eq!(get_patients(&app, Some(&token)).await.status(), 401);
    app.stop().await;
}
on_both_databases!(unauthenticated_calls_get_401, unauthenticated_calls_get_401);

async fn only_admins_read_the_audit_log_and_denials_are_audited(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, admin) = staff_with_token(&app, "boss", Role::Admin).await;
    for (name, role) in
        [("desk", Role::FrontDesk), ("nurse", Role::Nurse), ("doc", Role::Prescriber), ("therapist", Role::Therapist)]
    {
        let (user, _, token) = staff_with_token(&app, name, role).await;
        let r = reqwest::Client::new().get(app.url("/api/v1/audit")).bearer_auth(&token).send().await.unwrap();
        let p = expect_problem(r, 403).await;
        assert_eq!(p["title"], "Forbidden");
        let mine = audit(&app, &admin, &format!("?user={}", user.id)).await;
        let denied: Vec<_> = mine
            .iter()
            .filter(|e| e["outcome"] == "denied" && e["resource_type"] == "audit_log" && e["action"] == "list")
            .collect();
        assert_eq!(denied.len(), 1, "{role:?}: {mine:#?}");
        assert_eq!(denied[0]["actor"], name);
        assert_eq!(denied[0]["remote_addr"], "127.0.0.1");
        assert!(denied[0]["request_id"].is_string());
    }
    // The admin can, and the reading is itself audited.
    let entries = audit(&app, &admin, "").await;
    assert!(!entries.is_empty());
    let entries = audit(&app, &admin, "").await;
    assert!(
        entries.iter().any(|e| e["actor"] == "boss" && e["resource_type"] == "audit_log" && e["outcome"] == "allowed")
    );
    // Newest first.
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    app.stop().await;
}
on_both_databases!(
    only_admins_read_the_audit_log_and_denials_are_audited,
    only_admins_read_the_audit_log_and_denials_are_audited
);

/// An API token works for the clinic's token lifetime (90 days by default) and not a
/// moment longer; disabling its account revokes it for good (enabling the account again
/// revives nothing).
async fn tokens_expire_and_die_with_their_account(db: Db) {
    let app = app_or_skip!(
        db,
        kat_it::Options { manual_clock: Some("2026-03-10T14:00:00Z".parse().unwrap()), ..Default::default() }
    );
    let (_, _, token) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    let (user, _, other) = staff_with_token(&app, "desk2", Role::FrontDesk).await;
    assert_eq!(get_patients(&app, Some(&token)).await.status(), 200);
    app.advance(jiff::SignedDuration::from_hours(90 * 24) - jiff::SignedDuration::from_secs(1));
    assert_eq!(get_patients(&app, Some(&token)).await.status(), 200, "the last second of its 90 days");
    app.advance(jiff::SignedDuration::from_secs(1));
    assert_eq!(get_patients(&app, Some(&token)).await.status(), 401, "expired");

    // `other` was made at the same time: expired too. A fresh one for the account…
    assert_eq!(get_patients(&app, Some(&other)).await.status(), 401);
    let (_, fresh) = auth::create_token(app.store.as_ref(), &cli_ctx(&app), &user, "again").await.unwrap();
    assert_eq!(get_patients(&app, Some(&fresh)).await.status(), 200);
    // …dies when the account is disabled, and stays dead once it is enabled again.
    users::set_active(app.store.as_ref(), &cli_ctx(&app), user.id, false).await.unwrap();
    users::set_active(app.store.as_ref(), &cli_ctx(&app), user.id, true).await.unwrap();
    assert_eq!(get_patients(&app, Some(&fresh)).await.status(), 401);
    app.stop().await;
}
on_both_databases!(api_tokens_expire_and_die_with_their_account, tokens_expire_and_die_with_their_account);
