//! The book: every container's balance, recomputed from the entries alone (issue 13
//! item 8), with the invariant checked after every entry.
//!
//! For every container, at all times:
//!
//! ```text
//! received − administered − wasted − broken − lost − transferred out − disposed
//!          ± corrections = on hand ≥ 0
//! ```
//!
//! "Transferred out" is stock sent to another registrant. A transfer between the
//! clinic's own locations moves the container, not the registrant's stock, so it is no
//! term of the sum (the container is in transit in between); and stock from another
//! registrant arrives as a receipt (DEA-003), so there is no separate "transferred in".
//! Breakage (DEA-009) is its own term: accounted for, not lost.
//!
//! [`replay`] applies each entry through the same transition the decisions use,
//! recomputes the running balance each entry recorded, tallies the terms above
//! independently of the balance and checks the sum, and names the first entry where
//! anything disagrees.

use super::cases::{CaseAction, CaseRef, Discrepancy, check_case_action};
use super::container::{Container, EntryFacts, transition};
use super::decide::check_loss_step;
use super::entry::{Balance, Destination, EntryKind, LedgerEntry};
use super::loss::{LossStatus, LossStep};
use super::quantity::{Quantity, StockUnit, fmt_micros};
use super::refusal::Refusal;
use crate::ids::{ContainerId, LedgerEntryId};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The terms of one container's invariant, in millionths of its unit, as recorded (a
/// correction is its own term).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub unit: StockUnit,
    pub received: u64,
    pub administered: u64,
    pub wasted: u64,
    pub broken: u64,
    pub lost: u64,
    pub transferred_out: u64,
    pub disposed: u64,
    /// The net of every correction: positive adds to the stock.
    pub corrections: i64,
}

impl Totals {
    fn new(unit: StockUnit) -> Self {
        Self {
            unit,
            received: 0,
            administered: 0,
            wasted: 0,
            broken: 0,
            lost: 0,
            transferred_out: 0,
            disposed: 0,
            corrections: 0,
        }
    }

    /// received − administered − wasted − broken − lost − transferred out − disposed ±
    /// corrections, in millionths (negative if the terms say so).
    pub fn on_hand_by_formula(&self) -> i128 {
        i128::from(self.received)
            - i128::from(self.administered)
            - i128::from(self.wasted)
            - i128::from(self.broken)
            - i128::from(self.lost)
            - i128::from(self.transferred_out)
            - i128::from(self.disposed)
            + i128::from(self.corrections)
    }
}

/// What is wrong at an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An entry id used twice.
    DuplicateEntry,
    /// The entry could not have been recorded on the book as it stood: what the decision
    /// would have said (an unknown container, more than on hand, a disposed container…).
    Refused(Refusal),
    /// A case entry for a case no count opened.
    UnknownCase,
    /// A loss step for a loss not in the ledger.
    UnknownLoss,
    /// The running balance the entry recorded is not the recomputed one.
    RecordedBalance { container: ContainerId, recorded: Option<Quantity>, computed: Quantity },
    /// The recorded balances name a container the entry does not touch, or twice.
    ExtraBalance,
    /// The terms of the invariant do not sum to the balance (a defect of the ledger's own
    /// code, never of the data: kept as a check).
    Formula { container: ContainerId, formula: i128, on_hand: Quantity },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::DuplicateEntry => f.write_str("the entry id is used twice"),
            Problem::Refused(r) => write!(f, "{r}"),
            Problem::UnknownCase => f.write_str("no count opened this case"),
            Problem::UnknownLoss => f.write_str("no such loss"),
            Problem::RecordedBalance { container, recorded: Some(r), computed } => {
                write!(f, "container {container}: the entry says {r} on hand, the entries before it give {computed}")
            }
            Problem::RecordedBalance { container, recorded: None, computed } => {
                write!(f, "container {container}: the entry records no balance, the entries give {computed}")
            }
            Problem::ExtraBalance => f.write_str("the entry records balances of containers it does not name"),
            Problem::Formula { container, formula, on_hand } => {
                let formula = if *formula < 0 {
                    format!("-{}", fmt_micros(formula.unsigned_abs() as u64))
                } else {
                    fmt_micros(*formula as u64)
                };
                write!(f, "container {container}: the movements sum to {formula}, the balance is {on_hand}")
            }
        }
    }
}

/// The first entry the replay cannot accept: its place (0-based), id, kind, the field,
/// and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inconsistency {
    pub index: usize,
    pub entry: LedgerEntryId,
    pub kind: &'static str,
    pub field: String,
    pub problem: Box<Problem>,
}

impl fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} ({}, {}): {}: {}", self.index + 1, self.kind, self.entry, self.field, self.problem)
    }
}

impl std::error::Error for Inconsistency {}

/// The ledger's state, rebuilt from its entries.
#[derive(Debug, Clone, Default)]
pub struct Book {
    containers: BTreeMap<ContainerId, Container>,
    totals: BTreeMap<ContainerId, Totals>,
    facts: BTreeMap<LedgerEntryId, EntryFacts>,
    cases: BTreeMap<CaseRef, Discrepancy>,
    losses: BTreeMap<LedgerEntryId, LossStatus>,
    len: usize,
}

/// Recomputes every balance from the entries, in order, and names the first
/// inconsistent entry.
pub fn replay(entries: &[LedgerEntry]) -> Result<Book, Inconsistency> {
    let mut book = Book::new();
    for entry in entries {
        book.apply(entry)?;
    }
    Ok(book)
}

impl Book {
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries applied.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn container(&self, id: ContainerId) -> Option<&Container> {
        self.containers.get(&id)
    }
    /// Every container ever received, in id order.
    pub fn containers(&self) -> impl Iterator<Item = &Container> {
        self.containers.values()
    }
    /// The containers not disposed of nor transferred away: what [`super::count`] takes.
    pub fn stock(&self) -> Vec<Container> {
        self.containers.values().filter(|c| c.ended().is_none()).cloned().collect()
    }
    pub fn totals(&self, id: ContainerId) -> Option<&Totals> {
        self.totals.get(&id)
    }
    pub fn case(&self, case: CaseRef) -> Option<&Discrepancy> {
        self.cases.get(&case)
    }
    pub fn cases(&self) -> impl Iterator<Item = &Discrepancy> {
        self.cases.values()
    }
    /// The open discrepancy cases, for the worklist.
    pub fn open_cases(&self) -> impl Iterator<Item = &Discrepancy> {
        self.cases.values().filter(|c| c.is_open())
    }
    pub fn loss(&self, id: LedgerEntryId) -> Option<&LossStatus> {
        self.losses.get(&id)
    }
    pub fn losses(&self) -> impl Iterator<Item = &LossStatus> {
        self.losses.values()
    }

    /// Applies the next entry, or says why it cannot be (the book is then unchanged).
    pub fn apply(&mut self, entry: &LedgerEntry) -> Result<(), Inconsistency> {
        let fail = |field: &str, problem| Inconsistency {
            index: self.len,
            entry: entry.id,
            kind: entry.kind.name(),
            field: field.to_string(),
            problem: Box::new(problem),
        };
        if self.facts.contains_key(&entry.id) {
            return Err(fail("id", Problem::DuplicateEntry));
        }
        match &entry.kind {
            EntryKind::Case(c) => {
                let case = self.cases.get(&c.case).ok_or_else(|| fail("case", Problem::UnknownCase))?;
                let reference = match &c.action {
                    CaseAction::Resolve { reference: Some(r), .. } => self.facts.get(r),
                    _ => None,
                };
                check_case_action(case, &c.action, reference).map_err(|(f, r)| fail(f, Problem::Refused(r)))?;
            }
            EntryKind::LossFollowUp(l) => {
                let status = self.losses.get(&l.loss).ok_or_else(|| fail("loss", Problem::UnknownLoss))?;
                check_loss_step(status, &l.step).map_err(|(f, r)| fail(f, Problem::Refused(r)))?;
            }
            _ => {}
        }
        let corrected = match &entry.kind {
            EntryKind::Correction(k) => self.facts.get(&k.corrects),
            _ => None,
        };
        let changed =
            transition(entry, &self.containers, corrected).map_err(|f| fail(&f.field, Problem::Refused(f.refusal)))?;
        // The running balances the entry recorded.
        let computed: Vec<Balance> =
            changed.iter().map(|c| Balance { container: c.id(), on_hand: c.on_hand() }).collect();
        if entry.after != computed {
            for b in &computed {
                let recorded = entry.after.iter().find(|a| a.container == b.container).map(|a| a.on_hand);
                if recorded != Some(b.on_hand) {
                    return Err(fail(
                        "after",
                        Problem::RecordedBalance { container: b.container, recorded, computed: b.on_hand },
                    ));
                }
            }
            return Err(fail("after", Problem::ExtraBalance));
        }
        // The terms, tallied from the entry itself.
        let mut totals = self.totals.clone();
        tally(entry, &changed, &mut totals);
        for c in &changed {
            let t = totals.get(&c.id()).copied().unwrap_or(Totals::new(c.unit()));
            let formula = t.on_hand_by_formula();
            if formula != i128::from(c.on_hand().micros()) {
                return Err(fail("after", Problem::Formula { container: c.id(), formula, on_hand: c.on_hand() }));
            }
        }
        // Accepted: commit.
        self.totals = totals;
        for c in changed {
            self.containers.insert(c.id(), c);
        }
        match &entry.kind {
            EntryKind::Count(_) => {
                for d in Discrepancy::opened_by(entry) {
                    self.cases.insert(d.case, d);
                }
            }
            EntryKind::Case(c) => {
                if let Some(case) = self.cases.get_mut(&c.case) {
                    case.record(entry, &c.action);
                }
            }
            EntryKind::Loss(l) => {
                self.losses.insert(entry.id, LossStatus::new(entry.id, &l.report));
            }
            EntryKind::LossFollowUp(l) => {
                if let Some(s) = self.losses.get_mut(&l.loss) {
                    match l.step {
                        LossStep::DeaNotified { at, .. } => s.dea_notified = Some(at),
                        LossStep::Form106Filed { at, .. } => s.form106_filed = Some(at),
                    }
                }
            }
            _ => {}
        }
        self.facts.insert(entry.id, EntryFacts::of(entry));
        self.len += 1;
        Ok(())
    }
}

/// Adds the entry's movements to the terms of the containers it changed.
fn tally(entry: &LedgerEntry, changed: &[Container], totals: &mut BTreeMap<ContainerId, Totals>) {
    let mut add = |id: ContainerId, unit: StockUnit, f: &dyn Fn(&mut Totals)| {
        f(totals.entry(id).or_insert_with(|| Totals::new(unit)));
    };
    let unit_of = |id: ContainerId| changed.iter().find(|c| c.id() == id).map_or(StockUnit::Ml, |c| c.unit());
    match &entry.kind {
        EntryKind::Receipt(r) => {
            for id in &r.containers {
                add(*id, r.size.unit(), &|t| t.received = t.received.saturating_add(r.size.micros()));
            }
        }
        EntryKind::Administration(d) => add(d.container, unit_of(d.container), &|t| {
            t.administered = t.administered.saturating_add(d.amount.micros())
        }),
        EntryKind::Waste(w) => {
            add(w.container, unit_of(w.container), &|t| t.wasted = t.wasted.saturating_add(w.amount.micros()))
        }
        EntryKind::Breakage(b) => {
            add(b.container, unit_of(b.container), &|t| t.broken = t.broken.saturating_add(b.amount.micros()))
        }
        EntryKind::Loss(l) => {
            for i in &l.items {
                add(i.container, unit_of(i.container), &|t| t.lost = t.lost.saturating_add(i.amount.micros()));
            }
        }
        EntryKind::TransferOut(t) => {
            if let Destination::Registrant { .. } = t.destination {
                add(t.container, unit_of(t.container), &|x| {
                    x.transferred_out = x.transferred_out.saturating_add(t.amount.micros())
                });
            }
        }
        EntryKind::Disposal(d) => {
            add(d.container, unit_of(d.container), &|t| t.disposed = t.disposed.saturating_add(d.amount.micros()))
        }
        EntryKind::Correction(k) => {
            if let Some(ch) = k.change {
                let delta = ch.now.micros() as i64 - ch.was.micros() as i64;
                let delta = if ch.movement.adds() { delta } else { -delta };
                add(k.container, unit_of(k.container), &|t| t.corrections = t.corrections.saturating_add(delta));
            }
        }
        EntryKind::TransferIn(_)
        | EntryKind::Quarantine(_)
        | EntryKind::Release(_)
        | EntryKind::Count(_)
        | EntryKind::Case(_)
        | EntryKind::LossFollowUp(_) => {}
    }
}
