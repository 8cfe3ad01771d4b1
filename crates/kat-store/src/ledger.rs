//! The controlled-substance ledger's storage (issue 13; schema `0024_ledger.sql`): the
//! clinic's DEA registration, storage locations, products, containers with their
//! current balance, the append-only, hash-chained entries (`kat_core::ledger::chain`)
//! with each named container's balance after them, the chain's head, discrepancy cases
//! and losses.
//!
//! The entries are the record; the container, case and loss rows are the current state
//! the use cases computed from them (`kat_core::ledger`), kept beside them so a read
//! never replays the ledger. A count is an entry of kind `count` (read by kind and date).
//!
//! Both schemas refuse UPDATE and DELETE of an entry or of a recorded balance (the
//! triggers of [`LEDGER_APPEND_ONLY_GUARDS`]), and refuse a negative on-hand balance,
//! stored or recorded (`CHECK (on_hand >= 0)`, [`ledger_constraints`]).

use crate::StoreResult;
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{ContainerId, LedgerEntryId, StorageLocationId};
use kat_core::ledger::chain::{ChainBreak, GENESIS};
use kat_core::ledger::{
    Book, CaseRef, ChainedEntry, Container, Discrepancy, LedgerEntry, LedgerProduct, LossStatus, Ndc, Quantity,
    Registration, StorageLocation, VerifyError, entry_hash,
};

/// The triggers that keep the ledger's entries and recorded balances append-only, by
/// name, in both schemas (PostgreSQL also refuses TRUNCATE).
pub const LEDGER_APPEND_ONLY_GUARDS: [&str; 4] =
    ["ledger_entries_no_update", "ledger_entries_no_delete", "ledger_balances_no_update", "ledger_balances_no_delete"];

/// Constraint names of the ledger, shared by both schemas.
pub mod ledger_constraints {
    /// A container's stored on-hand balance is never negative (issue 13 item 8).
    pub const CONTAINERS_ON_HAND_CHECK: &str = "ledger_containers_on_hand_check";
    /// The balance an entry recorded for a container is never negative.
    pub const BALANCES_ON_HAND_CHECK: &str = "ledger_balances_on_hand_check";
    /// One entry per place in the chain: two appends can never take the same `seq`.
    pub const ENTRIES_SEQ_UNIQUE: &str = "ledger_entries_pkey";
    /// No two entries follow the same one: the chain cannot fork.
    pub const ENTRIES_PREV_HASH_UNIQUE: &str = "ledger_entries_prev_hash_key";
    pub const ENTRIES_ID_UNIQUE: &str = "ledger_entries_id_key";
    pub const LOCATIONS_NAME_UNIQUE: &str = "ledger_locations_name_key";
}

/// One line of a container's log: the entry and the container's balance after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub entry: ChainedEntry,
    pub on_hand: Quantity,
}

/// Which containers [`LedgerRepo::ledger_containers`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFilter {
    pub location: Option<StorageLocationId>,
    pub ndc: Option<Ndc>,
    /// Containers disposed of or transferred away too (stock only, by default).
    pub include_ended: bool,
}

#[async_trait]
pub trait LedgerRepo {
    /// The clinic's DEA registration (DEA-001), if recorded.
    async fn ledger_registrant(&mut self) -> StoreResult<Option<Registration>>;
    /// Records or replaces the registration (one per database).
    async fn put_ledger_registrant(&mut self, r: &Registration, at: Timestamp) -> StoreResult<()>;

    /// Adds a storage location (DEA-012); a name already used is a conflict on
    /// [`ledger_constraints::LOCATIONS_NAME_UNIQUE`].
    async fn insert_storage_location(&mut self, l: &StorageLocation, at: Timestamp) -> StoreResult<()>;
    /// Every storage location, by name.
    async fn storage_locations(&mut self) -> StoreResult<Vec<StorageLocation>>;

    /// Records a product by its NDC, or replaces what is recorded under it.
    async fn put_ledger_product(&mut self, p: &LedgerProduct) -> StoreResult<()>;
    /// Every product, by name then NDC.
    async fn ledger_products(&mut self) -> StoreResult<Vec<LedgerProduct>>;

    /// The chain's head (`seq` and hash of the newest entry), read and held until the
    /// transaction ends (PostgreSQL: `FOR UPDATE`; SQLite: the one writer's transaction),
    /// so a use case that reads containers, decides and appends sees no other append in
    /// between. `None` before the first entry.
    async fn hold_ledger_head(&mut self) -> StoreResult<Option<(i64, String)>>;
    /// The head as stored, not held (for `kat ledger verify`).
    async fn ledger_head(&mut self) -> StoreResult<Option<(i64, String)>>;

    /// Appends `entry` after the head (read and held, one row: the cost does not grow
    /// with the ledger), chained by `kat_core::ledger::chain::link`, with the balance it
    /// records for each container it names; then stores `containers`, the states the
    /// entry left them in (inserted or replaced), and moves the head to it.
    async fn append_ledger_entry(&mut self, entry: &LedgerEntry, containers: &[Container])
    -> StoreResult<ChainedEntry>;

    /// A container with its current balance.
    async fn ledger_container(&mut self, id: ContainerId) -> StoreResult<Option<Container>>;
    /// Containers matching `filter`, by id, `limit` after `after` (a page).
    async fn ledger_containers(
        &mut self,
        filter: &ContainerFilter,
        after: Option<ContainerId>,
        limit: u32,
    ) -> StoreResult<Vec<Container>>;
    /// A container's log, oldest first: `limit` entries after `after_seq`.
    async fn container_log(&mut self, id: ContainerId, after_seq: i64, limit: u32) -> StoreResult<Vec<LogLine>>;
    /// Entries recorded in `[from, to)`, of `kind` if given (`EntryKind::name`), oldest
    /// first: `limit` after `after_seq`.
    async fn ledger_entries_between(
        &mut self,
        from: Timestamp,
        to: Timestamp,
        kind: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChainedEntry>>;
    /// A page of the chain walk: `limit` entries after `after_seq`, in `seq` order.
    async fn ledger_chain_page(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<ChainedEntry>>;
    /// One entry by id.
    async fn ledger_entry(&mut self, id: LedgerEntryId) -> StoreResult<Option<ChainedEntry>>;

    /// Stores a discrepancy case as it now stands (opened by a count, noted, resolved).
    async fn put_ledger_case(&mut self, case: &Discrepancy) -> StoreResult<()>;
    async fn ledger_case(&mut self, case: CaseRef) -> StoreResult<Option<Discrepancy>>;
    /// Cases not yet resolved, oldest first.
    async fn open_ledger_cases(&mut self) -> StoreResult<Vec<Discrepancy>>;

    /// Stores a loss's reporting status (reported, DEA notified, Form 106 filed).
    async fn put_ledger_loss(&mut self, loss: &LossStatus) -> StoreResult<()>;
    async fn ledger_loss(&mut self, id: LedgerEntryId) -> StoreResult<Option<LossStatus>>;
    /// Reportable losses whose Form 106 is not filed yet, by discovery.
    async fn open_ledger_losses(&mut self) -> StoreResult<Vec<LossStatus>>;
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> crate::StoreError {
    crate::StoreError::Corrupt(format!("stored {what} is invalid: {e}"))
}

/// A value of the ledger as stored (`content` columns): the core's serde form.
pub fn ledger_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("a ledger value serialises")
}

/// Reads back what [`ledger_json`] stored.
pub fn ledger_from_json<T: serde::de::DeserializeOwned>(what: &str, raw: &str) -> StoreResult<T> {
    serde_json::from_str(raw).map_err(|e| corrupt(what, e))
}

/// A quantity's millionths as a database integer (BIGINT).
pub fn micros_column(q: Quantity) -> StoreResult<i64> {
    i64::try_from(q.micros()).map_err(|_| crate::StoreError::Corrupt(format!("quantity {q} too large to store")))
}

/// Entries one page of [`walk_ledger`] reads.
pub const LEDGER_WALK_PAGE: u32 = 500;

/// What [`walk_ledger`] found: the entries walked, the chain's last hash and the book
/// every balance was recomputed into, or the first broken link or inconsistent entry.
#[derive(Debug, Clone)]
pub struct LedgerWalk {
    pub entries: usize,
    pub stored_head: Option<(i64, String)>,
    pub outcome: Result<(String, Book), VerifyError>,
}

/// Walks the whole ledger in `tx` a page at a time (memory grows with the containers,
/// cases and losses of the book, never with a page of entries kept), in `seq` order:
/// each entry's link to the one before and its hash checked (`kat_core::ledger::chain`),
/// then applied to the book, which recomputes every balance and checks the invariant
/// (`kat_core::ledger::book`). Stops at the first problem; at the end the store's head
/// must name the last entry. Use a read transaction: one snapshot.
pub async fn walk_ledger<T: LedgerRepo + Send + ?Sized>(tx: &mut T, page: u32) -> StoreResult<LedgerWalk> {
    let stored_head = tx.ledger_head().await?;
    let mut book = Book::new();
    let mut prev = GENESIS.to_string();
    let mut last: Option<i64> = None;
    let mut entries = 0;
    let fail = |entries, stored_head, e| Ok(LedgerWalk { entries, stored_head, outcome: Err(e) });
    loop {
        let chunk = tx.ledger_chain_page(last.unwrap_or(0), page.max(1)).await?;
        if chunk.is_empty() {
            break;
        }
        for c in chunk {
            if last.is_some_and(|l| c.seq <= l) {
                return fail(entries, stored_head, VerifyError::Chain(ChainBreak::OutOfOrder { seq: c.seq }));
            }
            if c.prev_hash != prev {
                return fail(entries, stored_head, VerifyError::Chain(ChainBreak::Unlinked { seq: c.seq }));
            }
            let computed = entry_hash(&prev, &c.entry);
            if c.hash != computed {
                return fail(entries, stored_head, VerifyError::Chain(ChainBreak::Altered { seq: c.seq }));
            }
            if let Err(i) = book.apply(&c.entry) {
                return fail(entries, stored_head, VerifyError::Inconsistent(i));
            }
            prev = computed;
            last = Some(c.seq);
            entries += 1;
        }
    }
    let head_mismatch = match (&stored_head, last) {
        (Some((head_seq, head_hash)), Some(last_seq)) if *head_seq != last_seq || *head_hash != prev => {
            Some(ChainBreak::HeadMismatch { head_seq: *head_seq, last_seq })
        }
        (Some((head_seq, _)), None) => Some(ChainBreak::HeadMismatch { head_seq: *head_seq, last_seq: 0 }),
        (None, Some(last_seq)) => Some(ChainBreak::HeadMismatch { head_seq: 0, last_seq }),
        _ => None,
    };
    if let Some(b) = head_mismatch {
        return fail(entries, stored_head, VerifyError::Chain(b));
    }
    Ok(LedgerWalk { entries, stored_head, outcome: Ok((prev, book)) })
}
