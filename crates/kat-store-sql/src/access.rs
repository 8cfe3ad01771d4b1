//! Access by relationship and break-glass grants (`AccessRepo`, migration
//! `0017_break_glass.sql`).

use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{PatientId, UserId};
use kat_store::*;
use uuid::Uuid;

use crate::SqlTx;
use crate::dialect::{Conn, SqlRow, get, sql};
use crate::foundation::scalar;

const GRANT_COLUMNS: &str =
    "id, user_id, patient_id, reason, granted_at, expires_at, reviewed_by, reviewed_at, review_note";

fn grant_from_row(row: &impl SqlRow) -> StoreResult<BreakGlassGrant> {
    Ok(BreakGlassGrant {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        patient_id: get(row, "patient_id")?,
        reason: get(row, "reason")?,
        granted_at: get(row, "granted_at")?,
        expires_at: get(row, "expires_at")?,
        reviewed_by: get(row, "reviewed_by")?,
        reviewed_at: get(row, "reviewed_at")?,
        review_note: get(row, "review_note")?,
    })
}

#[async_trait]
impl<C: Conn> AccessRepo for SqlTx<C> {
    async fn team_relation(&mut self, patient: PatientId, user: UserId) -> StoreResult<TeamRelation> {
        let q = sql("SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) AS mine \
                     FROM care_team_members WHERE patient_id = $1")
        .bind(patient)
        .bind(user);
        let row = self.conn.fetch_one(q).await?;
        let (n, mine): (i64, i64) = (get(&row, "n")?, get(&row, "mine")?);
        Ok(TeamRelation { on_team: mine > 0, team_empty: n == 0 })
    }

    async fn has_session_between(&mut self, patient: PatientId, from: Timestamp, to: Timestamp) -> StoreResult<bool> {
        let q = sql("SELECT COUNT(*) AS n FROM dosing_sessions WHERE patient_id = $1 \
                     AND (discharged_at IS NULL OR (opened_at >= $2 AND opened_at < $3))")
        .bind(patient)
        .bind(from)
        .bind(to);
        Ok(scalar(&mut self.conn, q).await? > 0)
    }

    async fn insert_break_glass(&mut self, g: &BreakGlassGrant) -> StoreResult<()> {
        let q = sql(format!(
            "INSERT INTO break_glass_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(g.id)
        .bind(g.user_id)
        .bind(g.patient_id)
        .bind(g.reason.clone())
        .bind(g.granted_at)
        .bind(g.expires_at)
        .bind(g.reviewed_by)
        .bind(g.reviewed_at)
        .bind(g.review_note.clone());
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn break_glass_until(
        &mut self,
        user: UserId,
        patient: PatientId,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let q = sql("SELECT expires_at FROM break_glass_grants \
                     WHERE user_id = $1 AND patient_id = $2 AND expires_at > $3 ORDER BY expires_at DESC LIMIT 1")
        .bind(user)
        .bind(patient)
        .bind(now);
        match self.conn.fetch_optional(q).await? {
            Some(r) => Ok(Some(get(&r, "expires_at")?)),
            None => Ok(None),
        }
    }

    async fn break_glass_grants(
        &mut self,
        unreviewed_only: bool,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Vec<BreakGlassGrant>> {
        let filter = if unreviewed_only { "WHERE reviewed_at IS NULL" } else { "" };
        let q = sql(format!(
            "SELECT {GRANT_COLUMNS} FROM break_glass_grants {filter} ORDER BY granted_at DESC, id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX));
        self.conn.fetch_all(q).await?.iter().map(grant_from_row).collect()
    }

    async fn break_glass_by_id(&mut self, id: Uuid) -> StoreResult<Option<BreakGlassGrant>> {
        let q = sql(format!("SELECT {GRANT_COLUMNS} FROM break_glass_grants WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.as_ref().map(grant_from_row).transpose()
    }

    async fn review_break_glass(&mut self, id: Uuid, by: UserId, at: Timestamp, note: &str) -> StoreResult<bool> {
        let q = sql("UPDATE break_glass_grants SET reviewed_by = $1, reviewed_at = $2, review_note = $3 \
                     WHERE id = $4 AND reviewed_at IS NULL")
        .bind(by)
        .bind(at)
        .bind(note.to_string())
        .bind(id);
        Ok(self.conn.execute(q).await? == 1)
    }

    async fn insert_identity_change(&mut self, c: &IdentityChange) -> StoreResult<()> {
        let q = sql("INSERT INTO patient_identity_changes (id, patient_id, changed_by, at, fields, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(c.id)
        .bind(c.patient_id)
        .bind(c.changed_by)
        .bind(c.at)
        .bind(c.fields.clone())
        .bind(c.reason.clone());
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn identity_changes(&mut self, patient: PatientId) -> StoreResult<Vec<IdentityChange>> {
        let q = sql("SELECT id, patient_id, changed_by, at, fields, reason FROM patient_identity_changes \
                     WHERE patient_id = $1 ORDER BY at, id")
        .bind(patient);
        self.conn
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(IdentityChange {
                    id: get(r, "id")?,
                    patient_id: get(r, "patient_id")?,
                    changed_by: get(r, "changed_by")?,
                    at: get(r, "at")?,
                    fields: get(r, "fields")?,
                    reason: get(r, "reason")?,
                })
            })
            .collect()
    }

    async fn insert_medical_director_change(&mut self, c: &MedicalDirectorChange) -> StoreResult<()> {
        let q = sql("INSERT INTO medical_director_changes (id, user_id, changed_by, at, granted, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(c.id)
        .bind(c.user_id)
        .bind(c.changed_by)
        .bind(c.at)
        .bind(c.granted)
        .bind(c.reason.clone());
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn medical_director_changes(&mut self, limit: u32) -> StoreResult<Vec<MedicalDirectorChange>> {
        let q = sql("SELECT id, user_id, changed_by, at, granted, reason FROM medical_director_changes \
                     ORDER BY at DESC, id DESC LIMIT $1")
        .bind(i64::from(limit));
        self.conn
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| {
                Ok(MedicalDirectorChange {
                    id: get(r, "id")?,
                    user_id: get(r, "user_id")?,
                    changed_by: get(r, "changed_by")?,
                    at: get(r, "at")?,
                    granted: get(r, "granted")?,
                    reason: get(r, "reason")?,
                })
            })
            .collect()
    }
}
