//! Phone width, and the Content-Security-Policy letting kat's own scripts run.

use crate::support::{app, register_patient};
use kat_core::role::Role;
use kat_e2e::{Browser, Options, e2e_or_skip};

async fn assert_no_horizontal_scroll(b: &Browser, what: &str) {
    let dims =
        b.js("return [document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth];").await;
    let (scroll, inner) = (dims[0].as_i64().unwrap(), dims[1].as_i64().unwrap());
    assert!(
        scroll <= inner,
        "{what} scrolls sideways at phone width: scrollWidth {scroll} > innerWidth {inner} ({dims})"
    );
}

#[tokio::test]
async fn phone_width() {
    e2e_or_skip!();
    let app = app(Options::default()).await;
    app.add_staff("desk", Role::FrontDesk).await;
    let b = Browser::start("phone_width").await;
    b.client.set_window_size(390, 844).await.expect("window size");
    b.goto(&app.url("/login")).await;
    let inner = b.js("return window.innerWidth;").await.as_i64().unwrap();
    assert!(inner <= 400, "the viewport is not phone-sized: {inner}px");
    assert_no_horizontal_scroll(&b, "the login page").await;
    b.screenshot("login").await;

    b.login(&app, "desk").await;
    assert_no_horizontal_scroll(&b, "the dashboard").await;
    b.screenshot("dashboard").await;
    let patient_path = register_patient(&b, &app, false).await;
    assert_no_horizontal_scroll(&b, "the patient page").await;
    b.screenshot("patient").await;
    b.goto(&app.url(&format!("{patient_path}/edit"))).await;
    b.find("form.stacked").await;
    assert_no_horizontal_scroll(&b, "the edit form").await;
    b.goto(&app.url("/patients?q=ada")).await;
    b.find("#results table").await;
    assert_no_horizontal_scroll(&b, "the patient list").await;
    b.screenshot("patient-list").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test]
async fn csp_lets_htmx_run() {
    e2e_or_skip!();
    let app = app(Options::default()).await;
    app.add_staff("desk", Role::FrontDesk).await;
    let b = Browser::start("csp_lets_htmx_run").await;
    b.login(&app, "desk").await;
    // `style-src 'self'` ignores style attributes: the pages must not rely on any.
    register_patient(&b, &app, false).await;
    for path in ["/patients/new", "/patients?q=lovelace", "/"] {
        b.goto(&app.url(path)).await;
        b.find("main h1").await;
        let styled =
            b.js("return Array.from(document.querySelectorAll('[style]')).map(e => e.outerHTML.slice(0, 120));").await;
        assert_eq!(styled, serde_json::json!([]), "{path} has style attributes, which the CSP blocks");
    }
    b.goto(&app.url("/patients")).await;
    b.find("#q").await;
    assert_eq!(b.js("return typeof htmx;").await, serde_json::json!("object"), "htmx did not load (CSP?)");
    assert_eq!(b.js("return htmx.config.allowEval;").await, serde_json::json!(false), "htmx-config meta not applied");
    // An inline script is refused by the policy: the page's CSP is in force.
    let inline = b
        .js("var s = document.createElement('script'); s.textContent = 'window.__inlineRan = true'; document.head.appendChild(s); return window.__inlineRan === true;")
        .await;
    assert_eq!(inline, serde_json::json!(false), "an inline script ran: the CSP is not strict");
    b.finish().await;
    app.stop().await;
}
