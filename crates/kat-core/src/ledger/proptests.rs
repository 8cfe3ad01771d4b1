//! The invariant (issue 13 item 8) over random sequences of operations: each command
//! goes through its decision function; an accepted one is appended to the book. After
//! every step, for every container, the balance equals received − administered − wasted
//! − broken − lost − transferred out − disposed ± corrections as tallied here from the
//! commands alone, and is never below zero; a draw or waste is refused exactly when the
//! rules say so (never when it fits, always when it is short); a refused command changes
//! nothing; at the end the replay of the entries and the hash chain agree with the
//! running state.

use super::tests::{at, cid, loc, mg, ml, nurse, nurse2, prescriber, reason, rules, staff, supplier, text};
use super::*;
use crate::ids::{AdministrationId, ContainerId, DosingSessionId, LedgerEntryId, PatientId};
use crate::role::Role;
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Receive { n: u8, devices: bool, size: u64, expiry_days: i64 },
    Draw { c: usize, micros: u64, devices: u64, elsewhere: bool },
    Waste { c: usize, micros: u64, witness: u8 },
    TransferOut { c: usize, to: u8 },
    TransferIn { c: usize, at: u8 },
    Quarantine { c: usize },
    Release { c: usize },
    Dispose { c: usize, witnesses: u8 },
    Breakage { c: usize, micros: u64 },
    Loss { c: usize, micros: u64 },
    Count { off_by: Option<(usize, u64)> },
    Correct { e: usize, micros: u64 },
    Wait { hours: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0usize..8;
    prop_oneof![
        2 => (1u8..3, any::<bool>(), 1u64..=20, -3i64..90)
            .prop_map(|(n, devices, size, expiry_days)| Op::Receive { n, devices, size, expiry_days }),
        6 => (c.clone(), 0u64..12_000_000, 0u64..4, prop::bool::weighted(0.1))
            .prop_map(|(c, micros, devices, elsewhere)| Op::Draw { c, micros, devices, elsewhere }),
        3 => (c.clone(), 0u64..3_000_000, 0u8..4).prop_map(|(c, micros, witness)| Op::Waste { c, micros, witness }),
        1 => (c.clone(), 0u8..3).prop_map(|(c, to)| Op::TransferOut { c, to }),
        1 => (c.clone(), 0u8..3).prop_map(|(c, at)| Op::TransferIn { c, at }),
        1 => c.clone().prop_map(|c| Op::Quarantine { c }),
        1 => c.clone().prop_map(|c| Op::Release { c }),
        1 => (c.clone(), 0u8..3).prop_map(|(c, witnesses)| Op::Dispose { c, witnesses }),
        1 => (c.clone(), 0u64..5_000_000).prop_map(|(c, micros)| Op::Breakage { c, micros }),
        1 => (c.clone(), 0u64..5_000_000).prop_map(|(c, micros)| Op::Loss { c, micros }),
        1 => prop::option::of((c.clone(), 1u64..2_000_000)).prop_map(|off_by| Op::Count { off_by }),
        2 => (0usize..64, 0u64..12_000_000).prop_map(|(e, micros)| Op::Correct { e, micros }),
        1 => (0i64..400).prop_map(|hours| Op::Wait { hours }),
    ]
}

/// The terms of each container's invariant, tallied from the accepted commands.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    received: i128,
    taken: i128,
    corrections: i128,
}

impl Tally {
    fn on_hand(&self) -> i128 {
        self.received - self.taken + self.corrections
    }
}

struct World {
    book: Book,
    entries: Vec<LedgerEntry>,
    ids: Vec<ContainerId>,
    tally: BTreeMap<ContainerId, Tally>,
    now: Timestamp,
    next: u128,
}

impl World {
    fn id(&mut self) -> LedgerEntryId {
        self.next += 1;
        LedgerEntryId::from_uuid(Uuid::from_u128(self.next))
    }
    fn pick(&self, i: usize) -> Option<Container> {
        if self.ids.is_empty() {
            return None;
        }
        self.book.container(self.ids[i % self.ids.len()]).cloned()
    }
    /// Appends an accepted entry, or checks that a refusal changed nothing.
    fn record(&mut self, r: Result<Recorded, LedgerError>, before: &Book) -> Result<Option<Recorded>, TestCaseError> {
        match r {
            Ok(r) => {
                self.book.apply(&r.entry).map_err(|e| TestCaseError::fail(format!("book refused: {e}")))?;
                for c in &r.containers {
                    prop_assert_eq!(self.book.container(c.id()), Some(c));
                }
                self.entries.push(r.entry.clone());
                Ok(Some(r))
            }
            Err(_) => {
                prop_assert_eq!(self.book.len(), before.len());
                Ok(None)
            }
        }
    }
    fn take(&mut self, c: ContainerId, q: Quantity) {
        self.tally.entry(c).or_default().taken += i128::from(q.micros());
    }
}

fn usable_for_draw(c: &Container, now: Timestamp) -> bool {
    let r = rules();
    let beyond = match (c.opened_at(), r.policy.opened_beyond_use) {
        (Some(o), Some(limit)) => now > o.checked_add(limit).unwrap(),
        _ => false,
    };
    c.ended().is_none() && c.transit().is_none() && c.quarantine().is_none() && !c.is_expired(r.today(now)) && !beyond
}

fn step(w: &mut World, op: Op) -> Result<(), TestCaseError> {
    let r = rules();
    let before = w.book.clone();
    let now = w.now;
    match op {
        Op::Receive { n, devices, size, expiry_days } => {
            let containers: Vec<ContainerId> = (0..n).map(|i| cid(w.next * 10 + u128::from(i) + 1000)).collect();
            let expiry = r.today(now).checked_add(jiff::Span::new().days(expiry_days)).unwrap();
            let entry = w.id();
            let mut cmd = super::tests::receive_cmd(entry, containers.clone(), expiry);
            if devices {
                cmd.product = super::tests::spravato();
                cmd.size = Quantity::units(size.min(3)).unwrap();
                cmd.rems = Some(RemsSource { channel: RemsChannel::QualifiedDistributor, name: text("D") });
            } else {
                cmd.size = Quantity::ml_micros(size * 1_000_000).unwrap();
            }
            cmd.received_on = r.today(now);
            let size = cmd.size;
            if w.record(receive(cmd, &r, now), &before)?.is_some() {
                for c in containers {
                    w.ids.push(c);
                    w.tally.entry(c).or_default().received += i128::from(size.micros());
                }
            } else {
                prop_assert!(false, "a valid receipt was refused");
            }
        }
        Op::Draw { c, micros, devices, elsewhere } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let dose = match c.unit() {
                StockUnit::Ml => MgQty::from_micros(micros * 50).unwrap(),
                StockUnit::Unit => MgQty::whole(28 * devices as u32),
            };
            let entry = w.id();
            let cmd = DrawCommand {
                entry,
                by: nurse(),
                administration: AdministrationId::from_uuid(Uuid::from_u128(1)),
                session: DosingSessionId::from_uuid(Uuid::from_u128(2)),
                patient: PatientId::from_uuid(Uuid::from_u128(3)),
                administered_at: now,
                administered_by: text("RN"),
                location: if elsewhere { loc(9) } else { c.location() },
                mg: dose,
            };
            let amount = c.product().strength().quantity_for(dose).unwrap();
            let fits = !dose.is_zero() && amount.micros() <= c.on_hand().micros() && !c.on_hand().is_zero();
            let expect = usable_for_draw(&c, now) && !elsewhere && fits;
            let result = w.record(draw(&c, cmd, &r, now), &before)?;
            prop_assert_eq!(result.is_some(), expect, "draw of {} from {:?}", amount, c.state());
            if result.is_some() {
                w.take(c.id(), amount);
            }
            if amount.micros() > c.on_hand().micros() {
                prop_assert!(result.is_none(), "a short draw is always refused");
            }
        }
        Op::Waste { c, micros, witness } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let Ok(amount) = Quantity::from_micros(c.unit(), micros / 1_000_000 * 1_000_000 + micros % 3 * 100_000)
            else {
                return Ok(());
            };
            let (witness, valid) = match witness {
                0 => (Some(nurse()), false),
                1 => (Some(nurse2()), true),
                2 => (Some(staff(8, Role::Therapist)), false),
                _ => (None, false),
            };
            let entry = w.id();
            let cmd = WasteCommand {
                entry,
                by: nurse(),
                amount,
                method: text("pouch"),
                reason: reason("left over"),
                witness,
                administration: None,
            };
            let expect = valid
                && c.ended().is_none()
                && c.transit().is_none()
                && c.quarantine().is_none()
                && c.opened_at().is_some()
                && !amount.is_zero()
                && amount.micros() <= c.on_hand().micros();
            let result = w.record(waste(&c, cmd, &r, now), &before)?;
            prop_assert_eq!(result.is_some(), expect);
            if result.is_some() {
                w.take(c.id(), amount);
            }
        }
        Op::TransferOut { c, to } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let destination = match to {
                0 => Destination::Location { location: loc(1) },
                1 => Destination::Location { location: loc(2) },
                _ => Destination::Registrant { registrant: supplier() },
            };
            let away = to == 2;
            let entry = w.id();
            let cmd = TransferOutCommand { entry, by: nurse(), destination };
            if w.record(transfer_out(&c, cmd, &r, now), &before)?.is_some() && away {
                w.take(c.id(), c.on_hand());
            }
        }
        Op::TransferIn { c, at } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let entry = w.id();
            let cmd = TransferInCommand { entry, by: nurse2(), location: loc(u128::from(at)) };
            w.record(transfer_in(&c, cmd, &r, now), &before)?;
        }
        Op::Quarantine { c } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let reason_ =
                if c.is_expired(r.today(now)) { QuarantineReason::Expired } else { QuarantineReason::Damaged };
            let entry = w.id();
            let cmd = QuarantineCommand { entry, by: nurse(), reason: reason_, note: None };
            w.record(quarantine(&c, cmd, &r, now), &before)?;
        }
        Op::Release { c } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let entry = w.id();
            let cmd = ReleaseCommand { entry, by: nurse(), note: reason("fine") };
            w.record(release(&c, cmd, &r, now), &before)?;
        }
        Op::Dispose { c, witnesses } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let all = [nurse(), nurse2()];
            let entry = w.id();
            let cmd = DisposeCommand {
                entry,
                by: prescriber(),
                method: DisposalMethod::OnSite { method: text("digestion") },
                witnesses: all[..usize::from(witnesses)].to_vec(),
            };
            let result = w.record(dispose(&c, cmd, &r, now), &before)?;
            if witnesses < 2 {
                prop_assert!(result.is_none(), "on-site destruction with {} witnesses", witnesses);
            }
            if result.is_some() {
                w.take(c.id(), c.on_hand());
            }
        }
        Op::Breakage { c, micros } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let Ok(amount) = Quantity::from_micros(c.unit(), micros) else { return Ok(()) };
            let entry = w.id();
            let cmd = BreakageCommand {
                entry,
                by: nurse(),
                amount,
                witness: nurse2(),
                recovery: Recovery::Recovered { disposition: text("destroyed on site") },
            };
            if w.record(breakage(&c, cmd, &r, now), &before)?.is_some() {
                w.take(c.id(), amount);
            }
        }
        Op::Loss { c, micros } => {
            let Some(c) = w.pick(c) else { return Ok(()) };
            let Ok(amount) = Quantity::from_micros(c.unit(), micros) else { return Ok(()) };
            let entry = w.id();
            let cmd = LossCommand {
                entry,
                by: prescriber(),
                report: LossReport {
                    discovered_at: now,
                    kind: LossKind::Theft,
                    significant: true,
                    police: None,
                    explanation: reason("missing"),
                    corrective_measures: None,
                },
                items: vec![LossItem { container: c.id(), amount }],
            };
            let stock = w.book.stock();
            if w.record(report_loss(&stock, cmd, &r, now), &before)?.is_some() {
                w.take(c.id(), amount);
            }
        }
        Op::Count { off_by } => {
            let stock = w.book.stock();
            let odd = off_by.and_then(|(i, d)| w.pick(i).map(|c| (c.id(), d)));
            let lines: Vec<CountInput> = stock
                .iter()
                .filter(|c| c.transit().is_none())
                .map(|c| {
                    let counted = match odd {
                        Some((id, d)) if id == c.id() && c.unit() == StockUnit::Ml => {
                            Quantity::ml_micros(c.on_hand().micros().saturating_sub(d)).unwrap()
                        }
                        _ => c.on_hand(),
                    };
                    CountInput { container: c.id(), counted, exactness: Exactness::Exact }
                })
                .collect();
            let differing = lines
                .iter()
                .filter(|l| stock.iter().any(|c| c.id() == l.container && c.on_hand() != l.counted))
                .count();
            let entry = w.id();
            let cmd = CountCommand {
                entry,
                by: nurse(),
                kind: InventoryKind::Routine,
                taken: BusinessTime::Close,
                location: None,
                lines,
            };
            let result = w.record(count(&stock, cmd, &r, now), &before)?;
            prop_assert!(result.is_some(), "a complete count is accepted");
            prop_assert_eq!(result.unwrap().cases().len(), differing);
        }
        Op::Correct { e, micros } => {
            if w.entries.is_empty() {
                return Ok(());
            }
            let original = w.entries[e % w.entries.len()].clone();
            let Some(&container) = original.kind.containers().first() else { return Ok(()) };
            let c = w.book.container(container).unwrap().clone();
            let amount = match original.kind.movement(container) {
                Some((m, _)) if m.amount_correctable() => {
                    Quantity::from_micros(c.unit(), micros / 1_000_000 * 1_000_000).ok()
                }
                _ => None,
            };
            let entry = w.id();
            let cmd = CorrectionCommand { entry, by: nurse(), amount, reason: reason("typo") };
            if let Some(r) = w.record(correct(&c, &original, cmd, &r, now), &before)?
                && let EntryKind::Correction(k) = &r.entry.kind
                && let Some(ch) = k.change
            {
                let delta = i128::from(ch.now.micros()) - i128::from(ch.was.micros());
                w.tally.entry(container).or_default().corrections += if ch.movement.adds() { delta } else { -delta };
            }
        }
        Op::Wait { hours } => {
            w.now = w.now.checked_add(SignedDuration::from_hours(hours)).unwrap();
        }
    }
    // The invariant, for every container, after every step.
    for id in &w.ids {
        let c = w.book.container(*id).unwrap();
        let t = w.tally.get(id).copied().unwrap_or_default();
        prop_assert_eq!(i128::from(c.on_hand().micros()), t.on_hand(), "container {}", id);
        prop_assert_eq!(w.book.totals(*id).unwrap().on_hand_by_formula(), t.on_hand());
        prop_assert!(t.on_hand() >= 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_invariant_holds_over_any_sequence(ops in prop::collection::vec(op(), 1..80)) {
        let mut w = World {
            book: Book::new(),
            entries: Vec::new(),
            ids: Vec::new(),
            tally: BTreeMap::new(),
            now: at(2026, 3, 10, 10, 0),
            next: 0,
        };
        // Start with stock, so most sequences do something.
        step(&mut w, Op::Receive { n: 2, devices: false, size: 10, expiry_days: 60 })?;
        for op in ops {
            step(&mut w, op)?;
        }
        let book = replay(&w.entries).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for c in w.book.containers() {
            prop_assert_eq!(book.container(c.id()), Some(c));
        }
        let mut prev = chain::GENESIS.to_string();
        let mut rows = Vec::new();
        for (i, e) in w.entries.iter().enumerate() {
            let row = link(&prev, i as i64 + 1, e.clone());
            prev = row.hash.clone();
            rows.push(row);
        }
        let head = rows.last().map(|r| (r.seq, r.hash.clone())).unwrap();
        prop_assert!(verify(&rows, Some((head.0, &head.1))).is_ok());
    }
}

#[test]
fn the_fixtures_in_use() {
    // Keep the shared helpers honest: 35 mg at 50 mg/mL is 0.7 mL.
    assert_eq!(super::tests::ketamine().strength().quantity_for(mg("35")).unwrap(), ml("0.7"));
    assert!(date(2026, 3, 10) < date(2026, 6, 30));
}
