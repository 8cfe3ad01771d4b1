//! Conformance cases for the measurement-based-care repositories.

use super::{demographics, new_user, t0};
use crate::measures::*;
use crate::*;
use jiff::ToSpan;
use kat_core::ids::{AlertId, LinkId, PatientId, ResponseId};
use kat_core::instruments::{Instrument, Response};
use kat_core::measures::{AlertAction, PlanAnchors, ResponseSource, SafetyAlertKind};
use kat_core::role::Role;
use uuid::Uuid;

async fn patient(tx: &mut Box<dyn Tx>) -> PatientId {
    let id = PatientId::from_uuid(Uuid::now_v7());
    tx.insert_patient(id, &demographics("Ada", "Quinn", "1984-03-07"), t0()).await.unwrap();
    id
}

fn record(patient: PatientId, values: &[Option<u8>], at: jiff::Timestamp, link: Option<LinkId>) -> ResponseRecord {
    let response = Response::from_values(Instrument::Phq9, values).unwrap();
    let complete = values.iter().take(9).all(Option::is_some);
    ResponseRecord {
        id: ResponseId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        response,
        source: if link.is_some() { ResponseSource::SelfReport } else { ResponseSource::Clinician },
        entered_by: None,
        link_id: link,
        collected_at: at,
        recorded_at: at,
        total: complete.then(|| values.iter().take(9).map(|v| v.unwrap()).sum()),
        band: complete.then(|| "mild".to_string()),
        complete,
        flags: if values[8].is_none() { vec!["safety_item_missing".into()] } else { vec![] },
        scoring_policy: "{\"pcl5_cutoff\":33}".into(),
    }
}

fn link(patient: PatientId, hash: &str) -> SelfReportLink {
    SelfReportLink {
        id: LinkId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        token_hash: hash.into(),
        instruments: vec![Instrument::Phq9, Instrument::Gad7],
        created_by: None,
        created_at: t0(),
        expires_at: t0() + 72.hours(),
        used_at: None,
    }
}

pub async fn measure_responses_round_trip(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let p = patient(&mut tx).await;
    let later = record(p, &[Some(1); 9], t0() + (14 * 24).hours(), None);
    let mut gaps = vec![Some(2); 9];
    gaps[8] = None;
    let earlier = record(p, &gaps, t0(), None);
    tx.insert_response(&later).await.unwrap();
    tx.insert_response(&earlier).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let all = tx.responses_for_patient(p, None).await.unwrap();
    assert_eq!(all, vec![earlier.clone(), later.clone()], "oldest first, exact round trip");
    assert!(!all[0].complete);
    assert_eq!(all[0].total, None, "incomplete stays without a total");
    assert_eq!(all[0].response.answer(8), None, "a missing item is not stored as 0");
    assert_eq!(all[0].flags, vec!["safety_item_missing".to_string()]);
    assert_eq!(tx.responses_for_patient(p, Some(Instrument::Gad7)).await.unwrap(), vec![]);
    assert_eq!(tx.responses_for_patient(p, Some(Instrument::Phq9)).await.unwrap().len(), 2);
    assert_eq!(tx.response_by_id(later.id).await.unwrap(), Some(later));
    // An incomplete response with a total is refused by the schema.
    let mut bad = earlier.clone();
    bad.id = ResponseId::from_uuid(Uuid::now_v7());
    bad.total = Some(3);
    assert!(tx.insert_response(&bad).await.is_err());
}

pub async fn self_report_links_are_single_use(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let p = patient(&mut tx).await;
    let l = link(p, "aa11");
    tx.insert_link(&l).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.link_by_hash("aa11").await.unwrap(), Some(l.clone()));
    assert_eq!(tx.link_by_hash("bb22").await.unwrap(), None);
    assert!(tx.mark_link_used(l.id, t0() + 1.hour()).await.unwrap());
    assert!(!tx.mark_link_used(l.id, t0() + 2.hours()).await.unwrap(), "second use refused");
    assert_eq!(tx.link_by_hash("aa11").await.unwrap().unwrap().used_at, Some(t0() + 1.hour()));
    let err = tx.insert_link(&link(p, "aa11")).await.unwrap_err();
    assert!(err.is_conflict_on(constraints::SELF_REPORT_LINKS_HASH_UNIQUE), "{err:?}");
}

pub async fn safety_alerts_raise_once_and_acknowledge_once(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let nurse = tx.insert_user(&new_user("nurse.ack", Role::Nurse)).await.unwrap();
    let p = patient(&mut tx).await;
    let r = record(p, &[Some(1); 9], t0(), None);
    tx.insert_response(&r).await.unwrap();
    let alert = SafetyAlert {
        id: AlertId::from_uuid(Uuid::now_v7()),
        patient_id: p,
        response_id: r.id,
        kind: SafetyAlertKind::SuicidalIdeation,
        raised_at: t0(),
        acknowledged_by: None,
        acknowledged_at: None,
        action: None,
        note: None,
    };
    tx.insert_alert(&alert).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let mut twice = alert.clone();
    twice.id = AlertId::from_uuid(Uuid::now_v7());
    let err = tx.insert_alert(&twice).await.unwrap_err();
    assert!(err.is_conflict_on(constraints::SAFETY_ALERTS_RESPONSE_KIND_UNIQUE), "{err:?}");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_open_alerts().await.unwrap(), 1);
    assert_eq!(tx.open_alerts().await.unwrap(), vec![alert.clone()]);
    let at = t0() + 10.minutes();
    tx.acknowledge_alert(alert.id, Some(nurse.id), at, AlertAction::SafetyPlanReviewed, Some("spoke by phone"))
        .await
        .unwrap();
    assert!(matches!(
        tx.acknowledge_alert(alert.id, Some(nurse.id), at, AlertAction::Other, None).await,
        Err(StoreError::StaleVersion)
    ));
    assert!(matches!(
        tx.acknowledge_alert(AlertId::from_uuid(Uuid::now_v7()), None, at, AlertAction::Other, None).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_open_alerts().await.unwrap(), 0);
    let stored = tx.alert_by_id(alert.id).await.unwrap().unwrap();
    assert_eq!(stored.acknowledged_at, Some(at));
    assert_eq!(stored.acknowledged_by, Some(nurse.id));
    assert_eq!(stored.action, Some(AlertAction::SafetyPlanReviewed));
    assert_eq!(stored.note.as_deref(), Some("spoke by phone"));
    assert_eq!(tx.alerts_for_patient(p).await.unwrap().len(), 1);
}

pub async fn measurement_plans_upsert_and_list(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let p = patient(&mut tx).await;
    assert_eq!(tx.plan_for_patient(p).await.unwrap(), None);
    let mut plan = MeasurementPlan {
        patient_id: p,
        anchors: PlanAnchors {
            baseline: jiff::civil::date(2026, 3, 1),
            dose_dates: vec![],
            end_of_induction: None,
            include_pcl5: false,
        },
        updated_by: None,
        updated_at: t0(),
    };
    tx.upsert_plan(&plan).await.unwrap();
    plan.anchors.dose_dates = vec![jiff::civil::date(2026, 3, 3), jiff::civil::date(2026, 3, 6)];
    plan.anchors.end_of_induction = Some(jiff::civil::date(2026, 3, 31));
    plan.anchors.include_pcl5 = true;
    plan.updated_at = t0() + 24.hours();
    tx.upsert_plan(&plan).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.plan_for_patient(p).await.unwrap(), Some(plan.clone()));
    assert_eq!(tx.list_plans().await.unwrap(), vec![plan]);
}
