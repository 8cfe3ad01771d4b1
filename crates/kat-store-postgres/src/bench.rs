//! What `kat bench` needs from PostgreSQL beyond the store: a scratch database of its
//! own (created and dropped on the server it is given), and the physical limit the
//! store is measured against: single-row inserts, one transaction each (pgbench-like),
//! into a scratch table that has nothing to do with the clinic's schema.

use crate::unavailable;
use kat_store::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use std::str::FromStr;
use uuid::Uuid;

/// Replaces the database name in a `postgres://` URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A scratch database `kat_bench_<random>` on the server of `admin_url`; drop it with
/// [`ScratchDatabase::drop_database`].
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    pub async fn create(admin_url: &str) -> StoreResult<Self> {
        let name = format!("kat_bench_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(admin_url).await.map_err(unavailable)?;
        // The name is ours (a fixed prefix and hex digits), never input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .map_err(unavailable)?;
        let _ = conn.close().await;
        let url = with_database(admin_url, &name);
        Ok(Self { admin_url: admin_url.to_string(), name, url })
    }

    /// The scratch database's connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, ending any connection still open to it.
    pub async fn drop_database(self) -> StoreResult<()> {
        let mut conn = PgConnection::connect(&self.admin_url).await.map_err(unavailable)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut conn)
            .await
            .map_err(unavailable)?;
        let _ = conn.close().await;
        Ok(())
    }
}

/// Single-row inserts into a scratch table, each its own transaction, over a pool of
/// `connections`: the ceiling a write of one row per request can reach on this server.
pub struct RawInserts {
    pool: PgPool,
}

impl RawInserts {
    /// Connects to `url` and creates the scratch table `kat_bench_raw` (empty).
    pub async fn create(url: &str, connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        let pool = PgPoolOptions::new()
            .max_connections(connections.max(1))
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        sqlx::query("DROP TABLE IF EXISTS kat_bench_raw").execute(&pool).await.map_err(unavailable)?;
        sqlx::query(
            "CREATE TABLE kat_bench_raw (id BIGSERIAL PRIMARY KEY, session_id UUID NOT NULL, \
             taken_at TIMESTAMPTZ NOT NULL DEFAULT now(), content TEXT NOT NULL)",
        )
        .execute(&pool)
        .await
        .map_err(unavailable)?;
        Ok(Self { pool })
    }

    /// Inserts one row in its own transaction (autocommit).
    pub async fn insert_one(&self, session: Uuid, content: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO kat_bench_raw (session_id, content) VALUES ($1, $2)")
            .bind(session)
            .bind(content)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    /// Drops the scratch table and closes the pool.
    pub async fn close(self) {
        let _ = sqlx::query("DROP TABLE IF EXISTS kat_bench_raw").execute(&self.pool).await;
        self.pool.close().await;
    }
}
