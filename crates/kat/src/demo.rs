//! The demo clinic: one account per role and synthetic patients. Every name here is
//! invented; no real person's data ships with kat.

use anyhow::{Context, Result};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use kat_app::{Actor, Ctx, intake, patients, users};
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::patient::DemographicsForm;
use kat_core::therapy::care_team::CareRole;
use kat_core::user::AccountKind;
use kat_store::Store;
use std::collections::BTreeMap;

#[path = "demo/demo_dosing.rs"]
pub(crate) mod demo_dosing;
#[path = "demo/demo_measures.rs"]
pub(crate) mod demo_measures;

/// Demo logins: (username, role, display name, password).
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str); 5] = [
    ("admin", "admin", "Alex Admin", "demo-admin-copper-kettle"),
    ("prescriber", "prescriber", "Dr. Priya Prescriber", "demo-prescriber-copper-kettle"),
    ("nurse", "nurse", "Noor Nurse", "demo-nurse-copper-kettle"),
    ("therapist", "therapist", "Theo Therapist", "demo-therapist-copper-kettle"),
    ("frontdesk", "front_desk", "Farah Frontdesk", "demo-frontdesk-copper-kettle"),
];

/// (given, family, birth date, sex at birth, gender identity, phone, e-mail, address,
/// emergency contact name, relationship, phone). 555-01xx numbers are reserved for
/// fiction.
type DemoPatient = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);
const DEMO_PATIENTS: [DemoPatient; 12] = [
    (
        "Avery",
        "Lindqvist",
        "1986-04-12",
        "female",
        "woman",
        "+1 555 010 0101",
        "avery.lindqvist@example.org",
        "12 Birch Lane\nSpringfield",
        "Jonas Lindqvist",
        "spouse",
        "+1 555 010 0102",
    ),
    (
        "Marcus",
        "Okafor",
        "1979-11-30",
        "male",
        "",
        "+1 555 010 0111",
        "m.okafor@example.org",
        "88 Harbor St\nSpringfield",
        "Ada Okafor",
        "sister",
        "+1 555 010 0112",
    ),
    (
        "Rosa",
        "Delgado",
        "1992-07-08",
        "female",
        "",
        "+1 555 010 0121",
        "",
        "4 Orchard Ct\nShelbyville",
        "Luis Delgado",
        "father",
        "+1 555 010 0122",
    ),
    (
        "Sam",
        "Whitfield",
        "2001-02-19",
        "female",
        "non-binary",
        "+1 555 010 0131",
        "sam.w@example.org",
        "",
        "Jo Whitfield",
        "parent",
        "+1 555 010 0132",
    ),
    ("Elliot", "Brandt", "1968-09-03", "male", "man", "+1 555 010 0141", "", "230 Elm Ave\nSpringfield", "", "", ""),
    (
        "Hana",
        "Sato",
        "1995-12-24",
        "female",
        "",
        "+1 555 010 0151",
        "hana.sato@example.org",
        "17 Maple Rd\nCapital City",
        "Kenji Sato",
        "brother",
        "+1 555 010 0152",
    ),
    (
        "Jordan",
        "Reyes",
        "1983-05-15",
        "male",
        "",
        "",
        "jordan.reyes@example.org",
        "",
        "Maria Reyes",
        "mother",
        "+1 555 010 0162",
    ),
    (
        "Priya",
        "Natarajan",
        "1975-03-27",
        "female",
        "",
        "+1 555 010 0171",
        "",
        "9 Lakeview Dr\nOgdenville",
        "Arjun Natarajan",
        "husband",
        "+1 555 010 0172",
    ),
    ("Theo", "Marchetti", "1999-08-01", "male", "", "+1 555 010 0181", "theo.m@example.org", "", "", "", ""),
    (
        "Grace",
        "Mwangi",
        "1958-01-09",
        "female",
        "",
        "+1 555 010 0191",
        "",
        "61 Cedar St\nSpringfield",
        "Wanjiru Mwangi",
        "daughter",
        "+1 555 010 0192",
    ),
    (
        "Noah",
        "Fischer",
        "1990-10-10",
        "intersex",
        "man",
        "+1 555 010 0199",
        "noah.fischer@example.org",
        "",
        "Lena Fischer",
        "partner",
        "+1 555 010 0198",
    ),
    (
        "Isla",
        "McAllister",
        "1988-06-21",
        "female",
        "",
        "+1 555 010 0189",
        "",
        "3 Thistle Way\nNorth Haverbrook",
        "Callum McAllister",
        "partner",
        "+1 555 010 0188",
    ),
];

/// Fills an empty database with the demo clinic and marks it as a demo.
pub async fn seed(store: &dyn Store, now: Timestamp, tz: &TimeZone) -> Result<()> {
    let ctx = Ctx::cli(now, tz);
    let mut accounts = Vec::new();
    for (username, role, name, password) in DEMO_ACCOUNTS {
        let account = users::create(
            store,
            &ctx,
            &users::NewAccount {
                username,
                display_name: name,
                role,
                kind: AccountKind::Staff,
                password: Some(password),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo account {username}: {e}"))?;
        accounts.push(account);
    }
    let nurse = accounts.iter().find(|u| u.role == kat_core::role::Role::Nurse).cloned();
    let prescriber =
        users::find(store, "prescriber").await.map_err(|e| anyhow::anyhow!("{e}"))?.context("demo prescriber")?;
    intake::set_medical_director(
        store,
        &ctx,
        prescriber.id,
        true,
        "the demo clinic's medical director",
        Default::default(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo medical director: {e}"))?;
    let mut registered = Vec::new();
    for (given, family, birth, sex, gender, phone, email, address, ec_name, ec_rel, ec_phone) in DEMO_PATIENTS {
        let form = DemographicsForm {
            given_name: given.into(),
            family_name: family.into(),
            birth_date: birth.into(),
            sex_at_birth: sex.into(),
            gender_identity: gender.into(),
            phone: phone.into(),
            email: email.into(),
            address: address.into(),
            emergency_contact_name: ec_name.into(),
            emergency_contact_relationship: ec_rel.into(),
            emergency_contact_phone: ec_phone.into(),
        };
        let p = patients::register(store, &ctx, &form)
            .await
            .map_err(|e| anyhow::anyhow!("demo patient {given} {family}: {e}"))?;
        registered.push(p.id);
    }
    // Every demo patient is in the care of the demo prescriber, nurse and therapist, so
    // each role sees the records it works on (records are scoped to the care team).
    let role_of = |r: kat_core::role::Role| accounts.iter().find(|u| u.role == r).map(|u| u.id.to_string());
    let team: Vec<(CareRole, String)> = [
        (CareRole::Prescriber, kat_core::role::Role::Prescriber),
        (CareRole::Therapist, kat_core::role::Role::Therapist),
        (CareRole::Nurse, kat_core::role::Role::Nurse),
    ]
    .into_iter()
    .filter_map(|(care, role)| role_of(role).map(|id| (care, id)))
    .collect();
    for p in &registered {
        kat_app::therapy::set_care_team(store, &ctx, *p, &team)
            .await
            .map_err(|e| anyhow::anyhow!("demo care team: {e}"))?;
    }
    seed_intakes(store, &ctx, &registered).await?;
    let nurse = nurse.context("demo nurse account")?;
    let nurse_ctx = Ctx::new(Actor::User(nurse.clone()), "demo".into(), None, now, tz);
    demo_measures::seed(store, &nurse_ctx, tz, &registered).await?;
    crate::demo_therapy::seed_programs(store, now, tz, &accounts, &registered[..4])
        .await
        .map_err(|e| anyhow::anyhow!("demo therapy programs: {e}"))?;
    demo_dosing::seed(store, now, tz, &prescriber, &nurse, &registered).await?;
    let mut tx = store.begin().await?;
    tx.set_meta("demo", "true").await?;
    tx.commit().await.context("marking the demo clinic")?;
    Ok(())
}

/// Demo intakes, one per screening outcome (all answers synthetic):
/// eligible, needs review, excluded, incomplete, and one with a same-day review flag.
async fn seed_intakes(store: &dyn Store, ctx: &Ctx, ids: &[kat_core::ids::PatientId]) -> Result<()> {
    let complete = example_complete_answers(ctx.today);
    let with = |changes: &[(&str, &str)]| -> BTreeMap<String, String> {
        let mut a = complete.clone();
        for (k, v) in changes {
            a.set(k, v).expect("demo answer");
        }
        a.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let cases: [(&str, BTreeMap<String, String>, bool); 5] = [
        // Avery Lindqvist: eligible.
        ("eligible", with(&[]), true),
        // Marcus Okafor: a past psychotic episode needs prescriber review (RCI-001).
        ("needs review", with(&[("psychosis_past", "yes")]), true),
        // Rosa Delgado: arteriovenous malformation, a hard stop (CI-002).
        ("excluded", with(&[("arteriovenous_malformation", "yes")]), true),
        // Sam Whitfield: only the referral so far (a draft).
        (
            "incomplete",
            [("indication_trd", "on"), ("intended_product", "racemic_ketamine"), ("presenting_symptoms", "low mood")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            false,
        ),
        // Elliot Brandt: current suicidal ideation with plan and intent (same-day review).
        ("same-day review", with(&[("ideation", "active_with_plan_and_intent")]), true),
    ];
    for ((label, answers, done), id) in cases.into_iter().zip(ids) {
        intake::replace(store, ctx, *id, &answers, done)
            .await
            .map_err(|e| anyhow::anyhow!("demo intake ({label}): {e}"))?;
    }
    Ok(())
}

/// Whether the database is a demo clinic (and so may be reset).
pub async fn is_demo(store: &dyn Store) -> Result<bool> {
    let mut tx = store.begin().await?;
    Ok(tx.meta("demo").await?.as_deref() == Some("true"))
}

/// Whether the database holds anything at all.
pub async fn is_empty(store: &dyn Store) -> Result<bool> {
    let mut tx = store.begin().await?;
    Ok(tx.list_users().await?.is_empty() && tx.count_patients().await? == 0)
}
