//! The intake and eligibility repository on SQLite (`IntakeRepo`).

use super::{SqliteConn, get, map_err, opt_ts_at as ot, ts_at as t, us};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::eligibility::EligibilityPolicy;
use kat_core::eligibility::answers::IntakeAnswers;
use kat_core::ids::{PatientId, UserId};
use kat_store::intake::*;
use kat_store::{IntakeRepo, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

fn flag(r: &SqliteRow, col: &str) -> StoreResult<bool> {
    Ok(get::<i64>(r, col)? != 0)
}

fn bind_ts(at: Timestamp) -> i64 {
    us(at)
}

fn bind_bool(b: bool) -> i64 {
    i64::from(b)
}

#[async_trait]
impl IntakeRepo for SqliteConn {
    async fn insert_intake_version(
        &mut self,
        patient_id: PatientId,
        answers: &IntakeAnswers,
        complete: bool,
        section: &str,
        at: Timestamp,
        by: Option<UserId>,
    ) -> StoreResult<IntakeVersionRecord> {
        let next: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM intake_versions WHERE patient_id = ?")
                .bind(patient_id.as_uuid())
                .fetch_one(&mut *self.tx)
                .await
                .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO intake_versions (patient_id, version, answers_json, complete, section, saved_at, saved_by) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(patient_id.as_uuid())
        .bind(next)
        .bind(answers_to_json(answers))
        .bind(bind_bool(complete))
        .bind(section)
        .bind(bind_ts(at))
        .bind(by.map(|u| u.as_uuid()))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
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
        sqlx::query(
            "SELECT patient_id, version, answers_json, complete, section, saved_at, saved_by FROM intake_versions \
             WHERE patient_id = ? ORDER BY version DESC LIMIT 1",
        )
        .bind(patient_id.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_err)?
        .map(|r| intake_from_row(&r))
        .transpose()
    }

    async fn intake_history(&mut self, patient_id: PatientId) -> StoreResult<Vec<IntakeVersionRecord>> {
        sqlx::query(
            "SELECT patient_id, version, answers_json, complete, section, saved_at, saved_by FROM intake_versions \
             WHERE patient_id = ? ORDER BY version DESC",
        )
        .bind(patient_id.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(intake_from_row)
        .collect()
    }

    async fn insert_policy(
        &mut self,
        policy: &EligibilityPolicy,
        at: Timestamp,
        by: Option<UserId>,
    ) -> StoreResult<PolicyRecord> {
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM eligibility_policies")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO eligibility_policies (version, policy_json, created_at, created_by) VALUES (?, ?, ?, ?)",
        )
        .bind(next)
        .bind(policy_to_json(policy))
        .bind(bind_ts(at))
        .bind(by.map(|u| u.as_uuid()))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(PolicyRecord { version: next, policy: policy.clone(), created_at: at, created_by: by })
    }

    async fn current_policy(&mut self) -> StoreResult<Option<PolicyRecord>> {
        let row = sqlx::query(
            "SELECT version, policy_json, created_at, created_by FROM eligibility_policies ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_err)?;
        row.map(|r| {
            Ok(PolicyRecord {
                version: get(&r, "version")?,
                policy: policy_from_json(&get::<String>(&r, "policy_json")?)?,
                created_at: t(&r, "created_at")?,
                created_by: get::<Option<Uuid>>(&r, "created_by")?.map(UserId::from_uuid),
            })
        })
        .transpose()
    }

    async fn policy_history(&mut self) -> StoreResult<Vec<PolicyRecord>> {
        let rows = sqlx::query(
            "SELECT version, policy_json, created_at, created_by FROM eligibility_policies ORDER BY version DESC",
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(PolicyRecord {
                    version: get(r, "version")?,
                    policy: policy_from_json(&get::<String>(r, "policy_json")?)?,
                    created_at: t(r, "created_at")?,
                    created_by: get::<Option<Uuid>>(r, "created_by")?.map(UserId::from_uuid),
                })
            })
            .collect()
    }

    async fn insert_evaluation(&mut self, e: &EvaluationRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO eligibility_evaluations (id, patient_id, intake_version, policy_version, status, result_json, evaluated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(e.id)
        .bind(e.patient_id.as_uuid())
        .bind(e.intake_version)
        .bind(e.policy_version)
        .bind(&e.status)
        .bind(&e.result_json)
        .bind(bind_ts(e.evaluated_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn latest_evaluation(&mut self, patient_id: PatientId) -> StoreResult<Option<EvaluationRecord>> {
        sqlx::query(
            "SELECT id, patient_id, intake_version, policy_version, status, result_json, evaluated_at \
             FROM eligibility_evaluations WHERE patient_id = ? ORDER BY evaluated_at DESC, id DESC LIMIT 1",
        )
        .bind(patient_id.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_err)?
        .map(|r| evaluation_from_row(&r))
        .transpose()
    }

    async fn evaluation_by_id(&mut self, id: Uuid) -> StoreResult<Option<EvaluationRecord>> {
        sqlx::query(
            "SELECT id, patient_id, intake_version, policy_version, status, result_json, evaluated_at \
             FROM eligibility_evaluations WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_err)?
        .map(|r| evaluation_from_row(&r))
        .transpose()
    }

    async fn patients_with_intake(&mut self) -> StoreResult<Vec<PatientId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT patient_id FROM intake_versions ORDER BY patient_id")
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(ids.into_iter().map(PatientId::from_uuid).collect())
    }

    async fn insert_decision(&mut self, d: &DecisionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO eligibility_decisions (id, patient_id, evaluation_id, decision, reasons_json, override_reason, \
             override_by, signed_by, signed_at, stale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(d.id)
        .bind(d.patient_id.as_uuid())
        .bind(d.evaluation_id)
        .bind(&d.decision)
        .bind(&d.reasons_json)
        .bind(&d.override_reason)
        .bind(d.override_by.map(|u| u.as_uuid()))
        .bind(d.signed_by.as_uuid())
        .bind(bind_ts(d.signed_at))
        .bind(bind_bool(d.stale))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn latest_decision(&mut self, patient_id: PatientId) -> StoreResult<Option<DecisionRecord>> {
        let row = sqlx::query(
            "SELECT id, patient_id, evaluation_id, decision, reasons_json, override_reason, override_by, signed_by, \
             signed_at, stale FROM eligibility_decisions WHERE patient_id = ? ORDER BY signed_at DESC, id DESC LIMIT 1",
        )
        .bind(patient_id.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_err)?;
        row.map(|r| {
            Ok(DecisionRecord {
                id: get(&r, "id")?,
                patient_id: PatientId::from_uuid(get(&r, "patient_id")?),
                evaluation_id: get(&r, "evaluation_id")?,
                decision: get(&r, "decision")?,
                reasons_json: get(&r, "reasons_json")?,
                override_reason: get(&r, "override_reason")?,
                override_by: get::<Option<Uuid>>(&r, "override_by")?.map(UserId::from_uuid),
                signed_by: UserId::from_uuid(get(&r, "signed_by")?),
                signed_at: t(&r, "signed_at")?,
                stale: flag(&r, "stale")?,
            })
        })
        .transpose()
    }

    async fn mark_decisions_stale(&mut self, patient_id: PatientId) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE eligibility_decisions SET stale = ? WHERE patient_id = ? AND stale = ?")
            .bind(bind_bool(true))
            .bind(patient_id.as_uuid())
            .bind(bind_bool(false))
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn insert_same_day_flag(&mut self, f: &SameDayFlagRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO same_day_reviews (id, patient_id, evaluation_id, reasons_json, raised_at, disposition, disposed_by, disposed_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(f.id)
        .bind(f.patient_id.as_uuid())
        .bind(f.evaluation_id)
        .bind(&f.reasons_json)
        .bind(bind_ts(f.raised_at))
        .bind(&f.disposition)
        .bind(f.disposed_by.map(|u| u.as_uuid()))
        .bind(f.disposed_at.map(bind_ts))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn open_same_day_flags(&mut self) -> StoreResult<Vec<SameDayFlagRecord>> {
        sqlx::query(
            "SELECT id, patient_id, evaluation_id, reasons_json, raised_at, disposition, disposed_by, disposed_at \
             FROM same_day_reviews WHERE disposition IS NULL ORDER BY raised_at",
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(flag_from_row)
        .collect()
    }

    async fn count_open_same_day_flags(&mut self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM same_day_reviews WHERE disposition IS NULL")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    async fn dispose_same_day_flag(
        &mut self,
        id: Uuid,
        disposition: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE same_day_reviews SET disposition = ?, disposed_by = ?, disposed_at = ? WHERE id = ? AND disposition IS NULL",
        )
        .bind(disposition)
        .bind(by.as_uuid())
        .bind(bind_ts(at))
        .bind(id)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM same_day_reviews WHERE id = ?")
                .bind(id)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(map_err)?;
            return Err(if exists == 0 { StoreError::NotFound } else { StoreError::StaleVersion });
        }
        Ok(())
    }

    async fn set_medical_director(&mut self, user: UserId, yes: bool) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET medical_director = ? WHERE id = ?")
            .bind(bind_bool(yes))
            .bind(user.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn is_medical_director(&mut self, user: UserId) -> StoreResult<bool> {
        let row = sqlx::query("SELECT medical_director FROM users WHERE id = ?")
            .bind(user.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?;
        match row {
            Some(r) => flag(&r, "medical_director"),
            None => Err(StoreError::NotFound),
        }
    }
}

fn intake_from_row(r: &SqliteRow) -> StoreResult<IntakeVersionRecord> {
    Ok(IntakeVersionRecord {
        patient_id: PatientId::from_uuid(get(r, "patient_id")?),
        version: get(r, "version")?,
        answers: answers_from_json(&get::<String>(r, "answers_json")?)?,
        complete: flag(r, "complete")?,
        section: get(r, "section")?,
        saved_at: t(r, "saved_at")?,
        saved_by: get::<Option<Uuid>>(r, "saved_by")?.map(UserId::from_uuid),
    })
}

fn evaluation_from_row(r: &SqliteRow) -> StoreResult<EvaluationRecord> {
    Ok(EvaluationRecord {
        id: get(r, "id")?,
        patient_id: PatientId::from_uuid(get(r, "patient_id")?),
        intake_version: get(r, "intake_version")?,
        policy_version: get(r, "policy_version")?,
        status: get(r, "status")?,
        result_json: get(r, "result_json")?,
        evaluated_at: t(r, "evaluated_at")?,
    })
}

fn flag_from_row(r: &SqliteRow) -> StoreResult<SameDayFlagRecord> {
    Ok(SameDayFlagRecord {
        id: get(r, "id")?,
        patient_id: PatientId::from_uuid(get(r, "patient_id")?),
        evaluation_id: get(r, "evaluation_id")?,
        reasons_json: get(r, "reasons_json")?,
        raised_at: t(r, "raised_at")?,
        disposition: get(r, "disposition")?,
        disposed_by: get::<Option<Uuid>>(r, "disposed_by")?.map(UserId::from_uuid),
        disposed_at: ot(r, "disposed_at")?,
    })
}
