//! The physical limit `kat bench` measures the store against: single-row inserts, one
//! `BEGIN IMMEDIATE` transaction each, into a scratch table of a scratch database file
//! opened with exactly the store's connection settings (WAL, `synchronous = NORMAL`,
//! foreign keys, busy timeout).

use crate::{Durability, OpenMode, connect_options, map_err, unavailable};
use kat_store::StoreResult;
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;
use std::path::Path;
use uuid::Uuid;

pub struct RawInserts {
    pool: SqlitePool,
}

impl RawInserts {
    /// Creates (or empties) the scratch database at `path` with the table `bench_raw`,
    /// over a pool of `connections` (SQLite has one writer at a time whatever the pool).
    pub async fn create(path: &Path, connections: u32) -> StoreResult<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(connections.max(1))
            .connect_with(connect_options(path, OpenMode::CreateIfMissing, Durability::default()))
            .await
            .map_err(unavailable)?;
        sqlx::query("DROP TABLE IF EXISTS bench_raw").execute(&pool).await.map_err(map_err)?;
        sqlx::query(
            "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, \
             taken_at INTEGER NOT NULL DEFAULT (unixepoch('subsec') * 1000000), content TEXT NOT NULL)",
        )
        .execute(&pool)
        .await
        .map_err(map_err)?;
        Ok(Self { pool })
    }

    /// Inserts one row in its own write transaction, as the store begins its writes.
    pub async fn insert_one(&self, session: Uuid, content: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        sqlx::query("INSERT INTO bench_raw (session_id, content) VALUES (?, ?)")
            .bind(session.to_string())
            .bind(content)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}
