//! The SQLite adapter of the kat storage port: the default, embedded database.
//!
//! The database runs in WAL mode with foreign keys on and a busy timeout. Two pools:
//!
//! - **one writer connection**: write transactions start with `BEGIN IMMEDIATE` on it, so
//!   writers queue in the pool in FIFO order (sqlx's pool is fair) instead of each holding
//!   a connection and spinning on SQLite's busy timeout, and a read lock is never upgraded;
//! - **read-only connections** (`SQLITE_OPEN_READONLY`, opened after the migrations): read
//!   transactions start with a deferred `BEGIN` there, a WAL snapshot that never waits for
//!   the writer; a write on them fails with `SQLITE_READONLY` = [`StoreError::ReadOnly`].
//!
//! Times are stored as INTEGER microseconds since the Unix epoch (UTC).

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::audit::{AuditEntry, AuditFilter, MAX_AUDIT_PAGE, NewAuditEntry};
use kat_core::ids::{AuditId, PatientId, TokenId, UserId};
use kat_core::patient::{
    Demographics, Mrn, Patient, PatientQuery, SearchTerm, name_search_key, parse_iso_date, prefix_upper_bound,
};
use kat_core::user::{User, Username};
use kat_store::rows::{AuditRow, DemographicsColumns, PatientRow, UserRow};
use kat_store::*;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;
use uuid::Uuid;

mod dosing;
mod intake;
mod lists;
mod measures;
mod therapy;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another writer (or a reader for a checkpoint) before
/// giving up; also how long a transaction waits for a free connection of its pool.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Read-only connections: concurrent page views and live screens. WAL readers do not
/// block each other or the writer, so this bounds only memory and file handles.
const READERS: u32 = 8;

pub struct SqliteStore {
    /// The one writer connection (`BEGIN IMMEDIATE`).
    pool: SqlitePool,
    /// Read-only connections (deferred `BEGIN`).
    readers: SqlitePool,
    path: PathBuf,
}

/// Whether opening may create a database file that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the file if it is missing (a new clinic).
    CreateIfMissing,
    /// Refuse a missing file: a mistyped path must not become an empty clinic.
    MustExist,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path, mode: OpenMode) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(mode == OpenMode::CreateIfMissing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        backfill_name_keys(&pool).await?;
        // Opened after the migrations: a read-only connection cannot create or migrate
        // the file, and the writer has already switched it to WAL.
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options.create_if_missing(false).read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self { pool, readers, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a consistent copy of the live database to `target` (`VACUUM INTO`), which
    /// must not exist yet. Safe while the server runs: it runs on a read-only connection,
    /// so writers go on while it copies.
    pub async fn backup_to(&self, target: &Path) -> StoreResult<()> {
        let target = target.to_str().ok_or_else(|| StoreError::Unavailable("backup path is not valid UTF-8".into()))?;
        sqlx::query("VACUUM INTO ?").bind(target).execute(&self.readers).await.map_err(map_err)?;
        Ok(())
    }

    /// The newest migration this build knows; a database above it was written by a
    /// newer kat.
    pub fn latest_known_migration() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migration_level(&self) -> StoreResult<i64> {
        let level: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.readers)
            .await
            .map_err(map_err)?;
        Ok(level.unwrap_or(0))
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn begin_read(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.readers.begin_with("BEGIN").await.map_err(map_err)?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn close(&self) {
        // Readers first: the writer, closing last, checkpoints the WAL into the file.
        self.readers.close().await;
        self.pool.close().await;
    }
}

pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

/// Fills the search keys of names registered before migration 0009 (an empty key: a name
/// is never empty) with the one folding every insert and update uses, so old and new rows
/// are found alike. Runs at every open; a no-op once done.
async fn backfill_name_keys(pool: &SqlitePool) -> StoreResult<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
    let rows = sqlx::query(
        "SELECT id, given_name, family_name FROM patients WHERE given_name_key = '' OR family_name_key = ''",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    for row in &rows {
        let (given, family): (String, String) = (get(row, "given_name")?, get(row, "family_name")?);
        sqlx::query("UPDATE patients SET given_name_key = ?, family_name_key = ? WHERE id = ?")
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

/// SQLite names the columns, not the constraint, of a failed UNIQUE check; this maps
/// them back to the constraint names both schemas share.
fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        // SQLITE_READONLY (8) itself, not its extended codes (a reader that cannot
        // recover the WAL is unavailable, not a misused read transaction).
        if db.code().as_deref() == Some("8") {
            return StoreError::ReadOnly;
        }
        let message = db.message();
        if let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") {
            let constraint = match cols {
                "users.username" => constraints::USERS_USERNAME_UNIQUE.to_string(),
                "patients.mrn" | "patients.mrn_seq" => constraints::PATIENTS_MRN_UNIQUE.to_string(),
                "api_tokens.token_hash" => constraints::API_TOKENS_HASH_UNIQUE.to_string(),
                "self_report_links.token_hash" => constraints::SELF_REPORT_LINKS_HASH_UNIQUE.to_string(),
                "safety_alerts.response_id, safety_alerts.kind" => {
                    constraints::SAFETY_ALERTS_RESPONSE_KIND_UNIQUE.to_string()
                }
                other => other.to_string(),
            };
            return StoreError::Conflict { constraint };
        }
        if let Some(name) = db.constraint() {
            return StoreError::Conflict { constraint: name.to_string() };
        }
    }
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn us(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn ts(v: i64) -> StoreResult<Timestamp> {
    Timestamp::from_microsecond(v).map_err(|_| StoreError::Corrupt("stored time out of range".into()))
}

fn opt_ts(v: Option<i64>) -> StoreResult<Option<Timestamp>> {
    v.map(ts).transpose()
}

/// A time column (INTEGER µs UTC) of a row.
fn ts_at(row: &SqliteRow, col: &str) -> StoreResult<Timestamp> {
    ts(get(row, col)?)
}

/// A nullable time column of a row.
fn opt_ts_at(row: &SqliteRow, col: &str) -> StoreResult<Option<Timestamp>> {
    opt_ts(get(row, col)?)
}

fn get<'r, T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>>(row: &'r SqliteRow, col: &str) -> StoreResult<T> {
    row.try_get(col).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

const USER_COLUMNS: &str = "id, username, display_name, role, kind, active";

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    UserRow {
        id: get(row, "id")?,
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        role: get(row, "role")?,
        kind: get(row, "kind")?,
        active: get::<i64>(row, "active")? != 0,
    }
    .into_domain()
}

const PATIENT_COLUMNS: &str = "id, mrn, given_name, family_name, birth_date, sex_at_birth, \
    gender_identity, phone, email, address, emergency_contact_name, \
    emergency_contact_relationship, emergency_contact_phone, created_at, updated_at, version";

fn patient_from_row(row: &SqliteRow) -> StoreResult<Patient> {
    let birth_date: String = get(row, "birth_date")?;
    PatientRow {
        id: get(row, "id")?,
        mrn: get(row, "mrn")?,
        given_name: get(row, "given_name")?,
        family_name: get(row, "family_name")?,
        birth_date: parse_iso_date(&birth_date)
            .ok_or_else(|| StoreError::Corrupt("stored birth date is invalid".into()))?,
        sex_at_birth: get(row, "sex_at_birth")?,
        gender_identity: get(row, "gender_identity")?,
        phone: get(row, "phone")?,
        email: get(row, "email")?,
        address: get(row, "address")?,
        emergency_contact_name: get(row, "emergency_contact_name")?,
        emergency_contact_relationship: get(row, "emergency_contact_relationship")?,
        emergency_contact_phone: get(row, "emergency_contact_phone")?,
        created_at: ts(get(row, "created_at")?)?,
        updated_at: ts(get(row, "updated_at")?)?,
        version: get(row, "version")?,
    }
    .into_domain()
}

fn date_text(d: Date) -> String {
    d.to_string()
}

fn token_from_row(row: &SqliteRow) -> StoreResult<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: TokenId::from_uuid(get(row, "id")?),
        user_id: UserId::from_uuid(get(row, "user_id")?),
        label: get(row, "label")?,
        token_hash: get(row, "token_hash")?,
        created_at: ts(get(row, "created_at")?)?,
        revoked_at: opt_ts(get(row, "revoked_at")?)?,
        last_used_at: opt_ts(get(row, "last_used_at")?)?,
    })
}

fn audit_from_row(row: &SqliteRow) -> StoreResult<AuditEntry> {
    AuditRow {
        seq: get(row, "seq")?,
        id: get(row, "id")?,
        at: ts(get(row, "at")?)?,
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
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(map_err)
    }
}

#[async_trait]
impl UserRepo for SqliteTx {
    async fn insert_user(&mut self, user: &NewUser) -> StoreResult<User> {
        sqlx::query(
            "INSERT INTO users (id, username, display_name, role, kind, password_hash, active, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
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
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    async fn credentials_by_username(&mut self, username: &Username) -> StoreResult<Option<UserCredentials>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?");
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
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1 AND kind = 'staff'")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    async fn set_user_active(&mut self, id: UserId, active: bool) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET active = ? WHERE id = ?")
            .bind(i64::from(active))
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
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
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
impl SessionRepo for SqliteTx {
    async fn insert_session(&mut self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, remote_addr) \
             VALUES (?, ?, ?, ?, ?)",
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
            "SELECT id_hash, user_id, created_at, last_seen_at, remote_addr FROM sessions WHERE id_hash = ?",
        )
        .bind(id_hash)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_err)?;
        row.map(|r| {
            Ok(SessionRecord {
                id_hash: get(&r, "id_hash")?,
                user_id: UserId::from_uuid(get(&r, "user_id")?),
                created_at: ts(get(&r, "created_at")?)?,
                last_seen_at: ts(get(&r, "last_seen_at")?)?,
                remote_addr: get(&r, "remote_addr")?,
            })
        })
        .transpose()
    }

    async fn touch_session(&mut self, id_hash: &str, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
            .bind(us(at))
            .bind(id_hash)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_session(&mut self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_stale_sessions(&mut self, idle_before: Timestamp, created_before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?")
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
impl TokenRepo for SqliteTx {
    async fn insert_token(&mut self, t: &ApiTokenRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, label, token_hash, created_at, revoked_at, last_used_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?");
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
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
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
        sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
            .bind(us(at))
            .bind(id.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

/// The registry search after `select` (its columns, or `EXPLAIN QUERY PLAN SELECT …` in a
/// test): each name word a range on the name keys' indexes, every term ANDed.
fn search_query(select: &str, query: &PatientQuery, limit: u32) -> QueryBuilder<Sqlite> {
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!("{select} FROM patients WHERE 1 = 1"));
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
impl PatientRepo for SqliteTx {
    async fn insert_patient(
        &mut self,
        id: PatientId,
        demographics: &Demographics,
        at: Timestamp,
    ) -> StoreResult<Patient> {
        // The write transaction began IMMEDIATE, so no other writer can take the same
        // number between this read and the insert.
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(mrn_seq), 0) + 1 FROM patients")
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
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
        let sql = format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id = ?");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| patient_from_row(&r))
            .transpose()
    }

    async fn search_patients(&mut self, query: &PatientQuery, limit: u32) -> StoreResult<Vec<Patient>> {
        let mut qb = search_query(&format!("SELECT {PATIENT_COLUMNS}"), query, limit);
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
            "UPDATE patients SET given_name = ?, family_name = ?, birth_date = ?, sex_at_birth = ?, \
             gender_identity = ?, phone = ?, email = ?, address = ?, emergency_contact_name = ?, \
             emergency_contact_relationship = ?, emergency_contact_phone = ?, updated_at = ?, \
             version = version + 1, given_name_key = ?, family_name_key = ? WHERE id = ? AND version = ?",
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
impl AuditRepo for SqliteTx {
    async fn append_audit(&mut self, e: &NewAuditEntry) -> StoreResult<AuditEntry> {
        let id = AuditId::from_uuid(Uuid::now_v7());
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (id, at, actor_user_id, actor_label, action, resource_type, \
             resource_id, patient_id, remote_addr, outcome, request_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
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
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
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
impl MetaRepo for SqliteTx {
    async fn meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM clinic_meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO clinic_meta (key, value) VALUES (?, ?) \
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite chooses for a registry search, one line per step.
    async fn plan(store: &SqliteStore, q: &str) -> Vec<String> {
        let mut qb = search_query("EXPLAIN QUERY PLAN SELECT id", &PatientQuery::parse(q), 50);
        let rows = qb.build().fetch_all(&store.readers).await.unwrap();
        rows.iter().map(|r| r.get::<String, _>("detail")).collect()
    }

    #[tokio::test]
    async fn patient_search_uses_the_name_key_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("kat.db"), OpenMode::CreateIfMissing).await.unwrap();
        for q in ["quin", "Ångström", "quin ada"] {
            let plan = plan(&store, q).await;
            let text = plan.join("\n");
            assert!(
                text.contains("patients_given_name_key_idx (given_name_key>? AND given_name_key<?)")
                    && text.contains("patients_name_key_idx (family_name_key>? AND family_name_key<?)"),
                "`{q}` does not search both name keys as a range:\n{text}"
            );
            assert!(!plan.iter().any(|step| step.starts_with("SCAN patients")), "`{q}` scans the table:\n{text}");
        }
        // No name word: the registry's order is the index's, no sort.
        let text = plan(&store, "").await.join("\n");
        assert!(text.contains("patients_name_key_idx") && !text.contains("TEMP B-TREE"), "{text}");
        let text = plan(&store, "kat-000001").await.join("\n");
        assert!(text.contains("SEARCH patients USING INDEX") && text.contains("(mrn=?)"), "{text}");
    }
}
