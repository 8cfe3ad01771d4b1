//! Use cases of the patient registry.

use super::{AppError, AppResult, Ctx, audit_list_view, audit_reads, require};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::PatientId;
use kat_core::page::{Page, PageRequest};
use kat_core::patient::{DemographicsForm, Patient, PatientQuery};
use kat_core::role::Permission;
use kat_store::Store;
use uuid::Uuid;

/// The most patients one page of a search shows (also its default size).
pub const SEARCH_LIMIT: u32 = 50;

/// A page of the registry search; `page` and `size` as asked (size at most
/// [`SEARCH_LIMIT`]).
pub fn search_page(page: Option<u32>, size: Option<u32>) -> PageRequest {
    PageRequest::new(page, size, SEARCH_LIMIT, SEARCH_LIMIT)
}

pub async fn register(store: &dyn Store, ctx: &Ctx, form: &DemographicsForm) -> AppResult<Patient> {
    require(store, ctx, Permission::PatientCreate, "patient", None, None, AuditAction::Create).await?;
    let demographics = form.parse(ctx.today)?;
    let id = PatientId::from_uuid(Uuid::now_v7());
    let mut tx = store.begin().await?;
    let patient = tx.insert_patient(id, &demographics, ctx.now).await?;
    tx.append_audit(&ctx.audit(AuditAction::Create, "patient", Some(id.to_string()), Some(id), AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(patient)
}

pub async fn get(store: &dyn Store, ctx: &Ctx, id: PatientId) -> AppResult<Patient> {
    require(store, ctx, Permission::PatientRead, "patient", Some(id.to_string()), Some(id), AuditAction::Read).await?;
    let mut tx = store.begin_read().await?;
    let patient = tx.patient_by_id(id).await?.ok_or(AppError::NotFound("patient"))?;
    tx.commit().await?;
    audit_reads(
        store,
        &[ctx.audit(AuditAction::Read, "patient", Some(id.to_string()), Some(id), AuditOutcome::Allowed)],
    )
    .await?;
    Ok(patient)
}

/// One page of the registry search, in one query; the view is audited as one entry
/// naming every patient shown.
pub async fn search(store: &dyn Store, ctx: &Ctx, raw_query: &str, page: PageRequest) -> AppResult<Page<Patient>> {
    require(store, ctx, Permission::PatientRead, "patient", None, None, AuditAction::List).await?;
    let query = PatientQuery::parse(raw_query);
    let mut tx = store.begin_read().await?;
    // One more than the page: it only says whether there is a next page.
    let fetched = tx.search_patients_page(&query, page.offset(), page.size() + 1).await?;
    tx.commit().await?;
    let found = page.from_probe(fetched);
    let shown: Vec<PatientId> = found.items.iter().map(|p| p.id).collect();
    audit_list_view(store, ctx, "patient", &shown).await?;
    Ok(found)
}

/// Edits demographics. `expected_version`, when given, must still be the stored one;
/// `change` edits the current values as text and is parsed like a new registration.
pub async fn update(
    store: &dyn Store,
    ctx: &Ctx,
    id: PatientId,
    expected_version: Option<i64>,
    change: impl FnOnce(&mut DemographicsForm) -> Result<(), FieldErrors>,
) -> AppResult<Patient> {
    require(store, ctx, Permission::PatientUpdate, "patient", Some(id.to_string()), Some(id), AuditAction::Update)
        .await?;
    let mut tx = store.begin().await?;
    let current = tx.patient_by_id(id).await?.ok_or(AppError::NotFound("patient"))?;
    let version = expected_version.unwrap_or(current.version);
    if version != current.version {
        return Err(kat_store::StoreError::StaleVersion.into());
    }
    let mut form = DemographicsForm::from(&current.demographics);
    change(&mut form)?;
    let demographics = form.parse(ctx.today)?;
    let updated = tx.update_patient(id, version, &demographics, ctx.now).await?;
    tx.append_audit(&ctx.audit(AuditAction::Update, "patient", Some(id.to_string()), Some(id), AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(updated)
}
