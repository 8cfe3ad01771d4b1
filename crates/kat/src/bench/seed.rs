//! The synthetic clinic `kat bench` measures: staff accounts, patients with a complete
//! and accepted intake, a care team and a therapy program with a signed note, a
//! measurement plan with PHQ-9 and GAD-7 answers, a signed IV treatment plan, and dosing
//! sessions in progress (gate passed, infusion started). Everything goes through the
//! same use cases as the demo clinic (`crate::demo`); every name is invented.
//!
//! This is the only part of the bench that calls the use cases directly; everything it
//! measures goes through the HTTP API and pages.

use crate::demo::demo_dosing::{CASES, accept, signed_plan, start_on_plan};
use crate::demo::demo_measures::answers;
use crate::demo_therapy::demo_note;
use anyhow::{Context, Result, anyhow};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use kat_app::config::{DosingConfig, MeasuresConfig};
use kat_app::{Actor, AppError, Ctx, auth, intake, measures, patients, therapy, users};
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::ids::{DosingSessionId, PatientId, TreatmentPlanId};
use kat_core::instruments::Instrument;
use kat_core::measures::PlanForm;
use kat_core::patient::DemographicsForm;
use kat_core::therapy::care_team::CareRole;
use kat_core::therapy::note::NoteKind;
use kat_core::therapy::schedule::TherapyPolicy;
use kat_core::user::{AccountKind, User};
use kat_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The nurse's password (the account exists only in the bench's scratch database).
pub const NURSE_PASSWORD: &str = "kat-bench-nurse-passphrase";
pub const NURSE: &str = "bench.nurse";

/// The bench's staff: a prescriber and a therapist who seed, and the nurse whose API
/// token posts the vitals and who is signed in to the pages.
#[derive(Clone)]
pub struct Staff {
    pub prescriber: User,
    pub therapist: User,
    pub nurse: User,
    pub nurse_token: String,
}

const GIVEN: [&str; 10] = ["Alex", "Sam", "Robin", "Kim", "Jamie", "Avery", "Jordan", "Riley", "Casey", "Morgan"];
const FAMILY_A: [&str; 7] = ["Mar", "Tel", "Quin", "Dov", "Ash", "Bram", "Cor"];
const FAMILY_B: [&str; 5] = ["low", "ford", "by", "wick", "stone"];

/// The invented family name of the `i`-th patient (35 different names).
pub fn family_name(i: usize) -> String {
    format!("{}{}", FAMILY_A[i % FAMILY_A.len()], FAMILY_B[(i / FAMILY_A.len()) % FAMILY_B.len()])
}

fn err(what: &'static str) -> impl Fn(AppError) -> anyhow::Error {
    move |e| anyhow!("bench seed ({what}): {e}")
}

fn as_user(user: &User, now: Timestamp, tz: &TimeZone) -> Ctx {
    Ctx::new(Actor::User(user.clone()), "bench".into(), None, now, tz)
}

pub async fn staff(store: &dyn Store, now: Timestamp, tz: &TimeZone) -> Result<Staff> {
    let cli = Ctx::cli(now, tz);
    let mut made = Vec::new();
    for (username, role) in [("bench.prescriber", "prescriber"), ("bench.therapist", "therapist"), (NURSE, "nurse")] {
        let password = format!("{NURSE_PASSWORD}-{role}");
        let user = users::create(
            store,
            &cli,
            &users::NewAccount {
                username,
                display_name: "",
                role,
                kind: AccountKind::Staff,
                password: Some(if role == "nurse" { NURSE_PASSWORD } else { &password }),
            },
        )
        .await
        .map_err(err("account"))?;
        made.push(user);
    }
    let (_, nurse_token) = auth::create_token(store, &cli, &made[2], "kat bench").await.map_err(err("token"))?;
    let mut it = made.into_iter();
    let (prescriber, therapist, nurse) = (it.next().context("p")?, it.next().context("t")?, it.next().context("n")?);
    Ok(Staff { prescriber, therapist, nurse, nurse_token })
}

/// One patient with everything the lists show; returns the patient and the signed plan.
pub async fn patient(
    store: &dyn Store,
    staff: &Staff,
    tz: &TimeZone,
    i: usize,
) -> Result<(PatientId, TreatmentPlanId)> {
    // Seeded a little in the past, so the sessions opened "15 minutes ago" come after.
    let now = Timestamp::now() - SignedDuration::from_mins(40);
    let pc = as_user(&staff.prescriber, now, tz);
    let tc = as_user(&staff.therapist, now, tz);
    let today = pc.today;
    let form = DemographicsForm {
        given_name: GIVEN[i % GIVEN.len()].into(),
        family_name: family_name(i),
        birth_date: format!("{}-{:02}-{:02}", 1960 + i % 40, 1 + i % 12, 1 + i % 28),
        sex_at_birth: if i.is_multiple_of(2) { "female" } else { "male" }.into(),
        ..DemographicsForm::default()
    };
    let p = patients::register(store, &pc, &form).await.map_err(err("patient"))?.id;
    // The team first: records are scoped to it (a new patient's first team is set by
    // any prescriber).
    let team = [
        (CareRole::Prescriber, staff.prescriber.id.to_string()),
        (CareRole::Therapist, staff.therapist.id.to_string()),
        (CareRole::Nurse, staff.nurse.id.to_string()),
    ];
    therapy::set_care_team(store, &pc, p, &team).await.map_err(err("care team"))?;
    let answers_now: BTreeMap<String, String> =
        example_complete_answers(today).iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    intake::replace(store, &pc, p, &answers_now, true).await.map_err(err("intake"))?;
    accept(store, &pc, p).await?;
    // A course under way: two doses past, two to come (the worklists have items).
    let offset = (i % 7) as i64;
    let doses: Vec<String> = [-10 + offset, -6 + offset, 2 + offset, 6 + offset]
        .iter()
        .map(|d| today.saturating_add(d.days()).to_string())
        .collect();
    therapy::plan_program(store, &pc, p, &doses.join(","), &TherapyPolicy::default()).await.map_err(err("program"))?;
    let note = therapy::create_note(
        store,
        &tc,
        p,
        NoteKind::Preparation,
        None,
        &demo_note(NoteKind::Preparation, &today.saturating_sub(14.days()).to_string(), i),
    )
    .await
    .map_err(err("note"))?;
    therapy::sign_note(store, &tc, p, note.id).await.map_err(err("sign note"))?;
    let day = |ago: i64| today.saturating_sub(ago.days()).to_string();
    let plan = PlanForm {
        baseline: day(30),
        dose_dates: [day(28), day(24), day(21)].join(", "),
        end_of_induction: day(14),
        include_pcl5: None,
    };
    measures::save_plan(store, &pc, p, &plan).await.map_err(err("measures plan"))?;
    let cfg = MeasuresConfig::default();
    for (ago, instrument, total) in
        [(30, Instrument::Phq9, 19), (30, Instrument::Gad7, 14), (14, Instrument::Phq9, 11), (2, Instrument::Phq9, 7)]
    {
        let at = now - SignedDuration::from_hours(24 * ago);
        let raw = answers(instrument, total, 0);
        measures::record_response(store, &pc, &cfg, p, instrument, &raw, Some(at)).await.map_err(err("measure"))?;
    }
    let plan = signed_plan(store, &pc, &DosingConfig::default(), p, case(i)).await?;
    Ok((p, plan))
}

/// Adds patients `from..to`, `parallel` at a time, calling `tick` after each.
pub async fn patients(
    store: &Arc<dyn Store>,
    staff: &Staff,
    tz: &TimeZone,
    from: usize,
    to: usize,
    parallel: usize,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<(PatientId, TreatmentPlanId)>> {
    let mut out = Vec::with_capacity(to.saturating_sub(from));
    let mut next = from;
    while next < to {
        let mut set = tokio::task::JoinSet::new();
        // The first patient alone: its use cases seed the first policy version lazily.
        let width = if next == 0 { 1 } else { parallel.max(1) };
        for i in next..(next + width).min(to) {
            let (store, staff, tz) = (store.clone(), staff.clone(), tz.clone());
            set.spawn(async move { (i, patient(store.as_ref(), &staff, &tz, i).await) });
        }
        let mut batch = Vec::new();
        while let Some(r) = set.join_next().await {
            let (i, r) = r.context("seed task")?;
            batch.push((i, r?));
            tick();
        }
        batch.sort_by_key(|(i, _)| *i);
        next += batch.len();
        out.extend(batch.into_iter().map(|(_, v)| v));
    }
    Ok(out)
}

/// Patient `i`'s route: every other patient has a Spravato plan (so the REMS list has
/// forms to show), the others an IV infusion.
fn case(i: usize) -> &'static crate::demo::demo_dosing::Case {
    if i % 2 == 1 { &CASES[1] } else { &CASES[0] }
}

/// A dosing session in progress on seeded patient `i`'s plan: opened 25 minutes ago, gate
/// passed, the IV infusion started or the first esketamine devices given 15 minutes ago.
pub async fn session(
    store: &dyn Store,
    staff: &Staff,
    tz: &TimeZone,
    i: usize,
    patient: PatientId,
    plan: TreatmentPlanId,
) -> Result<DosingSessionId> {
    start_on_plan(store, &DosingConfig::default(), Timestamp::now(), tz, &staff.nurse, patient, plan, case(i), 15).await
}
