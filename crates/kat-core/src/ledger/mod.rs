//! The controlled-substance ledger (Schedule III; clinical.md §8, issue 13): receipts,
//! containers drawn by administrations, witnessed waste, movements, counts and their
//! discrepancy cases, theft and loss, corrections, the invariant and the hash chain.
//!
//! Pure, like the rest of the core: the shell hands in the current state, the command,
//! the clinic's [`LedgerRules`] and `now`, and gets back the entry to append and the new
//! states ([`Recorded`]), or a [`LedgerError`] naming the field. Entries are only ever
//! appended; a mistake is corrected by a new entry that names it.
//!
//! Where each rule lives:
//! - DEA-001 (Schedule III registration): [`Registration`], [`DeaNumber`] (the check digit
//!   is the DEA's rule; §8 does not state it), [`Substance`].
//! - DEA-003 (receipts): [`receive`], [`Receipt`], [`Counterparty`].
//! - DEA-004 (administration records, running balance per container): [`draw`],
//!   [`Drawn`], [`LedgerEntry::after`].
//! - DEA-006 (inventories; estimated counts unless > 1,000 units; the interval a
//!   jurisdiction setting): [`count`], [`Count`], [`InventoryInterval`], the cases of
//!   [`cases`].
//! - DEA-007 (waste, witnessed \[P\]): [`waste`], [`LedgerPolicy::waste_witness`].
//! - DEA-008 (quarantine and disposal; two witnesses to on-site destruction \[U\]):
//!   [`quarantine`], [`release`], [`dispose`], [`LedgerPolicy::destruction_witnesses`],
//!   [`form41`], [`expired_in_stock`].
//! - DEA-009 (witnessed breakage): [`breakage`].
//! - DEA-010, DEA-011 (theft and loss, the 1-business-day and 45-day clocks, Form 106
//!   data): [`report_loss`], [`record_loss_step`], [`loss`], [`form106`].
//! - DEA-012 (access limited to authorised staff \[U\]): [`DutyTable`], [`StorageLocation`].
//! - DEA-013 (Spravato's REMS chain, devices): [`RemsSource`], [`DosageForm::NasalSprayDevice`].
//! - Issue 13 item 8 (the invariant): [`replay`], [`Book`], [`Totals`].
//! - Issue 13 item 9 (tamper evidence): [`chain`].

pub mod book;
pub mod cases;
pub mod chain;
pub mod container;
mod decide;
pub mod entry;
pub mod forms;
pub mod loss;
pub mod policy;
pub mod product;
pub mod quantity;
pub mod refusal;
pub mod registrant;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use book::{Book, Inconsistency, Problem, Totals, replay};
pub use cases::{CaseAction, CaseRef, Discrepancy, ResolutionKind};
pub use chain::{ChainedEntry, VerifyError, entry_hash, link, verify, verify_chain};
pub use container::{Container, ContainerState};
pub use decide::{
    BreakageCommand, CaseCommand, CorrectionCommand, CountCommand, CountInput, DisposeCommand, DrawCommand,
    LossCommand, LossStepCommand, QuarantineCommand, ReceiveCommand, Recorded, ReleaseCommand, TransferInCommand,
    TransferOutCommand, WasteCommand, breakage, correct, count, dispose, draw, quarantine, receive, record_case,
    record_loss_step, release, report_loss, transfer_in, transfer_out, waste,
};
pub use entry::{
    Balance, BusinessTime, Count, Destination, DisposalMethod, Drawn, EntryKind, Exactness, InventoryKind, LedgerEntry,
    LossItem, QuarantineReason, Receipt, Recovery, Staff,
};
pub use forms::{Form41, Form106, FormItem, expired_in_stock, form41, form106};
pub use loss::{LossClock, LossKind, LossReport, LossStatus, LossStep, loss_clock};
pub use policy::{DutyTable, InventoryInterval, LedgerDuty, LedgerPolicy, LedgerRules};
pub use product::{DosageForm, LedgerProduct, Ndc, RemsChannel, RemsSource, Substance};
pub use quantity::{MgQty, Quantity, StockUnit, Strength};
pub use refusal::{LedgerError, Refusal};
pub use registrant::{Address, Counterparty, DeaNumber, LocationKind, Registration, StorageLocation};
