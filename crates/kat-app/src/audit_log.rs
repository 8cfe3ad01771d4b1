//! Reading the audit log (admins only). Reading it is itself audited.

use super::{AppResult, Ctx, require};
use kat_core::audit::{AuditAction, AuditEntry, AuditFilter, AuditOutcome};
use kat_core::role::Permission;
use kat_store::Store;

pub async fn query(store: &dyn Store, ctx: &Ctx, filter: &AuditFilter) -> AppResult<Vec<AuditEntry>> {
    require(store, ctx, Permission::AuditRead, "audit_log", None, filter.patient_id, AuditAction::List).await?;
    let mut tx = store.begin().await?;
    let entries = tx.query_audit(filter).await?;
    tx.append_audit(&ctx.audit(AuditAction::List, "audit_log", None, filter.patient_id, AuditOutcome::Allowed)).await?;
    tx.commit().await?;
    Ok(entries)
}
