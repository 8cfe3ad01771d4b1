//! Use cases of the patient registry.

use super::{Actor, AppError, AppResult, Ctx, audit_list_view, audit_reads, require};
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
///
/// Separation of duties (issue 12 item 8): once the patient has a treatment plan, the
/// birth date and the sex at birth (they feed dose checks and the REMS form) change only
/// by a clinician giving `change_reason` (10–500 characters), kept with the change and
/// audited as `patient_identity`; anyone else's change of them is refused, naming the
/// field, and audited as a denial.
pub async fn update(
    store: &dyn Store,
    ctx: &Ctx,
    id: PatientId,
    expected_version: Option<i64>,
    change_reason: Option<&str>,
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
    let mut fields = Vec::new();
    if demographics.birth_date != current.demographics.birth_date {
        fields.push("birth_date");
    }
    if demographics.sex_at_birth != current.demographics.sex_at_birth {
        fields.push("sex_at_birth");
    }
    let identity = if !fields.is_empty() && !tx.treatment_plans_for_patient(id).await?.is_empty() {
        let clinician = match &ctx.actor {
            Actor::User(u) => u.role.is_clinical(),
            Actor::Cli => true,
            Actor::Anonymous => false,
        };
        if !clinician {
            drop(tx);
            crate::record_denial(store, ctx, AuditAction::Update, "patient_identity", Some(id.to_string()), Some(id))
                .await?;
            let mut e = FieldErrors::new();
            for f in &fields {
                e.add(
                    *f,
                    "this patient has a treatment plan: only a clinician may change this (it feeds dose checks \
                     and the REMS form)",
                );
            }
            return Err(e.into());
        }
        let reason = kat_core::access::StatedReason::parse(
            "change_reason",
            "the patient has a treatment plan: say why the birth date or sex at birth changes",
            change_reason.unwrap_or(""),
        )?;
        Some((fields.join(","), reason.as_str().to_string()))
    } else {
        None
    };
    let updated = tx.update_patient(id, version, &demographics, ctx.now).await?;
    if let Some((fields, reason)) = identity {
        let changed_by = match &ctx.actor {
            Actor::User(u) => Some(u.id),
            _ => None,
        };
        if let Some(changed_by) = changed_by {
            tx.insert_identity_change(&kat_store::IdentityChange {
                id: uuid::Uuid::now_v7(),
                patient_id: id,
                changed_by,
                at: ctx.now,
                fields,
                reason,
            })
            .await?;
        }
        tx.append_audit(&ctx.audit(
            AuditAction::Update,
            "patient_identity",
            Some(id.to_string()),
            Some(id),
            AuditOutcome::Allowed,
        ))
        .await?;
    }
    tx.append_audit(&ctx.audit(AuditAction::Update, "patient", Some(id.to_string()), Some(id), AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(updated)
}
