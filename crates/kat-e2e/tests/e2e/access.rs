//! Break-glass in a real browser (issue 12 item 1), under the default policy: a therapist
//! off a patient's care team asks for the therapy page, sees why not and a reason form
//! (keyboard-usable, the warning in colour, icon and text), gives a reason and lands on
//! the page asked for; the admin reviews the use on the break-glass queue.

use crate::support::app;
use jiff::tz::TimeZone;
use kat_app::{Ctx, patients, therapy};
use kat_core::patient::DemographicsForm;
use kat_core::role::Role;
use kat_core::therapy::care_team::CareRole;
use kat_e2e::{Browser, Options, e2e_or_skip};

#[tokio::test]
async fn a_therapist_off_the_team_breaks_the_glass_and_the_admin_reviews_it() {
    e2e_or_skip!();
    let app = app(Options { scoped_access: true, ..Options::default() }).await;
    let pia = app.add_staff("pia", Role::Prescriber).await;
    app.add_staff("theo", Role::Therapist).await;
    app.add_staff("boss", Role::Admin).await;
    let cli = Ctx::cli(app.now(), &TimeZone::UTC);
    let form = DemographicsForm {
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        birth_date: "1985-12-10".into(),
        sex_at_birth: "female".into(),
        ..Default::default()
    };
    let patient = patients::register(app.store.as_ref(), &cli, &form).await.unwrap();
    therapy::set_care_team(app.store.as_ref(), &cli, patient.id, &[(CareRole::Prescriber, pia.id.to_string())])
        .await
        .unwrap();

    let b = Browser::start("break_glass").await;
    b.login(&app, "theo").await;
    b.goto(&app.url(&format!("/patients/{}/therapy", patient.id))).await;
    b.wait_for_text("Not on this patient's care team").await;
    assert!(b.body_text().await.contains("an administrator reviews each use"));
    b.screenshot("break-glass-screen").await;
    // Too short a reason is refused, named, and kept in the box.
    b.fill("#reason", "urgent").await;
    b.fill("#reauth_code", &kat_it::password_of("theo")).await;
    b.js("document.querySelector('#reason').removeAttribute('minlength')").await;
    b.click("main form button[type=submit]").await;
    b.wait_for_text("at least 10 characters").await;
    b.screenshot("break-glass-refused").await;
    b.fill("#reason", "Covering for Dr Ames tonight; patient called in crisis").await;
    // The password typed before is never sent back: it is typed again.
    b.fill("#reauth_code", &kat_it::password_of("theo")).await;
    b.click("main form button[type=submit]").await;
    b.wait_for_path(&format!("/patients/{}/therapy", patient.id)).await;
    b.screenshot("record-open-under-break-glass").await;
    b.finish().await;

    let a = Browser::start("break_glass_review").await;
    a.login(&app, "boss").await;
    a.click("header nav a[href='/admin/break-glass']").await;
    a.wait_for_text("Covering for Dr Ames tonight").await;
    a.screenshot("queue").await;
    a.fill("input[name=note]", "Justified: on call, patient in crisis").await;
    a.click("form[action$='/review'] button").await;
    a.wait_for_text("Nothing to review").await;
    a.screenshot("queue-reviewed").await;
    a.finish().await;
}
