//! Reading the audit log (admins only). Reading it is itself audited.

use super::{AppResult, Ctx, audit_reads, require};
use kat_core::audit::{AuditAction, AuditEntry, AuditFilter, AuditOutcome};
use kat_core::ids::PatientId;
use kat_core::role::Permission;
use kat_store::Store;

/// An entry of the log with the patients it showed, when it is a list view (empty
/// otherwise; its own `patient_id` is on the entry).
#[derive(Debug, Clone)]
pub struct Logged {
    pub entry: AuditEntry,
    pub shown_patients: Vec<PatientId>,
}

/// Entries matching the filter, newest first. Filtered by patient it also finds the list
/// views that showed the patient.
/// Refuses (and audits) a caller whose role may not read the audit log: the API asks this
/// before it reads the filter, so such a caller learns nothing from its validation.
/// `patient` is the patient filter, when it names one.
pub async fn require_read(store: &dyn Store, ctx: &Ctx, patient: Option<PatientId>) -> AppResult<()> {
    require(store, ctx, Permission::AuditRead, "audit_log", None, patient, AuditAction::List).await
}

pub async fn query(store: &dyn Store, ctx: &Ctx, filter: &AuditFilter) -> AppResult<Vec<Logged>> {
    require(store, ctx, Permission::AuditRead, "audit_log", None, filter.patient_id, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    let entries = tx.query_audit(filter).await?;
    let ids: Vec<_> = entries.iter().map(|e| e.id).collect();
    let shown = tx.audit_shown_patients(&ids).await?;
    tx.commit().await?;
    audit_reads(store, &[ctx.audit(AuditAction::List, "audit_log", None, filter.patient_id, AuditOutcome::Allowed)])
        .await?;
    Ok(entries
        .into_iter()
        .map(|entry| {
            let shown_patients = shown.iter().filter(|(a, _)| *a == entry.id).map(|(_, p)| *p).collect();
            Logged { entry, shown_patients }
        })
        .collect())
}

/// What a walk of the audit log's hash chain found (issue 12 item 5).
#[derive(Debug, Clone)]
pub struct ChainReport {
    /// Entries walked, and how many of them were written before the chain existed.
    pub entries: u64,
    pub legacy: u64,
    /// The chain's head as the store keeps it (`seq`, hash): what `kat audit head`
    /// exports, to compare against later.
    pub head: Option<(i64, String)>,
    /// The first broken link, in words; `None` when the chain is whole.
    pub broken: Option<String>,
}

/// Walks the whole log in one read transaction (one snapshot) and checks every link and
/// the head; the check is itself audited (`audit_chain`, allowed), after the walk.
pub async fn verify_chain(store: &dyn Store, ctx: &Ctx) -> AppResult<ChainReport> {
    require(store, ctx, Permission::AuditRead, "audit_chain", None, None, AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    let walked = kat_store::audit_walk::walk_audit_chain(&mut *tx).await?;
    tx.commit().await?;
    audit_reads(store, &[ctx.audit(AuditAction::Read, "audit_chain", None, None, AuditOutcome::Allowed)]).await?;
    let (entries, legacy) = walked.walk.counts();
    Ok(ChainReport { entries, legacy, head: walked.stored_head, broken: walked.broken.map(|b| b.to_string()) })
}

/// The chain's head (`seq`, hash) as the store keeps it; reading it is audited.
pub async fn chain_head(store: &dyn Store, ctx: &Ctx) -> AppResult<Option<(i64, String)>> {
    require(store, ctx, Permission::AuditRead, "audit_chain", None, None, AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    let head = tx.audit_chain_head().await?;
    tx.commit().await?;
    audit_reads(store, &[ctx.audit(AuditAction::Read, "audit_chain", None, None, AuditOutcome::Allowed)]).await?;
    Ok(head)
}

/// One page of the anonymous failures counted per client address and window (issue 12
/// item 3), the latest window first: each window's first failure is in the log, this
/// shows how many followed. Reading it is audited.
pub async fn anonymous_failures(
    store: &dyn Store,
    ctx: &Ctx,
    page: kat_core::page::PageRequest,
) -> AppResult<kat_core::page::Page<kat_store::AnonymousFailures>> {
    require(store, ctx, Permission::AuditRead, "anonymous_failures", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let rows = tx.anonymous_failures(offset, i64::from(page.size()) + 1).await?;
    tx.commit().await?;
    audit_reads(store, &[ctx.audit(AuditAction::List, "anonymous_failures", None, None, AuditOutcome::Allowed)])
        .await?;
    Ok(page.from_probe(rows))
}
