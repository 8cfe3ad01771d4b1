//! The measures repository (`MeasureRepo`, migration `0003_measures.sql`): responses,
//! self-report links, safety alerts and measurement plans.

use crate::SqlTx;
use crate::dialect::{Conn, SqlRow, get, sql};
use crate::foundation::scalar;
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{AlertId, LinkId, PatientId, ResponseId, UserId};
use kat_core::instruments::Instrument;
use kat_core::measures::AlertAction;
use kat_store::measures::*;
use kat_store::{StoreError, StoreResult};

const RESPONSE_COLUMNS: &str = "id, patient_id, instrument, answers, source, entered_by, link_id, \
    collected_at, recorded_at, total, band, complete, flags, scoring_policy";
const LINK_COLUMNS: &str = "id, patient_id, token_hash, instruments, created_by, created_at, expires_at, used_at";
const ALERT_COLUMNS: &str = "id, patient_id, response_id, kind, raised_at, acknowledged_by, \
    acknowledged_at, action, note";
const PLAN_COLUMNS: &str =
    "patient_id, baseline_date, dose_dates, end_of_induction_date, include_pcl5, updated_by, updated_at";

fn response_from_row(row: &impl SqlRow) -> StoreResult<ResponseRecord> {
    ResponseRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        instrument: get(row, "instrument")?,
        answers: get(row, "answers")?,
        source: get(row, "source")?,
        entered_by: get(row, "entered_by")?,
        link_id: get(row, "link_id")?,
        collected_at: get(row, "collected_at")?,
        recorded_at: get(row, "recorded_at")?,
        total: get(row, "total")?,
        band: get(row, "band")?,
        complete: get(row, "complete")?,
        flags: get(row, "flags")?,
        scoring_policy: get(row, "scoring_policy")?,
    }
    .into_domain()
}

fn link_from_row(row: &impl SqlRow) -> StoreResult<SelfReportLink> {
    LinkRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        token_hash: get(row, "token_hash")?,
        instruments: get(row, "instruments")?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        used_at: get(row, "used_at")?,
    }
    .into_domain()
}

fn alert_from_row(row: &impl SqlRow) -> StoreResult<SafetyAlert> {
    AlertRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        response_id: get(row, "response_id")?,
        kind: get(row, "kind")?,
        raised_at: get(row, "raised_at")?,
        acknowledged_by: get(row, "acknowledged_by")?,
        acknowledged_at: get(row, "acknowledged_at")?,
        action: get(row, "action")?,
        note: get(row, "note")?,
    }
    .into_domain()
}

fn plan_from_row(row: &impl SqlRow) -> StoreResult<MeasurementPlan> {
    PlanRow {
        patient_id: get(row, "patient_id")?,
        baseline_date: get(row, "baseline_date")?,
        dose_dates: get(row, "dose_dates")?,
        end_of_induction_date: get(row, "end_of_induction_date")?,
        include_pcl5: get(row, "include_pcl5")?,
        updated_by: get(row, "updated_by")?,
        updated_at: get(row, "updated_at")?,
    }
    .into_domain()
}

#[async_trait]
impl<C: Conn> MeasureRepo for SqlTx<C> {
    async fn insert_response(&mut self, r: &ResponseRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO measure_responses ({RESPONSE_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ))
                .bind(r.id)
                .bind(r.patient_id)
                .bind(r.response.instrument().as_str())
                .bind(answers_to_json(r.response.answers()))
                .bind(r.source.as_str())
                .bind(r.entered_by)
                .bind(r.link_id)
                .bind(r.collected_at)
                .bind(r.recorded_at)
                .bind(r.total.map(i64::from))
                .bind(&r.band)
                .bind(r.complete)
                .bind(join_names(r.flags.iter().map(String::as_str)))
                .bind(&r.scoring_policy),
            )
            .await?;
        Ok(())
    }

    async fn response_by_id(&mut self, id: ResponseId) -> StoreResult<Option<ResponseRecord>> {
        let q = sql(format!("SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| response_from_row(&r)).transpose()
    }

    async fn responses_for_patient(
        &mut self,
        patient: PatientId,
        instrument: Option<Instrument>,
    ) -> StoreResult<Vec<ResponseRecord>> {
        let q = sql(format!(
            "SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE patient_id = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR instrument = $2) ORDER BY collected_at, id"
        ))
        .bind(patient)
        .bind(instrument.map(|i| i.as_str()));
        self.conn.fetch_all(q).await?.iter().map(response_from_row).collect()
    }

    async fn insert_link(&mut self, l: &SelfReportLink) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO self_report_links ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                    .bind(l.id)
                    .bind(l.patient_id)
                    .bind(&l.token_hash)
                    .bind(join_names(l.instruments.iter().map(|i| i.as_str())))
                    .bind(l.created_by)
                    .bind(l.created_at)
                    .bind(l.expires_at)
                    .bind(l.used_at),
            )
            .await?;
        Ok(())
    }

    async fn link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<SelfReportLink>> {
        let q = sql(format!("SELECT {LINK_COLUMNS} FROM self_report_links WHERE token_hash = $1")).bind(token_hash);
        self.conn.fetch_optional(q).await?.map(|r| link_from_row(&r)).transpose()
    }

    async fn mark_link_used(&mut self, id: LinkId, at: Timestamp) -> StoreResult<bool> {
        let q = sql("UPDATE self_report_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL").bind(at).bind(id);
        Ok(self.conn.execute(q).await? == 1)
    }

    async fn insert_alert(&mut self, a: &SafetyAlert) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO safety_alerts ({ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                    .bind(a.id)
                    .bind(a.patient_id)
                    .bind(a.response_id)
                    .bind(a.kind.as_str())
                    .bind(a.raised_at)
                    .bind(a.acknowledged_by)
                    .bind(a.acknowledged_at)
                    .bind(a.action.map(|x| x.as_str()))
                    .bind(&a.note),
            )
            .await?;
        Ok(())
    }

    async fn alert_by_id(&mut self, id: AlertId) -> StoreResult<Option<SafetyAlert>> {
        let q = sql(format!("SELECT {ALERT_COLUMNS} FROM safety_alerts WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| alert_from_row(&r)).transpose()
    }

    async fn open_alerts(&mut self) -> StoreResult<Vec<SafetyAlert>> {
        let q = sql(format!(
            "SELECT {ALERT_COLUMNS} FROM safety_alerts WHERE acknowledged_at IS NULL ORDER BY raised_at, id"
        ));
        self.conn.fetch_all(q).await?.iter().map(alert_from_row).collect()
    }

    async fn count_open_alerts(&mut self) -> StoreResult<i64> {
        scalar(&mut self.conn, sql("SELECT COUNT(*) AS n FROM safety_alerts WHERE acknowledged_at IS NULL")).await
    }

    async fn alerts_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<SafetyAlert>> {
        let q = sql(format!(
            "SELECT {ALERT_COLUMNS} FROM safety_alerts WHERE patient_id = $1 ORDER BY raised_at DESC, id DESC"
        ))
        .bind(patient);
        self.conn.fetch_all(q).await?.iter().map(alert_from_row).collect()
    }

    async fn acknowledge_alert(
        &mut self,
        id: AlertId,
        by: Option<UserId>,
        at: Timestamp,
        action: AlertAction,
        note: Option<&str>,
    ) -> StoreResult<()> {
        let q = sql("UPDATE safety_alerts SET acknowledged_by = $1, acknowledged_at = $2, action = $3, note = $4 \
                     WHERE id = $5 AND acknowledged_at IS NULL")
        .bind(by)
        .bind(at)
        .bind(action.as_str())
        .bind(note)
        .bind(id);
        if self.conn.execute(q).await? == 0 {
            return match self.alert_by_id(id).await? {
                Some(_) => Err(StoreError::StaleVersion),
                None => Err(StoreError::NotFound),
            };
        }
        Ok(())
    }

    async fn plan_for_patient(&mut self, patient: PatientId) -> StoreResult<Option<MeasurementPlan>> {
        let q = sql(format!("SELECT {PLAN_COLUMNS} FROM measurement_plans WHERE patient_id = $1")).bind(patient);
        self.conn.fetch_optional(q).await?.map(|r| plan_from_row(&r)).transpose()
    }

    async fn upsert_plan(&mut self, p: &MeasurementPlan) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO measurement_plans ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (patient_id) DO UPDATE SET baseline_date = excluded.baseline_date, \
                     dose_dates = excluded.dose_dates, end_of_induction_date = excluded.end_of_induction_date, \
                     include_pcl5 = excluded.include_pcl5, updated_by = excluded.updated_by, \
                     updated_at = excluded.updated_at"
                ))
                .bind(p.patient_id)
                .bind(p.anchors.baseline)
                .bind(dates_to_text(&p.anchors.dose_dates))
                .bind(p.anchors.end_of_induction)
                .bind(p.anchors.include_pcl5)
                .bind(p.updated_by)
                .bind(p.updated_at),
            )
            .await?;
        Ok(())
    }

    async fn list_plans(&mut self) -> StoreResult<Vec<MeasurementPlan>> {
        let q = sql(format!("SELECT {PLAN_COLUMNS} FROM measurement_plans ORDER BY baseline_date, patient_id"));
        self.conn.fetch_all(q).await?.iter().map(plan_from_row).collect()
    }
}
