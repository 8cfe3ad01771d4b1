//! The controlled-substance ledger's use cases (issue 13; `kat_core::ledger`, storage
//! `kat_store::ledger`): receiving stock (DEA-003) and verifying the ledger (item 9).
//! Each write is one transaction: the permission, the chain's head held (so nothing is
//! appended between the read of the stock and the append), the decision, the entry and
//! the containers it leaves, its audit entry, the commit.

use super::{Actor, AppError, AppResult, Ctx, audit_reads, require};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::calendar::ClinicCalendar;
use kat_core::dosing::session::ShortText;
use kat_core::ids::{ContainerId, LedgerEntryId, StorageLocationId};
use kat_core::ledger::{
    Counterparty, LedgerError, LedgerPolicy, LedgerProduct, LedgerRules, Quantity, ReceiveCommand, Recorded,
    RemsSource, Staff,
};
use kat_core::role::Permission;
use kat_store::Store;
use kat_store::ledger::{LEDGER_WALK_PAGE, walk_ledger};
use uuid::Uuid;

/// The clinic's ledger policy (`[ledger]` in `kat.toml`) and its calendar (business days
/// of the DEA-010 clocks).
#[derive(Debug, Clone, Default)]
pub struct LedgerConfig {
    pub policy: LedgerPolicy,
    pub calendar: ClinicCalendar,
}

impl LedgerConfig {
    fn rules(&self, ctx: &Ctx) -> LedgerRules {
        LedgerRules { policy: self.policy.clone(), tz: ctx.tz.clone(), calendar: self.calendar.clone() }
    }
}

/// The most containers one receipt line may create.
pub const MAX_CONTAINERS_PER_RECEIPT: u32 = 500;

/// A receipt line as parsed at the boundary (DEA-003): the number of containers, each
/// of which gets its own identity and balance.
#[derive(Debug, Clone)]
pub struct ReceiptInput {
    pub supplier: Counterparty,
    pub invoice: ShortText,
    pub received_on: jiff::civil::Date,
    pub product: LedgerProduct,
    pub size: Quantity,
    pub lot: ShortText,
    pub expiry: jiff::civil::Date,
    pub location: StorageLocationId,
    pub containers: u32,
    pub rems: Option<RemsSource>,
}

/// A refusal of the ledger's rules as a per-field error naming the rule.
fn invalid(e: LedgerError) -> AppError {
    AppError::Invalid(FieldErrors::single(e.field.clone(), e.message()))
}

/// Who records: the signed-in member of staff, as the entry names them. An operator on
/// the command line is nobody the ledger can name.
fn staff(ctx: &Ctx) -> AppResult<Staff> {
    match &ctx.actor {
        Actor::User(u) => {
            let name = ShortText::parse(&u.display_name)
                .or_else(|_| ShortText::parse(u.username.as_str()))
                .map_err(|_| AppError::Internal("the account's name cannot be written on a ledger entry".into()))?;
            Ok(Staff { user: u.id, name, role: u.role })
        }
        _ => Err(AppError::Forbidden),
    }
}

/// Records a receipt (DEA-003): the product and lot received, creating one container
/// per unit received at the location, each holding `size`. The product is recorded by
/// its NDC. Refused, naming the field, by the duty table, an unknown location, a date
/// in the future, a Spravato receipt without its REMS source (DEA-013).
pub async fn receive(store: &dyn Store, ctx: &Ctx, config: &LedgerConfig, input: ReceiptInput) -> AppResult<Recorded> {
    require(store, ctx, Permission::LedgerRecord, "ledger_entry", None, None, AuditAction::Create).await?;
    let by = match staff(ctx) {
        Ok(by) => by,
        Err(e) => {
            super::record_denial(store, ctx, AuditAction::Create, "ledger_entry", None, None).await?;
            return Err(e);
        }
    };
    if !(1..=MAX_CONTAINERS_PER_RECEIPT).contains(&input.containers) {
        return Err(FieldErrors::single(
            "containers",
            format!("between 1 and {MAX_CONTAINERS_PER_RECEIPT} containers per receipt line"),
        )
        .into());
    }
    let mut tx = store.begin().await?;
    tx.hold_ledger_head().await?;
    if !tx.storage_locations().await?.iter().any(|l| l.id == input.location) {
        return Err(FieldErrors::single("location", "no such storage location").into());
    }
    let cmd = ReceiveCommand {
        entry: LedgerEntryId::from_uuid(Uuid::now_v7()),
        by,
        supplier: input.supplier,
        invoice: input.invoice,
        received_on: input.received_on,
        product: input.product,
        size: input.size,
        lot: input.lot,
        expiry: input.expiry,
        location: input.location,
        containers: (0..input.containers).map(|_| ContainerId::from_uuid(Uuid::now_v7())).collect(),
        rems: input.rems,
    };
    let recorded = kat_core::ledger::receive(cmd, &config.rules(ctx), ctx.now).map_err(invalid)?;
    if let kat_core::ledger::EntryKind::Receipt(r) = &recorded.entry.kind {
        tx.put_ledger_product(&r.product).await?;
    }
    tx.append_ledger_entry(&recorded.entry, &recorded.containers).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "ledger_entry",
        Some(recorded.entry.id.to_string()),
        None,
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(recorded)
}

/// What `kat ledger verify` found (issue 13 item 9).
#[derive(Debug, Clone)]
pub struct LedgerReport {
    /// Entries checked (before the problem, when there is one).
    pub entries: usize,
    /// Containers whose balances were recomputed.
    pub containers: usize,
    /// The chain's head as the store keeps it (`seq`, hash).
    pub head: Option<(i64, String)>,
    /// The first broken link or inconsistent entry, in words; `None` when the ledger is
    /// whole.
    pub broken: Option<String>,
}

/// Walks the whole ledger in one read transaction (one snapshot), a page at a time:
/// every link and hash, then every balance recomputed and the invariant checked after
/// each entry, and the head. The check is itself audited (`ledger_chain`, after the
/// walk).
pub async fn verify(store: &dyn Store, ctx: &Ctx) -> AppResult<LedgerReport> {
    require(store, ctx, Permission::LedgerRead, "ledger_chain", None, None, AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    let walked = walk_ledger(&mut *tx, LEDGER_WALK_PAGE).await?;
    tx.commit().await?;
    audit_reads(store, &[ctx.audit(AuditAction::Read, "ledger_chain", None, None, AuditOutcome::Allowed)]).await?;
    let (containers, broken) = match &walked.outcome {
        Ok((_, book)) => (book.containers().count(), None),
        Err(e) => (0, Some(e.to_string())),
    };
    Ok(LedgerReport { entries: walked.entries, containers, head: walked.stored_head, broken })
}
