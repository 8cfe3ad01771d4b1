//! Conformance cases of the dosing repositories (schemas 0005, 0006).

use super::{demographics, new_user, t0};
use crate::dosing::{dosing_constraints as c, *};
use crate::intake::{DecisionRecord, EvaluationRecord};
use crate::*;
use jiff::Timestamp;
use jiff::ToSpan;
use kat_core::dosing::session::{
    Administration, DosingSession, GateOutcome, InfusionPlan, Product, SessionPlan, SessionTimePolicy, ShortText, Step,
};
use kat_core::dosing::{Mg, MgPerMl, Minutes, MlPerHour, Route};
use kat_core::eligibility::EligibilityPolicy;
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, VitalId};
use kat_core::monitoring::RuleId;
use kat_core::monitoring::alarms::{AlarmKind, AlarmPolicy, Severity};
use kat_core::monitoring::gate::GateChecklist;
use kat_core::monitoring::vitals::{Reading, ReadingSource, SpO2};
use kat_core::role::Role;
use uuid::Uuid;

/// A prescriber, a patient with an accepted eligibility decision and a signed plan, in
/// `tx`: what a dosing session needs.
async fn patient_with_plan(tx: &mut Box<dyn Tx>, name: &str) -> (kat_core::user::User, PatientId, TreatmentPlanRecord) {
    let pres = tx.insert_user(&new_user(name, Role::Prescriber)).await.unwrap();
    let pid = PatientId::from_uuid(Uuid::now_v7());
    tx.insert_patient(pid, &demographics("Ada", "Dose", "1980-01-01"), t0()).await.unwrap();
    tx.insert_policy(&EligibilityPolicy::default(), t0(), None).await.unwrap();
    let mut answers = kat_core::eligibility::answers::IntakeAnswers::new();
    answers.set("heart_rate", "70").unwrap();
    tx.insert_intake_version(pid, &answers, true, "vitals", t0(), Some(pres.id)).await.unwrap();
    let eval = EvaluationRecord {
        id: Uuid::now_v7(),
        patient_id: pid,
        intake_version: 1,
        policy_version: 1,
        status: "eligible".into(),
        result_json: "{}".into(),
        evaluated_at: t0(),
    };
    tx.insert_evaluation(&eval).await.unwrap();
    let decision = DecisionRecord {
        id: Uuid::now_v7(),
        patient_id: pid,
        evaluation_id: eval.id,
        decision: "accept".into(),
        reasons_json: "{}".into(),
        override_reason: None,
        override_by: None,
        signed_by: pres.id,
        signed_at: t0(),
        stale: false,
    };
    tx.insert_decision(&decision).await.unwrap();

    // Plans: stored as given; signed once, then locked.
    let plan = TreatmentPlanRecord {
        id: TreatmentPlanId::from_uuid(Uuid::now_v7()),
        patient_id: pid,
        decision_id: decision.id,
        content: r#"{"route":"iv_infusion"}"#.into(),
        created_by: pres.id,
        created_at: t0(),
        signed_by: None,
        signed_at: None,
        overlap_override: None,
    };
    tx.insert_treatment_plan(&plan).await.unwrap();
    (pres, pid, plan)
}

/// An administration of `step` at `at`, with the details DOSE-GEN-002 asks for.
pub(super) fn administration(at: Timestamp, step: Step) -> Administration {
    let text = |s: &str| Some(ShortText::parse(s).unwrap());
    let product = Product {
        name: ShortText::parse("Ketamine 50 mg/mL").unwrap(),
        concentration: Some(MgPerMl::new(50.0).unwrap()),
        lot: ShortText::parse("L1").unwrap(),
        expiry: jiff::civil::date(2030, 1, 1),
    };
    Administration::new(at, step, step.mg().map(|_| product), text("RN A"), text("RN B")).unwrap()
}

pub async fn dosing_gate_before_administration_and_alarms_once(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (pres, pid, plan) = patient_with_plan(&mut tx, "pres").await;
    assert_eq!(tx.treatment_plan_by_id(plan.id).await.unwrap(), Some(plan.clone()));
    // The overlap override (migration 0012) is written by the signing itself.
    tx.sign_treatment_plan(plan.id, pres.id, t0() + 1.minute(), Some(r#"{"reason":"r"}"#)).await.unwrap();
    let err = tx.sign_treatment_plan(plan.id, pres.id, t0(), None).await.unwrap_err();
    assert!(err.is_conflict_on(c::TREATMENT_PLANS_LOCKED), "{err:?}");
    let signed = tx.treatment_plans_for_patient(pid).await.unwrap();
    assert_eq!((signed.len(), signed[0].signed_by, signed[0].signed_at), (1, Some(pres.id), Some(t0() + 1.minute())));
    assert_eq!(signed[0].overlap_override.as_deref(), Some(r#"{"reason":"r"}"#));

    // Sessions: no administration before the gate.
    let session = DosingSessionRecord {
        id: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient_id: pid,
        plan_id: plan.id,
        route: Route::IvInfusion,
        opened_by: pres.id,
        opened_at: t0(),
        gate_outcome: None,
        gate: None,
        gate_by: None,
        gate_at: None,
        discharge: None,
        discharged_by: None,
        discharged_at: None,
        state: None,
        // Migration 0012: a prescriber's override of the one-dose-day rule, read back as written.
        dose_day_override: Some(r#"{"reason":"second dose"}"#.into()),
    };
    tx.insert_dosing_session(&session).await.unwrap();
    assert_eq!(tx.dosing_session_by_id(session.id).await.unwrap(), Some(session.clone()));
    tx.lock_dosing_session(session.id).await.unwrap();
    let unknown = tx.lock_dosing_session(DosingSessionId::from_uuid(Uuid::now_v7())).await.unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound), "{unknown:?}");
    tx.lock_patient_for_dosing(pid).await.unwrap();
    let unknown = tx.lock_patient_for_dosing(PatientId::from_uuid(Uuid::now_v7())).await.unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound), "{unknown:?}");
    let admin = AdministrationRecord {
        id: AdministrationId::from_uuid(Uuid::now_v7()),
        session_id: session.id,
        administration: administration(
            t0() + 5.minutes(),
            Step::InfusionStart { mg: Mg::new(40.0).unwrap(), rate: MlPerHour::new(2.4).unwrap() },
        ),
        recorded_by: pres.id,
        recorded_at: t0() + 30.minutes(),
        late: true,
    };
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let err = tx.insert_administration(&admin).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSE_ADMINISTRATIONS_GATE_PASSED), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.record_gate(session.id, GateOutcome::Defer, "{}", pres.id, t0()).await.unwrap();
    let err = tx.insert_administration(&admin).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSE_ADMINISTRATIONS_GATE_PASSED), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.record_gate(session.id, GateOutcome::Proceed, "{}", pres.id, t0() + 1.minute()).await.unwrap();
    let err = tx.record_gate(session.id, GateOutcome::Proceed, "{}", pres.id, t0()).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSING_SESSIONS_STATE), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.record_gate(session.id, GateOutcome::Proceed, "{}", pres.id, t0() + 1.minute()).await.unwrap();
    // Dose orders before dosing: kept, oldest first; none once dosing has started.
    let order = |minutes: i64, content: &str| DoseOrderRecord {
        id: Uuid::now_v7(),
        session_id: session.id,
        content: content.into(),
        ordered_by: pres.id,
        ordered_at: t0() + minutes.minutes(),
    };
    let (second, first) = (order(3, r#"{"mg":30}"#), order(2, r#"{"mg":40}"#));
    tx.insert_dose_order(&second).await.unwrap();
    tx.insert_dose_order(&first).await.unwrap();
    assert_eq!(tx.dose_orders_for_session(session.id).await.unwrap(), vec![first, second]);
    tx.insert_administration(&admin).await.unwrap();
    assert_eq!(tx.administrations_for_session(session.id).await.unwrap(), vec![admin.clone()]);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let err = tx.insert_dose_order(&order(6, "{}")).await.unwrap_err();
    assert!(err.is_conflict_on(c::SESSION_DOSE_ORDERS_BEFORE_DOSING), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.dose_orders_for_session(session.id).await.unwrap().len(), 2, "the refused order left nothing");

    // Vitals and alarms: one per reading and kind; acknowledged once.
    let mut reading = Reading::empty(t0() + 10.minutes(), ReadingSource::Device { device_id: "mon-1".into() });
    reading.spo2 = Some(SpO2::new(91).unwrap());
    let vital = VitalRecord {
        id: VitalId::from_uuid(Uuid::now_v7()),
        session_id: session.id,
        reading,
        taken_at: t0() + 10.minutes(),
        recorded_by: None,
        recorded_at: t0() + 10.minutes(),
        late: false,
    };
    tx.insert_vital(&vital).await.unwrap();
    assert_eq!(tx.vitals_for_session(session.id).await.unwrap(), vec![vital.clone()]);
    let alarm = AlarmRecord {
        id: SessionAlarmId::from_uuid(Uuid::now_v7()),
        session_id: session.id,
        vital_id: vital.id,
        rule: RuleId::spec("ALM-002"),
        kind: AlarmKind::BloodPressure,
        severity: Severity::Intervene,
        content: r#"{"at":"2026-03-02T09:10:00Z"}"#.into(),
        raised_at: t0() + 10.minutes(),
        acknowledged_by: None,
        acknowledged_at: None,
        action_taken: None,
    };
    tx.insert_alarm(&alarm).await.unwrap();
    assert_eq!(tx.alarms_for_session(session.id).await.unwrap(), vec![alarm.clone()]);
    assert!(tx.alarms_for_session(DosingSessionId::from_uuid(Uuid::now_v7())).await.unwrap().is_empty());
    assert_eq!(tx.open_dosing_sessions().await.unwrap().len(), 1);
    assert_eq!(tx.unacknowledged_alarms().await.unwrap(), vec![alarm.clone()]);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let twice = AlarmRecord { id: SessionAlarmId::from_uuid(Uuid::now_v7()), ..alarm.clone() };
    let err = tx.insert_alarm(&twice).await.unwrap_err();
    assert!(err.is_conflict_on(c::SESSION_ALARMS_VITAL_KIND_UNIQUE), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.acknowledge_alarm(alarm.id, pres.id, t0() + 12.minutes(), "paused").await.unwrap();
    let err = tx.acknowledge_alarm(alarm.id, pres.id, t0(), "again").await.unwrap_err();
    assert!(err.is_conflict_on(c::SESSION_ALARMS_ACKNOWLEDGED), "{err:?}");
    let acked = tx.alarm_by_id(alarm.id).await.unwrap().unwrap();
    assert_eq!(
        (acked.acknowledged_by, acked.acknowledged_at, acked.action_taken.as_deref()),
        (Some(pres.id), Some(t0() + 12.minutes()), Some("paused"))
    );
    assert!(tx.unacknowledged_alarms().await.unwrap().is_empty());
    // A session's alarms, acknowledged or not, by the time they were raised.
    let earlier = AlarmRecord {
        id: SessionAlarmId::from_uuid(Uuid::now_v7()),
        kind: AlarmKind::Oxygenation,
        severity: Severity::Emergency,
        content: "{}".into(),
        raised_at: t0() + 9.minutes(),
        ..alarm.clone()
    };
    tx.insert_alarm(&earlier).await.unwrap();
    assert_eq!(tx.alarms_for_session(session.id).await.unwrap(), vec![earlier.clone(), acked.clone()]);
    assert_eq!(tx.unacknowledged_alarms().await.unwrap(), vec![earlier.clone()]);
    // As the state holds an open alarm: at the reading's time (the content's), else raised.
    assert_eq!(acked.open_alarm().at, "2026-03-02T09:10:00Z".parse::<Timestamp>().unwrap());
    assert_eq!((earlier.open_alarm().at, earlier.open_alarm().severity), (earlier.raised_at, Severity::Emergency));

    // Session events (adverse events, interventions, REMS submitted), by time.
    for (kind, minutes) in [(SessionEventKind::Intervention, 14), (SessionEventKind::AdverseEvent, 11)] {
        tx.insert_session_event(&SessionEventRecord {
            id: Uuid::now_v7(),
            session_id: session.id,
            kind,
            content: "{}".into(),
            at: t0() + minutes.minutes(),
            recorded_by: pres.id,
            recorded_at: t0() + 15.minutes(),
            late: minutes == 11,
        })
        .await
        .unwrap();
    }
    let events = tx.session_events_for_session(session.id).await.unwrap();
    let kinds: Vec<(SessionEventKind, bool)> = events.into_iter().map(|e| (e.kind, e.late)).collect();
    assert_eq!(kinds, [(SessionEventKind::AdverseEvent, true), (SessionEventKind::Intervention, false)]);
    tx.commit().await.unwrap();
    // The REMS form is marked submitted at most once per session (0007); other kinds repeat.
    let rems = |minutes: i64| SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: session.id,
        kind: SessionEventKind::RemsSubmitted,
        content: "{}".into(),
        at: t0() + minutes.minutes(),
        recorded_by: pres.id,
        recorded_at: t0() + minutes.minutes(),
        late: false,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_session_event(&rems(16)).await.unwrap();
    tx.insert_session_event(&SessionEventRecord {
        id: Uuid::now_v7(),
        kind: SessionEventKind::Intervention,
        ..rems(17)
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let err = tx.insert_session_event(&rems(18)).await.unwrap_err();
    assert!(err.is_conflict_on(c::SESSION_EVENTS_REMS_SUBMITTED_ONCE), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let kinds: Vec<SessionEventKind> =
        tx.session_events_for_session(session.id).await.unwrap().into_iter().map(|e| e.kind).collect();
    use SessionEventKind as K;
    assert_eq!(kinds, [K::AdverseEvent, K::Intervention, K::RemsSubmitted, K::Intervention]);
    // The kinds of migration 0011.
    for kind in [K::EmergencyTransfer, K::RemsFields] {
        tx.insert_session_event(&SessionEventRecord { id: Uuid::now_v7(), kind, ..rems(19) }).await.unwrap();
    }
    assert_eq!(tx.session_events_for_session(session.id).await.unwrap().len(), 6);
    assert_eq!(tx.dosing_sessions_by_route(Route::IvInfusion).await.unwrap().len(), 1);
    assert!(tx.dosing_sessions_by_route(Route::IntranasalEsketamine).await.unwrap().is_empty());

    // Discharge once; then no more administrations.
    tx.record_discharge(session.id, "{}", pres.id, t0() + 2.hours()).await.unwrap();
    let err = tx.record_discharge(session.id, "{}", pres.id, t0()).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSING_SESSIONS_STATE), "{err:?}");
    assert!(tx.open_dosing_sessions().await.unwrap().is_empty());
    assert_eq!(tx.dosing_sessions_for_patient(pid).await.unwrap()[0].discharged_at, Some(t0() + 2.hours()));
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let late = AdministrationRecord { id: AdministrationId::from_uuid(Uuid::now_v7()), ..admin };
    let err = tx.insert_administration(&late).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSE_ADMINISTRATIONS_GATE_PASSED), "{err:?}");
}

/// A running IV session's state: floats that must come back exactly (mg, mL, mL/h).
fn running_iv_state() -> DosingSession {
    let plan = SessionPlan {
        route: Route::IvInfusion,
        dose: Mg::new(36.7).unwrap(),
        infusion: Some(InfusionPlan { stock: MgPerMl::new(50.0).unwrap(), minutes: Minutes::new(40) }),
    };
    let s = DosingSession::open(plan, t0()).unwrap();
    let mut checklist = GateChecklist::unanswered(Route::IvInfusion, false);
    checklist.blood_pressure = None;
    let gated = s.replay_gate(&checklist, t0() + 1.minute(), GateOutcome::Proceed);
    let start = Step::InfusionStart { mg: Mg::new(36.7).unwrap(), rate: MlPerHour::new(2.1).unwrap() };
    let started =
        gated.administer(&administration(t0() + 2.minutes(), start), t0() + 2.minutes(), &SessionTimePolicy::default());
    let started = started.unwrap().session;
    let mut low = Reading::empty(t0() + 7.minutes(), ReadingSource::Device { device_id: "mon-1".into() });
    low.spo2 = Some(SpO2::new(88).unwrap());
    let t = started.record_reading(
        &low,
        t0() + 7.minutes(),
        &AlarmPolicy::default(),
        &SessionTimePolicy::default(),
        || SessionAlarmId::from_uuid(Uuid::now_v7()),
    );
    t.unwrap().session
}

/// The session's state (0011): stored with the session, read back exactly (by id, in a
/// list, for update), saved again; a session older than the state reads back without
/// one; reading a session for update holds it until the transaction ends, so a second
/// writer sees what the first saved.
pub async fn dosing_session_state_is_stored_beside_the_session_and_held_for_update(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (pres, pid, plan) = patient_with_plan(&mut tx, "pres-state").await;
    let opened = DosingSession::open(
        SessionPlan {
            route: Route::IvInfusion,
            dose: Mg::new(36.7).unwrap(),
            infusion: Some(InfusionPlan { stock: MgPerMl::new(50.0).unwrap(), minutes: Minutes::new(40) }),
        },
        t0(),
    )
    .unwrap();
    let session = DosingSessionRecord {
        id: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient_id: pid,
        plan_id: plan.id,
        route: Route::IvInfusion,
        opened_by: pres.id,
        opened_at: t0(),
        gate_outcome: None,
        gate: None,
        gate_by: None,
        gate_at: None,
        discharge: None,
        discharged_by: None,
        discharged_at: None,
        state: Some(opened.clone()),
        dose_day_override: None,
    };
    let legacy = DosingSessionRecord { id: DosingSessionId::from_uuid(Uuid::now_v7()), state: None, ..session.clone() };
    tx.insert_dosing_session(&session).await.unwrap();
    tx.insert_dosing_session(&legacy).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.dosing_session_by_id(session.id).await.unwrap(), Some(session.clone()));
    assert_eq!(tx.dosing_session_for_update(session.id).await.unwrap(), Some(session.clone()));
    assert_eq!(tx.dosing_session_for_update(legacy.id).await.unwrap().unwrap().state, None);
    assert_eq!(tx.dosing_session_for_update(DosingSessionId::from_uuid(Uuid::now_v7())).await.unwrap(), None);
    let running = running_iv_state();
    tx.save_session_state(session.id, &running).await.unwrap();
    let err = tx.save_session_state(DosingSessionId::from_uuid(Uuid::now_v7()), &running).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.save_session_state(session.id, &running).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.begin_read().await.unwrap();
    let back = read.dosing_sessions_for_patient(pid).await.unwrap();
    assert_eq!(back.iter().find(|s| s.id == session.id).unwrap().state.as_ref(), Some(&running), "exactly");
    assert_eq!(back.iter().find(|s| s.id == legacy.id).unwrap().state, None);
    read.commit().await.unwrap();

    // Held for update: a second writer's read waits until the first commits, then sees
    // the state it saved (PostgreSQL: FOR UPDATE; SQLite: the one writer).
    let mut first = store.begin().await.unwrap();
    assert!(first.dosing_session_for_update(session.id).await.unwrap().is_some());
    let second = async {
        let mut tx = store.begin().await.unwrap();
        let s = tx.dosing_session_for_update(session.id).await.unwrap().unwrap();
        (tx, s)
    };
    let mut second = std::pin::pin!(second);
    let waited = tokio::time::timeout(std::time::Duration::from_millis(300), &mut second).await;
    assert!(waited.is_err(), "the second writer read the session while the first held it");
    first.save_session_state(session.id, &opened).await.unwrap();
    first.commit().await.unwrap();
    let (tx, seen) = tokio::time::timeout(std::time::Duration::from_secs(10), &mut second).await.expect("released");
    assert_eq!(seen.state, Some(opened));
    tx.commit().await.unwrap();
}

/// One page of a route's sessions with every row of their records (the REMS list), newest
/// opened first: only that route's sessions, only their rows, the next page after the
/// offset, nothing past the end.
pub async fn sessions_with_records_come_a_page_at_a_time(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (pres, pid, plan) = patient_with_plan(&mut tx, "pres.records").await;
    let routes =
        [Route::IntranasalEsketamine, Route::IvInfusion, Route::IntranasalEsketamine, Route::IntranasalEsketamine];
    let mut ids = Vec::new();
    for (day, route) in (0i64..).zip(routes) {
        let opened = t0() + (day * 24).hours();
        let session = DosingSessionRecord {
            id: DosingSessionId::from_uuid(Uuid::now_v7()),
            patient_id: pid,
            plan_id: plan.id,
            route,
            opened_by: pres.id,
            opened_at: opened,
            gate_outcome: None,
            gate: None,
            gate_by: None,
            gate_at: None,
            discharge: None,
            discharged_by: None,
            discharged_at: None,
            state: None,
            dose_day_override: None,
        };
        tx.insert_dosing_session(&session).await.unwrap();
        let reading = Reading::empty(opened + 10.minutes(), ReadingSource::Device { device_id: "mon-1".into() });
        let vital = VitalRecord {
            id: VitalId::from_uuid(Uuid::now_v7()),
            session_id: session.id,
            reading,
            taken_at: opened + 10.minutes(),
            recorded_by: None,
            recorded_at: opened + 10.minutes(),
            late: false,
        };
        tx.insert_vital(&vital).await.unwrap();
        let event = SessionEventRecord {
            id: Uuid::now_v7(),
            session_id: session.id,
            kind: SessionEventKind::Cadss6,
            content: "{}".into(),
            at: opened + 40.minutes(),
            recorded_by: pres.id,
            recorded_at: opened + 40.minutes(),
            late: false,
        };
        tx.insert_session_event(&event).await.unwrap();
        ids.push(session.id);
    }
    let order = DoseOrderRecord {
        id: Uuid::now_v7(),
        session_id: ids[3],
        content: r#"{"mg":84}"#.into(),
        ordered_by: pres.id,
        ordered_at: t0() + 72.hours(),
    };
    tx.insert_dose_order(&order).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    let first = tx.sessions_with_records(Route::IntranasalEsketamine, 0, 2).await.unwrap();
    assert_eq!(first.sessions.iter().map(|s| s.id).collect::<Vec<_>>(), vec![ids[3], ids[2]], "newest first");
    let page = [ids[3], ids[2]];
    assert_eq!(first.vitals.len(), 2);
    assert!(first.vitals.iter().all(|v| page.contains(&v.session_id)), "only the page's rows");
    assert_eq!(first.events.len(), 2);
    assert!(first.events.iter().all(|e| page.contains(&e.session_id)));
    assert_eq!(first.orders, vec![order]);
    assert!(first.administrations.is_empty() && first.alarms.is_empty());
    assert_eq!(first.plans.iter().map(|p| p.id).collect::<Vec<_>>(), vec![plan.id]);
    assert_eq!(first.patients.iter().map(|p| p.id).collect::<Vec<_>>(), vec![pid]);
    assert_eq!(first.intakes.iter().map(|i| (i.patient_id, i.version)).collect::<Vec<_>>(), vec![(pid, 1)]);
    let second = tx.sessions_with_records(Route::IntranasalEsketamine, 2, 2).await.unwrap();
    assert_eq!(second.sessions.iter().map(|s| s.id).collect::<Vec<_>>(), vec![ids[0]], "the IV session is not listed");
    assert_eq!(second.vitals.iter().map(|v| v.session_id).collect::<Vec<_>>(), vec![ids[0]]);
    let past = tx.sessions_with_records(Route::IntranasalEsketamine, 3, 2).await.unwrap();
    assert!(past.sessions.is_empty() && past.vitals.is_empty() && past.patients.is_empty());
}

/// The dosing side of a day (the Today page): signed plans only, every deferred session,
/// and the sessions opened in the day or not yet discharged; a session opened the day
/// before and discharged, or opened the day after, is not the day's.
pub async fn the_dosing_day_reads_signed_plans_deferred_and_the_days_sessions(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (pres, pid, plan) = patient_with_plan(&mut tx, "pres.day").await;
    let unsigned = TreatmentPlanRecord { id: TreatmentPlanId::from_uuid(Uuid::now_v7()), ..plan.clone() };
    tx.insert_treatment_plan(&unsigned).await.unwrap();
    tx.sign_treatment_plan(plan.id, pres.id, t0(), None).await.unwrap();
    let day = t0() + 48.hours();
    let next_day = day + 24.hours();
    // (opened, discharged, deferred)
    let cases = [
        (day - 2.hours(), true, false),             // 0: the day before, discharged
        (day - 1.hours(), false, false),            // 1: the day before, still open
        (day, true, false),                         // 2: the day's first instant
        (day + 3.hours(), false, true),             // 3: the day, deferred
        (next_day - 1.microseconds(), true, false), // 4: the day's last instant
        (next_day, true, false),                    // 5: the next day
    ];
    let mut ids = Vec::new();
    for (opened, discharged, deferred) in cases {
        let session = DosingSessionRecord {
            id: DosingSessionId::from_uuid(Uuid::now_v7()),
            patient_id: pid,
            plan_id: plan.id,
            route: Route::IvInfusion,
            opened_by: pres.id,
            opened_at: opened,
            gate_outcome: None,
            gate: None,
            gate_by: None,
            gate_at: None,
            discharge: None,
            discharged_by: None,
            discharged_at: None,
            state: None,
            dose_day_override: None,
        };
        tx.insert_dosing_session(&session).await.unwrap();
        if deferred {
            tx.record_gate(session.id, GateOutcome::Defer, "{}", pres.id, opened + 5.minutes()).await.unwrap();
        }
        if discharged {
            tx.record_discharge(session.id, "{}", pres.id, opened + 1.minutes()).await.unwrap();
        }
        ids.push(session.id);
    }
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    let read = tx.dosing_day(day, next_day).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(read.plans.iter().map(|p| p.id).collect::<Vec<_>>(), vec![plan.id], "signed plans only");
    assert_eq!(read.deferred.iter().map(|s| s.id).collect::<Vec<_>>(), vec![ids[3]]);
    assert_eq!(
        read.sessions.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![ids[1], ids[2], ids[3], ids[4]],
        "the day's sessions and the earlier one still open, by opening time"
    );
}
