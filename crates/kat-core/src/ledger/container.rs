//! A container (a vial, a device kit, a bottle) and the one transition every entry makes
//! to the containers it names.
//!
//! [`transition`] is the ledger's arithmetic and life cycle, and nothing else: it is what
//! the decision functions apply after their policy checks, and what the replay applies
//! to stored entries without judging the policy again (who may, witnesses' roles, expiry
//! and beyond-use at the time were judged when the entry was recorded). So a balance the
//! decisions produced and a balance the replay recomputes cannot be computed two ways.

use super::entry::{
    AmountChange, Destination, EntryKind, Exactness, LedgerEntry, Movement, QuarantineReason, Receipt, Staff,
};
use super::product::{LedgerProduct, RemsSource};
use super::quantity::{MICROS, Quantity, StockUnit};
use super::refusal::Refusal;
use crate::dosing::session::{Product, ShortText};
use crate::ids::{ContainerId, LedgerEntryId, StorageLocationId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Where a container is in its life; derived from the container, so it cannot disagree
/// with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerState {
    /// Sealed, as received.
    InStock,
    /// Drawn from at least once.
    Open,
    /// Set aside: nothing is drawn until it is released or disposed of.
    Quarantined,
    /// On its way to another of the clinic's locations.
    InTransit,
    /// Nothing left on hand.
    Empty,
    /// Disposed of (DEA-008).
    Disposed,
    /// Transferred to another registrant.
    TransferredAway,
}

impl ContainerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerState::InStock => "in_stock",
            ContainerState::Open => "open",
            ContainerState::Quarantined => "quarantined",
            ContainerState::InTransit => "in_transit",
            ContainerState::Empty => "empty",
            ContainerState::Disposed => "disposed",
            ContainerState::TransferredAway => "transferred_away",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContainerState::InStock => "in stock",
            ContainerState::Open => "open",
            ContainerState::Quarantined => "quarantined",
            ContainerState::InTransit => "in transit",
            ContainerState::Empty => "empty",
            ContainerState::Disposed => "disposed of",
            ContainerState::TransferredAway => "transferred to another registrant",
        }
    }
}

/// How a container left the ledger for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    Disposed,
    TransferredAway,
}

/// A container on its way between two of the clinic's locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transit {
    pub to: StorageLocationId,
    pub since: Timestamp,
}

/// One commercial container with its own balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    id: ContainerId,
    receipt: LedgerEntryId,
    received_on: Date,
    product: LedgerProduct,
    size: Quantity,
    lot: ShortText,
    expiry: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rems: Option<RemsSource>,
    location: StorageLocationId,
    on_hand: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opened_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quarantine: Option<QuarantineReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transit: Option<Transit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ended: Option<Ended>,
    /// The amount in force of each entry a correction restated.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    corrected: BTreeMap<LedgerEntryId, Quantity>,
}

impl Container {
    pub fn id(&self) -> ContainerId {
        self.id
    }
    /// The receipt entry that created it.
    pub fn receipt(&self) -> LedgerEntryId {
        self.receipt
    }
    pub fn received_on(&self) -> Date {
        self.received_on
    }
    pub fn product(&self) -> &LedgerProduct {
        &self.product
    }
    pub fn unit(&self) -> StockUnit {
        self.size.unit()
    }
    /// What it held when received.
    pub fn size(&self) -> Quantity {
        self.size
    }
    pub fn lot(&self) -> &ShortText {
        &self.lot
    }
    pub fn expiry(&self) -> Date {
        self.expiry
    }
    pub fn rems(&self) -> Option<&RemsSource> {
        self.rems.as_ref()
    }
    /// Where it is kept (its origin while in transit).
    pub fn location(&self) -> StorageLocationId {
        self.location
    }
    pub fn on_hand(&self) -> Quantity {
        self.on_hand
    }
    pub fn opened_at(&self) -> Option<Timestamp> {
        self.opened_at
    }
    pub fn quarantine(&self) -> Option<&QuarantineReason> {
        self.quarantine.as_ref()
    }
    pub fn transit(&self) -> Option<Transit> {
        self.transit
    }
    pub fn ended(&self) -> Option<Ended> {
        self.ended
    }

    /// The amount in force of a movement entry for this container: the latest
    /// correction's, else what the entry recorded.
    pub fn amount_in_force(&self, entry: LedgerEntryId, recorded: Quantity) -> Quantity {
        self.corrected.get(&entry).copied().unwrap_or(recorded)
    }

    pub fn state(&self) -> ContainerState {
        match self.ended {
            Some(Ended::Disposed) => ContainerState::Disposed,
            Some(Ended::TransferredAway) => ContainerState::TransferredAway,
            None if self.transit.is_some() => ContainerState::InTransit,
            None if self.on_hand.is_zero() => ContainerState::Empty,
            None if self.quarantine.is_some() => ContainerState::Quarantined,
            None if self.opened_at.is_some() => ContainerState::Open,
            None => ContainerState::InStock,
        }
    }

    /// Past its expiry date on `today` (the clinic's date): usable through the expiry
    /// date itself, as the administration record judges it.
    pub fn is_expired(&self, today: Date) -> bool {
        today > self.expiry
    }

    /// The product as the dosing session's administration records it (DOSE-GEN-002):
    /// the same name, concentration, lot and expiry as the ledger.
    pub fn administration_product(&self) -> Product {
        Product {
            name: self.product.name().clone(),
            concentration: self.product.strength().as_mg_per_ml(),
            lot: self.lot.clone(),
            expiry: self.expiry,
        }
    }

    /// Neither disposed of, transferred away nor in transit: stock at its location.
    pub(crate) fn check_at_location(&self) -> Result<(), Refusal> {
        if self.ended.is_some() {
            return Err(Refusal::Ended { state: self.state() });
        }
        if let Some(t) = self.transit {
            return Err(Refusal::InTransit { to: t.to });
        }
        Ok(())
    }

    /// At its location and not quarantined: stock that may be drawn or wasted from.
    pub(crate) fn check_in_use(&self) -> Result<(), Refusal> {
        self.check_at_location()?;
        match &self.quarantine {
            Some(reason) => Err(Refusal::Quarantined { reason: reason.clone() }),
            None => Ok(()),
        }
    }
}

/// A transition refused: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub field: String,
    pub refusal: Refusal,
}

fn fault(field: impl Into<String>, refusal: Refusal) -> Fault {
    Fault { field: field.into(), refusal }
}

/// What the transition needs to know of the entry a correction names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryFacts {
    pub id: LedgerEntryId,
    pub at: Timestamp,
    pub name: &'static str,
    pub is_correction: bool,
    pub containers: Vec<ContainerId>,
    pub movements: Vec<(ContainerId, Movement, Quantity)>,
}

impl EntryFacts {
    pub fn of(entry: &LedgerEntry) -> Self {
        let containers = entry.kind.containers();
        let movements = containers.iter().filter_map(|c| entry.kind.movement(*c).map(|(m, q)| (*c, m, q))).collect();
        Self {
            id: entry.id,
            at: entry.at,
            name: entry.kind.name(),
            is_correction: matches!(entry.kind, EntryKind::Correction(_)),
            containers,
            movements,
        }
    }
}

/// The most units a container may hold and still be counted by estimate (DEA-006:
/// Schedule III may be an estimated count unless the container holds more than 1,000
/// units).
pub const ESTIMATE_MAX_UNITS: u64 = 1_000;

/// A positive amount in the container's unit, at most what is on hand.
fn take(c: &Container, amount: Quantity, field: &str) -> Result<Quantity, Fault> {
    c.on_hand.same_unit(amount).map_err(|e| fault(field, Refusal::Quantity(e)))?;
    if amount.is_zero() {
        return Err(fault(field, Refusal::Zero));
    }
    if c.on_hand.is_zero() {
        return Err(fault("container", Refusal::Empty));
    }
    c.on_hand.checked_sub(amount).ok_or_else(|| fault(field, Refusal::Short { on_hand: c.on_hand, requested: amount }))
}

fn distinct_witnesses(by: &Staff, witnesses: &[&Staff], field: &str, single: bool) -> Result<(), Fault> {
    let mut seen = BTreeSet::new();
    for (i, w) in witnesses.iter().enumerate() {
        let name = if single { field.to_string() } else { format!("{field}[{i}]") };
        if w.user == by.user {
            return Err(fault(name, Refusal::WitnessIsSelf));
        }
        if !seen.insert(w.user) {
            return Err(fault(name, Refusal::WitnessRepeated));
        }
    }
    Ok(())
}

fn at_location(c: &Container) -> Result<(), Fault> {
    c.check_at_location().map_err(|r| fault("container", r))
}

fn create(
    entry: &LedgerEntry,
    r: &Receipt,
    current: &BTreeMap<ContainerId, Container>,
) -> Result<Vec<Container>, Fault> {
    if r.containers.is_empty() {
        return Err(fault("containers", Refusal::Required));
    }
    if r.size.unit() != r.product.unit() {
        let e = super::quantity::QuantityError::UnitMismatch {
            expected: r.product.unit().symbol(),
            found: r.size.unit().symbol(),
        };
        return Err(fault("size", Refusal::Quantity(e)));
    }
    if r.size.is_zero() {
        return Err(fault("size", Refusal::Zero));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, id) in r.containers.iter().enumerate() {
        if current.contains_key(id) {
            return Err(fault(format!("containers[{i}]"), Refusal::ContainerExists { id: *id }));
        }
        if !seen.insert(*id) {
            return Err(fault(format!("containers[{i}]"), Refusal::Duplicate));
        }
        out.push(Container {
            id: *id,
            receipt: entry.id,
            received_on: r.received_on,
            product: r.product.clone(),
            size: r.size,
            lot: r.lot.clone(),
            expiry: r.expiry,
            rems: r.rems.clone(),
            location: r.location,
            on_hand: r.size,
            opened_at: None,
            quarantine: r.arrived_expired.then_some(QuarantineReason::Expired),
            transit: None,
            ended: None,
            corrected: BTreeMap::new(),
        });
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// Applies `entry` to the containers it names (`current` holds at least those, except
/// those a receipt creates) and returns their new states in id order. `corrected` is the
/// entry a correction names, when the entry is one. Checks the ledger's arithmetic and
/// life cycle only (see the module doc).
pub(crate) fn transition(
    entry: &LedgerEntry,
    current: &BTreeMap<ContainerId, Container>,
    corrected: Option<&EntryFacts>,
) -> Result<Vec<Container>, Fault> {
    if let EntryKind::Receipt(r) = &entry.kind {
        return create(entry, r, current);
    }
    let get = |id: ContainerId, field: &str| -> Result<Container, Fault> {
        current.get(&id).cloned().ok_or_else(|| fault(field, Refusal::UnknownContainer { id }))
    };
    let one = |c: Container| Ok(vec![c]);
    match &entry.kind {
        EntryKind::Receipt(_) => unreachable!("handled above"),
        EntryKind::Administration(d) => {
            let mut c = get(d.container, "container")?;
            c.check_in_use().map_err(|r| fault("container", r))?;
            if d.mg.is_zero() {
                return Err(fault("mg", Refusal::Zero));
            }
            let dose = c.product.strength().quantity_for(d.mg).map_err(|e| fault("mg", Refusal::Quantity(e)))?;
            if dose != d.amount {
                return Err(fault("amount", Refusal::NotTheBook { book: dose }));
            }
            c.on_hand = take(&c, d.amount, "mg")?;
            c.opened_at.get_or_insert(entry.at);
            one(c)
        }
        EntryKind::Waste(w) => {
            let mut c = get(w.container, "container")?;
            c.check_in_use().map_err(|r| fault("container", r))?;
            if c.opened_at.is_none() {
                return Err(fault("container", Refusal::Sealed));
            }
            if let Some(witness) = &w.witness {
                distinct_witnesses(&entry.by, &[witness], "witness", true)?;
            }
            c.on_hand = take(&c, w.amount, "amount")?;
            one(c)
        }
        EntryKind::TransferOut(t) => {
            let mut c = get(t.container, "container")?;
            at_location(&c)?;
            if c.on_hand.is_zero() {
                return Err(fault("container", Refusal::Empty));
            }
            if t.amount != c.on_hand {
                return Err(fault("amount", Refusal::NotTheBook { book: c.on_hand }));
            }
            if t.from != c.location {
                return Err(fault("from", Refusal::WrongLocation { at: c.location, expected: t.from }));
            }
            match &t.destination {
                Destination::Location { location } => {
                    if *location == c.location {
                        return Err(fault("to", Refusal::SameLocation));
                    }
                    c.transit = Some(Transit { to: *location, since: entry.at });
                }
                Destination::Registrant { .. } => {
                    c.on_hand = Quantity::zero(c.unit());
                    c.ended = Some(Ended::TransferredAway);
                }
            }
            one(c)
        }
        EntryKind::TransferIn(t) => {
            let mut c = get(t.container, "container")?;
            if c.ended.is_some() {
                return Err(fault("container", Refusal::Ended { state: c.state() }));
            }
            let Some(transit) = c.transit else { return Err(fault("container", Refusal::NotInTransit)) };
            if t.location != transit.to {
                return Err(fault("location", Refusal::WrongLocation { at: transit.to, expected: t.location }));
            }
            if t.amount != c.on_hand {
                return Err(fault("amount", Refusal::NotTheBook { book: c.on_hand }));
            }
            c.location = transit.to;
            c.transit = None;
            one(c)
        }
        EntryKind::Quarantine(q) => {
            let mut c = get(q.container, "container")?;
            if c.ended.is_some() {
                return Err(fault("container", Refusal::Ended { state: c.state() }));
            }
            if c.quarantine.is_some() {
                return Err(fault("container", Refusal::AlreadyQuarantined));
            }
            if c.on_hand.is_zero() {
                return Err(fault("container", Refusal::Empty));
            }
            c.quarantine = Some(q.reason.clone());
            one(c)
        }
        EntryKind::Release(r) => {
            let mut c = get(r.container, "container")?;
            if c.ended.is_some() {
                return Err(fault("container", Refusal::Ended { state: c.state() }));
            }
            if c.quarantine.is_none() {
                return Err(fault("container", Refusal::NotQuarantined));
            }
            c.quarantine = None;
            one(c)
        }
        EntryKind::Disposal(d) => {
            let mut c = get(d.container, "container")?;
            at_location(&c)?;
            if c.on_hand.is_zero() {
                return Err(fault("container", Refusal::Empty));
            }
            if d.amount != c.on_hand {
                return Err(fault("amount", Refusal::NotTheBook { book: c.on_hand }));
            }
            let witnesses: Vec<&Staff> = d.witnesses.iter().collect();
            distinct_witnesses(&entry.by, &witnesses, "witnesses", false)?;
            c.on_hand = Quantity::zero(c.unit());
            c.ended = Some(Ended::Disposed);
            one(c)
        }
        EntryKind::Breakage(b) => {
            let mut c = get(b.container, "container")?;
            at_location(&c)?;
            distinct_witnesses(&entry.by, &[&b.witness], "witness", true)?;
            c.on_hand = take(&c, b.amount, "amount")?;
            one(c)
        }
        EntryKind::Loss(l) => {
            if l.items.is_empty() {
                return Err(fault("items", Refusal::Required));
            }
            let mut out: BTreeMap<ContainerId, Container> = BTreeMap::new();
            for (i, item) in l.items.iter().enumerate() {
                let field = format!("items[{i}]");
                if out.contains_key(&item.container) {
                    return Err(fault(format!("{field}.container"), Refusal::Duplicate));
                }
                let mut c = get(item.container, &format!("{field}.container"))?;
                if c.ended.is_some() {
                    return Err(fault(format!("{field}.container"), Refusal::Ended { state: c.state() }));
                }
                c.on_hand = take(&c, item.amount, &format!("{field}.amount")).map_err(|f| {
                    if f.field == "container" { fault(format!("{field}.container"), f.refusal) } else { f }
                })?;
                if c.on_hand.is_zero() {
                    // Lost in transit, all of it: it will not arrive.
                    c.transit = None;
                }
                out.insert(c.id, c);
            }
            Ok(out.into_values().collect())
        }
        EntryKind::Count(count) => {
            let mut out: BTreeMap<ContainerId, Container> = BTreeMap::new();
            for (i, line) in count.lines.iter().enumerate() {
                let field = format!("lines[{i}]");
                if out.contains_key(&line.container) {
                    return Err(fault(format!("{field}.container"), Refusal::Duplicate));
                }
                let c = get(line.container, &format!("{field}.container"))?;
                c.check_at_location().map_err(|r| fault(format!("{field}.container"), r))?;
                if let Some(location) = count.location
                    && c.location != location
                {
                    return Err(fault(
                        format!("{field}.container"),
                        Refusal::WrongLocation { at: c.location, expected: location },
                    ));
                }
                c.on_hand
                    .same_unit(line.counted)
                    .map_err(|e| fault(format!("{field}.counted"), Refusal::Quantity(e)))?;
                if line.expected != c.on_hand {
                    return Err(fault(format!("{field}.expected"), Refusal::NotTheBook { book: c.on_hand }));
                }
                if line.exactness == Exactness::Estimated
                    && c.unit() == StockUnit::Unit
                    && c.size.micros() > ESTIMATE_MAX_UNITS * MICROS
                {
                    return Err(fault(format!("{field}.exactness"), Refusal::EstimateNotAllowed { size: c.size }));
                }
                out.insert(c.id, c);
            }
            Ok(out.into_values().collect())
        }
        EntryKind::Correction(k) => {
            let mut c = get(k.container, "container")?;
            let Some(facts) = corrected.filter(|f| f.id == k.corrects) else {
                return Err(fault("corrects", Refusal::BadReference { why: "no such entry" }));
            };
            if facts.is_correction {
                return Err(fault(
                    "corrects",
                    Refusal::BadReference { why: "correct the original entry, not a correction" },
                ));
            }
            if !facts.containers.contains(&k.container) {
                return Err(fault("corrects", Refusal::BadReference { why: "it does not concern this container" }));
            }
            let Some(AmountChange { movement, was, now }) = k.change else { return one(c) };
            let Some((_, recorded_movement, recorded)) = facts.movements.iter().find(|(id, ..)| *id == k.container)
            else {
                return Err(fault("amount", Refusal::NotCorrectable));
            };
            if !recorded_movement.amount_correctable() {
                return Err(fault("amount", Refusal::NotCorrectable));
            }
            if movement != *recorded_movement {
                return Err(fault("corrects", Refusal::BadReference { why: "the movement named is not the entry's" }));
            }
            if c.ended.is_some() {
                return Err(fault("container", Refusal::Ended { state: c.state() }));
            }
            c.on_hand.same_unit(now).map_err(|e| fault("amount", Refusal::Quantity(e)))?;
            let in_force = c.amount_in_force(facts.id, *recorded);
            if was != in_force {
                return Err(fault("amount", Refusal::NotTheBook { book: in_force }));
            }
            if now == was {
                return Err(fault("amount", Refusal::NoChange));
            }
            let delta = i128::from(now.micros()) - i128::from(was.micros());
            let delta = if movement.adds() { delta } else { -delta };
            let on_hand = u64::try_from(i128::from(c.on_hand.micros()) + delta)
                .map_err(|_| fault("amount", Refusal::WouldGoNegative { on_hand: c.on_hand }))?;
            c.on_hand = Quantity::from_micros(c.unit(), on_hand).map_err(|e| fault("amount", Refusal::Quantity(e)))?;
            c.corrected.insert(facts.id, now);
            one(c)
        }
        EntryKind::LossFollowUp(_) | EntryKind::Case(_) => Ok(Vec::new()),
    }
}
