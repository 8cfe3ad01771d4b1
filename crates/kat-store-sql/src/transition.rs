//! Repositories not yet written once: forwarded to the adapter's own implementation on
//! its connection while they move here, area by area.

use crate::{Conn, SqlTx};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::*;
use kat_store::StoreResult;
use kat_store::dosing::*;

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
