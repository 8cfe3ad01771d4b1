//! The SQL of the kat storage port, written once for SQLite and PostgreSQL.
//!
//! Every repository of [`kat_store::Tx`] is implemented here, once, on [`SqlTx`] over an
//! adapter's [`Conn`]: the statements (one text for both databases) and the conversion of
//! each row into its record or domain type. An adapter supplies the dialect (see
//! [`dialect`]): it runs a [`Query`], encodes each [`Arg`] in its own column types, reads
//! a column back ([`SqlRow`]) and maps its errors. Migrations, triggers, connection
//! setup, pools and backups stay in each adapter.
//!
//! This crate knows no driver: it depends on neither sqlx nor a database, so the
//! statements cannot be run except through an adapter.

pub mod dialect;
mod foundation;
mod intake;
mod measures;
mod therapy;
mod transition;

pub use dialect::{Arg, Column, Conn, FromColumn, Query, SqlRow, get, sql, trigger_refusal};
pub use foundation::{backfill_name_keys, search_query};

use async_trait::async_trait;
use kat_store::{DosingRepo, StoreResult, Tx};

/// One transaction of an adapter, with every repository of the port.
pub struct SqlTx<C> {
    conn: C,
}

impl<C: Conn> SqlTx<C> {
    pub fn new(conn: C) -> Self {
        Self { conn }
    }

    /// The adapter's connection, for what only that adapter does.
    pub fn conn(&mut self) -> &mut C {
        &mut self.conn
    }
}

#[async_trait]
impl<C: Conn + DosingRepo> Tx for SqlTx<C> {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.conn.commit().await
    }
}
