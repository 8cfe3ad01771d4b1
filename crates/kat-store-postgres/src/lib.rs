//! The PostgreSQL adapter of the kat storage port, for larger sites.
//!
//! Times are TIMESTAMPTZ, dates DATE, ids UUID. Transactions run at READ COMMITTED;
//! MRNs come from a sequence and edits check the row version, so concurrent writers
//! cannot collide. Read transactions are `REPEATABLE READ READ ONLY` (one snapshot, as on
//! SQLite): a write in one fails with SQLSTATE 25006, reported as [`StoreError::ReadOnly`]
//! like SQLite's.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use kat_core::audit::{AuditEntry, AuditFilter, MAX_AUDIT_PAGE, NewAuditEntry};
use kat_core::ids::{AuditId, PatientId, TokenId, UserId};
use kat_core::patient::{Demographics, Mrn, Patient, PatientQuery, SearchTerm, name_search_key, prefix_upper_bound};
use kat_core::user::{User, Username};
use kat_store::rows::{AuditRow, DemographicsColumns, PatientRow, UserRow};
use kat_store::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};
use std::str::FromStr;
use uuid::Uuid;

#[cfg(feature = "testing")]
pub mod testing;

mod dosing;
mod intake;
mod lists;
mod measures;
mod therapy;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        let pool = PgPoolOptions::new().max_connections(16).connect_with(options).await.map_err(unavailable)?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        backfill_name_keys(&pool).await?;
        Ok(Self { pool })
    }

    /// The newest migration this build knows.
    pub fn latest_known_migration() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migration_level(&self) -> StoreResult<i64> {
        let level: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(level.unwrap_or(0))
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin().await.map_err(map_err)?;
        Ok(Box::new(PostgresTx { tx }))
    }

    async fn begin_read(&self) -> StoreResult<Box<dyn Tx>> {
        // REPEATABLE READ: one snapshot for the whole transaction, as a SQLite WAL reader
        // has; a read-only transaction never fails to serialise.
        let tx = self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(map_err)?;
        Ok(Box::new(PostgresTx { tx }))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

pub struct PostgresTx {
    tx: Transaction<'static, Postgres>,
}

/// Fills the search keys of names registered before migration 0009 (an empty key: a name
/// is never empty) with the one folding every insert and update uses, so old and new rows
/// are found alike. Runs at every connect; a no-op once done.
async fn backfill_name_keys(pool: &PgPool) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let rows = sqlx::query(
        "SELECT id, given_name, family_name FROM patients WHERE given_name_key = '' OR family_name_key = '' \
         FOR UPDATE",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    for row in &rows {
        let (given, family): (String, String) = (get(row, "given_name")?, get(row, "family_name")?);
        sqlx::query("UPDATE patients SET given_name_key = $1, family_name_key = $2 WHERE id = $3")
            .bind(name_search_key(&given))
            .bind(name_search_key(&family))
            .bind(get::<Uuid>(row, "id")?)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// SQLSTATE of a write in a `READ ONLY` transaction.
const READ_ONLY_SQL_TRANSACTION: &str = "25006";

/// PostgreSQL names the violated constraint; the names are the ones both schemas share.
fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.code().as_deref() == Some(READ_ONLY_SQL_TRANSACTION)
    {
        return StoreError::ReadOnly;
    }
    if let sqlx::Error::Database(db) = &e
        && let Some(name) = db.constraint()
    {
        let constraint = match name {
            "patients_mrn_seq_key" => constraints::PATIENTS_MRN_UNIQUE,
            other => other,
        };
        return StoreError::Conflict { constraint: constraint.to_string() };
    }
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn us(t: Timestamp) -> jiff_sqlx::Timestamp {
    t.to_sqlx()
}

fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(row: &'r PgRow, col: &str) -> StoreResult<T> {
    row.try_get(col).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

fn ts(row: &PgRow, col: &str) -> StoreResult<Timestamp> {
    Ok(get::<jiff_sqlx::Timestamp>(row, col)?.to_jiff())
}

fn opt_ts(row: &PgRow, col: &str) -> StoreResult<Option<Timestamp>> {
    Ok(get::<Option<jiff_sqlx::Timestamp>>(row, col)?.map(|t| t.to_jiff()))
}

const USER_COLUMNS: &str = "id, username, display_name, role, kind, active";

fn user_from_row(row: &PgRow) -> StoreResult<User> {
    UserRow {
        id: get(row, "id")?,
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        role: get(row, "role")?,
        kind: get(row, "kind")?,
        active: get(row, "active")?,
    }
    .into_domain()
}

const PATIENT_COLUMNS: &str = "id, mrn, given_name, family_name, birth_date, sex_at_birth, \
    gender_identity, phone, email, address, emergency_contact_name, \
    emergency_contact_relationship, emergency_contact_phone, created_at, updated_at, version";

fn patient_from_row(row: &PgRow) -> StoreResult<Patient> {
    PatientRow {
        id: get(row, "id")?,
        mrn: get(row, "mrn")?,
        given_name: get(row, "given_name")?,
        family_name: get(row, "family_name")?,
        birth_date: get::<jiff_sqlx::Date>(row, "birth_date")?.to_jiff(),
        sex_at_birth: get(row, "sex_at_birth")?,
        gender_identity: get(row, "gender_identity")?,
        phone: get(row, "phone")?,
        email: get(row, "email")?,
        address: get(row, "address")?,
        emergency_contact_name: get(row, "emergency_contact_name")?,
        emergency_contact_relationship: get(row, "emergency_contact_relationship")?,
        emergency_contact_phone: get(row, "emergency_contact_phone")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        version: get(row, "version")?,
    }
    .into_domain()
}

fn date_text(d: jiff::civil::Date) -> jiff_sqlx::Date {
    d.to_sqlx()
}

fn token_from_row(row: &PgRow) -> StoreResult<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: TokenId::from_uuid(get(row, "id")?),
        user_id: UserId::from_uuid(get(row, "user_id")?),
        label: get(row, "label")?,
        token_hash: get(row, "token_hash")?,
        created_at: ts(row, "created_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
    })
}

fn audit_from_row(row: &PgRow) -> StoreResult<AuditEntry> {
    AuditRow {
        seq: get(row, "seq")?,
        id: get(row, "id")?,
        at: ts(row, "at")?,
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

#[async_trait]
impl Tx for PostgresTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(map_err)
    }
}

#[async_trait]
impl UserRepo for PostgresTx {
    async fn insert_user(&mut self, user: &NewUser) -> StoreResult<User> {
        sqlx::query(
            "INSERT INTO users (id, username, display_name, role, kind, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)",
        )
        .bind(user.id.as_uuid())
        .bind(user.username.as_str())
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(user.kind.as_str())
        .bind(&user.password_hash)
        .bind(us(user.created_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        self.user_by_id(user.id).await?.ok_or(StoreError::NotFound)
    }

    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    async fn credentials_by_username(&mut self, username: &Username) -> StoreResult<Option<UserCredentials>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username.as_str())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?;
        row.map(|r| Ok(UserCredentials { user: user_from_row(&r)?, password_hash: get(&r, "password_hash")? }))
            .transpose()
    }

    async fn list_users(&mut self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(user_from_row)
            .collect()
    }

    async fn count_active_admins(&mut self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active AND kind = 'staff'")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    async fn set_user_active(&mut self, id: UserId, active: bool) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(active)
            .bind(id.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[async_trait]
impl SessionRepo for PostgresTx {
    async fn insert_session(&mut self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, remote_addr) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.id_hash)
        .bind(s.user_id.as_uuid())
        .bind(us(s.created_at))
        .bind(us(s.last_seen_at))
        .bind(&s.remote_addr)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn session_by_hash(&mut self, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, created_at, last_seen_at, remote_addr FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_err)?;
        row.map(|r| {
            Ok(SessionRecord {
                id_hash: get(&r, "id_hash")?,
                user_id: UserId::from_uuid(get(&r, "user_id")?),
                created_at: ts(&r, "created_at")?,
                last_seen_at: ts(&r, "last_seen_at")?,
                remote_addr: get(&r, "remote_addr")?,
            })
        })
        .transpose()
    }

    async fn touch_session(&mut self, id_hash: &str, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(us(at))
            .bind(id_hash)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_session(&mut self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_stale_sessions(&mut self, idle_before: Timestamp, created_before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(us(idle_before))
            .bind(us(created_before))
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

const TOKEN_COLUMNS: &str = "id, user_id, label, token_hash, created_at, revoked_at, last_used_at";

#[async_trait]
impl TokenRepo for PostgresTx {
    async fn insert_token(&mut self, t: &ApiTokenRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, label, token_hash, created_at, revoked_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.id.as_uuid())
        .bind(t.user_id.as_uuid())
        .bind(&t.label)
        .bind(&t.token_hash)
        .bind(us(t.created_at))
        .bind(t.revoked_at.map(us))
        .bind(t.last_used_at.map(us))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn token_by_hash(&mut self, hash: &str) -> StoreResult<Option<ApiTokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| token_from_row(&r))
            .transpose()
    }

    async fn list_tokens(&mut self) -> StoreResult<Vec<ApiTokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(token_from_row)
            .collect()
    }

    async fn revoke_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<()> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(us(at))
            .bind(id.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn touch_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(us(at))
            .bind(id.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

/// The registry search: each name word a range on the name keys' indexes, every term
/// ANDed, in the registry's order, at most `limit` (the caller may add an OFFSET).
fn search_query(query: &PatientQuery, limit: u32) -> QueryBuilder<Postgres> {
    let mut qb: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE 1 = 1"));
    for term in &query.terms {
        match term {
            SearchTerm::Name(prefix) => {
                // A prefix of either name, as a range on each name's key index.
                let upper = prefix_upper_bound(prefix);
                qb.push(" AND (");
                for (i, column) in ["given_name_key", "family_name_key"].into_iter().enumerate() {
                    if i > 0 {
                        qb.push(" OR ");
                    }
                    qb.push(format!("({column} >= ")).push_bind(prefix.clone());
                    if let Some(upper) = &upper {
                        qb.push(format!(" AND {column} < ")).push_bind(upper.clone());
                    }
                    qb.push(")");
                }
                qb.push(")");
            }
            SearchTerm::BirthDate(date) => {
                qb.push(" AND birth_date = ").push_bind(date_text(*date));
            }
            SearchTerm::Mrn(mrn) => {
                qb.push(" AND mrn = ").push_bind(mrn.as_str().to_string());
            }
        }
    }
    qb.push(" ORDER BY family_name_key, given_name_key, mrn LIMIT ").push_bind(i64::from(limit));
    qb
}

#[async_trait]
impl PatientRepo for PostgresTx {
    async fn insert_patient(
        &mut self,
        id: PatientId,
        demographics: &Demographics,
        at: Timestamp,
    ) -> StoreResult<Patient> {
        // A sequence never hands out a number twice, even to concurrent transactions;
        // a rolled-back registration leaves a gap, as MRN sequences in clinics do.
        let next: i64 = sqlx::query_scalar("SELECT nextval('patients_mrn_seq_seq')")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_err)?;
        let mrn = Mrn::from_sequence(next as u64);
        let c = DemographicsColumns::from(demographics);
        sqlx::query(
            "INSERT INTO patients (id, mrn_seq, mrn, given_name, family_name, birth_date, sex_at_birth, \
             gender_identity, phone, email, address, emergency_contact_name, \
             emergency_contact_relationship, emergency_contact_phone, created_at, updated_at, version, \
             given_name_key, family_name_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $18)",
        )
        .bind(id.as_uuid())
        .bind(next)
        .bind(mrn.as_str())
        .bind(c.given_name)
        .bind(c.family_name)
        .bind(date_text(c.birth_date))
        .bind(c.sex_at_birth)
        .bind(c.gender_identity)
        .bind(c.phone)
        .bind(c.email)
        .bind(c.address)
        .bind(c.emergency_contact_name)
        .bind(c.emergency_contact_relationship)
        .bind(c.emergency_contact_phone)
        .bind(us(at))
        .bind(us(at))
        .bind(c.given_name_key)
        .bind(c.family_name_key)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        self.patient_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn patient_by_id(&mut self, id: PatientId) -> StoreResult<Option<Patient>> {
        let sql = format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| patient_from_row(&r))
            .transpose()
    }

    async fn search_patients(&mut self, query: &PatientQuery, limit: u32) -> StoreResult<Vec<Patient>> {
        let mut qb = search_query(query, limit);
        qb.build().fetch_all(&mut *self.tx).await.map_err(map_err)?.iter().map(patient_from_row).collect()
    }

    async fn update_patient(
        &mut self,
        id: PatientId,
        expected_version: i64,
        demographics: &Demographics,
        at: Timestamp,
    ) -> StoreResult<Patient> {
        let c = DemographicsColumns::from(demographics);
        let done = sqlx::query(
            "UPDATE patients SET given_name = $1, family_name = $2, birth_date = $3, sex_at_birth = $4, \
             gender_identity = $5, phone = $6, email = $7, address = $8, emergency_contact_name = $9, \
             emergency_contact_relationship = $10, emergency_contact_phone = $11, updated_at = $12, \
             version = version + 1, given_name_key = $13, family_name_key = $14 WHERE id = $15 AND version = $16",
        )
        .bind(c.given_name)
        .bind(c.family_name)
        .bind(date_text(c.birth_date))
        .bind(c.sex_at_birth)
        .bind(c.gender_identity)
        .bind(c.phone)
        .bind(c.email)
        .bind(c.address)
        .bind(c.emergency_contact_name)
        .bind(c.emergency_contact_relationship)
        .bind(c.emergency_contact_phone)
        .bind(us(at))
        .bind(c.given_name_key)
        .bind(c.family_name_key)
        .bind(id.as_uuid())
        .bind(expected_version)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return match self.patient_by_id(id).await? {
                Some(_) => Err(StoreError::StaleVersion),
                None => Err(StoreError::NotFound),
            };
        }
        self.patient_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn count_patients(&mut self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&mut *self.tx).await.map_err(map_err)
    }
}

#[async_trait]
impl AuditRepo for PostgresTx {
    async fn append_audit(&mut self, e: &NewAuditEntry) -> StoreResult<AuditEntry> {
        let id = AuditId::from_uuid(Uuid::now_v7());
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (id, at, actor_user_id, actor_label, action, resource_type, \
             resource_id, patient_id, remote_addr, outcome, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq",
        )
        .bind(id.as_uuid())
        .bind(us(e.at))
        .bind(e.actor.user_id.map(|u| u.as_uuid()))
        .bind(&e.actor.label)
        .bind(e.action.as_str())
        .bind(&e.resource_type)
        .bind(&e.resource_id)
        .bind(e.patient_id.map(|p| p.as_uuid()))
        .bind(&e.remote_addr)
        .bind(e.outcome.as_str())
        .bind(&e.request_id)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(AuditEntry { id, seq, entry: e.clone() })
    }

    async fn query_audit(&mut self, f: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT seq, id, at, actor_user_id, actor_label, action, resource_type, resource_id, \
             patient_id, remote_addr, outcome, request_id FROM audit_log WHERE 1 = 1",
        );
        if let Some(u) = f.user_id {
            qb.push(" AND actor_user_id = ").push_bind(u.as_uuid());
        }
        if let Some(p) = f.patient_id {
            // Entries about the patient, and list views that showed the patient.
            qb.push(" AND (patient_id = ").push_bind(p.as_uuid());
            qb.push(" OR id IN (SELECT audit_id FROM audit_entry_patients WHERE patient_id = ").push_bind(p.as_uuid());
            qb.push("))");
        }
        if let Some(from) = f.from {
            qb.push(" AND at >= ").push_bind(us(from));
        }
        if let Some(to) = f.to {
            qb.push(" AND at < ").push_bind(us(to));
        }
        if let Some(before) = f.before_seq {
            qb.push(" AND seq < ").push_bind(before);
        }
        qb.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(f.limit.clamp(1, MAX_AUDIT_PAGE)));
        qb.build().fetch_all(&mut *self.tx).await.map_err(map_err)?.iter().map(audit_from_row).collect()
    }
}

#[async_trait]
impl MetaRepo for PostgresTx {
    async fn meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM clinic_meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO clinic_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }
}
