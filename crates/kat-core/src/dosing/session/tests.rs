//! Boundary tests of the session machine, and property tests over random sequences.

use super::*;
use crate::dosing::units::{MgPerMl, Minutes};
use crate::monitoring::gate::{MealKind, NasalMedication, PregnancyStatus, SolidIntake, SubstanceUse, SuicideScreen};
use crate::monitoring::vitals::{BloodPressure, HeartRate, ReadingSource, SpO2};
use jiff::SignedDuration;
use uuid::Uuid;

fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}
fn today() -> Date {
    Date::constant(2026, 3, 2)
}
fn mins(m: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(m)
}
fn secs(s: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(s)
}
fn mg(v: f64) -> Mg {
    Mg::new(v).unwrap()
}
fn rate(v: f64) -> MlPerHour {
    MlPerHour::new(v).unwrap()
}
fn reason(s: &str) -> Reason {
    Reason::parse(s).unwrap()
}
fn policy() -> SessionTimePolicy {
    SessionTimePolicy::default()
}
fn ids() -> impl FnMut() -> SessionAlarmId {
    let mut n = 0u128;
    move || {
        n += 1;
        SessionAlarmId::from_uuid(Uuid::from_u128(n))
    }
}

/// A checklist where every item is answered and passes (as the gate's own tests).
fn passing(route: Route, now: Timestamp) -> GateChecklist {
    let esk = route.is_esketamine();
    let ago = |m: i64| now - SignedDuration::from_mins(m);
    GateChecklist {
        last_solid: Some(SolidIntake { at: ago(600), kind: MealKind::FattyOrMeat }),
        last_clear_liquid: Some(ago(180)),
        blood_pressure: Some(BloodPressure::mmhg(120, 80).unwrap()),
        hypertensive_symptoms: Some(false),
        heart_rate: Some(HeartRate::new(72).unwrap()),
        new_irregular_rhythm: Some(false),
        escort_confirmed: Some(true),
        no_driving_instruction_given: Some(true),
        intoxicated_or_in_withdrawal: Some(false),
        substance_use: Some(SubstanceUse::NoneWithinWindow),
        childbearing_potential: Some(true),
        pregnancy: Some(PregnancyStatus::NotPregnant),
        medication_changes_reviewed: Some(true),
        new_psychotic_or_manic_symptoms: Some(false),
        suicide_screen: Some(SuicideScreen::Negative),
        weight_measured_on: Some(Date::constant(2026, 2, 1)),
        rems_patient_enrolled: esk.then_some(true),
        rems_setting_certified: esk.then_some(true),
        prescriber_onsite: esk.then_some(true),
        pulse_oximeter_available: esk.then_some(true),
        nasal_medication: esk.then_some(NasalMedication::NoneToday),
        nasal_congestion: esk.then_some(false),
        ..GateChecklist::unanswered(route, route.usually_weight_based())
    }
}

fn iv_plan(dose: f64) -> SessionPlan {
    SessionPlan {
        route: Route::IvInfusion,
        dose: mg(dose),
        infusion: Some(InfusionPlan { stock: MgPerMl::new(50.0).unwrap(), minutes: Minutes::new(40) }),
    }
}

fn plan(route: Route, dose: f64) -> SessionPlan {
    if route == Route::IvInfusion { iv_plan(dose) } else { SessionPlan { route, dose: mg(dose), infusion: None } }
}

/// A session opened at t0 whose gate passed at t0 + 10 min.
fn gated(plan: SessionPlan) -> DosingSession {
    let s = DosingSession::open(plan, t0()).unwrap();
    let gate_at = mins(10);
    s.pass_gate(&passing(plan.route, gate_at), None, gate_at, today(), &GatePolicy::default()).unwrap().session
}

fn product() -> Product {
    Product {
        name: ShortText::parse("Ketamine 50 mg/mL").unwrap(),
        concentration: Some(MgPerMl::new(50.0).unwrap()),
        lot: ShortText::parse("L123").unwrap(),
        expiry: Date::constant(2027, 1, 1),
    }
}

fn adm(at: Timestamp, step: Step) -> Administration {
    let name = || Some(ShortText::parse("Nurse A").unwrap());
    Administration::new(at, step, step.mg().map(|_| product()), name(), name()).unwrap()
}

fn give(s: &DosingSession, at: Timestamp, step: Step) -> Result<DosingSession, SessionError> {
    s.administer(&adm(at, step), at, &policy()).map(|t| t.session)
}

fn reading(at: Timestamp) -> Reading {
    Reading::empty(at, ReadingSource::Device { device_id: "mon-1".into() })
}

fn refusal<T: std::fmt::Debug>(r: Result<T, SessionError>) -> (Refusal, &'static str, Option<String>) {
    let e = r.expect_err("refused");
    (e.refusal, e.field, e.rule.map(|r| r.to_string()))
}

// ---- the dose in force (DOSE-GEN-002) ----

#[test]
fn exactly_the_dose_in_force_passes_and_a_hundredth_more_is_refused() {
    let s = gated(plan(Route::Intramuscular, 35.0));
    assert!(give(&s, mins(20), Step::Dose { mg: mg(35.0) }).is_ok());
    assert_eq!(
        refusal(give(&s, mins(20), Step::Dose { mg: mg(35.01) })),
        (Refusal::DoseBeyondOrder, "dose_mg", Some("DOSE-GEN-002".into()))
    );
    // Split doses add up to the same limit.
    let half = give(&s, mins(20), Step::Dose { mg: mg(20.0) }).unwrap();
    assert!(give(&half, mins(21), Step::Dose { mg: mg(15.0) }).is_ok());
    assert_eq!(refusal(give(&half, mins(21), Step::Dose { mg: mg(15.01) })).0, Refusal::DoseBeyondOrder);
}

#[test]
fn a_dose_order_replaces_the_plan_dose_until_dosing_starts() {
    let s = DosingSession::open(plan(Route::Intramuscular, 35.0), t0()).unwrap().order_dose(mg(30.0)).unwrap().session;
    let s = s.pass_gate(&passing(Route::Intramuscular, mins(10)), None, mins(10), today(), &GatePolicy::default());
    let s = s.unwrap().session;
    assert_eq!(s.dose_in_force(), mg(30.0));
    assert!(give(&s, mins(20), Step::Dose { mg: mg(30.0) }).is_ok());
    assert_eq!(refusal(give(&s, mins(20), Step::Dose { mg: mg(30.01) })).0, Refusal::DoseBeyondOrder);
    let given = give(&s, mins(20), Step::Dose { mg: mg(10.0) }).unwrap();
    assert_eq!(refusal(given.order_dose(mg(40.0))).0, Refusal::DosingStarted);
}

// ---- esketamine devices (DOSE-IN-001) ----

#[test]
fn five_minutes_between_devices_passes_and_four_fifty_nine_is_refused() {
    let s = gated(plan(Route::IntranasalEsketamine, 84.0));
    let first = give(&s, mins(20), Step::Device { mg: mg(28.0) }).unwrap();
    let early = secs(20 * 60 + 299);
    assert_eq!(
        refusal(give(&first, early, Step::Device { mg: mg(28.0) })),
        (Refusal::Device, "at", Some("DOSE-IN-001".into()))
    );
    let second = give(&first, mins(25), Step::Device { mg: mg(28.0) }).unwrap();
    let third = give(&second, mins(30), Step::Device { mg: mg(28.0) }).unwrap();
    assert_eq!(third.device_times(), &[mins(20), mins(25), mins(30)]);
    assert_eq!(third.phase(), Phase::Observing);
    // A fourth device is beyond the 84 mg in force.
    assert_eq!(refusal(give(&third, mins(40), Step::Device { mg: mg(28.0) })).0, Refusal::DoseBeyondOrder);
    // One device is 28 mg.
    assert_eq!(
        refusal(give(&s, mins(20), Step::Device { mg: mg(27.0) })),
        (Refusal::DoseBeyondOrder, "dose_mg", Some("DOSE-IN-001".into()))
    );
    // Doses are not an esketamine step.
    assert_eq!(refusal(give(&s, mins(20), Step::Dose { mg: mg(28.0) })).0, Refusal::StepNotOfRoute);
}

// ---- the pump rate (DOSE-IV-003) and the infusion's order ----

#[test]
fn a_rate_at_the_ordered_rate_passes_and_above_is_refused() {
    // 40 mg from 50 mg/mL, diluted 1:1, over 40 min: 2.4 mL/h.
    let s = gated(iv_plan(40.0));
    assert!((s.ordered_rate().unwrap().value() - 2.4).abs() < 1e-9);
    let started = give(&s, mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.4) }).unwrap();
    assert_eq!(
        refusal(give(&s, mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.41) })),
        (Refusal::RateAboveOrder, "rate_ml_per_h", Some("DOSE-IV-003".into()))
    );
    assert_eq!(
        refusal(give(&started, mins(25), Step::InfusionRateChange { rate: rate(2.5) })).0,
        Refusal::RateAboveOrder
    );
    assert!(give(&started, mins(25), Step::InfusionRateChange { rate: rate(1.2) }).is_ok());
    let paused = give(&started, mins(25), Step::InfusionPause).unwrap();
    assert_eq!(refusal(give(&paused, mins(26), Step::InfusionResume { rate: rate(2.41) })).0, Refusal::RateAboveOrder);
    assert!(give(&paused, mins(26), Step::InfusionResume { rate: rate(2.4) }).is_ok());
}

#[test]
fn infusion_steps_keep_their_order() {
    let s = gated(iv_plan(40.0));
    let out = |r| refusal(r).0;
    assert_eq!(out(give(&s, mins(20), Step::InfusionPause)), Refusal::StepOutOfOrder);
    assert_eq!(out(give(&s, mins(20), Step::InfusionStop)), Refusal::StepOutOfOrder);
    assert_eq!(out(give(&s, mins(20), Step::Dose { mg: mg(40.0) })), Refusal::StepNotOfRoute);
    let running = give(&s, mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.4) }).unwrap();
    assert_eq!(running.phase(), Phase::Dosing);
    assert_eq!(
        out(give(&running, mins(21), Step::InfusionStart { mg: mg(1.0), rate: rate(1.0) })),
        Refusal::StepOutOfOrder
    );
    assert_eq!(out(give(&running, mins(21), Step::InfusionResume { rate: rate(1.0) })), Refusal::StepOutOfOrder);
    // Dated before the previous administration.
    let e = give(&running, mins(19), Step::InfusionPause).unwrap_err();
    assert_eq!((e.refusal, e.field), (Refusal::StepOutOfOrder, "at"));
    let paused = give(&running, mins(30), Step::InfusionPause).unwrap();
    assert_eq!(out(give(&paused, mins(31), Step::InfusionPause)), Refusal::StepOutOfOrder);
    assert_eq!(out(give(&paused, mins(31), Step::InfusionRateChange { rate: rate(1.0) })), Refusal::StepOutOfOrder);
    let stopped = give(&paused, mins(31), Step::InfusionStop).unwrap();
    assert_eq!(stopped.phase(), Phase::Observing);
    for step in [Step::InfusionPause, Step::InfusionResume { rate: rate(1.0) }, Step::InfusionStop] {
        assert_eq!(out(give(&stopped, mins(32), step)), Refusal::StepOutOfOrder, "{step:?}");
    }
}

// ---- delivered mg (issue 11 item 3), computed by hand ----

#[test]
fn delivered_mg_follows_the_pump() {
    // 50 mg/mL stock diluted 1:1: the bag holds 25 mg/mL; 2.4 mL/h = 1 mg/min.
    let s = gated(iv_plan(40.0));
    let close = |a: Mg, b: f64| assert!((a.value() - b).abs() < 1e-9, "{} != {b}", a.value());

    // Stopped after 2 minutes: 2 mg, not the 40 ordered.
    let started = give(&s, mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.4) }).unwrap();
    close(started.delivered_mg(mins(20)), 0.0);
    close(started.delivered_mg(mins(30)), 10.0);
    let stopped = started.administer(&adm(mins(22), Step::InfusionStop), mins(22), &policy()).unwrap();
    close(stopped.record.delivered, 2.0);
    close(stopped.session.delivered_mg(mins(90)), 2.0);
    assert_eq!(stopped.session.given(), mg(40.0), "given counts what was drawn up");

    // Start 2.4 → pause at 10 min (10 mg) → resume at 15 min at 1.2 → change to 2.4 at
    // 25 min (10 min × 0.5 mg/min = 5 mg) → stop at 35 min (10 min × 1 mg/min = 10 mg).
    let mut x = started.clone();
    for (at, step) in [
        (30, Step::InfusionPause),
        (35, Step::InfusionResume { rate: rate(1.2) }),
        (45, Step::InfusionRateChange { rate: rate(2.4) }),
        (55, Step::InfusionStop),
    ] {
        x = give(&x, mins(at), step).unwrap();
    }
    close(x.delivered_mg(mins(55)), 25.0);
    close(x.delivered_mg(mins(500)), 25.0);
    assert_eq!(x.times().unwrap(), SessionTimes { dose_start: mins(20), dose_end: mins(55) });

    // Left running past the planned 40 minutes: never more than the bag holds.
    close(started.delivered_mg(mins(80)), 40.0);
    let late_stop = give(&started, mins(80), Step::InfusionStop).unwrap();
    close(late_stop.delivered_mg(mins(80)), 40.0);

    // A paused pump delivers nothing.
    let paused = give(&started, mins(25), Step::InfusionPause).unwrap();
    close(paused.delivered_mg(mins(60)), 5.0);
}

// ---- event times (issue 11 item 2) ----

#[test]
fn an_administration_a_microsecond_before_the_gate_is_refused_at_the_gate_it_passes() {
    let opened = DosingSession::open(plan(Route::Intramuscular, 35.0), t0()).unwrap();
    assert_eq!(refusal(give(&opened, mins(5), Step::Dose { mg: mg(35.0) })).0, Refusal::GateNotPassed);
    let s = gated(plan(Route::Intramuscular, 35.0));
    let gate_at = s.gate().unwrap().at;
    let before = gate_at - SignedDuration::from_micros(1);
    let e = s.administer(&adm(before, Step::Dose { mg: mg(35.0) }), mins(30), &policy()).unwrap_err();
    assert_eq!((e.refusal, e.field), (Refusal::TooEarly, "at"));
    assert!(s.administer(&adm(gate_at, Step::Dose { mg: mg(35.0) }), mins(30), &policy()).is_ok());
    // A deferred session never doses.
    let deferred = opened
        .defer(&passing(Route::Intramuscular, mins(10)), reason("ill"), None, mins(10), today(), &GatePolicy::default())
        .unwrap()
        .session;
    assert_eq!(deferred.phase(), Phase::Deferred);
    assert_eq!(refusal(give(&deferred, mins(20), Step::Dose { mg: mg(1.0) })).0, Refusal::GateNotPassed);
}

#[test]
fn a_reading_at_the_skew_limit_passes_beyond_it_is_refused() {
    let s = gated(plan(Route::Intramuscular, 35.0));
    let now = mins(60);
    let p = SessionTimePolicy::default();
    let limit = now + SignedDuration::from_mins(2);
    let rec = |at| s.record_reading(&reading(at), now, &AlarmPolicy::default(), &p, ids());
    assert!(rec(limit).is_ok());
    let e = rec(limit + SignedDuration::from_micros(1)).unwrap_err();
    assert_eq!((e.refusal, e.field), (Refusal::InFuture, "at"));
    // Not before the session was opened.
    assert!(rec(t0()).is_ok());
    assert_eq!(rec(t0() - SignedDuration::from_micros(1)).unwrap_err().refusal, Refusal::TooEarly);
    // Ten minutes after the fact is on time; a microsecond more is a late entry.
    let ten = now - SignedDuration::from_mins(10);
    assert_eq!(rec(ten).unwrap().record.late, None);
    let late = rec(ten - SignedDuration::from_micros(1)).unwrap().record.late.unwrap();
    assert_eq!((late.recorded_at, late.delay()), (now, SignedDuration::from_mins(10) + SignedDuration::from_micros(1)));
    // Ratings and other entries use the same check.
    assert!(s.check_entry_time(limit, now, &p).is_ok());
    assert!(s.check_entry_time(limit + SignedDuration::from_micros(1), now, &p).is_err());
    // Administrations too.
    let e = s.administer(&adm(limit + SignedDuration::from_micros(1), Step::Dose { mg: mg(1.0) }), now, &p);
    assert_eq!(e.unwrap_err().refusal, Refusal::InFuture);
    let late = s.administer(&adm(mins(20), Step::Dose { mg: mg(1.0) }), now, &p).unwrap().record.late;
    assert_eq!(late, Some(LateEntry { at: mins(20), recorded_at: now }));
}

// ---- the gate ----

#[test]
fn the_gate_needs_an_override_when_the_checklist_says_so_and_is_recorded_once() {
    let s = DosingSession::open(plan(Route::IvInfusion, 40.0), t0()).unwrap();
    let mut c = passing(Route::IvInfusion, mins(10));
    c.blood_pressure = Some(BloodPressure::mmhg(150, 85).unwrap());
    let e = s.pass_gate(&c, None, mins(10), today(), &GatePolicy::default()).unwrap_err();
    assert_eq!((e.refusal, e.field), (Refusal::GateNeedsOverride, "override_reason"));
    let t = s.pass_gate(&c, Some(reason("discussed")), mins(10), today(), &GatePolicy::default()).unwrap();
    assert_eq!(t.record.outcome, GateOutcome::Override);
    assert_eq!(t.session.phase(), Phase::GatePassed);
    assert_eq!(t.session.baseline().blood_pressure, Some(BloodPressure::mmhg(150, 85).unwrap()));
    let again = t.session.pass_gate(&c, Some(reason("x")), mins(11), today(), &GatePolicy::default());
    assert_eq!(refusal(again).0, Refusal::GateAlreadyRecorded);
    let other = s.pass_gate(&passing(Route::Intramuscular, mins(10)), None, mins(10), today(), &GatePolicy::default());
    assert_eq!(refusal(other).1, "checklist.route");
    let empty = GateChecklist::unanswered(Route::IvInfusion, true);
    assert_eq!(refusal(s.pass_gate(&empty, None, mins(10), today(), &GatePolicy::default())).0, Refusal::GateSaysDefer);
}

// ---- alarms ----

#[test]
fn an_intervene_alarm_holds_drug_but_not_a_pause_or_stop_until_acknowledged() {
    let s = gated(iv_plan(40.0));
    let running = give(&s, mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.4) }).unwrap();
    let mut low = reading(mins(25));
    low.spo2 = Some(SpO2::new(88).unwrap());
    let t = running.record_reading(&low, mins(25), &AlarmPolicy::default(), &policy(), ids()).unwrap();
    assert_eq!(t.record.alarms.len(), 1);
    let id = t.record.alarms[0].id;
    let held = t.session;
    assert_eq!(held.open_alarms()[0].severity, Severity::Emergency);
    let paused = give(&held, mins(26), Step::InfusionPause).unwrap();
    assert_eq!(
        refusal(give(&paused, mins(27), Step::InfusionResume { rate: rate(2.4) })),
        (Refusal::AlarmHold, "session", Some("ALM-001".into()))
    );
    assert_eq!(refusal(give(&held, mins(27), Step::InfusionRateChange { rate: rate(1.0) })).0, Refusal::AlarmHold);
    assert!(give(&paused, mins(27), Step::InfusionStop).is_ok());
    let acked = paused.acknowledge_alarm(id, reason("O2 given, airway repositioned"), mins(28)).unwrap();
    assert_eq!(acked.record.alarm.rule.as_str(), "ALM-001");
    assert!(acked.session.open_alarms().is_empty());
    assert!(give(&acked.session, mins(29), Step::InfusionResume { rate: rate(2.4) }).is_ok());
    assert_eq!(refusal(acked.session.acknowledge_alarm(id, reason("again"), mins(30))).0, Refusal::NotAnOpenAlarm);

    // A notify-tier alarm does not hold dosing.
    let esk = gated(plan(Route::IntranasalEsketamine, 56.0));
    let mut high = reading(mins(15));
    high.blood_pressure = Some(BloodPressure::mmhg(165, 95).unwrap());
    let t = esk.record_reading(&high, mins(15), &AlarmPolicy::default(), &policy(), ids()).unwrap();
    assert_eq!(t.session.open_alarms()[0].severity, Severity::Notify);
    assert!(give(&t.session, mins(20), Step::Device { mg: mg(28.0) }).is_ok());
}

// ---- end and discharge ----

#[test]
fn an_intervention_ends_dosing_but_not_the_record_and_an_emergency_transfer_is_no_discharge() {
    let s = gated(iv_plan(40.0));
    let running = give(&s, mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.4) }).unwrap();
    let ended = running.end(End::Intervention, mins(25), mins(25), &policy()).unwrap().session;
    assert_eq!(ended.phase(), Phase::Ended);
    assert_eq!(
        refusal(give(&ended, mins(26), Step::InfusionRateChange { rate: rate(1.0) })),
        (Refusal::Ended, "session", Some("INT-005".into()))
    );
    let stopped = give(&ended, mins(26), Step::InfusionStop).unwrap();
    assert!(stopped.record_reading(&reading(mins(40)), mins(40), &AlarmPolicy::default(), &policy(), ids()).is_ok());
    // A second intervention keeps the first end; a transfer replaces it.
    assert_eq!(
        stopped.end(End::Intervention, mins(30), mins(30), &policy()).unwrap().session.ending().unwrap().at,
        mins(25)
    );
    let transfer = End::EmergencyTransfer { reason: reason("chest pain") };
    let gone = stopped.end(transfer.clone(), mins(45), mins(45), &policy()).unwrap().session;
    assert_eq!(gone.ending().unwrap().cause, EndCause::EmergencyTransfer);
    let assessment = DischargeAssessment::default();
    let d = gone.discharge(&assessment, Some(reason("override")), mins(300), &DischargePolicy::default());
    assert_eq!(refusal(d).0, Refusal::Ended);
    assert!(gone.record_reading(&reading(mins(44)), mins(60), &AlarmPolicy::default(), &policy(), ids()).is_ok());
    assert_eq!(
        refusal(gone.record_reading(&reading(mins(46)), mins(60), &AlarmPolicy::default(), &policy(), ids())).0,
        Refusal::TooEarly
    );
    assert_eq!(refusal(gone.end(transfer, mins(50), mins(50), &policy())).0, Refusal::Ended);
}

#[test]
fn after_a_transfer_the_record_is_completed_by_late_entries_dated_before_it() {
    let s = gated(plan(Route::Intramuscular, 35.0));
    let s = give(&s, mins(20), Step::Dose { mg: mg(35.0) }).unwrap();
    assert_eq!(s.closed_at(), None);
    let transfer = End::EmergencyTransfer { reason: reason("chest pain") };
    let gone = s.end(transfer, mins(45), mins(45), &policy()).unwrap().session;
    assert_eq!(gone.closed_at(), Some(mins(45)));
    // Charted a minute later, dated a minute before the transfer: late (after the close).
    let t = gone.record_reading(&good_reading(mins(44)), mins(46), &AlarmPolicy::default(), &policy(), ids()).unwrap();
    assert_eq!(t.record.late, Some(LateEntry { at: mins(44), recorded_at: mins(46) }));
    // Dated at the transfer itself: still ours; a microsecond after: refused.
    assert!(gone.record_reading(&good_reading(mins(45)), mins(46), &AlarmPolicy::default(), &policy(), ids()).is_ok());
    let after = mins(45) + SignedDuration::from_micros(1);
    let e = gone.record_reading(&good_reading(after), mins(46), &AlarmPolicy::default(), &policy(), ids());
    assert_eq!(refusal(e).0, Refusal::TooEarly);
    // An intervention's end does not close the record: the patient is still observed.
    let stopped = s.end(End::Intervention, mins(25), mins(25), &policy()).unwrap().session;
    assert_eq!(stopped.closed_at(), None);
    let d = gone.clone();
    assert_eq!(d.discharged_at(), None, "a transfer is no discharge");
}

fn ready_assessment() -> DischargeAssessment {
    DischargeAssessment {
        aldrete_total: Some(10),
        pre_sedation_aldrete: Some(10),
        moaas: Some(Moaas::new(5).unwrap()),
        dissociation_resolved: Some(true),
        able_to_walk_safely: Some(true),
        active_nausea: Some(false),
        suicidal_crisis: Some(false),
        escort_present: Some(true),
        written_instructions_given: Some(true),
        clinician_judges_stable: Some(true),
    }
}

fn good_reading(at: Timestamp) -> Reading {
    let mut r = reading(at);
    r.blood_pressure = Some(BloodPressure::mmhg(125, 80).unwrap());
    r.heart_rate = Some(HeartRate::new(70).unwrap());
    r.spo2 = Some(SpO2::new(97).unwrap());
    r.on_supplemental_o2 = Some(false);
    r
}

#[test]
fn discharge_keeps_todays_rules() {
    let p = DischargePolicy::default();
    let s = gated(plan(Route::IntranasalEsketamine, 56.0));
    assert_eq!(refusal(s.discharge(&ready_assessment(), None, mins(300), &p)).0, Refusal::NothingGiven);
    let s = give(&s, mins(20), Step::Device { mg: mg(28.0) }).unwrap();
    let s = give(&s, mins(25), Step::Device { mg: mg(28.0) }).unwrap();
    let s = s.record_reading(&good_reading(mins(140)), mins(140), &AlarmPolicy::default(), &policy(), ids()).unwrap();
    let s = s.session;
    // Two hours after the last device (25 min): 145 min.
    let early = s.discharge(&ready_assessment(), None, mins(144), &p).unwrap_err();
    match &early.refusal {
        Refusal::DischargeNotReady { unmet, open_alarms } => {
            assert_eq!(unmet.len(), 1, "{unmet:?}");
            assert_eq!(unmet[0].rule.as_str(), "DC-001");
            assert!(open_alarms.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let done = s.discharge(&ready_assessment(), None, mins(145), &p).unwrap();
    assert!(done.record.ready && done.record.override_reason.is_none());
    assert_eq!(done.session.phase(), Phase::Discharged);
    // An override does not shorten the label's 2 hours (DC-001 [V]).
    let o = s.discharge(&ready_assessment(), Some(reason("family transport waiting")), mins(144), &p);
    assert_eq!(refusal(o).0, Refusal::LabelMinimum);
    // An open alarm refuses a discharge that is otherwise ready.
    let mut high = good_reading(mins(141));
    high.blood_pressure = Some(BloodPressure::mmhg(165, 95).unwrap());
    let alarmed = s.record_reading(&high, mins(141), &AlarmPolicy::default(), &policy(), ids()).unwrap().session;
    let mut after = good_reading(mins(142));
    after.blood_pressure = Some(BloodPressure::mmhg(130, 80).unwrap());
    let alarmed = alarmed.record_reading(&after, mins(142), &AlarmPolicy::default(), &policy(), ids()).unwrap().session;
    match alarmed.discharge(&ready_assessment(), None, mins(150), &p).unwrap_err().refusal {
        Refusal::DischargeNotReady { unmet, open_alarms } => {
            assert!(unmet.is_empty());
            assert_eq!(open_alarms, vec![RuleId::spec("ALM-002")]);
        }
        other => panic!("{other:?}"),
    }
    // Nothing is added after discharge.
    let d = done.session;
    assert_eq!(refusal(give(&d, mins(150), Step::Device { mg: mg(28.0) })).0, Refusal::Discharged);
    assert_eq!(
        refusal(d.record_reading(&good_reading(mins(150)), mins(150), &AlarmPolicy::default(), &policy(), ids())).0,
        Refusal::Discharged
    );
    assert_eq!(refusal(d.end(End::Intervention, mins(150), mins(150), &policy())).0, Refusal::Discharged);
    assert_eq!(refusal(d.discharge(&ready_assessment(), None, mins(150), &p)).0, Refusal::Discharged);

    // IV: not before the stop is recorded.
    let iv = gated(iv_plan(40.0));
    let iv = give(&iv, mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.4) }).unwrap();
    assert_eq!(refusal(iv.discharge(&ready_assessment(), None, mins(300), &p)).0, Refusal::InfusionNotStopped);
}

#[test]
fn esketamine_discharge_before_two_hours_after_the_last_device_is_refused_even_with_an_override() {
    let p = DischargePolicy::default();
    let s = gated(plan(Route::IntranasalEsketamine, 56.0));
    let s = give(&s, mins(20), Step::Device { mg: mg(28.0) }).unwrap();
    let s = give(&s, mins(25), Step::Device { mg: mg(28.0) }).unwrap();
    let s = s.record_reading(&good_reading(mins(140)), mins(140), &AlarmPolicy::default(), &policy(), ids()).unwrap();
    let s = s.session;
    // The label's 2 h after the last device (25 min) end at 145 min: a microsecond before
    // is refused whoever overrides; at 145 min the override is again the prescriber's.
    let just_before = mins(145) - SignedDuration::from_micros(1);
    let e = s.discharge(&ready_assessment(), Some(reason("family transport waiting")), just_before, &p).unwrap_err();
    assert_eq!(
        (e.refusal, e.field, e.rule.map(|r| r.to_string())),
        (Refusal::LabelMinimum, "observation", Some("DC-001".into()))
    );
    let mut unready = ready_assessment();
    unready.escort_present = Some(false);
    assert_eq!(refusal(s.discharge(&unready, Some(reason("x")), just_before, &p)).0, Refusal::LabelMinimum);
    let o = s.discharge(&unready, Some(reason("taxi booked by the clinic")), mins(145), &p).unwrap();
    assert!(!o.record.ready && o.record.override_reason.is_some());
    // A stricter clinic minimum (150 min) may still be overridden after the label's 2 h.
    let strict = DischargePolicy { esketamine_min: Minutes::new(150), ..p };
    assert!(s.discharge(&ready_assessment(), Some(reason("stable")), mins(146), &strict).is_ok());
    assert_eq!(refusal(s.discharge(&ready_assessment(), None, mins(146), &strict)).1, "discharge");
    // Racemic ketamine has no label minimum: its observation is clinic policy.
    let im = gated(plan(Route::Intramuscular, 35.0));
    let im = give(&im, mins(20), Step::Dose { mg: mg(35.0) }).unwrap();
    assert!(im.discharge(&ready_assessment(), Some(reason("stable")), mins(30), &p).is_ok());
}

#[test]
fn after_discharge_a_reading_dated_before_it_is_a_late_entry_and_one_after_it_is_refused() {
    let s = gated(plan(Route::Intramuscular, 35.0));
    let s = give(&s, mins(20), Step::Dose { mg: mg(35.0) }).unwrap();
    let s = s.record_reading(&good_reading(mins(85)), mins(85), &AlarmPolicy::default(), &policy(), ids()).unwrap();
    let d = s.session.discharge(&ready_assessment(), None, mins(90), &DischargePolicy::default()).unwrap().session;
    // Recorded the next day, dated at the discharge: accepted, always a late entry.
    let next_day = mins(60 * 24);
    let t = d.record_reading(&good_reading(mins(90)), next_day, &AlarmPolicy::default(), &policy(), ids()).unwrap();
    assert_eq!(t.record.late, Some(LateEntry { at: mins(90), recorded_at: next_day }));
    assert_eq!(t.session.vitals().count(), 2);
    assert_eq!(t.session.phase(), Phase::Discharged);
    // Even a minute after the event, it is late once the session is discharged.
    let soon = d.record_reading(&good_reading(mins(89)), mins(91), &AlarmPolicy::default(), &policy(), ids());
    assert!(soon.unwrap().record.late.is_some());
    let after = mins(90) + SignedDuration::from_micros(1);
    let e = d.record_reading(&good_reading(after), next_day, &AlarmPolicy::default(), &policy(), ids());
    assert_eq!(refusal(e).0, Refusal::Discharged);
    // Not before the session was opened, even late.
    let e = d.record_reading(
        &good_reading(t0() - SignedDuration::from_micros(1)),
        next_day,
        &AlarmPolicy::default(),
        &policy(),
        ids(),
    );
    assert_eq!(refusal(e).0, Refusal::TooEarly);
}

#[test]
fn a_deferred_gate_may_be_run_again_and_a_passed_one_may_not() {
    let opened = DosingSession::open(plan(Route::Intramuscular, 35.0), t0()).unwrap();
    let c = passing(Route::Intramuscular, mins(10));
    let deferred = opened.defer(&c, reason("ill"), None, mins(10), today(), &GatePolicy::default()).unwrap().session;
    let passed =
        deferred.pass_gate(&passing(Route::Intramuscular, mins(40)), None, mins(40), today(), &GatePolicy::default());
    let passed = passed.unwrap().session;
    assert_eq!((passed.phase(), passed.gate().unwrap().at), (Phase::GatePassed, mins(40)));
    let again = passed.defer(&c, reason("x"), None, mins(41), today(), &GatePolicy::default());
    assert_eq!(refusal(again).0, Refusal::GateAlreadyRecorded);
}

#[test]
fn an_iv_session_needs_its_infusion_plan() {
    let e = DosingSession::open(SessionPlan { route: Route::IvInfusion, dose: mg(40.0), infusion: None }, t0());
    assert_eq!(refusal(e).1, "infusion");
}

// ---- serde ----

#[test]
fn the_state_round_trips_through_json() {
    let s = DosingSession::open(iv_plan(40.0), t0()).unwrap().order_dose(mg(36.0)).unwrap().session;
    let s = s.pass_gate(&passing(Route::IvInfusion, mins(10)), None, mins(10), today(), &GatePolicy::default());
    let mut s = give(&s.unwrap().session, mins(20), Step::InfusionStart { mg: mg(36.0), rate: rate(2.0) }).unwrap();
    s = give(&s, mins(25), Step::InfusionPause).unwrap();
    let mut low = good_reading(mins(26));
    low.spo2 = Some(SpO2::new(89).unwrap());
    low.on_supplemental_o2 = Some(true);
    s = s.record_reading(&low, mins(26), &AlarmPolicy::default(), &policy(), ids()).unwrap().session;
    s = s.record_reading(&good_reading(mins(27)), mins(27), &AlarmPolicy::default(), &policy(), ids()).unwrap().session;
    s = s.end(End::Intervention, mins(28), mins(28), &policy()).unwrap().session;
    let json = serde_json::to_string(&s).unwrap();
    let back: DosingSession = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert!(json.len() < 1500, "compact: {} bytes: {json}", json.len());
    // The restored state decides as the original.
    assert_eq!(give(&back, mins(30), Step::InfusionStop).unwrap(), give(&s, mins(30), Step::InfusionStop).unwrap());
    assert_eq!(back.delivered_mg(mins(90)), s.delivered_mg(mins(90)));
}

#[test]
fn an_administration_parses_from_the_form_and_round_trips() {
    let raw = RawAdministration {
        kind: "infusion_start".into(),
        administered_by: "Nurse A".into(),
        monitored_by: "Dr B".into(),
        product: "Ketamine".into(),
        concentration_mg_per_ml: "50".into(),
        lot: "L1".into(),
        expiry: "2027-01-01".into(),
        dose_mg: "40".into(),
        rate_ml_per_h: "2.4".into(),
        at: "".into(),
    };
    let a = Administration::parse(&raw, mins(20), today()).unwrap();
    assert_eq!((a.at(), *a.step()), (mins(20), Step::InfusionStart { mg: mg(40.0), rate: rate(2.4) }));
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains(r#""kind":"infusion_start""#), "{json}");
    assert_eq!(serde_json::from_str::<Administration>(&json).unwrap(), a);

    let expired = RawAdministration { expiry: "2026-03-01".into(), ..raw.clone() };
    let e = Administration::parse(&expired, mins(20), today()).unwrap_err();
    assert_eq!(e.for_field("expiry"), Some("the product has expired"));
    let bare = RawAdministration { kind: "device".into(), ..RawAdministration::default() };
    let e = Administration::parse(&bare, mins(20), today()).unwrap_err();
    for f in ["administered_by", "monitored_by", "product", "lot", "expiry", "dose_mg"] {
        assert!(e.for_field(f).is_some(), "{f}: {e}");
    }
    let stop = RawAdministration { kind: "infusion_stop".into(), ..RawAdministration::default() };
    assert_eq!(*Administration::parse(&stop, mins(20), today()).unwrap().step(), Step::InfusionStop);
    let unknown = RawAdministration { kind: "bolus".into(), ..RawAdministration::default() };
    assert!(Administration::parse(&unknown, mins(20), today()).unwrap_err().for_field("kind").is_some());
    // Stored JSON without the details a drug step needs does not come back.
    assert!(serde_json::from_str::<Administration>(r#"{"at":"2026-03-02T09:20:00Z","kind":"dose","mg":5}"#).is_err());
}

// ---- properties ----

mod props {
    use super::*;
    use crate::dosing::units::exceeds;
    use crate::monitoring::discharge::current_values;
    use crate::monitoring::vitals::{Moaas, RespiratoryRate};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Gate,
        Step { kind: u8, amount: f64, rate: f64, back_secs: i64 },
        Reading { spo2: u16, back_secs: i64 },
        Ack,
        End,
        Discharge { with_override: bool },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => Just(Op::Gate),
            6 => (0u8..7, 0.5f64..120.0, 0.1f64..8.0, -300i64..900)
                .prop_map(|(kind, amount, rate, back_secs)| Op::Step { kind, amount, rate, back_secs }),
            2 => (84u16..100, -300i64..900).prop_map(|(spo2, back_secs)| Op::Reading { spo2, back_secs }),
            1 => Just(Op::Ack),
            1 => Just(Op::End),
            1 => any::<bool>().prop_map(|with_override| Op::Discharge { with_override }),
        ]
    }

    fn session_plan() -> impl Strategy<Value = SessionPlan> {
        (0usize..6, 1u32..=3, 1.0f64..200.0, prop::sample::select(vec![10.0, 50.0, 100.0]), 10u32..100).prop_map(
            |(r, devices, dose, stock, minutes)| {
                let route = Route::ALL[r];
                let dose = if route.is_esketamine() { f64::from(devices * 28) } else { dose };
                SessionPlan {
                    route,
                    dose: mg(dose),
                    infusion: (route == Route::IvInfusion)
                        .then(|| InfusionPlan { stock: MgPerMl::new(stock).unwrap(), minutes: Minutes::new(minutes) }),
                }
            },
        )
    }

    fn step_of(kind: u8, amount: f64, rate: f64) -> Step {
        match kind {
            0 => Step::Dose { mg: mg(amount) },
            1 => Step::Device { mg: mg(28.0) },
            2 => Step::InfusionStart { mg: mg(amount), rate: MlPerHour::new(rate).unwrap() },
            3 => Step::InfusionPause,
            4 => Step::InfusionResume { rate: MlPerHour::new(rate).unwrap() },
            5 => Step::InfusionRateChange { rate: MlPerHour::new(rate).unwrap() },
            _ => Step::InfusionStop,
        }
    }

    /// What a store would hold of a session: its gate, administrations, readings with
    /// the ids of the alarms each raised, the end and the discharge.
    #[derive(Default)]
    struct History {
        gate: Option<(GateChecklist, Timestamp)>,
        administrations: Vec<Administration>,
        readings: Vec<(Reading, Vec<SessionAlarmId>)>,
        end: Option<Timestamp>,
        discharged: Option<Timestamp>,
    }

    impl History {
        /// Rebuilds the state through the replay steps; `live` says which alarms are
        /// still open (the store's acknowledged flag).
        fn replay(&self, plan: SessionPlan, live: &DosingSession) -> DosingSession {
            let mut s = DosingSession::open(plan, t0()).unwrap();
            if let Some((c, at)) = &self.gate {
                s = s.replay_gate(c, *at, GateOutcome::Proceed);
            }
            for a in &self.administrations {
                s = s.replay_administration(a);
            }
            for (r, ids) in &self.readings {
                let open: Vec<OpenAlarm> = live.open_alarms().iter().filter(|a| ids.contains(&a.id)).cloned().collect();
                s = s.replay_reading(r, &open);
            }
            if let Some(at) = self.end {
                s = s.replay_end(Ending { at, cause: EndCause::Intervention });
            }
            if let Some(at) = self.discharged {
                s = s.replay_discharge(at);
            }
            s
        }
    }

    fn within_dose(s: &DosingSession, now: Timestamp) -> bool {
        let limit = s.dose_in_force().value();
        !exceeds(s.given().value(), limit)
            && !exceeds(s.delivered_mg(now).value(), limit)
            && !exceeds(s.delivered_mg(now + SignedDuration::from_hours(10)).value(), limit)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever is attempted, in whatever order and with whatever times: given and
        /// delivered never exceed the dose in force; nothing is administered before the
        /// gate (in state or in time) nor dated beyond the skew; nothing that gives drug
        /// is accepted after the end; nothing at all after discharge.
        #[test]
        fn random_sessions_keep_the_invariants(
            plan in session_plan(),
            gate_first in prop::bool::weighted(0.75),
            ops in prop::collection::vec((0i64..600, op()), 1..40),
        ) {
            let time = SessionTimePolicy::default();
            let mut s = DosingSession::open(plan, t0()).unwrap();
            let mut now = t0();
            let mut next_id = ids();
            let mut history = History::default();
            let ops = gate_first.then_some((0, Op::Gate)).into_iter().chain(ops);
            for (advance, op) in ops {
                now += SignedDuration::from_secs(advance);
                let before = s.clone();
                let discharged = before.discharged_at().is_some();
                let accepted = match op {
                    Op::Gate => before
                        .pass_gate(&passing(plan.route, now), None, now, today(), &GatePolicy::default())
                        .map(|t| t.session),
                    Op::Step { kind, amount, rate, back_secs } => {
                        let at = now - SignedDuration::from_secs(back_secs);
                        let step = step_of(kind, amount, rate);
                        let r = before.administer(&adm(at, step), now, &time).map(|t| t.session);
                        if r.is_ok() {
                            let gate = before.gate();
                            prop_assert!(gate.is_some_and(|g| g.outcome.passed() && at >= g.at), "before the gate");
                            prop_assert!(at <= time.latest_allowed(now), "beyond the skew");
                            prop_assert!(!(step.gives_drug() && before.ending().is_some()), "drug after the end");
                            prop_assert!(!(step.gives_drug() && before.open_alarms().iter().any(|a| a.holds_dosing())));
                        }
                        r
                    }
                    Op::Reading { spo2, back_secs } => {
                        let mut r = reading(now - SignedDuration::from_secs(back_secs));
                        r.spo2 = Some(SpO2::new(spo2).unwrap());
                        let t = before.record_reading(&r, now, &AlarmPolicy::default(), &time, &mut next_id);
                        if let Ok(t) = &t {
                            if let Some(d) = before.discharged_at() {
                                prop_assert!(r.at <= d && t.record.late.is_some(), "a reading after discharge");
                            }
                            let ids = t.record.alarms.iter().map(|a| a.id).collect();
                            history.readings.push((r.clone(), ids));
                        }
                        t.map(|t| t.session)
                    }
                    Op::Ack => match before.open_alarms().first() {
                        Some(a) => before.acknowledge_alarm(a.id, reason("done"), now).map(|t| t.session),
                        None => continue,
                    },
                    Op::End => before.end(End::Intervention, now, now, &time).map(|t| t.session),
                    Op::Discharge { with_override } => before
                        .discharge(&ready_assessment(), with_override.then(|| reason("prescriber")), now, &DischargePolicy::default())
                        .map(|t| t.session),
                };
                if let Ok(next) = accepted {
                    let late_reading = matches!(op, Op::Reading { .. });
                    prop_assert!(!discharged || matches!(op, Op::Ack) || late_reading, "accepted after discharge: {op:?}");
                    match op {
                        Op::Gate => history.gate = Some((passing(plan.route, now), now)),
                        Op::Step { kind, amount, rate, back_secs } => {
                            let at = now - SignedDuration::from_secs(back_secs);
                            history.administrations.push(adm(at, step_of(kind, amount, rate)));
                        }
                        Op::End if before.ending().is_none() => history.end = Some(now),
                        Op::Discharge { .. } => history.discharged = Some(now),
                        _ => {}
                    }
                    s = next;
                }
                // The state rebuilt from the history so far equals the one built live.
                prop_assert_eq!(&history.replay(plan, &s), &s);
                prop_assert!(within_dose(&s, now), "given {} delivered {} in force {}", s.given().value(), s.delivered_mg(now).value(), s.dose_in_force().value());
                let json = serde_json::to_string(&s).unwrap();
                prop_assert_eq!(&serde_json::from_str::<DosingSession>(&json).unwrap(), &s);
            }
        }
    }

    /// Minute, BP (systolic, gap to diastolic), HR, SpO2 with oxygen, RR, MOAA/S.
    type Vital = (i64, Option<(u16, u16)>, Option<u16>, Option<(u16, Option<bool>)>, Option<u16>, Option<u16>);

    fn vitals() -> impl Strategy<Value = Vital> {
        (
            0i64..30,
            prop::option::of((90u16..220, 10u16..60)),
            prop::option::of(30u16..160),
            prop::option::of((80u16..=100, prop::option::of(any::<bool>()))),
            prop::option::of(4u16..30),
            prop::option::of(0u16..=5),
        )
    }

    /// Today's baseline: the gate's pre-dose BP and HR, else the first reading of the
    /// list the store returns (by time, then by the order recorded) — `baseline()` in
    /// the app.
    fn reference_baseline(gate: Option<&GateChecklist>, readings: &[Reading]) -> Baseline {
        let mut by_time: Vec<&Reading> = readings.iter().collect();
        by_time.sort_by_key(|r| r.at);
        let mut b = by_time.first().map(|r| Baseline::from_reading(r)).unwrap_or_default();
        if let Some(c) = gate {
            b.blood_pressure = c.blood_pressure.or(b.blood_pressure);
            b.heart_rate = c.heart_rate.or(b.heart_rate);
        }
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Readings applied one by one give the same baseline, alarms and current values
        /// as computing them from the whole list with the existing functions.
        #[test]
        fn incremental_monitoring_equals_the_whole_list(
            gate in prop::option::of((prop::option::of((100u16..200, 10u16..60)), prop::option::of(40u16..140))),
            list in prop::collection::vec(vitals(), 0..25),
        ) {
            let alarm_policy = AlarmPolicy { bp_systolic_rise_notify_above: Some(20), ..AlarmPolicy::default() };
            let mut s = DosingSession::open(plan(Route::Intramuscular, 35.0), t0()).unwrap();
            let checklist = gate.map(|(bp, hr)| {
                let mut c = passing(Route::Intramuscular, mins(0));
                c.blood_pressure = bp.map(|(sys, gap)| BloodPressure::mmhg(sys, sys - gap).unwrap());
                c.heart_rate = hr.map(|h| HeartRate::new(h).unwrap());
                c
            });
            if let Some(c) = &checklist {
                s = s.defer(c, reason("test"), None, t0(), today(), &GatePolicy::default()).unwrap().session;
            }
            let now = mins(60);
            let mut all: Vec<Reading> = Vec::new();
            let mut next_id = ids();
            for (i, (minute, bp, hr, spo2, rr, moaas)) in list.into_iter().enumerate() {
                let mut r = Reading::empty(mins(minute), ReadingSource::Device { device_id: i.to_string() });
                r.blood_pressure = bp.map(|(sys, gap)| BloodPressure::mmhg(sys, sys - gap).unwrap());
                r.heart_rate = hr.map(|h| HeartRate::new(h).unwrap());
                r.spo2 = spo2.map(|(v, _)| SpO2::new(v).unwrap());
                r.on_supplemental_o2 = spo2.and_then(|(_, o2)| o2);
                r.respiratory_rate = rr.map(|v| RespiratoryRate::new(v).unwrap());
                r.moaas = moaas.map(|v| Moaas::new(v).unwrap());
                let expected_baseline = reference_baseline(checklist.as_ref(), &all);
                prop_assert_eq!(s.baseline(), expected_baseline);
                let t = s.record_reading(&r, now, &alarm_policy, &SessionTimePolicy::default(), &mut next_id).unwrap();
                let raised: Vec<Alarm> = t.record.alarms.into_iter().map(|a| a.alarm).collect();
                prop_assert_eq!(raised, alarms::evaluate_reading(&r, &expected_baseline, &alarm_policy));
                s = t.session;
                all.push(r);
                prop_assert_eq!(s.baseline(), reference_baseline(checklist.as_ref(), &all));
                for since in [0, 5, 10, 20, 29, 31] {
                    prop_assert_eq!(s.vitals().current_values(mins(since)), current_values(&all, mins(since)), "since {}", since);
                }
            }
            prop_assert_eq!(s.vitals().count() as usize, all.len());
        }
    }
}
