//! The intake and eligibility part of the port: versioned intake answers, versioned
//! clinic policy, evaluations, prescriber decisions and same-day review flags.
//!
//! Nothing here is ever updated in place except a decision's `stale` flag and a
//! same-day flag's disposition: every intake save and every policy change is a new
//! version row, so the history is complete.

use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::eligibility::EligibilityPolicy;
use kat_core::eligibility::answers::IntakeAnswers;
use kat_core::ids::{PatientId, UserId};
use std::fmt;
use uuid::Uuid;

/// One saved version of a patient's intake.
#[derive(Clone)]
pub struct IntakeVersionRecord {
    pub patient_id: PatientId,
    /// 1, 2, 3… per patient.
    pub version: i64,
    pub answers: IntakeAnswers,
    /// Whether the saver marked the intake complete (otherwise a draft).
    pub complete: bool,
    /// Which section the save changed (for the history).
    pub section: String,
    pub saved_at: Timestamp,
    pub saved_by: Option<UserId>,
}

impl fmt::Debug for IntakeVersionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntakeVersionRecord")
            .field("patient_id", &self.patient_id)
            .field("version", &self.version)
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

/// One version of the clinic's eligibility policy.
#[derive(Debug, Clone)]
pub struct PolicyRecord {
    /// 1, 2, 3…
    pub version: i64,
    pub policy: EligibilityPolicy,
    pub created_at: Timestamp,
    pub created_by: Option<UserId>,
}

/// One evaluation of one intake version under one policy version.
#[derive(Clone)]
pub struct EvaluationRecord {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub intake_version: i64,
    pub policy_version: i64,
    /// `excluded`, `incomplete`, `needs_review` or `eligible`.
    pub status: String,
    /// The core's `Evaluation`, as JSON (findings, missing answers, computed values).
    pub result_json: String,
    pub evaluated_at: Timestamp,
}

impl fmt::Debug for EvaluationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvaluationRecord")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A prescriber's signed decision on one evaluation.
#[derive(Clone)]
pub struct DecisionRecord {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub evaluation_id: Uuid,
    /// `accept` or `decline`.
    pub decision: String,
    /// JSON object: review-finding rule id → the prescriber's written reason.
    pub reasons_json: String,
    /// A medical director's override of a hard stop, with the reason.
    pub override_reason: Option<String>,
    pub override_by: Option<UserId>,
    pub signed_by: UserId,
    pub signed_at: Timestamp,
    /// Set when a later evaluation (new intake or policy) replaced the signed one.
    pub stale: bool,
}

impl fmt::Debug for DecisionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecisionRecord")
            .field("id", &self.id)
            .field("decision", &self.decision)
            .field("stale", &self.stale)
            .finish_non_exhaustive()
    }
}

/// A same-day clinical review required by the intake (RCI-011, SUI-003).
#[derive(Clone)]
pub struct SameDayFlagRecord {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub evaluation_id: Uuid,
    /// JSON array of the reasons the core gave.
    pub reasons_json: String,
    pub raised_at: Timestamp,
    pub disposition: Option<String>,
    pub disposed_by: Option<UserId>,
    pub disposed_at: Option<Timestamp>,
}

impl fmt::Debug for SameDayFlagRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SameDayFlagRecord")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("open", &self.disposition.is_none())
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait IntakeRepo {
    /// Saves a new version (the next number for the patient) and returns it.
    async fn insert_intake_version(
        &mut self,
        patient_id: PatientId,
        answers: &IntakeAnswers,
        complete: bool,
        section: &str,
        at: Timestamp,
        by: Option<UserId>,
    ) -> StoreResult<IntakeVersionRecord>;
    async fn latest_intake(&mut self, patient_id: PatientId) -> StoreResult<Option<IntakeVersionRecord>>;
    /// Every version, newest first.
    async fn intake_history(&mut self, patient_id: PatientId) -> StoreResult<Vec<IntakeVersionRecord>>;

    /// Saves the next policy version and returns it.
    async fn insert_policy(
        &mut self,
        policy: &EligibilityPolicy,
        at: Timestamp,
        by: Option<UserId>,
    ) -> StoreResult<PolicyRecord>;
    async fn current_policy(&mut self) -> StoreResult<Option<PolicyRecord>>;
    /// Every policy version, newest first.
    async fn policy_history(&mut self) -> StoreResult<Vec<PolicyRecord>>;

    async fn insert_evaluation(&mut self, e: &EvaluationRecord) -> StoreResult<()>;
    async fn latest_evaluation(&mut self, patient_id: PatientId) -> StoreResult<Option<EvaluationRecord>>;
    async fn evaluation_by_id(&mut self, id: Uuid) -> StoreResult<Option<EvaluationRecord>>;
    /// Patients whose intake has at least one version (for re-evaluation on a policy change).
    async fn patients_with_intake(&mut self) -> StoreResult<Vec<PatientId>>;

    async fn insert_decision(&mut self, d: &DecisionRecord) -> StoreResult<()>;
    async fn latest_decision(&mut self, patient_id: PatientId) -> StoreResult<Option<DecisionRecord>>;
    /// Marks every not-yet-stale decision of the patient stale; returns how many.
    async fn mark_decisions_stale(&mut self, patient_id: PatientId) -> StoreResult<u64>;

    async fn insert_same_day_flag(&mut self, f: &SameDayFlagRecord) -> StoreResult<()>;
    /// Flags without a disposition, oldest first.
    async fn open_same_day_flags(&mut self) -> StoreResult<Vec<SameDayFlagRecord>>;
    async fn count_open_same_day_flags(&mut self) -> StoreResult<i64>;
    /// Records the disposition once; a flag already disposed is `StaleVersion`.
    async fn dispose_same_day_flag(
        &mut self,
        id: Uuid,
        disposition: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()>;

    async fn set_medical_director(&mut self, user: UserId, yes: bool) -> StoreResult<()>;
    async fn is_medical_director(&mut self, user: UserId) -> StoreResult<bool>;
}

/// The stored JSON of intake answers.
pub fn answers_to_json(a: &IntakeAnswers) -> String {
    serde_json::to_string(a).expect("a string map serialises")
}

pub fn answers_from_json(s: &str) -> StoreResult<IntakeAnswers> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("intake answers: {e}")))
}

/// The stored JSON of a policy.
pub fn policy_to_json(p: &EligibilityPolicy) -> String {
    serde_json::to_string(p).expect("a policy serialises")
}

pub fn policy_from_json(s: &str) -> StoreResult<EligibilityPolicy> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("policy: {e}")))
}
