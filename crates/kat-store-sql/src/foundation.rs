//! Accounts, sessions, API tokens, patients, the audit log and the clinic's meta facts.

use crate::SqlTx;
use crate::dialect::{Conn, Query, SqlRow, get, sql};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::audit::{AuditEntry, AuditFilter, MAX_AUDIT_PAGE, NewAuditEntry};
use kat_core::ids::{AuditId, PatientId, TokenId, UserId};
use kat_core::patient::{Demographics, Mrn, Patient, PatientQuery, SearchTerm, name_search_key, prefix_upper_bound};
use kat_core::user::{User, Username};
use kat_store::rows::{AuditRow, DemographicsColumns, PatientRow, UserRow};
use kat_store::*;
use uuid::Uuid;

const USER_COLUMNS: &str = "id, username, display_name, role, kind, active, must_change_password";

fn user_from_row(row: &impl SqlRow) -> StoreResult<User> {
    UserRow {
        id: get(row, "id")?,
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        role: get(row, "role")?,
        kind: get(row, "kind")?,
        active: get(row, "active")?,
        must_change_password: get(row, "must_change_password")?,
    }
    .into_domain()
}

pub(crate) const PATIENT_COLUMNS: &str = "id, mrn, given_name, family_name, birth_date, sex_at_birth, \
    gender_identity, phone, email, address, emergency_contact_name, \
    emergency_contact_relationship, emergency_contact_phone, created_at, updated_at, version";

pub(crate) fn patient_from_row(row: &impl SqlRow) -> StoreResult<Patient> {
    PatientRow {
        id: get(row, "id")?,
        mrn: get(row, "mrn")?,
        given_name: get(row, "given_name")?,
        family_name: get(row, "family_name")?,
        birth_date: get(row, "birth_date")?,
        sex_at_birth: get(row, "sex_at_birth")?,
        gender_identity: get(row, "gender_identity")?,
        phone: get(row, "phone")?,
        email: get(row, "email")?,
        address: get(row, "address")?,
        emergency_contact_name: get(row, "emergency_contact_name")?,
        emergency_contact_relationship: get(row, "emergency_contact_relationship")?,
        emergency_contact_phone: get(row, "emergency_contact_phone")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        version: get(row, "version")?,
    }
    .into_domain()
}

const TOKEN_COLUMNS: &str = "id, user_id, label, token_hash, created_at, revoked_at, last_used_at, expires_at";

fn token_from_row(row: &impl SqlRow) -> StoreResult<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        label: get(row, "label")?,
        token_hash: get(row, "token_hash")?,
        created_at: get(row, "created_at")?,
        revoked_at: get(row, "revoked_at")?,
        last_used_at: get(row, "last_used_at")?,
        expires_at: get(row, "expires_at")?,
    })
}

const AUDIT_COLUMNS: &str = "seq, id, at, actor_user_id, actor_label, action, resource_type, resource_id, \
    patient_id, remote_addr, outcome, request_id";

fn audit_from_row(row: &impl SqlRow) -> StoreResult<AuditEntry> {
    AuditRow {
        seq: get(row, "seq")?,
        id: get(row, "id")?,
        at: get(row, "at")?,
        actor_user_id: get(row, "actor_user_id")?,
        actor_label: get(row, "actor_label")?,
        action: get(row, "action")?,
        resource_type: get(row, "resource_type")?,
        resource_id: get(row, "resource_id")?,
        patient_id: get(row, "patient_id")?,
        remote_addr: get(row, "remote_addr")?,
        outcome: get(row, "outcome")?,
        request_id: get(row, "request_id")?,
    }
    .into_domain()
}

/// The column `n` of a one-row answer (a count, a next number).
pub(crate) async fn scalar<C: Conn>(conn: &mut C, query: Query<'_>) -> StoreResult<i64> {
    get(&conn.fetch_one(query).await?, "n")
}

/// Fills the search keys of names registered before migration 0009 (an empty key: a name
/// is never empty) with the one folding every insert and update uses, so old and new rows
/// are found alike. The adapters run it in a write transaction at every open; a no-op
/// once done.
pub async fn backfill_name_keys<C: Conn>(conn: &mut C) -> StoreResult<()> {
    let rows = conn
        .fetch_all(sql(format!(
            "SELECT id, given_name, family_name FROM patients WHERE given_name_key = '' OR family_name_key = ''{}",
            C::FOR_UPDATE
        )))
        .await?;
    for row in &rows {
        let (given, family): (String, String) = (get(row, "given_name")?, get(row, "family_name")?);
        conn.execute(
            sql("UPDATE patients SET given_name_key = $1, family_name_key = $2 WHERE id = $3")
                .bind(name_search_key(&given))
                .bind(name_search_key(&family))
                .bind(get::<Uuid, _>(row, "id")?),
        )
        .await?;
    }
    Ok(())
}

/// The registry search after `select` (its columns, or `EXPLAIN QUERY PLAN SELECT …` in a
/// test): each name word a range on the name keys' indexes, every term ANDed.
pub fn search_query<'a>(select: &str, query: &'a PatientQuery, limit: u32) -> Query<'a> {
    let mut q = sql(format!("{select} FROM patients WHERE 1 = 1"));
    for term in &query.terms {
        match term {
            SearchTerm::Name(prefix) => {
                // A prefix of either name, as a range on each name's key index.
                let upper = prefix_upper_bound(prefix);
                q.push(" AND (");
                for (i, column) in ["given_name_key", "family_name_key"].into_iter().enumerate() {
                    if i > 0 {
                        q.push(" OR ");
                    }
                    q.push(&format!("({column} >= ")).push_bind(prefix.as_str());
                    if let Some(upper) = &upper {
                        q.push(&format!(" AND {column} < ")).push_bind(upper.clone());
                    }
                    q.push(")");
                }
                q.push(")");
            }
            SearchTerm::BirthDate(date) => {
                q.push(" AND birth_date = ").push_bind(*date);
            }
            SearchTerm::Mrn(mrn) => {
                q.push(" AND mrn = ").push_bind(mrn.as_str());
            }
        }
    }
    q.push(" ORDER BY family_name_key, given_name_key, mrn LIMIT ").push_bind(i64::from(limit));
    q
}

#[async_trait]
impl<C: Conn> UserRepo for SqlTx<C> {
    async fn insert_user(&mut self, user: &NewUser) -> StoreResult<User> {
        self.conn
            .execute(
                sql("INSERT INTO users (id, username, display_name, role, kind, password_hash, active, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)")
                .bind(user.id)
                .bind(user.username.as_str())
                .bind(&user.display_name)
                .bind(user.role.as_str())
                .bind(user.kind.as_str())
                .bind(&user.password_hash)
                .bind(user.created_at),
            )
            .await?;
        self.user_by_id(user.id).await?.ok_or(StoreError::NotFound)
    }

    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<User>> {
        let q = sql(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| user_from_row(&r)).transpose()
    }

    async fn credentials_by_username(&mut self, username: &Username) -> StoreResult<Option<UserCredentials>> {
        let q =
            sql(format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1")).bind(username.as_str());
        let row = self.conn.fetch_optional(q).await?;
        row.map(|r| Ok(UserCredentials { user: user_from_row(&r)?, password_hash: get(&r, "password_hash")? }))
            .transpose()
    }

    async fn list_users(&mut self) -> StoreResult<Vec<User>> {
        let q = sql(format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"));
        self.conn.fetch_all(q).await?.iter().map(user_from_row).collect()
    }

    async fn count_active_admins(&mut self) -> StoreResult<i64> {
        let q = sql("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = TRUE AND kind = 'staff'");
        scalar(&mut self.conn, q).await
    }

    async fn set_user_active(&mut self, id: UserId, active: bool) -> StoreResult<()> {
        let done = self.conn.execute(sql("UPDATE users SET active = $1 WHERE id = $2").bind(active).bind(id)).await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn set_password_hash(&mut self, id: UserId, hash: &str, must_change: bool) -> StoreResult<()> {
        let q = sql("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(hash)
            .bind(must_change)
            .bind(id);
        let done = self.conn.execute(q).await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn mfa_of(&mut self, user: UserId) -> StoreResult<Option<MfaRecord>> {
        let q = sql("SELECT user_id, secret, created_at, enrolled_at, last_used_step FROM mfa_totp WHERE user_id = $1")
            .bind(user);
        let Some(r) = self.conn.fetch_optional(q).await? else { return Ok(None) };
        let secret: String = get(&r, "secret")?;
        Ok(Some(MfaRecord {
            user_id: get(&r, "user_id")?,
            secret: kat_core::mfa::TotpSecret::from_base32(&secret)
                .map_err(|_| StoreError::Corrupt("column secret: not a TOTP secret".into()))?,
            created_at: get(&r, "created_at")?,
            enrolled_at: get(&r, "enrolled_at")?,
            last_used_step: get(&r, "last_used_step")?,
        }))
    }

    async fn begin_mfa(&mut self, user: UserId, secret: &kat_core::mfa::TotpSecret, at: Timestamp) -> StoreResult<()> {
        self.conn.execute(sql("DELETE FROM mfa_recovery_codes WHERE user_id = $1").bind(user)).await?;
        let q = sql("INSERT INTO mfa_totp (user_id, secret, created_at, enrolled_at, last_used_step) \
                     VALUES ($1, $2, $3, NULL, NULL) \
                     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, \
                     enrolled_at = NULL, last_used_step = NULL")
        .bind(user)
        .bind(secret.to_base32())
        .bind(at);
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn confirm_mfa(&mut self, user: UserId, at: Timestamp, step: i64, code_hashes: &[String]) -> StoreResult<()> {
        let q =
            sql("UPDATE mfa_totp SET enrolled_at = $1, last_used_step = $2 WHERE user_id = $3 AND enrolled_at IS NULL")
                .bind(at)
                .bind(step)
                .bind(user);
        if self.conn.execute(q).await? == 0 {
            return Err(StoreError::NotFound);
        }
        self.put_recovery_codes(user, code_hashes).await
    }

    async fn advance_mfa_step(&mut self, user: UserId, step: i64) -> StoreResult<bool> {
        let q = sql("UPDATE mfa_totp SET last_used_step = $1 \
                     WHERE user_id = $2 AND (last_used_step IS NULL OR last_used_step < $1)")
        .bind(step)
        .bind(user);
        Ok(self.conn.execute(q).await? > 0)
    }

    async fn use_recovery_code(&mut self, user: UserId, code_hash: &str, at: Timestamp) -> StoreResult<bool> {
        let q =
            sql("UPDATE mfa_recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
                .bind(at)
                .bind(user)
                .bind(code_hash);
        Ok(self.conn.execute(q).await? > 0)
    }

    async fn unused_recovery_codes(&mut self, user: UserId) -> StoreResult<i64> {
        let q = sql("SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(user);
        let r = self.conn.fetch_one(q).await?;
        get(&r, "n")
    }

    async fn delete_mfa(&mut self, user: UserId) -> StoreResult<bool> {
        self.conn.execute(sql("DELETE FROM mfa_recovery_codes WHERE user_id = $1").bind(user)).await?;
        Ok(self.conn.execute(sql("DELETE FROM mfa_totp WHERE user_id = $1").bind(user)).await? > 0)
    }

    async fn replace_recovery_codes(&mut self, user: UserId, code_hashes: &[String]) -> StoreResult<()> {
        let q = sql("SELECT user_id FROM mfa_totp WHERE user_id = $1 AND enrolled_at IS NOT NULL").bind(user);
        if self.conn.fetch_optional(q).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.put_recovery_codes(user, code_hashes).await
    }
}

impl<C: Conn> SqlTx<C> {
    /// The account's recovery codes become exactly these hashes, all unused.
    async fn put_recovery_codes(&mut self, user: UserId, code_hashes: &[String]) -> StoreResult<()> {
        self.conn.execute(sql("DELETE FROM mfa_recovery_codes WHERE user_id = $1").bind(user)).await?;
        for hash in code_hashes {
            self.conn
                .execute(
                    sql("INSERT INTO mfa_recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                        .bind(user)
                        .bind(hash),
                )
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<C: Conn> SessionRepo for SqlTx<C> {
    async fn insert_session(&mut self, s: &SessionRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, remote_addr) \
                     VALUES ($1, $2, $3, $4, $5)")
                .bind(&s.id_hash)
                .bind(s.user_id)
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(&s.remote_addr),
            )
            .await?;
        Ok(())
    }

    async fn session_by_hash(&mut self, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let q = sql("SELECT id_hash, user_id, created_at, last_seen_at, remote_addr FROM sessions WHERE id_hash = $1")
            .bind(id_hash);
        let row = self.conn.fetch_optional(q).await?;
        row.map(|r| {
            Ok(SessionRecord {
                id_hash: get(&r, "id_hash")?,
                user_id: get(&r, "user_id")?,
                created_at: get(&r, "created_at")?,
                last_seen_at: get(&r, "last_seen_at")?,
                remote_addr: get(&r, "remote_addr")?,
            })
        })
        .transpose()
    }

    async fn touch_session(&mut self, id_hash: &str, at: Timestamp) -> StoreResult<()> {
        self.conn
            .execute(sql("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2").bind(at).bind(id_hash))
            .await?;
        Ok(())
    }

    async fn delete_session(&mut self, id_hash: &str) -> StoreResult<()> {
        self.conn.execute(sql("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash)).await?;
        Ok(())
    }

    async fn delete_sessions_of_user(&mut self, user: UserId, keep: Option<&str>) -> StoreResult<u64> {
        let q = match keep {
            Some(keep) => sql("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2").bind(user).bind(keep),
            None => sql("DELETE FROM sessions WHERE user_id = $1").bind(user),
        };
        self.conn.execute(q).await
    }

    async fn delete_stale_sessions(&mut self, idle_before: Timestamp, created_before: Timestamp) -> StoreResult<u64> {
        self.conn
            .execute(
                sql("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                    .bind(idle_before)
                    .bind(created_before),
            )
            .await
    }

    async fn sign_in_failures(&mut self, keys: &[String]) -> StoreResult<Vec<(String, kat_core::sign_in::Failures)>> {
        let mut out = Vec::new();
        for key in keys {
            let q = sql("SELECT key, failures, last_at, locked_until FROM sign_in_failures WHERE key = $1").bind(key);
            if let Some(r) = self.conn.fetch_optional(q).await? {
                let count: i64 = get(&r, "failures")?;
                out.push((
                    get(&r, "key")?,
                    kat_core::sign_in::Failures {
                        count: u32::try_from(count).unwrap_or(u32::MAX),
                        last_at: get(&r, "last_at")?,
                        locked_until: get(&r, "locked_until")?,
                    },
                ));
            }
        }
        Ok(out)
    }

    async fn put_sign_in_failures(&mut self, key: &str, f: &kat_core::sign_in::Failures) -> StoreResult<()> {
        let q = sql("INSERT INTO sign_in_failures (key, failures, last_at, locked_until) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at, \
                     locked_until = excluded.locked_until")
        .bind(key)
        .bind(i64::from(f.count))
        .bind(f.last_at)
        .bind(f.locked_until);
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn clear_sign_in_failures(&mut self, key: &str) -> StoreResult<bool> {
        Ok(self.conn.execute(sql("DELETE FROM sign_in_failures WHERE key = $1").bind(key)).await? > 0)
    }

    async fn count_anonymous_failure(
        &mut self,
        source: &str,
        window_start: Timestamp,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let q = sql("INSERT INTO anonymous_failures (source, window_start, failures, first_at, last_at) \
                     VALUES ($1, $2, 1, $3, $3) \
                     ON CONFLICT (source, window_start) DO UPDATE \
                     SET failures = anonymous_failures.failures + 1, last_at = excluded.last_at \
                     RETURNING failures")
        .bind(source)
        .bind(window_start)
        .bind(at);
        let row = self.conn.fetch_one(q).await?;
        get(&row, "failures")
    }

    async fn anonymous_failures(&mut self, offset: i64, limit: i64) -> StoreResult<Vec<AnonymousFailures>> {
        let q = sql("SELECT source, window_start, failures, first_at, last_at FROM anonymous_failures \
                     ORDER BY window_start DESC, source LIMIT $1 OFFSET $2")
        .bind(limit)
        .bind(offset);
        let mut out = Vec::new();
        for r in self.conn.fetch_all(q).await? {
            out.push(AnonymousFailures {
                source: get(&r, "source")?,
                window_start: get(&r, "window_start")?,
                failures: get(&r, "failures")?,
                first_at: get(&r, "first_at")?,
                last_at: get(&r, "last_at")?,
            });
        }
        Ok(out)
    }

    async fn insert_sign_in_challenge(&mut self, id_hash: &str, user: UserId, at: Timestamp) -> StoreResult<()> {
        let q = sql("INSERT INTO sign_in_challenges (id_hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(id_hash)
            .bind(user)
            .bind(at);
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn sign_in_challenge(&mut self, id_hash: &str) -> StoreResult<Option<(UserId, Timestamp)>> {
        let q = sql("SELECT user_id, created_at FROM sign_in_challenges WHERE id_hash = $1").bind(id_hash);
        let row = self.conn.fetch_optional(q).await?;
        row.map(|r| Ok((get(&r, "user_id")?, get(&r, "created_at")?))).transpose()
    }

    async fn delete_sign_in_challenge(&mut self, id_hash: &str) -> StoreResult<bool> {
        Ok(self.conn.execute(sql("DELETE FROM sign_in_challenges WHERE id_hash = $1").bind(id_hash)).await? > 0)
    }

    async fn delete_stale_sign_in_challenges(&mut self, before: Timestamp, user: Option<UserId>) -> StoreResult<u64> {
        let q = match user {
            Some(user) => {
                sql("DELETE FROM sign_in_challenges WHERE created_at < $1 OR user_id = $2").bind(before).bind(user)
            }
            None => sql("DELETE FROM sign_in_challenges WHERE created_at < $1").bind(before),
        };
        self.conn.execute(q).await
    }
}

#[async_trait]
impl<C: Conn> TokenRepo for SqlTx<C> {
    async fn insert_token(&mut self, t: &ApiTokenRecord) -> StoreResult<()> {
        self.conn
            .execute(
                sql(format!("INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                    .bind(t.id)
                    .bind(t.user_id)
                    .bind(&t.label)
                    .bind(&t.token_hash)
                    .bind(t.created_at)
                    .bind(t.revoked_at)
                    .bind(t.last_used_at)
                    .bind(t.expires_at),
            )
            .await?;
        Ok(())
    }

    async fn token_by_hash(&mut self, hash: &str) -> StoreResult<Option<ApiTokenRecord>> {
        let q = sql(format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1")).bind(hash);
        self.conn.fetch_optional(q).await?.map(|r| token_from_row(&r)).transpose()
    }

    async fn list_tokens(&mut self) -> StoreResult<Vec<ApiTokenRecord>> {
        let q = sql(format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id"));
        self.conn.fetch_all(q).await?.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<()> {
        let q = sql("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2").bind(at).bind(id);
        if self.conn.execute(q).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn touch_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<()> {
        self.conn.execute(sql("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(at).bind(id)).await?;
        Ok(())
    }

    async fn revoke_tokens_of_user(&mut self, user: UserId, at: Timestamp) -> StoreResult<u64> {
        let q =
            sql("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL").bind(at).bind(user);
        self.conn.execute(q).await
    }
}

#[async_trait]
impl<C: Conn> PatientRepo for SqlTx<C> {
    async fn insert_patient(
        &mut self,
        id: PatientId,
        demographics: &Demographics,
        at: Timestamp,
    ) -> StoreResult<Patient> {
        let next = scalar(&mut self.conn, sql(C::NEXT_MRN)).await?;
        let mrn = Mrn::from_sequence(next as u64);
        let c = DemographicsColumns::from(demographics);
        self.conn
            .execute(
                sql("INSERT INTO patients (id, mrn_seq, mrn, given_name, family_name, birth_date, sex_at_birth, \
                     gender_identity, phone, email, address, emergency_contact_name, \
                     emergency_contact_relationship, emergency_contact_phone, created_at, updated_at, version, \
                     given_name_key, family_name_key) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $18)")
                .bind(id)
                .bind(next)
                .bind(mrn.as_str())
                .bind(c.given_name)
                .bind(c.family_name)
                .bind(c.birth_date)
                .bind(c.sex_at_birth)
                .bind(c.gender_identity)
                .bind(c.phone)
                .bind(c.email)
                .bind(c.address)
                .bind(c.emergency_contact_name)
                .bind(c.emergency_contact_relationship)
                .bind(c.emergency_contact_phone)
                .bind(at)
                .bind(at)
                .bind(c.given_name_key)
                .bind(c.family_name_key),
            )
            .await?;
        self.patient_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn patient_by_id(&mut self, id: PatientId) -> StoreResult<Option<Patient>> {
        let q = sql(format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.map(|r| patient_from_row(&r)).transpose()
    }

    async fn search_patients(&mut self, query: &PatientQuery, limit: u32) -> StoreResult<Vec<Patient>> {
        let q = search_query(&format!("SELECT {PATIENT_COLUMNS}"), query, limit);
        self.conn.fetch_all(q).await?.iter().map(patient_from_row).collect()
    }

    async fn update_patient(
        &mut self,
        id: PatientId,
        expected_version: i64,
        demographics: &Demographics,
        at: Timestamp,
    ) -> StoreResult<Patient> {
        let c = DemographicsColumns::from(demographics);
        let done = self
            .conn
            .execute(
                sql("UPDATE patients SET given_name = $1, family_name = $2, birth_date = $3, sex_at_birth = $4, \
                     gender_identity = $5, phone = $6, email = $7, address = $8, emergency_contact_name = $9, \
                     emergency_contact_relationship = $10, emergency_contact_phone = $11, updated_at = $12, \
                     version = version + 1, given_name_key = $13, family_name_key = $14 \
                     WHERE id = $15 AND version = $16")
                .bind(c.given_name)
                .bind(c.family_name)
                .bind(c.birth_date)
                .bind(c.sex_at_birth)
                .bind(c.gender_identity)
                .bind(c.phone)
                .bind(c.email)
                .bind(c.address)
                .bind(c.emergency_contact_name)
                .bind(c.emergency_contact_relationship)
                .bind(c.emergency_contact_phone)
                .bind(at)
                .bind(c.given_name_key)
                .bind(c.family_name_key)
                .bind(id)
                .bind(expected_version),
            )
            .await?;
        if done == 0 {
            return match self.patient_by_id(id).await? {
                Some(_) => Err(StoreError::StaleVersion),
                None => Err(StoreError::NotFound),
            };
        }
        self.patient_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn count_patients(&mut self) -> StoreResult<i64> {
        scalar(&mut self.conn, sql("SELECT COUNT(*) AS n FROM patients")).await
    }
}

#[async_trait]
impl<C: Conn> AuditRepo for SqlTx<C> {
    async fn append_audit(&mut self, e: &NewAuditEntry) -> StoreResult<AuditEntry> {
        self.append_chained(e, &[]).await
    }

    async fn query_audit(&mut self, f: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut q = sql(format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1 = 1"));
        if let Some(u) = f.user_id {
            q.push(" AND actor_user_id = ").push_bind(u);
        }
        if let Some(p) = f.patient_id {
            // Entries about the patient, and list views that showed the patient.
            q.push(" AND (patient_id = ").push_bind(p);
            q.push(" OR id IN (SELECT audit_id FROM audit_entry_patients WHERE patient_id = ").push_bind(p).push("))");
        }
        if let Some(from) = f.from {
            q.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = f.to {
            q.push(" AND at < ").push_bind(to);
        }
        if let Some(before) = f.before_seq {
            q.push(" AND seq < ").push_bind(before);
        }
        q.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(f.limit.clamp(1, MAX_AUDIT_PAGE)));
        self.conn.fetch_all(q).await?.iter().map(audit_from_row).collect()
    }

    async fn audit_chain_page(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        let q =
            sql(format!("SELECT {AUDIT_COLUMNS}, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"))
                .bind(after_seq)
                .bind(i64::from(limit.max(1)));
        let rows = self.conn.fetch_all(q).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(ChainedEntry {
                entry: audit_from_row(r)?,
                shown: Vec::new(),
                prev_hash: get(r, "prev_hash")?,
                hash: get(r, "hash")?,
            });
        }
        let ids: Vec<AuditId> = out.iter().map(|c| c.entry.id).collect();
        for (audit, patient) in self.audit_shown_patients(&ids).await? {
            if let Some(c) = out.iter_mut().find(|c| c.entry.id == audit) {
                c.shown.push(patient);
            }
        }
        Ok(out)
    }

    async fn audit_chain_head(&mut self) -> StoreResult<Option<(i64, String)>> {
        let row = self.conn.fetch_one(sql("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).await?;
        let seq: Option<i64> = get(&row, "seq")?;
        let hash: Option<String> = get(&row, "hash")?;
        Ok(seq.zip(hash))
    }
}

impl<C: Conn> SqlTx<C> {
    /// Appends `e` chained to the head, naming the patients a list view showed (written
    /// beside it in `audit_entry_patients`): the head read and held (PostgreSQL: `FOR
    /// UPDATE`; SQLite: the one writer's transaction), the entry inserted with its
    /// previous hash and its own, the head moved to it.
    pub(crate) async fn append_chained(&mut self, e: &NewAuditEntry, shown: &[PatientId]) -> StoreResult<AuditEntry> {
        let head = self
            .conn
            .fetch_one(sql(format!("SELECT seq, hash FROM audit_chain_head WHERE id = 1{}", C::FOR_UPDATE)))
            .await?;
        let prev: Option<String> = get(&head, "hash")?;
        let prev = match prev {
            Some(h) => h,
            // The first chained append: fold the entries written before the chain.
            None => self.fold_log().await?,
        };
        let id = AuditId::from_uuid(Uuid::now_v7());
        let mut ids = shown.to_vec();
        ids.sort();
        ids.dedup();
        let hash = kat_core::audit_chain::entry_hash(&prev, id, e, &ids);
        let q = sql("INSERT INTO audit_log (id, at, actor_user_id, actor_label, action, resource_type, \
                     resource_id, patient_id, remote_addr, outcome, request_id, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq AS n")
        .bind(id)
        .bind(e.at)
        .bind(e.actor.user_id)
        .bind(&e.actor.label)
        .bind(e.action.as_str())
        .bind(&e.resource_type)
        .bind(&e.resource_id)
        .bind(e.patient_id)
        .bind(&e.remote_addr)
        .bind(e.outcome.as_str())
        .bind(&e.request_id)
        .bind(&prev)
        .bind(&hash);
        let seq = scalar(&mut self.conn, q).await?;
        for chunk in ids.chunks(crate::lists::IDS_PER_STATEMENT) {
            // $1 is the entry, bound once; each patient one more value.
            let mut q = sql("INSERT INTO audit_entry_patients (audit_id, patient_id) VALUES ").bind(id);
            for (i, p) in chunk.iter().enumerate() {
                q.push(if i > 0 { ", ($1, " } else { "($1, " }).push_bind(*p).push(")");
            }
            self.conn.execute(q).await?;
        }
        self.conn
            .execute(sql("UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1").bind(seq).bind(&hash))
            .await?;
        Ok(AuditEntry { id, seq, entry: e.clone() })
    }

    /// The hash the first chained entry follows: every entry written before the chain,
    /// folded from the genesis hash in `seq` order ([`kat_store::audit_walk`]).
    async fn fold_log(&mut self) -> StoreResult<String> {
        let folded = kat_store::audit_walk::walk_audit_chain(self).await?;
        if let Some(b) = folded.broken {
            return Err(StoreError::Corrupt(format!("the audit log cannot be chained: {b}")));
        }
        Ok(folded.walk.head().to_string())
    }
}

#[async_trait]
impl<C: Conn> MetaRepo for SqlTx<C> {
    async fn meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        let row = self.conn.fetch_optional(sql("SELECT value FROM clinic_meta WHERE key = $1").bind(key)).await?;
        row.map(|r| get(&r, "value")).transpose()
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.conn
            .execute(
                sql("INSERT INTO clinic_meta (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value),
            )
            .await?;
        Ok(())
    }
}
