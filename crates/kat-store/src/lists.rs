//! What clinic-wide lists read in a fixed number of queries, whatever the number of
//! patients (the patient search, the measures and therapy worklists, the timeline), and
//! the audit entry of a list view that names every patient it showed.
//!
//! Each method is one query (two for [`ListRepo::append_audit_listing`]); none loops
//! over patients. `ids` arguments are one page of a list (a few hundred at most).

use crate::StoreResult;
use crate::dosing::{
    AdministrationRecord, AlarmRecord, DoseOrderRecord, DosingSessionRecord, SessionEventRecord, TreatmentPlanRecord,
    VitalRecord,
};
use crate::intake::IntakeVersionRecord;
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::audit::{AuditEntry, NewAuditEntry};
use kat_core::dosing::Route;
use kat_core::ids::{AuditId, PatientId};
use kat_core::instruments::Instrument;
use kat_core::patient::{Patient, PatientQuery};

/// A complete rating-scale response, as the measures worklist needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedMeasure {
    pub patient_id: PatientId,
    pub instrument: Instrument,
    pub collected_at: Timestamp,
}

/// One page of a route's sessions, newest opened first, with every row of their records:
/// what a list that shows each session's whole record needs (the REMS list). The other
/// lists are by session or patient in any order; a session's rows keep the order of
/// its own reads (administrations by time, vitals by time taken, alarms by time raised,
/// events by time, orders by time ordered, intake versions newest first).
#[derive(Debug, Clone, Default)]
pub struct SessionRecords {
    pub sessions: Vec<DosingSessionRecord>,
    pub plans: Vec<TreatmentPlanRecord>,
    pub patients: Vec<Patient>,
    pub administrations: Vec<AdministrationRecord>,
    pub vitals: Vec<VitalRecord>,
    pub alarms: Vec<AlarmRecord>,
    pub events: Vec<SessionEventRecord>,
    pub orders: Vec<DoseOrderRecord>,
    /// Every intake version of the sessions' patients.
    pub intakes: Vec<IntakeVersionRecord>,
}

/// What the clinic's day list of dosing reads (the Today page): every signed treatment
/// plan (their dates say whose dose is planned today), every deferred session (its new
/// date moves a planned dose), and the sessions opened in the day or still not
/// discharged. Three queries whatever the number of patients.
#[derive(Debug, Clone, Default)]
pub struct DosingDay {
    /// Signed plans, by patient, then signing time.
    pub plans: Vec<TreatmentPlanRecord>,
    /// Sessions whose gate deferred the dose, by opening time.
    pub deferred: Vec<DosingSessionRecord>,
    /// Sessions opened in the day, and earlier ones not yet discharged, by opening time.
    pub sessions: Vec<DosingSessionRecord>,
}

#[async_trait]
pub trait ListRepo {
    /// The dosing side of the day from `from` to `to` (the clinic's local day as UTC
    /// instants): [`DosingDay`], in three queries.
    async fn dosing_day(&mut self, from: Timestamp, to: Timestamp) -> StoreResult<DosingDay>;
    /// `limit` sessions of `route` after skipping `offset` (newest opened first), with
    /// their records ([`SessionRecords`]): nine queries whatever the page's size.
    async fn sessions_with_records(&mut self, route: Route, offset: u64, limit: u32) -> StoreResult<SessionRecords>;
    /// The patients with these ids (unknown ids are left out), ordered by id.
    async fn patients_by_ids(&mut self, ids: &[PatientId]) -> StoreResult<Vec<Patient>>;
    /// The registry search of [`crate::PatientRepo::search_patients`] (same terms, same
    /// order), `limit` patients after skipping `offset`.
    async fn search_patients_page(
        &mut self,
        query: &PatientQuery,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Vec<Patient>>;
    /// The complete responses of every patient who has a measurement plan, by patient,
    /// then time.
    async fn completed_measures_of_planned_patients(&mut self) -> StoreResult<Vec<CompletedMeasure>>;
    /// The events of `kind` of all the patient's dosing sessions, by time.
    async fn session_events_for_patient(
        &mut self,
        patient: PatientId,
        kind: crate::dosing::SessionEventKind,
    ) -> StoreResult<Vec<SessionEventRecord>>;
    /// Appends the one audit entry of a list view with every patient it showed
    /// (`audit_entry_patients`, append-only like the log); a query of the log by patient
    /// then finds the entry for each of them.
    async fn append_audit_listing(&mut self, entry: &NewAuditEntry, shown: &[PatientId]) -> StoreResult<AuditEntry>;
    /// The patients each of these entries showed, as (entry, patient) pairs by entry,
    /// then patient.
    async fn audit_shown_patients(&mut self, ids: &[AuditId]) -> StoreResult<Vec<(AuditId, PatientId)>>;
}
