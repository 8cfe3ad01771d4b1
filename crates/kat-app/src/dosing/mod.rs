//! Use cases of dosing: the treatment plan (drafted and signed by a prescriber on an
//! accepted, non-stale eligibility decision), the dosing session with its pre-dose gate
//! (§3), administration events (never before the gate is passed), vital signs checked
//! against the alarm policy when saved (§4.3), alarm acknowledgement with the action
//! taken (§4.4), the floor board and the discharge (§4.5).
//!
//! Every threshold comes from the clinic's [`DosingConfig`] (`[dosing]` in `kat.toml`,
//! the spec's values by default); every read and write is audited in the use case's one
//! transaction.

mod administrations;
mod course;
mod discharge;
mod dose_order;
mod events;
mod gate;
mod plan;
mod rems;
mod view;
mod vitals;

pub use administrations::*;
pub use course::*;
pub use discharge::*;
pub use dose_order::*;
pub use events::*;
pub use gate::*;
pub use plan::*;
pub use rems::*;
pub use view::*;
pub use vitals::*;

use super::{AppError, AppResult, Ctx, require};
use jiff::Timestamp;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::dosing::Route;
use kat_core::ids::{DosingSessionId, UserId};
use kat_core::role::Permission;
use kat_store::Store;
use kat_store::dosing::{DosingSessionRecord, SessionEventRecord};
use uuid::Uuid;

fn user_id(ctx: &Ctx) -> AppResult<UserId> {
    match &ctx.actor {
        super::Actor::User(u) => Ok(u.id),
        _ => Err(AppError::Forbidden),
    }
}

fn route_str(route: Route) -> String {
    serde_json::to_value(route).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn parse_route(raw: &str) -> Option<Route> {
    serde_json::from_value(serde_json::Value::String(raw.trim().to_string())).ok()
}

fn protocol_key(p: &kat_core::dosing::Protocol) -> String {
    serde_json::to_value(p.id).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Shared by the session use cases
// ---------------------------------------------------------------------------------------

/// The common start of a session use case: reads the session and checks `permission`
/// on its patient (a refusal is audited against `resource`).
async fn permitted_session(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    permission: Permission,
    resource: &str,
    resource_id: Option<String>,
    action: AuditAction,
) -> AppResult<DosingSessionRecord> {
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    drop(tx);
    require(store, ctx, permission, resource, resource_id, Some(s.patient_id), action).await?;
    Ok(s)
}

async fn session_for_write(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    kind: &str,
) -> AppResult<(DosingSessionRecord, UserId)> {
    let s =
        permitted_session(store, ctx, session, Permission::DosingSessionRun, kind, None, AuditAction::Create).await?;
    Ok((s, user_id(ctx)?))
}

async fn save_event(
    store: &dyn Store,
    ctx: &Ctx,
    s: &DosingSessionRecord,
    by: UserId,
    kind: &str,
    at: Timestamp,
    content: String,
) -> AppResult<SessionEventRecord> {
    let record = SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: s.id,
        kind: kind.into(),
        content,
        at,
        recorded_by: by,
        recorded_at: ctx.now,
    };
    let mut tx = store.begin().await?;
    tx.insert_session_event(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        kind,
        Some(record.id.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(record)
}
