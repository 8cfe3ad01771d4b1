//! A therapist's day: the worklist shows the preparation and the integration due; the
//! therapist writes and signs both notes, adds an addendum, and the worklist empties.

use crate::support::{app, select};
use jiff::ToSpan;
use jiff::tz::TimeZone;
use kat_app::{Ctx, patients, therapy};
use kat_core::patient::DemographicsForm;
use kat_core::role::Role;
use kat_core::therapy::care_team::CareRole;
use kat_core::therapy::schedule::TherapyPolicy;
use kat_e2e::{Browser, Options, e2e_or_skip};

#[tokio::test]
async fn therapist_writes_signs_and_addends_notes_from_the_worklist() {
    e2e_or_skip!();
    let app = app(Options::default()).await;
    let theo = app.add_staff("theo", Role::Therapist).await;
    let cli = Ctx::cli(app.now(), &TimeZone::UTC);
    let form = DemographicsForm {
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        birth_date: "1985-12-10".into(),
        sex_at_birth: "female".into(),
        ..Default::default()
    };
    let patient = patients::register(app.store.as_ref(), &cli, &form).await.unwrap();
    therapy::set_care_team(app.store.as_ref(), &cli, patient.id, &[(CareRole::Therapist, theo.id.to_string())])
        .await
        .unwrap();
    // One dose yesterday: preparation was due the day before (overdue), integration today.
    let dose = cli.today.saturating_add((-1).days()).to_string();
    therapy::plan_program(app.store.as_ref(), &cli, patient.id, &dose, &TherapyPolicy::default()).await.unwrap();

    let b = Browser::start("therapist_notes").await;
    b.login(&app, "theo").await;
    b.click("header nav a[href='/worklist']").await;
    b.wait_for_text("Preparation session 1").await;
    b.wait_for_text("Integration session 1").await;
    b.screenshot("worklist-before").await;

    // The preparation note, from the worklist.
    b.click("a[href*='kind=preparation']").await;
    b.wait_for_text("New preparation note").await;
    b.fill("#intentions", "To feel less numb and reconnect with my sister.").await;
    b.fill("#intention_tags", "reconnection, grief").await;
    b.fill("#set_setting", "Eye mask, piano playlist; partner drives home.").await;
    select(&b, "#consent_reviewed", "yes").await;
    b.screenshot("preparation-form").await;
    b.click("main form.stacked button[type=submit]").await;
    b.wait_for_text("Draft").await;
    b.click("form[action$='/sign'] button").await;
    b.wait_for_text("Signed and locked").await;
    b.screenshot("preparation-signed").await;
    assert!(b.client.find(fantoccini::Locator::Css("a[href$='/edit']")).await.is_err(), "a signed note offers no edit");

    // The integration note: signing without the risk check is refused, with the reason.
    b.click("header nav a[href='/worklist']").await;
    b.wait_for_text("Integration session 1").await;
    assert!(!b.body_text().await.contains("Preparation session 1"), "the signed preparation left the worklist");
    b.click("a[href*='kind=integration']").await;
    b.wait_for_text("New integration note").await;
    b.fill("#themes", "grief, connection").await;
    b.fill("#insights", "The numbness has been protecting me.").await;
    b.fill("#homework_assigned", "Journal ten minutes after waking.").await;
    b.click("main form.stacked button[type=submit]").await;
    b.wait_for_text("Draft").await;
    b.click("form[action$='/sign'] button").await;
    b.wait_for_text("SUI-001").await;
    b.screenshot("integration-needs-risk-check").await;
    b.click("a[href$='/edit']").await;
    b.wait_for_text("Edit integration note").await;
    select(&b, "#risk_check", "no_current_risk").await;
    b.click("main form.stacked button[type=submit]").await;
    b.wait_for_text("Saved.").await;
    b.click("form[action$='/sign'] button").await;
    b.wait_for_text("Signed and locked").await;

    // An addendum: reason, text, author and time.
    b.fill("#reason", "Late entry").await;
    b.fill("#body", "Patient phoned: sleeping better.").await;
    b.click("form[action$='/addenda'] button").await;
    b.wait_for_text("reason: Late entry").await;
    b.screenshot("integration-addendum").await;

    b.click("header nav a[href='/worklist']").await;
    b.wait_for_text("Nothing is due").await;
    b.screenshot("worklist-after").await;

    b.goto(&app.url(&format!("/patients/{}/timeline", patient.id))).await;
    b.wait_for_text("Addendum").await;
    b.screenshot("timeline").await;
    b.goto(&app.url(&format!("/patients/{}/therapy", patient.id))).await;
    b.wait_for_text("Process notes").await;
    b.screenshot("overview").await;
    b.finish().await;
    app.stop().await;
}
