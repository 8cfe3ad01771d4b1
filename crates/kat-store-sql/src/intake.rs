//! The intake and eligibility repository (`IntakeRepo`, migration `0002_intake.sql`).

use crate::SqlTx;
use crate::dialect::{Conn, SqlRow, get, sql};
use crate::foundation::scalar;
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::eligibility::EligibilityPolicy;
use kat_core::eligibility::answers::IntakeAnswers;
use kat_core::ids::{PatientId, UserId};
use kat_store::intake::*;
use kat_store::{IntakeRepo, StoreError, StoreResult};
use uuid::Uuid;

pub(crate) const INTAKE_COLUMNS: &str = "patient_id, version, answers_json, complete, section, saved_at, saved_by";
const POLICY_COLUMNS: &str = "version, policy_json, created_at, created_by";
const EVALUATION_COLUMNS: &str = "id, patient_id, intake_version, policy_version, status, result_json, evaluated_at";
const DECISION_COLUMNS: &str = "id, patient_id, evaluation_id, decision, reasons_json, override_reason, \
    override_by, signed_by, signed_at, stale";
const FLAG_COLUMNS: &str =
    "id, patient_id, evaluation_id, reasons_json, raised_at, disposition, disposed_by, disposed_at";

pub(crate) fn intake_from_row(r: &impl SqlRow) -> StoreResult<IntakeVersionRecord> {
    Ok(IntakeVersionRecord {
        patient_id: get(r, "patient_id")?,
        version: get(r, "version")?,
        answers: answers_from_json(&get::<String, _>(r, "answers_json")?)?,
        complete: get(r, "complete")?,
        section: get(r, "section")?,
        saved_at: get(r, "saved_at")?,
        saved_by: get(r, "saved_by")?,
    })
}

fn policy_from_row(r: &impl SqlRow) -> StoreResult<PolicyRecord> {
    Ok(PolicyRecord {
        version: get(r, "version")?,
        policy: policy_from_json(&get::<String, _>(r, "policy_json")?)?,
        created_at: get(r, "created_at")?,
        created_by: get(r, "created_by")?,
    })
}

fn evaluation_from_row(r: &impl SqlRow) -> StoreResult<EvaluationRecord> {
    Ok(EvaluationRecord {
        id: get(r, "id")?,
        patient_id: get(r, "patient_id")?,
        intake_version: get(r, "intake_version")?,
        policy_version: get(r, "policy_version")?,
        status: get(r, "status")?,
        result_json: get(r, "result_json")?,
        evaluated_at: get(r, "evaluated_at")?,
    })
}

fn decision_from_row(r: &impl SqlRow) -> StoreResult<DecisionRecord> {
    Ok(DecisionRecord {
        id: get(r, "id")?,
        patient_id: get(r, "patient_id")?,
        evaluation_id: get(r, "evaluation_id")?,
        decision: get(r, "decision")?,
        reasons_json: get(r, "reasons_json")?,
        override_reason: get(r, "override_reason")?,
        override_by: get(r, "override_by")?,
        signed_by: get(r, "signed_by")?,
        signed_at: get(r, "signed_at")?,
        stale: get(r, "stale")?,
    })
}

fn flag_from_row(r: &impl SqlRow) -> StoreResult<SameDayFlagRecord> {
    Ok(SameDayFlagRecord {
        id: get(r, "id")?,
        patient_id: get(r, "patient_id")?,
        evaluation_id: get(r, "evaluation_id")?,
        reasons_json: get(r, "reasons_json")?,
        raised_at: get(r, "raised_at")?,
        disposition: get(r, "disposition")?,
        disposed_by: get(r, "disposed_by")?,
        disposed_at: get(r, "disposed_at")?,
    })
}

#[async_trait]
impl<C: Conn> IntakeRepo for SqlTx<C> {
    async fn insert_intake_version(
        &mut self,
        patient_id: PatientId,
        answers: &IntakeAnswers,
        complete: bool,
        section: &str,
        at: Timestamp,
        by: Option<UserId>,
    ) -> StoreResult<IntakeVersionRecord> {
        let q = sql("SELECT COALESCE(MAX(version), 0) + 1 AS n FROM intake_versions WHERE patient_id = $1")
            .bind(patient_id);
        let next = scalar(&mut self.conn, q).await?;
        self.conn
            .execute(
                sql(format!("INSERT INTO intake_versions ({INTAKE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                    .bind(patient_id)
                    .bind(next)
                    .bind(answers_to_json(answers))
                    .bind(complete)
                    .bind(section)
                    .bind(at)
                    .bind(by),
            )
            .await?;
        Ok(IntakeVersionRecord {
            patient_id,
            version: next,
            answers: answers.clone(),
            complete,
            section: section.to_string(),
            saved_at: at,
            saved_by: by,
        })
    }

    async fn latest_intake(&mut self, patient_id: PatientId) -> StoreResult<Option<IntakeVersionRecord>> {
        let q = sql(format!(
            "SELECT {INTAKE_COLUMNS} FROM intake_versions WHERE patient_id = $1 ORDER BY version DESC LIMIT 1"
        ))
        .bind(patient_id);
        self.conn.fetch_optional(q).await?.map(|r| intake_from_row(&r)).transpose()
    }

    async fn intake_history(&mut self, patient_id: PatientId) -> StoreResult<Vec<IntakeVersionRecord>> {
        let q =
            sql(format!("SELECT {INTAKE_COLUMNS} FROM intake_versions WHERE patient_id = $1 ORDER BY version DESC"))
                .bind(patient_id);
        self.conn.fetch_all(q).await?.iter().map(intake_from_row).collect()
    }

    async fn insert_policy(
        &mut self,
        policy: &EligibilityPolicy,
        at: Timestamp,
        by: Option<UserId>,
    ) -> StoreResult<PolicyRecord> {
        let next =
            scalar(&mut self.conn, sql("SELECT COALESCE(MAX(version), 0) + 1 AS n FROM eligibility_policies")).await?;
        self.conn
            .execute(
                sql(format!("INSERT INTO eligibility_policies ({POLICY_COLUMNS}) VALUES ($1, $2, $3, $4)"))
                    .bind(next)
                    .bind(policy_to_json(policy))
                    .bind(at)
                    .bind(by),
            )
            .await?;
        Ok(PolicyRecord { version: next, policy: policy.clone(), created_at: at, created_by: by })
    }

    async fn current_policy(&mut self) -> StoreResult<Option<PolicyRecord>> {
        let q = sql(format!("SELECT {POLICY_COLUMNS} FROM eligibility_policies ORDER BY version DESC LIMIT 1"));
        self.conn.fetch_optional(q).await?.map(|r| policy_from_row(&r)).transpose()
    }

    async fn policy_history(&mut self) -> StoreResult<Vec<PolicyRecord>> {
        let q = sql(format!("SELECT {POLICY_COLUMNS} FROM eligibility_policies ORDER BY version DESC"));
        self.conn.fetch_all(q).await?.iter().map(policy_from_row).collect()
    }

    async fn insert_evaluation(&mut self, e: &EvaluationRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO eligibility_evaluations ({EVALUATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ))
                .bind(e.id)
                .bind(e.patient_id)
                .bind(e.intake_version)
                .bind(e.policy_version)
                .bind(&e.status)
                .bind(&e.result_json)
                .bind(e.evaluated_at),
            )
            .await?;
        Ok(())
    }

    async fn latest_evaluation(&mut self, patient_id: PatientId) -> StoreResult<Option<EvaluationRecord>> {
        let q = sql(format!(
            "SELECT {EVALUATION_COLUMNS} FROM eligibility_evaluations WHERE patient_id = $1 \
             ORDER BY evaluated_at DESC, id DESC LIMIT 1"
        ))
        .bind(patient_id);
        self.conn.fetch_optional(q).await?.map(|r| evaluation_from_row(&r)).transpose()
    }

    async fn evaluation_by_id(&mut self, id: Uuid) -> StoreResult<Option<EvaluationRecord>> {
        let q = sql(format!("SELECT {EVALUATION_COLUMNS} FROM eligibility_evaluations WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| evaluation_from_row(&r)).transpose()
    }

    async fn patients_with_intake(&mut self) -> StoreResult<Vec<PatientId>> {
        let q = sql("SELECT DISTINCT patient_id FROM intake_versions ORDER BY patient_id");
        self.conn.fetch_all(q).await?.iter().map(|r| get(r, "patient_id")).collect()
    }

    async fn insert_decision(&mut self, d: &DecisionRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO eligibility_decisions ({DECISION_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ))
                .bind(d.id)
                .bind(d.patient_id)
                .bind(d.evaluation_id)
                .bind(&d.decision)
                .bind(&d.reasons_json)
                .bind(&d.override_reason)
                .bind(d.override_by)
                .bind(d.signed_by)
                .bind(d.signed_at)
                .bind(d.stale),
            )
            .await?;
        Ok(())
    }

    async fn latest_decision(&mut self, patient_id: PatientId) -> StoreResult<Option<DecisionRecord>> {
        let q = sql(format!(
            "SELECT {DECISION_COLUMNS} FROM eligibility_decisions WHERE patient_id = $1 \
             ORDER BY signed_at DESC, id DESC LIMIT 1"
        ))
        .bind(patient_id);
        self.conn.fetch_optional(q).await?.map(|r| decision_from_row(&r)).transpose()
    }

    async fn mark_decisions_stale(&mut self, patient_id: PatientId) -> StoreResult<u64> {
        let q = sql("UPDATE eligibility_decisions SET stale = TRUE WHERE patient_id = $1 AND stale = FALSE")
            .bind(patient_id);
        self.conn.execute(q).await
    }

    async fn insert_same_day_flag(&mut self, f: &SameDayFlagRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO same_day_reviews ({FLAG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                    .bind(f.id)
                    .bind(f.patient_id)
                    .bind(f.evaluation_id)
                    .bind(&f.reasons_json)
                    .bind(f.raised_at)
                    .bind(&f.disposition)
                    .bind(f.disposed_by)
                    .bind(f.disposed_at),
            )
            .await?;
        Ok(())
    }

    async fn open_same_day_flags(&mut self) -> StoreResult<Vec<SameDayFlagRecord>> {
        let q =
            sql(format!("SELECT {FLAG_COLUMNS} FROM same_day_reviews WHERE disposition IS NULL ORDER BY raised_at"));
        self.conn.fetch_all(q).await?.iter().map(flag_from_row).collect()
    }

    async fn count_open_same_day_flags(&mut self) -> StoreResult<i64> {
        scalar(&mut self.conn, sql("SELECT COUNT(*) AS n FROM same_day_reviews WHERE disposition IS NULL")).await
    }

    async fn dispose_same_day_flag(
        &mut self,
        id: Uuid,
        disposition: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let q = sql("UPDATE same_day_reviews SET disposition = $1, disposed_by = $2, disposed_at = $3 \
                     WHERE id = $4 AND disposition IS NULL")
        .bind(disposition)
        .bind(by)
        .bind(at)
        .bind(id);
        if self.conn.execute(q).await? == 0 {
            let exists =
                scalar(&mut self.conn, sql("SELECT COUNT(*) AS n FROM same_day_reviews WHERE id = $1").bind(id))
                    .await?;
            return Err(if exists == 0 { StoreError::NotFound } else { StoreError::StaleVersion });
        }
        Ok(())
    }

    async fn set_medical_director(&mut self, user: UserId, yes: bool) -> StoreResult<()> {
        let q = sql("UPDATE users SET medical_director = $1 WHERE id = $2").bind(yes).bind(user);
        if self.conn.execute(q).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn is_medical_director(&mut self, user: UserId) -> StoreResult<bool> {
        let row = self.conn.fetch_optional(sql("SELECT medical_director FROM users WHERE id = $1").bind(user)).await?;
        match row {
            Some(r) => get(&r, "medical_director"),
            None => Err(StoreError::NotFound),
        }
    }
}
