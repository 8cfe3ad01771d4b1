//! What each adapter supplies: a connection that runs a [`Query`] and rows that read a
//! column as one of a few kinds of value. The SQL itself is the same text for both
//! databases: `$1`, `$2`… placeholders (sqlx's SQLite driver binds `$N` by number, as
//! PostgreSQL does), `TRUE`/`FALSE`, `CAST(… AS TEXT)`, `ON CONFLICT … DO UPDATE`.
//!
//! What differs is the dialect, kept in each adapter: how a time, a date and a boolean
//! are stored (SQLite: INTEGER µs UTC, ISO text, 0/1; PostgreSQL: TIMESTAMPTZ, DATE,
//! BOOLEAN), integer widths, the SQL text in [`Dialect`], and how a refused
//! write names its constraint (SQLite names the columns of a failed UNIQUE check; the
//! adapter maps them back to the names both schemas share).

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_store::{StoreError, StoreResult};
use std::borrow::Cow;
use uuid::Uuid;

/// One bound value. The adapter encodes each kind in its database's own type.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Uuid(Option<Uuid>),
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Time(Option<Timestamp>),
    Date(Option<Date>),
}

/// One statement and its values, `$N` numbering them in order.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    sql: Cow<'static, str>,
    args: Vec<Arg<'a>>,
}

/// A statement whose values are bound with [`Query::bind`], in `$N` order.
pub fn sql<'a>(text: impl Into<Cow<'static, str>>) -> Query<'a> {
    Query { sql: text.into(), args: Vec::new() }
}

impl<'a> Query<'a> {
    /// Binds the next `$N`.
    pub fn bind(mut self, value: impl Into<Arg<'a>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends SQL text (for statements built from a filter).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.sql.to_mut().push_str(text);
        self
    }

    /// Appends the next placeholder (`$N`) and binds `value` to it.
    pub fn push_bind(&mut self, value: impl Into<Arg<'a>>) -> &mut Self {
        self.args.push(value.into());
        let n = self.args.len();
        self.sql.to_mut().push_str(&format!("${n}"));
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn args(&self) -> &[Arg<'a>] {
        &self.args
    }

    pub fn into_parts(self) -> (Cow<'static, str>, Vec<Arg<'a>>) {
        (self.sql, self.args)
    }
}

/// What differs in the SQL text itself, beyond how values are encoded.
pub trait Dialect {
    /// Appended to a `SELECT` whose rows the transaction holds until it ends: PostgreSQL's
    /// ` FOR UPDATE`; nothing on SQLite, whose write transaction already holds the
    /// database's one write lock (`BEGIN IMMEDIATE`).
    const FOR_UPDATE: &'static str;

    /// A query of one row whose column `n` is the next MRN number: a sequence on
    /// PostgreSQL (concurrent writers never share one), `MAX + 1` on SQLite (safe inside
    /// its one writer's transaction).
    const NEXT_MRN: &'static str;

    /// After `FROM (…) s` (rows of open session ids): `session_vitals` as `v`, each
    /// session's newest `$2` readings (by `taken_at`, then `id`, newest first), read by a
    /// backward walk of the index `(session_id, taken_at, id)` that stops at `$2`, so a
    /// session's 8,000th reading costs the floor board what its first did. PostgreSQL: a
    /// `CROSS JOIN LATERAL`; SQLite has no `LATERAL`, so a correlated subquery picks the
    /// rowids. (A portable `ROW_NUMBER()` window would read every reading of every open
    /// session.)
    const NEWEST_VITALS: &'static str;
}

/// One transaction of an adapter ([`sqlx_conn!`](crate::sqlx_conn) writes it). Errors
/// come back already mapped to [`StoreError`] (constraint names as both schemas share
/// them, `ReadOnly`, `NotFound`).
#[async_trait]
pub trait Conn: Dialect + Send + 'static {
    type Row: SqlRow + Send + Sync;

    /// Runs a statement; the number of rows it changed.
    async fn execute(&mut self, query: Query<'_>) -> StoreResult<u64>;
    async fn fetch_all(&mut self, query: Query<'_>) -> StoreResult<Vec<Self::Row>>;
    async fn fetch_optional(&mut self, query: Query<'_>) -> StoreResult<Option<Self::Row>>;

    /// Exactly one row (a count, a `RETURNING`); none is [`StoreError::NotFound`].
    async fn fetch_one(&mut self, query: Query<'_>) -> StoreResult<Self::Row> {
        self.fetch_optional(query).await?.ok_or(StoreError::NotFound)
    }

    async fn commit(self) -> StoreResult<()>
    where
        Self: Sized;
}

/// The glue between a sqlx driver and [`Conn`]: the same text for both adapters, expanded
/// in each (only the adapters depend on sqlx) around the pieces of its dialect:
///
/// - `bind_time`, `bind_date`: a [`Timestamp`] or [`Date`] as the value sqlx binds;
/// - `read_int`, `read_time`, `read_date`: `fn(&DriverRow, &str) -> StoreResult<Option<_>>`;
/// - `map_err`: `fn(sqlx::Error) -> StoreError`, the constraint names both schemas share.
///
/// It defines the connection type (`$conn`, holding a `tx: sqlx::Transaction`), `Row`,
/// `to_sqlx` (a [`Query`] as a sqlx query, `$N` placeholders kept) and `get` (one column
/// of a driver row, a decoding failure being [`StoreError::Corrupt`]).
#[macro_export]
macro_rules! sqlx_conn {
    (
        conn: $conn:ident,
        db: $db:ty,
        row: $driver_row:ty,
        bind_time: $bind_time:expr,
        bind_date: $bind_date:expr,
        read_int: $read_int:path,
        read_time: $read_time:path,
        read_date: $read_date:path,
        map_err: $map_err:path $(,)?
    ) => {
        /// One transaction, the connection the shared SQL ([`kat_store_sql`]) runs on.
        pub struct $conn {
            tx: sqlx::Transaction<'static, $db>,
        }

        /// A result row of the driver, read through [`kat_store_sql::SqlRow`].
        pub struct Row($driver_row);

        /// A shared statement as a sqlx query, each value in the dialect's encoding.
        fn to_sqlx(query: $crate::Query<'_>) -> sqlx::query::Query<'static, $db, <$db as sqlx::Database>::Arguments> {
            let (text, args) = query.into_parts();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
            for arg in args {
                q = match arg {
                    $crate::Arg::Uuid(v) => q.bind(v),
                    $crate::Arg::Text(v) => q.bind(v.as_deref()),
                    $crate::Arg::Int(v) => q.bind(v),
                    $crate::Arg::Bool(v) => q.bind(v),
                    $crate::Arg::Time(v) => q.bind(v.map($bind_time)),
                    $crate::Arg::Date(v) => q.bind(v.map($bind_date)),
                };
            }
            q
        }

        /// Column `col` of a driver row.
        fn get<'r, T: sqlx::Decode<'r, $db> + sqlx::Type<$db>>(
            row: &'r $driver_row,
            col: &str,
        ) -> $crate::__private::StoreResult<T> {
            sqlx::Row::try_get(row, col)
                .map_err(|e| $crate::__private::StoreError::Corrupt(format!("column {col}: {e}")))
        }

        #[$crate::__private::async_trait]
        impl $crate::Conn for $conn {
            type Row = Row;

            async fn execute(&mut self, query: $crate::Query<'_>) -> $crate::__private::StoreResult<u64> {
                Ok(to_sqlx(query).execute(&mut *self.tx).await.map_err($map_err)?.rows_affected())
            }

            async fn fetch_all(&mut self, query: $crate::Query<'_>) -> $crate::__private::StoreResult<Vec<Row>> {
                let rows = to_sqlx(query).fetch_all(&mut *self.tx).await.map_err($map_err)?;
                Ok(rows.into_iter().map(Row).collect())
            }

            async fn fetch_optional(
                &mut self,
                query: $crate::Query<'_>,
            ) -> $crate::__private::StoreResult<Option<Row>> {
                Ok(to_sqlx(query).fetch_optional(&mut *self.tx).await.map_err($map_err)?.map(Row))
            }

            async fn commit(self) -> $crate::__private::StoreResult<()> {
                self.tx.commit().await.map_err($map_err)
            }
        }

        impl $crate::SqlRow for Row {
            fn uuid(&self, col: &str) -> $crate::__private::StoreResult<Option<$crate::__private::Uuid>> {
                get(&self.0, col)
            }

            fn text(&self, col: &str) -> $crate::__private::StoreResult<Option<String>> {
                get(&self.0, col)
            }

            fn int(&self, col: &str) -> $crate::__private::StoreResult<Option<i64>> {
                $read_int(&self.0, col)
            }

            fn bool(&self, col: &str) -> $crate::__private::StoreResult<Option<bool>> {
                get(&self.0, col)
            }

            fn time(&self, col: &str) -> $crate::__private::StoreResult<Option<$crate::__private::Timestamp>> {
                $read_time(&self.0, col)
            }

            fn date(&self, col: &str) -> $crate::__private::StoreResult<Option<$crate::__private::Date>> {
                $read_date(&self.0, col)
            }
        }
    };
}

/// A result row: each column read as the kind of value the shared code expects, NULL as
/// `None`. A value of another kind is [`StoreError::Corrupt`].
pub trait SqlRow {
    fn uuid(&self, col: &str) -> StoreResult<Option<Uuid>>;
    fn text(&self, col: &str) -> StoreResult<Option<String>>;
    /// Any integer column, whatever its width.
    fn int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn bool(&self, col: &str) -> StoreResult<Option<bool>>;
    fn time(&self, col: &str) -> StoreResult<Option<Timestamp>>;
    fn date(&self, col: &str) -> StoreResult<Option<Date>>;
}

/// A Rust type one column is read as.
pub trait Column: Sized {
    fn read<R: SqlRow + ?Sized>(row: &R, col: &str) -> StoreResult<Option<Self>>;
}

/// A column read as `T` (NULL is corrupt) or `Option<T>`.
pub trait FromColumn: Sized {
    fn from_column<R: SqlRow + ?Sized>(row: &R, col: &str) -> StoreResult<Self>;
}

impl<T: Column> FromColumn for T {
    fn from_column<R: SqlRow + ?Sized>(row: &R, col: &str) -> StoreResult<Self> {
        T::read(row, col)?.ok_or_else(|| StoreError::Corrupt(format!("column {col}: NULL")))
    }
}

impl<T: Column> FromColumn for Option<T> {
    fn from_column<R: SqlRow + ?Sized>(row: &R, col: &str) -> StoreResult<Self> {
        T::read(row, col)
    }
}

/// Reads column `col` of `row`.
pub fn get<T: FromColumn, R: SqlRow + ?Sized>(row: &R, col: &str) -> StoreResult<T> {
    T::from_column(row, col)
}

macro_rules! column {
    ($($ty:ty => $method:ident),* $(,)?) => {$(
        impl Column for $ty {
            fn read<R: SqlRow + ?Sized>(row: &R, col: &str) -> StoreResult<Option<Self>> {
                row.$method(col)
            }
        }
    )*};
}
column!(Uuid => uuid, String => text, i64 => int, bool => bool, Timestamp => time, Date => date);

macro_rules! arg {
    ($($variant:ident: $($ty:ty)|* => $conv:expr),* $(,)?) => {$($(
        impl<'a> From<$ty> for Arg<'a> {
            fn from(v: $ty) -> Self {
                Arg::$variant(Some($conv(v)))
            }
        }
        impl<'a> From<Option<$ty>> for Arg<'a> {
            fn from(v: Option<$ty>) -> Self {
                Arg::$variant(v.map($conv))
            }
        }
    )*)*};
}
arg!(
    Uuid: Uuid => |v| v,
    Int: i64 => |v| v,
    Bool: bool => |v| v,
    Time: Timestamp => |v| v,
    Date: Date => |v| v,
    Text: String => Cow::Owned,
);

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref().map(Cow::Borrowed))
    }
}

/// The typed ids of kat-core, stored as their UUID.
macro_rules! ids {
    ($($id:ident),* $(,)?) => {$(
        impl<'a> From<kat_core::ids::$id> for Arg<'a> {
            fn from(v: kat_core::ids::$id) -> Self {
                Arg::Uuid(Some(v.as_uuid()))
            }
        }
        impl<'a> From<Option<kat_core::ids::$id>> for Arg<'a> {
            fn from(v: Option<kat_core::ids::$id>) -> Self {
                Arg::Uuid(v.map(|v| v.as_uuid()))
            }
        }
        impl Column for kat_core::ids::$id {
            fn read<R: SqlRow + ?Sized>(row: &R, col: &str) -> StoreResult<Option<Self>> {
                Ok(row.uuid(col)?.map(kat_core::ids::$id::from_uuid))
            }
        }
    )*};
}
ids!(
    PatientId,
    UserId,
    TokenId,
    AuditId,
    ResponseId,
    LinkId,
    AlertId,
    TherapyNoteId,
    AddendumId,
    ProcessNoteId,
    SafetyPlanId,
    PlannedSessionId,
    TreatmentPlanId,
    DosingSessionId,
    AdministrationId,
    VitalId,
    SessionAlarmId,
    ContainerId,
    LedgerEntryId,
    StorageLocationId,
);

/// Trigger refusals name their constraint at the start of the message
/// (`treatment_plans_locked: …`), in both schemas; the adapters report them as a
/// [`StoreError::Conflict`] on that name.
pub fn trigger_refusal(message: &str) -> Option<StoreError> {
    use kat_store::dosing::dosing_constraints as c;
    let name = message.split_once(':')?.0;
    [c::DOSE_ADMINISTRATIONS_GATE_PASSED, c::TREATMENT_PLANS_LOCKED, c::SESSION_DOSE_ORDERS_BEFORE_DOSING]
        .into_iter()
        .find(|known| *known == name)
        .map(|known| StoreError::Conflict { constraint: known.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_bind_numbers_placeholders_in_order() {
        let mut q = sql("SELECT 1 WHERE a = $1").bind(1_i64);
        q.push(" AND b = ").push_bind("x").push(" AND c = ").push_bind(None::<Uuid>);
        assert_eq!(q.sql(), "SELECT 1 WHERE a = $1 AND b = $2 AND c = $3");
        assert_eq!(q.args(), [Arg::Int(Some(1)), Arg::Text(Some("x".into())), Arg::Uuid(None)]);
    }

    #[test]
    fn trigger_refusals_are_conflicts_on_their_name() {
        let e = trigger_refusal("treatment_plans_locked: a signed treatment plan cannot be changed");
        assert!(e.is_some_and(|e| e.is_conflict_on("treatment_plans_locked")));
        assert!(trigger_refusal("audit_log is append-only").is_none());
        assert!(trigger_refusal("something_else: no").is_none());
    }
}
