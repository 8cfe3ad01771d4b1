//! Conformance cases of the therapy repositories (schema 0004).

use super::{demographics, new_user, t0};
use crate::*;
use jiff::ToSpan;
use jiff::civil::date;
use kat_core::ids::{AddendumId, PatientId, PlannedSessionId, ProcessNoteId, SafetyPlanId, TherapyNoteId, UserId};
use kat_core::role::Role;
use kat_core::therapy::care_team::{CareRole, CareTeamMember};
use kat_core::therapy::note::{Addendum, NoteContent, NoteKind, NoteStatus, TherapyNote};
use kat_core::therapy::process::ProcessNote;
use kat_core::therapy::safety_plan::{SafetyPlan, SafetyPlanContent};
use kat_core::therapy::schedule::{PlannedSession, SessionKind, TherapyPolicy, generate_program};
use uuid::Uuid;

async fn patient_and_user(tx: &mut Box<dyn Tx>, name: &str, role: Role) -> (PatientId, UserId) {
    let user = tx.insert_user(&new_user(name, role)).await.unwrap();
    let p = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    (p.id, user.id)
}

fn draft(patient: PatientId, author: UserId, text: &str) -> TherapyNote {
    TherapyNote {
        id: TherapyNoteId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        kind: NoteKind::Integration,
        author,
        planned_session: None,
        content: NoteContent {
            session_date: Some(date(2026, 3, 1)),
            narrative: Some(text.into()),
            themes: vec!["loss".into()],
            ..Default::default()
        },
        status: NoteStatus::Draft,
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

pub async fn therapy_notes_lock_when_signed(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (patient, author) = patient_and_user(&mut tx, "theo", Role::Therapist).await;
    let note = draft(patient, author, "first");
    tx.insert_therapy_note(&note).await.unwrap();
    assert_eq!(tx.therapy_note_by_id(note.id).await.unwrap(), Some(note.clone()));
    let changed = NoteContent { narrative: Some("second".into()), ..note.content.clone() };
    let v2 = tx.update_draft_note(note.id, 1, &changed, t0() + 1.minute()).await.unwrap();
    assert_eq!((v2.version, v2.content.narrative.as_deref()), (2, Some("second")));
    assert!(matches!(tx.update_draft_note(note.id, 1, &changed, t0()).await.unwrap_err(), StoreError::StaleVersion));
    assert_eq!(tx.draft_notes_by_author(author).await.unwrap().len(), 1);

    let signed = tx.sign_therapy_note(note.id, author, t0() + 2.minutes()).await.unwrap();
    assert_eq!(signed.status, NoteStatus::Signed { by: author, at: t0() + 2.minutes() });
    let err = tx.update_draft_note(note.id, signed.version, &note.content, t0()).await.unwrap_err();
    assert!(err.is_conflict_on(therapy_constraints::THERAPY_NOTE_LOCKED), "{err:?}");
    let err = tx.sign_therapy_note(note.id, author, t0()).await.unwrap_err();
    assert!(err.is_conflict_on(therapy_constraints::THERAPY_NOTE_LOCKED), "{err:?}");
    assert!(tx.draft_notes_by_author(author).await.unwrap().is_empty());
    assert!(matches!(
        tx.update_draft_note(TherapyNoteId::from_uuid(Uuid::now_v7()), 1, &note.content, t0()).await.unwrap_err(),
        StoreError::NotFound
    ));

    let addendum = Addendum {
        id: AddendumId::from_uuid(Uuid::now_v7()),
        note_id: note.id,
        patient_id: patient,
        author,
        at: t0() + 3.minutes(),
        reason: "late entry".into(),
        body: "more".into(),
    };
    tx.insert_addendum(&addendum).await.unwrap();
    assert_eq!(tx.addenda_for_patient(patient).await.unwrap(), vec![addendum]);
    let still = tx.therapy_note_by_id(note.id).await.unwrap().unwrap();
    assert_eq!(still.content.narrative.as_deref(), Some("second"));
    assert_eq!(tx.therapy_notes_for_patient(patient).await.unwrap(), vec![still]);
}

pub async fn process_notes_keep_their_readers(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (patient, author) = patient_and_user(&mut tx, "theo", Role::Therapist).await;
    let reader = tx.insert_user(&new_user("tara", Role::Therapist)).await.unwrap().id;
    let note = ProcessNote {
        id: ProcessNoteId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        author,
        body: "countertransference".into(),
        readers: vec![reader],
        created_at: t0(),
    };
    tx.insert_process_note(&note).await.unwrap();
    let alone = ProcessNote {
        id: ProcessNoteId::from_uuid(Uuid::now_v7()),
        readers: vec![],
        created_at: t0() + 1.second(),
        ..note.clone()
    };
    tx.insert_process_note(&alone).await.unwrap();
    assert_eq!(tx.process_note_by_id(note.id).await.unwrap(), Some(note.clone()));
    assert_eq!(tx.process_notes_for_patient(patient).await.unwrap(), vec![note, alone]);
}

pub async fn safety_plan_versions_and_one_time_links(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (patient, author) = patient_and_user(&mut tx, "theo", Role::Therapist).await;
    let plan = |v: i64| SafetyPlan {
        id: SafetyPlanId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        version: v,
        content: SafetyPlanContent { warning_signs: vec![format!("sign v{v}")], ..Default::default() },
        author,
        created_at: t0() + v.minutes(),
    };
    let (v1, v2) = (plan(1), plan(2));
    tx.insert_safety_plan(&v1).await.unwrap();
    tx.insert_safety_plan(&v2).await.unwrap();
    assert_eq!(tx.safety_plans_for_patient(patient).await.unwrap(), vec![v2.clone(), v1]);
    assert_eq!(tx.safety_plan_by_id(v2.id).await.unwrap(), Some(v2.clone()));
    let link = PlanLinkRecord {
        token_hash: "ab".repeat(32),
        patient_id: patient,
        plan_id: v2.id,
        created_by: author,
        created_at: t0(),
        expires_at: t0() + 1.hour(),
        used_at: None,
    };
    tx.insert_plan_link(&link).await.unwrap();
    assert_eq!(tx.plan_link_by_hash(&link.token_hash).await.unwrap(), Some(link.clone()));
    assert!(!tx.consume_plan_link(&link.token_hash, t0() + 1.hour()).await.unwrap(), "expired at the expiry instant");
    assert!(tx.consume_plan_link(&link.token_hash, t0() + 59.minutes()).await.unwrap());
    assert!(!tx.consume_plan_link(&link.token_hash, t0() + 59.minutes()).await.unwrap(), "single use");
    assert_eq!(tx.plan_link_by_hash(&link.token_hash).await.unwrap().unwrap().used_at, Some(t0() + 59.minutes()));
    assert!(!tx.consume_plan_link("unknown", t0()).await.unwrap());
    let err = tx.insert_safety_plan(&plan(2)).await.unwrap_err();
    assert!(err.is_conflict_on(therapy_constraints::SAFETY_PLANS_VERSION_UNIQUE), "{err:?}");
}

pub async fn care_team_and_planned_sessions(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (patient, therapist) = patient_and_user(&mut tx, "theo", Role::Therapist).await;
    let nurse = tx.insert_user(&new_user("nina", Role::Nurse)).await.unwrap().id;
    let team = vec![
        CareTeamMember { user_id: therapist, care_role: CareRole::Therapist },
        CareTeamMember { user_id: nurse, care_role: CareRole::Nurse },
    ];
    tx.set_care_team(patient, &team, t0()).await.unwrap();
    assert_eq!(tx.care_team(patient).await.unwrap(), team);
    tx.set_care_team(patient, &team[..1], t0()).await.unwrap();
    assert_eq!(tx.patients_of_member(therapist).await.unwrap(), vec![patient]);
    assert!(tx.patients_of_member(nurse).await.unwrap().is_empty());

    let specs = generate_program(&TherapyPolicy::default(), &[date(2026, 3, 10), date(2026, 3, 12)]).unwrap();
    let sessions: Vec<PlannedSession> = specs
        .into_iter()
        .map(|s| PlannedSession {
            id: PlannedSessionId::from_uuid(Uuid::now_v7()),
            patient_id: patient,
            kind: s.kind,
            due: s.due,
            window_end: s.window_end,
            sequence: s.sequence,
            dose: s.dose,
            rule: s.rule,
            completed_by_note: None,
            created_at: t0(),
        })
        .collect();
    tx.replace_pending_sessions(patient, &sessions).await.unwrap();
    assert_eq!(tx.planned_sessions_for_patient(patient).await.unwrap(), sessions);
    assert_eq!(tx.planned_session_by_id(sessions[1].id).await.unwrap(), Some(sessions[1].clone()));
    assert_eq!(tx.planned_session_by_id(PlannedSessionId::from_uuid(Uuid::now_v7())).await.unwrap(), None);
    let due = tx.pending_sessions_due_by(date(2026, 3, 11), Some(&[patient])).await.unwrap();
    assert_eq!(
        due.iter().map(|s| s.kind).collect::<Vec<_>>(),
        vec![SessionKind::Preparation, SessionKind::Dosing, SessionKind::Integration]
    );
    assert_eq!(tx.pending_sessions_due_by(date(2026, 3, 11), None).await.unwrap(), due);
    assert!(tx.pending_sessions_due_by(date(2026, 3, 11), Some(&[])).await.unwrap().is_empty());

    let note = draft(patient, therapist, "prep");
    tx.insert_therapy_note(&note).await.unwrap();
    tx.complete_planned_session(due[0].id, note.id).await.unwrap();
    assert_eq!(tx.planned_session_by_id(due[0].id).await.unwrap().unwrap().completed_by_note, Some(note.id));
    let err = tx.complete_planned_session(due[0].id, note.id).await.unwrap_err();
    assert!(err.is_conflict_on(therapy_constraints::PLANNED_SESSIONS_COMPLETED), "{err:?}");
    // Regenerating keeps the completed session and replaces the pending ones.
    tx.replace_pending_sessions(patient, &[]).await.unwrap();
    let left = tx.planned_sessions_for_patient(patient).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].completed_by_note, Some(note.id));
}

pub async fn team_relation_and_break_glass_grants(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let (patient, theo) = patient_and_user(&mut tx, "theo", Role::Therapist).await;
    let nina = tx.insert_user(&new_user("nina", Role::Nurse)).await.unwrap().id;
    let admin = tx.insert_user(&new_user("ada", Role::Admin)).await.unwrap().id;
    assert_eq!(tx.team_relation(patient, theo).await.unwrap(), TeamRelation { on_team: false, team_empty: true });
    tx.set_care_team(patient, &[CareTeamMember { user_id: theo, care_role: CareRole::Therapist }], t0()).await.unwrap();
    assert_eq!(tx.team_relation(patient, theo).await.unwrap(), TeamRelation { on_team: true, team_empty: false });
    assert_eq!(tx.team_relation(patient, nina).await.unwrap(), TeamRelation { on_team: false, team_empty: false });
    assert!(!tx.has_session_between(patient, t0(), t0() + 24.hours()).await.unwrap());

    let grant = |id: u128, granted: i64, minutes: i64| BreakGlassGrant {
        id: Uuid::from_u128(id),
        user_id: nina,
        patient_id: patient,
        reason: format!("covering {id}"),
        granted_at: t0() + granted.minutes(),
        expires_at: t0() + (granted + minutes).minutes(),
        reviewed_by: None,
        reviewed_at: None,
        review_note: None,
    };
    tx.insert_break_glass(&grant(1, 0, 60)).await.unwrap();
    tx.insert_break_glass(&grant(2, 10, 60)).await.unwrap();
    // The latest end in force; none at or after it; none for another user.
    assert_eq!(tx.break_glass_until(nina, patient, t0()).await.unwrap(), Some(t0() + 70.minutes()));
    assert_eq!(tx.break_glass_until(nina, patient, t0() + 69.minutes()).await.unwrap(), Some(t0() + 70.minutes()));
    assert_eq!(tx.break_glass_until(nina, patient, t0() + 70.minutes()).await.unwrap(), None);
    assert_eq!(tx.break_glass_until(theo, patient, t0()).await.unwrap(), None);
    // Newest first, a page at a time; a review is written once.
    let ids = |g: Vec<BreakGlassGrant>| g.into_iter().map(|g| g.id.as_u128()).collect::<Vec<_>>();
    assert_eq!(ids(tx.break_glass_grants(true, 0, 10).await.unwrap()), vec![2, 1]);
    assert_eq!(ids(tx.break_glass_grants(true, 1, 1).await.unwrap()), vec![1]);
    assert!(tx.review_break_glass(Uuid::from_u128(2), admin, t0() + 2.hours(), "justified").await.unwrap());
    assert!(!tx.review_break_glass(Uuid::from_u128(2), admin, t0() + 3.hours(), "again").await.unwrap());
    assert_eq!(ids(tx.break_glass_grants(true, 0, 10).await.unwrap()), vec![1]);
    assert_eq!(ids(tx.break_glass_grants(false, 0, 10).await.unwrap()), vec![2, 1]);
    let reviewed = tx.break_glass_by_id(Uuid::from_u128(2)).await.unwrap().unwrap();
    assert_eq!(reviewed.reviewed_by, Some(admin));
    assert_eq!(reviewed.reviewed_at, Some(t0() + 2.hours()));
    assert_eq!(reviewed.review_note.as_deref(), Some("justified"));
    assert_eq!(reviewed.reason, "covering 2");
    assert!(tx.break_glass_by_id(Uuid::from_u128(3)).await.unwrap().is_none());

    // Identity changes (birth date, sex at birth) with their reason, oldest first.
    assert!(tx.identity_changes(patient).await.unwrap().is_empty());
    let change = |id: u128, minutes: i64, fields: &str| IdentityChange {
        id: Uuid::from_u128(id),
        patient_id: patient,
        changed_by: theo,
        at: t0() + minutes.minutes(),
        fields: fields.into(),
        reason: format!("reason {id}"),
    };
    tx.insert_identity_change(&change(11, 5, "sex_at_birth")).await.unwrap();
    tx.insert_identity_change(&change(10, 1, "birth_date,sex_at_birth")).await.unwrap();
    assert_eq!(
        tx.identity_changes(patient).await.unwrap(),
        vec![change(10, 1, "birth_date,sex_at_birth"), change(11, 5, "sex_at_birth")]
    );

    let md = |id: u128, minutes: i64, granted: bool, by: Option<UserId>| MedicalDirectorChange {
        id: Uuid::from_u128(id),
        user_id: theo,
        changed_by: by,
        at: t0() + minutes.minutes(),
        granted,
        reason: format!("reason {id}"),
    };
    tx.insert_medical_director_change(&md(20, 1, true, None)).await.unwrap();
    tx.insert_medical_director_change(&md(21, 2, false, Some(admin))).await.unwrap();
    assert_eq!(
        tx.medical_director_changes(10).await.unwrap(),
        vec![md(21, 2, false, Some(admin)), md(20, 1, true, None)]
    );
    assert_eq!(tx.medical_director_changes(1).await.unwrap(), vec![md(21, 2, false, Some(admin))]);
    tx.commit().await.unwrap();
}
