//! Use cases of the psychotherapy side: therapy notes (draft → signed → addenda),
//! process notes, the safety plan and its one-time patient link, the care team, the
//! program of planned sessions, the patient timeline and each role's worklist.
//!
//! Each is one transaction with its audit entries. Lock rules are decided by the core
//! (`TherapyNote::check_editable`) and enforced again by the store (which refuses to
//! update a signed note) and by the schema (a trigger).

mod care;
mod notes;

pub use care::*;
pub use notes::*;

use super::{Actor, AppError, AppResult, Ctx, record_denial};
use jiff::SignedDuration;
use kat_core::audit::AuditAction;
use kat_core::ids::{PatientId, TherapyNoteId};
use kat_core::patient::Patient;
use kat_core::therapy::note::{NoteRefusal, TherapyNote};
use kat_core::therapy::schedule::TherapyPolicy;
use kat_core::user::User;
use kat_store::{Store, StoreError, Tx, therapy_constraints};

/// Therapy settings of the clinic.
#[derive(Debug, Clone)]
pub struct TherapyConfig {
    /// Program structure policy (PSY-002, PSY-006, DOSE-IV-008 defaults).
    pub policy: TherapyPolicy,
    /// How long a patient's one-time safety-plan link stays valid (default 24 hours).
    pub plan_link_ttl: SignedDuration,
}

impl Default for TherapyConfig {
    fn default() -> Self {
        Self { policy: TherapyPolicy::default(), plan_link_ttl: SignedDuration::from_hours(24) }
    }
}

const NOTE: &str = "therapy_note";

fn user(ctx: &Ctx) -> AppResult<&User> {
    match &ctx.actor {
        Actor::User(u) => Ok(u),
        Actor::Anonymous => Err(AppError::Unauthenticated),
        // The command line (demo seeding) acts through explicit users, never as itself.
        Actor::Cli => Err(AppError::Forbidden),
    }
}

fn locked(e: StoreError) -> AppError {
    if e.is_conflict_on(therapy_constraints::THERAPY_NOTE_LOCKED) {
        AppError::Conflict(NoteRefusal::Signed.to_string())
    } else {
        e.into()
    }
}

async fn patient_exists(tx: &mut Box<dyn Tx>, id: PatientId) -> AppResult<Patient> {
    tx.patient_by_id(id).await?.ok_or(AppError::NotFound("patient"))
}

async fn note_of_patient(tx: &mut Box<dyn Tx>, patient: PatientId, id: TherapyNoteId) -> AppResult<TherapyNote> {
    tx.therapy_note_by_id(id).await?.filter(|n| n.patient_id == patient).ok_or(AppError::NotFound("therapy note"))
}

/// Refuses a lifecycle step, auditing a refusal by author as a denial.
async fn refuse(
    store: &dyn Store,
    ctx: &Ctx,
    note: &TherapyNote,
    refusal: NoteRefusal,
    action: AuditAction,
) -> AppError {
    match refusal {
        NoteRefusal::NotAuthor => {
            if let Err(e) =
                record_denial(store, ctx, action, NOTE, Some(note.id.to_string()), Some(note.patient_id)).await
            {
                return e;
            }
            AppError::Forbidden
        }
        other => AppError::Conflict(other.to_string()),
    }
}
