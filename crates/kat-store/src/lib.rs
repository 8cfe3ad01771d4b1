//! The storage port of kat.
//!
//! The app talks to storage only through these traits, which speak the domain types of
//! `kat-core`. Two adapters implement them (SQLite and PostgreSQL); both must pass the
//! same conformance suite (`conformance`, behind the feature of that name).
//!
//! Every use case opens one transaction with [`Store::begin`], does its reads and writes
//! (including its audit entries) on the [`Tx`], and commits. A `Tx` dropped without
//! `commit` rolls back, so an error half-way leaves nothing half-saved. A use case that
//! only reads opens [`Store::begin_read`] instead: the same `Tx`, on which every write
//! fails with [`StoreError::ReadOnly`], and which never waits for a writer.

pub mod access;
pub mod audit_walk;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod dosing;
pub mod floor;
pub mod intake;
pub mod ledger;
pub mod lists;
pub mod measures;
mod records;
pub mod rows;
pub mod therapy;

pub use access::{AccessRepo, BreakGlassGrant, IdentityChange, MedicalDirectorChange, TeamRelation};
pub use dosing::DosingRepo;
pub use floor::FloorRepo;
pub use intake::IntakeRepo;
pub use ledger::LedgerRepo;
pub use lists::ListRepo;
pub use measures::MeasureRepo;
pub use records::*;
pub use therapy::*;

use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::audit::{AuditEntry, AuditFilter, NewAuditEntry};
use kat_core::ids::{PatientId, TokenId, UserId};
use kat_core::patient::{Demographics, Patient, PatientQuery};
use kat_core::user::{User, Username};

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A named constraint refused the write (a duplicate username, say). The name is the
    /// same in both adapters' schemas.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// The record changed since the caller read it (optimistic concurrency).
    #[error("the record was changed by someone else")]
    StaleVersion,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data could not be read back: {0}")]
    Corrupt(String),
    /// A write was attempted in a read transaction ([`Store::begin_read`]). A bug in the
    /// caller, never a user's mistake: the use case should have begun a write transaction.
    #[error("write attempted in a read-only transaction")]
    ReadOnly,
}

impl StoreError {
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint == name)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database an adapter talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database holding one clinic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// The version of the newest migration applied.
    async fn migration_level(&self) -> StoreResult<i64>;
    /// Starts a read-write transaction. Writers are serialised (SQLite: one writer at a
    /// time, `BEGIN IMMEDIATE`), so a use case that only reads should use `begin_read`.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Starts a read-only transaction: one snapshot of committed data (taken at its first
    /// read) that neither waits for nor blocks a writer (SQLite: a WAL reader on a
    /// read-only connection; PostgreSQL: `REPEATABLE READ READ ONLY`). Every write on it fails with
    /// [`StoreError::ReadOnly`] on both databases; `commit` just ends it.
    async fn begin_read(&self) -> StoreResult<Box<dyn Tx>>;
    /// Closes the connections, flushing what the database keeps in memory.
    async fn close(&self);
    /// The triggers that keep the audit log and its list-view patients append-only
    /// ([`APPEND_ONLY_GUARDS`]) that the database does not have: empty when all are in
    /// place. The server refuses to start when one is missing (issue 12 item 5).
    async fn missing_append_only_guards(&self) -> StoreResult<Vec<String>>;
    /// Tells every process listening on this database ([`Store::listen`]) `payload`,
    /// after the caller's transaction committed. The payload is compact JSON of opaque ids
    /// (the live screens' domain events), never patient data. PostgreSQL: `NOTIFY` on
    /// [`EVENTS_CHANNEL`]. The default (SQLite) tells nobody: one server owns a database
    /// file, and its events stay in that process.
    async fn notify(&self, _payload: &str) -> StoreResult<()> {
        Ok(())
    }
    /// Starts hearing what processes on this database [`notify`](Store::notify),
    /// including this one's own (the caller tells them apart). `None` when the database
    /// has no such channel (SQLite).
    async fn listen(&self) -> StoreResult<Option<Box<dyn Listener>>> {
        Ok(None)
    }
}

/// The channel the live screens' events cross processes on (PostgreSQL `LISTEN`).
pub const EVENTS_CHANNEL: &str = "kat_events";

/// What other processes [`Store::notify`], in order.
#[async_trait]
pub trait Listener: Send {
    /// The next payload. After the connection is lost, the next call reconnects;
    /// payloads sent meanwhile are lost (the live screens' periodic refresh covers them).
    async fn recv(&mut self) -> StoreResult<String>;
}

/// One transaction. Every repository of the port is reachable from it.
///
/// After any call returns an error the transaction is spoiled (PostgreSQL aborts it):
/// drop it and report the error; do not go on using it.
#[async_trait]
pub trait Tx:
    UserRepo
    + SessionRepo
    + TokenRepo
    + PatientRepo
    + AuditRepo
    + MetaRepo
    + IntakeRepo
    + MeasureRepo
    + TherapyStore
    + DosingRepo
    + FloorRepo
    + ListRepo
    + AccessRepo
    + LedgerRepo
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

#[async_trait]
pub trait UserRepo {
    async fn insert_user(&mut self, user: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<User>>;
    /// The account with its password hash, for login.
    async fn credentials_by_username(&mut self, username: &Username) -> StoreResult<Option<UserCredentials>>;
    async fn list_users(&mut self) -> StoreResult<Vec<User>>;
    async fn count_active_admins(&mut self) -> StoreResult<i64>;
    async fn set_user_active(&mut self, id: UserId, active: bool) -> StoreResult<()>;
    /// Replaces the account's password hash and sets whether it must be changed at the
    /// next sign-in (an admin's reset sets it; the holder's own change clears it).
    async fn set_password_hash(&mut self, id: UserId, hash: &str, must_change: bool) -> StoreResult<()>;
    /// The account's TOTP enrolment, pending or confirmed (migration 0019).
    async fn mfa_of(&mut self, user: UserId) -> StoreResult<Option<MfaRecord>>;
    /// Starts (or restarts) an enrolment: a new secret, not yet confirmed; any earlier
    /// enrolment and recovery codes of the account are replaced.
    async fn begin_mfa(&mut self, user: UserId, secret: &kat_core::mfa::TotpSecret, at: Timestamp) -> StoreResult<()>;
    /// Confirms a pending enrolment with the step of its first code and stores the
    /// recovery codes' hashes; `NotFound` if there is no pending enrolment.
    async fn confirm_mfa(&mut self, user: UserId, at: Timestamp, step: i64, code_hashes: &[String]) -> StoreResult<()>;
    /// Records `step` as the last accepted if it is later than the stored one; whether it
    /// was (false: the code was used meanwhile).
    async fn advance_mfa_step(&mut self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Marks an unused recovery code of the account used; whether there was one.
    async fn use_recovery_code(&mut self, user: UserId, code_hash: &str, at: Timestamp) -> StoreResult<bool>;
    /// How many of the account's recovery codes are unused.
    async fn unused_recovery_codes(&mut self, user: UserId) -> StoreResult<i64>;
    /// Removes the account's enrolment and recovery codes; whether there was one.
    async fn delete_mfa(&mut self, user: UserId) -> StoreResult<bool>;
    /// Replaces every recovery code of a confirmed enrolment with these hashes (the old
    /// ones, used or not, stop working); `NotFound` without a confirmed enrolment.
    async fn replace_recovery_codes(&mut self, user: UserId, code_hashes: &[String]) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionRepo {
    async fn insert_session(&mut self, session: &SessionRecord) -> StoreResult<()>;
    async fn session_by_hash(&mut self, id_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&mut self, id_hash: &str, at: Timestamp) -> StoreResult<()>;
    async fn delete_session(&mut self, id_hash: &str) -> StoreResult<()>;
    /// Ends every session of the account except `keep` (the one changing its password);
    /// how many ended.
    async fn delete_sessions_of_user(&mut self, user: UserId, keep: Option<&str>) -> StoreResult<u64>;
    /// Removes sessions last seen before `idle_before` or created before `created_before`.
    async fn delete_stale_sessions(&mut self, idle_before: Timestamp, created_before: Timestamp) -> StoreResult<u64>;
    /// The sign-in failures counted under each of these keys (`account:…`,
    /// `address:…`; migration 0016), for the keys that have any.
    async fn sign_in_failures(&mut self, keys: &[String]) -> StoreResult<Vec<(String, kat_core::sign_in::Failures)>>;
    /// Sets the failures counted under `key`.
    async fn put_sign_in_failures(&mut self, key: &str, f: &kat_core::sign_in::Failures) -> StoreResult<()>;
    /// Forgets the failures under `key` (a success, an admin's unlock); whether there were any.
    async fn clear_sign_in_failures(&mut self, key: &str) -> StoreResult<bool>;
    /// Counts one anonymous failure from `source` in the window starting at
    /// `window_start` (migration 0022); the window's count after it (1: the first, the
    /// one that is audited).
    async fn count_anonymous_failure(
        &mut self,
        source: &str,
        window_start: Timestamp,
        at: Timestamp,
    ) -> StoreResult<i64>;
    /// Windows of anonymous failures, the latest first (`offset`, `limit`: a page).
    async fn anonymous_failures(&mut self, offset: i64, limit: i64) -> StoreResult<Vec<AnonymousFailures>>;
    /// Records a half-done sign-in (password right, code still to come; migration 0019).
    async fn insert_sign_in_challenge(&mut self, id_hash: &str, user: UserId, at: Timestamp) -> StoreResult<()>;
    /// The account and start time of a half-done sign-in.
    async fn sign_in_challenge(&mut self, id_hash: &str) -> StoreResult<Option<(UserId, Timestamp)>>;
    /// Ends a half-done sign-in; whether it existed (false: used or ended meanwhile).
    async fn delete_sign_in_challenge(&mut self, id_hash: &str) -> StoreResult<bool>;
    /// Removes half-done sign-ins started before `before` (and every one of `user`, if
    /// given); how many.
    async fn delete_stale_sign_in_challenges(&mut self, before: Timestamp, user: Option<UserId>) -> StoreResult<u64>;
}

#[async_trait]
pub trait TokenRepo {
    async fn insert_token(&mut self, token: &ApiTokenRecord) -> StoreResult<()>;
    async fn token_by_hash(&mut self, hash: &str) -> StoreResult<Option<ApiTokenRecord>>;
    async fn list_tokens(&mut self) -> StoreResult<Vec<ApiTokenRecord>>;
    /// Marks a token revoked; revoking twice keeps the first time.
    async fn revoke_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<()>;
    async fn touch_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<()>;
    /// Revokes every token of the account not revoked yet (an account disabled); how
    /// many. Revocation is for good: enabling the account again revives none.
    async fn revoke_tokens_of_user(&mut self, user: UserId, at: Timestamp) -> StoreResult<u64>;
}

#[async_trait]
pub trait PatientRepo {
    /// Registers a patient and assigns the next MRN.
    async fn insert_patient(
        &mut self,
        id: PatientId,
        demographics: &Demographics,
        at: Timestamp,
    ) -> StoreResult<Patient>;
    async fn patient_by_id(&mut self, id: PatientId) -> StoreResult<Option<Patient>>;
    /// Patients matching every term, ordered by family then given name; `limit` at most.
    async fn search_patients(&mut self, query: &PatientQuery, limit: u32) -> StoreResult<Vec<Patient>>;
    /// Replaces the demographics if the stored version is still `expected_version`.
    async fn update_patient(
        &mut self,
        id: PatientId,
        expected_version: i64,
        demographics: &Demographics,
        at: Timestamp,
    ) -> StoreResult<Patient>;
    async fn count_patients(&mut self) -> StoreResult<i64>;
}

/// The audit log. There is deliberately no method that changes or deletes an entry,
/// and both schemas refuse UPDATE and DELETE on the table.
/// The triggers refusing to change or remove an audit entry, by name, in both schemas
/// (PostgreSQL also refuses TRUNCATE of the log).
pub const APPEND_ONLY_GUARDS: [&str; 4] =
    ["audit_log_no_update", "audit_log_no_delete", "audit_entry_patients_no_update", "audit_entry_patients_no_delete"];

/// The guards of [`APPEND_ONLY_GUARDS`] not among the triggers a database reports.
pub fn missing_guards(present: &[String]) -> Vec<String> {
    APPEND_ONLY_GUARDS.iter().filter(|g| !present.iter().any(|p| p == *g)).map(|g| g.to_string()).collect()
}

/// One entry of the log with what its hash covers (migration 0014): the patients a list
/// view showed, the stored hash of the entry before it and its own; both `None` for an
/// entry written before the chain existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry {
    pub entry: AuditEntry,
    pub shown: Vec<PatientId>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

#[async_trait]
pub trait AuditRepo {
    /// Appends an entry chained to the one before it (`kat_core::audit_chain`): the
    /// chain's head is read and held until the transaction ends, so appends chain one
    /// after another. The first append after the chain was introduced folds the entries
    /// written before it into the chain (one walk of the log, once).
    async fn append_audit(&mut self, entry: &NewAuditEntry) -> StoreResult<AuditEntry>;
    /// Entries matching the filter, newest first.
    async fn query_audit(&mut self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
    /// `limit` entries after `after_seq`, oldest first, with what their hashes cover: a
    /// page of the walk of `kat audit verify`.
    async fn audit_chain_page(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<ChainedEntry>>;
    /// The newest chained entry as the store keeps it (`seq`, hash); `None` before the
    /// first chained append.
    async fn audit_chain_head(&mut self) -> StoreResult<Option<(i64, String)>>;
}

/// Small facts about the database itself (is it a demo clinic, its instance id).
#[async_trait]
pub trait MetaRepo {
    async fn meta(&mut self, key: &str) -> StoreResult<Option<String>>;
    async fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()>;
}

/// Constraint names shared by both schemas.
pub mod constraints {
    pub const USERS_USERNAME_UNIQUE: &str = "users_username_key";
    pub const PATIENTS_MRN_UNIQUE: &str = "patients_mrn_key";
    pub const API_TOKENS_HASH_UNIQUE: &str = "api_tokens_hash_key";
    pub const SELF_REPORT_LINKS_HASH_UNIQUE: &str = "self_report_links_token_hash_key";
    pub const SAFETY_ALERTS_RESPONSE_KIND_UNIQUE: &str = "safety_alerts_response_kind_key";
}
