//! Why a ledger command was refused: a typed reason, the input field it belongs to and
//! the rule it enforces, so that a form shows it beside the field and an API answers it
//! per field.

use super::container::ContainerState;
use super::entry::QuarantineReason;
use super::policy::LedgerDuty;
use super::quantity::{Quantity, QuantityError};
use crate::dosing::rule::RuleId;
use crate::field::FieldErrors;
use crate::ids::{ContainerId, StorageLocationId};
use crate::role::Role;
use jiff::Timestamp;
use jiff::civil::Date;
use std::fmt;

/// Why a command was refused, or why the replay found an entry inconsistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    // --- Who ---
    /// The role may not do this (the clinic's duty table).
    NotPermitted {
        role: Role,
        duty: LedgerDuty,
    },
    /// A witness is required and none was named.
    WitnessRequired,
    /// The witness is the person recording.
    WitnessIsSelf,
    /// The same person named twice as a witness.
    WitnessRepeated,
    TooFewWitnesses {
        needed: u8,
        given: usize,
    },
    // --- The container's state ---
    /// Disposed of, transferred to another registrant.
    Ended {
        state: ContainerState,
    },
    InTransit {
        to: StorageLocationId,
    },
    NotInTransit,
    Quarantined {
        reason: QuarantineReason,
    },
    AlreadyQuarantined,
    NotQuarantined,
    /// Past its expiry date at the clinic's date.
    Expired {
        expiry: Date,
        today: Date,
    },
    /// Quarantined as expired, but it is not.
    NotExpired {
        expiry: Date,
    },
    /// Opened longer ago than the clinic's beyond-use time.
    BeyondUse {
        opened_at: Timestamp,
        until: Timestamp,
    },
    /// Kept somewhere else than where it is used or received.
    WrongLocation {
        at: StorageLocationId,
        expected: StorageLocationId,
    },
    /// A transfer to where it already is.
    SameLocation,
    /// Waste is of an opened container; a sealed one is disposed of.
    Sealed,
    /// Nothing on hand.
    Empty,
    // --- Amounts ---
    /// More than is on hand.
    Short {
        on_hand: Quantity,
        requested: Quantity,
    },
    /// An amount of zero.
    Zero,
    /// Not in the container's unit, not whole units, out of bounds.
    Quantity(QuantityError),
    /// A correction that would leave less than nothing on hand.
    WouldGoNegative {
        on_hand: Quantity,
    },
    /// A correction that restates the amount in force.
    NoChange,
    /// An estimated count of a container holding more than 1,000 units.
    EstimateNotAllowed {
        size: Quantity,
    },
    /// A transfer-in or a count that does not match the book.
    NotTheBook {
        book: Quantity,
    },
    // --- Times ---
    InFuture {
        at: Timestamp,
    },
    DateInFuture {
        date: Date,
    },
    /// A loss step dated before the loss was discovered.
    BeforeDiscovery,
    // --- Lists and references ---
    /// At least one is needed.
    Required,
    /// Named twice.
    Duplicate,
    UnknownContainer {
        id: ContainerId,
    },
    /// Already in the ledger (a receipt reusing a container id).
    ContainerExists {
        id: ContainerId,
    },
    /// An inventory that leaves out a container on hand.
    NotCounted {
        container: ContainerId,
    },
    RemsRequired,
    RemsNotApplicable,
    /// A referenced entry that does not fit.
    BadReference {
        why: &'static str,
    },
    /// A resolution of this kind references an entry of this kind.
    ReferenceRequired {
        kind: &'static str,
    },
    /// Only receipts, administrations, waste, breakage and losses have an amount a
    /// correction may restate.
    NotCorrectable,
    /// This step of a loss was already recorded.
    AlreadyRecorded,
    AlreadyResolved,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Refusal::*;
        match self {
            NotPermitted { role, duty } => {
                write!(f, "the clinic's policy does not let a {} {}", role.label().to_lowercase(), duty_phrase(*duty))
            }
            WitnessRequired => f.write_str("a second authorised member of staff must witness it"),
            WitnessIsSelf => f.write_str("the witness must be someone other than the person recording"),
            WitnessRepeated => f.write_str("each witness must be a different person"),
            TooFewWitnesses { needed, given } => write!(f, "needs {needed} witnesses, {given} named"),
            Ended { state } => write!(f, "the container is {}", state.label()),
            InTransit { .. } => f.write_str("the container is in transit; receive it at its destination first"),
            NotInTransit => f.write_str("the container is not in transit"),
            Quarantined { reason } => write!(f, "the container is quarantined ({})", reason.as_str()),
            AlreadyQuarantined => f.write_str("the container is already quarantined"),
            NotQuarantined => f.write_str("the container is not quarantined"),
            Expired { expiry, .. } => write!(f, "the container expired on {expiry}"),
            NotExpired { expiry } => write!(f, "the container does not expire until {expiry}"),
            BeyondUse { opened_at, until } => {
                write!(f, "the container was opened at {opened_at} and may be used only until {until}")
            }
            WrongLocation { at, expected } => {
                write!(f, "the container is kept at location {at}, not {expected}")
            }
            SameLocation => f.write_str("the container is already there"),
            Sealed => f.write_str("the container is sealed: unopened stock is disposed of, not wasted"),
            Empty => f.write_str("the container is empty"),
            Short { on_hand, requested } => write!(f, "{requested} is more than the {on_hand} on hand"),
            Zero => f.write_str("must be more than 0"),
            Quantity(e) => write!(f, "{e}"),
            WouldGoNegative { on_hand } => write!(f, "would leave less than nothing on hand ({on_hand} now)"),
            NoChange => f.write_str("is the amount already in force"),
            EstimateNotAllowed { size } => {
                write!(f, "a container of {size} (more than 1,000 units) must be counted exactly")
            }
            NotTheBook { book } => write!(f, "does not match the book ({book})"),
            InFuture { at } => write!(f, "{at} is in the future"),
            DateInFuture { date } => write!(f, "{date} is in the future"),
            BeforeDiscovery => f.write_str("is before the loss was discovered"),
            Required => f.write_str("is required"),
            Duplicate => f.write_str("is named twice"),
            UnknownContainer { id } => write!(f, "container {id} is not in the ledger"),
            ContainerExists { id } => write!(f, "container {id} is already in the ledger"),
            NotCounted { container } => write!(f, "container {container} is on hand and was not counted"),
            RemsRequired => f.write_str("esketamine is received only through a REMS-certified pharmacy or distributor"),
            RemsNotApplicable => f.write_str("only esketamine has a REMS source"),
            BadReference { why } => write!(f, "the entry referenced does not fit: {why}"),
            ReferenceRequired { kind } => write!(f, "name the {kind} entry that explains it"),
            NotCorrectable => {
                f.write_str("only a receipt, administration, waste, breakage or loss amount can be restated")
            }
            AlreadyRecorded => f.write_str("this step is already recorded"),
            AlreadyResolved => f.write_str("the case is already resolved"),
        }
    }
}

fn duty_phrase(duty: LedgerDuty) -> &'static str {
    match duty {
        LedgerDuty::Receive => "receive controlled substances",
        LedgerDuty::Administer => "draw controlled substances",
        LedgerDuty::Waste => "record waste or breakage",
        LedgerDuty::Witness => "witness",
        LedgerDuty::Move => "move or quarantine stock",
        LedgerDuty::Count => "count stock",
        LedgerDuty::Dispose => "dispose of stock",
        LedgerDuty::ReportLoss => "report a loss",
        LedgerDuty::ResolveCase => "resolve a discrepancy",
        LedgerDuty::Correct => "correct the ledger",
    }
}

/// A refused command: the input field it belongs to (`container`, `mg`, `amount`,
/// `witness`, `witnesses[1]`, `lines[2].counted`, …), the rule it enforces where the
/// clinical reference has one, and the typed reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerError {
    pub field: String,
    pub rule: Option<RuleId>,
    pub refusal: Refusal,
}

impl LedgerError {
    pub fn new(field: impl Into<String>, rule: Option<&'static str>, refusal: Refusal) -> Self {
        Self { field: field.into(), rule: rule.map(RuleId::spec), refusal }
    }

    /// The message for the person who entered it, with the rule.
    pub fn message(&self) -> String {
        match &self.rule {
            Some(rule) => format!("{} ({rule})", self.refusal),
            None => self.refusal.to_string(),
        }
    }

    /// As per-field errors, for a form or a 422 answer.
    pub fn to_field_errors(&self) -> FieldErrors {
        FieldErrors::single(self.field.clone(), self.message())
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message())
    }
}

impl std::error::Error for LedgerError {}
