//! The ledger's rules, each at its boundary.

use super::*;
use crate::calendar::ClinicCalendar;
use crate::dosing::session::{Reason, ShortText};
use crate::ids::{AdministrationId, ContainerId, DosingSessionId, LedgerEntryId, PatientId, StorageLocationId, UserId};
use crate::role::Role;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use uuid::Uuid;

pub(super) fn tz() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

pub(super) fn rules() -> LedgerRules {
    LedgerRules { policy: LedgerPolicy::default(), tz: tz(), calendar: ClinicCalendar::default() }
}

pub(super) fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
    date(y, m, d).at(h, min, 0, 0).to_zoned(tz()).unwrap().timestamp()
}

/// Tuesday 10 March 2026, 10:00 in New York.
pub(super) fn now() -> Timestamp {
    at(2026, 3, 10, 10, 0)
}

pub(super) fn text(s: &str) -> ShortText {
    ShortText::parse(s).unwrap()
}
pub(super) fn reason(s: &str) -> Reason {
    Reason::parse(s).unwrap()
}

pub(super) fn staff(n: u128, role: Role) -> Staff {
    Staff { user: UserId::from_uuid(Uuid::from_u128(n)), name: text(&format!("Staff {n}")), role }
}
pub(super) fn nurse() -> Staff {
    staff(1, Role::Nurse)
}
pub(super) fn nurse2() -> Staff {
    staff(2, Role::Nurse)
}
pub(super) fn prescriber() -> Staff {
    staff(3, Role::Prescriber)
}

pub(super) fn cid(n: u128) -> ContainerId {
    ContainerId::from_uuid(Uuid::from_u128(0xC000 + n))
}
pub(super) fn loc(n: u128) -> StorageLocationId {
    StorageLocationId::from_uuid(Uuid::from_u128(0x1000 + n))
}
pub(super) fn ml(s: &str) -> Quantity {
    Quantity::parse(s, StockUnit::Ml).unwrap()
}
pub(super) fn mg(s: &str) -> MgQty {
    MgQty::parse(s).unwrap()
}

pub(super) fn supplier() -> Counterparty {
    Counterparty {
        name: text("Acme Distribution"),
        address: Address::parse("1 Depot Rd\nNewark, NJ").unwrap(),
        dea: DeaNumber::parse("PA1234563").unwrap(),
    }
}

/// Ketamine 50 mg/mL in 10 mL vials.
pub(super) fn ketamine() -> LedgerProduct {
    LedgerProduct::new(
        text("Ketamine HCl 50 mg/mL"),
        Substance::Ketamine,
        Ndc::parse("42023-113-10").unwrap(),
        Strength::parse("50", StockUnit::Ml).unwrap(),
        DosageForm::Injection,
    )
    .unwrap()
}

pub(super) fn spravato() -> LedgerProduct {
    LedgerProduct::new(
        text("SPRAVATO 28 mg device"),
        Substance::Esketamine,
        Ndc::parse("50458-028-02").unwrap(),
        Strength::parse("28", StockUnit::Unit).unwrap(),
        DosageForm::NasalSprayDevice,
    )
    .unwrap()
}

pub(super) fn receive_cmd(entry: LedgerEntryId, containers: Vec<ContainerId>, expiry: Date) -> ReceiveCommand {
    ReceiveCommand {
        entry,
        by: nurse(),
        supplier: supplier(),
        invoice: text("INV-1"),
        received_on: date(2026, 3, 10),
        product: ketamine(),
        size: ml("10"),
        lot: text("L1"),
        expiry,
        location: loc(1),
        containers,
        rems: None,
    }
}

/// The ledger as the shell would keep it: every accepted entry applied to the book.
pub(super) struct Ledger {
    pub book: Book,
    pub entries: Vec<LedgerEntry>,
    next: u128,
}

impl Ledger {
    pub fn new() -> Self {
        Self { book: Book::new(), entries: Vec::new(), next: 0 }
    }
    pub fn id(&mut self) -> LedgerEntryId {
        self.next += 1;
        LedgerEntryId::from_uuid(Uuid::from_u128(self.next))
    }
    /// Appends an accepted entry; its containers must be the book's after it.
    pub fn keep(&mut self, r: Result<Recorded, LedgerError>) -> Recorded {
        let r = r.unwrap_or_else(|e| panic!("refused: {e}"));
        self.book.apply(&r.entry).unwrap_or_else(|e| panic!("the book refuses what the decision accepted: {e}"));
        for c in &r.containers {
            assert_eq!(self.book.container(c.id()), Some(c));
        }
        self.entries.push(r.entry.clone());
        r
    }
    /// Appends an accepted entry (see [`Ledger::keep`]).
    pub fn ok(&mut self, r: Result<Recorded, LedgerError>) {
        let _ = self.keep(r);
    }
    pub fn c(&self, id: ContainerId) -> Container {
        self.book.container(id).unwrap().clone()
    }
    /// Two vials received now, expiring 30 June 2026, at location 1.
    pub fn with_vials() -> Self {
        let mut l = Self::new();
        let id = l.id();
        l.ok(receive(receive_cmd(id, vec![cid(1), cid(2)], date(2026, 6, 30)), &rules(), now()));
        l
    }
    pub fn draw_cmd(&mut self, mg_: &str) -> DrawCommand {
        DrawCommand {
            entry: self.id(),
            by: nurse(),
            administration: AdministrationId::from_uuid(Uuid::from_u128(0xAD)),
            session: DosingSessionId::from_uuid(Uuid::from_u128(0x5E)),
            patient: PatientId::from_uuid(Uuid::from_u128(0xFA)),
            administered_at: now(),
            administered_by: text("RN Smith"),
            location: loc(1),
            mg: mg(mg_),
        }
    }
    pub fn waste_cmd(&mut self, amount: &str, witness: Option<Staff>) -> WasteCommand {
        WasteCommand {
            entry: self.id(),
            by: nurse(),
            amount: ml(amount),
            method: text("drug disposal pouch"),
            reason: reason("remainder after the dose"),
            witness,
            administration: None,
        }
    }
}

fn refusal(r: Result<Recorded, LedgerError>) -> (String, Refusal) {
    let e = r.expect_err("refused");
    (e.field, e.refusal)
}

// --- Receipts (DEA-003, DEA-013) ---

#[test]
fn a_receipt_creates_each_container_full() {
    let l = Ledger::with_vials();
    for id in [cid(1), cid(2)] {
        let c = l.c(id);
        assert_eq!(c.on_hand(), ml("10"));
        assert_eq!(c.state(), ContainerState::InStock);
        assert_eq!(c.location(), loc(1));
    }
    let e = &l.entries[0];
    assert_eq!(e.after.len(), 2);
    assert!(e.after.iter().all(|b| b.on_hand == ml("10")));
}

#[test]
fn a_receipt_is_refused_naming_its_field() {
    let r = rules();
    let id = LedgerEntryId::from_uuid(Uuid::nil());
    let exp = date(2026, 6, 30);
    let mut c = receive_cmd(id, vec![cid(1)], exp);
    c.by = staff(9, Role::FrontDesk);
    assert_eq!(refusal(receive(c, &r, now())).0, "by");
    let mut c = receive_cmd(id, vec![cid(1)], exp);
    c.received_on = date(2026, 3, 11);
    assert_eq!(
        refusal(receive(c, &r, now())),
        ("received_on".into(), Refusal::DateInFuture { date: date(2026, 3, 11) })
    );
    let c = receive_cmd(id, vec![], exp);
    assert_eq!(refusal(receive(c, &r, now())), ("containers".into(), Refusal::Required));
    let c = receive_cmd(id, vec![cid(1), cid(1)], exp);
    assert_eq!(refusal(receive(c, &r, now())), ("containers[1]".into(), Refusal::Duplicate));
    let mut c = receive_cmd(id, vec![cid(1)], exp);
    c.size = Quantity::units(10).unwrap();
    assert_eq!(refusal(receive(c, &r, now())).0, "size");
    let mut c = receive_cmd(id, vec![cid(1)], exp);
    c.size = ml("0");
    assert_eq!(refusal(receive(c, &r, now())), ("size".into(), Refusal::Zero));
    let mut c = receive_cmd(id, vec![cid(1)], exp);
    c.rems = Some(RemsSource { channel: RemsChannel::QualifiedDistributor, name: text("X") });
    assert_eq!(refusal(receive(c, &r, now())), ("rems".into(), Refusal::RemsNotApplicable));
}

#[test]
fn spravato_needs_its_rems_source() {
    let id = LedgerEntryId::from_uuid(Uuid::nil());
    let mut c = receive_cmd(id, vec![cid(1)], date(2026, 6, 30));
    c.product = spravato();
    c.size = Quantity::units(2).unwrap();
    let e = receive(c.clone(), &rules(), now()).unwrap_err();
    assert_eq!((e.field.as_str(), e.refusal.clone()), ("rems", Refusal::RemsRequired));
    assert!(e.message().contains("DEA-013"), "{}", e.message());
    c.rems = Some(RemsSource { channel: RemsChannel::QualifiedDistributor, name: text("Specialty Dist") });
    let r = receive(c, &rules(), now()).unwrap();
    assert_eq!(r.containers[0].on_hand(), Quantity::units(2).unwrap());
}

#[test]
fn a_product_that_arrives_expired_is_recorded_and_quarantined() {
    let mut l = Ledger::new();
    let id = l.id();
    // Expired yesterday (the clinic's date is 10 March).
    let r = l.keep(receive(receive_cmd(id, vec![cid(1)], date(2026, 3, 9)), &rules(), now()));
    assert_eq!(r.containers[0].state(), ContainerState::Quarantined);
    assert_eq!(r.containers[0].on_hand(), ml("10"));
    // Expiring today: still good.
    let id = l.id();
    let r = l.keep(receive(receive_cmd(id, vec![cid(2)], date(2026, 3, 10)), &rules(), now()));
    assert_eq!(r.containers[0].state(), ContainerState::InStock);
}

// --- Draws (DEA-004) ---

#[test]
fn a_draw_takes_the_dose_and_opens_the_container() {
    let mut l = Ledger::with_vials();
    let cmd = l.draw_cmd("35");
    let r = l.keep(draw(&l.c(cid(1)), cmd, &rules(), now()));
    let c = l.c(cid(1));
    assert_eq!(c.on_hand(), ml("9.3"));
    assert_eq!(c.opened_at(), Some(now()));
    assert_eq!(c.state(), ContainerState::Open);
    let EntryKind::Administration(d) = &r.entry.kind else { panic!() };
    assert_eq!((d.mg, d.amount), (mg("35"), ml("0.7")));
    assert_eq!(r.entry.after, [Balance { container: cid(1), on_hand: ml("9.3") }], "the running balance");
    // The administration records the same product, lot and expiry.
    let p = c.administration_product();
    assert_eq!((p.lot.as_str(), p.expiry, p.concentration.unwrap().value()), ("L1", date(2026, 6, 30), 50.0));
}

#[test]
fn a_draw_of_exactly_the_balance_empties_one_micro_unit_over_is_short() {
    let mut l = Ledger::with_vials();
    // 10 mL at 50 mg/mL is 500 mg; 500.000050 mg is 10.000001 mL.
    let cmd = l.draw_cmd("500.00005");
    let (field, why) = refusal(draw(&l.c(cid(1)), cmd, &rules(), now()));
    assert_eq!(field, "mg");
    assert_eq!(why, Refusal::Short { on_hand: ml("10"), requested: ml("10.000001") });
    let cmd = l.draw_cmd("500");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    assert_eq!(l.c(cid(1)).state(), ContainerState::Empty);
    let cmd = l.draw_cmd("1");
    assert_eq!(refusal(draw(&l.c(cid(1)), cmd, &rules(), now())), ("container".into(), Refusal::Empty));
    let cmd = l.draw_cmd("0");
    assert_eq!(refusal(draw(&l.c(cid(2)), cmd, &rules(), now())), ("mg".into(), Refusal::Zero));
}

#[test]
fn a_draw_is_refused_once_expired_at_the_clinics_date() {
    let mut l = Ledger::with_vials();
    let c = l.c(cid(1));
    // The last instant of 30 June (New York) is still within the expiry date.
    let last = at(2026, 7, 1, 0, 0).checked_sub(1.nanosecond()).unwrap();
    let cmd = l.draw_cmd("10");
    assert!(draw(&c, cmd, &rules(), last).is_ok());
    let cmd = l.draw_cmd("10");
    let e = draw(&c, cmd, &rules(), at(2026, 7, 1, 0, 0)).unwrap_err();
    assert_eq!(e.field, "container");
    assert_eq!(e.refusal, Refusal::Expired { expiry: date(2026, 6, 30), today: date(2026, 7, 1) });
    assert_eq!(e.rule.unwrap(), "DEA-008");
}

#[test]
fn a_draw_is_refused_beyond_the_opened_containers_use_time() {
    let mut l = Ledger::with_vials();
    let cmd = l.draw_cmd("10");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    let limit = now().checked_add(SignedDuration::from_hours(28 * 24)).unwrap();
    let cmd = l.draw_cmd("10");
    assert!(draw(&l.c(cid(1)), cmd, &rules(), limit).is_ok(), "exactly at the beyond-use time");
    let later = limit.checked_add(1.microsecond()).unwrap();
    let cmd = l.draw_cmd("10");
    let (f, why) = refusal(draw(&l.c(cid(1)), cmd, &rules(), later));
    assert_eq!((f.as_str(), why), ("container", Refusal::BeyondUse { opened_at: now(), until: limit }));
    // A sealed container has no beyond-use time; a clinic may have none at all.
    let cmd = l.draw_cmd("10");
    assert!(draw(&l.c(cid(2)), cmd, &rules(), later).is_ok());
    let mut keep = rules();
    keep.policy.opened_beyond_use = None;
    let cmd = l.draw_cmd("10");
    assert!(draw(&l.c(cid(1)), cmd, &keep, later).is_ok());
}

#[test]
fn a_draw_is_refused_at_another_location_or_when_quarantined() {
    let mut l = Ledger::with_vials();
    let mut cmd = l.draw_cmd("10");
    cmd.location = loc(2);
    assert_eq!(
        refusal(draw(&l.c(cid(1)), cmd, &rules(), now())),
        ("location".into(), Refusal::WrongLocation { at: loc(1), expected: loc(2) })
    );
    let q = QuarantineCommand { entry: l.id(), by: nurse(), reason: QuarantineReason::Damaged, note: None };
    l.ok(quarantine(&l.c(cid(1)), q, &rules(), now()));
    let cmd = l.draw_cmd("10");
    assert_eq!(
        refusal(draw(&l.c(cid(1)), cmd, &rules(), now())),
        ("container".into(), Refusal::Quarantined { reason: QuarantineReason::Damaged })
    );
}

#[test]
fn only_roles_that_may_administer_draw() {
    let mut l = Ledger::with_vials();
    for role in [Role::Therapist, Role::FrontDesk, Role::Admin] {
        let mut cmd = l.draw_cmd("10");
        cmd.by = staff(7, role);
        let e = draw(&l.c(cid(1)), cmd, &rules(), now()).unwrap_err();
        assert_eq!((e.field.as_str(), e.refusal), ("by", Refusal::NotPermitted { role, duty: LedgerDuty::Administer }));
    }
    let mut cmd = l.draw_cmd("10");
    cmd.by = prescriber();
    assert!(draw(&l.c(cid(1)), cmd, &rules(), now()).is_ok());
}

#[test]
fn esketamine_is_drawn_in_whole_devices() {
    let mut l = Ledger::new();
    let id = l.id();
    let mut c = receive_cmd(id, vec![cid(1)], date(2026, 6, 30));
    c.product = spravato();
    c.size = Quantity::units(3).unwrap();
    c.rems = Some(RemsSource { channel: RemsChannel::CertifiedPharmacy, name: text("REMS Rx") });
    l.ok(receive(c, &rules(), now()));
    let cmd = l.draw_cmd("42");
    let (f, why) = refusal(draw(&l.c(cid(1)), cmd, &rules(), now()));
    assert_eq!((f.as_str(), why), ("mg", Refusal::Quantity(super::quantity::QuantityError::NotWhole)));
    let cmd = l.draw_cmd("28");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    let cmd = l.draw_cmd("56");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    assert_eq!(l.c(cid(1)).state(), ContainerState::Empty);
    let cmd = l.draw_cmd("28");
    assert_eq!(refusal(draw(&l.c(cid(1)), cmd, &rules(), now())).1, Refusal::Empty);
}

// --- Waste (DEA-007) ---

#[test]
fn waste_needs_a_different_witness_who_may_witness() {
    let mut l = Ledger::with_vials();
    let cmd = l.draw_cmd("35");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    let c = l.c(cid(1));
    let cmd = l.waste_cmd("0.3", None);
    let e = waste(&c, cmd, &rules(), now()).unwrap_err();
    assert_eq!((e.field.as_str(), &e.refusal), ("witness", &Refusal::WitnessRequired));
    assert_eq!(e.rule.as_ref().unwrap(), &"DEA-007");
    let cmd = l.waste_cmd("0.3", Some(nurse()));
    assert_eq!(refusal(waste(&c, cmd, &rules(), now())), ("witness".into(), Refusal::WitnessIsSelf));
    let cmd = l.waste_cmd("0.3", Some(staff(8, Role::Therapist)));
    assert_eq!(
        refusal(waste(&c, cmd, &rules(), now())),
        ("witness".into(), Refusal::NotPermitted { role: Role::Therapist, duty: LedgerDuty::Witness })
    );
    let cmd = l.waste_cmd("0.3", Some(nurse2()));
    l.ok(waste(&c, cmd, &rules(), now()));
    assert_eq!(l.c(cid(1)).on_hand(), ml("9"));
    // Where the clinic's policy does not ask for a witness.
    let mut no_witness = rules();
    no_witness.policy.waste_witness = false;
    let cmd = l.waste_cmd("1", None);
    assert!(waste(&l.c(cid(1)), cmd, &no_witness, now()).is_ok());
}

#[test]
fn waste_is_of_an_opened_container_and_at_most_its_balance() {
    let mut l = Ledger::with_vials();
    let cmd = l.waste_cmd("1", Some(nurse2()));
    assert_eq!(refusal(waste(&l.c(cid(2)), cmd, &rules(), now())), ("container".into(), Refusal::Sealed));
    let cmd = l.draw_cmd("250");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    let cmd = l.waste_cmd("5.000001", Some(nurse2()));
    assert_eq!(
        refusal(waste(&l.c(cid(1)), cmd, &rules(), now())),
        ("amount".into(), Refusal::Short { on_hand: ml("5"), requested: ml("5.000001") })
    );
    let cmd = l.waste_cmd("5", Some(nurse2()));
    l.ok(waste(&l.c(cid(1)), cmd, &rules(), now()));
    assert_eq!(l.c(cid(1)).state(), ContainerState::Empty);
}

// --- Movements (DEA-008) ---

#[test]
fn a_transfer_between_locations_is_in_transit_until_received_there() {
    let mut l = Ledger::with_vials();
    let out = |l: &mut Ledger, to| TransferOutCommand {
        entry: l.id(),
        by: nurse(),
        destination: Destination::Location { location: to },
    };
    let cmd = out(&mut l, loc(1));
    assert_eq!(refusal(transfer_out(&l.c(cid(1)), cmd, &rules(), now())), ("to".into(), Refusal::SameLocation));
    let cmd = TransferInCommand { entry: l.id(), by: nurse2(), location: loc(2) };
    assert_eq!(refusal(transfer_in(&l.c(cid(1)), cmd, &rules(), now())), ("container".into(), Refusal::NotInTransit));
    let cmd = out(&mut l, loc(2));
    let r = l.keep(transfer_out(&l.c(cid(1)), cmd, &rules(), now()));
    assert_eq!(r.entry.after[0].on_hand, ml("10"), "the registrant's stock is unchanged");
    assert_eq!(l.c(cid(1)).state(), ContainerState::InTransit);
    let mut d = l.draw_cmd("10");
    d.location = loc(2);
    assert_eq!(refusal(draw(&l.c(cid(1)), d, &rules(), now())).1, Refusal::InTransit { to: loc(2) });
    let cmd = TransferInCommand { entry: l.id(), by: nurse2(), location: loc(3) };
    assert_eq!(
        refusal(transfer_in(&l.c(cid(1)), cmd, &rules(), now())),
        ("location".into(), Refusal::WrongLocation { at: loc(2), expected: loc(3) })
    );
    let cmd = TransferInCommand { entry: l.id(), by: nurse2(), location: loc(2) };
    l.ok(transfer_in(&l.c(cid(1)), cmd, &rules(), now()));
    let c = l.c(cid(1));
    assert_eq!((c.location(), c.state(), c.on_hand()), (loc(2), ContainerState::InStock, ml("10")));
}

#[test]
fn a_transfer_to_another_registrant_leaves_the_ledger() {
    let mut l = Ledger::with_vials();
    let cmd = TransferOutCommand {
        entry: l.id(),
        by: nurse(),
        destination: Destination::Registrant { registrant: supplier() },
    };
    l.ok(transfer_out(&l.c(cid(1)), cmd, &rules(), now()));
    let c = l.c(cid(1));
    assert_eq!((c.state(), c.on_hand()), (ContainerState::TransferredAway, ml("0")));
    assert_eq!(l.book.totals(cid(1)).unwrap().transferred_out, 10_000_000);
    let cmd = l.draw_cmd("1");
    assert_eq!(refusal(draw(&c, cmd, &rules(), now())).1, Refusal::Ended { state: ContainerState::TransferredAway });
}

#[test]
fn quarantine_and_release() {
    let mut l = Ledger::with_vials();
    let q = |l: &mut Ledger, reason| QuarantineCommand { entry: l.id(), by: nurse(), reason, note: None };
    // "Expired" only once it is: on 30 June it is not, on 1 July it is.
    let cmd = q(&mut l, QuarantineReason::Expired);
    assert_eq!(
        refusal(quarantine(&l.c(cid(1)), cmd, &rules(), at(2026, 6, 30, 23, 0))),
        ("reason".into(), Refusal::NotExpired { expiry: date(2026, 6, 30) })
    );
    let cmd = q(&mut l, QuarantineReason::Recalled);
    l.ok(quarantine(&l.c(cid(1)), cmd, &rules(), now()));
    let cmd = q(&mut l, QuarantineReason::Damaged);
    assert_eq!(refusal(quarantine(&l.c(cid(1)), cmd, &rules(), now())).1, Refusal::AlreadyQuarantined);
    let cmd = ReleaseCommand { entry: l.id(), by: nurse(), note: reason("recall withdrawn") };
    assert_eq!(
        refusal(release(&l.c(cid(2)), cmd.clone(), &rules(), now())),
        ("container".into(), Refusal::NotQuarantined)
    );
    // An expired container is never released.
    let e = release(&l.c(cid(1)), cmd.clone(), &rules(), at(2026, 7, 1, 9, 0)).unwrap_err();
    assert_eq!(e.refusal, Refusal::Expired { expiry: date(2026, 6, 30), today: date(2026, 7, 1) });
    l.ok(release(&l.c(cid(1)), cmd, &rules(), now()));
    assert_eq!(l.c(cid(1)).state(), ContainerState::InStock);
    let cmd = q(&mut l, QuarantineReason::Expired);
    l.ok(quarantine(&l.c(cid(1)), cmd, &rules(), at(2026, 7, 1, 0, 0)));
}

#[test]
fn on_site_destruction_needs_two_witnesses_other_than_the_registrant() {
    let mut l = Ledger::with_vials();
    let on_site = DisposalMethod::OnSite { method: text("chemical digestion, non-retrievable") };
    let cmd = |l: &mut Ledger, by: Staff, witnesses: Vec<Staff>| DisposeCommand {
        entry: l.id(),
        by,
        method: on_site.clone(),
        witnesses,
    };
    let c = l.c(cid(1));
    let x = cmd(&mut l, nurse(), vec![nurse2(), staff(4, Role::Nurse)]);
    assert_eq!(refusal(dispose(&c, x, &rules(), now())).0, "by", "a nurse does not dispose by default");
    let x = cmd(&mut l, prescriber(), vec![nurse2()]);
    assert_eq!(
        refusal(dispose(&c, x, &rules(), now())),
        ("witnesses".into(), Refusal::TooFewWitnesses { needed: 2, given: 1 })
    );
    let x = cmd(&mut l, prescriber(), vec![nurse2(), prescriber()]);
    assert_eq!(refusal(dispose(&c, x, &rules(), now())), ("witnesses[1]".into(), Refusal::WitnessIsSelf));
    let x = cmd(&mut l, prescriber(), vec![nurse2(), nurse2()]);
    assert_eq!(refusal(dispose(&c, x, &rules(), now())), ("witnesses[1]".into(), Refusal::WitnessRepeated));
    let x = cmd(&mut l, prescriber(), vec![nurse2(), staff(5, Role::Admin)]);
    assert_eq!(refusal(dispose(&c, x, &rules(), now())).0, "witnesses[1]");
    let x = cmd(&mut l, prescriber(), vec![nurse2(), nurse()]);
    l.ok(dispose(&c, x, &rules(), now()));
    let c = l.c(cid(1));
    assert_eq!((c.state(), c.on_hand()), (ContainerState::Disposed, ml("0")));
    assert_eq!(l.book.totals(cid(1)).unwrap().disposed, 10_000_000);
    let x = cmd(&mut l, prescriber(), vec![nurse2(), nurse()]);
    assert_eq!(refusal(dispose(&c, x, &rules(), now())).1, Refusal::Ended { state: ContainerState::Disposed });
    // A reverse distributor takes it without witnesses.
    let x = DisposeCommand {
        entry: l.id(),
        by: prescriber(),
        method: DisposalMethod::ReverseDistributor { distributor: supplier(), reference: text("RD-77") },
        witnesses: vec![],
    };
    l.ok(dispose(&l.c(cid(2)), x, &rules(), now()));
}

#[test]
fn breakage_is_witnessed_by_someone_else() {
    let mut l = Ledger::with_vials();
    let cmd = |l: &mut Ledger, witness: Staff, amount: &str| BreakageCommand {
        entry: l.id(),
        by: nurse(),
        amount: ml(amount),
        witness,
        recovery: Recovery::NotRecoverable { circumstances: reason("vial dropped on the floor") },
    };
    let x = cmd(&mut l, nurse(), "10");
    assert_eq!(refusal(breakage(&l.c(cid(1)), x, &rules(), now())), ("witness".into(), Refusal::WitnessIsSelf));
    let x = cmd(&mut l, nurse2(), "10.000001");
    assert_eq!(refusal(breakage(&l.c(cid(1)), x, &rules(), now())).0, "amount");
    let x = cmd(&mut l, nurse2(), "10");
    l.ok(breakage(&l.c(cid(1)), x, &rules(), now()));
    assert_eq!(l.c(cid(1)).state(), ContainerState::Empty);
    assert_eq!(l.book.totals(cid(1)).unwrap().broken, 10_000_000);
}

// --- Theft and loss (DEA-010, DEA-011) ---

fn loss_report(discovered_at: Timestamp, kind: LossKind) -> LossReport {
    LossReport {
        discovered_at,
        kind,
        significant: false,
        police: Some(text("City PD 26-1234")),
        explanation: reason("vial missing from the safe"),
        corrective_measures: None,
    }
}

#[test]
fn a_loss_takes_the_stock_and_starts_the_clocks() {
    let mut l = Ledger::with_vials();
    let stock = l.book.stock();
    let cmd = LossCommand {
        entry: l.id(),
        by: prescriber(),
        report: loss_report(now().checked_add(1.second()).unwrap(), LossKind::Theft),
        items: vec![LossItem { container: cid(1), amount: ml("10") }],
    };
    assert_eq!(refusal(report_loss(&stock, cmd.clone(), &rules(), now())).0, "discovered_at");
    let mut bad = cmd.clone();
    bad.report.discovered_at = now();
    bad.items.push(LossItem { container: cid(1), amount: ml("1") });
    assert_eq!(refusal(report_loss(&stock, bad, &rules(), now())), ("items[1].container".into(), Refusal::Duplicate));
    let mut bad = cmd.clone();
    bad.report.discovered_at = now();
    bad.items = vec![LossItem { container: cid(2), amount: ml("10.5") }];
    assert_eq!(refusal(report_loss(&stock, bad, &rules(), now())).0, "items[0].amount");
    let mut bad = cmd.clone();
    bad.report.discovered_at = now();
    bad.items = vec![];
    assert_eq!(refusal(report_loss(&stock, bad, &rules(), now())), ("items".into(), Refusal::Required));
    let mut ok = cmd;
    ok.report.discovered_at = now();
    let r = l.keep(report_loss(&stock, ok, &rules(), now()));
    let status = r.loss().unwrap();
    assert!(status.reportable);
    assert_eq!(l.book.loss(r.entry.id), Some(&status));
    // Discovered Tuesday 10 March: the DEA by the end of Wednesday, Form 106 by 24 April.
    let clock = status.clock(&tz(), &ClinicCalendar::default());
    assert_eq!(clock.notify_dea_by, at(2026, 3, 12, 0, 0));
    assert_eq!(clock.form106_by, at(2026, 4, 25, 0, 0));
    assert_eq!(l.c(cid(1)).on_hand(), ml("0"));
    assert_eq!(l.book.totals(cid(1)).unwrap().lost, 10_000_000);
    // The steps, each once, between discovery and now.
    let step = |l: &mut Ledger, step| LossStepCommand { entry: l.id(), by: staff(5, Role::Admin), step };
    let later = at(2026, 3, 11, 9, 0);
    let x = step(&mut l, LossStep::DeaNotified { at: at(2026, 3, 10, 9, 0), reference: text("letter") });
    assert_eq!(refusal(record_loss_step(&status, x, &rules(), later)), ("at".into(), Refusal::BeforeDiscovery));
    let x = step(&mut l, LossStep::DeaNotified { at: later, reference: text("letter") });
    assert_eq!(refusal(record_loss_step(&status, x.clone(), &rules(), now())).0, "at", "in the future");
    l.ok(record_loss_step(&status, x, &rules(), later));
    let status = l.book.loss(r.entry.id).unwrap().clone();
    assert_eq!(status.dea_notified, Some(later));
    let x = step(&mut l, LossStep::DeaNotified { at: later, reference: text("again") });
    assert_eq!(refusal(record_loss_step(&status, x, &rules(), later)), ("step".into(), Refusal::AlreadyRecorded));
    let tasks = status.tasks(&tz(), &ClinicCalendar::default(), later);
    assert_eq!(tasks.len(), 1);
}

// --- Counts and cases (DEA-006) ---

fn count_cmd(l: &mut Ledger, kind: InventoryKind, lines: Vec<CountInput>) -> CountCommand {
    CountCommand { entry: l.id(), by: nurse(), kind, taken: BusinessTime::Close, location: None, lines }
}

fn line(c: ContainerId, counted: Quantity) -> CountInput {
    CountInput { container: c, counted, exactness: Exactness::Exact }
}

#[test]
fn an_initial_inventory_of_nothing_is_a_count_without_lines() {
    let mut l = Ledger::new();
    let cmd = count_cmd(&mut l, InventoryKind::Initial, vec![]);
    let r = l.keep(count(&[], cmd, &rules(), now()));
    assert!(r.cases().is_empty());
}

#[test]
fn a_count_must_list_everything_on_hand_in_its_scope() {
    let mut l = Ledger::with_vials();
    let stock = l.book.stock();
    let cmd = count_cmd(&mut l, InventoryKind::Biennial, vec![line(cid(1), ml("10"))]);
    assert_eq!(
        refusal(count(&stock, cmd, &rules(), now())),
        ("lines".into(), Refusal::NotCounted { container: cid(2) })
    );
    // A count of another location needs none of these.
    let mut cmd = count_cmd(&mut l, InventoryKind::Routine, vec![]);
    cmd.location = Some(loc(2));
    assert!(count(&stock, cmd, &rules(), now()).is_ok());
    let mut cmd = count_cmd(&mut l, InventoryKind::Routine, vec![line(cid(1), ml("10"))]);
    cmd.location = Some(loc(2));
    assert_eq!(
        refusal(count(&stock, cmd, &rules(), now())),
        ("lines[0].container".into(), Refusal::WrongLocation { at: loc(1), expected: loc(2) })
    );
    let cmd = count_cmd(
        &mut l,
        InventoryKind::Routine,
        vec![line(cid(1), ml("10")), line(cid(2), ml("10")), line(cid(1), ml("10"))],
    );
    assert_eq!(refusal(count(&stock, cmd, &rules(), now())).1, Refusal::Duplicate);
    let cmd = count_cmd(&mut l, InventoryKind::Routine, vec![line(cid(1), ml("10")), line(cid(3), ml("1"))]);
    assert_eq!(
        refusal(count(&stock, cmd, &rules(), now())),
        ("lines[1].container".into(), Refusal::UnknownContainer { id: cid(3) })
    );
    // No inventory while a container is in transit; a routine count skips it.
    let t = TransferOutCommand { entry: l.id(), by: nurse(), destination: Destination::Location { location: loc(2) } };
    l.ok(transfer_out(&l.c(cid(2)), t, &rules(), now()));
    let stock = l.book.stock();
    let cmd = count_cmd(&mut l, InventoryKind::Annual, vec![line(cid(1), ml("10"))]);
    assert_eq!(refusal(count(&stock, cmd, &rules(), now())).1, Refusal::InTransit { to: loc(2) });
    let cmd = count_cmd(&mut l, InventoryKind::Routine, vec![line(cid(1), ml("10"))]);
    assert!(count(&stock, cmd, &rules(), now()).is_ok());
}

#[test]
fn a_count_that_differs_opens_a_case_resolved_by_the_entry_that_explains_it() {
    let mut l = Ledger::with_vials();
    let stock = l.book.stock();
    let cmd = count_cmd(&mut l, InventoryKind::Routine, vec![line(cid(1), ml("9.5")), line(cid(2), ml("10"))]);
    let r = l.keep(count(&stock, cmd, &rules(), now()));
    let cases = r.cases();
    assert_eq!(cases.len(), 1, "only the line that differs");
    let case = cases[0].case;
    assert_eq!(case, CaseRef { count: r.entry.id, container: cid(1) });
    assert_eq!((cases[0].expected, cases[0].counted), (ml("10"), ml("9.5")));
    assert_eq!(l.book.open_cases().count(), 1);
    assert_eq!(l.c(cid(1)).on_hand(), ml("10"), "a count changes no balance");
    // A note, by whoever may count.
    let note =
        CaseCommand { entry: l.id(), by: nurse2(), action: CaseAction::Note { note: reason("checked the log") } };
    l.ok(record_case(l.book.case(case).unwrap(), note, None, &rules(), now()));
    // A resolution as a loss must name the loss.
    let resolve = |l: &mut Ledger, kind, reference| CaseCommand {
        entry: l.id(),
        by: prescriber(),
        action: CaseAction::Resolve { resolution: kind, explanation: reason("spilled, unwitnessed"), reference },
    };
    let d = l.book.case(case).unwrap().clone();
    let x = resolve(&mut l, ResolutionKind::Loss, None);
    assert_eq!(
        refusal(record_case(&d, x, None, &rules(), now())),
        ("reference".into(), Refusal::ReferenceRequired { kind: "loss" })
    );
    let x = resolve(&mut l, ResolutionKind::Loss, None);
    let mut nurse_resolves = x.clone();
    nurse_resolves.by = nurse();
    assert_eq!(refusal(record_case(&d, nurse_resolves, None, &rules(), now())).0, "by");
    let stock = l.book.stock();
    let loss = LossCommand {
        entry: l.id(),
        by: prescriber(),
        report: LossReport { significant: false, ..loss_report(now(), LossKind::Other { detail: text("spill") }) },
        items: vec![LossItem { container: cid(1), amount: ml("0.5") }],
    };
    let loss = l.keep(report_loss(&stock, loss, &rules(), now()));
    assert!(!loss.loss().unwrap().reportable, "a loss judged not significant");
    // The loss of another container does not explain this case.
    let x = resolve(&mut l, ResolutionKind::Breakage, Some(loss.entry.id));
    assert_eq!(
        refusal(record_case(&d, x, Some(&loss.entry), &rules(), now())),
        ("reference".into(), Refusal::ReferenceRequired { kind: "breakage" })
    );
    let x = resolve(&mut l, ResolutionKind::Loss, Some(loss.entry.id));
    l.ok(record_case(&d, x, Some(&loss.entry), &rules(), now()));
    let d = l.book.case(case).unwrap().clone();
    assert!(!d.is_open());
    assert_eq!(d.notes.len(), 1);
    assert_eq!(l.book.open_cases().count(), 0);
    let x = resolve(&mut l, ResolutionKind::Other, None);
    assert_eq!(refusal(record_case(&d, x, None, &rules(), now())), ("case".into(), Refusal::AlreadyResolved));
    assert_eq!(l.c(cid(1)).on_hand(), ml("9.5"), "the book now agrees with the count");
}

#[test]
fn an_estimate_is_refused_for_a_container_of_more_than_1000_units() {
    let tablets = |units: u64| {
        let mut l = Ledger::new();
        let id = l.id();
        let mut c = receive_cmd(id, vec![cid(1)], date(2026, 6, 30));
        c.product = LedgerProduct::new(
            text("Ketamine 100 mg troche"),
            Substance::Ketamine,
            Ndc::parse("12345-6789-01").unwrap(),
            Strength::parse("100", StockUnit::Unit).unwrap(),
            DosageForm::Lozenge,
        )
        .unwrap();
        c.size = Quantity::units(units).unwrap();
        l.ok(receive(c, &rules(), now()));
        let stock = l.book.stock();
        let cmd = count_cmd(
            &mut l,
            InventoryKind::Biennial,
            vec![CountInput {
                container: cid(1),
                counted: Quantity::units(units).unwrap(),
                exactness: Exactness::Estimated,
            }],
        );
        count(&stock, cmd, &rules(), now())
    };
    assert!(tablets(1000).is_ok(), "exactly 1,000 may be estimated");
    let (f, why) = refusal(tablets(1001));
    assert_eq!(f, "lines[0].exactness");
    assert_eq!(why, Refusal::EstimateNotAllowed { size: Quantity::units(1001).unwrap() });
}

// --- Corrections ---

#[test]
fn a_correction_restates_an_amount_and_moves_the_balance_by_the_difference() {
    let mut l = Ledger::with_vials();
    let cmd = l.draw_cmd("100");
    let drawn = l.keep(draw(&l.c(cid(1)), cmd, &rules(), now())).entry;
    assert_eq!(l.c(cid(1)).on_hand(), ml("8"));
    let fix = |l: &mut Ledger, amount: Option<&str>| CorrectionCommand {
        entry: l.id(),
        by: nurse(),
        amount: amount.map(ml),
        reason: reason("1.5 mL was drawn, not 2"),
    };
    let x = fix(&mut l, Some("2"));
    assert_eq!(refusal(correct(&l.c(cid(1)), &drawn, x, &rules(), now())), ("amount".into(), Refusal::NoChange));
    let x = fix(&mut l, Some("1.5"));
    let first = l.keep(correct(&l.c(cid(1)), &drawn, x, &rules(), now())).entry;
    assert_eq!(l.c(cid(1)).on_hand(), ml("8.5"));
    // A second correction restates the amount now in force.
    let x = fix(&mut l, Some("1.75"));
    let r = l.keep(correct(&l.c(cid(1)), &drawn, x, &rules(), now()));
    let EntryKind::Correction(k) = &r.entry.kind else { panic!() };
    assert_eq!(k.change.unwrap().was, ml("1.5"));
    assert_eq!(l.c(cid(1)).on_hand(), ml("8.25"));
    assert_eq!(l.book.totals(cid(1)).unwrap().corrections, 250_000);
    // A correction is not corrected; the original is.
    let x = fix(&mut l, None);
    assert_eq!(refusal(correct(&l.c(cid(1)), &first, x, &rules(), now())).0, "corrects");
    // Beyond what is on hand.
    let x = fix(&mut l, Some("10.000001"));
    assert_eq!(
        refusal(correct(&l.c(cid(1)), &drawn, x, &rules(), now())).1,
        Refusal::WouldGoNegative { on_hand: ml("8.25") }
    );
    let x = fix(&mut l, Some("10"));
    l.ok(correct(&l.c(cid(1)), &drawn, x, &rules(), now()));
    assert_eq!(l.c(cid(1)).state(), ContainerState::Empty);
    // The entry does not concern the other container.
    let x = fix(&mut l, None);
    assert_eq!(refusal(correct(&l.c(cid(2)), &drawn, x, &rules(), now())).0, "corrects");
}

#[test]
fn a_receipt_corrected_down_may_not_leave_less_than_nothing() {
    let mut l = Ledger::with_vials();
    let receipt = l.entries[0].clone();
    let cmd = l.draw_cmd("400");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    let fix = |l: &mut Ledger, amount: &str| CorrectionCommand {
        entry: l.id(),
        by: nurse(),
        amount: Some(ml(amount)),
        reason: reason("the vial was smaller"),
    };
    let x = fix(&mut l, "7.999999");
    assert_eq!(
        refusal(correct(&l.c(cid(1)), &receipt, x, &rules(), now())).1,
        Refusal::WouldGoNegative { on_hand: ml("2") }
    );
    let x = fix(&mut l, "8");
    l.ok(correct(&l.c(cid(1)), &receipt, x, &rules(), now()));
    assert_eq!(l.c(cid(1)).on_hand(), ml("0"));
    assert_eq!(l.c(cid(2)).on_hand(), ml("10"), "one container of the receipt only");
}

#[test]
fn transfers_and_disposals_are_corrected_by_note_only() {
    let mut l = Ledger::with_vials();
    let t = TransferOutCommand { entry: l.id(), by: nurse(), destination: Destination::Location { location: loc(2) } };
    let out = l.keep(transfer_out(&l.c(cid(1)), t, &rules(), now())).entry;
    let x = CorrectionCommand { entry: l.id(), by: nurse(), amount: Some(ml("5")), reason: reason("typo") };
    assert_eq!(refusal(correct(&l.c(cid(1)), &out, x, &rules(), now())), ("amount".into(), Refusal::NotCorrectable));
    let x = CorrectionCommand { entry: l.id(), by: nurse(), amount: None, reason: reason("sent by RN Jones") };
    l.ok(correct(&l.c(cid(1)), &out, x, &rules(), now()));
}

// --- The replay ---

fn a_month(l: &mut Ledger) {
    let cmd = l.draw_cmd("35");
    l.ok(draw(&l.c(cid(1)), cmd, &rules(), now()));
    let cmd = l.waste_cmd("0.3", Some(nurse2()));
    l.ok(waste(&l.c(cid(1)), cmd, &rules(), now()));
    let stock = l.book.stock();
    let cmd = count_cmd(l, InventoryKind::Routine, vec![line(cid(1), ml("9")), line(cid(2), ml("10"))]);
    l.ok(count(&stock, cmd, &rules(), now()));
}

#[test]
fn the_replay_recomputes_what_the_decisions_recorded() {
    let mut l = Ledger::with_vials();
    a_month(&mut l);
    let book = replay(&l.entries).unwrap();
    assert_eq!(book.len(), l.entries.len());
    for c in l.book.containers() {
        assert_eq!(book.container(c.id()), Some(c));
        let t = book.totals(c.id()).unwrap();
        assert_eq!(t.on_hand_by_formula(), i128::from(c.on_hand().micros()));
    }
    let t = book.totals(cid(1)).unwrap();
    assert_eq!((t.received, t.administered, t.wasted), (10_000_000, 700_000, 300_000));
}

#[test]
fn the_replay_names_the_first_inconsistent_entry() {
    let mut l = Ledger::with_vials();
    a_month(&mut l);
    // A running balance edited.
    let mut e = l.entries.clone();
    e[1].after[0].on_hand = ml("9.4");
    let i = replay(&e).unwrap_err();
    assert_eq!((i.index, i.field.as_str()), (1, "after"));
    assert!(matches!(*i.problem, Problem::RecordedBalance { .. }), "{i}");
    // A draw's amount edited to disagree with its dose.
    let mut e = l.entries.clone();
    if let EntryKind::Administration(d) = &mut e[1].kind {
        d.amount = ml("0.6");
    }
    let i = replay(&e).unwrap_err();
    assert_eq!((i.index, i.field.as_str()), (1, "amount"));
    // The receipt removed: the draw names an unknown container.
    let i = replay(&l.entries[1..]).unwrap_err();
    assert_eq!((i.index, i.field.as_str()), (0, "container"));
    assert_eq!(*i.problem, Problem::Refused(Refusal::UnknownContainer { id: cid(1) }));
    // An entry repeated.
    let mut e = l.entries.clone();
    e.insert(2, e[1].clone());
    assert_eq!(*replay(&e).unwrap_err().problem, Problem::DuplicateEntry);
    // A waste raised beyond what was left.
    let mut e = l.entries.clone();
    if let EntryKind::Waste(w) = &mut e[2].kind {
        w.amount = ml("9.300001");
    }
    let i = replay(&e).unwrap_err();
    assert_eq!((i.index, i.field.as_str()), (2, "amount"));
    // A count's expected quantity not the book's.
    let mut e = l.entries.clone();
    if let EntryKind::Count(c) = &mut e[3].kind {
        c.lines[0].expected = ml("9.3");
    }
    assert_eq!(replay(&e).unwrap_err().field, "lines[0].expected");
    assert!(replay(&e).unwrap_err().to_string().starts_with("entry 4 (count"), "{}", replay(&e).unwrap_err());
}

// --- The hash chain ---

fn chained(entries: &[LedgerEntry]) -> Vec<ChainedEntry> {
    let mut prev = chain::GENESIS.to_string();
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let c = link(&prev, i as i64 + 1, e.clone());
        prev = c.hash.clone();
        out.push(c);
    }
    out
}

#[test]
fn verify_walks_the_chain_then_replays_the_book() {
    let mut l = Ledger::with_vials();
    a_month(&mut l);
    let rows = chained(&l.entries);
    let head = rows.last().map(|r| (r.seq, r.hash.clone())).unwrap();
    let book = verify(&rows, Some((head.0, &head.1))).unwrap();
    assert_eq!(book.container(cid(1)).unwrap().on_hand(), ml("9"));
    assert_eq!(verify_chain(&[], None), Ok(chain::GENESIS.to_string()));
    // Content edited, even with its running balance made to agree.
    let mut bad = rows.clone();
    if let EntryKind::Waste(w) = &mut bad[2].entry.kind {
        w.witness = Some(nurse());
    }
    assert_eq!(verify(&bad, None).unwrap_err(), VerifyError::Chain(chain::ChainBreak::Altered { seq: 3 }));
    // An entry removed.
    let mut bad = rows.clone();
    bad.remove(1);
    assert_eq!(verify_chain(&bad, None), Err(chain::ChainBreak::Unlinked { seq: 3 }));
    // Two swapped.
    let mut bad = rows.clone();
    bad.swap(1, 2);
    assert!(verify_chain(&bad, None).is_err());
    // The newest removed: the stored head names it.
    assert_eq!(
        verify_chain(&rows[..3], Some((head.0, &head.1))),
        Err(chain::ChainBreak::HeadMismatch { head_seq: 4, last_seq: 3 })
    );
    // A chain intact but a ledger inconsistent (re-hashed after the edit).
    let mut entries = l.entries.clone();
    entries[1].after[0].on_hand = ml("1");
    let rehashed = chained(&entries);
    assert!(matches!(verify(&rehashed, None), Err(VerifyError::Inconsistent(i)) if i.index == 1));
}

#[test]
fn the_hash_covers_the_fields_and_drops_what_the_database_drops() {
    let l = Ledger::with_vials();
    let e = l.entries[0].clone();
    let h = entry_hash(chain::GENESIS, &e);
    assert_eq!(h.len(), 64);
    assert_eq!(entry_hash(chain::GENESIS, &e), h, "deterministic");
    assert_ne!(entry_hash(&h, &e), h, "the previous hash counts");
    let mut x = e.clone();
    x.by.role = Role::Prescriber;
    assert_ne!(entry_hash(chain::GENESIS, &x), h, "the signer's role");
    let mut x = e.clone();
    x.after[1].on_hand = ml("9");
    assert_ne!(entry_hash(chain::GENESIS, &x), h, "the running balance");
    let mut x = e.clone();
    if let EntryKind::Receipt(r) = &mut x.kind {
        r.lot = text("L2");
    }
    assert_ne!(entry_hash(chain::GENESIS, &x), h, "the lot");
    let mut x = e.clone();
    if let EntryKind::Receipt(r) = &mut x.kind {
        r.rems = Some(RemsSource { channel: RemsChannel::CertifiedPharmacy, name: text("A") });
    }
    assert_ne!(entry_hash(chain::GENESIS, &x), h, "an optional field present");
    // Times are hashed to the microsecond, as both databases store them.
    let mut x = e.clone();
    x.at = x.at.checked_add(1.nanosecond()).unwrap();
    assert_eq!(entry_hash(chain::GENESIS, &x), h);
    x.at = x.at.checked_add(1.microsecond()).unwrap();
    assert_ne!(entry_hash(chain::GENESIS, &x), h);
}

#[test]
fn entries_round_trip_through_json() {
    let mut l = Ledger::with_vials();
    a_month(&mut l);
    for e in &l.entries {
        let json = serde_json::to_string(e).unwrap();
        let back: LedgerEntry = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, e, "{json}");
        assert_eq!(entry_hash(chain::GENESIS, &back), entry_hash(chain::GENESIS, e));
    }
    let c = l.c(cid(1));
    let back: Container = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}

#[test]
fn errors_name_their_field_and_rule() {
    let mut l = Ledger::with_vials();
    let mut cmd = l.draw_cmd("1");
    cmd.by = staff(9, Role::FrontDesk);
    let e = draw(&l.c(cid(1)), cmd, &rules(), now()).unwrap_err();
    let fe = e.to_field_errors();
    assert!(fe.for_field("by").unwrap().contains("front desk"), "{fe}");
    assert!(e.to_string().starts_with("by: "));
    // Patient data never appears in a Debug of an entry: only ids.
    let cmd = l.draw_cmd("35");
    let r = draw(&l.c(cid(1)), cmd, &rules(), now()).unwrap();
    let cmd = l.waste_cmd("0.3", Some(nurse2()));
    let mut w = waste(&r.containers[0], cmd, &rules(), now()).unwrap();
    if let EntryKind::Waste(x) = &mut w.entry.kind {
        x.reason = reason("Ada Lovelace refused the rest");
    }
    assert!(!format!("{:?}", w.entry).contains("Ada"));
}
