//! The ledger's hash chain (issue 13 item 9): each entry stores a SHA-256 over its
//! content and the previous entry's hash, so an entry edited, removed, reordered or
//! slipped in breaks the chain at that place; [`verify`] walks the chain and replays the
//! book, naming the first broken link or inconsistent entry.
//!
//! It is the audit log's chain ([`crate::audit_chain`]) applied to ledger entries: the
//! same field encoding (each field as its length, 8 bytes big-endian, and its bytes; an
//! absent value as the length `u64::MAX`; times as microseconds since the epoch, what
//! both databases store), the same [`GENESIS`] and the same [`ChainBreak`]s, with its
//! own domain tag. The encoding hashed is fixed here and must never change: every field
//! of every entry kind is fed in a fixed order, enum variants by a fixed name. A field
//! added to an entry must be added here (as a new tagged version).

use super::book::{Book, Inconsistency, replay};
use super::cases::CaseAction;
use super::entry::{
    AmountChange, Destination, DisposalMethod, EntryKind, LedgerEntry, QuarantineReason, Recovery, Staff,
};
use super::loss::{LossKind, LossStep};
use super::product::{LedgerProduct, RemsChannel};
use super::quantity::{MgQty, Quantity};
use super::registrant::Counterparty;
use crate::audit_chain::field;
pub use crate::audit_chain::{ChainBreak, GENESIS};
use jiff::Timestamp;
use jiff::civil::Date;
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

/// Feeds an entry to the hash, field by field.
struct Enc(Sha256);

impl Enc {
    fn bytes(&mut self, b: &[u8]) {
        field(&mut self.0, Some(b));
    }
    fn none(&mut self) {
        field(&mut self.0, None);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt<T>(&mut self, v: Option<&T>, f: impl FnOnce(&mut Self, &T)) {
        match v {
            Some(v) => {
                self.str("some");
                f(self, v)
            }
            None => self.none(),
        }
    }
    fn u64(&mut self, n: u64) {
        self.bytes(&n.to_be_bytes());
    }
    fn bool(&mut self, b: bool) {
        self.bytes(&[u8::from(b)]);
    }
    fn uuid(&mut self, u: Uuid) {
        self.bytes(u.as_bytes());
    }
    fn time(&mut self, t: Timestamp) {
        self.bytes(&t.as_microsecond().to_be_bytes());
    }
    fn date(&mut self, d: Date) {
        self.str(&d.to_string());
    }
    fn qty(&mut self, q: Quantity) {
        self.str(q.unit().as_str());
        self.u64(q.micros());
    }
    fn mg(&mut self, m: MgQty) {
        self.u64(m.micros());
    }
    fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }
    fn staff(&mut self, s: &Staff) {
        self.uuid(s.user.as_uuid());
        self.str(s.name.as_str());
        self.str(s.role.as_str());
    }
    fn party(&mut self, p: &Counterparty) {
        self.str(p.name.as_str());
        self.str(p.address.as_str());
        self.str(p.dea.as_str());
    }
    fn product(&mut self, p: &LedgerProduct) {
        self.str(p.name().as_str());
        self.str(p.substance().as_str());
        self.str(p.ndc().digits());
        self.mg(p.strength().mg_per_unit());
        self.str(p.strength().unit().as_str());
        self.str(p.form().as_str());
    }
}

fn kind(e: &mut Enc, k: &EntryKind) {
    e.str(k.name());
    match k {
        EntryKind::Receipt(r) => {
            e.party(&r.supplier);
            e.str(r.invoice.as_str());
            e.date(r.received_on);
            e.product(&r.product);
            e.qty(r.size);
            e.str(r.lot.as_str());
            e.date(r.expiry);
            e.uuid(r.location.as_uuid());
            e.len(r.containers.len());
            for c in &r.containers {
                e.uuid(c.as_uuid());
            }
            e.opt(r.rems.as_ref(), |e, s| {
                e.str(match s.channel {
                    RemsChannel::CertifiedPharmacy => "certified_pharmacy",
                    RemsChannel::QualifiedDistributor => "qualified_distributor",
                });
                e.str(s.name.as_str());
            });
            e.bool(r.arrived_expired);
        }
        EntryKind::Administration(d) => {
            e.uuid(d.container.as_uuid());
            e.uuid(d.administration.as_uuid());
            e.uuid(d.session.as_uuid());
            e.uuid(d.patient.as_uuid());
            e.time(d.administered_at);
            e.str(d.administered_by.as_str());
            e.mg(d.mg);
            e.qty(d.amount);
        }
        EntryKind::Waste(w) => {
            e.uuid(w.container.as_uuid());
            e.qty(w.amount);
            e.str(w.method.as_str());
            e.str(w.reason.as_str());
            e.opt(w.witness.as_ref(), |e, s| e.staff(s));
            e.opt(w.administration.as_ref(), |e, a| e.uuid(a.as_uuid()));
        }
        EntryKind::TransferOut(t) => {
            e.uuid(t.container.as_uuid());
            e.qty(t.amount);
            e.uuid(t.from.as_uuid());
            match &t.destination {
                Destination::Location { location } => {
                    e.str("location");
                    e.uuid(location.as_uuid());
                }
                Destination::Registrant { registrant } => {
                    e.str("registrant");
                    e.party(registrant);
                }
            }
        }
        EntryKind::TransferIn(t) => {
            e.uuid(t.container.as_uuid());
            e.qty(t.amount);
            e.uuid(t.location.as_uuid());
        }
        EntryKind::Quarantine(q) => {
            e.uuid(q.container.as_uuid());
            e.str(q.reason.as_str());
            if let QuarantineReason::Other { detail } = &q.reason {
                e.str(detail.as_str());
            }
            e.opt(q.note.as_ref(), |e, n| e.str(n.as_str()));
        }
        EntryKind::Release(r) => {
            e.uuid(r.container.as_uuid());
            e.str(r.note.as_str());
        }
        EntryKind::Disposal(d) => {
            e.uuid(d.container.as_uuid());
            e.qty(d.amount);
            match &d.method {
                DisposalMethod::ReverseDistributor { distributor, reference } => {
                    e.str("reverse_distributor");
                    e.party(distributor);
                    e.str(reference.as_str());
                }
                DisposalMethod::OnSite { method } => {
                    e.str("on_site");
                    e.str(method.as_str());
                }
            }
            e.len(d.witnesses.len());
            for w in &d.witnesses {
                e.staff(w);
            }
        }
        EntryKind::Breakage(b) => {
            e.uuid(b.container.as_uuid());
            e.qty(b.amount);
            e.staff(&b.witness);
            match &b.recovery {
                Recovery::Recovered { disposition } => {
                    e.str("recovered");
                    e.str(disposition.as_str());
                }
                Recovery::NotRecoverable { circumstances } => {
                    e.str("not_recoverable");
                    e.str(circumstances.as_str());
                }
            }
        }
        EntryKind::Loss(l) => {
            let r = &l.report;
            e.time(r.discovered_at);
            e.str(r.kind.as_str());
            if let LossKind::Other { detail } = &r.kind {
                e.str(detail.as_str());
            }
            e.bool(r.significant);
            e.opt(r.police.as_ref(), |e, p| e.str(p.as_str()));
            e.str(r.explanation.as_str());
            e.opt(r.corrective_measures.as_ref(), |e, c| e.str(c.as_str()));
            e.len(l.items.len());
            for i in &l.items {
                e.uuid(i.container.as_uuid());
                e.qty(i.amount);
            }
        }
        EntryKind::LossFollowUp(f) => {
            e.uuid(f.loss.as_uuid());
            match &f.step {
                LossStep::DeaNotified { at, reference } => {
                    e.str("dea_notified");
                    e.time(*at);
                    e.str(reference.as_str());
                }
                LossStep::Form106Filed { at, reference } => {
                    e.str("form106_filed");
                    e.time(*at);
                    e.str(reference.as_str());
                }
            }
        }
        EntryKind::Count(c) => {
            e.str(c.kind.as_str());
            e.str(match c.taken {
                super::entry::BusinessTime::Opening => "opening",
                super::entry::BusinessTime::Close => "close",
            });
            e.opt(c.location.as_ref(), |e, l| e.uuid(l.as_uuid()));
            e.len(c.lines.len());
            for l in &c.lines {
                e.uuid(l.container.as_uuid());
                e.qty(l.expected);
                e.qty(l.counted);
                e.str(match l.exactness {
                    super::entry::Exactness::Exact => "exact",
                    super::entry::Exactness::Estimated => "estimated",
                });
            }
        }
        EntryKind::Case(c) => {
            e.uuid(c.case.count.as_uuid());
            e.uuid(c.case.container.as_uuid());
            match &c.action {
                CaseAction::Note { note } => {
                    e.str("note");
                    e.str(note.as_str());
                }
                CaseAction::Resolve { resolution, explanation, reference } => {
                    e.str("resolve");
                    e.str(resolution.as_str());
                    e.str(explanation.as_str());
                    e.opt(reference.as_ref(), |e, r| e.uuid(r.as_uuid()));
                }
            }
        }
        EntryKind::Correction(k) => {
            e.uuid(k.corrects.as_uuid());
            e.uuid(k.container.as_uuid());
            e.opt(k.change.as_ref(), |e, c: &AmountChange| {
                e.str(c.movement.as_str());
                e.qty(c.was);
                e.qty(c.now);
            });
            e.str(k.reason.as_str());
        }
    }
}

/// The hash of one entry chained to `prev` (hex, lower case). The entry's place in the
/// log (`seq`) is not hashed (the database assigns it); its place is the link to `prev`.
pub fn entry_hash(prev: &str, entry: &LedgerEntry) -> String {
    let mut e = Enc(Sha256::new());
    e.0.update(b"kat-ledger-v1");
    e.str(prev);
    e.uuid(entry.id.as_uuid());
    e.time(entry.at);
    e.staff(&entry.by);
    kind(&mut e, &entry.kind);
    e.len(entry.after.len());
    for b in &entry.after {
        e.uuid(b.container.as_uuid());
        e.qty(b.on_hand);
    }
    hex::encode(e.0.finalize())
}

/// An entry as stored: its place, the entry, and its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry {
    pub seq: i64,
    pub entry: LedgerEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// Chains `entry` after the entry whose hash is `prev` (the store passes the chain's
/// head; [`GENESIS`] for the first).
pub fn link(prev: &str, seq: i64, entry: LedgerEntry) -> ChainedEntry {
    let hash = entry_hash(prev, &entry);
    ChainedEntry { seq, entry, prev_hash: prev.to_string(), hash }
}

/// Walks the chain in `seq` order and returns its head (the last hash, [`GENESIS`] when
/// empty), or the first broken link. `stored_head` is the head the store keeps (`seq`
/// and hash of the newest entry), so entries removed from the end are found too.
pub fn verify_chain(entries: &[ChainedEntry], stored_head: Option<(i64, &str)>) -> Result<String, ChainBreak> {
    let mut prev = GENESIS.to_string();
    let mut last: Option<i64> = None;
    for c in entries {
        if last.is_some_and(|l| c.seq <= l) {
            return Err(ChainBreak::OutOfOrder { seq: c.seq });
        }
        if c.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: c.seq });
        }
        let computed = entry_hash(&prev, &c.entry);
        if c.hash != computed {
            return Err(ChainBreak::Altered { seq: c.seq });
        }
        prev = computed;
        last = Some(c.seq);
    }
    match (stored_head, last) {
        (Some((head_seq, head_hash)), Some(last_seq)) if head_seq != last_seq || head_hash != prev => {
            Err(ChainBreak::HeadMismatch { head_seq, last_seq })
        }
        (Some((head_seq, _)), None) => Err(ChainBreak::HeadMismatch { head_seq, last_seq: 0 }),
        _ => Ok(prev),
    }
}

/// Why `kat ledger verify` fails: the first broken link, or the first inconsistent entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    Chain(ChainBreak),
    Inconsistent(Inconsistency),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Chain(b) => write!(f, "the ledger's hash chain is broken: {b}"),
            VerifyError::Inconsistent(i) => write!(f, "the ledger is inconsistent at {i}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Walks the chain, then replays the book: every balance recomputed, the invariant
/// checked after every entry.
pub fn verify(entries: &[ChainedEntry], stored_head: Option<(i64, &str)>) -> Result<Book, VerifyError> {
    verify_chain(entries, stored_head).map_err(VerifyError::Chain)?;
    let plain: Vec<LedgerEntry> = entries.iter().map(|c| c.entry.clone()).collect();
    replay(&plain).map_err(VerifyError::Inconsistent)
}
