//! The floor board's reads (`FloorRepo`): every open session's tile in six queries,
//! whatever the number of sessions or readings (issue 10 item 7).

use crate::SqlTx;
use crate::dialect::{Conn, sql};
use crate::dosing::{
    ADMINISTRATION_COLUMNS, ALARM_COLUMNS, PLAN_COLUMNS, SESSION_COLUMNS, VITAL_COLUMNS, administration_from_row,
    alarm_from_row, plan_from_row, session_from_row, vital_from_row,
};
use crate::foundation::{PATIENT_COLUMNS, patient_from_row};
use async_trait::async_trait;
use kat_core::ids::DosingSessionId;
use kat_store::StoreResult;
use kat_store::floor::{FloorRepo, FloorTileRecord, assemble_floor_tiles};

/// The open sessions the floor board's queries read: every one, or one (`$1`).
const FLOOR_SESSIONS: &str = "SELECT id FROM dosing_sessions WHERE discharged_at IS NULL AND ($1 IS NULL OR id = $1)";

#[async_trait]
impl<C: Conn> FloorRepo for SqlTx<C> {
    async fn floor_tiles(&mut self, only: Option<DosingSessionId>, recent: u32) -> StoreResult<Vec<FloorTileRecord>> {
        let q = sql(format!(
            "SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE id IN ({FLOOR_SESSIONS}) ORDER BY opened_at, id"
        ))
        .bind(only);
        let sessions = self.conn.fetch_all(q).await?.iter().map(session_from_row).collect::<StoreResult<Vec<_>>>()?;
        let q = sql(format!(
            "SELECT {PLAN_COLUMNS} FROM treatment_plans WHERE id IN \
             (SELECT plan_id FROM dosing_sessions WHERE id IN ({FLOOR_SESSIONS}))"
        ))
        .bind(only);
        let plans = self.conn.fetch_all(q).await?.iter().map(plan_from_row).collect::<StoreResult<Vec<_>>>()?;
        let q = sql(format!(
            "SELECT {PATIENT_COLUMNS} FROM patients WHERE id IN \
             (SELECT patient_id FROM dosing_sessions WHERE id IN ({FLOOR_SESSIONS}))"
        ))
        .bind(only);
        let patients = self.conn.fetch_all(q).await?.iter().map(patient_from_row).collect::<StoreResult<Vec<_>>>()?;
        let q = sql(format!(
            "SELECT {ADMINISTRATION_COLUMNS} FROM dose_administrations \
             WHERE session_id IN ({FLOOR_SESSIONS}) ORDER BY session_id, at, id"
        ))
        .bind(only);
        let administrations =
            self.conn.fetch_all(q).await?.iter().map(administration_from_row).collect::<StoreResult<Vec<_>>>()?;
        // Per session, its newest `recent` readings, whatever the session's length
        // (`Dialect::NEWEST_VITALS`).
        let columns = VITAL_COLUMNS.split(", ").map(|c| format!("v.{c}")).collect::<Vec<_>>().join(", ");
        let q = sql(format!(
            "SELECT {columns} FROM ({FLOOR_SESSIONS}) s {} ORDER BY v.session_id, v.taken_at DESC, v.id DESC",
            C::NEWEST_VITALS
        ))
        .bind(only)
        .bind(i64::from(recent));
        let vitals = self.conn.fetch_all(q).await?.iter().map(vital_from_row).collect::<StoreResult<Vec<_>>>()?;
        let q = sql(format!(
            "SELECT {ALARM_COLUMNS} FROM session_alarms \
             WHERE acknowledged_at IS NULL AND session_id IN ({FLOOR_SESSIONS}) ORDER BY raised_at, id"
        ))
        .bind(only);
        let alarms = self.conn.fetch_all(q).await?.iter().map(alarm_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(assemble_floor_tiles(sessions, plans, patients, administrations, vitals, alarms))
    }
}
