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
