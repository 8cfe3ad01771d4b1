//! The therapy repositories (schema `0004_therapy.sql`): notes and addenda, process
//! notes, safety plans and their links, care teams and planned sessions.

use crate::SqlTx;
use crate::dialect::{Conn, SqlRow, get, sql};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::ids::{PatientId, PlannedSessionId, ProcessNoteId, SafetyPlanId, TherapyNoteId, UserId};
use kat_core::therapy::care_team::CareTeamMember;
use kat_core::therapy::note::{Addendum, NoteContent, NoteStatus, TherapyNote};
use kat_core::therapy::process::ProcessNote;
use kat_core::therapy::safety_plan::SafetyPlan;
use kat_core::therapy::schedule::PlannedSession;
use kat_store::*;

const NOTE_COLUMNS: &str = "id, patient_id, kind, author_id, planned_session_id, content, signed_by, signed_at, \
    created_at, updated_at, version";
const ADDENDUM_COLUMNS: &str = "id, note_id, patient_id, author_id, at, reason, body";
const PROCESS_NOTE_COLUMNS: &str = "id, patient_id, author_id, body, created_at";
const PLAN_COLUMNS: &str = "id, patient_id, version, content, author_id, created_at";
const LINK_COLUMNS: &str = "token_hash, patient_id, plan_id, created_by, created_at, expires_at, used_at";
const SESSION_COLUMNS: &str =
    "id, patient_id, kind, due_date, window_end, sequence, dose, rule, completed_by_note, created_at";

fn note_from_row(row: &impl SqlRow) -> StoreResult<TherapyNote> {
    TherapyNoteRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        kind: get(row, "kind")?,
        author_id: get(row, "author_id")?,
        planned_session_id: get(row, "planned_session_id")?,
        content: get(row, "content")?,
        signed_by: get(row, "signed_by")?,
        signed_at: get(row, "signed_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        version: get(row, "version")?,
    }
    .into_domain()
}

fn addendum_from_row(row: &impl SqlRow) -> StoreResult<Addendum> {
    Ok(AddendumRow {
        id: get(row, "id")?,
        note_id: get(row, "note_id")?,
        patient_id: get(row, "patient_id")?,
        author_id: get(row, "author_id")?,
        at: get(row, "at")?,
        reason: get(row, "reason")?,
        body: get(row, "body")?,
    }
    .into_domain())
}

fn session_from_row(row: &impl SqlRow) -> StoreResult<PlannedSession> {
    PlannedSessionRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        kind: get(row, "kind")?,
        due: get(row, "due_date")?,
        window_end: get(row, "window_end")?,
        sequence: get(row, "sequence")?,
        dose: get(row, "dose")?,
        rule: get(row, "rule")?,
        completed_by_note: get(row, "completed_by_note")?,
        created_at: get(row, "created_at")?,
    }
    .into_domain()
}

fn plan_from_row(row: &impl SqlRow) -> StoreResult<SafetyPlan> {
    SafetyPlanRow {
        id: get(row, "id")?,
        patient_id: get(row, "patient_id")?,
        version: get(row, "version")?,
        content: get(row, "content")?,
        author_id: get(row, "author_id")?,
        created_at: get(row, "created_at")?,
    }
    .into_domain()
}

fn link_from_row(row: &impl SqlRow) -> StoreResult<PlanLinkRecord> {
    Ok(PlanLinkRecord {
        token_hash: get(row, "token_hash")?,
        patient_id: get(row, "patient_id")?,
        plan_id: get(row, "plan_id")?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        used_at: get(row, "used_at")?,
    })
}

impl<C: Conn> SqlTx<C> {
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

    /// The notes whose `column` is `id` (and, for `drafts_only`, unsigned), in session order.
    async fn notes_where(&mut self, column: &str, id: uuid::Uuid, drafts_only: bool) -> StoreResult<Vec<TherapyNote>> {
        let drafts = if drafts_only { " AND signed_at IS NULL" } else { "" };
        let q = sql(format!(
            "SELECT {NOTE_COLUMNS} FROM therapy_notes WHERE {column} = $1{drafts} ORDER BY created_at, id"
        ))
        .bind(id);
        let mut notes = self.conn.fetch_all(q).await?.iter().map(note_from_row).collect::<StoreResult<Vec<_>>>()?;
        notes.sort_by_key(|n| (n.content.session_date, n.created_at));
        Ok(notes)
    }

    async fn process_note_from_row(&mut self, r: &C::Row) -> StoreResult<ProcessNote> {
        let id: ProcessNoteId = get(r, "id")?;
        let q = sql("SELECT user_id FROM process_note_readers WHERE note_id = $1 ORDER BY user_id").bind(id);
        let readers = self.conn.fetch_all(q).await?.iter().map(|r| get(r, "user_id")).collect::<StoreResult<_>>()?;
        Ok(ProcessNote {
            id,
            patient_id: get(r, "patient_id")?,
            author: get(r, "author_id")?,
            body: get(r, "body")?,
            readers,
            created_at: get(r, "created_at")?,
        })
    }
}

#[async_trait]
impl<C: Conn> TherapyNoteRepo for SqlTx<C> {
    async fn insert_therapy_note(&mut self, n: &TherapyNote) -> StoreResult<()> {
        let (signed_by, signed_at) = match n.status {
            NoteStatus::Draft => (None, None),
            NoteStatus::Signed { by, at } => (Some(by), Some(at)),
        };
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO therapy_notes ({NOTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ))
                .bind(n.id)
                .bind(n.patient_id)
                .bind(n.kind.as_str())
                .bind(n.author)
                .bind(n.planned_session)
                .bind(note_content_json(&n.content))
                .bind(signed_by)
                .bind(signed_at)
                .bind(n.created_at)
                .bind(n.updated_at)
                .bind(n.version),
            )
            .await?;
        Ok(())
    }

    async fn therapy_note_by_id(&mut self, id: TherapyNoteId) -> StoreResult<Option<TherapyNote>> {
        let q = sql(format!("SELECT {NOTE_COLUMNS} FROM therapy_notes WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| note_from_row(&r)).transpose()
    }

    async fn therapy_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TherapyNote>> {
        self.notes_where("patient_id", patient.as_uuid(), false).await
    }

    async fn draft_notes_by_author(&mut self, author: UserId) -> StoreResult<Vec<TherapyNote>> {
        self.notes_where("author_id", author.as_uuid(), true).await
    }

    async fn update_draft_note(
        &mut self,
        id: TherapyNoteId,
        expected_version: i64,
        content: &NoteContent,
        at: Timestamp,
    ) -> StoreResult<TherapyNote> {
        let q = sql("UPDATE therapy_notes SET content = $1, updated_at = $2, version = version + 1 \
                     WHERE id = $3 AND version = $4 AND signed_at IS NULL")
        .bind(note_content_json(content))
        .bind(at)
        .bind(id)
        .bind(expected_version);
        if self.conn.execute(q).await? == 0 {
            return Err(self.locked_or_stale(id).await);
        }
        self.therapy_note_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn sign_therapy_note(&mut self, id: TherapyNoteId, by: UserId, at: Timestamp) -> StoreResult<TherapyNote> {
        let q = sql("UPDATE therapy_notes SET signed_by = $1, signed_at = $2, updated_at = $2, version = version + 1 \
                     WHERE id = $3 AND signed_at IS NULL")
        .bind(by)
        .bind(at)
        .bind(id);
        if self.conn.execute(q).await? == 0 {
            return Err(self.locked_or_stale(id).await);
        }
        self.therapy_note_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn insert_addendum(&mut self, a: &Addendum) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!(
                    "INSERT INTO therapy_note_addenda ({ADDENDUM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ))
                .bind(a.id)
                .bind(a.note_id)
                .bind(a.patient_id)
                .bind(a.author)
                .bind(a.at)
                .bind(&a.reason)
                .bind(&a.body),
            )
            .await?;
        Ok(())
    }

    async fn addenda_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<Addendum>> {
        let q =
            sql(format!("SELECT {ADDENDUM_COLUMNS} FROM therapy_note_addenda WHERE patient_id = $1 ORDER BY at, id"))
                .bind(patient);
        self.conn.fetch_all(q).await?.iter().map(addendum_from_row).collect()
    }
}

#[async_trait]
impl<C: Conn> ProcessNoteRepo for SqlTx<C> {
    async fn insert_process_note(&mut self, n: &ProcessNote) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO process_notes ({PROCESS_NOTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"))
                    .bind(n.id)
                    .bind(n.patient_id)
                    .bind(n.author)
                    .bind(&n.body)
                    .bind(n.created_at),
            )
            .await?;
        for reader in &n.readers {
            let q = sql("INSERT INTO process_note_readers (note_id, user_id) VALUES ($1, $2)").bind(n.id).bind(*reader);
            self.conn.execute(q).await?;
        }
        Ok(())
    }

    async fn process_note_by_id(&mut self, id: ProcessNoteId) -> StoreResult<Option<ProcessNote>> {
        let q = sql(format!("SELECT {PROCESS_NOTE_COLUMNS} FROM process_notes WHERE id = $1")).bind(id);
        match self.conn.fetch_optional(q).await? {
            Some(r) => Ok(Some(self.process_note_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    async fn process_notes_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<ProcessNote>> {
        let q = sql(format!(
            "SELECT {PROCESS_NOTE_COLUMNS} FROM process_notes WHERE patient_id = $1 ORDER BY created_at, id"
        ))
        .bind(patient);
        let rows = self.conn.fetch_all(q).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.process_note_from_row(r).await?);
        }
        Ok(out)
    }
}

#[async_trait]
impl<C: Conn> SafetyPlanRepo for SqlTx<C> {
    async fn insert_safety_plan(&mut self, p: &SafetyPlan) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO safety_plans ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
                    .bind(p.id)
                    .bind(p.patient_id)
                    .bind(p.version)
                    .bind(plan_content_json(&p.content))
                    .bind(p.author)
                    .bind(p.created_at),
            )
            .await?;
        Ok(())
    }

    async fn safety_plan_by_id(&mut self, id: SafetyPlanId) -> StoreResult<Option<SafetyPlan>> {
        let q = sql(format!("SELECT {PLAN_COLUMNS} FROM safety_plans WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| plan_from_row(&r)).transpose()
    }

    async fn safety_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<SafetyPlan>> {
        let q = sql(format!("SELECT {PLAN_COLUMNS} FROM safety_plans WHERE patient_id = $1 ORDER BY version DESC"))
            .bind(patient);
        self.conn.fetch_all(q).await?.iter().map(plan_from_row).collect()
    }

    async fn insert_plan_link(&mut self, l: &PlanLinkRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO safety_plan_links ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                    .bind(&l.token_hash)
                    .bind(l.patient_id)
                    .bind(l.plan_id)
                    .bind(l.created_by)
                    .bind(l.created_at)
                    .bind(l.expires_at)
                    .bind(l.used_at),
            )
            .await?;
        Ok(())
    }

    async fn plan_link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<PlanLinkRecord>> {
        let q = sql(format!("SELECT {LINK_COLUMNS} FROM safety_plan_links WHERE token_hash = $1")).bind(token_hash);
        self.conn.fetch_optional(q).await?.map(|r| link_from_row(&r)).transpose()
    }

    async fn consume_plan_link(&mut self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        let q = sql("UPDATE safety_plan_links SET used_at = $1 \
                     WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1")
        .bind(at)
        .bind(token_hash);
        Ok(self.conn.execute(q).await? == 1)
    }
}

#[async_trait]
impl<C: Conn> CareTeamRepo for SqlTx<C> {
    async fn set_care_team(&mut self, patient: PatientId, team: &[CareTeamMember], at: Timestamp) -> StoreResult<()> {
        self.conn.execute(sql("DELETE FROM care_team_members WHERE patient_id = $1").bind(patient)).await?;
        for m in team {
            let q =
                sql("INSERT INTO care_team_members (patient_id, user_id, care_role, added_at) VALUES ($1, $2, $3, $4)")
                    .bind(patient)
                    .bind(m.user_id)
                    .bind(m.care_role.as_str())
                    .bind(at);
            self.conn.execute(q).await?;
        }
        Ok(())
    }

    async fn care_team(&mut self, patient: PatientId) -> StoreResult<Vec<CareTeamMember>> {
        let q = sql("SELECT user_id, care_role FROM care_team_members WHERE patient_id = $1 ORDER BY user_id")
            .bind(patient);
        let mut team = self
            .conn
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| care_member(get(r, "user_id")?, &get::<String, _>(r, "care_role")?))
            .collect::<StoreResult<Vec<_>>>()?;
        team.sort_by_key(|m| m.care_role);
        Ok(team)
    }

    async fn patients_of_member(&mut self, user: UserId) -> StoreResult<Vec<PatientId>> {
        let q = sql("SELECT patient_id FROM care_team_members WHERE user_id = $1 ORDER BY patient_id").bind(user);
        self.conn.fetch_all(q).await?.iter().map(|r| get(r, "patient_id")).collect()
    }
}

#[async_trait]
impl<C: Conn> ScheduleRepo for SqlTx<C> {
    async fn replace_pending_sessions(&mut self, patient: PatientId, sessions: &[PlannedSession]) -> StoreResult<()> {
        let q = sql("DELETE FROM planned_sessions WHERE patient_id = $1 AND completed_by_note IS NULL \
                     AND id NOT IN (SELECT planned_session_id FROM therapy_notes WHERE planned_session_id IS NOT NULL)")
        .bind(patient);
        self.conn.execute(q).await?;
        for s in sessions {
            let q = sql(format!(
                "INSERT INTO planned_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(s.id)
            .bind(patient)
            .bind(s.kind.as_str())
            .bind(s.due)
            .bind(s.window_end)
            .bind(i64::from(s.sequence))
            .bind(s.dose.map(i64::from))
            .bind(&s.rule)
            .bind(s.completed_by_note)
            .bind(s.created_at);
            self.conn.execute(q).await?;
        }
        Ok(())
    }

    async fn planned_session_by_id(&mut self, id: PlannedSessionId) -> StoreResult<Option<PlannedSession>> {
        let q = sql(format!("SELECT {SESSION_COLUMNS} FROM planned_sessions WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| session_from_row(&r)).transpose()
    }

    async fn planned_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<PlannedSession>> {
        let q = sql(format!("SELECT {SESSION_COLUMNS} FROM planned_sessions WHERE patient_id = $1")).bind(patient);
        let mut out = self.conn.fetch_all(q).await?.iter().map(session_from_row).collect::<StoreResult<Vec<_>>>()?;
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
        let mut q = sql(format!(
            "SELECT {SESSION_COLUMNS} FROM planned_sessions WHERE completed_by_note IS NULL AND due_date <= "
        ));
        q.push_bind(by);
        if let Some(ids) = patients {
            q.push(" AND patient_id IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push_bind(*id);
            }
            q.push(")");
        }
        let mut out = self.conn.fetch_all(q).await?.iter().map(session_from_row).collect::<StoreResult<Vec<_>>>()?;
        sort_sessions(&mut out);
        Ok(out)
    }

    async fn complete_planned_session(&mut self, id: PlannedSessionId, note: TherapyNoteId) -> StoreResult<()> {
        let q = sql("UPDATE planned_sessions SET completed_by_note = $1 WHERE id = $2 AND completed_by_note IS NULL")
            .bind(note)
            .bind(id);
        if self.conn.execute(q).await? == 0 {
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
