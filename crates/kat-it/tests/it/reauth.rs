//! Confirming who is at the keyboard at a sensitive step (issue 12 items 2 and 8), over
//! HTTP on both databases: a medical director's override, breaking the glass, the
//! medical-director flag and new recovery codes ask, at that moment, for the code of the
//! account's authenticator app (its password when it has no two-step sign-in). A missing
//! confirmation is a per-field error beside the others; a wrong one is audited and
//! throttled like a failed sign-in; a code is accepted once.

use crate::dosing::{manual, post};
use crate::support::{ada, audit, create_patient, expect_problem, problem_fields, staff_with_token};
use jiff::SignedDuration;
use kat_core::role::Role;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases, password_of, recovery_codes_of};
use serde_json::json;

/// The latest audit entries of `resource_type` by `actor`: (action, outcome).
async fn entries_of(app: &TestApp, admin: &str, resource_type: &str, actor: &str) -> Vec<(String, String)> {
    audit(app, admin, "")
        .await
        .iter()
        .filter(|e| e["resource_type"] == resource_type && e["actor"] == actor)
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["outcome"].as_str().unwrap().to_string()))
        .collect()
}

async fn break_glass_confirmed(db: Db) {
    let app = app_or_skip!(db, kat_it::Options { scoped_access: true, ..manual() });
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let (_, _, desk) = staff_with_token(&app, "desk", Role::FrontDesk).await;
    // A prescriber (enrolled: the code) and a therapist (not enrolled: the password).
    let (_, _, rex) = staff_with_token(&app, "rex", Role::Prescriber).await;
    let (_, _, theo) = staff_with_token(&app, "theo", Role::Therapist).await;
    let id = create_patient(&app, &desk, &ada()).await["id"].as_str().unwrap().to_string();
    let bg = format!("/api/v1/patients/{id}/break-glass");
    let reason = "Covering tonight, patient in crisis";

    // Missing: named, not counted, not audited as a failure.
    let p = expect_problem(post(&app, &bg, &rex, json!({"reason": reason})).await, 422).await;
    assert_eq!(problem_fields(&p), ["reauth_code"], "{p}");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("authenticator app"), "{p}");
    let p = expect_problem(post(&app, &bg, &theo, json!({"reason": reason})).await, 422).await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("your password"), "{p}");
    assert!(entries_of(&app, &admin, "reauth", "rex").await.is_empty());
    // An enrolled account's password is not its second factor.
    let p =
        expect_problem(post(&app, &bg, &rex, json!({"reason": reason, "reauth_code": password_of("rex")})).await, 422)
            .await;
    assert_eq!(problem_fields(&p), ["reauth_code"], "{p}");
    assert_eq!(entries_of(&app, &admin, "reauth", "rex").await, [("login_failed".into(), "denied".into())]);
    // A wrong password, sent apart, is named where it was sent.
    let p = expect_problem(
        post(&app, &bg, &theo, json!({"reason": reason, "reauth_password": "not-the-password"})).await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&p), ["reauth_password"], "{p}");
    // The right ones open the record, each audited as a confirmation.
    let code = app.next_code("rex").await.unwrap();
    let r = post(&app, &bg, &rex, json!({"reason": reason, "reauth_code": code})).await;
    assert_eq!(r.status(), 201);
    let r = post(&app, &bg, &theo, json!({"reason": reason, "reauth_password": password_of("theo")})).await;
    assert_eq!(r.status(), 201);
    assert!(entries_of(&app, &admin, "reauth", "rex").await.contains(&("login".into(), "allowed".into())));
    assert!(entries_of(&app, &admin, "reauth", "theo").await.contains(&("login".into(), "allowed".into())));
    // A code is accepted once: the same code again is refused.
    let p = expect_problem(post(&app, &bg, &rex, json!({"reason": reason, "reauth_code": code})).await, 422).await;
    assert_eq!(problem_fields(&p), ["reauth_code"], "{p}");

    // Wrong confirmations are throttled like failed sign-ins: after three, the next waits.
    for _ in 0..2 {
        let r = post(&app, &bg, &theo, json!({"reason": reason, "reauth_code": "wrong-password"})).await;
        assert_eq!(r.status(), 422);
    }
    let r = post(&app, &bg, &theo, json!({"reason": reason, "reauth_code": password_of("theo")})).await;
    assert_eq!(r.status(), 429, "the fourth try comes too soon, even with the right password");
    app.advance(SignedDuration::from_secs(2));
    let r = post(&app, &bg, &theo, json!({"reason": reason, "reauth_code": password_of("theo")})).await;
    assert_eq!(r.status(), 201, "after the wait it is judged");
    app.stop().await;
}
on_both_databases!(breaking_the_glass_is_confirmed_with_the_code_or_the_password, break_glass_confirmed);

async fn director_flag_and_recovery_codes(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let rex = app.add_staff("rex", Role::Prescriber).await;
    let plain = app.add_staff_unenrolled("plain", Role::Admin).await;
    let client = app.client();
    app.login(&client, "admin").await;
    let flag = app.url(&format!("/admin/users/{}/medical-director", rex.id));
    let send = |form: Vec<(&'static str, String)>| {
        let client = client.clone();
        let flag = flag.clone();
        let origin = app.base_url.clone();
        async move { client.post(&flag).header("origin", origin).form(&form).send().await.unwrap() }
    };
    let reason = || ("reason", "Appointed medical director by the board".to_string());
    let r = send(vec![("active", "true".into()), reason()]).await;
    assert_eq!(r.status(), 422, "no code");
    assert!(r.text().await.unwrap().contains("authenticator app"));
    let r = send(vec![("active", "true".into()), reason(), ("reauth_code", "000000".into())]).await;
    assert_eq!(r.status(), 422, "a wrong code");
    assert!(!kat_app::intake::is_medical_director(app.store.as_ref(), rex.id).await.unwrap());
    let r =
        send(vec![("active", "true".into()), reason(), ("reauth_code", app.next_code("admin").await.unwrap())]).await;
    assert_eq!(r.status(), 303);
    assert!(kat_app::intake::is_medical_director(app.store.as_ref(), rex.id).await.unwrap());
    // An admin without two-step sign-in cannot grant it, even with the password.
    let as_plain = kat_app::Ctx::new(
        kat_app::Actor::User(plain.clone()),
        "127.0.0.1".into(),
        None,
        app.now(),
        &jiff::tz::TimeZone::UTC,
    );
    let refused = kat_app::intake::set_medical_director(
        app.store.as_ref(),
        &as_plain,
        rex.id,
        false,
        "Stepping down at the end of the month",
        kat_app::reauth::Reauth { code: &password_of("plain"), password: "" },
    )
    .await;
    match refused {
        Err(kat_app::AppError::Invalid(e)) => {
            assert!(e.for_field("reauth_code").unwrap().contains("needs two-step sign-in"), "{e}")
        }
        other => panic!("expected a per-field refusal, got {other:?}"),
    }

    // New recovery codes: confirmed with a code; the old ones stop working.
    app.advance(SignedDuration::from_secs(60));
    let new_codes = app.url("/account/mfa/recovery-codes");
    let post_codes = |code: String| {
        let client = client.clone();
        let url = new_codes.clone();
        let origin = app.base_url.clone();
        async move { client.post(&url).header("origin", origin).form(&[("reauth_code", code)]).send().await.unwrap() }
    };
    assert_eq!(post_codes("123".into()).await.status(), 422);
    let r = post_codes(app.next_code("admin").await.unwrap()).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("New recovery codes made"), "{html}");
    let shown: Vec<String> =
        html.split("<li><code>").skip(1).filter_map(|c| c.split("</code>").next()).map(str::to_string).collect();
    assert_eq!(shown.len(), kat_core::mfa::RECOVERY_CODE_COUNT, "{html}");
    let old = &recovery_codes_of("admin")[0];
    assert!(!shown.contains(old));
    // Sign in with an old code: refused; with a new one: in.
    let other = app.client();
    let step = |c: &reqwest::Client, code: String| {
        let c = c.clone();
        let url = app.url("/login/code");
        let origin = app.base_url.clone();
        async move { c.post(&url).header("origin", origin).form(&[("code", code)]).send().await.unwrap() }
    };
    let login = |c: &reqwest::Client| {
        let c = c.clone();
        let url = app.url("/login");
        let origin = app.base_url.clone();
        async move {
            c.post(&url)
                .header("origin", origin)
                .form(&[("username", "admin"), ("password", &password_of("admin")), ("next", "/")])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login(&other).await.status(), 303);
    assert_eq!(step(&other, old.clone()).await.status(), 401, "an old recovery code");
    assert_eq!(step(&other, shown[0].clone()).await.status(), 303, "a new one");
    let updates = entries_of(&app, &admin, "mfa_recovery_code", "admin").await;
    assert!(updates.contains(&("update".into(), "allowed".into())), "{updates:?}");
    app.stop().await;
}
on_both_databases!(director_flag_and_new_recovery_codes_ask_for_the_code, director_flag_and_recovery_codes);

/// A medical director's override of a hard dose limit on a plan is confirmed at that
/// moment; without the override nothing is asked.
async fn plan_override_confirmed(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let (md, _, mt) = staff_with_token(&app, "director", Role::Prescriber).await;
    let ctx = kat_app::Ctx::cli(app.now(), &jiff::tz::TimeZone::UTC);
    kat_app::intake::set_medical_director(
        app.store.as_ref(),
        &ctx,
        md.id,
        true,
        "the clinic's director",
        Default::default(),
    )
    .await
    .unwrap();
    let id = crate::dosing::eligible_patient(&app, &mt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    // Within the limits: no confirmation asked.
    assert_eq!(post(&app, &plans, &mt, crate::dosing::iv_plan(&app, "0.5")).await.status(), 201);
    let mut hard = crate::dosing::iv_plan(&app, "1.2");
    hard["warning_reason"] = json!("Partial response at 1.0 mg/kg");
    hard["override_reason"] = json!("Discussed with the patient; monitored closely");
    let p = expect_problem(post(&app, &plans, &mt, hard.clone()).await, 422).await;
    assert_eq!(problem_fields(&p), ["reauth_code"], "only the confirmation is missing: {p}");
    hard["reauth_code"] = json!("000000");
    expect_problem(post(&app, &plans, &mt, hard.clone()).await, 422).await;
    hard["reauth_code"] = json!(app.next_code("director").await.unwrap());
    let r = post(&app, &plans, &mt, hard).await;
    assert_eq!(r.status(), 201);
    let plan: serde_json::Value = r.json().await.unwrap();
    assert!(plan["content"]["override_reason"].is_string(), "{plan}");
    let confirmations = entries_of(&app, &admin, "reauth", "director").await;
    assert!(confirmations.contains(&("login".into(), "allowed".into())), "{confirmations:?}");
    assert!(confirmations.contains(&("login_failed".into(), "denied".into())), "{confirmations:?}");
    app.stop().await;
}
on_both_databases!(a_hard_limit_override_is_confirmed_at_that_moment, plan_override_confirmed);
