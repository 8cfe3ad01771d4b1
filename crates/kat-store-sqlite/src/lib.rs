//! The SQLite adapter of the kat storage port: the default, embedded database.
//!
//! The database runs in WAL mode with foreign keys on, a busy timeout and every commit
//! synced to disk (`synchronous=FULL`, [`Durability`]; a clinic may choose `NORMAL`).
//! A new database file and its backups are created readable by their owner only. Two
//! pools:
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
use kat_core::patient::parse_iso_date;
use kat_store::*;
use kat_store_sql::{Conn, Dialect, SqlTx};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod bench;

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

/// Creates `path` as an empty file readable and writable by its owner only (0600 on
/// Unix) when it does not exist, so the database holds no patient data readable by
/// others: SQLite gives its `-wal` and `-shm` files the database file's permissions.
/// An existing file is left as it is.
fn create_private(path: &Path) -> StoreResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!("creating {}: {e}", path.display()))),
    }
}

/// How hard a commit presses its data to the disk (SQLite's `synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `FULL` (the default): the WAL is synced at every commit, so an acknowledged write
    /// survives a power cut.
    #[default]
    Full,
    /// `NORMAL`: synced at checkpoints only; a power cut can lose the last commits
    /// (never corrupt the database). A clinic may choose it for speed (clinic policy).
    Normal,
}

/// The connection settings of every kat database (and of `kat bench`'s raw limit).
fn connect_options(path: &Path, mode: OpenMode, durability: Durability) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(mode == OpenMode::CreateIfMissing)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        })
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and applies pending migrations, with
    /// every commit synced to disk ([`Durability::Full`]).
    pub async fn open(path: &Path, mode: OpenMode) -> StoreResult<Self> {
        Self::open_with(path, mode, Durability::default()).await
    }

    /// [`SqliteStore::open`] with the clinic's chosen durability.
    pub async fn open_with(path: &Path, mode: OpenMode, durability: Durability) -> StoreResult<Self> {
        if mode == OpenMode::CreateIfMissing {
            create_private(path)?;
        }
        let options = connect_options(path, mode, durability);
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
        // The copy is created empty and private first; VACUUM INTO fills an empty file.
        create_private(Path::new(target))?;
        sqlx::query("VACUUM INTO ?").bind(target).execute(&self.readers).await.map_err(map_err)?;
        Ok(())
    }

    /// The newest migration this build knows; a database above it was written by a
    /// newer kat.
    pub fn latest_known_migration() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

/// What [`check_file`] found in a database file, before anything opens it as a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// `PRAGMA integrity_check`'s findings; empty when it answered `ok`.
    pub integrity_problems: Vec<String>,
    /// The newest migration applied to the file, or `None` when it has no migration
    /// table (a SQLite file that is not a kat database).
    pub migration_level: Option<i64>,
}

/// Checks a SQLite file that is not in use (a backup being restored): SQLite's own
/// `PRAGMA integrity_check` over every page and index, and whether the file is a kat
/// database at all. Nothing is migrated or written.
pub async fn check_file(path: &Path) -> StoreResult<FileCheck> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(unavailable)?;
    let rows: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check(20)").fetch_all(&mut conn).await.map_err(map_err)?;
    let integrity_problems = if rows.len() == 1 && rows[0] == "ok" { Vec::new() } else { rows };
    let has_migrations: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(&mut conn)
            .await
            .map_err(map_err)?;
    let migration_level = if has_migrations == 1 {
        let level: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .map_err(map_err)?;
        Some(level.unwrap_or(0))
    } else {
        None
    };
    conn.close().await.map_err(map_err)?;
    Ok(FileCheck { integrity_problems, migration_level })
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
        Ok(Box::new(SqliteTx::new(SqliteConn { tx })))
    }

    async fn begin_read(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.readers.begin_with("BEGIN").await.map_err(map_err)?;
        Ok(Box::new(SqliteTx::new(SqliteConn { tx })))
    }

    async fn close(&self) {
        // Readers first: the writer, closing last, checkpoints the WAL into the file.
        self.readers.close().await;
        self.pool.close().await;
    }

    async fn missing_append_only_guards(&self) -> StoreResult<Vec<String>> {
        let present: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&self.readers)
            .await
            .map_err(map_err)?;
        Ok(kat_store::missing_guards(&present))
    }
}

/// A transaction on SQLite: the shared repositories ([`kat_store_sql`]) over a
/// [`SqliteConn`].
pub type SqliteTx = SqlTx<SqliteConn>;

/// Opens a write transaction and fills the search keys of names registered before
/// migration 0009 ([`kat_store_sql::backfill_name_keys`]).
async fn backfill_name_keys(pool: &SqlitePool) -> StoreResult<()> {
    let mut conn = SqliteConn { tx: pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)? };
    kat_store_sql::backfill_name_keys(&mut conn).await?;
    conn.commit().await
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// SQLite names the columns, not the constraint, of a failed UNIQUE check (and of a
/// partial unique index); this maps them back to the constraint names both schemas
/// share.
fn unique_constraint(columns: &str) -> Option<&'static str> {
    use kat_store::dosing::dosing_constraints as dosing;
    use kat_store::ledger::ledger_constraints as ledger;
    Some(match columns {
        "users.username" => constraints::USERS_USERNAME_UNIQUE,
        "patients.mrn" | "patients.mrn_seq" => constraints::PATIENTS_MRN_UNIQUE,
        "api_tokens.token_hash" => constraints::API_TOKENS_HASH_UNIQUE,
        "self_report_links.token_hash" => constraints::SELF_REPORT_LINKS_HASH_UNIQUE,
        "safety_alerts.response_id, safety_alerts.kind" => constraints::SAFETY_ALERTS_RESPONSE_KIND_UNIQUE,
        "safety_plans.patient_id, safety_plans.version" => therapy_constraints::SAFETY_PLANS_VERSION_UNIQUE,
        "session_alarms.vital_id, session_alarms.kind" => dosing::SESSION_ALARMS_VITAL_KIND_UNIQUE,
        "session_events.session_id" => dosing::SESSION_EVENTS_REMS_SUBMITTED_ONCE,
        "ledger_entries.seq" => ledger::ENTRIES_SEQ_UNIQUE,
        "ledger_entries.id" => ledger::ENTRIES_ID_UNIQUE,
        "ledger_entries.prev_hash" => ledger::ENTRIES_PREV_HASH_UNIQUE,
        "ledger_locations.name" => ledger::LOCATIONS_NAME_UNIQUE,
        _ => return None,
    })
}

fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        // SQLITE_READONLY (8) itself, not its extended codes (a reader that cannot
        // recover the WAL is unavailable, not a misused read transaction).
        if db.code().as_deref() == Some("8") {
            return StoreError::ReadOnly;
        }
        let message = db.message();
        if let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") {
            let constraint = unique_constraint(cols).map_or_else(|| cols.to_string(), str::to_string);
            return StoreError::Conflict { constraint };
        }
        // A named CHECK constraint (`CHECK constraint failed: ledger_containers_on_hand_check`),
        // as PostgreSQL names it.
        if let Some(name) = message.strip_prefix("CHECK constraint failed: ") {
            return StoreError::Conflict { constraint: name.to_string() };
        }
        if let Some(refusal) = kat_store_sql::trigger_refusal(message) {
            return refusal;
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

kat_store_sql::sqlx_conn! {
    conn: SqliteConn,
    db: Sqlite,
    row: SqliteRow,
    bind_time: |t: Timestamp| t.as_microsecond(),
    bind_date: |d: Date| d.to_string(),
    read_int: get,
    read_time: read_time,
    read_date: read_date,
    map_err: map_err,
}

/// SQLite's encoding: times as INTEGER µs UTC, dates as ISO text; booleans are 0/1 and
/// UUIDs 16-byte blobs, as sqlx encodes them.
impl Dialect for SqliteConn {
    /// The write transaction began IMMEDIATE: it holds the one write lock already.
    const FOR_UPDATE: &'static str = "";

    /// Inside the one writer's IMMEDIATE transaction no other writer can take the same
    /// number between this read and the insert.
    const NEXT_MRN: &'static str = "SELECT COALESCE(MAX(mrn_seq), 0) + 1 AS n FROM patients";

    /// No `LATERAL`: the session's newest rowids, picked by a reverse walk of
    /// `(session_id, taken_at, id)` limited to `$2`, then read by rowid.
    const NEWEST_VITALS: &'static str = "JOIN session_vitals v ON v.rowid IN \
        (SELECT r.rowid FROM session_vitals r WHERE r.session_id = s.id \
         ORDER BY r.taken_at DESC, r.id DESC LIMIT $2)";
}

fn read_time(row: &SqliteRow, col: &str) -> StoreResult<Option<Timestamp>> {
    get::<Option<i64>>(row, col)?.map(ts).transpose()
}

fn read_date(row: &SqliteRow, col: &str) -> StoreResult<Option<Date>> {
    get::<Option<String>>(row, col)?
        .map(|s| parse_iso_date(&s).ok_or_else(|| StoreError::Corrupt(format!("column {col}: not a date"))))
        .transpose()
}

fn ts(v: i64) -> StoreResult<Timestamp> {
    Timestamp::from_microsecond(v).map_err(|_| StoreError::Corrupt("stored time out of range".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kat_core::patient::PatientQuery;
    use kat_store_sql::search_query;
    use sqlx::Row as _;

    /// The plan SQLite chooses for a registry search, one line per step.
    async fn plan(store: &SqliteStore, q: &str) -> Vec<String> {
        let query = PatientQuery::parse(q);
        let rows =
            to_sqlx(search_query("EXPLAIN QUERY PLAN SELECT id", &query, 50)).fetch_all(&store.readers).await.unwrap();
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
