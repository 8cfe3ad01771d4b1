//! Administration events (DOSE-GEN-002, DOSE-IN-001), decided by the session's machine:
//! never before the gate (in state and in time), beyond the dose in force, faster than
//! the ordered rate, out of the infusion's order, while an alarm holds dosing or after
//! the session ended.

use super::{entry, hold, refused, time_policy};
use crate::config::DosingConfig;
use crate::events::DomainEvent;
use crate::{AppError, AppResult, Ctx};
use kat_core::audit::AuditAction;
use kat_core::dosing::session::{Administration, RawAdministration};
use kat_core::ids::{AdministrationId, DosingSessionId};
use kat_core::role::Permission;
use kat_store::dosing::AdministrationRecord;
use kat_store::dosing::dosing_constraints as c;
use kat_store::{Store, StoreError};
use uuid::Uuid;

/// One administration event as typed (DOSE-GEN-002, DOSE-IN-001): every field as text.
/// `kind` is what the route allows (`kat_core::dosing::order::allowed_steps`): `dose`
/// (injection, oral, nasal racemic), `device` (one esketamine device), or for IV
/// `infusion_start`, `infusion_pause`, `infusion_resume`, `infusion_rate_change`,
/// `infusion_stop`; `at` (RFC 3339) is now when empty.
pub type AdministrationInput = RawAdministration;

/// Records an administration. The session's machine decides (and the store's trigger
/// refuses one before the gate is passed or after the discharge). One dated well before
/// it is recorded is kept as a late entry.
pub async fn record_administration(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &AdministrationInput,
) -> AppResult<AdministrationRecord> {
    let mut h =
        hold(store, ctx, session, Permission::DosingSessionRun, "dose_administration", None, AuditAction::Create)
            .await?;
    let administration = Administration::parse(input, ctx.now, ctx.today)?;
    let t = h.state.administer(&administration, ctx.now, time_policy(config)).map_err(refused)?;
    let record = AdministrationRecord {
        id: AdministrationId::from_uuid(Uuid::now_v7()),
        session_id: session,
        administration,
        recorded_by: h.by,
        recorded_at: ctx.now,
        late: t.record.late.is_some(),
    };
    h.tx.insert_administration(&record).await.map_err(|err| match err {
        StoreError::Conflict { constraint } if constraint == c::DOSE_ADMINISTRATIONS_GATE_PASSED => AppError::Conflict(
            "no administration before the pre-dose gate is passed (§3), nor after the discharge".into(),
        ),
        other => other.into(),
    })?;
    let audit = vec![entry(ctx, AuditAction::Create, "dose_administration", record.id, &h.session)];
    let event =
        DomainEvent::AdministrationRecorded { session, patient: h.session.patient_id, administration: record.id };
    h.finish(ctx, Some(&t.session), audit, vec![event]).await?;
    Ok(record)
}
