//! The audit log's hash chain (issue 12 item 5): each entry stores a SHA-256 over its
//! content, the patients a list view showed, and the previous entry's hash, so an entry
//! edited, removed or slipped in after the append-only triggers were dropped breaks the
//! chain at that place.
//!
//! Pure: the store hands entries in `seq` order, [`ChainWalk`] says where the chain
//! breaks. Entries written before the chain existed (no stored hash) are folded into
//! the chain as if they had been hashed, starting from [`GENESIS`]; the first hashed
//! entry's `prev_hash` is that fold, so an old entry changed later breaks the chain too.
//!
//! The encoding hashed is fixed here and must never change: each field as its length
//! (8 bytes, big-endian) and its bytes, an absent value as the length `u64::MAX`; times
//! as microseconds since the epoch (what both databases store).

use crate::audit::NewAuditEntry;
use crate::ids::{AuditId, PatientId};
use sha2::{Digest, Sha256};

/// The previous hash of the very first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Feeds one field to the hash: its length (8 bytes, big-endian) and its bytes, an
/// absent value as the length `u64::MAX`. The ledger's chain ([`crate::ledger::chain`])
/// encodes its entries the same way.
pub(crate) fn field(h: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
        None => h.update(u64::MAX.to_be_bytes()),
    }
}

/// The hash of one entry chained to `prev` (hex, lower case). `shown` is the set of
/// patients a list view named (any order; empty for other entries). The entry's `seq` is
/// not hashed (the database assigns it on insert); its place is the link to `prev`.
pub fn entry_hash(prev: &str, id: AuditId, e: &NewAuditEntry, shown: &[PatientId]) -> String {
    let mut h = Sha256::new();
    h.update(b"kat-audit-v1");
    field(&mut h, Some(prev.as_bytes()));
    field(&mut h, Some(id.as_uuid().as_bytes()));
    field(&mut h, Some(&e.at.as_microsecond().to_be_bytes()));
    field(&mut h, e.actor.user_id.map(|u| u.as_uuid()).as_ref().map(|u| u.as_bytes().as_slice()));
    field(&mut h, Some(e.actor.label.as_bytes()));
    field(&mut h, Some(e.action.as_str().as_bytes()));
    field(&mut h, Some(e.resource_type.as_bytes()));
    field(&mut h, e.resource_id.as_deref().map(str::as_bytes));
    field(&mut h, e.patient_id.map(|p| p.as_uuid()).as_ref().map(|u| u.as_bytes().as_slice()));
    field(&mut h, Some(e.remote_addr.as_bytes()));
    field(&mut h, Some(e.outcome.as_str().as_bytes()));
    field(&mut h, e.request_id.as_deref().map(str::as_bytes));
    let mut shown: Vec<PatientId> = shown.to_vec();
    shown.sort();
    shown.dedup();
    field(&mut h, Some(&(shown.len() as u64).to_be_bytes()));
    for p in shown {
        h.update(p.as_uuid().as_bytes());
    }
    hex::encode(h.finalize())
}

/// One stored entry as the walk reads it.
#[derive(Debug, Clone)]
pub struct StoredLink<'a> {
    pub seq: i64,
    pub id: AuditId,
    pub entry: &'a NewAuditEntry,
    pub shown: &'a [PatientId],
    /// `None` for an entry written before the chain existed.
    pub prev_hash: Option<&'a str>,
    pub hash: Option<&'a str>,
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq}: its content does not match its hash (changed after it was written)")]
    Altered { seq: i64 },
    #[error("entry {seq}: it does not follow the entry before it (an entry before it was removed or inserted)")]
    Unlinked { seq: i64 },
    #[error("entry {seq}: it has no hash, yet entries before it have (written around the chain)")]
    Unhashed { seq: i64 },
    #[error("entry {seq}: its sequence number does not increase")]
    OutOfOrder { seq: i64 },
    #[error(
        "the chain's head names entry {head_seq} but the log ends at entry {last_seq} (entries at the end were removed or the head was changed)"
    )]
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

/// A walk over the log in `seq` order.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    prev: String,
    last_seq: Option<i64>,
    hashed_seen: bool,
    entries: u64,
    legacy: u64,
}

impl Default for ChainWalk {
    fn default() -> Self {
        Self { prev: GENESIS.to_string(), last_seq: None, hashed_seen: false, entries: 0, legacy: 0 }
    }
}

impl ChainWalk {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next entry; the first break found is returned, and the walk should stop.
    pub fn push(&mut self, link: &StoredLink<'_>) -> Result<(), ChainBreak> {
        let seq = link.seq;
        if self.last_seq.is_some_and(|last| seq <= last) {
            return Err(ChainBreak::OutOfOrder { seq });
        }
        let computed = entry_hash(&self.prev, link.id, link.entry, link.shown);
        match (link.prev_hash, link.hash) {
            (Some(prev), Some(hash)) => {
                if prev != self.prev {
                    return Err(ChainBreak::Unlinked { seq });
                }
                if hash != computed {
                    return Err(ChainBreak::Altered { seq });
                }
                self.hashed_seen = true;
            }
            _ if self.hashed_seen => return Err(ChainBreak::Unhashed { seq }),
            _ => self.legacy += 1,
        }
        self.prev = computed;
        self.last_seq = Some(seq);
        self.entries += 1;
        Ok(())
    }

    /// The hash the next entry must chain to: the fold of every entry so far.
    pub fn head(&self) -> &str {
        &self.prev
    }
    pub fn last_seq(&self) -> Option<i64> {
        self.last_seq
    }
    /// Entries walked, and how many of them were written before the chain existed.
    pub fn counts(&self) -> (u64, u64) {
        (self.entries, self.legacy)
    }

    /// Ends the walk against the head the store keeps (`seq`, `hash` of the newest
    /// chained entry): the log must end there.
    pub fn finish(&self, stored_head: Option<(i64, &str)>) -> Result<(), ChainBreak> {
        match (stored_head, self.last_seq) {
            (Some((head_seq, head_hash)), Some(last_seq)) => {
                if head_seq != last_seq || head_hash != self.prev {
                    return Err(ChainBreak::HeadMismatch { head_seq, last_seq });
                }
                Ok(())
            }
            (Some((head_seq, _)), None) => Err(ChainBreak::HeadMismatch { head_seq, last_seq: 0 }),
            (None, _) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditAction, AuditActor, AuditOutcome};
    use uuid::Uuid;

    fn entry(i: i64) -> NewAuditEntry {
        NewAuditEntry {
            at: jiff::Timestamp::from_microsecond(1_700_000_000_000_000 + i).unwrap(),
            actor: AuditActor { user_id: None, label: "kat cli".into() },
            action: AuditAction::Read,
            resource_type: "patient".into(),
            resource_id: Some(format!("r{i}")),
            patient_id: None,
            remote_addr: "cli".into(),
            outcome: AuditOutcome::Allowed,
            request_id: None,
        }
    }

    struct Row {
        seq: i64,
        id: AuditId,
        entry: NewAuditEntry,
        shown: Vec<PatientId>,
        prev: Option<String>,
        hash: Option<String>,
    }

    /// `legacy` unhashed entries, then `chained` hashed ones, as the store writes them.
    fn log(legacy: i64, chained: i64) -> Vec<Row> {
        let mut prev = GENESIS.to_string();
        let mut rows = Vec::new();
        for seq in 1..=legacy + chained {
            let id = AuditId::from_uuid(Uuid::now_v7());
            let shown = if seq % 2 == 0 { vec![PatientId::from_uuid(Uuid::now_v7())] } else { vec![] };
            let e = entry(seq);
            let h = entry_hash(&prev, id, &e, &shown);
            let hashed = seq > legacy;
            rows.push(Row {
                seq,
                id,
                entry: e,
                shown,
                prev: hashed.then(|| prev.clone()),
                hash: hashed.then(|| h.clone()),
            });
            prev = h;
        }
        rows
    }

    fn walk(rows: &[Row]) -> Result<ChainWalk, ChainBreak> {
        let mut w = ChainWalk::new();
        for r in rows {
            w.push(&StoredLink {
                seq: r.seq,
                id: r.id,
                entry: &r.entry,
                shown: &r.shown,
                prev_hash: r.prev.as_deref(),
                hash: r.hash.as_deref(),
            })?;
        }
        Ok(w)
    }

    #[test]
    fn an_intact_log_walks_to_its_head_legacy_entries_folded_in() {
        let rows = log(3, 4);
        let w = walk(&rows).unwrap();
        assert_eq!(w.counts(), (7, 3));
        assert_eq!(w.head(), rows[6].hash.as_deref().unwrap());
        assert_eq!(w.finish(Some((7, rows[6].hash.as_deref().unwrap()))), Ok(()));
        assert!(walk(&log(0, 0)).unwrap().finish(None).is_ok(), "an empty log");
    }

    #[test]
    fn each_kind_of_tampering_is_named_at_its_entry() {
        // Edited content.
        let mut rows = log(2, 4);
        rows[4].entry.resource_id = Some("other".into());
        assert_eq!(walk(&rows).unwrap_err(), ChainBreak::Altered { seq: 5 });
        // A changed patient list of a list view.
        let mut rows = log(0, 4);
        rows[1].shown.clear();
        assert_eq!(walk(&rows).unwrap_err(), ChainBreak::Altered { seq: 2 });
        // An entry removed: the next one no longer follows.
        let mut rows = log(0, 5);
        rows.remove(2);
        assert_eq!(walk(&rows).unwrap_err(), ChainBreak::Unlinked { seq: 4 });
        // A legacy entry edited: the first chained entry no longer follows the fold.
        let mut rows = log(3, 2);
        rows[0].entry.actor.label = "someone else".into();
        assert_eq!(walk(&rows).unwrap_err(), ChainBreak::Unlinked { seq: 4 });
        // An entry slipped in without a hash after the chain began.
        let mut rows = log(0, 3);
        rows[2].hash = None;
        rows[2].prev = None;
        assert_eq!(walk(&rows).unwrap_err(), ChainBreak::Unhashed { seq: 3 });
        // The newest entries removed: the store's head names a later entry.
        let rows = log(0, 5);
        let head = (5, rows[4].hash.clone().unwrap());
        let w = walk(&rows[..3]).unwrap();
        assert_eq!(w.finish(Some((head.0, &head.1))), Err(ChainBreak::HeadMismatch { head_seq: 5, last_seq: 3 }));
        // Two entries swapped: the first out of place no longer follows.
        let mut rows = log(0, 3);
        rows.swap(1, 2);
        assert_eq!(walk(&rows).unwrap_err(), ChainBreak::Unlinked { seq: 3 });
        // A sequence number repeated.
        let mut rows = log(0, 3);
        rows[2].seq = 2;
        assert_eq!(walk(&rows).unwrap_err(), ChainBreak::OutOfOrder { seq: 2 });
    }

    #[test]
    fn the_hash_covers_every_field_and_its_absence() {
        let id = AuditId::from_uuid(Uuid::nil());
        let base = entry(1);
        let h = entry_hash(GENESIS, id, &base, &[]);
        assert_eq!(h.len(), 64);
        let mut e = base.clone();
        e.resource_id = None;
        assert_ne!(entry_hash(GENESIS, id, &e, &[]), h, "absent differs from present");
        let mut e = base.clone();
        e.resource_id = Some(String::new());
        assert_ne!(
            entry_hash(GENESIS, id, &e, &[]),
            entry_hash(
                GENESIS,
                id,
                &{
                    let mut n = base.clone();
                    n.resource_id = None;
                    n
                },
                &[]
            ),
            "empty differs from absent"
        );
        assert_ne!(entry_hash(&h, id, &base, &[]), h, "the previous hash counts");
        let p = PatientId::from_uuid(Uuid::nil());
        assert_ne!(entry_hash(GENESIS, id, &base, &[p]), h, "the patients shown count");
        assert_eq!(entry_hash(GENESIS, id, &base, &[]), h, "deterministic");
    }
}
