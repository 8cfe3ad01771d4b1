//! PostgreSQL implementation of [`ListRepo`]: lists in a fixed number of queries and the
//! list view's audit entry (migration `0010_audit_entry_patients.sql`).

use super::{PATIENT_COLUMNS, PostgresTx, get, map_err, patient_from_row, search_query, ts};
use async_trait::async_trait;
use kat_core::audit::{AuditEntry, NewAuditEntry};
use kat_core::ids::{AuditId, DosingSessionId, PatientId, UserId};
use kat_core::patient::{Patient, PatientQuery};
use kat_store::dosing::SessionEventRecord;
use kat_store::lists::{CompletedMeasure, ListRepo};
use kat_store::measures::instrument_from_str;
use kat_store::{AuditRepo, StoreResult};
use uuid::Uuid;

#[async_trait]
impl ListRepo for PostgresTx {
    async fn patients_by_ids(&mut self, ids: &[PatientId]) -> StoreResult<Vec<Patient>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let uuids: Vec<Uuid> = ids.iter().map(PatientId::as_uuid).collect();
        let sql = format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id = ANY($1) ORDER BY id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(uuids)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(patient_from_row)
            .collect()
    }

    async fn search_patients_page(
        &mut self,
        query: &PatientQuery,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Vec<Patient>> {
        let mut qb = search_query(query, limit);
        qb.push(" OFFSET ").push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        qb.build().fetch_all(&mut *self.tx).await.map_err(map_err)?.iter().map(patient_from_row).collect()
    }

    async fn completed_measures_of_planned_patients(&mut self) -> StoreResult<Vec<CompletedMeasure>> {
        let rows = sqlx::query(
            "SELECT r.patient_id, r.instrument, r.collected_at FROM measure_responses r \
             JOIN measurement_plans p ON p.patient_id = r.patient_id \
             WHERE r.complete ORDER BY r.patient_id, r.collected_at, r.id",
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(CompletedMeasure {
                    patient_id: PatientId::from_uuid(get(row, "patient_id")?),
                    instrument: instrument_from_str(&get::<String>(row, "instrument")?)?,
                    collected_at: ts(row, "collected_at")?,
                })
            })
            .collect()
    }

    async fn session_events_for_patient(
        &mut self,
        patient: PatientId,
        kind: &str,
    ) -> StoreResult<Vec<SessionEventRecord>> {
        let rows = sqlx::query(
            "SELECT e.id, e.session_id, e.kind, e.content, e.at, e.recorded_by, e.recorded_at \
             FROM session_events e JOIN dosing_sessions s ON s.id = e.session_id \
             WHERE s.patient_id = $1 AND e.kind = $2 ORDER BY e.at, e.id",
        )
        .bind(patient.as_uuid())
        .bind(kind)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(SessionEventRecord {
                    id: get(row, "id")?,
                    session_id: DosingSessionId::from_uuid(get(row, "session_id")?),
                    kind: get(row, "kind")?,
                    content: get(row, "content")?,
                    at: ts(row, "at")?,
                    recorded_by: UserId::from_uuid(get(row, "recorded_by")?),
                    recorded_at: ts(row, "recorded_at")?,
                })
            })
            .collect()
    }

    async fn append_audit_listing(&mut self, entry: &NewAuditEntry, shown: &[PatientId]) -> StoreResult<AuditEntry> {
        let appended = self.append_audit(entry).await?;
        if shown.is_empty() {
            return Ok(appended);
        }
        let mut ids: Vec<Uuid> = shown.iter().map(PatientId::as_uuid).collect();
        ids.sort();
        ids.dedup();
        sqlx::query("INSERT INTO audit_entry_patients (audit_id, patient_id) SELECT $1, unnest($2::uuid[])")
            .bind(appended.id.as_uuid())
            .bind(ids)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(appended)
    }

    async fn audit_shown_patients(&mut self, ids: &[AuditId]) -> StoreResult<Vec<(AuditId, PatientId)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let uuids: Vec<Uuid> = ids.iter().map(AuditId::as_uuid).collect();
        let rows = sqlx::query(
            "SELECT audit_id, patient_id FROM audit_entry_patients WHERE audit_id = ANY($1) \
             ORDER BY audit_id, patient_id",
        )
        .bind(uuids)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| Ok((AuditId::from_uuid(get(row, "audit_id")?), PatientId::from_uuid(get(row, "patient_id")?))))
            .collect()
    }
}
