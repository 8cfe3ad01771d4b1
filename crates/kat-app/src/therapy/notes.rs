//! Therapy notes (draft → signed → addenda) and process notes.

use super::{NOTE, locked, note_of_patient, patient_exists, refuse, user};
use crate::{AppError, AppResult, Ctx, audit_reads, record_denial, require};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::{AddendumId, PatientId, PlannedSessionId, ProcessNoteId, TherapyNoteId};
use kat_core::role::Permission;
use kat_core::therapy::note::{
    Addendum, AddendumForm, NoteForm, NoteKind, NoteStatus, SignRefusal, TherapyNote, parse_addendum,
};
use kat_core::therapy::process::{ProcessNote, parse_process_note};
use kat_store::Store;
use uuid::Uuid;

/// Starts a draft note of `kind`, optionally recording a planned session.
pub async fn create_note(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    kind: NoteKind,
    planned_session: Option<PlannedSessionId>,
    form: &NoteForm,
) -> AppResult<TherapyNote> {
    require(store, ctx, Permission::TherapyNoteWrite, NOTE, None, Some(patient), AuditAction::Create).await?;
    let author = user(ctx)?.id;
    let content = form.parse(kind, ctx.today)?;
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    if let Some(sid) = planned_session {
        let s = tx.planned_session_by_id(sid).await?.filter(|s| s.patient_id == patient);
        match s {
            None => {
                return Err(AppError::Invalid(FieldErrors::single(
                    "planned_session",
                    "is not a session of this patient",
                )));
            }
            Some(s) if !s.is_pending() => {
                return Err(AppError::Invalid(FieldErrors::single(
                    "planned_session",
                    "was already recorded by a signed note",
                )));
            }
            Some(_) => {}
        }
    }
    let note = TherapyNote {
        id: TherapyNoteId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        kind,
        author,
        planned_session,
        content,
        status: NoteStatus::Draft,
        created_at: ctx.now,
        updated_at: ctx.now,
        version: 1,
    };
    tx.insert_therapy_note(&note).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        NOTE,
        Some(note.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(note)
}

/// Saves a draft. A signed note is refused (409) here and again by the store.
pub async fn update_note(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    id: TherapyNoteId,
    expected_version: Option<i64>,
    form: &NoteForm,
) -> AppResult<TherapyNote> {
    require(store, ctx, Permission::TherapyNoteWrite, NOTE, Some(id.to_string()), Some(patient), AuditAction::Update)
        .await?;
    let by = user(ctx)?.id;
    let mut tx = store.begin().await?;
    let note = note_of_patient(&mut tx, patient, id).await?;
    if let Err(r) = note.check_editable(by) {
        drop(tx);
        return Err(refuse(store, ctx, &note, r, AuditAction::Update).await);
    }
    let content = form.parse(note.kind, ctx.today)?;
    let version = expected_version.unwrap_or(note.version);
    let updated = tx.update_draft_note(id, version, &content, ctx.now).await.map_err(locked)?;
    tx.append_audit(&ctx.audit(AuditAction::Update, NOTE, Some(id.to_string()), Some(patient), AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Signs (locks) a draft; the planned session it records is then done.
pub async fn sign_note(store: &dyn Store, ctx: &Ctx, patient: PatientId, id: TherapyNoteId) -> AppResult<TherapyNote> {
    require(store, ctx, Permission::TherapyNoteWrite, NOTE, Some(id.to_string()), Some(patient), AuditAction::Update)
        .await?;
    let by = user(ctx)?.id;
    let mut tx = store.begin().await?;
    let note = note_of_patient(&mut tx, patient, id).await?;
    match note.check_signable(by) {
        Ok(()) => {}
        Err(SignRefusal::Refused(r)) => {
            drop(tx);
            return Err(refuse(store, ctx, &note, r, AuditAction::Update).await);
        }
        Err(SignRefusal::Incomplete(e)) => return Err(AppError::Invalid(e)),
    }
    let signed = tx.sign_therapy_note(id, by, ctx.now).await.map_err(locked)?;
    if let Some(sid) = signed.planned_session
        && tx.planned_session_by_id(sid).await?.is_some_and(|s| s.is_pending())
    {
        tx.complete_planned_session(sid, id).await?;
    }
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "therapy_note_signature",
        Some(id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(signed)
}

/// Adds an addendum (author, time, reason) to a signed note.
pub async fn add_addendum(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    id: TherapyNoteId,
    form: &AddendumForm,
) -> AppResult<Addendum> {
    require(
        store,
        ctx,
        Permission::TherapyNoteWrite,
        "therapy_note_addendum",
        Some(id.to_string()),
        Some(patient),
        AuditAction::Create,
    )
    .await?;
    let author = user(ctx)?.id;
    let (reason, body) = parse_addendum(form)?;
    let mut tx = store.begin().await?;
    let note = note_of_patient(&mut tx, patient, id).await?;
    note.check_addendable().map_err(|r| AppError::Conflict(r.to_string()))?;
    let addendum = Addendum {
        id: AddendumId::from_uuid(Uuid::now_v7()),
        note_id: id,
        patient_id: patient,
        author,
        at: ctx.now,
        reason,
        body,
    };
    tx.insert_addendum(&addendum).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "therapy_note_addendum",
        Some(addendum.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(addendum)
}

/// One note with its addenda.
pub async fn get_note(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    id: TherapyNoteId,
) -> AppResult<(TherapyNote, Vec<Addendum>)> {
    require(store, ctx, Permission::TherapyNoteRead, NOTE, Some(id.to_string()), Some(patient), AuditAction::Read)
        .await?;
    let mut tx = store.begin_read().await?;
    let note = note_of_patient(&mut tx, patient, id).await?;
    let addenda = tx.addenda_for_patient(patient).await?.into_iter().filter(|a| a.note_id == id).collect();
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(AuditAction::Read, NOTE, Some(id.to_string()), Some(patient), AuditOutcome::Allowed)],
    )
    .await?;
    Ok((note, addenda))
}

/// A patient's notes and all their addenda; each note shown is audited as listed.
pub async fn list_notes(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
) -> AppResult<(Vec<TherapyNote>, Vec<Addendum>)> {
    require(store, ctx, Permission::TherapyNoteRead, NOTE, None, Some(patient), AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    patient_exists(&mut tx, patient).await?;
    let notes = tx.therapy_notes_for_patient(patient).await?;
    let addenda = tx.addenda_for_patient(patient).await?;
    tx.commit().await?;
    let entries: Vec<_> = notes
        .iter()
        .map(|n| ctx.audit(AuditAction::List, NOTE, Some(n.id.to_string()), Some(patient), AuditOutcome::Allowed))
        .collect();
    audit_reads(store, &entries).await?;
    Ok((notes, addenda))
}

const PROCESS: &str = "process_note";

/// Writes a process note, readable by its author and the therapists named in `readers`
/// (account ids or usernames).
pub async fn create_process_note(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    body: &str,
    readers: &[String],
) -> AppResult<ProcessNote> {
    require(store, ctx, Permission::ProcessNoteWrite, PROCESS, None, Some(patient), AuditAction::Create).await?;
    let author = user(ctx)?.id;
    let mut tx = store.begin().await?;
    patient_exists(&mut tx, patient).await?;
    let staff = tx.list_users().await?;
    let (body, readers) = parse_process_note(body, readers, author, &staff)?;
    let note = ProcessNote {
        id: ProcessNoteId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        author,
        body,
        readers,
        created_at: ctx.now,
    };
    tx.insert_process_note(&note).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        PROCESS,
        Some(note.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(note)
}

/// Reads one process note. Anyone but the author and the named therapists is refused
/// (403) and the refusal is audited, whatever their role.
pub async fn get_process_note(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    id: ProcessNoteId,
) -> AppResult<ProcessNote> {
    require(store, ctx, Permission::TherapyNoteRead, PROCESS, Some(id.to_string()), Some(patient), AuditAction::Read)
        .await?;
    let me = user(ctx)?.id;
    let mut tx = store.begin_read().await?;
    let note = tx
        .process_note_by_id(id)
        .await?
        .filter(|n| n.patient_id == patient)
        .ok_or(AppError::NotFound("process note"))?;
    if !note.may_read(me) {
        drop(tx);
        record_denial(store, ctx, AuditAction::Read, PROCESS, Some(id.to_string()), Some(patient)).await?;
        return Err(AppError::Forbidden);
    }
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(AuditAction::Read, PROCESS, Some(id.to_string()), Some(patient), AuditOutcome::Allowed)],
    )
    .await?;
    Ok(note)
}

/// The process notes of a patient the actor may read (others are not revealed).
pub async fn visible_process_notes(store: &dyn Store, ctx: &Ctx, patient: PatientId) -> AppResult<Vec<ProcessNote>> {
    require(store, ctx, Permission::TherapyNoteRead, PROCESS, None, Some(patient), AuditAction::List).await?;
    let me = user(ctx)?.id;
    let mut tx = store.begin_read().await?;
    let notes: Vec<ProcessNote> =
        tx.process_notes_for_patient(patient).await?.into_iter().filter(|n| n.may_read(me)).collect();
    tx.commit().await?;
    let entries: Vec<_> = notes
        .iter()
        .map(|n| ctx.audit(AuditAction::List, PROCESS, Some(n.id.to_string()), Some(patient), AuditOutcome::Allowed))
        .collect();
    audit_reads(store, &entries).await?;
    Ok(notes)
}
