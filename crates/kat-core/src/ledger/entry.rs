//! The ledger's entries: append-only, each what one person recorded at one time. A
//! mistake is never edited; a [`Correction`] is a new entry that names the one it
//! corrects.

use super::cases::{CaseAction, CaseRef};
use super::loss::{LossReport, LossStep};
use super::product::{LedgerProduct, RemsSource};
use super::quantity::{MgQty, Quantity};
use super::registrant::Counterparty;
use crate::dosing::session::{Reason, ShortText};
use crate::ids::{AdministrationId, ContainerId, DosingSessionId, LedgerEntryId, PatientId, StorageLocationId, UserId};
use crate::role::Role;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A member of staff as the ledger records them: the account, the name written on the
/// record (DEA-004: "name or initials of the individual who … administered"), and the
/// role they held when they signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub user: UserId,
    pub name: ShortText,
    pub role: Role,
}

/// A container's on-hand quantity after an entry: the running balance shown beside each
/// entry (DEA-004 best practice; issue 13 item 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub container: ContainerId,
    pub on_hand: Quantity,
}

/// One entry of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: LedgerEntryId,
    /// When it was recorded.
    pub at: Timestamp,
    pub by: Staff,
    pub kind: EntryKind,
    /// The on-hand quantity of every container the entry names, after it, in container
    /// id order. The replay recomputes it and names the first entry where it differs.
    pub after: Vec<Balance>,
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    Receipt(Receipt),
    Administration(Drawn),
    Waste(Waste),
    TransferOut(TransferOut),
    TransferIn(TransferIn),
    Quarantine(QuarantineRecord),
    Release(Release),
    Disposal(Disposal),
    Breakage(Breakage),
    Loss(Loss),
    LossFollowUp(LossFollowUp),
    Count(Count),
    Case(CaseEntry),
    Correction(Correction),
}

impl EntryKind {
    pub fn name(&self) -> &'static str {
        match self {
            EntryKind::Receipt(_) => "receipt",
            EntryKind::Administration(_) => "administration",
            EntryKind::Waste(_) => "waste",
            EntryKind::TransferOut(_) => "transfer_out",
            EntryKind::TransferIn(_) => "transfer_in",
            EntryKind::Quarantine(_) => "quarantine",
            EntryKind::Release(_) => "release",
            EntryKind::Disposal(_) => "disposal",
            EntryKind::Breakage(_) => "breakage",
            EntryKind::Loss(_) => "loss",
            EntryKind::LossFollowUp(_) => "loss_follow_up",
            EntryKind::Count(_) => "count",
            EntryKind::Case(_) => "case",
            EntryKind::Correction(_) => "correction",
        }
    }

    /// The containers the entry names, in id order, each once.
    pub fn containers(&self) -> Vec<ContainerId> {
        let mut ids = match self {
            EntryKind::Receipt(r) => r.containers.clone(),
            EntryKind::Administration(d) => vec![d.container],
            EntryKind::Waste(w) => vec![w.container],
            EntryKind::TransferOut(t) => vec![t.container],
            EntryKind::TransferIn(t) => vec![t.container],
            EntryKind::Quarantine(q) => vec![q.container],
            EntryKind::Release(r) => vec![r.container],
            EntryKind::Disposal(d) => vec![d.container],
            EntryKind::Breakage(b) => vec![b.container],
            EntryKind::Loss(l) => l.items.iter().map(|i| i.container).collect(),
            EntryKind::Count(c) => c.lines.iter().map(|l| l.container).collect(),
            EntryKind::Correction(c) => vec![c.container],
            EntryKind::LossFollowUp(_) | EntryKind::Case(_) => Vec::new(),
        };
        ids.sort();
        ids.dedup();
        ids
    }

    /// The quantity the entry moves for `container`, as recorded, and which movement it
    /// is; `None` for entries that move nothing (quarantine, count, a case note…).
    pub fn movement(&self, container: ContainerId) -> Option<(Movement, Quantity)> {
        match self {
            EntryKind::Receipt(r) if r.containers.contains(&container) => Some((Movement::Receipt, r.size)),
            EntryKind::Administration(d) if d.container == container => Some((Movement::Administration, d.amount)),
            EntryKind::Waste(w) if w.container == container => Some((Movement::Waste, w.amount)),
            EntryKind::Breakage(b) if b.container == container => Some((Movement::Breakage, b.amount)),
            EntryKind::Loss(l) => l.items.iter().find(|i| i.container == container).map(|i| (Movement::Loss, i.amount)),
            EntryKind::TransferOut(t) if t.container == container => Some((Movement::TransferOut, t.amount)),
            EntryKind::TransferIn(t) if t.container == container => Some((Movement::TransferIn, t.amount)),
            EntryKind::Disposal(d) if d.container == container => Some((Movement::Disposal, d.amount)),
            _ => None,
        }
    }
}

/// What a movement does to the stock, as the invariant counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    Receipt,
    Administration,
    Waste,
    Breakage,
    Loss,
    TransferOut,
    TransferIn,
    Disposal,
}

impl Movement {
    pub fn as_str(self) -> &'static str {
        match self {
            Movement::Receipt => "receipt",
            Movement::Administration => "administration",
            Movement::Waste => "waste",
            Movement::Breakage => "breakage",
            Movement::Loss => "loss",
            Movement::TransferOut => "transfer_out",
            Movement::TransferIn => "transfer_in",
            Movement::Disposal => "disposal",
        }
    }

    /// Whether a correction may restate its amount. A transfer and a disposal move the
    /// whole container, so their amount is the balance, never a figure typed in: a
    /// mistake there is corrected through the entry that set the balance.
    pub fn amount_correctable(self) -> bool {
        matches!(
            self,
            Movement::Receipt | Movement::Administration | Movement::Waste | Movement::Breakage | Movement::Loss
        )
    }

    /// A receipt adds to the stock; the other correctable movements take from it.
    pub fn adds(self) -> bool {
        matches!(self, Movement::Receipt)
    }
}

/// A receipt line (DEA-003): one product and lot from one invoice, creating one
/// container per id, each holding `size`. A Spravato receipt records its REMS source
/// (DEA-013).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub supplier: Counterparty,
    /// The invoice or packing-slip number.
    pub invoice: ShortText,
    pub received_on: Date,
    pub product: LedgerProduct,
    /// The content of each container (units or volume per container).
    pub size: Quantity,
    pub lot: ShortText,
    pub expiry: Date,
    pub location: StorageLocationId,
    /// One id per container received (the number of containers).
    pub containers: Vec<ContainerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rems: Option<RemsSource>,
    /// The product arrived already expired: its containers start in quarantine, to be
    /// disposed of (DEA-008), and the receipt is still recorded as received (DEA-003).
    #[serde(default)]
    pub arrived_expired: bool,
}

/// Stock drawn for one administration of a dosing session (DEA-004): the delivered dose
/// in mg and the stock it took (mL, or devices for esketamine, DEA-013).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drawn {
    pub container: ContainerId,
    pub administration: AdministrationId,
    pub session: DosingSessionId,
    /// The patient (their name and address are resolved from the record, DEA-004).
    pub patient: PatientId,
    pub administered_at: Timestamp,
    /// The name or initials of who administered, as the administration records it.
    pub administered_by: ShortText,
    pub mg: MgQty,
    /// The stock the dose took: `mg` at the container's strength.
    pub amount: Quantity,
}

/// Drug left in an opened vial or syringe, wasted (DEA-007: not a Form 41 event, but
/// recorded with the amount, method, both names and the time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waste {
    pub container: ContainerId,
    pub amount: Quantity,
    pub method: ShortText,
    pub reason: Reason,
    /// The second authorised member of staff (DEA-007 \[P\]); absent only where the
    /// clinic's policy does not require one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<Staff>,
    /// The administration the remainder is left over from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administration: Option<AdministrationId>,
}

/// Where a transfer goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Destination {
    /// Another of the clinic's storage locations: the container is in transit until a
    /// [`TransferIn`] receives it there. The registrant's stock is unchanged.
    Location { location: StorageLocationId },
    /// Another registrant: the stock leaves the clinic's registration.
    Registrant { registrant: Counterparty },
}

/// A whole container sent to another location or registrant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOut {
    pub container: ContainerId,
    /// The whole on-hand quantity.
    pub amount: Quantity,
    pub from: StorageLocationId,
    pub destination: Destination,
}

/// A container in transit received at its destination, with what was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferIn {
    pub container: ContainerId,
    pub amount: Quantity,
    pub location: StorageLocationId,
}

/// Why stock is quarantined (DEA-008: expired, unwanted or damaged stock, to be
/// disposed of).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum QuarantineReason {
    Expired,
    Damaged,
    Recalled,
    Other { detail: ShortText },
}

impl QuarantineReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            QuarantineReason::Expired => "expired",
            QuarantineReason::Damaged => "damaged",
            QuarantineReason::Recalled => "recalled",
            QuarantineReason::Other { .. } => "other",
        }
    }
}

/// A container set aside: nothing is drawn from it until it is released or disposed of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRecord {
    pub container: ContainerId,
    pub reason: QuarantineReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Reason>,
}

/// A quarantined container returned to use (never an expired one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub container: ContainerId,
    pub note: Reason,
}

/// How stock is disposed of (DEA-008).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "way", rename_all = "snake_case")]
pub enum DisposalMethod {
    /// Transferred to a DEA-registered reverse distributor; `reference` is the shipment
    /// or invoice number.
    ReverseDistributor { distributor: Counterparty, reference: ShortText },
    /// Destroyed on site to the non-retrievable standard, documented on DEA Form 41;
    /// `method` says how.
    OnSite { method: ShortText },
}

/// A whole container disposed of (DEA-008): the Form 41 data with the registrant and the
/// container's product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disposal {
    pub container: ContainerId,
    /// The whole on-hand quantity.
    pub amount: Quantity,
    pub method: DisposalMethod,
    pub witnesses: Vec<Staff>,
}

/// What became of broken or spilled drug (DEA-009).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "recovery", rename_all = "snake_case")]
pub enum Recovery {
    /// Recovered, and destroyed on site or sent to a reverse distributor: how.
    Recovered { disposition: ShortText },
    /// Not recoverable: the circumstances.
    NotRecoverable { circumstances: Reason },
}

/// Witnessed breakage or spillage (DEA-009): accounted for, so not a loss and not
/// reported to the DEA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakage {
    pub container: ContainerId,
    pub amount: Quantity,
    pub witness: Staff,
    pub recovery: Recovery,
}

/// One container's part of a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossItem {
    pub container: ContainerId,
    pub amount: Quantity,
}

/// A theft or loss (DEA-010, DEA-011): the report and the stock it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    pub report: LossReport,
    pub items: Vec<LossItem>,
}

/// A later step of a loss: the DEA notified, Form 106 filed (DEA-010).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossFollowUp {
    /// The loss entry.
    pub loss: LedgerEntryId,
    pub step: LossStep,
}

/// Which inventory or count (DEA-006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryKind {
    /// On the first day of controlled-substance activity (zero if nothing on hand).
    Initial,
    /// At least every two years.
    Biennial,
    /// Where the state requires it yearly.
    Annual,
    /// On a change of location.
    ChangeOfLocation,
    /// A routine reconciliation (daily or per shift: a recommended, non-federal control
    /// \[U\]).
    Routine,
}

impl InventoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryKind::Initial => "initial",
            InventoryKind::Biennial => "biennial",
            InventoryKind::Annual => "annual",
            InventoryKind::ChangeOfLocation => "change_of_location",
            InventoryKind::Routine => "routine",
        }
    }

    /// A DEA-006 inventory, which lists everything on hand.
    pub fn is_full_inventory(self) -> bool {
        !matches!(self, InventoryKind::Routine)
    }
}

/// Whether a count was taken at the opening or the close of business (DEA-006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessTime {
    Opening,
    Close,
}

/// An exact count or an estimate (DEA-006: Schedule III may be estimated unless the
/// container holds more than 1,000 units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exactness {
    Exact,
    Estimated,
}

/// One container counted: the book's quantity and what was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLine {
    pub container: ContainerId,
    pub expected: Quantity,
    pub counted: Quantity,
    pub exactness: Exactness,
}

/// A count or inventory (DEA-006), by the entry's author. A count changes no balance; a
/// line where the count differs from the book opens a discrepancy case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub kind: InventoryKind,
    pub taken: BusinessTime,
    /// The location counted, or `None` for the whole clinic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<StorageLocationId>,
    pub lines: Vec<CountLine>,
}

/// A note on, or the resolution of, a discrepancy case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEntry {
    pub case: CaseRef,
    pub action: CaseAction,
}

/// A correctable amount restated: the amount in force before and the right one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountChange {
    /// The kind of the entry corrected.
    pub movement: Movement,
    pub was: Quantity,
    pub now: Quantity,
}

/// A correction of an earlier entry, for one container: a note, and where the amount
/// was wrong, the right amount (the balance moves by the difference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub corrects: LedgerEntryId,
    pub container: ContainerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<AmountChange>,
    pub reason: Reason,
}
