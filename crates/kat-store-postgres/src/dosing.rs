//! PostgreSQL implementation of [`DosingRepo`] (migration `0005_dosing.sql`).

use super::{PostgresConn, get, map_err, opt_ts as ot, ts as t, us};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, UserId, VitalId};
use kat_store::dosing::dosing_constraints as c;
use kat_store::dosing::*;
use kat_store::{StoreError, StoreResult};
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// The SQL with `?` placeholders numbered as `$1`, `$2`… for PostgreSQL.
fn pg(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}
fn ouser(row: &PgRow, col: &str) -> StoreResult<Option<UserId>> {
    Ok(get::<Option<Uuid>>(row, col)?.map(UserId::from_uuid))
}
/// Trigger refusals carry the constraint name at the start of the message.
fn map_dosing_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        for name in
            [c::DOSE_ADMINISTRATIONS_GATE_PASSED, c::TREATMENT_PLANS_LOCKED, c::SESSION_DOSE_ORDERS_BEFORE_DOSING]
        {
            if db.message().starts_with(name) {
                return StoreError::Conflict { constraint: name.into() };
            }
        }
    }
    map_err(e)
}

const PLAN_COLUMNS: &str = "id, patient_id, decision_id, content, created_by, created_at, signed_by, signed_at";
const SESSION_COLUMNS: &str = "id, patient_id, plan_id, route, opened_by, opened_at, gate_outcome, gate, \
    gate_by, gate_at, discharge, discharged_by, discharged_at";
const ALARM_COLUMNS: &str = "id, session_id, vital_id, rule, kind, severity, content, raised_at, \
    acknowledged_by, acknowledged_at, action_taken";

fn plan_from_row(row: &PgRow) -> StoreResult<TreatmentPlanRecord> {
    Ok(TreatmentPlanRecord {
        id: TreatmentPlanId::from_uuid(get(row, "id")?),
        patient_id: PatientId::from_uuid(get(row, "patient_id")?),
        decision_id: get(row, "decision_id")?,
        content: get(row, "content")?,
        created_by: UserId::from_uuid(get(row, "created_by")?),
        created_at: t(row, "created_at")?,
        signed_by: ouser(row, "signed_by")?,
        signed_at: ot(row, "signed_at")?,
    })
}

fn session_from_row(row: &PgRow) -> StoreResult<DosingSessionRecord> {
    Ok(DosingSessionRecord {
        id: DosingSessionId::from_uuid(get(row, "id")?),
        patient_id: PatientId::from_uuid(get(row, "patient_id")?),
        plan_id: TreatmentPlanId::from_uuid(get(row, "plan_id")?),
        route: get(row, "route")?,
        opened_by: UserId::from_uuid(get(row, "opened_by")?),
        opened_at: t(row, "opened_at")?,
        gate_outcome: get(row, "gate_outcome")?,
        gate: get(row, "gate")?,
        gate_by: ouser(row, "gate_by")?,
        gate_at: ot(row, "gate_at")?,
        discharge: get(row, "discharge")?,
        discharged_by: ouser(row, "discharged_by")?,
        discharged_at: ot(row, "discharged_at")?,
    })
}

fn alarm_from_row(row: &PgRow) -> StoreResult<AlarmRecord> {
    Ok(AlarmRecord {
        id: SessionAlarmId::from_uuid(get(row, "id")?),
        session_id: DosingSessionId::from_uuid(get(row, "session_id")?),
        vital_id: VitalId::from_uuid(get(row, "vital_id")?),
        rule: get(row, "rule")?,
        kind: get(row, "kind")?,
        severity: get(row, "severity")?,
        content: get(row, "content")?,
        raised_at: t(row, "raised_at")?,
        acknowledged_by: ouser(row, "acknowledged_by")?,
        acknowledged_at: ot(row, "acknowledged_at")?,
        action_taken: get(row, "action_taken")?,
    })
}

#[async_trait]
impl DosingRepo for PostgresConn {
    async fn dosing_sessions_by_route(&mut self, route: &str) -> StoreResult<Vec<DosingSessionRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE route = ? ORDER BY opened_at, id"
        ))))
        .bind(route)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(session_from_row)
        .collect()
    }

    async fn lock_dosing_session(&mut self, id: DosingSessionId) -> StoreResult<()> {
        let row = sqlx::query("SELECT 1 FROM dosing_sessions WHERE id = $1 FOR UPDATE")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?;
        row.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn insert_dose_order(&mut self, o: &DoseOrderRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(pg(
            "INSERT INTO session_dose_orders (id, session_id, content, ordered_by, ordered_at) VALUES (?, ?, ?, ?, ?)",
        )))
        .bind(o.id)
        .bind(o.session_id.as_uuid())
        .bind(&o.content)
        .bind(o.ordered_by.as_uuid())
        .bind(us(o.ordered_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_dosing_err)?;
        Ok(())
    }

    async fn dose_orders_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<DoseOrderRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(pg(
            "SELECT id, session_id, content, ordered_by, ordered_at FROM session_dose_orders WHERE session_id = ? ORDER BY ordered_at, id",
        )))
        .bind(session.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(DoseOrderRecord {
                    id: get(row, "id")?,
                    session_id: DosingSessionId::from_uuid(get(row, "session_id")?),
                    content: get(row, "content")?,
                    ordered_by: UserId::from_uuid(get(row, "ordered_by")?),
                    ordered_at: t(row, "ordered_at")?,
                })
            })
            .collect()
    }

    async fn insert_session_event(&mut self, e: &SessionEventRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(pg(
            "INSERT INTO session_events (id, session_id, kind, content, at, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )))
        .bind(e.id)
        .bind(e.session_id.as_uuid())
        .bind(&e.kind)
        .bind(&e.content)
        .bind(us(e.at))
        .bind(e.recorded_by.as_uuid())
        .bind(us(e.recorded_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn session_events_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<SessionEventRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(pg(
            "SELECT id, session_id, kind, content, at, recorded_by, recorded_at FROM session_events \
             WHERE session_id = ? ORDER BY at, id",
        )))
        .bind(session.as_uuid())
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
                    at: t(row, "at")?,
                    recorded_by: UserId::from_uuid(get(row, "recorded_by")?),
                    recorded_at: t(row, "recorded_at")?,
                })
            })
            .collect()
    }
    async fn insert_treatment_plan(&mut self, p: &TreatmentPlanRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "INSERT INTO treatment_plans ({PLAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))))
        .bind(p.id.as_uuid())
        .bind(p.patient_id.as_uuid())
        .bind(p.decision_id)
        .bind(&p.content)
        .bind(p.created_by.as_uuid())
        .bind(us(p.created_at))
        .bind(p.signed_by.map(|u| u.as_uuid()))
        .bind(p.signed_at.map(us))
        .execute(&mut *self.tx)
        .await
        .map_err(map_dosing_err)?;
        Ok(())
    }

    async fn treatment_plan_by_id(&mut self, id: TreatmentPlanId) -> StoreResult<Option<TreatmentPlanRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!("SELECT {PLAN_COLUMNS} FROM treatment_plans WHERE id = ?"))))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| plan_from_row(&r))
            .transpose()
    }

    async fn treatment_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TreatmentPlanRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "SELECT {PLAN_COLUMNS} FROM treatment_plans WHERE patient_id = ? ORDER BY created_at, id"
        ))))
        .bind(patient.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(plan_from_row)
        .collect()
    }

    async fn sign_treatment_plan(&mut self, id: TreatmentPlanId, by: UserId, at: Timestamp) -> StoreResult<()> {
        let done = sqlx::query(sqlx::AssertSqlSafe(pg(
            "UPDATE treatment_plans SET signed_by = ?, signed_at = ? WHERE id = ? AND signed_at IS NULL",
        )))
        .bind(by.as_uuid())
        .bind(us(at))
        .bind(id.as_uuid())
        .execute(&mut *self.tx)
        .await
        .map_err(map_dosing_err)?;
        if done.rows_affected() == 0 {
            return Err(match self.treatment_plan_by_id(id).await? {
                None => StoreError::NotFound,
                Some(_) => StoreError::Conflict { constraint: c::TREATMENT_PLANS_LOCKED.into() },
            });
        }
        Ok(())
    }

    async fn insert_dosing_session(&mut self, s: &DosingSessionRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "INSERT INTO dosing_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))))
        .bind(s.id.as_uuid())
        .bind(s.patient_id.as_uuid())
        .bind(s.plan_id.as_uuid())
        .bind(&s.route)
        .bind(s.opened_by.as_uuid())
        .bind(us(s.opened_at))
        .bind(&s.gate_outcome)
        .bind(&s.gate)
        .bind(s.gate_by.map(|u| u.as_uuid()))
        .bind(s.gate_at.map(us))
        .bind(&s.discharge)
        .bind(s.discharged_by.map(|u| u.as_uuid()))
        .bind(s.discharged_at.map(us))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn dosing_session_by_id(&mut self, id: DosingSessionId) -> StoreResult<Option<DosingSessionRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!("SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE id = ?"))))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| session_from_row(&r))
            .transpose()
    }

    async fn dosing_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<DosingSessionRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE patient_id = ? ORDER BY opened_at, id"
        ))))
        .bind(patient.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(session_from_row)
        .collect()
    }

    async fn open_dosing_sessions(&mut self) -> StoreResult<Vec<DosingSessionRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE discharged_at IS NULL ORDER BY opened_at, id"
        ))))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(session_from_row)
        .collect()
    }

    async fn record_gate(
        &mut self,
        id: DosingSessionId,
        outcome: &str,
        gate: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let done = sqlx::query(sqlx::AssertSqlSafe(pg(
            "UPDATE dosing_sessions SET gate_outcome = ?, gate = ?, gate_by = ?, gate_at = ? \
             WHERE id = ? AND discharged_at IS NULL AND (gate_outcome IS NULL OR gate_outcome = 'defer')",
        )))
        .bind(outcome)
        .bind(gate)
        .bind(by.as_uuid())
        .bind(us(at))
        .bind(id.as_uuid())
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict { constraint: c::DOSING_SESSIONS_STATE.into() });
        }
        Ok(())
    }

    async fn record_discharge(
        &mut self,
        id: DosingSessionId,
        discharge: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let done = sqlx::query(sqlx::AssertSqlSafe(pg(
            "UPDATE dosing_sessions SET discharge = ?, discharged_by = ?, discharged_at = ? \
             WHERE id = ? AND discharged_at IS NULL",
        )))
        .bind(discharge)
        .bind(by.as_uuid())
        .bind(us(at))
        .bind(id.as_uuid())
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict { constraint: c::DOSING_SESSIONS_STATE.into() });
        }
        Ok(())
    }

    async fn insert_administration(&mut self, a: &AdministrationRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(pg(
            "INSERT INTO dose_administrations (id, session_id, content, recorded_by, at) VALUES (?, ?, ?, ?, ?)",
        )))
        .bind(a.id.as_uuid())
        .bind(a.session_id.as_uuid())
        .bind(&a.content)
        .bind(a.recorded_by.as_uuid())
        .bind(us(a.at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_dosing_err)?;
        Ok(())
    }

    async fn administrations_for_session(
        &mut self,
        session: DosingSessionId,
    ) -> StoreResult<Vec<AdministrationRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(pg(
            "SELECT id, session_id, content, recorded_by, at FROM dose_administrations WHERE session_id = ? ORDER BY at, id",
        )))
        .bind(session.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(AdministrationRecord {
                    id: AdministrationId::from_uuid(get(row, "id")?),
                    session_id: DosingSessionId::from_uuid(get(row, "session_id")?),
                    content: get(row, "content")?,
                    recorded_by: UserId::from_uuid(get(row, "recorded_by")?),
                    at: t(row, "at")?,
                })
            })
            .collect()
    }

    async fn insert_vital(&mut self, v: &VitalRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(pg(
            "INSERT INTO session_vitals (id, session_id, reading, taken_at, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
        )))
        .bind(v.id.as_uuid())
        .bind(v.session_id.as_uuid())
        .bind(&v.reading)
        .bind(us(v.taken_at))
        .bind(v.recorded_by.map(|u| u.as_uuid()))
        .bind(us(v.recorded_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn vitals_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<VitalRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(pg(
            "SELECT id, session_id, reading, taken_at, recorded_by, recorded_at FROM session_vitals \
             WHERE session_id = ? ORDER BY taken_at, id",
        )))
        .bind(session.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(VitalRecord {
                    id: VitalId::from_uuid(get(row, "id")?),
                    session_id: DosingSessionId::from_uuid(get(row, "session_id")?),
                    reading: get(row, "reading")?,
                    taken_at: t(row, "taken_at")?,
                    recorded_by: ouser(row, "recorded_by")?,
                    recorded_at: t(row, "recorded_at")?,
                })
            })
            .collect()
    }

    async fn insert_alarm(&mut self, a: &AlarmRecord) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "INSERT INTO session_alarms ({ALARM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))))
        .bind(a.id.as_uuid())
        .bind(a.session_id.as_uuid())
        .bind(a.vital_id.as_uuid())
        .bind(&a.rule)
        .bind(&a.kind)
        .bind(&a.severity)
        .bind(&a.content)
        .bind(us(a.raised_at))
        .bind(a.acknowledged_by.map(|u| u.as_uuid()))
        .bind(a.acknowledged_at.map(us))
        .bind(&a.action_taken)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict { constraint } if constraint.starts_with("session_alarms.") => {
                StoreError::Conflict { constraint: c::SESSION_ALARMS_VITAL_KIND_UNIQUE.into() }
            }
            other => other,
        })?;
        Ok(())
    }

    async fn alarm_by_id(&mut self, id: SessionAlarmId) -> StoreResult<Option<AlarmRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!("SELECT {ALARM_COLUMNS} FROM session_alarms WHERE id = ?"))))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| alarm_from_row(&r))
            .transpose()
    }

    async fn alarms_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<AlarmRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "SELECT {ALARM_COLUMNS} FROM session_alarms WHERE session_id = ? ORDER BY raised_at, id"
        ))))
        .bind(session.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(alarm_from_row)
        .collect()
    }

    async fn unacknowledged_alarms(&mut self) -> StoreResult<Vec<AlarmRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(pg(&format!(
            "SELECT {ALARM_COLUMNS} FROM session_alarms WHERE acknowledged_at IS NULL ORDER BY raised_at, id"
        ))))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(alarm_from_row)
        .collect()
    }

    async fn acknowledge_alarm(
        &mut self,
        id: SessionAlarmId,
        by: UserId,
        at: Timestamp,
        action: &str,
    ) -> StoreResult<()> {
        let done = sqlx::query(sqlx::AssertSqlSafe(pg(
            "UPDATE session_alarms SET acknowledged_by = ?, acknowledged_at = ?, action_taken = ? \
             WHERE id = ? AND acknowledged_at IS NULL",
        )))
        .bind(by.as_uuid())
        .bind(us(at))
        .bind(action)
        .bind(id.as_uuid())
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(match self.alarm_by_id(id).await? {
                None => StoreError::NotFound,
                Some(_) => StoreError::Conflict { constraint: c::SESSION_ALARMS_ACKNOWLEDGED.into() },
            });
        }
        Ok(())
    }
}
