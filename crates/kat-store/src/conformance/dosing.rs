//! Conformance cases of the dosing repositories (schemas 0005, 0006).

use super::{demographics, new_user, t0};
use crate::dosing::{dosing_constraints as c, *};
use crate::intake::{DecisionRecord, EvaluationRecord};
use crate::*;
use jiff::ToSpan;
use kat_core::eligibility::EligibilityPolicy;
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, VitalId};
use kat_core::role::Role;
use uuid::Uuid;

pub async fn dosing_gate_before_administration_and_alarms_once(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let pres = tx.insert_user(&new_user("pres", Role::Prescriber)).await.unwrap();
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
    };
    tx.insert_treatment_plan(&plan).await.unwrap();
    assert_eq!(tx.treatment_plan_by_id(plan.id).await.unwrap(), Some(plan.clone()));
    tx.sign_treatment_plan(plan.id, pres.id, t0() + 1.minute()).await.unwrap();
    let err = tx.sign_treatment_plan(plan.id, pres.id, t0()).await.unwrap_err();
    assert!(err.is_conflict_on(c::TREATMENT_PLANS_LOCKED), "{err:?}");
    let signed = tx.treatment_plans_for_patient(pid).await.unwrap();
    assert_eq!((signed.len(), signed[0].signed_by, signed[0].signed_at), (1, Some(pres.id), Some(t0() + 1.minute())));

    // Sessions: no administration before the gate.
    let session = DosingSessionRecord {
        id: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient_id: pid,
        plan_id: plan.id,
        route: "iv_infusion".into(),
        opened_by: pres.id,
        opened_at: t0(),
        gate_outcome: None,
        gate: None,
        gate_by: None,
        gate_at: None,
        discharge: None,
        discharged_by: None,
        discharged_at: None,
    };
    tx.insert_dosing_session(&session).await.unwrap();
    assert_eq!(tx.dosing_session_by_id(session.id).await.unwrap(), Some(session.clone()));
    tx.lock_dosing_session(session.id).await.unwrap();
    let unknown = tx.lock_dosing_session(DosingSessionId::from_uuid(Uuid::now_v7())).await.unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound), "{unknown:?}");
    let admin = AdministrationRecord {
        id: AdministrationId::from_uuid(Uuid::now_v7()),
        session_id: session.id,
        content: "{}".into(),
        recorded_by: pres.id,
        at: t0() + 5.minutes(),
    };
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let err = tx.insert_administration(&admin).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSE_ADMINISTRATIONS_GATE_PASSED), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.record_gate(session.id, "defer", "{}", pres.id, t0()).await.unwrap();
    let err = tx.insert_administration(&admin).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSE_ADMINISTRATIONS_GATE_PASSED), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.record_gate(session.id, "proceed", "{}", pres.id, t0() + 1.minute()).await.unwrap();
    let err = tx.record_gate(session.id, "proceed", "{}", pres.id, t0()).await.unwrap_err();
    assert!(err.is_conflict_on(c::DOSING_SESSIONS_STATE), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.record_gate(session.id, "proceed", "{}", pres.id, t0() + 1.minute()).await.unwrap();
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
    let vital = VitalRecord {
        id: VitalId::from_uuid(Uuid::now_v7()),
        session_id: session.id,
        reading: "{}".into(),
        taken_at: t0() + 10.minutes(),
        recorded_by: None,
        recorded_at: t0() + 10.minutes(),
    };
    tx.insert_vital(&vital).await.unwrap();
    assert_eq!(tx.vitals_for_session(session.id).await.unwrap(), vec![vital.clone()]);
    let alarm = AlarmRecord {
        id: SessionAlarmId::from_uuid(Uuid::now_v7()),
        session_id: session.id,
        vital_id: vital.id,
        rule: "ALM-002".into(),
        kind: "blood_pressure".into(),
        severity: "intervene".into(),
        content: "{}".into(),
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
        kind: "spo2".into(),
        raised_at: t0() + 9.minutes(),
        ..alarm.clone()
    };
    tx.insert_alarm(&earlier).await.unwrap();
    assert_eq!(tx.alarms_for_session(session.id).await.unwrap(), vec![earlier.clone(), acked]);
    assert_eq!(tx.unacknowledged_alarms().await.unwrap(), vec![earlier]);

    // Session events (adverse events, interventions, REMS submitted), by time.
    for (kind, minutes) in [("intervention", 14), ("adverse_event", 11)] {
        tx.insert_session_event(&SessionEventRecord {
            id: Uuid::now_v7(),
            session_id: session.id,
            kind: kind.into(),
            content: "{}".into(),
            at: t0() + minutes.minutes(),
            recorded_by: pres.id,
            recorded_at: t0() + 15.minutes(),
        })
        .await
        .unwrap();
    }
    let kinds: Vec<String> =
        tx.session_events_for_session(session.id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["adverse_event", "intervention"]);
    tx.commit().await.unwrap();
    // The REMS form is marked submitted at most once per session (0007); other kinds repeat.
    let rems = |minutes: i64| SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: session.id,
        kind: "rems_submitted".into(),
        content: "{}".into(),
        at: t0() + minutes.minutes(),
        recorded_by: pres.id,
        recorded_at: t0() + minutes.minutes(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_session_event(&rems(16)).await.unwrap();
    tx.insert_session_event(&SessionEventRecord { id: Uuid::now_v7(), kind: "intervention".into(), ..rems(17) })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let err = tx.insert_session_event(&rems(18)).await.unwrap_err();
    assert!(err.is_conflict_on(c::SESSION_EVENTS_REMS_SUBMITTED_ONCE), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let kinds: Vec<String> =
        tx.session_events_for_session(session.id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["adverse_event", "intervention", "rems_submitted", "intervention"]);
    assert_eq!(tx.dosing_sessions_by_route("iv_infusion").await.unwrap().len(), 1);
    assert!(tx.dosing_sessions_by_route("intranasal_esketamine").await.unwrap().is_empty());

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
