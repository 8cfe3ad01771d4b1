//! Conformance cases of the floor board's reads and of the events channel between
//! processes: the tiles of the open sessions with their newest readings and open alarms,
//! in a fixed number of queries; `notify` reaching a `listen`er (PostgreSQL) or nobody
//! (SQLite).

use super::{demographics, new_user, t0};
use crate::dosing::*;
use crate::intake::{DecisionRecord, EvaluationRecord};
use crate::*;
use jiff::ToSpan;
use kat_core::eligibility::EligibilityPolicy;
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, UserId, VitalId};
use kat_core::role::Role;
use std::time::Duration;
use uuid::Uuid;

/// A patient with an accepted decision, a signed plan and an open session (gate passed).
async fn open_session(tx: &mut Box<dyn Tx>, by: UserId, given: &str) -> DosingSessionRecord {
    let pid = PatientId::from_uuid(Uuid::now_v7());
    tx.insert_patient(pid, &demographics(given, "Floor", "1980-01-01"), t0()).await.unwrap();
    let mut answers = kat_core::eligibility::answers::IntakeAnswers::new();
    answers.set("heart_rate", "70").unwrap();
    tx.insert_intake_version(pid, &answers, true, "vitals", t0(), Some(by)).await.unwrap();
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
        signed_by: by,
        signed_at: t0(),
        stale: false,
    };
    tx.insert_decision(&decision).await.unwrap();
    let plan = TreatmentPlanRecord {
        id: TreatmentPlanId::from_uuid(Uuid::now_v7()),
        patient_id: pid,
        decision_id: decision.id,
        content: r#"{"route":"iv_infusion"}"#.into(),
        created_by: by,
        created_at: t0(),
        signed_by: None,
        signed_at: None,
        overlap_override: None,
    };
    tx.insert_treatment_plan(&plan).await.unwrap();
    let session = DosingSessionRecord {
        id: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient_id: pid,
        plan_id: plan.id,
        route: kat_core::dosing::Route::IvInfusion,
        opened_by: by,
        opened_at: t0(),
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
    tx.record_gate(session.id, kat_core::dosing::session::GateOutcome::Proceed, "{}", by, t0() + 1.minute())
        .await
        .unwrap();
    tx.dosing_session_by_id(session.id).await.unwrap().unwrap()
}

fn vital(session: DosingSessionId, minutes: i64) -> VitalRecord {
    VitalRecord {
        id: VitalId::from_uuid(Uuid::now_v7()),
        session_id: session,
        reading: kat_core::monitoring::Reading::empty(
            t0() + minutes.minutes(),
            kat_core::monitoring::ReadingSource::Device { device_id: format!("minute-{minutes}") },
        ),
        taken_at: t0() + minutes.minutes(),
        recorded_by: None,
        recorded_at: t0() + 30.minutes(),
        late: false,
    }
}

fn alarm(v: &VitalRecord, kind: kat_core::monitoring::alarms::AlarmKind) -> AlarmRecord {
    AlarmRecord {
        id: SessionAlarmId::from_uuid(Uuid::now_v7()),
        session_id: v.session_id,
        vital_id: v.id,
        rule: kat_core::monitoring::RuleId::spec("ALM-002"),
        kind,
        severity: kat_core::monitoring::alarms::Severity::Intervene,
        content: "{}".into(),
        raised_at: v.taken_at,
        acknowledged_by: None,
        acknowledged_at: None,
        action_taken: None,
    }
}

pub async fn floor_tiles_read_open_sessions_with_their_newest_readings(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let nurse = tx.insert_user(&new_user("nurse", Role::Prescriber)).await.unwrap();
    tx.insert_policy(&EligibilityPolicy::default(), t0(), None).await.unwrap();
    let a = open_session(&mut tx, nurse.id, "Ann").await;
    let b = open_session(&mut tx, nurse.id, "Bea").await;
    let gone = open_session(&mut tx, nurse.id, "Cy").await;
    let admin = AdministrationRecord {
        id: AdministrationId::from_uuid(Uuid::now_v7()),
        session_id: a.id,
        administration: super::dosing::administration(
            t0() + 2.minutes(),
            kat_core::dosing::session::Step::Dose { mg: kat_core::dosing::Mg::new(35.0).unwrap() },
        ),
        recorded_by: nurse.id,
        recorded_at: t0() + 2.minutes(),
        late: false,
    };
    tx.insert_administration(&admin).await.unwrap();
    // Inserted out of order: the newest are chosen by the time taken.
    let a_vitals: Vec<_> = [5, 25, 10, 20, 15].into_iter().map(|m| vital(a.id, m)).collect();
    for v in &a_vitals {
        tx.insert_vital(v).await.unwrap();
    }
    let b_vital = vital(b.id, 7);
    tx.insert_vital(&b_vital).await.unwrap();
    let open = alarm(&a_vitals[1], kat_core::monitoring::alarms::AlarmKind::BloodPressure);
    let acked = alarm(&a_vitals[1], kat_core::monitoring::alarms::AlarmKind::Oxygenation);
    tx.insert_alarm(&open).await.unwrap();
    tx.insert_alarm(&acked).await.unwrap();
    tx.acknowledge_alarm(acked.id, nurse.id, t0() + 26.minutes(), "repositioned").await.unwrap();
    tx.insert_vital(&vital(gone.id, 3)).await.unwrap();
    tx.record_discharge(gone.id, "{}", nurse.id, t0() + 2.hours()).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    let tiles = tx.floor_tiles(None, 3).await.unwrap();
    assert_eq!(tiles.iter().map(|t| t.session.id).collect::<Vec<_>>(), vec![a.id, b.id], "open sessions only");
    let ta = &tiles[0];
    assert_eq!(ta.session, a);
    assert_eq!((ta.patient.id, ta.patient.demographics.given_name.as_str()), (a.patient_id, "Ann"));
    assert_eq!(ta.plan.id, a.plan_id);
    assert_eq!(ta.administrations, vec![admin]);
    let minutes: Vec<_> = ta.recent_vitals.iter().map(|v| (v.taken_at.as_second() - t0().as_second()) / 60).collect();
    assert_eq!(minutes, vec![25, 20, 15], "the newest three, newest first");
    assert_eq!(ta.recent_vitals[0], a_vitals[1]);
    assert_eq!(ta.open_alarms, vec![open], "unacknowledged alarms only");
    let tb = &tiles[1];
    assert_eq!((tb.recent_vitals.clone(), tb.open_alarms.len(), tb.administrations.len()), (vec![b_vital], 0, 0));

    // One session: the same tile; a discharged or unknown one: none.
    let one = tx.floor_tiles(Some(b.id), 3).await.unwrap();
    assert_eq!(one, vec![tiles[1].clone()]);
    assert!(tx.floor_tiles(Some(gone.id), 3).await.unwrap().is_empty());
    assert!(tx.floor_tiles(Some(DosingSessionId::from_uuid(Uuid::now_v7())), 3).await.unwrap().is_empty());
    assert_eq!(tx.floor_tiles(Some(a.id), 1).await.unwrap()[0].recent_vitals, vec![a_vitals[1].clone()]);
}

pub async fn notifications_reach_listeners_across_processes(store: &dyn Store) {
    let listener = store.listen().await.unwrap();
    match (store.backend(), listener) {
        (Backend::Sqlite, None) => {
            // One server per database file: events stay in the process; telling is a no-op.
            store.notify(r#"{"type":"x"}"#).await.unwrap();
        }
        (Backend::Postgres, Some(mut listener)) => {
            for payload in [r#"{"type":"first"}"#, r#"{"type":"second"}"#] {
                store.notify(payload).await.unwrap();
            }
            for expected in [r#"{"type":"first"}"#, r#"{"type":"second"}"#] {
                let got = tokio::time::timeout(Duration::from_secs(5), listener.recv())
                    .await
                    .expect("a notification within 5 s")
                    .unwrap();
                assert_eq!(got, expected, "in order");
            }
        }
        (backend, l) => panic!("{backend:?} listens: {}", l.is_some()),
    }
}
