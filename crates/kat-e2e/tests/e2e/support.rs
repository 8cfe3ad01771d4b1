//! What the journeys share: starting the app, and registering a patient through the form.

use kat_e2e::{Browser, Db, Options, TestApp, spawn_app};

pub async fn app(options: Options) -> TestApp {
    spawn_app(Db::Sqlite, options).await.expect("SQLite app")
}

/// Types a date into an `<input type=date>` the way a user does: Chromium in en-US
/// shows mm/dd/yyyy segments and takes the digits in that order.
pub async fn type_date(b: &Browser, css: &str, iso: &str) {
    let (y, rest) = iso.split_once('-').expect("yyyy-mm-dd");
    let (m, d) = rest.split_once('-').expect("yyyy-mm-dd");
    let el = b.find(css).await;
    el.click().await.expect("focus the date field");
    el.send_keys(&format!("{m}{d}{y}")).await.expect("type the date");
    let value = el.prop("value").await.expect("date value").unwrap_or_default();
    assert_eq!(value, iso, "the date field did not take {iso}");
}

/// Selects an `<option>` by its value.
pub async fn select(b: &Browser, select_css: &str, value: &str) {
    b.click(&format!("{select_css} option[value='{value}']")).await;
}

/// Registers a patient through `/patients/new` as the signed-in user, first with a
/// missing family name and a date before 1900 (errors expected), then correctly.
/// Returns the patient's page path.
pub async fn register_patient(b: &Browser, app: &TestApp, shots: bool) -> String {
    b.goto(&app.url("/patients/new")).await;
    b.find("form.stacked").await;
    b.fill("#given_name", "Ada").await;
    type_date(b, "#birth_date", "1899-12-31").await;
    select(b, "#sex_at_birth", "female").await;
    b.click("form.stacked button[type=submit]").await;

    b.wait_for_text("Please correct the fields marked below").await;
    assert_eq!(b.path().await, "/patients", "a refused form is shown again at the POST target");
    let family_error = b.text("#family_name-error").await;
    assert!(family_error.starts_with("Family name"), "family name error: {family_error:?}");
    let date_error = b.text("#birth_date-error").await;
    assert!(date_error.contains("before 1900"), "birth date error: {date_error:?}");
    for field in ["#family_name", "#birth_date"] {
        let invalid = b.find(field).await.attr("aria-invalid").await.expect("attr");
        assert_eq!(invalid.as_deref(), Some("true"), "{field} is not marked invalid");
    }
    let given_invalid = b.find("#given_name").await.attr("aria-invalid").await.expect("attr");
    assert_eq!(given_invalid, None, "the good given name must not be marked invalid");
    // What was typed is kept.
    let given = b.find("#given_name").await.prop("value").await.expect("prop");
    assert_eq!(given.as_deref(), Some("Ada"));
    // kat.js moves focus to the first invalid field.
    let focused = b.js("return document.activeElement && document.activeElement.id").await;
    assert_eq!(focused, serde_json::json!("family_name"), "focus should be on the first invalid field");
    if shots {
        b.screenshot("form-errors").await;
    }

    b.fill("#family_name", "Lovelace").await;
    type_date(b, "#birth_date", "1985-12-10").await;
    b.fill("#phone", "+1 555 010 1234").await;
    b.click("form.stacked button[type=submit]").await;
    b.wait_for_text("KAT-000001").await;
    let path = b.path().await;
    assert!(path.starts_with("/patients/") && path.len() > "/patients/".len(), "not on a patient page: {path}");
    let h1 = b.text("h1").await;
    assert!(h1.contains("Lovelace") && h1.contains("KAT-000001"), "patient heading: {h1:?}");
    path
}
