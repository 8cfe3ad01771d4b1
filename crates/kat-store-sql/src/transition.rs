//! Repositories not yet written once: forwarded to the adapter's own implementation on
//! its connection while they move here, area by area.

use crate::{Conn, SqlTx};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::ids::*;
use kat_core::therapy::care_team::CareTeamMember;
use kat_core::therapy::note::{Addendum, NoteContent, TherapyNote};
use kat_core::therapy::process::ProcessNote;
use kat_core::therapy::safety_plan::SafetyPlan;
use kat_core::therapy::schedule::PlannedSession;
use kat_store::dosing::*;
use kat_store::{PlanLinkRecord, StoreResult};

#[async_trait]
impl<C: Conn + kat_store::TherapyNoteRepo> kat_store::TherapyNoteRepo for SqlTx<C> {
    async fn insert_therapy_note(&mut self, note: &TherapyNote) -> StoreResult<()> {
        self.conn.insert_therapy_note(note).await
    }
    async fn therapy_note_by_id(&mut self, id: TherapyNoteId) -> StoreResult<Option<TherapyNote>> {
        self.conn.therapy_note_by_id(id).await
    }
    async fn therapy_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TherapyNote>> {
        self.conn.therapy_notes_for_patient(patient).await
    }
    async fn draft_notes_by_author(&mut self, author: UserId) -> StoreResult<Vec<TherapyNote>> {
        self.conn.draft_notes_by_author(author).await
    }
    async fn update_draft_note(
        &mut self,
        id: TherapyNoteId,
        expected_version: i64,
        content: &NoteContent,
        at: Timestamp,
    ) -> StoreResult<TherapyNote> {
        self.conn.update_draft_note(id, expected_version, content, at).await
    }
    async fn sign_therapy_note(&mut self, id: TherapyNoteId, by: UserId, at: Timestamp) -> StoreResult<TherapyNote> {
        self.conn.sign_therapy_note(id, by, at).await
    }
    async fn insert_addendum(&mut self, addendum: &Addendum) -> StoreResult<()> {
        self.conn.insert_addendum(addendum).await
    }
    async fn addenda_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<Addendum>> {
        self.conn.addenda_for_patient(patient).await
    }
}
#[async_trait]
impl<C: Conn + kat_store::ProcessNoteRepo> kat_store::ProcessNoteRepo for SqlTx<C> {
    async fn insert_process_note(&mut self, note: &ProcessNote) -> StoreResult<()> {
        self.conn.insert_process_note(note).await
    }
    async fn process_note_by_id(&mut self, id: ProcessNoteId) -> StoreResult<Option<ProcessNote>> {
        self.conn.process_note_by_id(id).await
    }
    async fn process_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<ProcessNote>> {
        self.conn.process_notes_for_patient(patient).await
    }
}
#[async_trait]
impl<C: Conn + kat_store::SafetyPlanRepo> kat_store::SafetyPlanRepo for SqlTx<C> {
    async fn insert_safety_plan(&mut self, plan: &SafetyPlan) -> StoreResult<()> {
        self.conn.insert_safety_plan(plan).await
    }
    async fn safety_plan_by_id(&mut self, id: SafetyPlanId) -> StoreResult<Option<SafetyPlan>> {
        self.conn.safety_plan_by_id(id).await
    }
    async fn safety_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<SafetyPlan>> {
        self.conn.safety_plans_for_patient(patient).await
    }
    async fn insert_plan_link(&mut self, link: &PlanLinkRecord) -> StoreResult<()> {
        self.conn.insert_plan_link(link).await
    }
    async fn plan_link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<PlanLinkRecord>> {
        self.conn.plan_link_by_hash(token_hash).await
    }
    async fn consume_plan_link(&mut self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        self.conn.consume_plan_link(token_hash, at).await
    }
}
#[async_trait]
impl<C: Conn + kat_store::CareTeamRepo> kat_store::CareTeamRepo for SqlTx<C> {
    async fn set_care_team(&mut self, patient: PatientId, team: &[CareTeamMember], at: Timestamp) -> StoreResult<()> {
        self.conn.set_care_team(patient, team, at).await
    }
    async fn care_team(&mut self, patient: PatientId) -> StoreResult<Vec<CareTeamMember>> {
        self.conn.care_team(patient).await
    }
    async fn patients_of_member(&mut self, user: UserId) -> StoreResult<Vec<PatientId>> {
        self.conn.patients_of_member(user).await
    }
}
#[async_trait]
impl<C: Conn + kat_store::ScheduleRepo> kat_store::ScheduleRepo for SqlTx<C> {
    async fn replace_pending_sessions(&mut self, patient: PatientId, sessions: &[PlannedSession]) -> StoreResult<()> {
        self.conn.replace_pending_sessions(patient, sessions).await
    }
    async fn planned_session_by_id(&mut self, id: PlannedSessionId) -> StoreResult<Option<PlannedSession>> {
        self.conn.planned_session_by_id(id).await
    }
    async fn planned_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<PlannedSession>> {
        self.conn.planned_sessions_for_patient(patient).await
    }
    async fn pending_sessions_due_by(
        &mut self,
        by: Date,
        patients: Option<&[PatientId]>,
    ) -> StoreResult<Vec<PlannedSession>> {
        self.conn.pending_sessions_due_by(by, patients).await
    }
    async fn complete_planned_session(&mut self, id: PlannedSessionId, note: TherapyNoteId) -> StoreResult<()> {
        self.conn.complete_planned_session(id, note).await
    }
}
#[async_trait]
impl<C: Conn + kat_store::DosingRepo> kat_store::DosingRepo for SqlTx<C> {
    async fn insert_dose_order(&mut self, o: &DoseOrderRecord) -> StoreResult<()> {
        self.conn.insert_dose_order(o).await
    }
    async fn dose_orders_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<DoseOrderRecord>> {
        self.conn.dose_orders_for_session(session).await
    }
    async fn insert_session_event(&mut self, e: &SessionEventRecord) -> StoreResult<()> {
        self.conn.insert_session_event(e).await
    }
    async fn session_events_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<SessionEventRecord>> {
        self.conn.session_events_for_session(session).await
    }
    async fn insert_treatment_plan(&mut self, plan: &TreatmentPlanRecord) -> StoreResult<()> {
        self.conn.insert_treatment_plan(plan).await
    }
    async fn treatment_plan_by_id(&mut self, id: TreatmentPlanId) -> StoreResult<Option<TreatmentPlanRecord>> {
        self.conn.treatment_plan_by_id(id).await
    }
    async fn treatment_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TreatmentPlanRecord>> {
        self.conn.treatment_plans_for_patient(patient).await
    }
    async fn sign_treatment_plan(&mut self, id: TreatmentPlanId, by: UserId, at: Timestamp) -> StoreResult<()> {
        self.conn.sign_treatment_plan(id, by, at).await
    }
    async fn insert_dosing_session(&mut self, session: &DosingSessionRecord) -> StoreResult<()> {
        self.conn.insert_dosing_session(session).await
    }
    async fn lock_dosing_session(&mut self, id: DosingSessionId) -> StoreResult<()> {
        self.conn.lock_dosing_session(id).await
    }
    async fn dosing_session_by_id(&mut self, id: DosingSessionId) -> StoreResult<Option<DosingSessionRecord>> {
        self.conn.dosing_session_by_id(id).await
    }
    async fn dosing_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<DosingSessionRecord>> {
        self.conn.dosing_sessions_for_patient(patient).await
    }
    async fn dosing_sessions_by_route(&mut self, route: &str) -> StoreResult<Vec<DosingSessionRecord>> {
        self.conn.dosing_sessions_by_route(route).await
    }
    async fn open_dosing_sessions(&mut self) -> StoreResult<Vec<DosingSessionRecord>> {
        self.conn.open_dosing_sessions().await
    }
    async fn record_gate(
        &mut self,
        id: DosingSessionId,
        outcome: &str,
        gate: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.conn.record_gate(id, outcome, gate, by, at).await
    }
    async fn record_discharge(
        &mut self,
        id: DosingSessionId,
        discharge: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.conn.record_discharge(id, discharge, by, at).await
    }
    async fn insert_administration(&mut self, a: &AdministrationRecord) -> StoreResult<()> {
        self.conn.insert_administration(a).await
    }
    async fn administrations_for_session(
        &mut self,
        session: DosingSessionId,
    ) -> StoreResult<Vec<AdministrationRecord>> {
        self.conn.administrations_for_session(session).await
    }
    async fn insert_vital(&mut self, v: &VitalRecord) -> StoreResult<()> {
        self.conn.insert_vital(v).await
    }
    async fn vitals_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<VitalRecord>> {
        self.conn.vitals_for_session(session).await
    }
    async fn insert_alarm(&mut self, a: &AlarmRecord) -> StoreResult<()> {
        self.conn.insert_alarm(a).await
    }
    async fn alarm_by_id(&mut self, id: SessionAlarmId) -> StoreResult<Option<AlarmRecord>> {
        self.conn.alarm_by_id(id).await
    }
    async fn alarms_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<AlarmRecord>> {
        self.conn.alarms_for_session(session).await
    }
    async fn unacknowledged_alarms(&mut self) -> StoreResult<Vec<AlarmRecord>> {
        self.conn.unacknowledged_alarms().await
    }
    async fn acknowledge_alarm(
        &mut self,
        id: SessionAlarmId,
        by: UserId,
        at: Timestamp,
        action: &str,
    ) -> StoreResult<()> {
        self.conn.acknowledge_alarm(id, by, at, action).await
    }
}
