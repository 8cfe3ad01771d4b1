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
use kat_store::*;
use kat_store_sql::{Conn, Dialect, SqlTx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Column as _, PgPool, Postgres, Row as _, TypeInfo as _};
use std::str::FromStr;

pub mod bench;
#[cfg(feature = "testing")]
pub mod testing;

mod notify;

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
        Ok(Box::new(PostgresTx::new(PostgresConn { tx })))
    }

    async fn begin_read(&self) -> StoreResult<Box<dyn Tx>> {
        // REPEATABLE READ: one snapshot for the whole transaction, as a SQLite WAL reader
        // has; a read-only transaction never fails to serialise.
        let tx = self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(map_err)?;
        Ok(Box::new(PostgresTx::new(PostgresConn { tx })))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn missing_append_only_guards(&self) -> StoreResult<Vec<String>> {
        // Enabled triggers on the tables of this database's search path (a trigger
        // disabled with ALTER TABLE … DISABLE TRIGGER counts as missing).
        let present: Vec<String> = sqlx::query_scalar(
            "SELECT t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND c.relname IN ('audit_log', 'audit_entry_patients') \
             AND pg_table_is_visible(c.oid)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(kat_store::missing_guards(&present))
    }

    async fn notify(&self, payload: &str) -> StoreResult<()> {
        notify::notify(&self.pool, payload).await
    }

    async fn listen(&self) -> StoreResult<Option<Box<dyn kat_store::Listener>>> {
        notify::listen(&self.pool).await.map(Some)
    }
}

/// A transaction on PostgreSQL: the shared repositories ([`kat_store_sql`]) over a
/// [`PostgresConn`].
pub type PostgresTx = SqlTx<PostgresConn>;

/// Opens a transaction and fills the search keys of names registered before migration
/// 0009 ([`kat_store_sql::backfill_name_keys`]).
async fn backfill_name_keys(pool: &PgPool) -> StoreResult<()> {
    let mut conn = PostgresConn { tx: pool.begin().await.map_err(map_err)? };
    kat_store_sql::backfill_name_keys(&mut conn).await?;
    conn.commit().await
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// SQLSTATE of a write in a `READ ONLY` transaction.
const READ_ONLY_SQL_TRANSACTION: &str = "25006";

/// PostgreSQL names the violated constraint; the names are the ones both schemas share.
fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.code().as_deref() == Some(READ_ONLY_SQL_TRANSACTION) {
            return StoreError::ReadOnly;
        }
        if let Some(name) = db.constraint() {
            let constraint = match name {
                "patients_mrn_seq_key" => constraints::PATIENTS_MRN_UNIQUE,
                other => other,
            };
            return StoreError::Conflict { constraint: constraint.to_string() };
        }
        if let Some(refusal) = kat_store_sql::trigger_refusal(db.message()) {
            return refusal;
        }
    }
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Unavailable(other.to_string()),
    }
}

kat_store_sql::sqlx_conn! {
    conn: PostgresConn,
    db: Postgres,
    row: PgRow,
    bind_time: |t: Timestamp| t.to_sqlx(),
    bind_date: |d: jiff::civil::Date| d.to_sqlx(),
    read_int: read_int,
    read_time: read_time,
    read_date: read_date,
    map_err: map_err,
}

/// PostgreSQL's own types: UUID, TEXT, BIGINT, BOOLEAN, TIMESTAMPTZ, DATE.
impl Dialect for PostgresConn {
    const FOR_UPDATE: &'static str = " FOR UPDATE";

    /// A sequence never hands out a number twice, even to concurrent transactions; a
    /// rolled-back registration leaves a gap, as MRN sequences in clinics do.
    const NEXT_MRN: &'static str = "SELECT nextval('patients_mrn_seq_seq') AS n";

    /// A backward index scan of `(session_id, taken_at, id)` per session, limited to `$2`.
    const NEWEST_VITALS: &'static str = "CROSS JOIN LATERAL \
        (SELECT * FROM session_vitals r WHERE r.session_id = s.id \
         ORDER BY r.taken_at DESC, r.id DESC LIMIT $2) v";
}

/// BIGINT, or a narrower INTEGER or SMALLINT column widened.
fn read_int(row: &PgRow, col: &str) -> StoreResult<Option<i64>> {
    let column = row.try_column(col).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))?;
    match column.type_info().name() {
        "INT4" => Ok(get::<Option<i32>>(row, col)?.map(i64::from)),
        "INT2" => Ok(get::<Option<i16>>(row, col)?.map(i64::from)),
        _ => get(row, col),
    }
}

fn read_time(row: &PgRow, col: &str) -> StoreResult<Option<Timestamp>> {
    Ok(get::<Option<jiff_sqlx::Timestamp>>(row, col)?.map(|t| t.to_jiff()))
}

fn read_date(row: &PgRow, col: &str) -> StoreResult<Option<jiff::civil::Date>> {
    Ok(get::<Option<jiff_sqlx::Date>>(row, col)?.map(|d| d.to_jiff()))
}
