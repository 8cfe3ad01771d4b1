//! Conformance cases of [`ListRepo`]: what the clinic-wide lists read in one query, and
//! the one audit entry of a list view naming every patient it showed (schema 0010).

use super::{audit, demographics, new_user, t0};
use crate::dosing::*;
use crate::intake::{DecisionRecord, EvaluationRecord};
use crate::lists::CompletedMeasure;
use crate::measures::{MeasurementPlan, ResponseRecord};
use crate::*;
use jiff::ToSpan;
use kat_core::audit::{AuditAction, AuditFilter};
use kat_core::eligibility::EligibilityPolicy;
use kat_core::ids::{AuditId, DosingSessionId, PatientId, ResponseId, TreatmentPlanId};
use kat_core::instruments::{Instrument, Response};
use kat_core::measures::{PlanAnchors, ResponseSource};
use kat_core::patient::PatientQuery;
use kat_core::role::Role;
use uuid::Uuid;

async fn register(tx: &mut Box<dyn Tx>, given: &str, family: &str) -> PatientId {
    let id = PatientId::from_uuid(Uuid::now_v7());
    tx.insert_patient(id, &demographics(given, family, "1984-03-07"), t0()).await.unwrap();
    id
}

pub async fn lists_read_patients_by_id_and_search_pages(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for family in ["Quinn", "Adams", "Young", "Baker", "Quill"] {
        ids.push(register(&mut tx, "Ada", family).await);
    }
    register(&mut tx, "Ben", "Other").await;
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    // By id: the ones asked for, ordered by id; unknown ids left out; none for none.
    let wanted = [ids[3], ids[0], PatientId::from_uuid(Uuid::now_v7()), ids[4]];
    let found: Vec<PatientId> = tx.patients_by_ids(&wanted).await.unwrap().into_iter().map(|p| p.id).collect();
    let mut expected = vec![ids[0], ids[3], ids[4]];
    expected.sort();
    assert_eq!(found, expected);
    assert!(tx.patients_by_ids(&[]).await.unwrap().is_empty());
    let one = tx.patients_by_ids(&[ids[1]]).await.unwrap();
    assert_eq!(one, vec![tx.patient_by_id(ids[1]).await.unwrap().unwrap()], "whole patients, as patient_by_id");

    // Pages of a search: the search's order, cut at offset and limit.
    let q = PatientQuery::parse("ada");
    let all: Vec<String> = tx
        .search_patients(&q, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.demographics.family_name.as_str().to_string())
        .collect();
    assert_eq!(all, ["Adams", "Baker", "Quill", "Quinn", "Young"]);
    let page = |v: Vec<kat_core::patient::Patient>| -> Vec<String> {
        v.into_iter().map(|p| p.demographics.family_name.as_str().to_string()).collect()
    };
    assert_eq!(page(tx.search_patients_page(&q, 0, 2).await.unwrap()), ["Adams", "Baker"]);
    assert_eq!(page(tx.search_patients_page(&q, 2, 2).await.unwrap()), ["Quill", "Quinn"]);
    assert_eq!(page(tx.search_patients_page(&q, 4, 2).await.unwrap()), ["Young"]);
    assert!(tx.search_patients_page(&q, 5, 2).await.unwrap().is_empty());
    assert_eq!(page(tx.search_patients_page(&PatientQuery::parse("qui"), 1, 5).await.unwrap()), ["Quinn"]);
}

fn response(patient: PatientId, complete: bool, instrument: Instrument, at: jiff::Timestamp) -> ResponseRecord {
    let n = instrument.def().items.len();
    let mut values = vec![Some(1u8); n];
    if !complete {
        values[0] = None;
    }
    ResponseRecord {
        id: ResponseId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        response: Response::from_values(instrument, &values).unwrap(),
        source: ResponseSource::Clinician,
        entered_by: None,
        link_id: None,
        collected_at: at,
        recorded_at: at,
        total: complete.then_some(n as u8),
        band: None,
        complete,
        flags: vec![],
        scoring_policy: "{}".into(),
    }
}

pub async fn lists_read_completed_measures_of_planned_patients(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let planned = register(&mut tx, "Ada", "Plan").await;
    let other_planned = register(&mut tx, "Bea", "Plan").await;
    let unplanned = register(&mut tx, "Cy", "Free").await;
    for p in [planned, other_planned] {
        let anchors = PlanAnchors {
            baseline: jiff::civil::date(2026, 3, 1),
            dose_dates: vec![],
            end_of_induction: None,
            include_pcl5: false,
        };
        tx.upsert_plan(&MeasurementPlan { patient_id: p, anchors, updated_by: None, updated_at: t0() }).await.unwrap();
    }
    tx.insert_response(&response(planned, true, Instrument::Gad7, t0() + 2.hours())).await.unwrap();
    tx.insert_response(&response(planned, true, Instrument::Phq9, t0() + 1.hour())).await.unwrap();
    tx.insert_response(&response(planned, false, Instrument::Phq9, t0() + 3.hours())).await.unwrap();
    tx.insert_response(&response(other_planned, true, Instrument::Phq9, t0())).await.unwrap();
    tx.insert_response(&response(unplanned, true, Instrument::Phq9, t0())).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    let got = tx.completed_measures_of_planned_patients().await.unwrap();
    let mut expected = vec![
        CompletedMeasure { patient_id: planned, instrument: Instrument::Phq9, collected_at: t0() + 1.hour() },
        CompletedMeasure { patient_id: planned, instrument: Instrument::Gad7, collected_at: t0() + 2.hours() },
        CompletedMeasure { patient_id: other_planned, instrument: Instrument::Phq9, collected_at: t0() },
    ];
    // By patient, then time; the incomplete response and the patient without a plan are not there.
    expected.sort_by_key(|m| (m.patient_id, m.collected_at));
    assert_eq!(got, expected);
}

pub async fn lists_read_a_patients_session_events_of_a_kind(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let pres = tx.insert_user(&new_user("pres", Role::Prescriber)).await.unwrap();
    tx.insert_policy(&EligibilityPolicy::default(), t0(), None).await.unwrap();
    let mut sessions_of = Vec::new();
    for family in ["Dose", "Else"] {
        let pid = register(&mut tx, "Ada", family).await;
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
        let plan = TreatmentPlanRecord {
            id: TreatmentPlanId::from_uuid(Uuid::now_v7()),
            patient_id: pid,
            decision_id: decision.id,
            content: "{}".into(),
            created_by: pres.id,
            created_at: t0(),
            signed_by: None,
            signed_at: None,
            overlap_override: None,
        };
        tx.insert_treatment_plan(&plan).await.unwrap();
        let mut sessions = Vec::new();
        for day in 0..2 {
            let session = DosingSessionRecord {
                id: DosingSessionId::from_uuid(Uuid::now_v7()),
                patient_id: pid,
                plan_id: plan.id,
                route: kat_core::dosing::Route::IvInfusion,
                opened_by: pres.id,
                opened_at: t0() + (day * 24).hours(),
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
            sessions.push(session.id);
        }
        sessions_of.push((pid, sessions));
    }
    let event = |session: DosingSessionId, kind: SessionEventKind, hours: i64| SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: session,
        kind,
        content: format!("{{\"h\":{hours}}}"),
        at: t0() + hours.hours(),
        recorded_by: pres.id,
        recorded_at: t0() + hours.hours(),
        late: false,
    };
    let (ada, ada_sessions) = sessions_of[0].clone();
    let later = event(ada_sessions[1], SessionEventKind::AdverseEvent, 25);
    let earlier = event(ada_sessions[0], SessionEventKind::AdverseEvent, 1);
    tx.insert_session_event(&later).await.unwrap();
    tx.insert_session_event(&earlier).await.unwrap();
    tx.insert_session_event(&event(ada_sessions[0], SessionEventKind::Intervention, 2)).await.unwrap();
    tx.insert_session_event(&event(sessions_of[1].1[0], SessionEventKind::AdverseEvent, 3)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    // Every session of the patient, only the kind asked for, by time.
    assert_eq!(tx.session_events_for_patient(ada, SessionEventKind::AdverseEvent).await.unwrap(), vec![earlier, later]);
    assert_eq!(tx.session_events_for_patient(ada, SessionEventKind::Intervention).await.unwrap().len(), 1);
    assert!(tx.session_events_for_patient(ada, SessionEventKind::Cadss6).await.unwrap().is_empty());
}

pub async fn list_views_are_audited_once_naming_every_patient(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let a = register(&mut tx, "Ada", "Quinn").await;
    let b = register(&mut tx, "Ben", "Ross").await;
    let c = register(&mut tx, "Cy", "Wu").await;
    let about_a = tx.append_audit(&audit(AuditAction::Read, t0(), None, Some(a))).await.unwrap();
    // A list that showed a and b (b twice: recorded once), not c.
    let listing = audit(AuditAction::List, t0() + 1.minute(), None, None);
    let list = tx.append_audit_listing(&listing, &[b, a, b]).await.unwrap();
    assert_eq!(list.entry, listing);
    assert!(list.seq > about_a.seq);
    // A list that showed nobody is still one entry.
    let empty = tx.append_audit_listing(&audit(AuditAction::List, t0() + 2.minutes(), None, None), &[]).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    let by = |p: PatientId| AuditFilter { patient_id: Some(p), limit: 100, ..Default::default() };
    let seqs = |v: Vec<kat_core::audit::AuditEntry>| -> Vec<i64> { v.into_iter().map(|e| e.seq).collect() };
    // The log by patient finds the list views that showed the patient, newest first.
    assert_eq!(seqs(tx.query_audit(&by(a)).await.unwrap()), [list.seq, about_a.seq]);
    assert_eq!(seqs(tx.query_audit(&by(b)).await.unwrap()), [list.seq]);
    assert!(tx.query_audit(&by(c)).await.unwrap().is_empty());
    // Other filters still apply to list views.
    let before = AuditFilter { before_seq: Some(list.seq), ..by(a) };
    assert_eq!(seqs(tx.query_audit(&before).await.unwrap()), [about_a.seq]);
    assert_eq!(tx.query_audit(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap().len(), 3);

    let mut shown_ids = [a, b];
    shown_ids.sort();
    let shown = tx.audit_shown_patients(&[about_a.id, list.id, empty.id, AuditId::from_uuid(Uuid::now_v7())]).await;
    assert_eq!(shown.unwrap(), shown_ids.iter().map(|p| (list.id, *p)).collect::<Vec<_>>());
    assert!(tx.audit_shown_patients(&[]).await.unwrap().is_empty());
    drop(tx);

    // A read transaction refuses it like any write.
    let mut read = store.begin_read().await.unwrap();
    let refused = read.append_audit_listing(&audit(AuditAction::List, t0(), None, None), &[a]).await;
    assert!(matches!(refused, Err(StoreError::ReadOnly)), "{refused:?}");
}

/// Longer than one statement's worth of bound ids (the shared SQL binds at most 1,000 to
/// a statement): still every patient, in order.
pub async fn long_lists_read_and_audit_every_patient(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let known = [register(&mut tx, "Ada", "Quinn").await, register(&mut tx, "Ben", "Ross").await];
    let mut shown: Vec<PatientId> = (0..2_499).map(|_| PatientId::from_uuid(Uuid::now_v7())).collect();
    shown.extend(known);
    let list = tx.append_audit_listing(&audit(AuditAction::List, t0(), None, None), &shown).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    let mut expected = known.to_vec();
    expected.sort();
    let found: Vec<PatientId> = tx.patients_by_ids(&shown).await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(found, expected, "the known patients among 2,501 ids, by id");
    shown.sort();
    let recorded = tx.audit_shown_patients(&[list.id]).await.unwrap();
    assert_eq!(recorded, shown.iter().map(|p| (list.id, *p)).collect::<Vec<_>>());
    let many_entries: Vec<AuditId> = (0..1_500).map(|_| AuditId::from_uuid(Uuid::now_v7())).chain([list.id]).collect();
    assert_eq!(tx.audit_shown_patients(&many_entries).await.unwrap().len(), shown.len());
}
