//! PostgreSQL implementation of [`MeasureRepo`] (migration `0003_measures.sql`).

use super::{PostgresConn, date_text, get, map_err, opt_ts, ts, us};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{AlertId, LinkId, PatientId, ResponseId, UserId};
use kat_core::instruments::Instrument;
use kat_core::measures::AlertAction;
use kat_store::measures::*;
use kat_store::{StoreError, StoreResult};
use sqlx::postgres::PgRow;

const RESPONSE_COLUMNS: &str = "id, patient_id, instrument, answers, source, entered_by, link_id, \
    collected_at, recorded_at, total, band, complete, flags, scoring_policy";
const LINK_COLUMNS: &str = "id, patient_id, token_hash, instruments, created_by, created_at, expires_at, used_at";
const ALERT_COLUMNS: &str = "id, patient_id, response_id, kind, raised_at, acknowledged_by, \
    acknowledged_at, action, note";
const PLAN_COLUMNS: &str =
    "patient_id, baseline_date, dose_dates, end_of_induction_date, include_pcl5, updated_by, updated_at";

fn response_from_row(row: &PgRow) -> StoreResult<ResponseRecord> {
    ResponseRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        instrument: get(row, "instrument")?,
        answers: get(row, "answers")?,
        source: get(row, "source")?,
        entered_by: get(row, "entered_by")?,
        link_id: get(row, "link_id")?,
        collected_at: ts(row, "collected_at")?,
        recorded_at: ts(row, "recorded_at")?,
        total: get::<Option<i32>>(row, "total")?.map(i64::from),
        band: get(row, "band")?,
        complete: get(row, "complete")?,
        flags: get(row, "flags")?,
        scoring_policy: get(row, "scoring_policy")?,
    }
    .into_domain()
}

fn link_from_row(row: &PgRow) -> StoreResult<SelfReportLink> {
    LinkRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        token_hash: get(row, "token_hash")?,
        instruments: get(row, "instruments")?,
        created_by: get(row, "created_by")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
        used_at: opt_ts(row, "used_at")?,
    }
    .into_domain()
}

fn alert_from_row(row: &PgRow) -> StoreResult<SafetyAlert> {
    AlertRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        response_id: get(row, "response_id")?,
        kind: get(row, "kind")?,
        raised_at: ts(row, "raised_at")?,
        acknowledged_by: get(row, "acknowledged_by")?,
        acknowledged_at: opt_ts(row, "acknowledged_at")?,
        action: get(row, "action")?,
        note: get(row, "note")?,
    }
    .into_domain()
}

fn date_col(row: &PgRow, col: &str) -> StoreResult<Option<jiff::civil::Date>> {
    Ok(get::<Option<jiff_sqlx::Date>>(row, col)?.map(|d| d.to_jiff()))
}

fn plan_from_row(row: &PgRow) -> StoreResult<MeasurementPlan> {
    PlanRow {
        patient_id: get(row, "patient_id")?,
        baseline_date: date_col(row, "baseline_date")?
            .ok_or_else(|| StoreError::Corrupt("baseline date missing".into()))?,
        dose_dates: get(row, "dose_dates")?,
        end_of_induction_date: date_col(row, "end_of_induction_date")?,
        include_pcl5: get(row, "include_pcl5")?,
        updated_by: get(row, "updated_by")?,
        updated_at: ts(row, "updated_at")?,
    }
    .into_domain()
}

#[async_trait]
impl MeasureRepo for PostgresConn {
    async fn insert_response(&mut self, r: &ResponseRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO measure_responses (id, patient_id, instrument, answers, source, entered_by, \
             link_id, collected_at, recorded_at, total, band, complete, flags, scoring_policy) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(r.id.as_uuid())
        .bind(r.patient_id.as_uuid())
        .bind(r.response.instrument().as_str())
        .bind(answers_to_json(r.response.answers()))
        .bind(r.source.as_str())
        .bind(r.entered_by.map(|u| u.as_uuid()))
        .bind(r.link_id.map(|l| l.as_uuid()))
        .bind(us(r.collected_at))
        .bind(us(r.recorded_at))
        .bind(r.total.map(i32::from))
        .bind(&r.band)
        .bind(r.complete)
        .bind(join_names(r.flags.iter().map(String::as_str)))
        .bind(&r.scoring_policy)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn response_by_id(&mut self, id: ResponseId) -> StoreResult<Option<ResponseRecord>> {
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| response_from_row(&r))
            .transpose()
    }

    async fn responses_for_patient(
        &mut self,
        patient: PatientId,
        instrument: Option<Instrument>,
    ) -> StoreResult<Vec<ResponseRecord>> {
        let sql = format!(
            "SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE patient_id = $1 \
             AND ($2::TEXT IS NULL OR instrument = $2) ORDER BY collected_at, id"
        );
        let name = instrument.map(|i| i.as_str());
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(patient.as_uuid())
            .bind(name)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(response_from_row)
            .collect()
    }

    async fn insert_link(&mut self, l: &SelfReportLink) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO self_report_links (id, patient_id, token_hash, instruments, created_by, \
             created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(l.id.as_uuid())
        .bind(l.patient_id.as_uuid())
        .bind(&l.token_hash)
        .bind(join_names(l.instruments.iter().map(|i| i.as_str())))
        .bind(l.created_by.map(|u| u.as_uuid()))
        .bind(us(l.created_at))
        .bind(us(l.expires_at))
        .bind(l.used_at.map(us))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<SelfReportLink>> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM self_report_links WHERE token_hash = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| link_from_row(&r))
            .transpose()
    }

    async fn mark_link_used(&mut self, id: LinkId, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE self_report_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(us(at))
            .bind(id.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_alert(&mut self, a: &SafetyAlert) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO safety_alerts (id, patient_id, response_id, kind, raised_at, acknowledged_by, \
             acknowledged_at, action, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(a.id.as_uuid())
        .bind(a.patient_id.as_uuid())
        .bind(a.response_id.as_uuid())
        .bind(a.kind.as_str())
        .bind(us(a.raised_at))
        .bind(a.acknowledged_by.map(|u| u.as_uuid()))
        .bind(a.acknowledged_at.map(us))
        .bind(a.action.map(|x| x.as_str()))
        .bind(&a.note)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn alert_by_id(&mut self, id: AlertId) -> StoreResult<Option<SafetyAlert>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM safety_alerts WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| alert_from_row(&r))
            .transpose()
    }

    async fn open_alerts(&mut self) -> StoreResult<Vec<SafetyAlert>> {
        let sql =
            format!("SELECT {ALERT_COLUMNS} FROM safety_alerts WHERE acknowledged_at IS NULL ORDER BY raised_at, id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(alert_from_row)
            .collect()
    }

    async fn count_open_alerts(&mut self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM safety_alerts WHERE acknowledged_at IS NULL")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    async fn alerts_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<SafetyAlert>> {
        let sql =
            format!("SELECT {ALERT_COLUMNS} FROM safety_alerts WHERE patient_id = $1 ORDER BY raised_at DESC, id DESC");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(patient.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(alert_from_row)
            .collect()
    }

    async fn acknowledge_alert(
        &mut self,
        id: AlertId,
        by: Option<UserId>,
        at: Timestamp,
        action: AlertAction,
        note: Option<&str>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE safety_alerts SET acknowledged_by = $1, acknowledged_at = $2, action = $3, note = $4 \
             WHERE id = $5 AND acknowledged_at IS NULL",
        )
        .bind(by.map(|u| u.as_uuid()))
        .bind(us(at))
        .bind(action.as_str())
        .bind(note)
        .bind(id.as_uuid())
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return match self.alert_by_id(id).await? {
                Some(_) => Err(StoreError::StaleVersion),
                None => Err(StoreError::NotFound),
            };
        }
        Ok(())
    }

    async fn plan_for_patient(&mut self, patient: PatientId) -> StoreResult<Option<MeasurementPlan>> {
        let sql = format!("SELECT {PLAN_COLUMNS} FROM measurement_plans WHERE patient_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(patient.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| plan_from_row(&r))
            .transpose()
    }

    async fn upsert_plan(&mut self, p: &MeasurementPlan) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO measurement_plans (patient_id, baseline_date, dose_dates, end_of_induction_date, \
             include_pcl5, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (patient_id) DO UPDATE SET baseline_date = excluded.baseline_date, \
             dose_dates = excluded.dose_dates, end_of_induction_date = excluded.end_of_induction_date, \
             include_pcl5 = excluded.include_pcl5, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(p.patient_id.as_uuid())
        .bind(date_text(p.anchors.baseline))
        .bind(dates_to_text(&p.anchors.dose_dates))
        .bind(p.anchors.end_of_induction.map(date_text))
        .bind(p.anchors.include_pcl5)
        .bind(p.updated_by.map(|u| u.as_uuid()))
        .bind(us(p.updated_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_plans(&mut self) -> StoreResult<Vec<MeasurementPlan>> {
        let sql = format!("SELECT {PLAN_COLUMNS} FROM measurement_plans ORDER BY baseline_date, patient_id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(plan_from_row)
            .collect()
    }
}
