//! The dosing repository (`DosingRepo`, migrations `0005_dosing.sql` to
//! `0007_rems_submitted_once.sql` and `0011_session_state.sql`): treatment plans,
//! sessions with their state, dose orders, administrations, vitals, alarms and session
//! events. The typed values (route, gate outcome, alarm kind and severity, the session's
//! state, administrations and readings) are converted by `kat_store::dosing`'s
//! `*_str`/`*_json` functions and their inverses, the same for both databases.
//!
//! Trigger refusals (no administration before the gate, signed plans locked, no dose
//! order once dosing started) come back from the adapters as a `Conflict` on their name
//! ([`crate::trigger_refusal`]).

use crate::SqlTx;
use crate::dialect::{Conn, SqlRow, get, sql};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::dosing::Route;
use kat_core::dosing::session::{DosingSession, GateOutcome};
use kat_core::ids::{DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, UserId};
use kat_core::monitoring::RuleId;
use kat_store::dosing::dosing_constraints as c;
use kat_store::dosing::*;
use kat_store::{StoreError, StoreResult};

pub(crate) const PLAN_COLUMNS: &str =
    "id, patient_id, decision_id, content, created_by, created_at, signed_by, signed_at, overlap_override";
pub(crate) const SESSION_COLUMNS: &str = "id, patient_id, plan_id, route, opened_by, opened_at, gate_outcome, gate, \
    gate_by, gate_at, discharge, discharged_by, discharged_at, state, dose_day_override";
pub(crate) const ORDER_COLUMNS: &str = "id, session_id, content, ordered_by, ordered_at";
pub(crate) const EVENT_COLUMNS: &str = "id, session_id, kind, content, at, recorded_by, recorded_at, late";
pub(crate) const ADMINISTRATION_COLUMNS: &str = "id, session_id, content, recorded_by, at, recorded_at, late";
pub(crate) const VITAL_COLUMNS: &str = "id, session_id, reading, taken_at, recorded_by, recorded_at, late";
pub(crate) const ALARM_COLUMNS: &str = "id, session_id, vital_id, rule, kind, severity, content, raised_at, \
    acknowledged_by, acknowledged_at, action_taken";

pub(crate) fn plan_from_row(row: &impl SqlRow) -> StoreResult<TreatmentPlanRecord> {
    Ok(TreatmentPlanRecord {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        decision_id: get(row, "decision_id")?,
        content: get(row, "content")?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        signed_by: get(row, "signed_by")?,
        signed_at: get(row, "signed_at")?,
        overlap_override: get(row, "overlap_override")?,
    })
}

pub(crate) fn session_from_row(row: &impl SqlRow) -> StoreResult<DosingSessionRecord> {
    Ok(DosingSessionRecord {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        plan_id: get(row, "plan_id")?,
        route: route_from_str(&get::<String, _>(row, "route")?)?,
        opened_by: get(row, "opened_by")?,
        opened_at: get(row, "opened_at")?,
        gate_outcome: get::<Option<String>, _>(row, "gate_outcome")?
            .as_deref()
            .map(gate_outcome_from_str)
            .transpose()?,
        gate: get(row, "gate")?,
        gate_by: get(row, "gate_by")?,
        gate_at: get(row, "gate_at")?,
        discharge: get(row, "discharge")?,
        discharged_by: get(row, "discharged_by")?,
        discharged_at: get(row, "discharged_at")?,
        state: get::<Option<String>, _>(row, "state")?.as_deref().map(state_from_json).transpose()?,
        dose_day_override: get(row, "dose_day_override")?,
    })
}

pub(crate) fn order_from_row(row: &impl SqlRow) -> StoreResult<DoseOrderRecord> {
    Ok(DoseOrderRecord {
        id: get(row, "id")?,
        session_id: get(row, "session_id")?,
        content: get(row, "content")?,
        ordered_by: get(row, "ordered_by")?,
        ordered_at: get(row, "ordered_at")?,
    })
}

pub(crate) fn event_from_row(row: &impl SqlRow) -> StoreResult<SessionEventRecord> {
    Ok(SessionEventRecord {
        id: get(row, "id")?,
        session_id: get(row, "session_id")?,
        kind: SessionEventKind::parse(&get::<String, _>(row, "kind")?)?,
        content: get(row, "content")?,
        at: get(row, "at")?,
        recorded_by: get(row, "recorded_by")?,
        recorded_at: get(row, "recorded_at")?,
        late: get(row, "late")?,
    })
}

pub(crate) fn administration_from_row(row: &impl SqlRow) -> StoreResult<AdministrationRecord> {
    Ok(AdministrationRecord {
        id: get(row, "id")?,
        session_id: get(row, "session_id")?,
        administration: administration_from_json(&get::<String, _>(row, "content")?)?,
        recorded_by: get(row, "recorded_by")?,
        // Rows older than migration 0011 have no recorded_at: recorded at their time.
        recorded_at: match get::<Option<Timestamp>, _>(row, "recorded_at")? {
            Some(t) => t,
            None => get(row, "at")?,
        },
        late: get(row, "late")?,
    })
}

pub(crate) fn vital_from_row(row: &impl SqlRow) -> StoreResult<VitalRecord> {
    Ok(VitalRecord {
        id: get(row, "id")?,
        session_id: get(row, "session_id")?,
        reading: reading_from_json(&get::<String, _>(row, "reading")?)?,
        taken_at: get(row, "taken_at")?,
        recorded_by: get(row, "recorded_by")?,
        recorded_at: get(row, "recorded_at")?,
        late: get(row, "late")?,
    })
}

pub(crate) fn alarm_from_row(row: &impl SqlRow) -> StoreResult<AlarmRecord> {
    Ok(AlarmRecord {
        id: get(row, "id")?,
        session_id: get(row, "session_id")?,
        vital_id: get(row, "vital_id")?,
        rule: RuleId::owned(get::<String, _>(row, "rule")?),
        kind: alarm_kind_from_str(&get::<String, _>(row, "kind")?)?,
        severity: severity_from_str(&get::<String, _>(row, "severity")?)?,
        content: get(row, "content")?,
        raised_at: get(row, "raised_at")?,
        acknowledged_by: get(row, "acknowledged_by")?,
        acknowledged_at: get(row, "acknowledged_at")?,
        action_taken: get(row, "action_taken")?,
    })
}

impl<C: Conn> SqlTx<C> {
    async fn sessions_where(
        &mut self,
        filter: &str,
        value: Option<crate::Arg<'_>>,
    ) -> StoreResult<Vec<DosingSessionRecord>> {
        let mut q = sql(format!("SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE {filter} ORDER BY opened_at, id"));
        if let Some(value) = value {
            q = q.bind(value);
        }
        self.conn.fetch_all(q).await?.iter().map(session_from_row).collect()
    }

    async fn alarms_where(&mut self, filter: &str, value: Option<crate::Arg<'_>>) -> StoreResult<Vec<AlarmRecord>> {
        let mut q = sql(format!("SELECT {ALARM_COLUMNS} FROM session_alarms WHERE {filter} ORDER BY raised_at, id"));
        if let Some(value) = value {
            q = q.bind(value);
        }
        self.conn.fetch_all(q).await?.iter().map(alarm_from_row).collect()
    }
}

#[async_trait]
impl<C: Conn> DosingRepo for SqlTx<C> {
    async fn dosing_sessions_by_route(&mut self, route: Route) -> StoreResult<Vec<DosingSessionRecord>> {
        self.sessions_where("route = $1", Some(route_str(route).into())).await
    }

    async fn dosing_session_for_update(&mut self, id: DosingSessionId) -> StoreResult<Option<DosingSessionRecord>> {
        let q = sql(format!("SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE id = $1{}", C::FOR_UPDATE)).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| session_from_row(&r)).transpose()
    }

    async fn save_session_state(&mut self, id: DosingSessionId, state: &DosingSession) -> StoreResult<()> {
        let q = sql("UPDATE dosing_sessions SET state = $1 WHERE id = $2").bind(state_json(state)).bind(id);
        if self.conn.execute(q).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn lock_dosing_session(&mut self, id: DosingSessionId) -> StoreResult<()> {
        let q = sql(format!("SELECT 1 AS n FROM dosing_sessions WHERE id = $1{}", C::FOR_UPDATE)).bind(id);
        self.conn.fetch_optional(q).await?.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn lock_patient_for_dosing(&mut self, patient: PatientId) -> StoreResult<()> {
        let q = sql(format!("SELECT 1 AS n FROM patients WHERE id = $1{}", C::FOR_UPDATE)).bind(patient);
        self.conn.fetch_optional(q).await?.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn insert_dose_order(&mut self, o: &DoseOrderRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO session_dose_orders ({ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"))
                    .bind(o.id)
                    .bind(o.session_id)
                    .bind(&o.content)
                    .bind(o.ordered_by)
                    .bind(o.ordered_at),
            )
            .await?;
        Ok(())
    }

    async fn dose_orders_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<DoseOrderRecord>> {
        let q = sql(format!(
            "SELECT {ORDER_COLUMNS} FROM session_dose_orders WHERE session_id = $1 ORDER BY ordered_at, id"
        ))
        .bind(session);
        self.conn.fetch_all(q).await?.iter().map(order_from_row).collect()
    }

    async fn insert_session_event(&mut self, e: &SessionEventRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO session_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                    .bind(e.id)
                    .bind(e.session_id)
                    .bind(e.kind.as_str())
                    .bind(&e.content)
                    .bind(e.at)
                    .bind(e.recorded_by)
                    .bind(e.recorded_at)
                    .bind(e.late),
            )
            .await?;
        Ok(())
    }

    async fn session_events_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<SessionEventRecord>> {
        let q = sql(format!("SELECT {EVENT_COLUMNS} FROM session_events WHERE session_id = $1 ORDER BY at, id"))
            .bind(session);
        self.conn.fetch_all(q).await?.iter().map(event_from_row).collect()
    }

    async fn insert_treatment_plan(&mut self, p: &TreatmentPlanRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO treatment_plans ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ))
                .bind(p.id)
                .bind(p.patient_id)
                .bind(p.decision_id)
                .bind(&p.content)
                .bind(p.created_by)
                .bind(p.created_at)
                .bind(p.signed_by)
                .bind(p.signed_at)
                .bind(&p.overlap_override),
            )
            .await?;
        Ok(())
    }

    async fn treatment_plan_by_id(&mut self, id: TreatmentPlanId) -> StoreResult<Option<TreatmentPlanRecord>> {
        let q = sql(format!("SELECT {PLAN_COLUMNS} FROM treatment_plans WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| plan_from_row(&r)).transpose()
    }

    async fn treatment_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TreatmentPlanRecord>> {
        let q =
            sql(format!("SELECT {PLAN_COLUMNS} FROM treatment_plans WHERE patient_id = $1 ORDER BY created_at, id"))
                .bind(patient);
        self.conn.fetch_all(q).await?.iter().map(plan_from_row).collect()
    }

    async fn sign_treatment_plan(
        &mut self,
        id: TreatmentPlanId,
        by: UserId,
        at: Timestamp,
        overlap_override: Option<&str>,
    ) -> StoreResult<()> {
        let q = sql("UPDATE treatment_plans SET signed_by = $1, signed_at = $2, overlap_override = $3 \
                     WHERE id = $4 AND signed_at IS NULL")
        .bind(by)
        .bind(at)
        .bind(overlap_override)
        .bind(id);
        if self.conn.execute(q).await? == 0 {
            return Err(match self.treatment_plan_by_id(id).await? {
                None => StoreError::NotFound,
                Some(_) => StoreError::Conflict { constraint: c::TREATMENT_PLANS_LOCKED.into() },
            });
        }
        Ok(())
    }

    async fn insert_dosing_session(&mut self, s: &DosingSessionRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO dosing_sessions ({SESSION_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                ))
                .bind(s.id)
                .bind(s.patient_id)
                .bind(s.plan_id)
                .bind(route_str(s.route))
                .bind(s.opened_by)
                .bind(s.opened_at)
                .bind(s.gate_outcome.map(gate_outcome_str))
                .bind(&s.gate)
                .bind(s.gate_by)
                .bind(s.gate_at)
                .bind(&s.discharge)
                .bind(s.discharged_by)
                .bind(s.discharged_at)
                .bind(s.state.as_ref().map(state_json))
                .bind(&s.dose_day_override),
            )
            .await?;
        Ok(())
    }

    async fn dosing_session_by_id(&mut self, id: DosingSessionId) -> StoreResult<Option<DosingSessionRecord>> {
        let q = sql(format!("SELECT {SESSION_COLUMNS} FROM dosing_sessions WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| session_from_row(&r)).transpose()
    }

    async fn dosing_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<DosingSessionRecord>> {
        self.sessions_where("patient_id = $1", Some(patient.into())).await
    }

    async fn open_dosing_sessions(&mut self) -> StoreResult<Vec<DosingSessionRecord>> {
        self.sessions_where("discharged_at IS NULL", None).await
    }

    async fn record_gate(
        &mut self,
        id: DosingSessionId,
        outcome: GateOutcome,
        gate: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let q = sql("UPDATE dosing_sessions SET gate_outcome = $1, gate = $2, gate_by = $3, gate_at = $4 \
                     WHERE id = $5 AND discharged_at IS NULL AND (gate_outcome IS NULL OR gate_outcome = 'defer')")
        .bind(gate_outcome_str(outcome))
        .bind(gate)
        .bind(by)
        .bind(at)
        .bind(id);
        if self.conn.execute(q).await? == 0 {
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
        let q = sql("UPDATE dosing_sessions SET discharge = $1, discharged_by = $2, discharged_at = $3 \
                     WHERE id = $4 AND discharged_at IS NULL")
        .bind(discharge)
        .bind(by)
        .bind(at)
        .bind(id);
        if self.conn.execute(q).await? == 0 {
            return Err(StoreError::Conflict { constraint: c::DOSING_SESSIONS_STATE.into() });
        }
        Ok(())
    }

    async fn insert_administration(&mut self, a: &AdministrationRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO dose_administrations ({ADMINISTRATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ))
                .bind(a.id)
                .bind(a.session_id)
                .bind(administration_json(&a.administration))
                .bind(a.recorded_by)
                .bind(a.at())
                .bind(a.recorded_at)
                .bind(a.late),
            )
            .await?;
        Ok(())
    }

    async fn administrations_for_session(
        &mut self,
        session: DosingSessionId,
    ) -> StoreResult<Vec<AdministrationRecord>> {
        let q = sql(format!(
            "SELECT {ADMINISTRATION_COLUMNS} FROM dose_administrations WHERE session_id = $1 ORDER BY at, id"
        ))
        .bind(session);
        self.conn.fetch_all(q).await?.iter().map(administration_from_row).collect()
    }

    async fn insert_vital(&mut self, v: &VitalRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO session_vitals ({VITAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                    .bind(v.id)
                    .bind(v.session_id)
                    .bind(reading_json(&v.reading))
                    .bind(v.taken_at)
                    .bind(v.recorded_by)
                    .bind(v.recorded_at)
                    .bind(v.late),
            )
            .await?;
        Ok(())
    }

    async fn vitals_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<VitalRecord>> {
        let q = sql(format!("SELECT {VITAL_COLUMNS} FROM session_vitals WHERE session_id = $1 ORDER BY taken_at, id"))
            .bind(session);
        self.conn.fetch_all(q).await?.iter().map(vital_from_row).collect()
    }

    async fn insert_alarm(&mut self, a: &AlarmRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO session_alarms ({ALARM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ))
                .bind(a.id)
                .bind(a.session_id)
                .bind(a.vital_id)
                .bind(a.rule.as_str())
                .bind(alarm_kind_str(a.kind))
                .bind(severity_str(a.severity))
                .bind(&a.content)
                .bind(a.raised_at)
                .bind(a.acknowledged_by)
                .bind(a.acknowledged_at)
                .bind(&a.action_taken),
            )
            .await?;
        Ok(())
    }

    async fn alarm_by_id(&mut self, id: SessionAlarmId) -> StoreResult<Option<AlarmRecord>> {
        let q = sql(format!("SELECT {ALARM_COLUMNS} FROM session_alarms WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| alarm_from_row(&r)).transpose()
    }

    async fn alarms_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<AlarmRecord>> {
        self.alarms_where("session_id = $1", Some(session.into())).await
    }

    async fn unacknowledged_alarms(&mut self) -> StoreResult<Vec<AlarmRecord>> {
        self.alarms_where("acknowledged_at IS NULL", None).await
    }

    async fn acknowledge_alarm(
        &mut self,
        id: SessionAlarmId,
        by: UserId,
        at: Timestamp,
        action: &str,
    ) -> StoreResult<()> {
        let q = sql("UPDATE session_alarms SET acknowledged_by = $1, acknowledged_at = $2, action_taken = $3 \
                     WHERE id = $4 AND acknowledged_at IS NULL")
        .bind(by)
        .bind(at)
        .bind(action)
        .bind(id);
        if self.conn.execute(q).await? == 0 {
            return Err(match self.alarm_by_id(id).await? {
                None => StoreError::NotFound,
                Some(_) => StoreError::Conflict { constraint: c::SESSION_ALARMS_ACKNOWLEDGED.into() },
            });
        }
        Ok(())
    }
}
