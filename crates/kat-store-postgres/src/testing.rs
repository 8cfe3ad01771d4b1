//! Throw-away databases for tests: one fresh database per test, dropped afterwards.
//!
//! The server is found through `KAT_TEST_PG_URL` (an admin connection URL), else
//! `postgres://postgres@127.0.0.1:5432/postgres`. When none answers, tests are skipped
//! with a loud notice, unless `KAT_REQUIRE_PG=1` (set by the README's test command),
//! which turns the skip into a failure.

use crate::PostgresStore;
use kat_store::Store;
use sqlx::{Connection, PgConnection};
use std::ops::Deref;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn admin_url() -> String {
    std::env::var("KAT_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

fn required() -> bool {
    std::env::var("KAT_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// A fresh database and a store connected to it. Dropping it drops the database.
pub struct TestDatabase {
    store: Option<PostgresStore>,
    name: String,
    url: String,
}

impl TestDatabase {
    /// The connection URL of the fresh database, for a server under test.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn store(&self) -> &PostgresStore {
        self.store.as_ref().expect("store present until drop")
    }
}

impl Deref for TestDatabase {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        self.store()
    }
}

pub use crate::bench::with_database;

/// A fresh, migrated database, or `None` when no server answers (and none is required).
pub async fn fresh_database() -> Option<TestDatabase> {
    let admin = admin_url();
    let mut conn = match PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(e) if !required() => {
            eprintln!(
                "\n*** SKIPPING PostgreSQL test: no server at {admin} ({e}). \
                 Set KAT_TEST_PG_URL, or run the README's test command. ***\n"
            );
            return None;
        }
        Err(e) => panic!("KAT_REQUIRE_PG=1 but PostgreSQL at {admin} is unreachable: {e}"),
    };
    let name = format!("kat_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let url = with_database(&admin, &name);
    let store = PostgresStore::connect(&url).await.expect("connect to test database");
    Some(TestDatabase { store: Some(store), name, url })
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = admin_url();
        // Drop runs outside async, and possibly on a runtime that is blocked right now;
        // a short-lived thread with its own runtime drops the database (FORCE ends the
        // pool's connections server-side) so tests leave nothing behind.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
        drop(self.store.take());
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    }
}
