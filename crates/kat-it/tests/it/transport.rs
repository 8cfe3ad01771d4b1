//! Requests and transport (issue 12 item 6), over HTTP on both databases: the server
//! makes request ids (a client's is kept only when short and well-formed), the client's
//! address comes from X-Forwarded-For only through a trusted proxy, and behind HTTPS
//! (a trusted proxy's X-Forwarded-Proto) responses carry HSTS and the session cookie the
//! `__Host-` prefix.

use crate::support::{audit, staff_with_token};
use kat_core::role::Role;
use kat_it::{Db, Options, app_or_skip, on_both_databases, password_of};
use kat_web::config::WebConfig;

async fn request_ids_and_forwarded_addresses(db: Db) {
    let app = app_or_skip!(db);
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    let http = reqwest::Client::new();
    let get = |id: Option<String>, xff: Option<&str>| {
        let mut r = http.get(app.url("/api/v1/patients")).bearer_auth(&admin);
        if let Some(id) = id {
            r = r.header("x-request-id", id);
        }
        if let Some(a) = xff {
            r = r.header("x-forwarded-for", a);
        }
        r.send()
    };
    // A well-formed id is kept and echoed.
    let r = get(Some("client-id-42".into()), None).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-id-42");
    // An overlong one is replaced by the server's own (a UUID), and that is what the
    // audit log records.
    let long = "x".repeat(3007);
    let r = get(Some(long.clone()), Some("203.0.113.7")).await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id, long);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let entries = audit(&app, &admin, "").await;
    let listed = entries.iter().find(|e| e["request_id"] == id.as_str()).expect("the listing is audited");
    // The test client is on the loopback address, a trusted proxy by default: the
    // forwarded address is the client's.
    assert_eq!(listed["remote_addr"], "203.0.113.7", "{listed}");
    assert!(!entries.iter().any(|e| e["request_id"] == long.as_str()));
    app.stop().await;
}
on_both_databases!(
    request_ids_are_the_servers_and_forwarded_addresses_come_from_trusted_proxies,
    request_ids_and_forwarded_addresses
);

async fn untrusted_forwarding(db: Db) {
    let options =
        Options { config: WebConfig { trusted_proxies: Vec::new(), ..WebConfig::default() }, ..Options::default() };
    let app = app_or_skip!(db, options);
    let (_, _, admin) = staff_with_token(&app, "admin", Role::Admin).await;
    app.add_staff("nurse.tls", Role::Nurse).await;
    let r = reqwest::Client::new()
        .get(app.url("/api/v1/patients"))
        .bearer_auth(&admin)
        .header("x-request-id", "untrusted-1")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("strict-transport-security").is_none(), "no proxy is trusted: not HTTPS");
    let entries = audit(&app, &admin, "").await;
    let e = entries.iter().find(|e| e["request_id"] == "untrusted-1").unwrap();
    assert_eq!(e["remote_addr"], "127.0.0.1", "the forwarded address is ignored");
    // Sign-in without HTTPS: the plain cookie name.
    let r = app.login(&app.client(), "nurse.tls").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("kat_session=") && !cookie.contains("Secure"), "{cookie}");
    app.stop().await;
}
on_both_databases!(forwarded_headers_from_an_untrusted_peer_are_ignored, untrusted_forwarding);

async fn behind_https(db: Db) {
    let app = app_or_skip!(db);
    app.add_staff("nurse.https", Role::Nurse).await;
    let web = app.client();
    let r = web
        .post(app.url("/login"))
        .header("origin", &app.base_url)
        .header("x-forwarded-proto", "https")
        .form(&[("username", "nurse.https"), ("password", password_of("nurse.https").as_str()), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-kat_session=") && cookie.contains("; Secure") && cookie.contains("Path=/"));
    assert!(!cookie.contains("Domain"), "{cookie}");
    // The prefixed cookie signs the next request in.
    let secret = cookie.split(';').next().unwrap().to_string();
    let page = reqwest::Client::new()
        .get(app.url("/patients"))
        .header("cookie", secret)
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    app.stop().await;
}
on_both_databases!(behind_https_the_cookie_is_host_prefixed_and_hsts_is_sent, behind_https);
