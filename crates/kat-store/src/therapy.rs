//! The therapy part of the port: notes and addenda, process notes with their named
//! readers, safety plan versions and their one-time links, the care team, and the
//! planned sessions of a program. Adapters implement each trait; [`TherapyStore`]
//! gathers them for [`crate::Tx`].
//!
//! Signed notes, addenda, process notes and safety plan versions are never changed or
//! deleted: the methods below offer no way to, and both schemas refuse it with triggers.

use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::ids::{AddendumId, PatientId, PlannedSessionId, ProcessNoteId, SafetyPlanId, TherapyNoteId, UserId};
use kat_core::therapy::care_team::{CareRole, CareTeamMember};
use kat_core::therapy::note::{Addendum, NoteContent, NoteKind, NoteStatus, TherapyNote};
use kat_core::therapy::process::ProcessNote;
use kat_core::therapy::safety_plan::{SafetyPlan, SafetyPlanContent};
use kat_core::therapy::schedule::{PlannedSession, SessionKind};
use uuid::Uuid;

/// Constraint names of the therapy schema (0004), the same in both adapters.
pub mod therapy_constraints {
    /// Refusal to change a signed (locked) therapy note.
    pub const THERAPY_NOTE_LOCKED: &str = "therapy_notes_locked";
    pub const SAFETY_PLANS_VERSION_UNIQUE: &str = "safety_plans_patient_version_key";
    pub const PLANNED_SESSIONS_COMPLETED: &str = "planned_sessions_completed";
}

#[async_trait]
pub trait TherapyNoteRepo {
    async fn insert_therapy_note(&mut self, note: &TherapyNote) -> StoreResult<()>;
    async fn therapy_note_by_id(&mut self, id: TherapyNoteId) -> StoreResult<Option<TherapyNote>>;
    /// A patient's notes, by session date then creation.
    async fn therapy_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TherapyNote>>;
    /// The author's unsigned notes, oldest first.
    async fn draft_notes_by_author(&mut self, author: UserId) -> StoreResult<Vec<TherapyNote>>;
    /// Replaces a draft's content if its version is still `expected_version`. A signed
    /// note is refused with `Conflict { THERAPY_NOTE_LOCKED }`, whatever the version.
    async fn update_draft_note(
        &mut self,
        id: TherapyNoteId,
        expected_version: i64,
        content: &NoteContent,
        at: Timestamp,
    ) -> StoreResult<TherapyNote>;
    /// Signs (locks) a draft; signing a signed note is `Conflict { THERAPY_NOTE_LOCKED }`.
    async fn sign_therapy_note(&mut self, id: TherapyNoteId, by: UserId, at: Timestamp) -> StoreResult<TherapyNote>;
    async fn insert_addendum(&mut self, addendum: &Addendum) -> StoreResult<()>;
    /// A patient's addenda, oldest first.
    async fn addenda_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<Addendum>>;
}

#[async_trait]
pub trait ProcessNoteRepo {
    async fn insert_process_note(&mut self, note: &ProcessNote) -> StoreResult<()>;
    async fn process_note_by_id(&mut self, id: ProcessNoteId) -> StoreResult<Option<ProcessNote>>;
    /// Every process note of the patient, oldest first. The caller filters by reader.
    async fn process_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<ProcessNote>>;
}

/// A one-time link for a patient to read the current safety plan. Only the SHA-256 of
/// the token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLinkRecord {
    pub token_hash: String,
    pub patient_id: PatientId,
    pub plan_id: SafetyPlanId,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

#[async_trait]
pub trait SafetyPlanRepo {
    /// Adds a version; a taken version number is `Conflict { SAFETY_PLANS_VERSION_UNIQUE }`.
    async fn insert_safety_plan(&mut self, plan: &SafetyPlan) -> StoreResult<()>;
    async fn safety_plan_by_id(&mut self, id: SafetyPlanId) -> StoreResult<Option<SafetyPlan>>;
    /// Every version, newest first.
    async fn safety_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<SafetyPlan>>;
    async fn insert_plan_link(&mut self, link: &PlanLinkRecord) -> StoreResult<()>;
    async fn plan_link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<PlanLinkRecord>>;
    /// Marks the link used if it is unused and unexpired at `at`; whether it was.
    async fn consume_plan_link(&mut self, token_hash: &str, at: Timestamp) -> StoreResult<bool>;
}

#[async_trait]
pub trait CareTeamRepo {
    /// Replaces the patient's care team.
    async fn set_care_team(&mut self, patient: PatientId, team: &[CareTeamMember], at: Timestamp) -> StoreResult<()>;
    /// The team, prescribers first.
    async fn care_team(&mut self, patient: PatientId) -> StoreResult<Vec<CareTeamMember>>;
    /// The patients whose team the user is on.
    async fn patients_of_member(&mut self, user: UserId) -> StoreResult<Vec<PatientId>>;
}

#[async_trait]
pub trait ScheduleRepo {
    /// Removes the patient's pending sessions and adds `sessions` (a regenerated
    /// program); completed sessions stay.
    async fn replace_pending_sessions(&mut self, patient: PatientId, sessions: &[PlannedSession]) -> StoreResult<()>;
    async fn planned_session_by_id(&mut self, id: PlannedSessionId) -> StoreResult<Option<PlannedSession>>;
    /// The patient's sessions by due date.
    async fn planned_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<PlannedSession>>;
    /// Pending sessions due on or before `by`, of these patients (or of every patient
    /// when `patients` is `None`), by due date.
    async fn pending_sessions_due_by(
        &mut self,
        by: Date,
        patients: Option<&[PatientId]>,
    ) -> StoreResult<Vec<PlannedSession>>;
    /// Records the note that completed a pending session; a completed session is
    /// `Conflict { PLANNED_SESSIONS_COMPLETED }`.
    async fn complete_planned_session(&mut self, id: PlannedSessionId, note: TherapyNoteId) -> StoreResult<()>;
}

/// Every therapy repository, for the `Tx` supertraits.
pub trait TherapyStore: TherapyNoteRepo + ProcessNoteRepo + SafetyPlanRepo + CareTeamRepo + ScheduleRepo {}
impl<T: TherapyNoteRepo + ProcessNoteRepo + SafetyPlanRepo + CareTeamRepo + ScheduleRepo> TherapyStore for T {}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("stored {what} is invalid"))
}

/// Note content and safety plans are stored as JSON documents (one column), written and
/// read only through these functions.
pub fn note_content_json(c: &NoteContent) -> String {
    serde_json::to_string(c).expect("note content serialises")
}

pub fn plan_content_json(c: &SafetyPlanContent) -> String {
    serde_json::to_string(c).expect("plan content serialises")
}

pub struct TherapyNoteRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub author_id: Uuid,
    pub planned_session_id: Option<Uuid>,
    pub content: String,
    pub signed_by: Option<Uuid>,
    pub signed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl TherapyNoteRow {
    pub fn into_domain(self) -> StoreResult<TherapyNote> {
        let status = match (self.signed_by, self.signed_at) {
            (Some(by), Some(at)) => NoteStatus::Signed { by: UserId::from_uuid(by), at },
            (None, None) => NoteStatus::Draft,
            _ => return Err(corrupt("note signature")),
        };
        Ok(TherapyNote {
            id: TherapyNoteId::from_uuid(self.id),
            patient_id: PatientId::from_uuid(self.patient_id),
            kind: NoteKind::parse(&self.kind).map_err(|_| corrupt("note kind"))?,
            author: UserId::from_uuid(self.author_id),
            planned_session: self.planned_session_id.map(PlannedSessionId::from_uuid),
            content: serde_json::from_str(&self.content).map_err(|_| corrupt("note content"))?,
            status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

pub struct AddendumRow {
    pub id: Uuid,
    pub note_id: Uuid,
    pub patient_id: Uuid,
    pub author_id: Uuid,
    pub at: Timestamp,
    pub reason: String,
    pub body: String,
}

impl AddendumRow {
    pub fn into_domain(self) -> Addendum {
        Addendum {
            id: AddendumId::from_uuid(self.id),
            note_id: TherapyNoteId::from_uuid(self.note_id),
            patient_id: PatientId::from_uuid(self.patient_id),
            author: UserId::from_uuid(self.author_id),
            at: self.at,
            reason: self.reason,
            body: self.body,
        }
    }
}

pub struct SafetyPlanRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub version: i64,
    pub content: String,
    pub author_id: Uuid,
    pub created_at: Timestamp,
}

impl SafetyPlanRow {
    pub fn into_domain(self) -> StoreResult<SafetyPlan> {
        Ok(SafetyPlan {
            id: SafetyPlanId::from_uuid(self.id),
            patient_id: PatientId::from_uuid(self.patient_id),
            version: self.version,
            content: serde_json::from_str(&self.content).map_err(|_| corrupt("safety plan"))?,
            author: UserId::from_uuid(self.author_id),
            created_at: self.created_at,
        })
    }
}

pub fn care_member(user_id: Uuid, care_role: &str) -> StoreResult<CareTeamMember> {
    Ok(CareTeamMember {
        user_id: UserId::from_uuid(user_id),
        care_role: CareRole::parse(care_role).ok_or_else(|| corrupt("care role"))?,
    })
}

pub struct PlannedSessionRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub due: Date,
    pub window_end: Option<Date>,
    pub sequence: i64,
    pub dose: Option<i64>,
    pub rule: String,
    pub completed_by_note: Option<Uuid>,
    pub created_at: Timestamp,
}

impl PlannedSessionRow {
    pub fn into_domain(self) -> StoreResult<PlannedSession> {
        Ok(PlannedSession {
            id: PlannedSessionId::from_uuid(self.id),
            patient_id: PatientId::from_uuid(self.patient_id),
            kind: SessionKind::parse(&self.kind).ok_or_else(|| corrupt("session kind"))?,
            due: self.due,
            window_end: self.window_end,
            sequence: i32::try_from(self.sequence).map_err(|_| corrupt("sequence"))?,
            dose: self.dose.map(i32::try_from).transpose().map_err(|_| corrupt("dose"))?,
            rule: self.rule,
            completed_by_note: self.completed_by_note.map(TherapyNoteId::from_uuid),
            created_at: self.created_at,
        })
    }
}

/// Sorts sessions as the port promises: by due date, then kind, then sequence.
pub fn sort_sessions(sessions: &mut [PlannedSession]) {
    sessions.sort_by_key(|s| (s.due, s.kind, s.sequence, s.patient_id));
}
