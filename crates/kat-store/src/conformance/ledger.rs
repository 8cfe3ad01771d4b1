//! Conformance cases of the controlled-substance ledger's storage (issue 13): the
//! registrant, locations and products; entries appended after the head row with the
//! balances they record and the containers they leave; the chain continuous and
//! verified a page at a time; pages of containers, of a container's log and of a date
//! range; cases and losses; concurrent appends one after another (no fork). What only
//! SQL can try (an UPDATE or DELETE of an entry, a negative balance) is tried by each
//! adapter's own tests on [`seed_ledger`]'s rows, with [`LEDGER_REFUSED_WRITES`].

use super::{new_user, t0};
use crate::ledger::*;
use crate::*;
use jiff::ToSpan;
use jiff::civil::date;
use kat_core::calendar::ClinicCalendar;
use kat_core::dosing::session::{Reason, ShortText};
use kat_core::ids::{AdministrationId, ContainerId, DosingSessionId, LedgerEntryId, PatientId, StorageLocationId};
use kat_core::ledger::ChainedEntry;
use kat_core::ledger::cases::Resolved;
use kat_core::ledger::chain::GENESIS;
use kat_core::ledger::*;
use kat_core::role::Role;
use uuid::Uuid;

fn text(s: &str) -> ShortText {
    ShortText::parse(s).unwrap()
}

fn rules() -> LedgerRules {
    LedgerRules { policy: LedgerPolicy::default(), tz: jiff::tz::TimeZone::UTC, calendar: ClinicCalendar::default() }
}

fn ketamine() -> LedgerProduct {
    LedgerProduct::new(
        text("Ketamine HCl 50 mg/mL"),
        Substance::Ketamine,
        Ndc::parse("42023-113-10").unwrap(),
        Strength::parse("50", StockUnit::Ml).unwrap(),
        DosageForm::Injection,
    )
    .unwrap()
}

fn other_product() -> LedgerProduct {
    LedgerProduct::new(
        text("Ketamine HCl 100 mg/mL"),
        Substance::Ketamine,
        Ndc::parse("42023-114-10").unwrap(),
        Strength::parse("100", StockUnit::Ml).unwrap(),
        DosageForm::Injection,
    )
    .unwrap()
}

fn ml(s: &str) -> Quantity {
    Quantity::parse(s, StockUnit::Ml).unwrap()
}

fn new_id() -> LedgerEntryId {
    LedgerEntryId::from_uuid(Uuid::now_v7())
}

/// What a ledger case starts from: a nurse (the staff member every entry names), a
/// location, the registration and a product on record.
struct Clinic {
    nurse: Staff,
    prescriber: Staff,
    safe: StorageLocation,
    cabinet: StorageLocation,
}

async fn clinic(store: &dyn Store) -> Clinic {
    let mut tx = store.begin().await.unwrap();
    let n = tx.insert_user(&new_user("ledger.nurse", Role::Nurse)).await.unwrap();
    let p = tx.insert_user(&new_user("ledger.prescriber", Role::Prescriber)).await.unwrap();
    let safe = StorageLocation {
        id: StorageLocationId::from_uuid(Uuid::now_v7()),
        name: text("Main safe"),
        kind: LocationKind::parse("safe").unwrap(),
    };
    let cabinet = StorageLocation {
        id: StorageLocationId::from_uuid(Uuid::now_v7()),
        name: text("Cabinet B"),
        kind: LocationKind::parse("cabinet").unwrap(),
    };
    tx.insert_storage_location(&safe, t0()).await.unwrap();
    tx.insert_storage_location(&cabinet, t0()).await.unwrap();
    tx.put_ledger_product(&ketamine()).await.unwrap();
    tx.commit().await.unwrap();
    Clinic {
        nurse: Staff { user: n.id, name: text("N. Kim"), role: Role::Nurse },
        prescriber: Staff { user: p.id, name: text("Dr P"), role: Role::Prescriber },
        safe,
        cabinet,
    }
}

/// Receives `n` 10 mL vials of `product` at `location`, in one transaction.
async fn receive_vials(
    store: &dyn Store,
    c: &Clinic,
    product: LedgerProduct,
    location: StorageLocationId,
    n: usize,
    at: jiff::Timestamp,
) -> (ChainedEntry, Vec<ContainerId>) {
    let ids: Vec<ContainerId> = (0..n).map(|_| ContainerId::from_uuid(Uuid::now_v7())).collect();
    let cmd = ReceiveCommand {
        entry: new_id(),
        by: c.nurse.clone(),
        supplier: Counterparty {
            name: text("Acme Distribution"),
            address: Address::parse("1 Depot Rd\nNewark, NJ").unwrap(),
            dea: DeaNumber::parse("PA1234563").unwrap(),
        },
        invoice: text("INV-1"),
        received_on: date(2026, 3, 1),
        product,
        size: ml("10"),
        lot: text("L1"),
        expiry: date(2027, 1, 31),
        location,
        containers: ids.clone(),
        rems: None,
    };
    let r = receive(cmd, &rules(), at).unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.hold_ledger_head().await.unwrap();
    let chained = tx.append_ledger_entry(&r.entry, &r.containers).await.unwrap();
    tx.commit().await.unwrap();
    (chained, ids)
}

/// Draws `mg` from `container` as a use case does: the head held first, the container
/// read, decided, appended, committed.
async fn draw_from(
    store: &dyn Store,
    by: &Staff,
    container: ContainerId,
    mg: &str,
    at: jiff::Timestamp,
) -> ChainedEntry {
    let mut tx = store.begin().await.unwrap();
    tx.hold_ledger_head().await.unwrap();
    let current = tx.ledger_container(container).await.unwrap().unwrap();
    let cmd = DrawCommand {
        entry: new_id(),
        by: by.clone(),
        administration: AdministrationId::from_uuid(Uuid::now_v7()),
        session: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient: PatientId::from_uuid(Uuid::now_v7()),
        administered_at: at,
        administered_by: text("NK"),
        location: current.location(),
        mg: MgQty::parse(mg).unwrap(),
    };
    let r = draw(&current, cmd, &rules(), at).unwrap();
    let chained = tx.append_ledger_entry(&r.entry, &r.containers).await.unwrap();
    tx.commit().await.unwrap();
    chained
}

/// Walks the whole ledger in a read transaction, `page` entries at a time.
async fn walk(store: &dyn Store, page: u32) -> LedgerWalk {
    let mut read = store.begin_read().await.unwrap();
    let w = walk_ledger(&mut *read, page).await.unwrap();
    read.commit().await.unwrap();
    w
}

pub async fn ledger_registrant_locations_and_products_round_trip(store: &dyn Store) {
    let c = clinic(store).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.ledger_registrant().await.unwrap(), None);
    let mut reg = Registration {
        dea: DeaNumber::parse("PA1234563").unwrap(),
        name: text("Calm Harbor Clinic"),
        address: Address::parse("2 Harbor St\nSpringfield").unwrap(),
        state_license: None,
    };
    tx.put_ledger_registrant(&reg, t0()).await.unwrap();
    assert_eq!(tx.ledger_registrant().await.unwrap(), Some(reg.clone()));
    reg.state_license = Some(text("CS-778"));
    tx.put_ledger_registrant(&reg, t0() + 1.hour()).await.unwrap();
    assert_eq!(tx.ledger_registrant().await.unwrap(), Some(reg), "replaced, one registration per clinic");

    assert_eq!(tx.storage_locations().await.unwrap(), vec![c.cabinet.clone(), c.safe.clone()], "by name");
    let twin = StorageLocation { id: StorageLocationId::from_uuid(Uuid::now_v7()), ..c.safe.clone() };
    let err = tx.insert_storage_location(&twin, t0()).await.unwrap_err();
    assert!(err.is_conflict_on(ledger_constraints::LOCATIONS_NAME_UNIQUE), "unexpected error {err:?}");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.put_ledger_product(&other_product()).await.unwrap();
    tx.put_ledger_product(&ketamine()).await.unwrap();
    assert_eq!(tx.ledger_products().await.unwrap(), vec![other_product(), ketamine()], "by name, once per NDC");
}

pub async fn ledger_entries_round_trip_with_their_containers_and_balances(store: &dyn Store) {
    let c = clinic(store).await;
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.ledger_head().await.unwrap(), None, "an empty ledger has no head");
    drop(tx);
    let (receipt, ids) = receive_vials(store, &c, ketamine(), c.safe.id, 2, t0()).await;
    assert_eq!(receipt.seq, 1);
    assert_eq!(receipt.prev_hash, GENESIS);
    let drawn = draw_from(store, &c.nurse, ids[0], "100", t0() + 1.hour()).await;

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.ledger_entry(receipt.entry.id).await.unwrap(), Some(receipt.clone()), "stored whole");
    assert_eq!(tx.ledger_entry(drawn.entry.id).await.unwrap(), Some(drawn.clone()));
    assert_eq!(tx.ledger_entry(new_id()).await.unwrap(), None);
    let a = tx.ledger_container(ids[0]).await.unwrap().unwrap();
    assert_eq!(a.on_hand(), ml("8"), "10 mL less 100 mg at 50 mg/mL");
    assert_eq!(a.state(), ContainerState::Open);
    assert_eq!(a.receipt(), receipt.entry.id);
    let b = tx.ledger_container(ids[1]).await.unwrap().unwrap();
    assert_eq!((b.on_hand(), b.state()), (ml("10"), ContainerState::InStock));
    assert_eq!(tx.ledger_container(ContainerId::from_uuid(Uuid::now_v7())).await.unwrap(), None);

    // The log of a container: each entry with its balance after it.
    let log = tx.container_log(ids[0], 0, 10).await.unwrap();
    let lines: Vec<(i64, Quantity)> = log.iter().map(|l| (l.entry.seq, l.on_hand)).collect();
    assert_eq!(lines, vec![(1, ml("10")), (2, ml("8"))]);
    assert_eq!(log[1].entry, drawn);
    let log_b = tx.container_log(ids[1], 0, 10).await.unwrap();
    assert_eq!(log_b.iter().map(|l| l.entry.seq).collect::<Vec<_>>(), vec![1], "the draw names only the first");
}

pub async fn ledger_appends_chain_from_the_head_row(store: &dyn Store) {
    let c = clinic(store).await;
    let (_, ids) = receive_vials(store, &c, ketamine(), c.safe.id, 1, t0()).await;
    for i in 0..4 {
        draw_from(store, &c.nurse, ids[0], "25", t0() + (i + 1).hours()).await;
    }
    let mut tx = store.begin_read().await.unwrap();
    let all = tx.ledger_chain_page(0, 100).await.unwrap();
    let head = tx.ledger_head().await.unwrap();
    drop(tx);
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    let mut prev = GENESIS.to_string();
    for e in &all {
        assert_eq!(e.prev_hash, prev, "entry {} follows the one before", e.seq);
        assert_eq!(e.hash, entry_hash(&prev, &e.entry), "entry {} hashed by kat_core::ledger::chain", e.seq);
        prev = e.hash.clone();
    }
    assert_eq!(head, Some((5, prev.clone())), "the head names the newest entry");
    let stored: Vec<ChainedEntry> = all.clone();
    let book = verify(&stored, head.as_ref().map(|(s, h)| (*s, h.as_str()))).unwrap();
    assert_eq!(book.container(ids[0]).unwrap().on_hand(), ml("8"));

    // The paged walk finds the same, whatever the page.
    for page in [1, 2, 500] {
        let w = walk(store, page).await;
        assert_eq!(w.entries, 5, "page {page}");
        let (last, book) = w.outcome.unwrap();
        assert_eq!(last, prev);
        let mut read = store.begin_read().await.unwrap();
        assert_eq!(book.container(ids[0]), read.ledger_container(ids[0]).await.unwrap().as_ref());
    }

    // Holding the head in a write transaction reads the same head.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.hold_ledger_head().await.unwrap(), Some((5, prev)));
}

pub async fn ledger_entries_are_unique_and_roll_back_whole(store: &dyn Store) {
    let c = clinic(store).await;
    let (receipt, ids) = receive_vials(store, &c, ketamine(), c.safe.id, 1, t0()).await;
    // The same entry again: refused by its id; nothing of it kept.
    let mut tx = store.begin().await.unwrap();
    let current = tx.ledger_container(ids[0]).await.unwrap().unwrap();
    let err = tx.append_ledger_entry(&receipt.entry, &[current]).await.unwrap_err();
    assert!(err.is_conflict_on(ledger_constraints::ENTRIES_ID_UNIQUE), "unexpected error {err:?}");
    drop(tx);
    // A draw appended and dropped: the head, the balance and the log are as before.
    let mut tx = store.begin().await.unwrap();
    tx.hold_ledger_head().await.unwrap();
    let current = tx.ledger_container(ids[0]).await.unwrap().unwrap();
    let cmd = DrawCommand {
        entry: new_id(),
        by: c.nurse.clone(),
        administration: AdministrationId::from_uuid(Uuid::now_v7()),
        session: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient: PatientId::from_uuid(Uuid::now_v7()),
        administered_at: t0(),
        administered_by: text("NK"),
        location: c.safe.id,
        mg: MgQty::parse("50").unwrap(),
    };
    let r = draw(&current, cmd, &rules(), t0()).unwrap();
    tx.append_ledger_entry(&r.entry, &r.containers).await.unwrap();
    drop(tx);
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.ledger_head().await.unwrap(), Some((1, receipt.hash.clone())));
    assert_eq!(tx.ledger_container(ids[0]).await.unwrap().unwrap().on_hand(), ml("10"));
    assert_eq!(tx.container_log(ids[0], 0, 10).await.unwrap().len(), 1);
}

pub async fn ledger_reads_come_a_page_at_a_time(store: &dyn Store) {
    let c = clinic(store).await;
    let (_, in_safe) = receive_vials(store, &c, ketamine(), c.safe.id, 5, t0()).await;
    let (_, in_cabinet) = receive_vials(store, &c, other_product(), c.cabinet.id, 2, t0() + 1.hour()).await;
    for i in 0..3 {
        draw_from(store, &c.nurse, in_safe[0], "10", t0() + (2 + i).hours()).await;
    }
    let mut tx = store.begin_read().await.unwrap();

    // Containers by location, by product, a page at a time, by id.
    let by_location = ContainerFilter { location: Some(c.safe.id), ..Default::default() };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = tx.ledger_containers(&by_location, after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id());
        seen.extend(page.iter().map(|c| c.id()));
    }
    let mut expected = in_safe.clone();
    expected.sort();
    assert_eq!(seen, expected);
    let by_ndc = ContainerFilter { ndc: Some(other_product().ndc().clone()), ..Default::default() };
    let mut expected = in_cabinet.clone();
    expected.sort();
    let found: Vec<_> = tx.ledger_containers(&by_ndc, None, 10).await.unwrap().iter().map(|c| c.id()).collect();
    assert_eq!(found, expected);
    assert_eq!(tx.ledger_containers(&ContainerFilter::default(), None, 100).await.unwrap().len(), 7);

    // A container's log, a page at a time.
    let first = tx.container_log(in_safe[0], 0, 2).await.unwrap();
    assert_eq!(first.iter().map(|l| l.on_hand).collect::<Vec<_>>(), vec![ml("10"), ml("9.8")]);
    let rest = tx.container_log(in_safe[0], first[1].entry.seq, 2).await.unwrap();
    assert_eq!(rest.iter().map(|l| l.on_hand).collect::<Vec<_>>(), vec![ml("9.6"), ml("9.4")]);
    assert!(tx.container_log(in_safe[0], rest[1].entry.seq, 2).await.unwrap().is_empty());

    // Entries in a date range (from inclusive, to exclusive), of a kind, a page at a time.
    let range = tx.ledger_entries_between(t0() + 1.hour(), t0() + 4.hours(), None, 0, 10).await.unwrap();
    assert_eq!(
        range.iter().map(|e| e.entry.kind.name()).collect::<Vec<_>>(),
        ["receipt", "administration", "administration"]
    );
    let page = tx.ledger_entries_between(t0(), t0() + 24.hours(), Some("administration"), 0, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    let next =
        tx.ledger_entries_between(t0(), t0() + 24.hours(), Some("administration"), page[1].seq, 2).await.unwrap();
    assert_eq!(next.len(), 1);
    assert!(next[0].seq > page[1].seq);
    let receipts = tx.ledger_entries_between(t0(), t0() + 24.hours(), Some("receipt"), 0, 10).await.unwrap();
    assert_eq!(receipts.len(), 2);
}

pub async fn ledger_cases_and_losses_keep_their_state(store: &dyn Store) {
    let c = clinic(store).await;
    let (_, ids) = receive_vials(store, &c, ketamine(), c.safe.id, 2, t0()).await;
    // A count that finds one vial short opens a case.
    let mut tx = store.begin().await.unwrap();
    tx.hold_ledger_head().await.unwrap();
    let stock = tx.ledger_containers(&ContainerFilter::default(), None, 100).await.unwrap();
    let cmd = CountCommand {
        entry: new_id(),
        by: c.nurse.clone(),
        kind: InventoryKind::Routine,
        taken: BusinessTime::Close,
        location: Some(c.safe.id),
        lines: vec![
            CountInput { container: ids[0], counted: ml("9.5"), exactness: Exactness::Estimated },
            CountInput { container: ids[1], counted: ml("10"), exactness: Exactness::Estimated },
        ],
    };
    let r = count(&stock, cmd, &rules(), t0() + 1.hour()).unwrap();
    let counted = tx.append_ledger_entry(&r.entry, &r.containers).await.unwrap();
    let cases = r.cases();
    assert_eq!(cases.len(), 1);
    for case in &cases {
        tx.put_ledger_case(case).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.open_ledger_cases().await.unwrap(), cases);
    assert_eq!(tx.ledger_case(cases[0].case).await.unwrap().as_ref(), Some(&cases[0]));
    let counts = tx.ledger_entries_between(t0(), t0() + 24.hours(), Some("count"), 0, 10).await.unwrap();
    assert_eq!(counts, vec![counted], "a count is an entry of kind count");
    // Resolved: no longer open, kept.
    let mut resolved = cases[0].clone();
    resolved.resolution = Some(Resolved {
        at: t0() + 2.hours(),
        by: c.prescriber.clone(),
        kind: ResolutionKind::CountError,
        explanation: Reason::parse("Recounted: meniscus misread").unwrap(),
        reference: None,
    });
    tx.put_ledger_case(&resolved).await.unwrap();
    assert!(tx.open_ledger_cases().await.unwrap().is_empty());
    assert_eq!(tx.ledger_case(cases[0].case).await.unwrap(), Some(resolved));

    // A loss: open until its Form 106 is filed.
    tx.hold_ledger_head().await.unwrap();
    let stock = tx.ledger_containers(&ContainerFilter::default(), None, 100).await.unwrap();
    let cmd = LossCommand {
        entry: new_id(),
        by: c.prescriber.clone(),
        report: LossReport {
            discovered_at: t0() + 3.hours(),
            kind: LossKind::Theft,
            significant: true,
            police: Some(text("PR-1")),
            explanation: Reason::parse("Vial missing from the safe").unwrap(),
            corrective_measures: None,
        },
        items: vec![LossItem { container: ids[1], amount: ml("10") }],
    };
    let r = report_loss(&stock, cmd, &rules(), t0() + 3.hours()).unwrap();
    tx.append_ledger_entry(&r.entry, &r.containers).await.unwrap();
    let mut loss = r.loss().unwrap();
    tx.put_ledger_loss(&loss).await.unwrap();
    assert_eq!(tx.open_ledger_losses().await.unwrap(), vec![loss.clone()]);
    assert_eq!(tx.ledger_container(ids[1]).await.unwrap().unwrap().on_hand(), ml("0"));
    loss.dea_notified = Some(t0() + 4.hours());
    tx.put_ledger_loss(&loss).await.unwrap();
    assert_eq!(tx.open_ledger_losses().await.unwrap(), vec![loss.clone()]);
    loss.form106_filed = Some(t0() + 5.hours());
    tx.put_ledger_loss(&loss).await.unwrap();
    assert!(tx.open_ledger_losses().await.unwrap().is_empty());
    assert_eq!(tx.ledger_loss(loss.loss).await.unwrap(), Some(loss));
    tx.commit().await.unwrap();
    let w = walk(store, 2).await;
    assert!(w.outcome.is_ok(), "{:?}", w.outcome.err());
    assert_eq!(w.entries, 3);
}

/// Four writers draw from one vial at once, each holding the head, reading the balance,
/// deciding and appending: the draws chain one after another, every balance follows the
/// one before (no two read the same), and the chain verifies.
pub async fn concurrent_ledger_appends_never_fork_the_chain(store: &dyn Store) {
    let c = clinic(store).await;
    let (_, ids) = receive_vials(store, &c, ketamine(), c.safe.id, 1, t0()).await;
    let (c, id) = (&c, ids[0]);
    let writer = |w: i64| async move {
        for i in 0..5 {
            draw_from(store, &c.nurse, id, "10", t0() + (w * 10 + i).minutes()).await;
        }
    };
    tokio::join!(writer(1), writer(2), writer(3), writer(4));
    let w = walk(store, 7).await;
    assert_eq!(w.entries, 21);
    let (head, book) = w.outcome.unwrap_or_else(|e| panic!("the chain forked or a balance was lost: {e}"));
    assert_eq!(w.stored_head, Some((21, head)));
    assert_eq!(book.container(id).unwrap().on_hand(), ml("6"), "20 draws of 0.2 mL from 10 mL");
    let mut read = store.begin_read().await.unwrap();
    assert_eq!(read.ledger_container(id).await.unwrap().unwrap().on_hand(), ml("6"));
    let log = read.container_log(id, 0, 100).await.unwrap();
    let balances: Vec<Quantity> = log.iter().map(|l| l.on_hand).collect();
    let expected: Vec<Quantity> =
        (0..=20).map(|i| Quantity::from_micros(StockUnit::Ml, 10_000_000 - i * 200_000).unwrap()).collect();
    assert_eq!(balances, expected);
}

/// For an adapter's own test of a restart: a receipt and a draw committed; the test
/// closes the store, opens it again and calls [`ledger_continues_after_restart`].
pub async fn ledger_before_restart(store: &dyn Store) -> ContainerId {
    let c = clinic(store).await;
    let (_, ids) = receive_vials(store, &c, ketamine(), c.safe.id, 1, t0()).await;
    draw_from(store, &c.nurse, ids[0], "50", t0() + 1.hour()).await;
    ids[0]
}

/// After a restart the head is read again from its row: the next append follows it and
/// the chain verifies whole.
pub async fn ledger_continues_after_restart(store: &dyn Store, container: ContainerId) {
    let mut tx = store.begin_read().await.unwrap();
    let (seq, hash) = tx.ledger_head().await.unwrap().expect("the head survives a restart");
    let current = tx.ledger_container(container).await.unwrap().unwrap();
    drop(tx);
    assert_eq!((seq, current.on_hand()), (2, ml("9")));
    let mut tx = store.begin_read().await.unwrap();
    let nurse = tx.credentials_by_username(&kat_core::user::Username::parse("ledger.nurse").unwrap()).await.unwrap();
    drop(tx);
    let nurse = Staff { user: nurse.unwrap().user.id, name: text("N. Kim"), role: Role::Nurse };
    let next = draw_from(store, &nurse, container, "50", t0() + 2.hours()).await;
    assert_eq!((next.seq, next.prev_hash.as_str()), (3, hash.as_str()));
    let w = walk(store, 500).await;
    assert_eq!(w.entries, 3);
    assert!(w.outcome.is_ok(), "{:?}", w.outcome.err());
}

/// Commits a receipt of two vials (entry 1) and a draw from the first (entry 2), for an
/// adapter's own test to try [`LEDGER_REFUSED_WRITES`] with its own SQL.
pub async fn seed_ledger(store: &dyn Store) {
    let c = clinic(store).await;
    let (_, ids) = receive_vials(store, &c, ketamine(), c.safe.id, 2, t0()).await;
    draw_from(store, &c.nurse, ids[0], "50", t0() + 1.hour()).await;
}

/// Writes both schemas refuse once [`seed_ledger`] ran, each with what its error names:
/// an entry or a recorded balance changed or removed, a negative balance stored or
/// recorded (issue 13 items 8 and 9). The same SQL text on both databases.
pub const LEDGER_REFUSED_WRITES: [(&str, &str); 6] = [
    ("UPDATE ledger_entries SET kind = 'waste'", "ledger_entries is append-only"),
    ("DELETE FROM ledger_entries WHERE seq = 2", "ledger_entries is append-only"),
    ("UPDATE ledger_balances SET on_hand = on_hand + 1", "ledger_balances is append-only"),
    ("DELETE FROM ledger_balances", "ledger_balances is append-only"),
    ("UPDATE ledger_containers SET on_hand = -1", "ledger_containers_on_hand_check"),
    (
        "INSERT INTO ledger_balances (container_id, seq, on_hand) SELECT id, 2, -1 FROM ledger_containers \
         WHERE id NOT IN (SELECT container_id FROM ledger_balances WHERE seq = 2)",
        "ledger_balances_on_hand_check",
    ),
];

/// Checks that [`LEDGER_REFUSED_WRITES`] each failed, given what the adapter's own SQL
/// returned for each (its error message, or `None` when the write went through), and
/// that the ledger still verifies.
pub async fn assert_ledger_writes_refused(store: &dyn Store, outcomes: &[Option<String>]) {
    assert_eq!(outcomes.len(), LEDGER_REFUSED_WRITES.len());
    for ((sql, expected), outcome) in LEDGER_REFUSED_WRITES.iter().zip(outcomes) {
        let message = outcome.as_deref().unwrap_or_else(|| panic!("the database let `{sql}` through"));
        assert!(message.contains(expected), "`{sql}` failed, but not as `{expected}`: {message}");
    }
    let w = walk(store, 500).await;
    assert_eq!(w.entries, 2);
    assert!(w.outcome.is_ok(), "{:?}", w.outcome.err());
}
