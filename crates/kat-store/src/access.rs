//! Access by relationship (issue 12 item 1): what ties a user to a patient, and the
//! break-glass grants with their review.

use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{PatientId, UserId};
use uuid::Uuid;

use crate::StoreResult;

/// One break-glass use: who opened whose record, why, until when, and the admin's review.
#[derive(Clone, PartialEq, Eq)]
pub struct BreakGlassGrant {
    pub id: Uuid,
    pub user_id: UserId,
    pub patient_id: PatientId,
    pub reason: String,
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<Timestamp>,
    pub review_note: Option<String>,
}

impl std::fmt::Debug for BreakGlassGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakGlassGrant")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("patient_id", &self.patient_id)
            .field("reason", &"<redacted>")
            .field("granted_at", &self.granted_at)
            .field("expires_at", &self.expires_at)
            .field("reviewed_at", &self.reviewed_at)
            .finish_non_exhaustive()
    }
}

/// A change of a patient's birth date or sex at birth once a plan exists (issue 12 item
/// 8): who, when, which fields, why.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityChange {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub changed_by: UserId,
    pub at: Timestamp,
    /// Comma-separated: `birth_date`, `sex_at_birth`.
    pub fields: String,
    pub reason: String,
}

impl std::fmt::Debug for IdentityChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityChange").field("id", &self.id).field("fields", &self.fields).finish_non_exhaustive()
    }
}

/// A grant or removal of the medical-director flag, with who did it (none: the server's
/// command line) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalDirectorChange {
    pub id: Uuid,
    pub user_id: UserId,
    pub changed_by: Option<UserId>,
    pub at: Timestamp,
    pub granted: bool,
    pub reason: String,
}

/// The user's place on the patient's care team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamRelation {
    pub on_team: bool,
    /// Nobody is on the patient's care team.
    pub team_empty: bool,
}

#[async_trait]
pub trait AccessRepo {
    /// Whether `user` is on `patient`'s care team, and whether the team is empty.
    async fn team_relation(&mut self, patient: PatientId, user: UserId) -> StoreResult<TeamRelation>;
    /// Whether the patient has a dosing session still open or opened in `[from, to)`.
    async fn has_session_between(&mut self, patient: PatientId, from: Timestamp, to: Timestamp) -> StoreResult<bool>;
    async fn insert_break_glass(&mut self, grant: &BreakGlassGrant) -> StoreResult<()>;
    /// The end of `user`'s latest grant on `patient` still in force at `now`.
    async fn break_glass_until(
        &mut self,
        user: UserId,
        patient: PatientId,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>>;
    /// Up to `limit` grants from `offset`, newest first (only those not yet reviewed
    /// when `unreviewed_only`).
    async fn break_glass_grants(
        &mut self,
        unreviewed_only: bool,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Vec<BreakGlassGrant>>;
    async fn break_glass_by_id(&mut self, id: Uuid) -> StoreResult<Option<BreakGlassGrant>>;
    /// Records the review of a grant not yet reviewed; whether it was (a grant already
    /// reviewed keeps its first review).
    async fn review_break_glass(&mut self, id: Uuid, by: UserId, at: Timestamp, note: &str) -> StoreResult<bool>;
    async fn insert_identity_change(&mut self, change: &IdentityChange) -> StoreResult<()>;
    async fn insert_medical_director_change(&mut self, change: &MedicalDirectorChange) -> StoreResult<()>;
    /// The latest `limit` medical-director changes, newest first.
    async fn medical_director_changes(&mut self, limit: u32) -> StoreResult<Vec<MedicalDirectorChange>>;
    /// The patient's identity changes, oldest first.
    async fn identity_changes(&mut self, patient: PatientId) -> StoreResult<Vec<IdentityChange>>;
}
