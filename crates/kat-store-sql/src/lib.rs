//! The SQL of the kat storage port, written once for SQLite and PostgreSQL.
//!
//! Every repository of [`kat_store::Tx`] is implemented here, once, on [`SqlTx`] over an
//! adapter's [`Conn`]: the statements (one text for both databases) and the conversion of
//! each row into its record or domain type. An adapter supplies the dialect (see
//! [`dialect`]): it runs a [`Query`], encodes each [`Arg`] in its own column types, reads
//! a column back ([`SqlRow`]) and maps its errors. Migrations, triggers, connection
//! setup, pools and backups stay in each adapter.
//!
//! This crate depends on no driver (nor on sqlx): the glue from a [`Query`] to sqlx,
//! [`sqlx_conn!`], is expanded inside each adapter around its dialect.

mod access;
pub mod dialect;
mod dosing;
mod floor;
mod foundation;
mod intake;
mod ledger;
mod lists;
mod measures;
mod therapy;

pub use dialect::{Arg, Column, Conn, Dialect, FromColumn, Query, SqlRow, get, sql, trigger_refusal};

/// What [`sqlx_conn!`] names in the adapter that expands it.
#[doc(hidden)]
pub mod __private {
    pub use async_trait::async_trait;
    pub use jiff::Timestamp;
    pub use jiff::civil::Date;
    pub use kat_store::{StoreError, StoreResult};
    pub use uuid::Uuid;
}
pub use foundation::{backfill_name_keys, search_query};

use async_trait::async_trait;
use kat_store::{StoreResult, Tx};

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
impl<C: Conn> Tx for SqlTx<C> {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.conn.commit().await
    }
}
