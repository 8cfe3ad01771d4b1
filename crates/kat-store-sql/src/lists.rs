//! What clinic-wide lists read in a fixed number of queries (`ListRepo`), and a list
//! view's audit entry with the patients it showed (migration
//! `0010_audit_entry_patients.sql`).
//!
//! Lists of ids are bound as `IN ($1, $2, …)` (and rows as `VALUES …`), at most
//! [`IDS_PER_STATEMENT`] to a statement, well under both databases' limits on bound
//! values: one statement for any page of a list.

use crate::SqlTx;
use crate::dialect::{Arg, Conn, Query, get, sql};
use crate::dosing::{
    ADMINISTRATION_COLUMNS, ALARM_COLUMNS, EVENT_COLUMNS, ORDER_COLUMNS, PLAN_COLUMNS, SESSION_COLUMNS, VITAL_COLUMNS,
    administration_from_row, alarm_from_row, event_from_row, order_from_row, plan_from_row, session_from_row,
    vital_from_row,
};
use crate::foundation::{PATIENT_COLUMNS, patient_from_row, search_query};
use crate::intake::{INTAKE_COLUMNS, intake_from_row};
use async_trait::async_trait;
use kat_core::audit::{AuditEntry, NewAuditEntry};
use kat_core::dosing::Route;
use kat_core::ids::DosingSessionId;
use kat_core::ids::{AuditId, PatientId};
use kat_core::patient::{Patient, PatientQuery};
use kat_store::StoreResult;
use kat_store::dosing::SessionEventRecord;
use kat_store::dosing::route_str;
use kat_store::lists::{CompletedMeasure, DosingDay, ListRepo, SessionRecords};
use kat_store::measures::instrument_from_str;

/// The most ids bound in one statement.
pub(crate) const IDS_PER_STATEMENT: usize = 1000;

/// Appends `($1, $2, …)`, one placeholder per value.
fn push_in<'a, T: Into<Arg<'a>> + Copy>(q: &mut Query<'a>, values: &[T]) {
    q.push("(");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_bind(*v);
    }
    q.push(")");
}

impl<C: Conn> SqlTx<C> {
    /// `SELECT {columns} FROM {table} WHERE {key} IN (ids) ORDER BY {order}`, one
    /// statement per [`IDS_PER_STATEMENT`] ids, each row converted by `row`.
    async fn rows_in<'i, T, I: Into<Arg<'i>> + Copy + Send + Sync>(
        &mut self,
        head: &str,
        ids: &'i [I],
        order: &str,
        row: fn(&C::Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut q = sql(head.to_string());
            push_in(&mut q, chunk);
            q.push(" ORDER BY ").push(order);
            for r in self.conn.fetch_all(q).await? {
                out.push(row(&r)?);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl<C: Conn> ListRepo for SqlTx<C> {
    async fn dosing_day(&mut self, from: jiff::Timestamp, to: jiff::Timestamp) -> StoreResult<DosingDay> {
        let plans = sql(format!(
            "SELECT {PLAN_COLUMNS} FROM treatment_plans WHERE signed_at IS NOT NULL ORDER BY patient_id, signed_at, id"
        ));
        let plans = self.conn.fetch_all(plans).await?.iter().map(plan_from_row).collect::<StoreResult<Vec<_>>>()?;
        let deferred = sql(format!(
            "SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE gate_outcome = $1 ORDER BY opened_at, id"
        ))
        .bind(kat_store::dosing::gate_outcome_str(kat_core::dosing::session::GateOutcome::Defer));
        let deferred =
            self.conn.fetch_all(deferred).await?.iter().map(session_from_row).collect::<StoreResult<Vec<_>>>()?;
        let sessions = sql(format!(
            "SELECT {SESSION_COLUMNS} FROM dosing_sessions \
             WHERE (opened_at >= $1 AND opened_at < $2) OR discharged_at IS NULL ORDER BY opened_at, id"
        ))
        .bind(from)
        .bind(to);
        let sessions =
            self.conn.fetch_all(sessions).await?.iter().map(session_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(DosingDay { plans, deferred, sessions })
    }

    async fn sessions_with_records(&mut self, route: Route, offset: u64, limit: u32) -> StoreResult<SessionRecords> {
        let q = sql(format!(
            "SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE route = $1 \
             ORDER BY opened_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(route_str(route))
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX));
        let sessions = self.conn.fetch_all(q).await?.iter().map(session_from_row).collect::<StoreResult<Vec<_>>>()?;
        if sessions.is_empty() {
            return Ok(SessionRecords::default());
        }
        let ids: Vec<DosingSessionId> = sessions.iter().map(|s| s.id).collect();
        let mut plan_ids: Vec<_> = sessions.iter().map(|s| s.plan_id).collect();
        plan_ids.sort();
        plan_ids.dedup();
        let mut patient_ids: Vec<PatientId> = sessions.iter().map(|s| s.patient_id).collect();
        patient_ids.sort();
        patient_ids.dedup();
        let in_sessions = |table: &str, columns: &str| format!("SELECT {columns} FROM {table} WHERE session_id IN ");
        Ok(SessionRecords {
            plans: self
                .rows_in(&format!("SELECT {PLAN_COLUMNS} FROM treatment_plans WHERE id IN "), &plan_ids, "id", |r| {
                    plan_from_row(r)
                })
                .await?,
            patients: self.patients_by_ids(&patient_ids).await?,
            administrations: self
                .rows_in(
                    &in_sessions("dose_administrations", ADMINISTRATION_COLUMNS),
                    &ids,
                    "session_id, at, id",
                    administration_from_row,
                )
                .await?,
            vitals: self
                .rows_in(&in_sessions("session_vitals", VITAL_COLUMNS), &ids, "session_id, taken_at, id", |r| {
                    vital_from_row(r)
                })
                .await?,
            alarms: self
                .rows_in(&in_sessions("session_alarms", ALARM_COLUMNS), &ids, "session_id, raised_at, id", |r| {
                    alarm_from_row(r)
                })
                .await?,
            events: self
                .rows_in(&in_sessions("session_events", EVENT_COLUMNS), &ids, "session_id, at, id", |r| {
                    event_from_row(r)
                })
                .await?,
            orders: self
                .rows_in(&in_sessions("session_dose_orders", ORDER_COLUMNS), &ids, "session_id, ordered_at, id", |r| {
                    order_from_row(r)
                })
                .await?,
            intakes: self
                .rows_in(
                    &format!("SELECT {INTAKE_COLUMNS} FROM intake_versions WHERE patient_id IN "),
                    &patient_ids,
                    "patient_id, version DESC",
                    intake_from_row,
                )
                .await?,
            sessions,
        })
    }

    async fn patients_by_ids(&mut self, ids: &[PatientId]) -> StoreResult<Vec<Patient>> {
        let mut patients = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut q = sql(format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id IN "));
            push_in(&mut q, chunk);
            q.push(" ORDER BY id");
            for row in self.conn.fetch_all(q).await? {
                patients.push(patient_from_row(&row)?);
            }
        }
        patients.sort_by_key(|p| p.id);
        Ok(patients)
    }

    async fn search_patients_page(
        &mut self,
        query: &PatientQuery,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Vec<Patient>> {
        let mut q = search_query(&format!("SELECT {PATIENT_COLUMNS}"), query, limit);
        q.push(" OFFSET ").push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        self.conn.fetch_all(q).await?.iter().map(patient_from_row).collect()
    }

    async fn completed_measures_of_planned_patients(&mut self) -> StoreResult<Vec<CompletedMeasure>> {
        let q = sql("SELECT r.patient_id, r.instrument, r.collected_at FROM measure_responses r \
                     JOIN measurement_plans p ON p.patient_id = r.patient_id \
                     WHERE r.complete = TRUE ORDER BY r.patient_id, r.collected_at, r.id");
        self.conn
            .fetch_all(q)
            .await?
            .iter()
            .map(|row| {
                Ok(CompletedMeasure {
                    patient_id: get(row, "patient_id")?,
                    instrument: instrument_from_str(&get::<String, _>(row, "instrument")?)?,
                    collected_at: get(row, "collected_at")?,
                })
            })
            .collect()
    }

    async fn session_events_for_patient(
        &mut self,
        patient: PatientId,
        kind: kat_store::dosing::SessionEventKind,
    ) -> StoreResult<Vec<SessionEventRecord>> {
        let q = sql(format!(
            "SELECT {EVENT_COLUMNS} FROM session_events \
             WHERE session_id IN (SELECT id FROM dosing_sessions WHERE patient_id = $1) AND kind = $2 \
             ORDER BY at, id"
        ))
        .bind(patient)
        .bind(kind.as_str());
        self.conn.fetch_all(q).await?.iter().map(event_from_row).collect()
    }

    async fn append_audit_listing(&mut self, entry: &NewAuditEntry, shown: &[PatientId]) -> StoreResult<AuditEntry> {
        // The patients shown are part of the entry's hash.
        self.append_chained(entry, shown).await
    }

    async fn audit_shown_patients(&mut self, ids: &[AuditId]) -> StoreResult<Vec<(AuditId, PatientId)>> {
        let mut shown = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut q = sql("SELECT audit_id, patient_id FROM audit_entry_patients WHERE audit_id IN ");
            push_in(&mut q, chunk);
            q.push(" ORDER BY audit_id, patient_id");
            for row in self.conn.fetch_all(q).await? {
                shown.push((get(&row, "audit_id")?, get(&row, "patient_id")?));
            }
        }
        shown.sort();
        Ok(shown)
    }
}
