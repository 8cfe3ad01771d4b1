//! The walk of the audit log's hash chain over the store (issue 12 item 5): the pages
//! of [`AuditRepo::audit_chain_page`] fed to [`kat_core::audit_chain::ChainWalk`] in
//! `seq` order, then the store's head checked. One transaction (a read transaction: one
//! snapshot), so entries appended meanwhile are not half-seen.

use crate::{AuditRepo, StoreResult};
use kat_core::audit_chain::{ChainBreak, ChainWalk, StoredLink};

/// Entries one page of the walk reads.
pub const WALK_PAGE: u32 = 500;

/// What a walk found: the walk (entries, legacy entries, the head hash) or the first
/// break, with the store's head as it names it.
#[derive(Debug, Clone)]
pub struct WalkResult {
    pub walk: ChainWalk,
    pub broken: Option<ChainBreak>,
    pub stored_head: Option<(i64, String)>,
}

/// Walks the whole log in `tx` (a transaction, or an adapter's own, as the first
/// chained append does to fold the entries written before the chain).
pub async fn walk_audit_chain<T: AuditRepo + Send + ?Sized>(tx: &mut T) -> StoreResult<WalkResult> {
    let mut walk = ChainWalk::new();
    let mut after = 0;
    let stored_head = tx.audit_chain_head().await?;
    loop {
        let page = tx.audit_chain_page(after, WALK_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.entry.seq;
        for c in &page {
            let link = StoredLink {
                seq: c.entry.seq,
                id: c.entry.id,
                entry: &c.entry.entry,
                shown: &c.shown,
                prev_hash: c.prev_hash.as_deref(),
                hash: c.hash.as_deref(),
            };
            if let Err(b) = walk.push(&link) {
                return Ok(WalkResult { walk, broken: Some(b), stored_head });
            }
        }
    }
    let broken = walk.finish(stored_head.as_ref().map(|(s, h)| (*s, h.as_str()))).err();
    Ok(WalkResult { walk, broken, stored_head })
}
