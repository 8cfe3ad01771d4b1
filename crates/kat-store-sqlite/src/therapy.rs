//! The therapy repositories on SQLite (schema 0004).

use super::{SqliteConn, get, map_err, opt_ts, ts, us};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::ids::{PatientId, PlannedSessionId, ProcessNoteId, SafetyPlanId, TherapyNoteId, UserId};
use kat_core::patient::parse_iso_date;
use kat_core::therapy::care_team::CareTeamMember;
use kat_core::therapy::note::{Addendum, NoteContent, NoteStatus, TherapyNote};
use kat_core::therapy::process::ProcessNote;
use kat_core::therapy::safety_plan::SafetyPlan;
use kat_core::therapy::schedule::PlannedSession;
use kat_store::*;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

fn date(row: &SqliteRow, col: &str) -> StoreResult<Date> {
    let s: String = get(row, col)?;
    parse_iso_date(&s).ok_or_else(|| StoreError::Corrupt(format!("column {col}: not a date")))
}

fn opt_date(row: &SqliteRow, col: &str) -> StoreResult<Option<Date>> {
    let s: Option<String> = get(row, col)?;
    s.map(|s| parse_iso_date(&s).ok_or_else(|| StoreError::Corrupt(format!("column {col}: not a date")))).transpose()
}

const NOTE_COLUMNS: &str = "id, patient_id, kind, author_id, planned_session_id, content, signed_by, signed_at, created_at, updated_at, version";

fn note_from_row(row: &SqliteRow) -> StoreResult<TherapyNote> {
    TherapyNoteRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        kind: get(row, "kind")?,
        author_id: get(row, "author_id")?,
        planned_session_id: get(row, "planned_session_id")?,
        content: get(row, "content")?,
        signed_by: get(row, "signed_by")?,
        signed_at: opt_ts(get(row, "signed_at")?)?,
        created_at: ts(get(row, "created_at")?)?,
        updated_at: ts(get(row, "updated_at")?)?,
        version: get(row, "version")?,
    }
    .into_domain()
}

const SESSION_COLUMNS: &str =
    "id, patient_id, kind, due_date, window_end, sequence, dose, rule, completed_by_note, created_at";

fn session_from_row(row: &SqliteRow) -> StoreResult<PlannedSession> {
    PlannedSessionRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        kind: get(row, "kind")?,
        due: date(row, "due_date")?,
        window_end: opt_date(row, "window_end")?,
        sequence: get(row, "sequence")?,
        dose: get(row, "dose")?,
        rule: get(row, "rule")?,
        completed_by_note: get(row, "completed_by_note")?,
        created_at: ts(get(row, "created_at")?)?,
    }
    .into_domain()
}

fn plan_from_row(row: &SqliteRow) -> StoreResult<SafetyPlan> {
    SafetyPlanRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        version: get(row, "version")?,
        content: get(row, "content")?,
        author_id: get(row, "author_id")?,
        created_at: ts(get(row, "created_at")?)?,
    }
    .into_domain()
}

impl SqliteConn {
    async fn locked_or_stale(&mut self, id: TherapyNoteId) -> StoreError {
        match self.therapy_note_by_id(id).await {
            Ok(None) => StoreError::NotFound,
            Ok(Some(n)) if n.is_signed() => {
                StoreError::Conflict { constraint: therapy_constraints::THERAPY_NOTE_LOCKED.into() }
            }
            Ok(Some(_)) => StoreError::StaleVersion,
            Err(e) => e,
        }
    }

    async fn notes_where(&mut self, clause: &str, id: Uuid) -> StoreResult<Vec<TherapyNote>> {
        let sql = format!("SELECT {NOTE_COLUMNS} FROM therapy_notes WHERE {clause} ORDER BY created_at, id");
        let mut notes: Vec<TherapyNote> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(note_from_row)
            .collect::<StoreResult<_>>()?;
        notes.sort_by_key(|n| (n.content.session_date, n.created_at));
        Ok(notes)
    }
}

#[async_trait]
impl TherapyNoteRepo for SqliteConn {
    async fn insert_therapy_note(&mut self, n: &TherapyNote) -> StoreResult<()> {
        let (signed_by, signed_at) = match n.status {
            NoteStatus::Draft => (None, None),
            NoteStatus::Signed { by, at } => (Some(by.as_uuid()), Some(us(at))),
        };
        sqlx::query(
            "INSERT INTO therapy_notes (id, patient_id, kind, author_id, planned_session_id, content, signed_by, \
             signed_at, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(n.id.as_uuid())
        .bind(n.patient_id.as_uuid())
        .bind(n.kind.as_str())
        .bind(n.author.as_uuid())
        .bind(n.planned_session.map(|s| s.as_uuid()))
        .bind(note_content_json(&n.content))
        .bind(signed_by)
        .bind(signed_at)
        .bind(us(n.created_at))
        .bind(us(n.updated_at))
        .bind(n.version)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn therapy_note_by_id(&mut self, id: TherapyNoteId) -> StoreResult<Option<TherapyNote>> {
        let sql = format!("SELECT {NOTE_COLUMNS} FROM therapy_notes WHERE id = ?");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| note_from_row(&r))
            .transpose()
    }

    async fn therapy_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TherapyNote>> {
        self.notes_where("patient_id = ?", patient.as_uuid()).await
    }

    async fn draft_notes_by_author(&mut self, author: UserId) -> StoreResult<Vec<TherapyNote>> {
        self.notes_where("author_id = ? AND signed_at IS NULL", author.as_uuid()).await
    }

    async fn update_draft_note(
        &mut self,
        id: TherapyNoteId,
        expected_version: i64,
        content: &NoteContent,
        at: Timestamp,
    ) -> StoreResult<TherapyNote> {
        let done = sqlx::query(
            "UPDATE therapy_notes SET content = ?, updated_at = ?, version = version + 1 \
             WHERE id = ? AND version = ? AND signed_at IS NULL",
        )
        .bind(note_content_json(content))
        .bind(us(at))
        .bind(id.as_uuid())
        .bind(expected_version)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(self.locked_or_stale(id).await);
        }
        self.therapy_note_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn sign_therapy_note(&mut self, id: TherapyNoteId, by: UserId, at: Timestamp) -> StoreResult<TherapyNote> {
        let done = sqlx::query(
            "UPDATE therapy_notes SET signed_by = ?, signed_at = ?, updated_at = ?, version = version + 1 \
             WHERE id = ? AND signed_at IS NULL",
        )
        .bind(by.as_uuid())
        .bind(us(at))
        .bind(us(at))
        .bind(id.as_uuid())
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(self.locked_or_stale(id).await);
        }
        self.therapy_note_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn insert_addendum(&mut self, a: &Addendum) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO therapy_note_addenda (id, note_id, patient_id, author_id, at, reason, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.id.as_uuid())
        .bind(a.note_id.as_uuid())
        .bind(a.patient_id.as_uuid())
        .bind(a.author.as_uuid())
        .bind(us(a.at))
        .bind(&a.reason)
        .bind(&a.body)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn addenda_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<Addendum>> {
        sqlx::query(
            "SELECT id, note_id, patient_id, author_id, at, reason, body FROM therapy_note_addenda \
             WHERE patient_id = ? ORDER BY at, id",
        )
        .bind(patient.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| {
            Ok(AddendumRow {
                id: get(r, "id")?,
                note_id: get(r, "note_id")?,
                patient_id: get(r, "patient_id")?,
                author_id: get(r, "author_id")?,
                at: ts(get(r, "at")?)?,
                reason: get(r, "reason")?,
                body: get(r, "body")?,
            }
            .into_domain())
        })
        .collect()
    }
}

impl SqliteConn {
    async fn readers_of(&mut self, note: Uuid) -> StoreResult<Vec<UserId>> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM process_note_readers WHERE note_id = ? ORDER BY user_id")
                .bind(note)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?;
        Ok(ids.into_iter().map(UserId::from_uuid).collect())
    }

    async fn process_note_from_row(&mut self, r: &SqliteRow) -> StoreResult<ProcessNote> {
        let id: Uuid = get(r, "id")?;
        Ok(ProcessNote {
            id: ProcessNoteId::from_uuid(id),
            patient_id: PatientId::from_uuid(get(r, "patient_id")?),
            author: UserId::from_uuid(get(r, "author_id")?),
            body: get(r, "body")?,
            readers: self.readers_of(id).await?,
            created_at: ts(get(r, "created_at")?)?,
        })
    }
}

#[async_trait]
impl ProcessNoteRepo for SqliteConn {
    async fn insert_process_note(&mut self, n: &ProcessNote) -> StoreResult<()> {
        sqlx::query("INSERT INTO process_notes (id, patient_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(n.id.as_uuid())
            .bind(n.patient_id.as_uuid())
            .bind(n.author.as_uuid())
            .bind(&n.body)
            .bind(us(n.created_at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        for reader in &n.readers {
            sqlx::query("INSERT INTO process_note_readers (note_id, user_id) VALUES (?, ?)")
                .bind(n.id.as_uuid())
                .bind(reader.as_uuid())
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn process_note_by_id(&mut self, id: ProcessNoteId) -> StoreResult<Option<ProcessNote>> {
        let row = sqlx::query("SELECT id, patient_id, author_id, body, created_at FROM process_notes WHERE id = ?")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?;
        match row {
            Some(r) => Ok(Some(self.process_note_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    async fn process_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<ProcessNote>> {
        let rows = sqlx::query(
            "SELECT id, patient_id, author_id, body, created_at FROM process_notes WHERE patient_id = ? ORDER BY created_at, id",
        )
        .bind(patient.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.process_note_from_row(r).await?);
        }
        Ok(out)
    }
}

const LINK_COLUMNS: &str = "token_hash, patient_id, plan_id, created_by, created_at, expires_at, used_at";

#[async_trait]
impl SafetyPlanRepo for SqliteConn {
    async fn insert_safety_plan(&mut self, p: &SafetyPlan) -> StoreResult<()> {
        sqlx::query("INSERT INTO safety_plans (id, patient_id, version, content, author_id, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(p.id.as_uuid())
            .bind(p.patient_id.as_uuid())
            .bind(p.version)
            .bind(plan_content_json(&p.content))
            .bind(p.author.as_uuid())
            .bind(us(p.created_at))
            .execute(&mut *self.tx)
            .await
            .map_err(|e| match map_err(e) {
                StoreError::Conflict { constraint } if constraint.starts_with("safety_plans.") => StoreError::Conflict {
                    constraint: therapy_constraints::SAFETY_PLANS_VERSION_UNIQUE.into(),
                },
                other => other,
            })?;
        Ok(())
    }

    async fn safety_plan_by_id(&mut self, id: SafetyPlanId) -> StoreResult<Option<SafetyPlan>> {
        sqlx::query("SELECT id, patient_id, version, content, author_id, created_at FROM safety_plans WHERE id = ?")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| plan_from_row(&r))
            .transpose()
    }

    async fn safety_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<SafetyPlan>> {
        sqlx::query(
            "SELECT id, patient_id, version, content, author_id, created_at FROM safety_plans \
             WHERE patient_id = ? ORDER BY version DESC",
        )
        .bind(patient.as_uuid())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?
        .iter()
        .map(plan_from_row)
        .collect()
    }

    async fn insert_plan_link(&mut self, l: &PlanLinkRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO safety_plan_links (token_hash, patient_id, plan_id, created_by, created_at, expires_at, used_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&l.token_hash)
        .bind(l.patient_id.as_uuid())
        .bind(l.plan_id.as_uuid())
        .bind(l.created_by.as_uuid())
        .bind(us(l.created_at))
        .bind(us(l.expires_at))
        .bind(l.used_at.map(us))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn plan_link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<PlanLinkRecord>> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM safety_plan_links WHERE token_hash = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?;
        row.map(|r| {
            Ok(PlanLinkRecord {
                token_hash: get(&r, "token_hash")?,
                patient_id: PatientId::from_uuid(get(&r, "patient_id")?),
                plan_id: SafetyPlanId::from_uuid(get(&r, "plan_id")?),
                created_by: UserId::from_uuid(get(&r, "created_by")?),
                created_at: ts(get(&r, "created_at")?)?,
                expires_at: ts(get(&r, "expires_at")?)?,
                used_at: opt_ts(get(&r, "used_at")?)?,
            })
        })
        .transpose()
    }

    async fn consume_plan_link(&mut self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE safety_plan_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        )
        .bind(us(at))
        .bind(token_hash)
        .bind(us(at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl CareTeamRepo for SqliteConn {
    async fn set_care_team(&mut self, patient: PatientId, team: &[CareTeamMember], at: Timestamp) -> StoreResult<()> {
        sqlx::query("DELETE FROM care_team_members WHERE patient_id = ?")
            .bind(patient.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        for m in team {
            sqlx::query("INSERT INTO care_team_members (patient_id, user_id, care_role, added_at) VALUES (?, ?, ?, ?)")
                .bind(patient.as_uuid())
                .bind(m.user_id.as_uuid())
                .bind(m.care_role.as_str())
                .bind(us(at))
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn care_team(&mut self, patient: PatientId) -> StoreResult<Vec<CareTeamMember>> {
        let rows =
            sqlx::query("SELECT user_id, care_role FROM care_team_members WHERE patient_id = ? ORDER BY user_id")
                .bind(patient.as_uuid())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?;
        let mut team = rows
            .iter()
            .map(|r| care_member(get(r, "user_id")?, &get::<String>(r, "care_role")?))
            .collect::<StoreResult<Vec<_>>>()?;
        team.sort_by_key(|m| m.care_role);
        Ok(team)
    }

    async fn patients_of_member(&mut self, user: UserId) -> StoreResult<Vec<PatientId>> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT patient_id FROM care_team_members WHERE user_id = ? ORDER BY patient_id")
                .bind(user.as_uuid())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?;
        Ok(ids.into_iter().map(PatientId::from_uuid).collect())
    }
}

#[async_trait]
impl ScheduleRepo for SqliteConn {
    async fn replace_pending_sessions(&mut self, patient: PatientId, sessions: &[PlannedSession]) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM planned_sessions WHERE patient_id = ? AND completed_by_note IS NULL \
             AND id NOT IN (SELECT planned_session_id FROM therapy_notes WHERE planned_session_id IS NOT NULL)",
        )
        .bind(patient.as_uuid())
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        for s in sessions {
            sqlx::query(
                "INSERT INTO planned_sessions (id, patient_id, kind, due_date, window_end, sequence, dose, rule, \
                 completed_by_note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(s.id.as_uuid())
            .bind(patient.as_uuid())
            .bind(s.kind.as_str())
            .bind(s.due.to_string())
            .bind(s.window_end.map(|d| d.to_string()))
            .bind(i64::from(s.sequence))
            .bind(s.dose.map(i64::from))
            .bind(&s.rule)
            .bind(s.completed_by_note.map(|n| n.as_uuid()))
            .bind(us(s.created_at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        }
        Ok(())
    }

    async fn planned_session_by_id(&mut self, id: PlannedSessionId) -> StoreResult<Option<PlannedSession>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM planned_sessions WHERE id = ?");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| session_from_row(&r))
            .transpose()
    }

    async fn planned_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<PlannedSession>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM planned_sessions WHERE patient_id = ?");
        let mut out = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(patient.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(session_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        sort_sessions(&mut out);
        Ok(out)
    }

    async fn pending_sessions_due_by(
        &mut self,
        by: Date,
        patients: Option<&[PatientId]>,
    ) -> StoreResult<Vec<PlannedSession>> {
        if patients.is_some_and(|p| p.is_empty()) {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {SESSION_COLUMNS} FROM planned_sessions WHERE completed_by_note IS NULL AND due_date <= "
        ));
        qb.push_bind(by.to_string());
        if let Some(ids) = patients {
            qb.push(" AND patient_id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(id.as_uuid());
            }
            qb.push(")");
        }
        let mut out = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(session_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        sort_sessions(&mut out);
        Ok(out)
    }

    async fn complete_planned_session(&mut self, id: PlannedSessionId, note: TherapyNoteId) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE planned_sessions SET completed_by_note = ? WHERE id = ? AND completed_by_note IS NULL")
                .bind(note.as_uuid())
                .bind(id.as_uuid())
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return match self.planned_session_by_id(id).await? {
                Some(_) => {
                    Err(StoreError::Conflict { constraint: therapy_constraints::PLANNED_SESSIONS_COMPLETED.into() })
                }
                None => Err(StoreError::NotFound),
            };
        }
        Ok(())
    }
}
