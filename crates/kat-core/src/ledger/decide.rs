//! The decisions: each takes the current state of what it touches, the command and
//! `now`, and returns the entry to append with the containers' new states, or a
//! [`LedgerError`] naming the field. A refused command changes nothing: the state passed
//! in is borrowed, never modified.
//!
//! Each checks the clinic's policy (who may, witnesses, expiry, beyond-use, location),
//! then applies the one structural [`transition`] the replay also applies.

use super::cases::{CaseAction, Discrepancy, check_case_action};
use super::container::{Container, EntryFacts, transition};
use super::entry::{
    AmountChange, Balance, Breakage, BusinessTime, Count, CountLine, Destination, Disposal, DisposalMethod, Drawn,
    EntryKind, Exactness, InventoryKind, LedgerEntry, Loss, LossFollowUp, LossItem, QuarantineReason, QuarantineRecord,
    Receipt, Recovery, Release, Staff, TransferIn, TransferOut, Waste,
};
use super::loss::{LossReport, LossStatus, LossStep};
use super::policy::{LedgerDuty, LedgerRules};
use super::product::{LedgerProduct, RemsSource, Substance};
use super::quantity::{MgQty, Quantity};
use super::refusal::{LedgerError, Refusal};
use super::registrant::Counterparty;
use crate::dosing::session::{Reason, ShortText};
use crate::ids::{AdministrationId, ContainerId, DosingSessionId, LedgerEntryId, PatientId, StorageLocationId};
use jiff::Timestamp;
use jiff::civil::Date;
use std::collections::BTreeMap;

/// An accepted command: the entry to append and the new state of every container it
/// names, in id order (what the store saves in the same transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Recorded {
    pub entry: LedgerEntry,
    pub containers: Vec<Container>,
}

impl Recorded {
    /// The discrepancy cases a count opened.
    pub fn cases(&self) -> Vec<Discrepancy> {
        Discrepancy::opened_by(&self.entry)
    }

    /// A loss's reporting status, its clocks started (DEA-010).
    pub fn loss(&self) -> Option<LossStatus> {
        match &self.entry.kind {
            EntryKind::Loss(l) => Some(LossStatus::new(self.entry.id, &l.report)),
            _ => None,
        }
    }
}

/// The rule an entry kind records, named on a refusal of its transition.
fn kind_rule(kind: &EntryKind) -> Option<&'static str> {
    match kind {
        EntryKind::Receipt(_) => Some("DEA-003"),
        EntryKind::Administration(_) => Some("DEA-004"),
        EntryKind::Waste(_) => Some("DEA-007"),
        EntryKind::Quarantine(_) | EntryKind::Release(_) | EntryKind::Disposal(_) => Some("DEA-008"),
        EntryKind::Breakage(_) => Some("DEA-009"),
        EntryKind::Loss(_) | EntryKind::LossFollowUp(_) => Some("DEA-010"),
        EntryKind::Count(_) => Some("DEA-006"),
        EntryKind::TransferOut(_) | EntryKind::TransferIn(_) | EntryKind::Case(_) | EntryKind::Correction(_) => None,
    }
}

fn permit(rules: &LedgerRules, staff: &Staff, duty: LedgerDuty, field: &str) -> Result<(), LedgerError> {
    if rules.policy.duties.allows(staff.role, duty) {
        Ok(())
    } else {
        Err(LedgerError::new(field, Some("DEA-012"), Refusal::NotPermitted { role: staff.role, duty }))
    }
}

/// A witness: someone else, whose role may witness (DEA-007: a second *authorised*
/// member of staff). Whether they re-authenticated is the shell's to check.
fn check_witness(
    rules: &LedgerRules,
    by: &Staff,
    w: &Staff,
    field: &str,
    rule: &'static str,
) -> Result<(), LedgerError> {
    if w.user == by.user {
        return Err(LedgerError::new(field, Some(rule), Refusal::WitnessIsSelf));
    }
    if !rules.policy.duties.allows(w.role, LedgerDuty::Witness) {
        return Err(LedgerError::new(
            field,
            Some(rule),
            Refusal::NotPermitted { role: w.role, duty: LedgerDuty::Witness },
        ));
    }
    Ok(())
}

fn one(c: &Container) -> BTreeMap<ContainerId, Container> {
    [(c.id(), c.clone())].into_iter().collect()
}

/// Builds the entry, applies it, and fills its running balances.
fn finish(
    id: LedgerEntryId,
    by: Staff,
    now: Timestamp,
    kind: EntryKind,
    current: &BTreeMap<ContainerId, Container>,
    corrected: Option<&EntryFacts>,
) -> Result<Recorded, LedgerError> {
    let mut entry = LedgerEntry { id, at: now, by, kind, after: Vec::new() };
    let containers = transition(&entry, current, corrected)
        .map_err(|f| LedgerError::new(f.field, kind_rule(&entry.kind), f.refusal))?;
    entry.after = containers.iter().map(|c| Balance { container: c.id(), on_hand: c.on_hand() }).collect();
    Ok(Recorded { entry, containers })
}

/// A receipt line (DEA-003).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub supplier: Counterparty,
    pub invoice: ShortText,
    pub received_on: Date,
    pub product: LedgerProduct,
    pub size: Quantity,
    pub lot: ShortText,
    pub expiry: Date,
    pub location: StorageLocationId,
    /// One new id per container received.
    pub containers: Vec<ContainerId>,
    pub rems: Option<RemsSource>,
}

/// Records a receipt (DEA-003), creating its containers, each holding `size`. Esketamine
/// needs its REMS source (DEA-013). A product that arrives expired is still recorded as
/// received, its containers quarantined (DEA-008).
pub fn receive(cmd: ReceiveCommand, rules: &LedgerRules, now: Timestamp) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Receive, "by")?;
    let today = rules.today(now);
    if cmd.received_on > today {
        return Err(LedgerError::new("received_on", Some("DEA-003"), Refusal::DateInFuture { date: cmd.received_on }));
    }
    match (cmd.product.substance(), &cmd.rems) {
        (Substance::Esketamine, None) => return Err(LedgerError::new("rems", Some("DEA-013"), Refusal::RemsRequired)),
        (Substance::Ketamine, Some(_)) => {
            return Err(LedgerError::new("rems", Some("DEA-013"), Refusal::RemsNotApplicable));
        }
        _ => {}
    }
    let receipt = Receipt {
        supplier: cmd.supplier,
        invoice: cmd.invoice,
        received_on: cmd.received_on,
        product: cmd.product,
        size: cmd.size,
        lot: cmd.lot,
        expiry: cmd.expiry,
        location: cmd.location,
        containers: cmd.containers,
        rems: cmd.rems,
        arrived_expired: today > cmd.expiry,
    };
    finish(cmd.entry, cmd.by, now, EntryKind::Receipt(receipt), &BTreeMap::new(), None)
}

/// Stock drawn for an administration (DEA-004).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub administration: AdministrationId,
    pub session: DosingSessionId,
    pub patient: PatientId,
    pub administered_at: Timestamp,
    pub administered_by: ShortText,
    /// Where the session takes its stock from.
    pub location: StorageLocationId,
    /// The delivered dose.
    pub mg: MgQty,
}

/// Draws the delivered dose from a container for an administration (DEA-004). Refused
/// when the container is disposed of, in transit, quarantined, expired at `now` (the
/// clinic's date past the expiry date), opened longer ago than the beyond-use time, kept
/// at another location than the session's, empty or short; the dose must be whole
/// devices or tablets for a counted product. The first draw opens a sealed container.
pub fn draw(c: &Container, cmd: DrawCommand, rules: &LedgerRules, now: Timestamp) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Administer, "by")?;
    c.check_in_use().map_err(|r| LedgerError::new("container", Some("DEA-008"), r))?;
    let today = rules.today(now);
    if c.is_expired(today) {
        return Err(LedgerError::new("container", Some("DEA-008"), Refusal::Expired { expiry: c.expiry(), today }));
    }
    if let (Some(opened_at), Some(limit)) = (c.opened_at(), rules.policy.opened_beyond_use) {
        let until = opened_at.checked_add(limit).unwrap_or(Timestamp::MAX);
        if now > until {
            return Err(LedgerError::new("container", None, Refusal::BeyondUse { opened_at, until }));
        }
    }
    if c.location() != cmd.location {
        return Err(LedgerError::new(
            "location",
            None,
            Refusal::WrongLocation { at: c.location(), expected: cmd.location },
        ));
    }
    let amount = c
        .product()
        .strength()
        .quantity_for(cmd.mg)
        .map_err(|e| LedgerError::new("mg", Some("DEA-004"), Refusal::Quantity(e)))?;
    let drawn = Drawn {
        container: c.id(),
        administration: cmd.administration,
        session: cmd.session,
        patient: cmd.patient,
        administered_at: cmd.administered_at,
        administered_by: cmd.administered_by,
        mg: cmd.mg,
        amount,
    };
    finish(cmd.entry, cmd.by, now, EntryKind::Administration(drawn), &one(c), None)
}

/// Waste of what is left in an opened container (DEA-007).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasteCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub amount: Quantity,
    pub method: ShortText,
    pub reason: Reason,
    pub witness: Option<Staff>,
    pub administration: Option<AdministrationId>,
}

/// Records waste (DEA-007): from an opened container at its location, not quarantined,
/// at most what is on hand, witnessed by someone else whose role may witness (required
/// unless the clinic's policy says otherwise, DEA-007 \[P\]).
pub fn waste(c: &Container, cmd: WasteCommand, rules: &LedgerRules, now: Timestamp) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Waste, "by")?;
    match &cmd.witness {
        Some(w) => check_witness(rules, &cmd.by, w, "witness", "DEA-007")?,
        None if rules.policy.waste_witness => {
            return Err(LedgerError::new("witness", Some("DEA-007"), Refusal::WitnessRequired));
        }
        None => {}
    }
    let w = Waste {
        container: c.id(),
        amount: cmd.amount,
        method: cmd.method,
        reason: cmd.reason,
        witness: cmd.witness,
        administration: cmd.administration,
    };
    finish(cmd.entry, cmd.by, now, EntryKind::Waste(w), &one(c), None)
}

/// A whole container sent to another location or registrant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOutCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub destination: Destination,
}

/// Sends a whole container: to another location (in transit until received there; the
/// registrant's stock unchanged), or to another registrant (it leaves the ledger).
pub fn transfer_out(
    c: &Container,
    cmd: TransferOutCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Move, "by")?;
    let t = TransferOut { container: c.id(), amount: c.on_hand(), from: c.location(), destination: cmd.destination };
    finish(cmd.entry, cmd.by, now, EntryKind::TransferOut(t), &one(c), None)
}

/// A container in transit received at its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferInCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub location: StorageLocationId,
}

/// Receives a container in transit at `location`, its destination, with what was sent.
/// What did not arrive is a loss (DEA-010, lost in transit), recorded before.
pub fn transfer_in(
    c: &Container,
    cmd: TransferInCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Move, "by")?;
    let t = TransferIn { container: c.id(), amount: c.on_hand(), location: cmd.location };
    finish(cmd.entry, cmd.by, now, EntryKind::TransferIn(t), &one(c), None)
}

/// A container set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub reason: QuarantineReason,
    pub note: Option<Reason>,
}

/// Quarantines a container (DEA-008: expired, damaged or unwanted stock awaiting
/// disposal). "Expired" must be true at the clinic's date.
pub fn quarantine(
    c: &Container,
    cmd: QuarantineCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Move, "by")?;
    if cmd.reason == QuarantineReason::Expired && !c.is_expired(rules.today(now)) {
        return Err(LedgerError::new("reason", Some("DEA-008"), Refusal::NotExpired { expiry: c.expiry() }));
    }
    let q = QuarantineRecord { container: c.id(), reason: cmd.reason, note: cmd.note };
    finish(cmd.entry, cmd.by, now, EntryKind::Quarantine(q), &one(c), None)
}

/// A quarantined container returned to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub note: Reason,
}

/// Releases a quarantined container; never an expired one (it is disposed of, DEA-008).
pub fn release(
    c: &Container,
    cmd: ReleaseCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Move, "by")?;
    let today = rules.today(now);
    if c.quarantine().is_some() && c.is_expired(today) {
        return Err(LedgerError::new("container", Some("DEA-008"), Refusal::Expired { expiry: c.expiry(), today }));
    }
    let r = Release { container: c.id(), note: cmd.note };
    finish(cmd.entry, cmd.by, now, EntryKind::Release(r), &one(c), None)
}

/// A whole container disposed of (DEA-008).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisposeCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub method: DisposalMethod,
    pub witnesses: Vec<Staff>,
}

/// Disposes of the whole container (DEA-008): to a reverse distributor, or destroyed on
/// site before the clinic's number of witnesses (DEA-008 \[U\]: two), each someone else
/// whose role may witness. Witnesses named for a reverse-distributor return are checked
/// the same way.
pub fn dispose(
    c: &Container,
    cmd: DisposeCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Dispose, "by")?;
    let needed = rules.policy.destruction_witnesses;
    if matches!(cmd.method, DisposalMethod::OnSite { .. }) && cmd.witnesses.len() < usize::from(needed) {
        return Err(LedgerError::new(
            "witnesses",
            Some("DEA-008"),
            Refusal::TooFewWitnesses { needed, given: cmd.witnesses.len() },
        ));
    }
    for (i, w) in cmd.witnesses.iter().enumerate() {
        check_witness(rules, &cmd.by, w, &format!("witnesses[{i}]"), "DEA-008")?;
    }
    let d = Disposal { container: c.id(), amount: c.on_hand(), method: cmd.method, witnesses: cmd.witnesses };
    finish(cmd.entry, cmd.by, now, EntryKind::Disposal(d), &one(c), None)
}

/// Witnessed breakage or spillage (DEA-009).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakageCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub amount: Quantity,
    pub witness: Staff,
    pub recovery: Recovery,
}

/// Records witnessed breakage (DEA-009): someone else whose role may witness saw it; at
/// most what is on hand. Breakage nobody witnessed is a loss (DEA-010).
pub fn breakage(
    c: &Container,
    cmd: BreakageCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Waste, "by")?;
    check_witness(rules, &cmd.by, &cmd.witness, "witness", "DEA-009")?;
    let b = Breakage { container: c.id(), amount: cmd.amount, witness: cmd.witness, recovery: cmd.recovery };
    finish(cmd.entry, cmd.by, now, EntryKind::Breakage(b), &one(c), None)
}

/// A theft or loss (DEA-010, DEA-011).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub report: LossReport,
    pub items: Vec<LossItem>,
}

/// Records a theft or loss: the stock it took from each container (at most what is on
/// hand; a container in transit may be lost in transit). Discovery may not be later
/// than `now`; the clocks start at discovery ([`Recorded::loss`]).
pub fn report_loss(
    stock: &[Container],
    cmd: LossCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::ReportLoss, "by")?;
    if cmd.report.discovered_at > now {
        return Err(LedgerError::new(
            "discovered_at",
            Some("DEA-010"),
            Refusal::InFuture { at: cmd.report.discovered_at },
        ));
    }
    let current = stock.iter().map(|c| (c.id(), c.clone())).collect();
    let loss = Loss { report: cmd.report, items: cmd.items };
    finish(cmd.entry, cmd.by, now, EntryKind::Loss(loss), &current, None)
}

/// A later step of a loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossStepCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub step: LossStep,
}

pub(crate) fn check_loss_step(status: &LossStatus, step: &LossStep) -> Result<(), (&'static str, Refusal)> {
    let done = match step {
        LossStep::DeaNotified { .. } => status.dea_notified,
        LossStep::Form106Filed { .. } => status.form106_filed,
    };
    if done.is_some() {
        return Err(("step", Refusal::AlreadyRecorded));
    }
    if step.at() < status.discovered_at {
        return Err(("at", Refusal::BeforeDiscovery));
    }
    Ok(())
}

/// Records that the DEA was notified or Form 106 filed (DEA-010), each once, dated
/// between discovery and `now`.
pub fn record_loss_step(
    status: &LossStatus,
    cmd: LossStepCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::ReportLoss, "by")?;
    if cmd.step.at() > now {
        return Err(LedgerError::new("at", Some("DEA-010"), Refusal::InFuture { at: cmd.step.at() }));
    }
    check_loss_step(status, &cmd.step).map_err(|(f, r)| LedgerError::new(f, Some("DEA-010"), r))?;
    let kind = EntryKind::LossFollowUp(LossFollowUp { loss: status.loss, step: cmd.step });
    finish(cmd.entry, cmd.by, now, kind, &BTreeMap::new(), None)
}

/// One container as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountInput {
    pub container: ContainerId,
    pub counted: Quantity,
    pub exactness: Exactness,
}

/// A count or inventory (DEA-006).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub kind: InventoryKind,
    pub taken: BusinessTime,
    /// The location counted; `None` for the whole clinic.
    pub location: Option<StorageLocationId>,
    pub lines: Vec<CountInput>,
}

/// Records a count (DEA-006). `stock` is every container of the ledger not yet disposed
/// of or transferred away (the caller's current view); the count must list each one on
/// hand in its scope (the location, or the whole clinic), and a DEA-006 inventory cannot
/// be taken while a container is in transit. Each line's expected quantity is the book's;
/// a line that differs opens a discrepancy case ([`Recorded::cases`]). An estimate is
/// refused for a container of more than 1,000 units (DEA-006). An initial inventory of
/// nothing is a count with no lines.
pub fn count(
    stock: &[Container],
    cmd: CountCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Count, "by")?;
    let current: BTreeMap<ContainerId, Container> = stock.iter().map(|c| (c.id(), c.clone())).collect();
    let lines = cmd
        .lines
        .iter()
        .map(|l| CountLine {
            container: l.container,
            // A container not in `stock` is refused by the transition, by its line.
            expected: current.get(&l.container).map_or(l.counted, |c| c.on_hand()),
            counted: l.counted,
            exactness: l.exactness,
        })
        .collect();
    let (kind, location) = (cmd.kind, cmd.location);
    let count = Count { kind, taken: cmd.taken, location, lines };
    let recorded = finish(cmd.entry, cmd.by, now, EntryKind::Count(count), &current, None)?;
    // Each line is right; now, is every container on hand in scope counted?
    let counted = recorded.entry.kind.containers();
    let err = |r| LedgerError::new("lines", Some("DEA-006"), r);
    for c in stock {
        let in_scope = c.ended().is_none() && location.is_none_or(|l| l == c.location());
        if !in_scope || c.on_hand().is_zero() || counted.contains(&c.id()) {
            continue;
        }
        match c.transit() {
            Some(t) if kind.is_full_inventory() => return Err(err(Refusal::InTransit { to: t.to })),
            Some(_) => {}
            None => return Err(err(Refusal::NotCounted { container: c.id() })),
        }
    }
    Ok(recorded)
}

/// A note on, or the resolution of, a discrepancy case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    pub action: CaseAction,
}

/// Adds a note to an open case (who may count or resolve), or resolves it (who may
/// resolve). A resolution as a recording error, a loss or breakage names the correction,
/// loss or breakage entry of the case's container recorded since the count
/// (`referenced`, looked up by the shell from the action's `reference`).
pub fn record_case(
    case: &Discrepancy,
    cmd: CaseCommand,
    referenced: Option<&LedgerEntry>,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    match cmd.action {
        CaseAction::Note { .. } => {
            if !rules.policy.duties.allows(cmd.by.role, LedgerDuty::Count) {
                permit(rules, &cmd.by, LedgerDuty::ResolveCase, "by")?;
            }
        }
        CaseAction::Resolve { .. } => permit(rules, &cmd.by, LedgerDuty::ResolveCase, "by")?,
    }
    let facts = referenced.map(EntryFacts::of);
    check_case_action(case, &cmd.action, facts.as_ref()).map_err(|(f, r)| LedgerError::new(f, Some("DEA-006"), r))?;
    let kind = EntryKind::Case(super::entry::CaseEntry { case: case.case, action: cmd.action });
    finish(cmd.entry, cmd.by, now, kind, &BTreeMap::new(), None)
}

/// A correction of an earlier entry for one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionCommand {
    pub entry: LedgerEntryId,
    pub by: Staff,
    /// The right amount, for a receipt, administration, waste, breakage or loss; `None`
    /// for a correction that is only a note (a wrong name, a wrong method).
    pub amount: Option<Quantity>,
    pub reason: Reason,
}

/// Corrects `original` for container `c` with a new entry that names it (the original
/// is never changed). Restating an amount moves the balance by the difference and may not
/// leave it below zero; a disposed-of or transferred container is not corrected.
pub fn correct(
    c: &Container,
    original: &LedgerEntry,
    cmd: CorrectionCommand,
    rules: &LedgerRules,
    now: Timestamp,
) -> Result<Recorded, LedgerError> {
    permit(rules, &cmd.by, LedgerDuty::Correct, "by")?;
    let facts = EntryFacts::of(original);
    let change = match cmd.amount {
        None => None,
        Some(amount) => {
            let Some((movement, recorded)) = original.kind.movement(c.id()) else {
                return Err(LedgerError::new("amount", None, Refusal::NotCorrectable));
            };
            Some(AmountChange { movement, was: c.amount_in_force(original.id, recorded), now: amount })
        }
    };
    let k = super::entry::Correction { corrects: original.id, container: c.id(), change, reason: cmd.reason };
    finish(cmd.entry, cmd.by, now, EntryKind::Correction(k), &one(c), Some(&facts))
}
