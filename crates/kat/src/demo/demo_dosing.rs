//! Demo dosing: a signed treatment plan and a completed dosing session for every route
//! (IV, IM, SC, esketamine, sublingual, and intranasal racemic on the library's
//! unconfirmed DOSE-INR-001 protocol), and one IV session in progress today with an
//! unacknowledged high-BP alarm on the floor board. Every step goes through the same use
//! cases as the pages and the API. All synthetic.
//! The history is seeded under the spec-default clinic policy ([`DosingConfig::default`]):
//! its scripted doses, vitals and discharge times are written to pass those values, and
//! a clinic's `[dosing]` settings then apply to everything the running demo does.

use anyhow::{Result, anyhow};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kat_app::config::DosingConfig;
use kat_app::dosing::{
    self as uc, AdministrationInput, Cadss6Input, DischargeInputForm, GateInput, PlanInput, VitalsInput,
};
use kat_app::{Actor, Ctx, intake};
use kat_core::eligibility::answers::example_complete_answers;
use kat_core::ids::{DosingSessionId, PatientId, TreatmentPlanId};
use kat_core::user::User;
use kat_store::Store;
use serde_json::json;
use std::collections::BTreeMap;

fn at(now: Timestamp, minutes_ago: i64, tz: &TimeZone, user: &User) -> Result<Ctx> {
    let t = now.checked_sub(SignedDuration::from_mins(minutes_ago))?;
    Ok(Ctx::new(Actor::User(user.clone()), "demo".into(), None, t, tz))
}

/// A CADSS-6 with the items 1, 2, 6, 7, 15 and 22 in that order.
fn cadss6(time_point: &str, items: [&str; 6]) -> Cadss6Input {
    let [i1, i2, i6, i7, i15, i22] = items.map(String::from);
    Cadss6Input {
        time_point: time_point.into(),
        at: String::new(),
        item_1: i1,
        item_2: i2,
        item_6: i6,
        item_7: i7,
        item_15: i15,
        item_22: i22,
    }
}

fn e(what: &str) -> impl Fn(kat_app::AppError) -> anyhow::Error + '_ {
    move |err| anyhow!("demo dosing ({what}): {err}")
}

/// Accepts the patient's latest screen, with a reason for each review finding.
pub(crate) async fn accept(store: &dyn Store, ctx: &Ctx, patient: PatientId) -> Result<()> {
    let state = intake::state(store, ctx, patient).await.map_err(e("eligibility"))?;
    let (ev, stored) = state.evaluation.ok_or_else(|| anyhow!("demo dosing: no evaluation"))?;
    let reasons: BTreeMap<String, String> =
        stored.review_rules().into_iter().map(|r| (r, "Reviewed at assessment; stable".to_string())).collect();
    let input = intake::SignInput {
        evaluation_id: ev.id.to_string(),
        decision: "accept".into(),
        reasons,
        ..Default::default()
    };
    intake::sign(store, ctx, patient, &input).await.map_err(e("sign eligibility"))?;
    Ok(())
}

pub(crate) struct Case {
    patient: usize,
    route: &'static str,
    protocol: &'static str,
    product: &'static str,
    style: &'static str,
    dose: &'static str,
    concentration: &'static str,
    infusion: &'static str,
    kind: &'static str,
    days_ago: i64,
}

pub(crate) const CASES: [Case; 6] = [
    Case {
        patient: 0,
        route: "iv_infusion",
        protocol: "iv_single_standard",
        product: "Ketamine HCl 50 mg/mL vial",
        style: "per_kg",
        dose: "0.5",
        concentration: "50",
        infusion: "40",
        kind: "infusion_start",
        days_ago: 7,
    },
    Case {
        patient: 1,
        route: "intranasal_esketamine",
        protocol: "spravato_trd",
        product: "Spravato 28 mg nasal device",
        style: "fixed",
        dose: "56",
        concentration: "",
        infusion: "",
        kind: "device",
        days_ago: 3,
    },
    Case {
        patient: 5,
        route: "intramuscular",
        protocol: "im_chilukuri2014_low",
        product: "Ketamine HCl 50 mg/mL vial",
        style: "per_kg",
        dose: "0.25",
        concentration: "50",
        infusion: "",
        kind: "dose",
        days_ago: 5,
    },
    Case {
        patient: 6,
        route: "subcutaneous",
        protocol: "sc_kads",
        product: "Ketamine HCl 100 mg/mL vial",
        style: "per_kg",
        dose: "0.5",
        concentration: "100",
        infusion: "",
        kind: "dose",
        days_ago: 4,
    },
    Case {
        patient: 7,
        route: "sublingual_oral",
        protocol: "sublingual_lara2013",
        product: "Ketamine 100 mg/mL oral solution",
        style: "fixed",
        dose: "10",
        concentration: "100",
        infusion: "",
        kind: "dose",
        days_ago: 2,
    },
    Case {
        patient: 5,
        route: "intranasal_racemic",
        protocol: "intranasal_racemic_rct50mg",
        product: "Ketamine HCl 100 mg/mL nasal spray (compounded)",
        style: "fixed",
        dose: "50",
        concentration: "100",
        infusion: "",
        kind: "dose",
        days_ago: 1,
    },
];

fn gate(route: &str, c: &Ctx) -> Result<GateInput> {
    let now = c.now;
    let esk = route == "intranasal_esketamine";
    let mut checklist = json!({
        "route": route, "dose_is_weight_based": !esk && route != "sublingual_oral",
        "last_solid": {"at": (now - SignedDuration::from_hours(10)).to_string(), "kind": "fatty_or_meat"},
        "last_clear_liquid": (now - SignedDuration::from_hours(3)).to_string(),
        "blood_pressure": {"systolic": 124, "diastolic": 78}, "hypertensive_symptoms": false, "heart_rate": 72,
        "new_irregular_rhythm": false, "escort_confirmed": true, "no_driving_instruction_given": true,
        "intoxicated_or_in_withdrawal": false, "substance_use": "none_within_window", "childbearing_potential": false,
        "medication_changes_reviewed": true, "new_psychotic_or_manic_symptoms": false, "suicide_screen": "negative",
        "weight_measured_on": c.today.to_string()
    });
    if esk {
        for k in ["rems_patient_enrolled", "rems_setting_certified", "prescriber_onsite", "pulse_oximeter_available"] {
            checklist[k] = json!(true);
        }
        checklist["nasal_medication"] = json!("none_today");
        checklist["nasal_congestion"] = json!(false);
    }
    Ok(serde_json::from_value(json!({"checklist": checklist}))?)
}

fn vitals(sys: u16, dia: u16, hr: u16, spo2: u16, moaas: &str) -> VitalsInput {
    VitalsInput {
        systolic: sys.to_string(),
        diastolic: dia.to_string(),
        heart_rate: hr.to_string(),
        spo2: spo2.to_string(),
        on_supplemental_o2: "no".into(),
        respiratory_rate: "14".into(),
        moaas: moaas.into(),
        ..VitalsInput::default()
    }
}

/// Opens a session `minutes_ago` before now, passes the gate and starts dosing.
#[allow(clippy::too_many_arguments)]
async fn start(
    store: &dyn Store,
    policy: &DosingConfig,
    now: Timestamp,
    tz: &TimeZone,
    nurse: &User,
    prescriber: &User,
    patient: PatientId,
    case: &Case,
    minutes_ago: i64,
) -> Result<DosingSessionId> {
    let pc = at(now, minutes_ago + 30, tz, prescriber)?;
    let plan = signed_plan(store, &pc, policy, patient, case).await?;
    start_on_plan(store, policy, now, tz, nurse, patient, plan, case, minutes_ago).await
}

/// Creates and signs the treatment plan of `case` for `patient` (72 kg, sessions every
/// three days from today).
pub(crate) async fn signed_plan(
    store: &dyn Store,
    pc: &Ctx,
    policy: &DosingConfig,
    patient: PatientId,
    case: &Case,
) -> Result<TreatmentPlanId> {
    let plan = PlanInput {
        indication: "Treatment-resistant depression".into(),
        route: case.route.into(),
        protocol: case.protocol.into(),
        product: case.product.into(),
        course_sessions: "6".into(),
        endpoint: "PHQ-9 response (≥50% reduction) or remission (PHQ-9 < 5)".into(),
        reassessment: "Face-to-face review after the third session and at the end of the course".into(),
        maintenance: "Individual booster interval after reassessment (DOSE-IV-009)".into(),
        dose_style: case.style.into(),
        // PSY-004: the higher-dose IV and IM sessions psychedelic, the others psycholytic.
        kap_style: if matches!(case.route, "iv_infusion" | "intramuscular") { "psychedelic" } else { "psycholytic" }
            .into(),
        esketamine_regimen: if case.route == "intranasal_esketamine" { "with_oral_antidepressant" } else { "" }.into(),
        dose_mg_per_kg: case.dose.into(),
        dose_mg: case.dose.into(),
        weight_kg: "72".into(),
        weight_measured_on: pc.today.to_string(),
        concentration_mg_per_ml: case.concentration.into(),
        infusion_minutes: case.infusion.into(),
        first_session: pc.today.to_string(),
        interval_days: "3".into(),
        ..PlanInput::default()
    };
    let p = uc::create_plan(store, pc, policy, patient, &plan).await.map_err(e("plan"))?;
    // A demo patient may hold plans of two routes whose dates overlap (a route change):
    // the prescriber's reason is kept only when another active plan does overlap.
    let sign = uc::SignPlanInput {
        overlap_reason: Some("Demo clinic: route changed; the earlier plan's remaining dates are not booked".into()),
    };
    uc::sign_plan(store, pc, patient, p.record.id, &sign).await.map_err(e("sign plan"))?;
    Ok(p.record.id)
}

/// Opens a session on a signed `plan` `minutes_ago` before now, passes the gate and
/// starts dosing.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn start_on_plan(
    store: &dyn Store,
    policy: &DosingConfig,
    now: Timestamp,
    tz: &TimeZone,
    nurse: &User,
    patient: PatientId,
    plan: TreatmentPlanId,
    case: &Case,
    minutes_ago: i64,
) -> Result<DosingSessionId> {
    let nc = at(now, minutes_ago + 10, tz, nurse)?;
    let s = uc::open_session(store, &nc, policy, patient, plan, &uc::OpenSessionInput::default())
        .await
        .map_err(e("open"))?;
    uc::record_gate(store, &nc, policy, s.id, &gate(case.route, &nc)?).await.map_err(e("gate"))?;
    let dc = at(now, minutes_ago, tz, nurse)?;
    let admin = AdministrationInput {
        kind: case.kind.into(),
        administered_by: if case.kind == "device" {
            "Patient, supervised by Noor Nurse".into()
        } else {
            "Noor Nurse RN".into()
        },
        monitored_by: "Noor Nurse RN".into(),
        product: case.product.into(),
        concentration_mg_per_ml: case.concentration.into(),
        lot: "DEMO-LOT-24A".into(),
        expiry: "2099-12-31".into(),
        // The plan's dose: fixed, one 28 mg device, or per kg of the demo's 72 kg.
        dose_mg: match (case.style, case.kind) {
            (_, "device") => "28".into(),
            ("fixed", _) => case.dose.into(),
            _ => format!("{}", case.dose.parse::<f64>().unwrap_or(0.0) * 72.0),
        },
        // 36 mg from 50 mg/mL, diluted 1:1, over 40 min (DOSE-IV-004).
        rate_ml_per_h: "2.16".into(),
        at: String::new(),
    };
    uc::record_administration(store, &dc, policy, s.id, &admin).await.map_err(e("administer"))?;
    if case.kind == "device" {
        let dc2 = at(now, minutes_ago - 5, tz, nurse)?;
        uc::record_administration(store, &dc2, policy, s.id, &admin).await.map_err(e("second device"))?;
    }
    Ok(s.id)
}

pub async fn seed(
    store: &dyn Store,
    now: Timestamp,
    tz: &TimeZone,
    prescriber: &User,
    nurse: &User,
    patients: &[PatientId],
) -> Result<()> {
    let policy = DosingConfig::default();
    let pc =
        Ctx::new(Actor::User(prescriber.clone()), "demo".into(), None, now - SignedDuration::from_hours(24 * 10), tz);
    // Grace, Noah and Isla get a complete intake too.
    let answers: BTreeMap<String, String> =
        example_complete_answers(pc.today).iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for &i in &[5usize, 6, 7] {
        intake::replace(store, &pc, patients[i], &answers, true).await.map_err(e("intake"))?;
    }
    for &i in &[0usize, 1, 5, 6, 7] {
        accept(store, &pc, patients[i]).await?;
    }
    for case in &CASES {
        let patient = patients[case.patient];
        let minutes_ago = case.days_ago * 24 * 60;
        let sid = start(store, &policy, now, tz, nurse, prescriber, patient, case, minutes_ago).await?;
        let n = |m: i64| at(now, minutes_ago - m, tz, nurse);
        uc::record_vitals(store, &n(10)?, &policy, sid, &vitals(138, 86, 84, 97, "4")).await.map_err(e("vitals"))?;
        uc::record_vitals(store, &n(40)?, &policy, sid, &vitals(142, 88, 82, 97, "4")).await.map_err(e("vitals"))?;
        // CADSS-6 at the peak (MON-KET-005).
        uc::record_cadss6(store, &n(40)?, &policy, sid, &cadss6("peak_40", ["2", "1", "1", "2", "1", "0"]))
            .await
            .map_err(e("cadss6"))?;
        if case.kind == "infusion_start" {
            let stop = AdministrationInput { kind: "infusion_stop".into(), ..AdministrationInput::default() };
            uc::record_administration(store, &n(40)?, &policy, sid, &stop).await.map_err(e("stop"))?;
        }
        let end = if case.kind == "device" { 130 } else { 105 };
        uc::record_vitals(store, &n(end - 5)?, &policy, sid, &vitals(126, 80, 74, 98, "5"))
            .await
            .map_err(e("vitals"))?;
        uc::record_cadss6(
            store,
            &n(end - 5)?,
            &policy,
            sid,
            &cadss6("before_discharge", ["0", "0", "0", "0", "0", "0"]),
        )
        .await
        .map_err(e("cadss6"))?;
        let all_met = DischargeInputForm {
            aldrete_total: Some(10),
            moaas: Some(5),
            dissociation_resolved: Some(true),
            able_to_walk_safely: Some(true),
            active_nausea: Some(false),
            suicidal_crisis: Some(false),
            escort_present: Some(true),
            written_instructions_given: Some(true),
            clinician_judges_stable: Some(true),
            // The REMS evaluation question (esketamine only).
            rems_ready_to_leave_minutes: (case.kind == "device").then_some(100),
            ..DischargeInputForm::default()
        };
        uc::discharge(store, &n(end)?, &policy, sid, &all_met).await.map_err(e("discharge"))?;
    }
    // Today: Avery's next IV session is running, with a high BP on the floor board.
    let sid = start(store, &policy, now, tz, nurse, prescriber, patients[0], &CASES[0], 15).await?;
    uc::record_vitals(store, &at(now, 5, tz, nurse)?, &policy, sid, &vitals(184, 104, 96, 97, "4"))
        .await
        .map_err(e("live vitals"))?;
    Ok(())
}
